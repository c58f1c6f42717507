"""Service seams: code + contracts + traces -> seams with level 'service', contract review, trace coverage."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.analyze.service_seams import RANKING_COLUMNS, message_seams, service_seam_table, service_seams
from toolkit.load.contracts import load_contracts
from toolkit.load.gitrepo import Repo
from toolkit.load.services import scan_services
from toolkit.load.structure import load_structure
from test_traces import otlp_line, resource, span

T = 1_700_000_000_000_000_000

CODE = {
    "app/__init__.py": "",
    "app/orders/__init__.py": "",
    "app/orders/remote.py": """
        import os
        import requests

        def level(sku):
            return requests.get(os.environ["INVENTORY_URL"] + "/stock/" + sku).json()["level"]

        def reserve(sku):
            return requests.post(f"{os.environ['INVENTORY_URL']}/stock/{sku}/reserve", json={"quantity": 1})

        def charge(order):
            return requests.post(os.environ["PAYMENTS_URL"] + "/charges", json={"amount": 1})

        def publish(order):
            import kafka
            kafka.KafkaProducer().send("order-placed", b"{}")
    """,
    "app/inventory/__init__.py": "",
    "app/inventory/api.py": """
        from fastapi import APIRouter
        router = APIRouter()

        @router.get("/stock/{sku}")
        def level(sku): ...

        @router.post("/stock/{sku}/reserve")
        def reserve(sku): ...
    """,
    "app/payments/__init__.py": "",
    "app/payments/api.py": """
        from flask import Flask
        app = Flask(__name__)

        @app.route("/refunds", methods=["POST"])
        def refund(): ...
    """,
    "app/notifications/__init__.py": "",
    "app/notifications/worker.py": """
        from kafka import KafkaConsumer

        def run():
            for m in KafkaConsumer("order-placed"):
                print(m)
    """,
}

SPEC = {
    "openapi": "3.0.0", "info": {"title": "inventory", "version": "1"}, "x-service": "inventory",
    "paths": {
        "/stock/{sku}": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"sku": {"type": "string"}, "available": {"type": "integer"}}}}}}}}},
        "/stock/{sku}/reserve": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "required": ["quantity", "order_id"]}}}},
            "responses": {"201": {"description": "ok"}}}},
        "/stock": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}

PACT = {
    "consumer": {"name": "orders"}, "provider": {"name": "inventory"},
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
    "interactions": [
        {"description": "level", "request": {"method": "GET", "path": "/stock/A-1"},
         "response": {"status": 200, "body": {"sku": "A-1", "level": 3}}},
        {"description": "reserve", "request": {"method": "POST", "path": "/stock/A-1/reserve", "body": {"quantity": 1}},
         "response": {"status": 201}},
        {"description": "delete", "request": {"method": "DELETE", "path": "/stock/A-1"}, "response": {"status": 204}},
    ],
}
PACT_PAYMENTS = {"consumer": {"name": "orders"}, "provider": {"name": "payments"}, "interactions": [
    {"description": "charge", "request": {"method": "POST", "path": "/charges"}, "response": {"status": 200}}]}


def _traces(tmp_path):
    def call(trace, env, caller, callee, route, method="POST", err=False):
        return otlp_line(resource(caller, [span(trace, trace + "c", None, method, 3, T, T + 100)], env=env),
                         resource(callee, [span(trace, trace + "s", trace + "c", route, 2, T + 1, T + 99, error=err,
                                                http_route=route, http_request_method=method)], env=env))
    lines = [call("1", "integration", "orders", "inventory", "/stock/{sku}", "GET"),
             call("2", "production", "orders", "inventory", "/stock/{sku}", "GET"),
             call("3", "production", "orders", "payments", "/charges", err=True),
             call("4", "production", "orders", "payments", "/charges")]
    p = tmp_path / "traces.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")
    from toolkit.load.traces import load_traces
    return load_traces([p], skips=[])


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ss")
    root = make_repo(tmp / "repo", CODE)
    repo = Repo.open(root)
    scan = scan_services(load_structure(repo, cache=False), repo, skips=[])
    (tmp / "c").mkdir()
    (tmp / "c" / "inventory.openapi.json").write_text(json.dumps(SPEC), encoding="utf-8")
    (tmp / "c" / "orders-inventory.pact.json").write_text(json.dumps(PACT), encoding="utf-8")
    (tmp / "c" / "orders-payments.pact.json").write_text(json.dumps(PACT_PAYMENTS), encoding="utf-8")
    contracts = load_contracts([tmp / "c"], skips=[])
    return service_seams(scan, contracts, _traces(tmp))


def test_seams_have_service_level_and_schema(result):
    schema.check(result.seams, "service_seams")
    schema.check(result.contract_findings, "contract_findings")
    s = result.seams.set_index("seam")
    assert set(s.index) == {"orders->inventory", "orders->payments", "orders->notifications"}
    assert set(s["level"]) == {"service"}
    assert s.loc["orders->inventory", "call_sites"] == 2 and s.loc["orders->inventory", "kind"] == "http"
    assert s.loc["orders->notifications", "kind"] == "message" and s.loc["orders->notifications", "call_sites"] == 1


def test_trace_coverage(result):
    s = result.seams.set_index("seam")
    assert s.loc["orders->inventory", "status"] == "tested" and s.loc["orders->inventory", "test_calls"] == 1
    assert s.loc["orders->payments", "status"] == "production_only" and bool(s.loc["orders->payments", "production_only"])
    assert s.loc["orders->payments", "production_errors"] == 1
    assert s.loc["orders->notifications", "status"] == "untested"
    sm = result.summary
    assert sm["pct_static_service_seams_exercised"] == pytest.approx(33.3)
    assert sm["pct_production_service_seams_exercised"] == 50.0
    assert sm["production_only_seams"] == ["orders->payments"]
    schema.check(result.interactions, "service_interactions")
    inter = {(r.seam, r.method, r.path_template): (r.call_sites, r.test_calls, r.production_calls)
             for r in result.interactions.itertuples()}
    assert inter == {("orders->inventory", "GET", "/stock/{sku}"): (1, 1, 1),
                     ("orders->inventory", "POST", "/stock/{sku}/reserve"): (1, 0, 0),
                     ("orders->payments", "POST", "/charges"): (1, 0, 2),
                     ("orders->notifications", "PUBLISH", "order-placed"): (1, 0, 0)}
    assert sm["pct_static_service_interactions_exercised"] == 25.0
    assert sm["pct_production_service_interactions_exercised"] == 50.0


def test_contract_review(result):
    f = result.contract_findings
    got = {(r.finding, r.method, r.path_template, None if pd.isna(r.field) else r.field) for r in f.itertuples()}
    assert ("pact_missing_response_field", "GET", "/stock/{sku}", "level") in got  # consumer reads, spec dropped it
    assert ("pact_required_field", "POST", "/stock/{sku}/reserve", "order_id") in got
    assert ("pact_method", "DELETE", "/stock/{sku}", None) in got
    assert ("pact_path", "POST", "/charges", None) in got  # payments has no spec; its routes lack /charges
    assert ("unrouted_call", "POST", "/charges", None) in got
    assert ("unused_endpoint", "GET", "/stock", None) in got
    # the calls that the spec documents are not findings
    assert not any(k[0] == "undocumented_call" for k in got)
    assert result.seams.set_index("seam").loc["orders->inventory", "contract_drift"] == 3


def test_undocumented_call_against_a_spec():
    from toolkit.analyze.service_seams import review_contracts
    from toolkit.load.contracts import Contracts
    calls = pd.DataFrame([{"path": "a.py", "line": 3, "caller_service": "a", "method": "PUT",
                           "path_template": "/stock/{x}", "callee_service": "inventory"}])
    spec = pd.DataFrame([{"source": "s", "service": "inventory", "method": "GET", "path_template": "/stock/{sku}",
                          "operation_id": None, "response_fields": [], "required_request_fields": [],
                          "spec_version": "3"}])
    c = Contracts(endpoints=schema.conform(spec, "contract_endpoints"), pacts=schema.empty("pact_interactions"))
    f = review_contracts(calls, schema.empty("service_endpoints"), c)
    assert sorted(f["finding"]) == ["undocumented_call", "unused_endpoint"]  # PUT is not documented, GET not used
    assert f.loc[f["finding"] == "undocumented_call", "source"].tolist() == ["a.py:3"]


def test_without_traces_status_is_not_traced(tmp_path):
    root = make_repo(tmp_path / "repo", CODE)
    repo = Repo.open(root)
    r = service_seams(scan_services(load_structure(repo, cache=False), repo))
    assert set(r.seams["status"]) == {"not_traced"}
    assert r.summary["pct_static_service_seams_exercised"] is None


def test_ranking_table(result):
    t = service_seam_table(result, factors=False)
    assert list(t.columns) == RANKING_COLUMNS and set(t["level"]) == {"service"}
    f = service_seam_table(result).set_index("seam")
    assert f.loc["orders->inventory", "f_integration_gap"] == 0 and f.loc["orders->notifications", "f_integration_gap"] == 1
    assert f.loc["orders->inventory", "f_drift"] == 1 and f.loc["orders->payments", "f_environment"] == 1


def test_message_seams_skip_self_subscriptions():
    m = pd.DataFrame([{"service": "a", "direction": "publish", "topic": "t", "broker": "kafka"},
                      {"service": "a", "direction": "subscribe", "topic": "t", "broker": "kafka"},
                      {"service": "b", "direction": "subscribe", "topic": "t", "broker": "kafka"}])
    assert list(message_seams(m)["seam"]) == ["a->b"]


# ---- the embedded sample: analyses against truth.json ---------------------------------------------------
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    if "services" not in truth:
        pytest.skip("the sample was built without services")
    from toolkit.config import sample_config
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings
    return truth["services"], Findings(load_evidence(sample_config(SAMPLE)))


def test_sample_static_interactions_match_truth(sample):
    truth, f = sample
    scan = f.ev.service_scan
    resolved = scan.calls.dropna(subset=["callee_service"])
    got = {(r.path, r.line, r.method, r.path_template, r.caller_service, r.callee_service) for r in resolved.itertuples()}
    assert got == {(c["path"], c["line"], c["method"], c["path_template"], c["caller"], c["callee"]) for c in truth["calls"]}
    unresolved = {(r.path, r.line) for r in scan.calls[scan.calls["callee_service"].isna()].itertuples()}
    assert unresolved == {(c["path"], c["line"]) for c in truth["unresolved_calls"]}
    assert {(r.path, r.line, r.direction, r.topic, r.service) for r in scan.messages.itertuples()} == {
        (m["path"], m["line"], m["direction"], m["topic"], m["service"]) for m in truth["messages"]}
    assert {(r.path, r.line, r.method, r.path_template, r.service) for r in scan.endpoints.itertuples()} == {
        (e["path"], e["line"], e["method"], e["path_template"], e["service"]) for e in truth["endpoints"]}


def test_sample_service_seams_and_coverage_match_truth(sample):
    truth, f = sample
    s = f.services
    seams = s.seams.set_index("seam")
    assert set(seams.index) == set(truth["seams"])
    for seam, t in truth["seams"].items():
        row = seams.loc[seam]
        assert (row["kind"], row["call_sites"], bool(row["exercised_by_tests"]), bool(row["production_only"]),
                row["test_calls"], row["production_calls"]) == (t["kind"], t["call_sites"], t["exercised_by_tests"],
                                                                t["production_only"], t["test_calls"],
                                                                t["production_calls"]), seam
    assert s.summary["production_only_seams"] == truth["production_only"]
    assert s.summary["pct_static_service_seams_exercised"] == truth["pct_static_exercised"]
    assert s.summary["pct_production_service_seams_exercised"] == truth["pct_production_exercised"]
    assert s.summary["trace_missing_parents"] == truth["trace_missing_parents"]
    inter = {(r.seam, r.method, r.path_template): (bool(r.exercised_by_tests), bool(r.production_only))
             for r in s.interactions.itertuples()}
    assert inter == {(i["seam"], i["method"], i["path_template"]): (i["exercised_by_tests"], i["production_only"])
                     for i in truth["interactions"]}
    assert s.summary["pct_static_service_interactions_exercised"] == truth["pct_static_interactions_exercised"]
    assert s.summary["trace_clock_skew"] == 0


def test_sample_contract_drift_is_found_and_nothing_else(sample):
    truth, f = sample
    cf = f.services.contract_findings
    drift = cf[cf["finding"] != "unused_endpoint"]
    assert {(r.finding, r.seam, r.method, r.path_template, r.field) for r in drift.itertuples()} == {
        (d["finding"], d["seam"], d["method"], d["path_template"], d["field"]) for d in truth["contract_drift"]}
    unused = cf[cf["finding"] == "unused_endpoint"]
    assert {(r.provider, r.method, r.path_template) for r in unused.itertuples()} == {
        (u["service"], u["method"], u["path_template"]) for u in truth["unused_endpoints"]}


def test_sample_report_section(sample):
    from toolkit.core.audit_result import Audit
    from toolkit.report.sections import service_section
    _, f = sample
    sec = service_section(f, Audit.of(f))
    assert sec.summary["production_only_seams"] == ["orders->notifications"]
    assert {t.name for t in sec.tables} >= {"service_seams", "service_calls", "contract_findings", "trace_edges"}


def test_sample_service_seams_rank_with_the_code_seams(sample):
    from toolkit.analyze.seam_ranking import rank_seams
    from toolkit.analyze.service_seams import service_seam_table
    _, f = sample
    t = rank_seams(**f.ranking_inputs(), extra_seams=service_seam_table(f.services)).table
    svc = t[t["level"] == "service"].set_index("seam")
    assert set(svc.index) == {"orders->inventory", "orders->payments", "orders->notifications"}
    # untested and production-only outranks the tested seams at the service level
    assert svc.loc["orders->notifications", "rank"] < svc.loc["orders->payments", "rank"]


def test_config_reads_contracts_and_traces(tmp_path):
    from toolkit.config import load_toml
    from toolkit.errors import InputError as IE
    (tmp_path / "specs").mkdir()
    (tmp_path / "seamscope.toml").write_text('repo = "."\ncontracts = ["specs/"]\ntraces = "traces/"\n', encoding="utf-8")
    c = load_toml(tmp_path / "seamscope.toml")
    assert c.contracts == ((tmp_path / "specs").resolve(),) and c.traces == ((tmp_path / "traces").resolve(),)
    with pytest.raises(IE) as err:
        c.check_paths()
    assert err.value.flag == "--traces"
