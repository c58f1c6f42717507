"""The sample's service level: HTTP/message interactions, their contracts and trace exports.

The shop can run split into services (``deploy/docker-compose.yml``): ``orders`` calls the ``inventory`` and
``payments`` HTTP APIs (``shop/orders/remote.py``) and publishes ``order-placed`` on Kafka, which ``notifications``
consumes. Declared once here (:data:`CALLS`, :data:`MESSAGES`, :data:`ENDPOINTS`, :data:`TRAFFIC`); from that the
builder writes ``contracts/`` (OpenAPI 3, Swagger 2 and a Pact v3, with the planted :data:`DRIFT`) and
``traces/<environment>/spans.jsonl``: OTLP JSON generated, not recorded (the sample's suite runs in one process and
starts no services). Only ``production`` carries ``order-placed`` — a service seam no test exercises — and one span
whose parent was lost by sampling. :func:`truth` finds lines by searching the HEAD sources, independently of
:mod:`toolkit.load.services`.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

#: (caller file, text on the call's first line, method, path template, caller, callee)
CALLS = [
    ("shop/orders/remote.py", 'Request(f"{INVENTORY_URL}/stock/{sku}", method="GET")', "GET", "/stock/{sku}",
     "orders", "inventory"),
    ("shop/orders/remote.py", 'Request(f"{INVENTORY_URL}/stock/{sku}/reserve"', "POST", "/stock/{sku}/reserve",
     "orders", "inventory"),
    ("shop/orders/remote.py", 'Request(PAYMENTS_URL + "/charges"', "POST", "/charges", "orders", "payments"),
]
#: calls whose callee is not a service of the shop: (file, text on the call's line, why)
UNRESOLVED = [("shop/gateway/client.py", "request = urllib.request.Request(",
               "the external payment gateway's URL is a constructor argument")]
#: (file, text on the line, direction, topic, service)
MESSAGES = [
    ("shop/orders/remote.py", "producer.send(ORDER_TOPIC", "publish", "order-placed", "orders"),
    ("shop/notifications/consumer.py", 'KafkaConsumer("order-placed"', "subscribe", "order-placed", "notifications"),
]
#: (file, decorator text, method, path template, service)
ENDPOINTS = [
    ("shop/inventory/api.py", '@api.get("/stock/{sku}")', "GET", "/stock/{sku}", "inventory"),
    ("shop/inventory/api.py", '@api.post("/stock/{sku}/reserve")', "POST", "/stock/{sku}/reserve", "inventory"),
    ("shop/payments/api.py", '@api.post("/charges")', "POST", "/charges", "payments"),
    ("shop/payments/api.py", '@api.post("/refunds")', "POST", "/refunds", "payments"),
]
#: environment -> [(caller, callee, kind, method, route, calls, errors)]
TRAFFIC = {
    "integrated": [
        ("orders", "inventory", "http", "GET", "/stock/{sku}", 6, 0),
        ("orders", "inventory", "http", "POST", "/stock/{sku}/reserve", 6, 0),
        ("orders", "payments", "http", "POST", "/charges", 6, 1),
    ],
    "production": [
        ("orders", "inventory", "http", "GET", "/stock/{sku}", 40, 0),
        ("orders", "inventory", "http", "POST", "/stock/{sku}/reserve", 38, 1),
        ("orders", "payments", "http", "POST", "/charges", 38, 2),
        ("orders", "notifications", "message", None, "order-placed", 38, 0),
    ],
}
#: production spans whose parent span is missing from the export (sampling); counted, never an edge
LOST_PARENTS = 1
DRIFT = {"finding": "pact_missing_response_field", "seam": "orders->inventory", "method": "GET",
         "path_template": "/stock/{sku}", "field": "level",
         "story": "inventory renamed `level` to `available` in GET /stock/{sku}; the orders Pact and "
                  "shop/orders/remote.py still read `level`"}

INVENTORY_SPEC = """\
openapi: 3.0.3
info:
  title: Inventory service
  version: 2.0.0
