"""Root-cause signals on the sample, and the mock table on a small real repository."""
from __future__ import annotations

import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.analyze.interaction_coverage import interaction_coverage
from toolkit.analyze.root_causes import root_causes
from toolkit.config import SAMPLE_DIR, AuditConfig, sample_config
from toolkit.core.evidence import load_evidence
from toolkit.core.findings import Findings


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


CONDITIONAL_REPO = {
    "app/__init__.py": "",
    "app/a/__init__.py": "",
    "app/a/core.py": "from app.b import util\nfrom app.c import store\n\n\ndef run(x):\n    return store.save(util.f(x))\n",
    "app/b/__init__.py": "",
    "app/b/util.py": "def f(x):\n    return x + 1\n",
    "app/c/__init__.py": "",
    "app/c/store.py": "def save(x):\n    return x\n",
    "tests/test_core.py": """\
        import os
        from unittest.mock import patch

        from app.a import core


        @patch("app.c.store.save")
        def test_always(save):
            core.run(1)


        def test_mixed(monkeypatch):
            monkeypatch.setattr("app.b.util.f", lambda x: x)
            if os.environ.get("CI") != "integration":
                monkeypatch.setattr("app.c.store.save", lambda x: x)
            core.run(2)
        """,
    "tests/test_sometimes.py": """\
        import os

        from app.a import core


        def test_sometimes(monkeypatch):
            if os.environ.get("CI") != "integration":
                monkeypatch.setattr("app.c.store.save", lambda x: x)
            core.run(3)
        """,
}


def test_mock_table_counts_tests_mocking_a_seam_only_conditionally(tmp_path, monkeypatch):
    """a->c is mocked by three tests, two of them only under ``if``; a->b by one test, unconditionally."""
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    f = Findings(load_evidence(AuditConfig(repo=make_repo(tmp_path / "r", CONDITIONAL_REPO))))
    # no coverage: the tests found in source, as when measured
    static = root_causes(**f.root_cause_inputs()).mocks.set_index("seam")
    assert static["conditional_mock_tests"].dtype == "int64"
    assert static.loc["a->c", ["tests_mocking", "conditional_mock_tests"]].tolist() == [3, 2]
    assert static.loc["a->b", ["tests_mocking", "conditional_mock_tests"]].tolist() == [1, 0]

    cs = f.ev.structure.call_sites
    tests = ["tests.test_core.test_always", "tests.test_core.test_mixed", "tests.test_sometimes.test_sometimes"]
    ran = pd.DataFrame([(t, c) for t in tests for c in cs["call_site_id"]], columns=["test_id", "call_site_id"])
    f.interaction = interaction_coverage(cs, test_exercises=ran, mocks=f.ev.mocks)
    rc = root_causes(**f.root_cause_inputs())
    measured = rc.mocks.set_index("seam")
    # a conditional mock still counts as mocking: the ratio and the signal do not change
    assert measured.loc["a->c", ["tests_mocking", "tests_real", "conditional_mock_tests"]].tolist() == [3, 0, 2]
    assert measured.loc["a->b", ["tests_mocking", "tests_real", "conditional_mock_tests"]].tolist() == [1, 2, 0]
    assert "a->c" in set(rc.signals.loc[rc.signals["signal"] == "mock_overuse", "where"])
