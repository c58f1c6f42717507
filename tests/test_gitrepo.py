"""Repo.read_blobs: many revisions through one git cat-file --batch process, on real repositories."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from toolkit.load.gitrepo import Repo

ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
           GIT_COMMITTER_EMAIL="t@e", GIT_CONFIG_NOSYSTEM="1", HOME=os.devnull)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=ENV).stdout.strip()


@pytest.fixture()
def history(tmp_path) -> tuple[Path, list[str], dict[tuple[str, str], bytes | None]]:
    """A repository with four commits: edits, a binary file, a deletion, a path with a space."""
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    expected: dict[tuple[str, str], bytes | None] = {}
    revs = []
    binary = bytes(range(256)) * 40 + b"\n\0\n"
    steps = [
        {"a.py": b"x = 1\n", "pkg/b.py": b"def f():\n    return 1\n"},
        {"a.py": b"x = 2\n", "blob.bin": binary, "dir with space/c d.py": b"# c\n"},
        {"a.py": None, "pkg/b.py": b"def f(y):\n    return y\n"},
        {"big.txt": b"line\n" * 50000},
    ]
    state: dict[str, bytes] = {}
    for i, step in enumerate(steps):
        for p, data in step.items():
            f = repo / p
            if data is None:
                f.unlink()
                state.pop(p)
            else:
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(data)
                state[p] = data
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"step {i}")
        revs.append(git(repo, "rev-parse", "HEAD"))
        for p in ["a.py", "pkg/b.py", "blob.bin", "dir with space/c d.py", "big.txt", "nope.py", "pkg"]:
            expected[(revs[-1], p)] = state.get(p)
    return repo, revs, expected


def test_read_blobs_many_revisions_in_order(history):
    repo, revs, expected = history
    r = Repo.open(repo)
    pairs = list(expected)
    got = list(r.read_blobs(pairs))
    assert [k for k, _ in got] == pairs
    assert dict(got) == expected
    assert dict(got)[(revs[1], "blob.bin")].endswith(b"\n\0\n")  # binary content byte for byte
    assert dict(got)[(revs[2], "a.py")] is None  # deleted
    assert dict(got)[(revs[0], "pkg")] is None  # a folder is not a file


def test_read_blobs_symbolic_revisions_and_bad_revisions(history):
    repo, revs, _ = history
    r = Repo.open(repo)
    got = dict(r.read_blobs([("HEAD~3", "a.py"), ("main", "pkg/b.py"), ("no-such-branch", "a.py"),
                             (revs[0], "a\nb.py")]))
    assert got[("HEAD~3", "a.py")] == b"x = 1\n"
    assert got[("main", "pkg/b.py")] == b"def f(y):\n    return y\n"
    assert got[("no-such-branch", "a.py")] is None
    assert got[(revs[0], "a\nb.py")] is None


def test_read_blobs_thousands_of_requests_one_process(history):
    """More requests than a pipe buffer holds: requests and answers must not deadlock."""
    repo, revs, expected = history
    r = Repo.open(repo)
    pairs = [(revs[i % 4], p) for i in range(3000) for p in ("big.txt", "a.py")][:5000]
    n = 0
    for (rev, p), data in r.read_blobs(pairs):
        assert data == expected[(rev, p)]
        n += 1
    assert n == len(pairs)


def test_read_blobs_stopped_early_and_work_tree(history):
    repo, revs, expected = history
    r = Repo.open(repo)
    gen = r.read_blobs([(revs[3], "big.txt")] * 2000)
    assert next(gen)[1] == expected[(revs[3], "big.txt")]
    gen.close()  # the git process is ended, no hang
    (repo / "pkg" / "b.py").write_bytes(b"edited\n")
    got = dict(r.read_blobs([(None, "pkg/b.py"), (None, "missing.py"), (revs[0], "pkg/b.py")]))
    assert got[(None, "pkg/b.py")] == b"edited\n"
    assert got[(None, "missing.py")] is None
    assert got[(revs[0], "pkg/b.py")] == b"def f():\n    return 1\n"


def test_read_blobs_bare_clone(history, tmp_path):
    repo, revs, expected = history
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, env=ENV)
    r = Repo.open(bare)
    assert dict(r.read_blobs([(None, "big.txt"), (revs[1], "a.py")])) == {
        (None, "big.txt"): expected[(revs[3], "big.txt")], (revs[1], "a.py"): b"x = 2\n"}


def test_resolve_remembers_object_ids_but_asks_again_for_names_that_move(history):
    repo, revs, _ = history
    r = Repo.open(repo)
    assert r.resolve(revs[0]) == revs[0] and r.resolve(revs[0]) == revs[0]  # second answer from memory
    assert r.resolve("main") == revs[-1]
    (repo / "new.py").write_text("z = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "moves main")
    assert r.resolve("main") == git(repo, "rev-parse", "HEAD") != revs[-1]
    with pytest.raises(Exception, match="does not exist"):
        r.resolve("0" * 40)
