"""Root-cause signals on the sample."""
from __future__ import annotations

import pytest

from toolkit import schema
from toolkit.config import SAMPLE_DIR, sample_config
from toolkit.evidence import load_evidence
from toolkit.findings import Findings


@pytest.fixture(scope="module")
def rc():
    if not (SAMPLE_DIR / "repo.bundle").exists():
        pytest.skip("sample missing")
    return Findings(load_evidence(sample_config())).root_causes


def test_signals_follow_the_schema_and_name_the_planted_seams(rc):
    schema.check(rc.signals, "root_cause_signals")
    s = rc.signals
    mocked = set(s.loc[s["signal"] == "mock_overuse", "where"])
    assert {"payments->inventory", "documents->search_index"} <= mocked
    no_integ = set(s.loc[s["signal"] == "no_integration_test", "where"])
    assert {"payments->inventory", "documents->search_index"} <= no_integ
    assert set(s["severity"]) <= {"high", "medium", "low"}
    assert s["explanation"].str.len().gt(10).all()


def test_external_services_come_from_the_one_table(rc):
    ext = rc.external
    assert ("gateway", "http") in set(zip(ext["component"], ext["service"]))


def test_pyramid_counts_tests_per_component(rc):
    p = rc.pyramid.set_index("component")
    assert p["unit"].sum() > 0 and (p[["unit", "integration", "e2e"]] >= 0).all().all()
    assert p.loc["payments", "integration"] >= 1
