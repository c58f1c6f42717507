"""Cross-component bug analysis: bugs whose fixes had to change more than one component.

A fix that changes two components is direct evidence that the defect lived
between them — the place integration tests should have covered. Counting such
fixes per component pair shows which seams keep breaking.

Definitions
    bugs
        from a :class:`~toolkit.analyze.bug_categorization.BugCategories` (its
        ``bugs`` table) or from an ``issues`` table (then ``type == "bug"`` and
        not a pull request, :func:`~toolkit.analyze.bug_categorization.bug_issues`).
    components of a bug
        the production components its fix commits touched (``issue_components``,
        from :func:`toolkit.load.links.link_issues`).
    crossing bug
        a bug whose fix touched >= 2 components; it counts once for every
        unordered pair of them (:func:`toolkit.vocab.components.pair_name`).
    integration bug
        category ``integration`` when categories are given; otherwise (plain
        issues) a crossing bug.
    share crossing
        crossing bugs / bugs with at least one linked component (bugs without a
        linked fix cannot be placed).
    recurrence
        a pair hit again by a bug created within ``recurrence_months`` (30.44-day
        months) after the previous bug on that pair.
    time to resolve
        resolved − created in days, for integration vs component bugs (with
        categories: categories ``integration`` and ``component``; without:
        crossing vs single-component bugs); open bugs count in ``bugs`` but not in
        the statistics.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import pair_name, split_seam

__all__ = ["CrossComponentBugs", "cross_component_bugs", "bug_overlay"]

_DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class CrossComponentBugs:
    """``matrix``: square symmetric DataFrame component × component of crossing bugs
    (diagonal: bugs whose fix touched only that component). ``pairs``: schema
    ``cross_component_pairs``. ``recurrence``: schema ``bug_recurrence``.
    ``resolve_times``: schema ``bug_resolve_times``. ``summary``: ``bugs``,
    ``placed`` (with linked components), ``crossing``, ``share_crossing``,
    ``recurring_pairs``, ``recurrence_months``, ``grouping`` (``category`` or ``crossing``)."""

    matrix: pd.DataFrame
    pairs: pd.DataFrame
    recurrence: pd.DataFrame
    resolve_times: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _bugs(source: Any) -> tuple[pd.DataFrame, bool]:
    """(key, category-or-NA, created, resolved) per bug and whether categories are known."""
    table = getattr(source, "bugs", source)
    if not isinstance(table, pd.DataFrame):
        raise TypeError("cross_component_bugs expects BugCategories, its bugs table, or an issues table")
    if "category" in table.columns and "type" not in table.columns:
        bugs, categorized = table, True
    else:
        from toolkit.analyze.bug_categorization import bug_issues
        bugs, categorized = bug_issues(table), False
    out = pd.DataFrame({
        "key": bugs["key"].astype(str).to_numpy(),
        "category": bugs["category"].astype(object).to_numpy() if categorized else None,
        "created": pd.to_datetime(bugs["created"], utc=True).to_numpy() if "created" in bugs else pd.NaT,
        "resolved": pd.to_datetime(bugs["resolved"], utc=True).to_numpy() if "resolved" in bugs else pd.NaT,
    })
    for c in ("created", "resolved"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return out, categorized


def cross_component_bugs(
    bug_categories_or_issues: Any,
    issue_components: pd.DataFrame,
    *,
    recurrence_months: int = 6,
) -> CrossComponentBugs:
    """Count bugs per component pair their fixes touched; see the module docstring.

    ``bug_categories_or_issues``: :class:`BugCategories`, its ``bugs`` table
    (schema ``bug_categories``) or an ``issues`` table. ``issue_components``:
    schema ``issue_components``.
    """
    bugs, categorized = _bugs(bug_categories_or_issues)
    keyset = set(bugs["key"])
    comps: dict[str, set[str]] = defaultdict(set)
    if issue_components is not None and len(issue_components):
        for k, c in zip(issue_components["issue_key"].astype(str), issue_components["component"].astype(str)):
            if k in keyset:
                comps[k].add(c)
    bugs["components"] = [sorted(comps.get(k, ())) for k in bugs["key"]]
    bugs["crossing"] = bugs["components"].map(len) >= 2
    bugs["integration"] = bugs["category"].eq("integration") if categorized else bugs["crossing"]
    bugs = bugs.sort_values(["created", "key"], kind="stable", na_position="last").reset_index(drop=True)

    names = sorted({c for cs in bugs["components"] for c in cs})
    at = {c: i for i, c in enumerate(names)}
    counts = np.zeros((len(names), len(names)), dtype="int64")
    rows = []
    for key, cs, integ, created in zip(bugs["key"], bugs["components"], bugs["integration"], bugs["created"]):
        if len(cs) == 1:
            counts[at[cs[0]], at[cs[0]]] += 1
        for a, b in itertools.combinations(cs, 2):
            counts[at[a], at[b]] += 1
            counts[at[b], at[a]] += 1
            rows.append((pair_name(a, b), a, b, key, bool(integ), created))
    matrix = pd.DataFrame(counts, index=pd.Index(names, name="component"),
                          columns=pd.Index(names, name="component"))
    long = pd.DataFrame(rows, columns=["pair", "a", "b", "key", "integration", "created"])

    if long.empty:
        pairs = schema.empty("cross_component_pairs")
    else:
        pairs = (long.groupby(["pair", "a", "b"], sort=False)
                 .agg(bugs=("key", "size"), integration_bugs=("integration", "sum"), keys=("key", list))
                 .reset_index())
        pairs = schema.conform(pairs.sort_values(["bugs", "integration_bugs", "pair"], ascending=[False, False, True])
                               .reset_index(drop=True), "cross_component_pairs")

    recurrence = _recurrence(long, recurrence_months)
    resolve = _resolve_times(bugs, categorized)
    placed = int((bugs["components"].map(len) > 0).sum())
    crossing = int(bugs["crossing"].sum())
    summary = {
        "bugs": int(len(bugs)),
        "placed": placed,
        "crossing": crossing,
        "share_crossing": crossing / placed if placed else float("nan"),
        "recurring_pairs": int(recurrence["pair"].nunique()) if len(recurrence) else 0,
        "recurrence_months": recurrence_months,
        "grouping": "category" if categorized else "crossing",
    }
    return CrossComponentBugs(matrix=matrix, pairs=pairs, recurrence=recurrence, resolve_times=resolve,
                              summary=summary)


def _recurrence(long: pd.DataFrame, months: int) -> pd.DataFrame:
    dated = long.dropna(subset=["created"]).sort_values(["pair", "created", "key"], kind="stable")
    if dated.empty:
        return schema.empty("bug_recurrence")
    limit = pd.Timedelta(days=months * _DAYS_PER_MONTH)
    rows = []
    for pair, g in dated.groupby("pair", sort=True):
        keys, times = g["key"].tolist(), g["created"].tolist()
        for i in range(1, len(keys)):
            gap = times[i] - times[i - 1]
            if gap <= limit:
                rows.append({"pair": pair, "first": keys[i - 1], "again": keys[i], "first_created": times[i - 1],
                             "again_created": times[i], "gap_days": gap / pd.Timedelta(days=1)})
    if not rows:
        return schema.empty("bug_recurrence")
    out = pd.DataFrame(rows)
    for c in ("first_created", "again_created"):
        out[c] = pd.to_datetime(out[c], utc=True)
    return schema.conform(out, "bug_recurrence")


def _resolve_times(bugs: pd.DataFrame, categorized: bool) -> pd.DataFrame:
    groups = ({"integration": bugs["category"].eq("integration"), "component": bugs["category"].eq("component")}
              if categorized else {"integration": bugs["crossing"], "component": bugs["components"].map(len) == 1})
    days = (bugs["resolved"] - bugs["created"]) / pd.Timedelta(days=1)
    rows = []
    for name, mask in groups.items():
        d = days[mask.to_numpy()].dropna()
        rows.append({"group": name, "bugs": int(mask.sum()), "resolved": int(len(d)),
                     "median_days": float(d.median()) if len(d) else np.nan,
                     "mean_days": float(d.mean()) if len(d) else np.nan})
    return schema.conform(pd.DataFrame(rows), "bug_resolve_times")


def bug_overlay(graph: nx.DiGraph, pairs: pd.DataFrame | CrossComponentBugs) -> nx.DiGraph:
    """Set edge attribute ``bugs`` on ``graph`` (seams ``a->b`` between component nodes), in place.

    A pair's bug count goes on every direction present (``a->b`` and ``b->a``);
    edges of pairs without bugs get 0. Pairs with no edge in the graph are not
    added (they are crossing bugs without a static seam; see ``pairs``). Returns
    ``graph``. Node names are components; an edge may also carry ``seam``.
    """
    table: pd.DataFrame = getattr(pairs, "pairs", pairs)
    count = dict(zip(table["pair"].astype(str), table["bugs"].astype(int))) if len(table) else {}
    for u, v, data in graph.edges(data=True):
        if "seam" in data and isinstance(data["seam"], str) and "->" in data["seam"]:
            u, v = split_seam(data["seam"])
        data["bugs"] = int(count.get(pair_name(str(u), str(v)), 0)) if str(u) != str(v) else 0
    return graph

