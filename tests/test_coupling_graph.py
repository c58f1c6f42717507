"""coupling_graph joins structure, history and bugs on a real repository built in tmp_path."""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from gitutil import commit, git, make_repo, when, write
from toolkit.analyze.change_coupling import logical_coupling
from toolkit.analyze.coupling_graph import coupling_graph, to_graphml, to_node_link_json
from toolkit.vocab.components import ComponentMap
from toolkit.load.history import load_history


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))


def change(repo: Path, edits: dict[str, int], day: int) -> None:
    """One commit on 2024-02-<day> 09:00; edits: path -> lines to append."""
    for rel, n in edits.items():
        p = repo / rel
        old = p.read_text() if p.exists() else ""
        write(repo, {rel: old + "".join(f"v{day}_{i} = {i}\n" for i in range(n))})
    commit(repo, f"day {day}", date=when(day, month=2, hour=9))


@pytest.fixture()
def setup(tmp_path):
    repo = make_repo(tmp_path / "r")
    change(repo, {"shop/__init__.py": 1, "shop/orders/__init__.py": 1, "shop/orders/svc.py": 10,
                  "shop/payments/__init__.py": 1, "shop/payments/api.py": 5, "shop/audit/__init__.py": 1}, 1)
    for day in range(2, 8):
        change(repo, {"shop/orders/svc.py": 2, "shop/payments/api.py": 1, "tests/test_orders.py": 3}, day)
    for day in range(8, 14):
        change(repo, {"shop/orders/svc.py": 1, "shop/audit/__init__.py": 1}, day)
    files = git(repo, "ls-files").split()
    comps = ComponentMap.from_files(files)
    h = load_history(repo)
    seams = pd.DataFrame({"seam": ["orders->payments"], "caller_component": ["orders"],
                          "callee_component": ["payments"], "imports": [2], "call_sites": [5], "callees": [3]})
    logical = logical_coupling(h, level="component", components=comps)
    return h, comps, seams, logical


def test_nodes_and_edges(setup):
    h, comps, seams, logical = setup
    bugs = pd.DataFrame({"issue_key": ["#1", "#1", "#2", "#3"],
                         "component": ["orders", "payments", "orders", "payments"]})
    g = coupling_graph(seams, logical, history=h, components=comps, bugs=bugs)
    assert isinstance(g, nx.DiGraph)
    assert set(g.nodes) == {"shop", "orders", "payments", "audit"}
    orders = g.nodes["orders"]
    assert orders["revisions"] == 13 and orders["size"] == 2
    assert orders["churn"] == 1 + 10 + 6 * 2 + 6 * 1
    assert g.nodes["payments"]["revisions"] == 7
    e = g.edges["orders", "payments"]
    assert (e["imports"], e["call_sites"], e["callees"]) == (2, 5, 3)
    assert e["co_changes"] == 7 and e["structural"] is True
    assert e["degree"] == 70  # shared 7 / avg (13 + 7) / 2 = 70%
    assert e["bugs"] == 1
    assert not g.has_edge("payments", "orders")
    hidden = g.edges["audit", "orders"]  # changes together, no import: a hidden dependency
    assert hidden["structural"] is False and hidden["imports"] == 0 and hidden["co_changes"] == 7
    assert hidden["degree"] == 70  # shared 7 / avg (7 + 13) / 2


def test_optional_inputs_and_exports(setup, tmp_path):
    h, comps, seams, logical = setup
    g = coupling_graph(seams, None)
    assert set(g.nodes) == {"orders", "payments"} and g.edges["orders", "payments"]["co_changes"] == 0
    g = coupling_graph(None, None, components=comps,
                       bugs=pd.DataFrame({"pair": ["orders<->payments"], "bugs": [4]}))
    assert g.number_of_edges() == 0 and "audit" in g
    g = coupling_graph(seams, logical, history=h, components=comps,
                       bugs=pd.DataFrame({"seam": ["payments->orders"], "bugs": [4]}))
    assert g.edges["orders", "payments"]["bugs"] == 4
    path = to_graphml(g, tmp_path / "g.graphml")
    back = nx.read_graphml(path)
    assert back.edges["orders", "payments"]["call_sites"] == 5
    data = to_node_link_json(g)
    json.dumps(data)
    assert {n["id"] for n in data["nodes"]} == set(g.nodes)
    assert any(link["source"] == "orders" and link["target"] == "payments" for link in data["links"])
