"""The Audit object and the one metric vocabulary: gates, --compare and the audit-many index read the same metric
id from the same place, and findings.json carries exactly its schema version's fields."""
from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.cli import main
from toolkit.core.audit_result import FIELDS, SCHEMA_VERSION, Audit
from toolkit.errors import GateFailed
from toolkit.core.compare import compare
from toolkit.report.findings_json import findings_schema, render_findings
from toolkit.report.model import Report, Section
from toolkit.report.writer import write_audit
from toolkit.run.audit import gate_results, raise_failed_gates
from toolkit.vocab.metrics import HEADLINES, INDEX_HEADLINES, METRICS, UNITS, metric


def test_vocabulary_is_one_entry_per_metric():
    assert all(METRICS[m] for m in HEADLINES + INDEX_HEADLINES)
    for m in METRICS.values():
        assert m.unit in UNITS and m.direction in (-1, 0, 1) and m.label and m.meaning and m.section
        assert metric(m.key) is m and metric(m.id) is m
    # every share a reader sees is a percentage, never a 0..1 fraction beside percentages
    assert metric("backtest-top20-share").unit == "%" and metric("interaction-coverage").unit == "%"


def gate(audit: Audit, fail_under: list[str], fail_on: list[str] = ()) -> None:
    """The CLI's gate verdict on ``audit``: GateFailed naming every failed gate."""
    audit.gates = gate_results(audit, fail_under=fail_under, fail_on=list(fail_on))
    raise_failed_gates(audit)


def test_a_metric_is_read_from_its_own_method_not_the_first_one_with_that_name():
    audit = Audit.from_summaries({"coupling": ({"interaction_coverage": 99.0}, {}, None),
                                  "interaction_coverage": ({"interaction_coverage": 40.0, "untested_seams": 2}, {},
                                                           None)})
    assert audit.value("interaction-coverage") == 40.0 == audit.value("interaction_coverage")
    gate(audit, ["interaction-coverage=40"])  # 99 would pass 50, 40 must not
    with pytest.raises(GateFailed, match="interaction-coverage is 40.0 < 50"):
        gate(audit, ["interaction-coverage=50"])
    previous = {"sections": {"coupling": {"summary": {"interaction_coverage": 10.0}},
                             "interaction_coverage": {"summary": {"interaction_coverage": 30.0}}}}
    deltas = compare(audit, pd.DataFrame({"seam": ["a->b"], "status": ["untested"]}), previous).deltas
    deltas = deltas.set_index("metric")
    assert (deltas.loc["interaction_coverage", "previous"], deltas.loc["interaction_coverage", "now"]) == (30.0, 40.0)


def test_gate_compare_and_index_read_the_same_metric_id(tmp_path, capsys):
    from toolkit.run.many import audit_one

    repo = make_repo(tmp_path / "repo", {
        "seamscope.toml": '[components]\n"app/a.py" = "a"\n"app/b.py" = "b"\n"app/c.py" = "c"\n',
        "app/__init__.py": "",
        "app/a.py": "from app import b, c\n\n\ndef f():\n    return b.g() + c.h()\n",
        "app/b.py": "def g():\n    return 1\n",
        "app/c.py": "def h():\n    return 2\n",
        "tests/test_a.py": "from app import a, b\n\n\ndef test_f():\n    assert a.f() == b.g() + 2\n",
    })
    idx = audit_one("repo", str(repo), None, str(tmp_path / "many"), write=write_audit)
    assert idx["error"] is None, idx["error"]
    doc = json.loads((tmp_path / "many" / "repo" / "findings.json").read_text())
    mid = "interaction-coverage-estimated"  # no per-test coverage: the estimate is what this audit measures
    value = doc["metrics"][mid]["value"]
    assert value is not None and doc["metrics"][mid]["unit"] == "%"
    for m in INDEX_HEADLINES:  # the index copies findings.json's metrics by id
        assert idx["summary"][METRICS[m].key] == (doc["metrics"][m]["value"] if m in doc["metrics"] else None), m
    # the gate reads the same number ...
    out = tmp_path / "o"
    assert main(["audit", str(repo), "-q", "--out", str(out), "--fail-under", f"{mid}={value}"]) == 0
    gated = json.loads((out / "findings.json").read_text())
    assert gated["gates"]["verdict"] == "passed" and gated["gates"]["results"][0]["value"] == value
    assert main(["audit", str(repo), "-q", "--out", str(out), "--fail-under", f"{mid}={value + 0.1}",
                 "--compare", str(tmp_path / "many" / "repo" / "findings.json")]) == 1
    assert f"{mid} is {value}" in capsys.readouterr().err
    failed = json.loads((out / "findings.json").read_text())
    assert failed["gates"]["verdict"] == "failed" and failed["gates"]["results"][0]["metric"] == mid
    # ... and so does the comparison with the previous audit
    deltas = {r["metric"]: r for r in failed["sections"]["compare"]["tables"]["metric_deltas"]}
    assert deltas[METRICS[mid].key]["now"] == deltas[METRICS[mid].key]["previous"] == value
    assert failed["since_previous"]["new_untested_seams"] == []


