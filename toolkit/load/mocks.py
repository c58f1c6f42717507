"""Mocked boundaries: which test replaces which symbol of which component — read statically.

A *mocked seam* is a test replacing a symbol that another component owns: the
test passes whatever that component would really do. This module finds every
replacement in test source with :mod:`ast` (test code is never imported or run):

=====================  =========================================================
mechanism              recognised as
=====================  =========================================================
patch                  ``unittest.mock.patch`` / ``mock.patch`` (decorator, ``with``, ``.start()``)
patch.object           ``patch.object(obj, "attr")`` — ``obj`` resolved through the file's imports, or a
                       local built from an imported class (``pool = Pool(); patch.object(pool, "get")``
                       replaces ``Pool.get``)
patch.dict             ``patch.dict(target, ...)``; on a module's namespace (``mod.__dict__``,
                       ``vars(mod)``, ``sys.modules``) with literal keys, one row per replaced name
patch.multiple         ``patch.multiple(target, a=..., b=...)`` — one row per keyword
mocker.patch[...]      pytest-mock ``mocker.patch``/``.object``/``.dict``/``.multiple``; ``mocker.spy`` wraps
                       the real thing and is no replacement (no row)
monkeypatch            ``monkeypatch.setattr(obj, "name", v)`` / ``setattr("dotted.path", v)`` / ``delattr``;
                       ``setitem``/``delitem`` on a module's namespace or ``sys.modules`` (not
                       ``os.environ``); also on ``with monkeypatch.context() as mp`` and
                       ``mp = MonkeyPatch()``
assignment             ``mod.func = fake``, ``Class.method = fake``, ``setattr(mod, "f", fake)`` on a name
                       the file imports, restored or not (the first assignment of a scope is the
                       replacement, a later one puts the original back). Not a mock: ``self.x = ...``, an
                       attribute of a local or a parameter, state on an object a module holds
                       (``flask.g.user = ...``) — the owner must be a module or a class (see
                       :meth:`SymbolResolver.replaces_definition`)
fixture_mock           a fixture that builds a ``Mock``/``MagicMock`` without ``spec`` and returns or yields
                       it: the target is the one repository symbol its name names (``mock_cache`` ->
                       ``Cache``), else unresolved
magicmock_spec         ``Mock``/``MagicMock``/``AsyncMock(spec=X | spec_set=X)`` (also ``mocker.``)
autospec               ``create_autospec(X)``
responses, requests_mock, respx, httpx_mock, httpretty, vcr
                       HTTP stubs (decorators, context managers, fixtures, ``@pytest.mark.vcr``);
                       ``external_service = "http"``
fake_class             classes named ``Fake*``/``Stub*``/``Dummy*``/``InMemory*``/``Mock*`` or ``*Fake``/
                       ``*Stub``/``*Mock`` anywhere in test code (also inside a fixture) that subclass a
                       production class or stand in for one of the same name
                       (``FakePaymentGateway`` -> ``PaymentGateway``)
=====================  =========================================================

Whatever the mechanism, a literal number, string or bool put in a symbol's place is a setting tuned for the test,
not a mock (:func:`sets_a_value`).

Scope: a mock in a test's decorators or body applies to that test; on a test
class (decorator, ``setUp``/``setup_method``/``setUpClass``) to all its tests; at
module level (or ``setup_module``) to all tests in the file; in a fixture to every
test requesting that fixture — directly, through other fixtures, via
``usefixtures`` or ``autouse=True`` — with pytest's lookup order (class, module,
``conftest.py`` of the same then parent directories). A ``conftest.py``'s own
module-level replacements apply to every test below it. A fake class applies to the
tests and fixtures whose code names it.

Target resolution: the dotted target is walked against the repository's modules;
when a prefix is a module and the next name is bound in it by an import, the
binding is followed (patching ``shop.orders.service.payments.charge`` where
``service`` did ``from shop import payments`` replaces ``shop.payments.charge``,
owned by ``payments``). Targets outside the repository get ``target_component``
<NA> and ``external_service`` from :mod:`toolkit.vocab.external_services`.

Conditional: a replacement inside an ``if`` (either branch), a conditional
expression, a ``match`` case or the ``except``/``else`` part of a ``try`` (not
``finally``, which always runs) of the scanned scope (test/fixture/setup body, module level) may not act
in every run — ``if os.environ.get("CI") != "integration": monkeypatch...`` —
so its row says ``conditional``. Decorators, markers, plugin fixtures and fake
classes always apply. A fixture's conditional mock is conditional for every test
using it.

test_id is :func:`toolkit.vocab.testids.from_source` of the test function — without
pytest parameters. A parametrised test's JUnit ids carry ``[...]``: consumers
match on :func:`toolkit.vocab.testids.base_test_id`.
"""
from __future__ import annotations

import ast
import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import (PYTEST_PYTHON_CLASSES, PYTEST_PYTHON_FILES, SOURCE_ROOTS, is_collected_test_class,
                                      is_collected_test_file, module_name)
from toolkit.errors import Skip, report_skip
from toolkit.vocab.external_services import external_service
from toolkit.load.gitrepo import Repo
from toolkit.load.python_ast import (dotted_name, import_bindings, import_time_statements, imported_names, keyword,
                                     string_value)
from toolkit.vocab.testids import from_source

MOCK_MODULES = ("unittest.mock.", "mock.")
MOCKER_FIXTURES = frozenset({"mocker", "class_mocker", "module_mocker", "package_mocker", "session_mocker"})
SPEC_MOCKS = frozenset({"Mock", "MagicMock", "NonCallableMock", "NonCallableMagicMock", "AsyncMock"})
FAKE_PREFIXES = ("InMemory", "Mocked", "Fake", "Stub", "Dummy", "Mock")
FAKE_SUFFIXES = ("Fake", "Stub", "Dummy", "Mock")
#: a fixture named ``mock_session``/``fake_gateway``/``payment_gateway_stub`` stands in for the rest of its name
FIXTURE_FAKE_AFFIXES = (("mocked_", "mock_", "fake_", "stub_", "dummy_"), ("_mock", "_fake", "_stub", "_dummy"))


