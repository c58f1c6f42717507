"""Run every benchmark (benchmarks/bench_*.py), each in a fresh process, and print its rows.

A fresh interpreter per benchmark: a cold run is cold (no module-level memo, imported module or warmed
allocator survives from the benchmark before), and one benchmark's failure cannot hide the others' figures.
Each script prints ``name: ours X s, baseline Y s, ratio Z`` rows (``common.main``); ratio = ours / baseline,
lower is better unless a row says otherwise in its note. Usage:

    python benchmarks/run.py [--only NAME ...] [--quick | --tiny] [REPO]

``--tiny`` is the size tests/test_benchmarks.py runs every script at (the benchmark still works, its figures
mean nothing). Benchmarks measure, they do not assert; the exit status says only whether each one ran.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> list[Path]:
    """Every benchmark script, by name."""
    return sorted(HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="benchmark names (e.g. junit history)")
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller generated inputs")
    size.add_argument("--tiny", action="store_true", help="the smallest inputs: does each benchmark still run?")
    ap.add_argument("repo", nargs="?", help="a real repository to measure on, where a benchmark supports it")
    args = ap.parse_args(argv)
    extra = ([args.repo] if args.repo else []) + (["--quick"] if args.quick else []) + (["--tiny"] if args.tiny else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    failed = []
    for path in benchmarks():
        name = path.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, str(path), *extra], cwd=HERE.parent, env=env)
        if done.returncode != 0:
            failed.append(name)
            print(f"{name}: FAILED (exit {done.returncode})", flush=True)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
