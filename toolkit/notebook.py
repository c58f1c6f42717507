"""Presentation glue for the guided notebooks: load from the parameters cell, show tables, pictures, widget details.

Every finding comes from :class:`toolkit.core.findings.Findings`; this module only turns the parameters cell
into an :class:`~toolkit.config.AuditConfig`, shows bad inputs as one-line errors and arranges results for
display (HTML tables with every cell escaped, PNGs from :mod:`toolkit.viz.plots`, the coupling widget's panel).
"""
from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.vocab.components import pair_name
from toolkit.config import AuditConfig, SAMPLE_DIR, labels_path, resolve_config, sample_backtest_rev, with_default_labels
from toolkit.errors import InputError, SeamscopeError

__all__ = ["notebook_config", "config_from_params", "load", "out_folder", "backtest_revisions", "show_trend", "need",
           "show_table", "show_summary", "show_metrics", "audit_of", "png", "headline",
           "details_for_graph", "review_widget", "seam_status_png", "interface_scores_png", "bugs_by_quarter_png",
           "failure_rates_png", "report_contents", "report_table", "PARAMETER_OF_FLAG"]

#: which notebook parameter stands for which CLI flag in AuditConfig's errors
PARAMETER_OF_FLAG = {"REPO": "repo", "--tests": "tests", "--coverage": "coverage", "--issues": "issues",
                     "--labels": "labels", "--config": "config", "--contracts": "contracts", "--traces": "traces"}


def _paths(value: str | os.PathLike | Iterable[str | os.PathLike] | None) -> tuple[Path, ...]:
    values = () if value is None else [value] if isinstance(value, (str, os.PathLike)) else value
    return tuple(Path(v).expanduser() for v in values)


def config_from_params(repo: str | os.PathLike, tests: Any = (), coverage: str | os.PathLike | None = None,
                       issues: Any = (), labels: str | os.PathLike | None = None, at: str | None = None,
                       *, name: str | None = None, **extra: Any) -> AuditConfig:
    """The ``AuditConfig`` a notebook's parameters cell describes (strings or lists of strings; None = not given)."""
    return AuditConfig(repo=Path(repo).expanduser(), tests=_paths(tests),
                       coverage=Path(coverage).expanduser() if coverage else None, issues=_paths(issues),
                       labels=Path(labels).expanduser() if labels else None, at=at or None, name=name, **extra)


def _short_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    """IPython custom exception handler: a seamscope error is one clear line, not a traceback into the library."""
    stb = [f"{etype.__name__}: {value}"]
    # sends the error output Jupyter shows and papermill/nbclient report, as for any other error
    shell._showtraceback(etype, value, stb)
    return stb


def _install_short_errors() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: exceptions propagate as usual
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((SeamscopeError,), _short_error)


def _named_in(exc: InputError, where: str) -> InputError:
    """``exc`` (from :meth:`AuditConfig.check_paths`) naming the key or parameter ``where`` instead of the CLI flag."""
    param = PARAMETER_OF_FLAG.get(exc.flag or "", exc.flag)
    return InputError(exc.path, exc.what, line=exc.line, record=exc.record, hint=exc.hint,
                      flag=where.format(param=param))


def notebook_config(config: str | os.PathLike | AuditConfig | None = None) -> AuditConfig:
    """The configuration a notebook's ``CONFIG`` names, found by the CLI's rule (:func:`~toolkit.config.resolve_config`)
    with the labels the review widget saved, so a notebook and ``seamscope audit`` in one folder audit the same
    inputs. A missing path raises :class:`~toolkit.errors.InputError` naming the key (or parameter) that gave it."""
    _install_short_errors()
    if isinstance(config, AuditConfig):
        conf, where = config, "the parameter {param!r} in the notebook's parameters cell"
    else:
        conf = with_default_labels(resolve_config(Path(config).expanduser() if config else None))
        where = "the key {param!r} in " + str(conf.source) if conf.source else "{param!r} of the embedded sample"
    try:
        conf.check_paths()
    except InputError as exc:
        raise _named_in(exc, where) from None
    return conf


def load(config: str | os.PathLike | AuditConfig | None = None):
    """Read every input of the configuration once (see :func:`notebook_config`); return ``(evidence, findings)``."""
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings
    from toolkit.runtime.gcpause import collection_paused

    resolved = notebook_config(config)  # installs the one-line errors
    with collection_paused():  # as the CLI does (toolkit.runtime.gcpause): a kernel's collector is on
        ev = load_evidence(resolved)
    return ev, Findings(ev)