x-service: inventory
servers:
  - url: http://inventory:8000
paths:
  /stock/{sku}:
    parameters:
      - {name: sku, in: path, required: true, schema: {type: string}}
    get:
      operationId: stockLevel
      responses:
        "200":
          description: Units available for the SKU
          content:
            application/json:
              schema: {$ref: "#/components/schemas/StockLevel"}
  /stock/{sku}/reserve:
    parameters:
      - {name: sku, in: path, required: true, schema: {type: string}}
    post:
      operationId: reserve
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/ReservationRequest"}
      responses:
        "201":
          description: Reserved
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Reservation"}
components:
  schemas:
    StockLevel:
      type: object
      properties:
        sku: {type: string}
        available: {type: integer, description: "renamed from `level` in 2.0.0"}
    ReservationRequest:
      type: object
      required: [quantity, order_id]
      properties:
        quantity: {type: integer}
        order_id: {type: string}
    Reservation:
      type: object
      properties:
        sku: {type: string}
        order_id: {type: string}
        reserved: {type: integer}
"""

PAYMENTS_SPEC = {
    "swagger": "2.0",
    "info": {"title": "Payments service", "version": "1.3.0"},
    "x-service": "payments",
    "basePath": "/",
    "paths": {
        "/charges": {"post": {
            "operationId": "createCharge",
            "parameters": [{"in": "body", "name": "charge", "required": True, "schema": {"$ref": "#/definitions/ChargeRequest"}}],
            "responses": {"200": {"description": "Charged", "schema": {"$ref": "#/definitions/Charge"}}}}},
        "/refunds": {"post": {
            "operationId": "createRefund",
            "parameters": [{"in": "body", "name": "refund", "required": True, "schema": {
                "type": "object", "required": ["charge"], "properties": {"charge": {"$ref": "#/definitions/Charge"}}}}],
            "responses": {"200": {"description": "Refunded", "schema": {"$ref": "#/definitions/Charge"}}}}},
    },
    "definitions": {
        "ChargeRequest": {"type": "object", "required": ["order_id", "amount", "source"],
                          "properties": {"order_id": {"type": "string"}, "amount": {"type": "integer"},
                                         "source": {"type": "string"}}},
        "Charge": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                                                    "order_id": {"type": "string"}}},
    },
}

PACT = {
    "consumer": {"name": "orders"},
    "provider": {"name": "inventory"},
    "interactions": [
        {"description": "the stock level of a SKU", "providerStates": [{"name": "SKU-1 has 3 units"}],
         "request": {"method": "GET", "path": "/stock/SKU-1"},
         "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                      "body": {"sku": "SKU-1", "level": 3}}},
        {"description": "a reservation", "providerStates": [{"name": "SKU-1 has 3 units"}],
         "request": {"method": "POST", "path": "/stock/SKU-1/reserve",
                     "headers": {"Content-Type": "application/json"}, "body": {"quantity": 1, "order_id": "o-1"}},
         "response": {"status": 201, "body": {"sku": "SKU-1", "reserved": 1}}},
    ],
    "metadata": {"pactSpecification": {"version": "3.0.0"}, "pact-python": {"version": "2.2.0"}},
}

_T0 = 1_764_576_000_000_000_000  # 2025-12-01T08:00:00Z in ns


def _id(*parts: object, n: int = 16) -> str:
    """``n`` hex digits derived from ``parts`` (trace ids 32, span ids 16): stable across builds."""
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:n]


def _attr(key: str, value: object) -> dict:
    return {"key": key, "value": {"intValue" if isinstance(value, int) else "stringValue": str(value)}}


def _resource(service: str, env: str, spans: list[dict]) -> dict:
    return {"resource": {"attributes": [_attr("service.name", service), _attr("deployment.environment.name", env),
                                        _attr("service.version", "1.0.0")]},
            "scopeSpans": [{"scope": {"name": "shop.tracing"}, "spans": spans}]}


def _span(trace: str, span: str, parent: str, name: str, kind: int, start: int, end: int, status: dict,
          attributes: list[dict]) -> dict:
    return {"traceId": trace, "spanId": span, "parentSpanId": parent, "name": name, "kind": kind,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(end), "status": status, "attributes": attributes}


def _batch(*resource_spans: dict) -> str:
    return json.dumps({"resourceSpans": list(resource_spans)}, separators=(",", ":"))


def otlp_lines(environment: str) -> list[str]:
    """The OTLP JSON lines of one environment's export (one batch per call, deterministic)."""
    lines = []
    n = 0
    for caller, callee, kind, method, route, calls, errors in TRAFFIC[environment]:
        for i in range(calls):
            n += 1
            trace = _id(environment, caller, callee, route, i, n=32)
            start = _T0 + (n * 7_000_000_000 if environment == "production" else n * 1_500_000_000)
            root, out, inn = _id(trace, "root"), _id(trace, "out"), _id(trace, "in")
            err = i < errors
            status = {"code": 2, "message": "upstream error"} if err else {"code": 1}
            root_span = {"traceId": trace, "spanId": root, "name": "place_order", "kind": 2,
                         "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 90_000_000),
                         "attributes": [_attr("http.request.method", "POST"), _attr("http.route", "/orders")],
                         "status": {"code": 1}}
            if kind == "http":
                out_span = _span(trace, out, root, method, 3, start + 5_000_000, start + 60_000_000, status,
                                 [_attr("http.request.method", method), _attr("server.address", callee),
                                  _attr("url.full", f"http://{callee}:8000{route}")])
                callee_span = _span(trace, inn, out, f"{method} {route}", 2, start + 10_000_000, start + 55_000_000,
                                    status, [_attr("http.request.method", method), _attr("http.route", route),
                                             _attr("http.response.status_code", 500 if err else 200)])
            else:
                kafka = [_attr("messaging.system", "kafka"), _attr("messaging.destination.name", route)]
                out_span = _span(trace, out, root, f"{route} publish", 4, start + 5_000_000, start + 8_000_000,
                                 {"code": 1}, kafka)
                callee_span = _span(trace, inn, out, f"{route} process", 5, start + 20_000_000, start + 30_000_000,
                                    {"code": 1}, kafka)
            lines.append(_batch(_resource(caller, environment, [root_span, out_span]),
                                _resource(callee, environment, [callee_span])))
    if environment == "production":
        for i in range(LOST_PARENTS):
            trace = _id("lost", i, n=32)
            span = _span(trace, _id(trace, "in"), _id(trace, "gone"), "GET /stock/{sku}", 2, _T0, _T0 + 1_000_000,
                         {"code": 1}, [_attr("http.request.method", "GET"), _attr("http.route", "/stock/{sku}")])
            lines.append(_batch(_resource("inventory", environment, [span])))
    return lines


