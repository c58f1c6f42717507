"""Interface documentation review and interface drift, on real git repositories built in tmp_path."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from gitutil import commit, git, make_repo, when, write
from toolkit.vocab import schema
from toolkit.analyze.interface_docs import DRIFT_CALLERS, DRIFT_DOC, WEIGHTS
from toolkit.analyze.interface_drift import documented_params, documents_raises, documents_returns
from toolkit.core.findings import review_interfaces
from toolkit.load.definitions import parse_module
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
    return review_interfaces(load_structure(r, cache=False), r, load_history(r, cache=False), **kw)


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
    res = review_interfaces(ev.structure, ev.repo, ev.history, rev=ev.config.at)
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
    from toolkit.load.definitions import def_headers

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


def test_drift_at_an_earlier_revision_after_head_gives_the_same_rows(tmp_path, monkeypatch):
    """The blob-id cache filled by a review at HEAD, whose interfaces differ, must not change a review at an
    earlier revision: same rows as with an empty cache."""
    import shutil

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
        return review_interfaces(load_structure(r, rev=revision, cache=False), r,
                                 load_history(r, rev=revision or "HEAD", cache=False), rev=revision)

    cold = at(rev).drift
    shutil.rmtree(tmp_path / "cache")
    head = at(None).drift
    assert set(head["interface"]) == {"pkg.core.api.a"}
    warm = at(rev).drift
    pd.testing.assert_frame_equal(cold, warm)
    assert set(cold["interface"]) == {"pkg.core.api.b"}


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


def test_a_second_review_parses_nothing_and_a_new_commit_parses_only_its_versions(tmp_path, monkeypatch):
    """Parses are cached by git blob id in the cache's ``definitions`` namespace: a second review (a later
    process) parses nothing, one after a new commit parses only the new versions' segments, and both equal a
    review without any cache."""
    from toolkit.load import definitions

    monkeypatch.delenv("SEAMSCOPE_NO_CACHE", raising=False)
    repo = make_repo(tmp_path / "p")
    write(repo, {"pkg/__init__.py": "", "pkg/core/__init__.py": "", "pkg/app/__init__.py": "",
                 "pkg/core/api.py": API_V1,
                 "pkg/app/main.py": "from pkg.core.api import place\n\n\ndef run():\n    return place(1)\n"})
    commit(repo, "initial", date=day(1))
    write(repo, {"pkg/core/api.py": API_V1.replace("(order_id: int)", "(order_id: int, qty: int = 1)")})
    commit(repo, "quantity, callers not updated", date=day(2))
    r = Repo.open(repo)

    def parses_of_a_review():
        before = definitions.stats["parses"]
        res = review_interfaces(load_structure(r, cache=False), r, load_history(r, cache=False))
        return definitions.stats["parses"] - before, res

    first, _ = parses_of_a_review()
    assert first > 0 and list((tmp_path / "cache" / "definitions").glob("*.pkl"))
    again, second = parses_of_a_review()
    assert again == 0
    write(repo, {"pkg/core/api.py": API_V1.replace("(order_id: int)", "(order_id: int, qty: int = 2)")})
    commit(repo, "default quantity two", date=day(3))
    new, warm = parses_of_a_review()
    assert 0 < new <= 2 + 2  # the new version's segment (and the module at the new HEAD); nothing older
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    _n, fresh = parses_of_a_review()
    pd.testing.assert_frame_equal(warm.drift, fresh.drift)
    pd.testing.assert_frame_equal(warm.interfaces, fresh.interfaces)
    assert len(fresh.drift) >= 4 and set(second.drift["sha"]) < set(fresh.drift["sha"])


def test_a_change_inside_a_class_is_seen_through_the_segment_shortcut():
    """The shortcut (equal segment text: unchanged; only bodies changed: unchanged; else parse the segments)
    must still see a changed __init__ or method inside a big class, and ignore a change elsewhere."""
    from toolkit.load.definitions import ABSENT, Outline, segment_defs

    base = (b'"""Module."""\nimport os\n\n\n@decorate\nclass Big:\n    """Doc."""\n\n'
            b'    def __init__(self, a: int):\n        self.a = a\n\n    def run(self, x):\n        return x\n\n\n'
            b'def helper(y):\n    return y\n')
    ol = Outline(base)
    assert ol.segment("Big").startswith(b"@decorate\nclass Big:") and b"def helper" not in ol.segment("Big")
    assert ol.segment("missing") == ABSENT
    names = ["Big", "Big.run", "Big.__init__"]

    def sigs(data):
        return {q: v[0] for q, v in segment_defs(data, Outline(data).segment("Big"), names).items()}

    full = parse_module(base, "m", False).defs
    assert sigs(base) == {q: full[q].signature for q in names}
    init = base.replace(b"a: int)", b"a: int, b: int = 0)")
    assert sigs(init)["Big"] != sigs(base)["Big"] and sigs(init)["Big.run"] == sigs(base)["Big.run"]
    method = base.replace(b"def run(self, x)", b"def run(self, x, y=1)")
    assert sigs(method)["Big.run"] != sigs(base)["Big.run"]
    outside = base.replace(b"return y", b"return y + 1")
    assert Outline(outside).segment("Big") == ol.segment("Big")
    # unsure cases fall back to the whole file: a second definition, one inside a top-level if
    assert Outline(base + b"\n\nclass Big:\n    pass\n").segment("Big") is None
    assert Outline(base + b"\nif os:\n    def helper(z):\n        return z\n").segment("helper") is None
    # a docstring with a column-0 line does not end the class
    doc = base.replace(b'"""Doc."""', b'"""Doc.\n\nnot_a_statement = 1\n"""')
    assert Outline(doc).segment("Big").endswith(b"return x\n\n\n")


# ---- class_headers: the cheap "this class's signature cannot have changed" test used by drift segments ----------------
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
    # what most commits touch in a big class leaves the texts equal: other methods' docstrings, decorators and
    # multi-line headers, a non-data class's attributes, comments, brackets in strings and comments
    (b"    def get(self, path):\n", b'    @cached\n    def get(\n        self, path\n    ):\n        """Get.\n\n'
     b'    def __init__(self, x):  (no definition: inside a string)\n"""\n', True),
    (b"    # a comment at the body's indentation\n", b"    RETRIES = 3  # (\n", True),
    (b"        return path", b"        return (path  # ]\n)", True),
    (b"\nclass Client:", b"\n@typing.final\nclass Client:", True),
    # ... and what can change the signature does not
    (b"    def __init__(self, host: str,", b"    @staticmethod\n    def __init__(self, host: str,", False),
    (b"    def __init__(self, host: str,\n                 port: int = 80):\n        self.host = host\n",
     b"    x = '''\n    def __init__(self, host: str,\n                 port: int = 80):\n'''\n", False),  # in a string
    (b"    def norm(self):", b"    z: str = ')'\n\n    def norm(self):", False),
])
def test_class_headers_differ_exactly_when_the_signature_can_change(old, new, same):
    from toolkit.load.definitions import class_headers, parse_module

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
    from toolkit.load.definitions import class_headers

    assert class_headers(b"x = 1\n", "Point") == []
    both = class_headers(b"class Point:\n    s = '''a''' + \"\"\"b\"\"\"\n\n    def __init__(self, a):\n        pass\n",
                         "Point")
    assert both == [b"class Point:\n\0    def __init__(self, a):\n"]  # both quote styles on one line: strings
    assert class_headers(b"class Point:\n        x = 1\n    y = 2\n", "Point") is None  # not Python: unsure
    assert len(class_headers(b"class A:\n    pass\nif x:\n    class A:\n        pass\n", "A")) == 2


