"""Distributed traces: OTLP JSON (collector file exporter) and Jaeger JSON -> spans and the observed service graph.

Which services really call which, per environment, is read from spans: a span whose parent span belongs to
another service is one observed call across a service seam (typically a CLIENT span in A whose child SERVER
span is in B, or a PRODUCER span in A whose CONSUMER child — or linked span — is in B).

Formats
    OTLP JSON
        what the OpenTelemetry collector's ``file`` exporter writes: one ``{"resourceSpans": [...]}`` object per
        line (a single pretty-printed object is read too). ``service.name`` and ``deployment.environment.name``
        (or the older ``deployment.environment``) come from resource attributes; ``scopeSpans`` and the older
        ``instrumentationLibrarySpans`` are both read; span kinds as numbers or ``SPAN_KIND_*`` names.
    Jaeger JSON
        the query API / UI export ``{"data": [{"traceID", "spans": [...], "processes": {...}}]}``; ``span.kind``,
        ``error`` and ``otel.status_code`` tags; the parent is the first ``CHILD_OF`` (else ``FOLLOWS_FROM``)
        reference.
    Attributes of both semantic-convention generations are read: ``http.request.method``/``http.method``,
    ``http.route``, ``url.path``/``http.target``, ``http.response.status_code``/``http.status_code``,
    ``messaging.destination.name``/``messaging.destination``.
Environment
    the resource attribute, else the per-file argument, else the name of a folder on the file's path that is
    an environment word (``traces/production/x.json``), else ``unknown`` (:mod:`toolkit.vocab.environments`).
Robustness
    a line that is not JSON, is over a parse limit (:mod:`toolkit.load.limits`: nesting depth, integer digits,
    line size) or holds a value of the wrong type is skipped with its line number; a span whose parent is not in the data is
    counted in ``stats["missing_parents"]``; a child span starting before or (synchronous calls only) ending
    after its parent in another service by more than ``skew_tolerance_ns`` is counted in
    ``stats["clock_skew"]`` — both are reported, neither is an error.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import seam_name
from toolkit.vocab.environments import SYNONYMS, UNKNOWN, normalize
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.limits import LimitExceeded, check_input_file, files_in, limits, load_json
from toolkit.load.services import normalize_path
from toolkit.runtime.progress import progress

__all__ = ["Traces", "load_traces", "trace_edges", "service_graph"]

#: span kind as OTLP number, OTLP ``SPAN_KIND_*`` name or Jaeger tag -> kind
_KINDS: dict[Any, str] = {k: kind for i, kind in enumerate(("unspecified", "internal", "server", "client", "producer",
                                                            "consumer"))
                          for k in (i, f"SPAN_KIND_{kind.upper()}", kind)}
_SPAN_KEYS = frozenset({"http.request.method", "http.method", "http.route", "url.path", "http.target",
                        "http.response.status_code", "http.status_code", "messaging.destination.name",
                        "messaging.destination", "span.kind", "error", "otel.status_code",
                        "deployment.environment.name", "deployment.environment"})
_RES_KEYS = frozenset({"service.name", "deployment.environment.name", "deployment.environment"})
_COLS = ("trace_id", "span_id", "parent_span_id", "service", "environment", "kind", "name", "method", "route",
         "destination", "status_code", "is_error", "start_ns", "end_ns", "source")


@dataclass(frozen=True)
class Traces:
    """``spans`` (schema ``spans``), ``edges`` (``trace_edges``), ``stats`` (spans, traces, files,
    missing_parents, clock_skew, bad_lines), ``skipped``."""

    spans: pd.DataFrame
    edges: pd.DataFrame
    stats: Mapping[str, int] = field(default_factory=dict)
    skipped: tuple[Skip, ...] = ()


def _otlp_attrs(attrs: Any, keys: frozenset) -> dict[str, Any]:
    """``keys`` of an OTLP attribute list, each with the one value of its typed ``value`` object."""
    return {a.get("key"): next(iter(a["value"].values())) for a in attrs or ()
            if a.get("key") in keys and isinstance(a.get("value"), dict) and a["value"]}


class _Columns:
    def __init__(self) -> None:
        self.data: dict[str, list] = {c: [] for c in _COLS}
        self.env_cache: dict[Any, str] = {}

    def env(self, value: Any, default: str) -> str:
        if value is None:
            return default
        got = self.env_cache.get(value)
        if got is None:
            got = self.env_cache[value] = normalize(value)
        return got


_ROUTE_CACHE: dict[str, str] = {}


def _status(s: Any) -> int | None:
    """An HTTP status code attribute as a number; ``None`` when absent or not a status code."""
    try:
        code = None if s is None else int(s)
    except (TypeError, ValueError):
        return None
    return code if code is not None and 0 <= code < 1000 else None


#: span attribute -> slot in the per-span value list (both semantic-convention generations)
_SLOTS = {"http.request.method": 0, "http.method": 1, "http.route": 2, "url.path": 3, "http.target": 4,
          "http.response.status_code": 5, "http.status_code": 6, "messaging.destination.name": 7,
          "messaging.destination": 8}
_ERROR_CODES = frozenset({2, "STATUS_CODE_ERROR", "2"})


def _cached_route(r: Any) -> str | None:
    if not r:
        return None
    got = _ROUTE_CACHE.get(r)
    if got is None:
        got = normalize_path(str(r))
        if len(_ROUTE_CACHE) < 100_000:
            _ROUTE_CACHE[r] = got
    return got


def _otlp(doc: dict, source: str, default_env: str, cols: _Columns) -> None:
    # the hot loop of the module (a million spans): plain locals, one pass over each span's attributes
    (tid, sid, pid, svc_c, env_c, kind_c, name_c, meth_c, route_c, dest_c, code_c, err_c, st_c, en_c,
     src_c) = cols.data.values()  # in _COLS order
    slot_of = _SLOTS.get
    kinds = _KINDS
    route_cache = _ROUTE_CACHE
    for rs in doc.get("resourceSpans") or ():
        res = _otlp_attrs((rs.get("resource") or {}).get("attributes"), _RES_KEYS)
        service = res.get("service.name") or "unknown_service"
        env = cols.env(res.get("deployment.environment.name") or res.get("deployment.environment"), default_env)
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or ():
            for sp in ss.get("spans") or ():
                v = [None] * 9
                for a in sp.get("attributes") or ():
                    i = slot_of(a.get("key"))
                    if i is not None:
                        val = a.get("value")
                        if val:
                            for x in val.values():
                                v[i] = x
                                break
                parent = sp.get("parentSpanId") or None
                kind = kinds.get(sp.get("kind", 0), "unspecified")
                if parent is None and kind == "consumer" and sp.get("links"):
                    parent = sp["links"][0].get("spanId") or None
                code = _status(v[5] if v[5] is not None else v[6])
                r = v[2] or v[3] or v[4]
                route = route_cache.get(r) if r else None
                if r and route is None:
                    route = _cached_route(r)
                status = sp.get("status")
                tid.append(sp.get("traceId"))
                sid.append(sp.get("spanId"))
                pid.append(parent)
                svc_c.append(service)
                env_c.append(env)
                kind_c.append(kind)
                name_c.append(sp.get("name"))
                meth_c.append(v[0] or v[1])
                route_c.append(route)
                dest_c.append(v[7] or v[8])
                code_c.append(code)
                err_c.append(bool(status and status.get("code") in _ERROR_CODES) or (code is not None and code >= 500))
                st_c.append(int(sp.get("startTimeUnixNano") or 0))
                en_c.append(int(sp.get("endTimeUnixNano") or 0))
                src_c.append(source)


def _jaeger(doc: dict, source: str, default_env: str, cols: _Columns) -> None:
    d = cols.data
    for trace in doc.get("data") or ():
        processes = trace.get("processes") or {}
        proc_info: dict[str, tuple[str, str]] = {}
        for pid_key, proc in processes.items():
            tags = {t.get("key"): t.get("value") for t in proc.get("tags") or ()}
            env = tags.get("deployment.environment.name") or tags.get("deployment.environment")
            proc_info[pid_key] = (proc.get("serviceName") or "unknown_service", cols.env(env, default_env))
        for sp in trace.get("spans") or ():
            tags = {t.get("key"): t.get("value") for t in sp.get("tags") or () if t.get("key") in _SPAN_KEYS}
            service, env = proc_info.get(sp.get("processID"), (None, default_env))
            if service is None and isinstance(sp.get("process"), dict):
                service = sp["process"].get("serviceName")
            refs = sp.get("references") or ()
            parent = next((r.get("spanID") for r in refs if r.get("refType") == "CHILD_OF"), None) or next(
                (r.get("spanID") for r in refs if r.get("refType") == "FOLLOWS_FROM"), None)
            code = _status(tags.get("http.response.status_code", tags.get("http.status_code")))
            route = tags.get("http.route")
            start = int(sp.get("startTime") or 0) * 1000
            err = tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR"
            row = (sp.get("traceID") or trace.get("traceID"), sp.get("spanID"), parent, service or "unknown_service",
                   cols.env(tags.get("deployment.environment.name") or tags.get("deployment.environment"), env),
                   _KINDS.get(str(tags.get("span.kind", "")).lower(), "unspecified"), sp.get("operationName"),
                   tags.get("http.request.method") or tags.get("http.method"),
                   _cached_route(route if route is not None else tags.get("url.path") or tags.get("http.target")),
                   tags.get("messaging.destination.name") or tags.get("messaging.destination"), code,
                   bool(err or (code is not None and code >= 500)), start,
                   start + int(sp.get("duration") or 0) * 1000, source)
            for column, value in zip(d.values(), row):  # in _COLS order
                column.append(value)


_RECORD_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


def _dispatch(doc: Any, source: str, env: str, cols: _Columns, line: int | None, skips: list[Skip]) -> None:
    """Add the spans of one document (a line, or the whole file); a document holding a value of the wrong type
    (a list where an object belongs, a timestamp that is not a number) is left out whole, with its line."""
    before = len(cols.data["trace_id"])  # every span appends to every column: one length says where this began
    try:
        if isinstance(doc, dict) and "resourceSpans" in doc:
            _otlp(doc, source, env, cols)
        elif isinstance(doc, dict) and isinstance(doc.get("data"), list):
            _jaeger(doc, source, env, cols)
        else:
            report_skip(skips, source, "neither OTLP JSON (resourceSpans) nor Jaeger JSON (data[].spans)", line)
    except _RECORD_ERRORS as exc:
        for column in cols.data.values():  # the spans of this document added so far go too: columns stay aligned
            del column[before:]
        report_skip(skips, source, f"trace record holds a value of the wrong type ({type(exc).__name__}: "
                                   f"{str(exc)[:120]}): left out", line)


_ENV_WORDS = frozenset(w for words in SYNONYMS.values() for w in words)


def _env_from_path(path: Path) -> str:
    """The innermost folder named exactly like an environment (``traces/production/x.json``), else unknown."""
    for part in reversed(path.parent.parts):
        if part.lower() in _ENV_WORDS:
            return normalize(part)
    return UNKNOWN


def _read_file(path: Path, env: str, cols: _Columns, skips: list[Skip], stats: dict[str, int],
               named: bool = True) -> None:
    """One OTLP/Jaeger file: JSON lines, or one (pretty-printed) document. Lines over a parse limit
    (:mod:`toolkit.load.limits`) are skipped; a whole file that cannot be read raises :class:`InputError` when
    the user named it and is skipped when it was found in a folder."""
    source = str(path)
    try:
        size = check_input_file(path, flag="--traces", sized=False).stat().st_size  # lines are bounded one by one
    except InputError as exc:
        if named:
            raise
        report_skip(skips, path, f"not read: {exc.what}")
        return
    record_limit = limits().record_bytes
    with open(path, "rb") as fh:
        first = True
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            was_first, first = first, False
            if len(raw) > record_limit:
                stats["bad_lines"] += 1
                report_skip(skips, path, LimitExceeded(f"line of {len(raw) >> 20} MB", "record_mb",
                                                       record_limit >> 20).reason + ": left out", n)
                continue
            try:
                doc = load_json(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                if was_first:  # a single pretty-printed document: one record, read whole
                    fh.seek(0)
                    try:
                        if size > record_limit:
                            raise LimitExceeded(f"is one JSON document of {size >> 20} MB", "record_mb",
                                                record_limit >> 20)
                        doc = load_json(fh.read())
                    except (json.JSONDecodeError, UnicodeDecodeError, LimitExceeded) as exc2:
                        what = (exc2.reason if isinstance(exc2, LimitExceeded)
                                else f"is not JSON or JSON lines: {exc2}")
                        if not named:
                            report_skip(skips, path, f"not read: {what}", getattr(exc2, "lineno", None))
                            return
                        raise InputError(path, what, line=getattr(exc2, "lineno", n),
                                         flag="--traces", hint="give OTLP JSON (collector file exporter) or a "
                                                               "Jaeger JSON export") from exc
                    _dispatch(doc, source, env, cols, None, skips)
                    return
                stats["bad_lines"] += 1
                report_skip(skips, path, f"line is not JSON ({exc.__class__.__name__}): left out", n)
                continue
            except LimitExceeded as exc:
                if was_first and named:  # the file's first document is over a limit: the file the user named is not read
                    raise InputError(path, exc.reason, line=n, flag="--traces") from None
                stats["bad_lines"] += 1
                report_skip(skips, path, f"line {exc.reason}: left out", n)
                continue
            _dispatch(doc, source, env, cols, n, skips)


def _files(paths: Iterable[Any]) -> list[tuple[Path, str | None, bool]]:
    """``(file, environment, named)``: files given, and the JSON files found in the folders given."""
    out: list[tuple[Path, str | None, bool]] = []
    for item in paths:
        path, env = (item if isinstance(item, tuple) else (item, None))
        out += [(f, env, named) for f, named in files_in(path, (".json", ".jsonl", ".ndjson"), flag="--traces")]
    return out


_NUMBER_COLS = frozenset({"status_code", "is_error", "start_ns", "end_ns"})


def _strings(values: list) -> pd.Series:
    """A ``string`` column straight from a list (through Arrow: no object-column detour)."""
    try:
        import pyarrow as pa
        return pd.Series(pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string())))
    except (ImportError, TypeError, ValueError):  # pyarrow missing, or values that are not all str/None
        return pd.Series([None if v is None else str(v) for v in values], dtype="string")


def load_traces(paths: Iterable[str | os.PathLike | tuple[str | os.PathLike, str]], *,
                environment: str | None = None, skew_tolerance_ns: int = 1_000_000,
                skips: list[Skip] | None = None) -> Traces:
    """Read OTLP/Jaeger JSON files (or folders of them) into spans and observed service-to-service edges.

    ``paths``: files/folders, or ``(path, environment)`` pairs for files whose resources name no
    environment; ``environment``: the default for all of them. Returns :class:`Traces`.
    """
    mine: list[Skip] = []
    cols = _Columns()
    stats = {"files": 0, "bad_lines": 0}
    for path, env, named in progress(_files(paths), desc="traces"):
        default = normalize(env or environment) if (env or environment) else _env_from_path(path)
        stats["files"] += 1
        _read_file(path, default, cols, mine, stats, named)
    d = cols.data
    df = pd.DataFrame({c: (d[c] if c in _NUMBER_COLS else _strings(d[c])) for c in _COLS})
    df["status_code"] = pd.array(d["status_code"], dtype="Int64")
    df["is_error"] = np.asarray(d["is_error"], dtype="bool")
    try:
        df["start_ns"] = np.asarray(d["start_ns"], dtype="int64")
        df["end_ns"] = np.asarray(d["end_ns"], dtype="int64")
    except OverflowError:  # a timestamp beyond 64-bit nanoseconds: that span's times are unknown, not a crash
        lo, hi = -(1 << 63), (1 << 63) - 1
        fits = np.array([lo <= a <= hi and lo <= b <= hi for a, b in zip(d["start_ns"], d["end_ns"])], dtype=bool)
        report_skip(mine, "traces", f"{int((~fits).sum())} spans have a timestamp beyond 64-bit nanoseconds: "
                                    "left out")
        df["start_ns"] = np.asarray([a if f else 0 for a, f in zip(d["start_ns"], fits)], dtype="int64")
        df["end_ns"] = np.asarray([b if f else 0 for b, f in zip(d["end_ns"], fits)], dtype="int64")
        df = df[fits].reset_index(drop=True)
    del cols, d
    edges, graph_stats = trace_edges(df, skew_tolerance_ns=skew_tolerance_ns)
    stats.update(graph_stats)
    if stats["missing_parents"]:
        report_skip(mine, "traces", f"{stats['missing_parents']} spans name a parent span that is not in the data "
                                    "(incomplete export or sampling): their caller is unknown")
    if stats["clock_skew"]:
        report_skip(mine, "traces", f"{stats['clock_skew']} cross-service spans lie outside their parent's time "
                                    "span (clock skew between hosts); edges are kept")
    for s in mine:
        report_skip(skips, s.path, s.reason, s.line)
    return Traces(spans=schema.conform(df, "spans"), edges=edges, stats=stats, skipped=tuple(mine))


def trace_edges(spans: pd.DataFrame, *, skew_tolerance_ns: int = 1_000_000) -> tuple[pd.DataFrame, dict[str, int]]:
    """Observed service -> service calls (schema ``trace_edges``) from a spans table, and counts of problems.

    An edge is a span whose parent span (same trace) belongs to another service: caller = the parent's
    service, callee = the span's. Kind ``message`` when the parent is a PRODUCER or the child a CONSUMER,
    ``http`` when the parent is a CLIENT or the child a SERVER, else ``other``. The endpoint is the child's
    method and route (messages: the destination). An edge call is in error when either span is.
    """
    stats = {"spans": int(len(spans)), "traces": int(spans["trace_id"].nunique()) if len(spans) else 0}
    has_parent = spans["parent_span_id"].notna()
    child = spans.loc[has_parent, ["trace_id", "parent_span_id", "service", "environment", "kind", "method", "route",
                                   "destination", "is_error", "start_ns", "end_ns"]]
    parent = spans[["trace_id", "span_id", "service", "kind", "route", "destination", "is_error", "start_ns",
                    "end_ns"]].drop_duplicates(["trace_id", "span_id"])
    m = child.merge(parent, left_on=["trace_id", "parent_span_id"], right_on=["trace_id", "span_id"], how="left",
                    suffixes=("", "_p"), indicator=True)
    found = m["_merge"] == "both"
    stats["missing_parents"] = int((~found).sum())
    m = m[found & (m["service"] != m["service_p"])]
    stats["cross_service_spans"] = int(len(m))
    message = (m["kind_p"] == "producer") | (m["kind"] == "consumer")
    # a synchronous callee runs inside its caller's span; a message is consumed after it was produced, maybe
    # long after the producer span ended — for messages only a start before the producer's start is skew
    early = m["start_ns"] < m["start_ns_p"] - skew_tolerance_ns
    late = (m["end_ns"] > m["end_ns_p"] + skew_tolerance_ns) & ~message
    stats["clock_skew"] = int((early | late).sum())
    http = (m["kind_p"] == "client") | (m["kind"] == "server")
    kind = pd.Series("other", index=m.index).where(~http, "http").where(~message, "message")
    route = m["route"].where(m["route"].notna(), m["route_p"])
    route = route.where(~message, m["destination"].where(m["destination"].notna(), m["destination_p"]))
    e = pd.DataFrame({"environment": m["environment"], "caller_service": m["service_p"], "callee_service": m["service"],
                      "kind": kind, "method": m["method"].where(~message, None), "route": route,
                      "err": m["is_error"] | m["is_error_p"]})
    if e.empty:
        return schema.empty("trace_edges"), stats
    g = (e.groupby(["environment", "caller_service", "callee_service", "kind", "method", "route"], dropna=False,
                   sort=True)["err"].agg(calls="size", errors="sum").reset_index())
    g["seam"] = [seam_name(a, b) for a, b in zip(g["caller_service"], g["callee_service"])]
    g["errors"] = g["errors"].astype("int64")
    g["error_rate"] = g["errors"] / g["calls"]
    return schema.conform(g, "trace_edges"), stats


def service_graph(edges: pd.DataFrame, environment: str | None = None) -> nx.DiGraph:
    """The observed service graph: nodes are services, edges carry ``calls``, ``errors``, ``error_rate`` and
    ``endpoints`` (list of "METHOD route"); ``environment`` restricts it to one environment."""
    if environment is not None:
        edges = edges[edges["environment"] == environment]
    g = nx.DiGraph()
    for (a, b), grp in edges.groupby(["caller_service", "callee_service"], sort=True):
        calls, errors = int(grp["calls"].sum()), int(grp["errors"].sum())
        eps = sorted({f"{m} {r}" if pd.notna(m) else str(r) for m, r in zip(grp["method"], grp["route"])})
        g.add_edge(a, b, calls=calls, errors=errors, error_rate=errors / calls if calls else float("nan"),
                   endpoints=eps, kinds=sorted(set(grp["kind"])))
    return g
