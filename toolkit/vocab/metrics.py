"""THE vocabulary of audit metrics: one id, label, unit, direction and meaning per number a reader sees.

Every headline number of an audit is named here once, and everything that shows or reads one uses this
entry: the report's tiles and sections, findings.json (``metrics``, keyed by id), ``--fail-under`` gates,
``--compare``, the audit-many index and the notebooks. Renaming a report label therefore cannot break a CI gate.

A metric's ``id`` is kebab-case (``interaction-coverage``: what a gate names); ``key`` is the same name in
snake_case, the key of the section summary that computes it (``interaction_coverage``). ``section`` is the id of
the one report section that computes and explains it: the metric's value is read from that section only (never
"the first section that happens to have a key of that name").

Units: ``%`` (0..100, never a 0..1 fraction), ``count``, ``ratio`` (0..1), ``score`` (0..1), ``p`` (a p-value),
``days``, ``bool``, ``list`` (seam names), ``text``. ``direction``: +1 higher is better, -1 lower is better,
0 neither (a size, a count of inputs).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEADLINES", "INDEX_HEADLINES", "METRICS", "Metric", "UNITS", "by_key", "metric", "metric_id"]

UNITS: tuple[str, ...] = ("%", "count", "ratio", "score", "p", "days", "bool", "list", "text")


@dataclass(frozen=True)
class Metric:
    """One audit metric (module docstring)."""

    id: str
    label: str
    unit: str
    direction: int
    meaning: str
    section: str

    @property
    def key(self) -> str:
        """The metric's name in a section summary (snake_case of :attr:`id`)."""
        return self.id.replace("-", "_")


def _m(id_: str, label: str, unit: str, direction: int, section: str, meaning: str) -> Metric:
    assert unit in UNITS, unit
    return Metric(id_, label, unit, direction, meaning, section)