def fake_stem(name: str) -> str | None:
    """The name a test class named as a stand-in replaces: ``FakeGateway``/``GatewayStub`` -> ``Gateway``;
    ``None`` for any other name (``TestFake``, a bare ``Mock``)."""
    if name.startswith("Test"):
        return None
    for p in FAKE_PREFIXES:
        if name.startswith(p) and name[len(p):len(p) + 1].isupper():
            return name[len(p):]
    for sfx in FAKE_SUFFIXES:
        if name.endswith(sfx) and name[:1].isupper() and len(name) > len(sfx) + 1:
            return name[: -len(sfx)]
    return None
#: library prefix -> (mechanism, what it replaces)
HTTP_STUBS = {"responses": ("responses", "requests"), "requests_mock": ("requests_mock", "requests"),
              "respx": ("respx", "httpx"), "pytest_httpx": ("httpx_mock", "httpx"),
              "httpretty": ("httpretty", "socket"), "vcr": ("vcr", "http.client")}
#: fixtures provided by HTTP-stub plugins, and markers that install a stub -> the stub (as in :data:`HTTP_STUBS`)
HTTP_FIXTURES = {"requests_mock": HTTP_STUBS["requests_mock"], "respx_mock": HTTP_STUBS["respx"],
                 "httpx_mock": HTTP_STUBS["pytest_httpx"], "vcr": HTTP_STUBS["vcr"], "vcr_cassette": HTTP_STUBS["vcr"],
                 "responses": HTTP_STUBS["responses"]}
HTTP_MARKERS = {"vcr": HTTP_STUBS["vcr"], "default_cassette": HTTP_STUBS["vcr"],
                "httpx_mock": HTTP_STUBS["pytest_httpx"], "respx": HTTP_STUBS["respx"]}
CLASS_SETUP = frozenset({"setUp", "asyncSetUp", "setUpClass", "setup_method", "setup_class", "setup"})
MODULE_SETUP = frozenset({"setup_module", "setUpModule", "setup_function"})
#: attributes whose assignment labels an object rather than replacing behaviour (``Imported.__test__ = False``)
METADATA_ATTRS = frozenset({"__test__", "__doc__", "__module__", "__name__", "__qualname__", "__file__", "__all__"})


def sets_a_value(value: ast.expr | None) -> bool:
    """A literal number, string or bool put in a symbol's place — ``monkeypatch.setattr(Engine, "INTERVAL", 0.1)``,
    ``patch("m.RETRIES", 1)``, ``m.TIMEOUT = 5``: a setting tuned for the test, not a stand-in for what the symbol's
    component does, so not a mock (an autouse fixture speeding up a heartbeat would otherwise mock a component for
    every test). ``None`` — the thing made absent — still is one."""
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        value = value.operand
    return isinstance(value, ast.Constant) and isinstance(value.value, (int, float, complex, str, bytes))


# ---- the static model of test files ------------------------------------------------------

@dataclass
class MockHit:
    """One replacement found in source, before its target is resolved to a component."""

    line: int
    mechanism: str
    target: str
    target_qualname: str | None
    service: str | None = None  # preset for HTTP stubs
    conditional: bool = False  # under if/match/conditional expression/except: may not act in every run


@dataclass
class Func:
    """A test, fixture or setup function of a test file."""

    name: str
    qualname: str
    line: int
    cls: str | None
    params: list[str]
    usefixtures: list[str]
    markers: list[str]
    mocks: list[MockHit]
    refs: set[str]
    calls: set[str]
    fixture_name: str | None = None  # set for fixtures
    bare_mock: bool = False  # builds a Mock without spec and returns/yields a value
    autouse: bool = False


@dataclass
class FakeClass:
    name: str
    line: int
    bases: list[str]  # resolved dotted names


@dataclass
class TestFile:
    """What one parsed test file (or conftest.py) declares."""

    __test__ = False  # not a pytest test class

    path: str
    module: str
    bindings: dict[str, str]
    tests: list[Func] = field(default_factory=list)
    fixtures: list[Func] = field(default_factory=list)
    class_mocks: dict[str, list[MockHit]] = field(default_factory=dict)
    class_markers: dict[str, list[str]] = field(default_factory=dict)
    class_usefixtures: dict[str, list[str]] = field(default_factory=dict)
    file_mocks: list[MockHit] = field(default_factory=list)
    module_markers: list[str] = field(default_factory=list)
    module_usefixtures: list[str] = field(default_factory=list)
    fakes: list[FakeClass] = field(default_factory=list)
    roots: tuple[str, ...] = SOURCE_ROOTS  # the repository's source roots ``module`` was named under
    #: every dotted name the file's import statements import (``import a.b`` imports ``a.b`` though it binds ``a``)
    imports: frozenset[str] = frozenset()
    #: the classes (qualified) that subclass a ``...TestCase``: collected whatever their name
    unittest_classes: set[str] = field(default_factory=set)


def _bindings(tree: ast.Module, module: str, is_package: bool, *, top_level_only: bool = False) -> dict[str, str]:
    """Local name -> dotted name, from the file's imports (function-local ones too unless ``top_level_only``)."""
    return import_bindings(import_time_statements(tree) if top_level_only else ast.walk(tree), module, is_package)


def _decorator(d: ast.expr, bindings: dict[str, str]) -> tuple[ast.Call | None, str | None]:
    """(``d`` when it is a call, the dotted name ``d`` applies through the file's imports or ``None``)."""
    call = d if isinstance(d, ast.Call) else None
    name = dotted_name(call.func if call else d)
    if not name:
        return call, None
    head, _, rest = name.partition(".")
    return call, bindings.get(head, head) + ("." + rest if rest else "")


