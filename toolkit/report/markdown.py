"""GitHub-flavoured Markdown for a Report (wiki pages, PR comments).

Untrusted text is kept inert: every Markdown/HTML-significant ASCII character is
backslash-escaped (CommonMark renders ``\\<`` as a literal ``<``), so a test name
like ``<script>`` or ``[x](javascript:...)`` shows as text and never as markup
or a link. Table cells also escape ``|`` and fold newlines to spaces. Tables
show at most ``Table.max_rows`` rows; figures are referenced as the files
``figures/<name>.png`` that :func:`toolkit.report.writer.write_report` writes.
"""
from __future__ import annotations

import re
from typing import Any

from toolkit.report.findings_json import display, plain_frame, sort_key
from toolkit.report.format import column_unit, format_value, format_when, metric_label, metric_unit
from toolkit.report.model import SNIPPET_HEAD, Report, Section, Table, output_names, reading_order, summary_shown

__all__ = ["render_markdown", "md_escape"]

# Characters that are Markdown/HTML syntax anywhere in a line (GFM: ~ strikethrough, $ math, | tables, @ mentions).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&$@])")
# Syntax only at the start of a line (lists, setext/thematic breaks, ordered lists).
_LINE_START = re.compile(r"^(\s*)([-=]|\d+(?=[.)]))")


def md_escape(text: Any, *, inline: bool = True) -> str:
    """``text`` as inert Markdown: syntax characters backslash-escaped; newlines become spaces when ``inline``.

    ``://`` and ``www.`` are broken up as well so untrusted URLs never become links.
    """
    s = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if inline:
        s = " ".join(s.split("\n"))
    s = _SPECIAL.sub(r"\\\1", s)
    s = s.replace("://", "\\:\\/\\/").replace("www.", "www\\.").replace("WWW.", "WWW\\.")
    m = _LINE_START.match(s)
    if m:
        if m.group(2)[0].isdigit():  # "1. x" -> "1\. x"
            end = m.end()
            s = s[:end] + "\\" + s[end:]
        else:
            s = s[: m.start(2)] + "\\" + s[m.start(2):]
    return s


def _para(text: str) -> str:
    lines = [md_escape(line) for line in str(text).replace("\r\n", "\n").split("\n")]
    return "  \n".join(lines)  # two trailing spaces: a hard line break, no new paragraph


def _summary(summary: dict[str, Any]) -> list[str]:
    """Summary numbers as a list, each in its metric's unit (the same formatting as the HTML tiles)."""
    def text(k: Any, v: Any) -> str:
        if v is None or isinstance(v, (bool, int, float)):
            return _number(format_value(v, metric_unit(str(k))))
        return md_escape(display(v))

    return [f"- **{md_escape(metric_label(k))}**: {text(k, v)}" for k, v in summary.items()]


def _number(text: str) -> str:
    """A number we formatted (digits, ``,.-%``, ``<``, unit words): only ``<`` is Markdown/HTML syntax in it;
    escaping the rest would show ``73\\.3`` to whoever reads the file raw."""
    return text.replace("<", "\\<")


def _table(table: Table, csv_name: str) -> list[str]:
    df = plain_frame(table.df)
    total, limit = len(df), max(0, int(table.max_rows))
    shown = df.iloc[:limit]
    cols = list(df.columns)
    out: list[str] = []
    if table.caption:
        out += [f"*{md_escape(table.caption)}*", ""]
    if not cols:
        return out + ["(empty table)", ""]
    numeric = [
        len(shown) > 0 and all(sort_key(v) is not None or display(v) == "" for v in shown[c]) for c in cols
    ] if len(set(cols)) == len(cols) else [False] * len(cols)
    out.append("| " + " | ".join(md_escape(c) for c in cols) + " |")
    out.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    units = [column_unit(c) for c in cols]

    def cell(v: Any, unit: str | None) -> str:
        if sort_key(v) is None:
            return md_escape(display(v))
        if unit:  # p-values and days: '<' and unit words may appear
            return _number(format_value(v, unit))
        return display(v)  # numbers are our own formatting (digits, ',', '.', '-'), safe unescaped, easier to read

    for row in shown.itertuples(index=False, name=None):
        out.append("| " + " | ".join(cell(v, u) for v, u in zip(row, units)) + " |")
    if total > len(shown):
        out += ["", f"showing {len(shown):,} of {total:,} rows — full table in `{csv_name}`"]
    elif total == 0:
        out += ["", "no rows"]
    return out + [""]


def _section(si: int, sec: Section, names: dict, level: str = "##") -> list[str]:
    out = [f"{level} {md_escape(sec.title)}", ""]
    if sec.missing is not None:
        out += [f"> **missing:** {md_escape(sec.missing)}", ""]
    if summary_shown(sec):
        out += _summary(summary_shown(sec)) + [""]
    for p in sec.paragraphs:
        if p.startswith(SNIPPET_HEAD) and "`" not in p:  # configuration to paste: verbatim (no fence can close)
            out += ["```toml", p, "```", ""]
        else:
            out += [_para(p), ""]
    for ti, table in enumerate(sec.tables):
        out += _table(table, names[("table", si, ti)])
    for fi, fig in enumerate(sec.figures):
        alt = md_escape(fig.caption or fig.name)
        # the path is our own sanitised name ([A-Za-z0-9._-]), never report text
        out += [f"![{alt}]({names[('figure', si, fi)]})", ""]
        if fig.caption:
            out += [f"*{md_escape(fig.caption)}*", ""]
    return out


def _prov(value: Any, indent: int = 0) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list, tuple, set, frozenset)) and v:
                lines.append(f"{pad}- **{md_escape(k)}**:")
                lines += _prov(v, indent + 1)
            else:
                lines.append(f"{pad}- **{md_escape(k)}**: {md_escape(display(v))}")
        return lines
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        lines = []
        for item in items[:200]:
            if isinstance(item, (dict, list, tuple, set, frozenset)):
                if isinstance(item, dict) and all(not isinstance(x, (dict, list)) for x in item.values()):
                    lines.append(f"{pad}- " + "; ".join(f"{md_escape(k)}: {md_escape(display(x))}" for k, x in item.items()))
                else:
                    lines.append(f"{pad}-")
                    lines += _prov(item, indent + 1)
            else:
                lines.append(f"{pad}- {md_escape(display(item))}")
        if len(items) > 200:
            lines.append(f"{pad}- … and {len(items) - 200:,} more (see findings.json)")
        return lines
    return [f"{pad}- {md_escape(display(value))}"]


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown (executive summary and changes first, then sections, then provenance)."""
    names = output_names(report)
    order = reading_order(report)
    out = [f"# {md_escape(report.title)}", ""]
    meta = [f"schema {report.schema_version}"]
    if report.generated:
        meta.insert(0, f"audited {format_when(report.generated)}")
    out += ["*" + md_escape(" · ".join(meta)) + "*", ""]
    for i in order:
        out += _section(i, report.sections[i], names)
    out += ["## Methods and provenance", ""]
    out += _prov(report.provenance or {}) or ["(none)"]
    return "\n".join(out).rstrip() + "\n"
