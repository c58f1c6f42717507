"""load_history on real git repositories built in tmp_path with fixed dates."""
from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

from gitutil import commit, git, make_repo, when, write
from toolkit.vocab import schema
from toolkit.errors import InputError, SkippedInputWarning
from toolkit.load import history as history_mod
from toolkit.load.history import follow_renames, load_history

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_BUNDLE = ROOT / "data" / "sample" / "repo.bundle"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


BODY = "".join(f"line {i}\n" for i in range(30))


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "r", {"pkg/a.py": BODY, "logo.png": bytes(range(256))},
                  message="first\n\nwith a body", date=when(1))
    commit(r, "second", {"pkg/a.py": BODY + "more\n", "pkg/b.py": "x = 1\ny = 2\n"}, date=when(2), author="Bob")
    git(r, "mv", "pkg/a.py", "pkg/renamed.py")
    git(r, "commit", "-q", "-m", "rename", date=when(3))
    return r


def test_commits_and_changes(repo):
    h = load_history(repo)
    schema.check(h.commits, "commits")
    schema.check(h.file_changes, "file_changes")
    c = h.commits
    assert list(c["message"].str.strip()) == ["rename", "second", "first\n\nwith a body"]
    assert list(c["author"]) == ["Ann", "Bob", "Ann"]
    assert c["email"].iloc[1] == "bob@example.com"
    assert c["timestamp"].iloc[2] == pd.Timestamp("2024-01-01T12:00:00Z")
    assert c["parents"].iloc[0] == [c["sha"].iloc[1]] and c["parents"].iloc[2] == []
    assert not c["is_merge"].any()
    assert h.head == c["sha"].iloc[0] and h.shallow is False
    fc = h.file_changes.set_index(["sha", "path"])
    first, second, third = c["sha"].iloc[2], c["sha"].iloc[1], c["sha"].iloc[0]
    png = fc.loc[(first, "logo.png")]
    assert png["binary"] and pd.isna(png["added"]) and pd.isna(png["deleted"])
    assert fc.loc[(first, "pkg/a.py")]["added"] == 30
    assert fc.loc[(second, "pkg/b.py")][["added", "deleted"]].tolist() == [2, 0]
    ren = fc.loc[(third, "pkg/renamed.py")]
    assert ren["old_path"] == "pkg/a.py" and ren["added"] == 0 and not ren["binary"]
    assert pd.isna(fc.loc[(second, "pkg/a.py")]["old_path"])


def test_no_renames_gives_delete_plus_add(repo):
    h = load_history(repo, renames=False)
    third = h.commits["sha"].iloc[0]
    rows = h.file_changes[h.file_changes["sha"] == third].set_index("path")
    assert rows.loc["pkg/a.py", "deleted"] == 31 and rows.loc["pkg/renamed.py", "added"] == 31
    assert h.file_changes["old_path"].isna().all()


def test_follow_renames(repo):
    fc = load_history(repo).file_changes
    assert sorted(set(follow_renames(fc))) == ["logo.png", "pkg/b.py", "pkg/renamed.py"]
    # a path reused after its file was renamed away is a different file
    commit(repo, "reuse", {"pkg/a.py": "new file\n"}, date=when(4))
    fc = load_history(repo).file_changes
    followed = list(follow_renames(fc))
    assert followed[0] == "pkg/a.py"
    assert followed.count("pkg/renamed.py") == 3


def test_non_utf8_message(tmp_path):
    r = make_repo(tmp_path / "r")
    write(r, {"a.py": "a\n"})
    git(r, "add", "-A")
    (tmp_path / "msg").write_bytes(b"caf\xe9 latin1\n")
    git(r, "-c", "i18n.commitEncoding=latin1", "commit", "-q", "-F", str(tmp_path / "msg"))
    write(r, {"a.py": "b\n"})
    git(r, "add", "-A")
    git(r, "commit", "-q", "--cleanup=verbatim", "-F", "-", input=b"raw \xff\xfe bytes\n", date=when(2))
    msgs = list(load_history(r).commits["message"])
    assert msgs[1].startswith("caf\u00e9 latin1")  # declared encoding: git re-encodes to UTF-8
    assert msgs[0].startswith("raw ") and msgs[0].rstrip().endswith(" bytes")  # undeclared bytes: never a crash


