"""The Audit: one audit's results as data — what findings.json serialises and what everything downstream reads.

An :class:`Audit` holds ``metrics`` (every metric of :mod:`toolkit.vocab.metrics` the audit computed, by id,
each a value or ``None`` with the reason in ``not_measured``: never a reassuring 0), ``top_seams``
(:class:`TopSeam` records, not prose), ``gates`` (:class:`GateResult`) with their ``verdict``,
``since_previous`` (``--compare``) and ``provenance``. Gates, ``--compare``, the audit-many index and the
notebooks read metrics from here by id; each value comes from the one method that measures it
(``Metric.section``, :mod:`toolkit.core.metrics_of`), so renaming a report label cannot change what a gate reads.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from toolkit.core.metrics_of import NO_SECTION, Gap, Measured
from toolkit.vocab.metrics import METRICS, Metric, metric, metric_id

__all__ = ["Audit", "FIELDS", "GateResult", "NUMERIC_UNITS", "SCHEMA_VERSION", "TOP_SEAMS", "TopSeam",
           "evaluate_gates", "top_seams"]

#: findings.json schema version written with an Audit; 2.0 adds metrics, not_measured, top_seams, gates
SCHEMA_VERSION = "2.0"
#: top-level fields of findings.json per schema version (a test checks every findings.json against its list)
FIELDS: dict[str, tuple[str, ...]] = {
    "1.0": ("schema_version", "generated", "title", "provenance", "sections"),
    "2.0": ("schema_version", "generated", "title", "provenance", "metrics", "not_measured", "top_seams", "gates",
            "since_previous", "sections"),
}
#: how many seams of the ranking the Audit keeps as records
TOP_SEAMS = 5
#: units a ``--fail-under`` floor can compare with
NUMERIC_UNITS = ("%", "count", "ratio", "score", "p", "days")
#: the ranking's columns a TopSeam carries as its numbers
SEAM_NUMBERS = ("call_sites", "imports", "integration_sites", "tests_real", "tests_mocking", "integration_bugs",
                "escapes", "open_bugs", "env_only_failures", "drift_events", "recent_commits", "coupling_degree",
                "doc_score")


@dataclass(frozen=True)
class TopSeam:
    """One of the ranking's first seams: what to test, why (its strongest factor) and what to do."""

    seam: str
    rank: int
    score: float
    level: str
    status: str | None
    reason: str  # the strongest factor, with its numbers
    action: str
    reasons: tuple[str, ...] = ()  # every factor said in the ranking's reason, strongest first
    numbers: Mapping[str, Any] = field(default_factory=dict)
    # the pair's other direction and its rank ("b->a (#2)"), listed no further: it shares the pair-level evidence
    other_direction: str = ""


@dataclass(frozen=True)
class GateResult:
    """One CI gate: ``--fail-under METRIC=FLOOR`` (``metric`` and ``floor`` set) or ``--fail-on CONDITION``."""

    gate: str  # as the user wrote it
    passed: bool
    message: str
    metric: str | None = None
    floor: float | None = None
    value: Any = None


