"""Report writers: escaping of untrusted text, self-containment, CSP, findings.json schema, atomic writing."""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from html.parser import HTMLParser

import jsonschema
import numpy as np
import pandas as pd
import pytest

from toolkit.report import writer as writer_mod
from toolkit.report.findings_json import dumps_findings, findings_schema, render_findings
from toolkit.report.html import CSP, SCRIPT, render_html
from toolkit.report.markdown import md_escape, render_markdown
from toolkit.report.model import Figure, Report, Section, Table, output_names
from toolkit.report.writer import write_report

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</style><script>alert(2)</script>",
    "'><svg onload=alert(3)>",
    "[click](javascript:alert(4))",
    "</title><script>alert(5)</script>",
    "<a href=\"https://evil.example/x\">x</a>",
    "$\\alpha$ | pipe\nnew line",
]
P = " ".join(PAYLOADS)

# smallest valid PNG (1x1), enough for embedding tests
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def evil_report() -> Report:
    df = pd.DataFrame({
        P: [P, "plain", "=HYPERLINK(\"http://evil\")"],
        "count": [1, 2, 3],
        "tags": [[P, "x"], [], ["<b>"]],
        "when": pd.to_datetime(["2024-01-02", None, "2024-03-04"]),
    })
    return Report(
        title=P,
        sections=[
            Section("summary", P, summary={P: P, "bugs": 3, "top_risky_seams": [P]}, paragraphs=[P],
                    tables=[Table(P, df, caption=P),
                            Table("top_seams", pd.DataFrame({"rank": [1], "seam": [P], "reason": [P], "action": [P]})),
                            Table("gates", pd.DataFrame([{"gate": P, "metric": P, "value": 1.0, "threshold": 2.0,
                                                          "margin": -1.0, "passed": False, "detail": P}]))],
                    figures=[Figure(P, PNG_1x1, caption=P)], not_measured={P: P}),
            Section(P, P, summary={"x" + P: 1.5}, paragraphs=[P, P], missing=P),
            Section("../../etc/passwd", P, tables=[Table("../x", df, caption=P, max_rows=1)]),
            Section("compare", P, summary={"previous_generated": P, "metrics_better": 0, "metrics_worse": 1,
                                           "new_untested_seams": [P]},
                    tables=[Table("metric_deltas", pd.DataFrame([{"metric": P, "previous": 1.0, "now": 0.0,
                                                                  "delta": -1.0, "change": "worse"}]))]),
        ],
        provenance={P: P, "read": [P, {"path": P, "reason": P}], "skipped": [{"path": P, "reason": P, "line": 3}],
                    "versions": {P: {P: [P]}}, "commit_range": P},
        generated="2026-01-01T00:00:00+00:00",
    )


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parse(doc: str) -> Collect:
    c = Collect()
    c.feed(doc)
    c.close()
    return c


def test_html_escapes_every_untrusted_string():
    doc = render_html(evil_report())
    for needle in ("<script>alert", "<img src=x", "<svg", "</style><script", "</title><script", '<a href="https'):
        assert needle not in doc
    c = parse(doc)
    assert len(c.scripts) == 1 and c.scripts[0] == SCRIPT
    assert [t for t, _ in c.tags].count("script") == 1
    for tag, attrs in c.tags:
        assert tag not in ("svg", "iframe", "object", "embed", "base", "form")
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower() or name == "alt"
            if name in ("href", "src"):
                assert value.startswith(("#sec-", "#methods", "data:image/png;base64,", "data:,")), (tag, value)
    # the text is still there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert doc.count("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") >= 10


