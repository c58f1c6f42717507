"""toolkit.runtime.cache: content keys, atomic and concurrent writes, self-healing, and the evidence it caches."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gitutil import commit, make_repo  # tests/ is on sys.path through its conftest.py
from toolkit.runtime import cache
from toolkit.errors import Skip


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SEAMSCOPE_NO_CACHE", raising=False)


def _frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "name": pd.array([f"t{i}" for i in range(n)], dtype="string"),
        "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
        "when": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="h"),
        "tags": [[f"a{i}", "b"] if i % 3 else [] for i in range(n)],
        "ok": rng.random(n) < 0.5,
    })


def test_frame_round_trip_with_lists_and_skips():
    df = _frame()
    skips = [Skip("x.xml", "not XML", 3)]
    calls = []

    def compute(own):
        calls.append(1)
        own.extend(skips)
        return df

    got1, got2 = [], []
    a = cache.cached("t", cache.key("frame", 1), compute, got1)
    b = cache.cached("t", cache.key("frame", 1), compute, got2)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(a, df)
    pd.testing.assert_frame_equal(b, df)
    assert isinstance(b["tags"].iloc[1], list)
    assert got1 == got2 == skips
    assert list((Path(os.environ["SEAMSCOPE_CACHE"]) / "t").glob("*.parquet"))


def test_object_entries_are_pickled():
    value = {"a": [1, 2], "b": _frame(5)}
    assert cache.cached("t", "k1", lambda own: value) is value
    got = cache.cached("t", "k1", lambda own: pytest.fail("recomputed"))
    assert got["a"] == [1, 2]
    pd.testing.assert_frame_equal(got["b"], value["b"])


def test_none_key_disables_caching():
    calls = []
    for _ in range(2):
        cache.cached("t", None, lambda own: calls.append(1))
    assert len(calls) == 2


@pytest.mark.parametrize("damage", [b"", b"PAR1garbage", b"\x80\x04garbage"])
def test_corrupt_entry_is_removed_and_recomputed(damage):
    k = cache.key("corrupt")
    cache.cached("t", k, lambda own: _frame())
    path = next((Path(os.environ["SEAMSCOPE_CACHE"]) / "t").glob(f"{k}.*"))
    path.write_bytes(damage)
    calls = []
    got = cache.cached("t", k, lambda own: calls.append(1) or _frame())
    assert calls == [1]
    pd.testing.assert_frame_equal(got, _frame())
    assert cache.get("t", k) is not None  # rewritten whole


def test_fingerprint_follows_content_not_timestamps(tmp_path):
    f = tmp_path / "in" / "a.xml"
    f.parent.mkdir()
    f.write_text("<a/>")
    fp = cache.fingerprint(f.parent)
    os.utime(f, (1, 1))
    assert cache.fingerprint(f.parent) == fp  # touched, same content: same key
    f.write_text("<b/>")
    os.utime(f, (1, 1))
    assert cache.fingerprint(f.parent) != fp  # same size and mtime, other content: another key
    (f.parent / "b.xml").write_text("")
    assert cache.fingerprint(f.parent) != cache.fingerprint(f)
    assert cache.fingerprint(tmp_path / "missing") != cache.fingerprint(tmp_path / "missing2")


def _worker(args) -> tuple[int, int]:
    root, k, rounds, seed = args
    os.environ["SEAMSCOPE_CACHE"] = root
    expected = _frame(20000, 1)
    complete = 0
    for i in range(rounds):
        if seed == 2 or i % 2:  # the third process only reads
            hit = cache.get("c", k)
            if hit is not None:
                pd.testing.assert_frame_equal(hit[0], expected)
                complete += 1
        else:
            cache.put("c", k, _frame(20000, 1), [Skip("p", "r")])
    return seed, complete


def test_two_writers_and_a_reader_only_ever_see_complete_entries(tmp_path):
    root = os.environ["SEAMSCOPE_CACHE"]
    k = cache.key("concurrent")
    ctx = mp.get_context("spawn")
    with ctx.Pool(3) as pool:
        results = pool.map(_worker, [(root, k, 30, s) for s in range(3)])
    assert sum(c for _, c in results) > 0
    left = list((Path(root) / "c").iterdir())
    assert [p.name for p in left] == [f"{k}.parquet"]  # no temporary files left behind
    pd.testing.assert_frame_equal(cache.get("c", k)[0], _frame(20000, 1))


# ---- evidence -----------------------------------------------------------------
SAMPLE = Path(__file__).resolve().parents[1] / "toolkit" / "sample"


def _sample_config(tmp_path: Path):
    from toolkit.config import sample_config

    try:
        return sample_config()
    except Exception as exc:  # noqa: BLE001 - the sample is shipped, but a stripped install may lack it
        pytest.skip(f"sample missing: {exc}")


def _tables(ev) -> dict:
    return {"test_results": ev.test_results, "test_lines": ev.test_lines, "test_exercises": ev.test_exercises,
            "test_components": ev.test_components, "mocks": ev.mocks, "test_kinds": ev.test_kinds,
            "issues": ev.issues, "links": ev.links.links, "issue_components": ev.links.issue_components,
            "unlinked": ev.links.unlinked}


def test_warm_evidence_equals_cold_and_a_changed_input_invalidates(tmp_path):
    from toolkit.core.evidence import load_evidence

    conf = _sample_config(tmp_path)
    cache.stats.update(hits=0, misses=0)
    cold = load_evidence(conf)
    assert cache.stats["hits"] == 0
    warm = load_evidence(conf)
    assert cache.stats["hits"] >= 8
    assert warm.keys == cold.keys
    for name, df in _tables(cold).items():
        pd.testing.assert_frame_equal(_tables(warm)[name], df, obj=name)
    assert [str(s) for s in warm.skips] == [str(s) for s in cold.skips]

    # copy one issue export, change one byte of it: only the issue-derived entries are recomputed
    issues = [Path(p) for p in conf.issues]
    changed = tmp_path / issues[0].name
    text = issues[0].read_bytes()
    changed.write_bytes(text.replace(b"a", b"b", 1))
    conf2 = conf.with_(issues=(changed, *issues[1:]))
    cache.stats.update(hits=0, misses=0)
    third = load_evidence(conf2)
    assert third.keys["issues"] != cold.keys["issues"] and third.keys["links"] != cold.keys["links"]
    assert third.keys["test_results"] == cold.keys["test_results"]
    assert cache.stats["misses"] == 2  # issues and links


def test_no_cache_switch(tmp_path, monkeypatch):
    from toolkit.core.evidence import load_evidence

    conf = _sample_config(tmp_path)
    monkeypatch.setenv("SEAMSCOPE_NO_CACHE", "1")
    load_evidence(conf)
    assert not (Path(os.environ["SEAMSCOPE_CACHE"]) / "evidence").exists()


def test_evidence_cached_results_follow_inputs_and_config(tmp_path):
    from toolkit.core.evidence import load_evidence

    conf = _sample_config(tmp_path)
    ev = load_evidence(conf)
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(ev.test_results)}

    assert ev.cached("count", compute, code="toolkit.core.evidence") == {"n": len(ev.test_results)}
    again = load_evidence(conf)
    assert again.cached("count", compute, code="toolkit.core.evidence") == {"n": len(ev.test_results)}
    assert len(calls) == 1  # the second evidence of the same inputs reads the result
    changed = load_evidence(conf.with_(thresholds={**conf.thresholds, "recurrence_months": 99}))
    assert changed.keys["config"] != ev.keys["config"]
    changed.cached("count", compute, code="toolkit.core.evidence")
    assert len(calls) == 2  # another configuration is another result
    ev.cached("count", compute, code="toolkit.core.evidence", params="other")
    assert len(calls) == 3


def test_coverage_mapping_is_reused_by_a_commit_that_keeps_the_file_list(tmp_path):
    """Re-auditing after a commit that only edits files reuses the per-test coverage mapping: its key follows
    the coverage file and the files' paths/components, not every byte of the repository."""
    from toolkit.core.evidence import load_evidence
    from toolkit.load.gitrepo import Repo

    conf = _sample_config(tmp_path)
    repo = Repo.open(conf.repo)
    shas = repo.git("rev-list", "--first-parent", "HEAD").stdout.split()
    files = {s: repo.list_files(s) for s in shas[:40]}
    newer, parent = next((a, b) for a, b in zip(shas, shas[1:40]) if files[a] == files[b])
    other = next(s for s in shas[:40] if files[s] != files[newer])
    a, b, c = (load_evidence(conf.with_(at=s)) for s in (newer, parent, other))
    assert a.keys["repository"] != b.keys["repository"]  # different code...
    assert a.keys["coverage"] == b.keys["coverage"]  # ...same coverage mapping
    assert c.keys["coverage"] != a.keys["coverage"]  # another file list maps coverage anew
    pd.testing.assert_frame_equal(a.test_lines, b.test_lines)


