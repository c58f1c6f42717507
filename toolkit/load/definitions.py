"""Definitions of a repository's Python modules and how they changed in its history: a loader (repository
in, definitions out), read with ``ast`` and never executed.

:func:`parse_module` returns, for every function, class and method of a module, the facts the interface
documentation review needs: docstring, parameters, a comparable *signature*, annotations, whether the body
returns a value or raises, and which names its annotations mention.

Signature of a class: its ``__init__`` parameters when it defines one; else, for a data class (``@dataclass``,
attrs, ``TypedDict``, ``NamedTuple``, pydantic ``BaseModel``), its annotated fields — the constructor Python
generates — so renaming a field is a signature change.

:func:`load_definitions` parses the modules of one revision; :func:`load_definition_changes` compares, for each
commit that changed a file, the signatures and docstrings of the definitions asked for before and after it.
Both keep what they parsed in the cache (:mod:`toolkit.runtime.cache`, namespace ``definitions``) keyed by
**git blob id**, so a file version is parsed at most once per audit and never again by a later audit (a
re-audit after new commits, a backtest at an earlier revision) that meets the same version.
"""
from __future__ import annotations

import ast
import hashlib
import re
import warnings
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from toolkit.load.gitrepo import blob_id
from toolkit.load.history import History, follow_renames
from toolkit.load.python_ast import import_bindings, import_time_statements
from toolkit.runtime import cache
from toolkit.runtime.parallel import map_chunks
from toolkit.runtime.progress import progress
from toolkit.vocab import schema

#: ``parses``: ``ast.parse`` calls on a module or a segment of one by this process (lets tests prove that a
#: second audit parses nothing); ``segments``: of those, parses of one definition's segment, not a whole file.
stats = {"parses": 0, "segments": 0}

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
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, nested))


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
    d = methods.get("__init__")
    if d is not None:
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
    stats["parses"] += 1
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


# ---- one definition's segment of a file version ------------------------------------------------------------
_STATEMENT = re.compile(rb"\n(?!(?:else|elif|except|finally)\b)[A-Za-z_@]")  # "\n" first: a fast scan
_NESTING = re.compile(rb"@|(?:async[ \t]+)?(?:def|class)\b")
_DEF_PREFIX = re.compile(rb"([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+")  # a definition's line before its name
_WORD_CHAR = [bool(re.fullmatch(rb"\w", bytes([c]))) for c in range(256)]
ABSENT = b""  # the segment of a name no ``def``/``class`` of the file defines


