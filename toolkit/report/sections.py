"""Turn evidence and analysis results into report Sections (presentation only, no analysis).

Each ``*_section(f)`` reads the cached analysis results in ``f`` (toolkit.core.findings)
and arranges them as summary numbers, tables and figures.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.core.findings import Findings
from toolkit.vocab.categories import CATEGORIES
from toolkit.vocab.metrics import HEADLINES as HEADLINE_IDS, METRICS
from toolkit.report.format import format_value
from toolkit.report.model import SNIPPET_HEAD, Figure, Section, Table


def _missing(id_: str, title: str, reason: str) -> Section:
    return Section(id=id_, title=title, missing=reason)


# ---- what an audit could not measure ----------------------------------------------------------------------------
#: metrics that need seams between components (two or more components with a call across them)
SEAM_METRICS = ("top_risky_seams", "interaction_coverage", "interaction_coverage_estimated", "call_site_coverage",
                "seams_only_mocked", "untested_seams", "import_only_seams", "bugs_crossing_components_pct",
                "interfaces_documented_pct", "interface_doc_score", "interface_drift_events")
#: metrics measured only from per-test coverage (the static estimate cannot tell them)
COVERAGE_METRICS = ("interaction_coverage", "call_site_coverage", "seams_only_mocked", "untested_seams")
TEST_RESULT_METRICS = ("env_only_failures", "production_escapes", "escape_share_pct", "flaky_tests")
ISSUE_METRICS = ("production_integration_bug_share_pct", "integration_bug_share_pct", "bugs_crossing_components_pct",
                 "production_escapes", "escape_share_pct")
SNIPPET_LINES = 40
_SAFE_PATH = re.compile(r"^[\w./@+ -]+$")  # paths a snippet may quote verbatim (no quotes, backticks, newlines)


@dataclass(frozen=True)
class Gap:
    """Something an audit could not measure: ``what``, ``why``, the one change that ``fix``-es it, and the summary
    ``metrics`` it leaves without a value (shown "n/a", null in findings.json, failing a ``--fail-under`` gate)."""

    what: str
    why: str
    fix: str
    metrics: tuple[str, ...]
    snippet: str = ""  # configuration to paste (SNIPPET_HEAD first), shown as a code block

    def text(self) -> str:
        return (f"Not measured: {self.what}, because {self.why}. Fix: {self.fix}."
                + (f"\n{self.snippet}" if self.snippet else ""))


def components_snippet(f: Findings, component: str | None) -> str:
    """A ``[components]`` section for seamscope.toml making each module or subpackage of ``component`` (all
    production Python files when None) a component of its own: what to paste when one component is too few."""
    files = f.ev.structure.files
    prod = files[~files["is_test"].astype(bool) & (files["kind"] == "python")]
    if component is not None:
        prod = prod[prod["component"] == component]
    paths = sorted(str(p) for p in prod["path"] if _SAFE_PATH.match(str(p)))
    if not paths:
        return ""
    # the deepest folder holding every file: its modules and subpackages are the proposed components
    parts = [p.split("/")[:-1] for p in paths]
    root: list[str] = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        root.append(level[0])
    entries: dict[str, str] = {}
    for p in paths:
        rest = p.split("/")[len(root):]
        if len(rest) > 1:
            glob, name = "/".join([*root, rest[0], "**"]), rest[0]
        elif rest[0] == "__init__.py":
            continue  # the package itself: left to the default rule
        else:
            glob, name = p, rest[0].removesuffix(".py")
        entries.setdefault(glob, re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "core")
    if len(entries) < 2:
        return ""
    lines = [f'"{g}" = "{n}"' for g, n in entries.items()]
    more = len(lines) - SNIPPET_LINES
    lines = lines[:SNIPPET_LINES] + ([f"# ... {more} more module(s) in the same way"] if more > 0 else [])
    return SNIPPET_HEAD + "\n".join(lines)


def measurement_gaps(f: Findings) -> list[Gap]:
    """What this audit could not measure, most fundamental first; a metric's reason is its first gap."""
    ev = f.ev
    gaps: list[Gap] = []
    names = ev.components.names
    ic = f.interaction
    n_called = int(ic.summary.get("seams", 0) or 0)  # seams with a call site that can run
    if len(names) < 2:
        one = names[0] if names else None
        snippet = components_snippet(f, one)
        why = (f"the audit found one component ({one!r}); a seam is a call between two components"
               if one else "the audit found no component (no Python package outside the tests)")
        fix = ("paste the [components] section shown in the executive summary (and findings.json) into "
               "seamscope.toml at the repository root (one component per module; merge modules that belong together) "
               "and audit again" if snippet else
               "map the code to components in seamscope.toml: [components] with \"glob\" = \"name\" lines")
        gaps.append(Gap("seams between components", why, fix, SEAM_METRICS, snippet))
    elif n_called == 0:
        n_import = len(ic.summary.get("import_only_seams", []))
        why = (f"no call between the {len(names)} components can run ({n_import} seam(s) are imports only)" if n_import
               else f"no import or call crosses between the {len(names)} components")
        gaps.append(Gap("integration coverage of seams", why,
                        "map modules that call each other to different components ([components] in seamscope.toml)",
                        COVERAGE_METRICS + ("interaction_coverage_estimated",) if n_import else
                        tuple(m for m in SEAM_METRICS if m != "import_only_seams")))
    has_tests = (ev.test_kinds is not None and len(ev.test_kinds)) or (ev.test_results is not None
                                                                       and len(ev.test_results))
    if not has_tests:
        gaps.append(Gap("whether tests exercise the seams", "no test was found in the repository (test_*.py, "
                        "*_test.py, tests/) and no JUnit XML was given",
                        "give --tests with the JUnit XML of a test run and --coverage with its per-test coverage",
                        COVERAGE_METRICS + ("interaction_coverage_estimated",)))
    elif ic.basis == "static":
        gaps.append(Gap("which tests run which call sites", "no per-test coverage was given (--coverage); "
                        "'interaction coverage estimated' guesses it from what each test imports and mocks",
                        "run the tests with `pytest --cov=<package> --cov-context=test` and pass --coverage .coverage",
                        COVERAGE_METRICS))
    if ev.test_results is None or ev.test_results.empty:
        gaps.append(Gap("failures per environment and flaky tests",
                        ev.missing.get("test results", "no test results were read"),
                        "pass --tests with the JUnit XML of each environment (one folder per environment)",
                        TEST_RESULT_METRICS))
    if ev.issues is None:
        gaps.append(Gap("production bugs", ev.missing.get("issues", "no issues were read"),
                        "pass --issues with an issue-tracker export (GitHub/GitLab JSON, Jira CSV)", ISSUE_METRICS))
    return gaps


