"""Interface documentation review and interface drift, on real git repositories built in tmp_path."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from gitutil import commit, git, make_repo, when, write
from toolkit.vocab import schema
from toolkit.analyze.interface_docs import DRIFT_CALLERS, DRIFT_DOC, WEIGHTS, interface_docs
from toolkit.analyze.interface_drift import documented_params, documents_raises, documents_returns, parse_module
from toolkit.load.gitrepo import Repo
from toolkit.load.history import load_history
from toolkit.load.structure import load_structure


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


def day(n: int) -> str:
    """The commit date of this file's histories: 2024-03-<n>."""
    return when(n, month=3)


def review(repo: Path, **kw):
    r = Repo.open(repo)
    return interface_docs(load_structure(r, cache=False), r, history=load_history(r, cache=False), **kw)


# ---- drift: exact rows on a three-commit history (plus a rename) ---------------------------------------
API_V1 = '''
def place(order_id: int) -> int:
    """Place an order.

    Args:
        order_id: the order.

    Returns:
        The order id.
    """
    return order_id
'''
API_V2 = '''
def place(order_id: int, qty: int = 1) -> int:
    """Place an order.

    Args:
        order_id: the order.
        qty: how many.

    Returns:
        The order id.
    """
    return order_id * qty
'''
API_V3 = API_V2.replace("qty: int = 1) -> int:", "qty: int = 1, note: str = '') -> int:")


@pytest.fixture
def drift_repo(tmp_path):
    repo = make_repo(tmp_path / "r")
    write(repo, {"pkg/__init__.py": "", "pkg/core/__init__.py": "", "pkg/app/__init__.py": "",
                 "pkg/core/api.py": API_V1,
                 "pkg/app/main.py": "from pkg.core.api import place\n\n\ndef run():\n    return place(1)\n"})
    c1 = commit(repo, "initial", date=day(1))
    write(repo, {"pkg/core/api.py": API_V2,
                 "pkg/app/main.py": "from pkg.core.api import place\n\n\ndef run():\n    return place(1, qty=2)\n"})
    c2 = commit(repo, "place takes a quantity; callers and docs updated", date=day(2))
    write(repo, {"pkg/core/api.py": API_V3})
    c3 = commit(repo, "place takes a note", date=day(3))
    git(repo, "mv", "pkg/core/api.py", "pkg/core/orders.py")
    write(repo, {"pkg/app/main.py": "from pkg.core.orders import place\n\n\ndef run():\n    return place(1, qty=2)\n"})
    c4 = commit(repo, "rename api to orders", date=day(4))
    return repo, (c1, c2, c3, c4)


def test_drift_rows_are_exact(drift_repo):
    repo, (_c1, _c2, c3, _c4) = drift_repo
    res = review(repo)
    schema.check(res.drift, "interface_drift")
    got = res.drift[["interface", "component", "sha", "timestamp", "change"]].astype(object).values.tolist()
    ts = pd.Timestamp("2024-03-03T12:00:00Z")
    assert got == [["pkg.core.orders.place", "core", c3, ts, DRIFT_DOC],
                   ["pkg.core.orders.place", "core", c3, ts, DRIFT_CALLERS]]
    assert res.drift["detail"].iloc[0] == ("(order_id: int, qty: int = 1) -> int => "
                                           "(order_id: int, qty: int = 1, note: str = '') -> int")
    assert res.drift["detail"].iloc[1].endswith("not changed: pkg/app/main.py")
    iface = res.interfaces.set_index("interface").loc["pkg.core.orders.place"]
    assert iface["drift_events"] == 2
    assert res.seams.set_index("seam").loc["app->core", "drift_events"] == 2
    assert res.summary["drift_events"] == 2 and res.summary["drift_commits_examined"] == 4


def test_drift_cap_and_switch(drift_repo):
    repo, (*_, c4) = drift_repo
    capped = review(repo, max_drift_commits=1)  # only the rename commit: no signature change
    assert capped.summary["drift_capped"] and capped.summary["drift_commits_examined"] == 1
    assert capped.drift.empty
    off = review(repo, drift=False)
    assert off.drift.empty and off.summary["drift_commits_examined"] == 0
    schema.check(off.drift, "interface_drift")


