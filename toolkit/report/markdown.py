"""GitHub-flavoured Markdown for a Report (wiki pages, PR comments) that reads right raw as well as rendered.

Untrusted text is kept inert by one function, :func:`md_escape`, with the least escaping that does it: a
character is backslash-escaped only where CommonMark/GFM would read it as syntax (emphasis runs by the flanking
rules, so ``search_index`` and ``0.1.0`` stay as written; code, links, tags, entities, tables, math, mentions,
URL autolinks; block markers at a line start). So ``<script>`` or ``[x](javascript:...)`` shows as text, never
as markup or a link, and ``payments->inventory`` stays readable.

GitHub refuses comments over 65,536 characters: :func:`render_markdown` stays under :data:`MAX_CHARS` by showing
fewer table rows (all are in ``tables/*.csv``), then fewer provenance items. Figures are named as files
(``figures/<name>.png``), not embedded by a relative path that breaks once pasted elsewhere.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from toolkit.report.findings_json import display, plain_frame, sort_key
from toolkit.report.format import column_unit, format_value, format_when, metric_label, metric_unit
from toolkit.core.metrics_of import SNIPPET_HEAD
from toolkit.report.model import Report, Section, Table, output_names, reading_order, summary_shown

__all__ = ["render_markdown", "md_escape", "MAX_CHARS"]

#: report.md stays below GitHub's comment limit (65,536 characters) with room for a line of context
MAX_CHARS = 60_000
#: (rows per table, provenance items, items per summary list, characters per paragraph), tried in turn until
#: the report fits :data:`MAX_CHARS`
_STEPS = ((50, 200, 50, 5000), (25, 20, 20, 2000), (10, 5, 10, 1000), (5, 5, 5, 500), (2, 3, 3, 300))
#: a table with more rows than this is folded (<details>) in the rendered page
FOLD_ROWS = 10

_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BLOCK_START = (
    re.compile(r"#{1,6}(?=\s|$)"),  # ATX heading
    re.compile(r">"),  # block quote
    re.compile(r"[-+*](?=\s|$)"),  # bullet list item
    re.compile(r"([-*_=])(\s*\1)+\s*$"),  # thematic break, setext underline
    re.compile(r"~~~"),  # fenced code (backticks are always escaped)
)
_ORDERED = re.compile(r"\d{1,9}(?=[.)](\s|$))")  # "1. x" -> "1\. x"
_URL = re.compile(r"(?i)(?<=[a-z])://|\bwww\.")


def _punct(ch: str) -> bool:
    """CommonMark's Unicode punctuation: general categories P and S."""
    return ch in _ASCII_PUNCT or unicodedata.category(ch)[0] in "PS"


def _delimiter_active(s: str, i: int, n: int) -> bool:
    """Could the run ``s[i:i+n]`` of ``*``, ``_`` or ``~`` open or close emphasis (CommonMark 6.2)? Outside the
    fragment is taken as white space, the cautious reading."""
    ch = s[i]
    prev = s[i - 1] if i > 0 else " "
    nxt = s[i + n] if i + n < len(s) else " "
    left = not nxt.isspace() and (not _punct(nxt) or prev.isspace() or _punct(prev))
    right = not prev.isspace() and (not _punct(prev) or nxt.isspace() or _punct(nxt))
    if ch == "_":  # intraword underscores never emphasise
        return (left and (not right or _punct(prev))) or (right and (not left or _punct(nxt)))
    return left or right


