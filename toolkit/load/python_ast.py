"""What one Python file says about its dependencies, read with ``ast`` only (never imported or executed).

:func:`scan_source` returns :class:`FileFacts`: the file's imports, the classes and top-level names it defines,
its module-level import bindings (to follow re-exports), and every call / subclass reference whose root name an
import binds, rewritten to the dotted name the import gives it (``from shop.inventory import stock`` +
``stock.reserve()`` -> ``shop.inventory.stock.reserve``). Which module defines that name, and which component
owns it, needs every file: :mod:`toolkit.load.structure` decides it.

Scoping follows Python's rules closely enough for dependency analysis: function-local imports and assignments
(a parameter shadows a module of its name), class bodies not leaking into methods, ``global``. A call through a
local holding the result of one call (``c = Client(); c.charge()``), a parameter annotated with a class
(``config: Config``, ``"Config"``, ``Optional[Config]``, ``Config | None``), or an attribute of ``self`` its
class binds exactly once to such a parameter, one call's result or with an annotation (``self.config = config``)
is a call of that class's method: ``config.load()`` and ``self.config.load()`` are ``Config().load``; only a
method called directly on such a name (not ``config.app.run()``).

Only code that can run makes a reference (``refs``): one under ``if TYPE_CHECKING:`` (``if False:``, the
``else`` of ``if not TYPE_CHECKING:``) or in an annotation (string annotations are never read) goes to
``guarded`` with its rule, so the loader can say how many it left out. A runnable call whose target the ``ast``
cannot name (on a parameter, on an object an instance holds, on an untraced local, through a subscript or a
call result: ``HANDLERS[k](...)``, ``getattr(o, n)()``) is counted per reason in ``unresolved``, never silently
dropped; calls of builtins, of names this file defines, of ``self``'s own methods and of literals' methods are
neither.

Module-level aliases (``builtin_str = str``, ``basestring = (str, bytes)``) and names holding a literal
(``port_by_scheme = {"http": 80}``) are kept in ``aliases`` with what they name, so a ``compat`` module
re-exporting a builtin is not taken for its definition, nor ``port_by_scheme.get()`` for a call into the module.
"""
from __future__ import annotations

import ast
import builtins
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from toolkit.vocab.generated import declares_generated

_BUILTINS = frozenset(dir(builtins))
_LITERAL = ("<literal>",)  # origin of a name bound only to a literal display: a builtin type, never a seam
_LITERAL_TYPES = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.ListComp, ast.DictComp,
                  ast.SetComp, ast.GeneratorExp)


@dataclass(slots=True)
class FileFacts:
    """Per-file result of :func:`scan_source`; plain data so it pickles into the cache and across processes."""

    path: str
    module: str
    loc: int = 0
    generated: bool = False  # its first lines declare it generated (toolkit.vocab.generated)
    error: tuple[str, int | None] | None = None  # (message, line) when the file does not parse
    # (line, module, symbol|None, is_relative, is_conditional, is_type_checking, is_function_local)
    imports: list = field(default_factory=list)
    classes: frozenset = frozenset()  # class qualnames relative to the module ("A", "A.B")
    dicts: frozenset = frozenset()  # of classes, the TypedDicts: an instance is a plain dict, its methods dict's
    defined: frozenset = frozenset()  # names bound at module level other than by import
    exports: dict = field(default_factory=dict)  # module-level import bindings: name -> dotted target
    # (line, caller qualname, dotted target, kind "call"|"subclass"); a target "a.f().m" is method m of what a.f returns
    refs: list = field(default_factory=list)
    returns: dict = field(default_factory=dict)  # function qualname in module -> dotted class its annotation names
    guarded: list = field(default_factory=list)  # refs in code that never runs, + rule "type_checking"|"annotation"
    # (reason "parameter"|"attribute"|"local"|"dynamic", attribute called or None) -> runnable calls not resolved
    # (``conn.request()``: ("parameter", "request"); ``callback()`` / ``HANDLERS[k]()``: name None)
    unresolved: dict = field(default_factory=dict)
    functions: frozenset = frozenset()  # names of the functions and methods defined outside any function
    # module-level names bound only by aliasing assignments (and imports): name -> what each binding names, a
    # dotted name or None (a builtin, a tuple of names, nothing the file knows); see module docstring
    aliases: dict = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Attrs:
    """What one class body's methods bind on ``self``: attribute -> bindings, and the type of those bound once."""

    binds: dict[str, int] = field(default_factory=dict)  # attribute -> bindings of ``self.<attribute>`` in methods
    # attribute -> (method scope, parameter it was assigned from or None, chain of the call or annotation)
    types: dict[str, tuple] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Scope:
    kind: str  # module, class, function
    qual: str
    parent: _Scope | None
    imports: dict[str, str] = field(default_factory=dict)
    locals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    origins: dict[str, list[str]] = field(default_factory=dict)  # name -> chain of the call whose result it holds
    ambiguous: set[str] = field(default_factory=set)  # names bound more than once: their origin is unknown
    params: set[str] = field(default_factory=set)  # parameters (a call on one is on an injected object)
    self_name: str | None = None  # first parameter of a method: calls on it stay in its class
    methods: frozenset = frozenset()  # for a method: the functions its class body defines
    defs: set[str] = field(default_factory=set)  # names bound by def/class here: calling one stays in this file
    attrs: _Attrs | None = None  # for a method: what its class's methods bind on ``self``