def test_html_csp_pins_the_one_script_by_hash():
    doc = render_html(evil_report())
    c = parse(doc)
    metas = [a for t, a in c.tags if t == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"]
    assert len(metas) == 1
    policy = metas[0]["content"]
    assert policy == CSP
    digest = base64.b64encode(hashlib.sha256(c.scripts[0].encode()).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert "unsafe-inline" not in directives["script-src"]
    # CSP must come before anything the browser would load
    assert doc.index("Content-Security-Policy") < doc.index("<style>") < doc.index("<script>")
    assert "frame-ancestors" not in policy  # ignored (with a console error) when delivered by <meta>


def test_html_self_contained():
    doc = render_html(evil_report())
    attr_urls = re.findall(r"""\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*([^"'\s>]+)""", doc, re.I)
    assert attr_urls
    for url in attr_urls:
        assert not re.match(r"(?i)(https?:)?//", url), url
    assert "@import" not in doc and "url(" not in doc
    assert "<link" not in doc.replace('<link rel="icon" href="data:,">', "")


def test_html_structure_toc_summary_cards_missing_and_truncation():
    df = pd.DataFrame({"seam": [f"a->b{i}" for i in range(250)], "n": np.arange(250)})
    rep = Report(
        "Audit",
        [
            Section("seams", "Seams", summary={"seams": 250}, tables=[Table("seams", df, max_rows=100)]),
            Section("summary", "Executive summary", summary={"untested_seams": 12, "share": 0.25}),
            Section("bugs", "Bugs", missing="no issue export given"),
        ],
        provenance={"read": ["repo"], "skipped": [], "versions": {"seamscope": "0.1"}},
    )
    doc = render_html(rep)
    # summary first, rendered as cards, even though it is not the first section
    assert doc.index("Executive summary") < doc.index(">Seams<")
    assert '<div class="card"><div class="v">12</div><div class="k">untested seams</div></div>' in doc
    assert 'class="missing"' in doc and "no issue export given" in doc
    assert "showing 100 of 250 rows — full table in tables/seams__seams.csv" in doc
    c = parse(doc)
    assert sum(1 for t, _ in c.tags if t == "tr") == 1 + 100
    nums = [a for t, a in c.tags if t == "td" and "data-v" in a]
    assert nums[0]["data-v"] == "0.0" and len(nums) == 100  # numeric sort keys for the numeric column only
    hrefs = [a["href"] for t, a in c.tags if t == "a"]
    ids = {a["id"] for t, a in c.tags if "id" in a}
    assert hrefs and all(h[1:] in ids for h in hrefs)
    assert "Methods &amp; provenance" in doc and "seamscope" in doc


def test_markdown_keeps_payloads_inert():
    mistune = pytest.importorskip("mistune")
    md = render_markdown(evil_report())
    assert not re.search(r"(?<!\\)<", md)  # every '<' is backslash-escaped
    assert not re.search(r"(?<!\\)\[click\]\(javascript", md)  # the link opener is escaped
    # Render as a permissive renderer would (raw HTML allowed, GFM tables/autolinks) and look at the elements.
    to_html = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "url"])
    out = to_html(md)
    c = parse(out)
    tags = [t for t, _ in c.tags]
    assert "script" not in tags and "svg" not in tags
    for tag, attrs in c.tags:
        assert not any(k.startswith("on") for k in attrs)
        if tag == "a":
            raise AssertionError(f"untrusted text became a link: {attrs}")
        if tag == "img":
            assert re.fullmatch(r"figures/[A-Za-z0-9._-]+\.png", attrs["src"]), attrs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_markdown_tables_escape_pipes_newlines_and_truncate():
    df = pd.DataFrame({"a|b": ["x|y", "line1\nline2", "z"], "n": [1, 2.5, None]})
    md = render_markdown(Report("R", [Section("s", "S", tables=[Table("t", df, max_rows=2)])]))
    lines = md.splitlines()
    header = next(i for i, l in enumerate(lines) if l.startswith("| a"))
    assert lines[header] == r"| a\|b | n |"
    assert lines[header + 1] == "|---|---:|"
    assert lines[header + 2] == r"| x\|y | 1 |"
    assert lines[header + 3] == "| line1 line2 | 2.5 |"
    assert lines[header + 4] == ""
    assert "showing 2 of 3 rows — full table in `tables/s__t.csv`" in md


@pytest.mark.parametrize("text", ["- a", "1. a", "# h", "===", "> q", "`c`", "**b**", "~~s~~", "www.x.com", "http://x.y"])
def test_md_escape_line_start_and_inline_syntax(text):
    mistune = pytest.importorskip("mistune")
    out = mistune.create_markdown(escape=False, plugins=["strikethrough", "url"])(md_escape(text))
    assert out.strip() == "<p>" + text.replace(">", "&gt;") + "</p>"


