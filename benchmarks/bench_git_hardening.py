"""Benchmark: what running every git call hardened (toolkit.load.gitrepo.git_command/git_env, issue 18) costs
in a real audit, against the same audit with plain git calls.

Each side is a cold audit (fresh cache) in a fresh process, the sides alternating, best of 3. "Plain" is the
code before hardening: no ``-c`` settings, no driver overrides, the caller's environment with only
GIT_OPTIONAL_LOCKS/GIT_TERMINAL_PROMPT/LC_ALL, and the work-tree cache key from ``git status``. Both wall and
CPU seconds (the audit process and every process it waited for, git included) are printed: on a shared machine
wall time is noisy, CPU less so. A direct measure follows: the number of git processes one audit starts times
the cost of one call each way (``git rev-parse HEAD``, median of 200), hardened minus plain, as a share of the
audit's wall time.

    python benchmarks/bench_git_hardening.py [REPO ...] [--quick | --tiny]

Default repositories: /tmp/rr/pallets+flask (when present) and the synthetic repository (4,000 commits and
1,000 files with --quick, else 20,000 and 3,000).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import parse_argv, pick  # noqa: E402

TARGET = 0.05
_CHILD = r'''
import json, os, resource, subprocess, sys, time
sys.path.insert(0, sys.argv[4])
mode, repo, out = sys.argv[1:4]
from toolkit.load import gitrepo
import toolkit.runtime.cache as cache

if mode == "plain":  # the code before issue 18
    gitrepo._GIT_CONFIG = ()
    gitrepo._GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    gitrepo._DIFFING = frozenset()
    gitrepo._driver_overrides = lambda git_dir, safe: ()

    def git_env(extra=None):
        env = dict(os.environ)
        env.update(gitrepo._GIT_ENV)
        env.update(extra or {})
        return env
    gitrepo.git_env = git_env

    def repo_state(repo, rev):
        import hashlib
        from pathlib import Path
        if rev is not None or repo.work_tree is None:
            return f"commit:{repo.resolve(rev or 'HEAD')}"
        head = repo.resolve("HEAD")
        status = subprocess.run(["git", "-C", str(repo.work_tree), "status", "--porcelain=v1", "-z",
                                 "--untracked-files=all", "--no-renames"], capture_output=True, env=git_env())
        h = hashlib.sha256(status.stdout)
        for rec in status.stdout.split(b"\0"):
            if len(rec) > 3:
                h.update(cache.fingerprint(Path(repo.work_tree) / rec[3:].decode("utf-8", "surrogateescape")).encode())
        return f"worktree:{head}:{h.hexdigest()}"
    cache.repo_state = repo_state

calls = [0]
_init = subprocess.Popen.__init__
def counting(self, args, *a, **k):
    if isinstance(args, (list, tuple)) and args and args[0] == "git":
        calls[0] += 1
    _init(self, args, *a, **k)
subprocess.Popen.__init__ = counting

from toolkit.cli import main
t = time.perf_counter()
rc = main(["-q", "audit", repo, "--out", out])
wall = time.perf_counter() - t
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
print(json.dumps({"rc": rc, "wall": wall, "cpu": cpu, "git_calls": calls[0]}))
'''

_PER_CALL = r'''
import sys, time, subprocess
sys.path.insert(0, sys.argv[3])
from toolkit.load import gitrepo
repo = gitrepo.Repo.open(sys.argv[2])
n = int(sys.argv[4])
if sys.argv[1] == "plain":
    env = dict(__import__("os").environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    argv = ["git", "--git-dir", str(repo.git_dir), "rev-parse", "HEAD"]
    run = lambda: subprocess.run(argv, capture_output=True, env=env, check=True)
else:
    run = lambda: repo.git("rev-parse", "HEAD")
run()
times = []
for _ in range(n):
    t = time.perf_counter()
    run()
    times.append(time.perf_counter() - t)
print(sorted(times)[n // 2])
'''


def _child(code: str, *args: str, cache: str) -> str:
    env = dict(os.environ, SEAMSCOPE_CACHE=cache, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return res.stdout.strip().splitlines()[-1]


def measure(repo: str, repeat: int = 3, calls: int = 200) -> dict:
    """Best-of-``repeat`` cold audits each way, alternating, and the per-call estimate."""
    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-git-") as tmp:
        for i in range(repeat):
            for mode in ("plain", "hardened"):
                cache = tempfile.mkdtemp(dir=tmp)
                got = json.loads(_child(_CHILD, mode, repo, str(Path(tmp) / f"out-{mode}-{i}"), str(ROOT),
                                        cache=cache))
                if got["rc"] != 0:
                    raise RuntimeError(f"audit of {repo} exited {got['rc']}")
                prev = best.get(mode)
                best[mode] = {k: (min(prev[k], got[k]) if prev else got[k]) for k in ("wall", "cpu")} | \
                    {"git_calls": got["git_calls"]}
        per = {mode: float(_child(_PER_CALL, mode, repo, str(ROOT), str(calls), cache=tmp))
               for mode in ("plain", "hardened")}
    extra = max(0.0, per["hardened"] * best["hardened"]["git_calls"] - per["plain"] * best["plain"]["git_calls"])
    return {"repo": repo, **{f"{m}_{k}": v for m in best for k, v in best[m].items()},
            "ratio_wall": best["hardened"]["wall"] / best["plain"]["wall"],
            "ratio_cpu": best["hardened"]["cpu"] / best["plain"]["cpu"],
            "per_call_plain_ms": per["plain"] * 1e3, "per_call_hardened_ms": per["hardened"] * 1e3,
            "estimated_share": extra / best["plain"]["wall"]}


def run(argv: list[str] | None = None) -> list[dict]:
    """One row per repository: the hardened audit against the plain one (wall), CPU and the share in extras."""
    args = parse_argv(argv)
    repos = [a for a in (argv or []) if not a.startswith("--")]
    if not repos:
        from synthetic_repo import generate
        if Path("/tmp/rr/pallets+flask").exists() and not args.tiny:
            repos.append("/tmp/rr/pallets+flask")
        commits, files = pick(args, (20000, 3000), (4000, 1000), (40, 12))
        repos.append(str(generate(commits=commits, files=files)))
    return [{"name": f"git hardening, {Path(r['repo']).name}", "ours_s": r["hardened_wall"], "baseline": "plain git",
             "baseline_s": r["plain_wall"], "ratio": r["ratio_wall"], **r}
            for r in (measure(repo, repeat=pick(args, 3, 2, 1), calls=pick(args, 200, 200, 10)) for repo in repos)]


def main(argv: list[str]) -> int:
    worst = 0.0
    for r in run(argv):
        worst = max(worst, r["estimated_share"])
        print(f"{r['repo']}: cold audit plain {r['plain_wall']:.2f} s wall / {r['plain_cpu']:.2f} s cpu, hardened "
              f"{r['hardened_wall']:.2f} s / {r['hardened_cpu']:.2f} s -> ratio {r['ratio_wall']:.3f} wall, "
              f"{r['ratio_cpu']:.3f} cpu; {r['hardened_git_calls']} git processes (plain {r['plain_git_calls']}), "
              f"{r['per_call_plain_ms']:.2f} -> {r['per_call_hardened_ms']:.2f} ms each: hardening costs "
              f"~{100 * r['estimated_share']:.2f} % of the audit (target < {100 * TARGET:.0f} %)")
    print("within the target" if worst < TARGET else "over the target", flush=True)
    return 0  # a benchmark measures; it does not fail the run (benchmarks/run.py)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
