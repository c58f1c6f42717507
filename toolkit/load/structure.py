"""Repository structure: files, imports and cross-component call sites, read statically.

An *interaction* is one place where production code of one component calls,
instantiates or subclasses a name defined in another component (resolved
through the file's imports, following re-exports through package
``__init__`` modules and module-level aliases). Interactions are what
integration tests should exercise; :func:`load_structure` lists them in the
``call_sites`` table. Only code that can run makes one: an import is an
import (table ``imports``), not a call site; a reference under
``if TYPE_CHECKING:`` or in an annotation is not one, and neither is a builtin
reached through another component's alias (``compat.str(...)`` where
``compat.py`` says ``str = str``) or a method of a literal it holds
(``connection.port_by_scheme.get(...)``) — ``Structure.not_call_sites`` counts what
each rule left out. Runnable calls the ``ast`` cannot resolve (on parameters,
on objects an instance holds, through ``getattr`` or a dict) are counted per
file in the ``unresolved_calls`` table (:mod:`toolkit.load.python_ast`).

How it reads: the file list and contents come from :class:`~toolkit.load.gitrepo.Repo`
(the work tree on disk, or git objects for a revision or bundle — never a
checkout). Each Python file is parsed once with ``ast`` in a process pool
(:mod:`toolkit.load.python_ast`); the per-file results are cached in the runtime cache
(namespace ``structure``) keyed on the file's git blob id under the parser's code version, so
an unchanged file is never parsed twice while that code is unchanged, and the finished tables
are cached keyed on every file's id plus the component mapping under this module's code
version. Names are resolved to their defining module after the parallel pass, because that
needs every file.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from toolkit.vocab import schema
from toolkit.runtime import cache as cache_store
from toolkit.vocab.components import (PYTEST_PYTHON_CLASSES, PYTEST_PYTHON_FILES, ComponentMap, PatternMapping,
                                      file_kind, infer_source_roots, is_test_path, module_name, seam_name)
from toolkit.load.component_mapping import read_mapping_config
from toolkit.load.pytest_config import read_collection
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.gitrepo import Repo, blob_id
from toolkit.load.python_ast import FileFacts, scan_many
from toolkit.runtime.parallel import map_chunks

_CONFIG_FILES = ("seamscope.toml", "pyproject.toml")
_MAX_REEXPORT_HOPS = 4
_PARALLEL_MIN_FILES = 64  # below this, a process pool costs more than it saves


@dataclass(frozen=True, eq=False)
class Structure:
    """The static structure of a repository at one revision.

    ``files``, ``imports``, ``call_sites``: tables of :mod:`toolkit.vocab.schema`.
    ``commit``: the commit read (for a work tree: its HEAD; the files may differ from it), ``None`` for an
    empty repository. ``skipped``: files left out (do not parse). ``internal_references``: per component,
    the import-resolved call/subclass references that stay inside it (``call_sites`` holds only crossing
    ones; :func:`toolkit.analyze.structural_coupling.structural_coupling` needs both for cohesion).
    ``unresolved_calls``: table of :mod:`toolkit.vocab.schema`, per production file and reason, the runnable calls
    whose target could not be resolved. ``not_call_sites``: rule -> cross-component references that are not
    call sites because they cannot run as calls into the other component (``type_checking``: under
    ``if TYPE_CHECKING:``/``if False:``; ``annotation``: inside an annotation; ``builtin_alias``: a name another
    component aliases to a builtin or to something outside the repository, or a method of a literal it holds).
    ``functions``: per component, the names of the functions and methods its files define (to tell which
    unresolved calls may reach it).
    ``stats``: ``parsed`` (files parsed by this call), ``cached`` (files taken from the cache),
    ``result_cached`` (the whole result came from the cache). ``component_table`` / ``excluded_components``:
    tables ``components`` and ``excluded_components`` (why each component is one; what is none, and why).
    """

    components: ComponentMap
    files: pd.DataFrame
    imports: pd.DataFrame
    call_sites: pd.DataFrame
    commit: str | None
    skipped: tuple[Skip, ...] = ()
    internal_references: Mapping[str, int] = field(default_factory=dict)
    unresolved_calls: pd.DataFrame = field(default_factory=lambda: schema.empty("unresolved_calls"))
    not_call_sites: Mapping[str, int] = field(default_factory=dict)
    functions: Mapping[str, frozenset] = field(default_factory=dict)
    stats: Mapping[str, int] = field(default_factory=dict)
    #: the file patterns pytest collects tests from (:func:`toolkit.load.pytest_config.python_files`)
    python_files: tuple[str, ...] = PYTEST_PYTHON_FILES
    #: the class names it collects test methods from (:func:`toolkit.load.pytest_config.collection`)
    python_classes: tuple[str, ...] = PYTEST_PYTHON_CLASSES

    @property
    def component_table(self) -> pd.DataFrame:
        return self.components.table()

    @property
    def excluded_components(self) -> pd.DataFrame:
        return self.components.excluded_table()


def _facts_key(path: str, module: str, blob: str) -> str:
    """Key of a file's facts inside the facts entry: they depend on its content and the module name it is parsed as."""
    return hashlib.sha1(f"{path}\0{module}\0{blob}".encode("utf-8", "surrogateescape")).hexdigest()


