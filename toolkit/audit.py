"""The audit: load evidence once, run every detection method, assemble one Report.

``run_audit`` is what ``seamscope audit``, ``make demo`` and the synthesis
notebook call. Each method contributes a ``Section`` (toolkit.report.sections);
a method whose inputs are missing contributes a section that says why.
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

from toolkit import __version__
from toolkit.config import AuditConfig
from toolkit.errors import GateFailed, InputError
from toolkit.evidence import Evidence, load_evidence
from toolkit.findings import Findings
from toolkit.report import sections as S
from toolkit.report.model import Report, Section

#: detection methods and root-cause sections, in report order; ``--only`` picks from these keys
METHODS: dict[str, Any] = {
    "interaction_coverage": S.interaction_section,
    "bug_categorization": S.bug_categorization_section,
    "interface_documentation": S.interface_section,
    "cross_component_bugs": S.cross_bugs_section,
    "environments": S.environment_section,
    "coupling": S.coupling_section,
    "tests": S.tests_section,
    "issues": S.issues_section,
}


def provenance(ev: Evidence) -> dict[str, Any]:
    """What was read, skipped and why, versions, commit range — for the report's methods section."""
    c = ev.config
    commits = ev.history.commits
    prov: dict[str, Any] = {
        "seamscope": __version__,
        "python": platform.python_version(),
        "repository": str(c.repo),
        "revision": ev.structure.commit,
        "commit range": (f"{commits['timestamp'].min():%Y-%m-%d} .. {commits['timestamp'].max():%Y-%m-%d}"
                         f" ({len(commits)} commits)") if len(commits) else "no commits",
        "inputs": {
            "test results": [str(p) for p in c.tests],
            "coverage": str(c.coverage) if c.coverage else None,
            "issues": [str(p) for p in c.issues],
            "labels": str(c.labels) if c.labels else None,
        },
        "missing": dict(ev.missing),
        "skipped": [str(s) for s in ev.skips],
        "stage timings (s)": {k: round(v, 2) for k, v in ev.timings.items()},
    }
    return prov


def run_audit(config: AuditConfig, *, only: list[str] | None = None, compare: Path | None = None,
              verbose: bool = False) -> tuple[Report, Evidence]:
    """Audit ``config``'s inputs; return the report (not yet written) and the evidence it used."""
    unknown = sorted(set(only or []) - set(METHODS))
    if unknown:
        raise InputError(None, f"unknown method(s) {unknown}", flag="--only", hint=f"choose from {sorted(METHODS)}")
    ev = load_evidence(config)
    f = Findings(ev)
    sections: list[Section] = []
    for key, make in METHODS.items():
        if only and key not in only:
            continue
        t0 = time.perf_counter()
        sections.append(make(f))
        ev.timings[f"analysis: {key}"] = time.perf_counter() - t0
    summary = S.summary_section(f, sections)
    report = Report(title=f"Integration-testing audit — {config.name or Path(config.repo).name}",
                    sections=[summary, *sections], provenance=provenance(ev))
    if compare is not None:
        report.sections.append(S.compare_section(report, _read_findings(compare)))
    return report, ev


def _read_findings(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(path, "does not exist", flag="--compare") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not a findings.json: {exc}", flag="--compare") from exc


def check_gates(report: Report, *, fail_under: list[str], fail_on: list[str]) -> None:
    """Raise GateFailed when a ``metric=value`` floor or a ``condition`` is violated."""
    summary = report.sections[0].summary
    failures = []
    for spec in fail_under:
        metric, _, value = spec.partition("=")
        key = metric.strip().replace("-", "_")
        if key not in summary:
            raise InputError(None, f"unknown gate metric {metric!r}", flag="--fail-under",
                             hint=f"known: {sorted(k.replace('_', '-') for k, v in summary.items() if isinstance(v, (int, float)))}")
        try:
            floor = float(value)
        except ValueError as exc:
            raise InputError(None, f"gate {spec!r} needs a number after '='", flag="--fail-under") from exc
        if summary[key] is None or summary[key] < floor:
            failures.append(f"{metric} is {summary[key]} < {floor}")
    conditions = {s.id: s for s in report.sections}.get("compare")
    for cond in fail_on:
        key = cond.strip()
        if key == "new-untested-seam":
            new = (conditions.summary.get("new_untested_seams") if conditions else None) or []
            if new:
                failures.append(f"new untested seam(s): {', '.join(new)}")
        else:
            raise InputError(None, f"unknown gate condition {cond!r}", flag="--fail-on", hint="known: new-untested-seam")
    if failures:
        raise GateFailed("; ".join(failures))