_ALL = (
    # ---- seam ranking and how far to trust it
    _m("top-risky-seams", "riskiest seams", "list", 0, "seam_ranking",
       "the three seams the ranking says to integration-test first"),
    _m("backtest-beats-baselines", "ranking beats baselines", "bool", +1, "backtest",
       "ranked as of an earlier revision, the ranking put more later fixes on top than churn or coupling alone"),
    _m("backtest-top20-share", "later fixes in the top 20 % of seams", "%", +1, "backtest",
       "share of the integration fixes after the backtest revision that landed on the top 20 % of seams"),
    _m("backtest-precision-at-k", "backtest precision at k", "%", +1, "backtest",
       "share of the top k seams (as of the revision) that a later integration fix landed on"),
    _m("backtest-recall-at-k", "backtest recall at k", "%", +1, "backtest",
       "share of the later integration fixes that landed on the top k seams"),
    _m("backtest-later-fixes", "later fixes", "count", 0, "backtest",
       "distinct integration or cross-component bugs fixed after the backtest revision"),
    _m("backtest-unplaced-fixes", "unplaced later fixes", "count", -1, "backtest",
       "later fixes that could not be placed on a seam"),
    _m("backtest-k", "backtest k", "count", 0, "backtest", "how many top seams precision and recall look at"),
    _m("backtest-at", "backtest revision", "text", 0, "backtest", "the revision(s) the ranking was backtested at"),
    _m("backtest-revisions-beating-baselines", "revisions beating the baselines", "text", 0, "backtest",
       "at how many of the backtested revisions (with later fixes) the ranking beat both baselines"),
    # ---- integration coverage of seams
    _m("interaction-coverage", "interaction coverage", "%", +1, "interaction_coverage",
       "share of seams with a runnable call that some test exercises with both sides real (per-test coverage)"),
    _m("interaction-coverage-estimated", "interaction coverage (estimated)", "%", +1, "interaction_coverage",
       "the same share estimated from what each test imports and mocks (no per-test coverage given)"),
    _m("call-site-coverage", "call-site coverage", "%", +1, "interaction_coverage",
       "share of cross-component call sites some test executes without mocking the callee"),
    _m("seams-only-mocked", "seams only mocked", "count", -1, "interaction_coverage",
       "seams that tests exercise only with the callee replaced by a mock"),
    _m("untested-seams", "untested seams", "count", -1, "interaction_coverage",
       "seams with a runnable call that no test executes"),
    _m("import-only-seams", "import-only seams", "count", 0, "interaction_coverage",
       "seams that are imports only: no call across them can run, nothing to integration-test"),
    _m("coverage-basis", "coverage basis", "text", 0, "interaction_coverage",
       "'coverage' (measured per test) or 'static' (estimated from the test sources)"),
    # ---- bugs
    _m("integration-bug-share-pct", "integration bug share", "%", -1, "bug_categorization",
       "share of the decided bugs that are integration bugs"),
    _m("production-integration-bug-share-pct", "production integration bug share", "%", -1, "bug_categorization",
       "share of the decided production bugs that are integration bugs"),
    _m("undecided-bugs", "undecided bugs", "count", -1, "bug_categorization",
       "bugs whose evidence is too weak or conflicting to categorize"),
    _m("analyst-labelled-bugs", "analyst-labelled bugs", "count", 0, "bug_categorization",
       "bugs an analyst labelled (labels always win)"),
    _m("classifier-macro-f1", "classifier macro-F1", "score", +1, "bug_categorization",
       "the classifier's cross-validated macro-F1 on the analyst labels"),
    _m("rules-macro-f1-on-labels", "rules macro-F1 on labels", "score", +1, "bug_categorization",
       "the categorization rules' macro-F1 on the same analyst labels"),
    _m("classifier-chosen", "classifier chosen", "bool", 0, "bug_categorization",
       "the classifier decides the bugs the rules leave unknown (it beat the rules on the labels)"),
    _m("labels-needed-for-classifier", "labels needed for the classifier", "count", 0, "bug_categorization",
       "analyst labels needed before the classifier is trained"),
    _m("bugs-decided-by-classifier", "bugs decided by the classifier", "count", 0, "bug_categorization",
       "bugs the rules left unknown that the classifier decided"),
    _m("bugs-crossing-components-pct", "bugs crossing components", "%", -1, "cross_component_bugs",
       "share of linked bugs whose fix touched more than one component"),
    _m("recurring-bug-pairs", "recurring bug pairs", "count", -1, "cross_component_bugs",
       "component pairs that broke again within the recurrence window"),
    # ---- interfaces
    _m("interfaces", "cross-component interfaces", "count", 0, "interface_documentation",
       "interfaces used across components"),
    _m("interfaces-documented-pct", "interfaces documented", "%", +1, "interface_documentation",
       "share of cross-component interfaces fully documented"),
    _m("interface-doc-score", "interface documentation score", "score", +1, "interface_documentation",
       "mean documentation score (0..1) of the cross-component interfaces"),
    _m("interface-drift-events", "interface drift events", "count", -1, "interface_documentation",
       "signature changes without their docstring or cross-component callers changing with them"),
    # ---- environments and tests
    _m("env-only-failures", "env-only failures", "count", -1, "environments",
       "tests passing in the lower environment and failing in the higher one (flaky tests excluded)"),
    _m("production-escapes", "production escapes", "count", -1, "environments",
       "bugs first found in production"),
    _m("escape-share-pct", "escape share", "%", -1, "environments",
       "share of bugs first found in production"),
    _m("env-difference-p-value", "environment difference p", "p", 0, "environments",
       "Fisher exact test p-value of the failure-rate difference between the environments"),
    _m("test-runs", "test runs", "count", 0, "tests", "JUnit runs read"),
    _m("environments", "environments", "list", 0, "tests", "the environments the test results come from"),
    _m("tests", "tests", "count", 0, "tests", "distinct tests in the test results"),
    _m("flaky-tests", "flaky tests", "count", -1, "tests",
       "tests that both passed and failed in the same environment and commit"),
    _m("unit-tests", "unit tests", "count", 0, "tests", "tests classified unit"),
    _m("integration-tests", "integration tests", "count", +1, "tests", "tests classified integration"),
    _m("e2e-tests", "end-to-end tests", "count", +1, "tests", "tests classified end-to-end"),
    # ---- services
    _m("service-seams", "service seams", "count", 0, "service_seams", "HTTP or message seams between services"),
    _m("static-service-seams", "service seams in code", "count", 0, "service_seams",
       "service seams found statically in the code"),
    _m("static-http-calls", "HTTP calls in code", "count", 0, "service_seams", "outgoing HTTP call sites"),
    _m("unresolved-http-calls", "unresolved HTTP calls", "count", -1, "service_seams",
       "HTTP call sites whose callee service is unknown"),
    _m("endpoints-in-code", "endpoints in code", "count", 0, "service_seams", "routes the services declare"),
    _m("message-topics", "message topics", "count", 0, "service_seams", "message topics published or consumed"),
    _m("pct-static-service-seams-exercised", "service seams exercised", "%", +1, "service_seams",
       "share of static service seams a test-environment trace crossed"),
    _m("pct-production-service-seams-exercised", "production service seams exercised", "%", +1, "service_seams",
       "share of service seams seen in production that a test-environment trace crossed"),
    _m("static-service-interactions", "service interactions in code", "count", 0, "service_seams",
       "endpoints and topics called from the code"),
    _m("pct-static-service-interactions-exercised", "service interactions exercised", "%", +1, "service_seams",
       "share of static service interactions a test-environment trace crossed"),
    _m("pct-production-service-interactions-exercised", "production service interactions exercised", "%", +1,
       "service_seams", "share of production service interactions a test-environment trace crossed"),
    _m("production-only-seams", "production-only service seams", "list", -1, "service_seams",
       "service seams traced in production that no test crossed"),
    _m("untested-static-service-seams", "untested service seams", "list", -1, "service_seams",
       "service seams in the code that no test-environment trace crossed"),
    _m("contract-findings", "contract findings", "count", -1, "service_seams",
       "places where code, OpenAPI specs and Pact files disagree"),
    _m("contract-drift", "contract drift", "count", -1, "service_seams", "contract findings that are drift"),
    _m("traced", "traces read", "bool", 0, "service_seams", "trace spans were given"),
    # ---- root causes, coupling, issues
    _m("root-cause-signals", "root-cause signals", "count", -1, "root_causes",
       "signals over their threshold per component and seam"),
    _m("components", "components", "count", 0, "coupling", "components the audit found or was given"),
    _m("seams", "seams", "count", 0, "coupling", "directed component pairs with an import or call across them"),
    _m("cross-component-call-sites", "cross-component call sites", "count", 0, "coupling",
       "calls in production code from one component into another"),
    _m("unresolved-calls", "unresolved calls", "count", 0, "coupling",
       "calls in production code the static scan could not resolve"),
    _m("logically-coupled-pairs", "change-coupled pairs", "count", 0, "coupling",
       "component pairs that often change in the same commit"),
    _m("history-mapped-pct", "history mapped", "%", +1, "coupling",
       "share of changes to non-test Python files that count for a component today"),
    _m("commits-mapped-pct", "commits mapped", "%", +1, "coupling",
       "share of commits touching code that count for a component today"),
    _m("issues", "issues", "count", 0, "issues", "issues read from the tracker exports"),
    _m("bugs", "bugs", "count", -1, "issues", "issues that are bugs"),
    _m("bugs-linked-to-fixes", "bugs linked to fixes", "count", 0, "issues", "bugs linked to their fix commits"),
    _m("link-rate-pct", "link rate", "%", +1, "issues", "share of bugs linked to their fix commits"),
    _m("bug-pull-requests-counted", "bug pull requests counted", "count", 0, "issues",
       "pull requests labelled as bugs and counted as bugs"),
    _m("bug-pull-requests-not-counted", "bug pull requests not counted", "count", 0, "issues",
       "pull requests labelled as bugs whose issue's fix was counted instead"),
)

