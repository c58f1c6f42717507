"""The guided notebooks: run top to bottom with papermill on the sample and on a second, different system.

Every notebook is executed twice (the shop sample; the generated ``ledger`` system without coverage) by
papermill, one kernel per core at a time, with the venv's ``python3`` kernel and one shared cache. A bad path in
the parameters cell must stop at the load cell with the library's one-line ``InputError``. The notebooks in
git carry no outputs and start with a ``parameters``-tagged cell. The display glue in ``toolkit.notebook``
is tested in-process.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from toolkit.config import SAMPLE_DIR, sample_config
from toolkit.errors import InputError
from toolkit.sample.small import build_small

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = ["00_overview", "01_integration_test_coverage", "02_bug_categorization", "03_interface_documentation",
             "04_cross_component_bugs", "05_environment_comparison", "06_audit_report"]
PARAMETERS = {"CONFIG"}  # every notebook: the configuration, as `seamscope audit` finds it
PARAMETERS_06 = {"OUT", "BACKTEST_AT", "PREVIOUS"}  # the report notebook: where it writes, backtest, trend
pytestmark = pytest.mark.xdist_group("notebooks")


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def nb_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("seamscope-cache")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    return build_small(tmp_path_factory.mktemp("ledger"))


@pytest.fixture(scope="module")
def sample_before() -> str:
    """The sample's content before any notebook ran."""
    return _tree_digest(SAMPLE_DIR)


