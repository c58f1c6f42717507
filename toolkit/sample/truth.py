"""Derive the sample's ground truth from what the builder actually generated.

Independent of the analyses it checks: its own small ``ast`` resolver for call
sites and mock targets, the JUnit files for outcomes, the coverage file for which
test executed which line. Only the sample's own conventions are assumed
(absolute ``shop.*`` imports, relative imports inside a component).
"""
from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

import defusedxml.ElementTree as ET

from toolkit.vocab import testids
from toolkit.vocab.components import ComponentMap, seam_name
from toolkit.load.python_ast import dotted_name


# ----------------------------------------------------------------------------- imports and names
def _aliases(module: str, tree: ast.AST, is_package: bool) -> dict[str, str]:
    """Local name -> dotted target, for every import in the module (function-local ones included)."""
    package = module if is_package else module.rpartition(".")[0]
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    out[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            for a in node.names:
                out[a.asname or a.name] = f"{base}.{a.name}"
    return out


class Code:
    """The HEAD Python sources: modules, their import aliases, and name resolution across re-exports."""

    def __init__(self, files: dict[str, str]):
        self.files = files
        self.cmap = ComponentMap.from_files(list(files))
        self.modules: dict[str, str] = {}  # module -> path
        self.aliases: dict[str, dict[str, str]] = {}
        self.trees: dict[str, ast.AST] = {}
        for path, text in files.items():
            if not path.endswith(".py"):
                continue
            mod = path[:-3].replace("/", ".")
            is_pkg = mod.endswith(".__init__")
            mod = mod.removesuffix(".__init__")
            tree = ast.parse(text)
            self.modules[mod] = path
            self.trees[mod] = tree
            self.aliases[mod] = _aliases(mod, tree, is_pkg)

    def resolve(self, dotted: str, depth: int = 0) -> str:
        """Follow a dotted name through module aliases (``shop.payments.checkout.stock.reserve`` -> ``shop.inventory.stock.reserve``)."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            mod = ".".join(parts[:i])
            if mod in self.modules:
                rest = parts[i:]
                if rest and depth < 5 and rest[0] in self.aliases[mod]:
                    return self.resolve(".".join([self.aliases[mod][rest[0]]] + rest[1:]), depth + 1)
                return dotted
        return dotted

    def resolve_in(self, mod: str, name: str) -> str | None:
        """Resolve ``name`` as written in module ``mod`` (its head must be imported there)."""
        head, _, rest = name.partition(".")
        if head not in self.aliases[mod]:
            return None
        return self.resolve(self.aliases[mod][head] + ("." + rest if rest else ""))

    def component_of_symbol(self, symbol: str | None) -> str | None:
        return self.cmap.component_of_module(symbol) if symbol and symbol.startswith("shop") else None


# ----------------------------------------------------------------------------- call sites
def _definition(code: Code, symbol: str) -> tuple[str, ast.AST] | None:
    """(module, ClassDef/FunctionDef) defining ``symbol`` (``mod.func``, ``mod.Class`` or ``mod.Class.method``)."""
    parts = symbol.split(".")
    for i in range(len(parts) - 1, 0, -1):
        mod = ".".join(parts[:i])
        if mod not in code.trees:
            continue
        scope: list[ast.stmt] = code.trees[mod].body
        node = None
        for name in parts[i:]:
            node = next((n for n in scope if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name), None)
            if node is None:
                return None
            scope = node.body if isinstance(node, ast.ClassDef) else []
        return mod, node
    return None


def _type_of_call(code: Code, symbol: str) -> str | None:
    """The class an expression ``symbol(...)`` evaluates to: the class itself, or a function's return annotation."""
    found = _definition(code, symbol)
    if found is None:
        return None
    mod, node = found
    if isinstance(node, ast.ClassDef):
        return symbol
    ann = node.returns
    name = ann.value if isinstance(ann, ast.Constant) and isinstance(ann.value, str) else dotted_name(ann) if ann else None
    if not name:
        return None
    head = name.partition(".")[0]
    if head in code.aliases[mod]:
        return code.resolve_in(mod, name)
    if any(isinstance(n, ast.ClassDef) and n.name == head for n in code.trees[mod].body):
        return f"{mod}.{name}"
    return None


def call_sites(code: Code) -> list[dict]:
    """Cross-component interactions in the application code: calls and instantiations (``kind`` ``call``),
    including methods called on a local variable whose class is known from the call that produced it
    (a class, or a function's return annotation), and subclassing (``kind`` ``subclass``, at the class line).
    """
    out = []
    for mod, tree in sorted(code.trees.items()):
        path = code.modules[mod]
        if not mod.startswith("shop") or "/tests/" in path:
            continue
        caller = code.cmap.component_of(path)

        def symbol_of(name: str, local_types: dict[str, str]) -> str | None:
            head, _, rest = name.partition(".")
            return f"{local_types[head]}.{rest}" if head in local_types and rest else code.resolve_in(mod, name)

        def add(node: ast.AST, symbol: str | None, kind: str) -> None:
            callee = code.component_of_symbol(symbol)
            if callee and caller and callee != caller:
                out.append({"path": path, "line": node.lineno, "caller": caller, "callee_component": callee,
                            "callee": symbol, "kind": kind, "seam": seam_name(caller, callee)})

        scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        seen: set[int] = set()
        for scope in scopes:
            local_types: dict[str, str] = {}
            body_nodes = [n for stmt in (scope.body if scope is not tree else [s for s in tree.body
                          if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))])
                          for n in ast.walk(stmt)]
            for node in sorted((n for n in body_nodes if isinstance(n, (ast.Assign, ast.Call))),
                               key=lambda n: (n.lineno, n.col_offset, isinstance(n, ast.Call))):
                if isinstance(node, ast.Assign):
                    if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call):
                        name = dotted_name(node.value.func)
                        sym = symbol_of(name, local_types) if name else None
                        typ = _type_of_call(code, sym) if sym else None
                        if typ:
                            local_types[node.targets[0].id] = typ
                    continue
                if id(node) in seen:
                    continue
                seen.add(id(node))
                name = dotted_name(node.func)
                if name:
                    add(node, symbol_of(name, local_types), "call")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    name = dotted_name(base)
                    add(node, symbol_of(name, {}) if name else None, "subclass")
    out.sort(key=lambda c: (c["seam"], c["path"], c["line"]))
    return out