def _not_measured(f: Findings, summary: dict[str, Any]) -> dict[str, str]:
    """Set every ``summary`` metric a gap leaves unmeasurable to None; return {metric: why and the fix}."""
    out: dict[str, str] = {}
    for gap in measurement_gaps(f):
        for m in gap.metrics:
            if m in summary and m not in out:
                summary[m] = None
                out[m] = gap.text()
    for m, v in summary.items():  # a number that came out NaN/None without a named gap still says why
        if m not in out and (v is None or (isinstance(v, float) and v != v)):
            summary[m] = None
            out[m] = "Not measured: its input is missing or empty."
    return out


def coupling_section(f: Findings) -> Section:
    from toolkit.viz.plots import coupling_graph_png

    ev = f.ev
    seams, struct, logical, g = f.seams, f.structural_coupling, f.logical_coupling, f.graph
    risky = set(f.ranking.table.sort_values("rank").head(3)["seam"])  # the seams the ranking puts first
    hm = f.history_mapping
    sec = Section(
        id="coupling",
        title="Components and their coupling",
        summary={
            "components": len(ev.components.names),
            "seams": int(len(seams)),
            "cross_component_call_sites": int(len(ev.structure.call_sites)),
            "unresolved_calls": int(ev.structure.unresolved_calls["calls"].sum()),
            "logically_coupled_pairs": int(len(logical)),
            "history_mapped_pct": _pct(None if hm["share"] is None else 100 * hm["share"]),
            "commits_mapped_pct": _pct(None if hm["commit_share"] is None else 100 * hm["commit_share"]),
        },
        paragraphs=[
            "A seam is a directed pair of components where code of one calls, instantiates or subclasses code of "
            "the other. Structural coupling counts imports and call sites across each seam; logical (change) "
            "coupling counts how often two components change in the same commit (code-maat's definition, bulk "
            "commits above the changeset-size limit ignored).",
            "Components follow the code's layout (toolkit.vocab.components): a flat package's modules, a package's "
            "subpackages, each Django app; tests, tooling, documentation and test-support code are no component. "
            "Each component's reason is listed below; a [components] table in seamscope.toml overrides them.",
            _call_site_note(ev.structure),
            _history_mapping_text(hm),
        ],
        tables=[
            Table("components", ev.structure.component_table, "Components: why each is one, its files and lines"),
            Table("excluded_components", ev.structure.excluded_components,
                  "Code that is no component by default or by the mapping, and why"),
            Table("seams", seams, "Seams with their import and call-site counts"),
            Table("structural_coupling", struct, "Afferent/efferent coupling, instability and cohesion per component"),
            Table("logical_coupling", logical, "Components that change together (code-maat coupling)"),
        ],
        figures=[Figure("coupling_graph", coupling_graph_png(g, highlight=risky,
                                                             title="Component coupling (width: call sites)"),
                        "Components (size: files) and seams (width: call sites; service-only seams thin); "
                        "red: the three riskiest seams of the ranking")],
    )
    return sec


