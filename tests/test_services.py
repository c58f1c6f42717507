"""Static service interactions: HTTP calls, routes and messages read from real git repositories."""
from __future__ import annotations


import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.load.gitrepo import Repo
from toolkit.load.services import normalize_path, path_key, scan_services, scan_source
from toolkit.load.structure import load_structure

FILES = {
    "app/__init__.py": "",
    "app/orders/__init__.py": "",
    "app/orders/clients.py": """
        import os
        import requests
        import httpx
        from urllib.request import Request, urlopen
        from app.orders import settings

        INVENTORY = os.environ["INVENTORY_URL"]

        def reserve(sku, qty):
            r = requests.post(f"{INVENTORY}/stock/{sku}/reserve", json={"qty": qty})
            return r.json()

        def charge(order):
            base = os.getenv("PAYMENTS_URL", "http://payments:8080")
            with httpx.Client(base_url=base) as client:
                return client.get("/charges/" + order.id)

        def user(uid):
            req = Request(settings.USERS_API + "/users/%s" % uid, method="GET")
            return urlopen(req)

        def rates():
            return requests.get("https://api.rates.example.com/v1/latest")

        def mystery(url):
            return requests.request("DELETE", url)

        def shipping(order):
            s = requests.Session()
            return s.put(os.environ["SHIPPING_URL"] + "/shipments/" + str(order.id))
    """,
    "app/orders/events.py": """
        def publish(order):
            from kafka import KafkaProducer
            producer = KafkaProducer(bootstrap_servers="kafka:9092")
            producer.send("order-placed", b"{}")
    """,
    "app/orders/settings.py": "USERS_API = 'http://users:8000'\n",
    "app/inventory/__init__.py": "",
    "app/inventory/api.py": """
        from fastapi import APIRouter
        router = APIRouter(prefix="/stock")

        @router.post("/{sku}/reserve")
        def reserve(sku: str): ...

        @router.get("/{sku}")
        def level(sku: str): ...
    """,
    "app/payments/__init__.py": "",
    "app/payments/web.py": """
        from flask import Blueprint
        bp = Blueprint("payments", __name__, url_prefix="/charges")

        @bp.route("/<int:charge_id>", methods=["GET", "DELETE"])
        def charge(charge_id): ...
    """,
    "app/users/__init__.py": "",
    "app/users/urls.py": """
        from django.urls import path, re_path
        from . import views
        urlpatterns = [path("users/<int:uid>/", views.detail), re_path(r"^users/(?P<uid>\\d+)/orders$", views.orders)]
    """,
    "app/notifications/__init__.py": "",
    "app/notifications/worker.py": """
        import kafka
        import boto3
        import redis
        import pika

        def run():
            consumer = kafka.KafkaConsumer("order-placed", "user-created", group_id="n")
            sqs = boto3.client("sqs")
            sqs.receive_message(QueueUrl="https://sqs.eu-west-1.amazonaws.com/1/mail-queue")
            sns = boto3.client("sns")
            sns.publish(TopicArn="arn:aws:sns:eu-west-1:1:mail-sent", Message="x")
            r = redis.Redis()
            r.publish("cache-bust", "1")
            ch = pika.BlockingConnection().channel()
            ch.basic_publish(exchange="", routing_key="audit", body=b"x")
            ch.basic_consume(queue="returns", on_message_callback=print)
    """,
    "app/broken.py": "def f(:\n",
    "tests/test_orders.py": "import requests\nrequests.get('http://inventory/stock/1')\n",
    "deploy/docker-compose.yml": """
        services:
          orders:
            environment:
              SHIPPING_URL: http://shipper:9000
          shipper:
            image: shipping:1
          inventory:
            image: inventory:1
    """,
}


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    root = make_repo(tmp_path_factory.mktemp("svc") / "repo", FILES)
    repo = Repo.open(root)
    structure = load_structure(repo, cache=False, skips=[])
    return scan_services(structure, repo, skips=[])


def test_tables_follow_the_schema(scan):
    schema.check(scan.calls, "service_calls")
    schema.check(scan.endpoints, "service_endpoints")
    schema.check(scan.messages, "service_messages")


def _call(scan, line_text):
    calls = scan.calls
    hit = calls[calls["url_template"].str.contains(line_text, regex=False)]
    assert len(hit) == 1, calls[["line", "url_template"]]
    return hit.iloc[0]


def test_env_var_base_resolves_by_setting_name(scan):
    c = _call(scan, "/stock/")
    assert (c.method, c.url_template, c.path_template) == ("POST", "{INVENTORY_URL}/stock/{sku}/reserve",
                                                           "/stock/{sku}/reserve")
    assert c.callee_service == "inventory" and c.seam == "orders->inventory"
    assert c.library == "requests" and c.caller_service == "orders"
    assert "INVENTORY_URL" in c.resolved_by


