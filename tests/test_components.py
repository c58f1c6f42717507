"""The one definition of component, seam and test file."""
import pytest

from gitutil import make_repo
from toolkit.vocab import schema
from toolkit.load.structure import load_structure

from toolkit.load.component_mapping import read_mapping_config
from toolkit.vocab.components import (MAX_COMPONENTS, ComponentMap, file_kind, is_test_path, module_name, pair_name,
                                      seam_name, split_seam)
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


def test_mapping_first_match_wins_excludes_and_keeps_unmatched_patterns():
    cm = ComponentMap.from_files(SINGLE, {"shop/orders/*": "a", "shop/*/service.py": "b", "shop/payments/sub/**": "-",
                                          "nope/**": "x"}, source="seamscope.toml")
    assert cm.component_of("shop/orders/service.py") == "a"  # overlapping patterns: the first one wins
    assert cm.component_of("shop/payments/sub/x.py") is None  # excluded by "-"
    assert cm.component_of("shop/payments/checkout.py") == "payments"  # no pattern: the default rules
    # kept, not refused: a pattern may name paths of the history; a shadowed one is told apart
    assert [(u[0], u[2].split(":")[0]) for u in cm.unmatched] == [("shop/*/service.py", "is shadowed"),
                                                                  ("nope/**", "matches no current file (kept")]
    assert "x" not in cm.names and "b" not in cm.names
    assert ("shop/payments/sub/**", "user mapping seamscope.toml excludes it", 2) in cm.excluded


def test_mapping_errors_name_the_file_and_line():
    mapping, _ = read_mapping_config({"seamscope.toml": b'# comment\n[components]\n"a/**" = "api"\n\n"b/**" = "x->y"\n'})
    with pytest.raises(ConfigError) as err:
        ComponentMap.from_files(SINGLE, mapping)
    assert str(err.value).startswith("seamscope.toml:5: ") and "'b/**'" in str(err.value)
    with pytest.raises(ConfigError, match=r"^pyproject.toml:3: .*'c/\*\*' maps to 3"):
        read_mapping_config({"pyproject.toml": b'[tool.seamscope.components]\n"a/**" = "api"\n"c/**" = 3\n'})


def test_reasons_and_budget():
    # a package whose modules hold the code is split into them; never into more than MAX_COMPONENTS
    many = ["pkg/__init__.py"] + [f"pkg/m{i:02d}.py" for i in range(MAX_COMPONENTS + 10)]
    cm = ComponentMap.from_files(many)
    assert len(cm.names) == MAX_COMPONENTS
    assert cm.component_of("pkg/m00.py") == "m00" and cm.component_of("pkg/__init__.py") == "pkg"
    rest = dict((r[0], r) for r in cm.rows)["pkg"]
    assert rest[2] == len(many) - (MAX_COMPONENTS - 1) and "smallest parts" in rest[1]
    assert cm.component_of_module("pkg.m00.f") == "m00"
    # a package organised by subpackages keeps its few loose modules under its own name (the sample's `shop`)
    assert dict((r[0], r[1]) for r in ComponentMap.from_files(SINGLE).rows)["shop"].endswith(
        "its own modules outside its subpackages")


def test_only_a_package_holding_most_of_the_code_is_split_further():
    files = ["app/__init__.py", "app/a/__init__.py", "app/a/core.py", "app/a/more.py", "app/b/__init__.py",
             "app/b/util.py", "app/c/__init__.py", "app/c/store.py"]
    sizes = {"app/a/core.py": 300, "app/a/more.py": 300, "app/b/util.py": 400, "app/c/store.py": 400}
    assert ComponentMap.from_files(files, sizes=sizes).names == ["a", "app", "b", "c"]  # subpackage `a` stays whole
    sizes = {"app/a/core.py": 500, "app/a/more.py": 500, "app/b/util.py": 100, "app/c/store.py": 100}
    assert ComponentMap.from_files(files, sizes=sizes).names == ["a", "app", "b", "c"]  # most, but b and c are real
    # ... a subpackage holding 90% of its package is a wrapper (pip's `_internal`): split like a top-level package
    sizes = {"app/a/core.py": 500, "app/a/more.py": 500, "app/b/util.py": 10, "app/c/store.py": 10}
    assert ComponentMap.from_files(files, sizes=sizes).names == ["a", "app", "b", "c", "core", "more"]
    big = ["big/__init__.py", "big/x.py", "big/y.py", "big/z.py", "small/__init__.py", "tiny/__init__.py", "one.py"]
    got = ComponentMap.from_files(big, sizes={"big/x.py": 900, "big/y.py": 900, "big/z.py": 900})
    assert got.names == ["big", "one", "small", "tiny", "x", "y", "z"]  # a top-level package holding most code is split