def test_non_utf8_path(tmp_path):
    r = make_repo(tmp_path / "r")
    name = b"caf\xe9.py"
    (r / os.fsdecode(name)).write_bytes(b"x\n")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "latin1 file name")
    skips = []
    h = load_history(r, skips=skips)
    assert h.file_changes["path"].iloc[0] == "caf\\xe9.py"  # readable, and storable in Arrow strings
    assert skips == []
    before = history_mod.git_log_runs
    assert load_history(r).file_changes["path"].iloc[0] == "caf\\xe9.py"  # from the cache
    assert history_mod.git_log_runs == before


def test_merges_counted_once_and_first_parent(tmp_path):
    r = make_repo(tmp_path / "r", {"a.py": "a\n"}, message="base", date=when(1))
    git(r, "checkout", "-q", "-b", "side")
    commit(r, "side work", {"side.py": "s\n"}, date=when(2))
    git(r, "checkout", "-q", "main")
    commit(r, "main work", {"a.py": "a\nb\n"}, date=when(3))
    git(r, "merge", "-q", "--no-ff", "-m", "merge side", "side", date=when(4))
    h = load_history(r)
    assert len(h.commits) == 4 and h.commits["is_merge"].sum() == 1
    merge = h.commits.loc[h.commits["is_merge"], "sha"].iloc[0]
    assert (h.file_changes["sha"] == merge).sum() == 0  # merges carry no changes: counted once, on side work
    assert list(h.file_changes["path"]).count("side.py") == 1
    fp = load_history(r, first_parent=True)
    assert list(fp.commits["message"].str.strip()) == ["merge side", "main work", "base"]
    assert fp.file_changes.loc[fp.file_changes["sha"] == merge, "path"].tolist() == ["side.py"]


def test_empty_repo(tmp_path):
    h = load_history(make_repo(tmp_path / "r"))
    assert h.commits.empty and h.file_changes.empty and h.head is None
    schema.check(h.file_changes, "file_changes")


def test_since_until_paths_and_bad_rev(repo):
    h = load_history(repo, since="2024-01-02")
    assert list(h.commits["message"].str.strip()) == ["rename", "second"]
    h = load_history(repo, until=pd.Timestamp("2024-01-02T18:00:00Z"))
    assert list(h.commits["message"].str.strip()) == ["second", "first\n\nwith a body"]
    h = load_history(repo, paths=["pkg/b.py"])
    assert list(h.file_changes["path"]) == ["pkg/b.py"]
    with pytest.raises(InputError, match="does-not-exist"):
        load_history(repo, "does-not-exist")


def test_cache_hit_does_not_run_git_log(repo):
    before = history_mod.git_log_runs
    h1 = load_history(repo)
    assert history_mod.git_log_runs == before + 1
    h2 = load_history(repo)
    assert history_mod.git_log_runs == before + 1
    pd.testing.assert_frame_equal(h1.commits, h2.commits)
    pd.testing.assert_frame_equal(h1.file_changes, h2.file_changes)
    assert h2.commits["parents"].iloc[0] == h1.commits["parents"].iloc[0]
    load_history(repo, renames=False)  # other arguments: another entry
    load_history(repo, cache=False)
    assert history_mod.git_log_runs == before + 3
    commit(repo, "new", {"pkg/b.py": "changed\n"}, date=when(5))
    assert len(load_history(repo).commits) == 4  # a new HEAD misses the cache


def test_a_clone_missing_a_blob_names_the_object_and_how_to_mend_it(repo):
    """A mirror or partial clone without some blobs (large files left out) cannot give line counts: the error says
    which object and how to get it, not "check the revision"."""
    blob = git(repo, "rev-parse", "HEAD~2:logo.png").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(InputError, match=blob) as err:
        load_history(repo, cache=False)
    assert "refetch" in str(err.value) and "revision" not in str(err.value)


def test_shallow_clone_warns(repo, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo}", str(clone)], check=True)
    skips = []
    h = load_history(clone, skips=skips)
    assert h.shallow and len(h.commits) == 2
    assert len(skips) == 1 and "shallow" in skips[0].reason
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        load_history(clone)
    assert any(issubclass(x.category, SkippedInputWarning) for x in w)


def test_sample_bundle():
    if not SAMPLE_BUNDLE.exists():
        pytest.skip("data/sample/repo.bundle not built")
    h = load_history(SAMPLE_BUNDLE)
    schema.check(h.commits, "commits")
    schema.check(h.file_changes, "file_changes")
    assert len(h.commits) > 0 and len(h.file_changes) > 0
    assert set(h.file_changes["sha"]) <= set(h.commits["sha"])


