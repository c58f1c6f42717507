"""What one Python module says about its definitions' interfaces, read with ``ast`` (never executed).

:func:`parse_module` returns, for every function, class and method of a
module, the facts the interface documentation review needs: docstring,
parameters, a comparable *signature*, annotations, whether the body returns a
value or raises, and which names its annotations mention. The docstring helpers
recognise the three common styles: Google (``Args:``), NumPy
(``Parameters`` underlined with dashes) and Sphinx (``:param x:``).

Signature of a class: its ``__init__`` parameters when it defines one; else,
for a data class (``@dataclass``, attrs, ``TypedDict``, ``NamedTuple``,
pydantic ``BaseModel``), its annotated fields — the constructor Python
generates — so renaming a field is a signature change.
"""
from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

from toolkit.load.python_ast import import_bindings, import_time_statements

#: Decorators (last dotted part, or full name for attrs' short ones) that make a class a data class.
_DATA_DECORATORS = frozenset({"dataclass", "dataclasses.dataclass", "attr.s", "attr.attrs", "attrs.define",
                              "attrs.frozen", "attr.define", "attr.frozen", "define", "frozen", "attrs.mutable",
                              "pydantic.dataclasses.dataclass"})
_DATA_BASES = frozenset({"TypedDict", "NamedTuple", "BaseModel", "Struct"})


@dataclass(slots=True)
class Definition:
    """One function, method or class of a module (``qualname`` relative to the module)."""

    qualname: str
    kind: str  # function, method, class
    line: int
    doc: str | None
    params: list[str]  # parameter names without self/cls (class: constructor parameters)
    signature: tuple  # comparable: ((name, kind, annotation, default), ...), return annotation
    annotated: int  # annotated parameters (+1 for an annotated return)
    annotatable: int  # parameters (+1 for the return of functions)
    returns_value: bool
    raises: bool
    ann_names: list[str] = field(default_factory=list)  # dotted names in the annotations (as written)
    is_data: bool = False


@dataclass(slots=True)
class ModuleDefs:
    """``defs``: qualname -> Definition; ``bindings``: module-level import bindings name -> absolute dotted name."""

    defs: dict[str, Definition]
    bindings: dict[str, str]
    error: str | None = None


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return None


def _ann_names(node: ast.AST | None, out: list[str]) -> None:
    if node is None:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return
    d = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
    if d:
        out.append(d)
        return
    for child in ast.iter_child_nodes(node):
        _ann_names(child, out)