def name_chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` -> ``["a", "b", "c"]``; ``None`` when the root is not a plain name."""
    parts = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is ast.Name:
        parts.append(node.id)
        parts.reverse()
        return parts
    return None


_WRAPPERS = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})


def annotation_chain(ann: ast.AST | None) -> list[str] | None:
    """The dotted class an annotation names as a chain: ``Config``, ``cfg.Config``, ``"Config"``,
    ``Optional[Config]``, ``Union[Config, None]``, ``Config | None``, ``Annotated[Config, ...]``; ``None`` for
    anything else (a union of two types, a generic such as ``list[Config]``, a literal)."""
    if isinstance(ann, (ast.Name, ast.Attribute)):
        return name_chain(ann)
    if isinstance(ann, ast.Constant):
        text = ann.value.strip() if isinstance(ann.value, str) else ""
        if not text:
            return None
        if text.replace(".", "_").isidentifier():
            return text.split(".")
        try:
            return annotation_chain(ast.parse(text, mode="eval").body)
        except (SyntaxError, ValueError, RecursionError):
            return None
    if isinstance(ann, ast.Subscript):
        head = name_chain(ann.value)
        if not head or head[-1] not in _WRAPPERS:
            return None
        args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        if head[-1] != "Union":
            args = args[:1]  # Optional[X], Annotated[X, ...], Final[X], ClassVar[X]
        return _single(args)
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        return _single([ann.left, ann.right])
    return None


def _single(args: list) -> list[str] | None:
    """The one type among ``args`` that is not ``None``."""
    rest = [a for a in args if not (type(a) is ast.Constant and a.value is None)]
    return annotation_chain(rest[0]) if len(rest) == 1 else None


def _is_type_checking(test: ast.AST) -> bool:
    return (type(test) is ast.Name and test.id == "TYPE_CHECKING") or (
        type(test) is ast.Attribute and test.attr == "TYPE_CHECKING")


def _never_runs(test: ast.AST) -> tuple[bool, bool]:
    """Whether an ``if``'s body, and its ``else``, never run: ``if TYPE_CHECKING:`` / ``if False:`` (body),
    ``if not TYPE_CHECKING:`` (else)."""
    if _is_type_checking(test) or (type(test) is ast.Constant and test.value in (False, 0)
                                   and type(test.value) in (bool, int)):
        return True, False
    if type(test) is ast.UnaryOp and type(test.op) is ast.Not and _is_type_checking(test.operand):
        return False, True
    return False, False


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """Absolute module of ``from <level dots><target> import ...`` written in ``module``; ``None`` if it escapes."""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        if level - 1 > len(parts):
            return None
        parts = parts[: len(parts) - (level - 1)]
    if target:
        parts = parts + target.split(".")
    return ".".join(parts) if parts else None


def dotted_name(node: ast.AST) -> str | None:
    """``a.b.c`` -> ``"a.b.c"``; ``None`` when the root is not a plain name (a call, a subscript, ...)."""
    chain = name_chain(node)
    return ".".join(chain) if chain else None


def keyword(call: ast.Call, *names: str) -> ast.expr | None:
    """The value of ``call``'s first keyword argument named one of ``names``, or ``None``."""
    return next((k.value for k in call.keywords if k.arg in names), None)


def string_value(node: ast.AST | None) -> str | None:
    """The text of a string literal, else ``None``."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def import_time_statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The statements that run when the module is imported: its body, into if/try/with, not into defs or classes.

    In source order (depth first), so that with :func:`import_bindings` a later import of a name wins, as at run time.
    """
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.TryStar, ast.With)):
            inner = [n for name in ("body", "handlers", "orelse", "finalbody") for n in getattr(node, name, []) or []]
            stack.extend(reversed(inner))
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(reversed(node.body))


def _from_source(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The module a ``from ... import`` names; a relative one climbing above the top package as if absolute."""
    return (resolve_relative(module, is_package, node.level, node.module) if node.level else None) or node.module or ""


def import_bindings(nodes: Iterable[ast.AST], module: str, is_package: bool) -> dict[str, str]:
    """Name -> dotted target bound by the import statements among ``nodes`` (other nodes are ignored).

    ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c`` -> ``a.b``; ``from .x import y as z`` in
    ``pkg.mod`` binds ``z`` -> ``pkg.x.y``. A relative import climbing above the top package binds its target as
    if it were absolute. One flat mapping, a later import winning: pass ``ast.walk(tree)`` for every import of the
    file or :func:`import_time_statements` for the module's own namespace.
    """
    out: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    head = a.name.split(".", 1)[0]
                    out[head] = head
        elif isinstance(node, ast.ImportFrom):
            src = _from_source(node, module, is_package)
            for a in node.names:
                if a.name != "*":
                    out[a.asname or a.name] = f"{src}.{a.name}" if src else a.name
    return out


def imported_names(nodes: Iterable[ast.AST], module: str, is_package: bool) -> set[str]:
    """Every dotted name the import statements among ``nodes`` import (other nodes are ignored).

    Unlike the names bound (:func:`import_bindings`), ``import a.b`` imports modules ``a`` and ``a.b`` though it
    binds only ``a``; ``import a.b as c`` imports ``a.b``; ``from .x import y`` in ``pkg.mod`` imports ``pkg.x.y`` (a module
    or a name of ``pkg.x``); ``from x import *`` imports ``x``.
    """
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                out.add(a.name)
                if not a.asname:
                    out.add(a.name.split(".", 1)[0])  # the name bound, as :func:`import_bindings` has it
        elif isinstance(node, ast.ImportFrom):
            src = _from_source(node, module, is_package)
            out.update(src if a.name == "*" else (f"{src}.{a.name}" if src else a.name) for a in node.names)
    out.discard("")
    return out


# fields that never hold a node with children worth visiting (identifiers, flags, operators, contexts)
_LEAF_FIELDS = frozenset({"ctx", "id", "attr", "arg", "type_comment", "kind", "level", "module", "is_async",
                          "simple", "conversion", "op", "name", "asname", "tag"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


class _Visitor:
    """One pass over the tree; references are resolved after it, once every scope's bindings are known."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.scope = _Scope("module", module, None)
        self.module_scope = self.scope
        self.cond = 0
        self.tc = 0  # inside code that never runs (if TYPE_CHECKING: / if False:)
        self.ann = 0  # inside an annotation
        self.func = 0
        self.imports: list = []
        self.classes: set[str] = set()
        self.dicts: set[str] = set()
        self.raw_refs: list = []  # (scope, line, caller, chain, kind, guard rule or "")
        self.unresolved: dict[tuple[str, str | None], int] = {}
        self.functions: set[str] = set()
        self.alias_raw: dict[str, list] = {}  # module-level name -> one entry per aliasing assignment
        self.module_binds: dict[str, int] = {}  # module-level name -> bindings other than imports
        self.raw_returns: list = []  # (function qualname in module, scope of the def or None, chain)
        self.class_path: list[str] = []  # enclosing class names while not inside a function
        self.class_methods: list[frozenset] = []  # per enclosing class body: the functions it defines
        self.class_attrs: list[_Attrs] = []  # per enclosing class body: what its methods bind on ``self``
        self.handlers = {
            ast.Import: self.v_import,
            ast.ImportFrom: self.v_importfrom,
            ast.FunctionDef: self.v_function,
            ast.AsyncFunctionDef: self.v_function,
            ast.Lambda: self.v_lambda,
            ast.ClassDef: self.v_class,
            ast.Call: self.v_call,
            ast.Name: self.v_name,
            ast.Attribute: self.v_value,
            ast.Expr: self.v_value,
            ast.Assign: self.v_assign,
            ast.AnnAssign: self.v_annassign,
            ast.Constant: self.v_leaf,
            ast.Global: self.v_global,
            ast.Nonlocal: self.v_leaf,
            ast.If: self.v_if,
            ast.Try: self.v_try,
            ast.TryStar: self.v_try,
            ast.Match: self.v_try,
            ast.ExceptHandler: self.v_except,
        }

    # ---- traversal ------------------------------------------------------
    def visit(self, node: ast.AST) -> None:
        h = self.handlers.get(type(node))
        if h is None:
            self.generic(node)
        else:
            h(node)

    def generic(self, node: ast.AST) -> None:
        handlers = self.handlers
        t = type(node)
        fields = _CHILD_FIELDS.get(t)
        if fields is None:
            fields = _CHILD_FIELDS[t] = tuple(f for f in t._fields if f not in _LEAF_FIELDS)
        for f in fields:
            v = getattr(node, f, None)
            for child in v if type(v) is list else (v,):
                if isinstance(child, ast.AST):
                    h = handlers.get(type(child))
                    if h is None:
                        self.generic(child)
                    else:
                        h(child)

    def visit_list(self, nodes: list) -> None:
        for n in nodes:
            self.visit(n)

    def v_leaf(self, node: ast.AST) -> None:
        return None

    def v_value(self, node: ast.Attribute | ast.Expr) -> None:
        """The commonest nodes (an attribute, an expression statement), visited without the generic field loop."""
        v = node.value
        if type(v) is ast.Name and type(node) is ast.Attribute and type(node.ctx) is not ast.Load:
            attrs = self.scope.attrs
            if attrs is not None and v.id == self.scope.self_name:  # self.x = ..., del self.x, for self.x in ...
                attrs.binds[node.attr] = attrs.binds.get(node.attr, 0) + 1
        h = self.handlers.get(type(v))
        if h is None:
            self.generic(v)
        else:
            h(v)

    # ---- bindings -------------------------------------------------------
    def bind_local(self, name: str) -> None:
        s = self.scope
        if name in s.globals:
            s = self.module_scope
        if name in s.origins:
            s.ambiguous.add(name)
        if s is self.module_scope:
            self.module_binds[name] = self.module_binds.get(name, 0) + 1
        s.locals.add(name)

    def bind_import(self, name: str, target: str) -> None:
        s = self.scope
        if name in s.globals:
            s = self.module_scope
        s.imports[name] = target

    def v_name(self, node: ast.Name) -> None:
        if type(node.ctx) is not ast.Load:
            self.bind_local(node.id)

    def v_global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)

    def _row(self, line: int, module: str, symbol: str | None, relative: bool) -> None:
        self.imports.append((line, module, symbol, relative, self.cond > 0, self.tc > 0, self.func > 0))

    def v_import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._row(node.lineno, alias.name, None, False)
            if alias.asname:
                self.bind_import(alias.asname, alias.name)
            else:
                head = alias.name.split(".", 1)[0]
                self.bind_import(head, head)

    def v_importfrom(self, node: ast.ImportFrom) -> None:
        level = node.level or 0
        if level:
            base = resolve_relative(self.module, self.is_package, level, node.module)
            if base is None:  # climbs above the top package: keep it as written
                base = "." * level + (node.module or "")
        else:
            base = node.module or ""
        for alias in node.names:
            star = alias.name == "*"
            self._row(node.lineno, base, None if star else alias.name, level > 0)
            if not star:
                self.bind_import(alias.asname or alias.name, f"{base}.{alias.name}")

    # ---- scopes ---------------------------------------------------------
    def _function_scope(self, args: ast.arguments, qual: str) -> _Scope:
        scope = _Scope("function", qual, self.scope)
        scope.params.update(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                            if a)
        scope.locals.update(scope.params)
        return scope

    def _visit_arg_exprs(self, args: ast.arguments) -> None:
        for d in [*args.defaults, *args.kw_defaults]:
            if d is not None:
                self.visit(d)
        self._visit_annotations([a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                                                          args.vararg, args.kwarg] if a is not None])

    def _visit_annotations(self, nodes: list) -> None:
        self.ann += 1
        for n in nodes:
            if n is not None:
                self.visit(n)
        self.ann -= 1

    def _decorators(self, decorators: list) -> None:
        for d in decorators:
            chain = name_chain(d)
            if chain is not None:  # a bare decorator is called with the function
                self.raw_refs.append((self.scope, d.lineno, self.scope.qual, chain, "call", self.guard()))
            self.visit(d)

    def v_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._decorators(node.decorator_list)
        self._visit_arg_exprs(node.args)
        self._visit_annotations([node.returns])
        self.bind_local(node.name)
        parent = self.scope
        parent.defs.add(node.name)
        if self.func == 0:
            self._record_return(node, parent)
            self.functions.add(node.name)
        scope = self._function_scope(node.args, f"{parent.qual}.{node.name}")
        for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
            if a.annotation is not None:  # ``config: Config`` holds a Config, as ``config = Config()`` would
                chain = annotation_chain(a.annotation)
                if chain is not None:
                    scope.origins[a.arg] = chain
        if parent.kind == "class" and not any(name_chain(d) == ["staticmethod"] for d in node.decorator_list):
            first = (node.args.posonlyargs + node.args.args)[:1]
            if first:
                scope.self_name = first[0].arg
                scope.origins.pop(first[0].arg, None)
                scope.methods = self.class_methods[-1] if self.class_methods else frozenset()
                scope.attrs = self.class_attrs[-1] if self.class_attrs else None
        self.scope, saved_classes = scope, self.class_path
        self.class_path = []
        self.func += 1
        self.visit_list(node.body)
        self.func -= 1
        self.scope, self.class_path = parent, saved_classes

    def _record_return(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope) -> None:
        """What a module-level function or a method returns, when its annotation (or ``return cls(...)`` in a
        classmethod) names a class: lets ``c = Client.from_settings(); c.charge()`` resolve ``charge``."""
        qual = ".".join(self.class_path + [node.name])
        if node.returns is not None:
            chain = annotation_chain(node.returns)
            if chain:
                self.raw_returns.append((qual, scope, chain))
        elif self.class_path and any(name_chain(d) == ["classmethod"] for d in node.decorator_list) and any(
                type(n) is ast.Return and type(n.value) is ast.Call and type(n.value.func) is ast.Name
                and n.value.func.id == node.args.args[0].arg for n in ast.walk(node) if node.args.args):
            self.raw_returns.append((qual, None, [self.module] + self.class_path))

    def v_lambda(self, node: ast.Lambda) -> None:
        self._visit_arg_exprs(node.args)
        parent = self.scope
        self.scope = self._function_scope(node.args, parent.qual)
        self.func += 1
        self.visit(node.body)
        self.func -= 1
        self.scope = parent

    def v_class(self, node: ast.ClassDef) -> None:
        self._decorators(node.decorator_list)
        for b in node.bases:
            chain = name_chain(b)
            if chain is not None:
                self.raw_refs.append((self.scope, b.lineno, self.scope.qual, chain, "subclass", self.guard()))
            self.visit(b)
        for k in node.keywords:
            self.visit(k.value)
        self.bind_local(node.name)
        self.scope.defs.add(node.name)
        if self.func == 0:
            self.classes.add(".".join(self.class_path + [node.name]))
            if any((name_chain(b) or [""])[-1] == "TypedDict" for b in node.bases):
                self.dicts.add(".".join(self.class_path + [node.name]))
        parent = self.scope
        self.scope = _Scope("class", f"{parent.qual}.{node.name}", parent)
        self.class_path.append(node.name)
        self.class_methods.append(frozenset(n.name for n in node.body
                                            if type(n) in (ast.FunctionDef, ast.AsyncFunctionDef)))
        self.class_attrs.append(_Attrs())
        self.visit_list(node.body)
        self.class_attrs.pop()
        self.class_methods.pop()
        self.class_path.pop()
        self.scope = parent

    # ---- references -----------------------------------------------------
    def guard(self) -> str:
        """The rule that keeps a reference here from running, or ``""``."""
        return "type_checking" if self.tc else "annotation" if self.ann else ""

    def v_call(self, node: ast.Call) -> None:
        chain = name_chain(node.func)
        if chain is not None:
            self.raw_refs.append((self.scope, node.lineno, self.scope.qual, chain, "call", self.guard()))
        elif not self.tc and not self.ann:
            root = node.func
            while type(root) is ast.Attribute:
                root = root.value
            # super().m(), "".join(), [..].append(): the class's own hierarchy or a builtin type, never unresolved
            if not (isinstance(root, _LITERAL_TYPES) or (type(root) is ast.Call and type(root.func) is ast.Name
                                                         and root.func.id == "super")):
                key = ("dynamic", node.func.attr if type(node.func) is ast.Attribute else None)
                self.unresolved[key] = self.unresolved.get(key, 0) + 1
        self.generic(node)

    def v_assign(self, node: ast.Assign) -> None:
        """``x = f(...)`` remembers that ``x`` holds the result of ``f``, so ``x.m()`` can be resolved later."""
        target = node.targets[0] if len(node.targets) == 1 else None
        name = target.id if type(target) is ast.Name else None
        s = self.scope
        if name is not None and name in s.globals:
            s = self.module_scope
        seen = name is not None and name in s.locals
        self.generic(node)
        value = node.value
        if name is not None and (type(value) is ast.Call or isinstance(value, _LITERAL_TYPES)):
            chain = name_chain(value.func) if type(value) is ast.Call else _LITERAL
            if chain is not None and not seen and name not in s.ambiguous:
                s.origins[name] = chain
            elif seen:
                s.ambiguous.add(name)
        if s is self.module_scope and self.scope is s:
            self._record_alias(node.targets, value)
        elif type(target) is ast.Attribute and self.scope.attrs is not None:
            if type(value) is ast.Name and value.id in self.scope.params:  # self.config = config
                self._record_attr(target, value.id, None)
            elif type(value) is ast.Call:  # self.pool = Pool()
                self._record_attr(target, None, name_chain(value.func))

    def _record_attr(self, target: ast.Attribute, param: str | None, chain: list[str] | None) -> None:
        """Remember what ``self.<attr>`` is bound to in a method (used when it is its only binding)."""
        owner = target.value
        if type(owner) is ast.Name and owner.id == self.scope.self_name and self.scope.attrs is not None and (
                param is not None or chain is not None):
            self.scope.attrs.types[target.attr] = (self.scope, param, chain)

    def _record_alias(self, targets: list, value: ast.AST) -> None:
        """Module level ``name = other.name`` or ``name = (a, b)``: remember what it names (see ``aliases``)."""
        if type(value) is ast.Tuple:
            entry = None if all(name_chain(e) is not None for e in value.elts) else False
        else:
            entry = name_chain(value) or False
        if entry is False:
            return
        for t in targets:
            if type(t) is ast.Name:
                self.alias_raw.setdefault(t.id, []).append(entry)

    def v_annassign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        if type(node.target) is ast.Attribute and self.scope.attrs is not None:  # self.config: Config = ...
            chain = annotation_chain(node.annotation)
            if chain is not None:
                self._record_attr(node.target, None, chain)
        self._visit_annotations([node.annotation])
        if node.value is not None:
            self.visit(node.value)
            if self.scope is self.module_scope and type(node.target) is ast.Name:
                self._record_alias([node.target], node.value)

    # ---- conditions -----------------------------------------------------
    def v_if(self, node: ast.If) -> None:
        self.visit(node.test)
        body, orelse = _never_runs(node.test)
        self.cond += 1
        self.tc += body
        self.visit_list(node.body)
        self.tc += orelse - body
        self.visit_list(node.orelse)
        self.tc -= orelse
        self.cond -= 1

    def v_try(self, node: ast.AST) -> None:
        self.cond += 1
        self.generic(node)
        self.cond -= 1

    def v_except(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bind_local(node.name)
        self.generic(node)

    # ---- resolution -----------------------------------------------------
    def binding_scope(self, scope: _Scope, name: str) -> _Scope | None:
        """The scope whose import or assignment ``name`` refers to when used in ``scope`` (Python's order:
        enclosing functions but not class bodies, ``global`` to the module), or ``None`` (builtin, unknown)."""
        s: _Scope | None = scope
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            if name in s.globals:
                s, first = self.module_scope, False
                continue
            if name in s.imports or name in s.locals:
                return s
            s, first = s.parent, False
        return None

    def qualify(self, scope: _Scope, chain: list[str]) -> str | None:
        """Dotted name of ``chain`` seen from ``scope``: through an import, or a name this module defines."""
        s = self.binding_scope(scope, chain[0])
        target = None if s is None else s.imports.get(chain[0])
        if target is None:
            if chain[0] in self.module_scope.locals and chain[0] not in self.module_scope.imports and (
                    scope is self.module_scope or not self._bound_below_module(scope, chain[0])):
                target = f"{self.module}.{chain[0]}"
            else:
                return None
        return target + "." + ".".join(chain[1:]) if len(chain) > 1 else target

    def _bound_below_module(self, scope: _Scope, name: str) -> bool:
        s: _Scope | None = scope
        while s is not None and s is not self.module_scope:
            if s.kind != "class" and name in s.locals and name not in s.globals:
                return True
            s = s.parent
        return False

    def origin(self, scope: _Scope, name: str, s: "_Scope | None | bool" = False) -> str | None:
        """``"<dotted callee>()"`` when ``name`` holds the result of exactly one call, else ``None``.
        ``s``: ``name``'s binding scope when the caller knows it already."""
        if s is False:
            s = self.binding_scope(scope, name)
        if s is None or name in s.imports:
            return None
        chain = s.origins.get(name)
        if chain is None or chain is _LITERAL or name in s.ambiguous:
            return None
        return self._called(s, chain)

    def _called(self, s: _Scope, chain: list[str]) -> str | None:
        callee = self.qualify(s, chain)
        return None if callee is None else callee + "()"

    def attr_origin(self, method: _Scope, attr: str) -> str | None:
        """``"<dotted class or callee>()"`` when ``self.<attr>`` has one binding in its class's methods and it
        names what the attribute holds (an annotated parameter, one call, an annotation), else ``None``."""
        attrs = method.attrs
        got = attrs.types.get(attr) if attrs is not None and attrs.binds.get(attr) == 1 else None
        if got is None:
            return None
        s, param, chain = got
        return self._called(s, chain) if param is None else self.origin(s, param, s)

    def refs(self) -> tuple[list, list]:
        """(runnable references, guarded references); counts the runnable calls it cannot resolve."""
        out: list = []
        guarded: list = []
        for scope, line, caller, chain, kind, guard in self.raw_refs:
            bound = self.binding_scope(scope, chain[0])
            target = None if bound is None else bound.imports.get(chain[0])
            if target is None:
                if len(chain) < 2 or kind != "call":
                    if not guard and kind == "call" and bound is not None:
                        self._unresolved(bound, chain)
                    continue
                target = self.origin(scope, chain[0], bound)  # x = Client(); x.charge(); config: Config
                if bound is not None and target is not None and len(chain) > 2 and chain[0] in bound.params:
                    target = None  # config.app.run(): what the annotated object holds is not known
                elif bound is not None and target is None and chain[0] == bound.self_name and len(chain) == 3:
                    target = self.attr_origin(bound, chain[1])  # self.config = config; self.config.load()
                    if target is not None:
                        chain = chain[1:]
                if target is None:
                    if not guard and bound is not None:
                        self._unresolved(bound, chain)
                    continue
            if len(chain) > 1:
                target = target + "." + ".".join(chain[1:])
            if guard:
                guarded.append((line, caller, target, kind, guard))
            else:
                out.append((line, caller, target, kind))
        return out, guarded

    def _unresolved(self, s: _Scope, chain: list[str]) -> None:
        """Count a runnable call rooted at a name no import binds (``s``: the scope binding it), unless it is known
        not to leave the file: a name the file defines, a method of ``self``'s class, a variable holding a literal.
        (A name no scope binds is a builtin or unknown: never counted.)"""
        name = chain[0]
        if s is self.module_scope or name in s.defs:
            return  # defined in this file
        if name == s.self_name:
            if len(chain) == 2 and chain[1] in s.methods:
                return
            reason = "attribute"
        elif name in s.params and name not in s.ambiguous:
            reason = "parameter"
        elif s.origins.get(name) is _LITERAL and name not in s.ambiguous:
            return
        else:
            reason = "local"
        key = (reason, chain[-1] if len(chain) > 1 else None)
        self.unresolved[key] = self.unresolved.get(key, 0) + 1

    def aliases(self) -> dict[str, tuple]:
        """Module-level names bound only by aliasing assignments (and imports) -> what each binding names; a name
        bound once to a literal (``port_by_scheme = {...}``) names a builtin value: ``(None,)``."""
        out = {}
        ms = self.module_scope
        imports = ms.imports
        for name, origin in ms.origins.items():
            if origin is _LITERAL and name not in ms.ambiguous and name not in imports:
                out[name] = (None,)
        for name, entries in self.alias_raw.items():
            if self.module_binds.get(name, 0) != len(entries):
                continue  # also bound by a def, a class or another assignment: this module defines it
            targets = []
            for chain in entries:
                if chain is None:  # a tuple of names
                    targets.append(None)
                elif chain[0] in imports:
                    targets.append(".".join([imports[chain[0]]] + chain[1:]))
                elif chain[0] in _BUILTINS and (chain[0] == name or chain[0] not in ms.locals
                                               or chain[0] in self.alias_raw):
                    targets.append(None)  # a builtin (``str = str`` reads the builtin)
                else:  # a name of this module, or one nothing binds (a star import?): not known to be outside
                    targets.append(".".join([self.module] + chain))
            if name in imports:
                targets.append(imports[name])
            out[name] = tuple(targets)
        return out

    def returns(self) -> dict[str, str]:
        out = {}
        for qual, scope, chain in self.raw_returns:
            target = ".".join(chain) if scope is None else self.qualify(scope, chain)
            if target is not None:
                out[qual] = target
        return out


def scan_source(path: str, module: str, source: bytes) -> FileFacts:
    """Parse one file's bytes and collect its :class:`FileFacts`; a parse failure is returned in ``error``."""
    is_package = path.endswith("__init__.py")
    facts = FileFacts(path=path, module=module)
    facts.loc = sum(1 for ln in source.splitlines() if ln.strip())
    facts.generated = declares_generated(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are about the analysed code, not ours
            tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        facts.error = (f"does not parse as Python 3: {exc.msg}", exc.lineno)
        return facts
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError) as exc:
        facts.error = (f"cannot be parsed: {type(exc).__name__}: {exc}", None)
        return facts
    v = _Visitor(module, is_package)
    try:
        v.visit_list(tree.body)
    except RecursionError:
        facts.error = ("is nested too deeply to analyse", None)
        return facts
    facts.imports = v.imports
    facts.classes = frozenset(v.classes)
    facts.dicts = frozenset(v.dicts)
    facts.defined = frozenset(v.module_scope.locals)
    facts.exports = dict(v.module_scope.imports)
    facts.refs, facts.guarded = v.refs()
    facts.unresolved = v.unresolved
    facts.functions = frozenset(v.functions)
    facts.aliases = v.aliases()
    facts.returns = v.returns()
    return facts


def scan_many(items: list[tuple[str, str, bytes]]) -> list[FileFacts]:
    """:func:`scan_source` over ``(path, module, source)`` items — the unit of work sent to a worker process.
    (A forked worker inherits its caller's paused collector: :mod:`toolkit.runtime.gcpause`.)"""
    return [scan_source(p, m, b) for p, m, b in items]