class Outline:
    """Where a file version's top-level statements start, and where each ``def``/``class`` name occurs: enough
    to cut out the text one top-level definition is parsed from, with a few regular-expression scans.

    A statement start is a line beginning at column 0 with a name or ``@`` (not ``else``/``except``…) outside
    triple-quoted strings, by the parity of ``\"\"\"`` and ``\'\'\'`` before it. A quote that fools the parity can
    only cut a segment inside a string, which then does not parse: :func:`segment_defs` parses the whole file.
    """

    __slots__ = ("data", "starts", "_segments")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._segments: dict[str, bytes | None] = {}
        starts, dq, sq, prev = [], 0, 0, 0
        for m in _STATEMENT.finditer(b"\n" + data):
            p = m.start()  # of the line in ``data`` (one "\n" was put in front)
            dq += data.count(b'"""', prev, p)
            sq += data.count(b"'''", prev, p)
            prev = p
            if not (dq & 1 or sq & 1):
                starts.append(p)
        self.starts = starts

    def occurrences(self, name: str) -> list[tuple[int, int, bool]]:
        """``(line offset, indentation, is a class)`` of each line that is ``[async] def name``/``class name``
        after nothing but indentation, in file order (one scan for the name: most files are asked about a few
        names, and one scan for every ``def`` line costs more than the rest of the outline)."""
        data, word = self.data, name.encode()
        out, n, i = [], len(word), data.find(word)
        while i >= 0:  # one scan for the name (fast), its line checked where it occurs
            j = i + n
            if j == len(data) or not _WORD_CHAR[data[j]]:
                line = data.rfind(b"\n", 0, i) + 1
                pre = _DEF_PREFIX.fullmatch(data, line, i)
                if pre is not None:
                    out.append((line, pre.end(1) - line, pre.group(2) == b"class"))
            i = data.find(word, j)
        return out

    def segment(self, name: str) -> bytes | None:
        """The text of the top-level ``def``/``class name`` (its decorators through the line before the next
        top-level statement): the definitions named ``name`` and ``name.*`` depend on nothing else of the file.

        :data:`ABSENT` when no ``def``/``class`` has this name at the top level. A function defined more than
        once at the top level (``typing.overload`` variants, then the implementation) is its last definition,
        as in :func:`parse_module`. ``None`` when unsure (a class defined twice, whose methods come from its
        first definition; a definition possibly inside a top-level ``if``/``try``, which :func:`parse_module`
        reads; a start that is not a statement start): parse the whole file."""
        if name not in self._segments:
            self._segments[name] = self._segment(name)
        return self._segments[name]

    def _segment(self, name: str) -> bytes | None:
        data, starts = self.data, self.starts
        tops = []
        for pos, indent, is_class in self.occurrences(name):
            if indent == 0:
                tops.append((pos, is_class))
                continue
            i = bisect_right(starts, pos) - 1  # the top-level statement it is inside
            if i < 0 or not _NESTING.match(data, starts[i]):
                return None  # maybe in a top-level if/try block, which parse_module reads
        if not tops:
            return ABSENT
        if len(tops) > 1 and any(is_class for _p, is_class in tops):
            return None
        top = tops[-1][0]
        i = bisect_left(starts, top)
        if i == len(starts) or starts[i] != top:
            return None
        first = i
        while first > 0 and data[starts[first - 1]] == 0x40:  # "@": its decorators
            first -= 1
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        return data[starts[first]:end]


def _doc_digest(doc: str | None) -> bytes | None:
    return None if doc is None else hashlib.blake2b(doc.encode("utf-8", "surrogatepass"), digest_size=16).digest()


#: What drift compares of one definition in one file version: ``(signature, digest of the docstring)``, or None
#: when the version does not define it.
Extracted = tuple[tuple, bytes | None] | None


def _same_headers(a: bytes, b: bytes, qual: str) -> bool:
    """Whether the header texts that ``qual``'s signature depends on are equal in two segments (then so are the
    signatures; :func:`def_headers`, :func:`class_headers`)."""
    name = qual.rsplit(".", 1)[-1]
    if def_headers(a, name) != def_headers(b, name):
        return False
    if "." in qual:
        return True
    ca = class_headers(a, name)
    return ca is not None and ca == class_headers(b, name)


def segment_defs(data: bytes, seg: bytes | None, names: Iterable[str], module: str = "",
                 is_package: bool = False) -> dict[str, Extracted]:
    """The signature and docstring digest of each of ``names`` in one file version, from the segment
    :meth:`Outline.segment` cut out for their top-level name (``None``: from the whole file)."""
    names = frozenset(names)
    if seg == ABSENT:
        return dict.fromkeys(names)
    md = None
    if seg is not None:
        stats["segments"] += 1
        md = parse_module(seg, module, is_package, only=names)
        if md.error is not None:
            md = None  # the cut was wrong (a quote fooled the parity): the whole file decides
    if md is None:
        md = parse_module(data, module, is_package, only=names)
    return {q: (None if (d := md.defs.get(q)) is None else (d.signature, _doc_digest(d.doc))) for q in names}