def _marker_names(decorators: Iterable[ast.expr], bindings: dict[str, str]) -> tuple[list[str], list[str]]:
    """(marker names, usefixtures names) of ``@pytest.mark.X`` decorators or ``pytestmark`` values."""
    markers, use = [], []
    for d in decorators:
        call, full = _decorator(d, bindings)
        if full and full.startswith("pytest.mark."):
            m = full[len("pytest.mark."):].split(".")[0]
            markers.append(m)
            if m == "usefixtures" and call:
                use.extend(a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return markers, use


#: fields of these nodes whose code runs only under a condition (the test/subject/``try`` body always runs)
CONDITIONAL_FIELDS: dict[type, tuple[str, ...]] = {
    ast.If: ("body", "orelse"), ast.IfExp: ("body", "orelse"), ast.Match: ("cases",),
    ast.Try: ("handlers", "orelse"), ast.TryStar: ("handlers", "orelse"),  # ``finally`` always runs
}


def walk_conditional(node: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """``ast.walk`` order (breadth first), each node with whether it sits in a conditional part below ``node``.

    A mock in such a part may not replace its target in every run (e.g. only off CI), which a reader
    must know before trusting "this seam is only ever mocked".
    """
    todo = deque([(node, False)])
    while todo:
        n, cond = todo.popleft()
        yield n, cond
        branches = CONDITIONAL_FIELDS.get(type(n), ())
        for name, value in ast.iter_fields(n):
            inner = cond or name in branches
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    todo.append((child, inner))


def _pytestmark(st: ast.stmt) -> list[ast.expr] | None:
    """The values of a ``pytestmark = ...`` statement; ``None`` for any other statement."""
    if not (isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in st.targets)):
        return None
    return list(st.value.elts) if isinstance(st.value, (ast.List, ast.Tuple)) else [st.value]


def _mock_function(full: str) -> str | None:
    """What ``full`` names in ``unittest.mock``/``mock`` (``patch.object``); ``None`` when it is not there."""
    return next((full[len(p):] for p in MOCK_MODULES if full.startswith(p)), None)


def _http_stub(line: int, stub: tuple[str, str]) -> MockHit:
    """A hit of an HTTP-stub library (``stub``: mechanism, what it replaces: :data:`HTTP_STUBS`)."""
    mech, replaced = stub
    return MockHit(line, mech, mech, replaced, "http")


def _marker_hits(markers: list[str], line: int) -> list[MockHit]:
    """The HTTP stubs that markers such as ``@pytest.mark.vcr`` install."""
    return [_http_stub(line, HTTP_MARKERS[m]) for m in markers if m in HTTP_MARKERS]


@dataclass
class Scope:
    """One walk of a test's, fixture's or setup's code: the names it reads and binds, its calls, the names it binds
    to a MonkeyPatch (``with monkeypatch.context() as mp``, ``mp = MonkeyPatch()``), whether it returns/yields."""

    names: set[str] = field(default_factory=set)
    stored: set[str] = field(default_factory=set)
    calls: list[ast.Call] = field(default_factory=list)
    mp_aliases: set[str] = field(default_factory=set)
    instances: dict[str, str | None] = field(default_factory=dict)  # local -> class it was built from
    gives: bool = False


class _Scanner:
    """Finds mock hits in expressions of one file."""

    def __init__(self, bindings: dict[str, str]):
        self.b = bindings
        self.mp_aliases: set[str] = set()  # names of MonkeyPatch objects in the scope being scanned
        self.instances: dict[str, str] = {}  # locals of the scope built from an imported class -> that class
        self.local: set[str] = set()  # names the scope binds itself (parameters, assignments): not imports

    def full(self, name: str | None) -> str | None:
        """``name`` with its first part replaced by what the file's imports bind it to; ``None`` when unbound."""
        head, _, rest = (name or "").partition(".")
        base = self.b.get(head) if name else None
        return None if base is None else base + ("." + rest if rest else "")

    def resolve_expr(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Call):
            node = node.func
        return self.full(dotted_name(node))

    def is_monkeypatch(self, head: str) -> bool:
        """``head`` names a MonkeyPatch: the fixture, or a local bound by :meth:`_monkeypatch_aliases`."""
        return (head == "monkeypatch" and head not in self.b) or head in self.mp_aliases

    def _makes_monkeypatch(self, node: ast.AST) -> bool:
        """``monkeypatch.context()``, ``pytest.MonkeyPatch()``, ``MonkeyPatch.context()`` (any import of it)."""
        if not isinstance(node, ast.Call):
            return False
        name = dotted_name(node.func) or ""
        if name == "monkeypatch.context" and "monkeypatch" not in self.b:
            return True
        full = self.full(name) or ""
        return full.endswith(("MonkeyPatch", "MonkeyPatch.context")) and "monkeypatch" in full.lower()

    def scope(self, nodes: Iterable[ast.AST]) -> "Scope":
        """What one walk of a scope's code tells the scanner (see :class:`Scope`)."""
        sc = Scope()
        for top in nodes:
            for n in ast.walk(top):
                if isinstance(n, ast.Name):
                    (sc.stored if isinstance(n.ctx, ast.Store) else sc.names).add(n.id)
                elif isinstance(n, ast.Call):
                    sc.calls.append(n)
                elif isinstance(n, ast.withitem):
                    if isinstance(n.optional_vars, ast.Name):
                        self._bind(sc, n.optional_vars.id, n.context_expr)
                elif isinstance(n, ast.Assign):
                    if len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
                        self._bind(sc, n.targets[0].id, n.value)
                elif isinstance(n, (ast.Return, ast.Yield)):
                    sc.gives |= n.value is not None
        sc.instances = {k: v for k, v in sc.instances.items() if v is not None}
        return sc

    def _bind(self, sc: "Scope", name: str, value: ast.expr) -> None:
        """Note a local bound to a MonkeyPatch, or to an instance of an imported class (``pool = Pool(...)``, ``with
        Pool(...) as pool``: ``patch.object(pool, "get")`` replaces ``Pool.get``); bound twice to different
        classes, the name stays unresolved."""
        if self._makes_monkeypatch(value):
            sc.mp_aliases.add(name)
        elif isinstance(value, ast.Call):
            cls = self.full(dotted_name(value.func))
            if cls and cls.rsplit(".", 1)[-1][:1].isupper():
                sc.instances[name] = cls if sc.instances.get(name, cls) == cls else None

    def target_of(self, node: ast.AST) -> str | None:
        """The dotted symbol an object argument of ``patch.object``/``setattr`` names: through the file's imports,
        or the class of a local instance of an imported class."""
        got = self.resolve_expr(node)
        if got is None and isinstance(node, ast.Name):  # ``pool``, not ``pool.conn.__class__``: its class is unknown
            got = self.instances.get(node.id)
        return got

    def _module_dict_item(self, mapping: ast.expr, key: ast.expr) -> str | None:
        """The symbol a ``setitem``/``delitem`` on a module's namespace replaces: ``sys.modules["m"]`` -> ``m``,
        ``mod.__dict__["f"]`` / ``vars(mod)["f"]`` -> ``mod.f``; ``None`` for any other mapping (``os.environ``)."""
        k = string_value(key)
        if k is None:
            return None
        if self.full(dotted_name(mapping)) == "sys.modules":
            return k
        if isinstance(mapping, ast.Attribute) and mapping.attr == "__dict__":
            base = self.full(dotted_name(mapping.value))
        elif isinstance(mapping, ast.Call) and dotted_name(mapping.func) == "vars" and "vars" not in self.b \
                and len(mapping.args) == 1:
            base = self.full(dotted_name(mapping.args[0]))
        else:
            return None
        return f"{base}.{k}" if base else None

    def assignment_hits(self, node: ast.AST) -> list[MockHit]:
        """``mod.func = fake`` / ``Class.method = fake`` / ``setattr(mod, "f", fake)`` on a name the file imports.

        Only the dotted target is read here; whether its owner is a module or a class (and not an instance the
        module holds, such as a proxy object) is decided with the repository's definitions in :func:`mocks_table`.
        A name the scope assigns or takes as a parameter shadows the import: ``obj.x = 1`` on a local is not a mock.
        """
        targets: list[tuple[int, str | None, str | None]] = []  # (line, dotted target, attribute set)
        if isinstance(node, ast.Assign):
            targets = [(e.lineno, dotted_name(e), e.attr) for t in node.targets
                       for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])
                       if isinstance(e, ast.Attribute)]
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Attribute):
            targets = [(node.target.lineno, dotted_name(node.target), node.target.attr)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.func.id not in self.b and len(node.args) >= 2 and string_value(node.args[1]) is not None:
            base, attr = dotted_name(node.args[0]), string_value(node.args[1])
            targets = [(node.lineno, None if base is None else f"{base}.{attr}", attr)]
        value = node.args[2] if isinstance(node, ast.Call) and len(node.args) > 2 else getattr(node, "value", None)
        if sets_a_value(value):
            return []
        out = []
        for line, name, attr in targets:
            local = name is None or name.split(".")[0] in self.local
            full = None if local or attr in METADATA_ATTRS else self.full(name)
            if full:
                out.append(MockHit(line, "assignment", name, full))
        return out

    def hits_of_call(self, call: ast.Call) -> list[MockHit]:
        name = dotted_name(call.func)
        if not name:
            return []
        head, _, rest = name.partition(".")
        line = call.lineno
        if head in MOCKER_FIXTURES and head not in self.b:
            return self._mock_op(rest, call, line, prefix="mocker.")
        if self.is_monkeypatch(head):
            if rest in ("setitem", "delitem") and len(call.args) >= 2:
                qual = self._module_dict_item(call.args[0], call.args[1])
                written = f"{ast.unparse(call.args[0])}[{string_value(call.args[1])!r}]"
                return [] if qual is None else [MockHit(line, "monkeypatch", written, qual)]
            if rest in ("setattr", "delattr") and call.args:
                first = string_value(call.args[0])
                value = call.args[-1] if len(call.args) > (2 if first is None else 1) else keyword(call, "value")
                if rest == "setattr" and sets_a_value(value):
                    return []
                if first is not None and (len(call.args) < 3 if rest == "setattr" else len(call.args) < 2):
                    return [MockHit(line, "monkeypatch", first, first)]
                attr = string_value(call.args[1]) if len(call.args) > 1 else None
                base = self.target_of(call.args[0])
                if attr is not None:
                    written = ast.unparse(call.args[0]) + "." + attr
                    return [MockHit(line, "monkeypatch", written, f"{base}.{attr}" if base else None)]
            return []
        full = self.full(name)
        if full is None:
            return [_http_stub(line, HTTP_STUBS["vcr"])] if name.endswith(".use_cassette") else []
        op = _mock_function(full)
        return self.http_hit(full, line) if op is None else self._mock_op(op, call, line, prefix="")

    def http_hit(self, full: str | None, line: int) -> list[MockHit]:
        """The HTTP stub whose library ``full`` (a resolved dotted name) belongs to, if any."""
        return [_http_stub(line, stub) for lib, stub in HTTP_STUBS.items()
                if full and (full == lib or full.startswith(lib + "."))][:1]

    def _mock_op(self, op: str, call: ast.Call, line: int, prefix: str) -> list[MockHit]:
        a, mech = call.args, prefix + op
        new = keyword(call, "new") or (a[2] if op == "patch.object" and len(a) > 2 else
                                       a[1] if op == "patch" and len(a) > 1 else None)
        if op in ("patch", "patch.object") and sets_a_value(new):
            return []
        if op == "patch":
            t = string_value(a[0]) if a else string_value(keyword(call, "target"))
            return [MockHit(line, mech, t if t is not None else ast.unparse(a[0]) if a else "?", t)]
        if op == "patch.object" and len(a) >= 2:
            attr = string_value(a[1])
            base = self.target_of(a[0])
            written = ast.unparse(a[0]) + "." + (attr or ast.unparse(a[1]))
            return [MockHit(line, mech, written, f"{base}.{attr}" if base and attr else None)]
        if op == "patch.dict" and a:
            t = string_value(a[0])
            values = a[1] if len(a) > 1 else keyword(call, "values", "in_dict")
            if t is None and isinstance(values, ast.Dict):  # a module's namespace: one row per replaced name
                quals = [(k, self._module_dict_item(a[0], k)) for k in values.keys if k is not None]
                if quals and all(q for _, q in quals):
                    return [MockHit(line, mech, f"{ast.unparse(a[0])}[{k.value!r}]", q) for k, q in quals]
            return [MockHit(line, mech, t or ast.unparse(a[0]), t or self.resolve_expr(a[0]))]
        if op == "patch.multiple" and a:
            t = string_value(a[0])
            base = t or self.resolve_expr(a[0])
            return [MockHit(line, mech, f"{t or ast.unparse(a[0])}.{k.arg}", f"{base}.{k.arg}" if base else None)
                    for k in call.keywords if k.arg]
        if op in SPEC_MOCKS:
            spec = keyword(call, "spec", "spec_set") or (a[0] if a else None)
            if spec is None or (isinstance(spec, ast.Constant) and not isinstance(spec.value, str)):
                return []
            t = string_value(spec)
            return [MockHit(line, "magicmock_spec", t or ast.unparse(spec), t or self.resolve_expr(spec))]
        if op == "create_autospec" and a:
            return [MockHit(line, "autospec", ast.unparse(a[0]), self.resolve_expr(a[0]))]
        return []

    def hits(self, nodes: Iterable[ast.AST], *, decorators: bool = False, params: Iterable[str] = (),
             scope: "Scope | None" = None) -> list[MockHit]:
        """Mock hits in ``nodes`` (one scope, whose parameters are ``params``; ``scope``: its :meth:`scope` when the
        caller has it); a decorator always applies, code in a conditional part is ``conditional``. Of several
        assignments to one target (a fake, then the original put back) the first is the replacement."""
        nodes = list(nodes)
        saved = self.mp_aliases, self.local, self.instances
        if scope is None:
            scope = Scope() if decorators else self.scope(nodes)
        self.mp_aliases, self.local, self.instances = scope.mp_aliases, set(params) | scope.stored, scope.instances
        out: list[MockHit] = []
        assigned: dict[str, MockHit] = {}
        try:
            for top in nodes:
                if decorators and not isinstance(top, ast.Call):
                    out.extend(self.http_hit(self.full(dotted_name(top)), top.lineno))
                    continue
                for node, cond in walk_conditional(top):
                    for h in self._node_hits(node):
                        h.conditional = cond and not decorators
                        if h.mechanism == "assignment":
                            first = assigned.get(h.target)
                            if first is not None and first.line <= h.line:
                                continue
                            if first is not None:
                                out.remove(first)
                            assigned[h.target] = h
                        out.append(h)
            return out
        finally:
            self.mp_aliases, self.local, self.instances = saved

    def _node_hits(self, node: ast.AST) -> list[MockHit]:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            return self.assignment_hits(node)
        if isinstance(node, ast.Call):
            return self.hits_of_call(node) or self.assignment_hits(node)
        if isinstance(node, ast.withitem) and not isinstance(node.context_expr, ast.Call):
            return self.http_hit(self.full(dotted_name(node.context_expr)), node.context_expr.lineno)
        return []


def _fixture(dec: ast.expr, bindings: dict[str, str]) -> tuple[bool, str | None] | None:
    """(autouse, the name it gives) when ``dec`` is ``@pytest.fixture``, else ``None``."""
    call, full = _decorator(dec, bindings)
    if full not in ("pytest.fixture", "pytest.yield_fixture", "pytest_asyncio.fixture", "fixture"):
        return None
    autouse, fname = False, None
    for k in call.keywords if call else ():
        if k.arg == "autouse" and isinstance(k.value, ast.Constant):
            autouse = bool(k.value.value)
        if k.arg == "name" and isinstance(k.value, ast.Constant):
            fname = k.value.value
    return autouse, fname


def _func(fn: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, cls: str | None, sc: _Scanner) -> Func:
    args = fn.args
    params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs if a.arg not in ("self", "cls")]
    markers, use = _marker_names(fn.decorator_list, sc.b)
    scope = sc.scope([fn])
    hits = sc.hits(fn.decorator_list, decorators=True) + sc.hits(fn.body, params=params, scope=scope)
    hits += _marker_hits(markers, fn.lineno)
    calls = {f for f in (sc.full(dotted_name(n.func)) for n in scope.calls) if f}
    out = Func(fn.name, qualname, fn.lineno, cls, params, use, markers, hits, scope.names | scope.stored, calls)
    out.bare_mock = scope.gives and _builds_bare_mock(scope.calls, sc)
    return out