# Both stores live in the runtime cache (:mod:`toolkit.runtime.cache`, namespace ``structure``), keyed with the
# version of the code that made them: one entry per repository holds the parsed files (file key -> FileFacts,
# made by :mod:`toolkit.load.python_ast` alone, so changing how tables are built keeps them), and one entry per
# finished result (made by this module).
_NAMESPACE = "structure"


def _facts_entry(repo: Repo) -> str:
    return cache_store.key(_NAMESPACE, "facts", repo.cache_id, code=("toolkit.load.python_ast",))


def _stored_facts(entry: str) -> dict[str, FileFacts]:
    got = cache_store.get(_NAMESPACE, entry)
    return got[0] if got is not None and isinstance(got[0], dict) else {}


def _store_facts(entry: str, facts: dict[str, FileFacts], used: set[str]) -> None:
    if len(facts) > 3 * max(len(used), 1000):  # keep a few revisions' worth, drop the rest
        facts = {k: v for k, v in facts.items() if k in used}
    cache_store.put(_NAMESPACE, entry, facts)


def _list_with_blobs(repo: Repo, rev: str | None, skips: list[Skip] | None = None
                     ) -> tuple[list[str], dict[str, str] | None, str | None]:
    """All paths, their blob ids when known without reading (a revision), and the commit (links are not files:
    :meth:`Repo.list_files`)."""
    if rev is None and repo.work_tree is not None:
        return repo.list_files(None, skips=skips), None, repo.resolve("HEAD")
    commit = repo.resolve(rev or "HEAD")
    if commit is None:
        return [], {}, None
    blobs = repo.list_blobs(commit)
    return sorted(blobs), blobs, commit


def _mapping_from_repo(repo: Repo, paths: list[str], rev: str | None) -> PatternMapping | None:
    """The ``[components]`` mapping of the analysed revision's ``seamscope.toml`` / ``pyproject.toml``, if any."""
    present = [p for p in _CONFIG_FILES if p in set(paths)]
    if not present:
        return None
    return read_mapping_config(dict(repo.read_files(present, rev)))[0]


def _component_map(paths: list[str], facts: Mapping[str, FileFacts], mapping: PatternMapping | None,
                   roots: tuple[str, ...]) -> ComponentMap:
    """Components by :mod:`toolkit.vocab.components`' rules, told each file's imports (test support is recognised by
    who imports it), lines (which package to split; generated files weigh nothing) and the source roots."""
    imports = {p: {mod for _line, mod, *_ in f.imports if mod}
               | {f"{mod}.{sym}" for _line, mod, sym, *_ in f.imports if mod and sym is not None}
               for p, f in facts.items()}
    return ComponentMap.from_files(paths, mapping, imports=imports, sizes={p: f.loc for p, f in facts.items()},
                                   roots=roots, generated=[p for p, f in facts.items() if f.generated])


