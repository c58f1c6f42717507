"""One self-contained HTML file for a Report, safe to mail around.

Everything in a Report is untrusted text (commit messages, test names, issue
titles), so:

* every string goes through ``html.escape(..., quote=True)`` and lands only in
  element text or quoted attribute values; none reaches a ``<script>``, a URL
  or an unquoted attribute (anchors are generated, ``#sec-1``...);
* a Content-Security-Policy ``<meta>`` allows no network at all, images only as
  ``data:`` URIs, and exactly one script: ours, pinned by its SHA-256 hash. Even
  if escaping ever failed, an injected ``<script>`` or ``onerror=`` would not run.

The only script makes tables sortable (click a column header; numbers sort as
numbers via ``data-v``). It has no inline event handlers (those need
``'unsafe-hashes'``) and runs in strict mode.
"""
from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from toolkit.report.findings_json import display, plain_frame, sort_key
from toolkit.report.model import SNIPPET_HEAD, Report, Section, Table, output_names

__all__ = ["render_html", "SCRIPT", "SCRIPT_HASH", "CSP"]

#: Maximum items rendered per list in the provenance section (the rest is in findings.json).
PROVENANCE_LIST_LIMIT = 200

SCRIPT = """
"use strict";
(function () {
  function key(cell) {
    var v = cell ? cell.getAttribute("data-v") : null;
    if (v !== null && v !== "" && isFinite(Number(v))) { return { n: true, v: Number(v), e: false }; }
    var t = cell ? cell.textContent.trim().toLowerCase() : "";
    return { n: false, v: t, e: t === "" };
  }
  function cmp(a, b) {
    if (a.n && b.n) { return a.v - b.v; }
    if (a.n !== b.n) { return a.n ? -1 : 1; }
    if (a.v === b.v) { return 0; }
    return a.v < b.v ? -1 : 1;
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var body = table.tBodies[0];
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, idx) {
      var btn = th.querySelector("button");
      if (!btn || !body) { return; }
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        var keyed = rows.map(function (r, i) { return { r: r, k: key(r.cells[idx]), i: i }; });
        keyed.sort(function (x, y) {
          if (x.k.e !== y.k.e) { return x.k.e ? 1 : -1; }  /* empty cells last in both directions */
          var c = cmp(x.k, y.k);
          return (asc ? c : -c) || (x.i - y.i);
        });
        keyed.forEach(function (x) { body.appendChild(x.r); });
      });
    });
  });
}());
"""

SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    f"script-src '{SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --fg:#1f2328; --muted:#57606a; --line:#d0d7de; --bg2:#f6f8fa; --accent:#0b5cad; --warn:#9a6700; --warnbg:#fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 60px; }
header { border-bottom: 2px solid var(--line); margin-bottom: 16px; }
h1 { font-size: 26px; margin: 8px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
h3 { font-size: 16px; margin: 20px 0 6px; overflow-wrap: anywhere; }
.prov { color: var(--muted); font-size: 13px; margin: 0 0 12px; overflow-wrap: anywhere; }
nav.toc { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; }
nav.toc ol { margin: 4px 0; padding-left: 22px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.tag { font-size: 12px; color: var(--warn); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; align-items: flex-start; }
.card { flex: 1 1 180px; max-width: 260px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--bg2); }
.card .v { font-size: 26px; font-weight: 600; line-height: 1.2; overflow-wrap: anywhere; }
.card .v.long { font-size: 16px; font-weight: 500; }
.card .k { font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.listcard { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--bg2); margin: 12px 0; }
.listcard .k { font-size: 13px; color: var(--muted); }
.listcard ol { margin: 6px 0 0 0; padding-left: 22px; }
.listcard li { margin: 4px 0; overflow-wrap: anywhere; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.kv dt { color: var(--muted); overflow-wrap: anywhere; }
dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
p { margin: 8px 0; white-space: pre-line; overflow-wrap: anywhere; }
.missing { border: 1px solid #d4a72c; background: var(--warnbg); border-radius: 6px; padding: 8px 12px; margin: 8px 0; overflow-wrap: anywhere; }
.missing b { color: var(--warn); }
.tablewrap { overflow-x: auto; margin: 8px 0; }
pre.snippet { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; overflow-x: auto; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 4px 0; overflow-wrap: anywhere; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; max-width: 420px; overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead th { background: var(--bg2); position: sticky; top: 0; }
th button { all: unset; cursor: pointer; font-weight: 600; display: block; }
th button:focus-visible { outline: 2px solid var(--accent); }
th button::after { content: " \\2195"; color: #8c959f; font-weight: 400; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; color: var(--fg); }
th[aria-sort="descending"] button::after { content: " \\25BC"; color: var(--fg); }
tbody tr:nth-child(even) { background: #fbfcfd; }
.note { font-size: 12px; color: var(--muted); margin: 2px 0 12px; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
ul.plist { margin: 2px 0; padding-left: 20px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { nav.toc { display: none; } thead th { position: static; } }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _label(key: Any) -> str:
    """A summary key for display: ``seams_untested`` -> ``seams untested`` (escaped)."""
    return _e(str(key).replace("_", " "))


def _cards(summary: dict[str, Any]) -> str:
    if not summary:
        return ""
    cards, lists = [], []
    for k, v in summary.items():
        if isinstance(v, (list, tuple)) and v:  # e.g. the top risky seams, each with its reason: a list, not a card
            items = "".join(f"<li>{_e(display(x))}</li>" for x in v)
            lists.append(f'<div class="listcard"><div class="k">{_label(k)}</div><ol>{items}</ol></div>')
            continue
        text = "n/a" if v is None else display(v)  # not measured: never a blank that reads as nothing to see
        cls = "v long" if len(text) > 14 else "v"  # long text values would dwarf the numbers
        cards.append(f'<div class="card"><div class="{cls}">{_e(text)}</div><div class="k">{_label(k)}</div></div>')
    return "".join(lists) + f'<div class="cards">{"".join(cards)}</div>'


def _kv(summary: dict[str, Any]) -> str:
    if not summary:
        return ""
    def dd(v: Any) -> str:
        if isinstance(v, (list, tuple)) and v and any(len(display(x)) > 40 for x in v):
            return "<dd><ol>" + "".join(f"<li>{_e(display(x))}</li>" for x in v) + "</ol></dd>"
        return f"<dd>{_e('n/a' if v is None else display(v))}</dd>"

    rows = "".join(f"<dt>{_label(k)}</dt>{dd(v)}" for k, v in summary.items())
    return f'<dl class="kv">{rows}</dl>'


def _table(table: Table, csv_name: str) -> str:
    df = plain_frame(table.df)
    total = len(df)
    limit = max(0, int(table.max_rows))
    shown = df.iloc[:limit]
    cols = list(df.columns)
    head = "".join(f'<th scope="col"><button type="button">{_e(c)}</button></th>' for c in cols)
    body_rows = []
    for row in shown.itertuples(index=False, name=None):
        cells = []
        for v in row:
            k = sort_key(v)
            if k is None:
                cells.append(f"<td>{_e(display(v))}</td>")
            else:
                cells.append(f'<td class="num" data-v="{_e(repr(k))}">{_e(display(v))}</td>')
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{_e(table.caption)}</caption>" if table.caption else ""
    out = [
        '<div class="tablewrap"><table class="sortable">',
        caption,
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>" + "".join(body_rows) + "</tbody></table></div>",
    ]
    if total > len(shown):
        out.append(
            f'<p class="note">showing {len(shown):,} of {total:,} rows — full table in {_e(csv_name)}</p>'
        )
    elif total == 0:
        out.append('<p class="note">no rows</p>')
    return "".join(out)


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(bytes(png)).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption or "figure")}">{cap}</figure>'


def _section(report: Report, si: int, sec: Section, anchor: str, names: dict, *, headline: bool) -> str:
    out = [f'<section id="{anchor}"><h2>{_e(sec.title)}</h2>']
    if sec.missing is not None:
        out.append(f'<div class="missing" role="note"><b>missing:</b> {_e(sec.missing)}</div>')
    out.append(_cards(sec.summary) if headline else _kv(sec.summary))
    for p in sec.paragraphs:
        if p.startswith(SNIPPET_HEAD):  # configuration to paste
            out.append(f'<pre class="snippet">{_e(p)}</pre>')
        elif p.startswith("Not measured:"):
            out.append(f'<div class="missing" role="note"><p>{_e(p)}</p></div>')
        else:
            out.append(f"<p>{_e(p)}</p>")
    for ti, table in enumerate(sec.tables):
        out.append(_table(table, names[("table", si, ti)]))
    for fi, fig in enumerate(sec.figures):
        out.append(_figure(fig.png, fig.caption))
    out.append("</section>")
    return "".join(out)


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list, tuple, set, frozenset))


def _prov(value: Any, depth: int = 0) -> str:
    """Generic rendering of nested provenance: dicts as key/value lists, lists of flat dicts as tables."""
    if isinstance(value, dict):
        if not value:
            return "<span class=\"note\">(none)</span>"
        rows = "".join(f"<dt>{_e(k)}</dt><dd>{_prov(v, depth + 1)}</dd>" for k, v in value.items())
        return f'<dl class="kv">{rows}</dl>'
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if not items:
            return "<span class=\"note\">(none)</span>"
        more = len(items) - PROVENANCE_LIST_LIMIT
        items = items[:PROVENANCE_LIST_LIMIT]
        tail = f'<p class="note">… and {more:,} more (see findings.json)</p>' if more > 0 else ""
        if all(isinstance(i, dict) and all(_is_scalar(x) for x in i.values()) for i in items):
            cols: list[str] = []
            for i in items:
                cols.extend(str(k) for k in i if str(k) not in cols)
            head = "".join(f"<th scope=\"col\">{_e(c)}</th>" for c in cols)
            lookup = [{str(k): v for k, v in i.items()} for i in items]
            body = "".join(
                "<tr>" + "".join(f"<td>{_e(display(r.get(c)))}</td>" for c in cols) + "</tr>" for r in lookup
            )
            return f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{tail}'
        lis = "".join(f"<li>{_prov(i, depth + 1)}</li>" for i in items)
        return f'<ul class="plist">{lis}</ul>{tail}'
    return _e(display(value))


def _provenance_line(report: Report) -> str:
    """A one-line summary of where the numbers come from, from well-known provenance keys if present."""
    prov = report.provenance or {}
    parts = []
    if report.generated:
        parts.append(f"generated {report.generated}")
    for key in ("repo", "repository", "commit_range", "revision", "version", "seamscope"):
        if key in prov and _is_scalar(prov[key]):
            parts.append(f"{key.replace('_', ' ')}: {display(prov[key])}")
    parts.append(f"schema {report.schema_version}")
    return _e(" · ".join(parts))


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML document (see the module docstring for the safety rules)."""
    names = output_names(report)
    anchors = [f"sec-{i + 1}" for i in range(len(report.sections))]
    summary_idx = next((i for i, s in enumerate(report.sections) if s.id == "summary"), None)
    order = ([summary_idx] if summary_idx is not None else []) + [
        i for i in range(len(report.sections)) if i != summary_idx
    ]
    toc = []
    for i in order:
        sec = report.sections[i]
        tag = ' <span class="tag">(missing)</span>' if sec.missing is not None else ""
        toc.append(f'<li><a href="#{anchors[i]}">{_e(sec.title)}</a>{tag}</li>')
    toc.append('<li><a href="#methods">Methods &amp; provenance</a></li>')
    body = [
        f"<header><h1>{_e(report.title)}</h1>",
        f'<p class="prov">{_provenance_line(report)}</p></header>',
        f'<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>{"".join(toc)}</ol></nav>',
    ]
    for i in order:
        body.append(_section(report, i, report.sections[i], anchors[i], names, headline=(i == summary_idx)))
    body.append(
        '<section id="methods"><h2>Methods &amp; provenance</h2>'
        '<p class="note">What was read, what was skipped and why, tool versions and the commit range. '
        "Full tables are in tables/*.csv and findings.json next to this file.</p>"
        f"{_prov(report.provenance or {})}</section>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(report.title)}</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{CSS}</style></head>\n<body><main>"
        + "\n".join(body)
        + '<footer>Produced by seamscope. This file is self-contained: no network access is needed to view it.</footer>'
        + f"</main>\n<script>{SCRIPT}</script>\n</body></html>\n"
    )
