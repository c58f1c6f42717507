"""Git as data only: an audited repository's own config never makes seamscope run a program.

Each test first proves the trap is armed (plain git, as a user's shell would run it, springs it), then runs
seamscope's real CLI on the same repository and asserts the canary file was never written."""
from __future__ import annotations

import os
import subprocess

import pytest
from hostile import armed_repo, one_line_error, run_cli

from gitutil import git, make_repo
from toolkit.errors import InputError
from toolkit.load.gitrepo import Repo


@pytest.fixture()
def armed(tmp_path):
    canary = tmp_path / "CANARY"
    repo = armed_repo(tmp_path / "client" / "repo", canary)
    return repo, canary


def test_the_traps_are_armed_for_plain_git(armed):
    repo, canary = armed
    subprocess.run(["git", "status"], cwd=repo, capture_output=True)
    assert canary.exists(), "plain git status must spring the fsmonitor/clean-filter trap, or the suite proves nothing"
    ran = canary.read_text()
    canary.unlink()
    subprocess.run(["git", "log", "-p", "-1"], cwd=repo, capture_output=True)
    assert canary.exists() and "ran" in ran


def test_audit_backtest_coupling_and_audit_many_run_nothing_of_the_repository(armed, tmp_path):
    repo, canary = armed
    cache = tmp_path / "cache"
    res = run_cli("audit", str(repo), "--out", str(tmp_path / "out"), cache=cache)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "report.html").exists()
    res = run_cli("audit", str(repo), "--out", str(tmp_path / "out2"), cache=cache)  # the cached path too
    assert res.returncode == 0, res.stderr
    res = run_cli("backtest", str(repo), "--at", "HEAD~1", cache=cache)
    assert res.returncode == 0, res.stderr
    for kind in ("logical", "structural"):
        res = run_cli("coupling", str(repo), "--kind", kind, cache=cache)
        assert res.returncode == 0, res.stderr
    res = run_cli("audit-many", str(repo.parent), "--out", str(tmp_path / "many"), "--workers", "1", cache=cache)
    assert res.returncode == 0, res.stderr
    assert "1 audited, 0 failed" in res.stdout
    assert not canary.exists(), canary.read_text()


def test_the_work_tree_is_read_from_disk_without_git_status_or_filters(armed):
    repo, canary = armed
    r = Repo.open(repo)
    assert dict(r.read_files(["pkg/core/models.py"]))["pkg/core/models.py"] == b"def fetch():\n    return 3\n"
    assert dict(r.read_files(["pkg/core/models.py"], "HEAD"))["pkg/core/models.py"] == b"def fetch():\n    return 2\n"
    assert "pkg/core/models.py" in r.list_files()
    before = r.work_tree_state()
    (repo / "pkg" / "core" / "models.py").write_text("def fetch():\n    return 4\n")  # same size, new content
    assert r.work_tree_state() != before
    (repo / "pkg" / "core" / "models.py").write_text("def fetch():\n    return 3\n")
    assert r.work_tree_state() == before
    assert r.git("log", "-p", "-2").returncode == 0  # a diffing command: no textconv, no external diff
    assert not canary.exists(), canary.read_text()


def test_the_work_tree_key_is_the_content_whatever_the_clone(tmp_path):
    a = make_repo(tmp_path / "a", {"m.py": "x = 1\n", "n.py": "y = 2\n"})
    b = tmp_path / "b"
    subprocess.run(["git", "clone", "-q", str(a), str(b)], check=True)
    ra, rb = Repo.open(a), Repo.open(b)
    assert ra.work_tree_state() == rb.work_tree_state()
    (b / "new.py").write_text("z = 3\n")  # untracked, not ignored
    assert ra.work_tree_state() != rb.work_tree_state()
    (b / ".gitignore").write_text("new.py\n.gitignore\n")
    assert ra.work_tree_state() == rb.work_tree_state()


def test_an_inherited_git_environment_changes_nothing(armed, tmp_path, monkeypatch):
    repo, canary = armed
    other = make_repo(tmp_path / "other", {"elsewhere.py": "SECRET = 1\n"})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", str(tmp_path / "client" / "trap.sh"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='{tmp_path / 'client' / 'trap.sh'}'")
    r = Repo.open(repo)
    assert "elsewhere.py" not in r.list_files() and "pkg/api/views.py" in r.list_files()
    r.git("log", "-p", "-1")
    assert not canary.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a folder away")
def test_a_repository_of_another_user_is_refused_in_one_line_unless_the_user_trusts_it(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "theirs", {"m.py": "x = 1\n"})
    for d, dirs, files in os.walk(repo):
        for name in [d, *(os.path.join(d, f) for f in dirs + files)]:
            os.lchown(name, 54321, 54321)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    with pytest.raises(InputError, match="belongs to another user") as err:
        Repo.open(repo)
    assert "safe.directory" in str(err.value) and "\n" not in str(err.value)
    res = run_cli("coupling", str(repo), cache=tmp_path / "cache", env={"GIT_CONFIG_GLOBAL": str(home / ".gitconfig")})
    assert res.returncode == 2 and "belongs to another user" in one_line_error(res)
    git(tmp_path, "config", "--file", str(home / ".gitconfig"), "--add", "safe.directory", str(repo))
    r = Repo.open(repo)
    assert r.safe_directory is not None and r.list_files() == ["m.py"]
    assert dict(r.read_files(["m.py"], "HEAD")) == {"m.py": b"x = 1\n"}