def parse_test_file(path: str, source: bytes, roots: tuple[str, ...] = SOURCE_ROOTS) -> TestFile:
    """Parse one test file, named under the repository's source ``roots`` (raises ``SyntaxError``/``ValueError``
    when it does not parse)."""
    tree = ast.parse(source, filename=path)
    mod = module_name(path, roots)
    every = list(ast.walk(tree))  # one walk for the imports and the stand-in classes
    package = PurePosixPath(path).name == "__init__.py"
    tf = TestFile(path, mod, import_bindings(every, mod, package), roots=roots,
                  imports=frozenset(imported_names(every, mod, package)))
    sc = _Scanner(tf.bindings)

    def visit_function(node: ast.FunctionDef | ast.AsyncFunctionDef, cls: str | None, setup: frozenset[str],
                       setup_mocks: list[MockHit]) -> None:
        """A fixture, a test, or a setup function whose replacements go to ``setup_mocks``."""
        qual = f"{cls}.{node.name}" if cls else node.name
        fx = next(filter(None, (_fixture(d, sc.b) for d in node.decorator_list)), None)
        if fx:
            f = _func(node, qual, cls, sc)
            f.autouse, f.fixture_name = fx[0], fx[1] or node.name
            if f.bare_mock:  # ``return Mock()``: stands in for what the fixture is named after
                f.mocks.append(MockHit(node.lineno, "fixture_mock", f.fixture_name, None))
            tf.fixtures.append(f)
        elif node.name.startswith("test"):
            tf.tests.append(_func(node, qual, cls, sc))
        elif node.name in setup:
            setup_mocks.extend(sc.hits(node.body))

    def visit_class(node: ast.ClassDef, prefix: str) -> None:
        qual = prefix + node.name
        markers, use = _marker_names(node.decorator_list, sc.b)
        hits = sc.hits(node.decorator_list, decorators=True) + _marker_hits(markers, node.lineno)
        marked, marked_use = _marker_names([v for st in node.body for v in _pytestmark(st) or ()], sc.b)
        tf.class_markers[qual] = markers + marked
        tf.class_usefixtures[qual] = use + marked_use
        tf.class_mocks[qual] = hits
        if any((dotted_name(b) or "").endswith("TestCase") for b in node.bases):
            tf.unittest_classes.add(qual)
        for st in node.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit_function(st, qual, CLASS_SETUP, hits)
            elif isinstance(st, ast.ClassDef):
                visit_class(st, qual + ".")

    for st in tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            visit_function(st, None, MODULE_SETUP, tf.file_mocks)
        elif isinstance(st, ast.ClassDef):  # which classes pytest collects is decided with the configuration
            visit_class(st, "")
        elif (marks := _pytestmark(st)) is not None:
            m, u = _marker_names(marks, sc.b)
            tf.module_markers += m
            tf.module_usefixtures += u
            tf.file_mocks += _marker_hits(m, st.lineno)
        elif not isinstance(st, (ast.Import, ast.ImportFrom)):
            tf.file_mocks.extend(sc.hits([st]))
    for node in every:  # stand-in classes anywhere: module level, in a test class, in a fixture's body
        if isinstance(node, ast.ClassDef) and fake_stem(node.name) is not None:
            bases = [b for b in (sc.resolve_expr(x) for x in node.bases) if b]
            tf.fakes.append(FakeClass(node.name, node.lineno, bases))
    return tf


