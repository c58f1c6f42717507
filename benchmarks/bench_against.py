"""Benchmark: this checkout's cold audit against another revision's, on the same inputs, in one run.

A refactor must not cost speed (issue 19: the large synthetic audit no slower than before by more than 10 %)
and must not change findings. This runs the CLI's cold audit (fresh ``SEAMSCOPE_CACHE``, fresh process) of the
big synthetic input set (:mod:`big_inputs`) — and of any real repositories given — once with this checkout's
code and once with ``REV``'s (a temporary ``git worktree``), alternating, best of ``--repeat``, and prints the
ratio (ours / theirs, wall and CPU) and whether findings.json's top seams and headline numbers agree.

    python benchmarks/bench_against.py REV [REPO ...] [--repeat=2] [--tiny]

``REV`` defaults to ``HEAD`` (a smoke run: the ratio is then noise around 1).
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import big_inputs  # noqa: E402
from common import parse_argv  # noqa: E402


def _audit(code: Path, args: list[str], cache: Path, out: Path) -> tuple[float, float, dict]:
    """(wall s, CPU s of the audit and its git children, findings.json) of one cold CLI audit run by ``code``."""
    cmd = [sys.executable, "-m", "toolkit", "--quiet", "audit", *args, "--out", str(out)]
    env = dict(os.environ, SEAMSCOPE_CACHE=str(cache), PYTHONPATH=str(code))
    shutil.rmtree(cache, ignore_errors=True)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode not in (0, 1):
        raise RuntimeError(f"audit by {code} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return wall, (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), doc


def _what_a_reader_sees(doc: dict) -> dict:
    """The top seams and the executive summary's numbers: what must not change in a refactor."""
    summary = dict((doc.get("sections", {}).get("summary") or {}).get("summary") or {})
    ranking = (doc.get("sections", {}).get("seam_ranking") or {}).get("tables", {}).get("seam_ranking") or []
    seams = [r.get("seam") for r in ranking[:10]] if isinstance(ranking, list) else []
    return {"summary": {k: v for k, v in summary.items() if isinstance(v, (int, float, str)) or v is None},
            "top seams": seams}


def run(argv: list[str] | None = None) -> list[dict]:
    args = parse_argv(argv)
    rev = args.repo or "HEAD"
    repos = [a for a in (argv or []) if not a.startswith("--")][1:]
    repeat = next((int(a.split("=", 1)[1]) for a in (argv or []) if a.startswith("--repeat=")), 1 if args.tiny else 2)
    inputs = big_inputs.generate(tiny=args.tiny)
    cases = [("big synthetic", [str(inputs.repo), "--tests", str(inputs.junit), "--coverage", str(inputs.coverage),
                                "--issues", str(inputs.issues)])]
    cases += [(Path(r).name, [r]) for r in repos]
    work = Path(tempfile.mkdtemp(prefix="against-"))
    theirs = work / "theirs"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(theirs), rev], check=True)
    rows = []
    try:
        for name, audit_args in cases:
            best = {"ours": (float("inf"), float("inf"), {}), "theirs": (float("inf"), float("inf"), {})}
            for i in range(repeat):
                for side, code in (("ours", ROOT), ("theirs", theirs)) if i % 2 == 0 else \
                        (("theirs", theirs), ("ours", ROOT)):
                    got = _audit(code, audit_args, work / f"cache-{side}", work / f"out-{side}")
                    if got[0] < best[side][0]:
                        best[side] = got
            (ow, oc, od), (tw, tc, td) = best["ours"], best["theirs"]
            mine, before = _what_a_reader_sees(od), _what_a_reader_sees(td)
            common = set(mine["summary"]) & set(before["summary"])  # a new metric is not a change of one
            same = mine["top seams"] == before["top seams"] and all(
                mine["summary"][k] == before["summary"][k] for k in common)
            print(f"{name}: ours {ow:.2f} s wall / {oc:.2f} s cpu; {rev} {tw:.2f} s / {tc:.2f} s; "
                  f"ratio wall x{ow / tw:.3f}, cpu x{oc / tc:.3f}; top seams and summary numbers "
                  f"{'the same' if same else 'DIFFER'}", flush=True)
            rows.append({"name": f"cold audit, {name}", "ours_s": ow, "baseline": f"the same at {rev}",
                         "baseline_s": tw, "ratio": ow / tw, "cpu_ratio": oc / tc, "same_findings": same})
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(theirs)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
