"""The cache folder may have been prepared by someone else (``SEAMSCOPE_CACHE=/tmp/...`` on a shared machine):
the real CLI refuses a folder it does not own or that others can write, never unpickles what it cannot
authenticate, heals damaged entries of every kind, and turns a read-only or full folder into one warning.

A planted pickle would create a canary file when unpickled; every test asserts the canary never appears.
"""
from __future__ import annotations

import os
import pickle
import pwd
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gitutil import commit, make_repo  # tests/ is on sys.path through its conftest.py

ROOT = Path(__file__).resolve().parents[2]


class Canary:
    """Unpickling this creates ``path``: the proof that planted cache data ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def run(cache: Path, *argv: str, no_cache: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "SEAMSCOPE_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("SEAMSCOPE_NO_CACHE", None)
    if no_cache:
        env["SEAMSCOPE_NO_CACHE"] = "1"
    return subprocess.run([sys.executable, "-m", "toolkit.cli", "-q", *argv], env=env, capture_output=True,
                          text=True, timeout=600)


def cache_warnings(proc: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if "cache folder" in line]


@pytest.fixture(scope="module")
def filled_cache(tmp_path_factory) -> Path:
    """A cache folder one real audit of the sample filled (pickles, Parquet, the key)."""
    cache = tmp_path_factory.mktemp("filled") / "cache"
    proc = run(cache, "audit", "--out", str(cache.parent / "out"))
    assert proc.returncode == 0, proc.stderr
    assert list(cache.rglob("*.pkl")), "the audit stored no pickle: nothing to plant over"
    return cache


def plant(filled: Path, dest: Path, canary: Path) -> list[Path]:
    """Copy ``filled`` to ``dest`` and replace every pickle in it with one that creates ``canary``."""
    subprocess.run(["cp", "-a", str(filled), str(dest)], check=True)
    planted = sorted(dest.rglob("*.pkl"))
    for p in planted:
        p.write_bytes(pickle.dumps(Canary(canary)))
    return planted


def test_planted_pickles_in_our_own_folder_are_never_unpickled_and_are_healed(filled_cache, tmp_path):
    canary = tmp_path / "canary"
    cache = tmp_path / "cache"
    planted = plant(filled_cache, cache, canary)
    proc = run(cache, "audit", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert cache_warnings(proc) == []  # our folder: used, its unauthenticated entries dropped
    assert not canary.exists()
    # the entries this audit looked up were deleted unread and stored again, signed (others were not needed)
    healed = [p for p in planted if p.exists() and b"canary" not in p.read_bytes()]
    assert healed and all(p.read_bytes().startswith(b"seamscope-pickle-hmac1\n") for p in healed)


def test_a_pickle_signed_with_another_key_is_refused(filled_cache, tmp_path):
    canary = tmp_path / "canary"
    cache = tmp_path / "cache"
    subprocess.run(["cp", "-a", str(filled_cache), str(cache)], check=True)
    payload = pickle.dumps(Canary(canary))
    import hashlib
    import hmac
    for p in cache.rglob("*.pkl"):
        forged = hmac.new(b"x" * 32, os.path.relpath(p, cache).encode() + b"\0" + payload, hashlib.sha256).digest()
        p.write_bytes(b"seamscope-pickle-hmac1\n" + forged + payload)
    proc = run(cache, "audit", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert not canary.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_owned_by_another_user_is_refused_with_one_warning(filled_cache, tmp_path):
    canary = tmp_path / "canary"
    cache = tmp_path / "cache"
    plant(filled_cache, cache, canary)
    nobody = pwd.getpwnam("nobody").pw_uid
    for p in [cache, *cache.rglob("*")]:
        os.lchown(p, nobody, -1)
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*")}
    proc = run(cache, "audit", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    warnings = cache_warnings(proc)
    assert len(warnings) == 1 and "owned by another user" in warnings[0], proc.stderr
    assert not canary.exists()
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*")} == before  # nothing read into, nothing written


def test_a_world_writable_folder_is_refused_with_one_warning(filled_cache, tmp_path):
    canary = tmp_path / "canary"
    cache = tmp_path / "cache"
    plant(filled_cache, cache, canary)
    os.chmod(cache, 0o777)
    proc = run(cache, "audit", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    warnings = cache_warnings(proc)
    assert len(warnings) == 1 and "writable by other users" in warnings[0], proc.stderr
    assert not canary.exists()


def test_a_damaged_history_parquet_is_a_miss_and_is_rewritten(filled_cache, tmp_path):
    cache = tmp_path / "cache"
    subprocess.run(["cp", "-a", str(filled_cache), str(cache)], check=True)
    damaged = sorted((cache / "history").glob("*.parquet"))
    assert damaged
    for p in damaged:
        p.write_bytes(p.read_bytes()[:100])  # truncated, as a full disk or a kill leaves it
    for attempt in range(2):  # today a damaged entry crashed every later audit
        proc = run(cache, "audit", "--out", str(tmp_path / "out"))
        assert proc.returncode == 0, (attempt, proc.stderr)
        assert cache_warnings(proc) == []
    for p in damaged:
        pd.read_parquet(p)  # healed: rewritten whole


def _mount_tmpfs(point: Path, options: str) -> None:
    point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")


@pytest.mark.parametrize("options, why", [("ro,mode=0700", "cannot be used"),
                                          ("size=48k,mode=0700", "cannot be written")])
def test_a_read_only_or_full_folder_is_one_warning_and_no_cache(tmp_path, options, why):
    cache = tmp_path / "cache"
    _mount_tmpfs(cache, options)
    try:
        proc = run(cache, "audit", "--out", str(tmp_path / "out"))
        assert proc.returncode == 0, proc.stderr
        warnings = cache_warnings(proc)
        assert len(warnings) == 1 and why in warnings[0], proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr  # the warning is all the user sees
        assert (tmp_path / "out" / "report.html").is_file()
    finally:
        subprocess.run(["umount", str(cache)], check=False)


def test_no_cache_switch_holds_for_the_coupling_command(tmp_path):
    repo = make_repo(tmp_path / "repo", {"app/a/x.py": "from app.b import y\n", "app/b/y.py": "V = 1\n"})
    commit(repo, "two", {"app/a/x.py": "from app.b import y\nW = 2\n", "app/b/y.py": "V = 2\n"})
    cache = tmp_path / "cache"
    for kind in ("logical", "structural"):
        proc = run(cache, "coupling", str(repo), "--kind", kind, no_cache=True)
        assert proc.returncode == 0, proc.stderr
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
