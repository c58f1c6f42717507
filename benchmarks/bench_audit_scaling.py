"""Benchmark: is a cold audit's cost linear in history? Seconds per 1,000 commits at four revisions of one repo.

Issue 16's target: a cold audit of a 17k-commit repository under 15 s, and seconds per 1k commits growing by
at most 1.5x from the smallest to the largest revision (before: pytest at 4.4k / 8.7k / 13.2k / 17.7k commits
took 3.3 / 8.8 / 31.7 / 38 s, super-linear, from the interface-drift review re-parsing module versions).

Each revision is audited with ``--at REV`` in a fresh process with an empty cache (a cold run is cold). The
baseline column of each row is the smallest revision's seconds per 1k commits, so ``ratio`` is the growth.

    python benchmarks/bench_audit_scaling.py REPO       # a real repository with a long history (e.g. pytest)
    python benchmarks/bench_audit_scaling.py --quick    # the synthetic repository instead (small)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT, main, parse_argv, pick  # noqa: E402


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


def _cold_audit(repo: str, rev: str) -> float:
    with tempfile.TemporaryDirectory(prefix="seamscope-scaling-") as tmp:
        env = {**os.environ, "SEAMSCOPE_CACHE": str(Path(tmp) / "cache"), "PYTHONPATH": str(ROOT)}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "toolkit.cli", "-q", "audit", repo, "--at", rev,
                        "--out", str(Path(tmp) / "out")], check=True, env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - t


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    repo = args.repo
    if repo is None:
        from synthetic_repo import DEFAULT_PATH, generate  # noqa: PLC0415 (only the synthetic case needs it)

        n, files = pick(args, (4000, 300), (400, 300), (40, 12))
        repo = str(generate(DEFAULT_PATH.parent / f"scaling-{n}", commits=n, files=files))
    shas = _git(repo, "rev-list", "--first-parent", "HEAD").split()[::-1]  # oldest first
    rows, base = [], None
    for share in (0.5, 1.0) if args.tiny else (0.25, 0.5, 0.75, 1.0):
        rev = shas[max(0, int(len(shas) * share) - 1)]
        n = int(_git(repo, "rev-list", "--count", rev).strip())
        secs = _cold_audit(repo, rev)
        per_k = secs / (n / 1000)
        base = base if base is not None else per_k
        rows.append({"name": f"audit_scaling[{Path(repo).name}@{share:.0%} {n} commits]", "ours_s": secs,
                     "baseline": "s/1k commits at the smallest revision", "baseline_s": base,
                     "ratio": per_k / base, "note": f"{per_k:.2f} s per 1k commits"})
    return rows


if __name__ == "__main__":
    main(run)
