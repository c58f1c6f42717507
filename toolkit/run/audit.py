"""The audit: load evidence once, run every detection method, return the results as data.

``run_audit`` is what ``seamscope audit``, ``make demo`` and the synthesis notebook call. It returns an
:class:`AuditRun`: the Audit (every method's numbers, toolkit.core.metrics_of; a method whose inputs are missing
says why), the Findings it came from, the backtest and the comparison. The front doors render it
(toolkit.report.sections.audit_report) and write it.
"""
from __future__ import annotations

import datetime as dt
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit import __version__

from toolkit.runtime import progress
from toolkit.config import AuditConfig, describe_source
from toolkit.errors import GateFailed, InputError
from toolkit.core.evidence import Evidence, load_evidence
from toolkit.runtime.gcpause import collection_paused
from toolkit.core.audit_result import NUMERIC_UNITS, Audit, GateResult, evaluate_gates
from toolkit.core.compare import Comparison, compare as compare_with, read_findings
from toolkit.core.findings import Findings
from toolkit.core.metrics_of import METHODS, Measured, backtest as backtest_measured
from toolkit.vocab.metrics import METRICS, metric as metric_named

__all__ = ["AuditRun", "METHODS", "parse_gates", "provenance", "raise_failed_gates", "run_audit"]


@dataclass
class AuditRun:
    """One audit's results as data: the ``audit`` (numbers, gates, provenance), the ``findings`` they were
    computed from (and its evidence, ``ev``), the ``backtest`` results (None when not asked for or impossible:
    the Audit says why) and the ``comparison`` with a previous audit (``--compare``), or None."""

    audit: Audit
    findings: Findings
    backtest: list[Any] | None = None
    comparison: Comparison | None = None

    @property
    def ev(self) -> Evidence:
        return self.findings.ev


def provenance(ev: Evidence) -> dict[str, Any]:
    """What was read, skipped and why, versions, commit range — for the report's methods section."""
    c = ev.config
    commits = ev.history.commits
    return {
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
              fail_under: list[str] | None = None, fail_on: list[str] | None = None) -> AuditRun:
    """Audit ``config``'s inputs; return the results as data (:class:`AuditRun`, not yet rendered).

    ``only``: keys of :data:`METHODS` to run (default all). ``compare``: a previous findings.json (the Audit's
    ``since_previous``). ``backtest_at``: a revision or a list of them, backtested beside the analyses
    (toolkit.run.backtest). ``fail_under``/``fail_on``: CI gates (:func:`parse_gates`), evaluated into
    ``audit.gates``. ``verbose`` is accepted for the callers' convenience; stage and analysis timings are always
    kept in ``Evidence.timings``. The garbage collector is paused meanwhile (toolkit.runtime.gcpause).
    """
    fail_under, fail_on = fail_under or [], fail_on or []
    with collection_paused():
        parse_gates(fail_under, fail_on, compare=compare is not None)
        unknown = sorted(set(only or []) - set(METHODS))
        if unknown:
            raise InputError(None, f"unknown method(s) {unknown}", flag="--only", hint=f"choose from {sorted(METHODS)}")
        previous = read_findings(Path(compare)) if compare is not None else None  # fail before the long work
        revisions = None if backtest_at is None else \
            [backtest_at] if isinstance(backtest_at, str) else list(backtest_at)
        if revisions:
            _check_revisions(config, revisions)
        bar = StageProgress("loading evidence")
        try:
            ev = load_evidence(config, on_stage=bar)
        finally:
            bar.close()
        f = Findings(ev)
        measured: dict[str, Measured] = {}
        prepared = None
        if revisions:  # the backtests run beside the analyses, on another core (toolkit.runtime.alongside)
            from toolkit.run.backtest import prepare
            prepared = prepare(f, revisions, backtest_k)
        results = None
        try:
            for key in progress.progress([k for k in METHODS if not only or k in only], desc="analyses", unit="method"):
                t0 = time.perf_counter()
                measured[key] = METHODS[key](f)
                ev.timings[f"analysis: {key}"] = time.perf_counter() - t0
            if revisions is not None:
                results, measured = _with_backtest(config, f, measured, revisions, backtest_k, prepared)
        finally:
            if prepared is not None:
                prepared.cancel()
        audit = Audit.of(f, measured, provenance=provenance(ev),
                         generated=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        comparison = None
        if previous is not None:
            t0 = time.perf_counter()
            comparison = compare_with(audit, f.interaction.seams if "interaction_coverage" in measured else None,
                                      previous)
            audit.since_previous = dict(comparison.summary)
            ev.timings["compare"] = time.perf_counter() - t0
            audit.provenance["compared with"] = str(compare)
        if fail_under or fail_on:
            audit.gates = gate_results(audit, fail_under=fail_under, fail_on=fail_on)
        return AuditRun(audit, f, results, comparison)


def _with_backtest(config: AuditConfig, f: Findings, measured: dict[str, Measured], revisions: list[str], k: int,
                   prepared) -> tuple[list[Any] | None, dict[str, Measured]]:
    """The backtests' results (None when there are no later bug fixes to score against) and ``measured`` with
    the backtest's numbers after the ranking's. Timing ``backtest``: what the audit waited for them;
    ``backtest, beside the analyses``: what the prepared backtests took on another core."""
    from toolkit.run.backtest import backtest_many

    ev = f.ev
    t0 = time.perf_counter()
    results = None
    if ev.issues is None:  # the later bug fixes are what the ranking is scored against
        numbers = Measured({}, missing="no issue-tracker export given (--issues): the backtest scores the ranking "
                           "against the bug fixes that came after the revision")
    else:
        results = backtest_many(config, revisions, findings=f, k=k, prepared=prepared)
        numbers = backtest_measured(results)
    items = list(measured.items())
    after = next((i + 1 for i, (key, _) in enumerate(items) if key == "seam_ranking"), len(items))
    ev.timings["backtest"] = time.perf_counter() - t0
    if prepared is not None and prepared.seconds is not None:
        ev.timings["backtest, beside the analyses"] = prepared.seconds
    return results, dict([*items[:after], ("backtest", numbers), *items[after:]])


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
    example: dict[str, Any] = {"flag": "--fail-under", "hint": "e.g. --fail-under interaction-coverage=60"}
    for spec in fail_under:
        metric, eq, value = spec.partition("=")
        if not eq or not metric.strip():
            raise InputError(None, f"gate {spec!r} is not METRIC=NUMBER", **example)
        try:
            floor = float(value)
        except ValueError as exc:
            raise InputError(None, f"gate {spec!r} needs a number after '='", **example) from exc
        if not math.isfinite(floor):  # a NaN floor never fails, an infinite one always: neither gates anything
            raise InputError(None, f"gate {spec!r}: {value.strip()} is not a finite number", **example)
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
