"""The coupling graph: components as nodes, seams as edges, with structural, change and bug evidence.

One graph joins what the code says (imports and call sites across a seam),
what the history says (how often two components change in the same commit)
and what the bug tracker says (fixes that touched both sides).

Nodes (one per component)
    ``component`` (str) name; ``size`` (int) files of the component — from the
    ``files`` table when given, else the distinct files the history changed;
    ``churn`` (int) lines added + deleted in the history; ``revisions`` (int)
    commits that changed the component (merges without their own diff excluded).
Edges (one per seam ``caller -> callee``)
    ``seam`` (str) ``"caller->callee"``; ``imports``, ``call_sites``, ``callees``
    (int) from the structure's seam table; ``co_changes`` (int) commits that
    changed both components (either direction, every commit counted);
    ``degree`` (int) code-maat coupling degree of the pair from ``logical``
    (0 when the pair is below its thresholds); ``bugs`` (int) bug issues whose
    fixes touched both components; ``structural`` (bool) False for pairs that
    only change together — hidden dependencies with no import or call — added as
    ``entity -> coupled`` so they are not lost.
"""
from __future__ import annotations

import itertools
import json
from collections import Counter
import os
from pathlib import Path

import networkx as nx
import pandas as pd

from toolkit.vocab.components import PAIR_SEP, ComponentMap, pair_name, seam_name, split_seam
from toolkit.load.history import History, change_components, history_paths

_EDGE_INTS = ("imports", "call_sites", "callees", "co_changes", "degree", "bugs")


def _history_by_component(history: History, components: ComponentMap) -> pd.DataFrame:
    fc = history.file_changes
    df = pd.DataFrame({
        "sha": fc["sha"].to_numpy(),
        "path": history_paths(fc).to_numpy(),
        "component": change_components(fc, components).to_numpy(),
        "churn": (fc["added"].fillna(0) + fc["deleted"].fillna(0)).to_numpy(dtype="int64"),
    })
    return df[df["component"].notna()]


def _bug_pairs(bugs: pd.DataFrame) -> dict[str, int]:
    """Bug counts per unordered pair name from any of the accepted bug tables."""
    out: Counter[str] = Counter()
    if "seam" in bugs.columns or "pair" in bugs.columns:
        col = "seam" if "seam" in bugs.columns else "pair"
        weights = bugs["bugs"] if "bugs" in bugs.columns else pd.Series(1, index=bugs.index)
        for name, w in zip(bugs[col], weights):
            sep = PAIR_SEP if PAIR_SEP in name else "->"
            a, _, b = str(name).partition(sep)
            out[pair_name(a, b)] += int(w)
        return dict(out)
    if {"issue_key", "component"} <= set(bugs.columns):
        for _, comps in bugs.groupby("issue_key")["component"]:
            out.update(pair_name(a, b) for a, b in itertools.combinations(sorted(set(comps.dropna())), 2))
        return dict(out)
    raise ValueError("bugs needs a 'seam' or 'pair' column (optionally 'bugs' counts), "
                     "or the issue_components table (issue_key, component)")


def coupling_graph(
    structure_seams: pd.DataFrame | None,
    logical: pd.DataFrame | None,
    *,
    history: History | None = None,
    components: ComponentMap | None = None,
    bugs: pd.DataFrame | None = None,
    files: pd.DataFrame | None = None,
) -> nx.DiGraph:
    """Build the coupling graph (attributes in the module docstring).

    ``structure_seams``: the seam table (seam, caller_component,
    callee_component, imports, call_sites, callees). ``logical``: component-level
    :func:`toolkit.analyze.change_coupling.logical_coupling`. ``history`` +
    ``components`` give node churn/revisions and edge co_changes. ``bugs``: a
    table with ``seam`` or ``pair`` names (and optional ``bugs`` counts) or the
    ``issue_components`` table of bug issues. ``files``: the ``files`` table, for
    node sizes. Every input is optional; missing evidence is 0.
    """
    g = nx.DiGraph()

    def node(c: str) -> None:
        if c not in g:
            g.add_node(c, component=c, size=0, churn=0, revisions=0)

    def edge(a: str, b: str, structural: bool) -> dict:
        node(a)
        node(b)
        if not g.has_edge(a, b):
            g.add_edge(a, b, seam=seam_name(a, b), structural=structural, **{k: 0 for k in _EDGE_INTS})
        return g.edges[a, b]

    if components is not None:
        for c in components.names:
            node(c)
    if structure_seams is not None:
        for r in structure_seams.itertuples(index=False):
            a, b = r.caller_component, r.callee_component
            if pd.isna(a) or pd.isna(b):
                a, b = split_seam(r.seam)
            e = edge(str(a), str(b), True)
            for k in ("imports", "call_sites", "callees"):
                v = getattr(r, k, 0)
                e[k] += 0 if pd.isna(v) else int(v)

    def edges_of_pair(a: str, b: str) -> list[dict]:
        return [g.edges[x, y] for x, y in ((a, b), (b, a)) if g.has_edge(x, y)]

    if logical is not None:
        for r in logical.itertuples(index=False):
            a, b = str(r.entity), str(r.coupled)
            es = edges_of_pair(a, b) or [edge(a, b, False)]
            for e in es:
                e["degree"] = int(r.degree)

    if history is not None and components is not None:
        df = _history_by_component(history, components)
        for c, grp in df.groupby("component"):
            node(c)
            g.nodes[c]["churn"] = int(grp["churn"].sum())
            g.nodes[c]["revisions"] = int(grp["sha"].nunique())
            g.nodes[c]["size"] = int(grp["path"].nunique())
        per_commit = df.drop_duplicates(["sha", "component"])
        pairs = per_commit.merge(per_commit, on="sha")
        pairs = pairs[pairs["component_x"] < pairs["component_y"]]
        for (a, b), n in pairs.groupby(["component_x", "component_y"]).size().items():
            for e in edges_of_pair(a, b):
                e["co_changes"] = int(n)
    if files is not None:
        prod = files[files["component"].notna() & ~files["is_test"].astype(bool)]
        for c, n in prod.groupby("component").size().items():
            node(c)
            g.nodes[c]["size"] = int(n)
    if bugs is not None:
        for key, n in _bug_pairs(bugs).items():
            a, _, b = key.partition(PAIR_SEP)
            for e in edges_of_pair(a, b):
                e["bugs"] = n
    return g


def to_graphml(g: nx.DiGraph, path: str | os.PathLike) -> Path:
    """Write the graph as GraphML (for Gephi, yEd, Cytoscape); returns the path."""
    path = Path(path)
    nx.write_graphml(g, path)
    return path


def to_node_link_json(g: nx.DiGraph) -> dict:
    """The graph as a JSON-serialisable node-link dict (``nodes``, ``links``), e.g. for d3."""
    data = nx.node_link_data(g, edges="links")
    return json.loads(json.dumps(data, default=int))