# ----------------------------------------------------------------------------- mocks in tests
_PATCHERS = {"patch", "mock.patch", "unittest.mock.patch"}


def _mock_targets(code: Code, mod: str, node: ast.AST) -> list[tuple[str, str | None, bool]]:
    """(resolved symbol, module where it was patched or None for spec/autospec fakes, only_isolated) under ``node``."""
    out = []

    def resolve_expr(expr: ast.AST) -> str | None:
        name = dotted_name(expr)
        return code.resolve_in(mod, name) if name else None

    def visit(n: ast.AST, isolated_only: bool) -> None:
        if isinstance(n, ast.If) and "SHOP_ENV" in ast.unparse(n.test):
            # the branch that runs when SHOP_ENV is not "integrated"
            integrated_branch_is_body = "==" in ast.unparse(n.test)
            for child in n.body:
                visit(child, isolated_only or not integrated_branch_is_body)
            for child in n.orelse:
                visit(child, isolated_only or integrated_branch_is_body)
            visit(n.test, isolated_only)
            return
        if isinstance(n, ast.Call):
            fn = dotted_name(n.func) or ""
            last = fn.rpartition(".")[2]
            args = n.args
            strings = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in args]
            setter = (fn.endswith("patch.object") or last == "setattr") and len(args) >= 2
            if (fn in _PATCHERS or fn.endswith(".patch") or setter) and strings and strings[0] is not None:
                target = strings[0]  # patch("pkg.mod.name"), monkeypatch.setattr("pkg.mod.name", value)
                out.append((code.resolve(target), target.rpartition(".")[0], isolated_only))
            elif setter and strings[1] is not None:
                owner = resolve_expr(args[0])
                if owner:
                    out.append((code.resolve(f"{owner}.{strings[1]}"), owner, isolated_only))
            elif last in ("MagicMock", "Mock", "NonCallableMagicMock", "create_autospec"):
                spec = next((k.value for k in n.keywords if k.arg in ("spec", "spec_set")), None)
                if last == "create_autospec" and args:
                    spec = args[0]
                if spec is not None:
                    sym = resolve_expr(spec)
                    if sym:
                        out.append((sym, None, isolated_only))
        for child in ast.iter_child_nodes(n):
            visit(child, isolated_only)

    visit(node, False)
    return [m for m in out if m[0].startswith("shop")]


