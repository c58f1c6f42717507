"""Fix diffs (toolkit.load.fix_diffs) on small real git repositories, and their evidence in bug categorization."""
from __future__ import annotations

import pandas as pd

from toolkit.analyze.bug_categorization import categorize_bugs
from toolkit.errors import Skip
from toolkit.load.fix_diffs import fix_diff_facts
from toolkit.load.history import load_history
from toolkit.load.issues.normalize import finish
from toolkit.load.links import link_fixes
from toolkit.load.structure import load_structure
from toolkit.vocab import schema

from tests.gitutil import commit, make_repo

BASE = {
    "shop/__init__.py": "",
    "shop/billing/__init__.py": "",
    "shop/billing/charge.py": """
        import json

        from shop.inventory.stock import reserve


        def charge(order):
            reserve(order["sku"], 1)
            total = order["price"] * 2
            return json.dumps({"total": total})
        """,
    "shop/inventory/__init__.py": "",
    "shop/inventory/stock.py": """
        class OutOfStock(Exception):
            pass


        def reserve(sku, n):
            if n < 0:
                raise OutOfStock(sku)
            return n


        def count(items):
            return len(items) + 1
        """,
}


def _bug(key: str, title: str) -> dict:
    return {"tracker": "github", "key": key, "title": title, "type": "bug", "is_pull_request": False}


def _load(repo, bugs):
    issues = finish(pd.DataFrame(bugs))
    s = load_structure(repo, cache=False, skips=[])
    h = load_history(repo, cache=False, roots=s.components.roots)
    links = link_fixes(issues, h, repo, components=s.components)
    skips: list[Skip] = []
    facts = fix_diff_facts(repo, links, issues=issues, components=s.components, skips=skips, use_cache=False)
    return issues, s, h, links, facts, skips


def test_cross_component_call_fix_fires_with_file_and_line(tmp_path):
    repo = make_repo(tmp_path / "r", BASE)
    sha = commit(repo, "Reserve the ordered quantity (fixes #1)", {"shop/billing/charge.py": """
        import json

        from shop.inventory.stock import reserve


        def charge(order):
            reserve(order["sku"], order["quantity"])
            total = order["price"] * 2
            return json.dumps({"total": total})
        """})
    issues, s, h, links, facts, skips = _load(repo, [_bug("#1", "Wrong quantity reserved")])
    schema.check(facts, "fix_diff_facts")
    assert skips == []
    cross = facts[facts["what"] == "cross_component_call"]
    assert list(cross["sha"]) == [sha]
    assert list(cross["path"]) == ["shop/billing/charge.py"]
    assert cross["line"].iloc[0] == 7
    assert "shop.inventory.stock.reserve" in cross["detail"].iloc[0]
    fc = h.file_changes
    res = categorize_bugs(issues, links=links, file_changes=fc, files=s.files, imports=s.imports,
                          commits=h.commits, fix_diffs=facts,
                          weights={"diff_cross_component_call": 0.5})  # 0 by default (the rule table): its mechanism
    ev = res.bugs["evidence"].iloc[0]
    assert any(e.startswith("fix diff shop/billing/charge.py:7 adds a call of shop.inventory.stock.reserve") for e in ev), ev
    assert res.features["diff_cross_component_call"].iloc[0] > 0
    assert res.features["diff_inside_component"].iloc[0] == 0


def test_fix_inside_one_function_of_one_component_is_component_evidence(tmp_path):
    repo = make_repo(tmp_path / "r", BASE)
    commit(repo, "Count items right (fixes #2)", {"shop/inventory/stock.py": BASE["shop/inventory/stock.py"]
                                                  .replace("len(items) + 1", "len(items)")})
    issues, s, h, links, facts, _ = _load(repo, [_bug("#2", "Count is one too many")])
    assert set(facts["what"]) == {"changed"}
    assert facts["component"].tolist() == ["inventory"]
    res = categorize_bugs(issues, links=links, file_changes=h.file_changes, files=s.files, imports=s.imports,
                          commits=h.commits, fix_diffs=facts, weights={"diff_inside_component": 0.5})  # 0 by default
    assert res.features["diff_inside_component"].iloc[0] > 0
    assert any("fix diff changed inventory only (shop/inventory/stock.py)" in e
               for e in res.bugs["evidence"].iloc[0])
    without = categorize_bugs(issues, links=links, file_changes=h.file_changes, files=s.files, imports=s.imports,
                              commits=h.commits)
    assert res.bugs["score_component"].iloc[0] > without.bugs["score_component"].iloc[0]


