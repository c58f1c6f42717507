"""Turn evidence and analysis results into report Sections (presentation only, no analysis).

Each ``*_section(ev)`` calls the analysis functions of its method and arranges
their outputs as summary numbers, tables and figures.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.evidence import Evidence
from toolkit.report.model import Figure, Section, Table


def _missing(id_: str, title: str, reason: str) -> Section:
    return Section(id=id_, title=title, missing=reason)


def coupling_section(ev: Evidence) -> Section:
    from toolkit.analyze.change_coupling import logical_coupling
    from toolkit.analyze.coupling_graph import coupling_graph
    from toolkit.analyze.structural_coupling import seam_table, structural_coupling
    from toolkit.viz.plots import coupling_graph_png

    seams = seam_table(ev.structure)
    struct = structural_coupling(ev.structure)
    logical = logical_coupling(ev.history, level="component", components=ev.components)
    g = coupling_graph(seams, logical, history=ev.history, components=ev.components)
    sec = Section(
        id="coupling",
        title="Components and their coupling",
        summary={
            "components": len(ev.components.names),
            "seams": int(len(seams)),
            "cross_component_call_sites": int(len(ev.structure.call_sites)),
            "logically_coupled_pairs": int(len(logical)),
        },
        paragraphs=[
            "A seam is a directed pair of components where code of one calls, instantiates or subclasses code of "
            "the other. Structural coupling counts imports and call sites across each seam; logical (change) "
            "coupling counts how often two components change in the same commit (code-maat's definition, bulk "
            "commits above the changeset-size limit ignored).",
        ],
        tables=[
            Table("seams", seams, "Seams with their import and call-site counts"),
            Table("structural_coupling", struct, "Afferent/efferent coupling, instability and cohesion per component"),
            Table("logical_coupling", logical, "Components that change together (code-maat coupling)"),
        ],
        figures=[Figure("coupling_graph", coupling_graph_png(g, title="Component coupling (width: call sites)"),
                        "Components (size: files) and seams (width: call sites)")],
    )
    return sec


def tests_section(ev: Evidence) -> Section:
    if ev.test_results is None or ev.test_results.empty:
        return _missing("tests", "Test results", ev.missing.get("test results", "no test results were read"))
    from toolkit.analyze.flakiness import failures_by_environment, flakiness

    by_env = failures_by_environment(ev.test_results)
    flaky = flakiness(ev.test_results)
    flaky = flaky[flaky["is_flaky"]]
    tables = [Table("failures_by_environment", by_env, "Test outcomes per environment"),
              Table("flaky_tests", flaky, "Tests that both passed and failed in the same environment and commit")]
    summary: dict[str, Any] = {
        "test_runs": int(ev.test_results["run_id"].nunique()),
        "tests": int(ev.test_results["test_id"].nunique()),
        "environments": sorted(ev.test_results["environment"].dropna().unique().tolist()),
        "flaky_tests": int(flaky["test_id"].nunique()),
    }
    if ev.test_kinds is not None and not ev.test_kinds.empty:
        kinds = ev.test_kinds["kind"].value_counts()
        summary.update({f"{k}_tests": int(kinds.get(k, 0)) for k in ("unit", "integration", "e2e")})
        tables.append(Table("test_kinds", ev.test_kinds, "Each test's kind, with the reasons"))
    if ev.mocks is not None and not ev.mocks.empty:
        per_target = (ev.mocks.dropna(subset=["target_component"]).groupby("target_component")["test_id"]
                      .nunique().rename("tests_mocking_it").reset_index())
        tables.append(Table("mocked_components", per_target, "How many tests replace each component with a mock"))
    return Section(id="tests", title="Test results, kinds and mocks", summary=summary, tables=tables,
                   paragraphs=["Failures are compared across environments; flaky tests are listed so they are not "
                               "mistaken for integration failures."])


def issues_section(ev: Evidence) -> Section:
    if ev.issues is None:
        return _missing("issues", "Issue-tracker history", ev.missing.get("issues", "no issues were read"))
    issues = ev.issues
    bugs = issues[(issues["type"] == "bug") & ~issues["is_pull_request"]]
    links = ev.links
    linked = set(links.links["issue_key"]) if links is not None else set()
    by_env = bugs["environment"].value_counts().rename_axis("environment").rename("bugs").reset_index()
    tables = [Table("bugs_by_environment", by_env, "Bugs by the environment they were found in")]
    if links is not None and not links.issue_components.empty:
        ic = links.issue_components[links.issue_components["issue_key"].isin(bugs["key"])]
        per_comp = ic.groupby("component")["issue_key"].nunique().rename("bugs").sort_values(ascending=False)
        tables.append(Table("bugs_by_component", per_comp.reset_index(), "Bugs whose fix commits touched each component"))
        tables.append(Table("fix_links", links.links, "Issue ↔ fix-commit links with evidence"))
    if links is not None and len(links.unlinked):
        tables.append(Table("unlinked_bugs", links.unlinked, "Bugs no commit could be linked to, and why"))
    n = len(bugs)
    return Section(
        id="issues", title="Issue-tracker history",
        summary={"issues": int(len(issues)), "bugs": int(n),
                 "bugs_linked_to_fixes": int(bugs["key"].isin(linked).sum()),
                 "link_rate_pct": round(100.0 * bugs["key"].isin(linked).mean(), 1) if n else None},
        tables=tables,
        paragraphs=["Bugs are linked to the commits that fixed them through keys in commit messages "
                    "(explicit 'fixes KEY' > bare reference). Unlinked bugs cannot be placed on a seam."])


def summary_section(ev: Evidence, sections: list[Section]) -> Section:
    """The executive summary: the headline numbers of every section, flattened."""
    summary: dict[str, Any] = {}
    for s in sections:
        for k, v in s.summary.items():
            if isinstance(v, (int, float, str)) or v is None:
                summary.setdefault(k, v)
    missing = [f"{s.title}: {s.missing}" for s in sections if s.missing]
    return Section(id="summary", title="Executive summary", summary=summary, paragraphs=missing)


def compare_section(report, previous: dict) -> Section:
    """What got better or worse since a previous findings.json."""
    cur = report.sections[0].summary
    prev = (previous.get("sections", {}).get("summary", {}) or {}).get("summary", {})
    rows = []
    for k, v in cur.items():
        if isinstance(v, (int, float)) and isinstance(prev.get(k), (int, float)):
            rows.append({"metric": k, "previous": prev[k], "now": v, "delta": v - prev[k]})
    return Section(id="compare", title="Since the previous audit", summary={"new_untested_seams": []},
                   tables=[Table("deltas", pd.DataFrame(rows, columns=["metric", "previous", "now", "delta"]))])