def out_folder(config: AuditConfig, out: str | os.PathLike | None = None) -> Path:
    """Where notebook 06 writes the report: ``out`` when given, else ``seamscope-report`` beside the configuration
    (the working directory for the embedded sample) — with the project, like the labels, not in /tmp."""
    if out:
        return Path(out).expanduser()
    return labels_path(config.with_(labels=None)).parent / "seamscope-report"


def backtest_revisions(config: AuditConfig, at: str | Sequence[str] | None = None) -> str | list[str] | None:
    """The revisions notebook 06 backtests the ranking at: ``at`` when given; else the embedded sample's own
    backtest revision when the sample is audited (as ``seamscope audit --backtest`` does), else none."""
    if at:
        return at if isinstance(at, str) else list(at)
    return sample_backtest_rev() if config.repo == SAMPLE_DIR / "repo.bundle" else None


def show_trend(written: dict[str, Path], previous: Iterable[str | os.PathLike] = ()):
    """The headline metrics over time (:mod:`toolkit.report.trend`): the audits in ``previous`` (findings.json
    files or report folders) and the one just ``written``; with no earlier audit, a sentence saying how to get one."""
    from toolkit.report import trend

    earlier = [Path(p).expanduser() for p in previous]
    if not earlier:
        return HTMLTable("<p><em>no earlier audit: list earlier findings.json files or report folders in PREVIOUS "
                         "(e.g. the reports CI keeps) to see the headline metrics over time</em></p>",
                         "no earlier audit: list earlier findings.json files in PREVIOUS")
    t = trend.read_trend([*earlier, written["json"]])
    from IPython.display import display

    display(png(trend.trend_png(t)))
    return show_table(trend.table(t), max_rows=max(1, len(t.metrics)), caption="Headline metrics over time")


def need(result: Any, parameter: str, what: str = "this notebook"):
    """``result`` when the analysis could run; else an InputError saying which parameter to set."""
    if result is None:
        raise InputError(None, f"{what} needs the notebook parameter {parameter!r}, which was not given",
                         hint=f"set {parameter} in the parameters cell and run all cells again")
    return result


# ---- display ---------------------------------------------------------------------------------------------------
#: columns holding p-values: shown to two significant digits (more digits claim a precision a test does not have)
P_VALUE_COLUMNS = frozenset({"p_value", "p_adjusted"})


def _cell(value: Any, limit: int, digits: int = 3) -> str:
    if isinstance(value, (list, tuple, set, frozenset)) or (hasattr(value, "tolist") and getattr(value, "ndim", 0)):
        items = list(value.tolist() if hasattr(value, "tolist") else value)
        text = ", ".join(str(v) for v in items)
    elif value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        text = ""
    elif isinstance(value, float):
        text = f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, pd.Timestamp):
        text = f"{value:%Y-%m-%d}"
    else:
        text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text)


class HTMLTable:
    """An escaped HTML table (rich display in Jupyter, plain text elsewhere)."""

    def __init__(self, markup: str, text: str) -> None:
        self.markup = markup
        self.text = text

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return self.text