def _builds_bare_mock(calls: list[ast.Call], sc: _Scanner) -> bool:
    """Whether ``calls`` build a ``Mock``/``MagicMock`` without ``spec`` (a spec'd one is a ``magicmock_spec`` row):
    a fixture that does and returns or yields a value gives its tests a fake where they asked for the real thing."""
    for n in calls:
        name = dotted_name(n.func) or ""
        head, _, rest = name.partition(".")
        op = rest if head in MOCKER_FIXTURES and head not in sc.b else _mock_function(sc.full(name) or "")
        if op in SPEC_MOCKS and not n.args and keyword(n, "spec", "spec_set") is None:
            return True
    return False


def read_test_files(structure, repo, rev: str | None = None, *, skips: list[Skip] | None = None) -> dict[str, TestFile]:
    """Parse every Python test file of ``structure.files`` (``is_test``); unparsable files become skips."""
    files = structure.files
    paths = sorted(files.loc[files["is_test"].astype(bool) & files["path"].str.endswith(".py"), "path"].astype(str))
    r = repo if isinstance(repo, Repo) else Repo.open(repo)
    roots = structure.components.roots
    out: dict[str, TestFile] = {}
    if len(_TEST_FILE_MEMO) > _MEMO_LIMIT:
        _TEST_FILE_MEMO.clear()
    for path, data in r.read_files(paths, rev):
        key = (path, roots, hashlib.sha1(data).digest())
        got = _TEST_FILE_MEMO.get(key)
        if got is None:
            try:
                got = parse_test_file(path, data, roots)
            except (SyntaxError, ValueError) as exc:
                got = exc
            _TEST_FILE_MEMO[key] = got
        if isinstance(got, TestFile):
            out[path] = got
        else:
            report_skip(skips, path, f"test file does not parse: {got}", getattr(got, "lineno", None))
    return out


