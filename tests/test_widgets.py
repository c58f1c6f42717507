"""The coupling-graph and bug-review widgets, driven from Python (the browser side is tests/browser/)."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.load.labels import backup_path, read_labels, save_label
from toolkit.viz.graph_widget import CouplingGraphWidget, json_safe, layout
from toolkit.viz.review_widget import BugReviewWidget, _shortcuts

VIZ = Path(__file__).resolve().parents[1] / "toolkit" / "viz"


def small_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, churn, risk, cov in [("orders", 120, 0.9, 0.2), ("payments", 80, 0.4, 0.7), ("catalog", 10, None, None)]:
        attrs = {"component": name, "size": 3, "churn": churn, "revisions": 4, "bugs": 1}
        if risk is not None:
            attrs.update(risk=risk, integration_coverage=cov)
        g.add_node(name, **attrs)
    g.add_edge("orders", "payments", seam="orders->payments", imports=2, call_sites=5, co_changes=7, degree=60, bugs=2)
    g.add_edge("orders", "catalog", seam="orders->catalog", imports=1, call_sites=0, co_changes=1, degree=0, bugs=0)
    return g


def details(ident: str) -> dict:
    if ident == "orders":
        return {"call_sites": [{"path": "shop/orders/service.py", "line": 42, "callee": "shop.payments.charge"}],
                "tests": [{"test_id": "tests/test_checkout.py::test_pay", "exercises": "mocked"}],
                "bugs": [{"key": "SHOP-7", "title": "<script>alert(1)</script>"}]}
    if ident == "boom":
        raise RuntimeError("database gone")
    return {}


def test_graph_widget_sends_nodes_edges_and_positions():
    w = CouplingGraphWidget(small_graph(), details=details)
    assert {n["id"] for n in w.nodes} == {"orders", "payments", "catalog"}
    assert all(0.0 <= n["x"] <= 1.0 and 0.0 <= n["y"] <= 1.0 for n in w.nodes)
    e = {x["id"]: x for x in w.edges}
    assert e["orders->payments"]["attrs"]["call_sites"] == 5
    assert next(n for n in w.nodes if n["id"] == "catalog")["attrs"].get("risk") is None
    assert set(w.edge_kinds.values()) == {"imports", "call_sites", "co_changes", "bugs", "service_calls"}
    assert w.edge_kinds["service calls"] == "service_calls"
    assert CouplingGraphWidget(small_graph(), edge_kind="service_calls").edge_kind == "service_calls"


def test_selection_answers_with_details():
    w = CouplingGraphWidget(small_graph(), details=details)
    w.selected = {"kind": "node", "id": "orders"}  # what a click in the browser sets
    assert w.detail["title"] == "orders"
    assert w.detail["sections"]["call_sites"][0]["line"] == 42
    assert w.detail["attributes"]["churn"] == 120
    w.select("orders->payments")
    assert w.detail["kind"] == "edge" and w.detail["attributes"]["co_changes"] == 7
    assert "sections" not in w.detail  # details() returned nothing for the seam
    w.select(None)
    assert w.detail == {}


def test_details_as_mapping_and_unknown_ids():
    w = CouplingGraphWidget(small_graph(), details={"payments": {"bugs": ["SHOP-1"]}})
    w.select("payments")
    assert w.detail["sections"] == {"bugs": ["SHOP-1"]}
    w.select("nowhere", kind="node")
    assert "no component" in w.detail["error"]


def test_failing_details_callback_is_shown_not_swallowed(caplog):
    g = small_graph()
    g.add_node("boom", component="boom")
    w = CouplingGraphWidget(g, details=details)
    w.select("boom")
    assert "RuntimeError: database gone" in w.detail["error"]
    assert any("details('boom') failed" in r.message for r in caplog.records)


def test_layout_is_deterministic_and_scaled():
    g = nx.gnm_random_graph(60, 120, seed=3)
    assert layout(g) == layout(g)
    pos = layout(g)
    xs = [p[0] for p in pos.values()]
    assert min(xs) == 0.0 and max(xs) == 1.0


def test_large_graph_uses_fast_layout():
    g = nx.gnm_random_graph(800, 1600, seed=1, directed=True)
    w = CouplingGraphWidget(g)
    assert len(w.nodes) == 800 and len(w.edges) == 1600
    assert layout(g) == {n["id"]: (n["x"], n["y"]) for n in w.nodes}


def test_static_png_fallback_in_mimebundle():
    w = CouplingGraphWidget(small_graph(), threshold=1)
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "3 components" in data["text/plain"]


def test_static_picture_is_its_own_output_hidden_only_beside_its_live_view():
    """nbconvert picks the widget view whenever widget state is saved (papermill/nbclient save it), so the PNG
    inside the widget's bundle never shows in such an export: the picture is displayed as a second output."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published: list[dict] = []
    orig = shell.display_pub.publish
    shell.display_pub.publish = lambda data, metadata=None, **kw: published.append(data)
    try:
        w = CouplingGraphWidget(small_graph())
        w._ipython_display_()
    finally:
        shell.display_pub.publish = orig
    assert len(published) == 2
    view, picture = published
    assert "application/vnd.jupyter.widget-view+json" in view and "image/png" not in view
    html = picture["text/html"]
    m = re.search(r'data-ss-static="([0-9a-f]+)".*<img src="data:image/png;base64,([^"]+)"', html)
    assert m and m.group(1) == w.static_id and len(w.static_id) == 16
    assert base64.b64decode(m.group(2))[:8] == b"\x89PNG\r\n\x1a\n"
    assert "3 components" in picture["text/plain"]
    # the live view hides exactly its own picture (the tag it is given), nothing else on the page
    js = (VIZ / "graph_widget.js").read_text()
    assert 'data-ss-static="${staticId}"' in js and "display: none" in js
    assert CouplingGraphWidget(small_graph()).static_id != w.static_id


