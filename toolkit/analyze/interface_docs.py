"""Interface documentation review: are the interfaces components really use of each other documented,
and did their signatures drift away from their docs and their callers?

Two components that each pass their unit tests break when combined because one
side's idea of the other's interface is wrong. The cheapest defence is an
interface that says what it takes, returns and raises — and a change history
in which a signature change travels together with its documentation and its
callers. This method measures both.

Definitions
    interface
        a function, class or method of a component that another component uses:
        the callee of a cross-component call site (``call_sites``), or a public
        (no leading underscore) function/class imported by another component
        (``imports`` rows with ``target_symbol``; re-exports through package
        ``__init__`` modules are followed to the defining module). ``used_by``
        lists the using components; ``call_sites`` counts the call sites.
        Callees that are not a ``def``/``class`` in the source (module-level
        instances, inherited methods) are listed with kind ``unresolved`` and no
        score.
    checks (per interface, from the defining module parsed with ``ast``)
        ``has_docstring``; ``params_documented`` — share of parameters (without
        self/cls; for a class, the ``__init__`` parameters or data-class fields)
        named in the docstring in Google (``Args:``), NumPy (``Parameters`` +
        dashes) or Sphinx (``:param x:``) style, <NA> without parameters;
        ``returns_documented`` — a Returns/Yields section, or no value is
        returned (classes: True); ``raises_documented`` — a Raises section when
        the body raises, <NA> when it does not; ``annotations_complete`` — share
        of parameters and return annotated, <NA> when there is nothing to
        annotate; ``data_contract`` — the annotations (or the class itself) name a
        dataclass / attrs class / TypedDict / NamedTuple / pydantic model defined
        in the repository, or the component has a contract file (``files.kind`` in
        :data:`CONTRACT_KINDS`).
    score
        the :data:`WEIGHTS`-weighted mean of the applicable checks (booleans as
        0/1, shares as they are), in 0..1. ``fully_documented``: docstring, every
        parameter, return and raise documented and annotations complete (the data
        contract is reported, not required).
    seam
        ``caller->callee`` for each interface and each component using it;
        ``mean_score`` over the seam's interfaces and the share fully documented.
    drift (from git history)
        For each commit that changed an interface's defining file (renames
        followed; newest first, at most ``max_drift_commits`` commits), the
        interface's signature (parameter names, kinds, defaults, annotations,
        return annotation) is compared between the commit and its first parent.
        When it changed: ``signature changed, docstring unchanged`` if the
        docstring is identical; ``callers in other components left unchanged in
        the same commit`` if none of the files using it from other components
        (its call sites' and importers' files, as they exist at ``rev``, and only
        those that existed at that commit) changed in that commit.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.analyze.interface_drift import (Definition, ModuleDefs, class_headers, def_headers, describe_change,
                                             documented_params, documents_raises, documents_returns,
                                             parse_module, parse_versions)
from toolkit.vocab.components import seam_name
from toolkit.load.history import follow_renames
from toolkit.runtime.parallel import map_chunks
from toolkit.runtime.progress import progress

#: Weight of each check in an interface's score (not-applicable checks are left out and the rest renormalised).
WEIGHTS: dict[str, float] = {
    "docstring": 0.30,
    "params": 0.20,
    "returns": 0.15,
    "raises": 0.05,
    "annotations": 0.15,
    "contract": 0.15,
}
#: ``files.kind`` values that are a machine-readable contract of a component's data or API.
CONTRACT_KINDS = frozenset({"json_schema", "openapi", "protobuf", "avro", "pact", "sql"})
DRIFT_DOC = "signature changed, docstring unchanged"
DRIFT_CALLERS = "callers in other components left unchanged in the same commit"
_MAX_HOPS = 4


@dataclass(frozen=True)
class InterfaceDocs:
    """``interfaces`` (schema ``interface_docs``), ``seams`` (``interface_doc_seams``), ``drift``
    (``interface_drift``) and ``summary``: interfaces, share_docstring, share_fully_documented, mean_score,
    drift_events, drift_commits_examined, drift_capped, worst_seams (lowest mean score first)."""

    interfaces: pd.DataFrame
    seams: pd.DataFrame
    drift: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


#: (module, is package, SHA-1 of the source) -> its parse (read only): an audit and a backtest at an earlier
#: revision share the modules that did not change in between.
_MODULE_MEMO: dict[tuple[str, bool, bytes], ModuleDefs] = {}
_MODULE_MEMO_LIMIT = 20_000


class _Modules:
    """Module name -> path of the analysed revision, and parsed modules read in batches through the Repo."""

    def __init__(self, structure, repo, rev: str | None) -> None:
        files = structure.files
        py = files[files["module"].notna()].sort_values("is_test", kind="stable")
        self.path_of: dict[str, str] = {}
        for mod, path in zip(py["module"].tolist(), py["path"].tolist()):
            self.path_of.setdefault(mod, path)  # production module wins over a test of the same name
        self.module_of = {p: m for m, p in self.path_of.items()}
        self.repo, self.rev = repo, rev
        self.parsed: dict[str, ModuleDefs] = {}
        self.used_modules: set[tuple] = set()  # _MODULE_MEMO / _CHANGE_MEMO keys this analysis used
        self.used_changes: set[tuple] = set()
        self.new_work = False  # whether it parsed or compared anything the memos did not hold

    def split(self, dotted: str) -> tuple[str, str] | None:
        """``(module, qualname)`` for a dotted name, by the longest module prefix of the repository."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            mod = ".".join(parts[:i])
            if mod in self.path_of:
                return mod, ".".join(parts[i:])
        return None

    def load(self, modules: set[str]) -> None:
        todo = sorted(m for m in modules if m not in self.parsed and m in self.path_of)
        if not todo:
            return
        got = dict(self.repo.read_files([self.path_of[m] for m in todo], self.rev))
        if len(_MODULE_MEMO) > _MODULE_MEMO_LIMIT:
            _MODULE_MEMO.clear()
        for m in todo:
            path = self.path_of[m]
            if path not in got:
                self.parsed[m] = ModuleDefs({}, {}, error="missing")
                continue
            key = (m, path.endswith("__init__.py"), hashlib.sha1(got[path]).digest())
            md = _MODULE_MEMO.get(key)
            if md is None:
                md = _MODULE_MEMO[key] = parse_module(got[path], m, key[1])
                self.new_work = True
            self.used_modules.add(key)
            self.parsed[m] = md

    def resolve(self, dotted: str) -> tuple[str, Definition | None]:
        """Follow import re-exports to the defining module (modules must be loaded; see :meth:`resolve_all`)."""
        name = dotted
        for _ in range(_MAX_HOPS + 1):
            sp = self.split(name)
            if sp is None:
                return name, None
            mod, qual = sp
            md = self.parsed.get(mod)
            if md is None or not qual:
                return name, None
            d = md.defs.get(qual)
            if d is not None:
                return name, d
            head, _, rest = qual.partition(".")
            target = md.bindings.get(head)
            if target is None:
                return name, None
            nxt = f"{target}.{rest}" if rest else target
            if nxt == name:
                return name, None
            name = nxt
        return name, None

    def resolve_all(self, names: set[str]) -> dict[str, tuple[str, Definition | None]]:
        pending = set(names)
        for _ in range(_MAX_HOPS + 1):
            needed = set()
            for n in pending:
                name = n
                for _hop in range(_MAX_HOPS + 1):
                    sp = self.split(name)
                    if sp is None:
                        break
                    mod, qual = sp
                    if mod not in self.parsed:
                        needed.add(mod)
                        break
                    md = self.parsed[mod]
                    if not qual or qual in md.defs:
                        break
                    head, _, rest = qual.partition(".")
                    target = md.bindings.get(head)
                    if target is None:
                        break
                    nxt = f"{target}.{rest}" if rest else target
                    if nxt == name:
                        break
                    name = nxt
            if not needed:
                break
            self.load(needed)
        return {n: self.resolve(n) for n in names}


