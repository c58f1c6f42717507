"""Static plots for reports, each returned as PNG bytes.

Uses ``matplotlib.figure.Figure`` with an Agg canvas directly, never pyplot:
no global backend switch, no figure registry, no rcParams changes, so calling
these from a notebook leaves its inline backend alone. Labels are untrusted
text; ``$`` is escaped so mathtext never interprets them.
"""
from __future__ import annotations

import io
import math
from typing import Iterable

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from toolkit.vocab.components import seam_name

__all__ = ["COLOURS", "coupling_graph_png", "heatmap_png", "bar_png", "colours_for", "stacked_bar_png",
           "small_multiples_png", "MAX_GRAPH_NODES", "MAX_BARS"]

MAX_GRAPH_NODES = 60  # beyond this a coupling graph stops being readable
MAX_BARS = 40
MAX_HEATMAP = 40
_GOOD, _WARN, _BAD, _NONE = "#2e7d32", "#f0a030", "#c62828", "#9e9e9e"
_RISK = _BAD
_EDGE = "#7a8591"
_NODE = "#4c78a8"

#: The one colour mapping of every chart and the graph widget, per vocabulary (the same word can mean good in one
#: and bad in another: an ``integration`` call site is covered, an ``integration`` bug is the problem). Coverage
#: runs green (exercised for real) → amber (only through mocks) → red (untested): never green for a gap; grey is
#: "nothing to test / unknown". Bug categories and test kinds are kinds, not grades: distinct hues.
COLOURS: dict[str, dict[str, str]] = {
    "coverage": {"integration": _GOOD, "mocks_only": _WARN, "isolation_only": _WARN, "untested": _BAD,
                 "import_only": _NONE, "unknown": _NONE},
    "bug_category": {"integration": "#d1495b", "component": "#4c78a8", "environment": "#8e6bbf",
                     "not_a_bug": "#9e9e9e", "unknown": "#d0d0d0"},
    "test_kind": {"unit": "#9ecae1", "integration": "#3182bd", "e2e": "#08519c"},
    #: the continuous scale good → bad (risk, missing integration coverage), as (position, colour) stops
    "ramp": {"0": _GOOD, "0.5": _WARN, "1": _BAD},
}
_FALLBACK = ["#6baed6", "#fd8d3c", "#9e9ac8", "#bcbd22", "#969696"]


def colours_for(names: Iterable[object], palette: str | None) -> list[str]:
    """The colour of each name in ``palette`` (a key of :data:`COLOURS`; a status's ``_estimated`` suffix is
    ignored); names outside it, or no palette, get neutral hues that carry no good/bad meaning."""
    table = COLOURS[palette] if palette else {}
    out, spare = [], iter(_FALLBACK * 10)
    for name in names:
        key = str(name).lower().removesuffix("_estimated")
        out.append(table.get(key) or next(spare))
    return out


def _t(text: object, limit: int = 40) -> str:
    """Untrusted label -> plain matplotlib text: shortened, ``$`` escaped (no mathtext)."""
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _num(value: object, default: float = 1.0) -> float:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return f if math.isfinite(f) else default