#: Parses by file content, shared by every revision read in this process: an audit and its backtest at an
#: earlier revision parse each unchanged test file (and production module) once. Values are never mutated.
_TEST_FILE_MEMO: dict[tuple[str, bytes], "TestFile | SyntaxError | ValueError"] = {}
_BINDINGS_MEMO: dict[tuple[str, str, bytes], tuple[dict[str, str], frozenset[str]] | None] = {}
_MEMO_LIMIT = 50_000


# ---- fixtures and scopes -------------------------------------------------------------------

@dataclass
class TestInfo:
    """One statically collected test with everything that applies to it."""

    __test__ = False

    test_id: str
    file: str
    markers: list[str]
    fixtures: list[str]  # the transitive fixture closure, in request order
    mocks: list[MockHit]
    refs: set[str]
    calls: set[str]


def _conftests_for(path: str, files: dict[str, TestFile]) -> list[TestFile]:
    """conftest.py files that apply to ``path``: same directory first, then parents."""
    parent = PurePosixPath(path).parent
    found = (str(d / "conftest.py") for d in (parent, *parent.parents))
    return [files[c] for c in found if c in files and c != path]


def collect_tests(test_files: dict[str, TestFile], python_files: tuple[str, ...] = PYTEST_PYTHON_FILES,
                  python_classes: tuple[str, ...] = PYTEST_PYTHON_CLASSES) -> list[TestInfo]:
    """Every test function/method found in source, with its fixture closure and applicable mocks: those of the
    files pytest collects (:func:`toolkit.vocab.components.is_collected_test_file` under the repository's
    ``python_files``), in the classes it collects (``python_classes``, or ``unittest`` test cases:
    :func:`toolkit.vocab.components.is_collected_test_class`); the other test files only lend their fixtures,
    mocks and stand-in classes."""
    out: list[TestInfo] = []
    for tf in test_files.values():
        if not is_collected_test_file(tf.path, python_files):
            continue
        confs = _conftests_for(tf.path, test_files) if tf.tests else []
        for t in tf.tests:
            parts = t.cls.split(".") if t.cls else []
            classes = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]  # innermost first
            if not all(is_collected_test_class(c.rpartition(".")[2], python_classes, c in tf.unittest_classes)
                       for c in classes):
                continue
            # fixture definitions visible to this test, nearest first; the nearest of a name wins
            visible = [f for c in [*classes, None] for f in tf.fixtures if f.cls == c]
            visible += [f for conf in confs for f in conf.fixtures if f.cls is None]
            by_name = {f.fixture_name or f.name: f for f in reversed(visible)}
            mocks = list(t.mocks) + list(tf.file_mocks)
            for conf in confs:  # a conftest's module-level replacements run before its tests import
                mocks += conf.file_mocks
            markers = list(t.markers) + list(tf.module_markers)
            requested = list(t.params) + list(t.usefixtures) + list(tf.module_usefixtures)
            for c in classes:
                mocks += tf.class_mocks.get(c, [])
                markers += tf.class_markers.get(c, [])
                requested += tf.class_usefixtures.get(c, [])
            requested += [f.fixture_name or f.name for f in visible if f.autouse
                          and by_name.get(f.fixture_name or f.name) is f]
            refs, calls = set(t.refs), set(t.calls)
            closure: list[str] = []
            queue = list(requested)
            while queue:
                name = queue.pop(0)
                if name in closure:
                    continue
                closure.append(name)
                if name in HTTP_FIXTURES:
                    mocks.append(_http_stub(t.line, HTTP_FIXTURES[name]))
                f = by_name.get(name)
                if f is None:
                    continue
                mocks += f.mocks
                refs |= f.refs
                calls |= f.calls
                queue += f.params + f.usefixtures
            out.append(TestInfo(from_source(tf.path, t.qualname, tf.roots), tf.path, list(dict.fromkeys(markers)),
                                closure, mocks, refs, calls))
    return out