def test_tooling_only_repository_still_has_components():
    cm = ComponentMap.from_files(["scripts/a.py", "scripts/b.py", "setup.py"])
    assert cm.names == ["a", "b"] and cm.excluded == (("setup.py", "build or task script at the repository root", 1),)


def test_test_paths_and_kinds():
    assert is_test_path("tests/integration/helpers.py")
    assert is_test_path("pkg/test_thing.py") and is_test_path("pkg/thing_test.py") and is_test_path("conftest.py")
    assert not is_test_path("pkg/contest.py") and not is_test_path("pkg/testament/x.py")
    assert is_test_path("src/trio/_core/_tests/tutil.py")  # a private test package (trio's _tests)
    assert is_test_path("flask/testsuite/appctx.py")  # the suite inside the package, before it moved to tests/
    assert not is_test_path("src/pkg/_testament/x.py") and not is_test_path("src/pkg/latest/x.py")
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


# ---- the default rules on small real repositories, one per common layout ----

def _load(tmp_path, files, **kw):
    return load_structure(make_repo(tmp_path / "r", files), skips=kw.pop("skips", []), workers=1, **kw)


def _reasons(s) -> dict[str, str]:
    return dict(zip(s.component_table["component"], s.component_table["reason"]))


def _excluded(s) -> dict[str, str]:
    return dict(zip(s.excluded_components["path"], s.excluded_components["reason"]))


FLAT = {
    "src/req/__init__.py": "from .api import get\n__version__ = '1'\n",
    "src/req/__version__.py": "v = 1\n",
    "src/req/api.py": "from . import sessions\n\ndef get(u):\n    return sessions.Session().send(u)\n",
    "src/req/sessions.py": ("from .models import Request\nfrom .adapters import Adapter\n\nclass Session:\n"
                            "    def send(self, u):\n        return Adapter().send(Request(u))\n"),
    "src/req/models.py": "class Request:\n    def __init__(self, u):\n        self.u = u\n",
    "src/req/adapters.py": "from ._compat import x\n\nclass Adapter:\n    def send(self, r):\n        return x(r)\n",
    "src/req/_compat.py": "def x(r):\n    return r\n",
    "src/req/_adapters_pool.py": "from .adapters import Adapter\n",
    "tests/test_api.py": "import req\n\ndef test_get():\n    req.get('u')\n",
    "setup.py": "import setuptools\n",
    "docs/conf.py": "project = 'req'\n",
}


def test_flat_src_package_splits_into_modules(tmp_path):
    s = _load(tmp_path, FLAT)
    cm = s.components
    assert cm.names == ["_compat", "adapters", "api", "models", "req", "sessions"]
    r = _reasons(s)
    assert r["sessions"] == "module of flat package req"
    assert r["adapters"] == "module of flat package req (with its helper _adapters_pool)"
    assert cm.component_of("src/req/__version__.py") == "req"  # dunder modules stay with the package
    assert cm.component_of_module("req.sessions.Session") == "sessions"
    assert cm.component_of_module("req._adapters_pool") == "adapters"
    assert {"sessions->models", "sessions->adapters", "api->sessions", "adapters->_compat"} <= set(s.call_sites.seam)
    assert _excluded(s) == {"setup.py": "build or task script at the repository root",
                            "docs/": "documentation, examples or tooling (docs/)"}
    tab = s.component_table
    schema.check(tab, "components")
    schema.check(s.excluded_components, "excluded_components")
    assert tab.set_index("component").loc["sessions", "files"] == 1 and tab["lines"].notna().all()


