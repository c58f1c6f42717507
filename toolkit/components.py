"""What a component is, what a seam is, and which files are tests — one definition.

Component (default rule)
    Python files are grouped by package. If the repository has exactly one
    top-level package (optionally under ``src/``), each of its direct
    subpackages is a component, named by the subpackage (``shop/orders`` ->
    ``orders``); modules directly in the top-level package belong to a component
    named after it (``shop``). With several top-level packages, each is a
    component. Non-Python files (SQL, JSON schemas, OpenAPI, protobuf,
    templates) belong to the component whose directory holds them.
Component (override)
    A mapping of glob patterns to component names, from a dict argument,
    ``seamscope.toml`` (``[components]``) or ``[tool.seamscope.components]`` in
    the analysed repository's ``pyproject.toml``. The first matching pattern
    wins; a pattern that matches nothing is an error (it is almost always a typo).
Test file
    Any file under a ``tests``/``test``/``testing`` directory, or named
    ``test_*.py``, ``*_test.py`` or ``conftest.py``. Tests are never components.
Seam
    An ordered pair of components (caller -> callee) with at least one
    interaction between them, written ``"caller->callee"``. Bug analyses that have
    no direction use the unordered ``pair_name``.
"""
from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

from toolkit.errors import ConfigError

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


def module_name(path: str) -> str:
    """Dotted module name of a Python file path (``src/`` stripped, ``__init__`` dropped)."""
    parts = list(PurePosixPath(path.replace(os.sep, "/")).with_suffix("").parts)
    if len(parts) > 1 and parts[0] in SOURCE_ROOTS:
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@dataclass(frozen=True)
class ComponentMap:
    """Assigns repository-relative paths and module names to components.

    Build it with :meth:`from_files` (the default package rule, optionally
    overridden by ``mapping``; files the mapping does not match fall back to the
    package rule). ``packages`` maps each component to the package
    prefix (dotted) that defines it under the default rule, so that an imported
    module name can be resolved to its component without a file.
    """

    packages: Mapping[str, str] = field(default_factory=dict)  # component -> dotted package prefix
    dirs: Mapping[str, str] = field(default_factory=dict)  # component -> directory (posix, repo-relative)
    mapping: tuple[tuple[str, str], ...] = ()  # user globs (pattern, component), first match wins

    @classmethod
    def from_files(cls, paths: Iterable[str], mapping: Mapping[str, str] | None = None, *, source: str = "mapping") -> "ComponentMap":
        """Derive components from the repository's file list.

        ``mapping`` (glob -> component) overrides the package rule. Raises
        :class:`ConfigError` when a pattern matches no file. ``source`` names
        where the mapping came from, for that message.
        """
        paths = [p.replace(os.sep, "/") for p in paths]
        py = [p for p in paths if p.endswith(".py") and not is_test_path(p)]
        pkg_dirs = {str(PurePosixPath(p).parent) for p in py if PurePosixPath(p).name == "__init__.py"}

        def top_packages() -> list[str]:
            tops = set()
            for d in pkg_dirs:
                parts = PurePosixPath(d).parts
                start = 1 if parts and parts[0] in SOURCE_ROOTS else 0
                if len(parts) > start:
                    top = "/".join(parts[: start + 1])
                    if top in pkg_dirs:
                        tops.add(top)
            return sorted(tops)

        tops = top_packages()
        packages: dict[str, str] = {}
        dirs: dict[str, str] = {}
        if len(tops) == 1:
            top = tops[0]
            top_mod = module_name(top + "/__init__.py")
            packages[top_mod.split(".")[-1]] = top_mod
            dirs[top_mod.split(".")[-1]] = top
            for d in sorted(pkg_dirs):
                if str(PurePosixPath(d).parent) == top:
                    name = PurePosixPath(d).name
                    packages[name] = module_name(d + "/__init__.py")
                    dirs[name] = d
        else:
            for top in tops:
                mod = module_name(top + "/__init__.py")
                packages[mod] = mod
                dirs[mod] = top
            # top-level modules outside any package are components of their own
            for p in py:
                if "/" not in p or (p.count("/") == 1 and p.split("/")[0] in SOURCE_ROOTS):
                    mod = module_name(p)
                    if mod and mod not in packages:
                        packages[mod] = mod
                        dirs[mod] = p
        rules = tuple((pat, comp) for pat, comp in (mapping or {}).items())
        matched: set[str] = set()
        for p in paths:
            comps = {(pat, comp) for pat, comp in rules if fnmatch.fnmatchcase(p, pat)}
            matched.update(pat for pat, _ in comps)
            if len({comp for _, comp in comps}) > 1:
                raise ConfigError(source, f"{p!r} is matched by several component patterns: "
                                  + ", ".join(f"{pat!r} -> {comp}" for pat, comp in sorted(comps)),
                                  hint="make the patterns disjoint so each file belongs to one component")
        for pat, _comp in rules:
            if pat not in matched:
                raise ConfigError(source, f"component pattern {pat!r} matches no file in the repository",
                                  hint="check the glob against repository-relative paths such as 'src/pkg/sub/**'")
        return cls(packages=packages, dirs=dirs, mapping=rules)

    @property
    def names(self) -> list[str]:
        """All component names, sorted."""
        return sorted(set(self.packages) | {c for _, c in self.mapping})

    def component_of(self, path: str) -> str | None:
        """The component of a repository-relative path; ``None`` for tests and unassigned files."""
        path = path.replace(os.sep, "/")
        if is_test_path(path):
            return None
        for pat, comp in self.mapping:
            if fnmatch.fnmatchcase(path, pat):
                return comp
        best, best_len = None, -1
        for comp, d in self.dirs.items():
            if (path == d or path.startswith(d + "/")) and len(d) > best_len:
                best, best_len = comp, len(d)
        return best

    def component_of_module(self, module: str, path: str | None = None) -> str | None:
        """The component owning a dotted module (or symbol) name.

        When the module's file is known, prefer :meth:`component_of` on it (the
        user mapping is path-based); otherwise use the longest package prefix.
        """
        if path is not None:
            return self.component_of(path)
        best, best_len = None, -1
        for comp, prefix in self.packages.items():
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = comp, len(prefix)
        return best


def read_mapping_config(repo_files: Mapping[str, bytes]) -> tuple[dict[str, str] | None, str | None]:
    """Read a component mapping from ``seamscope.toml`` or ``pyproject.toml`` contents.

    ``repo_files`` maps those file names to their bytes (read by the caller from a
    work tree or a git revision). Returns ``(mapping, source_name)`` or ``(None, None)``.
    """
    for name, section in (("seamscope.toml", ("components",)), ("pyproject.toml", ("tool", "seamscope", "components"))):
        raw = repo_files.get(name)
        if raw is None:
            continue
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(name, f"is not valid TOML: {exc}") from exc
        node = data
        for key in section:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if node is None:
            continue
        if not isinstance(node, dict) or not all(isinstance(v, str) for v in node.values()):
            raise ConfigError(name, f"[{'.'.join(section)}] must map glob patterns to component names (strings)")
        return dict(node), name
    return None, None