def test_findings_json_validates_and_serialises_awkward_values():
    df = pd.DataFrame({
        "f": [1.5, np.nan, np.inf],
        "i": pd.array([1, None, 3], dtype="Int64"),
        "t": pd.to_datetime(["2024-01-01T10:00:00Z", None, "2024-01-03T00:00:00Z"]),
        "td": pd.to_timedelta([1, None, 3], unit="s"),
        "l": [["a", 1], [], np.array([1, 2])],
        "b": [True, False, True],
        "np": [np.int64(7), np.float32(0.5), np.bool_(True)],
    })
    rep = evil_report()
    rep.sections.append(Section("awk", "Awkward", summary={"n": np.int64(3), "r": np.float64("nan")},
                                tables=[Table("t", df), Table("t", df.head(1))]))
    rep.provenance["when"] = pd.Timestamp("2024-05-01")
    doc = json.loads(dumps_findings(rep))  # strict JSON (allow_nan=False inside)
    jsonschema.validate(doc, findings_schema(), cls=jsonschema.Draft202012Validator)
    sec = doc["sections"]["awk"]
    assert sec["summary"] == {"n": 3, "r": None}
    rows = sec["tables"]["t"]
    assert len(rows) == 3 and len(sec["tables"]["t~2"]) == 1
    assert rows[0]["f"] == 1.5 and rows[1]["f"] is None and rows[2]["f"] is None
    assert rows[1]["i"] is None and rows[2]["i"] == 3
    assert rows[0]["t"].startswith("2024-01-01T10:00:00") and rows[1]["t"] is None
    assert rows[1]["td"] is None and rows[0]["td"].startswith("P0DT0H0M1")
    assert rows[0]["l"] == ["a", 1] and rows[2]["l"] == [1, 2]
    assert rows[0]["b"] is True and rows[1]["np"] == 0.5
    assert doc["provenance"]["when"].startswith("2024-05-01")
    assert doc["sections"]["summary"]["tables"][P][0][P] == P  # untrusted text kept verbatim in JSON
    assert doc["sections"][P]["missing"] == P
    assert doc["generated"] == "2026-01-01T00:00:00+00:00"