def load_structure(
    repo: Repo | str | os.PathLike,
    rev: str | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    skips: list[Skip] | None = None,
    workers: int | None = None,
    executor: cf.Executor | None = None,
    cache: bool = True,
) -> Structure:
    """Read a repository's files, imports and cross-component call sites (tables ``files``, ``imports``,
    ``call_sites`` of :mod:`toolkit.vocab.schema`).

    ``rev``: a commit/tag/branch read from git objects; ``None`` reads the work tree as it is on disk (HEAD
    for bundles and bare repositories). ``mapping``: glob -> component, overriding ``seamscope.toml`` /
    ``pyproject.toml`` of the analysed revision and the default package rule (:mod:`toolkit.vocab.components`).
    ``skips`` collects files that do not parse (else a warning each). ``workers`` / ``executor``: how the
    per-file parse fans out (default: a process pool over every core for 64+ files to parse).
    ``cache``: reuse and store parse results under ``cache root/structure``.

    Raises :class:`InputError` when the repository has no Python file, :class:`ConfigError` (naming the
    file and line) when the mapping is malformed. A mapping pattern that matches no current file is a skip.
    """
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    paths, blobs, commit = _list_with_blobs(repo, rev, skips)
    py_paths = [p for p in paths if p.endswith(".py")]
    if not py_paths:
        raise InputError(repo.origin, f"has no Python files{f' at {rev}' if rev else ''}", flag="REPO",
                         hint="seamscope analyses Python repositories; check the path and the revision (--at)")

    collected, classes = read_collection(repo, paths, rev)  # not cached with the parse: no Python file's content
    if mapping is None:
        mapping = _mapping_from_repo(repo, paths, rev)
    elif not isinstance(mapping, PatternMapping):
        mapping = PatternMapping(mapping, source="components mapping")
    ComponentMap.from_files([], mapping)  # a malformed mapping fails before any parsing

    cache = cache and cache_store.enabled()  # SEAMSCOPE_NO_CACHE, or a refused cache folder
    contents: dict[str, bytes] = {}
    if blobs is None:  # work tree: the content is the key, so read every Python file
        contents = dict(repo.read_files(py_paths, None, skips=skips))
        blobs = {p: blob_id(b) for p, b in contents.items()}
        py_paths = [p for p in py_paths if p in blobs]  # a link or an oversized file was not read
    origin = (mapping.source, sorted(mapping.lines.items())) if mapping else None
    result_key = cache_store.key(_NAMESPACE, "result", list(mapping.items()) if mapping else None, origin, paths,
                                 [blobs.get(p) for p in py_paths], code=(__name__,)) if cache else None
    got = cache_store.get(_NAMESPACE, result_key) if result_key else None
    cached = got[0] if got is not None and isinstance(got[0], dict) else None
    if cached is not None:  # the Structure's fields but the commit and the stats
        for s in cached["skipped"]:
            report_skip(skips, s.path, s.reason, s.line)
        return Structure(**cached, commit=commit, python_files=collected, python_classes=classes,
                         stats={"parsed": 0, "cached": len(py_paths), "result_cached": 1})

    facts_entry = _facts_entry(repo) if cache else None
    known = _stored_facts(facts_entry) if facts_entry else {}
    keys: dict[str, str] = {}
    used: set[str] = set()
    facts: dict[str, FileFacts] = {}

    def parse(names: Mapping[str, str]) -> int:
        """Facts of each path parsed as its module name (path -> module), from the store or parsed now."""
        keys.update({p: _facts_key(p, m, blobs[p]) for p, m in names.items()})
        used.update(keys[p] for p in names)
        facts.update({p: known[keys[p]] for p in names if keys[p] in known})
        todo = [p for p in names if keys[p] not in known]
        missing = [p for p in todo if p not in contents]
        if missing:
            contents.update(repo.read_files(missing, rev, skips=skips))
        items = [(p, names[p], contents[p]) for p in todo if p in contents]
        for f in map_chunks(scan_many, items, weight=lambda it: len(it[2]), workers=workers, executor=executor,
                            min_items=_PARALLEL_MIN_FILES):
            facts[f.path] = f
            known[keys[f.path]] = f
        return len(todo)

    # module names depend on the source roots, which the absolute imports tell (they do not depend on a file's
    # module name): parse under src/lib, then parse again (once, then cached) the files an inferred root renames
    parsed = parse({p: module_name(p) for p in py_paths})
    roots = infer_source_roots(py_paths, {p: {mod for _line, mod, _sym, rel, *_ in f.imports if mod and not rel}
                                          for p, f in facts.items() if f.error is None})
    parsed += parse({p: m for p in py_paths if p in facts and (m := module_name(p, roots)) != facts[p].module})
    if facts_entry and parsed:
        _store_facts(facts_entry, known, used)

    components = _component_map(paths, {p: f for p, f in facts.items() if f.error is None}, mapping, roots)
    fields = _build_tables(paths, facts, components)
    if mapping:
        fields["skipped"].extend(Skip(mapping.source, f"component pattern {pat!r} {why}", line)
                                 for pat, line, why in components.unmatched)
    fields["skipped"] = tuple(fields["skipped"])
    fields["components"] = components
    if result_key:
        cache_store.put(_NAMESPACE, result_key, fields)
    for s in fields["skipped"]:
        report_skip(skips, s.path, s.reason, s.line)
    return Structure(**fields, commit=commit, python_files=collected, python_classes=classes,
                     stats={"parsed": parsed, "cached": max(len(py_paths) - parsed, 0), "result_cached": 0})


