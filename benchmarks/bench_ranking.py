"""Benchmark: seam ranking + root causes on top of an audit, relative to the evidence + analysis time.

Input: the synthetic repository of :mod:`synthetic_repo` (structure + history only: it has no JUnit,
coverage or issues, so the bug/environment factors are empty; interaction coverage is the static
estimate). "baseline" = load_evidence + the analyses the ranking reads (seams, structural and logical
coupling, interaction coverage, interface docs with drift) — what an audit computes anyway. "ours" =
rank_seams + root_causes on those cached results. Target: ours < 10 % of the baseline.

    python benchmarks/bench_ranking.py [--quick] [REPO]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import main, parse_argv  # noqa: E402

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


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    if args.repo:
        return [_measure(Path(args.repo), f"ranking on {Path(args.repo).name}")]
    import synthetic_repo
    commits, files = (3000, 600) if args.quick else (20000, 3000)
    path = synthetic_repo.generate(HERE / ".work" / f"synthetic-{commits}-{files}", commits=commits, files=files)
    return [_measure(path, f"ranking+root causes, synthetic {commits} commits / {files} files")]


if __name__ == "__main__":
    main(run)
