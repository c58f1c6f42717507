"""The audit: load evidence once, run every detection method, assemble one Report.

``run_audit`` is what ``seamscope audit``, ``make demo`` and the synthesis
notebook call. Each method contributes a ``Section`` (toolkit.report.sections);
a method whose inputs are missing contributes a section that says why.
"""
from __future__ import annotations

import datetime as dt
import math
import platform
import time
from pathlib import Path
from typing import Any

from toolkit import __version__

from toolkit.runtime import progress
from toolkit.config import AuditConfig, describe_source
from toolkit.errors import GateFailed, InputError
from toolkit.core.evidence import Evidence, load_evidence
from toolkit.runtime.gcpause import collection_paused
from toolkit.core.audit_result import NUMERIC_UNITS, Audit, GateResult, evaluate_gates
from toolkit.core.findings import Findings
from toolkit.vocab.metrics import METRICS, metric as metric_named
from toolkit.report import sections as S
from toolkit.report.compare import read_findings
from toolkit.report.model import Report, Section, Table

#: detection methods and root-cause sections, in report order; ``--only`` picks from these keys
METHODS: dict[str, Any] = {
    "seam_ranking": S.ranking_section,
    "interaction_coverage": S.interaction_section,
    "bug_categorization": S.bug_categorization_section,
    "interface_documentation": S.interface_section,
    "cross_component_bugs": S.cross_bugs_section,
    "environments": S.environment_section,
    "service_seams": S.service_section,
    "root_causes": S.root_causes_section,
    "coupling": S.coupling_section,
    "tests": S.tests_section,
    "issues": S.issues_section,
}


def provenance(ev: Evidence) -> dict[str, Any]:
    """What was read, skipped and why, versions, commit range — for the report's methods section."""
    c = ev.config
    commits = ev.history.commits
    prov: dict[str, Any] = {
        "seamscope": __version__,
        "python": platform.python_version(),
        "repository": str(c.repo),
        "configuration": describe_source(c),
        "revision": ev.structure.commit,
        "commit range": (f"{commits['timestamp'].min():%Y-%m-%d} .. {commits['timestamp'].max():%Y-%m-%d}"
                         f" ({len(commits)} commits)") if len(commits) else "no commits",
        "inputs": {
            "test results": [str(p) for p in c.tests],
            "coverage": str(c.coverage) if c.coverage else None,
            "issues": [str(p) for p in c.issues],
            "labels": str(c.labels) if c.labels else None,
        },
        "missing": dict(ev.missing),
        "skipped": [str(s) for s in ev.skips],
        "stage timings (s)": {k: round(v, 2) for k, v in ev.timings.items()},
    }
    return prov


class StageProgress:
    """A one-line status over the loading stages (``load_evidence``'s ``on_stage`` hook): stage name, count, time.

    Silent when progress is disabled (``--quiet``, stderr not a TTY): see toolkit.runtime.progress.
    """

    def __init__(self, desc: str = "loading") -> None:
        self.desc, self.bar = desc, None
        if progress.is_enabled():
            from tqdm.auto import tqdm
            self.bar = tqdm(desc=desc, leave=False, bar_format="{desc} [{elapsed}]")

    def __call__(self, stage: str) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_description_str(f"{self.desc}: stage {self.bar.n}, {stage}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_audit(config: AuditConfig, *, only: list[str] | None = None, compare: Path | None = None,
              verbose: bool = False, backtest_at: str | list[str] | None = None, backtest_k: int = 3,
              fail_under: list[str] | None = None, fail_on: list[str] | None = None) -> tuple[Report, Evidence]:
    """Audit ``config``'s inputs; return the report (not yet written) and the evidence it used.

    ``only``: keys of :data:`METHODS` to run (default all). ``compare``: a previous
    findings.json; adds the ``compare`` section (toolkit.report.compare). Stage and
    analysis timings land in ``Evidence.timings`` (``analysis: <method>``).
    ``verbose`` is accepted for the callers' convenience; timings are always kept.
    ``backtest_at``: a revision or a list of them; adds the ``backtest`` section (toolkit.run.backtest)
    after the ranking, computed from this audit's evidence and analyses (timing ``backtest``).
    ``fail_under``/``fail_on``: CI gates (:func:`parse_gates`), evaluated into ``report.audit.gates`` (the
    report shows the verdict); :func:`raise_failed_gates` turns a failed verdict into GateFailed.
    The report's ``audit`` (toolkit.core.audit_result.Audit) holds the metrics by id, top seams, gates and
    provenance: what findings.json serialises and gates, the comparison and the index read.
    Python's cyclic garbage collection is paused meanwhile (:func:`toolkit.runtime.gcpause.collection_paused`).
    """
    with collection_paused():
        return _run_audit(config, only=only, compare=compare, backtest_at=backtest_at, backtest_k=backtest_k,
                          fail_under=fail_under or [], fail_on=fail_on or [])