# ---- resolving targets to components -----------------------------------------------------------

class SymbolResolver:
    """Follows dotted names through the repository's modules and import bindings to an owning component.

    A module's bindings come from parsing its source when ``repo`` is given
    (aliases such as ``from shop.users import service as users`` are only
    visible there), else from ``structure.imports`` (bound under the imported
    name's last part).
    """

    def __init__(self, structure, repo: Repo | None = None, rev: str | None = None):
        files = structure.files
        py = files[files["module"].notna() & files["path"].str.endswith(".py")]
        self.module_component: dict[str, str | None] = {
            m: (None if pd.isna(c) else c) for m, c in zip(py["module"].astype(str), py["component"].astype(object))}
        self.module_path: dict[str, str] = dict(zip(py["module"].astype(str), py["path"].astype(str)))
        self.repo, self.rev = repo, rev
        self._parsed: dict[str, dict[str, str] | None] = {}
        self._classes: dict[str, frozenset[str]] = {}  # module -> classes its top level defines (when read)
        imp = structure.imports
        by_tests = imp["component"].isna() & imp["target_component"].notna()
        self._first_read: list[str] = sorted(set(imp.loc[by_tests, "target_module"].dropna().astype(str)))
        self.bindings: dict[str, dict[str, str]] = {}

        def col(name: str) -> list:  # plain Python values, <NA>/NaN as None (row loops over arrow columns are slow)
            return imp[name].astype(object).where(imp[name].notna(), None).tolist()

        self.symbols: dict[str, set[str]] = {}  # bare name -> qualified names seen in the repo
        for mod, tmod, sym, tcomp in zip(col("module"), col("target_module"), col("target_symbol"),
                                         col("target_component")):
            if mod is not None and tmod is not None:
                target = f"{tmod}.{sym}" if sym is not None else str(tmod)
                self.bindings.setdefault(str(mod), {}).setdefault(target.split(".")[-1], target)
            if sym is not None and tcomp is not None:
                self.symbols.setdefault(str(sym), set()).add(f"{tmod}.{sym}")
        cs = structure.call_sites
        for callee, comp in zip(cs["callee"].astype(object).tolist(), cs["callee_component"].astype(object).tolist()):
            if isinstance(callee, str) and not pd.isna(comp):
                self.symbols.setdefault(callee.rsplit(".", 1)[-1], set()).add(callee)

    def resolve(self, qualname: str) -> tuple[str, str | None, bool]:
        """(resolved qualname, owning component or None, inside the repository)."""
        q = qualname
        for _ in range(16):
            parts = q.split(".")
            i = self._module_end(parts)
            if i == 0:
                return q, None, False
            mod = ".".join(parts[:i])
            if i == len(parts):
                return q, self.module_component[mod], True
            tgt = self._module_bindings(mod).get(parts[i])
            if tgt is None or tgt == f"{mod}.{parts[i]}":
                return q, self.module_component[mod], True
            q = ".".join([tgt] + parts[i + 1:])
        return q, None, True

    def _module_end(self, parts: list[str]) -> int:
        """How many leading ``parts`` name the longest repository module they start with (0: none)."""
        i = len(parts)
        while i > 0 and ".".join(parts[:i]) not in self.module_component:
            i -= 1
        return i

    def _module_bindings(self, mod: str) -> dict[str, str]:
        if self.repo is None or mod not in self.module_path:
            return self.bindings.get(mod, {})
        if mod not in self._parsed:  # the modules tests import are asked about first: one git read for them all
            first, self._first_read = [m for m in self._first_read if m in self.module_path], []
            self._read_bindings(first + [mod])
        parsed = self._parsed[mod]
        return self.bindings.get(mod, {}) if parsed is None else parsed

    def _read_bindings(self, mods: list[str]) -> None:
        """Parse the top-level import bindings of ``mods`` (shared by content across revisions)."""
        todo = {self.module_path[m]: m for m in mods if m not in self._parsed}
        found = dict(self.repo.read_files(sorted(todo), self.rev))
        if len(_BINDINGS_MEMO) > _MEMO_LIMIT:
            _BINDINGS_MEMO.clear()
        for path, mod in todo.items():
            data = found.get(path)
            key = None if data is None else (mod, path, hashlib.sha1(data).digest())
            if data is not None and key not in _BINDINGS_MEMO:
                _BINDINGS_MEMO[key] = _top_level(data, path, mod)
            parsed = None if key is None else _BINDINGS_MEMO[key]
            self._parsed[mod] = None if parsed is None else parsed[0]
            if parsed is not None:
                self._classes[mod] = parsed[1]

    def stand_in_for(self, fake: FakeClass, bindings: dict[str, str]) -> str | None:
        """The production class a fake replaces: a base inside the repo, else the same name without the prefix."""
        for b in fake.bases:
            _, comp, inside = self.resolve(b)
            if inside and comp is not None:
                return b
        bare = fake_stem(fake.name) or fake.name
        if bare in bindings:
            return bindings[bare]
        cands = self.symbols.get(bare, set())
        return next(iter(cands)) if len(cands) == 1 else None

    def named(self, fixture: str) -> str | None:
        """The one repository symbol a fake fixture is named after: ``mock_pool_manager`` -> ``PoolManager`` (or a
        function ``pool_manager``); ``None`` when no symbol or several have that name."""
        stem = fixture
        for p in FIXTURE_FAKE_AFFIXES[0]:
            stem = stem.removeprefix(p)
        for sfx in FIXTURE_FAKE_AFFIXES[1]:
            stem = stem.removesuffix(sfx)
        camel = "".join(w[:1].upper() + w[1:] for w in stem.split("_") if w)
        cands = self.symbols.get(camel, set()) | self.symbols.get(stem, set())
        return next(iter(cands)) if len(cands) == 1 else None

    def replaces_definition(self, qualname: str) -> bool:
        """Whether assigning ``qualname`` replaces a module's or a class's attribute (a mock by assignment),
        rather than setting state on an object a module holds (``flask.g.user = ...``, a proxy or an instance).

        Inside the repository the owner must be a module or a class defined at a module's top level (by the
        module's source; by the capitalised-class convention when it cannot be read). Outside it, the owner must
        be a top-level module (``socket.socket``, ``time.sleep``) or be capitalised like a class.
        """
        owner, _, _ = qualname.rpartition(".")
        if not owner:
            return False
        q, _, inside = self.resolve(owner)
        if not inside:
            return "." not in owner or owner.rsplit(".", 1)[-1][:1].isupper()
        if q in self.module_component:
            return True
        parts = q.split(".")
        i = self._module_end(parts)
        rest = parts[i:]
        self._module_bindings(".".join(parts[:i]))  # reads the module's classes with its bindings
        classes = self._classes.get(".".join(parts[:i]))
        if classes is None:
            return all(p[:1].isupper() for p in rest)
        return rest[0] in classes and all(p[:1].isupper() for p in rest[1:])


