"""Static repository structure: imports and cross-component call sites, read from real git repositories."""
from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

import pandas as pd
import pytest

from gitutil import git, make_repo, write
from toolkit.vocab import schema
from toolkit.errors import ConfigError, InputError, Skip, SkippedInputWarning
from toolkit.load.structure import load_structure

ROOT = Path(__file__).resolve().parents[1]

FILES = {
    "app/__init__.py": "",
    "app/settings.py": "def get():\n    return {}\n",
    "app/core/__init__.py": "from .models import Account\n",
    "app/core/models.py": """\
        class Account:
            def __init__(self, owner):
                self.owner = owner


        class Base:
            pass


        def make_account(owner):
            return Account(owner)
        """,
    "app/core/util.py": "def helper():\n    return 1\n",
    "app/billing/__init__.py": "",
    "app/billing/invoice.py": """\
        import app.core.util
        import app.core.util as cu
        from app.core import models
        from app.core.models import make_account, Base
        from app import core
        from typing import TYPE_CHECKING
        from ..core import Account

        if TYPE_CHECKING:
            from app.api.views import View


        class Invoice(Base):
            def total(self):
                a = models.Account("x")
                b = make_account("y")
                c = cu.helper()
                d = app.core.util.helper()
                e = Account("z")
                f = core.Account("w")
                return helper_local()


        def helper_local():
            from app.api import views
            return views.render()


        def shadowed(models):
            return models.Account("no")
        """,
    "app/api/__init__.py": "",
    "app/api/views.py": """\
        try:
            import json
        except ImportError:
            json = None
        from app.billing.invoice import Invoice
        from app import settings


        def render():
            return Invoice().total() + len(settings.get())
        """,
    "app/api/jobs.py": """\
        from app.billing.invoice import Invoice
        from app.core.models import make_account


        def build() -> "Invoice":
            return Invoice()


        def run(flag):
            inv = Invoice()
            inv.total()
            again = build()
            again.total()
            acc = make_account("x")
            acc.owner.strip()
            other = Invoice()
            other = None
            other.total()
            if flag:
                x = Invoice()
            else:
                x = make_account("y")
            x.total()
        """,
    "app/api/broken.py": "def f(:\n    pass\n",
    "app/api/legacy.py": "print 'hello'\n",
    "tests/test_invoice.py": """\
        from app.billing.invoice import Invoice


        def test_total():
            assert Invoice().total()
        """,
    "README.md": "demo\n",
}