def test_code_version_reads_the_modules_it_names():
    """Entries are keyed on the source of the code that made them: every toolkit module must be found (when the
    cache moved into toolkit/runtime, it looked for them there, found none, and served stale entries)."""
    from toolkit.runtime import cache as c
    for name in ("toolkit.load.links", "toolkit.core.evidence", "toolkit.analyze.seam_ranking"):
        path, src, _deps = c._module_source(name)
        assert path is not None and path.is_file() and src, name
    assert c.code_version("toolkit.load.links") != c.code_version("toolkit.load.junit")


def test_a_cached_analysis_is_keyed_on_the_code_of_the_analyses_it_reads():
    """The ranking reads the interaction coverage, the bug categories and the coupling: its cached value must go
    stale when their code changes (it was keyed on seam_ranking's own imports only, and served rankings computed
    with the old static estimate after the estimate changed)."""
    from toolkit.core.findings import analysis_code
    from toolkit.runtime import cache as c
    base = Path(c.__file__).resolve().parents[1]
    read = {str(p.relative_to(base)) for p in c.code_modules(*analysis_code("toolkit.analyze.seam_ranking"))}
    assert {"analyze/interaction_coverage.py", "analyze/bug_categorization.py", "analyze/change_coupling.py",
            "analyze/seam_ranking.py", "core/findings.py"} <= read
    assert "analyze/interaction_coverage.py" not in {str(p.relative_to(base)) for p in c.code_modules(
        "toolkit.analyze.seam_ranking")}  # what the analysis module alone imports: not enough