def _empty(ax, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#57606a", fontsize=12, transform=ax.transAxes)


def _select_nodes(g: nx.DiGraph, highlight: set[str], weight: str, limit: int) -> list:
    """Up to ``limit`` nodes: ends of highlighted seams first, then ends of the heaviest edges, then the largest nodes."""
    chosen: dict = {}

    def add(n) -> None:
        if len(chosen) < limit:
            chosen.setdefault(n, None)

    edges = sorted(g.edges(data=True), key=lambda e: (-_num(e[2].get(weight)), str(e[0]), str(e[1])))
    for u, v, _ in edges:
        if seam_name(str(u), str(v)) in highlight:
            add(u)
            add(v)
    for u, v, _ in edges:
        if len(chosen) >= limit:
            break
        if u not in chosen and v not in chosen and len(chosen) + 2 > limit:
            continue
        add(u)
        add(v)
    for n in sorted(g.nodes, key=lambda n: (-_num(g.nodes[n].get("size"), 0.0), str(n))):
        add(n)
    return list(chosen)


def coupling_graph_png(
    g: nx.DiGraph, *, highlight: Iterable[str] = (), weight: str = "call_sites", title: str = ""
) -> bytes:
    """The component coupling graph as PNG: nodes sized by ``size``, seams as arrows as wide as ``weight``
    (missing -> 1), ``highlight``ed seams red. Deterministic (sorted nodes, seeded spring layout). Graphs over
    :data:`MAX_GRAPH_NODES` nodes are cut to the highlighted seams and heaviest edges, and the title says so."""
    highlight = {str(h) for h in highlight}
    total = g.number_of_nodes()
    note = ""
    if total > MAX_GRAPH_NODES:
        keep = _select_nodes(g, highlight, weight, MAX_GRAPH_NODES)
        note = f"top {len(keep)} of {total} components by {weight}"
    else:
        keep = list(g.nodes)
    keep = sorted(keep, key=str)
    sub = nx.DiGraph()
    sub.add_nodes_from((n, g.nodes[n]) for n in keep)
    keep_set = set(keep)
    sub.add_edges_from(sorted(((u, v, d) for u, v, d in g.edges(data=True) if u in keep_set and v in keep_set),
                              key=lambda e: (str(e[0]), str(e[1]))))

    n = sub.number_of_nodes()
    side = 6.0 if n <= 12 else min(14.0, 6.0 + (n - 12) * 0.17)
    fig = Figure(figsize=(side * 1.25, side))
    ax = fig.add_subplot()
    full_title = " — ".join(p for p in (_t(title, 90) if title else "", note) if p)
    if full_title:
        ax.set_title(full_title, fontsize=12)
    if n == 0:
        _empty(ax, "no components")
        return _png(fig)

    und = sub.to_undirected(as_view=False)
    pos = nx.spring_layout(und, seed=7, k=1.8 / math.sqrt(n), iterations=200)
    xy = np.array([pos[v] for v in keep])

    sizes = np.array([max(_num(sub.nodes[v].get("size"), 0.0), 0.0) for v in keep])
    smax = sizes.max() if sizes.size and sizes.max() > 0 else 1.0
    base = 900 if n <= 15 else (500 if n <= 35 else 260)
    area = base * (0.35 + 1.65 * np.sqrt(sizes / smax))  # scatter area in points^2
    radius = dict(zip(keep, np.sqrt(area) / 2.0))  # marker radius in points

    weights = [_num(d.get(weight)) for _, _, d in sub.edges(data=True)]
    wmax = max([*weights, 0.0]) or 1.0  # no edge, or none with a positive weight: 1
    for (u, v, d), w in zip(sub.edges(data=True), weights):
        risky = seam_name(str(u), str(v)) in highlight
        both = sub.has_edge(v, u)
        ax.annotate(
            "",
            xy=pos[v], xytext=pos[u], xycoords="data", textcoords="data",
            arrowprops=dict(
                arrowstyle="-|>", mutation_scale=12,
                lw=0.6 + 4.4 * max(w, 0.0) / wmax,
                color=_RISK if risky else _EDGE, alpha=0.95 if risky else 0.6,
                shrinkA=radius[u] + 1, shrinkB=radius[v] + 2,
                connectionstyle="arc3,rad=0.15" if both else "arc3,rad=0.04",
            ),
            zorder=3 if risky else 1,
        )
    risky_nodes = {x for h in highlight if "->" in h for x in h.split("->", 1)}
    ax.scatter(xy[:, 0], xy[:, 1], s=area, c=[_RISK if str(v) in risky_nodes else _NODE for v in keep],
               edgecolors="white", linewidths=1.2, zorder=4, alpha=0.9)
    fs = 10 if n <= 20 else (8 if n <= 40 else 7)
    for v, (x, y) in zip(keep, xy):
        ax.annotate(_t(v, 28), (x, y), xytext=(0, radius[v] + 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=fs, zorder=5,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
    ax.set_axis_off()
    ax.margins(0.12)
    if highlight & {seam_name(str(u), str(v)) for u, v in sub.edges}:
        ax.text(0.01, 0.01, "red: risky seams", transform=ax.transAxes, color=_RISK, fontsize=9)
    fig.tight_layout()
    return _png(fig)


def heatmap_png(matrix: pd.DataFrame, *, title: str, cmap: str = "Reds", value_label: str = "") -> bytes:
    """A component × component matrix (e.g. bugs per pair) as an annotated heat map; ``value_label`` names what
    a cell counts (on the colour bar). Larger than 40×40, the first 40 rows/columns as given show, and the title
    says so."""
    rows, cols = matrix.shape
    m = matrix.iloc[:MAX_HEATMAP, :MAX_HEATMAP]
    r, c = m.shape
    note = f" (first {r}×{c} of {rows}×{cols})" if (rows, cols) != (r, c) else ""
    fig = Figure(figsize=(max(5.0, 1.2 + 0.45 * c), max(4.0, 1.2 + 0.4 * r)))
    ax = fig.add_subplot()
    ax.set_title(_t(title, 90) + note, fontsize=12)
    if r == 0 or c == 0:
        _empty(ax, "no data")
        return _png(fig)
    vals = m.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    finite = vals[np.isfinite(vals)]
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    im = ax.imshow(np.ma.masked_invalid(vals), cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if value_label:
        bar.set_label(_t(value_label, 40))
    ax.set_xticks(range(c))
    ax.set_xticklabels([_t(x, 24) for x in m.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(r))
    ax.set_yticklabels([_t(x, 24) for x in m.index], fontsize=8)
    fs = 8 if max(r, c) <= 20 else 6
    for i, j in zip(*np.nonzero(np.isfinite(vals) & (vals != 0))):  # row by row, as read
        v = vals[i, j]
        label = f"{int(v)}" if float(v).is_integer() else f"{v:.2g}"
        ax.text(j, i, label, ha="center", va="center", fontsize=fs, color="white" if v > 0.6 * vmax else "black")
    fig.tight_layout()
    return _png(fig)


def _bar_axes(title: str, shown: int, total: int, figsize: tuple[float, float]):
    """A figure for at most :data:`MAX_BARS` bars, its title saying when some were left out."""
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    ax.set_title(_t(title, 90) + (f" (first {shown} of {total})" if total > shown else ""), fontsize=12)
    return fig, ax


def bar_png(series: pd.Series, *, title: str, xlabel: str) -> bytes:
    """Horizontal bars, one per index label, in the order given (first on top); at most 40 bars."""
    s = pd.to_numeric(series.iloc[:MAX_BARS], errors="coerce").fillna(0.0)
    fig, ax = _bar_axes(title, len(s), len(series), (8.0, max(2.5, 0.8 + 0.3 * len(s))))
    if len(s) == 0:
        _empty(ax, "no data")
        return _png(fig)
    ax.barh(np.arange(len(s)), s.to_numpy(dtype=float), color=_NODE)
    _label_barh(fig, ax, s.index, xlabel)
    return _png(fig)


def _label_barh(fig: Figure, ax, labels, xlabel: str) -> None:
    """Label the bars (first at the top), a light x grid, no top/right frame."""
    ax.set_yticks(np.arange(len(labels)))
    ax.set_yticklabels([_t(x, 36) for x in labels], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(_t(xlabel, 80))
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()


def stacked_bar_png(df: pd.DataFrame, *, title: str, xlabel: str, palette: str | None = None) -> bytes:
    """Stacked horizontal bars: one bar per row (e.g. seam), one segment per column (e.g. a status) coloured
    from ``palette``, the columns' vocabulary in :data:`COLOURS`, so a status has one colour everywhere."""
    return _png(_stacked_bar_figure(df, title=title, xlabel=xlabel, palette=palette))


def _stacked_bar_figure(df: pd.DataFrame, *, title: str, xlabel: str, palette: str | None) -> Figure:
    d = df.iloc[:MAX_BARS].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    fig, ax = _bar_axes(title, len(d), len(df), (8.5, max(2.8, 1.0 + 0.3 * len(d))))
    if d.empty:
        _empty(ax, "no data")
        return fig
    y = np.arange(len(d))
    left = np.zeros(len(d))
    for col, colour in zip(d.columns, colours_for(d.columns, palette)):
        vals = d[col].to_numpy(dtype=float)
        ax.barh(y, vals, left=left, color=colour, label=_t(str(col).replace("_", " "), 24))
        left += vals
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)  # beside, never on a bar
    _label_barh(fig, ax, d.index, xlabel)
    return fig


def small_multiples_png(df: pd.DataFrame, *, title: str, labels: Iterable[str] | None = None) -> bytes:
    """One small line chart per column of ``df`` (rows in order: e.g. audits over time), sharing the x axis;
    NaN is a gap, never 0. ``labels``: x tick labels (default: the index). At most 16 panels, 4 per row."""
    cols = list(df.columns)[:16]
    n = max(1, len(cols))
    per_row = min(4, n)
    rows = -(-n // per_row)
    fig = Figure(figsize=(3.2 * per_row, 2.4 * rows + 0.6))
    fig.suptitle(_t(title, 90), fontsize=12)
    ticks = [_t(x, 22) for x in (labels if labels is not None else df.index)]
    x = np.arange(len(df))
    if not cols:
        _empty(fig.add_subplot(), "no metrics")
        return _png(fig)
    for i, col in enumerate(cols):
        ax = fig.add_subplot(rows, per_row, i + 1)
        y = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        ax.plot(x, y, color=_NODE, marker="o", markersize=4, linewidth=1.5)
        ax.set_title(_t(col, 36), fontsize=9)
        if np.isnan(y).all():
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", color="#57606a", fontsize=9,
                    transform=ax.transAxes)
        ax.set_xticks(x)
        ax.set_xticklabels(ticks if len(x) <= 8 else [t if j % max(1, len(x) // 8) == 0 else "" for j, t in
                                                      enumerate(ticks)], fontsize=7, rotation=30, ha="right")
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _png(fig)