#: :meth:`_Resolver.resolve` for a name that a repository module only aliases to something outside it
#: (``compat.str`` with ``str = str``): not the module's own code, and no repository module defines it.
ALIASED_EXTERNAL = "aliased-external"


class _Resolver:
    """Maps a dotted name to the module that defines it, following import re-exports and module-level aliases."""

    def __init__(self, facts: Mapping[str, FileFacts]) -> None:
        self.by_module: dict[str, FileFacts] = {}
        self.alias_holder: FileFacts | None = None
        for f in facts.values():
            # a production module wins over a test module of the same dotted name
            if f.module not in self.by_module or is_test_path(self.by_module[f.module].path):
                self.by_module[f.module] = f

    def resolve_ref(self, target: str) -> tuple[FileFacts, list[str]] | None:
        """Like :meth:`resolve`, and ``"a.f().m"`` (method ``m`` of what ``a.f`` returns) through the class
        ``a.f`` is or is annotated to return."""
        base, sep, method = target.partition("().")
        if not sep:
            return self.resolve(target.removesuffix("()"))
        cls = self.instance_type(base)
        return None if cls is None else self.resolve(f"{cls}.{method}")

    def instance_type(self, name: str) -> str | None:
        got = self.resolve(name)
        if not isinstance(got, tuple):
            return None
        f, rest = got
        symbol = ".".join(rest)
        if symbol in f.classes:  # a TypedDict's instance is a dict: ``scope.get()`` is dict's method
            return None if symbol in f.dicts else f"{f.module}.{symbol}"
        ret = f.returns.get(symbol)
        if ret is None:
            return None
        got = self.resolve(ret)
        if not isinstance(got, tuple) or ".".join(got[1]) not in got[0].classes or ".".join(got[1]) in got[0].dicts:
            return None
        return ".".join([got[0].module] + got[1])

    def resolve(self, name: str, hops: int = _MAX_REEXPORT_HOPS) -> tuple[FileFacts, list[str]] | str | None:
        """``(defining module's facts, remaining attribute path)``; ``None`` when no repository module holds it;
        :data:`ALIASED_EXTERNAL` when one holds it only as an alias of a builtin or of an outside name (that
        module is then ``self.alias_holder``)."""
        for hop in range(hops + 1):
            parts = name.split(".")
            for i in range(len(parts), 0, -1):
                f = self.by_module.get(".".join(parts[:i]))
                if f is not None:
                    break
            else:
                return None
            rest = parts[i:]
            if rest and rest[0] in f.aliases and not self._aliases_inside(f.aliases[rest[0]], hops - hop):
                self.alias_holder = f
                return ALIASED_EXTERNAL  # ``str = str``; an alias of repository code (``s = attrs``) stays
                # named as written, the name tests patch
            if not rest or rest[0] in f.defined or rest[0] in f.classes or rest[0] not in f.exports:
                return f, rest
            target = f.exports[rest[0]]
            nxt = ".".join([target] + rest[1:])
            if nxt == name:
                return f, rest
            name = nxt
        return f, rest

    def _aliases_inside(self, targets: tuple, hops: int) -> bool:
        """Whether one of an alias's targets is repository code (or too many hops away to tell)."""
        return any(t is not None and (hops <= 0 or isinstance(self.resolve(t, hops - 1), tuple)) for t in targets)