def _write_config(folder: Path, **keys) -> Path:
    """A seamscope.toml in ``folder`` (outside any repository, so absolute paths are allowed) with ``keys``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for k, v in keys.items():
        v = [str(x) for x in v] if isinstance(v, (list, tuple)) else str(v)
        lines.append(f"{k} = {json.dumps(v)}")  # JSON strings and arrays of them are valid TOML
    path = folder / "seamscope.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _dataset_configs(work: Path, small: dict) -> dict[str, Path]:
    """One seamscope.toml per dataset, each in a folder of its own (labels default beside it)."""
    c = sample_config()
    return {
        "sample": _write_config(work / "sample", repo=c.repo, tests=c.tests, coverage=c.coverage, issues=c.issues,
                                contracts=c.contracts, traces=c.traces, name=c.name),
        "ledger": _write_config(work / "ledger", repo=small["repo"], tests=small["tests"], issues=small["issues"]),
    }


def _execute(name: str, out: Path, params: dict) -> str:
    """Run one notebook with papermill and a fresh ``python3`` kernel; return the error text ('' when it ran).

    No ``cwd``: papermill would ``os.chdir`` the whole process, which threads cannot share. The kernel then
    starts in the test's working directory, which also shows the notebooks need none of their own.
    """
    from papermill import execute_notebook
    from papermill.exceptions import PapermillExecutionError

    try:
        execute_notebook(str(NB_DIR / f"{name}.ipynb"), str(out), parameters=params, kernel_name="python3",
                         progress_bar=False, execution_timeout=300)
    except PapermillExecutionError as exc:
        return str(exc)
    return ""


@pytest.fixture(scope="module")
def executed(tmp_path_factory, small, nb_cache, sample_before) -> dict[tuple[str, str], tuple]:
    """(dataset, notebook) -> (executed notebook, error text, parameters); all 14 runs, one kernel per core."""
    work = tmp_path_factory.mktemp("executed")
    # the ledger has no services (00 and 01 read them) and no backtest revision of its own (06: none)
    datasets = {ds: {"CONFIG": str(path)} for ds, path in _dataset_configs(work, small).items()}
    jobs = [(ds, name) for ds in datasets for name in NOTEBOOKS]

    def run(job):
        ds, name = job
        out = work / f"{ds}-{name}.ipynb"
        params = {**datasets[ds], **({"OUT": str(work / f"{ds}-report")} if name == "06_audit_report" else {})}
        err = _execute(name, out, params)
        return job, (nbformat.read(out, as_version=4), err, params)

    workers = max(2, os.cpu_count() or 2)
    with pytest.MonkeyPatch.context() as mp, ThreadPoolExecutor(max_workers=workers) as pool:
        mp.setenv("SEAMSCOPE_CACHE", str(nb_cache))  # kernels inherit it: every run shares one cache
        # one notebook per dataset first, so the parallel runs read the cache instead of racing to fill it
        first = dict(pool.map(run, [("sample", NOTEBOOKS[0]), ("ledger", NOTEBOOKS[0])]))
        rest = dict(pool.map(run, [j for j in jobs if j[1] != NOTEBOOKS[0]]))
    return {**first, **rest}


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(nb) -> str:
    parts = []
    for o in _outputs(nb):
        data = o.get("data", {})
        parts.append("".join(data.get("text/html", "")) + "".join(data.get("text/plain", "")) + "".join(o.get("text", "")))
    return "\n".join(parts)


# ---- committed notebooks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_clean_and_parameterised(name):
    nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{name} has committed outputs"
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    assigned = {t.id for node in ast.parse(code[0].source).body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    assert assigned == PARAMETERS | (PARAMETERS_06 if name == "06_audit_report" else set())
    assert "data/sample" not in code[0].source  # paths come from toolkit.config.SAMPLE_DIR (any cwd)
    # no logic in notebooks: no loops, no function definitions, no table wrangling
    for cell in code[1:]:
        tree = ast.parse(cell.source)
        bad = [type(n).__name__ for n in ast.walk(tree)
               if isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.Lambda, ast.ListComp, ast.DictComp))]
        calls = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr in {"groupby", "merge", "apply", "pivot", "pivot_table", "agg", "join", "query"}]
        assert not bad and not calls, f"{name}: logic in a notebook cell: {bad + calls}\n{cell.source}"
    assert any(c.cell_type == "markdown" and "What to do next" in c.source for c in nb.cells)


# ---- execution ----------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["sample", "ledger"])
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(executed, dataset, name):
    nb, err, params = executed[(dataset, name)]
    assert not err, err[-3000:]
    errors = [o for o in _outputs(nb) if o.output_type == "error"]
    assert not errors, errors
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    labels = Path(params["CONFIG"]).parent / "seamscope-labels.csv"  # the default: beside the configuration
    assert not labels.exists()  # opening the review widget (or reading labels) decides nothing
    text = _text(nb)
    if name == "01_integration_test_coverage":
        assert ("static estimate" in text) == (dataset == "ledger")
        assert ("journal-&gt;rates" in text) == (dataset == "ledger")  # the ledger's mocked seam, escaped
    if name in ("00_overview", "01_integration_test_coverage"):  # the service-level step
        assert "Service seams" in text and "Service-level coverage" in text
        if dataset == "sample":
            assert "orders-&gt;notifications" in text and "production_only" in text  # traced in production only
            assert "pact_missing_response_field" in text
        else:
            assert "no rows: this system has no service seams" in text
    if name == "00_overview":
        outs = _outputs(nb)
        at = next(i for i, o in enumerate(outs) if "CouplingGraphWidget" in "".join(o.get("data", {}).get("text/plain", "")))
        widget, picture = outs[at], outs[at + 1]
        assert "application/vnd.jupyter.widget-view+json" in widget["data"]
        # the static picture is an output of its own (an export with saved widget state shows it, not an empty cell)
        assert 'data:image/png;base64,' in "".join(picture["data"]["text/html"])
        assert ("5 components" if dataset == "ledger" else "10 components") in "".join(widget["data"]["text/plain"])
    if name == "06_audit_report":
        report = Path(params["OUT"])
        assert (report / "report.html").exists() and (report / "findings.json").exists()
        findings = json.loads((report / "findings.json").read_text())
        assert findings
        assert ("backtest" in findings["sections"]) == (dataset == "sample")  # backtest_at: the sample's default
        if dataset == "sample":
            assert findings["sections"]["backtest"]["summary"]["backtest_beats_baselines"] is True
        assert "no earlier audit" in text  # PREVIOUS empty: the trend says how to get one


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["sample", "ledger"])
def test_notebook_06_and_the_cli_agree(executed, dataset, nb_cache, tmp_path):
    """The same seamscope.toml through notebook 06 and `seamscope audit --config`: the same top seams and the same
    headline metrics (once each notebook had its own parameters and 06 ranked a different fifth seam)."""
    import sys

    from toolkit.config import sample_backtest_rev
    from toolkit.report.trend import metric_values

    nb, err, params = executed[(dataset, "06_audit_report")]
    assert not err, err[-3000:]
    cmd = [sys.executable, "-m", "toolkit.cli", "-q", "audit", "--config", params["CONFIG"], "--out", str(tmp_path)]
    if dataset == "sample":  # the notebook backtests the sample at its own revision, as `audit --backtest` does
        cmd += ["--backtest", sample_backtest_rev()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEAMSCOPE_CACHE": str(nb_cache)}
    subprocess.run(cmd, check=True, env=env, cwd=tmp_path, capture_output=True, text=True)
    cli = json.loads((tmp_path / "findings.json").read_text())
    notebook = json.loads((Path(params["OUT"]) / "findings.json").read_text())

    def top(doc, n=10):
        rows = doc["sections"]["seam_ranking"]["tables"]["seam_ranking"][:n]
        return [(r["rank"], r["seam"], round(r["score"], 9), r["reason"]) for r in rows]

    assert len(top(cli)) >= 3 and top(notebook) == top(cli)
    assert metric_values(notebook) == metric_values(cli) and metric_values(cli)
    headline = [doc["sections"]["summary"]["summary"]["top_risky_seams"] for doc in (notebook, cli)]
    assert headline[0] == headline[1] and headline[0]
    assert notebook["provenance"]["configuration"] == cli["provenance"]["configuration"] == params["CONFIG"]
    assert set(notebook["sections"]) == set(cli["sections"])  # traces and contracts read by both


def test_running_the_notebooks_writes_nothing_into_the_sample(sample_before, executed):
    assert len(executed) == 2 * len(NOTEBOOKS)  # every notebook has run by now
    assert _tree_digest(SAMPLE_DIR) == sample_before
    assert not (SAMPLE_DIR / "labels.csv").exists()


@pytest.mark.slow
@pytest.mark.parametrize("param", ["repo", "tests", "issues", "traces"])
def test_missing_path_stops_at_the_load_cell_with_one_line(tmp_path, nb_cache, param, monkeypatch):
    from papermill import execute_notebook
    from papermill.exceptions import PapermillExecutionError

    missing = tmp_path / "no-such-input"
    c = sample_config()
    keys = {"repo": c.repo, "tests": c.tests, "issues": c.issues, "traces": c.traces}
    config = _write_config(tmp_path / "conf", **{**keys, param: missing if param == "repo" else [missing]})
    out = tmp_path / "out.ipynb"
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(nb_cache))
    with pytest.raises(PapermillExecutionError) as info:
        execute_notebook(str(NB_DIR / "01_integration_test_coverage.ipynb"), str(out), kernel_name="python3",
                         parameters={"CONFIG": str(config)}, progress_bar=False)
    exc = info.value
    assert exc.ename == "InputError"
    assert str(missing) in exc.evalue and f"key {param!r} in {config}" in exc.evalue  # the file and key to fix
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failed = next(i for i, c in enumerate(code) if c.execution_count == exc.exec_count)
    # papermill's injected parameters cell comes right after the tagged one; the load cell is the next
    assert "injected-parameters" in code[failed - 1].metadata.get("tags", [])
    assert "ev, f = load(" in code[failed].source  # the first cell that uses the paths
    assert exc.traceback == [f"InputError: {exc.evalue}"]  # one line, no frames inside the library
    later = code[failed + 1:]
    assert all(not c.outputs and c.execution_count is None for c in later)


# ---- toolkit.notebook in-process ------------------------------------------------------------------------------------
def test_load_names_the_configuration_key_not_the_cli_flag(tmp_path):
    from toolkit.notebook import config_from_params, load

    config = _write_config(tmp_path, repo=SAMPLE_DIR / "repo.bundle", tests=[tmp_path / "nope"])
    with pytest.raises(InputError) as info:
        load(config)
    assert info.value.path == str(tmp_path / "nope") and f"key 'tests' in {config}" in str(info.value)
    assert "--tests" not in str(info.value)
    with pytest.raises(InputError) as info:  # a config built in code: the notebook parameter
        load(config_from_params(SAMPLE_DIR / "repo.bundle", tests=[tmp_path / "nope"]))
    assert "'tests'" in str(info.value) and "--tests" not in str(info.value)


def test_notebook_config_is_the_cli_configuration(tmp_path, monkeypatch):
    """CONFIG = None resolves as `seamscope audit` does in that folder: the nearest seamscope.toml, else the
    embedded sample; labels default beside the configuration, and are read once the review widget saved some."""
    from toolkit.cli import _audit_config, build_parser
    from toolkit.notebook import notebook_config

    def cli_config():  # what `seamscope audit` (no flags) audits in the working directory
        return _audit_config(build_parser().parse_args(["audit"]))

    monkeypatch.chdir(tmp_path)
    assert notebook_config(None) == cli_config() == sample_config()  # nothing found: the embedded sample
    project = tmp_path / "project"
    toml = _write_config(project, repo=SAMPLE_DIR / "repo.bundle", tests=[SAMPLE_DIR / "results"])
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")  # found from the working directory upward
    conf = notebook_config(None)
    assert conf.source == toml and conf == cli_config() == notebook_config(toml)
    assert conf.labels is None and conf.tests == (SAMPLE_DIR / "results",)
    (project / "seamscope-labels.csv").write_text("key,category\n")
    assert notebook_config(None).labels == project / "seamscope-labels.csv" == cli_config().labels


def test_show_table_escapes_pages_and_sorts():
    from toolkit.notebook import show_table

    df = pd.DataFrame({"key": [f"K-{i}" for i in range(25)], "title": ["<script>alert(1)</script>"] * 25,
                       "n": range(25), "tests": [["a", "b"]] * 25})
    t = show_table(df, max_rows=10, sort_by="n", ascending=False)
    html = t._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "K-24" in html and "K-14" not in html and "rows 1–10 of 25" in html and "page=2" in html
    assert "a, b" in html
    last = show_table(df, max_rows=10, page=3)._repr_html_()
    assert "K-20" in last and "K-19" not in last and "rows 21–25 of 25" in last and "page=" not in last
    assert "no data" in show_table(None)._repr_html_()


@pytest.fixture(scope="module")
def ledger_findings(small, nb_cache):
    from toolkit.notebook import config_from_params, load

    old = os.environ.get("SEAMSCOPE_CACHE")
    os.environ["SEAMSCOPE_CACHE"] = str(nb_cache)
    try:
        yield load(config_from_params(small["repo"], tests=small["tests"], issues=small["issues"]))
    finally:
        if old is None:
            os.environ.pop("SEAMSCOPE_CACHE", None)
        else:
            os.environ["SEAMSCOPE_CACHE"] = old


def test_graph_details_list_call_sites_tests_and_bugs(ledger_findings):
    from toolkit.notebook import details_for_graph
    from toolkit.viz.graph_widget import CouplingGraphWidget

    ev, f = ledger_findings
    w = CouplingGraphWidget(f.graph, details=details_for_graph(f))
    w.select("journal")
    sections = w.detail["sections"]
    sites = {(s["path"], s["line"]) for s in sections["call_sites"]}
    expected = {(r.path, int(r.line)) for r in ev.structure.call_sites.itertuples()
                if "journal" in (r.caller_component, r.callee_component)}
    assert sites == expected and ("ledger/journal/post.py", 10) in sites
    # no coverage: the static estimate's tests (found in source), per seam
    tests = {(t["test_id"], t["seam"]): t["exercises"] for t in sections["tests"]}
    # patches ledger.journal.post.convert
    assert tests[("tests.unit.test_journal.test_post_moves_amount", "journal->rates")] == "mocked"
    assert tests[("tests.integration.test_reports.test_trial_balance_after_posting", "journal->accounts")] == "real"
    assert {b["key"] for b in sections["bugs"]} == {"#3", "#5", "#7"}
    w.select("journal->rates", "edge")
    assert {s["seam"] for s in w.detail["sections"]["call_sites"]} == {"journal->rates"}
    assert {b["key"] for b in w.detail["sections"]["bugs"]} == {"#3", "#5"}


def test_graph_details_on_the_sample_separate_real_from_mocked(nb_cache, monkeypatch):
    from toolkit.notebook import details_for_graph, load

    monkeypatch.setenv("SEAMSCOPE_CACHE", str(nb_cache))
    ev, f = load(sample_config().with_(contracts=(), traces=()))
    d = details_for_graph(f)("documents->search_index")  # exercised only through mocks (sample truth)
    assert d["call_sites"] and all(s["status"] == "isolation_only" for s in d["call_sites"])
    assert d["tests"] and {t["exercises"] for t in d["tests"]} == {"mocked"}


def test_graph_shows_service_seams_with_their_interactions(nb_cache, monkeypatch):
    from toolkit.notebook import details_for_graph, load
    from toolkit.viz.graph_widget import CouplingGraphWidget

    monkeypatch.setenv("SEAMSCOPE_CACHE", str(nb_cache))
    c = sample_config()
    assert c.contracts and c.traces
    ev, f = load(c)
    g = f.graph
    note = g.edges["orders", "notifications"]  # sample truth: published to kafka, traced only in production
    assert note["service_kind"] == "message" and note["service_calls"] == 1
    assert note["service_production_only"] and not note["service_exercised"]
    inv = g.edges["orders", "inventory"]  # HTTP only: no code seam, so an edge of its own
    assert inv["structural"] is False and inv["call_sites"] == 0 and inv["service_calls"] == 2 and inv["service_exercised"]
    assert "service_calls" not in g.edges["documents", "search_index"]
    w = CouplingGraphWidget(g, details=details_for_graph(f), edge_kind="service_calls")
    assert {e["id"] for e in w.edges if (e["attrs"].get("service_calls") or 0) > 0} == \
        {"orders->inventory", "orders->notifications", "orders->payments"}
    w.select("orders->notifications", "edge")
    rows = w.detail["sections"]["service_interactions"]
    assert rows == [{"seam": "orders->notifications", "kind": "message", "interaction": "topic order-placed",
                     "where": "shop/orders/remote.py:43", "tests": "only seen in production", "test_calls": 0,
                     "production_calls": rows[0]["production_calls"]}] and rows[0]["production_calls"] > 0
    w.select("inventory")
    got = {(r["interaction"], r["where"], r["tests"]) for r in w.detail["sections"]["service_interactions"]}
    assert got == {("GET /stock/{sku}", "shop/orders/remote.py:23", "exercised by tests"),
                   ("POST /stock/{sku}/reserve", "shop/orders/remote.py:28", "exercised by tests")}


def test_no_services_no_service_details(ledger_findings):
    from toolkit.notebook import details_for_graph

    _, f = ledger_findings
    assert f.services.seams.empty
    assert not any("service_calls" in d for *_, d in f.graph.edges(data=True))
    assert details_for_graph(f)("journal")["service_interactions"] == []


def test_labels_feed_back_into_categorization(small, ledger_findings, tmp_path, nb_cache, monkeypatch):
    from toolkit.notebook import config_from_params, load, review_widget

    monkeypatch.setenv("SEAMSCOPE_CACHE", str(nb_cache))
    _, f = ledger_findings
    labels = tmp_path / "new" / "labels.csv"
    review = review_widget(f, labels)
    key = review.bug_keys[review.index]
    before = f.bugs.bugs.set_index("key").loc[key, "category"]
    relabel = "environment" if before != "environment" else "component"
    review.decide(relabel)
    assert f"{key},{relabel}" in labels.read_text()
    _, f2 = load(config_from_params(small["repo"], tests=small["tests"], issues=small["issues"], labels=labels))
    row = f2.bugs.bugs.set_index("key").loc[key]
    assert row["category"] == relabel and f2.bugs.summary["labelled"] == 1


def test_small_dataset_is_deterministic_and_different(tmp_path):
    a, b = build_small(tmp_path / "a"), build_small(tmp_path / "b")
    assert a["head"] == b["head"] and a["commits"] == 20
    assert (tmp_path / "a" / "issues" / "github_issues.json").read_bytes() == \
        (tmp_path / "b" / "issues" / "github_issues.json").read_bytes()
    assert a["coverage"] is None and not list((tmp_path / "a").rglob(".coverage"))
    log = subprocess.run(["git", "log", "--format=%s"], cwd=a["repo"], capture_output=True, text=True, check=True)
    assert "Fix #3" in log.stdout
