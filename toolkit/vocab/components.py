"""What a component is, what a seam is, and which files are tests — one definition.

Component (default rules, :meth:`ComponentMap.from_files`)
    Components are the parts a maintainer names: packages, subpackages and, in a flat package, modules.

    1. *Not components* (listed in ``excluded`` with the reason): tests (below); tooling at the repository
       root (``setup.py``, ``noxfile.py``, ``tasks.py``, ``manage.py``, ...); tooling and documentation folders
       (``docs/``, ``doc/``, ``examples/``, ``benchmarks/``, ``bench/``, ``scripts/``, ``tools/``, hidden
       folders) unless they are a Django app or imported by shipped code; vendored or other projects' code at
       any depth (``_vendor/``, ``vendor/``, ``third_party/``, ``extern/``, ...); folders named like tests
       (``typing_tests/``); *test support* — a top-level package outside the ``src/`` root that test files
       import and no shipped code does, and that mostly imports test code or a test framework, or sits beside a
       ``src/`` layout (a test server, a fixtures package); root scripts that no package imports.
    2. *Roots*: each top-level package (optionally under a source root: ``src/``, ``lib/`` or a folder the
       repository's imports treat as one, :func:`infer_source_roots`: ``backend/app`` imported as ``app``),
       namespace package (a folder of ``.py`` files without ``__init__.py``) and top-level module is a unit; a
       package holding ``apps.py``, or
       ``models.py`` with ``admin.py``/``views.py``/``urls.py``/``migrations/``, is a Django app and stays whole
       (its migrations and template tags are part of it).
    3. *Granularity*: while there are fewer than ``MIN_COMPONENTS`` units, or a top-level package holds more
       than half of the lines, the largest package is split into its children (a child holding 90% of such a
       package's lines is a wrapper and is judged as top-level in turn: pip's ``_internal``): each subpackage is a unit, and
       so is each module when the package's own modules hold at least half of its code (a flat package: ``requests.sessions`` -> ``sessions``);
       otherwise its modules stay together under the package's name (a package organised by subpackages keeps
       its small shared core). A private helper module joins its public sibling by name (``_termui_impl`` ->
       ``termui``, ``python_api`` -> ``python``): name-prefix grouping is what maintainers write and needs no
       import analysis. ``__init__``/dunder modules stay with the package. A split never makes more than
       ``MAX_COMPONENTS`` units: the largest children become units, the rest stay with their package.
    Non-Python files (SQL, JSON schemas, OpenAPI, protobuf, templates) belong to the component whose directory
    holds them. Every component carries a one-line ``reason`` and its file and line counts (:attr:`ComponentMap.rows`).
Component (override)
    A mapping of glob patterns to component names, from a dict argument, ``seamscope.toml`` (``[components]``)
    or ``[tool.seamscope.components]`` in the analysed repository's ``pyproject.toml``
    (read by :mod:`toolkit.load.component_mapping`). Patterns are tried in
    order and the first match wins (overlaps are allowed); a pattern mapped to ``""`` or ``"-"`` (:data:`EXCLUDE`)
    excludes the files it matches from every component. A pattern that matches no current file is allowed
    (it may name paths of the history) and reported as a skip naming the file and line. Files no pattern
    matches fall back to the default rules.
Test file
    Any file under a ``tests``/``test``/``testing`` directory, or named
    ``test_*.py``, ``*_test.py`` or ``conftest.py`` (:func:`is_test_path`): it belongs to the test suite, not to the
    shipped code. Tests are never components.
Collected test file
    A test file pytest collects tests from (:func:`is_collected_test_file`): its path matches the repository's
    ``python_files`` patterns (pytest's default ``test_*.py``, ``*_test.py``). The other files of the test suite
    (``conftest.py``, helpers, the inputs of data-driven tests) hold fixtures and data, never tests.
Seam
    An ordered pair of components (caller -> callee) with at least one
    interaction between them, written ``"caller->callee"``. Bug analyses that have
    no direction use the unordered ``pair_name``.
"""
from __future__ import annotations

import fnmatch
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from toolkit.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

