"""What got better or worse since a previous audit (``seamscope audit --compare PREVIOUS/findings.json``).

Two comparisons of numbers the audits already hold, as data (:class:`Comparison`; the Audit's ``since_previous``
is its summary): **metric deltas** of every numeric metric present in both audits, *better* or *worse* by
:data:`DIRECTION`; and **seam status changes** of the interaction-coverage ``seams`` table, matched by seam name
(``integration`` > ``mocks_only`` > ``untested``, the ``_estimated`` suffix ignored, changes to or from
``import_only`` only *changed*). A seam untested now and not before (or new) is *new untested*: what
``--fail-on new-untested-seam`` gates on.
"""
from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass
from typing import Any, TypeGuard

import pandas as pd

from toolkit.vocab.categories import STATUS_RANK, base_status
from toolkit.vocab.metrics import METRICS
from toolkit.core.audit_result import Audit
from toolkit.errors import InputError
from toolkit.load.limits import LimitExceeded, check_input_file, load_json

__all__ = ["Comparison", "DIRECTION", "STATUS_RANK", "compare", "metric_deltas", "read_findings", "seam_changes"]

#: summary key -> +1 higher is better, -1 lower is better (toolkit.vocab.metrics); others get no verdict
DIRECTION: dict[str, int] = {m.key: m.direction for m in METRICS.values() if m.direction}
DELTA_COLUMNS = ["metric", "previous", "now", "delta", "change"]
SEAM_COLUMNS = ["seam", "previous_status", "status", "change"]


def read_findings(path: Path, flag: str = "--compare") -> dict[str, Any]:
    """Read a previous ``findings.json``; an unusable file is an InputError naming it and ``flag``."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            check_input_file(path, flag=flag)
        doc = load_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(path, "does not exist", flag=flag, hint="give the findings.json of a previous audit") from exc
    except IsADirectoryError as exc:
        raise InputError(path, "is a directory", flag=flag, hint=f"give {path / 'findings.json'}") from exc
    except PermissionError as exc:
        raise InputError(path, "cannot be read (permission denied)", flag=flag) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not a findings.json: {exc}", flag=flag) from exc
    except LimitExceeded as exc:
        raise InputError(path, f"is not a findings.json: it {exc.reason}", flag=flag) from None
    except OSError as exc:  # a device, FIFO or other file that cannot be read as one
        raise InputError(path, f"cannot be read ({exc.strerror or exc})", flag=flag) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sections"), dict):
        raise InputError(path, "is not a findings.json: no 'sections' object", flag=flag,
                         hint="give the findings.json that `seamscope audit` wrote")
    return doc


def _previous_seams(previous: dict) -> dict[str, str | None] | None:
    sec = previous.get("sections", {}).get("interaction_coverage")
    if not isinstance(sec, dict) or not isinstance((sec.get("tables") or {}).get("seams"), list):
        return None
    return {str(r["seam"]): base_status(r.get("status")) for r in sec["tables"]["seams"]
            if isinstance(r, dict) and r.get("seam") is not None}


def _is_num(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v  # NaN is not a number here


def metric_deltas(current: dict[str, Any], previous: dict[str, Any]) -> pd.DataFrame:
    """One row per numeric headline present in both summaries: previous, now, delta, better/worse/unchanged."""
    rows = []
    for k, v in current.items():
        p = previous.get(k)
        if not (_is_num(v) and _is_num(p)):
            continue
        delta = round(float(v) - float(p), 6)
        change = ("unchanged" if delta == 0 else "changed" if k not in DIRECTION
                  else "better" if delta * DIRECTION[k] > 0 else "worse")
        rows.append({"metric": k, "previous": float(p), "now": float(v), "delta": delta, "change": change})
    return pd.DataFrame(rows, columns=DELTA_COLUMNS)


def seam_changes(current: dict[str, str | None], previous: dict[str, str | None]) -> pd.DataFrame:
    """Seams whose status changed, appeared or disappeared (unchanged seams are left out)."""
    rows = []
    for seam in sorted(set(current) | set(previous)):
        now, before = current.get(seam), previous.get(seam)
        if seam not in previous:
            change = "new seam"
        elif seam not in current:
            change = "removed seam"
        elif now == before or now is None or before is None:
            continue
        elif now not in STATUS_RANK or before not in STATUS_RANK:
            change = "changed"
        else:
            change = "better" if STATUS_RANK[now] > STATUS_RANK[before] else "worse"
        rows.append({"seam": seam, "previous_status": before if seam in previous else None,
                     "status": now if seam in current else None, "change": change})
    return pd.DataFrame(rows, columns=SEAM_COLUMNS)


@dataclass(frozen=True)
class Comparison:
    """What changed since a previous audit: ``summary`` (the Audit's ``since_previous``), the ``deltas`` table
    (:func:`metric_deltas`) and the ``changes`` table (:func:`seam_changes`), or None with ``no_seams`` saying
    which audit has no interaction-coverage seams table."""

    summary: dict[str, Any]
    deltas: pd.DataFrame
    changes: pd.DataFrame | None
    no_seams: str | None = None


def compare(audit: Audit, seams: pd.DataFrame | None, previous: dict[str, Any]) -> Comparison:
    """``audit`` (its metrics; ``seams``: its interaction-coverage seams table, None when that did not run)
    against ``previous`` (a findings.json).

    Summary keys: ``previous_generated``, ``metrics_better``/``metrics_worse`` (counts), ``new_untested_seams``,
    ``new_mocks_only_seams``, ``newly_covered_seams``, ``new_seams``, ``removed_seams`` (sorted lists of
    seam names; ``None`` when either audit lacks the interaction-coverage seams table).
    """
    # the previous metrics: its ``metrics`` (schema 2), else each read from its own section (schema 1)
    deltas = metric_deltas(audit.by_key(), Audit.from_findings(previous).by_key())
    summary: dict[str, Any] = {
        "previous_generated": previous.get("generated"),
        "metrics_better": int((deltas["change"] == "better").sum()),
        "metrics_worse": int((deltas["change"] == "worse").sum()),
    }
    cur = None if seams is None else {str(s): base_status(st) for s, st in zip(seams["seam"], seams["status"])}
    prev = _previous_seams(previous)
    if cur is None or prev is None:
        summary.update(dict.fromkeys(("new_untested_seams", "new_mocks_only_seams", "newly_covered_seams",
                                      "new_seams", "removed_seams")))
        return Comparison(summary, deltas, None, "this audit" if cur is None else "the previous audit")
    changes = seam_changes(cur, prev)

    def names(mask) -> list[str]:
        return sorted(changes.loc[mask, "seam"].tolist())

    was = changes["previous_status"]
    summary.update({
        "new_untested_seams": names((changes["status"] == "untested") & (was != "untested")),
        "new_mocks_only_seams": names((changes["status"] == "mocks_only") & (was.isna() | (was == "integration"))),
        "newly_covered_seams": names((changes["status"] == "integration") & (was != "integration")),
        "new_seams": names(changes["change"] == "new seam"),
        "removed_seams": names(changes["change"] == "removed seam"),
    })
    return Comparison(summary, deltas, changes)
