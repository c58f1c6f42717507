"""Calls on annotated parameters, and on attributes of ``self`` bound from them, are resolved to the class's method.

A small real git repository with two components, ``core`` (defines the classes) and ``api`` (calls them through
parameters and attributes), parsed by the real loader.
"""
from __future__ import annotations

import pandas as pd
import pytest

from gitutil import make_repo
from test_call_sites import _sites  # one reading of the call-sites table for both
from toolkit.analyze.structural_coupling import seam_table
from toolkit.load.structure import load_structure

MAPPING = {"app/core/**": "core", "app/api/**": "api", "app/cli/**": "cli"}

FILES = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/models.py": """\
        class Config:
            app = None

            def load(self):
                return 1


        class Pool:
            def get(self):
                return 2


        def make_config():
            return Config()
        """,
    "app/core/shapes.py": """\
        from typing import TypedDict


        class Scope(TypedDict):
            path: str
        """,
    "app/api/dicts.py": """\
        from app.core.shapes import Scope


        def handle(scope: Scope):
            return scope.get("path")
        """,
    "app/api/__init__.py": "",
    "app/api/funcs.py": """\
        from typing import TYPE_CHECKING, Optional, Union

        from app.core import models
        from app.core.models import Config

        if TYPE_CHECKING:
            from app.core.models import Pool


        def plain(config: Config):
            config.load()


        def dotted(config: models.Config):
            config.load()


        def quoted(config: "Config", other: "Optional[Config]"):
            config.load()
            other.load()


        def optional(a: Optional[Config], b: Config | None, c: Union[None, Config]):
            a.load()
            b.load()
            c.load()


        def guarded(pool: "Pool"):
            pool.get()


        def not_followed(config: Config, n: int, many: list[Config], both: Union[Config, Pool]):
            config.app.run()
            n.bit_length()
            many.pop()
            both.load()


        def rebound(config: Config):
            config = other()
            config.load()
        """,
    "app/api/classes.py": """\
        from app.core.models import Config, Pool, make_config


        class Server:
            def __init__(self, config: Config, spare: Config, raw):
                self.config = config
                self.pool = Pool()
                self.conf: Config = make_config()
                self.spare = spare
                self.raw = raw

            def run(self):
                self.config.load()
                self.pool.get()
                self.conf.load()
                self.spare.load()
                self.raw.load()

            def reset(self, other: Config):
                self.spare = other
        """,
}


@pytest.fixture(scope="module")
def structure(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("typed") / "repo", FILES)
    return load_structure(repo, mapping=MAPPING, skips=[], workers=1, cache=False)




def _unresolved(structure, path: str) -> dict:
    un = structure.unresolved_calls
    un = un[un.path == path]
    return {(r, None if pd.isna(n) else n): c for r, n, c in zip(un.reason, un["name"].astype(object), un.calls)}


LOAD, GET = "app.core.models.Config.load", "app.core.models.Pool.get"


def test_a_parameter_annotated_with_a_class_holds_an_instance_of_it(structure):
    sites = _sites(structure, "app/api/funcs.py")
    # plain, dotted, string, Optional[...] in a string, Optional, X | None, Union[None, X]
    assert {(11, LOAD), (15, LOAD), (19, LOAD), (20, LOAD), (24, LOAD), (25, LOAD), (26, LOAD)} <= sites
    # the class is imported for type checkers only, but the call runs
    assert (30, GET) in sites


def test_what_an_annotation_does_not_name_stays_unresolved(structure):
    sites = _sites(structure, "app/api/funcs.py")
    assert not {s for s in sites if s[0] >= 33}
    got = _unresolved(structure, "app/api/funcs.py")
    # config.app.run(), n: int, list[Config], a union of two classes: on parameters, still unresolved
    assert got == {("parameter", "run"): 1, ("parameter", "bit_length"): 1, ("parameter", "pop"): 1,
                   ("parameter", "load"): 1, ("local", "load"): 1}  # and a parameter bound again


def test_an_attribute_bound_once_from_a_typed_parameter_a_call_or_an_annotation(structure):
    sites = _sites(structure, "app/api/classes.py")
    assert {(13, LOAD), (14, GET), (15, LOAD)} <= sites
    assert not {s for s in sites if s[0] in (16, 17)}  # bound twice; bound from an unannotated parameter
    assert _unresolved(structure, "app/api/classes.py") == {("attribute", "load"): 2}


def test_a_typed_dict_is_a_dict_at_run_time(structure):
    assert _sites(structure, "app/api/dicts.py") == set()  # scope.get() is dict.get, not the callee's code


def test_the_seam_has_call_sites_not_imports_only(structure):
    st = seam_table(structure).set_index("seam")
    assert st.loc["api->core", "call_sites"] >= 12


IMPORT_ONLY_FILES = {
    "seamscope.toml": '[components]\n"app/a.py" = "a"\n"app/b.py" = "b"\n"app/c.py" = "c"\n',
    "app/__init__.py": "",
    "app/b.py": "LIMIT = 3\n\n\nclass Engine:\n    def start(self):\n        return LIMIT\n",
    # imports b and calls a method b defines on an unannotated parameter: not resolved, not "nothing to test"
    "app/a.py": "from app import b\n\n\ndef run(engine):\n    return engine.start(), b.LIMIT\n",
    # imports a constant of b and calls nothing of it: import only
    "app/c.py": "from app.b import LIMIT\n\n\ndef f():\n    return LIMIT + 1\n",
}


def test_an_import_only_seam_with_unresolved_calls_on_the_callee_is_not_nothing_to_test(tmp_path, monkeypatch):
    import json

    from toolkit.cli import main
    from toolkit.runtime import progress

    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    repo = make_repo(tmp_path / "r", IMPORT_ONLY_FILES)
    try:
        assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "out")]) == 0
    finally:
        progress.set_enabled(None)
    sections = json.loads((tmp_path / "out" / "findings.json").read_text())["sections"]
    ic = sections["interaction_coverage"]
    seams = {r["seam"]: r for r in ic["tables"]["seams"]}
    assert (seams["a->b"]["status"], seams["a->b"]["unresolved_calls"]) == ("import_only", 1)
    assert (seams["c->b"]["status"], seams["c->b"]["unresolved_calls"]) == ("import_only", 0)
    assert "calls may cross them" in sections["summary"]["not_measured"]["interaction_coverage"]
    text = " ".join(ic["paragraphs"])
    assert "Seams that are imports only (no call across the seam can run; nothing to integration-test): c->b." in text
    assert "a->b: no call across the seam was resolved statically (1 unresolved call(s)" in text
    advice = {r["seam"]: r["recommendation"] for r in sections["seam_ranking"]["tables"]["seam_ranking"]}
    assert advice["a->b"].startswith("imports only: no call across the seam was resolved statically (1 unresolved")
    assert "nothing to integration-test" not in advice["a->b"]
    assert advice["c->b"] == "imports only: no call across the seam can run; nothing to integration-test"
