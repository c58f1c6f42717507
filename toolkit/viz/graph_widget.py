"""Interactive coupling graph for the notebooks: components as nodes, seams as edges.

The graph is :func:`toolkit.analyze.coupling_graph.coupling_graph`'s DiGraph as
:attr:`toolkit.core.findings.Findings.graph` enriches it (risk, integration coverage, the interaction-coverage
numbers, the service-seam overlay).

The widget is an anywidget module (``graph_widget.js``/``.css`` next to this file, no CDN): positions are computed
here once, the browser draws on one ``<canvas>`` so thousands of nodes stay responsive, and a click sends the
selection back (trait ``selected``); Python answers with the details (trait ``detail``) from the ``details``
argument. The legend uses the ramp of :data:`toolkit.viz.plots.COLOURS`, the one mapping every chart uses.

Static exports (nbconvert to HTML, a notebook viewer) have no kernel and, offline, no widget JavaScript: the
widget is displayed with a second output holding a PNG of the same graph, legend included, which the live
view hides (see :meth:`CouplingGraphWidget._ipython_display_`).

The widget computes nothing about the system under study; it only draws the
attributes it is given.
"""
from __future__ import annotations

import base64
import io
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import networkx as nx
import pandas as pd
import traitlets

from toolkit.viz.plots import COLOURS
from toolkit.vocab.components import seam_name

_HERE = Path(__file__).parent
log = logging.getLogger(__name__)

EDGE_KINDS: dict[str, str] = {"imports": "imports", "call sites": "call_sites", "co-change": "co_changes", "bugs": "bugs",
                              "service calls": "service_calls"}
COLOR_BY = ("risk", "integration_coverage")
#: the colour scale, good (0) → bad (1), as [position, "#rrggbb"] stops: the JavaScript and the PNG draw with these
RAMP: list[list[Any]] = [[float(t), c] for t, c in COLOURS["ramp"].items()]
NO_DATA = COLOURS["coverage"]["unknown"]
#: class of the static picture shown where the widget cannot run (the live view hides its own, by ``static_id``)
STATIC_CLASS = "ss-graph-static"
SIZE_BY = ("churn", "bugs")
SPRING_MAX_NODES = 500

Details = Callable[[str], Mapping[str, Any]] | Mapping[str, Mapping[str, Any]] | None


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars, NaN, tuples, sets and paths turned into plain JSON values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [json_safe(v) for v in items]
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, int):
        return value
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    return None if value is pd.NA or value is pd.NaT else str(value)


def layout(graph: nx.Graph, seed: int = 42) -> dict[str, tuple[float, float]]:
    """Deterministic node positions scaled to [0, 1] x [0, 1] (ids as str).

    Up to :data:`SPRING_MAX_NODES` nodes: ``spring_layout`` with 50 iterations.
    Larger graphs start from the (fast, global) spectral layout and refine it with
    a few spring iterations, fewer the larger the graph, so 2,000 nodes take ~1 s.
    """
    n = graph.number_of_nodes()
    if n == 0:
        return {}
    if n == 1:
        return {str(next(iter(graph.nodes))): (0.5, 0.5)}
    und = graph.to_undirected(as_view=True)
    if n <= SPRING_MAX_NODES:
        pos = nx.spring_layout(und, seed=seed, iterations=50)
    else:
        start = nx.spectral_layout(und) if nx.is_connected(und) else nx.random_layout(und, seed=seed)
        pos = nx.spring_layout(und, pos=start, seed=seed, iterations=max(5, int(25 * SPRING_MAX_NODES / n)))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx, dy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    return {str(k): (float((p[0] - x0) / dx), float(1 - (p[1] - y0) / dy)) for k, p in pos.items()}


def edge_id(u: Any, v: Any, data: Mapping[str, Any]) -> str:
    """The id an edge is selected by: its ``seam`` attribute, else ``"u->v"``."""
    return str(data.get("seam") or seam_name(str(u), str(v)))