def _build_tables(paths: list[str], facts: Mapping[str, FileFacts], components: ComponentMap) -> dict:
    """The :class:`Structure` fields made from the parsed files (but ``components``, ``commit``, ``stats``)."""
    skipped: list[Skip] = []
    comp_of: dict[str, str | None] = {p: components.component_of(p) for p in paths}
    resolver = _Resolver({p: f for p, f in facts.items() if f.error is None})
    modules = resolver.by_module

    target_cache: dict[str, str | None] = {}

    def target_component(module: str) -> str | None:
        if module not in target_cache:
            f = modules.get(module)
            target_cache[module] = comp_of.get(f.path) if f is not None else components.component_of_module(module)
        return target_cache[module]

    file_rows = [(p, comp_of[p], components.module_name(p) if p.endswith(".py") else None, file_kind(p),
                  is_test_path(p), f.loc if (f := facts.get(p)) is not None else None,
                  bool(f is not None and f.generated)) for p in paths]

    imp_rows = []
    site_rows: dict[str, tuple] = {}
    internal: dict[str, int] = {}
    unresolved_rows = []
    functions: dict[str, set[str]] = defaultdict(set)
    left_out: dict[str, set[str]] = defaultdict(set)  # rule -> ids of the cross-component references it kept out
    for p in sorted(facts):
        f = facts[p]
        if f.error is not None:
            skipped.append(Skip(p, f.error[0], f.error[1]))
            continue
        comp = comp_of.get(p)
        for line, mod, sym, rel, cond, tc, local in f.imports:
            if sym is not None and f"{mod}.{sym}" in modules:
                mod, sym = f"{mod}.{sym}", None
            imp_rows.append((p, line, f.module, comp, mod, sym, target_component(mod), rel, cond, tc, local))
        if comp is None:
            continue
        unresolved_rows += [(p, comp, reason, name, n) for (reason, name), n in f.unresolved.items()]
        if f.functions:
            functions[comp].update(f.functions)
        for line, caller, target, kind, rule in f.guarded:
            got = resolver.resolve_ref(target)
            if isinstance(got, tuple) and comp_of.get(got[0].path) not in (None, comp):
                left_out[rule].add(f"{p}:{line}:{target}")
        for line, caller, target, kind in f.refs:
            got = resolver.resolve_ref(target)
            if got is None:
                continue
            if got is ALIASED_EXTERNAL:
                holder = resolver.alias_holder
                if holder is not None and comp_of.get(holder.path) not in (None, comp):
                    left_out["builtin_alias"].add(f"{p}:{line}:{target}")
                continue
            df, rest = got
            callee_comp = comp_of.get(df.path)
            if callee_comp is None:
                continue
            if callee_comp == comp:
                internal[comp] = internal.get(comp, 0) + 1
                continue
            callee = ".".join([df.module] + rest) if rest else df.module
            if kind == "call" and rest and ".".join(rest) in df.classes:
                kind = "instantiate"
            sid = f"{p}:{line}:{callee}"
            if sid not in site_rows:
                site_rows[sid] = (sid, p, line, caller, comp, callee, callee_comp, kind, seam_name(comp, callee_comp))
    tables = {"files": file_rows, "imports": imp_rows, "call_sites": list(site_rows.values()),
              "unresolved_calls": unresolved_rows}
    return {**{name: schema.conform(pd.DataFrame(rows, columns=schema.columns(name)), name)
               for name, rows in tables.items()},
            "skipped": skipped, "internal_references": internal,
            "not_call_sites": {rule: len(ids) for rule, ids in sorted(left_out.items())},
            "functions": {comp: frozenset(names) for comp, names in functions.items()}}
