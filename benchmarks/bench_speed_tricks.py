"""Do the speed tricks earn their keep? Each one turned off, against the audit as shipped, in one run.

The tricks (issue 19, item 5), each switched off in the child process before it audits (no code change):

  alongside     the backtest's ranking prepared in a forked process beside the analyses (toolkit.runtime.alongside)
  gcpause       the cyclic collector paused for the whole command (toolkit.runtime.gcpause.collection_paused:
                the CLI, run_audit, backtest_many, the notebooks' load)
  loader_gc     the loaders' own ``gc.disable()`` (junit, python_ast, traces): deleted since, so this variant
                now changes nothing (kept to show that)
  pool_freeze   ``gcpause.freeze_inherited``, the worker initializer of toolkit.runtime.parallel; it matters with the
                collector on (a notebook, the API), so it is measured against ``-gcpause`` as well

Every run is ``seamscope audit ... --backtest REV`` (REV: the first-parent commit ~80 % of the way from the root)
in a fresh process with an empty cache, variants alternating, best of ``--repeat`` runs. Wall seconds and CPU
seconds (user + system of the whole process tree: the forked child, pool workers and git included) are both
printed: 7 other engineers share the 2 cores, so wall time is noisy and CPU less so. ``ratio`` = the variant /
the audit as shipped (above 1: the trick saves that much).

    python benchmarks/bench_speed_tricks.py [REPO ...] [--synthetic] [--tiny] [--repeat N]

Measured 2026-12-04 (2 cores shared with 7 other engineers, best of 2; wall ratio / CPU ratio):

  variant (vs)                      pytest (17.7k commits)   big synthetic (20k commits, 3k modules)
  -alongside (shipped)              1.27 / 0.98              1.27 / 1.04    kept: ~21 % of an audit with --backtest
  -gcpause (shipped)                1.16 / 1.16              1.03 / 1.03    kept: 14 % of the pytest audit
  -loader_gc (shipped)              1.04 / 1.05              0.97 / 0.97    deleted (inside the pause anyway)
  -gcpause -pool_freeze (-gcpause)  1.43 / 1.45              1.01 / 1.01    kept: the collector on (a notebook)
  plain (shipped)                   2.66 / 1.86              1.32 / 1.08
  (shipped: pytest 26.3 s wall / 41.6 s CPU, big synthetic 14.1 s / 18.4 s)

Default: the big synthetic case (:mod:`big_inputs`) and /tmp/rr/pytest-dev+pytest when present (issues for a
real repository: its changelog's bug entries, :func:`real_repos.changelog_export`); ``--synthetic``: the big
synthetic case only. ``--tiny``: a 300-commit
synthetic repository, one run each of the audit as shipped and of the plain one (every trick off: what the
test suite runs, so a renamed trick breaks the benchmark).
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from common import ROOT, main, parse_argv  # noqa: E402

REAL = Path("/tmp/rr/pytest-dev+pytest")

#: variant name -> the tricks it turns off ("" = as shipped)
VARIANTS: dict[str, tuple[str, ...]] = {
    "shipped": (),
    "-alongside": ("alongside",),
    "-gcpause": ("gcpause",),
    "-loader_gc": ("loader_gc",),
    "-gcpause -pool_freeze": ("gcpause", "pool_freeze"),
    "plain": ("alongside", "gcpause", "loader_gc", "pool_freeze"),
}

# Runs in the child: turn the named tricks off, then run the CLI.
_CHILD = r"""
import contextlib, gc, sys
off = set(sys.argv[1].split(",")) - {""}
sys.argv = ["seamscope", *sys.argv[2:]]

class _GC:  # the gc module, minus one trick
    def __init__(self, **noop):
        self._noop = noop
    def __getattr__(self, name):
        return self._noop.get(name) or getattr(gc, name)

if "alongside" in off:
    from toolkit.runtime import alongside
    alongside.available = lambda: False
if "gcpause" in off:
    import importlib
    nothing = lambda: contextlib.nullcontext()
    for mod in ("toolkit.runtime.gcpause", "toolkit.cli", "toolkit.run.audit", "toolkit.notebook"):
        m = importlib.import_module(mod)
        if hasattr(m, "collection_paused"):
            m.collection_paused = nothing
