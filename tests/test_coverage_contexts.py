"""Per-test coverage: real pytest-cov runs in tmp_path, loaded and joined with call sites."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import coverage
import pandas as pd
import pytest

from gitutil import write
from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap
from toolkit.errors import InputError
from toolkit.load import coverage_contexts as cc

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

FILES = {
    "shop/__init__.py": "",
    "shop/orders/__init__.py": "",
    "shop/orders/service.py": """\
        from shop import payments


        def place(amount):
            total = amount * 2
            return payments.charge(total)


        def cancel(order):
            return payments.refund(order)
        """,
    "shop/payments/__init__.py": """\
        def charge(amount):
            return {"charged": amount}


        def refund(order):
            return {"refunded": order}
        """,
    "tests/__init__.py": "",
    "tests/test_orders.py": """\
        import pytest

        from shop.orders import service


        @pytest.fixture
        def order():
            return service.cancel(1)


        def test_place():
            assert service.place(2) == {"charged": 4}


        def test_cancel_in_fixture(order):
            assert order == {"refunded": 1}


        class TestMany:
            @pytest.mark.parametrize("n", [1, 2])
            def test_param(self, n):
                assert service.place(n)["charged"] == 2 * n
        """,
    "tests/test_payments.py": """\
        from shop import payments


        def test_charge():
            assert payments.charge(3) == {"charged": 3}
        """,
}


def _line_of(rel: str, needle: str) -> int:
    lines = textwrap.dedent(FILES[rel]).splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """A real pytest-cov run with per-test contexts over the tiny two-component repo."""
    root = tmp_path_factory.mktemp("repo")
    write(root, FILES)
    files = sorted(FILES)
    data = root.parent / (root.name + ".coverage")
    # a clean child: no coverage/pytest settings inherited from an outer `pytest --cov` or PYTEST_ADDOPTS
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_CORE_", "PYTEST_", "COVERAGE_"))}
    env.update(COVERAGE_FILE=str(data), PYTHONPATH=str(root))
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          "--cov=shop", "--cov-context=test", "--cov-report=", "tests"],
                         cwd=root, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert data.exists()
    return root, data, files


def _call_sites() -> pd.DataFrame:
    rows = []
    for callee, needle in (("shop.payments.charge", "payments.charge("), ("shop.payments.refund", "payments.refund(")):
        line = _line_of("shop/orders/service.py", needle)
        rows.append({"call_site_id": f"shop/orders/service.py:{line}:{callee}", "path": "shop/orders/service.py",
                     "line": line, "caller": "shop.orders.service." + ("place" if "charge" in callee else "cancel"),
                     "caller_component": "orders", "callee": callee, "callee_component": "payments",
                     "kind": "call", "seam": "orders->payments"})
    return schema.conform(pd.DataFrame(rows), "call_sites")


def test_load_coverage_maps_contexts_to_test_ids_and_paths(recorded):
    root, data, files = recorded
    skips: list = []
    tl = cc.load_coverage(data, files, skips=skips)
    schema.check(tl, "test_lines")
    assert skips == []
    tests = set(tl["test_id"].astype(str))
    assert {"tests.test_orders.test_place", "tests.test_orders.test_cancel_in_fixture",
            "tests.test_orders.TestMany.test_param[1]", "tests.test_orders.TestMany.test_param[2]",
            "tests.test_payments.test_charge"} == tests
    assert set(tl["path"].astype(str)) <= set(files)
    assert not tl.duplicated().any()


def test_exercised_call_sites_from_real_run(recorded):
    root, data, files = recorded
    tl = cc.load_coverage(data, files)
    ex = cc.exercised_call_sites(tl, _call_sites())
    schema.check(ex, "test_exercises")
    got = {(t, c.rsplit(":", 1)[1]) for t, c in zip(ex["test_id"], ex["call_site_id"])}
    assert got == {
        ("tests.test_orders.test_place", "shop.payments.charge"),
        ("tests.test_orders.TestMany.test_param[1]", "shop.payments.charge"),
        ("tests.test_orders.TestMany.test_param[2]", "shop.payments.charge"),
        # executed in the fixture's setup phase, which belongs to the test
        ("tests.test_orders.test_cancel_in_fixture", "shop.payments.refund"),
    }


def test_test_components_counts_lines_per_component(recorded):
    root, data, files = recorded
    tl = cc.load_coverage(data, files)
    comps = cc.test_components(tl, ComponentMap.from_files(files))
    schema.check(comps, "test_components")
    by_test = comps.groupby("test_id")["component"].apply(set).to_dict()
    assert by_test["tests.test_orders.test_place"] == {"orders", "payments"}
    assert by_test["tests.test_payments.test_charge"] == {"payments"}
    place = comps[(comps.test_id == "tests.test_orders.test_place") & (comps.component == "orders")]["lines"].item()
    assert place == 2  # the two body lines of place(); the def line ran at import, outside any test


def test_api_and_sql_readers_agree(recorded):
    root, data, files = recorded
    a = cc.load_coverage(data, files, reader="api")
    b = cc.load_coverage(data, files, reader="sql")
    norm = lambda df: sorted(zip(df.test_id.astype(str), df.path.astype(str), df.line))  # noqa: E731
    assert norm(a) == norm(b)


def test_moved_repo_is_matched_by_suffix(recorded, tmp_path):
    root, data, files = recorded
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(root, moved)
    copy = tmp_path / ".coverage"
    shutil.copy(data, copy)
    # the data still names the old absolute root; only the suffix ties it to the moved repo's files
    tl = cc.load_coverage(copy, files)
    assert set(tl["path"].astype(str)) == {"shop/orders/service.py", "shop/payments/__init__.py"}


def _write_data(path: Path, lines_by_ctx: dict[str, dict[str, list[int]]]) -> None:
    d = coverage.CoverageData(basename=str(path))
    for ctx, lines in lines_by_ctx.items():
        d.set_context(ctx)
        d.add_lines({f: set(ls) for f, ls in lines.items()})
    d.write()


def test_path_map_and_ambiguous_suffix_skip(tmp_path):
    data = tmp_path / ".coverage"
    _write_data(data, {"tests/test_a.py::test_a|run": {
        "/ci/build/src/shop/a.py": [1, 2],
        "/ci/build/vendored/util.py": [3],
        "/usr/lib/python3/json/__init__.py": [4],
    }, "tests/test_a.py::test_a|setup": {"/ci/build/src/shop/a.py": [1]}})
    repo_files = ["src/shop/a.py", "pkg1/util.py", "pkg2/util.py", "shop/a.py"]
    skips: list = []
    tl = cc.load_coverage(data, repo_files, path_map={"/ci/build/": ""}, skips=skips)
    # path_map resolves src/shop/a.py exactly although shop/a.py shares a suffix
    assert sorted(zip(tl.path.astype(str), tl.line)) == [("src/shop/a.py", 1), ("src/shop/a.py", 2)]
    assert set(tl.test_id.astype(str)) == {"tests.test_a.test_a"}
    reasons = " | ".join(s.reason for s in skips)
    assert "several repository files" in reasons and "pkg1/util.py" in reasons and "pkg2/util.py" in reasons
    assert "json/__init__.py" in reasons and "not a file of the repository" in reasons
    assert all(s.path == str(data) for s in skips)
    # without the map, the longest suffix (src/shop/a.py: 3 parts, shop/a.py: 2) still picks one file
    skips2: list = []
    tl2 = cc.load_coverage(data, repo_files, skips=skips2)
    assert set(tl2.path.astype(str)) == {"src/shop/a.py"}
    assert not any("a.py'" in s.reason and "/a.py" in s.reason and "several" in s.reason
                   and "shop" in s.reason for s in skips2)


def test_test_function_dynamic_context_is_a_dotted_test_id(tmp_path):
    data = tmp_path / ".coverage"
    _write_data(data, {"tests.test_a.TestX.test_y": {str(tmp_path / "shop/a.py"): [5]}, "": {str(tmp_path / "shop/a.py"): [1]}})
    tl = cc.load_coverage(data, ["shop/a.py"])
    assert list(tl.test_id.astype(str)) == ["tests.test_a.TestX.test_y"] and list(tl.line) == [5]


def test_without_contexts_gives_the_exact_hint(tmp_path):
    data = tmp_path / ".coverage"
    _write_data(data, {"": {str(tmp_path / "shop/a.py"): [1, 2]}})
    with pytest.raises(InputError) as err:
        cc.load_coverage(data, ["shop/a.py"])
    assert err.value.hint == ("recorded without per-test contexts; rerun with --cov-context=test (pytest-cov) "
                              "or [run] dynamic_context = test_function")
    assert str(data) in str(err.value)


@pytest.mark.parametrize("content", [b"this is not coverage data\n", b"SQLite format 3\x00" + b"\x00" * 200])
def test_not_a_coverage_file(tmp_path, content):
    bad = tmp_path / ".coverage"
    bad.write_bytes(content)
    with pytest.raises(InputError) as err:
        cc.load_coverage(bad, ["a.py"])
    assert str(bad) in str(err.value)
    assert bad.read_bytes() == content  # never written


def test_other_sqlite_database_is_rejected_and_left_alone(tmp_path):
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("create table t (x)")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(InputError, match="not a usable coverage data file"):
        cc.load_coverage(db, ["a.py"])
    assert db.read_bytes() == before


def test_incompatible_schema_version(tmp_path):
    db = tmp_path / ".coverage"
    con = sqlite3.connect(db)
    con.execute("create table coverage_schema (version integer)")
    con.execute("insert into coverage_schema values (99)")
    con.commit()
    con.close()
    with pytest.raises(InputError) as err:
        cc.load_coverage(db, ["a.py"])
    assert str(db) in str(err.value) and "schema" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        cc.load_coverage(tmp_path / "nope", [])


def test_exercised_call_sites_joins_on_path_and_line():
    tl = pd.DataFrame({"test_id": pd.Categorical(["t1", "t1", "t2", "t3"]),
                       "path": pd.Categorical(["a.py", "a.py", "a.py", "b.py"]),
                       "line": pd.array([3, 4, 4, 3], dtype="int32")})
    cs = pd.DataFrame({"call_site_id": ["a.py:4:x", "a.py:4:y", "b.py:9:z", "c.py:3:w"],
                       "path": ["a.py", "a.py", "b.py", "c.py"], "line": [4, 4, 9, 3]})
    ex = cc.exercised_call_sites(schema.conform(tl, "test_lines"), cs)
    assert list(zip(ex.test_id, ex.call_site_id)) == [("t1", "a.py:4:x"), ("t1", "a.py:4:y"),
                                                     ("t2", "a.py:4:x"), ("t2", "a.py:4:y")]
    assert cc.exercised_call_sites(tl.iloc[:0], cs).empty


def test_context_test_id_forms():
    assert cc.context_test_id("") is None
    assert cc.context_test_id("tests/unit/test_x.py::TestA::test_b[p-1]|teardown") == "tests.unit.test_x.TestA.test_b[p-1]"
    assert cc.context_test_id("tests.unit.test_x.TestA.test_b") == "tests.unit.test_x.TestA.test_b"


def check_sample_exercised(sample: Path) -> None:
    """Every test truth.json says executed a call site is a test_exercises row for that site (and no other test)."""
    from toolkit.load.gitrepo import Repo
    from toolkit.load.structure import load_structure

    truth = json.loads((sample / "truth.json").read_text())
    repo = Repo.open(sample / "repo.bundle")
    skips: list = []
    tl = cc.load_coverage(sample / truth["coverage"]["file"], repo.list_files(), skips=skips)
    assert not [s for s in skips if s.reason.endswith("is not a file of the repository") and "/shop/" in s.reason]
    st = load_structure(repo, skips=[])
    ex = cc.exercised_call_sites(tl, st.call_sites)
    by_site = ex.merge(st.call_sites[["call_site_id", "path", "line"]], on="call_site_id")
    got: dict[tuple[str, int], set[str]] = {}
    for t, p, ln in zip(by_site.test_id, by_site.path, by_site.line):
        got.setdefault((str(p), int(ln)), set()).add(str(t))
    known = set(zip(st.call_sites.path.astype(str), st.call_sites.line.astype(int)))
    checked = 0
    for seam in truth["seams"].values():
        for site in seam["call_sites"]:
            key = (site["path"], site["line"])
            if key in known:
                assert got.get(key, set()) == set(site["executed_by"]), (seam, site)
                checked += 1
    assert checked > 0


@pytest.mark.skipif(not (SAMPLE / "truth.json").exists(), reason="sample system not built yet (data/sample)")
def test_sample_exercised_call_sites_match_truth():
    check_sample_exercised(SAMPLE)


def test_drop_unused_categories_keeps_values():
    col = pd.Series(pd.Categorical(["b", "d", "b", None], categories=["a", "b", "c", "d"]))
    out = cc._drop_unused(col)
    assert list(out.cat.categories) == ["b", "d"]
    assert out.astype(object).tolist()[:3] == ["b", "d", "b"] and pd.isna(out.iloc[3])


def test_branch_data_readers_agree(tmp_path):
    data = tmp_path / ".coverage"
    d = coverage.CoverageData(basename=str(data))
    f = str(tmp_path / "shop" / "a.py")
    d.set_context("tests/test_a.py::test_x|run")
    d.add_arcs({f: {(-1, 1), (1, 2), (2, 5), (5, -1)}})
    d.set_context("tests/test_a.py::test_y|run")
    d.add_arcs({f: {(-1, 1), (1, 3), (3, -1)}})
    d.write()
    a = cc.load_coverage(data, ["shop/a.py"], reader="api")
    b = cc.load_coverage(data, ["shop/a.py"], reader="sql")
    norm = lambda df: sorted(zip(df.test_id.astype(str), df.line.astype(int)))  # noqa: E731
    assert norm(a) == norm(b) == [("tests.test_a.test_x", 1), ("tests.test_a.test_x", 2), ("tests.test_a.test_x", 5),
                                  ("tests.test_a.test_y", 1), ("tests.test_a.test_y", 3)]
