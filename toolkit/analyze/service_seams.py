"""Service-level seams: which services talk, whether their contracts agree, and whether tests exercise them.

The code-level method (:mod:`toolkit.analyze.interaction_coverage`) asks whether a test ran both sides of a
call between components. Across a network the same question is answered by traces: a span recorded during
an integration-test run whose parent is in another service proves the test exercised that service seam
for real.

Definitions (THE definitions for service seams)
    service seam
        ``caller->callee`` (:func:`toolkit.vocab.components.seam_name`, the same names as code seams) with
        ``level="service"``: a static HTTP call in the caller resolved to the callee
        (:mod:`toolkit.load.services`), a topic the caller publishes and the callee subscribes to, or a
        cross-service parent/child span pair in traces (:mod:`toolkit.load.traces`).
    exercised by tests
        some trace edge on the seam was recorded in a *test environment* (default: ``dev``, ``isolated``,
        ``test``, ``integrated`` — runs of the test suite); ``production_only``: observed in ``production``
        traces and never in a test environment.
    coverage
        ``pct_static_service_seams_exercised`` = static seams exercised by tests / static seams × 100;
        ``pct_production_service_seams_exercised`` = production-observed seams exercised by tests /
        production-observed seams × 100. ``None`` when no test (resp. production) traces were given. The same
        per interaction — one endpoint (seam, method, path template) or one topic — in ``interactions`` and
        ``pct_static_service_interactions_exercised`` / ``pct_production_service_interactions_exercised``.
    contract review (``contract_findings``)
        ``undocumented_call``: a call to a provider that has a spec, on a method+path the spec does not list;
        ``unrouted_call``: a call to a provider without a spec whose routes (found in code) do not include it;
        ``unused_endpoint``: a spec endpoint no static call, Pact interaction or trace uses;
        ``pact_path`` / ``pact_method``: a Pact request the provider's spec (else routes) has no path / no
        such method for; ``pact_required_field``: the spec requires a request field the Pact request omits;
        ``pact_missing_response_field``: a response field the consumer reads that the spec no longer
        returns; ``pact_unknown_provider``: nothing describes the provider. Paths are compared with
        parameter names erased (:func:`toolkit.load.services.path_key`). ``contract_drift`` on a seam counts
        its findings except ``unused_endpoint``.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import seam_name, split_seam
from toolkit.load.services import path_key

__all__ = ["ServiceSeams", "service_seams", "review_contracts", "message_seams", "service_seam_table",
           "TEST_ENVIRONMENTS", "PRODUCTION_ENVIRONMENTS"]

TEST_ENVIRONMENTS = ("dev", "isolated", "test", "integrated")
PRODUCTION_ENVIRONMENTS = ("production",)
RANKING_COLUMNS = ["seam", "caller_component", "callee_component", "level", "call_sites", "exercised_by_tests",
                   "contract_drift", "production_only"]


@dataclass(frozen=True)
class ServiceSeams:
    """``seams`` (schema ``service_seams``), ``contract_findings`` (``contract_findings``), ``messages``
    (publisher->subscriber pairs per topic), ``trace_edges`` (``trace_edges`` or ``None``), ``summary``,
    ``interactions`` (schema ``service_interactions``: the same coverage per endpoint/topic)."""

    seams: pd.DataFrame
    contract_findings: pd.DataFrame
    messages: pd.DataFrame
    trace_edges: pd.DataFrame | None
    summary: dict[str, Any] = field(default_factory=dict)
    interactions: pd.DataFrame | None = None


def message_seams(messages: pd.DataFrame) -> pd.DataFrame:
    """Publisher -> subscriber pairs of services sharing a topic: columns seam, caller_service,
    callee_service, topic, broker, publish_sites."""
    cols = ["seam", "caller_service", "callee_service", "topic", "broker", "publish_sites"]
    m = messages.dropna(subset=["topic"])
    pub = m[m["direction"] == "publish"].groupby(["service", "topic", "broker"]).size().rename("publish_sites").reset_index()
    sub = m[m["direction"] == "subscribe"][["service", "topic"]].drop_duplicates()
    j = pub.merge(sub, on="topic", suffixes=("", "_sub"))
    j = j[j["service"] != j["service_sub"]]
    if j.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "publish_sites" else "string") for c in cols})
    out = pd.DataFrame({"caller_service": j["service"], "callee_service": j["service_sub"], "topic": j["topic"],
                        "broker": j["broker"], "publish_sites": j["publish_sites"].astype("int64")})
    out.insert(0, "seam", [seam_name(a, b) for a, b in zip(out["caller_service"], out["callee_service"])])
    return out.astype({c: "string" for c in cols if c != "publish_sites"}).sort_values(["seam", "topic"]).reset_index(drop=True)


def _finding(kind: str, consumer: Any, provider: Any, method: Any, path: Any, fld: Any, detail: str,
             source: str | None) -> dict:
    return {"finding": kind, "seam": seam_name(consumer, provider) if consumer and provider else None,
            "consumer": consumer, "provider": provider, "method": method, "path_template": path, "field": fld,
            "detail": detail, "source": source}


def _segments_match(template_key: str, path: str) -> bool:
    a, b = template_key.split("/"), path_key(path).split("/")
    return len(a) == len(b) and all(x == y or x == "{}" or y == "{}" for x, y in zip(a, b))


def _find(keys: dict[str, set[str]] | None, path: str) -> str | None:
    """The key of ``keys`` (path keys of one provider) that ``path`` — a template or a concrete path — names."""
    if not keys:
        return None
    k = path_key(path)
    if k in keys:
        return k
    hits = [t for t in keys if _segments_match(t, path)]
    # the most literal template wins (/stock/levels before /stock/{sku})
    return min(hits, key=lambda t: (t.count("{}"), t)) if hits else None


def _methods(keys: dict[str, set[str]], path: str) -> set[str] | None:
    """The methods one provider's path keys allow on ``path`` (:func:`_find`), None when no key matches it."""
    k = _find(keys, path)
    return keys[k] if k else None