# ---- the loaders' namespaces: one invalidation rule, nothing unpickled that the cache did not sign --------------
_LOADERS = """
import json, sys
from toolkit.load import history, structure
history.load_history(sys.argv[1])
s = structure.load_structure(sys.argv[1], workers=1)
print(json.dumps({"git_log": history.git_log_runs, **s.stats}))
"""


def _small_repo(path: Path) -> Path:
    repo = make_repo(path, {"app/a/x.py": "from app.b.y import f\n\n\ndef g():\n    return f()\n",
                            "app/b/y.py": "def f():\n    return 1\n", "app/c/z.py": "V = 1\n"})
    commit(repo, "two", {"app/b/y.py": "def f():\n    return 2\n"})
    return repo


def test_editing_a_loaders_code_invalidates_its_entries_and_only_those(tmp_path):
    """History and structure entries are keyed with their code's version (no hand-bumped constant): edit
    history.py and only the history is read again; edit structure.py and its tables are rebuilt from the parsed
    files it kept; edit the parser and the files are parsed again. Each run is a fresh process on a copy of the
    package, as a user's upgrade would be."""
    pkg = tmp_path / "pkg"
    shutil.copytree(Path(cache.__file__).resolve().parents[1], pkg / "toolkit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    repo = _small_repo(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(pkg), "SEAMSCOPE_CACHE": str(tmp_path / "cache")}

    def run(edit: str | None = None) -> dict:
        if edit:
            with open(pkg / "toolkit" / edit, "a") as fh:
                fh.write("\n# edited\n")
        out = subprocess.run([sys.executable, "-c", _LOADERS, str(repo)], env=env, capture_output=True, text=True,
                             check=True, cwd=tmp_path).stdout
        return json.loads(out)

    assert run() == {"git_log": 1, "parsed": 3, "cached": 0, "result_cached": 0}  # cold
    assert run() == {"git_log": 0, "parsed": 0, "cached": 3, "result_cached": 1}  # warm
    assert run("load/history.py") == {"git_log": 1, "parsed": 0, "cached": 3, "result_cached": 1}
    assert run("load/structure.py") == {"git_log": 0, "parsed": 0, "cached": 3, "result_cached": 0}
    assert run("load/python_ast.py") == {"git_log": 0, "parsed": 3, "cached": 0, "result_cached": 0}
    assert run("vocab/components.py") == {"git_log": 1, "parsed": 0, "cached": 3, "result_cached": 0}


def test_planted_pickles_in_the_loaders_namespaces_are_never_unpickled(tmp_path):
    """Every pickle the history and structure loaders stored (parsed files, finished tables, the heads list) is
    replaced by one that would create a canary: the next load deletes them unread and gives the same tables."""
    from toolkit.load.history import load_history
    from toolkit.load.structure import load_structure

    class Canary:
        def __init__(self, path: Path) -> None:
            self.path = str(path)

        def __reduce__(self):
            return (open, (self.path, "w"))

    repo = _small_repo(tmp_path / "repo")
    first_h, first_s = load_history(repo), load_structure(repo, workers=1)
    root = Path(os.environ["SEAMSCOPE_CACHE"])
    planted = sorted((root / "structure").glob("*.pkl")) + sorted((root / "history").glob("*.pkl"))
    assert len(planted) == 3, planted  # parsed files, finished tables, heads list
    canary = tmp_path / "canary"
    for p in planted:
        p.write_bytes(pickle.dumps(Canary(canary)))
    commit(repo, "three", {"README": "new head: the heads list is looked up\n"})
    again_h, again_s = load_history(repo), load_structure(repo, workers=1)
    assert not canary.exists()
    assert again_s.stats == {"parsed": 3, "cached": 0, "result_cached": 0}  # nothing planted was taken
    pd.testing.assert_frame_equal(again_s.call_sites, first_s.call_sites)
    pd.testing.assert_frame_equal(again_h.file_changes.iloc[1:].reset_index(drop=True), first_h.file_changes)
    # the parsed files and the heads list were looked up, dropped unread and stored again, signed (the finished
    # tables of the earlier head were not looked up: the new head's are another entry)
    healed = [p for p in planted if p.exists() and p.read_bytes().startswith(b"seamscope-pickle-hmac1\n")]
    assert len(healed) == 2, planted