def test_mocks(code: Code) -> dict[str, list[tuple[str, str | None, bool]]]:
    """test_id -> mock targets, through decorators, the body, and fixtures it requests (module and conftest)."""
    fixtures: dict[str, dict[str, ast.FunctionDef]] = defaultdict(dict)  # scope dir or module -> name -> def
    tests: list[tuple[str, str, ast.FunctionDef, str | None]] = []
    for mod, tree in code.trees.items():
        path = code.modules[mod]
        if not path.startswith("tests/"):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                if any("fixture" in ast.unparse(d) for d in node.decorator_list):
                    fixtures[mod][node.name] = node
                elif node.name.startswith("test"):
                    tests.append((mod, path, node, None))
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and sub.name.startswith("test"):
                        tests.append((mod, path, sub, node.name))
    conftest_mods = sorted((m for m in code.trees if m.endswith("conftest")), key=len)
    out: dict[str, list] = {}
    for mod, path, fn, cls in tests:
        found = _mock_targets(code, mod, fn)
        seen: set[str] = set()
        todo = [a.arg for a in fn.args.args]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            scope = mod if name in fixtures[mod] else next(
                (c for c in conftest_mods if name in fixtures[c] and mod.startswith(c.rpartition(".")[0])), None)
            if scope is None:
                continue
            fx = fixtures[scope][name]
            found += _mock_targets(code, scope, fx)
            todo += [a.arg for a in fx.args.args]
        tid = testids.from_source(path, f"{cls}.{fn.name}" if cls else fn.name)
        out[tid] = sorted(set(found), key=lambda m: (m[0], m[1] or "", m[2]))
    return out


def test_kind(test_id: str) -> str:
    part = test_id.split(".")[1] if test_id.count(".") >= 2 else ""
    return part if part in ("integration", "e2e") else "unit"


# ----------------------------------------------------------------------------- results and coverage
def junit_outcomes(results_dir: Path) -> dict[tuple[str, int], dict[str, str]]:
    """(environment, run) -> test_id -> passed|failed|skipped, from the JUnit files."""
    out = {}
    for f in sorted(results_dir.glob("*/run*/junit.xml")):
        env, run = f.parent.parent.name, int(f.parent.name[3:])
        outcomes = {}
        for case in ET.parse(f).getroot().iter("testcase"):
            tid = testids.from_junit(case.get("classname"), case.get("name"))
            tags = {child.tag for child in case}
            outcomes[tid] = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        out[(env, run)] = outcomes
    return out


def executed_lines(coverage_file: Path, root: str) -> dict[str, dict[int, set[str]]]:
    """repo path -> line -> test ids that executed it (the recorded run)."""
    from coverage import CoverageData

    data = CoverageData(basename=str(coverage_file))
    data.read()
    out: dict[str, dict[int, set[str]]] = {}
    prefix = root.rstrip("/") + "/"
    for filename in data.measured_files():
        ids = {line: {testids.from_nodeid(c) for c in contexts if c}
               for line, contexts in (data.contexts_by_lineno(filename) or {}).items()}
        out[filename.removeprefix(prefix)] = {line: tests for line, tests in ids.items() if tests}
    return out


# ----------------------------------------------------------------------------- the truth
def _replaces(callee: str, mocked: str) -> bool:
    """A mock of ``mocked`` stands in for calls to ``callee`` (the same symbol or an enclosing module/class)."""
    return callee == mocked or callee.startswith(mocked + ".")