def test_interface_checks_on_documented_function(drift_repo):
    repo, _ = drift_repo
    res = review(repo)
    schema.check(res.interfaces, "interface_docs")
    schema.check(res.seams, "interface_doc_seams")
    row = res.interfaces.set_index("interface").loc["pkg.core.orders.place"]
    assert row["kind"] == "function" and row["component"] == "core" and row["path"] == "pkg/core/orders.py"
    assert row["used_by"] == ["app"] and row["call_sites"] == 1 and row["line"] == 1
    # note is not in the docstring: 2 of 3 parameters documented
    assert row["params_documented"] == pytest.approx(2 / 3)
    assert bool(row["returns_documented"]) and pd.isna(row["raises_documented"])
    assert row["annotations_complete"] == 1.0 and not row["data_contract"] and not row["fully_documented"]
    w = WEIGHTS
    expect = (w["docstring"] + w["params"] * 2 / 3 + w["returns"] + w["annotations"]) / (
        w["docstring"] + w["params"] + w["returns"] + w["annotations"] + w["contract"])
    assert row["score"] == pytest.approx(expect)


# ---- docstring styles ---------------------------------------------------------------------------------------
GOOGLE = """Do it.

Args:
    a (int): first.
    b: second,
        continued over two lines: with a colon.
    **kw: options.

Returns:
    Nothing much.

Raises:
    ValueError: when bad.
"""
NUMPY = """Do it.

Parameters
----------
a : int
    first.
b, c
    second and third.

Returns
-------
int
"""
SPHINX = """Do it.

:param a: first.
:param int b: second.
:returns: something.
:raises KeyError: when missing.
"""


def test_docstring_styles():
    assert documented_params(GOOGLE) == {"a", "b", "kw"}
    assert documents_returns(GOOGLE) and documents_raises(GOOGLE)
    assert documented_params(NUMPY) == {"a", "b", "c"}
    assert documents_returns(NUMPY) and not documents_raises(NUMPY)
    assert documented_params(SPHINX) == {"a", "b"}
    assert documents_returns(SPHINX) and documents_raises(SPHINX)
    prose = "Return the sum of a and b.\n\nThe args are added."
    assert documented_params(prose) == set() and not documents_returns(prose) and not documents_raises(prose)
    assert documented_params(None) == set()


def test_parse_module_signatures_and_bodies():
    src = textwrap.dedent('''
        from dataclasses import dataclass
        from typing import ClassVar

        @dataclass(frozen=True)
        class Rec:
            """A record."""
            kind: ClassVar[str] = "rec"
            id: int
            name: str = "x"

        class Svc:
            def __init__(self, url: str, retries=3):
                """Connect.

                :param url: where.
                """
                if not url:
                    raise ValueError(url)

            def get(self, key, *args, flag: bool = False, **kw) -> "Rec":
                def inner():
                    raise KeyError(key)
                yield Rec(1)

            @staticmethod
            def make(n: int):
                return None
        ''').encode()
    md = parse_module(src, "m", False)
    rec = md.defs["Rec"]
    assert rec.is_data and rec.params == ["id", "name"]
    assert rec.signature == ((("id", "field", "int", None), ("name", "field", "str", "'x'")), None)
    svc = md.defs["Svc"]
    assert svc.kind == "class" and svc.params == ["url", "retries"] and svc.raises and "Connect." in svc.doc
    assert (svc.annotated, svc.annotatable) == (1, 2)
    get = md.defs["Svc.get"]
    assert get.kind == "method" and get.params == ["key", "args", "flag", "kw"]
    assert get.returns_value and not get.raises  # the raise is in a nested function
    assert get.ann_names == ["bool", "Rec"] and (get.annotated, get.annotatable) == (2, 5)
    make = md.defs["Svc.make"]
    assert make.params == ["n"] and not make.returns_value
    assert md.bindings == {"dataclass": "dataclasses.dataclass", "ClassVar": "typing.ClassVar"}
    assert parse_module(b"def (:\n", "m", False).error