def _call_site_note(structure: Any) -> str:
    """What the call-site count leaves out and what it could not see, in one sentence each."""
    un = structure.unresolved_calls
    by = un.groupby("reason")["calls"].sum() if not un.empty else pd.Series(dtype="int64")
    words = {"parameter": "on parameters", "attribute": "on objects an instance holds", "local":
             "on variables the scan cannot trace", "dynamic": "through a subscript, getattr or a call result"}
    parts = [f"{int(by[r])} {words[r]}" for r in words if r in by.index and by[r]]
    text = (f"{int(by.sum())} calls in production code could not be resolved statically"
            + (f" ({', '.join(parts)})" if parts else "") + "; they are not call sites, and a seam's "
            "unresolved_calls counts those that call, in a file importing the callee, a name the callee defines.")
    left = structure.not_call_sites
    rules = {"type_checking": "under `if TYPE_CHECKING:`", "annotation": "in annotations",
             "builtin_alias": "builtins reached through another component's alias (a compat module) or literal"}
    done = [f"{int(left[r])} {rules[r]}" for r in rules if left.get(r)]
    if done:
        text += (" Cross-component references that cannot run as calls are not call sites: "
                 + ", ".join(done) + ".")
    return text


def _history_mapping_text(hm: dict[str, Any]) -> str:
    if not hm["code_changes"]:
        return "History: no change to non-test Python code in the history, so none could be mapped to components."
    return (f"History follows the code: of {hm['code_changes']:,} changes to non-test Python files, "
            f"{hm['mapped']:,} ({100 * hm['share']:.0f}%) count for a component today, through renames and moves "
            f"(in {hm['commits_mapped']:,} of {hm['commits']:,} commits touching code); {hm['gone']:,} belong to "
            f"files deleted since from directories no component holds, {hm['outside']:,} to files outside every "
            "component (tooling, excluded code).")


def tests_section(f: Findings) -> Section:
    ev = f.ev
    if ev.test_results is None or ev.test_results.empty:
        return _missing("tests", "Test results", ev.missing.get("test results", "no test results were read"))
    from toolkit.analyze.flakiness import failures_by_environment

    by_env = failures_by_environment(ev.test_results)
    flaky = f.flakiness[f.flakiness["is_flaky"]]
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


def issues_section(f: Findings) -> Section:
    ev = f.ev
    if ev.issues is None:
        return _missing("issues", "Issue-tracker history", ev.missing.get("issues", "no issues were read"))
    issues = ev.issues
    from toolkit.load.links import bug_mask
    bugs = issues[bug_mask(issues).to_numpy()]
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
    pr_bugs = getattr(links, "pr_bugs", None) if links is not None else None
    if pr_bugs is not None and len(pr_bugs):
        tables.append(Table("bug_pull_requests", pr_bugs,
                            "Pull requests labelled as bugs: counted as bugs, or not (the fix of an issue counted)"))
    n = len(bugs)
    summary = {"issues": int(len(issues)), "bugs": int(n),
               "bugs_linked_to_fixes": int(bugs["key"].isin(linked).sum()),
               "link_rate_pct": round(100.0 * bugs["key"].isin(linked).mean(), 1) if n else None}
    if pr_bugs is not None and len(pr_bugs):
        summary["bug_pull_requests_counted"] = int(pr_bugs["counted"].sum())
        summary["bug_pull_requests_not_counted"] = int((~pr_bugs["counted"]).sum())
    kinds = ""
    if links is not None and len(links.links):
        by_kind = links.links[links.links["issue_key"].isin(bugs["key"])].groupby("kind")["issue_key"].nunique()
        kinds = " Bugs linked by kind of evidence: " + ", ".join(f"{k} {int(v)}" for k, v in by_kind.items()) + "."
    return Section(
        id="issues", title="Issue-tracker history",
        summary=summary,
        tables=tables,
        paragraphs=["Bugs are linked to the commits that fixed them: keys in commit messages, merge commits "
                    "(the commits they brought in), squash-merge titles, changelog fragments or lines citing the "
                    "issue, and pull requests that close the issue (explicit 'fixes KEY' > bare reference). "
                    "Unlinked bugs cannot be placed on a seam." + kinds])


#: the executive summary's headline numbers as summary keys (toolkit.vocab.metrics.HEADLINES, in reading order)
HEADLINES = tuple(METRICS[m].key for m in HEADLINE_IDS)