def _top_level(data: bytes, path: str, mod: str) -> tuple[dict[str, str], frozenset[str]] | None:
    """A module's top-level import bindings and classes; ``None`` when it does not parse (structure reported it:
    the imports table stands in)."""
    try:
        tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError):
        return None
    return (_bindings(tree, mod, PurePosixPath(path).name == "__init__.py", top_level_only=True),
            frozenset(n.name for n in import_time_statements(tree) if isinstance(n, ast.ClassDef)))


def scan_mocks(structure, repo, rev: str | None = None, *, skips: list[Skip] | None = None,
               test_files: dict[str, TestFile] | None = None) -> pd.DataFrame:
    """The ``mocks`` table: every symbol a test replaces, with its owning component (see the module docstring).

    ``structure``: a :class:`toolkit.load.structure.Structure`; ``test_files`` (from :func:`read_test_files`)
    saves parsing the tests again when the caller already has them.
    """
    r = repo if isinstance(repo, Repo) else Repo.open(repo)
    if test_files is None:
        test_files = read_test_files(structure, r, rev, skips=skips)
    tests = collect_tests(test_files, python_files_of(structure), python_classes_of(structure))
    return mocks_table(tests, test_files, SymbolResolver(structure, r, rev))


def python_files_of(structure) -> tuple[str, ...]:
    """The patterns of the files pytest collects tests from, of ``structure`` (:class:`toolkit.load.structure.
    Structure`; pytest's default for a structure built by hand without them)."""
    return getattr(structure, "python_files", PYTEST_PYTHON_FILES)


def python_classes_of(structure) -> tuple[str, ...]:
    """The class names pytest collects test methods from, of ``structure`` (pytest's default without them)."""
    return getattr(structure, "python_classes", PYTEST_PYTHON_CLASSES)


def mocks_table(tests: list[TestInfo], test_files: dict[str, TestFile], resolver: SymbolResolver) -> pd.DataFrame:
    """Build the ``mocks`` table from collected tests (shared with :mod:`toolkit.load.test_kinds`)."""
    fakes: dict[str, list[tuple[TestFile, FakeClass]]] = {}
    for tf in test_files.values():
        for fk in tf.fakes:
            fakes.setdefault(fk.name, []).append((tf, fk))
    rows: list[dict] = []
    seen: dict[tuple, dict] = {}  # dedup key -> its row
    for t in tests:
        hits = list(t.mocks)
        for name in sorted(t.refs & fakes.keys()):
            tf, fk = next(((a, b) for a, b in fakes[name] if a.path == t.file), fakes[name][0])
            target = resolver.stand_in_for(fk, tf.bindings)
            hits.append(MockHit(fk.line, "fake_class", fk.name, target))
        for h in hits:
            comp, service = None, h.service
            qual = h.target_qualname
            if h.mechanism == "fixture_mock":
                qual = resolver.named(h.target)
            elif h.mechanism == "assignment" and not resolver.replaces_definition(qual):
                continue  # state set on an object, not a symbol replaced
            if qual:
                qual, comp, inside = resolver.resolve(qual)
                if not inside and service is None:
                    service = external_service(qual)
            key = (t.test_id, h.line, h.mechanism, h.target) if service != "http" or h.mechanism not in \
                {m for m, _ in HTTP_STUBS.values()} else (t.test_id, h.mechanism)
            if key in seen:  # one unconditional occurrence makes the replacement unconditional
                seen[key]["conditional"] &= h.conditional
                continue
            seen[key] = {"test_file": t.file, "test_id": t.test_id, "line": h.line, "mechanism": h.mechanism,
                         "target": h.target, "target_qualname": qual, "target_component": comp,
                         "external_service": service, "conditional": h.conditional}
            rows.append(seen[key])
    if not rows:
        return schema.empty("mocks")
    df = pd.DataFrame(rows).sort_values(["test_id", "line", "mechanism", "target"], kind="stable")
    return schema.conform(df.reset_index(drop=True), "mocks")