# ---- header texts: equal texts, equal signatures ----------------------------------------------------------
def def_headers(source: bytes, name: str) -> list[bytes]:
    """The source text of every ``def name(...)`` header (through the line ending in ``:``): when these texts
    are equal in two versions of a file, so are the signatures. A header that fools the bracket count only makes
    the text longer (never shorter), so equality stays a safe reason to skip parsing."""
    out = []
    # "def" first lets the regex scan fast (a pattern starting with ``^`` in multi-line mode tries every position)
    for m in re.finditer(rb"def[ \t]+" + re.escape(name.encode()) + rb"[ \t]*\(", source):
        line_start = source.rfind(b"\n", 0, m.start()) + 1
        if source[line_start:m.start()].strip(b" \t") in (b"", b"async"):
            out.append(source[line_start:_header_end(source, line_start, len(source))])
    return out


_INIT = re.compile(rb"(?:async[ \t\f]+)?def[ \t\f]+__init__\b")
_DEF_OR_CLASS = re.compile(rb"(?:async[ \t\f]+)?def\b|class\b")
#: Strings and comments, found left to right as Python's tokenizer finds them, so exactly for a text that parses:
#: a comment runs to the end of its line; a triple-quoted string to the first closing triple quote; a backslash
#: escapes the next byte in every kind of string (raw ones too, as far as where the string ends goes).
_STRING_OR_COMMENT = re.compile(
    rb'#[^\r\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    rb'|"(?:[^"\\\r\n]|\\.)*"|\'(?:[^\'\\\r\n]|\\.)*\'', re.S)
_LINE = re.compile(rb"\n([ \t\f]*)(?=[^ \t\f\r\n])")  # a line with code, after the line break before it
_WS = b" \t\f"
#: texts in a class's decorators or bases that can make it a data class (a superset of what parse_module checks)
_DATA_MARKERS = (b"dataclass", b"attr", b"define", b"frozen", b"mutable", *(b.encode() for b in _DATA_BASES))


def _blank(m: re.Match) -> bytes:
    """A string or comment replaced by as many filler bytes: offsets stay, and brackets, colons and line breaks
    inside it are gone (a string becomes one word, a comment white space)."""
    n = m.end() - m.start()
    return b" " * n if m.group().startswith(b"#") else b"x" * n


def _balance(code: bytes, lo: int, hi: int) -> int:
    return (code.count(b"(", lo, hi) + code.count(b"[", lo, hi) + code.count(b"{", lo, hi)
            - code.count(b")", lo, hi) - code.count(b"]", lo, hi) - code.count(b"}", lo, hi))


def _continued(code: bytes, line_start: int) -> bool:
    """Whether the line before ``line_start`` ends with a backslash, which joins this line to it."""
    return code[max(0, line_start - 3):line_start].rstrip(b"\r\n").endswith(b"\\")


def _header_end(code: bytes, start: int, stop: int) -> int:
    """Where the line ends on which the ``def``/``class`` header starting at ``start`` ends: the first line whose
    code (before a ``#``) ends with ``:`` with the brackets opened since ``start`` closed (``stop`` when none does
    before it)."""
    pos, depth = start, 0
    while pos < stop:
        end = code.find(b"\n", pos, stop)
        end = stop if end < 0 else end + 1
        depth += _balance(code, pos, end)
        if depth <= 0 and code[pos:end].split(b"#", 1)[0].rstrip().endswith(b":"):
            return end
        pos = end
    return stop


