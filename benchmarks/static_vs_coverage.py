"""How far the static interaction estimate can be trusted: its seam statuses against per-test coverage.

Without per-test coverage the audit estimates which seams tests exercise from the test sources
(:mod:`toolkit.analyze.interaction_coverage`, basis ``static``). This compares that estimate, seam by seam, with the
status measured from a per-test coverage file of the same checkout, on real repositories. The coverage file is
recorded by whoever runs the benchmark, in an environment where the project's tests run (seamscope never runs an
audited project's code)::

    cd CLONE && pytest --cov=PACKAGE --cov-context=test --cov-report=   # writes CLONE/.coverage
    PYTHONPATH=. python benchmarks/static_vs_coverage.py CLONE=COVERAGE_FILE [CLONE=COVERAGE_FILE ...]

Printed per repository: seams with a call site, how many of them the estimate and the measurement call
``integration`` / ``mocks_only`` / ``untested``, the share of seams where they agree, and for the estimate's
``untested`` seams how many are untested when measured (the precision of the gaps it reports) and how many of
the measured gaps it found (recall).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.config import AuditConfig  # noqa: E402
from toolkit.core.evidence import load_evidence  # noqa: E402
from toolkit.core.findings import Findings  # noqa: E402
from toolkit.vocab.categories import base_status  # noqa: E402


def statuses(repo: Path, coverage: Path | None) -> pd.Series:
    """Seam -> status (suffix dropped) of the seams with a call site, as the audit computes them."""
    seams = Findings(load_evidence(AuditConfig(repo=repo, coverage=coverage))).interaction.seams
    seams = seams[seams["call_sites"] > 0]
    return pd.Series([base_status(s) for s in seams["status"]], index=seams["seam"], dtype="string")


def compare(repo: Path, coverage: Path) -> dict:
    est, meas = statuses(repo, None), statuses(repo, coverage)
    both = pd.DataFrame({"estimate": est, "measured": meas.reindex(est.index)}).dropna()
    gaps, truth_gaps = both["estimate"] == "untested", both["measured"] == "untested"
    return {"repo": repo.name, "seams": len(both),
            **{f"estimate {s}": int((both["estimate"] == s).sum()) for s in ("integration", "mocks_only", "untested")},
            **{f"measured {s}": int((both["measured"] == s).sum()) for s in ("integration", "mocks_only", "untested")},
            "agree": f"{(both['estimate'] == both['measured']).mean():.0%}",
            "gaps right": f"{(gaps & truth_gaps).sum()}/{gaps.sum()}",
            "gaps found": f"{(gaps & truth_gaps).sum()}/{truth_gaps.sum()}"}


def main(argv: list[str]) -> int:
    if not argv or any("=" not in a for a in argv):
        print(__doc__)
        return 2
    rows = [compare(Path(a.partition("=")[0]), Path(a.partition("=")[2])) for a in argv]
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