def test_several_top_level_packages_split_the_big_one(tmp_path):
    files = {"src/attr/__init__.py": "from ._make import attrs\n",
             "src/attr/_make.py": "from .validators import v\n" + "def attrs():\n    return v()\n" * 1 + "x = 1\n" * 30,
             "src/attr/validators.py": "def v():\n    return 1\n" + "y = 1\n" * 20,
             "src/attrs/__init__.py": "from attr import attrs\n",
             "typing_tests/__init__.py": "", "typing_tests/mypy.py": "import attr\n"}
    s = _load(tmp_path, files)
    assert s.components.names == ["_make", "attr", "attrs", "validators"]
    assert _reasons(s)["attrs"] == "top-level package"
    assert _excluded(s) == {"typing_tests/": "test code (a folder named like tests)"}
    assert "_make->validators" in set(s.call_sites.seam)


def test_test_server_package_and_noxfile_are_not_components(tmp_path):
    files = {"src/netlib/__init__.py": "", "src/netlib/pool.py": "from .conn import C\n\ndef make():\n    return C()\n",
             "src/netlib/conn.py": "class C:\n    pass\n",
             "dummy/__init__.py": "", "dummy/server.py": "import pytest\nfrom netlib.conn import C\n\ndef serve():\n    return C()\n",
             "test/__init__.py": "", "test/test_pool.py": "from dummy.server import serve\nimport netlib.pool\n",
             "noxfile.py": "import nox\n", "bench/run.py": "import netlib\n"}
    s = _load(tmp_path, files)
    assert s.components.names == ["conn", "netlib", "pool"]
    ex = _excluded(s)
    assert ex["dummy/"] == "test support: imported by 1 test files and by no shipped code"
    assert ex["noxfile.py"] == "build or task script at the repository root" and "bench/" in ex
    assert s.components.component_of("dummy/server.py") is None
    assert not any(seam.startswith("dummy") for seam in s.call_sites.seam)
    # the same package outside a src/ layout is still test support: it imports a test framework and only tests use it
    flat = {k.removeprefix("src/"): v for k, v in files.items()}
    s2 = load_structure(make_repo(tmp_path / "flat", flat), skips=[], workers=1)
    assert "dummy/" in _excluded(s2) and s2.components.names == ["conn", "netlib", "pool"]
    # a package that shipped code imports is a component, whatever tests do
    shipped = dict(files, **{"src/netlib/conn.py": "import dummy.server\nclass C:\n    pass\n"})
    s3 = load_structure(make_repo(tmp_path / "shipped", shipped), skips=[], workers=1)
    assert "dummy" in s3.components.names


def test_a_top_level_folder_of_mostly_tests_is_the_test_suite_whatever_its_name(tmp_path):
    """celery keeps its tests in ``t/`` (t/unit/.../test_*.py beside tasks, fixture projects, ``__init__`` files): a
    top-level folder whose Python files are mostly tests, imported by no shipped code, is test code, not a component;
    trio's private ``_tests`` packages are test code too. A package that shipped code imports stays a component."""
    body = "def f():\n    return 1\n" + "x = 1\n" * 30
    files = {"cel/__init__.py": "", "cel/app.py": "from .worker import f\n" + body, "cel/worker.py": body,
             "cel/backends/__init__.py": "", "cel/backends/redis.py": "from cel.app import f\n" + body,
             "cel/_tests/__init__.py": "", "cel/_tests/helpers.py": "import cel.app\n" + body,
             "cel/_tests/test_app.py": "from cel._tests.helpers import f\n",
             "t/__init__.py": "", "t/unit/__init__.py": "", "t/integration/tasks.py": "import cel.app\n" + body,
             "t/unit/test_app.py": "import cel.app\n", "t/unit/test_worker.py": "import cel.worker\n",
             "t/integration/test_tasks.py": "from t.integration.tasks import f\n",
             "t/unit/conftest.py": "import pytest\n"}
    s = _load(tmp_path, files)
    assert s.components.names == ["app", "backends", "cel", "worker"]
    assert _excluded(s)["t/"] == "test code: most of its Python files are tests"
    assert s.components.component_of("cel/_tests/helpers.py") is None
    shipped = dict(files, **{"cel/worker.py": "import t.integration.tasks\n" + body})
    assert "t" in load_structure(make_repo(tmp_path / "shipped", shipped), skips=[], workers=1).components.names