def test_node_colouring_by_integration_coverage_has_values_and_a_scale():
    """Colouring by integration coverage painted every node grey: nodes had no such attribute."""
    w = CouplingGraphWidget(small_graph(), color_by="integration_coverage")
    by_id = {n["id"]: n["attrs"] for n in w.nodes}
    assert by_id["orders"]["integration_coverage"] == 0.2 and by_id["catalog"].get("integration_coverage") is None
    assert w.scale_labels["integration_coverage"]["reversed"] is True  # high coverage is good: red → green
    assert w.scale_labels["risk"]["reversed"] is False
    from toolkit.viz.plots import COLOURS

    assert [c for _, c in w.ramp] == list(COLOURS["ramp"].values()) and w.no_data == COLOURS["coverage"]["unknown"]
    from toolkit.viz.graph_widget import _badness_color

    assert _badness_color(0.0, "integration_coverage", 1.0) == COLOURS["ramp"]["1"]  # none covered: red
    assert _badness_color(1.0, "integration_coverage", 1.0) == COLOURS["ramp"]["0"]  # all covered: green
    assert _badness_color(None, "risk", 1.0) == COLOURS["coverage"]["unknown"]


def test_png_fallback_carries_a_colour_scale():
    import io

    import matplotlib.image as mpimg

    for color_by in ("risk", "integration_coverage"):
        img = mpimg.imread(io.BytesIO(CouplingGraphWidget(small_graph(), color_by=color_by).to_png()))
        px = (img[..., :3].reshape(-1, 3) * 255).round()
        amber = (abs(px - [0xf0, 0xa0, 0x30]).sum(axis=1) < 20).sum()
        assert amber > 50, color_by  # the colour bar's middle (no node of the small graph is amber)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="edge_kind"):
        CouplingGraphWidget(small_graph(), edge_kind="weight")
    with pytest.raises(ValueError, match="color_by"):
        CouplingGraphWidget(small_graph(), color_by="age")


def test_json_safe():
    import numpy as np

    assert json_safe({"a": np.int64(3), "b": float("nan"), "c": (1, 2), "d": {2, 1}, "e": pd.NA}) == \
        {"a": 3, "b": None, "c": [1, 2], "d": [1, 2], "e": None}


@pytest.mark.parametrize("name", ["graph_widget.js", "review_widget.js"])
def test_assets_render_data_only_as_text_and_load_nothing_remote(name):
    src = (VIZ / name).read_text()
    assert "innerHTML" not in src and "insertAdjacentHTML" not in src and "outerHTML" not in src
    assert not re.search(r"""import\s.*from\s+["']https?:""", src)
    assert "export default" in src


# ---- review widget ----------------------------------------------------------

def bugs() -> pd.DataFrame:
    return pd.DataFrame({
        "key": ["SHOP-1", "SHOP-2", "SHOP-3"],
        "title": ["refund twice", "<b>search</b> empty", "timeout"],
        "body": ["x" * 3000, "", None],
        "url": ["https://tracker/SHOP-1", None, None],
    })


def suggestions() -> pd.DataFrame:
    return pd.DataFrame({
        "key": ["SHOP-1", "SHOP-2"],
        "category": ["integration", "environment"],
        "evidence": [["fix touched orders and payments", "no integration test of orders->payments"], ["staging only"]],
        "confidence": [0.8, 0.4],
    })


