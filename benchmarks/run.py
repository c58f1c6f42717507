"""Run every benchmark (benchmarks/bench_*.py) and print `name: ours X s, baseline Y s, ratio Z`.

Each module exposes ``run(argv) -> list[dict]`` (``argv``: ``[REPO] [--quick]``, read with
``common.parse_argv``) or ``run() -> list[dict]`` with rows
``{"name", "ours_s", "baseline", "baseline_s", "ratio"}`` (ratio = ours / baseline;
lower is better unless a row says otherwise in ``note``). Usage:

    python benchmarks/run.py [--only NAME ...] [--quick] [REPO]

Benchmarks are not part of ``make test``: they measure, they do not assert.
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import format_row  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None, help="benchmark module names (e.g. junit history)")
    ap.add_argument("--quick", action="store_true", help="smaller generated inputs")
    ap.add_argument("repo", nargs="?", help="a real repository to measure on, where a benchmark supports it")
    args = ap.parse_args(argv)
    failed = 0
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        assert spec.loader
        spec.loader.exec_module(mod)
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            params = inspect.signature(mod.run).parameters
            extra = [] if not params else ([args.repo] if args.repo else []) + (["--quick"] if args.quick else [])
            rows = mod.run(extra) if params else mod.run()
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            failed += 1
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        for row in rows:
            print(format_row(row), flush=True)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