def _check_fields(doc: dict) -> None:
    assert tuple(doc) == FIELDS[doc["schema_version"]]
    jsonschema.validate(doc, findings_schema(), cls=jsonschema.Draft202012Validator)


def test_findings_json_validates_against_its_schema_versions_field_list(tmp_path):
    assert main(["audit", "-q", "--out", str(tmp_path / "s")]) == 0
    doc = json.loads((tmp_path / "s" / "findings.json").read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    _check_fields(doc)
    top = doc["top_seams"]
    assert [t["rank"] for t in top] == list(range(1, len(top) + 1)) and top[0]["action"] and top[0]["reason"]
    assert isinstance(top[0]["numbers"]["call_sites"], int)
    # the headline list and the top seams agree: the same ranking, as prose and as records
    assert [s.split(":")[0] for s in doc["metrics"]["top-risky-seams"]["value"]] == [t["seam"] for t in top[:3]]
    # every number of every section is a metric of the vocabulary, read from that section
    for sid, sec in doc["sections"].items():
        if sid in ("compare", "summary"):
            continue
        for key, value in sec["summary"].items():
            m = metric(key)
            assert m is not None, f"{sid}.{key} is not in toolkit.vocab.metrics"
            assert m.section == sid and doc["metrics"][m.id]["value"] == value, key
    for mid, why in doc["not_measured"].items():
        assert doc["metrics"][mid]["value"] is None and why
    # a schema-1 document (a report not made by an audit) keeps its own field list, and a missing field fails
    old = render_findings(Report("R", [Section("s", "S")]))
    _check_fields(old)
    broken = dict(doc)
    del broken["top_seams"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, findings_schema(), cls=jsonschema.Draft202012Validator)


def test_bug_share_without_production_bugs_is_shown_over_decided_bugs_and_says_why_production_is_na(tmp_path):
    """Public trackers rarely say where a bug was found: the headline gives the share over all decided bugs with
    the undecided count beside it, and the production share is n/a for that reason, not "its section did not run"."""
    from gitutil import commit, when

    repo = make_repo(tmp_path / "repo", {
        "seamscope.toml": '[components]\n"app/a.py" = "a"\n"app/b.py" = "b"\n',
        "app/__init__.py": "",
        "app/a.py": "from app import b\n\n\ndef f():\n    return b.g()\n",
        "app/b.py": "def g():\n    return 1\n",
    }, date=when(1))
    commit(repo, "Fix f passing the wrong value to b.g (fixes #3)",
           {"app/a.py": "from app import b\n\n\ndef f():\n    return b.g() + 0\n"}, date=when(5))
    issues = tmp_path / "issues.json"
    issues.write_text(json.dumps([{"number": 3, "title": "f returns the wrong value", "state": "closed",
                                   "labels": [{"name": "bug"}], "created_at": "2020-01-01T00:00:00Z",
                                   "html_url": "https://github.com/x/y/issues/3"}]), encoding="utf-8")
    out = tmp_path / "o"
    assert main(["audit", str(repo), "-q", "--issues", str(issues), "--out", str(out)]) == 0
    doc = json.loads((out / "findings.json").read_text())
    why = doc["not_measured"]["production-integration-bug-share-pct"]
    assert doc["metrics"]["production-integration-bug-share-pct"]["value"] is None
    assert "found in production" in why and "did not run" not in why
    assert doc["metrics"]["undecided-bugs"]["value"] is not None
    summary = (out / "report-summary.md").read_text()
    assert summary.index("| integration bug share |") < summary.index("| undecided bugs |") \
        < summary.index("| production integration bug share |")