def compute(files: dict[str, str], results_dir: Path, coverage_file: Path, checkout_root: str) -> dict:
    """Everything the analyses are checked against, derived from the HEAD files, JUnit and coverage."""
    code = Code({p: t for p, t in files.items() if p.endswith(".py")})
    cmap = ComponentMap.from_files(list(files))
    sites = call_sites(code)
    mocks = test_mocks(code)
    outcomes = junit_outcomes(results_dir)
    executed = executed_lines(coverage_file, checkout_root)
    all_tests = sorted(set(itertools.chain.from_iterable(o.keys() for o in outcomes.values())))

    # which components each test's module imports: a mock acts on the seams of the code the test drives
    test_module = {tid: tid.rsplit(".", 1)[0] for tid in mocks}
    for tid in list(test_module):
        while test_module[tid] not in code.aliases and "." in test_module[tid]:
            test_module[tid] = test_module[tid].rsplit(".", 1)[0]
    imports = {tid: {code.component_of_symbol(code.resolve(t)) for t in code.aliases.get(m, {}).values()}
               for tid, m in test_module.items()}

    def drives(tid: str, caller: str, via: str | None) -> bool:
        return code.component_of_symbol(via) == caller or caller in imports.get(tid, set())

    seams: dict[str, dict] = {}
    for site in sites:
        ran_by = sorted(executed.get(site["path"], {}).get(site["line"], set()))
        # coverage was recorded in the integrated environment: mocks that only apply in isolated runs did not act
        mocking = sorted(t for t in ran_by if any(_replaces(site["callee"], m) and not iso
                                                  for m, _via, iso in mocks.get(t, [])))
        real = [t for t in ran_by if t not in mocking]
        mocked_anywhere = sorted(t for t, ms in mocks.items()
                                 if any(_replaces(site["callee"], m) and drives(t, site["caller"], via) for m, via, _i in ms))
        status = "integration" if real else ("isolation_only" if (ran_by or mocked_anywhere) else "untested")
        entry = seams.setdefault(site["seam"], {"caller": site["caller"], "callee": site["callee_component"],
                                                "call_sites": []})
        entry["call_sites"].append({"path": site["path"], "line": site["line"], "callee": site["callee"],
                                    "kind": site["kind"], "status": status, "executed_by": ran_by, "integration_tests": real,
                                    "mocked_by": sorted(set(mocking) | set(mocked_anywhere))})
    for name, entry in seams.items():
        callees = {s["callee"] for s in entry["call_sites"]}
        # a mock of the callee component in a test that drives the caller, patched through the caller or
        # related to one of the seam's callees (the same symbol, or one enclosing the other)
        mocked_by = {tid for tid, ms in mocks.items() for m, via, _iso in ms
                     if code.component_of_symbol(m) == entry["callee"] and drives(tid, entry["caller"], via)
                     and (code.component_of_symbol(via) == entry["caller"]
                          or any(_replaces(c, m) or _replaces(m, c) for c in callees))}
        statuses = {s["status"] for s in entry["call_sites"]}
        entry["integration_covered"] = "integration" in statuses
        entry["status"] = next(s for s in ("integration", "isolation_only", "untested") if s in statuses)
        entry["mocked_by_tests"] = sorted(mocked_by)

    flaky, env_only = [], []
    envs = sorted({e for e, _ in outcomes})
    for tid in all_tests:
        per_env = {e: [outcomes[(e, r)].get(tid) for (e2, r) in sorted(outcomes) if e2 == e] for e in envs}
        if any({"passed", "failed"} <= set(v) for v in per_env.values()):
            flaky.append(tid)
        if per_env.get("integrated") and per_env.get("isolated") and all(v == "failed" for v in per_env["integrated"]) \
                and all(v == "passed" for v in per_env["isolated"]):
            env_only.append(tid)
    return {
        "components": cmap.names,
        "seams": dict(sorted(seams.items())),
        "untested_seams": sorted(n for n, e in seams.items() if e["status"] == "untested"),
        "integration_covered_seams": sorted(n for n, e in seams.items() if e["integration_covered"]),
        "tests": {tid: {"kind": test_kind(tid), "mocks": sorted({m for m, _v, _i in mocks.get(tid, [])})}
                  for tid in all_tests},
        "flaky_tests": flaky,
        "env_only_failures": env_only,
    }


def environment_differences(config_text: str) -> dict[str, dict[str, object]]:
    """Settings keys whose value differs (or which are missing) between environments in shop/config.py."""
    tree = ast.parse(config_text)
    settings = next(ast.literal_eval(n.value) for n in tree.body
                    if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "SETTINGS" for t in n.targets))
    values_of = {key: {env: values.get(key) for env, values in settings.items()}
                 for key in sorted(set().union(*settings.values()))}
    return {key: values for key, values in values_of.items() if len({repr(v) for v in values.values()}) > 1}
