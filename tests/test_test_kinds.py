"""Test classification: table-driven over a small real git repo, with and without coverage evidence."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap, is_test_path, module_name
from toolkit.load.test_kinds import TestKindRules, classify_tests
from toolkit.vocab.testids import base_test_id

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

REPO = {
    "shop/__init__.py": "",
    "shop/orders/__init__.py": "from shop import payments\n\n\ndef place():\n    return payments.charge()\n",
    "shop/payments/__init__.py": "def charge():\n    return 1\n",
    "tests/__init__.py": "",
    "tests/unit/test_a.py": """\
        import pytest

        from shop import orders


        def test_plain():
            orders.place()


        @pytest.mark.integration
        def test_marked_in_unit_dir():
            pass
        """,
    "tests/integration/test_b.py": "def test_in_dir():\n    pass\n",
    "tests/e2e/test_c.py": "class TestFlow:\n    def test_checkout(self):\n        pass\n",
    "tests/acceptance/test_d.py": "def test_story():\n    pass\n",
    "tests/with_dummyserver/test_e.py": "def test_dummy():\n    pass\n",
    "tests/test_orders_integration.py": "def test_named():\n    pass\n",
    "tests/test_module_mark.py": "import pytest\n\npytestmark = [pytest.mark.e2e]\n\n\ndef test_m():\n    pass\n",
    "tests/test_evidence.py": """\
        import subprocess
        import unittest

        import requests
        import responses


        def test_server(live_server):
            pass


        def test_browser(page):
            pass


        def test_subprocess():
            subprocess.run(["true"])


        def test_real_http():
            requests.get("http://localhost")


        def test_builds_request_object():
            requests.Request("GET", "http://localhost")


        @responses.activate
        def test_stubbed_http():
            requests.get("http://localhost")


        class TestCaseStyle(unittest.TestCase):
            def test_x(self):
                pass
        """,
    "tests/test_two_components.py": """\
        from shop import orders, payments


        def test_both():
            orders.place()
            payments.charge()
        """,
    "tests/test_isolated.py": """\
        from unittest.mock import patch

        from shop import orders


        @patch("shop.orders.payments.charge")
        def test_isolated(charge):
            orders.place()
        """,
    "tests/test_isolated_off_ci.py": """\
        import os

        from shop import orders


        def test_isolated_off_ci(monkeypatch):
            if os.environ.get("CI") != "integration":
                monkeypatch.setattr("shop.orders.payments.charge", lambda: 0)
            orders.place()
        """,
    "tests/test_cov.py": """\
        from unittest.mock import patch


        def test_cov_real():
            pass


        @patch("shop.payments.charge")
        def test_cov_mocked(charge):
            pass
        """,
}
IMPORTS = [("shop.orders", "shop.payments", None)]


def small_structure(paths: list[str], imports: list[tuple[str, str, str | None]]):
    """The structure tables classification reads (files, imports), built directly."""
    cm = ComponentMap.from_files(paths)
    files = pd.DataFrame({"path": paths, "component": [cm.component_of(p) for p in paths],
                          "module": [module_name(p) for p in paths], "kind": "python",
                          "is_test": [is_test_path(p) for p in paths], "loc": 1})
    imp = pd.DataFrame([{"path": m.replace(".", "/") + "/__init__.py", "line": 1, "module": m,
                         "component": cm.component_of_module(m), "target_module": t, "target_symbol": s,
                         "target_component": cm.component_of_module(t), "is_relative": False,
                         "is_conditional": False, "is_type_checking": False, "is_function_local": False}
                        for m, t, s in imports])
    return SimpleNamespace(components=cm, files=schema.conform(files, "files"),
                           imports=schema.conform(imp, "imports"), call_sites=schema.empty("call_sites"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = make_repo(tmp_path_factory.mktemp("kinds"), REPO)
    return root, small_structure(sorted(REPO), IMPORTS)


@pytest.fixture(scope="module")
def kinds(repo):
    root, st = repo
    cov = pd.DataFrame({"test_id": ["tests.test_cov.test_cov_real"] * 2 + ["tests.test_cov.test_cov_mocked"],
                        "component": ["orders", "payments", "orders"], "lines": [3, 2, 3]})
    results = pd.DataFrame({"test_id": ["tests.unit.test_a.test_plain", "tests.integration.test_gone.test_old[1]"],
                            "file": [pd.NA, pd.NA]})
    df = classify_tests(st, root, test_components=schema.conform(cov, "test_components"), test_results=results,
                        skips=[])
    schema.check(df, "test_kinds")
    return df.set_index("test_id")


CASES = [
    ("tests.unit.test_a.test_plain", "unit", "path: under a 'unit' directory"),
    ("tests.unit.test_a.test_marked_in_unit_dir", "integration", "marker: @pytest.mark.integration"),
    ("tests.integration.test_b.test_in_dir", "integration", "path: under a 'integration' directory"),
    ("tests.e2e.test_c.TestFlow.test_checkout", "e2e", "path: under a 'e2e' directory"),
    ("tests.acceptance.test_d.test_story", "e2e", "path: under a 'acceptance' directory"),
    ("tests.with_dummyserver.test_e.test_dummy", "integration", "path: under a 'with_dummyserver' directory"),
    ("tests.test_orders_integration.test_named", "integration", "path: file name 'test_orders_integration.py'"),
    ("tests.test_module_mark.test_m", "e2e", "marker: @pytest.mark.e2e"),
    ("tests.test_evidence.test_server", "integration", "evidence: starts a real server/container through fixture(s) live_server"),
    ("tests.test_evidence.test_browser", "e2e", "evidence: drives a browser/UI through fixture(s) page"),
    ("tests.test_evidence.test_subprocess", "integration", "evidence: uses a real process/socket (subprocess.run)"),
    ("tests.test_evidence.test_real_http", "integration", "evidence: calls external client libraries for real (http)"),
    ("tests.test_evidence.test_stubbed_http", "unit", "default:"),
    ("tests.test_evidence.test_builds_request_object", "unit", "default:"),  # a data class reaches nothing
    ("tests.test_evidence.TestCaseStyle.test_x", "unit", "default:"),
    ("tests.test_two_components.test_both", "integration", "imports: uses 2 components and mocks none of them"),
    ("tests.test_isolated.test_isolated", "unit", "mocks: replaces every neighbour of orders (payments)"),
    ("tests.test_isolated_off_ci.test_isolated_off_ci", "unit", "mocks: replaces every neighbour of orders (payments)"),
    ("tests.test_cov.test_cov_real", "integration", "coverage: executes 2 production components without mocking"),
    ("tests.test_cov.test_cov_mocked", "unit", "coverage: executes 1 unmocked production component(s) (orders)"),
    ("tests.integration.test_gone.test_old", "integration", "seen only in test results"),
]


@pytest.mark.parametrize("test_id, kind, reason", CASES, ids=[c[0].split(".", 1)[1] for c in CASES])
def test_classification_table(kinds, test_id, kind, reason):
    row = kinds.loc[test_id]
    assert row["kind"] == kind, row["reasons"]
    assert any(r.startswith(reason) for r in row["reasons"]), row["reasons"]


def test_every_source_test_has_exactly_one_row(kinds):
    assert kinds.index.is_unique
    assert len(kinds) == len(CASES)


def test_marker_beats_path_and_says_so(kinds):
    reasons = kinds.loc["tests.unit.test_a.test_marked_in_unit_dir", "reasons"]
    assert reasons[0] == "marker: @pytest.mark.integration"
    assert reasons[1].startswith("overridden: path: under a 'unit' directory") and reasons[1].endswith("-> unit")


def test_components_and_mocked_components(kinds):
    assert kinds.loc["tests.test_cov.test_cov_real", "components"] == ["orders", "payments"]
    assert kinds.loc["tests.test_isolated.test_isolated", "mocked_components"] == ["payments"]
    assert kinds.loc["tests.test_two_components.test_both", "components"] == ["orders", "payments"]


def test_reasons_say_which_mocked_neighbours_are_replaced_only_under_a_condition(kinds):
    """A mock under ``if`` still makes the test a unit test (same decision), and the reason says it is conditional."""
    sometimes = kinds.loc["tests.test_isolated_off_ci.test_isolated_off_ci"]
    assert sometimes["reasons"] == ["mocks: replaces every neighbour of orders (payments) "
                                    "(payments only under a condition)"]
    assert sometimes["mocked_components"] == ["payments"]
    assert kinds.loc["tests.test_isolated.test_isolated", "reasons"] == [
        "mocks: replaces every neighbour of orders (payments)"]


def test_rules_are_configurable(repo):
    root, st = repo
    rules = TestKindRules(integration_dirs=(), min_components=3)
    df = classify_tests(st, root, rules=rules, skips=[]).set_index("test_id")
    assert df.loc["tests.integration.test_b.test_in_dir", "kind"] == "unit"
    assert df.loc["tests.test_two_components.test_both", "kind"] == "unit"


def check_sample_kinds(sample: Path) -> None:
    """Every test of the sample's JUnit results is classified as truth.json says."""
    from toolkit.load.gitrepo import Repo
    from toolkit.load.structure import load_structure

    truth = json.loads((sample / "truth.json").read_text())
    repo = Repo.open(sample / "repo.bundle")
    st = load_structure(repo, skips=[])
    results = pd.DataFrame({"test_id": list(truth["tests"]), "file": pd.NA})
    df = classify_tests(st, repo, test_results=results, skips=[]).set_index("test_id")
    wrong = {tid: (info["kind"], df.loc[base_test_id(tid), "kind"], df.loc[base_test_id(tid), "reasons"])
             for tid, info in truth["tests"].items() if df.loc[base_test_id(tid), "kind"] != info["kind"]}
    assert not wrong
    assert not any(r[0].startswith("seen only in test results") for r in df["reasons"])


