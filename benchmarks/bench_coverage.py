"""Benchmark: per-test coverage -> exercised call sites on a big synthetic suite.

Generates (once, under benchmarks/.work/) a coverage data file with 10,000 test
contexts x 2,000 files written through coverage's own API (``set_context`` +
``add_lines``; each test runs ~30 files x ~40 lines, ~12 M (test, line) pairs),
with absolute paths of another machine, plus ~20,000 synthetic call sites. Times
``load_coverage`` (path mapping by suffix) + ``exercised_call_sites`` against
coverage's own ``CoverageData.read()`` + ``measured_files()`` as the baseline.

    python benchmarks/bench_coverage.py [--quick] [--api]

``--quick``: 1,000 tests x 200 files. ``--api``: also time the portable
``contexts_by_lineno`` reader (slow; the reason the SQL reader exists).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import WORK, main, parse_argv, pick, timed  # noqa: E402

from toolkit.load import coverage_contexts as cc  # noqa: E402
FILES_PER_TEST, LINES_PER_FILE, FILE_LINES, SITES_PER_FILE = 30, 40, 200, 10


def _repo_files(n_files: int) -> list[str]:
    return [f"src/app/pkg{i // 100:02d}/mod{i:04d}.py" for i in range(n_files)]


def generate(n_tests: int, n_files: int) -> tuple[Path, list[str], pd.DataFrame]:
    """The coverage data file (written once), the repository file list and the call-site table."""
    import coverage

    files = _repo_files(n_files)
    data_path = WORK / f"coverage_{n_tests}x{n_files}.sqlite"
    rng = np.random.default_rng(42)
    if not data_path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        tmp = data_path.with_suffix(".partial")
        tmp.unlink(missing_ok=True)
        data = coverage.CoverageData(basename=str(tmp))
        recorded = ["/home/ci/build/" + f for f in files]
        for t in range(n_tests):
            data.set_context(f"tests/test_m{t // 50:03d}.py::TestC::test_{t}|run")
            chosen = rng.choice(n_files, size=min(FILES_PER_TEST, n_files), replace=False)
            data.add_lines({recorded[f]: set(rng.choice(np.arange(1, FILE_LINES), LINES_PER_FILE, replace=False).tolist())
                            for f in chosen})
        data.write()
        tmp.rename(data_path)
    srng = np.random.default_rng(7)
    n_sites = n_files * SITES_PER_FILE
    path_idx = np.repeat(np.arange(n_files), SITES_PER_FILE)
    lines = srng.integers(1, FILE_LINES, n_sites)
    paths = [files[i] for i in path_idx]
    sites = pd.DataFrame({"call_site_id": [f"{p}:{ln}:x.f{j}" for j, (p, ln) in enumerate(zip(paths, lines))],
                          "path": paths, "line": lines.astype("int64")})
    return data_path, files, sites


def run(argv: list[str] | None = None) -> list[dict]:
    """Rows for benchmarks/run.py; ``argv`` may hold ``--quick`` and ``--api``."""
    import coverage

    args = parse_argv(argv)
    n_tests, n_files = pick(args, (10_000, 2_000), (1000, 200), (40, 10))
    gen_s, (data_path, files, sites) = timed(lambda: generate(n_tests, n_files))

    def baseline() -> set[str]:
        d = coverage.CoverageData(basename=str(data_path))
        d.read()
        return d.measured_files()

    baseline_s, measured = timed(baseline)
    assert len(measured) == n_files

    rows = []
    readers = ["sql"] + (["api"] if "--api" in args.flags else [])
    for reader in readers:
        skips: list = []
        load_s, tl = timed(lambda: cc.load_coverage(data_path, files, skips=skips, reader=reader))  # noqa: B023
        map_s, ex = timed(lambda: cc.exercised_call_sites(tl, sites))  # noqa: B023
        ours_s = load_s + map_s
        assert not skips and tl["test_id"].nunique() == n_tests
        rows.append({"name": "coverage mapping" + ("" if reader == "sql" else " (api reader)"), "ours_s": ours_s,
                     "baseline": "CoverageData.read()+measured_files()", "baseline_s": baseline_s,
                     "ratio": ours_s / baseline_s if baseline_s else float("nan"),
                     "test_lines": len(tl), "exercised": len(ex), "generate_s": gen_s})
    return rows


if __name__ == "__main__":
    main(run)