def _score(checks: dict[str, float | None]) -> float:
    num = den = 0.0
    for k, v in checks.items():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        num += WEIGHTS[k] * float(v)
        den += WEIGHTS[k]
    return num / den if den else float("nan")


def _is_public(qual: str) -> bool:
    return not any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in qual.split("."))


def interface_docs(
    structure,
    repo,
    *,
    history=None,
    rev: str | None = None,
    drift: bool = True,
    max_drift_commits: int = 2000,
) -> InterfaceDocs:
    """Review the documentation of every interface used across components, and its drift in git history.

    ``structure``: :class:`toolkit.load.structure.Structure`; ``repo``: the
    :class:`toolkit.load.gitrepo.Repo` it was read from (sources are read at
    ``rev`` through ``Repo.read_files``; ``None``: the work tree, HEAD for
    bundles); ``history``: :class:`toolkit.load.history.History` (drift is
    skipped without it or with ``drift=False``); ``max_drift_commits``: newest
    commits changing an interface file that are compared with their parent.
    Returns :class:`InterfaceDocs` (definitions in the module docstring).

    The result is cached (:mod:`toolkit.runtime.cache`) on the repository's content at ``rev``, the structure
    tables, the history's head and the arguments: reading thousands of revisions is the slow part.
    """
    from toolkit.runtime import cache

    k = None
    if cache.enabled():
        fc = history.file_changes if history is not None else None
        k = cache.key("interface_docs", cache.repo_state(repo, rev), cache.frame_digest(
            structure.files, structure.imports, structure.call_sites),
            None if history is None else [history.head, len(history.commits), len(fc), history.shallow],
            drift, max_drift_commits, code=(__name__,))
    return cache.cached("analysis", k, lambda own: _interface_docs(structure, repo, history=history, rev=rev,
                                                                   drift=drift, max_drift_commits=max_drift_commits))


