"""Mocked boundaries: every mechanism in a real test file of a real git repo, targets and scopes asserted."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap, is_test_path, module_name
from toolkit.vocab.external_services import external_service
from toolkit.load.mocks import scan_mocks
from toolkit.vocab.testids import base_test_id

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

REPO = {
    "shop/__init__.py": "",
    "shop/orders/__init__.py": "",
    "shop/orders/service.py": """\
        import requests
        from shop import payments
        from shop.inventory import stock as inv
        from shop.payments.gateway import PaymentGateway


        def place(amount):
            requests.post("http://x")
            return payments.charge(amount)
        """,
    "shop/payments/__init__.py": "def charge(amount):\n    return amount\n",
    "shop/payments/gateway.py": "class PaymentGateway:\n    def pay(self):\n        return 1\n",
    "shop/inventory/__init__.py": "",
    "shop/inventory/stock.py": "class Stock:\n    pass\n\n\ndef reserve():\n    pass\n\n\ndef release():\n    pass\n",
    "shop/notifications/__init__.py": "",
    "shop/notifications/sender.py": "def send():\n    pass\n",
    "tests/__init__.py": "",
    "tests/conftest.py": """\
        import pytest

        from shop.payments.gateway import PaymentGateway


        class FakePaymentGateway(PaymentGateway):
            def pay(self):
                return 0


        @pytest.fixture
        def gateway():
            return FakePaymentGateway()


        @pytest.fixture(autouse=True)
        def no_email(monkeypatch):
            monkeypatch.setattr("shop.notifications.sender.send", lambda *a: None)
        """,
    "tests/unit/test_orders.py": """\
        import unittest
        from unittest import mock
        from unittest.mock import MagicMock, create_autospec, patch

        import pytest
        import responses

        from shop.inventory import stock
        from shop.inventory.stock import Stock
        from shop.orders import service


        class InMemoryStock:
            pass


        @patch("shop.orders.service.payments.charge")
        def test_decorator(charge):
            service.place(1)


        @patch("shop.orders.service.inv.reserve")
        def test_alias(reserve):
            pass


        def test_context_manager():
            with mock.patch.object(service, "payments"):
                service.place(1)


        def test_start():
            p = patch("shop.inventory.stock.reserve")
            p.start()


        def test_dict():
            with patch.dict("os.environ", {"A": "1"}):
                pass


        @patch.multiple("shop.inventory.stock", reserve=mock.DEFAULT, release=mock.DEFAULT)
        def test_multiple(reserve, release):
            pass


        def test_spec():
            MagicMock(spec=Stock)
            create_autospec(service.place)


        def test_mocker(mocker):
            mocker.patch("shop.orders.service.requests.post")
            mocker.patch.object(stock, "reserve")


        def test_monkeypatch(monkeypatch):
            monkeypatch.setattr(service, "payments", None)
            monkeypatch.setattr("shop.payments.charge", lambda a: a)


        @responses.activate
        def test_responses():
            responses.add(responses.GET, "http://x")
            responses.add(responses.POST, "http://y")


        def test_requests_mock(requests_mock):
            pass


        def test_fake(gateway):
            pass


        def test_in_memory():
            InMemoryStock()


        @pytest.fixture
        def patched_stock():
            with patch("shop.inventory.stock.release"):
                yield


        @pytest.fixture
        def outer(patched_stock):
            return 1


        def test_fixture_chain(outer):
            pass


        @pytest.mark.usefixtures("patched_stock")
        def test_usefixtures():
            pass


        @pytest.mark.parametrize("n", [1, 2])
        def test_plain(n):
            pass


        @patch("shop.payments.charge")
        class TestClassScope:
            def test_a(self, charge):
                pass

            def test_b(self, charge):
                pass


        class TestSetup(unittest.TestCase):
            def setUp(self):
                self.p = patch("shop.inventory.stock.reserve")
                self.p.start()

            def test_x(self):
                pass
        """,
    "tests/unit/test_conditional.py": """\
        import os
        from unittest.mock import patch

        import pytest
        import responses

        from shop.inventory import stock

        OFF_CI = os.environ.get("CI") != "integration"

        try:
            import fancy_lib
        except ImportError:
            patch.dict("sys.modules", {"fancy_lib": None}).start()


        @pytest.fixture
        def maybe_fake_stock(monkeypatch):
            if OFF_CI:
                monkeypatch.setattr(stock, "release", lambda: None)
            yield


        @patch("shop.payments.charge")
        def test_branches(charge, mocker, monkeypatch):
            mocker.patch("shop.inventory.stock.reserve")
            if OFF_CI:
                monkeypatch.setattr("shop.payments.gateway.PaymentGateway.pay", lambda self: 0)
            elif os.environ.get("CI") == "nightly":
                mocker.patch("shop.orders.service.place")
            gateway = mocker.patch("shop.payments.gateway.PaymentGateway") if OFF_CI else None
            try:
                mocker.patch.object(stock, "Stock")
            except RuntimeError:
                mocker.patch("shop.notifications.sender")
            finally:
                mocker.patch("shop.orders.service.cancel")
            match os.environ.get("MODE"):
                case "offline":
                    mocker.patch("shop.payments.gateway")


        def test_fixture_one(maybe_fake_stock):
            pass


        def test_fixture_two(maybe_fake_stock):
            pass


        @responses.activate
        def test_stub_always():
            if OFF_CI:
                responses.add(responses.GET, "http://x")


        def test_stub_sometimes():
            if OFF_CI:
                responses.add(responses.GET, "http://x")
        """,
    "tests/integration/test_http.py": """\
        import pytest

        pytestmark = pytest.mark.vcr


        def test_recorded():
            pass
        """,
    "tests/integration/test_broken.py": "def test_(:\n",
}


def small_structure(paths: list[str], imports: list[tuple[str, str, str | None]]):
    """The structure tables this module reads, built directly (files + imports)."""
    cm = ComponentMap.from_files(paths)
    files = pd.DataFrame({"path": paths, "component": [cm.component_of(p) for p in paths],
                          "module": [module_name(p) if p.endswith(".py") else None for p in paths],
                          "kind": "python", "is_test": [is_test_path(p) for p in paths], "loc": 1})
    imp = pd.DataFrame([{"path": m.replace(".", "/") + ".py", "line": 1, "module": m, "component": cm.component_of_module(m),
                         "target_module": t, "target_symbol": s, "target_component": cm.component_of_module(t),
                         "is_relative": False, "is_conditional": False, "is_type_checking": False,
                         "is_function_local": False} for m, t, s in imports])
    return SimpleNamespace(components=cm, files=schema.conform(files, "files"), imports=schema.conform(imp, "imports"),
                           call_sites=schema.empty("call_sites"))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    root = make_repo(tmp_path_factory.mktemp("mockrepo"), REPO)
    st = small_structure(sorted(REPO), [("shop.orders.service", "requests", None),
                                        ("shop.orders.service", "shop.payments", None),
                                        ("shop.orders.service", "shop.payments.gateway", "PaymentGateway")])
    skips: list = []
    df = scan_mocks(st, root, skips=skips)
    return df, skips, root, st


def rows(df: pd.DataFrame, test: str) -> set[tuple]:
    sub = df[df.test_id == "tests.unit.test_orders." + test]
    return {(m, q, None if pd.isna(c) else c) for m, q, c in zip(sub.mechanism, sub.target_qualname, sub.target_component)
            if not (m == "monkeypatch" and q == "shop.notifications.sender.send")}


def test_schema_and_skips(scanned):
    df, skips, _, _ = scanned
    schema.check(df, "mocks")
    assert [s.path for s in skips] == ["tests/integration/test_broken.py"]


@pytest.mark.parametrize("test, expected", [
    ("test_decorator", {("patch", "shop.payments.charge", "payments")}),
    ("test_context_manager", {("patch.object", "shop.payments", "payments")}),
    # the alias is only in the source of service.py, not in the imports table
    ("test_alias", {("patch", "shop.inventory.stock.reserve", "inventory")}),
    ("test_start", {("patch", "shop.inventory.stock.reserve", "inventory")}),
    ("test_dict", {("patch.dict", "os.environ", None)}),
    ("test_multiple", {("patch.multiple", "shop.inventory.stock.reserve", "inventory"),
                       ("patch.multiple", "shop.inventory.stock.release", "inventory")}),
    ("test_spec", {("magicmock_spec", "shop.inventory.stock.Stock", "inventory"),
                   ("autospec", "shop.orders.service.place", "orders")}),
    ("test_mocker", {("mocker.patch", "requests.post", None),
                     ("mocker.patch.object", "shop.inventory.stock.reserve", "inventory")}),
    ("test_monkeypatch", {("monkeypatch", "shop.payments", "payments"),
                          ("monkeypatch", "shop.payments.charge", "payments")}),
    ("test_responses", {("responses", "requests", None)}),
    ("test_requests_mock", {("requests_mock", "requests", None)}),
    ("test_fake", {("fake_class", "shop.payments.gateway.PaymentGateway", "payments")}),
    ("test_in_memory", {("fake_class", "shop.inventory.stock.Stock", "inventory")}),
    ("test_fixture_chain", {("patch", "shop.inventory.stock.release", "inventory")}),
    ("test_usefixtures", {("patch", "shop.inventory.stock.release", "inventory")}),
    ("test_plain", set()),
    ("TestClassScope.test_a", {("patch", "shop.payments.charge", "payments")}),
    ("TestClassScope.test_b", {("patch", "shop.payments.charge", "payments")}),
    ("TestSetup.test_x", {("patch", "shop.inventory.stock.reserve", "inventory")}),
])
def test_mechanisms_targets_and_scopes(scanned, test, expected):
    df, *_ = scanned
    assert rows(df, test) == expected


def conditional_rows(df: pd.DataFrame, test: str) -> set[tuple]:
    """(mechanism, target, conditional) of one test of test_conditional.py, without the autouse conftest mock."""
    sub = df[(df.test_id == "tests.unit.test_conditional." + test) & (df.target != "shop.notifications.sender.send")]
    return {(m, t, bool(c)) for m, t, c in zip(sub.mechanism, sub.target, sub.conditional)}


FANCY = ("patch.dict", "sys.modules", True)  # module level, in an except branch: conditional for every test


@pytest.mark.parametrize("test, expected", [
    ("test_branches", {("patch", "shop.payments.charge", False),  # decorator
                       ("mocker.patch", "shop.inventory.stock.reserve", False),
                       ("monkeypatch", "shop.payments.gateway.PaymentGateway.pay", True),  # if
                       ("mocker.patch", "shop.orders.service.place", True),  # elif
                       ("mocker.patch", "shop.payments.gateway.PaymentGateway", True),  # x if c else y
                       ("mocker.patch.object", "stock.Stock", False),  # try body always runs
                       ("mocker.patch", "shop.notifications.sender", True),  # except
                       ("mocker.patch", "shop.orders.service.cancel", False),  # finally always runs
                       ("mocker.patch", "shop.payments.gateway", True),  # match case
                       FANCY}),
    # a fixture's conditional mock stays conditional for each test using it
    ("test_fixture_one", {("monkeypatch", "stock.release", True), FANCY}),
    ("test_fixture_two", {("monkeypatch", "stock.release", True), FANCY}),
    # one HTTP-stub row per test: conditional only when every occurrence is
    ("test_stub_always", {("responses", "responses", False), FANCY}),
    ("test_stub_sometimes", {("responses", "responses", True), FANCY}),
])
def test_conditional_mocks(scanned, test, expected):
    df, *_ = scanned
    assert conditional_rows(df, test) == expected


def test_unconditional_mocks_stay_unconditional(scanned):
    df, *_ = scanned
    assert df["conditional"].dtype == bool
    others = df[df.test_file != "tests/unit/test_conditional.py"]
    assert len(others) > 20 and not others["conditional"].any()


def test_external_services_and_http_dedup(scanned):
    df, *_ = scanned
    ext = df[df.test_id == "tests.unit.test_orders.test_mocker"].set_index("mechanism")["external_service"]
    assert ext["mocker.patch"] == "http"
    resp = df[(df.test_id == "tests.unit.test_orders.test_responses") & (df.mechanism != "monkeypatch")]
    assert list(resp.external_service) == ["http"]  # two responses.add calls + the decorator: one row
    vcr = df[df.test_id == "tests.integration.test_http.test_recorded"]
    assert {(m, s) for m, s in zip(vcr.mechanism, vcr.external_service) if m != "monkeypatch"} == {("vcr", "http")}
    assert df.loc[df.mechanism == "patch.dict", "external_service"].isna().all()


def test_autouse_conftest_fixture_applies_to_every_test(scanned):
    df, *_ = scanned
    auto = df[(df.mechanism == "monkeypatch") & (df.target_qualname == "shop.notifications.sender.send")]
    assert auto.target_component.eq("notifications").all()
    assert set(auto.test_id) == set(df.test_id)
    assert "tests.unit.test_orders.test_plain" in set(auto.test_id)
    assert "tests.integration.test_http.test_recorded" in set(auto.test_id)


def test_reads_a_revision_too(scanned):
    df, _, root, st = scanned
    at_head = scan_mocks(st, root, "HEAD", skips=[])
    pd.testing.assert_frame_equal(df, at_head)


def test_external_service_table():
    assert external_service("requests.post") == "http"
    assert external_service("boto3.sqs") == "queue" and external_service("boto3.client") == "cloud"
    assert external_service("smtplib.SMTP") == "email" and external_service("shop.x") is None


def test_base_test_id():
    assert base_test_id("tests.t.test_a[1-x]") == "tests.t.test_a"
    assert base_test_id("tests.t.TestA.test_b") == "tests.t.TestA.test_b"


def test_with_real_structure_loader(tmp_path):
    structure = pytest.importorskip("toolkit.load.structure")
    root = make_repo(tmp_path / "r", {k: v for k, v in REPO.items() if "broken" not in k})
    st = structure.load_structure(root)
    df = scan_mocks(st, root, skips=[])
    got = {(t.rsplit(".", 1)[-1], q, c) for t, q, c in zip(df.test_id, df.target_qualname, df.target_component)
           if not pd.isna(c)}
    assert ("test_decorator", "shop.payments.charge", "payments") in got
    assert ("test_context_manager", "shop.payments", "payments") in got


def check_sample_mocks(sample: Path) -> None:
    """Every symbol truth.json says a test replaces is a mocks row of that test (resolved the same way)."""
    from toolkit.load.gitrepo import Repo
    from toolkit.load.structure import load_structure

    truth = json.loads((sample / "truth.json").read_text())
    repo = Repo.open(sample / "repo.bundle")
    st = load_structure(repo, skips=[])
    df = scan_mocks(st, repo, skips=[])
    got: dict[str, set[str]] = {}
    for t, q in zip(df.test_id, df.target_qualname):
        if not pd.isna(q):
            got.setdefault(str(t), set()).add(str(q))
    checked = 0
    for tid, info in truth["tests"].items():
        for symbol in info["mocks"]:
            assert symbol in got.get(base_test_id(tid), set()), (tid, symbol, got.get(base_test_id(tid)))
            checked += 1
    assert checked > 0


@pytest.mark.skipif(not (SAMPLE / "truth.json").exists(), reason="sample system not built yet (data/sample)")
def test_sample_mocked_seams_match_truth():
    check_sample_mocks(SAMPLE)


def test_unchanged_test_files_are_parsed_once_across_revisions(tmp_path):
    """An audit and its backtest at an earlier revision share the parse of a test file whose content is the same."""
    from gitutil import git, write
    from toolkit.load.gitrepo import Repo
    from toolkit.load.mocks import read_test_files
    from toolkit.load.structure import load_structure

    write(tmp_path, {"app/core.py": "def f():\n    return 1\n",
                     "tests/test_core.py": "from app.core import f\n\ndef test_f():\n    assert f() == 1\n",
                     "tests/test_more.py": "def test_g():\n    assert True\n"})
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    first = git(tmp_path, "rev-parse", "HEAD").strip()
    write(tmp_path, {"tests/test_more.py": "def test_g():\n    assert 1\n"})
    git(tmp_path, "commit", "-qam", "two")
    repo = Repo.open(tmp_path)
    now = read_test_files(load_structure(repo, cache=False), repo)
    then = read_test_files(load_structure(repo, rev=first, cache=False), repo, first)
    assert then["tests/test_core.py"] is now["tests/test_core.py"]  # same content: one parse
    assert then["tests/test_more.py"] is not now["tests/test_more.py"]  # changed: parsed at each revision
    assert [t.name for t in then["tests/test_more.py"].tests] == ["test_g"]


# ---- mocks the way real suites write them: assignment, MonkeyPatch objects, mocker, patch.object, fake fixtures ----

FORMS = {
    "kit/__init__.py": "",
    "kit/net/__init__.py": "",
    "kit/net/transport.py": """\
        class Transport:
            def send(self):
                return 1


        def connect():
            return Transport()


        DEFAULT = Transport()  # an instance the module holds, not a definition
        REGISTRY = {}
        """,
    "kit/net/wire.py": "def encode(x):\n    return x\n",
    "kit/api/__init__.py": "",
    "kit/api/client.py": """\
        from kit.net import transport as tr
        from kit.net.transport import Transport, connect
        from kit.store.cache import Cache


        class Client:
            def get(self):
                return connect().send()
        """,
    "kit/store/__init__.py": "",
    "kit/store/cache.py": "class Cache:\n    pass\n\n\ndef lookup():\n    pass\n",
    "tests/__init__.py": "",
    "tests/conftest.py": """\
        import pytest
        from unittest import mock


        @pytest.fixture
        def mock_cache():
            m = mock.Mock()
            return m


        @pytest.fixture
        def fake_transport():
            class TransportStub:
                pass
            return TransportStub()


        @pytest.fixture
        def plain_value():
            return mock.sentinel.value
        """,
    "tests/test_assign.py": """\
        import pytest
        from unittest.mock import Mock

        import kit.net.transport
        from kit.api import client as api
        from kit.net import transport
        from kit.net.transport import Transport


        def test_module_attr():
            transport.connect = lambda: None


        def test_dotted_module_attr_restored():
            orig = kit.net.transport.connect
            kit.net.transport.connect = lambda: None
            try:
                pass
            finally:
                kit.net.transport.connect = orig


        def test_class_method():
            Transport.send = lambda self: None


        def test_through_alias():
            api.tr.connect = Mock()


        def test_setattr_builtin():
            setattr(api.Client, "get", lambda self: 1)


        @pytest.fixture
        def patched_send():
            Transport.send = lambda self: None
            yield


        def test_assignment_in_fixture(patched_send):
            pass


        class TestNegative:
            def setup_method(self):
                self.client = api.Client()
                self.client.timeout = 1

            def test_local_object(self):
                c = api.Client()
                c.get = lambda: 1
                t = Transport()
                t.send = None

            def test_module_instance(self):
                transport.DEFAULT.timeout = 3

            def test_parameter_shadows_import(self, transport):
                transport.connect = None

            def test_metadata_is_no_replacement(self):
                Transport.__test__ = False
        """,
    "tests/test_monkeypatch_forms.py": """\
        import os
        import sys

        from pytest import MonkeyPatch

        from kit.api.client import Client
        from kit.net import transport


        def test_object_target(monkeypatch):
            monkeypatch.setattr(transport, "connect", lambda: None)


        def test_string_target(monkeypatch):
            monkeypatch.setattr("kit.api.client.tr.connect", lambda: None)


        def test_context(monkeypatch):
            with monkeypatch.context() as m:
                m.setattr(Client, "get", lambda self: 1)


        def test_monkeypatch_object():
            mp = MonkeyPatch()
            mp.setattr(transport.Transport, "send", None)
            mp.undo()


        def test_module_dicts(monkeypatch):
            monkeypatch.setitem(transport.__dict__, "connect", None)
            monkeypatch.setitem(sys.modules, "kit.store.cache", None)


        def test_delattr(monkeypatch):
            monkeypatch.delattr(Client, "get")


        def test_environment_is_no_symbol(monkeypatch):
            monkeypatch.setitem(os.environ, "X", "1")


        def test_a_setting_is_no_stand_in(monkeypatch, mocker):
            monkeypatch.setattr(transport.Transport, "INTERVAL", 0.1)
            monkeypatch.setattr("kit.net.transport.RETRIES", -1)
            mocker.patch.object(Client, "TIMEOUT", 5)
            transport.Transport.NAME = "x"
        """,
    "tests/test_mocker_forms.py": """\
        from kit.api.client import Client
        from kit.net import transport


        def test_patch(mocker):
            mocker.patch("kit.api.client.connect")


        def test_patch_object(mocker):
            mocker.patch.object(Client, "get")


        def test_patch_dict(mocker):
            mocker.patch.dict("kit.net.transport.REGISTRY", {"a": 1})
            mocker.patch.dict(transport.__dict__, {"connect": None})


        def test_spy_is_no_replacement(mocker):
            mocker.spy(transport, "connect")


        def test_patch_object_on_instance(mocker):
            c = Client()
            mocker.patch.object(c, "get")
        """,
    "tests/test_unittest_forms.py": """\
        import unittest
        from unittest import mock
        from unittest.mock import patch

        import kit.api.client
        from kit.net.transport import Transport


        @patch.object(Transport, "send")
        def test_decorator(send):
            pass


        def test_context_manager():
            with mock.patch.object(kit.api.client.Client, "get"):
                pass


        class TestStart(unittest.TestCase):
            def setUp(self):
                self.p = patch.object(Transport, "send")
                self.p.start()

            def test_x(self):
                pass
        """,
    "tests/test_fixture_fakes.py": """\
        def test_mock_fixture(mock_cache):
            pass


        def test_fake_fixture(fake_transport):
            pass


        def test_no_fake(plain_value):
            pass
        """,
    "tests/sub/__init__.py": "",
    "tests/sub/conftest.py": """\
        import pytest

        import kit.store.cache

        kit.store.cache.lookup = lambda *a: None  # at import of this conftest: every test below


        @pytest.fixture
        def patched_client(monkeypatch):
            from kit.api.client import Client
            monkeypatch.setattr(Client, "get", None)
        """,
    "tests/sub/deeper/__init__.py": "",
    "tests/sub/deeper/test_inherited.py": """\
        def test_from_parent_conftests(patched_client, mock_cache):
            pass
        """,
}

#: modules of one package as components of their own (as for a flat package): resolution must follow the
#: structure's component of each module, not the package
FORMS_MAPPING = {"kit/net/transport.py": "transport", "kit/net/wire.py": "wire", "kit/net/__init__.py": "transport",
                 "kit/api/*": "api", "kit/store/*": "store", "kit/__init__.py": "api"}


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    root = make_repo(tmp_path_factory.mktemp("forms"), FORMS)
    paths = sorted(FORMS)
    cm = ComponentMap.from_files(paths, FORMS_MAPPING)
    st = small_structure(paths, [("kit.api.client", "kit.net.transport", None),
                                 ("kit.api.client", "kit.net.transport", "connect"),
                                 ("kit.api.client", "kit.net.transport", "Transport"),
                                 ("kit.api.client", "kit.store.cache", "Cache")])
    files = st.files.assign(component=[cm.component_of(p) for p in st.files.path])
    imp = st.imports.assign(component=[cm.component_of(p) for p in st.imports.path],
                            target_component=[cm.component_of(m.replace(".", "/") + ".py") for m in st.imports.target_module])
    st = SimpleNamespace(components=cm, files=schema.conform(files, "files"), imports=schema.conform(imp, "imports"),
                         call_sites=schema.empty("call_sites"))
    df = scan_mocks(st, root, skips=[])
    schema.check(df, "mocks")
    return df


def form_rows(df: pd.DataFrame, test_id: str) -> set[tuple]:
    sub = df[df.test_id == test_id]
    return {(m, q, None if pd.isna(c) else c) for m, q, c in zip(sub.mechanism, sub.target_qualname, sub.target_component)}


@pytest.mark.parametrize("test, expected", [
    # attribute assignment on an imported module or class, restored or not
    ("test_assign.test_module_attr", {("assignment", "kit.net.transport.connect", "transport")}),
    ("test_assign.test_dotted_module_attr_restored", {("assignment", "kit.net.transport.connect", "transport")}),
    ("test_assign.test_class_method", {("assignment", "kit.net.transport.Transport.send", "transport")}),
    # through client's own `from kit.net import transport as tr`
    ("test_assign.test_through_alias", {("assignment", "kit.net.transport.connect", "transport")}),
    ("test_assign.test_setattr_builtin", {("assignment", "kit.api.client.Client.get", "api")}),
    ("test_assign.test_assignment_in_fixture", {("assignment", "kit.net.transport.Transport.send", "transport")}),
    # monkeypatch: object and string targets, its context and MonkeyPatch objects, module dicts, delattr
    ("test_monkeypatch_forms.test_object_target", {("monkeypatch", "kit.net.transport.connect", "transport")}),
    ("test_monkeypatch_forms.test_string_target", {("monkeypatch", "kit.net.transport.connect", "transport")}),
    ("test_monkeypatch_forms.test_context", {("monkeypatch", "kit.api.client.Client.get", "api")}),
    ("test_monkeypatch_forms.test_monkeypatch_object", {("monkeypatch", "kit.net.transport.Transport.send", "transport")}),
    ("test_monkeypatch_forms.test_module_dicts", {("monkeypatch", "kit.net.transport.connect", "transport"),
                                                  ("monkeypatch", "kit.store.cache", "store")}),
    ("test_monkeypatch_forms.test_delattr", {("monkeypatch", "kit.api.client.Client.get", "api")}),
    ("test_monkeypatch_forms.test_environment_is_no_symbol", set()),
    # a literal number or string in a symbol's place tunes a setting; it stands in for nothing (None still does)
    ("test_monkeypatch_forms.test_a_setting_is_no_stand_in", set()),
    # pytest-mock
    ("test_mocker_forms.test_patch", {("mocker.patch", "kit.net.transport.connect", "transport")}),
    ("test_mocker_forms.test_patch_object", {("mocker.patch.object", "kit.api.client.Client.get", "api")}),
    ("test_mocker_forms.test_patch_dict", {("mocker.patch.dict", "kit.net.transport.REGISTRY", "transport"),
                                           ("mocker.patch.dict", "kit.net.transport.connect", "transport")}),
    ("test_mocker_forms.test_patch_object_on_instance", {("mocker.patch.object", "kit.api.client.Client.get", "api")}),
    # unittest.mock.patch.object as decorator, context manager and start()
    ("test_unittest_forms.test_decorator", {("patch.object", "kit.net.transport.Transport.send", "transport")}),
    ("test_unittest_forms.test_context_manager", {("patch.object", "kit.api.client.Client.get", "api")}),
    ("test_unittest_forms.TestStart.test_x", {("patch.object", "kit.net.transport.Transport.send", "transport")}),
    # fixtures that return fakes, injected by name from conftest.py
    ("test_fixture_fakes.test_mock_fixture", {("fixture_mock", "kit.store.cache.Cache", "store")}),
    ("test_fixture_fakes.test_fake_fixture", {("fake_class", "kit.net.transport.Transport", "transport")}),
    ("test_fixture_fakes.test_no_fake", set()),
    # fixtures and module-level replacements of conftest.py files up the tree
    ("sub.deeper.test_inherited.test_from_parent_conftests", {
        ("monkeypatch", "kit.api.client.Client.get", "api"),
        ("fixture_mock", "kit.store.cache.Cache", "store"),
        ("assignment", "kit.store.cache.lookup", "store")}),
])
def test_real_suite_forms(forms, test, expected):
    assert form_rows(forms, "tests." + test) == expected


@pytest.mark.parametrize("test", ["TestNegative.test_local_object", "TestNegative.test_module_instance",
                                  "TestNegative.test_parameter_shadows_import",
                                  "TestNegative.test_metadata_is_no_replacement"])
def test_assignment_to_locals_self_or_instances_is_no_mock(forms, test):
    """``self.x = ...``, ``obj.attr = ...`` on a local, state on an instance a module holds, a parameter that
    shadows an import, a metadata attribute: none replaces a symbol of another component."""
    assert form_rows(forms, "tests.test_assign." + test) == set()


def test_spy_is_no_replacement(forms):
    assert form_rows(forms, "tests.test_mocker_forms.test_spy_is_no_replacement") == set()


def test_restored_assignment_is_one_row_at_the_replacement(forms):
    sub = forms[forms.test_id == "tests.test_assign.test_dotted_module_attr_restored"]
    assert list(sub.line) == [16]  # `kit.net.transport.connect = lambda: None`, not the restore in `finally`


def test_conftest_module_level_mock_stays_below_its_directory(forms):
    above = forms[(forms.mechanism == "assignment") & (forms.target_qualname == "kit.store.cache.lookup")]
    assert set(above.test_file) == {"tests/sub/deeper/test_inherited.py"}
