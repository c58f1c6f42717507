"""Benchmark (issue 8): what the seam ranking and the backtest add to the audit of the large synthetic case.

Inputs: the big case of the detection-methods issue (:mod:`big_inputs`: 20,000 commits / 3,000 modules,
10,000 tests x 2 environments x 2 runs, per-test coverage, 5,000 issues), or ``REPO`` alone when given.
Every audit runs in a fresh cache directory (cold), as a first audit of a system would.

Rows
    ranking + root causes: ``rank_seams`` + ``root_causes`` on the audit's analyses, against the in-process
        audit (``run_audit``: evidence + every analysis) that produced them.
    backtest, first at REV: ``seamscope audit --backtest REV`` through the CLI; ours = its ``backtest``
        stage (``--verbose``), baseline = the rest of the same run (the audit without the backtest: start,
        evidence, analyses, report writing). REV is the first-parent commit ~80 % of the way from the root.
    backtest, again at REV: the same command again with the same cache (a team re-running its audit).
    With ``REPO`` alone (no issues: the CLI reports the backtest as missing) the backtest row is measured in
    process instead: ``backtest(findings=...)`` after the audit, against that audit.

Target: each ratio < 0.10.

    python benchmarks/bench_ranking.py [--quick] [REPO]
"""
from __future__ import annotations

import os
import re
import shutil
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
    shas = subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.split()
    return shas[len(shas) // 5]


def _inputs(args) -> tuple[str, list[str]]:
    """(label, CLI input arguments)."""
    if args.repo:
        return Path(args.repo).name, [str(args.repo)]
    if args.quick:
        import synthetic_repo
        path = synthetic_repo.generate(HERE / ".work" / "synthetic-3000-600", commits=3000, files=600)
        return "synthetic 3000 commits / 600 files (repository only)", [str(path)]
    import big_inputs
    b = big_inputs.generate()
    return ("big synthetic case (20k commits, 3k modules, 10k tests x 2 x 2, coverage, 5k issues)",
            [str(b.repo), "--tests", str(b.junit), "--coverage", str(b.coverage), "--issues", str(b.issues)])


def _cli_audit(inputs: list[str], rev: str, cache: Path, out: Path) -> tuple[float, float]:
    """(wall seconds of ``seamscope audit --backtest REV``, its backtest stage seconds)."""
    cmd = [sys.executable, "-m", "toolkit", "--quiet", "audit", *inputs, "--backtest", rev, "--out", str(out),
           "--verbose", "--quiet"]
    env = dict(os.environ, SEAMSCOPE_CACHE=str(cache), PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"audit failed ({res.returncode}):\n{res.stderr[-4000:]}")
    stages = {m.group(1): float(m.group(2)) for line in res.stderr.splitlines() if (m := _STAGE.match(line))}
    return wall, stages["backtest"]


def _inprocess_rows(inputs: list[str], label: str, rev: str, work: Path, with_backtest: bool) -> list[dict]:
    """The ranking row; with ``with_backtest`` also ``backtest(findings=...)`` in the same process (a repository
    without issues: the CLI reports the backtest as missing, yet ranking at REV is the cost worth knowing)."""
    from toolkit.analyze.backtest import backtest
    from toolkit.analyze.root_causes import root_causes
    from toolkit.analyze.seam_ranking import rank_seams
    from toolkit.audit import run_audit
    from toolkit.cli import _audit_config, build_parser
    from toolkit.findings import Findings

    os.environ["SEAMSCOPE_CACHE"] = str(work / "cache-inprocess")
    conf = _audit_config(build_parser().parse_args(["audit", *inputs]))
    t0 = time.perf_counter()
    _report, ev = run_audit(conf)
    audit = time.perf_counter() - t0
    f = Findings(ev)  # every analysis the ranking reads is in the cache the audit just filled
    f.seams, f.interaction, f.interfaces, f.bugs, f.cross_bugs, f.environments  # noqa: B018
    t1 = time.perf_counter()
    rank_seams(f)
    root_causes(f)
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
        cache = work / "cache-cli"
        for when in ("first", "again") if with_issues else ():
            wall, bt = _cli_audit(inputs, rev, cache, work / f"out-{when}")
            rows.append({"name": f"backtest {when} at REV, {label}", "ours_s": round(bt, 3),
                         "baseline": "the same `seamscope audit` without its backtest stage",
                         "baseline_s": round(wall - bt, 3), "ratio": round(bt / (wall - bt), 4),
                         "note": f"REV {rev[:12]}, cache {'cold' if when == 'first' else 'warm'}"})
        return rows
    finally:
        if old is None:
            os.environ.pop("SEAMSCOPE_CACHE", None)
        else:
            os.environ["SEAMSCOPE_CACHE"] = old
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(run)