def review_contracts(calls: pd.DataFrame, endpoints: pd.DataFrame, contracts: Any = None,
                     trace_edges: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare code (calls, routes), specs and Pacts (schema ``contract_findings``; definitions above).

    ``contracts``: :class:`toolkit.load.contracts.Contracts` or ``None`` (then only calls vs routes).
    """
    spec = contracts.endpoints if contracts is not None else schema.empty("contract_endpoints")
    pacts = contracts.pacts if contracts is not None else schema.empty("pact_interactions")
    rows: list[dict] = []
    spec_keys: dict[str, dict[str, set[str]]] = {}  # service -> path key -> methods
    spec_rows: dict[tuple[str, str, str], Any] = {}
    spec_path: dict[str, str] = {}
    for r in spec.itertuples(index=False):
        k = path_key(r.path_template)
        spec_path[k] = r.path_template
        spec_keys.setdefault(r.service, {}).setdefault(k, set()).add(r.method)
        spec_rows[(r.service, r.method, k)] = r
    route_keys: dict[str, dict[str, set[str]]] = {}
    for r in endpoints.itertuples(index=False):
        route_keys.setdefault(r.service, {}).setdefault(path_key(r.path_template), set()).add(r.method)

    def allows(methods: set[str], method: Any) -> bool:
        return method is None or pd.isna(method) or "ANY" in methods or method in methods

    used: set[tuple[str, str, str]] = set()
    for r in calls.dropna(subset=["callee_service"]).itertuples(index=False):
        method = None if pd.isna(r.method) else r.method
        where: str | None = f"{r.path}:{r.line}"
        k = _find(spec_keys.get(r.callee_service), r.path_template) or path_key(r.path_template)
        for m in ([method] if method else ["GET", "POST", "PUT", "PATCH", "DELETE"]):
            used.add((r.callee_service, m, k))
        documented = r.callee_service in spec_keys
        if documented or r.callee_service in route_keys:
            methods = _methods((spec_keys if documented else route_keys)[r.callee_service], r.path_template)
            if methods is None or not allows(methods, method):
                rows.append(_finding(
                    "undocumented_call" if documented else "unrouted_call", r.caller_service, r.callee_service,
                    method, r.path_template, None,
                    f"{r.callee_service}'s spec documents no {method or 'request'} {r.path_template}" if documented
                    else f"{r.callee_service} declares no route {method or ''} {r.path_template}".strip(), where))
    for r in pacts.itertuples(index=False):
        used.add((r.provider, r.method, _find(spec_keys.get(r.provider), r.path_template) or ""))
    if trace_edges is not None:
        for r in trace_edges[trace_edges["kind"] == "http"].itertuples(index=False):
            if pd.notna(r.route) and pd.notna(r.method):
                used.add((r.callee_service, r.method, _find(spec_keys.get(r.callee_service), r.route) or ""))
    for (svc, method, k), r in sorted(spec_rows.items()):
        if (svc, method, k) not in used:
            rows.append(_finding("unused_endpoint", None, svc, method, r.path_template, None,
                                 "no call in the code, Pact interaction or traced request uses it", r.source))

    for r in pacts.itertuples(index=False):
        provider, consumer = r.provider, r.consumer
        where = r.source
        if provider in spec_keys:
            found = _find(spec_keys[provider], r.path_template)
            if found is None:
                rows.append(_finding("pact_path", consumer, provider, r.method, r.path_template, None,
                                     f"{provider}'s spec has no path {r.path_template} (pact: {r.description})", where))
                continue
            k = found
            methods = spec_keys[provider][k]
            tpl = spec_path[k]
            if r.method not in methods:
                rows.append(_finding("pact_method", consumer, provider, r.method, tpl, None,
                                     f"{provider}'s spec allows {', '.join(sorted(methods))} on {r.path_template}, "
                                     f"the pact uses {r.method}", where))
                continue
            ep = spec_rows[(provider, r.method, k)]
            sent = set(r.request_fields or [])
            for f in ep.required_request_fields or []:
                if not f.startswith("?") and f not in sent:
                    rows.append(_finding("pact_required_field", consumer, provider, r.method, tpl, f,
                                         f"the spec requires request field {f!r}; the pact request does not send it",
                                         where))
            returned = set(ep.response_fields or [])
            if returned:
                for f in r.response_fields or []:
                    if f not in returned:
                        rows.append(_finding("pact_missing_response_field", consumer, provider, r.method, tpl, f, f"{consumer} reads {f!r}; {provider}'s spec no longer "
                                                                 f"returns it", where))
        elif provider in route_keys:
            methods = _methods(route_keys[provider], r.path_template)
            if methods is None:
                rows.append(_finding("pact_path", consumer, provider, r.method, r.path_template, None,
                                     f"{provider} declares no route {r.path_template}", where))
            elif not allows(methods, r.method):
                rows.append(_finding("pact_method", consumer, provider, r.method, r.path_template, None,
                                     f"{provider} routes {', '.join(sorted(methods))} on {r.path_template}, "
                                     f"the pact uses {r.method}", where))
        else:
            rows.append(_finding("pact_unknown_provider", consumer, provider, r.method, r.path_template, None,
                                 f"no spec or route describes provider {provider!r}", where))
    df = pd.DataFrame(rows, columns=schema.columns("contract_findings"))
    return schema.conform(df, "contract_findings")


def service_seams(scan: Any, contracts: Any = None, traces: Any = None, *,
                  test_environments: Iterable[str] = TEST_ENVIRONMENTS,
                  production_environments: Iterable[str] = PRODUCTION_ENVIRONMENTS) -> ServiceSeams:
    """Service seams from code, traces and contracts, with their test coverage (definitions above).

    ``scan``: :class:`toolkit.load.services.ServiceScan`; ``contracts``:
    :class:`toolkit.load.contracts.Contracts` or ``None``; ``traces``: :class:`toolkit.load.traces.Traces`
    or ``None``.
    """
    tests_env, prod_env = set(test_environments), set(production_environments)
    calls = scan.calls
    msgs = message_seams(scan.messages)
    edges = traces.edges if traces is not None else None
    findings = review_contracts(calls, scan.endpoints, contracts, edges)

    rows: dict[str, dict[str, Any]] = {}

    def row(seam: str) -> dict[str, Any]:
        if seam not in rows:
            a, b = split_seam(seam)
            rows[seam] = {"seam": seam, "caller_component": a, "callee_component": b, "level": "service",
                          "kinds": set(), "call_sites": 0, "static": False, "test_calls": 0, "production_calls": 0,
                          "production_errors": 0}
        return rows[seam]

    for kind, sites in (("http", calls.dropna(subset=["seam"]).groupby("seam").size()),
                        ("message", msgs.groupby("seam")["publish_sites"].sum())):
        for seam, n in sites.items():
            r = row(seam)
            r["call_sites"] += int(n)
            r["static"] = True
            r["kinds"].add(kind)
    has_test = has_prod = False
    if edges is not None and len(edges):
        has_test = bool(edges["environment"].isin(tests_env).any())
        has_prod = bool(edges["environment"].isin(prod_env).any())
        for r_ in edges.itertuples(index=False):
            r = row(r_.seam)
            if r_.kind in ("http", "message"):
                r["kinds"].add(r_.kind)
            if r_.environment in tests_env:
                r["test_calls"] += int(r_.calls)
            elif r_.environment in prod_env:
                r["production_calls"] += int(r_.calls)
                r["production_errors"] += int(r_.errors)
    drift = findings[findings["finding"] != "unused_endpoint"].dropna(subset=["seam"]).groupby("seam").size()
    out = []
    for seam in sorted(rows):
        r = rows[seam]
        r["kind"] = "+".join(sorted(r.pop("kinds"))) or "other"
        r["exercised_by_tests"] = r["test_calls"] > 0
        r["production_only"] = r["production_calls"] > 0 and r["test_calls"] == 0
        r["contract_drift"] = int(drift.get(seam, 0))
        r["status"] = ("not_traced" if not has_test else "tested" if r["exercised_by_tests"]
                       else "production_only" if r["production_only"] else "untested")
        out.append(r)
    seams = schema.conform(pd.DataFrame(out, columns=schema.columns("service_seams")), "service_seams")

    inter = _interactions(calls, msgs, edges, tests_env, prod_env)
    static = seams[seams["static"]]
    prod = seams[seams["production_calls"] > 0]
    s_inter = inter[inter["call_sites"] > 0]
    p_inter = inter[inter["production_calls"] > 0]

    def pct_exercised(t: pd.DataFrame, known: bool) -> float | None:
        """The share of ``t``'s rows exercised by tests, when ``known`` and ``t`` has rows."""
        return round(100.0 * int(t["exercised_by_tests"].sum()) / len(t), 1) if known and len(t) else None

    summary: dict[str, Any] = {
        "service_seams": int(len(seams)),
        "static_service_seams": int(len(static)),
        "static_http_calls": int(len(calls)),
        "unresolved_http_calls": int(calls["callee_service"].isna().sum()),
        "endpoints_in_code": int(len(scan.endpoints)),
        "message_topics": int(scan.messages["topic"].nunique()),
        "pct_static_service_seams_exercised": pct_exercised(static, has_test),
        "pct_production_service_seams_exercised": pct_exercised(prod, has_prod and has_test),
        "static_service_interactions": int(len(s_inter)),
        "pct_static_service_interactions_exercised": pct_exercised(s_inter, has_test),
        "pct_production_service_interactions_exercised": pct_exercised(p_inter, has_prod and has_test),
        "production_only_seams": sorted(seams.loc[seams["production_only"], "seam"].tolist()),
        "untested_static_service_seams": sorted(static.loc[~static["exercised_by_tests"], "seam"].tolist())
        if has_test else [],
        "contract_findings": int(len(findings)),
        "contract_drift": int((findings["finding"] != "unused_endpoint").sum()),
        "traced": bool(edges is not None),
    }
    if traces is not None:
        summary.update({f"trace_{k}": int(v) for k, v in traces.stats.items()})
    return ServiceSeams(seams=seams, contract_findings=findings, messages=msgs, trace_edges=edges, summary=summary,
                        interactions=inter)


def _interactions(calls: pd.DataFrame, msgs: pd.DataFrame, edges: pd.DataFrame | None, tests_env: set[str],
                  prod_env: set[str]) -> pd.DataFrame:
    """Per endpoint (seam, method, path template) or topic: static call sites and traced calls.

    A traced HTTP call counts for a static interaction of the same seam and method whose path template
    matches its route (parameter names ignored, a concrete path matches a template); a traced message for
    the static publish of its topic. Traced calls matching no static interaction become rows of their own.
    """
    # (seam, kind, method, path template or topic) -> counts
    rows: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(
        lambda: {"call_sites": 0, "test_calls": 0, "production_calls": 0})
    for r in calls.dropna(subset=["seam"]).itertuples(index=False):
        rows[(r.seam, "http", r.method if pd.notna(r.method) else "ANY", r.path_template)]["call_sites"] += 1
    for r in msgs.itertuples(index=False):
        rows[(r.seam, "message", "PUBLISH", r.topic)]["call_sites"] += int(r.publish_sites)
    if edges is not None:
        for e in edges.itertuples(index=False):
            col = "test_calls" if e.environment in tests_env else "production_calls" if e.environment in prod_env \
                else None
            if col is None:
                continue
            kind = "message" if e.kind == "message" else "http"
            method = "PUBLISH" if kind == "message" else (e.method if pd.notna(e.method) else "ANY")
            route = e.route if pd.notna(e.route) else ""
            match = [k for k in rows if k[0] == e.seam and k[1] == kind and (k[2] == method or "ANY" in (k[2], method))
                     and (k[3] == route if kind == "message" else _segments_match(path_key(k[3]), route))]
            key = min(match, key=lambda k: (k[3].count("{"), k[3])) if match else (e.seam, kind, method, route)
            rows[key][col] += int(e.calls)
    out = [{"seam": k[0], "kind": k[1], "method": k[2], "path_template": k[3], **v,
            "exercised_by_tests": v["test_calls"] > 0,
            "production_only": v["production_calls"] > 0 and v["test_calls"] == 0} for k, v in sorted(rows.items())]
    return schema.conform(pd.DataFrame(out, columns=schema.columns("service_interactions")), "service_interactions")


def service_seam_table(result: ServiceSeams, *, factors: bool = True) -> pd.DataFrame:
    """The service seams in the shape the seam ranking takes as extra seams.

    Columns seam, caller_component, callee_component, level (``service``), call_sites, exercised_by_tests,
    contract_drift, production_only; with ``factors`` also the ranking factors this evidence decides
    (:mod:`toolkit.analyze.seam_ranking`, used as given): ``f_integration_gap`` (0 when test traces exercise
    the seam, 1 when they do not, NaN without test traces), ``f_drift`` (contract drift,
    ``log1p(n) / log1p(max n)``) and ``f_environment`` (1 when only production exercises it). Pass it as
    ``rank_seams(**f.ranking_inputs(), extra_seams=service_seam_table(f.services))``.
    """
    t = result.seams[RANKING_COLUMNS].reset_index(drop=True)
    if factors:
        traced = bool(result.summary.get("pct_static_service_seams_exercised") is not None
                      or (result.seams["test_calls"] > 0).any())
        t["f_integration_gap"] = (~t["exercised_by_tests"]).astype(float) if traced else float("nan")
        drift = t["contract_drift"].astype(float)
        top = drift.max() if len(drift) else 0.0
        t["f_drift"] = (drift.map(math.log1p) / math.log1p(top)) if top > 0 else 0.0
        t["f_environment"] = t["production_only"].astype(float)
    return t
