"""Change coupling against hand-computed numbers and an independent transcription of code-maat.

The reference below reads code-maat's recommended input format
(``git log --all --numstat --date=short --pretty=format:'--%h--%ad--%aN' --no-renames``)
with its own parser and applies code-maat's definition in plain Python with
``fractions.Fraction`` — it shares no code with toolkit.analyze.change_coupling.
"""
from __future__ import annotations

import math
import os
import subprocess
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from gitutil import commit, git, make_repo, when, write
from toolkit.vocab import schema
from toolkit.analyze.change_coupling import logical_coupling, sum_of_coupling
from toolkit.vocab.components import ComponentMap
from toolkit.errors import InputError
from toolkit.load.history import load_history

ROOT = Path(__file__).resolve().parents[1]
REAL_REPO = Path(os.environ.get("SEAMSCOPE_REAL_REPO", "/work/.mirror/pallets+itsdangerous/repo"))
SAMPLE_BUNDLE = ROOT / "data" / "sample" / "repo.bundle"
LOOSE = dict(min_revs=1, min_shared_revs=1, min_coupling=0)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


def change(repo: Path, files: list[str], day: int, msg: str = "change") -> None:
    """One commit on 2024-01-<day> appending a line to each of ``files`` (created with 20 lines if new)."""
    for f in files:
        p = repo / f
        old = p.read_text() if p.exists() else "".join(f"line {i} of {f}\n" for i in range(20))
        write(repo, {f: old + f"edit {day}\n"})
    commit(repo, msg, date=when(day))


@pytest.fixture()
def coupled_repo(tmp_path: Path) -> Path:
    """c1 a,b  c2 a,b  c3 a,c  c4 a,b,c  c5 bulk(34 files)  c6 b  c7 c  c8 rename a->z  c9 z,b."""
    repo = make_repo(tmp_path / "r")
    change(repo, ["a.py", "b.py"], 1)
    change(repo, ["a.py", "b.py"], 2)
    change(repo, ["a.py", "c.py"], 3)
    change(repo, ["a.py", "b.py", "c.py"], 4)
    change(repo, ["a.py", "b.py", "c.py", "d.py"] + [f"gen/e{i}.py" for i in range(30)], 5, "bulk")
    change(repo, ["b.py"], 6)
    change(repo, ["c.py"], 7)
    git(repo, "mv", "a.py", "z.py")
    git(repo, "commit", "-q", "-m", "rename", date=when(8))
    change(repo, ["z.py", "b.py"], 9)
    return repo


def as_dict(df: pd.DataFrame) -> dict:
    return {(e, c): (int(d), int(a)) for e, c, d, a in zip(df["entity"], df["coupled"], df["degree"], df["average-revs"])}


def test_hand_computed_degrees_with_rename_followed(coupled_repo):
    out = logical_coupling(load_history(coupled_repo), **LOOSE)
    schema.check(out, "logical_coupling")
    # bulk commit (34 files > 30) ignored; a.py's history continues as z.py:
    # revs z=6 (c1-c4,c8,c9), b=5 (c1,c2,c4,c6,c9), c=3 (c3,c4,c7)
    got = as_dict(out)
    assert got[("b.py", "z.py")] == (72, 6)   # shared 4 / avg 5.5 = 72.7% -> int 72, ceil(5.5) = 6
    assert got[("c.py", "z.py")] == (44, 5)   # shared 2 / avg 4.5 = 44.4%
    assert got[("b.py", "c.py")] == (25, 4)   # shared 1 / avg 4 = 25%
    assert not any("gen/" in e or "gen/" in c for e, c in got)
    assert "a.py" not in set(out["entity"]) | set(out["coupled"])
    assert list(out.columns) == ["entity", "coupled", "degree", "average-revs"]
    assert out["degree"].is_monotonic_decreasing


def test_rename_not_followed_without_rename_detection(coupled_repo):
    got = as_dict(logical_coupling(load_history(coupled_repo, renames=False), **LOOSE))
    # a.py: c1-c4 + its deletion in c8 = 5; z.py: c8, c9 = 2
    assert got[("a.py", "b.py")] == (60, 5)   # shared 3 / avg 5
    assert got[("a.py", "z.py")] == (28, 4)   # shared 1 / avg 3.5 = 28.6% -> 28 (truncated), ceil(3.5) = 4
    assert got[("b.py", "z.py")] == (28, 4)


def test_bulk_commit_counts_when_within_max_changeset_size(coupled_repo):
    got = as_dict(logical_coupling(load_history(coupled_repo), max_changeset_size=40, **LOOSE))
    assert got[("b.py", "z.py")] == (76, 7)   # shared 5 / avg 6.5
    assert ("gen/e0.py", "gen/e1.py") in got


def test_default_thresholds(tmp_path):
    repo = make_repo(tmp_path / "r")
    for day in range(1, 7):
        change(repo, ["x.py", "y.py"], day)
    for day in range(7, 11):
        change(repo, ["p.py", "q.py"], day)   # only 4 shared revisions: below min_shared_revs=5
    change(repo, ["x.py"], 11)
    out = logical_coupling(load_history(repo))
    assert as_dict(out) == {("x.py", "y.py"): (92, 7)}  # 6 / 6.5
    assert logical_coupling(load_history(repo), max_coupling=90).empty
    assert logical_coupling(load_history(repo), min_coupling=93).empty
    assert len(logical_coupling(load_history(repo), min_coupling=92)) == 1