def md_escape(text: Any, *, inline: bool = True, line_start: bool = True) -> str:
    """``text`` as inert Markdown with as few backslashes as CommonMark/GFM need (module docstring).

    ``inline``: newlines become spaces. ``line_start``: the text begins a line (a paragraph line), so block
    markers at its start are escaped too; pass ``False`` for text placed after other text on its line (a table
    cell, a value after ``**key**:``).
    """
    s = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if inline:
        s = " ".join(s.split("\n"))
    if line_start:
        s = s.lstrip()  # four leading spaces would make a code block
    urls = {m.start() for m in _URL.finditer(s)}
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch in "*_~":
            j = i
            while j < n and s[j] == ch:
                j += 1
            run = s[i:j]
            out.append("".join("\\" + c for c in run) if _delimiter_active(s, i, j - i) else run)
            i = j
            continue
        if ch == "\\":
            esc = i + 1 >= n or s[i + 1] in _ASCII_PUNCT  # a trailing one would eat our own markup after it
        elif ch in "`[|$":
            esc = True
        elif ch == "<":
            esc = i + 1 < n and (s[i + 1].isalpha() or s[i + 1] in "/!?")
        elif ch == "&":
            esc = bool(_ENTITY.match(s, i))
        elif ch == "@":  # a mention would notify someone
            esc = (i == 0 or not (s[i - 1].isalnum() or s[i - 1] in "_-")) and i + 1 < n and (s[i + 1].isalnum())
        elif i in urls:  # "://" or "www.": GFM would make an untrusted link
            out.append("\\:" if ch == ":" else "www\\.")
            i += 1 if ch == ":" else 4
            continue
        else:
            esc = False
        out.append("\\" + ch if esc else ch)
        i += 1
    s = "".join(out)
    if line_start:
        m = _ORDERED.match(s)
        if m:
            s = s[:m.end()] + "\\" + s[m.end():]
        elif any(p.match(s) for p in _BLOCK_START) and not s.startswith("\\"):
            s = "\\" + s
    return s


def _inline(text: Any) -> str:
    """Text placed after other text on its line."""
    return md_escape(text, line_start=False)


def _para(text: str, max_chars: int = 5000) -> str:
    text = str(text)
    if len(text) > max_chars:
        text = text[:max_chars].rstrip() + " … (cut; the full text is in findings.json)"
    lines = [md_escape(line) for line in text.replace("\r\n", "\n").split("\n")]
    return "  \n".join(lines)  # two trailing spaces: a hard line break, no new paragraph


def _value(k: Any, v: Any) -> str:
    """A summary value: numbers in their metric's unit (the same formatting as the HTML tiles), text inert."""
    if v is None or isinstance(v, (bool, int, float)):
        return _number(format_value(v, metric_unit(str(k))))
    return _inline(display(v))


def _number(text: str) -> str:
    """A number we formatted (digits, ``,.-%``, ``<``, unit words): only ``<`` is Markdown/HTML syntax in it;
    escaping the rest would show ``73\\.3`` to whoever reads the file raw."""
    return text.replace("<", "\\<")


def _summary(summary: dict[str, Any], items: int = 50) -> list[str]:
    out = []
    for k, v in summary.items():
        key = f"- **{_inline(metric_label(k))}**:"
        more = f"and {len(v) - items:,} more (see findings.json)" if isinstance(v, (list, tuple)) and \
            len(v) > items else ""
        if isinstance(v, (list, tuple)) and v and any(isinstance(x, str) and len(x) > 40 for x in v):
            out.append(key)  # long items (the top seams with their reasons): one per line, not one run-on line
            out += [f"  {i}. {_inline(display(x))}" for i, x in enumerate(v[:items], 1)]
            out += [f"  - {more}"] if more else []
        elif isinstance(v, (list, tuple)) and more:
            out.append(f"{key} {_inline(display(list(v[:items])))} {more}")
        else:
            out.append(f"{key} {_value(k, v)}")
    return out


