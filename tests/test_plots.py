"""Static plots: valid PNGs for small and large inputs, untrusted labels never break rendering."""
from __future__ import annotations

import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.viz.plots import (COLOURS, MAX_GRAPH_NODES, _select_nodes, _stacked_bar_figure, bar_png, colours_for,
                               coupling_graph_png, heatmap_png, stacked_bar_png)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width/height from the IHDR chunk, after checking the signature and the chunk CRC."""
    assert data[:8] == PNG_MAGIC
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert zlib.crc32(kind + body) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    return struct.unpack(">II", body[:8])


def check_png(data: bytes) -> tuple[int, int]:
    assert isinstance(data, bytes) and len(data) > 1024
    w, h = png_size(data)
    assert w > 100 and h > 100
    return w, h


def random_graph(n: int, m: int, seed: int = 1) -> nx.DiGraph:
    rng = random.Random(seed)
    g = nx.gnm_random_graph(n, m, seed=seed, directed=True)
    g = nx.relabel_nodes(g, {i: f"pkg{i}" for i in g})
    for v in g:
        g.nodes[v]["size"] = rng.randint(1, 50)
    for u, v in g.edges:
        g.edges[u, v]["call_sites"] = rng.randint(1, 30)
    return nx.DiGraph(g)


def test_coupling_graph_small_with_highlight_and_dollar_labels():
    g = nx.DiGraph()
    g.add_node("$orders$", size=10)
    g.add_node("pay$ments", size=3)
    g.add_node("ship", size=0)
    g.add_edge("$orders$", "pay$ments", call_sites=12)
    g.add_edge("pay$ments", "$orders$", call_sites=1)
    g.add_edge("ship", "$orders$")  # no weight: drawn with width 1
    check_png(coupling_graph_png(g, highlight={"$orders$->pay$ments"}, title="$\\frac{1}{0}$ coupling"))


def test_coupling_graph_is_deterministic_regardless_of_insertion_order():
    g = random_graph(25, 60)
    h = nx.DiGraph()
    h.add_nodes_from(reversed(list(g.nodes(data=True))))
    h.add_edges_from(reversed(list(g.edges(data=True))))
    assert coupling_graph_png(g, highlight={"pkg1->pkg2"}) == coupling_graph_png(h, highlight={"pkg1->pkg2"})


def test_coupling_graph_200_nodes_is_cut_to_top_n():
    g = random_graph(200, 600)
    u, v = "pkg199", "pkg198"
    g.add_edge(u, v, call_sites=0)  # a light seam that is highlighted must survive the cut
    keep = _select_nodes(g, {f"{u}->{v}"}, "call_sites", MAX_GRAPH_NODES)
    assert len(keep) == MAX_GRAPH_NODES and u in keep and v in keep
    heaviest = max(g.edges(data=True), key=lambda e: e[2]["call_sites"])
    assert heaviest[0] in keep and heaviest[1] in keep
    w, h = check_png(coupling_graph_png(g, highlight={f"{u}->{v}"}))
    assert w <= 2000 and h <= 1500


def test_coupling_graph_empty_and_isolated():
    check_png(coupling_graph_png(nx.DiGraph(), title="nothing"))
    g = nx.DiGraph()
    g.add_node("only")
    check_png(coupling_graph_png(g))


def test_heatmap_bar_and_stacked():
    names = ["orders", "pay$ments", "<script>", "ship"]
    m = pd.DataFrame(np.arange(16).reshape(4, 4), index=names, columns=names)
    m.iloc[0, 1] = np.nan
    check_png(heatmap_png(m, title="bugs per $pair$"))
    big = pd.DataFrame(np.ones((60, 60)), index=[f"c{i}" for i in range(60)], columns=[f"c{i}" for i in range(60)])
    check_png(heatmap_png(big, title="big", cmap="Blues"))
    check_png(heatmap_png(pd.DataFrame(), title="empty"))
    check_png(bar_png(pd.Series([3, 1, np.nan], index=["a$", "b", "c"]), title="t$", xlabel="$x"))
    check_png(bar_png(pd.Series(range(100), index=[f"s{i}" for i in range(100)]), title="many", xlabel="n"))
    check_png(bar_png(pd.Series([], dtype=float), title="none", xlabel="n"))
    pyramid = pd.DataFrame({"unit": [10, 3], "integration": [2, 0], "e2e": [1, 1]}, index=["orders", "$pay"])
    check_png(stacked_bar_png(pyramid, title="test pyramid", xlabel="tests", palette="test_kind"))
    check_png(stacked_bar_png(pyramid.iloc[:0], title="empty", xlabel="tests"))


def test_plots_do_not_touch_pyplot_or_global_state():
    # in a fresh interpreter: a notebook's backend/rcParams must be left as they were
    # (dict.__getitem__: reading rcParams['backend'] normally would itself import pyplot)
    code = (
        "import sys, matplotlib, networkx as nx, pandas as pd\n"
        "from toolkit.viz.plots import coupling_graph_png, bar_png\n"
        "rc = {k: dict.__getitem__(matplotlib.rcParams, k) for k in matplotlib.rcParams}\n"
        "g = nx.DiGraph(); g.add_edge('a', 'b', call_sites=2)\n"
        "coupling_graph_png(g); bar_png(pd.Series([1, 2]), title='t', xlabel='x')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "assert {k: dict.__getitem__(matplotlib.rcParams, k) for k in matplotlib.rcParams} == rc\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr


# ---- one colour mapping; axes say what they count ------------------------------------------------------------------
def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _hue(rgb: np.ndarray) -> str:
    """'green', 'red', 'amber' or 'other' by the dominant channel (enough to tell good from bad)."""
    r, g, b = rgb
    if g > r + 30 and g > b + 30:
        return "green"
    if r > g + 60 and r > b + 60:
        return "red" if g < 120 else "amber"
    return "other"


def test_coverage_statuses_run_green_amber_red_and_untested_is_never_green():
    cov = COLOURS["coverage"]
    assert _hue(_rgb(cov["integration"])) == "green"
    assert _hue(_rgb(cov["mocks_only"])) == _hue(_rgb(cov["isolation_only"])) == "amber"
    assert _hue(_rgb(cov["untested"])) == "red"
    # the static estimate's statuses take their base status's colour
    assert colours_for(["untested_estimated", "integration_estimated"], "coverage") == [cov["untested"],
                                                                                      cov["integration"]]
    # an 'integration' bug is the problem, not the good news: not green, and not the coverage colour
    assert _hue(_rgb(COLOURS["bug_category"]["integration"])) != "green"
    # names outside the palette (or no palette) never borrow a status colour
    spare = colours_for(["a", "b", "c"], None)
    assert not set(spare) & set(cov.values()) and len(set(spare)) == 3


def test_untested_segments_are_drawn_red_in_the_picture():
    import matplotlib.image as mpimg
    import io

    df = pd.DataFrame({"integration": [0, 0], "isolation_only": [0, 0], "untested": [5, 3]}, index=["a->b", "b->c"])
    img = mpimg.imread(io.BytesIO(stacked_bar_png(df, title="t", xlabel="call sites", palette="coverage")))
    px = (img[..., :3].reshape(-1, 3) * 255).round()
    near = lambda c: (np.abs(px - _rgb(c)).sum(axis=1) < 12).sum()  # noqa: E731
    assert near(COLOURS["coverage"]["untested"]) > 500  # the bars
    assert near(COLOURS["coverage"]["integration"]) < 200  # only its legend swatch, no bar


def test_axis_says_what_the_bars_count():
    df = pd.DataFrame({"integration": [2], "component": [1]}, index=["2024Q1"])
    fig = _stacked_bar_figure(df, title="Bugs per quarter", xlabel="bugs", palette="bug_category")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "bugs"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["integration", "component"]
    colours = [tuple(round(c * 255) for c in p.get_facecolor()[:3]) for p in ax.patches]
    assert colours == [tuple(_rgb(COLOURS["bug_category"][k]).astype(int)) for k in ("integration", "component")]