# ---- annotations, data-class contracts, contract files, re-exports --------------------------------------
@pytest.fixture
def contract_repo(tmp_path):
    repo = make_repo(tmp_path / "c")
    write(repo, {
        "pkg/__init__.py": "",
        "pkg/models/__init__.py": "from .records import Invoice\n",
        "pkg/models/records.py": '''
            from dataclasses import dataclass

            @dataclass
            class Invoice:
                """An invoice.

                Attributes:
                    number: its number.
                    total: the amount.
                """
                number: str
                total: float
            ''',
        "pkg/billing/__init__.py": "",
        "pkg/billing/api.py": '''
            from pkg.models import Invoice

            def bill(inv: Invoice) -> None:
                """Bill an invoice.

                Args:
                    inv: the invoice.
                """

            def total(a: int, b):
                return a + b

            def _private():
                return 1
            ''',
        "pkg/billing/schema/invoice.schema.json": '{"type": "object"}\n',
        "pkg/report/__init__.py": "",
        "pkg/report/make.py": '''
            from pkg.billing.api import bill, total
            from pkg.billing import api
            from pkg.models import Invoice

            def run(inv: Invoice) -> int:
                bill(inv)
                api._private()
                return total(1, 2)
            ''',
        "pkg/report/util.py": '''
            def helper(x):
                return x
            ''',
    })
    commit(repo, "initial", date=day(1))
    return repo


def test_annotations_and_contracts(contract_repo):
    res = review(contract_repo)
    t = res.interfaces.set_index("interface")
    # imported through the package's re-export, listed once under its defining module
    assert "pkg.models.records.Invoice" in t.index and "pkg.models.Invoice" not in t.index
    inv = t.loc["pkg.models.records.Invoice"]
    assert inv["kind"] == "class" and inv["used_by"] == ["billing", "report"] and inv["call_sites"] == 0
    assert inv["data_contract"] and inv["params_documented"] == 1.0 and inv["fully_documented"]
    assert inv["score"] == pytest.approx(1.0)
    bill = t.loc["pkg.billing.api.bill"]
    assert bill["data_contract"] and bill["fully_documented"] and bill["annotations_complete"] == 1.0
    tot = t.loc["pkg.billing.api.total"]
    assert tot["annotations_complete"] == pytest.approx(1 / 3) and not tot["has_docstring"]
    assert tot["data_contract"]  # billing has a JSON schema contract file
    assert bool(tot["returns_documented"]) is False
    # a private helper called across components is still an interface (it is used); not imported by name
    assert t.loc["pkg.billing.api._private", "call_sites"] == 1
    assert "pkg.report.util.helper" not in t.index  # nobody outside report uses it
    seams = res.seams.set_index("seam")
    assert seams.loc["report->billing", "interfaces"] == 3
    assert seams.loc["report->models", "interfaces"] == 1 and seams.loc["report->models", "mean_score"] == 1.0
    assert res.summary["interfaces"] == len(res.interfaces) == 4


def test_contract_without_contract_file(contract_repo):
    (contract_repo / "pkg/billing/schema/invoice.schema.json").unlink()
    commit(contract_repo, "drop schema", date=day(2))
    t = review(contract_repo).interfaces.set_index("interface")
    assert not t.loc["pkg.billing.api.total", "data_contract"]
    assert t.loc["pkg.billing.api.bill", "data_contract"]  # still names the Invoice dataclass


# ---- the sample ---------------------------------------------------------------------------------------------
def test_sample(sample_evidence, sample_truth):
    ev, truth = sample_evidence, sample_truth
    res = interface_docs(ev.structure, ev.repo, history=ev.history, rev=ev.config.at)
    names = set(res.interfaces["interface"])
    callees = {cs["callee"] for s in truth["seams"].values() for cs in s["call_sites"]}
    assert callees and callees <= names
    assert set(res.seams["callee_component"]) <= set(truth["components"])
    assert 0 < res.summary["mean_score"] < 1 and res.summary["drift_commits_examined"] > 0
    if "renamed_user_email" in truth.get("planted", {}):
        user = res.drift[res.drift["interface"] == "shop.users.models.User"]
        assert (user["change"] == DRIFT_DOC).any()
        assert user["detail"].str.contains(r"email: str.*=> .*email_address: str").any()


def test_def_headers_prefilter():
    from toolkit.analyze.interface_drift import def_headers

    v1 = b"class A:\n    def run(self,\n            x: int = 1,  # note: x\n            ) -> int:\n        return x\n"
    body_only = v1.replace(b"return x", b"return x + 1")
    default = v1.replace(b"x: int = 1", b"x: int = 2")
    assert def_headers(v1, "run") == [b"    def run(self,\n            x: int = 1,  # note: x\n            ) -> int:\n"]
    assert def_headers(v1, "run") == def_headers(body_only, "run")
    assert def_headers(v1, "run") != def_headers(default, "run")
    assert def_headers(v1, "runner") == [] and def_headers(b'def f(a="#)", b=1):\n  pass\n', "f")


