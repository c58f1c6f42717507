"""Write a Report to a directory: report.html, report.md, findings.json, tables/*.csv, figures/*.png.

Atomic per file: everything is rendered into a temporary directory beside
``out_dir`` (same file system) first; only when every renderer has succeeded are
the files moved into place with ``os.replace``. A renderer that raises, or a run
that is interrupted while rendering, leaves the previous report untouched and
no temporary directory behind. report.html is replaced last, so the entry point
never refers to figures or tables that are not there yet.

Only files this writer produces are touched: ``out_dir`` may hold other files.
Tables/figures listed in a previous findings.json but no longer produced are
removed, so a stale CSV never outlives the finding it belonged to.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

import pandas as pd

from toolkit.errors import InputError
from toolkit.report.findings_json import dumps_findings, json_safe, plain_frame
from toolkit.report.html import render_html
from toolkit.report.markdown import render_markdown
from toolkit.report.model import Report, output_names

__all__ = ["write_report", "FORMATS"]

FORMATS = ("html", "md", "json", "csv", "png")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> object:
    """CSV-friendly cell: lists/dicts as JSON text; text that a spreadsheet would run as a formula gets a ``'``.

    The quote guards against CSV/formula injection (OWASP) when a lead opens the
    file in Excel/Sheets: untrusted text such as ``=HYPERLINK(...)`` stays text.
    """
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return json.dumps(json_safe(value), ensure_ascii=False)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) > 0:
        return json.dumps(json_safe(value), ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    df = plain_frame(df)
    out = df.copy()
    text_like = [pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt)
                 or isinstance(dt, pd.CategoricalDtype) for dt in out.dtypes]
    for i in [i for i, t in enumerate(text_like) if t]:
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.StringDtype):  # only text or NA: the formula guard, for the whole column
            guarded = col.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            values = col.astype(object)
            if guarded.any():
                values[guarded] = "'" + values[guarded]
            out.isetitem(i, values)
        else:
            out.isetitem(i, col.astype(object).map(_csv_cell))
    return out


csv_frame = _csv_frame  # the one formula guard, used for every CSV seamscope writes (the CLI's tables too)


def _previous_files(out_dir: Path) -> set[str]:
    """Relative table/figure paths that the previous findings.json in ``out_dir`` said it wrote."""
    path = out_dir / "findings.json"
    if not path.is_file():
        return set()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()  # not ours or damaged: then we remove nothing
    files: set[str] = set()
    for sec in (doc.get("sections") or {}).values() if isinstance(doc, dict) else ():
        if not isinstance(sec, dict):
            continue
        for key, folder, ext in (("table_files", "tables/", ".csv"), ("figures", "figures/", ".png")):
            for rel in (sec.get(key) or {}).values():
                # only plain names inside our folders, whatever the old file says
                if isinstance(rel, str) and rel.startswith(folder) and rel.endswith(ext) and "/" not in rel[len(folder):] \
                        and ".." not in rel:
                    files.add(rel)
    return files


def write_report(
    report: Report, out_dir: Path | str, *, formats: Iterable[str] = ("html", "md", "json", "csv")
) -> dict[str, Path]:
    """Render ``report`` into ``out_dir`` and return ``{kind_or_relative_path: absolute Path}``.

    ``formats``: any of ``html`` (report.html), ``md`` (report.md), ``json`` (findings.json),
    ``csv`` (tables/<section>__<table>.csv, all rows) and ``png`` (figures/<name>.png).
    Figures are also written with ``md`` or ``json``, which refer to them by path.
    Keys of the result: ``"html"``, ``"md"``, ``"json"`` and the relative path of each CSV/PNG.
    """
    fmts = tuple(dict.fromkeys(formats))
    unknown = [f for f in fmts if f not in FORMATS]
    if unknown:
        raise InputError(str(out_dir), f"unknown report format(s) {unknown!r}",
                         hint=f"choose from {', '.join(FORMATS)}", flag="--format")
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    names = output_names(report)
    write_figs = bool({"png", "md", "json"} & set(fmts))

    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        staged: list[str] = []  # relative paths, in the order they are moved into place

        def stage_bytes(rel: str, data: bytes) -> None:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            staged.append(rel)

        if "csv" in fmts:
            for si, sec in enumerate(report.sections):
                for ti, table in enumerate(sec.tables):
                    rel = names[("table", si, ti)]
                    (tmp / "tables").mkdir(exist_ok=True)
                    _csv_frame(table.df).to_csv(tmp / rel, index=False, encoding="utf-8", lineterminator="\n")
                    staged.append(rel)
        if write_figs:
            for si, sec in enumerate(report.sections):
                for fi, fig in enumerate(sec.figures):
                    stage_bytes(names[("figure", si, fi)], bytes(fig.png))
        if "json" in fmts:
            stage_bytes("findings.json", dumps_findings(report).encode("utf-8"))
        if "md" in fmts:
            stage_bytes("report.md", render_markdown(report).encode("utf-8"))
        if "html" in fmts:
            stage_bytes("report.html", render_html(report).encode("utf-8"))

        # Everything rendered: now move into place (each os.replace is atomic).
        stale = _previous_files(out_dir) - set(staged) if "json" in fmts else set()
        out_dir.mkdir(parents=True, exist_ok=True)
        result: dict[str, Path] = {}
        kinds = {"findings.json": "json", "report.md": "md", "report.html": "html"}
        for rel in staged:
            dest = out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, dest)
            result[kinds.get(rel, rel)] = dest
        for rel in sorted(stale):
            (out_dir / rel).unlink(missing_ok=True)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