def test_commits_since_a_cached_head_are_read_alone_and_give_the_full_read(repo, monkeypatch):
    """A re-audit after new commits reads only those (git log OLD..NEW) on top of the cached history, when they
    form a chain; after a merge it reads everything again. Either way the tables equal a full uncached read."""
    first = load_history(repo)
    commit(repo, "four", {"pkg/b.py": "x = 2\n"}, date=when(5))
    git(repo, "mv", "pkg/b.py", "pkg/c.py")
    git(repo, "commit", "-q", "-m", "five: rename", date=when(6))
    read = []
    real = history_mod._stream
    monkeypatch.setattr(history_mod, "_stream", lambda r, args: read.append(args[-2]) or real(r, args))
    grown = load_history(repo)
    assert read == [f"{first.head}..{grown.head}"]
    full = load_history(repo, cache=False)
    pd.testing.assert_frame_equal(grown.commits, full.commits)
    pd.testing.assert_frame_equal(grown.file_changes, full.file_changes)
    assert list(follow_renames(grown.file_changes)) == list(follow_renames(full.file_changes))
    old_b = grown.file_changes["path"] == "pkg/b.py"  # cached rows, renamed by a commit read on top of them
    assert old_b.sum() == 2 and set(grown.file_changes.loc[old_b, "current_path"]) == {"pkg/c.py"}

    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, "side", {"side.py": "s\n"}, date=when(7))
    git(repo, "checkout", "-q", "main")
    commit(repo, "main", {"pkg/c.py": "x = 3\n"}, date=when(8))
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side", date=when(9))
    read.clear()
    merged = load_history(repo)
    assert read == [merged.head]  # a merge since the cached head: the whole history is read
    full = load_history(repo, cache=False)
    pd.testing.assert_frame_equal(merged.commits, full.commits)
    pd.testing.assert_frame_equal(merged.file_changes, full.file_changes)


# ---- history follows the code: moves, renames, splits ----------------------------------------------------------
def _lines(tag: str, n: int = 24) -> str:
    return "".join(f"def {tag}_{i}(x):\n    return x + {i}\n" for i in range(n))


@pytest.fixture()
def moved(tmp_path: Path) -> dict:
    """c1 creates pkg/ (orders, billing); c2 fixes billing/pay.py (#7); c3 moves pkg/ to src/pkg/ with git mv,
    rewriting billing/tax.py on the way (rename detection cannot pair it); c4 renames pay.py to payment.py;
    c5 splits orders/core.py into a package of three modules (no part similar enough for rename detection);
    c6 deletes pkg's legacy.py (gone, no successor) and src/pkg/billing/old.py (gone, its directory remains).
    c2 also deletes pkg/billing/refund.py (its directory moves later) and pkg/vendor/ (gone with its directory)."""
    r = make_repo(tmp_path / "r", {
        "pkg/__init__.py": "", "pkg/legacy.py": _lines("legacy"),
        "pkg/orders/__init__.py": "", "pkg/orders/core.py": _lines("a") + _lines("b") + _lines("c"),
        "pkg/billing/__init__.py": "", "pkg/billing/pay.py": _lines("pay"), "pkg/billing/tax.py": _lines("tax"),
        "tests/test_pay.py": "def test_pay():\n    pass\n", "setup.py": "print('setup')\n",
        "pkg/billing/refund.py": _lines("refund"), "pkg/vendor/__init__.py": "", "pkg/vendor/six.py": _lines("six"),
    }, date=when(1))
    git(r, "rm", "-q", "-r", "pkg/billing/refund.py", "pkg/vendor")
    shas = {"c1": git(r, "rev-parse", "HEAD").strip()}
    shas["c2"] = commit(r, "Fix rounding, fixes #7", {"pkg/billing/pay.py": _lines("pay") + "FIXED = 1\n",
                                                      "pkg/orders/core.py": _lines("a") + _lines("b") + _lines("c")
                                                      + "ORDER = 1\n", "tests/test_pay.py": "def test_x():\n  1\n"},
                        date=when(2))
    (r / "src").mkdir()
    git(r, "mv", "pkg", "src/pkg")
    write(r, {"src/pkg/billing/tax.py": _lines("levy", 10), "src/pkg/billing/old.py": "OLD = 1\n"})
    shas["c3"] = commit(r, "move to src layout", date=when(3))
    git(r, "mv", "src/pkg/billing/pay.py", "src/pkg/billing/payment.py")
    shas["c4"] = commit(r, "rename pay to payment", date=when(4))
    git(r, "rm", "-q", "src/pkg/orders/core.py")
    shas["c5"] = commit(r, "split core", {"src/pkg/orders/core/__init__.py": "from .a import *\n",
                                          "src/pkg/orders/core/a.py": _lines("a"), "src/pkg/orders/core/b.py": _lines("b"),
                                          "src/pkg/orders/core/c.py": _lines("c")}, date=when(5))
    git(r, "rm", "-q", "src/pkg/legacy.py", "src/pkg/billing/old.py")
    shas["c6"] = commit(r, "drop legacy", date=when(6))
    return {"repo": r, **shas}