def _table(table: Table, csv_name: str, max_rows: int) -> list[str]:
    df = plain_frame(table.df)
    total, limit = len(df), max(0, min(int(table.max_rows), max_rows))
    shown = df.iloc[:limit]
    cols = list(df.columns)
    out: list[str] = []
    if table.caption:
        out += [f"*{_inline(table.caption)}*", ""]
    if not cols:
        return out + ["(empty table)", ""]
    numeric = [
        len(shown) > 0 and all(sort_key(v) is not None or display(v) == "" for v in shown[c]) for c in cols
    ] if len(set(cols)) == len(cols) else [False] * len(cols)
    body = ["| " + " | ".join(_inline(c) for c in cols) + " |",
            "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    units = [column_unit(c) for c in cols]

    def cell(v: Any, unit: str | None) -> str:
        if sort_key(v) is None:
            return _inline(display(v))
        if unit:  # p-values and days: '<' and unit words may appear
            return _number(format_value(v, unit))
        return display(v)  # numbers are our own formatting (digits, ',', '.', '-'), safe unescaped, easier to read

    for row in shown.itertuples(index=False, name=None):
        body.append("| " + " | ".join(cell(v, u) for v, u in zip(row, units)) + " |")
    if len(shown) > FOLD_ROWS:  # long tables folded; GFM renders Markdown inside <details> after a blank line
        out += [f"<details><summary>{len(shown):,} rows</summary>", "", *body, "", "</details>"]
    else:
        out += body
    if total > len(shown):
        out += ["", f"showing {len(shown):,} of {total:,} rows — full table in `{csv_name}`"]
    elif total == 0:
        out += ["", "no rows"]
    return out + [""]


def _section(si: int, sec: Section, names: dict, max_rows: int, items: int, para: int,
             level: str = "##") -> list[str]:
    out = [f"{level} {_inline(sec.title)}", ""]
    if sec.missing is not None:
        out += [f"> **missing:** {_inline(sec.missing)}", ""]
    if summary_shown(sec):
        out += _summary(summary_shown(sec), items) + [""]
    for p in sec.paragraphs:
        if p.startswith(SNIPPET_HEAD) and "`" not in p:  # configuration to paste: verbatim (no fence can close)
            out += ["```toml", p, "```", ""]
        else:
            out += [_para(p, para), ""]
    for ti, table in enumerate(sec.tables):
        out += _table(table, names[("table", si, ti)], max_rows)
    for fi, fig in enumerate(sec.figures):
        what = _inline(fig.caption or fig.name)
        out += [f"Figure: {what} (`{names[('figure', si, fi)]}` beside this report, drawn in report.html)", ""]
    return out


def _prov(value: Any, indent: int = 0, limit: int = 200) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list, tuple, set, frozenset)) and v:
                lines.append(f"{pad}- **{_inline(k)}**:")
                lines += _prov(v, indent + 1, limit)
            else:
                lines.append(f"{pad}- **{_inline(k)}**: {_inline(display(v))}")
        return lines
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        lines = []
        for item in items[:limit]:
            if isinstance(item, (dict, list, tuple, set, frozenset)):
                if isinstance(item, dict) and all(not isinstance(x, (dict, list)) for x in item.values()):
                    lines.append(f"{pad}- " + "; ".join(f"{_inline(k)}: {_inline(display(x))}"
                                                        for k, x in item.items()))
                else:
                    lines.append(f"{pad}-")
                    lines += _prov(item, indent + 1, limit)
            else:
                lines.append(f"{pad}- {_inline(display(item))}")
        if len(items) > limit:
            lines.append(f"{pad}- … and {len(items) - limit:,} more (see findings.json)")
        return lines
    return [f"{pad}- {_inline(display(value))}"]


def _render(report: Report, max_rows: int, prov_items: int, items: int, para: int) -> str:
    names = output_names(report)
    order = reading_order(report)
    out = [f"# {_inline(report.title)}", ""]
    meta = [f"schema {report.schema_version}"]
    if report.generated:
        meta.insert(0, f"audited {format_when(report.generated)}")
    out += ["*" + _inline(" · ".join(meta)) + "*", ""]
    for i in order:
        out += _section(i, report.sections[i], names, max_rows, items, para)
    out += ["## Methods and provenance", ""]
    out += _prov(report.provenance or {}, limit=prov_items) or ["(none)"]
    return "\n".join(out).rstrip() + "\n"


def render_markdown(report: Report, *, max_chars: int = MAX_CHARS) -> str:
    """The report as GitHub-flavoured Markdown (executive summary first, then sections, then provenance),
    within ``max_chars`` characters where fewer table rows and provenance items can make it so."""
    text = ""
    for step in _STEPS:
        text = _render(report, *step)
        if len(text) <= max_chars:
            return text
    tail = "\n\n… cut here to stay within a pull-request comment; findings.json and report.html have everything.\n"
    return text[: max_chars - len(tail)].rsplit("\n", 1)[0] + tail