def links() -> pd.DataFrame:
    return pd.DataFrame({"issue_key": ["SHOP-1"], "sha": ["a" * 40], "evidence": ["message: fixes SHOP-1"],
                         "confidence": ["explicit"]})


def comps() -> pd.DataFrame:
    return pd.DataFrame({"issue_key": ["SHOP-1", "SHOP-1"], "component": ["orders", "payments"],
                         "files": [1, 2], "churn": [10, 4]})


def test_review_shows_bug_with_fixes_and_suggestion(tmp_path):
    w = BugReviewWidget(bugs(), labels_path=tmp_path / "labels.csv", suggestions=suggestions(), links=links(),
                        issue_components=comps(), body_chars=100, order="given")
    assert w.index == 0 and w.total == 3 and w.reviewed == 0
    assert w.bug["key"] == "SHOP-1" and w.bug["body"].endswith(" …") and len(w.bug["body"]) < 110
    assert w.bug["fixes"][0]["sha"] == "a" * 12
    assert [c["component"] for c in w.bug["touched"]] == ["orders", "payments"]
    assert w.bug["suggestion"]["category"] == "integration"
    assert w.bug["suggestion"]["evidence"][1] == "no integration test of orders->payments"
    assert w.bug["suggestion"]["other"] == {"confidence": 0.8}


def test_links_bundle_and_bug_categories_as_suggestions(tmp_path):
    from types import SimpleNamespace

    cats = suggestions().assign(title=["t1", "t2"], decided_by=["rules", "rules"], score_integration=[2.0, 0.0])
    w = BugReviewWidget(bugs(), labels_path=tmp_path / "l.csv", suggestions=cats,
                        links=SimpleNamespace(links=links(), issue_components=comps(), unlinked=None), order="given")
    assert w.bug["fixes"][0]["evidence"] == "message: fixes SHOP-1"
    assert len(w.bug["touched"]) == 2
    assert w.bug["suggestion"]["other"] == {"confidence": 0.8, "decided_by": "rules"}


def test_every_decision_is_on_disk_at_once_and_resume(tmp_path):
    p = tmp_path / "labels.csv"
    w = BugReviewWidget(bugs(), labels_path=p, suggestions=suggestions(), order="given")
    w.accept()
    assert dict(zip(read_labels(p)["key"], read_labels(p)["category"])) == {"SHOP-1": "integration"}
    assert w.index == 1 and w.reviewed == 1 and "saved SHOP-1" in w.status
    w.decide("component", "search index built by catalog")
    df = read_labels(p)
    assert df.set_index("key").loc["SHOP-2", "note"] == "search index built by catalog"
    assert w.index == 2
    # a new widget (kernel restart) resumes at the first undecided bug
    w2 = BugReviewWidget(bugs(), labels_path=p, order="given")
    assert w2.index == 2 and w2.reviewed == 2
    w2.go(1)
    assert w2.decision == {"category": "component", "note": "search index built by catalog"}
    # relabel keeps the note unless a new one is given
    w2.decide("environment", advance=False)
    assert read_labels(p).set_index("key").loc["SHOP-2", "category"] == "environment"
    assert w2.decision["note"] == "search index built by catalog"


def test_messages_from_the_browser(tmp_path):
    p = tmp_path / "labels.csv"
    w = BugReviewWidget(bugs(), labels_path=p, suggestions=suggestions(), order="given")
    w._on_msg(w, {"type": "decide", "category": "not_a_bug", "note": "works as designed"}, [])
    assert read_labels(p).loc[0, "category"] == "not_a_bug"
    w._on_msg(w, {"type": "go", "index": 0}, [])
    assert w.index == 0 and w.decision["category"] == "not_a_bug"
    w._on_msg(w, {"type": "next_undecided"}, [])
    assert w.index == 1
    w._on_msg(w, {"type": "decide", "category": "flaky"}, [])
    assert "unknown category" in w.error and len(read_labels(p)) == 1
    w._on_msg(w, {"type": "go", "index": 0}, [])
    w._on_msg(w, {"type": "note", "note": "checked with the team"}, [])  # note edited after deciding
    assert read_labels(p).loc[0, "note"] == "checked with the team" and w.index == 0
    w.go(1)
    w._on_msg(w, {"type": "note", "note": "undecided: nothing to save"}, [])
    assert len(read_labels(p)) == 1
    w.go(2)
    w.accept()  # SHOP-3 has no suggestion
    assert "no suggestion" in w.error and len(read_labels(p)) == 1