INVOICE = "app/billing/invoice.py"
EXPECTED_SITES = {
    # (path, line, caller, callee, kind, seam)
    (INVOICE, 13, "app.billing.invoice", "app.core.models.Base", "subclass", "billing->core"),
    (INVOICE, 15, "app.billing.invoice.Invoice.total", "app.core.models.Account", "instantiate", "billing->core"),
    (INVOICE, 16, "app.billing.invoice.Invoice.total", "app.core.models.make_account", "call", "billing->core"),
    (INVOICE, 17, "app.billing.invoice.Invoice.total", "app.core.util.helper", "call", "billing->core"),
    (INVOICE, 18, "app.billing.invoice.Invoice.total", "app.core.util.helper", "call", "billing->core"),
    (INVOICE, 19, "app.billing.invoice.Invoice.total", "app.core.models.Account", "instantiate", "billing->core"),
    (INVOICE, 20, "app.billing.invoice.Invoice.total", "app.core.models.Account", "instantiate", "billing->core"),
    (INVOICE, 26, "app.billing.invoice.helper_local", "app.api.views.render", "call", "billing->api"),
    ("app/api/views.py", 10, "app.api.views.render", "app.billing.invoice.Invoice", "instantiate", "api->billing"),
    ("app/api/views.py", 10, "app.api.views.render", "app.settings.get", "call", "api->app"),
    # instances: a name bound once to a class's instance, or to a call annotated to return one
    ("app/api/jobs.py", 6, "app.api.jobs.build", "app.billing.invoice.Invoice", "instantiate", "api->billing"),
    ("app/api/jobs.py", 10, "app.api.jobs.run", "app.billing.invoice.Invoice", "instantiate", "api->billing"),
    ("app/api/jobs.py", 11, "app.api.jobs.run", "app.billing.invoice.Invoice.total", "call", "api->billing"),
    ("app/api/jobs.py", 13, "app.api.jobs.run", "app.billing.invoice.Invoice.total", "call", "api->billing"),
    ("app/api/jobs.py", 14, "app.api.jobs.run", "app.core.models.make_account", "call", "api->core"),
    ("app/api/jobs.py", 16, "app.api.jobs.run", "app.billing.invoice.Invoice", "instantiate", "api->billing"),
    ("app/api/jobs.py", 20, "app.api.jobs.run", "app.billing.invoice.Invoice", "instantiate", "api->billing"),
    ("app/api/jobs.py", 22, "app.api.jobs.run", "app.core.models.make_account", "call", "api->core"),
    # not: 15 (make_account's result has no known class), 18 and 23 (the name is bound twice)
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repo(tmp_path / "repo", FILES)


def sites(structure) -> set[tuple]:
    cs = structure.call_sites
    return set(cs[["path", "line", "caller", "callee", "kind", "seam"]].itertuples(index=False, name=None))


def test_call_sites_every_import_form(repo):
    skips: list[Skip] = []
    s = load_structure(repo, skips=skips, workers=1)
    for table in ("files", "imports", "call_sites"):
        schema.check(getattr(s, table), table)
    assert sites(s) == EXPECTED_SITES
    row = s.call_sites.set_index("call_site_id").loc[f"{INVOICE}:16:app.core.models.make_account"]
    assert (row.caller_component, row.callee_component) == ("billing", "core")
    assert s.commit == git(repo, "rev-parse", "HEAD").strip()
    assert s.call_sites.call_site_id.is_unique


def test_unparsable_files_are_skipped_not_fatal(repo):
    (repo / "app/api/latin.py").write_bytes(b"name = '\xe9t\xe9'\n")  # not UTF-8, no coding cookie
    (repo / "app/api/nul.py").write_bytes(b"x = 1\x00\n")
    (repo / "app/api/cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")
    skips: list[Skip] = []
    s = load_structure(repo, skips=skips, workers=1)
    assert sorted(sk.path for sk in skips) == ["app/api/broken.py", "app/api/latin.py", "app/api/legacy.py",
                                               "app/api/nul.py"]
    with pytest.warns(SkippedInputWarning):  # no list given: each skip is a warning, never silent
        load_structure(repo, workers=1)
    broken = next(sk for sk in skips if sk.path == "app/api/broken.py")
    assert broken.line == 1 and "does not parse" in broken.reason
    assert set(s.skipped) == set(skips)
    # the rest is still analysed
    assert not s.call_sites.empty


def test_imports_table_flags_and_resolution(repo):
    s = load_structure(repo, skips=[], workers=1)
    imp = s.imports
    inv = imp[imp.path == INVOICE].set_index("line")
    assert (inv.loc[3, "target_module"], pd.isna(inv.loc[3, "target_symbol"])) == ("app.core.models", True)
    rel = inv.loc[7]
    assert (rel.target_module, rel.target_symbol, rel.target_component, bool(rel.is_relative)) == (
        "app.core", "Account", "core", True)
    tc = inv.loc[10]
    assert bool(tc.is_type_checking) and bool(tc.is_conditional) and not bool(tc.is_function_local)
    assert (tc.target_module, tc.target_symbol, tc.target_component) == ("app.api.views", "View", "api")
    local = inv.loc[25]
    assert bool(local.is_function_local) and not bool(local.is_conditional)
    assert local.target_module == "app.api.views"
    assert not inv.loc[1, "is_conditional"]
    views = imp[imp.path == "app/api/views.py"].set_index("target_module")
    assert bool(views.loc["json", "is_conditional"]) and pd.isna(views.loc["json", "target_component"])
    # tests are parsed (their imports are needed later) but belong to no component
    t = imp[imp.path == "tests/test_invoice.py"]
    assert list(t.target_module) == ["app.billing.invoice"] and t.component.isna().all()
    assert not (s.call_sites.path == "tests/test_invoice.py").any()


def test_files_table(repo):
    s = load_structure(repo, skips=[], workers=1)
    f = s.files.set_index("path")
    assert f.loc["app/core/models.py", "component"] == "core"
    assert f.loc["app/core/models.py", "module"] == "app.core.models"
    assert f.loc["app/core/util.py", "loc"] == 2
    assert bool(f.loc["tests/test_invoice.py", "is_test"]) and pd.isna(f.loc["tests/test_invoice.py", "component"])
    assert f.loc["README.md", "kind"] == "other" and pd.isna(f.loc["README.md", "loc"])
    assert sorted(s.components.names) == ["api", "app", "billing", "core"]


def test_past_revision_leaves_work_tree_alone(repo):
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"app/api/views.py": "from app.core.util import helper\n\n\ndef render():\n    return helper()\n"})
    git(repo, "commit", "-q", "-am", "views call core")
    (repo / "app/core/util.py").write_text("def helper():\n    return 2\n")  # uncommitted change
    before = git(repo, "status", "--porcelain")
    old = load_structure(repo, rev=first, skips=[], workers=1)
    assert sites(old) == EXPECTED_SITES
    assert old.commit == first
    assert git(repo, "status", "--porcelain") == before
    new = load_structure(repo, skips=[], workers=1)
    views = new.call_sites[new.call_sites.path == "app/api/views.py"]
    assert set(zip(views.line, views.callee, views.seam)) == {(5, "app.core.util.helper", "api->core")}


