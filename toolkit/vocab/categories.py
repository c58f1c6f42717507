"""THE categorical vocabularies the analyses, reports, gates and widgets share: bug categories and seam statuses.

Defined here once; ``toolkit.load.labels``, ``toolkit.analyze.bug_categorization``,
``toolkit.analyze.interaction_coverage``, the comparison with a previous audit, the audit-many index, the
report and the notebooks import them from here.
"""
from __future__ import annotations

from typing import Any

__all__ = ["CATEGORIES", "DECISIONS", "ESTIMATED", "GAP_STATUSES", "IMPORT_ONLY", "SEAM_STATUSES", "STATUS_RANK",
           "UNKNOWN", "base_status"]

#: what a bug is: the defect lives between parts (integration), inside one part (component), in the
#: environment or configuration (environment), or it is no defect (not_a_bug)
CATEGORIES: tuple[str, ...] = ("integration", "component", "environment", "not_a_bug")
#: what the rules say when the evidence is too weak or conflicting to decide; never an analyst label
UNKNOWN = "unknown"
#: every decision the categorization can output
DECISIONS: tuple[str, ...] = (*CATEGORIES, UNKNOWN)

IMPORT_ONLY = "import_only"
#: suffix of a status estimated statically (no per-test coverage)
ESTIMATED = "_estimated"
#: THE seam-status vocabulary, worst first; ``import_only`` (nothing runnable to test) comes last, outside the
#: better/worse scale
SEAM_STATUSES: tuple[str, ...] = ("untested", "mocks_only", "integration", IMPORT_ONLY)
#: statuses that are an integration gap (no test exercises the seam for real)
GAP_STATUSES: tuple[str, ...] = ("untested", "mocks_only")
#: better/worse order of the statuses on the scale (higher is better); a change to or from ``import_only`` is
#: only "changed"
STATUS_RANK: dict[str, int] = {st: i for i, st in enumerate(SEAM_STATUSES) if st != IMPORT_ONLY}


def import_only_words(unresolved_calls: int) -> str:
    """THE words for an ``import_only`` seam (imports, no call site): nothing to test when no call in the importing
    files could be one, else only that no call across it was resolved statically (``unresolved_calls``: the seams
    table's count of unresolved calls naming a function or method the callee defines)."""
    if unresolved_calls > 0:
        return (f"no call across the seam was resolved statically ({unresolved_calls} unresolved call(s) in the importing "
                "files name a function or method the callee defines)")
    return "no call across the seam can run; nothing to integration-test"


def base_status(status: Any) -> str | None:
    """``status`` without the static estimate's suffix, or None when it is not a seam status."""
    if not isinstance(status, str):
        return None
    s = status.removesuffix(ESTIMATED)
    return s if s in SEAM_STATUSES else None