SEAM_SEP = "->"
PAIR_SEP = "<->"
TEST_DIRS = frozenset({"tests", "test", "testing"})
SOURCE_ROOTS = ("src", "lib")
#: Non-Python files that define interfaces or data and are assigned to components by path.
INTERFACE_SUFFIXES = {
    ".sql": "sql",
    ".proto": "protobuf",
    ".graphql": "graphql",
    ".avsc": "avro",
    ".html": "template",
    ".jinja": "template",
    ".jinja2": "template",
    ".j2": "template",
}


def seam_name(caller: str, callee: str) -> str:
    """The name of the directed seam ``caller -> callee``."""
    return f"{caller}{SEAM_SEP}{callee}"


def split_seam(seam: str) -> tuple[str, str]:
    caller, _, callee = seam.partition(SEAM_SEP)
    return caller, callee


def pair_name(a: str, b: str) -> str:
    """The undirected name of the component pair {a, b} (sorted, so stable)."""
    x, y = sorted((a, b))
    return f"{x}{PAIR_SEP}{y}"


@lru_cache(maxsize=1 << 16)
def is_test_path(path: str) -> bool:
    """True for test code: under a tests directory or named like a pytest file."""
    *dirs, name = path.replace(os.sep, "/").rstrip("/").split("/")  # string ops: called per row of big tables
    if any(part in TEST_DIRS for part in dirs):
        return True
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))


#: pytest's default ``python_files``: the file name patterns it collects tests from.
PYTEST_PYTHON_FILES = ("test_*.py", "*_test.py")


@lru_cache(maxsize=1 << 16)
def is_collected_test_file(path: str, python_files: tuple[str, ...] = PYTEST_PYTHON_FILES) -> bool:
    """True for a test file pytest collects tests from: test code (:func:`is_test_path`) other than a
    ``conftest.py`` whose path matches one of ``python_files`` as pytest matches them (a pattern without ``/``
    against the file name, one with ``/`` against the end of the path: ``testing/python/*.py``)."""
    p = path.replace(os.sep, "/").rstrip("/")
    name = p.rsplit("/", 1)[-1]
    if name == "conftest.py" or not is_test_path(p):
        return False
    return any(fnmatch.fnmatchcase(name, pat) if "/" not in pat
               else fnmatch.fnmatchcase("/" + p, pat if pat.startswith("/") else "*/" + pat) for pat in python_files)


@lru_cache(maxsize=1 << 16)
def file_kind(path: str) -> str:
    """Classify a file: ``python``, an interface kind (``sql``, ``openapi``, ...), or ``other``."""
    p = PurePosixPath(path)
    suffix = p.suffix.lower()
    if suffix == ".py":
        return "python"
    name = p.name.lower()
    if suffix in (".yaml", ".yml", ".json") and ("openapi" in name or "swagger" in name):
        return "openapi"
    if suffix == ".json" and (name.endswith(".schema.json") or "schema" in p.parts):
        return "json_schema"
    if suffix == ".json" and "pact" in name:
        return "pact"
    return INTERFACE_SUFFIXES.get(suffix, "other")


