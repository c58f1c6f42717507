"""One self-contained HTML file for a Report, safe to mail around.

Everything in a Report is untrusted text (commit messages, test names, issue titles), so:

* every string goes through ``html.escape(..., quote=True)`` and lands only in element text or quoted attribute
  values; none reaches a ``<script>``, a URL or an unquoted attribute (anchors are generated, ``#sec-1``...);
* a Content-Security-Policy ``<meta>`` allows no network at all, images only as ``data:`` URIs, and exactly one
  script: ours, pinned by its SHA-256 hash. Even if escaping ever failed, an injected ``<script>`` or
  ``onerror=`` would not run.

The only script makes tables sortable (numbers sort as numbers via ``data-v``); it has no inline event handlers
(those need ``'unsafe-hashes'``) and runs in strict mode.
"""
from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

import pandas as pd

from toolkit.report.findings_json import display, plain_frame, sort_key
from toolkit.report.format import column_unit, format_value, format_when, metric_label, metric_unit
from toolkit.core.metrics_of import SNIPPET_HEAD
from toolkit.report.model import Report, Section, Table, output_names, reading_order, summary_shown

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
:root { --fg:#1f2328; --muted:#57606a; --line:#d0d7de; --bg2:#f6f8fa; --accent:#0b5cad; --warn:#9a6700; --warnbg:#fff8c5;
        --ok:#1a7f37; --okbg:#dafbe1; --bad:#cf222e; --badbg:#ffebe9; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 60px; }
header { border-bottom: 2px solid var(--line); margin-bottom: 12px; }
h1 { font-size: 24px; margin: 6px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 20px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
h3 { font-size: 16px; margin: 16px 0 6px; overflow-wrap: anywhere; }
a { color: var(--accent); }
.prov { color: var(--muted); font-size: 13px; margin: 0 0 12px; overflow-wrap: anywhere; }
dl.audited { display: flex; flex-wrap: wrap; gap: 2px 20px; margin: 4px 0 10px; font-size: 14px; }
dl.audited div { min-width: 0; overflow-wrap: anywhere; }
dl.audited dt { display: inline; color: var(--muted); }
dl.audited dd { display: inline; margin: 0 0 0 4px; font-weight: 600; }
nav.toc { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 6px 14px; margin: 16px 0; font-size: 14px; }
nav.toc ol { margin: 4px 0; padding-left: 22px; columns: 2 18em; }
nav.toc a { text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.tag { font-size: 12px; color: var(--warn); }
.first h2 { margin-top: 8px; }
.verdict { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.verdict.pass { border-color: var(--ok); background: var(--okbg); }
.verdict.fail { border-color: var(--bad); background: var(--badbg); }
.verdict.none { background: var(--bg2); }
.verdict b { font-size: 17px; }
.verdict ul, .since ul { margin: 4px 0 0; padding-left: 20px; }
.since { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.better { color: var(--ok); font-weight: 600; } .worse { color: var(--bad); font-weight: 600; }
ol.topseams { margin: 6px 0; padding-left: 24px; }
ol.topseams li { margin: 4px 0; overflow-wrap: anywhere; }
ol.topseams .seam { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
ol.topseams .why { color: var(--fg); }
ol.topseams .act { display: block; color: var(--muted); font-size: 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; background: var(--bg2); min-width: 0; }
.card .v { font-size: 24px; font-weight: 600; line-height: 1.2; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.card .v.long { font-size: 16px; font-weight: 500; }
.card .v.na { color: var(--muted); }
.card .k { font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.card .k a { color: var(--muted); }
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
details.fold { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
details.fold > summary { cursor: pointer; padding: 4px 10px; background: var(--bg2); border-radius: 6px; overflow-wrap: anywhere; }
details.fold > summary .n { color: var(--muted); font-size: 13px; }
details.fold[open] > summary { border-bottom: 1px solid var(--line); border-radius: 6px 6px 0 0; }
details.fold > .tablewrap, details.fold > figure, details.fold > .note { margin: 6px 8px; }
.tablewrap { overflow-x: auto; margin: 8px 0; max-width: 100%; }
pre.snippet { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; overflow-x: auto; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
caption { caption-side: top; text-align: left; color: var(--muted); padding: 4px 0; overflow-wrap: anywhere; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { white-space: nowrap; }
td.long { min-width: 18em; max-width: 36em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead th { background: var(--bg2); }
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
@media (max-width: 600px) { main { padding: 10px 10px 40px; } h1 { font-size: 20px; } .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } .card .v { font-size: 20px; } }
@media print { nav.toc { display: none; } details.fold > * { display: block; } }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _value(key: Any, v: Any) -> str:
    """A summary value in its metric's unit (toolkit.report.format), not yet escaped; None -> ``n/a``."""
    return format_value(v, metric_unit(str(key))) if not isinstance(v, (list, tuple)) else display(v)


def _cards(summary: dict[str, Any], links: dict[str, tuple[str, str]] | None = None,
           reasons: dict[str, str] | None = None) -> str:
    """Headline tiles: the value with its unit, the metric in words linked to the section that explains it; an
    ``n/a`` tile carries its reason as a tooltip. Lists (the top seams) are shown by the caller."""
    cards = []
    for k, v in summary.items():
        if isinstance(v, (list, tuple)):
            continue
        text = _value(k, v)
        cls = "v na" if v is None else "v long" if len(text) > 14 else "v"  # long text would dwarf the numbers
        name = _e(metric_label(k))
        link = (links or {}).get(str(k))
        label = f'<a href="#{link[0]}" title="explained in: {_e(link[1])}">{name}</a>' if link else name
        tip = (reasons or {}).get(str(k)) if v is None else None
        tip_attr = f' title="{_e(tip.partition(chr(10))[0])}"' if tip else ""
        cards.append(f'<div class="card"{tip_attr}><div class="{cls}">{_e(text)}</div>'
                     f'<div class="k">{label}</div></div>')
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""


def _kv(summary: dict[str, Any]) -> str:
    if not summary:
        return ""

    def dd(k: Any, v: Any) -> str:
        if isinstance(v, (list, tuple)) and v and any(len(display(x)) > 40 for x in v):
            return "<dd><ol>" + "".join(f"<li>{_e(display(x))}</li>" for x in v) + "</ol></dd>"
        return f"<dd>{_e(_value(k, v))}</dd>"

    rows = "".join(f"<dt>{_e(metric_label(k))}</dt>{dd(k, v)}" for k, v in summary.items())
    return f'<dl class="kv">{rows}</dl>'


#: tables up to this many rows and columns are shown open; longer or wider ones are folded (<details>)
OPEN_ROWS, OPEN_COLS = 8, 8
#: a text cell longer than this gets a minimum width, so a wide table scrolls instead of squashing it
LONG_CELL = 60


def _cell(v: Any, unit: str | None) -> str:
    k = sort_key(v)
    if k is None:
        text = display(v)
        cls = ' class="long"' if len(text) > LONG_CELL else ""
        return f"<td{cls}>{_e(text)}</td>"
    return f'<td class="num" data-v="{_e(repr(k))}">{_e(format_value(v, unit) if unit else display(v))}</td>'


def _table(table: Table, csv_name: str) -> str:
    """A sortable, horizontally scrollable table inside a <details> whose summary is its caption and size; open
    when small (:data:`OPEN_ROWS`, :data:`OPEN_COLS`)."""
    df = plain_frame(table.df)
    total = len(df)
    limit = max(0, int(table.max_rows))
    shown = df.iloc[:limit]
    cols = list(df.columns)
    units = [column_unit(c) for c in cols]
    head = "".join(f'<th scope="col"><button type="button">{_e(c)}</button></th>' for c in cols)
    body_rows = ["<tr>" + "".join(_cell(v, u) for v, u in zip(row, units)) + "</tr>"
                 for row in shown.itertuples(index=False, name=None)]
    size = f"{total:,} row{'s' if total != 1 else ''} × {len(cols)} column{'s' if len(cols) != 1 else ''}"
    is_open = " open" if total <= OPEN_ROWS and len(cols) <= OPEN_COLS else ""
    out = [
        f'<details class="fold"{is_open}><summary>{_e(table.caption or table.name)} <span class="n">({size})'
        "</span></summary>",
        '<div class="tablewrap"><table class="sortable">',
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>" + "".join(body_rows) + "</tbody></table></div>",
    ]
    if total > len(shown):
        out.append(f'<p class="note">showing {len(shown):,} of {total:,} rows — full table in {_e(csv_name)}</p>')
    elif total == 0:
        out.append('<p class="note">no rows</p>')
    out.append("</details>")
    return "".join(out)


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(bytes(png)).decode("ascii")
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption or "figure")}">{cap}</figure>'


def _paragraphs(sec: Section) -> list[str]:
    out = []
    for p in sec.paragraphs:
        if p.startswith(SNIPPET_HEAD):  # configuration to paste
            out.append(f'<pre class="snippet">{_e(p)}</pre>')
        elif p.startswith("Not measured:"):
            out.append(f'<div class="missing" role="note"><p>{_e(p)}</p></div>')
        else:
            out.append(f"<p>{_e(p)}</p>")
    return out


def _section(si: int, sec: Section, anchor: str, names: dict, head: list[str] | None = None,
             skip_tables: tuple[str, ...] = (), cls: str = "") -> str:
    """Section ``si``: title, why it is missing, ``head`` (default: its summary as a list), paragraphs, tables
    (but ``skip_tables``) and figures."""
    out = [f'<section id="{anchor}"{cls}><h2>{_e(sec.title)}</h2>']
    if sec.missing is not None:
        out.append(f'<div class="missing" role="note"><b>missing:</b> {_e(sec.missing)}</div>')
    out += head if head is not None else [_kv(summary_shown(sec))]
    out += _paragraphs(sec)
    out += [_table(t, names[("table", si, ti)]) for ti, t in enumerate(sec.tables) if t.name not in skip_tables]
    out += [_figure(fig.png, fig.caption) for fig in sec.figures]
    out.append("</section>")
    return "".join(out)


#: tables of the executive summary drawn as the first screen's verdict and ranked list, not as tables
FIRST_SCREEN_TABLES = ("gates", "top_seams")


def _verdict(gates: pd.DataFrame | None) -> str:
    """Gates passed or failed, and by how much (the executive summary's ``gates`` table, toolkit.report.sections)."""
    if gates is None or gates.empty:
        return ('<div class="verdict none"><b>Verdict: no CI gate was set.</b> '
                "Add <code>--fail-under METRIC=VALUE</code> (e.g. interaction-coverage=60) or "
                "<code>--fail-on new-untested-seam</code> to make this audit pass or fail.</div>")
    rows = gates.to_dict("records")
    failed = [r for r in rows if r.get("passed") is not True]
    head = (f"Verdict: all {len(rows)} CI gate{'s' if len(rows) != 1 else ''} passed" if not failed else
            f"Verdict: {len(failed)} of {len(rows)} CI gate{'s' if len(rows) != 1 else ''} failed")
    items = []
    for r in rows:
        unit = metric_unit(str(r.get("metric")))
        margin, value = r.get("margin"), r.get("value")
        if margin is not None and margin == margin and value is not None:  # a floor with a measured value
            shown = 100 * float(margin) if unit == "fraction" else abs(float(margin))
            by = format_value(abs(shown), "count" if unit == "count" else None)
            by += " points" if unit in ("%", "fraction") else ""
            text = (f"{metric_label(r['metric'])} {format_value(value, unit)} "
                    f"{'≥' if r.get('passed') else '<'} {format_value(r['threshold'], unit)} — "
                    + (f"passed by {by}" if r.get("passed") else f"short by {by}"))
        else:
            text = str(r.get("detail"))
        mark = "passed" if r.get("passed") is True else "failed"
        items.append(f'<li><span class="{"better" if mark == "passed" else "worse"}">{mark}</span> '
                     f"{_e(text)} <code>{_e(r.get('gate'))}</code></li>")
    cls = "fail" if failed else "pass"
    return f'<div class="verdict {cls}" role="status"><b>{_e(head)}.</b><ul>{"".join(items)}</ul></div>'


#: metric deltas shown on the first screen (the rest is in the comparison section)
DELTAS_SHOWN = 6


def _since(compare: Section | None, anchor: str | None) -> str:
    """What changed since the previous audit (the ``compare`` section), or how to get that comparison."""
    if compare is None:
        return ('<div class="since"><b>Since the previous audit:</b> no previous audit to compare with — pass '
                "<code>--compare PREVIOUS/findings.json</code> to see what got better or worse.</div>")
    s = compare.summary
    when = format_when(s["previous_generated"]) if s.get("previous_generated") else "an unknown date"
    head = (f"{s.get('metrics_better', 0)} headline number(s) better, {s.get('metrics_worse', 0)} worse "
            f"than the audit of {when}")
    items = []
    deltas = compare.table("metric_deltas")
    if deltas is not None and len(deltas):
        moved = deltas[deltas["change"].isin(["worse", "better"])]
        moved = pd.concat([moved[moved["change"] == "worse"], moved[moved["change"] == "better"]])
        for r in moved.head(DELTAS_SHOWN).to_dict("records"):
            unit = metric_unit(str(r["metric"]))
            items.append(f'<li><span class="{_e(r["change"])}">{_e(r["change"])}</span> '
                         f"{_e(metric_label(r['metric']))}: {_e(format_value(r['previous'], unit))} → "
                         f"{_e(format_value(r['now'], unit))}</li>")
    for key, text in (("new_untested_seams", "new untested seams"),
                      ("new_mocks_only_seams", "new seams exercised only through mocks"),
                      ("newly_covered_seams", "seams now covered by integration tests")):
        if s.get(key):
            cls = "better" if key == "newly_covered_seams" else "worse"
            items.append(f'<li><span class="{cls}">{_e(text)}</span>: {_e(display(s[key]))}</li>')
    more = f' <a href="#{anchor}">all changes</a>' if anchor else ""
    return f'<div class="since"><b>Since the previous audit:</b> {_e(head)}.{more}<ul>{"".join(items)}</ul></div>'


def _top_seams(sec: Section, ranking_anchor: str | None) -> str:
    """The top seams as a short ranked list: seam, one reason, one action."""
    table = sec.table("top_seams")
    more = f' <a href="#{ranking_anchor}">every seam and factor</a>' if ranking_anchor else ""
    if table is not None and len(table):
        items = "".join(
            f'<li><span class="seam">{_e(r["seam"])}</span>'
            + (f' <span class="note">(also {_e(r["other direction"])}: same pair)</span>'
               if isinstance(r.get("other direction"), str) and r["other direction"] else "")
            + f' — <span class="why">{_e(r["reason"])}</span>'
            f'<span class="act">→ {_e(r["action"])}</span></li>' for r in table.to_dict("records"))
        return f'<h3>Seams to test first</h3><ol class="topseams">{items}</ol><p class="note">{more}</p>'
    listed = sec.summary.get("top_risky_seams")
    if isinstance(listed, (list, tuple)) and listed:  # a report without the ranking table: its prose
        items = "".join(f"<li>{_e(display(x))}</li>" for x in listed)
        return f'<h3>Seams to test first</h3><ol class="topseams">{items}</ol>'
    return ""


def _first_screen(report: Report, si: int, sec: Section, anchors: list[str], names: dict) -> str:
    """The executive summary as the first screen: verdict, changes since the previous audit, the top seams,
    headline tiles (units, links to their sections), then what could not be measured."""
    links: dict[str, tuple[str, str]] = {}
    for i, other in enumerate(report.sections):
        if i != si:
            for k in other.summary:
                links.setdefault(str(k), (anchors[i], other.title))
    anchor_of = {s.id: anchors[i] for i, s in reversed(list(enumerate(report.sections)))}  # an id's first section
    head = [_verdict(sec.table("gates")), _since(report.section("compare"), anchor_of.get("compare")),
            _top_seams(sec, anchor_of.get("seam_ranking")),
            _cards({k: v for k, v in sec.summary.items() if not isinstance(v, str)}, links, sec.not_measured)]
    words = [f"{metric_label(k)}: {v}" for k, v in sec.summary.items() if isinstance(v, str)]
    if words:
        head.append(f'<p class="note">{_e(" · ".join(words))}</p>')
    return _section(si, sec, anchors[si], names, head, FIRST_SCREEN_TABLES, ' class="first"')


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
            cols = list(dict.fromkeys(str(k) for i in items for k in i))
            head = "".join(f"<th scope=\"col\">{_e(c)}</th>" for c in cols)
            lookup = [{str(k): v for k, v in i.items()} for i in items]
            body = "".join(
                "<tr>" + "".join(f"<td>{_e(display(r.get(c)))}</td>" for c in cols) + "</tr>" for r in lookup
            )
            return f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{tail}'
        lis = "".join(f"<li>{_prov(i, depth + 1)}</li>" for i in items)
        return f'<ul class="plist">{lis}</ul>{tail}'
    return _e(display(value))


def _audited(report: Report) -> str:
    """What was audited and when: repository, revision, audit date, history range (from the provenance)."""
    prov = report.provenance or {}
    items = []

    def item(label: str, value: Any, full: Any = None) -> None:
        tip = f' title="{_e(full)}"' if full is not None else ""
        items.append(f"<div><dt>{_e(label)}</dt><dd{tip}>{_e(value)}</dd></div>")

    def first(*keys: str) -> str | None:
        """The first of ``keys`` the provenance holds as one value, as text."""
        return next((display(prov[k]) for k in keys if k in prov and _is_scalar(prov[k])), None)

    if (repo := first("repository", "repo")) is not None:
        item("repository", repo)
    if prov.get("revision") is not None and (rev := first("revision")) is not None:
        item("revision", rev[:12], rev if len(rev) > 12 else None)
    if report.generated:
        item("audited", format_when(report.generated))
    if (history := first("commit range", "commit_range")) is not None:
        item("history", history)
    return f'<dl class="audited">{"".join(items)}</dl>' if items else ""


def _provenance_line(report: Report) -> str:
    """Tool and schema versions, under the title."""
    prov = report.provenance or {}
    parts = [f"{key} {display(prov[key])}" for key in ("version", "seamscope") if key in prov and _is_scalar(prov[key])]
    parts.append(f"schema {report.schema_version}")
    return _e(" · ".join(parts))


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML document (module docstring: the safety rules): the executive
    summary as the first screen, then the contents and the other sections in reading order."""
    names = output_names(report)
    anchors = [f"sec-{i + 1}" for i in range(len(report.sections))]
    summary_idx = next((i for i, s in enumerate(report.sections) if s.id == "summary"), None)
    order = reading_order(report)
    toc = []
    for i in order:
        sec = report.sections[i]
        tag = ' <span class="tag">(missing)</span>' if sec.missing is not None else ""
        toc.append(f'<li><a href="#{anchors[i]}">{_e(sec.title)}</a>{tag}</li>')
    toc.append('<li><a href="#methods">Methods &amp; provenance</a></li>')
    nav = f'<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>{"".join(toc)}</ol></nav>'
    body = [
        f"<header><h1>{_e(report.title)}</h1>{_audited(report)}",
        f'<p class="prov">{_provenance_line(report)}</p></header>',
    ]
    if summary_idx is None:
        body.append(nav)
    for i in order:
        sec = report.sections[i]
        if i == summary_idx:
            body.append(_first_screen(report, i, sec, anchors, names))
            body.append(nav)  # after the first screen: the verdict and the top seams come first
        else:
            body.append(_section(i, sec, anchors[i], names))
    body.append(
        '<section id="methods"><h2>Methods &amp; provenance</h2>'
        '<p class="note">What was read, what was skipped and why, tool versions and the commit range. '
        "Full tables are in tables/*.csv and findings.json next to this file.</p>"
        f'<details class="fold"><summary>Inputs, skipped parts, versions and timings</summary>'
        f"{_prov(report.provenance or {})}</details></section>"
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