if "loader_gc" in off:
    import importlib
    for mod in ("toolkit.load.junit", "toolkit.load.python_ast", "toolkit.load.traces"):
        m = importlib.import_module(mod)
        if hasattr(m, "gc"):
            m.gc = _GC(disable=lambda: None)
if "pool_freeze" in off:
    from toolkit.runtime import gcpause
    gcpause.freeze_inherited = lambda: None
from toolkit.cli import main
sys.exit(main())
"""


def _one(variant: str, inputs: list[str], rev: str, work: Path, tag: str) -> tuple[float, float]:
    """(wall, CPU seconds of the process tree) of one cold audit with ``variant``'s tricks off."""
    cmd = [sys.executable, "-c", _CHILD, ",".join(VARIANTS[variant]), "--quiet", "audit", *inputs,
           "--out", str(work / f"out-{tag}"), "--backtest", rev]
    env = dict(os.environ, SEAMSCOPE_CACHE=str(work / f"cache-{tag}"), PYTHONPATH=str(ROOT))
    env.pop("SEAMSCOPE_NO_CACHE", None)  # the alongside hands its results over through the cache
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode not in (0, 1):  # 1: a gate or a finding, not a failure of the run
        raise RuntimeError(f"audit ({variant}) failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _rev_80(repo: Path) -> str:
    shas = subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.split()
    return shas[len(shas) // 5]


def _cases(args, paths: list[Path], work: Path) -> list[tuple[str, list[str], Path]]:
    """(label, CLI inputs, repository) of each case."""
    import synthetic_repo
    if args.tiny:
        repo = synthetic_repo.generate(work / "tiny-repo", commits=300, files=60)
        issues = work / "tiny-issues.json"
        issues.write_text('[{"number": %d, "title": "crash in p0", "state": "closed", "labels": [{"name": "bug"}],'
                          ' "created_at": "2020-01-01T00:00:00Z"}]' % 1, encoding="utf-8")
        return [("tiny synthetic", [str(repo), "--issues", str(issues)], repo)]
    out = []
    if not paths:
        import big_inputs
        b = big_inputs.generate()
        out.append(("big synthetic", [str(b.repo), "--tests", str(b.junit), "--coverage", str(b.coverage),
                                      "--issues", str(b.issues)], b.repo))
        paths = [REAL] if REAL.exists() and "--synthetic" not in args.flags else []
    for p in paths:
        from real_repos import changelog_export
        issues = changelog_export(p, work)
        out.append((p.name, [str(p), *(["--issues", str(issues)] if issues else [])], p))
    return out


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    argv = list(argv or [])
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else (1 if args.tiny else 3)
    if "--repeat" in argv:
        del argv[argv.index("--repeat"):argv.index("--repeat") + 2]
        args = parse_argv(argv)
    paths = [Path(a) for a in argv if not a.startswith("--")]
    variants = {v: VARIANTS[v] for v in (("shipped", "plain") if args.tiny else VARIANTS)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="speed-tricks-") as tmp:
        work = Path(tmp)
        for label, inputs, repo in _cases(args, paths, work):
            rev = _rev_80(repo)
            runs: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
            for i in range(repeat):
                order = list(variants) if i % 2 == 0 else list(reversed(variants))
                for v in order:
                    runs[v].append(_one(v, inputs, rev, work, f"{len(rows)}-{v.replace(' ', '')}-{i}"))
            best = {v: (min(w for w, _ in r), min(c for _, c in r)) for v, r in runs.items()}
            for v in variants:
                if v == "shipped":
                    continue
                base = "-gcpause" if v == "-gcpause -pool_freeze" else "shipped"
                rows.append({"name": f"{label}: {v}", "ours_s": best[v][0], "baseline": base,
                             "baseline_s": best[base][0], "ratio": best[v][0] / best[base][0],
                             "cpu_s": best[v][1], "baseline_cpu_s": best[base][1],
                             "cpu_ratio": best[v][1] / best[base][1] if best[base][1] else float("nan"),
                             "note": f"best of {repeat}; wall and CPU; ratio > 1: the trick saves"})
    return rows


if __name__ == "__main__":
    main(run)