def headline_values(sections: list[Section]) -> dict[str, Any]:
    """Each headline's value (lists allowed) by summary key, read from the section the vocabulary says computes
    it (toolkit.vocab.metrics ``Metric.section``), never from whichever section happens to come first."""
    by_id = {s.id: s for s in reversed(sections)}  # the first section of an id wins
    out: dict[str, Any] = {}
    for mid in HEADLINE_IDS:
        m = METRICS[mid]
        own = by_id.get(m.section)
        if own is not None and m.key in own.summary:
            out[m.key] = own.summary[m.key]
    return out


def summary_section(f: Findings, sections: list[Section]) -> Section:
    """The executive summary: the headline numbers (HEADLINES), each "n/a" (None) with its reason when it could
    not be measured, and what could not be measured, why, and the one change that fixes it."""
    metrics = headline_values(sections)
    reasons: dict[str, str] = {}
    for s in sections:
        for k, why in s.not_measured.items():
            reasons.setdefault(k, why)
    ran = {s.id for s in sections}
    gaps = measurement_gaps(f)
    summary: dict[str, Any] = {}
    for k in HEADLINES:
        if k.startswith("backtest_") and "backtest" not in ran:
            continue  # not asked for: not a gap
        v = metrics.get(k)
        if k == "top_risky_seams" and not v:
            v = None
        summary[k] = v
        if v is None and k not in reasons:
            gap = next((g for g in gaps if k in g.metrics), None)
            reasons[k] = gap.text() if gap else "Not measured: its section did not run or its input is missing."
    not_measured = {k: reasons[k] for k, v in summary.items() if v is None and k in reasons}
    said = [p for g in gaps for p in (g.text().removesuffix("\n" + g.snippet), g.snippet) if p]
    missing = [f"{s.title}: {s.missing}" for s in sections
               if s.missing and not any(s.missing in g.why for g in gaps)]
    return Section(id="summary", title="Executive summary", summary=summary, paragraphs=said + missing,
                   not_measured=not_measured, tables=_top_seams(sections, len(summary.get("top_risky_seams") or [])))


def _top_seams(sections: list[Section], n: int) -> list[Table]:
    """The first ``n`` seams of the ranking as a short table for the first screen: rank, seam, its strongest
    reason (the first of the ranking's reasons) and the action; [] when the ranking did not run."""
    ranking = next((t for s in sections if s.id == "seam_ranking" for t in s.tables if t.name == "seam_ranking"),
                   None)
    if ranking is None or not n:
        return []
    top = ranking.df.sort_values("rank").head(n)
    df = pd.DataFrame({"rank": top["rank"].to_numpy(), "seam": top["seam"].astype(str).to_numpy(),
                       "reason": [str(r).split("; ")[0] for r in top["reason"]],
                       "action": top["recommendation"].astype(str).to_numpy()})
    return [Table("top_seams", df, "The seams to test first: the strongest reason and the action "
                                   "(every factor in 'Seams to test first')")]


def compare_section(report, previous: dict) -> Section:
    """What got better or worse since a previous findings.json (toolkit.report.compare)."""
    from toolkit.report.compare import compare_section as compare

    return compare(report, previous)


def _pct(x: float | None) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 1)


def interaction_section(f: Findings) -> Section:
    ic = f.interaction
    s = ic.summary
    seams = ic.seams.drop(columns=[c for c in ("tests_real_list", "tests_mocking_list") if c in ic.seams.columns])
    paras = [
        "A call site between two components is covered for integration only when a test executes it without "
        "replacing the callee with a mock. Executed only with the callee mocked = covered only in isolation; "
        "never executed = untested. Seams exercised only through mocks are where two components can disagree "
        "while every unit test stays green.",
        s.get("basis_note", ""),
    ]
    est = " (estimated)" if ic.basis == "static" else ""
    if s.get("mocks_only_seams"):
        paras.append(f"Seams exercised only through mocks{est}: " + ", ".join(s["mocks_only_seams"]) + ".")
    if s.get("untested_seams"):
        paras.append(f"Seams no test executes at all{est}: " + ", ".join(s["untested_seams"]) + ".")
    if s.get("import_only_seams"):
        paras.append("Seams that are imports only (no call across them can run; nothing to integration-test): "
                     + ", ".join(s["import_only_seams"]) + ".")
    summary = {"interaction_coverage": _pct(s.get("pct_seams_integration")),
               "call_site_coverage": _pct(s.get("pct_call_sites_integration")),
               "seams_only_mocked": len(s.get("mocks_only_seams", [])),
               "untested_seams": len(s.get("untested_seams", [])),
               "import_only_seams": len(s.get("import_only_seams", [])),
               "coverage_basis": ic.basis}
    if ic.basis == "static":
        summary["interaction_coverage_estimated"] = _pct(s.get("pct_seams_integration"))
    not_measured = _not_measured(f, summary)
    paras += [why.partition("\n")[0] for k, why in not_measured.items() if k == "interaction_coverage"]
    return Section(
        id="interaction_coverage", title="1. Integration test coverage of component interactions",
        summary=summary, not_measured=not_measured,
        paragraphs=[p for p in paras if p],
        tables=[Table("seams", seams, "Per seam: call sites covered for integration, only in isolation, untested"),
                Table("call_sites", ic.call_sites, "Per call site: status and the tests behind it")])