def test_findings_schema_rejects_missing_keys():
    schema = findings_schema()
    doc = render_findings(Report("R", [Section("s", "S")]))
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    for key in ("schema_version", "generated", "provenance", "sections"):
        bad = dict(doc)
        del bad[key]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)
    bad = json.loads(json.dumps(doc))
    del bad["sections"]["s"]["missing"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def test_output_names_are_safe_and_unique():
    rep = evil_report()
    rep.sections.append(Section("../../etc/passwd", "dup", tables=[Table("../x", pd.DataFrame())]))
    names = output_names(rep)
    assert len(set(n.lower() for n in names.values())) == len(names)
    for rel in names.values():
        assert re.fullmatch(r"(tables/[A-Za-z0-9._-]+\.csv|figures/[A-Za-z0-9._-]+\.png)", rel), rel
        assert ".." not in rel.split("/")[1].split("__")[0][:2]


def test_write_report_files_and_csv_round_trip(tmp_path):
    rep = evil_report()
    out = tmp_path / "out"
    paths = write_report(rep, out)
    for key in ("html", "md", "json"):
        assert paths[key].is_file() and paths[key].parent == out.resolve()
    csvs = sorted((out / "tables").glob("*.csv"))
    assert len(csvs) == 5 and all(p.resolve().parent == (out / "tables").resolve() for p in csvs)
    assert len(list((out / "figures").glob("*.png"))) == 1  # report.md refers to it
    assert json.loads(paths["json"].read_text())["title"] == P


def test_write_report_writes_figures_and_round_trips(tmp_path):
    rep = evil_report()
    out = tmp_path / "out"
    paths = write_report(rep, out, formats=("html", "md", "json", "csv"))
    figs = list((out / "figures").glob("*.png"))
    assert len(figs) == 1 and figs[0].read_bytes() == PNG_1x1
    original = rep.sections[2].tables[0].df
    rel = output_names(rep)[("table", 2, 0)]
    back = pd.read_csv(out / rel, keep_default_na=False)
    assert len(back) == len(original)  # all rows, although the HTML shows max_rows=1
    assert list(back.columns) == [P, "count", "tags", "when"]
    assert back[P].tolist() == [P, "plain", "'=HYPERLINK(\"http://evil\")"]  # formula neutralised
    assert [json.loads(x) for x in back["tags"]] == [[P, "x"], [], ["<b>"]]
    assert back["count"].tolist() == [1, 2, 3]
    assert set(paths) >= {"html", "md", "json", rel, output_names(rep)[("figure", 0, 0)]}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dir left


def test_write_report_html_only(tmp_path):
    paths = write_report(evil_report(), tmp_path / "o", formats=["html"])
    assert set(paths) == {"html"}
    # beside the report only seamscope's own bookkeeping (its manifest and lock), hidden
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [".seamscope-manifest.json", ".seamscope.lock",
                                                                 "report.html"]


def test_write_report_rejects_unknown_format(tmp_path):
    from toolkit.errors import InputError

    with pytest.raises(InputError):
        write_report(evil_report(), tmp_path / "o", formats=("pdf",))
    assert not (tmp_path / "o").exists()


def test_failed_render_leaves_previous_report_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = Report("first", [Section("s", "S", tables=[Table("t", pd.DataFrame({"a": [1]}))])])
    write_report(first, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "notes.txt").write_text("user file")

    def boom(report):
        raise RuntimeError("renderer failed")

    # the HTML renders last, so CSV, JSON and Markdown have already been staged when it fails
    monkeypatch.setattr(writer_mod, "render_html", boom)
    second = Report("second", [Section("s", "S", tables=[Table("t", pd.DataFrame({"a": [2, 3]}))])])
    with pytest.raises(RuntimeError, match="renderer failed"):
        write_report(second, out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "notes.txt"}
    assert after == before
    assert (out / "notes.txt").read_text() == "user file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp dir behind


def test_rewrite_removes_stale_tables_but_not_user_files(tmp_path):
    out = tmp_path / "out"
    write_report(Report("a", [Section("s", "S", tables=[Table("old", pd.DataFrame({"a": [1]})),
                                                        Table("kept", pd.DataFrame({"a": [1]}))])]), out)
    (out / "tables" / "mine.csv").write_text("x\n1\n")
    write_report(Report("b", [Section("s", "S", tables=[Table("kept", pd.DataFrame({"a": [2]}))])]), out)
    names = sorted(p.name for p in (out / "tables").iterdir())
    assert names == ["mine.csv", "s__kept.csv"]
    assert pd.read_csv(out / "tables" / "s__kept.csv")["a"].tolist() == [2]
    assert json.loads((out / "findings.json").read_text())["title"] == "b"


def test_display_of_numbers_in_cards():
    rep = Report("R", [Section("summary", "Summary", summary={"big": 1234567, "ratio": 0.123456, "none": float("nan")})])
    doc = render_html(rep)
    assert ">1,234,567<" in doc and ">0.123<" in doc
    assert math.isnan(rep.sections[0].summary["none"])  # writers never mutate the report


def test_dumps_findings_equals_plain_json_dump_and_puts_records_on_lines():
    rep = evil_report()
    rep.sections.append(Section("empty", "E", tables=[Table("none", pd.DataFrame({"a": []}))]))
    text = dumps_findings(rep)
    assert json.loads(text) == json.loads(json.dumps(render_findings(rep)))
    assert not re.search(r"@@[0-9a-f]{32}:\d+@@", text)  # no placeholder left behind
    first = json.dumps(render_findings(rep)["sections"]["summary"]["tables"][P][0], ensure_ascii=False)
    assert first + "," in text.splitlines()  # one record per line
    assert '"none": []' in text


def test_duplicate_columns_and_labelled_index_survive_every_format(tmp_path):
    df = pd.DataFrame([[1, "=x", 3], [4, "y", 6]], columns=["a", "b", "a"],
                      index=pd.Index(["orders", "payments"], name="component"))
    rep = Report("R", [Section("s", "S", tables=[Table("t", df)])])
    records = render_findings(rep)["sections"]["s"]["tables"]["t"]
    assert records == [{"component": "orders", "a": 1, "b": "=x", "a~2": 3},
                       {"component": "payments", "a": 4, "b": "y", "a~2": 6}]
    write_report(rep, tmp_path / "o")
    back = pd.read_csv(tmp_path / "o" / "tables" / "s__t.csv")
    assert list(back.columns) == ["component", "a", "b", "a~2"] and back["b"].tolist() == ["'=x", "y"]
    assert "<th scope=\"col\"><button type=\"button\">a~2</button></th>" in render_html(rep)
    assert "| component | a | b | a\\~2 |" in render_markdown(rep)


def test_text_columns_of_the_string_dtype_are_guarded_and_missing_values_are_null(tmp_path):
    """Tables from the loaders hold text as pandas' string dtype (written column by column, not cell by cell):
    formulas are still neutralised in CSV, and a missing value is empty in CSV and null in findings.json."""
    df = pd.DataFrame({"title": pd.array(["=cmd|' /C calc'!A0", None, "-2+3", "fine"], dtype="string"),
                       "n": [1, 2, 3, 4]})
    rep = Report(title="t", sections=[Section("s", "S", tables=[Table("t", df)])], generated="2026-01-01T00:00:00+00:00")
    write_report(rep, tmp_path / "out", formats=("json", "csv"))
    back = pd.read_csv(tmp_path / "out" / output_names(rep)[("table", 0, 0)], keep_default_na=False)
    assert back["title"].tolist() == ["'=cmd|' /C calc'!A0", "", "'-2+3", "fine"]
    rows = json.loads((tmp_path / "out" / "findings.json").read_text())["sections"]["s"]["tables"]["t"]
    assert [r["title"] for r in rows] == ["=cmd|' /C calc'!A0", None, "-2+3", "fine"]


def _first_screen_report() -> Report:
    seams = pd.DataFrame({"seam": [f"a->b{i}" for i in range(30)], "calls": range(30)})
    ranking = pd.DataFrame({"rank": [1, 2], "seam": ["pay->inv", "doc->idx"], "reason": ["r1; more", "r2"],
                            "recommendation": ["act1", "act2"]})
    summary = Section(
        "summary", "Executive summary",
        summary={"top_risky_seams": ["pay->inv: r1; more", "doc->idx: r2"], "interaction_coverage": 73.3,
                 "backtest_top20_share": 100.0, "untested_seams": 2, "flaky_tests": None, "coverage_basis": "coverage"},
        not_measured={"flaky_tests": "Not measured: no test results.\nFix: pass --tests."},
        tables=[Table("top_seams", pd.DataFrame({"rank": [1, 2], "seam": ["pay->inv", "doc->idx"],
                                                 "reason": ["r1", "r2"], "action": ["act1", "act2"]})),
                Table("gates", pd.DataFrame([
                    {"gate": "--fail-under interaction-coverage=60", "metric": "interaction_coverage", "value": 73.3,
                     "threshold": 60.0, "margin": 13.3, "passed": True, "detail": "x"},
                    {"gate": "--fail-under backtest-top20-share=50", "metric": "backtest_top20_share",
                     "value": 25.0, "threshold": 50.0, "margin": -25.0, "passed": False, "detail": "y"}]))])
    return Report("Audit", [
        summary,
        Section("seam_ranking", "Seams to test first", summary={"top_risky_seams": ["pay->inv: r1; more"]},
                tables=[Table("seam_ranking", ranking)]),
        Section("interaction_coverage", "1. Coverage", summary={"interaction_coverage": 73.3, "untested_seams": 2},
                tables=[Table("seams", seams), Table("small", seams.head(3))]),
        Section("backtest", "Backtest", summary={"backtest_top20_share": 100.0}),
        Section("compare", "Since the previous audit",
                summary={"previous_generated": "2026-11-01T10:00:00+00:00", "metrics_better": 1, "metrics_worse": 1,
                         "new_untested_seams": ["x->y"]},
                tables=[Table("metric_deltas", pd.DataFrame([
                    {"metric": "interaction_coverage", "previous": 80.0, "now": 73.3, "delta": -6.7,
                     "change": "worse"},
                    {"metric": "untested_seams", "previous": 3, "now": 2, "delta": -1, "change": "better"}]))]),
    ], provenance={"repository": "/r/shop", "revision": "f8954a2a31691a5b7260ca45adcbd1db56be34b0",
                   "commit range": "2025-01-06 .. 2025-12-11 (168 commits)"},
        generated="2026-12-04T19:06:17+00:00")


def test_first_screen_answers_the_reader_in_order():
    doc = render_html(_first_screen_report())
    text = re.sub(r"<[^>]+>", "", doc)
    # what and when
    assert "repository/r/shop" in text and "revisionf8954a2a3169" in text and "audited2026-12-04 19:06 UTC" in text
    # the verdict, by how much (percentages in points)
    assert "Verdict: 1 of 2 CI gates failed." in text
    assert "interaction coverage 73.3 % ≥ 60 % — passed by 13.3 points" in text
    assert "later fixes in the top 20 % of seams 25 % &lt; 50 % — short by 25 points" in text
    # changes since the previous audit, the worse first
    assert "1 headline number(s) better, 1 worse than the audit of 2026-11-01 10:00 UTC" in text
    assert text.index("worse interaction coverage: 80 % → 73.3 %") < text.index("better untested seams: 3 → 2")
    assert "new untested seams: x-&gt;y" in text
    # the top seams: seam, one reason, one action, once
    top = re.search(r'<ol class="topseams">.*?</ol>', doc).group(0)
    assert re.sub(r"<[^>]+>", "", top) == "pay-&gt;inv — r1→ act1doc-&gt;idx — r2→ act2"
    assert "r1; more" not in doc.split('<nav class="toc"')[0]  # the run-on reason is the ranking's, not repeated
    # tiles with units, linked to the section that explains them; n/a says why
    assert '73.3 %</div><div class="k"><a href="#sec-3"' in doc
    assert '>100 %</div><div class="k"><a href="#sec-4"' in doc  # a fraction shown as a percentage
    assert 'title="Not measured: no test results."' in doc and ">n/a<" in doc
    assert "coverage basis: coverage" in text
    order = [doc.index(x) for x in ('class="verdict', 'class="since"', 'class="topseams"', 'class="cards"',
                                    '<nav class="toc"', 'id="sec-5"', 'id="sec-2"')]
    assert order == sorted(order)  # ... then the contents, the comparison, and the sections


def test_no_gates_and_no_previous_audit_say_how_to_get_them():
    rep = _first_screen_report()
    rep.sections[0].tables = [t for t in rep.sections[0].tables if t.name != "gates"]
    rep.sections.pop()
    text = re.sub(r"<[^>]+>", "", render_html(rep))
    assert "Verdict: no CI gate was set." in text and "--fail-under METRIC=VALUE" in text
    assert "no previous audit to compare with" in text and "--compare PREVIOUS/findings.json" in text


def test_long_tables_fold_and_scroll_instead_of_squashing():
    doc = render_html(_first_screen_report())
    assert '<details class="fold"><summary>seams <span class="n">(30 rows × 2 columns)</span></summary>' in doc
    assert '<details class="fold" open><summary>small <span class="n">(3 rows × 2 columns)</span>' in doc
    assert doc.count('<div class="tablewrap"><table class="sortable">') == 4  # ranking, seams, small, deltas
    css = re.search(r"th, td \{[^}]*\}", doc).group(0)
    assert "anywhere" not in css  # the rule that squashed the 43-column table to one letter per line
    assert "overflow-x: auto" in doc


def test_numbers_in_tables_and_markdown_use_the_shared_formatting():
    df = pd.DataFrame({"pair": ["a", "b"], "p_value": [0.24678111587982832, 3e-9], "median_days": [10.76, 0.0083],
                       "rate": [0.008333333333333333, 0.5]})
    rep = Report("R", [Section("summary", "S", summary={"interaction_coverage": 73.3,
                                                        "env_difference_p_value": 0.7204538281711852}),
                       Section("t", "T", tables=[Table("t", df)])])
    doc, md = render_html(rep), render_markdown(rep)
    for out in (re.sub(r"<[^>]+>", " ", doc), md):
        assert "0.25" in out and "10.8 days" in out and "0.0083" in out and "12 min" in out
        assert "0.2467" not in out and "0.7204538281711852" not in out and "e-03" not in out
    assert "&lt; 0.0001" in doc and "\\< 0.0001" in md  # escaped in both
    assert 'data-v="0.24678111587982832"' in doc  # sorting still by the exact number
    assert "- **interaction coverage**: 73.3 %" in md and "- **environment difference p**: 0.72" in md
