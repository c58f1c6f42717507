"""Benchmark (issue 8): what the seam ranking and the backtest add to the audit of the large synthetic case.

Inputs: the big case of the detection-methods issue (:mod:`big_inputs`: 20,000 commits / 3,000 modules,
10,000 tests x 2 environments x 2 runs, per-test coverage, 5,000 issues), or ``REPO`` alone when given.
Every audit runs in a fresh cache directory (cold), as a first audit of a system would.

Rows
    ranking + root causes: ``rank_seams`` + ``root_causes`` on the audit's analyses, against the in-process
        audit (``run_audit``: evidence + every analysis) that produced them.
    backtest, first at REV: what ``--backtest REV`` adds to the wall time of ``seamscope audit`` through the
        CLI, each run with a fresh cache: median wall of ``PAIRS`` runs with it minus the median of ``PAIRS``
        runs without it (alternated, so a slow spell of the machine hits both), against the latter. The ranking
        as of REV is prepared in a forked process beside the audit's analyses (toolkit.runtime.alongside), so the note
        also gives what the run spends on it in CPU (user + system of the whole process tree) and the
        ``backtest`` stage (what the audit waited for: scoring, and any preparation still running).
        REV is the first-parent commit ~80 % of the way from the root.
    backtest, again at REV: the same ``PAIRS`` pairs of commands again, each on the cache it filled (a team
        re-running its audit).
    With ``REPO`` alone (no issues: the CLI reports the backtest as missing) the backtest row is measured in
    process instead: ``backtest(findings=...)`` after the audit, against that audit.

Target: each ratio < 0.10.

    python benchmarks/bench_ranking.py [--quick] [REPO]
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from common import main, parse_argv  # noqa: E402

_STAGE = re.compile(r"^\s{2}(.+?)\s+([0-9.]+) s$")


def rev_80(repo: Path) -> str:
    """The first-parent commit ~80 % of the way from the root to HEAD."""
    from toolkit.load.gitrepo import Repo

    shas = Repo.open(repo).git("rev-list", "--first-parent", "HEAD").stdout.split()
    return shas[len(shas) // 5]


def _inputs(args) -> tuple[str, list[str]]:
    """(label, CLI input arguments)."""
    if args.repo:
        return Path(args.repo).name, [str(args.repo)]
    if args.quick and not args.tiny:
        import synthetic_repo
        path = synthetic_repo.generate(HERE / ".work" / "synthetic-3000-600", commits=3000, files=600)
        return "synthetic 3000 commits / 600 files (repository only)", [str(path)]
    import big_inputs
    if args.tiny:
        b = big_inputs.generate(tiny=True)
        return ("tiny synthetic case", [str(b.repo), "--tests", str(b.junit), "--coverage", str(b.coverage),
                                        "--issues", str(b.issues)])
    b = big_inputs.generate()
    return ("big synthetic case (20k commits, 3k modules, 10k tests x 2 x 2, coverage, 5k issues)",
            [str(b.repo), "--tests", str(b.junit), "--coverage", str(b.coverage), "--issues", str(b.issues)])


PAIRS = 5


def _cli_audit(inputs: list[str], rev: str | None, cache: Path, out: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of the process tree, ``backtest`` stage seconds or 0) of one
    ``seamscope audit`` run, with ``--backtest REV`` when ``rev`` is given."""
    cmd = [sys.executable, "-m", "toolkit", "--quiet", "audit", *inputs, "--out", str(out), "--verbose", "--quiet"]
    if rev:
        cmd += ["--backtest", rev]
    env = dict(os.environ, SEAMSCOPE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise RuntimeError(f"audit failed ({res.returncode}):\n{res.stderr[-4000:]}")
    stages = {m.group(1): float(m.group(2)) for line in res.stderr.splitlines() if (m := _STAGE.match(line))}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, stages.get("backtest", 0.0)


def _added_rows(inputs: list[str], label: str, rev: str, work: Path, pairs: int = PAIRS) -> list[dict]:
    """The two CLI rows: first (cold caches) and again (the caches those runs filled)."""
    runs: dict[tuple[str, bool], list[tuple[float, float, float]]] = {}
    for i in range(pairs):
        for with_bt in (True, False) if i % 2 == 0 else (False, True):
            tag = f"{i}-{'bt' if with_bt else 'plain'}"
            runs.setdefault(("first", with_bt), []).append(
                _cli_audit(inputs, rev if with_bt else None, work / f"cache-{tag}", work / f"out-{tag}"))
    for i in range(pairs):  # again, each on the cache its first run filled
        for with_bt in (True, False) if i % 2 == 0 else (False, True):
            tag = f"{i}-{'bt' if with_bt else 'plain'}"
            runs.setdefault(("again", with_bt), []).append(
                _cli_audit(inputs, rev if with_bt else None, work / f"cache-{tag}", work / f"out-{tag}"))
    rows = []
    for when in ("first", "again"):
        med = {bt: [statistics.median(x[j] for x in runs[(when, bt)]) for j in range(3)] for bt in (True, False)}
        added, base = med[True][0] - med[False][0], med[False][0]
        n = len(runs[(when, True)])
        rows.append({"name": f"backtest {when} at REV, {label}", "ours_s": round(added, 3),
                     "baseline": "the same `seamscope audit` without --backtest", "baseline_s": round(base, 3),
                     "ratio": round(added / base, 4),
                     "note": f"REV {rev[:12]}, cache {'cold' if when == 'first' else 'warm'}, median of {n} "
                             f"run(s) each; walls with {[round(x[0], 2) for x in runs[(when, True)]]} / without "
                             f"{[round(x[0], 2) for x in runs[(when, False)]]} s; CPU added "
                             f"{med[True][1] - med[False][1]:.2f} s; backtest stage {med[True][2]:.2f} s"})
    return rows


def _inprocess_rows(inputs: list[str], label: str, rev: str, work: Path, with_backtest: bool) -> list[dict]:
    """The ranking row; with ``with_backtest`` also ``backtest(findings=...)`` in the same process (a repository
    without issues: the CLI reports the backtest as missing, yet ranking at REV is the cost worth knowing)."""
    from toolkit.run.backtest import backtest
    from toolkit.analyze.root_causes import root_causes
    from toolkit.analyze.seam_ranking import rank_seams
    from toolkit.run.audit import run_audit
    from toolkit.cli import _audit_config, build_parser
    from toolkit.core.findings import Findings

    os.environ["SEAMSCOPE_CACHE"] = str(work / "cache-inprocess")
    conf = _audit_config(build_parser().parse_args(["audit", *inputs]))
    t0 = time.perf_counter()
    ev = run_audit(conf).ev
    audit = time.perf_counter() - t0
    f = Findings(ev)  # every analysis the ranking reads is in the cache the audit just filled
    f.seams, f.interaction, f.interfaces, f.bugs, f.cross_bugs, f.environments  # noqa: B018
    t1 = time.perf_counter()
    rank_seams(**f.ranking_inputs())
    root_causes(**f.root_cause_inputs())
    ours = time.perf_counter() - t1
    rows = [{"name": f"ranking + root causes, {label}", "ours_s": round(ours, 3), "baseline": "audit (in-process)",
             "baseline_s": round(audit, 3), "ratio": round(ours / audit, 4)}]
    if with_backtest:
        t2 = time.perf_counter()
        backtest(conf, rev, findings=f)
        bt = time.perf_counter() - t2
        rows.append({"name": f"backtest first at REV (in-process, no issues to score), {label}",
                     "ours_s": round(bt, 3), "baseline": "audit (in-process)", "baseline_s": round(audit, 3),
                     "ratio": round(bt / audit, 4), "note": f"REV {rev[:12]}"})
    return rows


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    label, inputs = _inputs(args)
    rev = rev_80(Path(inputs[0]))
    work = Path(tempfile.mkdtemp(prefix="bench-ranking-", dir=HERE / ".work"))
    old = os.environ.get("SEAMSCOPE_CACHE")
    try:
        with_issues = "--issues" in inputs
        rows = _inprocess_rows(inputs, label, rev, work, with_backtest=not with_issues)
        if with_issues:
            rows += _added_rows(inputs, label, rev, work, pairs=1 if args.tiny else PAIRS)
        return rows
    finally:
        if old is None:
            os.environ.pop("SEAMSCOPE_CACHE", None)
        else:
            os.environ["SEAMSCOPE_CACHE"] = old
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run)