def environment_section(f: Findings) -> Section:
    ec = f.environments
    if ec is None:
        return _missing("environments", "5. Deployment environment testing",
                        f.ev.missing.get("test results", "no test results were read"))
    s = ec.summary
    paras = [
        f"Tests passing in '{s['lower']}' but failing in '{s['higher']}' (beyond flakiness) point at interactions "
        "that only break when components are wired together. Bugs first seen in production are escapes: no "
        "lower environment caught them. A Fisher exact test says whether the failure-rate difference is more "
        "than chance.",
        f"Overall: {s['verdict']}; risk difference "
        + (f"{100 * s['risk_difference']:+.1f} percentage points." if s['risk_difference'] is not None else "n/a.")
        + (f" With {s['tests_corrected_for']} tests (overall, per component, per seam) some raw p below 0.05 are "
           "expected by chance: each p is adjusted by Benjamini–Hochberg (column p_adjusted) and verdicts use it."
           if s.get("tests_corrected_for", 0) > 1 else ""),
    ]
    tables = [Table("failure_rates", ec.failure_rates, "Failure rate per environment"),
              Table("env_only_failures", ec.env_only_failures,
                    f"Tests passing in {s['lower']} but failing in {s['higher']} (flaky tests excluded)"),
              Table("significance", ec.significance, "Fisher exact tests with effect sizes"),
              Table("escapes", ec.escapes, "Bugs found in production (escapes)"),
              Table("escapes_by_seam", ec.escapes_by_seam, "Escapes per component pair"),
              Table("bugs_by_environment", ec.bugs_by_environment, "Bugs per environment")]
    figures = []
    if len(ec.failure_rates):
        from toolkit.viz.plots import bar_png
        rates = ec.failure_rates.set_index("environment")
        col = next((c for c in ("failure_rate", "rate") if c in rates.columns), None)
        if col:
            figures.append(Figure("environment_failure_rates",
                                  bar_png(rates[col].astype(float), title="Failure rate per environment",
                                          xlabel="failure rate"), "Failure rate per environment"))
    summary = {"env_only_failures": len(s.get("env_only_failures", [])),
               "production_escapes": s.get("escapes"),
               "escape_share_pct": _pct(100 * s["escape_share"]) if s.get("escape_share") is not None else None,
               "env_difference_p_value": s.get("p_value")}
    return Section(
        id="environments", title="5. Deployment environment testing",
        summary=summary, not_measured=_not_measured(f, summary),
        paragraphs=paras, tables=tables, figures=figures)


def bug_categorization_section(f: Findings) -> Section:
    bc = f.bugs
    if bc is None:
        return _missing("bug_categorization", "2. Production bug categorization",
                        f.ev.missing.get("issues", "no issues were read"))
    s = bc.summary
    bugs = bc.bugs.copy()
    share = s.get("production_integration_share")
    paras = [
        "Each bug is categorized integration, component-specific, environment/configuration or not-a-bug from "
        "weighted evidence: how many components its fix commits touched and whether they touched code that talks "
        "across the project's boundary, whether its text names something across that boundary (a declared "
        "dependency, a platform module the code imports, the Python runtime, the OS, a tool, a service — derived "
        "from the repository), words in its title, body and fix messages, labels, the environment it appeared "
        "in. With weak or conflicting evidence a bug is 'unknown' (the 'undecided' column says what would decide "
        "it), never silently 'component'. Analyst labels (bug-review widget) always win.",
    ]
    total_share = s.get("integration_share")
    if total_share is not None and not pd.isna(total_share):
        paras.append(f"{100 * total_share:.0f}% of the {s.get('decided', 0)} decided bugs are integration bugs; "
                     f"{s.get('undecided', 0)} of {s.get('bugs', 0)} bugs are undecided.")
    if share is not None and not pd.isna(share):
        paras.append(f"{100 * share:.0f}% of the decided production bugs are integration bugs "
                     f"({s.get('production_undecided', 0)} of {s.get('production_bugs', 0)} production bugs "
                     "undecided).")
    learned, learn_summary, learn_missing, learn_tables = _learning(bc.learning)
    paras.append(learned)
    figures = []
    if len(bc.by_quarter):
        from toolkit.viz.plots import stacked_bar_png
        q = bc.by_quarter.set_index("quarter")[list(CATEGORIES)]
        if len(q):
            figures.append(Figure("bugs_by_quarter", stacked_bar_png(q, title="Bugs per quarter by category",
                                                                  xlabel="bugs", palette="bug_category"),
                                  "Bugs per quarter by category"))
    return Section(
        id="bug_categorization", title="2. Production bug categorization",
        summary={"integration_bug_share_pct": _pct(100 * s["integration_share"]) if s.get("integration_share") is not None
                 and not pd.isna(s["integration_share"]) else None,
                 "production_integration_bug_share_pct": _pct(100 * share) if share is not None and not pd.isna(share)
                 else None,
                 "undecided_bugs": s.get("undecided", 0),
                 "analyst_labelled_bugs": s.get("labelled", 0), **learn_summary},
        not_measured=learn_missing,
        paragraphs=paras,
        tables=[Table("bugs", bugs, "Every bug with its category, confidence, evidence and who decided it "
                                    "(decided_by: label, rules or classifier)"),
                *learn_tables,
                Table("by_pair", bc.by_pair, "Bug categories per component pair"),
                Table("by_quarter", bc.by_quarter, "Bug categories over time")],
        figures=figures)