def test_exception_translation_hunk(tmp_path):
    repo = make_repo(tmp_path / "r", BASE)
    commit(repo, "Report a failed reservation as a billing error (fixes #3)", {"shop/billing/charge.py": """
        import json

        from shop.inventory.stock import OutOfStock, reserve


        class BillingError(Exception):
            pass


        def charge(order):
            try:
                reserve(order["sku"], 1)
            except OutOfStock as exc:
                raise BillingError(order["sku"]) from exc
            total = order["price"] * 2
            return json.dumps({"total": total})
        """})
    issues, s, h, links, facts, _ = _load(repo, [_bug("#3", "Crash on out of stock")])
    tr = facts[facts["what"] == "exception_translation"]
    assert len(tr) == 1
    assert tr["line"].iloc[0] == 14
    assert tr["detail"].iloc[0] == "except OutOfStock -> raise BillingError"
    res = categorize_bugs(issues, links=links, file_changes=h.file_changes, files=s.files, imports=s.imports,
                          commits=h.commits, fix_diffs=facts,
                          weights={"diff_exception_translation": 1.0})  # 0 by default (the rule table): its mechanism
    assert any(e.startswith("fix diff shop/billing/charge.py:14 except OutOfStock -> raise BillingError")
               for e in res.bugs["evidence"].iloc[0])


def test_dependency_and_serialization_calls(tmp_path):
    repo = make_repo(tmp_path / "r", {**BASE, "shop/billing/export.py": """
        import yaml


        def export(total):
            return yaml.safe_dump({"total": total})
        """})
    commit(repo, "Send totals as text (fixes #4)", {"shop/billing/export.py": """
        import yaml


        def export(total):
            return yaml.safe_dump({"total": str(total)})
        """})
    _i, _s, _h, _l, facts, _ = _load(repo, [_bug("#4", "Total wrong")])
    by = dict(zip(facts["what"], zip(facts["line"], facts["detail"])))
    assert by["dependency_call"] == (5, "adds a call of yaml.safe_dump")  # third party: not own, not stdlib
    assert by["serialization"] == (5, "adds yaml.safe_dump()")
    assert "cross_component_call" not in by


def test_hostile_diffs_are_skipped_not_crashing(tmp_path):
    repo = make_repo(tmp_path / "r", BASE)
    huge = "".join(f"x{i} = {i}\n" for i in range(4000))
    big = commit(repo, "Regenerate the table (fixes #5)", {"shop/inventory/table.py": huge})
    commit(repo, "Binary blob (fixes #6)", {"shop/inventory/blob.py": b"\x00\x01\x02\xff" * 100})
    odd = commit(repo, "Latin-1 name (fixes #7)", {"shop/inventory/\xe9t\xe9.py": "def f():\n    return 1\n"})
    raw = tmp_path / "r" / "shop" / "inventory"
    (raw / "\xe9t\xe9.py").rename(raw / b"\xe9x.py".decode("utf-8", "surrogateescape"))
    commit(repo, "Non-UTF-8 file name (fixes #8)")
    commit(repo, "Broken syntax (fixes #9)", {"shop/inventory/stock.py": "def (:\n"})
    _i, _s, _h, _l, facts, skips = _load(repo, [_bug(f"#{n}", "bug") for n in range(5, 10)])
    schema.check(facts, "fix_diff_facts")
    assert [s.path for s in skips] == [f"commit {big[:12]}"]
    assert "4000 Python lines" in skips[0].reason
    assert big not in set(facts["sha"])
    assert odd in set(facts["sha"])
    paths = set(facts["path"])
    assert "shop/inventory/\\xe9x.py" in paths  # the non-UTF-8 name, written as every table writes it
    assert "shop/inventory/stock.py" in paths  # a fix that does not parse still counts its changed lines


def test_a_fix_made_before_a_move_to_src_counts_for_the_component_the_code_belongs_to_now(tmp_path):
    """History follows the code: the fix wrote ``shop/billing/charge.py``; today it is ``src/shop/billing/...``."""
    from tests.gitutil import git

    repo = make_repo(tmp_path / "r", BASE)
    commit(repo, "Reserve the ordered quantity (fixes #1)", {"shop/billing/charge.py": """
        import json

        from shop.inventory.stock import reserve


        def charge(order):
            reserve(order["sku"], order["quantity"])
            total = order["price"] * 2
            return json.dumps({"total": total})
        """})
    (repo / "src").mkdir()
    git(repo, "mv", "shop", "src/shop")
    commit(repo, "move the package into src/")
    assert not (repo / "shop").exists()
    issues = finish(pd.DataFrame([_bug("#1", "Quantity ignored when charging")]))
    s = load_structure(repo, cache=False, skips=[])
    h = load_history(repo, cache=False, roots=s.components.roots)
    links = link_fixes(issues, h, repo, components=s.components)
    kw = dict(issues=issues, components=s.components, skips=[], use_cache=False)
    followed = fix_diff_facts(repo, links, file_changes=h.file_changes, **kw)
    as_written = fix_diff_facts(repo, links, **kw)
    assert set(followed["path"]) == {"shop/billing/charge.py"}  # the diff as the fix wrote it
    assert set(followed["component"].dropna()) == {"billing"}  # ... counted where that code lives now
    assert as_written["component"].isna().all()  # without the history, the old path is in no component
    assert "cross_component_call" in set(followed["what"])  # billing -> inventory, both found through the move