def module_name(path: str, roots: Iterable[str] = SOURCE_ROOTS) -> str:
    """Dotted module name of a Python file path (the source root it lies in stripped, ``__init__`` dropped).

    ``roots``: the repository's source roots (:func:`infer_source_roots`, held by :attr:`ComponentMap.roots`);
    the default knows only ``src/`` and ``lib/``.
    """
    path = path.replace(os.sep, "/")
    root = root_of(path, roots)
    parts = list(PurePosixPath(path[len(root) + 1:] if root else path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def root_of(path: str, roots: Iterable[str] = SOURCE_ROOTS) -> str:
    """The longest source root ``path`` lies below (``""``: the repository root)."""
    return max((r for r in roots if path.startswith(r + "/")), key=len, default="")


def infer_source_roots(paths: Iterable[str], imports: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """The repository's source roots: ``src/``, ``lib/`` and every folder its own import statements treat as one.

    A folder ``D`` (not itself a package, not tests, tooling or hidden) is a source root when a package directly
    below it, ``D/P/__init__.py``, is imported by an absolute name starting at ``P`` (``from app.core import
    config``) that names nothing at the repository root or below ``src/``/``lib/``: the code runs with ``D`` on
    ``sys.path`` (``backend/``, ``server/`` in web apps and monorepos). ``imports``: path -> absolute module names
    its import statements write (not relative ones; tests count too). When several folders hold a package ``P``,
    the one enclosing the importing file decides; if none or several do, the import is no evidence.
    """
    py = [p.replace(os.sep, "/") for p in paths if p.endswith(".py")]
    packages = {p[: -len("/__init__.py")] for p in py if p.endswith("/__init__.py")}
    known = {module_name(p).partition(".")[0] for p in py}  # what resolves without another root
    holders: dict[str, list[str]] = {}
    for pkg in packages:
        d, _, top = pkg.rpartition("/")
        if d and d not in SOURCE_ROOTS and d not in packages and top not in known and _may_be_root(d):
            holders.setdefault(top, []).append(d)
    found: set[str] = set()
    for path, names in imports.items():
        for n in names:
            cands = holders.get(n.partition(".")[0])
            if not cands:
                continue
            near = [d for d in cands if path.startswith(d + "/")] if len(cands) > 1 else cands
            if len(near) == 1:
                found.add(near[0])
    return SOURCE_ROOTS + tuple(sorted(found))


def _may_be_root(d: str) -> bool:
    """Not a folder of tests, tooling, documentation, configuration or others' code (a vendored copy, a committed
    environment): the project's own code is not there, so its imports of such a name mean the installed one."""
    return not any(part.startswith(".") or part in TEST_DIRS or part in TOOLING_DIRS or part in FOREIGN_DIRS
                   or _TESTLIKE_DIR.search(part) for part in d.split("/"))


#: A ``[components]`` value that excludes the files its pattern matches (``""`` does too).
EXCLUDE = "-"
#: Split the largest package while there are fewer units than this; never split into more than the maximum.
MIN_COMPONENTS = 3
MAX_COMPONENTS = 30
#: Build, task and entry-point scripts: tooling, not a part of the product.
TOOLING_FILES = frozenset({"setup.py", "noxfile.py", "tasks.py", "fabfile.py", "manage.py", "toxfile.py",
                           "dodo.py", "pavement.py", "hatch_build.py", "conftest.py"})
#: Folders of documentation, examples, benchmarks and scripts: excluded unless a Django app or imported by shipped
#: code.
TOOLING_DIRS = frozenset({"docs", "doc", "documentation", "examples", "example", "benchmarks", "benchmark", "bench",
                          "scripts", "script", "tools", "tooling", "ci", "sandbox"})
#: Folders of other projects' code: vendored copies and committed environments (never a source root).
FOREIGN_DIRS = frozenset({"vendor", "vendored", "_vendor", "third_party", "thirdparty", "3rdparty", "extern",
                          "site-packages", "node_modules", "venv"})
def is_foreign(folders: Iterable[str]) -> bool:
    """Is code below these folders (or packages) vendored or another project's (:data:`FOREIGN_DIRS`)?"""
    return any(part in FOREIGN_DIRS for part in folders)


#: Imported by test support code (a fixtures package, a test server), not by shipped code.
TEST_FRAMEWORKS = frozenset({"pytest", "_pytest", "unittest", "hypothesis", "nose", "nose2", "testtools"})
#: A package with ``apps.py``, or ``models.py`` beside one of the others, is a Django app: a component as a whole.
DJANGO_APP_FILES = ("apps.py", "admin.py", "views.py", "urls.py", "migrations/__init__.py")
_TESTLIKE_DIR = re.compile(r"(^|[_-])tests?([_-]|$)")


class PatternMapping(dict):
    """A ``[components]`` mapping (glob -> component, in file order) that remembers where it was written.

    ``source``: the file named in messages (``seamscope.toml``, ``pyproject.toml`` or a ``--config`` path);
    ``lines``: pattern -> line of its key in that file (absent when unknown).
    """

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = (), *, source: str = "components mapping",
                 lines: Mapping[str, int] | None = None) -> None:
        super().__init__(items)
        self.source = source
        self.lines = dict(lines or {})

    def where(self, pattern: str) -> tuple[str, int | None]:
        return self.source, self.lines.get(pattern)


@dataclass
class _Unit:
    """A candidate component while the rules run: a path prefix (folder or file) and its dotted module."""

    name: str
    dir: str
    module: str
    files: list[str]
    reason: str
    splittable: bool
    extra: list[tuple[str, str]] = field(default_factory=list)  # more (path, dotted) owned: merged helper modules
    root: bool = False  # a top-level package (or the only child of one): split when it holds most of the code


def _is_dunder(path: str) -> bool:
    stem = PurePosixPath(path).stem
    return stem.startswith("__") and stem.endswith("__")


def namespace_components(pairs: Iterable[tuple[str, str | None]]) -> set[str]:
    """The components that are a package's public namespace: every file of theirs among ``(path, component)``
    ``pairs`` is an ``__init__.py`` or another dunder module but ``__main__`` (``requests``: ``__init__``,
    ``__version__``).
    A test importing one reaches what it re-exports; its name names the whole project."""
    seen: set[str] = set()
    other: set[str] = set()
    for path, comp in pairs:
        if not comp:  # callers drop missing components; an empty name is none either
            continue
        namespace = _is_dunder(str(path)) and PurePosixPath(str(path)).stem != "__main__"  # __main__ runs code
        (seen if namespace else other).add(str(comp))
    return seen - other


def _is_django_app(d: str, files: set[str]) -> bool:
    return f"{d}/apps.py" in files or (f"{d}/models.py" in files and any(f"{d}/{n}" in files for n in DJANGO_APP_FILES))


class _Rules:
    """The default rules of the module docstring, over one file list (and, when known, imports and sizes)."""

    def __init__(self, paths: list[str], imports: Mapping[str, Iterable[str]] | None,
                 sizes: Mapping[str, int] | None, roots: tuple[str, ...] = SOURCE_ROOTS) -> None:
        self.source_roots = roots
        self.all_py = [p for p in paths if p.endswith(".py")]
        self.excluded: list[tuple[str, str, int]] = []
        foreign: Counter[str] = Counter()
        self.py = []
        for p in self.all_py:
            if is_test_path(p):
                continue
            parts = p.split("/")
            at = next((i for i, part in enumerate(parts[:-1]) if is_foreign([part])), None)
            if at is None:
                self.py.append(p)
            else:
                d = "/".join(parts[:at + 1]) + "/"
                foreign[d] += 1
        for d, n in sorted(foreign.items()):
            self.excluded.append((d, "vendored or other projects' code: calls into it cross to a dependency, not "
                                  "to a component of this project", n))
        self.pyset = set(self.py)
        self.imports = imports
        self.sizes = sizes or {}

    def size(self, files: Iterable[str]) -> int:
        return sum(max(int(self.sizes.get(f, 1) or 1), 1) for f in files)

    def roots(self) -> list[tuple[_Unit, bool]]:
        """Top-level packages, namespace folders and modules: (unit, under a source root).

        Below ``src/``/``lib/`` everything counts as under a source root; below an inferred root
        (:func:`infer_source_roots`) only packages do, its loose scripts and folders are judged as at the top.
        """
        groups: dict[tuple[str, str, str], list[str]] = {}
        for p in self.py:
            root = root_of(p, self.source_roots)
            parts = p.split("/")
            start = len(root.split("/")) if root else 0
            key = "/".join(parts[: start + 1])
            groups.setdefault((key, parts[start], root), []).append(p)
        out = []
        for (key, top, root), files in sorted(groups.items()):
            in_src = root in SOURCE_ROOTS if root else False
            if root and not in_src:
                in_src = f"{key}/__init__.py" in self.pyset
            if key.endswith(".py"):
                unit = _Unit(top[:-3], key, top[:-3], files, "top-level module", False)
            elif f"{key}/__init__.py" in self.pyset:
                django = _is_django_app(key, self.pyset)
                unit = _Unit(top, key, top, files, "Django app" if django else "top-level package", not django)
            else:
                unit = _Unit(top, key, top, files, "namespace package (a folder of modules without __init__.py)", True)
            unit.root = True
            out.append((unit, in_src))
        return out

    def exclude(self, roots: list[tuple[_Unit, bool]]) -> list[_Unit]:
        """Drop tooling, documentation and test support (recorded in ``excluded`` with the reason)."""
        def name_of(u: _Unit) -> str:
            return PurePosixPath(u.dir).name

        kept: list[tuple[_Unit, bool]] = []
        for u, in_src in roots:
            name = name_of(u)
            if name.startswith("."):
                self.excluded.append((u.dir + "/", "hidden folder (tooling configuration)", len(u.files)))
            elif u.dir.endswith(".py") and name in TOOLING_FILES and not in_src:
                self.excluded.append((u.dir, "build or task script at the repository root", 1))
            elif not u.dir.endswith(".py") and _TESTLIKE_DIR.search(name):
                self.excluded.append((u.dir + "/", "test code (a folder named like tests)", len(u.files)))
            else:
                kept.append((u, in_src))
        if not kept:
            return []
        # code that is not shipped whatever imports it: what was just excluded, and tooling folders
        not_shipped = {p for u, _ in roots for p in u.files} - {p for u, _ in kept for p in u.files}
        not_shipped.update(p for u, in_src in kept if name_of(u) in TOOLING_DIRS and not in_src for p in u.files)
        importers = self._importers({u.module for u, _ in kept})
        has_src = any(in_src for _, in_src in kept)
        has_packages = any(not u.dir.endswith(".py") for u, _ in kept)
        own = {u.module for u, _ in kept}
        out: list[_Unit] = []
        for u, in_src in kept:
            name = name_of(u)
            shipped_by = {p for p in importers.get(u.module, ()) if p in self.pyset and p not in not_shipped
                          and p not in u.files}
            tests_by = {p for p in importers.get(u.module, ()) if p not in self.pyset}
            if name in TOOLING_DIRS and u.reason != "Django app" and not shipped_by and not in_src:
                self.excluded.append((u.dir + "/", f"documentation, examples or tooling ({name}/)", len(u.files)))
            elif (self.imports is not None and not in_src and not u.dir.endswith(".py") and tests_by and not shipped_by
                  and (has_src or self._imports_test_code(u, own))):
                self.excluded.append((u.dir + "/", f"test support: imported by {len(tests_by)} test files and by no "
                                      "shipped code", len(u.files)))
            elif (self.imports is not None and u.dir.endswith(".py") and not in_src and has_packages
                  and not shipped_by):
                self.excluded.append((u.dir, "script at the repository root: no package imports it", 1))
            elif (self.imports is not None and u.reason.startswith("namespace") and not in_src and has_packages
                  and not shipped_by and not tests_by):
                self.excluded.append((u.dir + "/", "folder of scripts (no __init__.py) that nothing imports",
                                      len(u.files)))
            else:
                out.append(u)
        if not out:  # everything looked like tooling: better the folders as they are than no component at all
            del self.excluded[len(self.excluded) - len(kept):]
            return [u for u, _ in kept]
        return out

    def _importers(self, tops: set[str]) -> dict[str, set[str]]:
        """Top-level module -> files (tests included) importing it."""
        got: dict[str, set[str]] = {}
        for p, names in (self.imports or {}).items():
            for n in names:
                top = n.partition(".")[0]
                if top in tops:
                    got.setdefault(top, set()).add(p)
        return got

    def _imports_test_code(self, u: _Unit, own: set[str]) -> bool:
        """Is most of the unit (by lines) code that imports a test framework or the repository's test modules?

        Most, not any: test support is written for the tests, while a product may ship one pytest-plugin module
        (aiohttp's ``pytest_plugin.py``) and is no test support for it."""
        test_mods = {module_name(p, self.source_roots) for p in self.all_py if is_test_path(p)}

        def imports_tests(p: str) -> bool:
            for n in (self.imports or {}).get(p, ()):
                parts = n.split(".")
                if parts[0] in TEST_FRAMEWORKS and parts[0] not in own:
                    return True
                if any(".".join(parts[:i]) in test_mods for i in range(1, len(parts) + 1)):
                    return True
            return False

        return 2 * self.size(p for p in u.files if imports_tests(p)) > self.size(u.files)

    def split(self, u: _Unit, room: int) -> tuple[list[_Unit], _Unit | None]:
        """The children of a package unit (subpackages, module groups) and what stays under its own name."""
        subdirs: dict[str, list[str]] = {}
        modules: list[str] = []
        own: list[str] = []
        for p in u.files:
            rest = p[len(u.dir) + 1:]
            if "/" in rest:
                subdirs.setdefault(rest.split("/", 1)[0], []).append(p)
            elif _is_dunder(p):
                own.append(p)
            else:
                modules.append(p)
        flat = not subdirs
        children: list[_Unit] = []
        for s, files in sorted(subdirs.items()):
            d = f"{u.dir}/{s}"
            pkg = f"{d}/__init__.py" in self.pyset
            django = pkg and _is_django_app(d, self.pyset)
            kind = "Django app in" if django else ("subpackage of" if pkg else "namespace folder of")
            children.append(_Unit(s, d, f"{u.module}.{s}", files, f"{kind} {u.module}", not django))
        if modules and (flat or 2 * self.size(modules) >= self.size(u.files)):
            children.extend(self._module_groups(u, modules, flat))
        else:
            own.extend(modules)
            modules = []
        if not children:
            return [], None
        children.sort(key=lambda c: -self.size(c.files))
        leftover: list[_Unit] = []
        if len(children) + (1 if own else 0) > room:
            keep = max(room - 1, 1)
            children, leftover = children[:keep], children[keep:]
        for c in leftover:
            own.extend(c.files)
        rest = None
        if own:
            reason = (f"{u.reason}: its __init__ and dunder modules" if modules and not leftover
                      else f"{u.reason}: its own modules outside its subpackages" if not modules
                      else f"{u.reason}: its __init__ and its {len(leftover)} smallest parts, kept together to stay "
                      f"within {MAX_COMPONENTS} components (" + ", ".join(c.name for c in leftover[:5])
                      + (", ..." if len(leftover) > 5 else "") + ")")
            rest = _Unit(u.name, u.dir, u.module, own, reason, False)
        return children, rest

    def _module_groups(self, u: _Unit, modules: list[str], flat: bool) -> list[_Unit]:
        """One unit per public module; a helper module joins the sibling its name starts with."""
        stems = {PurePosixPath(p).stem: p for p in modules}
        host: dict[str, str] = {}
        for stem in stems:
            base = stem.lstrip("_")
            head = base.split("_", 1)[0]
            for cand in (base, head):
                if cand != stem and cand in stems and not cand.startswith("_"):
                    host[stem] = cand
                    break
        kind = "module of flat package" if flat else "module of package"
        units: dict[str, _Unit] = {}
        for stem, p in sorted(stems.items()):
            if stem not in host:
                units[stem] = _Unit(stem, p, f"{u.module}.{stem}", [p], f"{kind} {u.module}", False)
        for stem, h in sorted(host.items()):
            unit = units[h]
            unit.files.append(stems[stem])
            unit.extra.append((stems[stem], f"{u.module}.{stem}"))
        for unit in units.values():
            if unit.extra:
                unit.reason += " (with its helper " + ", ".join(PurePosixPath(p).stem for p, _ in unit.extra) + ")"
        return list(units.values())

    def units(self) -> list[_Unit]:
        units = self.exclude(self.roots())
        total = self.size(f for u in units for f in u.files)
        while units:
            cands = [u for u in units if u.splittable]
            if not cands:
                break
            u = max(cands, key=lambda x: (self.size(x.files), x.dir))
            if len(units) >= MIN_COMPONENTS and (not u.root or 2 * self.size(u.files) <= total):
                break
            children, rest = self.split(u, MAX_COMPONENTS - len(units) + 1)
            u.splittable = False
            if not children:
                continue
            big = max(children, key=lambda c: self.size(c.files))
            if u.root and 10 * self.size(big.files) >= 9 * self.size(u.files):
                big.root = True  # a wrapper around one package (a namespace folder, pip's `_internal`): look inside
            i = units.index(u)
            units[i:i + 1] = ([rest] if rest else []) + children
        counts = Counter(u.name for u in units)
        for u in units:
            if counts[u.name] > 1:
                u.name = u.module
        return units


@dataclass(frozen=True)
class ComponentMap:
    """Assigns repository-relative paths and module names to components.

    Build it with :meth:`from_files` (the default rules of the module docstring, optionally overridden by
    ``mapping``). ``packages``: component -> the dotted module that defines it under the default rules, so an
    imported name resolves to its component without a file; ``dirs``: component -> its folder (or, for a
    module component, its file). ``rows``: ``(component, reason, files, lines)`` per component (table
    ``components``); ``excluded``: ``(path, reason, files)`` per group of code that is no component by default
    or by the mapping (table ``excluded_components``); ``unmatched``: mapping patterns that match no current
    file (or only files an earlier pattern takes), with their line and which.
    """

    packages: Mapping[str, str] = field(default_factory=dict)  # component -> dotted package prefix
    dirs: Mapping[str, str] = field(default_factory=dict)  # component -> directory or file (posix, repo-relative)
    mapping: tuple[tuple[str, str | None], ...] = ()  # user globs (pattern, component or None), first match wins
    prefixes: tuple[tuple[str, str], ...] = ()  # (path prefix, component), longest first
    modules: tuple[tuple[str, str], ...] = ()  # (dotted prefix, component), longest first
    rows: tuple[tuple[str, str, int, int | None], ...] = ()
    excluded: tuple[tuple[str, str, int], ...] = ()
    unmatched: tuple[tuple[str, int | None, str], ...] = ()  # (pattern, line, why it takes no file)
    roots: tuple[str, ...] = SOURCE_ROOTS  # the repository's source roots (infer_source_roots)

    @classmethod
    def from_files(cls, paths: Iterable[str], mapping: Mapping[str, str] | None = None, *, source: str | None = None,
                   imports: Mapping[str, Iterable[str]] | None = None,
                   sizes: Mapping[str, int] | None = None, roots: Iterable[str] | None = None) -> "ComponentMap":
        """Derive components from the repository's file list.

        ``mapping`` (glob -> component, ``""``/``"-"`` to exclude) overrides the default rules, first match
        wins. ``imports`` (path -> absolute module names it imports, tests included) lets the rules tell test
        support and unused root scripts from shipped code; ``sizes`` (path -> lines) weighs packages (default:
        one per file). ``source`` names where the mapping came from (default: the mapping's own
        :class:`PatternMapping` source). ``roots``: the source roots (default: inferred from ``imports`` by
        :func:`infer_source_roots`, which should then hold absolute imports only; ``src``/``lib`` without them).
        Raises :class:`ConfigError`, naming the file and line, for a component name that cannot be one.
        """
        paths = [p.replace(os.sep, "/") for p in paths]
        label = source or "components mapping"
        where = mapping.where if isinstance(mapping, PatternMapping) else (lambda _pat: (label, None))
        rules_in: list[tuple[str, str | None]] = []
        for pat, comp in (mapping or {}).items():
            file, line = where(pat)
            if not isinstance(comp, str) or any(s in comp for s in (SEAM_SEP, PAIR_SEP)) or comp != comp.strip():
                raise ConfigError(file, f"component pattern {pat!r} maps to {comp!r}, which cannot be a component "
                                  f"name", line=line, hint=f"use a plain name without '{SEAM_SEP}', or "
                                  f"\"{EXCLUDE}\" to exclude the files")
            rules_in.append((pat, None if comp in ("", EXCLUDE) else comp))
        rules = tuple(rules_in)
        roots = tuple(roots) if roots is not None else (infer_source_roots(paths, imports) if imports is not None
                                                         else SOURCE_ROOTS)
        r = _Rules(paths, imports, sizes, roots)
        units = r.units()
        prefixes = sorted([(u.dir, u.name) for u in units] + [(p, u.name) for u in units for p, _ in u.extra],
                          key=lambda x: -len(x[0]))
        modules = sorted([(u.module, u.name) for u in units] + [(m, u.name) for u in units for _, m in u.extra],
                         key=lambda x: -len(x[0]))
        cm = cls(packages={u.name: u.module for u in units}, dirs={u.name: u.dir for u in units}, mapping=rules,
                 prefixes=tuple(prefixes), modules=tuple(modules), roots=roots)
        # what each component holds, once every rule and pattern is applied
        reasons = {u.name: u.reason for u in units}
        counts: dict[str, list[int]] = {}
        by_pattern: Counter[str] = Counter()
        matched: set[str] = set()
        any_file: set[str] = set()
        for p in paths:
            if is_test_path(p):
                continue
            pat = cm._pattern_of(p)
            comp = cm.component_of(p)
            if pat is not None:
                matched.add(pat)
                if comp is None and p.endswith(".py"):
                    by_pattern[pat] += 1
            if comp is None:
                continue
            any_file.add(comp)
            if pat is not None:
                file, line = where(pat)
                reasons[comp] = f"user mapping {file}:{line}" if line else f"user mapping {file} ({pat!r})"
            if p.endswith(".py"):
                c = counts.setdefault(comp, [0, 0])
                c[0] += 1
                c[1] += int(sizes.get(p, 0) or 0) if sizes else 0
        rows = tuple((c, reasons.get(c, ""), counts.get(c, [0, 0])[0], counts.get(c, [0, 0])[1] if sizes else None)
                     for c in sorted(any_file))
        excluded = list(r.excluded)
        for pat, n in by_pattern.items():
            file, line = where(pat)
            excluded.append((pat, f"user mapping {file}:{line} excludes it" if line else
                             f"user mapping {file} excludes it", n))
        anywhere = {pat for pat, _ in rules if any(fnmatch.fnmatchcase(p, pat) for p in paths if not is_test_path(p))
                    } - matched if len(matched) < len(rules) else set()
        unmatched = tuple((pat, where(pat)[1], "is shadowed: an earlier pattern takes every file it matches"
                           if pat in anywhere else "matches no current file (kept: it may match paths in the history)")
                          for pat, _ in rules if pat not in matched)
        return replace(cm, rows=rows, excluded=tuple(excluded), unmatched=unmatched)

    @property
    def names(self) -> list[str]:
        """All component names, sorted."""
        if self.rows:
            return [r[0] for r in self.rows]
        return sorted(set(self.packages) | {c for _, c in self.mapping if c})

    def module_name(self, path: str) -> str:
        """Dotted module name of a Python file of this repository (:func:`module_name` under its :attr:`roots`)."""
        return module_name(path, self.roots)

    def _pattern_of(self, path: str) -> str | None:
        for pat, _comp in self.mapping:
            if fnmatch.fnmatchcase(path, pat):
                return pat
        return None

    def component_of(self, path: str) -> str | None:
        """The component of a repository-relative path; ``None`` for tests, excluded and unassigned files."""
        path = path.replace(os.sep, "/")
        if is_test_path(path):
            return None
        for pat, comp in self.mapping:
            if fnmatch.fnmatchcase(path, pat):
                return comp
        if is_foreign(path.split("/")[:-1]):
            return None
        for d, comp in self.prefixes:  # longest first
            if path == d or path.startswith(d + "/"):
                return comp
        return None

    def component_of_module(self, module: str, path: str | None = None) -> str | None:
        """The component owning a dotted module (or symbol) name.

        When the module's file is known, prefer :meth:`component_of` on it (the
        user mapping is path-based); otherwise use the longest module prefix.
        """
        if path is not None:
            return self.component_of(path)
        if is_foreign(module.split(".")[:-1]):
            return None
        for prefix, comp in self.modules:  # longest first
            if module == prefix or module.startswith(prefix + "."):
                return comp
        return None

    def table(self) -> "pd.DataFrame":
        """Table ``components`` of :mod:`toolkit.vocab.schema`: each component, why it is one, its files and lines."""
        from toolkit.vocab import schema
        import pandas as pd
        return schema.conform(pd.DataFrame(list(self.rows), columns=schema.columns("components")), "components")

    def excluded_table(self) -> "pd.DataFrame":
        """Table ``excluded_components``: code that is no component, and why."""
        from toolkit.vocab import schema
        import pandas as pd
        return schema.conform(pd.DataFrame(list(self.excluded), columns=schema.columns("excluded_components")),
                              "excluded_components")
