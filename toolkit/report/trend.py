"""The headline metrics over time, from the findings.json files of earlier audits (``seamscope trend``).

Each findings.json is one point: when it was audited, at which revision, and its headline numbers
(:func:`metric_values`). A metric an audit did not measure (null, absent, or an audit older than the metric) is
a gap in the line and ``n/a`` in the table, never a 0.
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.core.audit_result import Audit
from toolkit.errors import InputError
from toolkit.core.compare import read_findings
from toolkit.vocab.metrics import HEADLINES, METRICS

#: Audits shown as columns of the small table (the chart shows all of them).
TABLE_AUDITS = 8


def metric_values(findings: dict[str, Any]) -> dict[str, float | None]:
    """The vocabulary's numeric headline metrics of one findings.json document (read through the Audit, so schema
    1 and 2 alike): metric id -> number, ``None`` when not measured."""
    values = Audit.from_findings(findings).metrics
    out: dict[str, float | None] = {}
    for mid in HEADLINES:
        value = values.get(mid)
        if METRICS[mid].unit in ("list", "text", "bool") or isinstance(value, bool) \
                or not (value is None or isinstance(value, (int, float))):
            continue
        out[mid] = float(value) if value is not None and math.isfinite(value) else None
    return out


@dataclass(frozen=True)
class Trend:
    """``points``: one row per audit, oldest first: ``audit`` (label), ``generated`` (when it ran, UTC),
    ``revision``, ``path`` (its findings.json), then one float column per metric (NaN: not measured)."""

    points: pd.DataFrame
    metrics: tuple[str, ...]


def findings_files(paths: Iterable[str | Path]) -> list[Path]:
    """The findings.json files named by ``paths``: a file as given; a folder's own ``findings.json``, else the
    ``findings.json`` of each of its subfolders (a folder of dated reports). Raises InputError for a path that
    names none."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = [p / "findings.json"] if (p / "findings.json").is_file() else \
                sorted(q / "findings.json" for q in p.iterdir() if q.is_dir() and (q / "findings.json").is_file())
            if not found:
                raise InputError(p, "holds no findings.json (nor do its subfolders)", flag="PATH",
                                 hint="give report folders written by `seamscope audit`, or their findings.json")
            out += found
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "does not exist", flag="PATH")
    unique: dict[Path, Path] = {}
    for p in out:  # a file named twice (a folder and its findings.json) is one audit
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def _label(generated: pd.Timestamp | None, revision: str | None, n: int) -> str:
    when = f"{generated:%Y-%m-%d}" if generated is not None and not pd.isna(generated) else f"#{n}"
    return f"{when} {revision[:7]}" if revision else when


def read_trend(paths: Iterable[str | Path]) -> Trend:
    """The audits at ``paths`` (:func:`findings_files`), oldest first (as given when ``generated`` is unreadable)."""
    rows = []
    for i, path in enumerate(findings_files(paths)):
        doc = read_findings(path, flag="PATH")
        generated = pd.to_datetime(doc.get("generated"), utc=True, errors="coerce")
        prov = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
        revision = prov.get("revision") if isinstance(prov.get("revision"), str) else None
        rows.append({"generated": None if pd.isna(generated) else generated, "revision": revision, "path": str(path),
                     "_order": i, **{f"m:{k}": v for k, v in metric_values(doc).items()}})
    df = pd.DataFrame(rows)
    df["_t"] = pd.to_datetime(df["generated"], utc=True)
    df = df.sort_values(["_t", "_order"], kind="stable", na_position="last").reset_index(drop=True)
    metrics = tuple(dict.fromkeys(c[2:] for c in df.columns if c.startswith("m:")))
    labels: list[str] = []
    for i, (t, r) in enumerate(zip(df["_t"], df["revision"])):
        label = _label(t, r, i + 1)
        labels.append(label if label not in labels else f"{label} ({i + 1})")  # every audit its own column
    points = pd.DataFrame({
        "audit": labels,
        "generated": df["_t"], "revision": df["revision"], "path": df["path"],
        **{m: pd.to_numeric(df[f"m:{m}"], errors="coerce").astype(float) for m in metrics}})
    return Trend(points=points, metrics=metrics)


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _change(values: Sequence[float]) -> str:
    known = [v for v in values if not math.isnan(v)]
    if len(known) < 2:
        return "n/a"
    d = known[-1] - known[0]
    return ("+" if d > 0 else "") + _fmt(d)


def table(trend: Trend) -> pd.DataFrame:
    """One row per metric, one column per audit (the last :data:`TABLE_AUDITS`), and the change from the first to
    the last audit that measured it; cells are text, ``n/a`` where an audit did not measure the metric."""
    p = trend.points
    shown = p.tail(TABLE_AUDITS)
    rows = [{"metric": m, **{a: _fmt(v) for a, v in zip(shown["audit"], shown[m])},
             "change (first to last measured)": _change(list(p[m]))} for m in trend.metrics]
    return pd.DataFrame(rows, columns=["metric", *shown["audit"], "change (first to last measured)"])


def trend_png(trend: Trend) -> bytes:
    from toolkit.viz.plots import small_multiples_png

    p = trend.points
    return small_multiples_png(p[list(trend.metrics)], title=f"Headline metrics over {len(p)} audits",
                               labels=list(p["audit"]))


def _md_cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(trend: Trend, png_name: str = "trend.png") -> str:
    t = table(trend)
    p = trend.points
    lines = [f"# Headline metrics over {len(p)} audits", "", f"![headline metrics over time]({png_name})", "",
             "| " + " | ".join(_md_cell(c) for c in t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in t.itertuples(index=False)]
    if len(p) > TABLE_AUDITS:
        lines += ["", f"The table shows the last {TABLE_AUDITS} audits; the chart shows all {len(p)}."]
    lines += ["", "n/a: the audit did not measure the metric (its input was missing, or the audit predates it).",
              "", "Audits read:", ""]
    lines += [f"- {_md_cell(a)}: `{_md_cell(path)}`" for a, path in zip(p["audit"], p["path"])]
    return "\n".join(lines) + "\n"


def html_page(trend: Trend, png_name: str = "trend.png") -> str:
    t = table(trend)
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>" for row in t.itertuples(index=False))
    n = len(trend.points)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Headline metrics over {n} audits</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
            "div.scroll{overflow-x:auto}table{border-collapse:collapse}th,td{border:1px solid #d0d7de;"
            "padding:4px 8px;white-space:nowrap;text-align:right}th:first-child,td:first-child{text-align:left}"
            "img{max-width:100%}</style></head><body>"
            f"<h1>Headline metrics over {n} audits</h1><img src='{e(png_name)}' alt='headline metrics over time'>"
            f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
            "<p>n/a: the audit did not measure the metric (its input was missing, or the audit predates it).</p>"
            "</body></html>\n")


def write_trend(trend: Trend, out: Path) -> dict[str, Path]:
    """Write ``trend.png``, ``trend.md`` and ``trend.html`` into the folder ``out`` (created), each atomically."""
    from toolkit.runtime.atomic import atomic_write, shared_file_mode

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"png": trend_png(trend), "md": markdown(trend).encode("utf-8"), "html": html_page(trend).encode("utf-8")}
    for kind, data in files.items():
        atomic_write(out / f"trend.{kind}", data, mode=shared_file_mode())
    return {kind: out / f"trend.{kind}" for kind in files}