@dataclass
class Audit:
    """One audit's results as data (module docstring)."""

    metrics: dict[str, Any]
    not_measured: dict[str, str] = field(default_factory=dict)
    top_seams: list[TopSeam] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    since_previous: dict[str, Any] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    generated: str | None = None
    #: each method's numbers as the report lists them (key order, reasons), by method key; not serialised
    #: beyond its sections' summaries
    measured: dict[str, Measured] = field(default_factory=dict, repr=False)
    #: what the audit could not measure, why and the fix (the executive summary lists them)
    gaps: list[Gap] = field(default_factory=list, repr=False)

    # ---- reading ------------------------------------------------------------------------------------------
    def value(self, name: str) -> Any:
        """The value of metric ``name`` (id or summary key); None when not measured or not computed here."""
        return self.metrics.get(metric_id(name))

    def has(self, name: str) -> bool:
        """Whether this audit computed (or tried to compute) metric ``name``."""
        return metric_id(name) in self.metrics

    def why_not(self, name: str) -> str:
        """Why metric ``name`` has no value ("" when it has one)."""
        mid = metric_id(name)
        if self.metrics.get(mid) is not None:
            return ""
        return self.not_measured.get(mid, NO_SECTION)

    def by_key(self) -> dict[str, Any]:
        """The metrics by summary key (``interaction_coverage``), for tables whose columns are keys."""
        return {METRICS[m].key: v for m, v in self.metrics.items()}

    @property
    def verdict(self) -> str | None:
        """``"passed"``/``"failed"`` over the gates, None when no gate was asked for."""
        if not self.gates:
            return None
        return "passed" if all(g.passed for g in self.gates) else "failed"

    # ---- building -----------------------------------------------------------------------------------------
    @classmethod
    def of(cls, f: Any, measured: Mapping[str, Measured] | None = None, *, summary: bool = True,
           provenance: Mapping[str, Any] | None = None, generated: str | None = None) -> Audit:
        """The Audit of Findings ``f``: each method's numbers (``measured`` by method key, in report order;
        default every method of :data:`toolkit.core.metrics_of.METHODS`), with the executive summary's
        headlines over them (``summary``), what could not be measured (``gaps``) and the ranking's top seams."""
        from toolkit.core import metrics_of

        if measured is None:
            measured = {k: method(f) for k, method in metrics_of.METHODS.items()}
        gaps = metrics_of.measurement_gaps(f)
        if summary:
            measured = {"summary": metrics_of.headline(measured, gaps), **measured}
        return cls.from_summaries(measured, gaps=gaps, ranking=f.ranking.table if "seam_ranking" in measured else None,
                                  provenance=provenance, generated=generated)

    @classmethod
    def from_summaries(cls, summaries: Mapping[str, tuple[Mapping[str, Any], Mapping[str, str], str | None]], *,
                       gaps: Sequence[Gap] = (), ranking: pd.DataFrame | None = None,
                       provenance: Mapping[str, Any] | None = None, generated: str | None = None) -> Audit:
        """The Audit of ``{method or section id: (summary, not_measured, missing)}`` (:class:`Measured`).

        Each metric is read from its own method (``Metric.section``); a headline metric that method did not
        produce is read from the executive summary (``summary``), which says why it is n/a. Metrics of methods
        that did not run are left out (not asked for is not "not measured").
        """
        metrics: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for m in METRICS.values():
            found = _read(m, summaries.get(m.section))
            if found is None:
                found = _read(m, summaries.get("summary"))
            if found is None:
                continue
            value, why = found
            metrics[m.id] = value
            if value is None:
                reasons[m.id] = why
        top = top_seams(ranking) if ranking is not None else []
        measured = {k: Measured(dict(v[0]), dict(v[1]), v[2]) for k, v in summaries.items()}
        return cls(metrics=metrics, not_measured=reasons, top_seams=top, provenance=dict(provenance or {}),
                   generated=generated, measured=measured, gaps=list(gaps))

    @classmethod
    def from_findings(cls, doc: Mapping[str, Any]) -> Audit:
        """The Audit of a findings.json document: its ``metrics`` (schema 2), else read from its sections
        (schema 1: each metric from its own section, the executive summary for the rest)."""
        if isinstance(doc.get("metrics"), dict):
            metrics = {metric_id(mid): entry.get("value") for mid, entry in doc["metrics"].items()
                       if metric(mid) is not None and isinstance(entry, dict)}
            reasons = {metric_id(mid): why for mid, why in (doc.get("not_measured") or {}).items()
                       if metric_id(mid) in metrics and isinstance(why, str)}
            top = [_top_seam_from(r) for r in doc.get("top_seams") or [] if isinstance(r, dict)]
            return cls(metrics=metrics, not_measured=reasons, top_seams=[t for t in top if t is not None],
                       provenance=dict(doc.get("provenance") or {}), generated=doc.get("generated"))
        summaries = {str(sid): (sec["summary"], sec.get("not_measured") or {}, sec.get("missing"))
                     for sid, sec in (doc.get("sections") or {}).items()
                     if isinstance(sec, dict) and isinstance(sec.get("summary"), dict)}
        return cls.from_summaries(summaries, provenance=doc.get("provenance") or {}, generated=doc.get("generated"))

    # ---- writing ------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The Audit's part of findings.json (the fields of :data:`FIELDS` beyond title and sections)."""
        return {
            "metrics": {mid: {"value": v, "label": METRICS[mid].label, "unit": METRICS[mid].unit,
                              "direction": METRICS[mid].direction, "section": METRICS[mid].section}
                        for mid, v in self.metrics.items()},
            "not_measured": dict(self.not_measured),
            "top_seams": [{**asdict(t), "reasons": list(t.reasons), "numbers": dict(t.numbers)}
                          for t in self.top_seams],
            "gates": {"verdict": self.verdict, "results": [asdict(g) for g in self.gates]},
            "since_previous": self.since_previous,
        }


