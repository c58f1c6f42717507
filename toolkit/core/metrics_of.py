"""Each method's summary numbers, computed from Findings once: what the Audit holds and the report shows.

One function per detection method (:data:`METHODS`, keyed like its report section and ``--only``) returns a
:class:`Measured`: numbers by summary key (:mod:`toolkit.vocab.metrics`, in report order), why each ``None``
is not a number (never a reassuring 0), and why the method could not run at all. :func:`headline` picks the
executive summary's numbers; :func:`measurement_gaps` says what could not be measured, why, and the fix.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple

import pandas as pd

from toolkit.vocab.metrics import HEADLINES, METRICS

if TYPE_CHECKING:  # the numbers are computed from Findings; importing it here would load every reader
    from toolkit.core.findings import Findings

__all__ = ["COVERAGE_METRICS", "Gap", "METHODS", "Measured", "NO_SECTION", "SEAM_METRICS", "SNIPPET_HEAD",
           "backtest", "components_snippet", "headline", "measurement_gaps"]

#: the reason of a metric whose method did not run or whose input is missing (no named gap)
NO_SECTION = "Not measured: its section did not run or its input is missing."
#: a paragraph beginning so is a configuration snippet to paste (seamscope.toml), rendered verbatim as code
SNIPPET_HEAD = "[components]\n"
SNIPPET_LINES = 40
_SAFE_PATH = re.compile(r"^[\w./@+ -]+$")  # paths a snippet may quote verbatim (no quotes, backticks, newlines)

#: metrics that need seams between components (two or more components with a call across them)
SEAM_METRICS = ("top_risky_seams", "interaction_coverage", "interaction_coverage_estimated", "call_site_coverage",
                "seams_only_mocked", "untested_seams", "import_only_seams", "bugs_crossing_components_pct",
                "interfaces_documented_pct", "interface_doc_score", "interface_drift_events")
#: metrics measured only from per-test coverage (the static estimate cannot tell them)
COVERAGE_METRICS = ("interaction_coverage", "call_site_coverage", "seams_only_mocked", "untested_seams")
TEST_RESULT_METRICS = ("env_only_failures", "production_escapes", "escape_share_pct", "flaky_tests")
ISSUE_METRICS = ("production_integration_bug_share_pct", "integration_bug_share_pct", "bugs_crossing_components_pct",
                 "production_escapes", "escape_share_pct")


class Measured(NamedTuple):
    """One method's numbers: ``summary`` by summary key, ``not_measured`` (key left None -> why, and the fix)
    and ``missing`` (why the method could not run at all: its input is absent), else None."""

    summary: dict[str, Any]
    not_measured: dict[str, str] = {}
    missing: str | None = None


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
    common = os.path.commonpath([p.rpartition("/")[0] for p in paths])
    root = common.split("/") if common else []
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
        n_unresolved = sum(ic.summary.get("import_only_unresolved", {}).values())
        why = (f"no call between the {len(names)} components was resolved ({n_import} seam(s) have imports only"
               + (f"; {n_unresolved} unresolved call(s) in their importing files name a function or method of the "
                  "callee: calls may cross them)" if n_unresolved else ")") if n_import
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
                        _why_missing(ev, "test results"),
                        "pass --tests with the JUnit XML of each environment (one folder per environment)",
                        TEST_RESULT_METRICS))
    if ev.issues is None:
        gaps.append(Gap("production bugs", _why_missing(ev, "issues"),
                        "pass --issues with an issue-tracker export (GitHub/GitLab JSON, Jira CSV)", ISSUE_METRICS))
    return gaps


def _gapped(f: Findings, summary: dict[str, Any]) -> Measured:
    """``summary`` with every metric a gap leaves unmeasurable set to None, and {metric: why and the fix}."""
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
    return Measured(summary, out)


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), digits)


def _pct_of(fraction: float | None) -> float | None:
    """A 0..1 fraction as a percentage (one decimal), None stays None."""
    return None if fraction is None else _round(100 * fraction, 1)


def _why_missing(ev: Any, what: str) -> str:
    return ev.missing.get(what, f"no {what} were read")


def _absent(f: Findings, what: str) -> Measured:
    """A method that could not run: its input ``what`` (a key of ``Evidence.missing``) is absent."""
    return Measured({}, missing=_why_missing(f.ev, what))


def _mean(values: pd.Series) -> float | None:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return float(v.mean()) if len(v) else None


# ---- one function per method ----------------------------------------------------------------------------------
def coupling(f: Findings) -> Measured:
    ev, hm = f.ev, f.history_mapping
    return Measured({
        "components": len(ev.components.names),
        "seams": int(len(f.seams)),
        "cross_component_call_sites": int(len(ev.structure.call_sites)),
        "unresolved_calls": int(ev.structure.unresolved_calls["calls"].sum()),
        "logically_coupled_pairs": int(len(f.logical_coupling)),
        "history_mapped_pct": _pct_of(hm["share"]),
        "commits_mapped_pct": _pct_of(hm["commit_share"]),
    })


def tests(f: Findings) -> Measured:
    ev = f.ev
    if ev.test_results is None or ev.test_results.empty:
        return _absent(f, "test results")
    flaky = f.flakiness[f.flakiness["is_flaky"]]
    summary: dict[str, Any] = {
        "test_runs": int(ev.test_results["run_id"].nunique()),
        "tests": int(ev.test_results["test_id"].nunique()),
        "environments": sorted(ev.test_results["environment"].dropna().unique().tolist()),
        "flaky_tests": int(flaky["test_id"].nunique()),
    }
    if ev.test_kinds is not None and not ev.test_kinds.empty:
        kinds = ev.test_kinds["kind"].value_counts()
        summary.update({f"{k}_tests": int(kinds.get(k, 0)) for k in ("unit", "integration", "e2e")})
    return Measured(summary)


def issues(f: Findings) -> Measured:
    ev = f.ev
    if ev.issues is None:
        return _absent(f, "issues")
    from toolkit.load.links import bug_mask

    bugs = ev.issues[bug_mask(ev.issues).to_numpy()]
    linked = set(ev.links.links["issue_key"]) if ev.links is not None else set()
    n = len(bugs)
    summary = {"issues": int(len(ev.issues)), "bugs": int(n),
               "bugs_linked_to_fixes": int(bugs["key"].isin(linked).sum()),
               "link_rate_pct": round(100.0 * bugs["key"].isin(linked).mean(), 1) if n else None}
    pr_bugs = getattr(ev.links, "pr_bugs", None)
    if pr_bugs is not None and len(pr_bugs):
        summary["bug_pull_requests_counted"] = int(pr_bugs["counted"].sum())
        summary["bug_pull_requests_not_counted"] = int((~pr_bugs["counted"]).sum())
    return Measured(summary)


def interaction(f: Findings) -> Measured:
    ic = f.interaction
    s = ic.summary
    summary = {"interaction_coverage": _round(s.get("pct_seams_integration"), 1),
               "call_site_coverage": _round(s.get("pct_call_sites_integration"), 1),
               "seams_only_mocked": len(s.get("mocks_only_seams", [])),
               "untested_seams": len(s.get("untested_seams", [])),
               "import_only_seams": len(s.get("import_only_seams", [])),
               "coverage_basis": ic.basis}
    if ic.basis == "static":
        summary["interaction_coverage_estimated"] = _round(s.get("pct_seams_integration"), 1)
    return _gapped(f, summary)


def environments(f: Findings) -> Measured:
    ec = f.environments
    if ec is None:
        return _absent(f, "test results")
    s = ec.summary
    return _gapped(f, {"env_only_failures": len(s.get("env_only_failures", [])),
                       "production_escapes": s.get("escapes"),
                       "escape_share_pct": _pct_of(s.get("escape_share")),
                       "env_difference_p_value": s.get("p_value")})


def bug_categorization(f: Findings) -> Measured:
    bc = f.bugs
    if bc is None:
        return _absent(f, "issues")
    s = bc.summary
    summary = {"integration_bug_share_pct": _pct_of(s.get("integration_share")),
               "production_integration_bug_share_pct": _pct_of(s.get("production_integration_share")),
               "undecided_bugs": s.get("undecided", 0),
               "analyst_labelled_bugs": s.get("labelled", 0)}
    # what the analyst labels taught (toolkit.analyze.bug_classifier.Learning): n/a with the reason, never 0
    notes = {} if summary["production_integration_bug_share_pct"] is not None else {
        "production_integration_bug_share_pct": _no_production_share(s)}
    keys = ("classifier_macro_f1", "rules_macro_f1_on_labels", "classifier_chosen")
    learning = bc.learning
    if learning is None:
        from toolkit.analyze.bug_classifier import MIN_LABELS

        summary.update({k: None for k in keys} | {"labels_needed_for_classifier": MIN_LABELS,
                                                  "bugs_decided_by_classifier": 0})
        return Measured(summary, notes | {k: no_labels_note() for k in keys})
    summary.update({"classifier_macro_f1": _round(learning.classifier_macro_f1),
                    "rules_macro_f1_on_labels": _round(learning.rules_macro_f1),
                    "labels_needed_for_classifier": int(learning.needed),
                    "bugs_decided_by_classifier": int(learning.decided),
                    "classifier_chosen": None if learning.evaluation is None else learning.chosen == "classifier"})
    return Measured(summary, notes | {k: learning.note for k in keys if summary[k] is None})


def _no_production_share(s: dict[str, Any]) -> str:
    """Why the production share has no value: no bug is known to come from production (public trackers rarely
    say so), or every one that is stayed undecided. The share over all decided bugs is the headline beside it."""
    if not s.get("production_bugs"):
        return ("Not measured: no bug says it was found in production (an environment field, an env: label or an "
                "'Environment:' line in its body).")
    return f"Not measured: all {s['production_bugs']} production bugs are undecided."


def no_labels_note() -> str:
    """Why the classifier is not judged when no analyst labels were given."""
    from toolkit.analyze.bug_classifier import MIN_LABELS

    return (f"no analyst labels were given (--labels / labels in seamscope.toml); the classifier is trained and "
            f"compared with the rules once {MIN_LABELS} bugs are labelled, both integration and component")


def interface_documentation(f: Findings) -> Measured:
    s = f.interfaces.summary
    return _gapped(f, {"interfaces": s.get("interfaces"),
                       "interfaces_documented_pct": _pct_of(s.get("share_fully_documented")),
                       "interface_doc_score": _round(s.get("mean_score"), 2),
                       "interface_drift_events": s.get("drift_events")})


def cross_component_bugs(f: Findings) -> Measured:
    cb = f.cross_bugs
    if cb is None:
        return _absent(f, "issues")
    return _gapped(f, {"bugs_crossing_components_pct": _pct_of(cb.summary.get("share_crossing")),
                       "recurring_bug_pairs": cb.summary.get("recurring_pairs")})


def seam_ranking(f: Findings) -> Measured:
    return _gapped(f, {"top_risky_seams": list(f.ranking.summary.get("top", []))})


def root_causes(f: Findings) -> Measured:
    return Measured({"root_cause_signals": f.root_causes.summary.get("signals", 0)})


def service_seams(f: Findings) -> Measured:
    return Measured({k: v for k, v in f.services.summary.items() if not k.startswith("trace_")})


def backtest(results: list[Any]) -> Measured:
    """How far to trust the ranking: its scores at earlier revisions (BacktestResults, toolkit.analyze.backtest)
    against the later fixes, beside the churn and change-coupling baselines; shares in % like every other."""
    from toolkit.analyze.backtest import by_revision

    table = by_revision(results)
    scored = table[table["later_fixes"] > 0]
    summary = {"backtest_at": results[0].at if len(results) == 1 else [r.at for r in results],
               "backtest_later_fixes": len({k for r in results for k in r.later_fixes["key"]}),  # distinct bugs
               "backtest_unplaced_fixes": int(table["unplaced"].sum()),
               "backtest_k": int(results[0].scores["k"].iloc[0]),
               "backtest_precision_at_k": _pct_of(_mean(scored["precision_at_k"])),
               "backtest_recall_at_k": _pct_of(_mean(scored["recall_at_k"])),
               "backtest_top20_share": _pct_of(_mean(scored["top20_share"])),
               "backtest_beats_baselines": bool(len(scored)) and bool(scored["beats_baselines"].all())}
    if len(results) > 1:
        summary["backtest_revisions_beating_baselines"] = f"{int(scored['beats_baselines'].sum())} of {len(scored)}"
    return Measured(summary)


#: detection methods and root-cause measures, in report order (the keys are the report's section ids and
#: ``--only``'s choices); the backtest and the executive summary are measured from the others' results
METHODS: dict[str, Callable[[Findings], Measured]] = {
    "seam_ranking": seam_ranking,
    "interaction_coverage": interaction,
    "bug_categorization": bug_categorization,
    "interface_documentation": interface_documentation,
    "cross_component_bugs": cross_component_bugs,
    "environments": environments,
    "service_seams": service_seams,
    "root_causes": root_causes,
    "coupling": coupling,
    "tests": tests,
    "issues": issues,
}


def headline(measured: Mapping[str, Measured], gaps: list[Gap]) -> Measured:
    """The executive summary: the headline numbers (toolkit.vocab.metrics.HEADLINES), each read from the method
    the vocabulary says computes it, None with its reason when it could not be measured (a backtest not asked
    for is left out: not a gap)."""
    reasons: dict[str, str] = {}
    for m in measured.values():
        reasons = {**m.not_measured, **reasons}  # the first method's reason wins
    summary: dict[str, Any] = {}
    for mid in HEADLINES:
        k, own = METRICS[mid].key, measured.get(METRICS[mid].section)
        if k.startswith("backtest_") and "backtest" not in measured:
            continue
        v = own.summary.get(k) if own is not None else None
        if k == "top_risky_seams" and not v:
            v = None
        summary[k] = v
        if v is None and k not in reasons:
            gap = next((g for g in gaps if k in g.metrics), None)
            reasons[k] = gap.text() if gap else NO_SECTION
    return Measured(summary, {k: reasons[k] for k, v in summary.items() if v is None and k in reasons})