def _unparse(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def _own_nodes(body: list[ast.stmt]):
    """Nodes of a function body, not descending into nested functions, lambdas or classes."""
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    stack = [n for n in body if not isinstance(n, nested)]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, nested):
                stack.append(child)


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef, qual: str, kind: str, body: bool = True) -> Definition:
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.AST | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    decorators = {_dotted(d) for d in node.decorator_list}
    if kind == "method" and positional and "staticmethod" not in decorators:
        positional, defaults = positional[1:], defaults[1:]  # self / cls
    args: list[tuple[str, str, ast.AST | None, ast.AST | None]] = [
        (p.arg, "pos", p.annotation, d) for p, d in zip(positional, defaults)]
    if a.vararg:
        args.append((a.vararg.arg, "*", a.vararg.annotation, None))
    args += [(p.arg, "kw", p.annotation, d) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        args.append((a.kwarg.arg, "**", a.kwarg.annotation, None))
    sig = (tuple((n, k, _unparse(ann), _unparse(d)) for n, k, ann, d in args), _unparse(node.returns))
    names: list[str] = []
    for _n, _k, ann, _d in args:
        _ann_names(ann, names)
    _ann_names(node.returns, names)
    returns_value = raises = False
    for sub in _own_nodes(node.body) if body else ():
        if isinstance(sub, ast.Return) and sub.value is not None and not (
                isinstance(sub.value, ast.Constant) and sub.value.value is None):
            returns_value = True
        elif isinstance(sub, (ast.Yield, ast.YieldFrom)):
            returns_value = True
        elif isinstance(sub, ast.Raise) and sub.exc is not None:
            raises = True
    is_init = node.name == "__init__"
    annotated = sum(ann is not None for _n, _k, ann, _d in args) + (node.returns is not None and not is_init)
    return Definition(qual, kind, node.lineno, ast.get_docstring(node), [n for n, *_ in args], sig,
                      annotated, len(args) + (0 if is_init else 1), returns_value, raises, names)


def _class(node: ast.ClassDef, qual: str, methods: dict[str, Definition]) -> Definition:
    decorators = {_dotted(d) for d in node.decorator_list} - {None}
    bases = {(_dotted(b) or "").rsplit(".", 1)[-1] for b in node.bases}
    is_data = bool(decorators & _DATA_DECORATORS) or bool(bases & _DATA_BASES)
    doc = ast.get_docstring(node)
    init = methods.get("__init__")
    if init is not None:
        d = init
        params, sig, annotated, annotatable = d.params, d.signature, d.annotated, d.annotatable
        raises, names = d.raises, list(d.ann_names)
        if d.doc:
            doc = f"{doc}\n\n{d.doc}" if doc else d.doc
    else:
        fields, names = [], []
        if is_data:
            for st in node.body:
                if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                    ann = _unparse(st.annotation) or ""
                    if "ClassVar" in ann:
                        continue
                    fields.append((st.target.id, "field", ann, _unparse(st.value)))
                    _ann_names(st.annotation, names)
        params = [f[0] for f in fields]
        sig = (tuple(fields), None)
        annotated = annotatable = len(fields)
        raises = False
    return Definition(qual, "class", node.lineno, doc, params, sig, annotated, annotatable, False, raises, names,
                      is_data)


def parse_module(source: bytes, module: str, is_package: bool, only: frozenset[str] | None = None) -> ModuleDefs:
    """Every top-level function and class (and each class's methods, ``Class.method``) of one module.

    ``only``: just these qualnames, with signature and docstring only (``returns_value``/``raises`` left False)
    — what drift detection compares, at a fraction of the cost.
    """
    body = only is None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        return ModuleDefs({}, {}, error=str(exc))
    defs: dict[str, Definition] = {}

    def visit_class(node: ast.ClassDef, prefix: str) -> None:
        qual = f"{prefix}{node.name}"
        methods: dict[str, Definition] = {}
        for st in node.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                mq = f"{qual}.{st.name}"
                if only is None or mq in only or (st.name == "__init__" and qual in only):
                    m = _function(st, mq, "method", body)
                    methods.setdefault(st.name, m)
                    defs.setdefault(m.qualname, m)
            elif isinstance(st, ast.ClassDef):
                visit_class(st, f"{qual}.")
        if only is None or qual in only:
            defs[qual] = _class(node, qual, methods)

    def visit_block(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if only is None or node.name in only:
                    defs[node.name] = _function(node, node.name, "function", body)
            elif isinstance(node, ast.ClassDef):
                visit_class(node, "")
            elif isinstance(node, (ast.If, ast.Try)):  # TYPE_CHECKING / optional defs
                visit_block(node.body)
                for h in getattr(node, "handlers", []):
                    visit_block(h.body)
                visit_block(node.orelse)

    visit_block(tree.body)
    return ModuleDefs(defs, import_bindings(import_time_statements(tree), module, is_package))



def parse_versions(items: list[tuple]) -> list[tuple]:
    """``[(key, parse_module(source, module, is_package, only)) ...]`` for ``(key, source, module, is_package,
    only)`` items: module versions parsed in a worker process (toolkit.runtime.parallel.map_chunks)."""
    return [(key, parse_module(source, module, is_package, only=only)) for key, source, module, is_package, only
            in items]

# ---- docstrings -------------------------------------------------------------
_GOOGLE_PARAMS = re.compile(r"^(\s*)(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|"
                            r"Other Parameters|Attributes)\s*:\s*$")
_GOOGLE_ENTRY = re.compile(r"^\s*\**(\w+)\s*(\([^)]*\))?\s*:")
_NUMPY_PARAMS = re.compile(r"^(\s*)(Parameters|Other Parameters|Keyword Arguments|Attributes)\s*$")
_NUMPY_ENTRY = re.compile(r"^\s*(\**\w+(?:\s*,\s*\**\w+)*)\s*(?::.*)?$")
_DASHES = re.compile(r"^\s*-{3,}\s*$")
_SPHINX_PARAM = re.compile(r":(?:param|parameter|arg|argument|key|keyword|ivar)\s+(?:[^:]*?\s)?\**(\w+)\s*:")
_RETURNS = re.compile(r"(^\s*(Returns?|Yields?)\s*:)|(:returns?:)|(:rtype:)|(:yields?:)|"
                      r"(^\s*(Returns|Yields)\s*\n\s*-{3,}\s*$)", re.MULTILINE)
_RAISES = re.compile(r"(^\s*Raises\s*:)|(:raises?\b)|(^\s*Raises\s*\n\s*-{3,}\s*$)", re.MULTILINE)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def documented_params(doc: str | None) -> set[str]:
    """Parameter names a docstring documents, in Google, NumPy or Sphinx style."""
    if not doc:
        return set()
    names = set(_SPHINX_PARAM.findall(doc))
    lines = doc.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        g = _GOOGLE_PARAMS.match(line)
        if g:
            head = len(g.group(1))
            i += 1
            entry_indent = None
            while i < len(lines):
                ln = lines[i]
                if ln.strip():
                    ind = _indent(ln)
                    if ind <= head:
                        break
                    if entry_indent is None:
                        entry_indent = ind
                    if ind == entry_indent:
                        m = _GOOGLE_ENTRY.match(ln)
                        if m:
                            names.add(m.group(1))
                i += 1
            continue
        n = _NUMPY_PARAMS.match(line)
        if n and i + 1 < len(lines) and _DASHES.match(lines[i + 1]):
            head = len(n.group(1))
            i += 2
            while i < len(lines):
                ln = lines[i]
                if ln.strip():
                    if i + 1 < len(lines) and _DASHES.match(lines[i + 1]):
                        break  # the next section's header
                    if _indent(ln) == head:
                        m = _NUMPY_ENTRY.match(ln)
                        if m:
                            names.update(x.strip().lstrip("*") for x in m.group(1).split(","))
                    elif _indent(ln) < head:
                        break
                i += 1
            continue
        i += 1
    return names


def documents_returns(doc: str | None) -> bool:
    """A ``Returns:``/``Yields:`` section (Google), ``:returns:``/``:rtype:`` (Sphinx) or an underlined
    ``Returns`` (NumPy)."""
    return bool(doc) and _RETURNS.search(doc) is not None


def documents_raises(doc: str | None) -> bool:
    """A ``Raises:`` section (Google), ``:raises X:`` (Sphinx) or an underlined ``Raises`` (NumPy)."""
    return bool(doc) and _RAISES.search(doc) is not None


def describe_change(before: tuple, after: tuple) -> str:
    """A short human description of how a signature changed."""
    def fmt(sig: tuple) -> str:
        parts = []
        for name, kind, ann, default in sig[0]:
            s = {"*": "*", "**": "**"}.get(kind, "") + name
            if ann:
                s += f": {ann}"
            if default is not None:
                s += f" = {default}"
            parts.append(s)
        out = f"({', '.join(parts)})"
        return out + (f" -> {sig[1]}" if sig[1] else "")
    return f"{fmt(before)} => {fmt(after)}"


def def_headers(source: bytes, name: str) -> list[bytes]:
    """The source text of every ``def name(...)`` header line block (through the line ending in ``:``).

    A cheap test for "this function's signature cannot have changed": when these
    texts are equal in two versions of a file, so are the signatures. A header
    that fools the bracket count only makes the text longer (never shorter), so
    equality stays a safe reason to skip parsing.
    """
    out = []
    n = len(source)
    # "def" first lets the regex scan fast (a pattern starting with ``^`` in multi-line mode tries every position)
    for m in re.finditer(rb"def[ \t]+" + re.escape(name.encode()) + rb"[ \t]*\(", source):
        line_start = source.rfind(b"\n", 0, m.start()) + 1
        prefix = source[line_start:m.start()].strip(b" \t")
        if prefix not in (b"", b"async"):
            continue
        start = pos = line_start
        depth = 0
        while pos < n:
            end = source.find(b"\n", pos)
            end = n if end < 0 else end
            line = source[pos:end]
            depth += (line.count(b"(") + line.count(b"[") + line.count(b"{")
                      - line.count(b")") - line.count(b"]") - line.count(b"}"))
            pos = end + 1
            if depth <= 0 and line.split(b"#", 1)[0].rstrip().endswith(b":"):
                break
        out.append(source[start:pos])
    return out


def _indent_of(line: bytes) -> int:
    return len(line) - len(line.lstrip(b" \t"))


def _code(line: bytes) -> bytes:
    return line.split(b"#", 1)[0].strip()


def _depth(line: bytes) -> int:
    return (line.count(b"(") + line.count(b"[") + line.count(b"{")
            - line.count(b")") - line.count(b"]") - line.count(b"}"))


_INIT = re.compile(rb"(?:async[ \t]+)?def[ \t]+__init__\b")
_DEF_OR_CLASS = re.compile(rb"(?:async[ \t]+)?def\b|class\b")
_TRIPLE_D, _TRIPLE_S = b'"""', b"'''"


def class_headers(source: bytes, name: str, lines: list[bytes] | None = None) -> list[bytes] | None:
    """The text of every ``class name`` that its signature can depend on, or ``None`` when unsure.

    A class's signature (:func:`parse_module`) is its ``__init__``'s, or its fields' for a data class, and
    depends on its decorators and bases. This keeps the decorator lines, the ``class`` header, every
    statement but ``def``/``class`` that starts at the body's indentation (fields with their continuation
    lines, decorators), the whole ``__init__`` header, and every line inside a multi-line string; it leaves
    out other methods, which are what most changes touch. So, like :func:`def_headers`, equal texts in two
    versions mean equal signatures. ``None`` (both quote styles on one line) means "parse to be sure".
    ``lines``: ``source.split(b"\\n")``, when the caller keeps it for several names.
    """
    word = name.encode()
    if word not in source:  # the common case: a file version without this class at all
        return []
    found = []  # (line number, indentation) of each ``class name``; "class" first lets the regex scan fast
    for m in re.finditer(rb"class[ \t]+" + re.escape(word) + rb"\b", source):
        line_start = source.rfind(b"\n", 0, m.start()) + 1
        if not source[line_start:m.start()].strip(b" \t"):
            found.append((source.count(b"\n", 0, line_start), m.start() - line_start))
    if lines is None:
        lines = source.split(b"\n") if found else []
    out: list[bytes] = []
    for i, ind in found:
        first_dec, j = None, i - 1
        while j >= 0:  # decorators above the class line, with their continuation lines
            up = lines[j]
            stripped = up.lstrip()
            if _code(up) and _indent_of(up) <= ind and not stripped.startswith((b"@", b")", b"]", b"}")):
                break
            if stripped.startswith(b"@") and _indent_of(up) == ind:
                first_dec = j
            j -= 1
        kept = list(lines[first_dec:i]) if first_dec is not None else []
        k, depth = i, 0
        while k < len(lines):  # the class header, through its colon
            depth += _depth(lines[k])
            kept.append(lines[k])
            k += 1
            if depth <= 0 and _code(lines[k - 1]).endswith(b":"):
                break
        body_ind, depth, in_init, quotes = None, 0, False, 0
        for ln in lines[k:]:  # per line of the class: kept cheap, a class can be most of a file
            inside_string = quotes % 2 == 1
            if _TRIPLE_D in ln or _TRIPLE_S in ln:
                if _TRIPLE_D in ln and _TRIPLE_S in ln:
                    return None
                quotes += ln.count(_TRIPLE_D) + ln.count(_TRIPLE_S)
            if inside_string:
                kept.append(ln)
                continue
            stripped = ln.lstrip()
            if not stripped or stripped[:1] == b"#":
                continue
            ind_k = len(ln) - len(stripped)
            if depth > 0 or in_init:  # a continuation of a kept statement
                kept.append(ln)
                depth += _depth(ln)
                in_init = in_init and not (depth <= 0 and _code(ln).endswith(b":"))
                continue
            if body_ind is None:
                body_ind = ind_k
            if ind_k <= ind:
                break
            if ind_k != body_ind:
                if quotes % 2:
                    kept.append(ln)
                continue
            if _INIT.match(stripped):
                kept.append(ln)
                depth = _depth(ln)
                in_init = not (depth <= 0 and _code(ln).endswith(b":"))
            elif not _DEF_OR_CLASS.match(stripped):  # other methods' headers: no part of the class's signature
                kept.append(ln)
                depth = max(_depth(ln), 0)
        out.append(b"\n".join(kept))
    return out