def _interface_docs(structure, repo, *, history, rev: str | None, drift: bool, max_drift_commits: int
                    ) -> InterfaceDocs:
    store = _memo_file(repo)
    _load_memos(store)
    mods = _Modules(structure, repo, rev)
    try:
        return _review(structure, mods, history=history, drift=drift, max_drift_commits=max_drift_commits)
    finally:
        if mods.new_work:
            _save_memos(store, mods)


def _review(structure, mods: _Modules, *, history, drift: bool, max_drift_commits: int) -> InterfaceDocs:
    cs = structure.call_sites
    imp = structure.imports

    # ---- which names are used across components --------------------------------------------------------
    uses: dict[str, dict[str, Any]] = {}  # dotted name as written -> {"component", "users", "files", "sites"}

    def use(name: str, comp: str, user: str, path: str, site: bool) -> None:
        u = uses.setdefault(name, {"component": comp, "users": set(), "files": set(), "sites": 0})
        u["users"].add(user)
        u["files"].add(path)
        u["sites"] += int(site)

    cross = cs[cs["caller_component"] != cs["callee_component"]]
    for callee, comp, caller, path in zip(cross["callee"].tolist(), cross["callee_component"].tolist(),
                                         cross["caller_component"].tolist(), cross["path"].tolist()):
        use(callee, comp, caller, path, True)
    m = imp["target_symbol"].notna() & imp["target_component"].notna() & imp["component"].notna()
    m &= imp["component"] != imp["target_component"]
    sel = imp[m.fillna(False)]
    imported: set[str] = set()
    for mod, sym, comp, user, path in zip(sel["target_module"].tolist(), sel["target_symbol"].tolist(),
                                          sel["target_component"].tolist(), sel["component"].tolist(),
                                          sel["path"].tolist()):
        if sym.startswith("_"):
            continue
        name = f"{mod}.{sym}"
        imported.add(name)
        use(name, comp, user, path, False)

    resolved = mods.resolve_all(set(uses))

    # merge names that resolve to the same definition (re-exports), drop imported non-callables
    merged: dict[str, dict[str, Any]] = {}
    for name, u in uses.items():
        final, d = resolved[name]
        if d is None and (name in imported and u["sites"] == 0):
            continue  # an imported constant or module attribute, not a function/class
        if d is not None and not _is_public(d.qualname) and u["sites"] == 0:
            continue
        key = final if d is not None else name
        t = merged.setdefault(key, {"component": u["component"], "users": set(), "files": set(), "sites": 0,
                                    "def": d})
        t["users"] |= u["users"]
        t["files"] |= u["files"]
        t["sites"] += u["sites"]

    # ---- data contracts: classes the annotations name ---------------------------------------------------
    files = structure.files
    contract_comps = set(files.loc[files["kind"].isin(CONTRACT_KINDS) & files["component"].notna(),
                                   "component"].tolist())
    ann_targets: dict[str, set[str]] = {}
    for key, t in merged.items():
        d = t["def"]
        if d is None:
            continue
        mod = mods.split(key)[0]
        md = mods.parsed[mod]
        targets = set()
        for a in d.ann_names:
            head, _, rest = a.partition(".")
            if head in md.bindings:
                targets.add(f"{md.bindings[head]}.{rest}" if rest else md.bindings[head])
            else:
                targets.add(f"{mod}.{a}")
        ann_targets[key] = targets
    ann_resolved = mods.resolve_all(set().union(*ann_targets.values()) if ann_targets else set())

    # ---- the interfaces table ----------------------------------------------------------------------------
    rows = []
    for key, t in sorted(merged.items()):
        d: Definition | None = t["def"]
        sp = mods.split(key)
        mod, qual = sp if sp else (None, key)
        path = mods.path_of.get(mod) if mod else None
        comp = t["component"]
        if d is None:
            rows.append((key, comp, mod, qual, "unresolved", path, None, sorted(t["users"]), t["sites"],
                         False, np.nan, None, None, np.nan, comp in contract_comps, np.nan, False))
            continue
        documented = documented_params(d.doc)
        params = [p for p in d.params]
        p_doc = (sum(p in documented for p in params) / len(params)) if params else np.nan
        returns = True if d.kind == "class" or not d.returns_value else documents_returns(d.doc)
        raises = documents_raises(d.doc) if d.raises else None
        ann = d.annotated / d.annotatable if d.annotatable else np.nan
        contract = d.is_data or comp in contract_comps or any(
            r[1] is not None and r[1].is_data for r in (ann_resolved[x] for x in ann_targets.get(key, ())))
        checks = {"docstring": float(bool(d.doc)), "params": p_doc, "returns": float(returns),
                  "raises": None if raises is None else float(raises), "annotations": ann,
                  "contract": float(contract)}
        full = bool(d.doc) and (not params or p_doc == 1.0) and returns and raises is not False and (
            not d.annotatable or d.annotated == d.annotatable)
        rows.append((key, comp, mod, qual, d.kind, path, d.line, sorted(t["users"]), t["sites"], bool(d.doc),
                     p_doc, returns, raises, ann, contract, _score(checks), full))
    interfaces = pd.DataFrame(rows, columns=["interface", "component", "module", "qualname", "kind", "path", "line",
                                             "used_by", "call_sites", "has_docstring", "params_documented",
                                             "returns_documented", "raises_documented", "annotations_complete",
                                             "data_contract", "score", "fully_documented"])
    interfaces["line"] = interfaces["line"].astype("Int64")
    for c in ("returns_documented", "raises_documented"):
        interfaces[c] = interfaces[c].astype("boolean")

    # ---- drift -------------------------------------------------------------------------------------------
    drift_df = schema.empty("interface_drift")
    examined, capped = 0, False
    if drift and history is not None and len(interfaces):
        drift_df, examined, capped = _drift(interfaces, merged, mods, history, max_drift_commits)
    counts = drift_df.groupby("interface").size() if len(drift_df) else pd.Series(dtype="int64")
    interfaces["drift_events"] = interfaces["interface"].map(counts).fillna(0).astype("int64")
    interfaces = schema.conform(interfaces, "interface_docs")

    # ---- seams -------------------------------------------------------------------------------------------
    seam_rows = []
    for iface, comp, users, score, full, n in zip(interfaces["interface"], interfaces["component"],
                                                  interfaces["used_by"], interfaces["score"],
                                                  interfaces["fully_documented"], interfaces["drift_events"]):
        for u in users:
            seam_rows.append((seam_name(u, comp), u, comp, iface, score, bool(full), int(n)))
    sr = pd.DataFrame(seam_rows, columns=["seam", "caller_component", "callee_component", "interface", "score",
                                          "full", "drift"])
    if len(sr):
        seams = sr.groupby(["seam", "caller_component", "callee_component"], as_index=False).agg(
            interfaces=("interface", "size"), mean_score=("score", "mean"),
            share_fully_documented=("full", "mean"), drift_events=("drift", "sum"))
        seams = seams.sort_values(["mean_score", "seam"], na_position="last", kind="stable").reset_index(drop=True)
    else:
        seams = schema.empty("interface_doc_seams")
    seams = schema.conform(seams, "interface_doc_seams")

    scored = interfaces[interfaces["kind"] != "unresolved"]
    summary = {
        "interfaces": int(len(interfaces)),
        "unresolved": int(len(interfaces) - len(scored)),
        "share_docstring": float(scored["has_docstring"].mean()) if len(scored) else float("nan"),
        "share_fully_documented": float(scored["fully_documented"].mean()) if len(scored) else float("nan"),
        "mean_score": float(scored["score"].mean()) if len(scored) else float("nan"),
        "drift_events": int(len(drift_df)),
        "drift_commits_examined": examined,
        "drift_capped": capped,
        "worst_seams": seams["seam"].head(5).tolist(),
        "weights": dict(WEIGHTS),
    }
    return InterfaceDocs(interfaces=interfaces, seams=seams, drift=drift_df, summary=summary)