def _body_statements(code: bytes, start: int, ind: int) -> list[tuple[int, int]] | None:
    """``(start, end)`` of each statement directly in the body of a block whose header (indented ``ind``) ends at
    ``start``: the lines as indented as the body's first line, at bracket depth 0 and not joined to the line
    before, each up to the next. ``None`` for an indentation Python would refuse."""
    first = _LINE.search(code, start - 1) if start else _LINE.search(b"\n" + code)
    if first is None:
        return []
    body = len(first.group(1))
    if body <= ind:
        return None
    spans, depth, last, end = [], 0, start, len(code)
    shallow = re.compile(rb"\n([ \t\f]{0,%d})(?=[^ \t\f\r\n])" % body)
    for m in shallow.finditer(code, start - 1):
        p = m.end(1) - len(m.group(1))  # the line's start
        depth += _balance(code, last, p)
        last = p
        if depth != 0 or _continued(code, p):
            continue  # inside brackets or joined to the line before: part of a statement
        k = len(m.group(1))
        if k <= ind:
            end = p
            break
        if k != body:
            return None
        spans.append(p)
    return [(s, e) for s, e in zip(spans, spans[1:] + [end])]


@lru_cache(maxsize=256)
def class_headers(source: bytes, name: str) -> list[bytes] | None:
    """The text of every ``class name`` that its signature can depend on, or ``None`` when unsure.

    A class's signature (:func:`parse_module`) is its first ``__init__``'s, or its fields' for a data class. Kept:
    the ``class`` header, the decorators that may make it a data class, each ``__init__`` header directly in the
    body (with a ``@staticmethod`` above it) and, for a possible data class, every other body statement; left out:
    other methods, docstrings and comments, what most changes touch. So, like :func:`def_headers`, equal texts
    mean equal signatures whenever both versions parse. Strings and comments are found as Python's tokenizer
    finds them (:data:`_STRING_OR_COMMENT`). ``None`` for a text that cannot be Python (an indentation between
    the class's and its body's)."""
    word = name.encode()
    if word not in source:  # the common case: a file version without this class at all
        return []
    code = _STRING_OR_COMMENT.sub(_blank, source)
    out: list[bytes] = []
    for m in re.finditer(rb"class[ \t\f]+" + re.escape(word) + rb"\b", code):
        line = code.rfind(b"\n", 0, m.start()) + 1
        ind = m.start() - line
        if code[line:m.start()].strip(_WS) or _continued(code, line):
            continue  # not at the start of a statement: no class statement
        starts, pos, bal = [line], line, 0
        while pos > 0:  # its decorators: the statements starting with "@" just above it
            prev = code.rfind(b"\n", 0, pos - 1) + 1
            bal += _balance(code, prev, pos)
            text = code[prev:pos].lstrip(_WS)
            pos = prev
            if not text.strip() or bal != 0 or _continued(code, prev):
                continue  # a blank line, or a line inside a decorator's brackets
            if not text.startswith(b"@"):
                break
            starts.insert(0, prev)
        head_end = _header_end(code, line, len(code))
        # of its decorators only those that can make it a data class count (@final, @total_ordering do not)
        kept = [t for a, b in zip(starts, starts[1:]) if any(mk in (t := source[a:b]) for mk in _DATA_MARKERS)]
        kept.append(source[line:head_end])
        data = any(marker in text for text in kept for marker in _DATA_MARKERS)
        if code[line:head_end].rstrip().endswith(b":"):  # else a one-line body, kept with the header
            body = _body_statements(code, head_end, ind)
            if body is None:
                return None
            decorators: list[tuple[int, int]] = []
            for s, e in body:
                stmt = code[s:e].lstrip(_WS)
                if stmt.startswith(b"@"):
                    decorators.append((s, e))
                    continue
                if _INIT.match(stmt):  # of its decorators only @staticmethod changes its signature (keeps self)
                    kept += [t for a, b in decorators if b"staticmethod" in (t := source[a:b])]
                    kept.append(source[s:_header_end(code, s, e)])
                elif data and not _DEF_OR_CLASS.match(stmt):
                    kept.append(source[s:e])
                decorators = []
        out.append(b"\0".join(kept))
    return out


# ---- the cache namespace -------------------------------------------------------------------------------------
_NAMESPACE = "definitions"
#: newest entries kept per repository: (blob id, qualname) -> Extracted; (blob id, module, is package) -> ModuleDefs
_LIMIT = {"defs": 400_000, "modules": 20_000}