def test_component_level_and_sum_of_coupling(tmp_path):
    repo = make_repo(tmp_path / "r")
    base = ["pkg/__init__.py", "pkg/a/__init__.py", "pkg/b/__init__.py"]
    change(repo, base, 1)
    for day in range(2, 8):
        change(repo, ["pkg/a/m1.py", "pkg/a/m2.py", "pkg/b/n.py", "tests/test_a.py"], day)
    h = load_history(repo)
    comps = ComponentMap.from_files(git(repo, "ls-files").split())
    out = logical_coupling(h, level="component", components=comps)
    # commit 1 touches a, b and pkg itself; 2-7 touch a and b (each once per commit; the test file is left out)
    assert as_dict(out) == {("a", "b"): (100, 7)}
    soc = sum_of_coupling(h, min_revs=0)
    schema.check(soc, "sum_of_coupling")
    assert soc.set_index("entity")["soc"]["pkg/a/m1.py"] == 6 * 3
    assert soc.set_index("entity")["soc"]["pkg/__init__.py"] == 2
    soc_c = sum_of_coupling(h, level="component", components=comps, min_revs=0)
    assert soc_c.set_index("entity")["soc"].to_dict() == {"a": 6 + 2, "b": 6 + 2, "pkg": 2}
    assert list(soc_c["entity"]) == ["b", "a", "pkg"]  # soc desc, then entity desc (code-maat order)
    with pytest.raises(InputError):
        logical_coupling(h, level="component")


def test_empty_history(tmp_path):
    repo = make_repo(tmp_path / "r")
    out = logical_coupling(load_history(repo))
    assert out.empty
    schema.check(out, "logical_coupling")
    assert sum_of_coupling(load_history(repo)).empty


# ---- independent reference: code-maat's input format + its definition ----------------------------
CODE_MAAT_LOG = ["log", "--numstat", "--date=short", "--pretty=format:--%h--%ad--%aN", "--no-renames"]


def parse_code_maat_log(text: str) -> dict[str, list[str]]:
    """rev -> entities, as code-maat's git2 grammar reads the log (merges print no numstat lines)."""
    revs: dict[str, list[str]] = {}
    current = None
    for line in text.split("\n"):
        if line.startswith("--") and line.count("--") >= 3:
            current = line.split("--")[1]
            revs.setdefault(current, [])
        elif line.strip():
            added, deleted, entity = line.split("\t", 2)
            revs[current].append(entity)
    return revs


def reference_coupling(revs: dict[str, list[str]], min_revs=5, min_shared_revs=5, min_coupling=30,
                       max_coupling=100, max_changeset_size=30) -> dict:
    kept = [entities for entities in revs.values() if entities and len(entities) <= max_changeset_size]
    n_revs = Counter(e for entities in kept for e in set(entities))
    shared = Counter()
    for entities in kept:
        es = sorted(set(entities))
        for i, a in enumerate(es):
            for b in es[i + 1:]:
                shared[(a, b)] += 1
    out = {}
    for (a, b), s in shared.items():
        avg = Fraction(n_revs[a] + n_revs[b], 2)
        coupling = Fraction(s) / avg * 100
        if avg >= min_revs and s >= min_shared_revs and coupling >= min_coupling and math.floor(coupling) <= max_coupling:
            out[(a, b)] = (int(coupling), math.ceil(avg))
    return out


def reference_soc(revs: dict[str, list[str]], min_revs=5) -> dict:
    soc = Counter()
    for entities in revs.values():
        for e in entities:
            soc[e] += len(entities) - 1
    return {e: n for e, n in soc.items() if n > min_revs}


def _compare(path: Path, rev: str, **params) -> int:
    from toolkit.load.gitrepo import Repo
    repo = Repo.open(path)
    git_dir = repo.git_dir
    text = subprocess.run(["git", "--git-dir", str(git_dir), *CODE_MAAT_LOG, rev], check=True, capture_output=True,
                          text=True, errors="surrogateescape").stdout
    revs = parse_code_maat_log(text)
    h = load_history(repo, rev, renames=False)
    ours = logical_coupling(h, follow_renames=False, **params)
    assert as_dict(ours) == reference_coupling(revs, **params)
    soc_params = {k: v for k, v in params.items() if k == "min_revs"}
    ours_soc = sum_of_coupling(h, follow_renames=False, **soc_params)
    assert dict(zip(ours_soc["entity"], ours_soc["soc"])) == reference_soc(revs, **soc_params)
    return len(ours)


def test_matches_reference_on_small_repo(coupled_repo):
    assert _compare(coupled_repo, "HEAD", **LOOSE) > 0
    _compare(coupled_repo, "HEAD", min_revs=2, min_shared_revs=2, min_coupling=50, max_changeset_size=3)


def test_matches_reference_on_sample_repo():
    if not SAMPLE_BUNDLE.exists():
        pytest.skip("data/sample/repo.bundle not built")
    _compare(SAMPLE_BUNDLE, "HEAD")
    _compare(SAMPLE_BUNDLE, "HEAD", **LOOSE)


def test_matches_reference_on_real_repo(tmp_path):
    if not (REAL_REPO / "HEAD").exists() and not (REAL_REPO / ".git").exists():
        pytest.skip(f"no real repository at {REAL_REPO} (set SEAMSCOPE_REAL_REPO to a clone)")
    clone = tmp_path / "real"  # a throwaway clone: the original is never touched
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(REAL_REPO), str(clone)], check=True)
    assert _compare(clone, "HEAD") > 0
    _compare(clone, "HEAD", min_revs=2, min_shared_revs=2, min_coupling=10, max_changeset_size=10)