def test_drift_on_a_branch_merged_back(tmp_path):
    """With merges in the history each change is compared with its own parent (read from git)."""
    repo = make_repo(tmp_path / "m")
    write(repo, {"pkg/__init__.py": "", "pkg/core/__init__.py": "", "pkg/app/__init__.py": "",
                 "pkg/core/api.py": API_V1,
                 "pkg/app/main.py": "from pkg.core.api import place\n\n\ndef run():\n    return place(1)\n"})
    commit(repo, "initial", date=day(1))
    git(repo, "checkout", "-q", "-b", "feat")
    write(repo, {"pkg/core/api.py": API_V1.replace("(order_id: int)", "(order_id: int, qty: int = 1)")})
    c2 = commit(repo, "quantity, docs and callers not updated", date=day(2))
    git(repo, "checkout", "-q", "main")
    write(repo, {"pkg/app/main.py": "from pkg.core.api import place\n\n\ndef run():\n    return place(2)\n"})
    commit(repo, "order two", date=day(3))
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feat", "feat", date=day(4))
    res = review(repo)
    assert res.drift[["sha", "change"]].values.tolist() == [[c2, DRIFT_DOC], [c2, DRIFT_CALLERS]]
    assert res.drift["detail"].iloc[0] == "(order_id: int) -> int => (order_id: int, qty: int = 1) -> int"


def test_drift_memo_shared_across_revisions_gives_the_same_rows(tmp_path, monkeypatch):
    """The per-change memo (keyed on commit ids) filled by a review at HEAD, whose interfaces differ, must not
    change a review at an earlier revision: same rows as with an empty memo."""
    import toolkit.analyze.interface_docs as idocs
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    repo = make_repo(tmp_path / "s")
    two = "def a(x: int) -> int:\n    return x\n\n\ndef b(x: int) -> int:\n    return x\n"
    write(repo, {"pkg/__init__.py": "", "pkg/core/__init__.py": "", "pkg/app/__init__.py": "",
                 "pkg/core/api.py": two,
                 "pkg/app/main.py": "from pkg.core.api import b\n\n\ndef run():\n    return b(1)\n"})
    commit(repo, "initial", date=day(1))
    write(repo, {"pkg/core/api.py": two.replace("def a(x: int)", "def a(x: int, y: int = 0)")
                 .replace("def b(x: int)", "def b(x: int, z: int = 0)")})
    rev = commit(repo, "a and b change; callers not updated", date=day(2))
    write(repo, {"pkg/app/main.py": "from pkg.core.api import a\n\n\ndef run():\n    return a(1)\n"})
    commit(repo, "app uses a instead", date=day(3))
    r = Repo.open(repo)

    def at(revision):
        return interface_docs(load_structure(r, rev=revision, cache=False), r, rev=revision,
                              history=load_history(r, rev=revision or "HEAD", cache=False))

    idocs._CHANGE_MEMO.clear()
    cold = at(rev).drift
    idocs._CHANGE_MEMO.clear()
    head = at(None).drift
    assert set(head["interface"]) == {"pkg.core.api.a"}
    warm = at(rev).drift
    pd.testing.assert_frame_equal(cold, warm)
    assert set(cold["interface"]) == {"pkg.core.api.b"}
    idocs._CHANGE_MEMO.clear()
    assert at(None).drift.equals(head)


def test_module_bindings_follow_run_time_order_one_definition_with_mocks():
    """A later module-level import of a name wins, as when the module runs; interface docs and mocks agree."""
    import ast

    from toolkit.load.mocks import _bindings

    src = (b"import typing\nif typing.TYPE_CHECKING:\n    from shop.a import Thing\nfrom shop.c import Thing\n"
           b"try:\n    from shop.fast import codec\nexcept ImportError:\n    from shop.slow import codec\n"
           b"with open('x') as fh:\n    from shop.w import w\n\ndef f():\n    from shop.local import hidden\n")
    md = parse_module(src, "shop.m", False)
    assert md.bindings["Thing"] == "shop.c.Thing" and md.bindings["codec"] == "shop.slow.codec"
    assert md.bindings["w"] == "shop.w.w" and "hidden" not in md.bindings
    assert md.bindings == _bindings(ast.parse(src), "shop.m", False, top_level_only=True)


