"""Backtest the seam ranking on real repositories (issue 17, "Truth"): would it have pointed at the seams that broke?

Not part of ``make test``: it needs full-history clones, which this script does not fetch::

    PYTHONPATH=. python benchmarks/backtest_real.py /path/to/clones/* [--months 18] [--k 3]

For each clone: the bugs its own changelog names become an issue export (``real_repos.changelog_export``: the
changelog's words as titles, fixes linked by the product's own rules), a revision ``--months`` before HEAD is
taken on the first-parent line, and ``seamscope backtest REPO --at REV`` runs in a fresh process exactly as a user
would run it. Printed per repository: the later fixes that touched two components (the truth scored), the
precision@k and the top-20% share of our ranking against the churn-only and coupling-only baselines.
"n/a" when no later fix touched two components: nothing to score, not a zero.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from real_repos import changelog_export  # noqa: E402

RANKINGS = ("ours", "churn", "change_coupling")


def revision_before(repo: Path, months: int) -> tuple[str, str]:
    """(sha, date) of the last first-parent commit at least ``months`` before HEAD's commit date."""
    head = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%ct"], capture_output=True, text=True,
                          check=True).stdout.strip()
    before = int(head) - round(months * 30.44 * 86400)
    out = subprocess.run(["git", "-C", str(repo), "log", "-1", "--first-parent", "--format=%H %cs",
                          f"--before={before}"], capture_output=True, text=True, check=True).stdout.split()
    if not out:
        raise SystemExit(f"{repo}: no commit {months} months before HEAD")
    return out[0], out[1]


def backtest_one(repo: Path, months: int, k: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        export = changelog_export(repo, Path(tmp))
        rev, date = revision_before(repo, months)
        row: dict = {"repo": repo.name, "at": f"{rev[:9]} ({date})"}
        if export is None:
            return {**row, "later fixes": "n/a (changelog names no bug)"}
        run = subprocess.run([sys.executable, "-m", "toolkit", "-q", "backtest", str(repo), "--at", rev,
                              "--issues", str(export), "--k", str(k), "--format", "json"],
                             capture_output=True, text=True, cwd=HERE.parent)
        if run.returncode != 0:
            return {**row, "later fixes": f"error: {run.stderr.strip()[-200:]}"}
        result = json.loads(run.stdout)
    fixes = result.get("later_fixes", [])
    pairs = {p for fx in fixes for p in fx.get("pairs", [])}
    row["later fixes"] = f"{len(fixes)} on {len(pairs)} pairs"
    scores = {s["ranking"]: s for s in result.get("scores", [])}
    for metric, label in (("precision_at_k", f"precision@{k}"), ("top20_share", "top-20% share")):
        row[f"{label}: ours / churn / coupling"] = " / ".join(
            "n/a" if not fixes or scores.get(r, {}).get(metric) is None else f"{scores[r][metric]:.2f}"
            for r in RANKINGS)
    row["our top seams"] = scores.get("ours", {}).get("top_seams", "")
    return row


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="+", type=Path)
    ap.add_argument("--months", type=int, default=18, help="how far back the revision is (default 18)")
    ap.add_argument("--k", type=int, default=3)
    args = ap.parse_args(argv)
    rows = [backtest_one(r, args.months, args.k) for r in args.repos]
    cols = list(dict.fromkeys(c for r in rows for c in r))
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
