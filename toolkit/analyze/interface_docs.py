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

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.analyze.interface_drift import describe_change, documented_params, documents_raises, documents_returns
from toolkit.vocab.components import seam_name
from toolkit.load.definitions import Definition, DefinitionChanges, ModuleDefs, module_paths
from toolkit.load.history import History, follow_renames

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


class _Modules:
    """Module name -> path of the analysed revision, and the parsed modules (:func:`load_definitions`)."""

    def __init__(self, structure, definitions: Mapping[str, ModuleDefs]) -> None:
        self.path_of = module_paths(structure.files)
        self.parsed = definitions

    def split(self, dotted: str) -> tuple[str, str] | None:
        """``(module, qualname)`` for a dotted name, by the longest module prefix of the repository."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            mod = ".".join(parts[:i])
            if mod in self.path_of:
                return mod, ".".join(parts[i:])
        return None

    def resolve(self, dotted: str) -> tuple[str, Definition | None]:
        """Follow import re-exports to the defining module."""
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


def _score(checks: dict[str, float | None]) -> float:
    """The :data:`WEIGHTS`-weighted mean of the applicable checks (not None, not NaN)."""
    known = {k: float(v) for k, v in checks.items() if v is not None and not np.isnan(v)}
    den = sum(WEIGHTS[k] for k in known)
    return sum(WEIGHTS[k] * v for k, v in known.items()) / den if den else float("nan")


def _is_public(qual: str) -> bool:
    return not any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in qual.split("."))


def interface_docs(
    structure,
    definitions: Mapping[str, ModuleDefs],
    *,
    history: History | None = None,
    changes: DefinitionChanges | None = None,
) -> InterfaceDocs:
    """Review the documentation of every interface used across components, and its drift in git history.

    ``structure``: :class:`toolkit.load.structure.Structure`; ``definitions``: its modules' definitions at the
    same revision (:func:`toolkit.load.definitions.load_definitions`); ``changes``: how the interfaces'
    signatures changed (:func:`toolkit.load.definitions.load_definition_changes` for :func:`drift_targets` of a
    review without them) and ``history`` they come from — drift is skipped without both. Returns
    :class:`InterfaceDocs` (definitions in the module docstring).
    """
    mods = _Modules(structure, definitions)
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

    resolved = {name: mods.resolve(name) for name in uses}

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
    ann_resolved = {name: mods.resolve(name) for name in set().union(*ann_targets.values())}

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
        params = list(d.params)
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

    # ---- drift -------------------------------------------------------------------------------------------
    drift_df = schema.empty("interface_drift")
    examined, capped = 0, False
    if changes is not None and history is not None and len(interfaces):
        drift_df = _drift(interfaces, merged, history, changes)
        examined, capped = changes.examined, changes.capped
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


def drift_targets(interfaces: pd.DataFrame) -> dict[str, list[str]]:
    """Path -> qualnames of the interfaces (``interfaces`` table) whose drift is reviewed: the defined ones."""
    out: dict[str, list[str]] = defaultdict(list)
    sel = interfaces[interfaces["kind"] != "unresolved"]
    for path, qual in dict.fromkeys(zip(sel["path"].tolist(), sel["qualname"].tolist())):
        out[path].append(qual)
    return dict(out)


def _drift(interfaces: pd.DataFrame, merged: dict, history: History, changes: DefinitionChanges) -> pd.DataFrame:
    """The drift table: a row per interface whose signature a commit changed with its docstring unchanged, and
    one when none of its callers' files in other components (those that existed then) changed in that commit."""
    ifaces = interfaces[interfaces["kind"] != "unresolved"]
    by_def: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (path, qualname) -> (interface, comp)
    for iface, qual, path, comp in zip(ifaces["interface"], ifaces["qualname"], ifaces["path"], ifaces["component"]):
        by_def[(path, qual)].append((iface, comp))
    ch = changes.changes
    fc, commits = history.file_changes, history.commits
    if not len(ch) or not len(fc):
        return schema.empty("interface_drift")
    followed = follow_renames(fc).to_numpy(dtype=object, na_value=None)
    changed_in: dict[str, set[str]] = defaultdict(set)  # sha -> followed paths it changed
    first_seen: dict[str, str] = {}  # followed path -> oldest sha changing it (file_changes are newest first)
    for s, f in zip(fc["sha"].to_numpy(dtype=object), followed):
        changed_in[s].add(f)
        first_seen[f] = s
    order = {s: i for i, s in enumerate(commits["sha"].tolist())}  # newest first
    rows = []
    for s, path, qual, before, after, same_doc in ch.itertuples(index=False):
        what = describe_change(before, after)
        for iface, comp in by_def.get((path, qual), ()):
            if same_doc:
                rows.append((iface, comp, s, None, DRIFT_DOC, what))
            existing = sorted(c for c in merged[iface]["files"]
                              if c in first_seen and order.get(first_seen[c], -1) >= order.get(s, 0))
            if existing and not (set(existing) & changed_in[s]):
                rows.append((iface, comp, s, None, DRIFT_CALLERS, f"{what}; not changed: {', '.join(existing)}"))
    df = pd.DataFrame(rows, columns=schema.columns("interface_drift"))
    if len(rows):  # looked up for the rows only: 20k commit times as Timestamp objects cost more than the rest
        when = pd.Series(pd.to_datetime(commits["timestamp"], utc=True).array, index=commits["sha"].astype(str))
        df["timestamp"] = when.reindex(df["sha"].astype(str)).array
    return schema.conform(df, "interface_drift")