def test_mapping_argument_and_config_file(repo):
    mapping = {"app/core/**": "domain", "app/billing/**": "domain", "app/api/**": "web", "app/settings.py": "web",
               "app/__init__.py": "web"}
    s = load_structure(repo, mapping=mapping, skips=[], workers=1)
    assert set(s.call_sites.seam) == {"domain->web", "web->domain"}
    assert "app/core/models.py:" not in " ".join(s.call_sites.call_site_id)  # domain-internal calls dropped
    # the same mapping from the analysed repository's seamscope.toml
    toml = "[components]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in mapping.items())
    write(repo, {"seamscope.toml": toml})
    from_file = load_structure(repo, skips=[], workers=1)
    pd.testing.assert_frame_equal(from_file.call_sites, s.call_sites)
    # an explicit argument beats the file
    other = load_structure(repo, mapping={"app/**": "all"}, skips=[], workers=1)
    assert other.call_sites.empty


def test_mapping_patterns_overlap_and_unmatched_ones_are_skips(repo):
    s = load_structure(repo, mapping={"app/**": "a", "app/core/**": "b"}, skips=[], workers=1)
    assert s.components.names == ["a"]  # the first pattern wins; the overlap is no error
    write(repo, {"pyproject.toml": "[project]\nname = 'app'\n\n[tool.seamscope.components]\n\"nowhere/**\" = \"x\"\n"})
    skips: list[Skip] = []
    load_structure(repo, skips=skips, workers=1)
    assert [(k.path, k.line) for k in skips if "'nowhere/**' matches no current file" in k.reason] == [
        ("pyproject.toml", 5)]
    write(repo, {"pyproject.toml": "[tool.seamscope.components]\n\"app/**\" = \"a->b\"\n"})
    with pytest.raises(ConfigError, match=r"^pyproject.toml:2: "):
        load_structure(repo, skips=[], workers=1)


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_structure(tmp_path / "missing")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError, match="not a git repository"):
        load_structure(plain)
    docs = make_repo(tmp_path / "docs", {"README.md": "hi\n"})
    with pytest.raises(InputError, match="no Python files") as exc:
        load_structure(docs)
    assert exc.value.hint