def _current(h, sha: str, path: str):
    fc = h.file_changes
    got = fc.loc[(fc["sha"] == sha) & (fc["path"] == path), "current_path"]
    assert len(got) == 1, (sha, path)
    return got.iloc[0]


def test_old_commits_are_named_by_their_files_paths_today(moved):
    h = load_history(moved["repo"])
    schema.check(h.file_changes, "file_changes")
    c1, c2, c3 = moved["c1"], moved["c2"], moved["c3"]
    assert _current(h, c2, "pkg/billing/pay.py") == "src/pkg/billing/payment.py"  # git mv, then a rename
    assert _current(h, c1, "pkg/billing/pay.py") == "src/pkg/billing/payment.py"
    assert _current(h, c3, "src/pkg/billing/pay.py") == "src/pkg/billing/payment.py"
    # content rewritten on the move: git saw a deletion and an addition; the module name finds the successor
    tax_rows = h.file_changes[h.file_changes["sha"] == c3].set_index("path")
    assert pd.isna(tax_rows.loc["src/pkg/billing/tax.py", "old_path"])
    assert _current(h, c1, "pkg/billing/tax.py") == "src/pkg/billing/tax.py"
    # a module split into a package: pkg.orders.core lives on as the package's __init__
    assert _current(h, c2, "pkg/orders/core.py") == "src/pkg/orders/core/__init__.py"
    # gone with no successor; the test file keeps its path; tooling at the top stays where it is
    assert pd.isna(_current(h, c1, "pkg/legacy.py"))
    assert _current(h, c2, "tests/test_pay.py") == "tests/test_pay.py"
    assert _current(h, c1, "setup.py") == "setup.py"


def test_old_commits_count_for_todays_components(moved):
    from toolkit.vocab.components import ComponentMap
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import change_components

    h = load_history(moved["repo"])
    cmap = ComponentMap.from_files(Repo.open(moved["repo"]).list_files("HEAD"))
    fc = h.file_changes
    comp = change_components(fc, cmap)
    by = {(s, p): c for s, p, c in zip(fc["sha"], fc["path"], comp)}
    billing = cmap.component_of("src/pkg/billing/payment.py")
    orders = cmap.component_of("src/pkg/orders/core/__init__.py")
    assert billing and orders and billing != orders
    assert by[(moved["c2"], "pkg/billing/pay.py")] == billing
    assert by[(moved["c1"], "pkg/billing/tax.py")] == cmap.component_of("src/pkg/billing/tax.py")
    assert by[(moved["c2"], "pkg/orders/core.py")] == orders
    # a file deleted since counts where it was last (moved to src/pkg/, then deleted): its directory is still a
    # component's, even for the commit made before the move
    assert pd.isna(fc.loc[fc["path"] == "pkg/legacy.py", "current_path"]).all()
    assert by[(moved["c1"], "pkg/legacy.py")] == cmap.component_of("src/pkg/legacy.py") is not None
    assert by[(moved["c3"], "src/pkg/billing/old.py")] == billing
    # deleted before its directory moved: counted in that directory as it is named today; gone with its directory:
    # nowhere
    assert by[(moved["c1"], "pkg/billing/refund.py")] == billing
    assert pd.isna(by[(moved["c1"], "pkg/vendor/six.py")])
    assert pd.isna(by[(moved["c2"], "tests/test_pay.py")]) and pd.isna(by[(moved["c1"], "setup.py")])