def test_client_base_url_and_getenv_default_host(scan):
    c = _call(scan, "/charges/")
    assert c.library == "httpx" and c.method == "GET"
    assert c.path_template == "/charges/{id}" and c.callee_service == "payments"


def test_settings_attribute_and_urllib_request(scan):
    c = _call(scan, "/users/")
    assert c.library == "urllib.request" and c.method == "GET" and c.base == "USERS_API"
    assert c.callee_service == "users" and c.path_template == "/users/{param}"


def test_compose_environment_maps_setting_to_service(scan):
    c = _call(scan, "/shipments/")
    assert c.method == "PUT" and c.callee_service == "shipper" and "deployment env" in c.resolved_by


def test_unresolved_calls_are_listed_with_a_reason(scan):
    ext = _call(scan, "rates.example.com")
    assert pd.isna(ext.callee_service) and "not a known service" in ext.reason
    dyn = scan.calls[scan.calls["url_template"] == "{url}"].iloc[0]
    assert dyn.method == "DELETE" and pd.isna(dyn.callee_service) and dyn.reason


def test_tests_and_broken_files_are_not_scanned(scan):
    assert not scan.calls["path"].str.startswith("tests/").any()
    assert "app/broken.py" not in set(scan.calls["path"])


def test_routes_of_three_frameworks(scan):
    ep = {(r.service, r.method, r.path_template, r.framework) for r in scan.endpoints.itertuples()}
    assert ("inventory", "POST", "/stock/{sku}/reserve", "fastapi") in ep
    assert ("inventory", "GET", "/stock/{sku}", "fastapi") in ep
    assert ("payments", "GET", "/charges/{charge_id}", "flask") in ep
    assert ("payments", "DELETE", "/charges/{charge_id}", "flask") in ep
    assert ("users", "ANY", "/users/{uid}", "django") in ep
    assert ("users", "ANY", "/users/{uid}/orders", "django") in ep


def test_messages_of_five_libraries(scan):
    got = {(r.service, r.direction, r.topic, r.broker) for r in scan.messages.itertuples()}
    assert got == {
        ("orders", "publish", "order-placed", "kafka"),
        ("notifications", "subscribe", "order-placed", "kafka"),
        ("notifications", "subscribe", "user-created", "kafka"),
        ("notifications", "subscribe", "mail-queue", "sqs"),
        ("notifications", "publish", "mail-sent", "sns"),
        ("notifications", "publish", "cache-bust", "redis"),
        ("notifications", "publish", "audit", "rabbitmq"),
        ("notifications", "subscribe", "returns", "rabbitmq"),
    }


def test_service_map_merges_components(tmp_path):
    root = make_repo(tmp_path / "r", {k: v for k, v in FILES.items() if k != "app/broken.py"})
    repo = Repo.open(root)
    s = scan_services(load_structure(repo, cache=False), repo, service_map={"payments": "billing"})
    c = s.calls[s.calls["path_template"] == "/charges/{id}"].iloc[0]
    # PAYMENTS_URL (default host 'payments') no longer names a service once payments is deployed as 'billing'
    assert pd.isna(c.callee_service) and "PAYMENTS_URL" in c.reason
    assert set(s.endpoints.loc[s.endpoints["path"] == "app/payments/web.py", "service"]) == {"billing"}


def test_scan_source_concatenation_and_format():
    src = b"import requests\nB = 'http://inventory:80'\ndef f(x):\n    requests.get(B + '/a/{}'.format(x))\n"
    calls, _, _ = scan_source("m.py", "m", src, "orders")
    assert calls[0]["url_template"] == "http://inventory:80/a/{param}"


def test_path_normalisation():
    assert normalize_path("users/<int:uid>/") == "/users/{uid}"
    assert normalize_path("^x/(?P<id>\\d+)$") == "/x/{id}"
    assert normalize_path("/a/:id?q=1") == "/a/{id}"
    assert path_key("/a/{id}/b") == path_key("/a/{other}/b/") == "/a/{}/b"


def test_aiohttp_sessions_and_urllib3_pools():
    src = b"""
import aiohttp
import urllib3
import os

http = urllib3.PoolManager()

async def fetch(uid):
    async with aiohttp.ClientSession(os.environ["USERS_URL"]) as session:
        async with session.get(f"/users/{uid}") as resp:
            return await resp.json()

def ping():
    return http.request("HEAD", "http://search:9200/_cluster/health")

def plain():
    return urllib3.request("GET", os.getenv("CATALOG_URL") + "/products")
"""
    calls, _, _ = scan_source("m.py", "m", src, "web")
    got = {(c["library"], c["method"], c["url_template"]) for c in calls}
    assert got == {("aiohttp", "GET", "{USERS_URL}/users/{uid}"),
                   ("urllib3", "HEAD", "http://search:9200/_cluster/health"),
                   ("urllib3", "GET", "{CATALOG_URL}/products")}