def test_cache_reuses_parses(repo):
    first = load_structure(repo, skips=[], workers=1)
    assert first.stats["parsed"] == 13 and not first.stats["result_cached"]
    skips: list[Skip] = []
    second = load_structure(repo, skips=skips, workers=1)
    assert second.stats == {"parsed": 0, "cached": 13, "result_cached": 1}
    assert len(skips) == 2  # skips are reported again from the cache
    for table in ("files", "imports", "call_sites"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(second, table))
    (repo / "app/core/util.py").write_text("def helper():\n    return 3\n\n\ndef other():\n    pass\n")
    third = load_structure(repo, skips=[], workers=1)
    assert third.stats == {"parsed": 1, "cached": 12, "result_cached": 0}
    assert sites(third) == EXPECTED_SITES
    uncached = load_structure(repo, skips=[], workers=1, cache=False)
    assert uncached.stats["parsed"] == 13


def test_process_pool_gives_same_tables(repo):
    single = load_structure(repo, skips=[], workers=1, cache=False)
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        pooled = load_structure(repo, skips=[], executor=pool, cache=False)
    for table in ("files", "imports", "call_sites"):
        pd.testing.assert_frame_equal(getattr(single, table), getattr(pooled, table))


def test_bundle_reads_head(repo, tmp_path):
    bundle = tmp_path / "repo.bundle"
    git(repo, "bundle", "create", "-q", str(bundle), "--all")
    s = load_structure(bundle, skips=[], workers=1)
    assert sites(s) == EXPECTED_SITES


SAMPLE = ROOT / "data" / "sample"


@pytest.mark.skipif(not (SAMPLE / "repo.bundle").exists(),
                    reason="the sample system (data/sample) has not been built")
def test_sample_truth_call_sites_and_seams(sample_truth):
    """Every call site the sample's truth lists is found, on the same seams. We find a few more: the truth
    follows import aliases only, we also follow ``x = Cls(...)`` / annotated returns to ``x.method()``."""
    truth = sample_truth
    s = load_structure(SAMPLE / "repo.bundle", skips=[])
    found = set(zip(s.call_sites.path, s.call_sites.line, s.call_sites.callee))
    listed = {(c["path"], c["line"], c["callee"]) for seam in truth["seams"].values() for c in seam["call_sites"]}
    assert listed and listed <= found, sorted(listed - found)
    assert set(s.call_sites.seam) == set(truth["seams"])
    by_id = s.call_sites.set_index("call_site_id")
    # the payment gateway's client is reached through an instance made by a classmethod annotated -> "GatewayClient"
    assert by_id.loc["shop/payments/charges.py:15:shop.gateway.client.GatewayClient.charge", "seam"] == "payments->gateway"


def test_a_file_name_that_is_not_utf8_is_read_and_joins_with_history(tmp_path):
    """An old repository may hold a Latin-1 file name. Structure (work tree and revision) and history name it the
    same way (``\\xNN`` for the odd byte), its call sites are found, and the audit runs (it crashed in Arrow)."""
    import os

    from toolkit.cli import main
    from toolkit.load.gitrepo import Repo, path_bytes, path_text
    from toolkit.load.history import load_history

    repo = make_repo(tmp_path / "r", {"app/__init__.py": "", "app/core/__init__.py": "", "app/web/__init__.py": "",
                                      "app/core/base.py": "def f():\n    return 1\n"})
    raw = b"app/web/caf\xe9.py"
    with open(os.path.join(os.fsencode(repo), raw), "wb") as fh:
        fh.write(b"from app.core.base import f\n\n\ndef g():\n    return f()\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a view with a Latin-1 name")
    name = path_text(raw)
    assert name == "app/web/caf\\xe9.py" and path_bytes(name) == raw
    r = Repo.open(repo)
    for rev in (None, "HEAD"):
        s = load_structure(r, rev=rev, cache=False)
        sites = s.call_sites[s.call_sites["path"] == name]
        assert len(sites) == 1 and (sites["caller_component"].iloc[0], sites["callee_component"].iloc[0]) == \
            ("web", "core"), rev
        assert dict(r.read_files([name], rev))[name].startswith(b"from app.core")
    hist = load_history(r, cache=False)
    assert name in set(hist.file_changes["path"]) and set(hist.file_changes["path"]) <= set(s.files["path"])
    assert main(["audit", str(repo), "-q", "--out", str(tmp_path / "report")]) == 0
