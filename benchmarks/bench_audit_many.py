"""audit-many fan-out: 8 generated repositories audited on 2 local worker processes vs 1.

Row (ratio = ours / baseline; target <= 0.625, i.e. a speedup >= 1.6x):
  audit-many   ``toolkit.run.many.audit_many(workers=2)`` vs ``audit_many(workers=1)`` over the same 8
               repositories (``synthetic_repo.generate(commits=3000, files=600, seed=i)``), cache off so both
               runs do all the work; each the best of ``REPEAT`` runs, alternating, to damp other load.

The ideal ratio is 0.5 on a machine with >= 2 idle cores; the index writing and the slowest
repository's tail are serial. Also printed: ``parallelism`` (repositories in flight on average in the
2-worker run) and ``per_repo_slowdown`` (a repository's median time with 2 workers / with 1): a
slowdown near 2 with parallelism near 2 means the fan-out is fine and the CPUs were busy with other work.
``python benchmarks/bench_audit_many.py [--quick]`` (``--quick``: 500
commits, 100 files each). Generated repositories live in ``benchmarks/.work/many/``.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import synthetic_repo  # noqa: E402
from common import parse_argv, pick  # noqa: E402

from toolkit.runtime import progress  # noqa: E402
from toolkit.report.writer import write_audit  # noqa: E402
from toolkit.run.many import audit_many, read_targets  # noqa: E402

WORK = ROOT / "benchmarks" / ".work" / "many"
REPOS = 8
REPEAT = 2


def _repos(commits: int, files: int, n: int = REPOS) -> Path:
    root = WORK / f"{commits}x{files}x{n}"
    for i in range(n):
        synthetic_repo.generate(root / f"repo{i}", commits=commits, files=files, seed=i)
    return root


def _timed(root: Path, workers: int) -> tuple[float, list[dict]]:
    out = WORK / f"out-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    result = audit_many(read_targets(root), out, write=write_audit, workers=workers)
    return time.perf_counter() - t0, result


def run(argv: list[str] | None = None) -> list[dict]:
    """``[--quick] [--tiny]`` (a REPO argument is ignored: the benchmark needs 8 repositories of one size)."""
    args = parse_argv(argv)
    os.environ["SEAMSCOPE_NO_CACHE"] = "1"  # inherited by the worker processes: every run does all the work
    progress.set_enabled(False)
    commits, files, n = pick(args, (3000, 600, REPOS), (500, 100, REPOS), (40, 12, 2))
    root = _repos(commits, files, n)
    ours, base, busy = [], [], []
    for _ in range(pick(args, REPEAT, REPEAT, 1)):
        t1, r1 = _timed(root, 1)
        t2, r2 = _timed(root, 2)
        base.append(t1)
        ours.append(t2)
        busy.append(sum(r["seconds"] for r in r2) / t2)
        errors = [r["error"] for r in r1 + r2 if r["error"]]
        assert not errors, errors
        same = [{k: v for k, v in r.items() if k != "seconds"} for r in r1] == \
               [{k: v for k, v in r.items() if k != "seconds"} for r in r2]
        assert same, "1 and 2 workers disagree"
    per_repo = sorted(r["seconds"] for r in r1)
    per_repo_2 = sorted(r["seconds"] for r in r2)
    o, b = min(ours), min(base)
    return [{"name": "audit-many", "ours_s": round(o, 2), "baseline": "audit-many(1 worker)",
             "baseline_s": round(b, 2), "ratio": round(o / b, 3),
             "repos": n, "commits_each": commits, "files_each": files, "cpus": os.cpu_count(),
             "per_repo_s_median": per_repo[len(per_repo) // 2],
             # repositories in flight on average during the 2-worker run (2.0 = both workers always busy)
             "parallelism": round(max(busy), 2), "loadavg_1min": round(os.getloadavg()[0], 2),
             # median time of one repository with 2 workers / with 1: > 1 when the workers compete for CPUs
             "per_repo_slowdown": round(per_repo_2[len(per_repo_2) // 2] / per_repo[len(per_repo) // 2], 2)}]


def main(argv: list[str] | None = None) -> None:
    for row in run(sys.argv[1:] if argv is None else argv):
        print(f"{row['name']}: ours(2 workers) {row['ours_s']} s, baseline(1 worker) {row['baseline_s']} s, "
              f"ratio {row['ratio']}  ({row['repos']} repos x {row['commits_each']} commits, "
              f"median {row['per_repo_s_median']} s per repo, parallelism {row['parallelism']}, per-repo slowdown "
              f"{row['per_repo_slowdown']}, {row['cpus']} CPUs, load {row['loadavg_1min']})")


if __name__ == "__main__":
    main()