def show_table(df: pd.DataFrame | None, *, max_rows: int = 15, page: int = 1, sort_by: str | Sequence[str] | None = None,
               ascending: bool = True, columns: Sequence[str] | None = None, caption: str | None = None,
               max_chars: int = 120, empty: str | None = None) -> HTMLTable:
    """One page of ``df`` as an HTML table: ``max_rows`` rows of page ``page``, sorted by ``sort_by``.

    Every cell is escaped (bug titles and paths are untrusted text), lists are joined and long text is cut at
    ``max_chars``. The footer says which rows are shown and how to see the next page; ``empty`` says why a table
    has no rows."""
    if df is None:
        return HTMLTable("<p><em>no data (the input this table needs was not given)</em></p>", "no data")
    d = df
    if sort_by is not None:  # before choosing columns: a table may be sorted by a column it does not show
        d = d.sort_values(sort_by, ascending=ascending, kind="stable")
    if columns is not None:
        d = d[list(columns)]
    total = len(d)
    pages = max(1, -(-total // max_rows))
    page = min(max(1, page), pages)
    start = (page - 1) * max_rows
    shown = d.iloc[start:start + max_rows]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    digits = [2 if c in P_VALUE_COLUMNS else 3 for c in shown.columns]
    body = "".join("<tr>" + "".join(f"<td>{_cell(v, max_chars, d)}</td>" for v, d in zip(row, digits)) + "</tr>"
                   for row in shown.itertuples(index=False, name=None))
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    if total == 0:
        foot = f"no rows: {empty}" if empty else "no rows"
    else:
        foot = f"rows {start + 1}–{start + len(shown)} of {total}"
        if sort_by is not None:
            foot += f", sorted by {sort_by} ({'ascending' if ascending else 'descending'})"
        if page < pages:
            foot += f"; page {page} of {pages}: pass page={page + 1} for the next rows"
    markup = (f'<div class="seamscope-table" style="max-height:32em;overflow:auto">'
              f'<table class="dataframe">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
              f'<p style="font-size:85%;color:#555">{html.escape(foot)}</p></div>')
    text = shown.to_string(max_colwidth=40) + f"\n[{foot}]" if total else foot
    return HTMLTable(markup, text)


def _whole(rows: pd.DataFrame, caption: str | None, max_chars: int = 300) -> HTMLTable:
    """Every row of a short table (a summary, the metrics, the report's sections) on one page."""
    return show_table(rows, max_rows=max(1, len(rows)), caption=caption, max_chars=max_chars)


def show_summary(summary: dict[str, Any], *, caption: str | None = None) -> HTMLTable:
    """A method's ``summary`` dict as a two-column table (lists joined)."""
    return _whole(pd.DataFrame({"measure": list(summary), "value": list(summary.values())}), caption)


def png(data: bytes):
    """PNG bytes (from :mod:`toolkit.viz.plots`) as an inline image."""
    from IPython.display import Image

    return Image(data=data, format="png")


def audit_of(f, only: Sequence[str] | None = None):
    """The Audit of ``f`` as ``seamscope audit`` builds it (toolkit.core.audit_result.Audit): its metrics by id
    (``audit.value("interaction-coverage")``), not-measured reasons and top seams. ``only``: keys of
    ``toolkit.core.metrics_of.METHODS`` to run (default all, with the executive summary)."""
    from toolkit.core.audit_result import Audit
    from toolkit.core.metrics_of import METHODS

    measured = {k: method(f) for k, method in METHODS.items() if only is None or k in only}
    return Audit.of(f, measured, summary=only is None)


def show_metrics(audit, ids: Sequence[str] | None = None, *, caption: str | None = None) -> HTMLTable:
    """Metrics of an Audit (:func:`audit_of`) by id (default: all it holds) with label, unit and, when n/a, why:
    the same ids, units and values as the report, findings.json and the ``--fail-under`` gates."""
    from toolkit.vocab.metrics import METRICS

    ids = [i for i in (ids if ids is not None else audit.metrics) if audit.has(i)]
    rows = pd.DataFrame({"metric": [METRICS[i].label for i in ids], "id": list(ids),
                         "value": [audit.value(i) for i in ids], "unit": [METRICS[i].unit for i in ids],
                         "not measured because": [audit.why_not(i).partition("\n")[0] for i in ids]})
    return _whole(rows, caption)


def headline(f) -> HTMLTable:
    """The report's executive-summary numbers for ``f``, by metric id from its Audit (as the report shows them)."""
    from toolkit.vocab.metrics import HEADLINES

    from toolkit.report.sections import method_section, summary_section

    audit = audit_of(f)
    missing = [method_section(k, f, audit) for k, m in audit.measured.items() if m.missing]
    said = summary_section(audit, missing).paragraphs
    table = show_metrics(audit, HEADLINES, caption="Headline numbers")
    if said:
        table.markup += ("<p><strong>Not measured:</strong></p><ul>" + "".join(f"<li>{html.escape(p)}</li>"
                                                                                for p in said) + "</ul>")
        table.text += "\nNot measured: " + "; ".join(said)
    return table


# ---- pictures ----------------------------------------------------------------------------------------------------
def seam_status_png(f) -> bytes:
    """Call sites per seam by status (integration / isolation only / untested), least covered first."""
    from toolkit.viz.plots import stacked_bar_png

    seams = f.interaction.seams
    cols = [c for c in ("integration", "isolation_only", "untested") if c in seams.columns]
    d = seams.sort_values(["pct_integration", "call_sites"], ascending=[True, False]).set_index("seam")[cols]
    return stacked_bar_png(d, title=f"Call sites per seam by status ({f.interaction.basis})", xlabel="call sites",
                           palette="coverage")


def interface_scores_png(f) -> bytes:
    """Mean documentation score (0..1) per seam, worst first."""
    from toolkit.viz.plots import bar_png

    seams = f.interfaces.seams.sort_values("mean_score").set_index("seam")["mean_score"]
    return bar_png(seams, title="Interface documentation score per seam (worst first)", xlabel="mean score (0..1)")


def bugs_by_quarter_png(f) -> bytes:
    """Bugs per quarter, stacked by category."""
    from toolkit.vocab.categories import CATEGORIES
    from toolkit.viz.plots import stacked_bar_png

    q = f.bugs.by_quarter.set_index("quarter")
    return stacked_bar_png(q[[c for c in CATEGORIES if c in q.columns]], title="Bugs per quarter by category",
                           xlabel="bugs", palette="bug_category")


def failure_rates_png(f) -> bytes:
    """Test failure rate per environment, environments in their order of integration."""
    from toolkit.viz.plots import bar_png

    rates = f.environments.failure_rates.set_index("environment")["failure_rate"]
    return bar_png(rates, title="Test failure rate per environment", xlabel="failed / executions")


# ---- widgets -------------------------------------------------------------------------------------------------
def show_learning(bugs: Any) -> HTMLTable:
    """What the analyst labels taught (``BugCategories.learning``): the classifier's cross-validated P/R/F1 beside
    the rules', or, with too few labels, how many more are needed."""
    from toolkit.analyze.bug_classifier import MIN_LABELS

    ln = bugs.learning
    if ln is None or ln.evaluation is None:
        labelled, needed, note = ((0, MIN_LABELS, "no labels file yet: label bugs in the review widget, then load "
                                   "again") if ln is None else (ln.labelled, ln.needed, ln.note))
        return show_summary({"labelled bugs": labelled, "labels needed before the classifier is trained": needed,
                             "note": note}, caption="Learning from the analyst")
    return show_table(ln.evaluation, max_rows=len(ln.evaluation), caption=ln.note, max_chars=300)


def review_widget(f, labels: str | os.PathLike | None = None, **kwargs: Any):
    """The bug-review widget over ``f``'s bugs, most uncertain first, suggestions from the categorization (and the
    classifier, when it decided), decisions saved to ``labels`` (default: beside the configuration,
    :func:`~toolkit.config.labels_path`, where the next audit reads them)."""
    from toolkit.analyze.bug_categorization import bug_issues
    from toolkit.viz.review_widget import BugReviewWidget

    path = Path(labels).expanduser() if labels is not None else labels_path(f.ev.config)
    path.parent.mkdir(parents=True, exist_ok=True)
    bugs = need(f.bugs, "issues", "bug review")
    return BugReviewWidget(bug_issues(f.ev.issues), labels_path=path, suggestions=bugs.bugs, links=f.ev.links,
                           **kwargs)


# ---- the coupling widget's side panel ----------------------------------------------------------------------------
def details_for_graph(f, *, max_rows: int = 50) -> Callable[[str], dict[str, list[dict]]]:
    """``details(id)`` for :class:`~toolkit.viz.graph_widget.CouplingGraphWidget`: for a component (node) or a
    seam ``a->b`` (edge), its call sites, the tests that run them for real (``exercises="real"``) or only with the
    callee mocked (``"mocked"``), the bugs whose fixes touched it (both sides of a seam) and its service
    interactions (:func:`_service_interactions`). Lists are capped at ``max_rows``.
    """
    cs = f.interaction.call_sites
    seams = f.interaction.seams
    ic = f.ev.links.issue_components if f.ev.links is not None else None
    # each bug's title, category and environment by key (one row per bug)
    facts = f.bugs.bugs.set_index("key")[["title", "category", "environment"]].to_dict("index") \
        if f.bugs is not None else {}
    # bugs whose fixes touched both components of a pair: the cross-component analysis's own lists
    pair_keys = dict(zip(f.cross_bugs.pairs["pair"], f.cross_bugs.pairs["keys"])) if f.cross_bugs is not None else {}

    def _bug_rows(keys: Iterable[str]) -> list[dict]:
        return [{"key": k, **facts.get(k, {})} for k in sorted(set(keys))][:max_rows]

    service_rows = _service_interactions(f)

    def details(ident: str) -> dict[str, list[dict]]:
        if "->" in ident:
            a, _, b = ident.partition("->")
            rows = cs[cs["seam"] == ident]
            keys = set(pair_keys.get(pair_name(a, b), ()))
        else:
            rows = cs[(cs["caller_component"] == ident) | (cs["callee_component"] == ident)]
            keys = set(ic.loc[ic["component"] == ident, "issue_key"]) if ic is not None else set()
        rows = rows.sort_values(["path", "line"])
        sites = [{"path": r["path"], "line": int(r["line"]), "seam": r["seam"], "callee": r["callee"],
                  "status": r["status"]} for r in rows.head(max_rows).to_dict("records")]
        # per (test, seam): call-site lists (measured coverage) plus the seam lists (which also hold the static
        # estimate's test files); "real" wins over "mocked" on the same seam
        on_seams = seams[seams["seam"] == ident] if "->" in ident else \
            seams[(seams["caller_component"] == ident) | (seams["callee_component"] == ident)]
        how: dict[tuple[str, str], str] = {}
        for r in [*rows.to_dict("records"), *on_seams.to_dict("records")]:
            for col, kind in (("tests_real", "real"), ("tests_real_list", "real"), ("tests_mocked", "mocked"),
                              ("tests_mocking_list", "mocked")):
                v = r.get(col)
                for t in v if v is not None and not isinstance(v, (int, float)) else ():
                    if kind == "real" or (str(t), r["seam"]) not in how:
                        how[(str(t), r["seam"])] = kind
        tests = [{"test_id": t, "seam": seam, "exercises": kind}
                 for (t, seam), kind in sorted(how.items(), key=lambda kv: (kv[1] != "real", kv[0]))]
        return {"call_sites": sites, "tests": tests[:max_rows], "bugs": _bug_rows(keys),
                "service_interactions": service_rows(ident)[:max_rows]}

    return details


def _service_interactions(f) -> Callable[[str], list[dict]]:
    """``rows(id)``: the HTTP endpoints and message topics on a seam ``a->b`` (or a component's seams), one row per
    static call/publish site (``where`` = file:line) with whether test traces exercised it (``tests``)."""
    svc = f.services
    inter = svc.interactions
    traced = svc.trace_edges is not None and bool(svc.summary.get("pct_static_service_seams_exercised") is not None
                                                   or (svc.seams["test_calls"] > 0).any())
    scan = f.ev.service_scan
    sites: dict[tuple, list[str]] = {}
    if scan is not None:
        for r in scan.calls.dropna(subset=["seam"]).itertuples(index=False):
            key = (r.seam, "http", r.method if pd.notna(r.method) else "ANY", r.path_template)
            sites.setdefault(key, []).append(f"{r.path}:{int(r.line)}")
        pubs = scan.messages[scan.messages["direction"] == "publish"].dropna(subset=["topic"])
        for m in svc.messages.itertuples(index=False):
            here = pubs[(pubs["service"] == m.caller_service) & (pubs["topic"] == m.topic)]
            sites.setdefault((m.seam, "message", "PUBLISH", m.topic), []).extend(
                f"{p}:{int(n)}" for p, n in zip(here["path"], here["line"]))

    def tested(r: dict) -> str:
        if r["exercised_by_tests"]:
            return "exercised by tests"
        if r["production_only"]:
            return "only seen in production"
        return "not exercised by tests" if traced else "no test traces"

    def rows(ident: str) -> list[dict]:
        if inter is None or inter.empty:
            return []
        if "->" in ident:
            on = inter[inter["seam"] == ident]
        else:
            a_b = inter["seam"].str.partition("->")
            on = inter[(a_b[0] == ident) | (a_b[2] == ident)]
        out = []
        for r in on.sort_values(["seam", "kind", "path_template", "method"]).to_dict("records"):
            what = f"topic {r['path_template']}" if r["kind"] == "message" else f"{r['method']} {r['path_template']}"
            here = sites.get((r["seam"], r["kind"], r["method"], r["path_template"]), [])
            for where in sorted(here) or ["(traces only)" if r["call_sites"] == 0 else ""]:
                out.append({"seam": r["seam"], "kind": r["kind"], "interaction": what, "where": where,
                            "tests": tested(r), "test_calls": int(r["test_calls"]),
                            "production_calls": int(r["production_calls"])})
        return out

    return rows


def report_contents(report) -> HTMLTable:
    """One row per report section: its title, tables and figures, or why it is missing."""
    return _whole(pd.DataFrame([{"section": s.title, "tables": [t.name for t in s.tables],
                                 "figures": [fig.name for fig in s.figures], "missing": s.missing or ""}
                                for s in report.sections]), "Report sections", max_chars=120)


def report_table(report, section: str, table: str, *, missing_ok: bool = False) -> pd.DataFrame | None:
    """The table ``table`` of the report section with id ``section`` (what the report's CSV of it holds);
    ``None`` when ``missing_ok`` and the report has no such section (an optional one, such as the backtest)."""
    s = report.section(section)
    if s is not None:
        df = s.table(table)
        if df is None:
            raise KeyError(f"section {section!r} has no table {table!r}; it has {[t.name for t in s.tables]}")
        return df
    if missing_ok:
        return None
    raise KeyError(f"the report has no section {section!r}; it has {[s.id for s in report.sections]}")
