"""``report.sarif``: untested and mocks-only cross-component call sites as SARIF 2.1.0 results.

Code scanning (GitHub's ``upload-sarif``, GitLab, IDE viewers) then shows each gap on the line of the diff
where the call is. One result per call site of the interaction-coverage ``call_sites`` table whose status has
a rule in :data:`RULES`. Level: ``warning`` when the status was measured (per-test coverage), ``note`` on the
static estimate (``_estimated``: the status is the seam's, not the line's). Locations are relative to the
audited repository (``%SRCROOT%``); ``partialFingerprints`` ignore the line, so a call that moves keeps its
alert. Renders only what the report holds; computes nothing.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from typing import Any
from urllib.parse import quote

import pandas as pd

from toolkit import __version__
from toolkit.report.model import Report

__all__ = ["RULES", "SARIF_SCHEMA_URI", "MAX_RESULTS", "render_sarif", "sarif_log"]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
#: code scanning keeps at most 25,000 results per run and shows 5,000; beyond this the log says how many were left
MAX_RESULTS = 5_000

#: call-site status -> (rule id, short description, full description, what to do)
RULES: dict[str, tuple[str, str, str, str]] = {
    "untested": (
        "seamscope/untested-call-site",
        "Cross-component call that no test executes",
        "This call crosses from one component into another, and no test in the recorded runs executes it: "
        "a change on either side can break the interaction with every test green.",
        "Add an integration test that runs this call with both components real."),
    "isolation_only": (
        "seamscope/mocks-only-call-site",
        "Cross-component call tested only with its callee mocked",
        "Tests reach this call only with the callee replaced by a mock, so they pass whatever the real callee "
        "does: the two components can disagree (arguments, return values, errors) unnoticed.",
        "Add an integration test that runs this call against the real callee (or a contract test)."),
}
_ESTIMATED = "_estimated"


def _ranks(report: Report) -> dict[str, int]:
    t = report.table("seam_ranking", "seam_ranking")
    if t is None or "seam" not in t.columns:
        return {}
    t = t[t["level"] == "component"] if "level" in t.columns else t
    return {str(s): int(r) for s, r in zip(t["seam"], t["rank"]) if not pd.isna(r)}


def _uri(path: Any) -> str | None:
    """A relative URI for a repository path, or None for one that is not a plain relative path."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path \
            or any(p in ("", ".", "..") for p in path.split("/")):
        return None
    return quote(path, safe="/")


def _tests(v: Any) -> list[str]:
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return [v]
    return [str(x) for x in v] if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else []


def _rule(status: str, index: int, level: str) -> dict[str, Any]:
    rid, short, full, todo = RULES[status]
    return {
        "id": rid, "name": "".join(w.capitalize() for w in rid.split("/")[1].split("-")),
        "shortDescription": {"text": short}, "fullDescription": {"text": full},
        "help": {"text": f"{full} {todo}", "markdown": f"{full}\n\n**What to do:** {todo}"},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["integration-testing", "seam"], "precision": "medium"},
    }


def sarif_log(report: Report, *, max_results: int = MAX_RESULTS) -> dict[str, Any]:
    """The SARIF 2.1.0 log of ``report`` as a dict (module docstring); no results without a call-site table."""
    sites = report.table("interaction_coverage", "call_sites")
    ranks = _ranks(report)
    results: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    seen: Counter[str] = Counter()  # the same call site twice (two calls on one line) gets distinct fingerprints
    skipped = 0
    estimated = False
    if sites is not None and len(sites):
        for row in sites.to_dict("records"):
            raw = str(row.get("status") or "")
            status = raw.removesuffix(_ESTIMATED)
            if status not in RULES:
                continue
            estimated = estimated or raw.endswith(_ESTIMATED)
            uri = _uri(row.get("path"))
            if uri is None:
                skipped += 1
                continue
            level = "note" if raw.endswith(_ESTIMATED) else "warning"
            used.setdefault(status, len(used))
            seam = str(row.get("seam") or "")
            caller, callee = str(row.get("caller") or "?"), str(row.get("callee") or "?")
            mocking = _tests(row.get("tests_mocked"))
            if status == "untested":
                why = "no test executes it"
            else:
                why = (f"only tests that mock the callee reach it ({len(mocking)}: {', '.join(mocking[:3])}"
                       f"{f' and {len(mocking) - 3} more' if len(mocking) > 3 else ''})" if mocking
                       else "tests reach it only with the callee mocked")
            rank = ranks.get(seam)
            text = (f"{caller} calls {callee} across the seam {seam}"
                    f"{f' (rank {rank} of the risky seams)' if rank else ''}; {why}"
                    f"{' (static estimate, no coverage data)' if level == 'note' else ''}. {RULES[status][3]}")
            fp = hashlib.sha256("\x00".join((str(row.get("path")), caller, callee, str(row.get("kind"))))
                                .encode()).hexdigest()[:32]
            seen[fp] += 1
            location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": uri,
                                                                                  "uriBaseId": "%SRCROOT%"}}}
            line = row.get("line")
            if isinstance(line, (int, float)) and not (isinstance(line, float) and math.isnan(line)) and line >= 1:
                location["physicalLocation"]["region"] = {"startLine": int(line)}
            location["logicalLocations"] = [{"fullyQualifiedName": caller, "kind": "function"}]
            results.append({
                "ruleId": RULES[status][0], "ruleIndex": used[status], "level": level,
                "message": {"text": text},
                "locations": [location],
                "partialFingerprints": {"seamscopeCallSite/v1": f"{fp}:{seen[fp]}" if seen[fp] > 1 else fp},
                "properties": {"seam": seam, **({"seamRank": rank} if rank is not None else {}), "callee": callee,
                               "calleeComponent": str(row.get("callee_component") or ""),
                               "testsMocking": mocking[:20],
                               "basis": "static" if level == "note" else "coverage"},
            })
    rules = [_rule(st, i, "note" if estimated else "warning") for st, i in used.items()]
    results.sort(key=lambda r: (r["properties"].get("seamRank") or 10**9, r["ruleIndex"],
                                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                                r["locations"][0]["physicalLocation"].get("region", {}).get("startLine", 0)))
    prov = report.provenance or {}
    props: dict[str, Any] = {"resultsOmitted": max(0, len(results) - max_results), "pathsNotRelative": skipped}
    if prov.get("revision"):
        props["revision"] = str(prov["revision"])
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "seamscope", "version": str(__version__), "semanticVersion": str(__version__),
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the root of the audited repository"}}},
            "results": results[:max_results],
            "columnKind": "unicodeCodePoints",
            "properties": props,
        }],
    }


def render_sarif(report: Report, *, max_results: int = MAX_RESULTS) -> str:
    """:func:`sarif_log` as JSON text."""
    return json.dumps(sarif_log(report, max_results=max_results), indent=1, ensure_ascii=False) + "\n"
