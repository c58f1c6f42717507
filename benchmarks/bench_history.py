"""History loading: ours vs raw ``git log --numstat`` and vs PyDriller; warm cache; peak memory.

Rows (ratio = ours / baseline):
  history_cold_vs_git_log      ours without cache vs the same ``git log --numstat -M`` with output discarded (target <= 2)
  history_vs_pydriller_N       first N commits: ours vs PyDriller's traverse_commits() touching every
                               modified file's added/deleted lines (target: ratio <= 0.05, i.e. >= 20x faster)
  history_warm_vs_cold         cached second run vs cold run
  history_peak_rss_mib         peak resident memory of a fresh process loading the whole history (target < 1024);
                               ours_s holds MiB, baseline is the interpreter with pandas imported

``python benchmarks/bench_history.py [repo] [--quick]`` (default repo: the synthetic one).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import best_of, main, parse_argv, peak_rss_mib, pick, timed  # noqa: E402
from synthetic_repo import generate  # noqa: E402

from toolkit.load.gitrepo import Repo, git_env  # noqa: E402
from toolkit.load.history import load_history  # noqa: E402


def _rss_child(repo: Path) -> tuple[float, float]:
    """Peak MiB of a fresh process loading the whole history, and of one only importing pandas and pyarrow."""
    code = ("import pandas, pyarrow\n"
            "if sys.argv[1] == 'load':\n"
            "    from toolkit.load.history import load_history\n"
            "    h = load_history(sys.argv[2], cache=False)\n")
    return peak_rss_mib(code, "load", str(repo)), peak_rss_mib(code, "base")


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    quick = args.quick
    commits, files = pick(args, (20000, 3000), (4000, 1000), (40, 12))
    path = Path(args.repo) if args.repo else generate(commits=commits, files=files)
    r = Repo.open(path)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SEAMSCOPE_CACHE"] = cache
        git_s = best_of(lambda: subprocess.run(r.command("log", "--numstat", "-M", "HEAD"), env=git_env(),
                                               stdout=subprocess.DEVNULL, check=True))
        ours_s = best_of(lambda: load_history(r, cache=False))
        rows.append({"name": "history_cold_vs_git_log", "ours_s": ours_s, "baseline": "git log --numstat",
                     "baseline_s": git_s, "ratio": ours_s / git_s})
        cold_s, h = timed(lambda: load_history(r))
        warm_s = best_of(lambda: load_history(r))
        rows.append({"name": "history_warm_vs_cold", "ours_s": warm_s, "baseline": "ours cold",
                     "baseline_s": cold_s, "ratio": warm_s / cold_s})
        n = pick(args, 1500, 500, 10)
        from pydriller import Repository

        def pydriller() -> int:
            touched = 0
            for i, c in enumerate(Repository(str(path), order="reverse").traverse_commits()):
                if i >= n:
                    break
                for f in c.modified_files:
                    touched += f.added_lines + f.deleted_lines
            return touched

        pyd_s, _ = timed(pydriller)
        ours_n = best_of(lambda: load_history(r, cache=False, limit=n))
        rows.append({"name": f"history_vs_pydriller_{n}", "ours_s": ours_n, "baseline": "pydriller",
                     "baseline_s": pyd_s, "ratio": ours_n / pyd_s})
    load_mib, base_mib = _rss_child(path)
    rows.append({"name": f"history_peak_rss_mib_{len(h.commits)}_commits", "ours_s": load_mib,
                 "baseline": "python+pandas idle (MiB)", "baseline_s": base_mib, "ratio": load_mib / base_mib})
    return rows


if __name__ == "__main__":
    main(run)
