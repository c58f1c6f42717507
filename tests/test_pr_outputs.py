"""What an audit hands to a pull request: report-summary.md (<= 10k characters), report.md that reads right raw and
fits a comment, and report.sarif (SARIF 2.1.0) for code scanning."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.report.markdown import MAX_CHARS, md_escape, render_markdown
from toolkit.report.model import Report, Section, Table
from toolkit.report.sarif import RULES, sarif_log
from toolkit.core.audit_result import GateResult
from toolkit.report.summary_md import MAX_CHARS as SUMMARY_MAX, render_summary

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-subset.schema.json").read_text())


def validate_sarif(doc: dict) -> None:
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for run in doc["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for r in run["results"]:
            assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
            art = r["locations"][0]["physicalLocation"]["artifactLocation"]
            assert art["uriBaseId"] == "%SRCROOT%" and art["uriBaseId"] in run["originalUriBaseIds"]
            assert not art["uri"].startswith("/") and ":" not in art["uri"] and ".." not in art["uri"].split("/")


@pytest.mark.parametrize("text", ["0.1.0", "payments->inventory", "search_index", "c_structural 0.5", "a - b",
                                  "1.5 s", "a < b", "R&D", "x@y.org", "#12 fixed"])
def test_md_escape_leaves_text_markdown_would_not_misread(text):
    assert md_escape(text) == text


@pytest.mark.parametrize("text", ["- a", "1. a", "# h", "> q", "`c`", "**b**", "_x_", "~~s~~", "www.x.com",
                                  "http://x.y", "[a](b)", "<b>", "&amp;", "a|b", "@team", "$x$", "x\\*", "___"])
def test_md_escape_still_defuses_syntax(text):
    mistune = pytest.importorskip("mistune")
    out = mistune.create_markdown(escape=False, plugins=["strikethrough", "url", "table"])(md_escape(text))
    assert out.strip() == "<p>" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</p>"
    assert md_escape(text) != text


def big_report(n: int = 3000) -> Report:
    """A synthetic audit far larger than any comment: thousands of seams, call sites, changes."""
    seams = [f"component_{i:04d}->component_{i + 1:04d}" for i in range(n)]
    sites = ", ".join(f"pkg/module_{j}.py:{j}" for j in range(60))
    ranking = pd.DataFrame({
        "rank": range(1, n + 1), "seam": seams, "level": "component", "score": [10 - i / n for i in range(n)],
        "reason": ["12 call site(s), 0 exercised for real; " + "x" * 300] * n,
        "recommendation": [f"add an integration test for these call sites: {sites}"] * n,
    })
    deltas = pd.DataFrame({"metric": [f"metric_{i}" for i in range(n)], "previous": 1.0, "now": 2.0, "delta": 1.0,
                           "change": ["worse", "better"] * (n // 2)})
    call_sites = pd.DataFrame({
        "path": [f"pkg/m{i % 50}.py" for i in range(4 * n)], "line": [i % 500 + 1 for i in range(4 * n)],
        "caller": [f"pkg.m{i % 50}.f{i}" for i in range(4 * n)], "callee": [f"dep.g{i}" for i in range(4 * n)],
        "callee_component": "dep", "kind": "call", "seam": [seams[i % n] for i in range(4 * n)],
        "status": ["untested", "isolation_only", "integration", "import_only"] * n,
        "tests_real": [[] for _ in range(4 * n)], "tests_mocked": [["t.test_a", "t.test_b"]] * (4 * n),
    })
    summary = Section("summary", "Executive summary", summary={
        "top_risky_seams": [f"{s}: " + "y" * 200 for s in seams[:50]], "interaction_coverage": None,
        "untested_seams": n, "flaky_tests": 2},
        not_measured={"interaction_coverage": "Not measured: no coverage given.\nRecord it with --cov-context"})
    return Report("Integration-testing audit — big", [
        summary,
        Section("seam_ranking", "Seams to test first", tables=[Table("seam_ranking", ranking)]),
        Section("interaction_coverage", "1. Interaction coverage", tables=[Table("call_sites", call_sites)]),
        Section("compare", "Since the previous audit", summary={
            "previous_generated": "2026-01-01", "metrics_better": n // 2, "metrics_worse": n // 2,
            "new_untested_seams": seams, "new_mocks_only_seams": seams[:7], "newly_covered_seams": [],
            "new_seams": seams, "removed_seams": []}, tables=[Table("metric_deltas", deltas)]),
    ], provenance={"revision": "a" * 40, "skipped": [f"file {i}" for i in range(5000)]})


def test_summary_of_a_huge_audit_fits_a_comment_and_says_what_it_left_out():
    rep = big_report()
    gates = [GateResult(f"metric-{i}=50", i % 2 == 0, f"metric-{i} is 40 < 50") for i in range(30)]
    text = render_summary(rep, gates=gates)
    assert len(text) <= SUMMARY_MAX
    assert "**Verdict: ❌ 15 of 30 gate(s) failed**" in text
    assert "and 2,997 more" in text or "and 2,995 more" in text or "and 2,990 more" in text  # new untested seams
    assert "more seams ranked in the full report" in text
    assert "| 1 | component_0000->component_0001 | 12 call site(s), 0 exercised for real |" in text
    assert "pkg/module_0.py:0, pkg/module_1.py:1, pkg/module_2.py:2 and 57 more" in text
    assert "| interaction coverage | n/a | no coverage given. |" in text  # n/a with its reason, never a 0
    assert "![" not in text and "\\." not in text and "\\>" not in text


def test_report_md_of_a_huge_audit_stays_under_the_comment_limit():
    text = render_markdown(big_report())
    assert len(text) <= MAX_CHARS < 65_536
    assert "full table in `tables/seam_ranking__seam_ranking.csv`" in text
    assert "<details><summary>" in text and "\\-\\>" not in text and "->" in text


def test_summary_without_gates_or_comparison_and_with_a_published_url():
    rep = Report("R", [Section("summary", "Executive summary", summary={"flaky_tests": 0})])
    text = render_summary(rep, report_url="https://ci.example/run/7/")
    assert "no CI gate set" in text and "Since the previous audit" not in text
    assert "[report.html](https://ci.example/run/7/report.html)" in text
    assert "None ranked" in text and "| flaky tests | 0 | tests that both passed and failed in the same environment and commit |" in text


def test_sarif_from_a_synthetic_audit_validates_and_holds_one_result_per_gap():
    rep = big_report(200)
    doc = sarif_log(rep)
    validate_sarif(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 400  # 200 untested + 200 mocks-only; integration and import-only are no result
    assert {r["ruleId"] for r in results} == {RULES["untested"][0], RULES["isolation_only"][0]}
    assert {r["level"] for r in results} == {"warning"}
    assert len({r["partialFingerprints"]["seamscopeCallSite/v1"] for r in results}) == 400
    assert results[0]["properties"]["seamRank"] == 1  # the riskiest seam's call sites first
    capped = sarif_log(rep, max_results=10)["runs"][0]
    assert len(capped["results"]) == 10 and capped["properties"]["resultsOmitted"] == 390


def test_sarif_of_a_static_estimate_is_notes_and_bad_paths_are_left_out():
    sites = pd.DataFrame({"path": ["a/x.py", "/etc/passwd", "../up.py", "a/y z.py"], "line": [3, 1, 1, None],
                          "caller": "a.f", "callee": "b.g", "callee_component": "b", "kind": "call",
                          "seam": "a->b", "status": "untested_estimated", "tests_real": [[]] * 4,
                          "tests_mocked": [[]] * 4})
    rep = Report("R", [Section("interaction_coverage", "I", tables=[Table("call_sites", sites)])])
    doc = sarif_log(rep)
    validate_sarif(doc)
    run = doc["runs"][0]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]] == \
        ["a/x.py", "a/y%20z.py"]
    assert {r["level"] for r in run["results"]} == {"note"} and run["properties"]["pathsNotRelative"] == 2
    assert "region" not in run["results"][1]["locations"][0]["physicalLocation"]  # no line: no region
    assert sarif_log(Report("R", []))["runs"][0]["results"] == []


def test_audit_writes_summary_and_sarif_with_the_gate_verdict(tmp_path):
    out = tmp_path / "o"
    rc = main(["audit", "-q", "--out", str(out), "--fail-under", "interaction-coverage=101",
               "--fail-under", "untested-seams=0", "--sarif", str(tmp_path / "scan.sarif")])
    assert rc == 1
    text = (out / "report-summary.md").read_text()
    assert len(text) <= SUMMARY_MAX
    assert "**Verdict: ❌ 1 of 2 gate(s) failed**" in text and "interaction-coverage is 73.3 < 101" in text
    assert "| 1 | payments->inventory |" in text and "payments-\\>" not in text
    sarif = json.loads((tmp_path / "scan.sarif").read_text())
    assert sarif == json.loads((out / "report.sarif").read_text())
    validate_sarif(sarif)
    found = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"]) for r in sarif["runs"][0]["results"]}
    # the sample's planted gaps: charge-before-reservation is mocks-only, the low-stock alert untested
    assert ("shop/payments/checkout.py", 19, "seamscope/mocks-only-call-site") in found
    assert ("shop/inventory/alerts.py", 20, "seamscope/untested-call-site") in found
    md = (out / "report.md").read_text()
    assert len(md) <= MAX_CHARS and "0\\.1" not in md and "payments-\\>inventory" not in md
