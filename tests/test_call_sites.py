"""A call site is a call that can run: what is left out (and counted), what stays, what cannot be resolved.

Each case is a file of a small real git repository with three components: ``core`` (the callee), ``compat``
(a compatibility module re-exporting builtins) and ``api`` (the caller).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.analyze.structural_coupling import seam_table
from toolkit.load.structure import load_structure

MAPPING = {"app/core/**": "core", "app/compat.py": "compat", "app/api/**": "api", "app/other/**": "other"}

FILES = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/models.py": """\
        PORTS = {"http": 80}


        class Base:
            def save(self):
                return 1


        def make():
            return Base()


        def urlopen(url):
            return url
        """,
    "app/compat.py": """\
        import json
        try:
            from json import JSONDecodeError
        except ImportError:
            JSONDecodeError = ValueError
        from builtins import bytes as builtin_bytes
        from app.core.models import make

        builtin_str = str
        str = str
        basestring = (str, bytes)
        maker = make


        def helper():
            return 1
        """,
    # a package __init__ that re-exports: an import, never a call site
    "app/api/__init__.py": "from app.core.models import Base, make\n",
    "app/api/types.py": """\
        import typing
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from app.core.models import Base, make

            class Sub(Base):
                pass

            make()
        if typing.TYPE_CHECKING:
            make()
        if False:
            make()
        if not TYPE_CHECKING:
            pass
        else:
            make()
        """,
    "app/api/hints.py": """\
        from typing import Annotated

        from app.core import models
        from app.core.models import Base


        def f(x: Base, y: "Base", z: Annotated[int, models.make()]) -> "models.Base":
            v: Base = x
            w: "Base"
            return v
        """,
    "app/api/uses.py": """\
        from app import compat
        from app.compat import builtin_str
        from app.core import models
        from app.core.models import make


        def real():
            make()
            compat.helper()
            compat.maker()
            return compat.str(1), builtin_str(2), compat.JSONDecodeError("x", "", 0), compat.builtin_bytes(3)


        def port():
            return models.PORTS.get("http")


        HANDLERS = {"a": make}


        class Client:
            def __init__(self, pool):
                self.pool = pool

            def send(self, conn, key, callback):
                conn.urlopen("u")
                callback()
                HANDLERS[key]()
                getattr(conn, "close")()
                self.pool.urlopen("u")
                self.helper()
                parts = []
                parts.append(", ".join(["a"]))
                return len(parts), super().__init__()

            def helper(self):
                return 1
        """,
    "app/other/__init__.py": "",
    "app/other/free.py": "from app.core.models import Base\n\n\ndef f(b: Base) -> None:\n    return None\n",
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def structure(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("calls") / "repo", FILES)
    return load_structure(repo, mapping=MAPPING, skips=[], workers=1, cache=False)


def _sites(structure, path: str) -> set[tuple[int, str]]:
    cs = structure.call_sites
    cs = cs[cs.path == path]
    return set(zip(cs.line.tolist(), cs.callee.astype(object).tolist()))


def test_type_checking_code_makes_no_call_site_but_its_imports_stay_imports(structure):
    assert _sites(structure, "app/api/types.py") == set()  # subclass, calls under every never-running guard
    imp = structure.imports[structure.imports.path == "app/api/types.py"]
    core = imp[imp.target_component == "core"]
    assert len(core) == 2 and core.is_type_checking.all()
    # the subclass and the four calls, counted as left out (not silently dropped)
    assert structure.not_call_sites["type_checking"] == 5


def test_annotations_and_string_annotations_make_no_call_site(structure):
    assert _sites(structure, "app/api/hints.py") == set()
    assert _sites(structure, "app/other/free.py") == set()
    assert structure.not_call_sites["annotation"] == 1  # models.make() inside Annotated[...]


def test_reexport_in_package_init_is_an_import_not_a_call_site(structure):
    assert _sites(structure, "app/api/__init__.py") == set()
    imp = structure.imports[structure.imports.path == "app/api/__init__.py"]
    assert set(imp.target_symbol.astype(object)) == {"Base", "make"} and set(imp.target_component) == {"core"}


def test_builtins_through_a_compat_alias_are_not_cross_component_calls(structure):
    sites = _sites(structure, "app/api/uses.py")
    # compat.str, builtin_str, the JSONDecodeError fallback and an imported builtin are not compat's code ...
    assert not {callee for _, callee in sites if callee.startswith("app.compat.") and callee not in
                {"app.compat.helper", "app.compat.maker"}}
    # nor is dict.get on a dict another component holds
    assert not {callee for _, callee in sites if callee.startswith("app.core.models.PORTS")}
    # counted as left out: the three assignments and the dict (a re-export by import resolves outside the
    # repository, as any import of the standard library does, and never was a call site)
    assert structure.not_call_sites["builtin_alias"] == 4
    # ... but compat's own function, and its alias of repository code, are real calls
    assert {(9, "app.compat.helper"), (10, "app.compat.maker")} <= sites


def test_a_real_call_is_counted(structure):
    assert (8, "app.core.models.make") in _sites(structure, "app/api/uses.py")
    schema.check(structure.call_sites, "call_sites")


def test_dynamic_calls_are_counted_as_unresolved_per_file_and_reason(structure):
    un = structure.unresolved_calls
    schema.check(un, "unresolved_calls")
    mine = un[un.path == "app/api/uses.py"]
    got = {(r, None if pd.isna(n) else n): c for r, n, c in
           zip(mine.reason, mine["name"].astype(object), mine.calls)}
    assert got == {("parameter", "urlopen"): 1, ("parameter", None): 1,  # conn.urlopen(), callback()
                   ("dynamic", None): 2,  # HANDLERS[key](), getattr(conn, "close")()
                   ("attribute", "urlopen"): 1}  # self.pool.urlopen(); not self.helper(), parts.append, super()
    assert set(un.component) == {"api"}


def test_seam_table_counts_imports_call_sites_and_unresolved_calls(structure):
    st = seam_table(structure).set_index("seam")
    schema.check(st.reset_index(), "seams")
    # other -> core: imported (for an annotation) and never called: import only
    assert (st.loc["other->core", "imports"], st.loc["other->core", "call_sites"]) == (1, 0)
    api_core = st.loc["api->core"]
    assert api_core.call_sites == 1  # make() in uses.real; nothing from types.py, hints.py or __init__.py
    # statements: __init__ 1, types.py 1 (under TYPE_CHECKING), hints.py 2, uses.py 2
    assert (api_core.imports, api_core.type_checking_imports) == (6, 1)
    # conn.urlopen() and self.pool.urlopen() in a file importing core at run time, which defines urlopen
    assert api_core.unresolved_calls == 2
    assert st.loc["api->compat", "call_sites"] == 2


def test_parse_output_round_trips_through_the_cache(tmp_path):
    repo = make_repo(tmp_path / "r", FILES)
    first = load_structure(repo, mapping=MAPPING, skips=[], workers=1)
    again = load_structure(repo, mapping=MAPPING, skips=[], workers=1)
    assert again.stats["result_cached"] == 1
    assert dict(again.not_call_sites) == dict(first.not_call_sites)
    assert again.unresolved_calls.equals(first.unresolved_calls)
