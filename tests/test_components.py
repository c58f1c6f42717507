"""The one definition of component, seam and test file."""
import pytest

from toolkit.components import ComponentMap, file_kind, is_test_path, module_name, pair_name, read_mapping_config, seam_name, split_seam
from toolkit.errors import ConfigError

SINGLE = ["shop/__init__.py", "shop/config.py", "shop/orders/__init__.py", "shop/orders/service.py",
          "shop/payments/__init__.py", "shop/payments/checkout.py", "shop/payments/sub/__init__.py",
          "shop/payments/sub/x.py", "shop/inventory/__init__.py", "shop/inventory/migrations/001.sql",
          "tests/unit/test_orders.py", "conftest.py", "setup.py"]


def test_single_top_level_package_splits_into_subpackages():
    cm = ComponentMap.from_files(SINGLE)
    assert cm.names == ["inventory", "orders", "payments", "shop"]
    assert cm.component_of("shop/orders/service.py") == "orders"
    assert cm.component_of("shop/payments/sub/x.py") == "payments"
    assert cm.component_of("shop/config.py") == "shop"
    assert cm.component_of("shop/inventory/migrations/001.sql") == "inventory"
    assert cm.component_of("tests/unit/test_orders.py") is None
    assert cm.component_of_module("shop.payments.checkout.charge") == "payments"
    assert cm.component_of_module("shop.config") == "shop"
    assert cm.component_of_module("requests.get") is None


def test_src_layout_and_several_top_level_packages():
    files = ["src/urllib3/__init__.py", "src/urllib3/contrib/__init__.py", "src/urllib3/util/__init__.py",
             "src/urllib3/util/retry.py", "src/urllib3/poolmanager.py"]
    cm = ComponentMap.from_files(files)
    assert cm.component_of("src/urllib3/util/retry.py") == "util"
    assert cm.component_of("src/urllib3/poolmanager.py") == "urllib3"
    multi = ComponentMap.from_files(["a/__init__.py", "a/x.py", "b/__init__.py", "b/c/__init__.py", "tool.py"])
    assert multi.component_of("b/c/__init__.py") == "b"
    assert multi.component_of("tool.py") == "tool"
    assert multi.component_of_module("a.x") == "a"


def test_mapping_overrides_and_falls_back():
    cm = ComponentMap.from_files(SINGLE, {"shop/payments/**": "billing"})
    assert cm.component_of("shop/payments/checkout.py") == "billing"
    assert cm.component_of("shop/orders/service.py") == "orders"
    assert "billing" in cm.names


def test_mapping_errors_name_the_pattern():
    with pytest.raises(ConfigError, match="matches no file"):
        ComponentMap.from_files(SINGLE, {"nope/**": "x"}, source="seamscope.toml")
    with pytest.raises(ConfigError, match="several component patterns"):
        ComponentMap.from_files(SINGLE, {"shop/orders/*": "a", "shop/*/service.py": "b"})


def test_test_paths_and_kinds():
    assert is_test_path("tests/integration/helpers.py")
    assert is_test_path("pkg/test_thing.py") and is_test_path("pkg/thing_test.py") and is_test_path("conftest.py")
    assert not is_test_path("pkg/contest.py") and not is_test_path("pkg/testament/x.py")
    assert file_kind("api/openapi.yaml") == "openapi" and file_kind("x/schema/meta.json") == "json_schema"
    assert file_kind("m/001.sql") == "sql" and file_kind("a.py") == "python" and file_kind("README") == "other"


def test_names():
    assert module_name("src/pkg/sub/__init__.py") == "pkg.sub"
    assert module_name("pkg/mod.py") == "pkg.mod"
    assert seam_name("orders", "payments") == "orders->payments"
    assert split_seam("orders->payments") == ("orders", "payments")
    assert pair_name("payments", "inventory") == pair_name("inventory", "payments") == "inventory<->payments"


def test_mapping_config_from_toml():
    mapping, src = read_mapping_config({"pyproject.toml": b'[tool.seamscope.components]\n"a/**" = "api"\n'})
    assert mapping == {"a/**": "api"} and src == "pyproject.toml"
    assert read_mapping_config({"pyproject.toml": b"[project]\nname='x'\n"}) == (None, None)
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_mapping_config({"seamscope.toml": b"[components\n"})
    with pytest.raises(ConfigError, match="must map"):
        read_mapping_config({"seamscope.toml": b"[components]\nx = 1\n"})
