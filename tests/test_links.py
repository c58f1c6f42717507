"""Issue <-> fix-commit linking on small hand-made tables (and the sample system when built)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap
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
    assert unl == {"#14": "no commit, merge or changelog line names it"}
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


# ---- real repositories: merges, squash titles, fragments, pull-request exports ----------------------------
import json  # noqa: E402

from tests.gitutil import commit, git, make_repo, when  # noqa: E402
from toolkit.load.history import load_history, unreachable_commits  # noqa: E402


def _merge(repo, branch: str, message: str, day: int) -> str:
    git(repo, "merge", "--no-ff", "-q", branch, "-m", message, date=when(day))
    return git(repo, "rev-parse", "HEAD").strip()


def _github_export(tmp_path):
    issues = [
        {"number": n, "title": t, "state": "closed", "labels": [{"name": "bug"}], "created_at": "2024-01-01T00:00:00Z",
         "html_url": f"https://github.com/o/r/issues/{n}", "body": ""}
        for n, t in ((1, "crash on empty input"), (2, "crash on None"), (3, "division by zero"),
                     (4, "merged twice"), (5, "work in progress"), (6, "never merged"), (7, "nobody fixed it"),
                     (8, "slow start"), (9, "memory leak"))
    ]
    pulls = [  # GitHub REST /pulls items
        {"number": 11, "title": "Fix crash on None", "body": "Fixes #2.", "state": "closed",
         "merged_at": "2024-01-05T00:00:00Z", "merge_commit_sha": None, "labels": [{"name": "bug"}],
         "html_url": "https://github.com/o/r/pull/11", "created_at": "2024-01-04T00:00:00Z", "head": {}},
        {"number": 12, "title": "Try to fix", "body": "Closes #6", "state": "closed", "merged_at": None,
         "merge_commit_sha": "0" * 40, "labels": [], "html_url": "https://github.com/o/r/pull/12",
         "created_at": "2024-01-04T00:00:00Z", "head": {}},
        {"number": 13, "title": "Fix typo in error message", "body": "", "state": "closed",
         "merged_at": "2024-01-06T00:00:00Z", "labels": [{"name": "bug"}],
         "html_url": "https://github.com/o/r/pull/13", "created_at": "2024-01-04T00:00:00Z", "head": {}},
        {"number": 14, "title": "Speed up start", "body": "This resolves #8 by caching.", "state": "closed",
         "merged_at": "2024-01-07T00:00:00Z", "labels": [], "html_url": "https://github.com/o/r/pull/14",
         "created_at": "2024-01-04T00:00:00Z", "head": {}},
    ]
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "issues.json").write_text(json.dumps(issues))
    (tmp_path / "export" / "pulls.json").write_text(json.dumps(pulls))
    return load_issues(tmp_path / "export")


def test_links_follow_merges_squashes_fragments_and_pull_requests(tmp_path):
    repo = make_repo(tmp_path / "r", {"src/pkg/a.py": "x = 1\n", "src/pkg/b.py": "y = 1\n"}, date=when(1))
    base = git(repo, "rev-parse", "HEAD").strip()
    # a pull request merged with a merge commit whose body (the PR title) fixes #1: its two commits are the fix
    git(repo, "checkout", "-q", "-b", "fix-1")
    c1 = commit(repo, "Handle empty input", {"src/pkg/a.py": "x = 2\n"}, date=when(2))
    c2 = commit(repo, "Add a test", {"tests/test_a.py": "def test(): pass\n"}, date=when(2, hour=13))
    git(repo, "checkout", "-q", "main")
    m1 = _merge(repo, "fix-1", "Merge pull request #10 from ann/fix-1\n\nHandle empty input (fixes #1)", 3)
    # squash merges: PR #11 closes #2; PR #13 is a bug-labelled PR that closes nothing
    s11 = commit(repo, "Fix crash on None (#11)", {"src/pkg/a.py": "x = 3\n"}, date=when(5))
    s13 = commit(repo, "Fix typo in error message (#13)", {"src/pkg/b.py": "y = 2\n"}, date=when(6))
    # a changelog fragment names #3; the release commit later deletes it (that commit is no fix)
    f3 = commit(repo, "Guard the division", {"src/pkg/b.py": "y = 3\n", "changelog/3.bugfix.rst": "Fixed it.\n"},
                date=when(7))
    git(repo, "rm", "-q", "changelog/3.bugfix.rst")
    commit(repo, "Release 1.0", date=when(8))
    # PR #14 merged with a merge commit; its body resolves #8
    git(repo, "checkout", "-q", "-b", "speed")
    c14 = commit(repo, "Cache the config", {"src/pkg/a.py": "x = 4\n"}, date=when(9))
    git(repo, "checkout", "-q", "main")
    m14 = _merge(repo, "speed", "Merge pull request #14 from ann/speed\n\nSpeed up start", 10)
    # the merged branch's name is the only mention of #9
    git(repo, "checkout", "-q", "-b", "fix-9")
    c9 = commit(repo, "Plug the leak", {"src/pkg/b.py": "y = 9\n"}, date=when(10, hour=14))
    git(repo, "checkout", "-q", "main")
    _merge(repo, "fix-9", "Merge pull request #15 from ann/fix-9\n\nPlug the leak", 10)
    # a merge that brings in nothing new (its second parent is already merged) names #4
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    empty = git(repo, "commit-tree", tree, "-p", "HEAD", "-p", base, "-m", "Merge branch 'old' (closes #4)",
                date=when(11)).strip()
    git(repo, "update-ref", "refs/heads/main", empty)
    # an unmerged branch fixes #5
    git(repo, "checkout", "-q", "-b", "wip")
    wip = commit(repo, "Fix #5 for real", {"src/pkg/a.py": "x = 5\n"}, date=when(12))
    git(repo, "checkout", "-q", "main")

    issues = _github_export(tmp_path)
    hist = load_history(repo, cache=False)
    res = link_issues(issues, hist.commits, file_changes=hist.file_changes,
                      unreachable=lambda: unreachable_commits(repo))
    schema.check(res.links, "links")
    got = {(r.issue_key, r.sha): (r.kind, r.confidence) for r in res.links.itertuples()}
    assert got[("#1", c1)] == ("merge", "explicit") and got[("#1", c2)] == ("merge", "explicit")
    assert ("#1", m1) not in got  # the merge is the evidence, its branch's commits are the fix
    assert "Merge pull request #10" in res.links.set_index(["issue_key", "sha"]).at[("#1", c1), "evidence"]
    assert ("#10", c1) not in got  # "#10" names the pull request, not an issue
    assert got[("#2", s11)] == ("pr", "explicit") and got[("#11", s11)] == ("squash", "explicit")
    assert got[("#13", s13)] == ("squash", "explicit")
    assert got[("#3", f3)] == ("fragment", "explicit")
    assert {s for k, s in got if k == "#3"} == {f3}  # not the release commit that deleted the fragment
    assert got[("#8", c14)] == ("pr", "explicit") and ("#8", m14) not in got
    assert not any(s == wip for _, s in got)
    assert got[("#9", c9)] == ("merge", "reference")  # from the branch name "fix-9"
    assert not any(k == "#15" for k, _ in got)
    unl = dict(zip(res.unlinked["issue_key"], res.unlinked["reason"]))
    assert unl["#4"].startswith("mentioned only in a merge that brought in nothing")
    assert unl["#5"] == f"mentioned only in commits not reachable from the audited revision ({wip[:10]})"
    assert unl["#6"] == "closed by PR #12, which was never merged"
    assert unl["#7"] == "no commit, merge or changelog line names it"  # (the export holds pull requests)
    assert set(unl) == {"#4", "#5", "#6", "#7"}
    # bug-labelled pull requests: #13 closes nothing and is counted (linked through its squash), #11 is not
    pr = res.pr_bugs.set_index("key")
    assert bool(pr.at["#13", "counted"]) and not bool(pr.at["#11", "counted"])
    assert "#2" in pr.at["#11", "decision"]
    from toolkit.load.links import bug_mask
    counted = set(issues.loc[bug_mask(issues).to_numpy(), "key"])
    assert counted == {f"#{n}" for n in range(1, 10)} | {"#13"}


def test_first_parent_history_links_the_merge_itself(tmp_path):
    """With first_parent=True the branch commits are not in the table: the merge carries the diff and is linked."""
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"}, date=when(1))
    git(repo, "checkout", "-q", "-b", "f")
    commit(repo, "work", {"a.py": "x = 2\n"}, date=when(2))
    git(repo, "checkout", "-q", "main")
    m = _merge(repo, "f", "Merge branch 'f'\n\nFixes #1", 3)
    issues = _issues([{"tracker": "github", "key": "#1", "title": "t", "type": "bug"}])
    hist = load_history(repo, first_parent=True, cache=False)
    res = link_issues(issues, hist.commits, file_changes=hist.file_changes)
    assert list(zip(res.links["issue_key"], res.links["sha"], res.links["kind"])) == [("#1", m, "merge")]


def test_gitlab_merge_requests_and_merge_commits(tmp_path):
    repo = make_repo(tmp_path / "r", {"a.py": "x = 1\n"}, date=when(1))
    git(repo, "checkout", "-q", "-b", "fix")
    c = commit(repo, "Correct the rounding", {"a.py": "x = 2\n"}, date=when(2))
    git(repo, "checkout", "-q", "main")
    m = _merge(repo, "fix", "Merge branch 'fix' into 'main'\n\nCorrect the rounding\n\nSee merge request grp/proj!3", 3)
    export = [
        {"iid": 1, "title": "Rounding is off", "state": "closed", "labels": ["bug"], "created_at": "2024-01-01T00:00:00Z",
         "web_url": "https://gitlab.com/grp/proj/-/issues/1", "description": ""},
        {"iid": 3, "title": "Correct the rounding", "state": "merged", "labels": [], "description": "Closes #1",
         "created_at": "2024-01-02T00:00:00Z", "web_url": "https://gitlab.com/grp/proj/-/merge_requests/3",
         "merge_commit_sha": m, "source_branch": "fix"},
    ]
    (tmp_path / "gl.json").write_text(json.dumps(export))
    issues = load_issues(tmp_path / "gl.json").set_index("key", drop=False)
    assert issues.at["!3", "is_pull_request"] and bool(issues.at["!3", "merged"]) and issues.at["!3", "merge_sha"] == m
    assert not issues.at["#1", "is_pull_request"]
    hist = load_history(repo, cache=False)
    res = link_issues(issues, hist.commits, file_changes=hist.file_changes)
    got = {(r.issue_key, r.sha): r.kind for r in res.links.itertuples()}
    assert got == {("#1", c): "pr", ("!3", c): "merge"}
    assert res.unlinked.empty


def test_pull_request_title_with_a_jira_key_closes_it():
    """A GitHub PR titled by its Jira key links that Jira issue to the PR's merge; a '#N' only named in a PR's
    body (no closing word) is a reference."""
    issues = _issues([
        {"tracker": "jira", "key": "SHOP-8", "title": "orders", "type": "Bug"},
        {"tracker": "github", "key": "#5", "title": "typo", "type": "bug"},
        {"tracker": "github", "key": "#21", "title": "SHOP-8 round totals", "body": "see also #5",
         "is_pull_request": True, "merged": True},
    ])
    commits = _commits([("m1", "Merge pull request #21 from x/round", "2024-01-04", ["a0", "b1"])])
    res = link_issues(issues, commits)
    got = {(r.issue_key, r.sha): (r.kind, r.confidence) for r in res.links.itertuples()}
    assert got == {("SHOP-8", "m1"): ("pr", "explicit"), ("#5", "m1"): ("pr", "reference"),
                   ("#21", "m1"): ("merge", "explicit")}


def test_merge_subject_ending_in_an_issue_key_links_it():
    """``Merge branch 'fix' (#12)`` where the export knows #12 as an issue (not a PR) names the issue."""
    issues = _issues([{"tracker": "gitlab", "key": "#12", "title": "t", "type": "bug"}])
    commits = _commits([("m1", "Merge branch 'fix' (#12)", "2024-01-04", ["a0", "b1"])])
    res = link_issues(issues, commits)
    assert list(zip(res.links["issue_key"], res.links["sha"], res.links["kind"])) == [("#12", "m1", "merge")]



def test_version_notes_and_release_headings_in_words_are_no_fix_evidence(tmp_path):
    """``doc/changes/8.2.rst`` holds a version's notes, not a fragment of issue 8; a release heading dated in words
    (``## 0.28.1 (6th December, 2024)``) makes its commit a release, whose changelog lines record fixes made before."""
    from toolkit.load.links import link_fixes
    repo = make_repo(tmp_path / "r", {"src/pkg/a.py": "x = 1\n", "CHANGELOG.md": "# Changelog\n\n## [UNRELEASED]\n"},
                     date=when(1))
    commit(repo, "Keep the port when redirecting", {"src/pkg/a.py": "x = 2\n"}, date=when(2))
    notes = commit(repo, "Notes for 8.2", {"doc/changes/8.2.rst": "Release 8.2\n===========\n\n* Faster.\n"},
                   date=when(3))
    rel = commit(repo, "Version 0.28.1", {"src/pkg/__init__.py": "__version__ = '0.28.1'\n", "CHANGELOG.md":
                 "# Changelog\n\n## 0.28.1 (6th December, 2024)\n\n- Keep the port when redirecting. (#9)\n"},
                 date=when(4))
    issues = finish(pd.DataFrame({"tracker": "github", "type": "bug", "key": ["#8", "#9"], "source": "t"}))
    res = link_fixes(issues, load_history(repo, cache=False), repo)
    linked = set(zip(res.links["issue_key"], res.links["sha"]))
    assert ("#8", notes) not in linked and ("#9", rel) not in linked, linked
    assert set(res.unlinked["issue_key"]) == {"#8", "#9"}


def test_a_version_heading_with_a_date_alone_below_it_is_a_release(tmp_path):
    """Release notes written at release time (``## 0.36.2`` with ``February 3, 2024`` on its own line below, as
    starlette writes them) record fixes made before: the release commit is no fix. A version heading with
    "Unreleased" below it is the first fix after a release opening the next version's notes: still the fix."""
    from toolkit.load.links import link_fixes
    repo = make_repo(tmp_path / "r", {"src/pkg/a.py": "x = 1\n", "docs/release-notes.md": "## 0.36.1\n\nJanuary 2, 2024\n"},
                     date=when(1))
    fix = commit(repo, "Avoid duplicate charset (#43)", {"src/pkg/a.py": "x = 2\n"}, date=when(2))
    rel = commit(repo, "Version 0.36.2 (#56)", {"src/pkg/__init__.py": "__version__ = '0.36.2'\n",
                 "docs/release-notes.md": "## 0.36.2\n\nFebruary 3, 2024\n\n#### Fixed\n\n"
                 "* Avoid duplicate charset [#43](https://github.com/o/r/43).\n\n## 0.36.1\n\nJanuary 2, 2024\n"},
                 date=when(3))
    nxt = commit(repo, "Keep the port", {"src/pkg/a.py": "x = 3\n", "docs/release-notes.md": "## 0.36.3\n\nUnreleased\n\n"
                 "* Keep the port (#47).\n\n" + (tmp_path / "r" / "docs/release-notes.md").read_text()}, date=when(4))
    issues = finish(pd.DataFrame({"tracker": "github", "type": "bug", "key": ["#43", "#47"], "source": "t"}))
    res = link_fixes(issues, load_history(repo, cache=False), repo)
    linked = set(zip(res.links["issue_key"], res.links["sha"]))
    assert ("#43", rel) not in linked and ("#43", fix) in linked, linked
    assert ("#47", nxt) in linked, linked


def test_changelog_lines_added_by_the_fix_link_it(tmp_path):
    """A line citing an issue added to CHANGES.rst by a commit is the same evidence as a fragment file: the
    oldest commit writing it is linked; moving the line, a release citing many, or a towncrier build is not."""
    from toolkit.load.links import changelog_citations, link_fixes
    repo = make_repo(tmp_path / "r", {"src/pkg/a.py": "x = 1\n", "CHANGES.rst": "Version 1.0\n-----------\n\n"},
                     date=when(1))
    fix = commit(repo, "Handle the empty case", {"src/pkg/a.py": "x = 2\n", "CHANGES.rst":
                 "Version 1.0\n-----------\n\n- Fix the crash on empty input. :issue:`21`\n"}, date=when(2))
    commit(repo, "Reorder the changelog", {"CHANGES.rst": "Version 1.0\n-----------\n\n- Docs.\n\n"
           "- Fix the crash on empty input. :issue:`21`\n"}, date=when(3))
    gh = commit(repo, "Guard the division", {"src/pkg/a.py": "x = 3\n", "HISTORY.md":
                "* Guard the division ([#23](https://github.com/o/r/issues/23))\n"}, date=when(4))
    bulk = commit(repo, "Backfill the changelog", {"src/pkg/a.py": "x = 4\n", "CHANGES.rst": (
        tmp_path / "r" / "CHANGES.rst").read_text() + "- a #31\n- b #32\n- c #33\n- d #34\n"}, date=when(5))
    frag = commit(repo, "Stop the leak", {"src/pkg/a.py": "x = 5\n", "changelog/26.bugfix.rst": "Leak.\n"},
                  date=when(6))
    git(repo, "rm", "-q", "changelog/26.bugfix.rst")
    commit(repo, "Release 1.1", {"src/pkg/__init__.py": "__version__ = '1.1'\n", "CHANGES.rst": (
        tmp_path / "r" / "CHANGES.rst").read_text() + "- Stop the leak. #26\n"}, date=when(7))
    pr = commit(repo, "Keep the header (#40)", {"src/pkg/a.py": "x = 6\n", "CHANGES.rst": (
        tmp_path / "r" / "CHANGES.rst").read_text() + "- Keep the header. :pr:`40`\n"}, date=when(8))
    rel = commit(repo, "Release 1.2", {"src/pkg/__init__.py": "__version__ = '1.2'\n", "CHANGES.rst": (
        tmp_path / "r" / "CHANGES.rst").read_text() + "\n1.2 (2024-01-09)\n----------------\n- Faster. #28\n"},
        date=when(9))

    issues = finish(pd.DataFrame({"tracker": "github", "type": "bug",
                                  "key": ["#21", "#23", "#26", "#31", "#27", "#28"], "source": "t"}))
    hist = load_history(repo, cache=False)
    cites = changelog_citations(repo, "HEAD", hist.file_changes)
    assert {(s, n) for s, n in zip(cites["sha"], cites["num"]) if n in (21, 23)} >= {(fix, 21), (gh, 23)}
    res = link_fixes(issues, hist, repo)
    got = {(r.issue_key, r.sha): (r.kind, r.confidence) for r in res.links.itertuples()}
    assert got[("#21", fix)] == ("changelog", "explicit")
    assert {s for k, s in got if k == "#21"} == {fix}  # not the commit that moved the line
    assert got[("#23", gh)] == ("changelog", "explicit")  # a tracker URL in a Markdown changelog
    assert not any(s == bulk for _, s in got)  # four numbers at once: a backfill, not a fix
    assert not any(s == rel for _, s in got)  # a dated release heading: the release records #28, it is no fix
    assert {s for k, s in got if k == "#26"} == {frag}  # the build writing the fragment's line is not the fix
    unl = dict(zip(res.unlinked["issue_key"], res.unlinked["reason"]))
    assert set(unl) == {"#31", "#27", "#28"}
    assert "export holds no pull requests" in unl["#27"]  # GitHub keeps the issue->PR link outside git
    # with a pull-request export, the changelog line citing PR 40 links the issue it closes
    prs = finish(pd.DataFrame({"tracker": "github", "type": ["bug", "bug", None], "key": ["#21", "#27", "#40"],
                               "is_pull_request": [False, False, True], "title": ["", "", "Keep the header"],
                               "body": ["", "", "Fixes #27"], "source": "t"}))
    res2 = link_fixes(prs, hist, repo)
    got2 = {(r.issue_key, r.sha): (r.kind, r.confidence) for r in res2.links.itertuples()}
    assert got2[("#27", pr)][1] == "explicit" and got2[("#40", pr)] == ("changelog", "explicit")
    # without changelog lines the same bugs are unlinked: the evidence is the changelog's, nothing else
    bare = link_issues(issues, hist.commits, file_changes=hist.file_changes)
    assert not bare.links["issue_key"].isin(["#21", "#23"]).any()


def test_a_commit_that_only_writes_the_changelog_records_a_fix_it_is_not_one(tmp_path):
    """paramiko writes "Changelog re #649" after the fix, which names no number: that commit changed no code, so it
    is not the fix; the bug is unlinked and says why. A commit that fixes code and writes the line is linked."""
    from toolkit.load.links import link_fixes
    repo = make_repo(tmp_path / "r", {"pkg/a.py": "x = 1\n", "sites/www/changelog.rst": "Changelog\n=========\n\n"},
                     date=when(1))
    commit(repo, "Handle the empty banner", {"pkg/a.py": "x = 2\n"}, date=when(2))
    note = commit(repo, "Changelog re #649", {"sites/www/changelog.rst": "Changelog\n=========\n\n"
                  "- :bug:`649` Empty banners crashed the transport.\n"}, date=when(3))
    fix = commit(repo, "Fix #650: guard the handshake", {"pkg/a.py": "x = 3\n", "sites/www/changelog.rst": (
        tmp_path / "r" / "sites/www/changelog.rst").read_text() + "- :bug:`650` Guard the handshake.\n"},
        date=when(4))
    issues = finish(pd.DataFrame({"tracker": "github", "type": "bug", "key": ["#649", "#650"], "source": "t"}))
    res = link_fixes(issues, load_history(repo, cache=False), repo)
    assert set(zip(res.links["issue_key"], res.links["sha"])) == {("#650", fix)}
    reason = dict(zip(res.unlinked["issue_key"], res.unlinked["reason"]))["#649"]
    assert f"changed nothing but the changelog ({note[:10]})" in reason


def test_reverted_fixes_fix_nothing_and_a_revert_of_a_revert_reapplies(tmp_path):
    """git's reverts: the undone commit is no fix (the bug says why it has none), the words a revert quotes and
    "Reopens #N" are no mention, and reverting the revert re-applies the original's links."""
    repo = make_repo(tmp_path / "r", {"src/pkg/a.py": "x = 1\n", "src/pkg/b.py": "y = 1\n"}, date=when(1))
    c1 = commit(repo, "Fix crash on empty input (fixes #51)", {"src/pkg/a.py": "x = 2\n"}, date=when(2))
    git(repo, "revert", "--no-commit", c1, date=when(3))
    r1 = commit(repo, f'Revert "Fix crash on empty input (fixes #51)"\n\nThis reverts commit {c1[:9]}.\n\n'
                "It broke the plugin. Reopens #51.", date=when(3))
    c2 = commit(repo, "Guard the division\n\nFixes #52", {"src/pkg/b.py": "y = 2\n"}, date=when(4))
    git(repo, "revert", "--no-edit", c2, date=when(5))
    r2 = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "revert", "--no-edit", r2, date=when(6))
    r3 = git(repo, "rev-parse", "HEAD").strip()
    c3 = commit(repo, "Fix #53 for good", {"src/pkg/b.py": "y = 3\n"}, date=when(7))
    issues = finish(pd.DataFrame({"tracker": "github", "type": "bug", "key": ["#51", "#52", "#53"], "source": "t"}))
    hist = load_history(repo, cache=False)
    res = link_issues(issues, hist.commits, file_changes=hist.file_changes)
    got = {(r.issue_key, r.sha): r.confidence for r in res.links.itertuples()}
    assert not any(k == "#51" for k, _ in got)  # neither the undone fix nor the revert that reopened it
    assert {s for k, s in got if k == "#52"} == {c2, r3}  # in effect again: re-applied by the revert of its revert
    assert "re-applies " + c2[:10] in res.links.set_index(["issue_key", "sha"]).at[("#52", r3), "evidence"]
    assert got[("#53", c3)] == "explicit"
    unl = dict(zip(res.unlinked["issue_key"], res.unlinked["reason"]))
    assert unl == {"#51": f"its fix {c1[:10]} was reverted by {r1[:10]}"}