def write(out_dir: Path) -> None:
    """Write ``contracts/`` and ``traces/`` into ``out_dir``."""
    contracts = out_dir / "contracts"
    (contracts / "pacts").mkdir(parents=True, exist_ok=True)
    (contracts / "inventory.openapi.yaml").write_text(INVENTORY_SPEC, encoding="utf-8")
    (contracts / "payments.swagger.json").write_text(json.dumps(PAYMENTS_SPEC, indent=2) + "\n", encoding="utf-8")
    (contracts / "pacts" / "orders-inventory.json").write_text(json.dumps(PACT, indent=2) + "\n", encoding="utf-8")
    for env in TRAFFIC:
        path = out_dir / "traces" / env / "spans.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(otlp_lines(env)) + "\n", encoding="utf-8")


def _line(files: dict[str, str], path: str, needle: str) -> int:
    lines = files[path].splitlines()
    hits = [i + 1 for i, ln in enumerate(lines) if needle in ln]
    if len(hits) != 1:
        raise AssertionError(f"{path}: {needle!r} found on {len(hits)} lines")
    return hits[0]


def truth(head_files: dict[str, str]) -> dict:
    """The service-level ground truth (``truth.json: services``)."""
    # (publisher, subscriber, topic): a message seam per service subscribing to a topic another publishes
    message_pairs = [(pub, sub, topic) for _p, _n, d, topic, pub in MESSAGES if d == "publish"
                     for _p2, _n2, d2, t2, sub in MESSAGES if d2 == "subscribe" and t2 == topic and sub != pub]
    declared = [(f"{a}->{b}", "http", m, t) for _p, _n, m, t, a, b in CALLS] + [
        (f"{a}->{b}", "message", "PUBLISH", topic) for a, b, topic in message_pairs]
    kinds: dict[str, set[str]] = defaultdict(set)
    for seam, kind, _m, _t in declared:
        kinds[seam].add(kind)
    sites = Counter(seam for seam, *_ in declared)
    observed: dict[str, Counter] = defaultdict(Counter)
    traffic: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for env, rows in TRAFFIC.items():
        for a, b, kind, m, r, calls, _e in rows:
            observed[f"{a}->{b}"][env] += calls
            if calls:
                traffic[(f"{a}->{b}", "PUBLISH" if kind == "message" else m, r)].add(env)
    out_seams: dict[str, dict[str, Any]] = {}
    for seam in sorted(set(kinds) | set(observed)):
        tests, production = observed[seam]["integrated"], observed[seam]["production"]
        out_seams[seam] = {"kind": "+".join(sorted(kinds[seam])), "call_sites": sites[seam],
                           "exercised_by_tests": tests > 0, "production_only": production > 0 and not tests,
                           "test_calls": tests, "production_calls": production}
    interactions = []
    for seam, method, tpl in sorted({(seam, m, t) for seam, _k, m, t in declared}):
        envs = traffic.get((seam, method, tpl), set())
        interactions.append({"seam": seam, "method": method, "path_template": tpl,
                             "exercised_by_tests": "integrated" in envs,
                             "production_only": "production" in envs and "integrated" not in envs})
    static = [s for s in out_seams.values() if s["call_sites"]]
    prod = [s for s in out_seams.values() if s["production_calls"]]
    return {
        "note": "service = component; traces generated by the builder (toolkit.sample.services), not recorded",
        "seams": out_seams,
        "calls": [{"path": p, "line": _line(head_files, p, needle), "method": m, "path_template": t, "caller": a,
                   "callee": b} for p, needle, m, t, a, b in CALLS],
        "unresolved_calls": [{"path": p, "line": _line(head_files, p, needle), "why": why} for p, needle, why in UNRESOLVED],
        "messages": [{"path": p, "line": _line(head_files, p, needle), "direction": d, "topic": t, "service": s}
                     for p, needle, d, t, s in MESSAGES],
        "endpoints": [{"path": p, "line": _line(head_files, p, needle), "method": m, "path_template": t, "service": s}
                      for p, needle, m, t, s in ENDPOINTS],
        "contract_drift": [DRIFT],
        "unused_endpoints": [{"service": "payments", "method": "POST", "path_template": "/refunds"}],
        "interactions": interactions,
        "pct_static_interactions_exercised": round(
            100.0 * sum(i["exercised_by_tests"] for i in interactions) / len(interactions), 1),
        "production_only": sorted(k for k, v in out_seams.items() if v["production_only"]),
        "pct_static_exercised": round(100.0 * sum(s["exercised_by_tests"] for s in static) / len(static), 1),
        "pct_production_exercised": round(100.0 * sum(s["exercised_by_tests"] for s in prod) / len(prod), 1),
        "trace_environments": sorted(TRAFFIC),
        "trace_missing_parents": LOST_PARENTS,
        "files": {"contracts": "contracts/", "traces": "traces/<environment>/spans.jsonl"},
    }
