"""findings.json: the machine-readable form of a Report, and its JSON Schema.

Every table is written with *all* its rows as records (HTML and Markdown show at most ``Table.max_rows``).
Values are made JSON-safe without losing meaning: NaN/NaT/NA -> null, timestamps -> ISO-8601 text, numpy
scalars -> Python numbers, lists/arrays/tuples stay lists, sets become sorted lists.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from importlib import resources
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from toolkit.report.format import format_number
from toolkit.report.model import Report, output_names

FINDINGS_SCHEMA_VERSION = "1.0"  # a Report without an Audit; with one, toolkit.core.audit_result.SCHEMA_VERSION


def json_safe(value: Any) -> Any:
    """``value`` converted to plain JSON types (recursively); see the module docstring for the rules."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, decimal.Decimal)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        td = pd.Timedelta(value)
        return None if td is pd.NaT else td.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [json_safe(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        return [json_safe(v) for v in list(value)]
    if isinstance(value, pd.DataFrame):
        return frame_records(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return str(value)


def plain_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with column labels made unique strings and any index but a default ``RangeIndex`` (row numbers)
    moved into columns (a named one, or labels such as component names)."""
    out = df
    idx = df.index
    if not (isinstance(idx, pd.RangeIndex) and idx.name is None) or isinstance(idx, pd.MultiIndex):
        out = df.reset_index()
    if isinstance(out.columns, pd.MultiIndex):
        cols = [" / ".join(str(p) for p in c if str(p) != "") for c in out.columns]
    else:
        cols = [str(c) for c in out.columns]
    seen: set[str] = set()
    cols = [_unique(c, seen) for c in cols]  # duplicate labels would overwrite each other in records
    if list(out.columns) != cols:
        out = out.copy(deep=False)
        out.columns = cols
    return out


def _unique(name: str, taken: set[str] | dict[str, Any]) -> str:
    """``name``, or ``name~2``, ``name~3``... when ``taken`` holds it; a set records the name returned."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}~{n}"
    if isinstance(taken, set):
        taken.add(candidate)
    return candidate


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """All rows of ``df`` as JSON-safe records (column order kept)."""
    df = plain_frame(df)
    cols = list(df.columns)
    values = [_column_values(df.iloc[:, i]) for i in range(len(cols))]
    return [dict(zip(cols, row)) for row in zip(*values)] if cols else [{} for _ in range(len(df))]


def _column_values(col: pd.Series) -> list[Any]:
    """One column as JSON-safe values; whole-column conversions for the common dtypes (tables can be large)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) and not col.hasnans:
        return [bool(v) for v in col.tolist()]
    if pd.api.types.is_integer_dtype(dtype) and isinstance(dtype, np.dtype):
        return col.tolist()
    if pd.api.types.is_float_dtype(dtype) and isinstance(dtype, np.dtype):
        return [v if math.isfinite(v) else None for v in col.tolist()]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return [None if v is pd.NaT else v.isoformat() for v in col.tolist()]
    if isinstance(dtype, pd.StringDtype):  # text, or a missing marker (NA or NaN, by the dtype's storage)
        return [None if missing else v for v, missing in zip(col.tolist(), col.isna().to_numpy())]
    return [json_safe(v) for v in col.tolist()]


def render_findings(report: Report) -> dict[str, Any]:
    """The findings.json document for ``report`` (a dict for ``json.dumps(..., allow_nan=False)``), shaped as
    findings.schema.json says (:func:`findings_schema`).

    Between provenance and sections come the report's Audit (toolkit.core.audit_result, schema 2.0: what gates,
    --compare, the audit-many index and the notebooks read by metric id); a Report without an Audit is schema
    1.0 without them. Duplicate section (and table) ids get ``~2``, ``~3`` suffixes so none is lost.
    """
    names = output_names(report)
    sections: dict[str, Any] = {}
    for si, sec in enumerate(report.sections):
        tables: dict[str, Any] = {}
        for table in sec.tables:
            tables[_unique(str(table.name), tables)] = frame_records(table.df)
        sections[_unique(str(sec.id), sections)] = {
            "title": str(sec.title),
            "summary": json_safe(dict(sec.summary)),
            "missing": None if sec.missing is None else str(sec.missing),
            "not_measured": {str(k): str(v) for k, v in sec.not_measured.items()},
            "paragraphs": [str(p) for p in sec.paragraphs],
            "tables": tables,
            "table_files": {tname: names[("table", si, ti)] for ti, tname in enumerate(tables)},
            "figures": {str(f.name): names[("figure", si, fi)] for fi, f in enumerate(sec.figures)},
        }
    generated = report.generated or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    doc: dict[str, Any] = {
        "schema_version": str(report.schema_version or FINDINGS_SCHEMA_VERSION),
        "generated": str(generated),
        "title": str(report.title),
        "provenance": json_safe(dict(report.provenance)),
    }
    if report.audit is not None:
        from toolkit.core.audit_result import SCHEMA_VERSION

        doc["schema_version"] = SCHEMA_VERSION
        doc.update(json_safe(report.audit.to_json()))
    doc["sections"] = sections
    return doc


def dumps_findings(report: Report) -> str:
    """findings.json text: strict JSON (no NaN), indented, each table record on one line.

    ``json.dumps(indent=...)`` uses the slow pure-Python encoder, so tables are swapped for unique placeholders,
    the skeleton is indented, and each record is encoded compactly by the C encoder.
    """
    doc = render_findings(report)
    token = uuid.uuid4().hex  # random, so report text can never collide with a placeholder
    tables: dict[str, list[dict[str, Any]]] = {}
    for sec in doc["sections"].values():
        for name, records in sec["tables"].items():
            key = f"@@{token}:{len(tables)}@@"
            tables[key] = records
            sec["tables"][name] = key
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    for key, records in tables.items():
        body = ",\n".join(json.dumps(r, ensure_ascii=False, allow_nan=False) for r in records)
        text = text.replace(json.dumps(key), "[\n" + body + "\n]" if records else "[]", 1)
    return text + "\n"


def findings_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped with the package for findings.json."""
    text = resources.files("toolkit.report").joinpath("findings.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def display(value: Any) -> str:
    """Human-readable text for one value (tables, summary cards), missing -> ``""``; the caller escapes it."""
    v = json_safe(value) if not isinstance(value, (pd.Timestamp, dt.datetime)) else value
    if v is None or v is pd.NaT:
        return ""
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        if v.tzinfo is None and (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.date().isoformat()  # a plain date; "00:00:00" would suggest a precision that is not there
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return format_number(v)  # never scientific notation (toolkit.report.format)
    if isinstance(v, list):
        return ", ".join(display(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {display(x)}" for k, x in v.items())
    return str(v)


def sort_key(value: Any) -> float | None:
    """The numeric sort key of a value, or None when it is not a finite number (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating, decimal.Decimal)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None
