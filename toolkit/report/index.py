"""The index across repositories of ``seamscope audit-many``: headline numbers per repository and the worst seams
across them, rendered from the results of toolkit.run.many.audit_one (data in, a Report out) and written as
``index.html``, ``index.md`` and ``index.json`` beside the repositories' own reports."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.run.many import STATUS_ORDER, TOP_SEAMS
from toolkit.vocab.metrics import INDEX_HEADLINES, METRICS
from toolkit.report.model import Report, Section, Table

__all__ = ["HEADLINES", "index_report", "write_index"]

#: headline numbers copied from each repository's audit into the index, as summary keys
#: (toolkit.vocab.metrics.INDEX_HEADLINES)
HEADLINES = tuple(METRICS[m].key for m in INDEX_HEADLINES)


def _total(values) -> int | None:
    """The sum of the measured values (None = not measured); None when none was measured."""
    got = [int(v) for v in values if v is not None]
    return sum(got) if got else None


def index_report(results: list[dict[str, Any]]) -> Report:
    """The cross-repository index: headline numbers per repository and the worst seams across all of them."""
    rows = []
    for r in results:
        worst = ", ".join(f"{s['seam']} ({s['status']})" for s in r["top_seams"][:3])
        rows.append({"repository": r["name"], "status": "failed" if r["error"] else "ok",
                     **{k: r["summary"].get(k) for k in HEADLINES}, "worst_seams": worst,
                     "report": r["report"], "error": r["error"], "path": r["repo"]})
    repos = pd.DataFrame(rows, columns=["repository", "status", *HEADLINES, "worst_seams", "report", "error", "path"])
    repos = repos.sort_values(["status", "interaction_coverage", "interaction_coverage_estimated", "repository"],
                              ascending=[False, True, True, True],
                              na_position="first", kind="stable").reset_index(drop=True)
    seams = pd.DataFrame([{"repository": r["name"], **s} for r in results for s in r["top_seams"]],
                         columns=["repository", "seam", "status", "call_sites", "uncovered_call_sites",
                                  "pct_integration"])
    if len(seams):
        seams = seams.assign(_rank=seams["status"].map(STATUS_ORDER).fillna(3)).sort_values(
            ["_rank", "uncovered_call_sites", "repository", "seam"], ascending=[True, False, True, True]
        ).drop(columns="_rank").reset_index(drop=True)
    ok = [r for r in results if not r["error"]]
    cov = [r["summary"]["interaction_coverage"] for r in ok if r["summary"].get("interaction_coverage") is not None]
    failed = [r for r in results if r["error"]]
    sections = [
        Section(id="repositories", title="Repositories, least integration-covered first",
                summary={"repositories": len(results), "audited": len(ok), "failed": len(failed),
                         "median_interaction_coverage": round(float(pd.Series(cov).median()), 1) if cov else None,
                         # over the repositories that measured them; n/a (None) when none could
                         **{k: _total(r["summary"].get(k) for r in ok)
                            for k in ("untested_seams", "seams_only_mocked")}},
                paragraphs=["Each repository's own report is in <name>/report.html next to this index. "
                            "interaction_coverage: share of seams with at least one call site exercised by a test "
                            "with both components real."],
                tables=[Table("repositories", repos, "Headline numbers per repository")]),
        Section(id="worst_seams", title="Worst seams across repositories",
                paragraphs=[f"Up to {TOP_SEAMS} seams per repository that no test runs (untested) or that tests "
                            "run only with the callee mocked (mocks_only), most uncovered call sites first."],
                tables=[Table("worst_seams", seams, "Seams least covered by integration tests, all repositories")]),
    ]
    if failed:
        sections.append(Section(id="failures", title="Repositories that could not be audited",
                                summary={"failed": len(failed)},
                                tables=[Table("failures", pd.DataFrame(
                                    [{"repository": r["name"], "path": r["repo"], "error": r["error"]}
                                     for r in failed], columns=["repository", "path", "error"]),
                                    "The error each one raised")]))
    prov = {"repositories": [{"name": r["name"], "path": r["repo"], "seconds": r["seconds"],
                              "skipped_inputs": r["skipped_inputs"]} for r in results]}
    return Report(title=f"Integration-testing audit of {len(results)} repositories", sections=sections,
                  provenance=prov)


def write_index(report: Report, out: Path) -> dict[str, Path]:
    """Write the index as ``out/index.html``, ``index.md``, ``index.json`` (+ ``out/tables/*.csv``)."""
    from toolkit.report.writer import write_report

    # published like any report: the whole folder (the repositories' reports carried over) old or new
    paths = write_report(report, out, formats=("html", "md", "json", "csv"),
                         entry_names={"json": "index.json", "md": "index.md", "html": "index.html"})
    return {kind: paths[kind] for kind in ("json", "md", "html")}

