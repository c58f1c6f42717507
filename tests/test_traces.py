"""OTLP JSON and Jaeger JSON traces -> spans and observed service edges; missing parents, skew, bad lines."""
from __future__ import annotations

import json

import pytest

from toolkit.vocab import schema
from toolkit.errors import InputError, Skip
from toolkit.load.traces import load_traces, service_graph


def attr(key, value):
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def span(trace, sid, parent, name, kind, start, end, error=False, **attrs):
    s = {"traceId": trace, "spanId": sid, "name": name, "kind": kind, "startTimeUnixNano": str(start),
         "endTimeUnixNano": str(end), "attributes": [attr(k.replace("_", ".").replace("status.code", "status_code"), v) for k, v in attrs.items()],
         "status": {"code": 2} if error else {}}
    if parent:
        s["parentSpanId"] = parent
    return s


def resource(service, spans, env=None, old_env=False):
    attrs = [attr("service.name", service)]
    if env:
        attrs.append(attr("deployment.environment" if old_env else "deployment.environment.name", env))
    return {"resource": {"attributes": attrs}, "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}


def otlp_line(*resources):
    return json.dumps({"resourceSpans": list(resources)})


T = 1_700_000_000_000_000_000


def test_otlp_edges_kinds_routes_and_errors(tmp_path):
    lines = [
        # orders -> inventory over HTTP (new semantic conventions), one of two in error
        otlp_line(resource("orders", [span("t1", "a1", None, "place", 2, T, T + 100),
                                      span("t1", "a2", "a1", "POST", 3, T + 10, T + 90, http_request_method="POST")],
                           env="integration"),
                  resource("inventory", [span("t1", "b1", "a2", "POST /stock/{sku}/reserve", 2, T + 20, T + 80,
                                              http_request_method="POST", http_route="/stock/{sku}/reserve")],
                           env="integration")),
        otlp_line(resource("orders", [span("t2", "c2", None, "POST", "SPAN_KIND_CLIENT", T, T + 50)], env="integration"),
                  resource("inventory", [span("t2", "d1", "c2", "POST", "SPAN_KIND_SERVER", T + 5, T + 40,
                                              http_method="POST", http_target="/stock/B-2/reserve?x=1",
                                              http_status_code=503)], env="integration")),
        # orders -> notifications over a topic (old attribute name), environment from the old resource key
        otlp_line(resource("orders", [span("t3", "e1", None, "order-placed publish", 4, T, T + 5,
                                           messaging_destination="order-placed")], env="prod", old_env=True),
                  resource("notifications", [span("t3", "f1", "e1", "order-placed process", 5, T + 50_000_000, T + 60_000_000,
                                                  messaging_destination_name="order-placed")], env="prod", old_env=True)),
    ]
    p = tmp_path / "traces.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tr = load_traces([p], skips=[])
    schema.check(tr.spans, "spans")
    schema.check(tr.edges, "trace_edges")
    assert len(tr.spans) == 7 and tr.stats["traces"] == 3
    e = {(r.environment, r.seam, r.kind, r.method, r.route): (r.calls, r.errors) for r in tr.edges.itertuples()}
    assert e[("integrated", "orders->inventory", "http", "POST", "/stock/{sku}/reserve")] == (1, 0)
    # without http.route the path is used as observed (not templated)
    assert e[("integrated", "orders->inventory", "http", "POST", "/stock/B-2/reserve")] == (1, 1)
    msg = [k for k in e if k[1] == "orders->notifications"]
    assert msg == [("production", "orders->notifications", "message", msg[0][3], "order-placed")]
    # consumed 50 ms after the producer span ended: normal for messages, not clock skew
    assert tr.stats["missing_parents"] == 0 and tr.stats["clock_skew"] == 0
    g = service_graph(tr.edges, environment="integrated")
    assert g["orders"]["inventory"]["calls"] == 2 and g["orders"]["inventory"]["errors"] == 1


def test_missing_parents_skew_and_bad_lines_are_reported(tmp_path):
    lines = [
        otlp_line(resource("a", [span("t1", "x1", None, "root", 3, T, T + 100)]),
                  # starts 5 ms before its parent: clock skew between hosts
                  resource("b", [span("t1", "y1", "x1", "srv", 2, T - 5_000_000, T + 50)])),
        '{"resourceSpans": [ truncated',
        otlp_line(resource("b", [span("t9", "z1", "gone", "srv", 2, T, T + 1)])),
    ]
    p = tmp_path / "integrated" / "t.json"
    p.parent.mkdir()
    p.write_text("\n".join(lines), encoding="utf-8")
    skips: list[Skip] = []
    tr = load_traces([p], skips=skips)
    assert tr.stats["missing_parents"] == 1 and tr.stats["clock_skew"] == 1 and tr.stats["bad_lines"] == 1
    assert set(tr.spans["environment"]) == {"integrated"}  # from the folder name
    assert len(tr.edges) == 1 and tr.edges.iloc[0].seam == "a->b"
    text = " | ".join(map(str, skips))
    assert "t.json:2" in text and "not in the data" in text and "clock skew" in text


def test_pretty_printed_single_document_and_per_file_environment(tmp_path):
    p = tmp_path / "one.json"
    doc = {"resourceSpans": [resource("a", [span("t", "1", None, "c", 3, T, T + 9)]),
                             resource("b", [span("t", "2", "1", "s", 2, T + 1, T + 8, http_route="/x")])]}
    p.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    tr = load_traces([(p, "staging")])
    assert set(tr.edges["environment"]) == {"staging"} and tr.edges.iloc[0].route == "/x"


def test_jaeger_json(tmp_path):
    doc = {"data": [{"traceID": "abc", "processes": {
        "p1": {"serviceName": "orders", "tags": [{"key": "deployment.environment", "type": "string", "value": "production"}]},
        "p2": {"serviceName": "payments", "tags": []}},
        "spans": [
            {"traceID": "abc", "spanID": "s1", "operationName": "POST", "references": [], "startTime": 1000,
             "duration": 100, "processID": "p1", "tags": [{"key": "span.kind", "type": "string", "value": "client"}]},
            {"traceID": "abc", "spanID": "s2", "operationName": "POST /charges", "processID": "p2",
             "references": [{"refType": "CHILD_OF", "traceID": "abc", "spanID": "s1"}], "startTime": 1010,
             "duration": 50, "tags": [{"key": "span.kind", "type": "string", "value": "server"},
                                      {"key": "http.method", "type": "string", "value": "POST"},
                                      {"key": "http.route", "type": "string", "value": "/charges"},
                                      {"key": "error", "type": "bool", "value": True}]}]}]}
    p = tmp_path / "jaeger.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    tr = load_traces([p], environment="staging")
    r = tr.edges.iloc[0]
    assert (r.seam, r.kind, r.method, r.route, r.calls, r.errors) == ("orders->payments", "http", "POST", "/charges", 1, 1)
    # payments' process names no environment: the argument applies; orders' says production
    envs = dict(zip(tr.spans["service"], tr.spans["environment"]))
    assert envs == {"orders": "production", "payments": "staging"}


def test_not_json_at_all_and_missing_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("hello\nworld\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_traces([p])
    assert "is not JSON" in str(err.value)
    with pytest.raises(InputError):
        load_traces([tmp_path / "nope.json"])


def test_unknown_document_shape_is_skipped(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"foo": 1}\n', encoding="utf-8")
    skips: list[Skip] = []
    tr = load_traces([p], skips=skips)
    assert tr.spans.empty and tr.edges.empty and "neither OTLP" in skips[0].reason
