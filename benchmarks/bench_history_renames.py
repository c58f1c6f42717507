"""History that follows the code: what mapping every change to its file's path today costs the history load.

Each side runs in a fresh process (nothing cached in memory, no history cache on disk), best of ``--repeat``
(default 3) processes, timed inside the child around the one call:

  renames_vs_plain_<repo>    load_history with current paths (renames followed, module-name fallback, one
                             ``git ls-tree``) vs the same loader with that step turned off   (target <= 1.5)
  renames_step_in_load_<repo>  the same factor measured inside one cold load: load / (load - that step)
  load_vs_git_log_<repo>     load_history vs the same ``git log`` (same arguments, -M in the same single pass)
                             with its output discarded                                      (target <= 1.1)
  components_vs_raw_<repo>   mapping every change to a component (change_components) vs component_of on the
                             raw paths, in one process (the consumers' side of the same idea)
  warm_vs_cold_<repo>        a cached second load (current paths read from the cache) vs the cold load

``python benchmarks/bench_history_renames.py [repo ...] [--quick]``; without a repository: the synthetic one,
plus /tmp/rr/pytest-dev+pytest and /tmp/rr/pallets+flask when they exist.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import main, parse_argv, pick  # noqa: E402
from synthetic_repo import generate  # noqa: E402

REAL = (Path("/tmp/rr/pytest-dev+pytest"), Path("/tmp/rr/pallets+flask"))

_CHILD = r"""
import json, os, resource, subprocess, sys, time
sys.path[:0] = [ROOT]

def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

os.environ["SEAMSCOPE_CACHE"] = CACHE
import pandas, pyarrow  # imported before the clock starts, as in an audit
from toolkit.load import history
from toolkit.load.gitrepo import Repo
repo = Repo.open(REPO)
if MODE == "git":
    args = history._git_args(repo.resolve("HEAD"), None, None, None, False, True, None)
    t, c = time.perf_counter(), cpu()
    subprocess.run(["git", "--git-dir", str(repo.git_dir), *args], stdout=subprocess.DEVNULL, check=True)
    print(json.dumps({"s": time.perf_counter() - t, "cpu": cpu() - c}))
    sys.exit(0)
step = [0.0]
if MODE == "plain":
    history._follow_the_code = lambda repo, head, changes, *_roots: changes
else:
    real = history._follow_the_code
    def timed_step(*a):
        t = time.perf_counter()
        try:
            return real(*a)
        finally:
            step[0] += time.perf_counter() - t
    history._follow_the_code = timed_step
t, c = time.perf_counter(), cpu()
h = history.load_history(repo, cache=MODE == "warm")
s = time.perf_counter() - t
out = {"s": s, "cpu": cpu() - c, "step_s": step[0], "rows": len(h.file_changes), "commits": len(h.commits)}
if MODE == "warm":  # the first read above filled the cache: time the second
    t = time.perf_counter()
    h = history.load_history(repo)
    out["s"] = time.perf_counter() - t
    out["has_current"] = bool(h.file_changes["current_path"].notna().any())
if MODE == "map":
    from toolkit.vocab.components import ComponentMap
    cmap = ComponentMap.from_files(repo.list_files("HEAD"))
    fc = h.file_changes
    t = time.perf_counter()
    raw = fc["path"].map({p: cmap.component_of(p) for p in pandas.unique(fc["path"])})
    out["raw_s"] = time.perf_counter() - t
    t = time.perf_counter()
    comp = history.change_components(fc, cmap)
    out["map_s"] = time.perf_counter() - t
    m = history.history_mapping(fc, cmap)
    out["share"] = m["share"]
print(json.dumps(out))
"""


def _child(mode: str, repo: Path, cache: str) -> dict:
    code = (_CHILD.replace("ROOT", repr(str(ROOT))).replace("CACHE", repr(cache)).replace("REPO", repr(str(repo)))
            .replace("MODE", repr(mode)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _best(modes: tuple[str, ...], repo: Path, repeat: int) -> dict[str, dict]:
    """Best run of each mode; the modes take turns, so a machine whose load drifts slows each side alike."""
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for _ in range(repeat):
        for mode in modes:
            with tempfile.TemporaryDirectory() as cache:
                runs[mode].append(_child(mode, repo, cache))
    return {m: min(r, key=lambda x: x["s"]) for m, r in runs.items()}


def _rows(repo: Path, name: str, repeat: int) -> list[dict]:
    best = _best(("git", "plain", "cold"), repo, repeat)
    git, plain, ours = best["git"], best["plain"], best["cold"]
    with tempfile.TemporaryDirectory() as cache:
        mapped = _child("map", repo, cache)
    warm = _best(("warm",), repo, 1)["warm"]
    note = f"{ours['commits']} commits, {ours['rows']} file changes"
    return [
        {"name": f"renames_vs_plain_{name}", "ours_s": ours["s"], "baseline": "loader without current paths",
         "baseline_s": plain["s"], "ratio": ours["s"] / plain["s"],
         "note": f"{note}; CPU s {ours['cpu']:.2f} vs {plain['cpu']:.2f} = {ours['cpu'] / plain['cpu']:.3f}"},
        # the same question inside one process, immune to the load of a shared machine between processes
        {"name": f"renames_step_in_load_{name}", "ours_s": ours["step_s"], "baseline": "rest of the same load",
         "baseline_s": ours["s"] - ours["step_s"], "ratio": ours["s"] / (ours["s"] - ours["step_s"])},
        {"name": f"load_vs_git_log_{name}", "ours_s": ours["s"], "baseline": "same git log, output discarded",
         "baseline_s": git["s"], "ratio": ours["s"] / git["s"],
         "note": f"CPU s {ours['cpu']:.2f} vs {git['cpu']:.2f} = {ours['cpu'] / git['cpu']:.3f}"},
        {"name": f"components_vs_raw_{name}", "ours_s": mapped["map_s"], "baseline": "component_of(raw path)",
         "baseline_s": mapped["raw_s"], "ratio": mapped["map_s"] / max(mapped["raw_s"], 1e-9),
         "note": f"code changes mapped to a component: {mapped['share']:.1%}" if mapped["share"] is not None
         else "no code changes"},
        {"name": f"warm_vs_cold_{name}", "ours_s": warm["s"], "baseline": "ours cold", "baseline_s": ours["s"],
         "ratio": warm["s"] / ours["s"], "note": "current paths cached" if warm.get("has_current") else
         "current paths MISSING from the cached tables"},
    ]


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    repeat = 1 if args.quick else 3
    paths = [a for a in (argv or []) if not a.startswith("--")]
    if paths:
        repos = [Path(p) for p in paths]
    else:
        commits, files = pick(args, (20000, 3000), (2000, 500), (40, 12))
        synth = generate(commits=commits, files=files)
        repos = [synth] + ([] if args.quick else [p for p in REAL if p.exists()])
    rows = []
    for repo in repos:
        rows += _rows(repo, repo.name.replace("+", "_"), repeat)
    return rows


if __name__ == "__main__":
    main(run)