def test_corrupted_labels_file_is_reported_with_backup(tmp_path):
    p = tmp_path / "labels.csv"
    save_label(p, "SHOP-1", "integration")
    save_label(p, "SHOP-2", "component")
    p.write_text("garbage\n")
    with pytest.raises(InputError, match=re.escape(str(backup_path(p)))):
        BugReviewWidget(bugs(), labels_path=p)


def test_save_failure_is_shown_in_the_widget(tmp_path):
    p = tmp_path / "labels.csv"
    w = BugReviewWidget(bugs(), labels_path=p)
    p.write_text("key,category,note,decided_at\nSHOP-9,bogus,,\n")  # someone broke the file meanwhile
    w.decide("integration")
    assert w.error.startswith("not saved:") and w.index == 0 and w.reviewed == 0


def test_shortcuts_are_unique_letters():
    assert _shortcuts(("integration", "component", "environment", "not_a_bug")) == \
        {"i": "integration", "c": "component", "e": "environment", "n": "not_a_bug"}
    s = _shortcuts(("alpha", "apple", "cc"))
    assert len(set(s)) == 3 and "a" not in s


def test_duplicate_bug_keys_are_refused(tmp_path):
    df = pd.concat([bugs(), bugs().iloc[:1]])
    with pytest.raises(ValueError, match="SHOP-1"):
        BugReviewWidget(df, labels_path=tmp_path / "l.csv")


def test_most_uncertain_bugs_are_offered_first_and_the_header_says_so(tmp_path):
    """Active learning: unknown (or unsuggested) bugs first, then the lowest confidence; decided bugs last."""
    keys = ["B-sure", "B-unknown-hi", "B-none", "B-low", "B-unknown-lo", "B-mid"]
    bugs_ = pd.DataFrame({"key": keys, "title": [f"t {k}" for k in keys]})
    sug = pd.DataFrame({"key": ["B-sure", "B-unknown-hi", "B-low", "B-unknown-lo", "B-mid"],
                        "category": ["component", "unknown", "integration", "unknown", "component"],
                        "confidence": [1.0, 0.3, 0.05, 0.1, 0.5], "evidence": [[], [], [], [], []]})
    p = tmp_path / "labels.csv"
    w = BugReviewWidget(bugs_, labels_path=p, suggestions=sug)
    assert w.bug_keys == ["B-none", "B-unknown-lo", "B-unknown-hi", "B-low", "B-mid", "B-sure"]
    assert w.bug["key"] == "B-none" and w.index == 0
    assert "most uncertain first" in w.order_note
    w.decide("integration")  # the next offered bug is the next most uncertain
    assert w.bug["key"] == "B-unknown-lo"
    # resuming (a new widget on the same file) keeps the order and starts at the most uncertain undecided bug
    w2 = BugReviewWidget(bugs_, labels_path=p, suggestions=sug)
    assert w2.bug_keys == w.bug_keys and w2.bug["key"] == "B-unknown-lo"
    given = BugReviewWidget(bugs_, labels_path=tmp_path / "g.csv", suggestions=sug, order="given")
    assert given.bug_keys == keys and "given" in given.order_note
    with pytest.raises(ValueError, match="order"):
        BugReviewWidget(bugs_, labels_path=tmp_path / "x.csv", order="random")


def test_graph_nodes_carry_the_integration_coverage_of_their_seams(sample_evidence):
    """f.graph gave integration_coverage to edges only, so 'colour by integration coverage' painted every node
    grey. A node's value: integration call sites / call sites over the seams it calls or is called through."""
    from toolkit.core.findings import Findings

    f = Findings(sample_evidence)
    g, seams = f.graph, f.interaction.seams
    coloured = 0
    for node, data in g.nodes(data=True):
        mine = seams[(seams["caller_component"] == node) | (seams["callee_component"] == node)]
        if mine["call_sites"].sum() == 0:
            assert "integration_coverage" not in data, node  # nothing to cover: grey ("no data"), never 0 %
            continue
        assert data["integration_coverage"] == pytest.approx(mine["integration"].sum() / mine["call_sites"].sum())
        coloured += 1
    assert coloured >= 5
    values = {round(d["integration_coverage"], 3) for _, d in g.nodes(data=True) if "integration_coverage" in d}
    assert len(values) > 1  # the sample has well and badly covered components: the colouring tells them apart
    w = CouplingGraphWidget(g, color_by="integration_coverage")
    assert sum(1 for n in w.nodes if n["attrs"].get("integration_coverage") is not None) == coloured