def test_definition_changes_follow_their_schema(drift_repo):
    from toolkit.load.definitions import load_definition_changes

    repo, (_c1, c2, c3, _c4) = drift_repo
    r = Repo.open(repo)
    got = load_definition_changes(r, load_history(r, cache=False), {"pkg/core/orders.py": ["place"]})
    schema.check(got.changes, "definition_changes")
    assert got.changes["sha"].tolist() == [c3, c2] and got.changes["path"].tolist() == ["pkg/core/orders.py"] * 2
    assert got.changes["doc_unchanged"].tolist() == [True, False]


def test_an_overloaded_function_is_cut_as_its_last_definition():
    """``@overload`` variants then the implementation: parse_module keeps the last, so the segment is the last
    definition (not the whole file); a class defined twice stays unsure (its methods come from the first)."""
    from toolkit.load.definitions import Outline, segment_defs

    src = (b"from typing import overload\n\n\n@overload\ndef f(x: int) -> int: ...\n\n\n@overload\n"
           b"def f(x: str) -> str: ...\n\n\ndef f(x, y=0):\n    \"\"\"Impl.\"\"\"\n    return x\n\n\ndef g():\n    pass\n")
    seg = Outline(src).segment("f")
    assert seg is not None and seg.startswith(b"def f(x, y=0)") and b"def g" not in seg
    full = parse_module(src, "m", False).defs["f"]
    assert segment_defs(src, seg, ["f"])["f"][0] == full.signature
    assert Outline(src + b"\n\nclass g:\n    pass\n").segment("g") is None
    # a name inside another word or after other text is no definition of it
    assert Outline(b"def ff():\n    pass\n\nx = 'def f(): pass'\n").segment("f") == b""