def _learning(learning: Any) -> tuple[str, dict[str, Any], dict[str, str], list[Table]]:
    """What the analyst labels taught (toolkit.analyze.bug_classifier.Learning): a paragraph, summary numbers
    (n/a with the reason when the classifier could not be judged), and the classifier-vs-rules table."""
    from toolkit.analyze.bug_classifier import MIN_LABELS

    keys = ("classifier_macro_f1", "rules_macro_f1_on_labels")  # None: n/a (too few labels), never 0
    if learning is None:
        why = (f"no analyst labels were given (--labels / labels in seamscope.toml); the classifier is trained and "
               f"compared with the rules once {MIN_LABELS} bugs are labelled, both integration and component")
        return (f"Learning from the analyst: {why}.", {k: None for k in (*keys, "classifier_chosen")}
                | {"labels_needed_for_classifier": MIN_LABELS, "bugs_decided_by_classifier": 0},
                {k: why for k in (*keys, "classifier_chosen")}, [])
    summary = {"classifier_macro_f1": _round(learning.classifier_macro_f1),
               "rules_macro_f1_on_labels": _round(learning.rules_macro_f1),
               "labels_needed_for_classifier": int(learning.needed),
               "bugs_decided_by_classifier": int(learning.decided),
               "classifier_chosen": None if learning.evaluation is None else learning.chosen == "classifier"}
    missing = {k: learning.note for k in (*keys, "classifier_chosen") if summary[k] is None}
    tables = []
    if learning.evaluation is not None:
        tables.append(Table("classifier_vs_rules", learning.evaluation,
                            "On the analyst's labels: the classifier (cross-validated) beside the rules, per category "
                            "(precision, recall, F1; the rules' 'unknown' counts as a miss)"))
    return f"Learning from the analyst: {learning.note}", summary, missing, tables


def _round(x: float | None) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 3)


def interface_section(f: Findings) -> Section:
    idoc = f.interfaces
    s = idoc.summary
    paras = [
        "Every interface used across components (callees of cross-component call sites, public names imported by "
        "another component) is checked for a docstring, documented parameters/returns/raises, complete type "
        "annotations and a data contract. Interface drift: its signature changed in history while its docstring "
        "did not, or while callers in other components were left unchanged in the same commit.",
    ]
    if s.get("worst_seams"):
        paras.append("Least documented seams: " + ", ".join(map(str, s["worst_seams"])) + ".")
    summary = {"interfaces": s.get("interfaces"),
               "interfaces_documented_pct": _pct(100 * s["share_fully_documented"])
               if s.get("share_fully_documented") is not None else None,
               "interface_doc_score": round(float(s["mean_score"]), 2) if s.get("mean_score") is not None
               and not pd.isna(s["mean_score"]) else None,
               "interface_drift_events": s.get("drift_events")}
    return Section(
        id="interface_documentation", title="3. Interface documentation review",
        summary=summary, not_measured=_not_measured(f, summary),
        paragraphs=paras,
        tables=[Table("seams", idoc.seams, "Documentation score per seam"),
                Table("interfaces", idoc.interfaces, "Each cross-component interface and its checks"),
                Table("drift", idoc.drift, "Interface drift events")])


