"""Numbers for people: one place that turns a value and its unit into the text a reader sees, so ``73.3`` of
interaction coverage reads ``73.3 %`` in every writer, a p-value has two significant digits and a duration in
days never shows scientific notation.

Units are plain strings, so the metric vocabulary can supply them: ``"%"`` (0..100), ``"fraction"`` (0..1, shown
as a percentage), ``"count"``, ``"p"``, ``"days"``, ``"score"`` (two decimals), ``"bool"`` (yes/no); any other
is shown after the number. :func:`metric_unit` falls back to the name of a key outside the vocabulary.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from toolkit.vocab.metrics import metric

__all__ = ["metric_unit", "column_unit", "format_value", "format_number", "format_p", "format_days",
           "format_when", "metric_label"]

_P_COLUMN = re.compile(r"(^|_)(p|p_value|pvalue|p_adj|p_adjusted|q_value)$")


def metric_unit(key: str) -> str | None:
    """The unit of summary metric ``key`` (the vocabulary's, else read from its name), or None when unknown."""
    key = str(key)
    known = metric(key)
    if known is not None:
        return {"ratio": "score", "list": None, "text": None}.get(known.unit, known.unit)
    if key.endswith("_pct") or key.startswith("pct_"):
        return "%"
    if key.endswith("_share"):
        return "fraction"
    if _P_COLUMN.search(key):
        return "p"
    if key.endswith("_days"):
        return "days"
    return None


def column_unit(name: str) -> str | None:
    """The unit a table column's cells are formatted in: p-values and days only (other cells stay as they are)."""
    name = str(name).lower()
    if _P_COLUMN.search(name):
        return "p"
    if name.endswith("_days") or name == "days":
        return "days"
    return None


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def format_number(value: float | int) -> str:
    """A number without scientific notation: ints with thousands separators, at most 3 decimals, and values
    below 0.01 to two significant digits (``0.0083``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 0.01:
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    digits = 1 - math.floor(math.log10(abs(v)))  # two significant digits, positional
    return f"{v:.{min(digits, 20)}f}".rstrip("0").rstrip(".") or "0"


def format_p(p: float) -> str:
    """A p-value to two significant digits; below 0.0001 as ``< 0.0001``."""
    if p < 1e-4:
        return "< 0.0001"
    digits = max(2, 1 - math.floor(math.log10(p)))
    return f"{p:.{digits}f}"


def format_days(days: float) -> str:
    """A duration given in days, in days (``10.8 days``); under a day in hours or minutes."""
    if abs(days) >= 1:
        return f"{days:,.1f}".removesuffix(".0") + (" day" if abs(days) == 1 else " days")
    if abs(days) * 24 >= 1:
        return f"{days * 24:.1f}".removesuffix(".0") + " h"
    return f"{days * 24 * 60:.0f} min"


def _pct_text(v: float) -> str:
    return f"{v:,.1f}".removesuffix(".0") + " %"


#: unit -> how a finite number in it reads
_FORMATS: dict[str, Callable[[float], str]] = {
    "%": _pct_text, "fraction": lambda f: _pct_text(100 * f), "p": format_p, "days": format_days,
    "score": lambda f: f"{f:.2f}", "count": lambda f: f"{round(f):,}" if abs(f) < 1e15 else format_number(f)}


def format_value(value: Any, unit: str | None = None) -> str:
    """``value`` as a reader should see it in ``unit`` (module docstring); None/NaN -> ``n/a``, lists joined with
    ``", "``, text as it is (the caller escapes it)."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, bool) or unit == "bool":
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v, unit) for v in value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    f = _finite(value)
    if f is None:
        return str(value)
    if unit in _FORMATS:
        return _FORMATS[unit](f)
    text = format_number(value if isinstance(value, int) else f)
    return f"{text} {unit}" if unit else text


def metric_label(key: str) -> str:
    """A summary key as words, its unit left to the value (``interfaces_documented_pct``: interfaces documented)."""
    known = metric(str(key))
    if known is not None:
        return known.label
    words = re.sub(r"(_pct$|^pct_)", "", str(key)).replace("_", " ").strip()
    return words or str(key)


def format_when(when: Any) -> str:
    """An ISO-8601 time as ``2026-12-04 19:06 UTC`` (UTC when it has a zone); other text as given."""
    text = str(when)
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if stamp.tzinfo is None:
        return stamp.strftime("%Y-%m-%d %H:%M")
    return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