def test_a_product_that_ships_a_pytest_plugin_module_is_not_test_support(tmp_path):
    """Outside a src/ layout, one module importing pytest (a shipped plugin, aiohttp's pytest_plugin.py) does not
    make the product test support; before, the whole package was excluded and docs/ and examples/ became components."""
    body = "def f():\n    return 1\n" + "x = 1\n" * 30
    files = {"netlib/__init__.py": "", "netlib/pool.py": "from .conn import C\n" + body,
             "netlib/conn.py": "class C:\n    pass\n" + body, "netlib/web.py": "from .pool import f\n" + body,
             "netlib/pytest_plugin.py": "import pytest\nfrom .pool import f\n",
             "tests/test_pool.py": "import netlib.pool\n", "examples/demo.py": "import netlib.web\n",
             "docs/conf.py": "x = 1\n"}
    s = _load(tmp_path, files)
    assert {"pool", "conn", "web"} <= set(s.components.names)
    ex = _excluded(s)
    assert "examples/" in ex and "docs/" in ex and not any(k.startswith("netlib") for k in ex)


def test_django_apps_are_components(tmp_path):
    files = {"manage.py": "import os\n",
             "site/__init__.py": "", "site/settings.py": "X = 1\n", "site/urls.py": "from blog.views import index\n",
             "blog/__init__.py": "", "blog/models.py": "class Post:\n    pass\n",
             "blog/views.py": "from .models import Post\nfrom accounts.models import User\n\ndef index():\n    return User(), Post()\n",
             "blog/migrations/__init__.py": "", "blog/migrations/0001_initial.py": "x = 1\n",
             "accounts/__init__.py": "", "accounts/apps.py": "X = 1\n", "accounts/models.py": "class User:\n    pass\n",
             "docs/__init__.py": "", "docs/apps.py": "X = 1\n", "docs/models.py": "class Doc:\n    pass\n"}
    s = _load(tmp_path, files)
    assert s.components.names == ["accounts", "blog", "docs", "site"]
    r = _reasons(s)
    assert r["blog"] == r["accounts"] == r["docs"] == "Django app" and r["site"] == "top-level package"
    assert s.components.component_of("blog/migrations/0001_initial.py") == "blog"  # migrations are part of their app
    assert _excluded(s) == {"manage.py": "build or task script at the repository root"}
    assert "blog->accounts" in set(s.call_sites.seam)


def test_namespace_package(tmp_path):
    files = {"acme/core/__init__.py": "", "acme/core/base.py": "class B:\n    pass\n",
             "acme/plugins/x.py": "from acme.core.base import B\n\nclass X(B):\n    pass\n",
             "acme/cli.py": "from acme.plugins.x import X\n\ndef main():\n    return X()\n",
             "tests/test_x.py": "import acme.cli\n"}
    s = _load(tmp_path, files)
    assert s.components.names == ["acme", "core", "plugins"]
    r = _reasons(s)
    assert r["plugins"] == "namespace folder of acme" and r["core"] == "subpackage of acme"
    assert r["acme"].startswith("namespace package")
    assert {"plugins->core", "acme->plugins"} <= set(s.call_sites.seam)


def test_repository_mapping_first_match_exclusion_and_lines(tmp_path):
    toml = ('[components]\n"src/req/sessions.py" = "client"\n"src/req/*.py" = "core"\n'
            '"src/req/_compat.py" = "never"\n"src/req/models.py" = "-"\n"requests/*.py" = "core"\n')
    skips: list = []
    s = _load(tmp_path, dict(FLAT, **{"seamscope.toml": toml}), skips=skips)
    cm = s.components
    assert cm.component_of("src/req/sessions.py") == "client"
    assert cm.component_of("src/req/_compat.py") == "core"  # the earlier, broader pattern wins
    assert cm.component_of("src/req/models.py") == "core"  # ... also over the later exclusion
    assert _reasons(s) == {"client": "user mapping seamscope.toml:2", "core": "user mapping seamscope.toml:3"}
    # the historic pattern (requests/ before a src/ move) and the shadowed ones are kept, each a skip with its line
    assert {(k.path, k.line) for k in skips if "is shadowed" in k.reason} == {("seamscope.toml", 4),
                                                                               ("seamscope.toml", 5)}
    assert [(k.path, k.line) for k in skips if "matches no current file" in k.reason] == [("seamscope.toml", 6)]
    s2 = _load(tmp_path / "b", dict(FLAT, **{"seamscope.toml": '[components]\n"src/req/models.py" = ""\n'}))
    assert s2.components.component_of("src/req/models.py") is None
    assert "models" not in s2.components.names
    assert _excluded(s2)["src/req/models.py"] == "user mapping seamscope.toml:2 excludes it"
    with pytest.raises(ConfigError, match=r"^seamscope.toml:3: "):
        _load(tmp_path / "c", dict(FLAT, **{"seamscope.toml": '[components]\n"a" = "x"\n"b" = 1\n'}))


