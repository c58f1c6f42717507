"""``report-summary.md``: the audit in at most :data:`MAX_CHARS` characters, to paste as a pull-request comment.

In this order: what was audited and when, the CI gates' verdict, what changed since the previous audit, the top
seams (seam, one reason, one action), the headline numbers (or "n/a" and why), and where the full report is;
fewer rows are shown until it fits. Untrusted text goes through :func:`toolkit.report.markdown.md_escape`; no
images, links only to the report's own files (relative, or under ``report_url``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from toolkit.analyze.seam_ranking import other_direction, top_of
from toolkit.core.audit_result import GateResult
from toolkit.report.findings_json import display
from toolkit.report.format import format_value, format_when, metric_label, metric_unit
from toolkit.report.markdown import md_escape
from toolkit.report.model import Report
from toolkit.vocab.metrics import metric

__all__ = ["MAX_CHARS", "render_summary"]

MAX_CHARS = 10_000

_SKIP = ("top_risky_seams", "coverage_basis")


def _t(text: Any) -> str:
    return md_escape(text, line_start=False)


def _more(items: Sequence[str], limit: int) -> str:
    shown = ", ".join(_t(x) for x in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _header(report: Report) -> list[str]:
    prov = report.provenance or {}
    what = [f"revision `{str(prov['revision'])[:12]}`"] if prov.get("revision") else []
    if prov.get("commit range"):
        what.append(_t(prov["commit range"]))
    when = report.generated or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    what.append(f"audited {_t(format_when(when))}")
    return [f"## {_t(report.title)}", "", " · ".join(what), ""]


def _verdict(gates: Sequence[GateResult] | None) -> list[str]:
    if not gates:
        return ["**Verdict:** no CI gate set (`--fail-under METRIC=VALUE`, `--fail-on new-untested-seam`).", ""]
    failed = [g for g in gates if not g.passed]
    head = (f"**Verdict: ❌ {len(failed)} of {len(gates)} gate(s) failed**" if failed
            else f"**Verdict: ✅ all {len(gates)} gate(s) passed**")
    lines = [head, ""]
    for g in sorted(gates, key=lambda g: g.passed)[:10]:
        lines.append(f"- {'✅' if g.passed else '❌'} `{_clip(g.gate, 80).replace('`', '')}`: {_t(_clip(g.message, 300))}")
    if len(gates) > 10:
        lines.append(f"- and {len(gates) - 10} more")
    return lines + [""]


def _deltas(report: Report, limit: int) -> list[str]:
    sec = report.section("compare")
    if sec is None:
        return []
    s = sec.summary
    out = ["### Since the previous audit", "",
           f"Compared with the audit of {_t(s.get('previous_generated') or 'an unknown date')}: "
           f"{s.get('metrics_better', 0)} number(s) better, {s.get('metrics_worse', 0)} worse.", ""]
    for key, text in (("new_untested_seams", "New untested seams"),
                      ("new_mocks_only_seams", "New seams tested only through mocks"),
                      ("newly_covered_seams", "Seams now covered by integration tests"),
                      ("removed_seams", "Seams gone")):
        if s.get(key):
            out.append(f"- {text}: {_more(list(s[key]), limit)}")
    if s.get("new_untested_seams") is None:
        out.append("- Seam status changes: not comparable (one of the audits has no interaction-coverage table)")
    deltas = sec.table("metric_deltas")
    if deltas is not None and len(deltas):
        moved = deltas[deltas["change"].isin(["worse", "better", "changed"])]
        moved = moved.assign(_o=moved["change"].map({"worse": 0, "better": 1, "changed": 2})).sort_values("_o")
        if len(moved):
            out += ["", "| metric | previous | now | change |", "|---|---:|---:|---|"]
            for r in moved.head(limit).itertuples():
                out.append(f"| {_t(str(r.metric).replace('_', ' '))} | {display(r.previous)} | {display(r.now)} | "
                           f"{'🔻 ' if r.change == 'worse' else '🔺 ' if r.change == 'better' else ''}{r.change} "
                           f"({'+' if r.delta > 0 else ''}{display(r.delta)}) |")
            if len(moved) > limit:
                out.append(f"\nand {len(moved) - limit} more changed number(s) in the full report")
    return out + [""]


def _action(rec: str, calls: int) -> str:
    """The recommendation, its list of call sites cut to ``calls`` (``a.py:1, b.py:2 and 3 more``)."""
    head, sep, tail = str(rec).partition(": ")
    if not sep or "," not in tail:
        return _t(_clip(rec, 220))
    sites = [x.strip() for x in tail.split(",") if x.strip()]
    return _t(head) + ": " + _more(sites, calls)


def _top_seams(report: Report, limit: int) -> list[str]:
    ranking = report.table("seam_ranking", "seam_ranking")
    out = ["### Seams to test first", ""]
    if ranking is None or not len(ranking):
        why = getattr(report.section("seam_ranking"), "missing", None) or \
            "no seams were ranked (fewer than two components, or no interaction between them)"
        return out + [f"None ranked: {_t(_clip(why, 300))}", ""]
    out += ["| # | seam | why | what to do |", "|---:|---|---|---|"]
    top = top_of(ranking, limit)
    for r in top.itertuples():  # one row per pair: its other direction is named, not repeated
        reason = str(getattr(r, "reason", "") or "").split(";")[0].strip()
        level = getattr(r, "level", "component")
        seam = _t(_clip(r.seam, 80)) + (f" ({_t(level)})" if isinstance(level, str) and level != "component" else "")
        if other := other_direction(r.seam, r.reverse_rank):
            seam += f" (also {_t(other)})"
        out.append(f"| {display(r.rank)} | {seam} | {_t(_clip(reason, 160))} | "
                   f"{_action(getattr(r, 'recommendation', '') or '', 3)} |")
    if len(ranking) > len(top):
        out += ["", f"and {len(ranking) - len(top):,} more seams ranked in the full report"]
    return out + [""]


def _headlines(report: Report) -> list[str]:
    sec = report.section("summary")
    if sec is None:
        return []
    out = ["### Headline numbers", "", "| number | value | what it counts |", "|---|---:|---|"]
    for k, v in sec.summary.items():
        if k in _SKIP or (v is None and k == "interaction_coverage_estimated" and
                          sec.summary.get("interaction_coverage") is not None):
            continue
        known = metric(k)
        name = _t(metric_label(k))
        if v is None:
            why = (sec.not_measured.get(k) or "not measured").removeprefix("Not measured: ").splitlines()[0]
            out.append(f"| {name} | n/a | {_t(_clip(why, 160))} |")
        else:
            shown = format_value(v, metric_unit(k)) if isinstance(v, (int, float)) else display(v)
            out.append(f"| {name} | {_t(shown)} | {_t(known.meaning if known else '')} |")
    basis = sec.summary.get("coverage_basis")
    if basis == "static":
        out += ["", "Interaction coverage is a static estimate: record coverage with `--cov-context=test` for a "
                    "measured answer."]
    return out + [""]


def _links(report_url: str | None, files: Sequence[str]) -> list[str]:
    base = report_url.rstrip("/") + "/" if report_url else ""
    where = "" if report_url else " (in the audit's output folder; in CI, its uploaded artifact)"
    return ["Full report: " + " · ".join(f"[{f}]({base}{f})" for f in files) + where, ""]


def render_summary(report: Report, *, gates: Sequence[GateResult] | None = None, report_url: str | None = None,
                   files: Sequence[str] = ("report.html", "report.md", "findings.json", "report.sarif"),
                   max_chars: int = MAX_CHARS) -> str:
    """``report`` as ``report-summary.md`` (module docstring). ``gates``: the CI gates checked, None when none was
    given. ``report_url``: where the report's files will be published, so links work from a comment."""
    text = ""
    for seams, rows in ((5, 10), (5, 5), (3, 3), (1, 1)):
        parts = [*_header(report), *_verdict(gates), *_deltas(report, rows), *_top_seams(report, seams),
                 *_headlines(report), *_links(report_url, files)]
        text = "\n".join(parts).rstrip() + "\n"
        if len(text) <= max_chars:
            return text
    tail = "\n\n… cut to fit a comment; the full report has the rest.\n"
    return text[: max_chars - len(tail)].rsplit("\n", 1)[0] + tail