def test_memos_persist_for_the_next_process_and_give_the_same_review(tmp_path, monkeypatch):
    """A later process (a re-audit after a new commit) reads the parses and drift comparisons an earlier one
    stored for the repository: it reads git for the new change only, and its review equals a fresh one."""
    import toolkit.analyze.interface_docs as idocs

    monkeypatch.delenv("SEAMSCOPE_NO_CACHE", raising=False)
    repo = make_repo(tmp_path / "p")
    write(repo, {"pkg/__init__.py": "", "pkg/core/__init__.py": "", "pkg/app/__init__.py": "",
                 "pkg/core/api.py": API_V1,
                 "pkg/app/main.py": "from pkg.core.api import place\n\n\ndef run():\n    return place(1)\n"})
    commit(repo, "initial", date=day(1))
    write(repo, {"pkg/core/api.py": API_V1.replace("(order_id: int)", "(order_id: int, qty: int = 1)")})
    commit(repo, "quantity, callers not updated", date=day(2))
    r = Repo.open(repo)

    def new_process():
        idocs._CHANGE_MEMO.clear()
        idocs._MODULE_MEMO.clear()
        idocs._LOADED.clear()

    def review_now():  # the analysis itself, not its cached result: the memos are what is under test
        return idocs._interface_docs(load_structure(r, cache=False), r, rev=None,
                                     history=load_history(r, cache=False), drift=True, max_drift_commits=2000)

    new_process()
    review_now()
    assert list((tmp_path / "cache" / "interface_docs").glob("*.pkl"))
    write(repo, {"pkg/core/api.py": API_V1.replace("(order_id: int)", "(order_id: int, qty: int = 2)")})
    commit(repo, "default quantity two", date=day(3))
    new_process()
    asked = []
    real = idocs._read_revisions
    monkeypatch.setattr(idocs, "_read_revisions", lambda mods, wanted: asked.append(wanted) or real(mods, wanted))
    warm = review_now()
    assert sum(len(paths) for w in asked for paths in w.values()) == 2  # the new change: its after and before
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    new_process()
    fresh = review_now()
    pd.testing.assert_frame_equal(warm.drift, fresh.drift)
    pd.testing.assert_frame_equal(warm.interfaces, fresh.interfaces)
    assert len(fresh.drift) >= 2


# ---- class_headers: the cheap "this class's signature cannot have changed" test used by drift ----------------
_CLASS_BASE = b'''import dataclasses

@dataclasses.dataclass(
    frozen=True,
)
class Point:
    """A point.

Text at column 0 inside the docstring must not end the class.
"""
    x: int
    y: int = 0

    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5


class Client:
    # a comment at the body's indentation
# and one at column 0
    def __init__(self, host: str,
                 port: int = 80):
        self.host = host

    def get(self, path):
        return path
'''


@pytest.mark.parametrize("old, new, same", [
    (b"return (self.x ** 2 + self.y ** 2) ** 0.5", b"return abs(complex(self.x, self.y))", True),  # a body
    (b"        return path", b"        return '/' + path", True),
    (b"    y: int = 0", b"    y: int = 1", False),  # a field's default
    (b"    frozen=True,", b"    frozen=False,", False),  # a decorator's continuation line
    (b"@dataclasses.dataclass(\n    frozen=True,\n)\n", b"", False),  # no longer a data class
    (b"                 port: int = 80):", b"                 port: int = 8080):", False),  # a multi-line __init__
])
def test_class_headers_differ_exactly_when_the_signature_can_change(old, new, same):
    from toolkit.analyze.interface_drift import class_headers, parse_module

    after = _CLASS_BASE.replace(old, new)
    assert after != _CLASS_BASE
    for name in ("Point", "Client"):
        equal = class_headers(_CLASS_BASE, name) == class_headers(after, name)
        sig_equal = (parse_module(_CLASS_BASE, "m", False).defs[name].signature
                     == parse_module(after, "m", False).defs[name].signature)
        assert not (equal and not sig_equal), f"{name}: texts equal although the signature changed"
    changed = [n for n in ("Point", "Client") if class_headers(_CLASS_BASE, n) != class_headers(after, n)]
    assert (changed == []) == same


def test_class_headers_unsure_and_absent():
    from toolkit.analyze.interface_drift import class_headers

    assert class_headers(b"x = 1\n", "Point") == []
    assert class_headers(b"class Point:\n    s = '''a''' + \"\"\"b\"\"\"\n", "Point") is None
    assert len(class_headers(b"class A:\n    pass\nif x:\n    class A:\n        pass\n", "A")) == 2