class _Store:
    """The parses of one repository's file versions, keyed by git blob id, in the cache namespace
    ``definitions`` (one signed pickle per repository and code version, read once per call and written
    back when something new was parsed; nothing is kept in this process between calls)."""

    def __init__(self, repo) -> None:
        self.key = cache.key(_NAMESPACE, repo.cache_id, code=(__name__,)) if cache.enabled() else None
        got = cache.get(_NAMESPACE, self.key) if self.key else None
        value = got[0] if got is not None else None
        ok = isinstance(value, dict) and all(isinstance(value.get(k), dict) for k in _LIMIT)
        self.tables: dict[str, dict] = value if ok else {k: {} for k in _LIMIT}
        self.new = False

    def add(self, table: str, k: tuple, v: Any) -> None:
        self.tables[table][k] = v
        self.new = True

    def save(self) -> None:
        if self.key and self.new:
            keep = {t: dict(list(d.items())[-_LIMIT[t]:]) for t, d in self.tables.items()}
            cache.put(_NAMESPACE, self.key, keep)


# ---- loaders ---------------------------------------------------------------------------------------------------
def module_paths(files: pd.DataFrame) -> dict[str, str]:
    """Module name -> path (``files`` table of :mod:`toolkit.load.structure`): a production module wins over a
    test of the same name."""
    py = files[files["module"].notna()].sort_values("is_test", kind="stable").drop_duplicates("module")
    return dict(zip(py["module"].tolist(), py["path"].tolist()))


def load_definitions(repo, files: pd.DataFrame, rev: str | None = None) -> dict[str, ModuleDefs]:
    """Module name -> :class:`ModuleDefs` of every module that can define an interface at ``rev`` (``None``: the
    work tree): each module of :func:`module_paths` but tests outside any component. ``files``: the structure
    loader's ``files`` table of the same revision. A module whose file cannot be read is left out."""
    paths = module_paths(files)
    testish = set(files.loc[files["is_test"].astype(bool) & files["component"].isna(), "path"].tolist())
    wanted = {m: p for m, p in paths.items() if p not in testish}
    store = _Store(repo)
    got = dict(repo.read_files(sorted(wanted.values()), rev))
    module_of = {p: m for m, p in wanted.items()}
    out: dict[str, ModuleDefs] = {}
    for path, data in sorted(got.items()):
        mod = module_of[path]
        k = (blob_id(data), mod, path.endswith("__init__.py"))
        md = store.tables["modules"].get(k)
        if md is None:
            md = parse_module(data, mod, k[2])
            store.add("modules", k, md)
        out[mod] = md
    store.save()
    return out


@dataclass(frozen=True)
class DefinitionChanges:
    """``changes``: table ``definition_changes`` (:mod:`toolkit.vocab.schema`), one row per definition whose
    signature a commit changed — ``sha``, ``path`` (the file's path at the analysed revision, renames followed),
    ``qualname``, ``before`` and ``after`` (signatures as :func:`parse_module` gives them) and ``doc_unchanged``
    (the docstring is identical); rows newest commit first, a file's definitions in the order asked.
    ``examined``: commits compared with their first parent; ``capped``: more commits changed the files."""

    changes: pd.DataFrame
    examined: int
    capped: bool