def _run_audit(config: AuditConfig, *, only: list[str] | None, compare: Path | None,
               backtest_at: str | list[str] | None, backtest_k: int, fail_under: list[str], fail_on: list[str]
               ) -> tuple[Report, Evidence]:
    parse_gates(fail_under, fail_on, compare=compare is not None)
    unknown = sorted(set(only or []) - set(METHODS))
    if unknown:
        raise InputError(None, f"unknown method(s) {unknown}", flag="--only", hint=f"choose from {sorted(METHODS)}")
    previous = read_findings(Path(compare)) if compare is not None else None  # fail before the long work
    revisions = None if backtest_at is None else [backtest_at] if isinstance(backtest_at, str) else list(backtest_at)
    if revisions:
        _check_revisions(config, revisions)
    bar = StageProgress("loading evidence")
    try:
        ev = load_evidence(config, on_stage=bar)
    finally:
        bar.close()
    f = Findings(ev)
    sections: list[Section] = []
    todo = [(k, make) for k, make in METHODS.items() if not only or k in only]
    prepared = None
    if revisions:  # the backtests run beside the analyses, on another core (toolkit.runtime.alongside)
        from toolkit.run.backtest import prepare
        prepared = prepare(f, revisions, backtest_k)
    try:
        for key, make in progress.progress(todo, desc="analyses", unit="method"):
            t0 = time.perf_counter()
            sections.append(make(f))
            ev.timings[f"analysis: {key}"] = time.perf_counter() - t0
        if backtest_at is not None:
            sections = _with_backtest(config, f, sections, revisions, backtest_k, prepared)
    finally:
        if prepared is not None:
            prepared.cancel()
    summary = S.summary_section(f, sections)
    report = Report(title=f"Integration-testing audit — {config.name or Path(config.repo).name}",
                    sections=[summary, *sections], provenance=provenance(ev),
                    generated=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    ranked = any(s.id == "seam_ranking" for s in sections)
    report.audit = Audit.from_sections(report.sections, ranking=f.ranking.table if ranked else None,
                                       provenance=report.provenance, generated=report.generated)
    if previous is not None:
        t0 = time.perf_counter()
        report.sections.append(S.compare_section(report, previous))
        report.audit.since_previous = dict(report.sections[-1].summary)
        ev.timings["compare"] = time.perf_counter() - t0
        report.provenance["compared with"] = str(compare)
    if fail_under or fail_on:
        report.audit.gates = gate_results(report.audit, fail_under=fail_under, fail_on=fail_on)
        _show_gates(report)
    return report, ev


#: columns of the executive summary's ``gates`` table (one row per CI gate), drawn as the first screen's verdict
GATE_COLUMNS = ["gate", "metric", "value", "threshold", "margin", "passed", "detail"]


def _show_gates(report: Report) -> None:
    """The Audit's gate verdict as the executive summary's ``gates`` table (value, floor, margin = value - floor),
    so the first screen and findings.json say what stderr says."""
    import pandas as pd

    summary = next((s for s in report.sections if s.id == "summary"), None)
    if summary is None or report.audit is None:
        return
    rows = []
    for g in report.audit.gates:
        number = isinstance(g.value, (int, float)) and not isinstance(g.value, bool)
        margin = round(float(g.value) - g.floor, 6) if number and g.floor is not None else None
        rows.append({"gate": ("--fail-under " if g.metric else "--fail-on ") + g.gate.strip(), "metric": g.metric,
                     "value": g.value if number else (len(g.value) if isinstance(g.value, list) else None),
                     "threshold": g.floor if g.metric else 0, "margin": margin, "passed": g.passed,
                     "detail": g.message})
    summary.tables = [t for t in summary.tables if t.name != "gates"]
    summary.tables.insert(0, Table("gates", pd.DataFrame(rows, columns=GATE_COLUMNS),
                                   "CI gates: the metric, its floor and by how much it passed or failed"))


def _with_backtest(config: AuditConfig, f: Findings, sections: list[Section], revisions: list[str], k: int,
                   prepared) -> list[Section]:
    """``sections`` with the backtest section after the ranking (timing ``backtest``: what the audit waited
    for it; ``backtest, beside the analyses``: what the prepared backtests took on another core)."""
    from toolkit.run.backtest import backtest_many

    ev = f.ev
    t0 = time.perf_counter()
    if ev.issues is None:  # the later bug fixes are what the ranking is scored against
        section = S.backtest_missing("no issue-tracker export given (--issues): the backtest scores the "
                                     "ranking against the bug fixes that came after the revision")
    else:
        section = S.backtest_section(backtest_many(config, revisions, findings=f, k=k, prepared=prepared))
    after = next((i + 1 for i, s in enumerate(sections) if s.id == "seam_ranking"), len(sections))
    ev.timings["backtest"] = time.perf_counter() - t0
    if prepared is not None and prepared.seconds is not None:
        ev.timings["backtest, beside the analyses"] = prepared.seconds
    return [*sections[:after], section, *sections[after:]]


def _check_revisions(config: AuditConfig, revisions: list[str]) -> None:
    """Every backtest revision names a commit of the repository; else an InputError naming ``--backtest``."""
    from toolkit.load.gitrepo import Repo

    repo = Repo.open(config.repo)
    for rev in revisions:
        try:
            repo.resolve(rev)
        except InputError:
            raise InputError(repo.origin, f"backtest revision {rev!r} does not exist", flag="--backtest",
                             hint="give commit ids, tags or branches of this repository") from None


#: conditions of ``--fail-on`` -> (compare summary key, message)
FAIL_ON = {
    "new-untested-seam": ("new_untested_seams", "new untested seam(s)"),
    "new-mocks-only-seam": ("new_mocks_only_seams", "new seam(s) exercised only through mocks"),
}


def parse_gates(fail_under: list[str], fail_on: list[str], *, compare: bool) -> list[tuple[str, float]]:
    """Check gates before any work: ``METRIC=NUMBER`` floors on numeric metrics of the vocabulary
    (toolkit.vocab.metrics, by id or summary key) and known conditions.

    Returns the floors as ``(metric id, value)``. Raises InputError (exit 2) for
    a malformed floor, a metric that is not a number of the vocabulary, an unknown condition, or a condition
    that needs ``--compare`` without it.
    """
    floors = []
    for spec in fail_under:
        metric, eq, value = spec.partition("=")
        if not eq or not metric.strip():
            raise InputError(None, f"gate {spec!r} is not METRIC=NUMBER", flag="--fail-under",
                             hint="e.g. --fail-under interaction-coverage=60")
        try:
            floor = float(value)
        except ValueError as exc:
            raise InputError(None, f"gate {spec!r} needs a number after '='", flag="--fail-under",
                             hint="e.g. --fail-under interaction-coverage=60") from exc
        if not math.isfinite(floor):  # a NaN floor never fails, an infinite one always: neither gates anything
            raise InputError(None, f"gate {spec!r}: {value.strip()} is not a finite number", flag="--fail-under",
                             hint="e.g. --fail-under interaction-coverage=60")
        m = metric_named(metric)
        if m is None or m.unit not in NUMERIC_UNITS:
            known = ", ".join(k for k, v in METRICS.items() if v.unit in NUMERIC_UNITS)
            raise InputError(None, f"unknown gate metric {metric.strip()!r} ("
                             + ("not a metric of seamscope's vocabulary" if m is None else f"its unit is {m.unit}, "
                                "not a number") + ")", flag="--fail-under", hint=f"known: {known}")
        floors.append((m.id, floor))
    for cond in fail_on:
        if cond.strip() not in FAIL_ON:
            raise InputError(None, f"unknown gate condition {cond!r}", flag="--fail-on",
                             hint=f"known: {', '.join(FAIL_ON)}")
        if not compare:
            raise InputError(None, f"gate {cond!r} compares with a previous audit", flag="--fail-on",
                             hint="add --compare PREVIOUS/findings.json (the previous run's findings.json)")
    return floors


def gate_results(audit: Audit, *, fail_under: list[str], fail_on: list[str]) -> list[GateResult]:
    """Every gate's result on ``audit`` (its metrics by id, and ``since_previous`` for ``--fail-on``)."""
    floors = parse_gates(fail_under, fail_on, compare=audit.since_previous is not None)
    conditions = [(c, *FAIL_ON[c.strip()]) for c in fail_on]
    return evaluate_gates(audit, [(spec, mid, floor) for spec, (mid, floor) in zip(fail_under, floors)],
                          conditions)


def raise_failed_gates(audit: Audit) -> None:
    """GateFailed naming every failed gate of ``audit`` (the CLI exits 1), if any failed."""
    failed = [g.message for g in audit.gates if not g.passed]
    if failed:
        raise GateFailed("; ".join(failed))


def check_gates(report: Report, *, fail_under: list[str], fail_on: list[str]) -> None:
    """Raise GateFailed when a ``metric=value`` floor or a ``--fail-on`` condition is violated.

    Metrics are read by id from the report's Audit (toolkit.core.audit_result; built from its sections when
    the report has none); a metric the audit could not compute (``None``) fails its floor, naming why.
    An unknown metric is an InputError.
    """
    audit = report.audit
    if audit is None:
        audit = Audit.from_sections(report.sections)
        compare = next((s for s in report.sections if s.id == "compare"), None)
        audit.since_previous = None if compare is None else dict(compare.summary)
    raise_failed_gates(Audit(metrics=audit.metrics, not_measured=audit.not_measured,
                             since_previous=audit.since_previous,
                             gates=gate_results(audit, fail_under=fail_under, fail_on=fail_on)))
