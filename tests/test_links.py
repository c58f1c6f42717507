"""Issue <-> fix-commit linking on small hand-made tables (and the sample system when built)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit import schema
from toolkit.components import ComponentMap
from toolkit.load.issues import load_issues
from toolkit.load.issues.normalize import finish
from toolkit.load.links import link_issues

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _issues(rows):
    raw = pd.DataFrame(rows)
    for col in ("created", "resolved", "updated"):
        if col in raw:
            raw[col] = pd.to_datetime(raw[col], utc=True)
    raw["source"] = "t"
    return finish(raw)


def _commits(rows):
    df = pd.DataFrame(rows, columns=["sha", "message", "timestamp", "parents"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df["is_merge"] = df["parents"].map(len) > 1
    df["author"] = "a"
    df["email"] = "a@x"
    return schema.conform(df, "commits")


ISSUES = _issues([
    {"tracker": "github", "key": "#12", "title": "crash", "type": "bug", "created": "2024-01-01"},
    {"tracker": "github", "key": "#13", "title": "slow", "type": "bug", "created": "2024-01-01", "linked_prs": [40]},
    {"tracker": "github", "key": "#40", "title": "PR", "body": "This closes #13.", "is_pull_request": True,
     "created": "2024-01-02"},
    {"tracker": "github", "key": "#14", "title": "never fixed", "type": "bug", "created": "2024-01-01"},
    {"tracker": "github", "key": "#15", "title": "merge only", "type": "bug", "created": "2024-01-01"},
    {"tracker": "jira", "key": "SHOP-7", "title": "payments", "type": "Bug", "created": "2024-01-01",
     "components": ["payments"], "resolved": "2024-01-20"},
    {"tracker": "jira", "key": "SHOP-8", "title": "orders", "type": "Bug", "created": "2024-01-01"},
])


def test_explicit_reference_merge_pr_and_namespaces():
    commits = _commits([
        ("a1", "Fixes #12: guard against None", "2024-01-02", ["p"]),
        ("a2", "refactor, see SHOP-8 and #999", "2024-01-03", ["a1"]),
        ("a3", "Merge pull request #40 from x/branch\n\nspeed", "2024-01-04", ["a2", "b1"]),
        ("a4", "Merge branch 'fix-15': closes #15", "2024-01-05", ["a3", "b2"]),
        ("a5", "resolved SHOP-7 in the gateway; also GH-12", "2024-01-06", ["a4"]),
        ("a6", "mention #7 (a Jira number, not a GitHub key) and shop-8 lowercase", "2024-01-07", ["a5"]),
        ("a7", "Fix rounding in totals (SHOP-8)\n\nRefs #12", "2024-01-08", ["a6"]),
    ])
    res = link_issues(ISSUES, commits)
    schema.check(res.links, "links")
    schema.check(res.unlinked, "unlinked_issues")
    got = {(r.issue_key, r.sha): r.confidence for r in res.links.itertuples()}
    assert got == {
        ("#12", "a1"): "explicit",
        ("SHOP-8", "a2"): "reference",
        ("#13", "a3"): "explicit",  # via PR #40 whose body closes #13
        ("#40", "a3"): "explicit",  # the PR itself: its merge commit
        ("SHOP-7", "a5"): "explicit",
        ("#12", "a5"): "reference",
        ("SHOP-8", "a7"): "explicit",  # subject starts with "Fix" and names the key
        ("#12", "a7"): "reference",  # only in the body, after "Refs"
        # the merged branch is not in this table (as in a first-parent history): the merge stands for it
        ("#15", "a4"): "explicit",
    }
    ev = res.links.set_index(["issue_key", "sha"])["evidence"]
    assert ev[("#12", "a1")] == "message: Fixes #12"
    assert "PR #40" in ev[("#13", "a3")]
    assert ev[("SHOP-8", "a7")] == "message: Fix rounding in totals (SHOP-8)"
    unl = dict(zip(res.unlinked["issue_key"], res.unlinked["reason"]))
    assert unl == {"#14": "no commit mentions it"}
    kinds = res.links.set_index(["issue_key", "sha"])["kind"]
    assert kinds[("#13", "a3")] == "pr" and kinds[("#40", "a3")] == "merge" and kinds[("#15", "a4")] == "merge"


def test_issue_components_and_heuristic():
    commits = _commits([
        ("c1", "Fixes SHOP-8", "2024-01-02", ["p"]),
        ("c2", "tidy", "2024-01-03", ["c1"]),          # touches payments 2 days after SHOP-7
        ("c3", "tidy more", "2024-01-30", ["c2"]),     # after SHOP-7 was resolved
    ])
    fc = pd.DataFrame({
        "sha": ["c1", "c1", "c1", "c2", "c3"],
        "path": ["shop/orders/api.py", "shop/orders/db.py", "tests/test_orders.py", "shop/payments/pay.py",
                 "shop/payments/pay.py"],
        "old_path": pd.NA, "added": [3, 1, 50, 2, 2], "deleted": [1, 0, 0, 0, 0], "binary": False,
    })
    fc = schema.conform(fc, "file_changes")
    cmap = ComponentMap.from_files(["shop/__init__.py", "shop/orders/__init__.py", "shop/orders/api.py",
                                    "shop/orders/db.py", "shop/payments/__init__.py", "shop/payments/pay.py"])
    res = link_issues(ISSUES, commits, file_changes=fc, components=cmap)
    schema.check(res.issue_components, "issue_components")
    ic = res.issue_components.set_index(["issue_key", "component"])
    assert ic.loc[("SHOP-8", "orders"), "files"] == 2 and ic.loc[("SHOP-8", "orders"), "churn"] == 5
    assert "SHOP-7" not in set(res.links["issue_key"])  # no heuristic unless asked
    res = link_issues(ISSUES, commits, file_changes=fc, components=cmap, heuristic=True, window_days=7)
    h = res.links[res.links["confidence"] == "heuristic"]
    assert list(zip(h["issue_key"], h["sha"])) == [("SHOP-7", "c2")]


def test_empty_inputs():
    res = link_issues(ISSUES.iloc[:0], _commits([]))
    assert res.links.empty and res.unlinked.empty
    schema.check(res.links, "links")


@pytest.mark.skipif(not all((SAMPLE / p).exists() for p in ("repo.bundle", "issues")),
                    reason="sample system not built yet")
def test_sample_truth_bugs_are_linked(sample_truth):
    history = pytest.importorskip("toolkit.load.history")
    truth = sample_truth
    issues = load_issues(SAMPLE / "issues")
    h = history.load_history(SAMPLE / "repo.bundle", cache=False)
    res = link_issues(issues, h.commits, file_changes=h.file_changes)
    linked = {k: set(v) for k, v in res.links.groupby("issue_key")["sha"]}
    by_key = issues.set_index("key")
    unlinked_truth = set(truth["unlinked_fixes"])
    for t in truth["issues"]:
        key = t["key"]
        assert key in by_key.index, key
        got = linked.get(key, set())
        assert set(t["fix_commits_mentioning_key"]) <= got, key
        assert bool(by_key.loc[key, "is_pull_request"]) == (t["type"] == "pull_request"), key
        if t["type"] != "pull_request":
            assert by_key.loc[key, "type"] == t["type"], key
        if t["environment"]:
            assert by_key.loc[key, "environment"] == t["environment"], (key, by_key.loc[key, "environment_evidence"])
    for planted in truth["planted"].values():
        assert set(planted["fix_commits"]) <= linked.get(planted["issue"], set()), planted["issue"]
    unl = set(res.unlinked["issue_key"])
    assert unlinked_truth <= unl
    assert unl & {k for k, v in linked.items() if v} == set()
    ic = res.issue_components
    assert {"payments", "inventory"} <= set(ic.loc[ic["issue_key"] == "SHOP-10", "component"])