def load_definition_changes(repo, history: History, targets: Mapping[str, Iterable[str]], *,
                            max_commits: int = 2000) -> DefinitionChanges:
    """How the definitions ``targets`` (path at the analysed revision -> qualnames) changed in ``history``.

    For each of the newest ``max_commits`` commits that changed one of the files (renames followed) and has
    a parent, the file before (its first parent's version) and after are read through one
    ``git cat-file --batch``, and each asked definition's signature and docstring compared
    (:func:`_compare_versions`); equal versions are skipped, parses remembered in the cache for later audits.
    """
    cols = schema.columns("definition_changes")
    empty = DefinitionChanges(schema.empty("definition_changes"), 0, False)
    wanted_q: dict[str, list[str]] = {p: list(dict.fromkeys(qs)) for p, qs in targets.items()}
    fc, commits = history.file_changes, history.commits
    if not len(fc) or not wanted_q:
        return empty
    followed = follow_renames(fc).to_numpy(dtype=object, na_value=None)
    shas = fc["sha"].to_numpy(dtype=object)
    paths = fc["path"].to_numpy(dtype=object, na_value=None)
    olds = fc["old_path"].to_numpy(dtype=object, na_value=None)
    order = {s: i for i, s in enumerate(commits["sha"].tolist())}  # newest first
    parent_of = {s: (p[0] if len(p) else None) for s, p in zip(commits["sha"].tolist(), commits["parents"].tolist())}
    linear = not bool(commits["is_merge"].any())

    pairs = [(s, p, o if o else p, f) for s, p, o, f in zip(shas, paths, olds, followed) if f in wanted_q]
    distinct = sorted({s for s, *_ in pairs}, key=lambda s: order.get(s, len(order)))
    capped = len(distinct) > max_commits
    keep = set(distinct[:max_commits])
    pairs = [x for x in pairs if x[0] in keep and parent_of.get(x[0])]
    # In a history without merges, a file's content before one change is its content after its previous change
    # (every commit's changes are listed), so only the oldest examined change of each file needs its parent read.
    before_at: dict[tuple[str, str], tuple[str, str]] = {}  # (sha, followed) -> (rev, path) holding the "before"
    if linear:
        by_file: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for s, p, before, f in pairs:
            by_file[f].append((s, p, before))
        for f, changes in by_file.items():  # newest first
            for (s, _p, before), (older, older_path, _b) in zip(changes, changes[1:]):
                if older_path == before:
                    before_at[(s, f)] = (older, older_path)
    locs = [((s, p), before_at.get((s, f), (parent_of[s], before))) for s, p, before, f in pairs]
    need = sorted({x for a, b in locs for x in (a, b)})
    contents = {k: b for k, b in progress(repo.read_blobs(need), desc="definition history", total=len(need),
                                          unit="file") if b is not None}

    store = _Store(repo)
    known = store.tables["defs"]

    @lru_cache(maxsize=None)
    def id_of(loc: tuple[str, str]) -> str:
        return blob_id(contents[loc])

    tops: dict[str, dict[str, list[str]]] = {p: defaultdict(list) for p in wanted_q}  # path -> top name -> quals
    for p, qs in wanted_q.items():
        for q in qs:
            tops[p][q.split(".", 1)[0]].append(q)
    files: dict[str, _FileVersions] = {}
    for i, ((s, _p, _before, f), (after_loc, before_loc)) in enumerate(zip(pairs, locs)):
        if after_loc not in contents or before_loc not in contents:
            continue
        a_id, b_id = id_of(after_loc), id_of(before_loc)
        if a_id == b_id:
            continue
        fv = files.get(f)
        if fv is None:
            fv = files[f] = _FileVersions(f, dict(tops[f]), wanted_q[f], [], {}, {})
        fv.pairs.append((i, a_id, b_id))
        for bid, loc in ((a_id, after_loc), (b_id, before_loc)):
            if bid not in fv.blobs:
                fv.blobs[bid] = contents[loc]
                fv.known.update({(bid, q): known[(bid, q)] for q in fv.wanted if (bid, q) in known})
    del contents
    before_stats = dict(stats)
    work = sum(len(fv.pairs) for fv in files.values())
    compared = map_chunks(_compare_versions, list(files.values()), weight=_FileVersions.weight, min_items=2,
                          workers=None if work >= _PARALLEL_MIN_PAIRS else 1, desc="interface drift")
    found: list[tuple[int, str, tuple, tuple, bool]] = []
    for rows_of_file, new_entries, counts in compared:
        found += rows_of_file
        for k, v in new_entries:
            store.add("defs", k, v)
        for name, n in counts.items():
            before_stats[name] += n
    stats.update(before_stats)  # the parses made in worker processes count too (each counted once)
    found.sort(key=lambda r: r[0])  # newest commit first, as the changes were listed (stable: a file's order kept)
    rows = [(pairs[i][0], pairs[i][3], q, before, after, same_doc) for i, q, before, after, same_doc in found]
    store.save()
    return DefinitionChanges(schema.conform(pd.DataFrame(rows, columns=cols), "definition_changes"), len(keep), capped)