def cross_bugs_section(f: Findings) -> Section:
    cb = f.cross_bugs
    if cb is None:
        return _missing("cross_component_bugs", "4. Cross-component bug analysis",
                        f.ev.missing.get("issues", "no issues were read"))
    s = cb.summary
    figures = []
    if cb.matrix.shape[0]:
        from toolkit.viz.plots import heatmap_png
        figures.append(Figure("bug_matrix", heatmap_png(cb.matrix, title="Bugs per component pair", value_label="bugs"),
                              "Bugs whose fixes touched both components (diagonal: one component only)"))
    share = s.get("share_crossing")
    summary = {"bugs_crossing_components_pct": _pct(100 * share) if share is not None and not pd.isna(share) else None,
               "recurring_bug_pairs": s.get("recurring_pairs")}
    return Section(
        id="cross_component_bugs", title="4. Cross-component bug analysis",
        summary=summary, not_measured=_not_measured(f, summary),
        paragraphs=["Bugs whose fixes span components show where the seams break in practice. A pair that "
                    f"breaks again within {s.get('recurrence_months')} months is a seam whose tests did not "
                    "improve after the first failure."],
        tables=[Table("pairs", cb.pairs, "Bugs per component pair"),
                Table("recurrence", cb.recurrence, "Pairs that broke again"),
                Table("resolve_times", cb.resolve_times, "Time to resolve: integration vs component bugs")],
        figures=figures)


def ranking_section(f: Findings) -> Section:
    """The seams to test first, with every factor's contribution, the reason and the remedy."""
    from toolkit.analyze.seam_ranking import FACTORS
    r = f.ranking
    t = r.table
    weights = ", ".join(f"{k} {v:g}" for k, v in r.weights.items())
    summary = {"top_risky_seams": list(r.summary.get("top", []))}
    not_measured = _not_measured(f, summary)
    return Section(
        id="seam_ranking", title="Seams to test first", summary=summary, not_measured=not_measured,
        paragraphs=["Each seam's score is the sum of its factors (each normalised to 0..1) times their weights "
                    f"({weights}; override with [weights] in seamscope.toml). The c_* columns show each factor's "
                    "contribution; the reason names the strongest factors with their numbers."],
        tables=[Table("seam_ranking", t[["rank", "seam", "level", "score", "reason", "recommendation"]
                                        + [f"c_{n}" for n in FACTORS]], "Seams ranked by integration risk"),
                Table("seam_ranking_evidence", t, "Every factor and the evidence behind it")])


BACKTEST_TITLE = "Would this ranking have warned you? (backtest)"


def backtest_missing(reason: str) -> Section:
    return _missing("backtest", BACKTEST_TITLE, reason)