#: (commit, path, path before, module, is package) -> ``_SAME`` (no change to compare) or ``{"hdr": def name ->
#: headers equal, "sig": (qualname, kind) -> (description, docstring unchanged) or None}`` for the names asked
#: so far (a revision asking for others reads the file again and adds them).
#: A commit id fixes both versions of the file, and a definition's parse does not depend on which other
#: definitions are asked for, so one process's audit and its backtests at earlier revisions (whose sets of
#: interfaces differ) share these comparisons instead of re-reading and re-parsing the files.
_CHANGE_MEMO: dict[tuple, Any] = {}
_MEMO_LIMIT = 500_000
_SAME = "<same>"  # a string, so the marker survives pickling (toolkit's memo file); compared with ==

#: Both memos also persist per repository (``_memo_file``): the next process — a re-audit after new commits, a
#: backtest run later — reads and parses only what changed. Loaded once per process; saved when an analysis
#: parsed or compared something new, keeping the newest ``_PERSIST_LIMIT`` entries of each.
_LOADED: dict[Path, dict[str, dict]] = {}  # memo file -> what it holds (as loaded or last saved by this process)
_PERSIST_LIMIT = {"modules": 20_000, "changes": 200_000}


def _memo_file(repo) -> Path | None:
    from toolkit.runtime import cache

    if not cache.enabled():
        return None
    version = cache.code_version(__name__)[:16]  # another parser or comparison: another file
    return cache.root() / "interface_docs" / f"{repo.cache_id}-{version}.pkl"


