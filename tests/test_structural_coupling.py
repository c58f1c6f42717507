"""Martin's coupling metrics and the seam table, hand-computed on a small real repository."""
from __future__ import annotations

import math

import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.analyze.structural_coupling import seam_table, structural_coupling
from toolkit.load.structure import load_structure

FILES = {
    "pkg/__init__.py": "",
    "pkg/a/__init__.py": "",
    "pkg/a/core.py": """\
        from pkg.b import svc
        from pkg.a import util
        from .util import f


        def run():
            svc.go()
            util.f()
            f()
            return svc.Thing()
        """,
    "pkg/a/util.py": "def f():\n    return 1\n",
    "pkg/b/__init__.py": "",
    "pkg/b/svc.py": """\
        from pkg.c import store


        class Thing:
            pass


        def go():
            return store.put()
        """,
    "pkg/c/__init__.py": "",
    "pkg/c/store.py": "def put():\n    return 0\n",
    "pkg/c/extra.py": """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from pkg.a.core import run
        """,
    "tests/test_a.py": "from pkg.c import store\n\n\ndef test_put():\n    assert store.put() == 0\n",
}


@pytest.fixture
def structure(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))
    return load_structure(make_repo(tmp_path / "repo", FILES), skips=[], workers=1)


def test_martin_metrics(structure):
    sc = structural_coupling(structure)
    schema.check(sc, "structural_coupling")
    got = {r.component: (r.afferent, r.efferent, r.instability, r.cohesion) for r in sc.itertuples()}
    assert set(got) == {"pkg", "a", "b", "c"}
    assert got["a"][:3] == (1, 1, 0.5) and got["a"][3] == pytest.approx(4 / 7)
    assert got["b"] == (1, 1, 0.5, 0.0)
    assert got["c"] == (1, 1, 0.5, 0.0)  # the TYPE_CHECKING import still couples c to a
    assert got["pkg"][:3] == (0, 0, 0.0) and math.isnan(got["pkg"][3])


def test_seam_table(structure):
    st = seam_table(structure)
    schema.check(st, "seams")
    rows = {r.seam: (r.caller_component, r.callee_component, r.imports, r.call_sites, r.callees)
            for r in st.itertuples()}
    assert rows == {
        "a->b": ("a", "b", 1, 2, 2),
        "b->c": ("b", "c", 1, 1, 1),
        "c->a": ("c", "a", 1, 0, 0),
    }
    assert list(st.seam) == sorted(rows)