def backtest_section(results) -> Section:
    """How much to trust the ranking: it, ranked as of earlier revisions, scored against the fixes that came
    later, beside the churn and change-coupling baselines (a BacktestResult or a list, toolkit.analyze.backtest)."""
    from toolkit.analyze.backtest import by_revision
    from toolkit.viz.plots import bar_png

    results = results if isinstance(results, list) else [results]
    table = by_revision(results)
    scored = table[table["later_fixes"] > 0]
    beats = bool(len(scored)) and bool(scored["beats_baselines"].all())
    if not len(scored):
        verdict = "cannot be scored: no later integration fix landed on a seam"
    elif len(results) == 1:
        verdict = "beats both baselines" if beats else "does not beat both baselines on this history"
    else:
        verdict = (f"beats both baselines at {int(scored['beats_baselines'].sum())} of {len(scored)} revision(s) "
                   "with later fixes")
    when = results[0].at if len(results) == 1 else f"each of {len(results)} revisions"
    summary = {"backtest_at": results[0].at if len(results) == 1 else [r.at for r in results],
               "backtest_later_fixes": len({k for r in results for k in r.later_fixes["key"]}),  # distinct bugs
               "backtest_unplaced_fixes": int(table["unplaced"].sum()), "backtest_k": int(results[0].scores["k"].iloc[0]),
               # shares in % like every other share of the report (toolkit.vocab.metrics); the tables keep 0..1
               "backtest_precision_at_k": _pct_of(_mean(scored["precision_at_k"])),
               "backtest_recall_at_k": _pct_of(_mean(scored["recall_at_k"])),
               "backtest_top20_share": _pct_of(_mean(scored["top20_share"])), "backtest_beats_baselines": beats}
    if len(results) > 1:
        summary["backtest_revisions_beating_baselines"] = f"{int(scored['beats_baselines'].sum())} of {len(scored)}"
    one = results[0]
    figures = []
    if len(results) == 1 and len(one.later_fixes):
        s1 = one.scores.set_index("ranking")
        figures.append(Figure("backtest_top20", bar_png(s1["top20_share"].astype(float) * 100,
                                                        title="Later integration fixes in the top 20 % of seams",
                                                        xlabel="% of later fixes"),
                              "Ours vs ranking by churn only and by change coupling only"))
    elif len(scored):
        gain = (scored["top20_share"] - scored["baseline_top20_share"]) * 100
        gain.index = [re.sub(r"[0-9a-f]{40}", lambda m: m.group(0)[:10], str(a)) for a in scored["at"]]
        figures.append(Figure("backtest_top20", bar_png(
            gain, title="Later fixes in the top 20 %: ours minus the better baseline", xlabel="percentage points"),
            "Per revision; above zero the ranking warned better than churn or change coupling alone"))

    def tagged(frames: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat([f.assign(at=r.at)[["at", *f.columns]] for f, r in zip(frames, results)], ignore_index=True)

    tables = [Table("backtest_scores", tagged([r.scores for r in results]), "Ranking vs baselines on later fixes"),
              Table("backtest_later_fixes", tagged([r.later_fixes for r in results]),
                    "Integration/cross-component fixes after the revision")]
    if len(results) > 1:
        tables.insert(0, Table("backtest_by_revision", table, "One row per revision: ours vs the better baseline"))
    tables.append(Table("backtest_ranking", results[-1].ranking[["rank", "seam", "score", "reason"]],
                        f"The ranking as of {results[-1].at}"))
    notes = [f"Note ({r.at[:12]}): {n}" if len(results) > 1 else f"Note: {n}" for r in results for n in r.notes]
    return Section(
        id="backtest", title=BACKTEST_TITLE, summary=summary,
        paragraphs=[f"The seams were ranked from what was known at {when}: the code, history, test runs and "
                    "issues up to then (later resolutions hidden, analyst labels dropped). The ranking is scored "
                    "against the integration and cross-component bug fixes that landed afterwards: precision and "
                    "recall at k, and the share of later fixes that fall in the top 20 % of seams. Churn-only and "
                    f"change-coupling-only rankings of the same seams are the baselines. Here the ranking {verdict}.",
                    *notes],
        figures=figures, tables=tables)


def _pct_of(fraction: float | None) -> float | None:
    """A 0..1 fraction as a percentage (one decimal), None stays None."""
    return None if fraction is None else _pct(100 * fraction)


def _mean(values: pd.Series) -> float | None:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return float(v.mean()) if len(v) else None


def root_causes_section(f: Findings) -> Section:
    """Why integration testing is inadequate: testing strategy, coupling, mocks, external services, environments."""
    rc = f.root_causes
    return Section(
        id="root_causes", title="Root causes",
        summary={"root_cause_signals": rc.summary.get("signals", 0)},
        paragraphs=["Signals per component and seam with the threshold that flags them "
                    "(toolkit.analyze.root_causes.THRESHOLDS, override in [thresholds])."],
        tables=[Table("signals", rc.signals, "Root-cause signals, most severe first"),
                Table("test_pyramid", rc.pyramid, "Unit, integration and e2e tests per component"),
                Table("mock_ratio", rc.mocks, "Tests mocking vs exercising each seam for real"),
                Table("external_services", rc.external, "External services production code talks to")])


def service_section(f: Findings) -> Section:
    """Service seams: HTTP/message interactions, their contracts and which of them tests exercise (traces)."""
    s = f.services
    ev = f.ev
    scan = ev.service_scan
    tables = [Table("service_seams", s.seams, "Service seams (level 'service'): static calls, traced calls in test "
                                              "and production environments, contract drift")]
    if scan is not None:
        # base_default holds literal URLs: left out so the report links to nothing outside itself
        tables += [Table("service_calls", scan.calls.drop(columns=["base_default"]),
                         "Outgoing HTTP calls found in the code, with the callee service or the reason it is unknown"),
                   Table("service_endpoints", scan.endpoints, "Routes the services declare"),
                   Table("service_messages", scan.messages, "Message publish/subscribe calls")]
    if s.interactions is not None and len(s.interactions):
        tables.append(Table("service_interactions", s.interactions,
                            "Each endpoint or topic: static call sites and traced calls in tests and production"))
    if len(s.contract_findings):
        tables.append(Table("contract_findings", s.contract_findings,
                            "Where code, OpenAPI specs and Pact files disagree"))
    if s.trace_edges is not None:
        tables.append(Table("trace_edges", s.trace_edges, "Observed service-to-service calls per environment"))
    paragraphs = [
        "A service seam is a pair of services where one calls the other over HTTP or publishes a topic the other "
        "consumes. Calls are found statically (requests/httpx/aiohttp/urllib, Kafka/RabbitMQ/SNS/SQS/Redis); "
        "trace spans recorded during integration-test runs show which seams the tests really exercise, and "
        "production traces show seams no test covers.",
    ]
    for what, why in (("contracts", ev.missing.get("contracts")), ("traces", ev.missing.get("traces"))):
        if why:
            paragraphs.append(f"Not available: {why}.")
    summary = {k: v for k, v in s.summary.items() if not k.startswith("trace_")}
    return Section(id="service_seams", title="Service seams: HTTP, messages, contracts and traces", summary=summary,
                   paragraphs=paragraphs, tables=tables)