def _load_memos(path: Path | None) -> None:
    if path is None or path in _LOADED:
        return
    _LOADED[path] = {"modules": {}, "changes": {}}
    from toolkit.runtime import cache

    saved = cache.load_pickle(path)  # authenticated by the cache's key; damaged or planted: deleted, None
    try:
        modules, changes = dict(saved["modules"]), dict(saved["changes"])
    except (TypeError, KeyError, ValueError):
        return  # absent or not a memo file: the next save replaces it
    _LOADED[path] = {"modules": modules, "changes": changes}
    for k, v in modules.items():
        _MODULE_MEMO.setdefault(k, v)
    for k, v in changes.items():
        _CHANGE_MEMO.setdefault(k, v)


def _save_memos(path: Path | None, mods: _Modules) -> None:
    """Write what this analysis used after what the file held (newest last, capped), atomically. Another
    process's save in between is overwritten: the file is a cache, and the next run refills what it lacks."""
    if path is None:
        return
    held = _LOADED.setdefault(path, {"modules": {}, "changes": {}})
    old_m, old_c = held["modules"], held["changes"]
    for k in mods.used_modules:
        if k in _MODULE_MEMO:
            old_m.pop(k, None)
            old_m[k] = _MODULE_MEMO[k]
    for k in mods.used_changes:
        if k in _CHANGE_MEMO:
            old_c.pop(k, None)
            old_c[k] = _CHANGE_MEMO[k]
    keep = {"modules": dict(list(old_m.items())[-_PERSIST_LIMIT["modules"]:]),
            "changes": dict(list(old_c.items())[-_PERSIST_LIMIT["changes"]:])}
    _LOADED[path] = keep
    from toolkit.runtime import cache

    cache.dump_pickle(path, keep)  # signed; a read-only or full cache folder is warned about once, not an error


