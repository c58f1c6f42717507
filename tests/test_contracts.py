"""OpenAPI 3 / Swagger 2 specs and Pact files, including the inputs that must not crash."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from toolkit.vocab import schema
from toolkit.errors import InputError, Skip
from toolkit.load.contracts import load_contracts, load_openapi, load_pact

OPENAPI = """
openapi: 3.0.3
info: {title: Inventory API, version: "1"}
servers: [{url: "http://inventory:8000/api"}]
paths:
  /stock/{sku}:
    parameters: [{name: sku, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getStock
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Stock"}
        "404": {description: missing}
  /stock/{sku}/reserve:
    post:
      parameters: [{name: dry_run, in: query, required: true, schema: {type: boolean}}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [quantity, order_id]
              properties: {quantity: {type: integer}, order_id: {type: string}}
      responses:
        "201":
          description: reserved
          content:
            application/json:
              schema:
                type: object
                properties:
                  reservations:
                    type: array
                    items: {$ref: "#/components/schemas/Reservation"}
components:
  schemas:
    Stock:
      allOf:
        - {$ref: "#/components/schemas/Base"}
        - type: object
          properties: {level: {type: integer}, warehouse: {$ref: "#/components/schemas/Warehouse"}}
    Base:
      type: object
      properties: {sku: {type: string}}
    Warehouse:
      type: object
      properties: {code: {type: string}, parent: {$ref: "#/components/schemas/Warehouse"}}
    Reservation:
      type: object
      properties: {id: {type: string}, expires: {$ref: "https://schemas.example.com/time.json#/Instant"}}
"""

SWAGGER = {
    "swagger": "2.0", "basePath": "/v1", "info": {"title": "Payments", "version": "1"},
    "paths": {"/charges": {"post": {
        "parameters": [{"in": "body", "name": "b", "schema": {"$ref": "#/definitions/ChargeIn"}}],
        "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Charge"}}}}}},
    "definitions": {"ChargeIn": {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}},
                    "Charge": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"type": "string"}}}},
}


def pact(version: str | None, interactions: list | None = None) -> dict:
    doc = {"consumer": {"name": "orders"}, "provider": {"name": "inventory"},
           "interactions": interactions if interactions is not None else [{
               "description": "a stock level", "request": {"method": "get", "path": "/api/stock/A-1"},
               "response": {"status": 200, "body": {"sku": "A-1", "level": 3, "warehouse": {"code": "W1"}}}}]}
    if version is not None:
        doc["metadata"] = {"pactSpecification": {"version": version}}
    return doc


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip("\n") if not text.startswith("{") else text, encoding="utf-8")
    return p


def test_openapi3_fields_refs_and_servers_prefix(tmp_path):
    skips: list[Skip] = []
    df = load_openapi(write(tmp_path, "inventory.openapi.yaml", OPENAPI), skips=skips)
    schema.check(df, "contract_endpoints")
    rows = {(r.method, r.path_template): r for r in df.itertuples()}
    assert set(rows) == {("GET", "/api/stock/{sku}"), ("POST", "/api/stock/{sku}/reserve")}
    assert set(df["service"]) == {"inventory"}
    get = rows[("GET", "/api/stock/{sku}")]
    assert get.operation_id == "getStock"
    assert {"sku", "level", "warehouse", "warehouse.code", "warehouse.parent"} <= set(get.response_fields)
    post = rows[("POST", "/api/stock/{sku}/reserve")]
    assert post.required_request_fields == ["?dry_run", "quantity", "order_id"]
    assert "reservations[].id" in post.response_fields and "reservations[].expires" in post.response_fields
    reasons = " | ".join(s.reason for s in skips)
    assert "remote $ref 'https://schemas.example.com/time.json#/Instant' not fetched" in reasons
    assert "$ref cycle through '#/components/schemas/Warehouse'" in reasons


def test_swagger2_body_parameters_and_base_path(tmp_path):
    p = tmp_path / "payments-swagger.json"
    p.write_text(json.dumps(SWAGGER), encoding="utf-8")
    df = load_openapi(p)
    r = df.iloc[0]
    assert (r.service, r.method, r.path_template) == ("payments", "POST", "/v1/charges")
    assert r.required_request_fields == ["amount"] and r.response_fields == ["id", "status"]


def test_invalid_yaml_names_the_line(tmp_path):
    p = write(tmp_path, "bad.openapi.yaml", "openapi: 3.0.0\npaths:\n  /x:\n    get: [unclosed\n  /y: {}\n")
    with pytest.raises(InputError) as err:
        load_openapi(p)
    assert err.value.line is not None and err.value.line >= 4 and "not valid YAML" in str(err.value)


def test_invalid_json_names_the_line(tmp_path):
    p = tmp_path / "x.pact.json"
    p.write_text('{\n "consumer": {"name": "a"},\n "provider": \n}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_pact(p)
    assert err.value.line == 4


@pytest.mark.parametrize("version", [None, "2.0.0", "3.0.0"])
def test_pact_v2_v3(tmp_path, version):
    p = tmp_path / "orders-inventory.json"
    p.write_text(json.dumps(pact(version)), encoding="utf-8")
    df = load_pact(p)
    schema.check(df, "pact_interactions")
    r = df.iloc[0]
    assert (r.consumer, r.provider, r.method, r.path_template, r.status) == ("orders", "inventory", "GET",
                                                                             "/api/stock/A-1", 200)
    assert r.response_fields == ["sku", "level", "warehouse", "warehouse.code"]


def test_pact_v4_http_only(tmp_path):
    doc = pact("4.0", [
        {"type": "Synchronous/HTTP", "description": "d", "request": {"method": "POST", "path": "/x",
                                                                      "body": {"content": {"a": 1}}},
         "response": {"status": 201, "body": {"content": {"id": "1"}}}},
        {"type": "Asynchronous/Messages", "description": "m", "contents": {}}])
    p = tmp_path / "v4.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    skips: list[Skip] = []
    df = load_pact(p, skips=skips)
    assert len(df) == 1 and df.iloc[0].request_fields == ["a"] and df.iloc[0].response_fields == ["id"]
    assert any("not an HTTP interaction" in s.reason for s in skips)


def test_unknown_pact_version_is_skipped_with_its_number(tmp_path):
    p = tmp_path / "future.json"
    p.write_text(json.dumps(pact("9.1.0")), encoding="utf-8")
    skips: list[Skip] = []
    assert load_pact(p, skips=skips).empty
    assert skips and "version 9.1.0 is not supported" in skips[0].reason


def test_load_contracts_folder_mix(tmp_path):
    write(tmp_path, "specs/inventory.openapi.yaml", OPENAPI)
    (tmp_path / "specs" / "payments-swagger.json").write_text(json.dumps(SWAGGER), encoding="utf-8")
    (tmp_path / "pacts").mkdir()
    (tmp_path / "pacts" / "orders-inventory.json").write_text(json.dumps(pact("3.0.0")), encoding="utf-8")
    (tmp_path / "pacts" / "notes.json").write_text('{"hello": 1}', encoding="utf-8")
    skips: list[Skip] = []
    c = load_contracts([tmp_path], skips=skips)
    assert set(c.endpoints["service"]) == {"inventory", "payments"} and len(c.pacts) == 1
    assert any("neither an OpenAPI" in s.reason for s in skips)
    with pytest.raises(InputError):
        load_contracts([tmp_path / "missing"])


def test_contracts_committed_in_the_repository(tmp_path):
    from gitutil import make_repo
    from toolkit.load.contracts import contracts_in_repo, merge_contracts
    from toolkit.load.gitrepo import Repo
    from toolkit.load.structure import load_structure
    files = {
        "app/__init__.py": "", "app/inventory/__init__.py": "", "app/orders/__init__.py": "",
        "app/inventory/openapi.yaml": textwrap.dedent(OPENAPI).lstrip("\n"),
        "app/orders/pacts/orders-inventory.pact.json": json.dumps(pact("3.0.0")),
        "app/orders/swagger.yaml": "swagger: '2.0'\npaths:\n  /x: {get: [oops\n",
    }
    root = make_repo(tmp_path / "repo", files)
    repo = Repo.open(root)
    skips: list[Skip] = []
    c = contracts_in_repo(load_structure(repo, cache=False), repo, skips=skips)
    # openapi.yaml names no service: the component whose folder holds it is the provider
    assert set(c.endpoints["service"]) == {"inventory"} and len(c.pacts) == 1
    bad = [s for s in skips if s.path == "app/orders/swagger.yaml"]
    assert bad and bad[0].line >= 3 and "does not parse" in bad[0].reason
    merged = merge_contracts(None, c, c)
    assert len(merged.endpoints) == 2 * len(c.endpoints)
    assert merge_contracts(None) is None
