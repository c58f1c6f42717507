"""Benchmark: seam ranking + root causes on top of an audit, relative to the evidence + analysis time.

Input: the synthetic repository of :mod:`synthetic_repo` (structure + history only: it has no JUnit,
coverage or issues, so the bug/environment factors are empty; interaction coverage is the static
estimate). "baseline" = load_evidence + the analyses the ranking reads (seams, structural and logical
coupling, interaction coverage, interface docs with drift) — what an audit computes anyway. "ours" =
rank_seams + root_causes on those cached results. Target: ours < 10 % of the baseline.

Backtest row: at a revision ~80 % through the history, ``backtest(config, REV, findings=f)`` reusing the
audit's loaded evidence, against the same audit's evidence + analyses (both from a fresh cache directory,
so the audit is cold and the backtest is the first at REV; a second backtest at REV is in the note). The old path (everything reloaded at REV,
``_backtest_reloaded``) is measured the same way in a cache directory of its own and printed as a note.

    python benchmarks/bench_ranking.py [--quick] [REPO]
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
sys.path.insert(0, str(HERE.parent))

from common import main, parse_argv  # noqa: E402

from toolkit.analyze.backtest import _backtest_reloaded, backtest  # noqa: E402
from toolkit.analyze.root_causes import root_causes  # noqa: E402
from toolkit.analyze.seam_ranking import rank_seams  # noqa: E402
from toolkit.config import AuditConfig  # noqa: E402
from toolkit.evidence import load_evidence  # noqa: E402
from toolkit.findings import Findings  # noqa: E402


def _measure(repo: Path, name: str) -> dict:
    t0 = time.perf_counter()
    f = Findings(load_evidence(AuditConfig(repo=repo)))
    f.seams, f.structural_coupling, f.logical_coupling, f.interaction, f.interfaces  # noqa: B018
    base = time.perf_counter() - t0
    t1 = time.perf_counter()
    rank_seams(f)
    root_causes(f)
    ours = time.perf_counter() - t1
    return {"name": name, "ours_s": round(ours, 3), "baseline": "evidence + analyses", "baseline_s": round(base, 3),
            "ratio": round(ours / base, 4) if base else float("nan")}


def _audit(repo: Path) -> tuple[Findings, float]:
    t0 = time.perf_counter()
    f = Findings(load_evidence(AuditConfig(repo=repo)))
    f.seams, f.structural_coupling, f.logical_coupling, f.interaction, f.interfaces  # noqa: B018
    return f, time.perf_counter() - t0


def _rev_80(repo: Path) -> str:
    """The first-parent commit ~80 % of the way from the root to HEAD."""
    shas = subprocess.run(["git", "-C", str(repo), "rev-list", "--first-parent", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.split()
    return shas[len(shas) // 5]


def _in_fresh_cache(fn):
    old = os.environ.get("SEAMSCOPE_CACHE")
    with tempfile.TemporaryDirectory(prefix="bench-backtest-", dir=HERE / ".work") as d:
        os.environ["SEAMSCOPE_CACHE"] = d
        try:
            return fn()
        finally:
            if old is None:
                os.environ.pop("SEAMSCOPE_CACHE", None)
            else:
                os.environ["SEAMSCOPE_CACHE"] = old


def _measure_backtest(repo: Path, name: str) -> dict:
    rev = _rev_80(repo)
    cfg = AuditConfig(repo=repo)

    def ours() -> tuple[float, float, float]:
        f, base = _audit(repo)
        t = time.perf_counter()
        backtest(cfg, rev, findings=f)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        backtest(cfg, rev, findings=f)  # again at the same REV: its structure and analyses are cached now
        return cold, time.perf_counter() - t, base

    def old() -> tuple[float, float]:
        _f, base = _audit(repo)
        t = time.perf_counter()
        _backtest_reloaded(cfg, rev)
        return time.perf_counter() - t, base

    ours_s, warm_s, base = _in_fresh_cache(ours)
    old_s, old_base = _in_fresh_cache(old)
    return {"name": name, "ours_s": round(ours_s, 3), "baseline": "audit", "baseline_s": round(base, 3),
            "ratio": round(ours_s / base, 4) if base else float("nan"),
            "note": f"first backtest at REV; again at REV {warm_s:.3f} s, ratio {warm_s / base:.4f}; "
                    f"before (reload at REV): {old_s:.3f} s, ratio {old_s / old_base:.4f} on an audit of "
                    f"{old_base:.3f} s"}


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    if args.repo:
        repo = Path(args.repo)
        return [_measure(repo, f"ranking on {repo.name}"), _measure_backtest(repo, f"backtest on {repo.name}")]
    import synthetic_repo
    commits, files = (3000, 600) if args.quick else (20000, 3000)
    path = synthetic_repo.generate(HERE / ".work" / f"synthetic-{commits}-{files}", commits=commits, files=files)
    return [_measure(path, f"ranking+root causes, synthetic {commits} commits / {files} files"),
            _measure_backtest(path, f"backtest, synthetic {commits} commits / {files} files")]


if __name__ == "__main__":
    main(run)