#: every metric by id, in reading order
METRICS: dict[str, Metric] = {m.id: m for m in _ALL}

#: the executive summary's headline metrics, in reading order; every other number stays in its section
HEADLINES: tuple[str, ...] = (
    "top-risky-seams", "backtest-beats-baselines", "backtest-top20-share",  # the list, and how far to trust it
    "interaction-coverage", "interaction-coverage-estimated", "call-site-coverage", "seams-only-mocked",
    "untested-seams",
    "integration-bug-share-pct", "undecided-bugs", "production-integration-bug-share-pct",  # decided bugs, and the rest
    "production-escapes", "env-only-failures",
    "bugs-crossing-components-pct", "interfaces-documented-pct", "interface-drift-events", "flaky-tests",
    "coverage-basis",
)
#: the metrics the audit-many index shows per repository
INDEX_HEADLINES: tuple[str, ...] = (
    "interaction-coverage", "interaction-coverage-estimated", "call-site-coverage", "untested-seams",
    "seams-only-mocked", "seams", "components", "integration-bug-share-pct", "production-escapes", "flaky-tests",
)


def metric_id(name: str) -> str:
    """``name`` (an id, a summary key, any mix of ``-`` and ``_``) as a metric id."""
    return str(name).strip().replace("_", "-")


def metric(name: str) -> Metric | None:
    """The metric named ``name`` (id or summary key), or None when it is not in the vocabulary."""
    return METRICS.get(metric_id(name))


def by_key() -> dict[str, Metric]:
    """Every metric by its summary key."""
    return {m.key: m for m in METRICS.values()}