def _read(m: Metric, entry: tuple[Mapping[str, Any], Mapping[str, str], str | None] | None
          ) -> tuple[Any, str] | None:
    """(value, why it is None) of metric ``m`` in one section's (summary, not_measured, missing), or None when
    that section does not carry it."""
    if entry is None:
        return None
    summary, not_measured, missing = entry
    if m.key in summary:
        v = summary[m.key]
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        if m.id == "top-risky-seams" and not v:  # no seam ranked: not measured
            v = None
        return v, (not_measured.get(m.key) or (f"Not measured: {missing}." if missing else NO_SECTION))
    if missing:
        return None, f"Not measured: {missing}."
    return None


def top_seams(ranking: pd.DataFrame, n: int = TOP_SEAMS) -> list[TopSeam]:
    """The first ``n`` seams a reader sees of a ranking table (schema ``seam_ranking``) as records: one per pair
    (:func:`toolkit.analyze.seam_ranking.top_of`), each naming the pair's other direction."""
    from toolkit.analyze.seam_ranking import other_direction, top_of

    def absent(v: Any) -> bool:
        return v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v))

    out = []
    for r in top_of(ranking, n).to_dict("records"):
        reasons = tuple(p.strip() for p in str(r.get("reason") or "").split(";") if p.strip())
        numbers = {c: None if absent(r[c]) else (float(r[c]) if isinstance(r[c], float) else int(r[c]))
                   for c in SEAM_NUMBERS if c in r}
        status = r.get("status")
        out.append(TopSeam(seam=str(r["seam"]), rank=int(r["rank"]), score=round(float(r["score"]), 4),
                           level=str(r.get("level") or "component"), status=None if absent(status) else str(status),
                           reason=reasons[0] if reasons else "", action=str(r.get("recommendation") or ""),
                           reasons=reasons, numbers=numbers,
                           other_direction=other_direction(str(r["seam"]), r.get("reverse_rank"))))
    return out


def _top_seam_from(r: Mapping[str, Any]) -> TopSeam | None:
    try:
        return TopSeam(seam=str(r["seam"]), rank=int(r["rank"]), score=float(r["score"]),
                       level=str(r.get("level") or "component"), status=r.get("status"),
                       reason=str(r.get("reason") or ""), action=str(r.get("action") or ""),
                       reasons=tuple(str(x) for x in r.get("reasons") or ()), numbers=dict(r.get("numbers") or {}),
                       other_direction=str(r.get("other_direction") or ""))
    except (KeyError, TypeError, ValueError):
        return None


def evaluate_gates(audit: Audit, floors: Sequence[tuple[str, str, float]],
                   conditions: Sequence[tuple[str, str, str]]) -> list[GateResult]:
    """The gates' results on ``audit``.

    ``floors``: ``(as written, metric id, floor)``: passes when the metric's value is at least the floor; a
    metric the audit could not compute fails, naming why. ``conditions``: ``(as written, since_previous key,
    message)``: fails when that list of seams (in ``audit.since_previous``) is non-empty or unknown.
    """
    out = []
    for written, mid, floor in floors:
        name = written.partition("=")[0].strip()
        v = audit.value(mid)
        if v is None:
            why = audit.why_not(mid).removeprefix("Not measured: ").splitlines()[0]
            passed, message = False, f"{name} could not be computed (not measured: {why.rstrip('.')})"
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            passed, message = False, f"{name} is not a number ({v!r})"
        else:
            passed = v >= floor
            message = f"{name} is {v} {'>=' if passed else '<'} {floor:g}"
        out.append(GateResult(written, passed, message, metric=mid, floor=floor, value=v))
    since = audit.since_previous or {}
    for written, key, text in conditions:
        found = since.get(key)
        if found is None:
            out.append(GateResult(written, False, f"{written}: cannot tell (one of the audits has no "
                                                  "interaction-coverage seams table)"))
        else:
            message = f"{text}: {', '.join(map(str, found))}" if found else f"{written}: none"
            out.append(GateResult(written, not found, message, value=list(found)))
    return out