@pytest.mark.skipif(not (SAMPLE / "truth.json").exists(), reason="sample system not built yet (data/sample)")
def test_sample_test_kinds_match_truth():
    check_sample_kinds(SAMPLE)


def test_import_of_a_dotted_module_counts_the_submodule(tmp_path):
    """``import shop.orders`` binds only ``shop`` but imports ``shop.orders``: the test reaches orders (and with
    ``import shop.payments as pay``, payments) besides the package ``shop`` it binds."""
    files = {"shop/__init__.py": "", "shop/orders/__init__.py": "def place():\n    return 1\n",
             "shop/payments/__init__.py": "def charge():\n    return 1\n",
             "tests/test_dotted.py": """\
                 import shop.orders
                 import shop.payments as pay


                 def test_dotted():
                     shop.orders.place()
                     pay.charge()
                 """}
    root = make_repo(tmp_path / "dotted", files)
    df = classify_tests(small_structure(sorted(files), []), root, skips=[]).set_index("test_id")
    row = df.loc["tests.test_dotted.test_dotted"]
    assert row["components"] == ["orders", "payments", "shop"]


def test_imported_names_keep_the_full_module_without_changing_bindings():
    import ast

    from toolkit.load.python_ast import import_bindings, imported_names
    nodes = list(ast.walk(ast.parse("import a.b\nimport c.d as e\nfrom .f import g\nfrom h import *\n")))
    assert imported_names(nodes, "pkg.mod", False) == {"a", "a.b", "c.d", "pkg.f.g", "h"}
    assert import_bindings(nodes, "pkg.mod", False) == {"a": "a", "e": "c.d", "g": "pkg.f.g"}
