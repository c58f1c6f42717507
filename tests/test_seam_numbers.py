"""One seam, one set of numbers: call sites, status, tests_real and tests_mocking per seam are computed once
(interaction coverage) and every table that carries them agrees: interaction coverage's seams, root causes'
mock ratios, the ranking's evidence, the graph widget's edges and findings.json. ``import_only`` seams (imports,
no call that can run) are neither untested nor an integration gap."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from tests.gitutil import make_repo
from toolkit.run.audit import run_audit
from toolkit.config import SAMPLE_DIR, AuditConfig, sample_config
from toolkit.core.evidence import load_evidence
from toolkit.core.findings import Findings
from toolkit.report.findings_json import dumps_findings
from toolkit.report.sections import audit_report

NUMBERS = ("call_sites", "imports", "status", "tests_real", "tests_mocking")


def _rows(records, cols=NUMBERS) -> dict[str, dict]:
    return {str(r["seam"]): {c: r[c] for c in cols if c in r} for r in records}


@pytest.mark.parametrize("basis", ["coverage", "static"])
def test_every_table_carrying_seam_numbers_agrees_on_the_sample(basis):
    if not (SAMPLE_DIR / "truth.json").exists():
        pytest.skip("sample not generated")
    config = sample_config() if basis == "coverage" else sample_config().with_(coverage=None)
    run = run_audit(config)
    report, f = audit_report(run), Findings(run.ev)
    assert f.interaction.basis == basis
    truth = _rows(f.interaction.seams.to_dict("records"))
    assert all(set(n) == set(NUMBERS) for n in truth.values())
    assert truth, "the sample has seams"
    doc = json.loads(dumps_findings(report))["sections"]

    tables = {
        "findings.json interaction_coverage.seams": _rows(doc["interaction_coverage"]["tables"]["seams"]),
        "findings.json seam_ranking_evidence": _rows(
            r for r in doc["seam_ranking"]["tables"]["seam_ranking_evidence"] if r["level"] == "component"),
        "findings.json root_causes.mock_ratio": _rows(doc["root_causes"]["tables"]["mock_ratio"]),
        "ranking table": _rows(f.ranking.table[f.ranking.table["level"] == "component"].to_dict("records")),
        "root causes mocks": _rows(f.root_causes.mocks.to_dict("records")),
    }
    tables["findings.json coupling.seams"] = _rows(doc["coupling"]["tables"]["seams"], ("call_sites", "imports"))
    from toolkit.viz.graph_widget import CouplingGraphWidget
    widget = CouplingGraphWidget(f.graph)
    tables["graph widget edges"] = {e["id"]: {c: e["attrs"][c] for c in NUMBERS if c in e["attrs"]}
                                    for e in widget.edges if "status" in e["attrs"]}
    for name, got in tables.items():
        assert set(got) == set(truth), name
        for seam, nums in got.items():
            assert nums, (name, seam)
            for c, v in nums.items():
                assert v == truth[seam][c], (name, seam, c, v, truth[seam][c])
    # the seam no test runs for real, as root causes says it: exactly the gap statuses
    flagged = set(f.root_causes.signals.loc[f.root_causes.signals["signal"] == "no_integration_test", "where"])
    gaps = {s for s, n in truth.items() if n["status"].removesuffix("_estimated") in ("untested", "mocks_only")}
    assert flagged == gaps
    # the headline counts are the table's statuses (measured basis; the static basis shows them as n/a)
    summary = doc["interaction_coverage"]["summary"]
    if basis == "coverage":
        assert summary["untested_seams"] == sum(n["status"] == "untested" for n in truth.values())
        assert summary["seams_only_mocked"] == sum(n["status"] == "mocks_only" for n in truth.values())
    else:
        assert summary["untested_seams"] is None and "per-test coverage" in \
            doc["interaction_coverage"]["not_measured"]["untested_seams"]
        assert summary["interaction_coverage_estimated"] is not None


IMPORT_ONLY_REPO = {
    "app/__init__.py": "",
    "app/api/__init__.py": "",
    "app/api/views.py": """
        from app.db import store
        from app.models import Order


        def post(x):
            return store.save(x)
        """,
    "app/db/__init__.py": "",
    "app/db/store.py": "def save(x):\n    return x\n",
    "app/models/__init__.py": "",
    "app/models/order.py": "class Order:\n    pass\n",
    "tests/test_views.py": """
        from app.api import views


        def test_post():
            assert views.post(1) == 1
        """,
}


def test_import_only_seam_has_no_integration_gap(tmp_path, monkeypatch):
    """api imports models but never calls into it: import_only, not untested, no gap in the ranking."""
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    repo = make_repo(tmp_path / "r", IMPORT_ONLY_REPO)
    f = Findings(load_evidence(AuditConfig(repo=repo)))
    seams = f.interaction.seams.set_index("seam")
    assert seams.loc["api->models", ["status", "call_sites", "imports"]].tolist() == ["import_only", 0, 1]
    assert seams.loc["api->db", "status"].removesuffix("_estimated") in ("integration", "mocks_only", "untested")
    s = f.interaction.summary
    assert s["import_only_seams"] == ["api->models"] and "api->models" not in s["untested_seams"]
    assert s["seams"] == 1  # only api->db has a call to test
    rank = f.ranking.table.set_index("seam")
    assert rank.loc["api->models", "status"] == "import_only"
    assert rank.loc["api->models", "f_integration_gap"] == 0.0
    assert "integration test" not in rank.loc["api->models", "recommendation"]
    signals = f.root_causes.signals
    assert "api->models" not in set(signals.loc[signals["signal"] == "no_integration_test", "where"])
    edge = f.graph.edges["api", "models"]
    assert edge["status"] == "import_only" and edge["call_sites"] == 0 and "integration_coverage" not in edge
    assert not math.isnan(s["pct_seams_integration"])


def test_compare_calls_a_change_to_import_only_changed_not_better():
    from toolkit.core.compare import seam_changes

    got = seam_changes({"a->b": "import_only", "a->c": "integration"}, {"a->b": "untested", "a->c": "untested"})
    assert dict(zip(got["seam"], got["change"])) == {"a->b": "changed", "a->c": "better"}
    assert isinstance(got, pd.DataFrame)