def _read_revisions(mods: _Modules, wanted: dict[str, set[str]]) -> dict[tuple[str, str], bytes]:
    """``(rev, path) -> bytes`` for every wanted file, all revisions through one ``git cat-file --batch``."""
    pairs = [(rev, p) for rev in sorted(wanted) for p in sorted(wanted[rev])]
    return {k: b for k, b in progress(mods.repo.read_blobs(pairs), desc="interface drift", total=len(pairs),
                                      unit="file") if b is not None}


def _drift(interfaces: pd.DataFrame, merged: dict, mods: _Modules, history, max_commits: int):
    ifaces = interfaces[interfaces["kind"] != "unresolved"]
    by_path: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)  # path -> (interface, qual, comp, kind)
    for iface, qual, path, comp, kind in zip(ifaces["interface"], ifaces["qualname"], ifaces["path"],
                                             ifaces["component"], ifaces["kind"]):
        by_path[path].append((iface, qual, comp, kind))
    fc = history.file_changes
    commits = history.commits
    if not len(fc) or not by_path:
        return schema.empty("interface_drift"), 0, False
    followed = follow_renames(fc).to_numpy(dtype=object, na_value=None)
    shas = fc["sha"].to_numpy(dtype=object)
    paths = fc["path"].to_numpy(dtype=object, na_value=None)
    olds = fc["old_path"].to_numpy(dtype=object, na_value=None)
    changed_in: dict[str, set[str]] = defaultdict(set)  # sha -> followed paths it changed
    first_seen: dict[str, str] = {}  # followed path -> oldest sha changing it (file_changes are newest first)
    for s, f in zip(shas, followed):
        changed_in[s].add(f)
        first_seen[f] = s
    order = {s: i for i, s in enumerate(commits["sha"].tolist())}  # newest first
    parent_of = {s: (p[0] if len(p) else None) for s, p in zip(commits["sha"].tolist(), commits["parents"].tolist())}
    linear = not bool(commits["is_merge"].any())

    pairs = [(s, p, o if o else p, f) for s, p, o, f in zip(shas, paths, olds, followed) if f in by_path]
    distinct = sorted({s for s, *_ in pairs}, key=lambda s: order.get(s, len(order)))
    capped = len(distinct) > max_commits
    keep = set(distinct[:max_commits])
    pairs = [x for x in pairs if x[0] in keep and parent_of.get(x[0])]
    # In a history without merges, a file's content before one change is its content after its previous change
    # (every commit's changes are listed), so only the oldest examined change of each file needs its parent read.
    before_src: dict[tuple[str, str], tuple[str, str]] = {}  # (sha, followed) -> (rev, path) holding the "before"
    if linear:
        by_file: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for s, p, before, f in pairs:
            by_file[f].append((s, p, before))
        for f, changes in by_file.items():  # newest first
            for (s, _p, before), (older, older_path, _b) in zip(changes, changes[1:]):
                if older_path == before:
                    before_src[(s, f)] = (older, older_path)
    only_of = {path: frozenset(q for _i, q, _c, _k in lst) for path, lst in by_path.items()}

    def memo_key(s: str, p: str, before: str, head_path: str) -> tuple:
        return (s, p, before, mods.module_of.get(head_path, ""), head_path.endswith("__init__.py"))

    def hdr_key(q: str, k: str) -> str:
        name = q.rsplit(".", 1)[-1]
        return f"class {name}" if k == "class" else name

    def headers_equal(facts: dict, q: str, k: str) -> bool:
        return facts["hdr"].get(hdr_key(q, k)) is True

    def known(mk: tuple, head_path: str) -> bool:
        """Whether the memo answers this change for the file's interfaces without reading it."""
        got = _CHANGE_MEMO.get(mk)
        if got is None:
            return False
        if got == _SAME:
            return True
        candidates = by_path[head_path]
        if all((q, k) in got["sig"] for _i, q, _c, k in candidates):
            return True  # parsed before: every signature change is known
        return all(headers_equal(got, q, k) for _i, q, _c, k in candidates)

    if len(_CHANGE_MEMO) > _MEMO_LIMIT:
        _CHANGE_MEMO.clear()
    keys = [memo_key(s, p, before, f) for s, p, before, f in pairs]
    mods.used_changes.update(keys)
    wanted: dict[str, set[str]] = defaultdict(set)
    for (s, p, before, f), mk in zip(pairs, keys):
        if known(mk, f):
            continue
        wanted[s].add(p)
        rev, path = before_src.get((s, f), (parent_of[s], before))
        wanted[rev].add(path)
    contents = _read_revisions(mods, wanted) if wanted else {}
    if wanted:
        mods.new_work = True

    parsed: dict[tuple[str, bytes], ModuleDefs] = {}
    lines_of: dict[int, list[bytes]] = {}  # id of a version held in ``contents`` -> its lines
    headers: dict[tuple[int, str], list[bytes] | None] = {}  # (id of a version held in ``contents``, name) -> headers

    def headers_of(data: bytes, key: str) -> list[bytes] | None:
        """``def_headers`` (``class_headers`` for a class), once per file version: in a linear history one
        version is the "after" of a change and the "before" of the next (the same object of ``contents``)."""
        k = (id(data), key)
        if k not in headers:
            if key.startswith("class "):
                split = lines_of.get(id(data))
                if split is None:
                    split = lines_of[id(data)] = data.split(b"\n")
                headers[k] = class_headers(data, key[6:], split)
            else:
                headers[k] = def_headers(data, key)
        return headers[k]

    def defs_of(data: bytes, head_path: str) -> ModuleDefs:
        mod = mods.module_of.get(head_path, "")
        key = parse_key(data, head_path)
        if key not in parsed:
            parsed[key] = parse_module(data, mod, head_path.endswith("__init__.py"), only=only_of[head_path])
        return parsed[key]

    def parse_key(data: bytes, head_path: str) -> tuple[str, bytes]:
        return head_path, hashlib.sha1(data).digest()

    def compare(mk: tuple, s: str, p: str, before: str, head_path: str,
                to_parse: dict[tuple[str, bytes], tuple] | None = None) -> None:
        """Fill the memo for this change: whether the interfaces' ``def`` headers are equal, and (unless all
        are) their signature changes. With ``to_parse``, only note there the module versions that need
        parsing (parsed together, in parallel, before the second call fills in the signatures)."""
        after_data = contents.get((s, p))
        before_data = contents.get(before_src.get((s, head_path), (parent_of[s], before)))
        if after_data is None or before_data is None or after_data == before_data:
            _CHANGE_MEMO[mk] = _SAME
            return
        facts = _CHANGE_MEMO.get(mk)
        if facts is None:
            facts = _CHANGE_MEMO[mk] = {"hdr": {}, "sig": {}}
        for _i, q, _c, k in by_path[head_path]:
            key = hdr_key(q, k)
            if key not in facts["hdr"]:
                before_h, after_h = headers_of(before_data, key), headers_of(after_data, key)
                facts["hdr"][key] = before_h is not None and before_h == after_h
            if not facts["hdr"][key]:
                break  # the module is parsed anyway: the other interfaces' headers need no comparing
        candidates = by_path[head_path]
        if all(headers_equal(facts, q, k) for _i, q, _c, k in candidates):
            return  # no signature can have changed: parsing is not needed
        if to_parse is not None:
            if any((q, k) not in facts["sig"] for _i, q, _c, k in candidates):
                mod, pkg = mods.module_of.get(head_path, ""), head_path.endswith("__init__.py")
                for data in (after_data, before_data):
                    key = parse_key(data, head_path)
                    if key not in parsed:
                        to_parse[key] = (key, data, mod, pkg, only_of[head_path])
            return
        after_md = before_md = None
        for _i, q, _c, k in candidates:
            if (q, k) in facts["sig"]:
                continue
            if after_md is None:
                after_md, before_md = defs_of(after_data, head_path), defs_of(before_data, head_path)
            a, b = after_md.defs.get(q), before_md.defs.get(q)
            change = None
            if a is not None and b is not None and a.signature != b.signature:
                change = (describe_change(b.signature, a.signature), a.doc == b.doc)
            facts["sig"][(q, k)] = change

    # headers first; the module versions whose signatures must be compared are then parsed together (each
    # once, in worker processes when there are many: parsing is most of this review's cost)
    to_parse: dict[tuple[str, bytes], tuple] = {}
    for (s, p, before, head_path), mk in zip(pairs, keys):
        if not known(mk, head_path):
            compare(mk, s, p, before, head_path, to_parse)
    parsed.update(map_chunks(parse_versions, list(to_parse.values()), weight=lambda it: len(it[1]),
                             desc="interface drift"))
    rows = []
    for (s, p, before, head_path), mk in progress(list(zip(pairs, keys)), desc="interface drift", unit="change"):
        if not known(mk, head_path):
            compare(mk, s, p, before, head_path)
        facts = _CHANGE_MEMO[mk]
        if facts == _SAME:
            continue
        candidates = by_path[head_path]
        if all(headers_equal(facts, q, k) for _i, q, _c, k in candidates):
            continue
        for iface, qual, comp, k in candidates:
            change = facts["sig"][(qual, k)]
            if change is None:
                continue
            what, same_doc = change
            if same_doc:
                rows.append((iface, comp, s, None, DRIFT_DOC, what))
            existing = sorted(c for c in merged[iface]["files"]
                              if c in first_seen and order.get(first_seen[c], -1) >= order.get(s, 0))
            if existing and not (set(existing) & changed_in[s]):
                rows.append((iface, comp, s, None, DRIFT_CALLERS,
                             f"{what}; not changed: {', '.join(existing)}"))
    df = pd.DataFrame(rows, columns=schema.columns("interface_drift"))
    if len(rows):  # looked up for the rows only: 20k commit times as Timestamp objects cost more than the rest
        when = pd.Series(pd.to_datetime(commits["timestamp"], utc=True).array, index=commits["sha"].astype(str))
        df["timestamp"] = when.reindex(df["sha"].astype(str)).array
    return schema.conform(df, "interface_drift"), len(keep), capped