# ---- source roots the imports tell (issue 16: a web app's backend/ folder is its import root) -------------------

BACKEND = {
    "backend/app/__init__.py": "",
    "backend/app/main.py": """
        from app.api import routes


        def create():
            return routes.router()
        """,
    "backend/app/models.py": """
        class User:
            name = ""


        class Item:
            title = ""
        """,
    "backend/app/crud.py": """
        from app.models import User


        def create_user(name):
            user = User()
            user.name = name
            return user
        """,
    "backend/app/api/__init__.py": "",
    "backend/app/api/routes.py": """
        from app import crud
        from app.models import Item


        def router():
            crud.create_user("ann")
            return Item()
        """,
    "backend/tests/__init__.py": "",
    "backend/tests/utils.py": """
        from app.models import User


        def a_user():
            return User()
        """,
    "backend/tests/test_api.py": """
        from app.api import routes
        from tests.utils import a_user


        def test_router():
            assert routes.router() is not None and a_user()
        """,
    "scripts/release.py": "import subprocess\n",
    "frontend/package.json": "{}\n",
}


def test_backend_folder_imported_as_root_gives_app_modules_components_and_seams(tmp_path):
    from toolkit.load.mocks import collect_tests, read_test_files

    repo = make_repo(tmp_path / "r", BACKEND)
    st = load_structure(repo, cache=False)
    assert st.components.roots == ("src", "lib", "backend")
    modules = dict(zip(st.files["path"].astype(str), st.files["module"].astype(object)))
    assert modules["backend/app/api/routes.py"] == "app.api.routes"
    assert modules["backend/app/__init__.py"] == "app"
    assert modules["backend/tests/test_api.py"] == "tests.test_api"  # as pytest run in backend/ names it
    assert st.components.module_name("backend/app/crud.py") == "app.crud"
    assert st.components.names == ["api", "app", "crud", "main", "models"]
    assert st.components.component_of("backend/app/api/routes.py") == "api"
    assert st.components.component_of("backend/tests/utils.py") is None  # tests stay tests
    seams = set(st.call_sites["seam"].astype(str))
    assert {"api->crud", "api->models", "crud->models", "main->api"} <= seams
    imp = st.imports[st.imports["path"] == "backend/app/api/routes.py"]
    assert set(imp["target_component"].astype(str)) == {"crud", "models"}
    excluded = dict(zip(st.excluded_components["path"].astype(str), st.excluded_components["reason"].astype(str)))
    assert "scripts/" in excluded
    # the tests' ids and module names use the same roots as the structure
    tests = collect_tests(read_test_files(st, repo))
    assert [t.test_id for t in tests] == ["tests.test_api.test_router"]