class CouplingGraphWidget(anywidget.AnyWidget):
    """Canvas-drawn coupling graph with filters and a details side panel.

    ``details``: a callable ``details(id) -> dict`` or a mapping ``{id: dict}``
    giving, for a node (component name) or an edge (seam ``"a->b"``), JSON-safe
    sections shown in the side panel, e.g. ``{"call_sites": [{"path":..., "line":..., "callee":...}],
    "tests": [{"test_id":..., "exercises": "real"|"mocked"}], "bugs": [{"key":..., "title":...}]}``.
    Lists of dicts are shown as tables (``path`` + ``line`` as ``path:line``).
    """

    _esm = _HERE / "graph_widget.js"
    _css = _HERE / "graph_widget.css"

    nodes = traitlets.List().tag(sync=True)
    edges = traitlets.List().tag(sync=True)
    edge_kinds = traitlets.Dict().tag(sync=True)
    edge_kind = traitlets.Unicode("call_sites").tag(sync=True)
    threshold = traitlets.Float(0.0).tag(sync=True)
    color_by = traitlets.Unicode("risk").tag(sync=True)
    size_by = traitlets.Unicode("churn").tag(sync=True)
    search = traitlets.Unicode("").tag(sync=True)
    selected = traitlets.Dict().tag(sync=True)
    detail = traitlets.Dict().tag(sync=True)
    height = traitlets.Int(560).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    ramp = traitlets.List(RAMP).tag(sync=True)
    no_data = traitlets.Unicode(NO_DATA).tag(sync=True)
    scale_labels = traitlets.Dict().tag(sync=True)
    static_id = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        graph: nx.DiGraph,
        *,
        details: Details = None,
        edge_kind: str = "call_sites",
        threshold: float = 0.0,
        color_by: str = "risk",
        size_by: str = "churn",
        height: int = 560,
        title: str = "",
        seed: int = 42,
        **kwargs: Any,
    ) -> None:
        for name, value, allowed in (("edge_kind", edge_kind, tuple(EDGE_KINDS.values())),
                                     ("color_by", color_by, COLOR_BY), ("size_by", size_by, SIZE_BY)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {list(allowed)}, not {value!r}")
        self._graph = graph
        self._details = details
        self._pos = layout(graph, seed=seed)
        self._edge_index: dict[str, tuple[Any, Any]] = {}
        nodes = [{"id": str(n), "label": str(data.get("component", n)), "x": self._pos[str(n)][0],
                  "y": self._pos[str(n)][1], "attrs": _scalars(data)} for n, data in graph.nodes(data=True)]
        edges = []
        for u, v, data in graph.edges(data=True):
            eid = edge_id(u, v, data)
            self._edge_index[eid] = (u, v)
            edges.append({"id": eid, "source": str(u), "target": str(v), "attrs": _scalars(data)})
        super().__init__(
            nodes=nodes, edges=edges, edge_kinds=EDGE_KINDS, edge_kind=edge_kind, threshold=float(threshold),
            color_by=color_by, size_by=size_by, height=height, title=title,
            scale_labels={k: {"low": lo, "high": hi, "reversed": k in SCALE_REVERSED} for k, (lo, hi) in SCALE_LABELS.items()},
            static_id=secrets.token_hex(8), **kwargs,
        )

    # -- selection → details -------------------------------------------------
    def select(self, ident: str | None, kind: str | None = None) -> None:
        """Select a node (component) or an edge (seam ``"a->b"``) as if clicked; None clears."""
        kind = kind or ("node" if ident in self._pos else "edge")
        self.selected = {} if ident is None else {"kind": kind, "id": ident}

    @traitlets.observe("selected")
    def _on_selected(self, change: dict) -> None:
        sel = change["new"] or {}
        self.detail = self.details_for(sel.get("kind"), sel.get("id")) if sel.get("id") else {}

    def details_for(self, kind: str | None, ident: str) -> dict:
        """What the side panel shows for a node or an edge (also handy outside the widget)."""
        if kind == "node":
            if ident not in self._pos:
                return {"kind": "node", "id": ident, "error": f"no component {ident!r} in the graph"}
            node = next(n for n in self._graph.nodes if str(n) == ident)
            attrs = dict(self._graph.nodes[node])
            title = str(attrs.get("component", ident))
        elif kind == "edge":
            if ident not in self._edge_index:
                return {"kind": "edge", "id": ident, "error": f"no seam {ident!r} in the graph"}
            u, v = self._edge_index[ident]
            attrs = dict(self._graph.edges[u, v])
            title = ident
        else:
            return {"error": f"unknown selection kind {kind!r}"}
        out: dict[str, Any] = {"kind": kind, "id": ident, "title": title, "attributes": _scalars(attrs)}
        if self._details is None:
            return out
        try:
            extra = self._details(ident) if callable(self._details) else self._details.get(ident, {})
        except Exception as exc:  # shown in the panel and logged: a failing callback must not kill the widget
            log.exception("details(%r) failed", ident)
            out["error"] = f"details({ident!r}) raised {type(exc).__name__}: {exc}"
            return out
        if extra:
            out["sections"] = json_safe(dict(extra))
        return out

    # -- static fallback -------------------------------------------------------
    def to_png(self, *, dpi: int = 110) -> bytes:
        """The graph as it is currently filtered, as a PNG (for exports without a kernel)."""
        # Not toolkit.viz.plots.coupling_graph_png: that one lays the graph out on its own; this picture
        # must match what the widget shows (same positions, filter and encodings).
        return _graph_png(self._graph, self._pos, edge_attr=self.edge_kind, threshold=self.threshold,
                          color_by=self.color_by, size_by=self.size_by, dpi=dpi)

    def _summary(self) -> str:
        return (f"<CouplingGraphWidget: {len(self.nodes)} components, {len(self.edges)} seams; "
                f"edges by {self.edge_kind} >= {self.threshold:g}>")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | tuple:
        """The widget view, with the PNG and a line of text for front ends that cannot show widgets."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data or {})
        data["image/png"] = base64.b64encode(self.to_png()).decode("ascii")
        data["text/plain"] = self._summary()
        return (data, meta) if meta else data

    def static_html(self) -> str:
        """The graph as an ``<img>`` (PNG, legend included) in a block a live view of this widget hides."""
        png = base64.b64encode(self.to_png()).decode("ascii")
        alt = f"coupling graph: {len(self.nodes)} components, {len(self.edges)} seams (static picture)"
        return (f'<div class="{STATIC_CLASS}" data-ss-static="{self.static_id}"><img src="data:image/png;base64,{png}" alt="{alt}" '
                f'style="max-width:100%"><div style="color:#666;font-size:12px">Static picture of the coupling '
                f'graph: run the notebook to explore it (filters, details per component and seam).</div></div>')

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Two outputs: the widget (view + text) and its static picture.

        nbconvert and notebook viewers pick the widget view whenever the notebook carries widget state (papermill
        and nbclient save it), and without the widget JavaScript (offline, or no kernel) that cell stays empty:
        the bundle's PNG is never considered. The picture therefore travels as an output of its own, tagged with
        ``static_id``; a live view adds a style rule hiding exactly that picture (and its output row), so a static
        export or a reopened notebook without a kernel shows the picture, and a running one only the widget.
        """
        from IPython.display import display

        bundle = self._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = {k: v for k, v in data.items() if k != "image/png"}  # the picture is the next output
        display(data, metadata=meta, raw=True)
        display({"text/html": self.static_html(), "text/plain": self._summary()}, raw=True)


def _scalars(attrs: Mapping[str, Any]) -> Any:
    """The attributes holding one value (no list or table), JSON-safe: what the browser is sent."""
    return json_safe({k: v for k, v in attrs.items() if v is None or isinstance(v, (str, int, float, bool))
                      or (hasattr(v, "item") and not hasattr(v, "__len__"))})


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _graph_png(graph: nx.DiGraph, pos: Mapping[str, tuple[float, float]], *, edge_attr: str, threshold: float,
               color_by: str, size_by: str, dpi: int = 110) -> bytes:
    """Matplotlib picture of the graph with the widget's encodings (Agg, no display needed)."""
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 6), dpi=dpi)
    ax = fig.add_subplot()
    ax.set_axis_off()
    segs, widths = [], []
    vals = [_num(d.get(edge_attr)) or 0.0 for _, _, d in graph.edges(data=True)]
    vmax = max(vals, default=0.0) or 1.0
    for (u, v, d), val in zip(graph.edges(data=True), vals):
        if val > 0 and val >= threshold:
            segs.append([pos[str(u)], pos[str(v)]])
            widths.append(0.5 + 3 * val / vmax)
    if segs:
        ax.add_collection(LineCollection(segs, linewidths=widths, colors="#8899aa", alpha=0.6, zorder=1))
    nodes = list(graph.nodes(data=True))
    xy = [pos[str(n)] for n, _ in nodes]
    sizes_raw = [_num(d.get(size_by)) or 0.0 for _, d in nodes]
    smax = max(sizes_raw, default=0.0) or 1.0
    sizes = [20 + 300 * math.sqrt(s / smax) for s in sizes_raw]
    rmax = max((_num(d.get("risk")) or 0.0 for _, d in nodes), default=1.0)
    colors = [_badness_color(_num(d.get(color_by)), color_by, rmax) for _, d in nodes]
    if xy:
        ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=sizes, c=colors, edgecolors="#333333",
                   linewidths=0.5, zorder=2)
    notes = _png_legend(fig, ax, color_by=color_by, size_by=size_by, edge_attr=edge_attr, smax=smax, vmax=vmax,
                        risk_max=rmax, unknown=sum(1 for _, d in nodes if _num(d.get(color_by)) is None))
    if len(nodes) <= 60:
        for (n, d), (x, y) in zip(nodes, xy):
            ax.annotate(str(d.get("component", n)), (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_title(f"coupling graph — edges: {edge_attr} ≥ {threshold:g}, colour: {color_by}, size: {size_by}\n"
                 + notes, fontsize=9)
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


#: what each colouring means at its two ends, for the legend (JavaScript: the same words)
SCALE_LABELS = {"risk": ("risk: 0 (low)", "1 (the riskiest seam)"),
                "integration_coverage": ("integration coverage: 0% (none)", "100% of call sites")}
SCALE_REVERSED = {"integration_coverage"}  # high is good: the ramp runs red → green


def _png_legend(fig, ax, *, color_by: str, size_by: str, edge_attr: str, smax: float, vmax: float,
                risk_max: float, unknown: int) -> str:
    """A colour bar with the scale of ``color_by``; returns the line saying what grey, size and width mean."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    cmap = LinearSegmentedColormap.from_list("seamscope", [(t, c) for t, c in RAMP])
    if color_by in SCALE_REVERSED:
        cmap = cmap.reversed()
        norm, label = Normalize(0, 100), "integration coverage of the component's call sites (%)"
    else:
        top = risk_max if risk_max > 1 else 1.0
        norm, label = Normalize(0, top), "risk (riskiest seam's score ÷ the top seam's)"
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal", fraction=0.04,
                       pad=0.02, aspect=40)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    notes = [f"grey: no {color_by.replace('_', ' ')} ({unknown} component{'s' if unknown != 1 else ''})"
             if unknown else "", f"node size: {size_by} (largest {smax:g})",
             f"edge width: {edge_attr.replace('_', ' ')} (widest {vmax:g}); arrow: caller → callee"]
    return " · ".join(n for n in notes if n)


def _badness_color(value: float | None, color_by: str, risk_max: float) -> str:
    if value is None:
        return NO_DATA
    if color_by == "integration_coverage":
        t = 1.0 - max(0.0, min(1.0, value))
    else:  # risk in [0, 1], or any non-negative scale normalised by its maximum
        t = value / risk_max if risk_max > 1 else max(0.0, min(1.0, value))
    return _ramp(t)


def _ramp(t: float) -> str:
    """Green (good) → amber → red (bad) along :data:`RAMP`; graph_widget.js interpolates the same stops."""
    stops = [(float(p), tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))) for p, c in RAMP]
    t = max(0.0, min(1.0, t))
    for (t0, c0), (t1, c1) in zip(stops, stops[1:]):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return "#%02x%02x%02x" % tuple(round(a + (b - a) * f) for a, b in zip(c0, c1))
    return RAMP[-1][1]