def test_fix_commits_coupling_and_churn_before_the_move_use_todays_components(moved):
    from toolkit.analyze.change_coupling import logical_coupling
    from toolkit.vocab.components import ComponentMap
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import change_components
    from toolkit.load.links import link_issues
    from toolkit.load.issues.normalize import finish

    h = load_history(moved["repo"])
    cmap = ComponentMap.from_files(Repo.open(moved["repo"]).list_files("HEAD"))
    billing = cmap.component_of("src/pkg/billing/payment.py")
    orders = cmap.component_of("src/pkg/orders/core/__init__.py")
    raw = pd.DataFrame([{"tracker": "github", "key": "#7", "title": "rounding", "type": "bug", "source": "t",
                         "created": pd.Timestamp("2024-01-01", tz="UTC")}])
    links = link_issues(finish(raw), h.commits, file_changes=h.file_changes, components=cmap)
    ic = links.issue_components
    assert set(ic["component"]) == {billing, orders}  # the fix of c2, made under pkg/, placed on today's code
    # change coupling counts the pre-move commits c1 and c2 for today's components: billing and orders change
    # together in c1, c2 and c3 (3 shared revisions); read by the paths of the time, only c3 is left
    loose = {"level": "component", "components": cmap, "min_revs": 1, "min_shared_revs": 3, "min_coupling": 0}
    pairs = {tuple(sorted(p)) for p in zip(*(lambda d: (d["entity"], d["coupled"]))(logical_coupling(h, **loose)))}
    assert tuple(sorted((billing, orders))) in pairs
    assert len(logical_coupling(h, follow_renames=False, **loose)) == 0
    # churn: the lines changed under pkg/billing/ before the move count for billing
    comp = change_components(h.file_changes, cmap)
    churn = (h.file_changes["added"] + h.file_changes["deleted"]).groupby(comp).sum()
    before = h.file_changes["sha"].isin([moved["c1"], moved["c2"]]) & h.file_changes["path"].str.startswith(
        "pkg/billing/")
    assert churn[billing] >= int((h.file_changes["added"] + h.file_changes["deleted"])[before].sum()) > 0


def test_history_mapping_share(moved):
    from toolkit.vocab.components import ComponentMap
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import history_mapping

    h = load_history(moved["repo"])
    cmap = ComponentMap.from_files(Repo.open(moved["repo"]).list_files("HEAD"))
    m = history_mapping(h.file_changes, cmap)
    fc = h.file_changes
    code = ~fc["path"].str.startswith("tests/") & fc["path"].str.endswith(".py")
    assert m["code_changes"] == int(code.sum())
    assert m["mapped"] + m["gone"] + m["outside"] == m["code_changes"]
    assert m["outside"] >= 1  # setup.py exists now, in no component
    assert 0 < m["share"] < 1 and m["commits"] == 6
    # without following the code, the pre-move rows under pkg/ reach no component
    unfollowed = history_mapping(fc.drop(columns=["latest_path", "current_path"]), cmap)
    assert unfollowed["mapped"] < m["mapped"]
    empty = history_mapping(schema.empty("file_changes"), cmap)
    assert empty["share"] is None and empty["commit_share"] is None


def test_current_paths_are_those_of_the_loaded_revision(moved):
    """Loaded at a revision before the move (or sliced to it by the backtest), old commits keep their old paths."""
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import current_paths

    h = load_history(moved["repo"], rev=moved["c2"])
    assert _current(h, moved["c1"], "pkg/billing/pay.py") == "pkg/billing/pay.py"
    full = load_history(moved["repo"]).file_changes
    old = full[full["sha"].isin([moved["c1"], moved["c2"]])].reset_index(drop=True)
    again = current_paths(old, Repo.open(moved["repo"]).list_files(moved["c2"]))
    assert list(again) == list(h.file_changes["current_path"])


def test_the_evidence_lists_the_history_skips_where_a_serial_read_puts_them(repo, tmp_path):
    """load_evidence reads the history on a thread beside the mocks and services scans: what the history skips
    (a shallow clone) still comes after the structure's skips and before the test files', as if read in turn."""
    from toolkit.config import AuditConfig
    from toolkit.core.evidence import load_evidence

    commit(repo, "broken files", {"pkg/broken.py": "def f(:\n", "tests/test_broken.py": "def test_x(:\n",
                                  "tests/test_ok.py": "from pkg.b import x\n\n\ndef test_ok():\n    assert x\n"},
           date=when(6))
    clone = tmp_path / "shallow-ev"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo}", str(clone)], check=True)
    ev = load_evidence(AuditConfig(repo=clone))
    where = [("shallow" in s.reason, s.path) for s in ev.skips]
    shallow = [i for i, (is_shallow, _p) in enumerate(where) if is_shallow]
    assert len(shallow) == 1 and ev.history.shallow and len(ev.history.commits) == 2
    before, after = {p for _s, p in where[:shallow[0]]}, {p for _s, p in where[shallow[0] + 1:]}
    assert "pkg/broken.py" in before and "tests/test_broken.py" in after
    assert list(ev.timings)[:3] == ["open repository", "structure", "git history"]