#: with fewer version pairs to compare than this (about a millisecond each), the comparisons run in this process:
#: a process pool costs more than it saves. pytest's history has 8,000 (over 40 files), requests' 1,900.
_PARALLEL_MIN_PAIRS = 500


@dataclass(slots=True)
class _FileVersions:
    """The version pairs of one file to compare (what a worker process is sent): ``tops``: top-level name ->
    the asked qualnames under it; ``pairs``: (index of the change, blob id after, blob id before), newest first;
    ``blobs``: blob id -> content; ``known``: (blob id, qualname) -> Extracted already in the cache."""

    path: str
    tops: dict[str, list[str]]
    wanted: list[str]
    pairs: list[tuple[int, str, str]]
    blobs: dict[str, bytes]
    known: dict[tuple[str, str], Extracted]

    def weight(self) -> int:
        return sum(len(b) for b in self.blobs.values())


def _compare_versions(files: list[_FileVersions]):
    """For each file: ``(rows, new extractions, parse counts)``. A row is ``(change index, qualname, before
    signature, after signature, docstring unchanged)`` for each asked definition whose signature the change
    changed, in the order asked; new extractions are ``((blob id, qualname), Extracted)`` for the cache.

    Exact shortcuts keep this cheap: a definition whose top-level segment (:meth:`Outline.segment`) has the same
    text in both versions did not change, nor did one whose header texts (:func:`_same_headers`) are equal;
    otherwise only the segments are parsed (the whole file when unsure), each (blob id, definition) once. A
    module-level function of plain data, so that files can be compared in worker processes
    (:func:`toolkit.runtime.parallel.map_chunks`)."""
    out = []
    for fv in files:
        counts = dict(stats)
        known, new = fv.known, []

        @lru_cache(maxsize=None)
        def outline(bid: str) -> Outline:
            return Outline(fv.blobs[bid])

        def extracted(bid: str, top: str, quals: list[str]) -> dict:
            if all((bid, q) in known for q in quals):
                return {q: known[(bid, q)] for q in quals}
            seg = outline(bid).segment(top)
            got = segment_defs(fv.blobs[bid], seg, fv.wanted if seg is None else quals)
            for q, v in got.items():
                known[(bid, q)] = v
                new.append(((bid, q), v))
            return got

        rows = []
        for i, a_id, b_id in fv.pairs:
            found: dict[str, tuple] = {}
            for top, quals in fv.tops.items():
                if not all((a_id, q) in known and (b_id, q) in known for q in quals):
                    sa, sb = outline(a_id).segment(top), outline(b_id).segment(top)
                    if sa is not None and sa == sb:
                        continue  # the same text: the same definitions (both absent, or unchanged)
                    if sa and sb and all(_same_headers(sa, sb, q) for q in quals):
                        continue  # only bodies changed: no signature can have
                after = extracted(a_id, top, quals)
                before = extracted(b_id, top, quals)
                for q in quals:
                    a, b = after[q], before[q]
                    if a is not None and b is not None and a[0] != b[0]:
                        found[q] = (b[0], a[0], a[1] == b[1])
            rows += [(i, q, *found[q]) for q in fv.wanted if q in found]
        out.append((rows, new, {k: stats[k] - counts[k] for k in stats}))
    return out
