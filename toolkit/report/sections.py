"""Turn an audit's results into report Sections (presentation only: no analysis, no summary number computed).

Each ``*_section(f, audit)`` reads the cached analysis results in ``f`` (toolkit.core.findings) for its tables,
figures and prose, and its summary numbers and their n/a reasons from the Audit (toolkit.core.audit_result,
computed by toolkit.core.metrics_of). :func:`audit_report` assembles one audit's Report in reading order.
"""
from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pandas as pd

from toolkit.core.audit_result import Audit
from toolkit.core.compare import Comparison
from toolkit.core.findings import Findings
from toolkit.core.metrics_of import no_labels_note
from toolkit.vocab.categories import CATEGORIES, import_only_words
from toolkit.report.model import Figure, Report, Section, Table


def _section(audit: Audit, id_: str, **parts: Any) -> Section:
    """Section ``id_`` (its title from SECTIONS) with the summary numbers and their n/a reasons the Audit holds."""
    m = audit.measured[id_]
    return Section(id=id_, title=SECTIONS[id_][0], summary=dict(m.summary), not_measured=dict(m.not_measured), **parts)


def coupling_section(f: Findings, audit: Audit) -> Section:
    from toolkit.analyze.seam_ranking import TOP, top_of
    from toolkit.viz.plots import coupling_graph_png

    ev = f.ev
    seams, struct, logical, g = f.seams, f.structural_coupling, f.logical_coupling, f.graph
    risky = set(top_of(f.ranking.table, TOP)["seam"])  # the seams the ranking puts first (one per pair)
    hm = f.history_mapping
    return _section(
        audit, "coupling",
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


def tests_section(f: Findings, audit: Audit) -> Section:
    ev = f.ev
    from toolkit.analyze.flakiness import failures_by_environment

    by_env = failures_by_environment(ev.test_results)
    flaky = f.flakiness[f.flakiness["is_flaky"]]
    tables = [Table("failures_by_environment", by_env, "Test outcomes per environment"),
              Table("flaky_tests", flaky, "Tests that both passed and failed in the same environment and commit")]
    if ev.test_kinds is not None and not ev.test_kinds.empty:
        tables.append(Table("test_kinds", ev.test_kinds, "Each test's kind, with the reasons"))
    if ev.mocks is not None and not ev.mocks.empty:
        per_target = (ev.mocks.dropna(subset=["target_component"]).groupby("target_component")["test_id"]
                      .nunique().rename("tests_mocking_it").reset_index())
        tables.append(Table("mocked_components", per_target, "How many tests replace each component with a mock"))
    return _section(audit, "tests", tables=tables,
                    paragraphs=["Failures are compared across environments; flaky tests are listed so they are not "
                                "mistaken for integration failures."])


def issues_section(f: Findings, audit: Audit) -> Section:
    ev = f.ev
    issues = ev.issues
    assert issues is not None  # method_section: without issues the section says only why
    from toolkit.load.links import bug_mask
    bugs = issues[bug_mask(issues).to_numpy()]
    links = ev.links
    by_env = bugs["environment"].value_counts().rename_axis("environment").rename("bugs").reset_index()
    tables = [Table("bugs_by_environment", by_env, "Bugs by the environment they were found in")]
    if links is not None and not links.issue_components.empty:
        ic = links.issue_components[links.issue_components["issue_key"].isin(bugs["key"])]
        per_comp = ic.groupby("component")["issue_key"].nunique().rename("bugs").sort_values(ascending=False)
        tables.append(Table("bugs_by_component", per_comp.reset_index(), "Bugs whose fix commits touched each component"))
        tables.append(Table("fix_links", links.links, "Issue ↔ fix-commit links with evidence"))
    if links is not None and len(links.unlinked):
        tables.append(Table("unlinked_bugs", links.unlinked, "Bugs no commit could be linked to, and why"))
    pr_bugs = getattr(links, "pr_bugs", None)
    if pr_bugs is not None and len(pr_bugs):
        tables.append(Table("bug_pull_requests", pr_bugs,
                            "Pull requests labelled as bugs: counted as bugs, or not (the fix of an issue counted)"))
    kinds = ""
    if links is not None and len(links.links):
        by_kind = links.links[links.links["issue_key"].isin(bugs["key"])].groupby("kind")["issue_key"].nunique()
        kinds = " Bugs linked by kind of evidence: " + ", ".join(f"{k} {int(v)}" for k, v in by_kind.items()) + "."
    return _section(
        audit, "issues",
        tables=tables,
        paragraphs=["Bugs are linked to the commits that fixed them: keys in commit messages, merge commits "
                    "(the commits they brought in), squash-merge titles, changelog fragments or lines citing the "
                    "issue, and pull requests that close the issue (explicit 'fixes KEY' > bare reference). "
                    "Unlinked bugs cannot be placed on a seam." + kinds])


def summary_section(audit: Audit, sections: list[Section]) -> Section:
    """The executive summary: the Audit's headline numbers (each "n/a" with its reason), what could not be
    measured and the one change that fixes it, the CI gates' verdict and the seams to test first."""
    m = audit.measured["summary"]
    said = [p for g in audit.gaps for p in (g.text().removesuffix("\n" + g.snippet), g.snippet) if p]
    missing = [f"{s.title}: {s.missing}" for s in sections
               if s.missing and not any(s.missing in g.why for g in audit.gaps)]
    tables = _gates(audit) + _top_seams(audit, len(m.summary.get("top_risky_seams") or []))
    return Section(id="summary", title="Executive summary", summary=dict(m.summary), paragraphs=said + missing,
                   not_measured=dict(m.not_measured), tables=tables)


def _top_seams(audit: Audit, n: int) -> list[Table]:
    """The first ``n`` seams of the ranking as a short table for the first screen: rank, seam, its strongest
    reason and the action; [] when the ranking did not run."""
    if not audit.top_seams or not n:
        return []
    top = audit.top_seams[:n]
    df = pd.DataFrame({"rank": [t.rank for t in top], "seam": [t.seam for t in top],
                       "reason": [t.reason for t in top], "action": [t.action for t in top],
                       "other direction": [t.other_direction for t in top]})
    return [Table("top_seams", df, "The seams to test first, one per pair of components: the strongest reason "
                                   "and the action; 'other direction' is the same pair called the other way, which "
                                   "shares its bugs and co-changes (every seam and factor in 'Seams to test first')")]


#: columns of the executive summary's ``gates`` table (one row per CI gate), drawn as the first screen's verdict
GATE_COLUMNS = ["gate", "metric", "value", "threshold", "margin", "passed", "detail"]


def _gates(audit: Audit) -> list[Table]:
    """The Audit's gate verdict as the executive summary's ``gates`` table (value, floor, margin = value - floor),
    so the first screen and findings.json say what stderr says; [] when no gate was asked for."""
    if not audit.gates:
        return []
    rows = []
    for g in audit.gates:
        number = isinstance(g.value, (int, float)) and not isinstance(g.value, bool)
        margin = round(float(g.value) - g.floor, 6) if number and g.floor is not None else None
        rows.append({"gate": ("--fail-under " if g.metric else "--fail-on ") + g.gate.strip(), "metric": g.metric,
                     "value": g.value if number else (len(g.value) if isinstance(g.value, list) else None),
                     "threshold": g.floor if g.metric else 0, "margin": margin, "passed": g.passed,
                     "detail": g.message})
    return [Table("gates", pd.DataFrame(rows, columns=GATE_COLUMNS),
                  "CI gates: the metric, its floor and by how much it passed or failed")]


def interaction_section(f: Findings, audit: Audit) -> Section:
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
    unresolved = s.get("import_only_unresolved", {})
    if any(seam not in unresolved for seam in s.get("import_only_seams", [])):
        paras.append(f"Seams that are imports only ({import_only_words(0)}): "
                     + ", ".join(seam for seam in s["import_only_seams"] if seam not in unresolved) + ".")
    if unresolved:
        paras.append("Seams with imports but no resolved call: "
                     + "; ".join(f"{seam}: {import_only_words(n)}" for seam, n in sorted(unresolved.items())) + ".")
    why = audit.measured["interaction_coverage"].not_measured.get("interaction_coverage")
    paras += [why.partition("\n")[0]] if why else []
    return _section(
        audit, "interaction_coverage",
        paragraphs=[p for p in paras if p],
        tables=[Table("seams", seams, "Per seam: call sites covered for integration, only in isolation, untested"),
                Table("call_sites", ic.call_sites, "Per call site: status and the tests behind it")])


def environment_section(f: Findings, audit: Audit) -> Section:
    ec = f.environments
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
    return _section(audit, "environments", paragraphs=paras, tables=tables, figures=figures)


def bug_categorization_section(f: Findings, audit: Audit) -> Section:
    bc = f.bugs
    s = bc.summary
    bugs = bc.bugs.copy()
    share = s.get("production_integration_share")
    from toolkit.analyze.bug_categorization import trust_note

    paras = [
        "Each bug is categorized integration, component-specific, environment/configuration or not-a-bug from "
        "weighted evidence: whether its text names something across the project's boundary (a declared "
        "dependency, a standard-library or platform module, the Python runtime, the OS, a tool, a protocol, a "
        "service — derived from the repository), whether its fix stayed inside one component or called into a "
        "dependency, words in its title, body and fix messages, labels, the environment it appeared in. With weak "
        "or conflicting evidence a bug is 'unknown' (the 'undecided' column says what would decide it), never "
        "silently 'component'. Analyst labels (bug-review widget) always win.",
        trust_note(),
    ]
    total_share = s.get("integration_share")
    if total_share is not None and not pd.isna(total_share):
        paras.append(f"{100 * total_share:.0f}% of the {s.get('decided', 0)} decided bugs are integration bugs; "
                     f"{s.get('undecided', 0)} of {s.get('bugs', 0)} bugs are undecided.")
    if share is not None and not pd.isna(share):
        paras.append(f"{100 * share:.0f}% of the decided production bugs are integration bugs "
                     f"({s.get('production_undecided', 0)} of {s.get('production_bugs', 0)} production bugs "
                     "undecided).")
    learning = bc.learning
    paras.append(f"Learning from the analyst: {no_labels_note()}." if learning is None
                 else f"Learning from the analyst: {learning.note}")
    learn_tables = []
    if learning is not None and learning.evaluation is not None:
        learn_tables.append(Table("classifier_vs_rules", learning.evaluation,
                                  "On the analyst's labels: the classifier (cross-validated) beside the rules, per "
                                  "category (precision, recall, F1; the rules' 'unknown' counts as a miss)"))
    figures = []
    if len(bc.by_quarter):
        from toolkit.viz.plots import stacked_bar_png
        q = bc.by_quarter.set_index("quarter")[list(CATEGORIES)]
        figures.append(Figure("bugs_by_quarter", stacked_bar_png(q, title="Bugs per quarter by category",
                                                              xlabel="bugs", palette="bug_category"),
                              "Bugs per quarter by category"))
    return _section(
        audit, "bug_categorization",
        paragraphs=paras,
        tables=[Table("bugs", bugs, "Every bug with its category, confidence, evidence and who decided it "
                                    "(decided_by: label, rules or classifier)"),
                *learn_tables,
                Table("by_pair", bc.by_pair, "Bug categories per component pair"),
                Table("by_quarter", bc.by_quarter, "Bug categories over time")],
        figures=figures)


def interface_section(f: Findings, audit: Audit) -> Section:
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
    return _section(
        audit, "interface_documentation",
        paragraphs=paras,
        tables=[Table("seams", idoc.seams, "Documentation score per seam"),
                Table("interfaces", idoc.interfaces, "Each cross-component interface and its checks"),
                Table("drift", idoc.drift, "Interface drift events")])


def cross_bugs_section(f: Findings, audit: Audit) -> Section:
    cb = f.cross_bugs
    s = cb.summary
    figures = []
    if cb.matrix.shape[0]:
        from toolkit.viz.plots import heatmap_png
        figures.append(Figure("bug_matrix", heatmap_png(cb.matrix, title="Bugs per component pair", value_label="bugs"),
                              "Bugs whose fixes touched both components (diagonal: one component only)"))
    return _section(
        audit, "cross_component_bugs",
        paragraphs=["Bugs whose fixes span components show where the seams break in practice. A pair that "
                    f"breaks again within {s.get('recurrence_months')} months is a seam whose tests did not "
                    "improve after the first failure."],
        tables=[Table("pairs", cb.pairs, "Bugs per component pair"),
                Table("recurrence", cb.recurrence, "Pairs that broke again"),
                Table("resolve_times", cb.resolve_times, "Time to resolve: integration vs component bugs")],
        figures=figures)


def ranking_section(f: Findings, audit: Audit) -> Section:
    """The seams to test first, with every factor's contribution, the reason and the remedy."""
    from toolkit.analyze.seam_ranking import FACTORS
    r = f.ranking
    t = r.table
    weights = ", ".join(f"{k} {v:g}" for k, v in r.weights.items())
    return _section(
        audit, "seam_ranking",
        paragraphs=["Each seam's score is the sum of its factors (each normalised to 0..1) times their weights "
                    f"({weights}; override with [weights] in seamscope.toml). The c_* columns show each factor's "
                    "contribution; the reason names the strongest factors with their numbers."],
        tables=[Table("seam_ranking", t[["rank", "seam", "level", "score", "reason", "recommendation"]
                                        + [f"c_{n}" for n in FACTORS]], "Seams ranked by integration risk"),
                Table("seam_ranking_evidence", t, "Every factor and the evidence behind it")])


def backtest_section(results: list[Any], audit: Audit) -> Section:
    """How much to trust the ranking: it, ranked as of earlier revisions, scored against the fixes that came
    later, beside the churn and change-coupling baselines (BacktestResults, toolkit.analyze.backtest)."""
    from toolkit.analyze.backtest import by_revision
    from toolkit.viz.plots import bar_png

    table = by_revision(results)
    scored = table[table["later_fixes"] > 0]
    beats = audit.measured["backtest"].summary["backtest_beats_baselines"]
    if not len(scored):
        verdict = "cannot be scored: no later integration fix landed on a seam"
    elif len(results) == 1:
        verdict = "beats both baselines" if beats else "does not beat both baselines on this history"
    else:
        verdict = (f"beats both baselines at {int(scored['beats_baselines'].sum())} of {len(scored)} revision(s) "
                   "with later fixes")
    when = results[0].at if len(results) == 1 else f"each of {len(results)} revisions"
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
    return _section(
        audit, "backtest",
        paragraphs=[f"The seams were ranked from what was known at {when}: the code, history, test runs and "
                    "issues up to then (later resolutions hidden, analyst labels dropped). The ranking is scored "
                    "against the integration and cross-component bug fixes that landed afterwards: precision and "
                    "recall at k, and the share of later fixes that fall in the top 20 % of seams. Churn-only and "
                    f"change-coupling-only rankings of the same seams are the baselines. Here the ranking {verdict}.",
                    *notes],
        figures=figures, tables=tables)


def root_causes_section(f: Findings, audit: Audit) -> Section:
    """Why integration testing is inadequate: testing strategy, coupling, mocks, external services, environments."""
    rc = f.root_causes
    return _section(
        audit, "root_causes",
        paragraphs=["Signals per component and seam with the threshold that flags them "
                    "(toolkit.analyze.root_causes.THRESHOLDS, override in [thresholds])."],
        tables=[Table("signals", rc.signals, "Root-cause signals, most severe first"),
                Table("test_pyramid", rc.pyramid, "Unit, integration and e2e tests per component"),
                Table("mock_ratio", rc.mocks, "Tests mocking vs exercising each seam for real"),
                Table("external_services", rc.external, "External services production code talks to")])


def service_section(f: Findings, audit: Audit) -> Section:
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
    paragraphs += [f"Not available: {why}." for why in (ev.missing.get("contracts"), ev.missing.get("traces")) if why]
    return _section(audit, "service_seams", paragraphs=paragraphs, tables=tables)


def compare_section(c: Comparison) -> Section:
    """What got better or worse since a previous audit (toolkit.core.compare): metric deltas, seam changes."""
    s = c.summary
    paragraphs = [f"Compared with the audit of {s['previous_generated'] or 'an unknown date'}: "
                  f"{s['metrics_better']} headline number(s) got better, {s['metrics_worse']} worse."]
    tables = [Table("metric_deltas", c.deltas, "Headline numbers then and now (change: better/worse by the "
                                               "metric's direction)")]
    if c.changes is None:
        paragraphs.append(f"Seam status changes are not shown: {c.no_seams} has no interaction-coverage seams table.")
    else:
        for key, text in (("new_untested_seams", "New untested seams"),
                          ("new_mocks_only_seams", "New seams exercised only through mocks"),
                          ("newly_covered_seams", "Seams now covered by integration tests")):
            if s[key]:
                paragraphs.append(f"{text}: {', '.join(s[key])}.")
        tables.append(Table("seam_changes", c.changes, "Seams whose integration-test status changed, appeared or "
                                                       "disappeared"))
    return Section(id="compare", title="Since the previous audit", summary=dict(s), paragraphs=paragraphs,
                   tables=tables)


#: each method's section title and builder, in report order (keys: toolkit.core.metrics_of.METHODS, and the
#: backtest, whose section is built from its results)
SECTIONS: dict[str, tuple[str, Callable[..., Section]]] = {
    "seam_ranking": ("Seams to test first", ranking_section),
    "backtest": ("Would this ranking have warned you? (backtest)", backtest_section),
    "interaction_coverage": ("1. Integration test coverage of component interactions", interaction_section),
    "bug_categorization": ("2. Production bug categorization", bug_categorization_section),
    "interface_documentation": ("3. Interface documentation review", interface_section),
    "cross_component_bugs": ("4. Cross-component bug analysis", cross_bugs_section),
    "environments": ("5. Deployment environment testing", environment_section),
    "service_seams": ("Service seams: HTTP, messages, contracts and traces", service_section),
    "root_causes": ("Root causes", root_causes_section),
    "coupling": ("Components and their coupling", coupling_section),
    "tests": ("Test results, kinds and mocks", tests_section),
    "issues": ("Issue-tracker history", issues_section),
}
#: a section whose input is missing says only why, under this title when it differs from SECTIONS'
MISSING_TITLES = {"tests": "Test results"}


def method_section(key: str, f: Findings, audit: Audit, backtest: list[Any] | None = None) -> Section:
    """Method ``key``'s section; one whose input is missing holds only the reason (the Audit's)."""
    title, build = SECTIONS[key]
    if why := audit.measured[key].missing:
        return Section(id=key, title=MISSING_TITLES.get(key, title), missing=why)
    return build(backtest if key == "backtest" else f, audit)


def audit_report(run: Any) -> Report:
    """The Report of one audit (a toolkit.run.audit.AuditRun): the executive summary, each method's section in
    the order the Audit measured them (the backtest after the ranking), then the comparison."""
    audit, f = run.audit, run.findings
    config = f.ev.config
    sections = [method_section(key, f, audit, run.backtest) for key in audit.measured if key != "summary"]
    sections.insert(0, summary_section(audit, sections))
    if run.comparison is not None:
        sections.append(compare_section(run.comparison))
    return Report(title=f"Integration-testing audit — {config.name or Path(config.repo).name}", sections=sections,
                  provenance=audit.provenance, generated=audit.generated, audit=audit)