def test_inferred_roots_need_an_import_that_nothing_else_resolves():
    from toolkit.vocab.components import SOURCE_ROOTS, infer_source_roots

    paths = list(BACKEND) + ["src/pkg/__init__.py", "src/pkg/core.py"]
    assert infer_source_roots(paths, {"backend/app/main.py": {"app.api"}}) == SOURCE_ROOTS + ("backend",)
    assert infer_source_roots(paths, {"backend/app/main.py": {"pkg.core", "os"}}) == SOURCE_ROOTS
    # a top-level app/ is what `import app` names: backend/ is then no root
    assert infer_source_roots(paths + ["app/__init__.py"], {"backend/app/main.py": {"app.api"}}) == SOURCE_ROOTS
    # documentation and test folders are never roots, whatever sys.path tricks their code plays
    docs = ["docs/_ext/__init__.py", "docs/conf.py", "tests/helpers/__init__.py", "tests/test_a.py"]
    assert infer_source_roots(docs, {"docs/conf.py": {"_ext"}, "tests/test_a.py": {"helpers"}}) == SOURCE_ROOTS
    # nor is a vendored copy of a library the code imports (it means the installed one)
    vendored = ["third_party/yaml/__init__.py", "shop/__init__.py", "shop/io.py"]
    assert infer_source_roots(vendored, {"shop/io.py": {"yaml"}}) == SOURCE_ROOTS
    ext = ["ext/yaml/__init__.py", "shop/io.py"]  # any other folder: the import is taken as written for it
    assert infer_source_roots(ext, {"shop/io.py": {"yaml"}}) == SOURCE_ROOTS + ("ext",)
    # two folders hold an `app` package: the one enclosing the importing file is the root; elsewhere no evidence
    two = ["backend/app/__init__.py", "worker/app/__init__.py", "worker/app/jobs.py", "run.py"]
    assert infer_source_roots(two, {"worker/app/jobs.py": {"app.models"}}) == SOURCE_ROOTS + ("worker",)
    assert infer_source_roots(two, {"run.py": {"app"}}) == SOURCE_ROOTS
    # without import evidence the default rules keep src/ and lib/ only
    assert ComponentMap.from_files(paths).roots == SOURCE_ROOTS


def test_module_name_under_roots_and_history_home_key():
    from toolkit.load.history import _home_key

    roots = ("src", "lib", "backend")
    assert module_name("backend/app/api/__init__.py", roots) == "app.api"
    assert module_name("backend/app/api/__init__.py") == "backend.app.api"  # default: src/lib only
    assert module_name("src/requests/sessions.py", roots) == "requests.sessions"
    assert module_name("src/x.py") == "x"
    # a module moved into backend/ (git missed the rename) is found by its module name under the roots
    assert _home_key("app/models.py", roots) == _home_key("backend/app/models.py", roots) == "py:app.models"
    assert _home_key("app/templates/a.html", roots) == _home_key("backend/app/templates/a.html", roots)


def test_history_follows_a_module_moved_into_an_inferred_root(tmp_path):
    from gitutil import commit
    from toolkit.load.history import load_history

    repo = make_repo(tmp_path / "r", {"app/__init__.py": "", "app/models.py": "class User:\n    pass\n",
                                      "tests/test_m.py": "from app.models import User\n"})
    moved = {k: v for k, v in BACKEND.items() if k != "backend/tests/test_api.py"}
    for old in ("app/__init__.py", "app/models.py"):
        (repo / old).unlink()
    commit(repo, "move the code into backend/, rewriting models", moved)  # too different: git sees no rename
    st = load_structure(repo, cache=False)
    fc = load_history(repo, cache=False, roots=st.components.roots).file_changes
    first = fc[fc["path"] == "app/models.py"]
    assert len(first) >= 1 and set(first["current_path"].astype(str)) == {"backend/app/models.py"}
    plain = load_history(repo, cache=False).file_changes  # src/lib only: the old file has no successor
    gone = plain.loc[plain["path"] == "app/models.py", "current_path"]
    assert len(gone) >= 1 and gone.isna().all()


def test_vendored_code_is_no_component_at_any_depth():
    """pip ships its dependencies under ``src/pip/_vendor/``: other projects' code, not a part of pip."""
    files = ["src/pip/__init__.py", "src/pip/_internal/__init__.py", "src/pip/_internal/cli.py",
             "src/pip/_internal/req.py", "src/pip/_vendor/__init__.py", "src/pip/_vendor/requests/__init__.py",
             "src/pip/_vendor/requests/api.py", "src/pip/_vendor/vendor.txt"]
    cm = ComponentMap.from_files(files)
    assert "_vendor" not in cm.names and "requests" not in cm.names
    assert cm.component_of("src/pip/_vendor/requests/api.py") is None  # not the enclosing `pip` either
    assert cm.component_of("src/pip/_vendor/vendor.txt") is None
    assert cm.component_of_module("pip._vendor.requests.api") is None
    assert cm.component_of("src/pip/_internal/cli.py") is not None
    assert [(d, n) for d, why, n in cm.excluded if "vendored" in why] == [("src/pip/_vendor/", 3)]
