"""Cross-component bugs: pair matrix, share crossing, recurrence, resolve times, graph overlay."""
from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.bug_categorization import categorize_bugs
from toolkit.analyze.cross_component_bugs import bug_overlay, cross_component_bugs


def bug(key, created, resolved=None, *, type="bug", pr=False, resolution=None, body=""):
    return {"tracker": "jira", "key": key, "title": f"bug {key}", "body": body, "type": type, "labels": [],
            "components": [], "status": "closed", "resolution": resolution, "environment": "production",
            "created": pd.Timestamp(created, tz="UTC"),
            "resolved": pd.Timestamp(resolved, tz="UTC") if resolved else pd.NaT, "is_pull_request": pr}


ISSUES = schema.conform(pd.DataFrame([
    # a timeout on a fix across components is enough to decide "integration" (one clue alone would be unknown)
    bug("P-1", "2025-01-01", "2025-01-11", body="timeout"),   # orders+payments
    bug("P-2", "2025-03-01", "2025-03-31", body="timeout"),   # orders+payments again (59 days later)
    bug("P-3", "2025-12-01", "2025-12-02", body="timeout"),   # orders+payments, 275 days after P-2: no recurrence at 6 months
    bug("P-4", "2025-02-01", "2025-02-03"),   # orders only
    bug("P-5", "2025-02-10", body="timeout"),  # orders+payments+users, open
    bug("P-6", "2025-02-11", "2025-02-12"),   # no linked fix
    bug("P-7", "2025-02-12", type="feature"),  # not a bug
]), "issues")
IC = schema.conform(pd.DataFrame([
    ("P-1", "orders"), ("P-1", "payments"), ("P-2", "payments"), ("P-2", "orders"), ("P-3", "orders"),
    ("P-3", "payments"), ("P-4", "orders"), ("P-5", "orders"), ("P-5", "payments"), ("P-5", "users"),
    ("P-7", "orders"), ("P-7", "users"),
], columns=["issue_key", "component"]).assign(files=1, churn=5), "issue_components")


def test_pairs_matrix_and_share_from_issues():
    r = cross_component_bugs(ISSUES, IC)
    schema.check(r.pairs, "cross_component_pairs")
    got = r.pairs.set_index("pair")[["a", "b", "bugs", "integration_bugs", "keys"]].to_dict("index")
    assert got == {
        "orders<->payments": {"a": "orders", "b": "payments", "bugs": 4, "integration_bugs": 4,
                              "keys": ["P-1", "P-5", "P-2", "P-3"]},
        "orders<->users": {"a": "orders", "b": "users", "bugs": 1, "integration_bugs": 1, "keys": ["P-5"]},
        "payments<->users": {"a": "payments", "b": "users", "bugs": 1, "integration_bugs": 1, "keys": ["P-5"]},
    }
    m = r.matrix
    assert list(m.index) == list(m.columns) == ["orders", "payments", "users"]
    assert (m.to_numpy() == m.to_numpy().T).all()
    assert m.loc["orders", "payments"] == 4 and m.loc["orders", "orders"] == 1 and m.loc["users", "users"] == 0
    assert r.summary | {} == {"bugs": 6, "placed": 5, "crossing": 4, "share_crossing": 0.8, "recurring_pairs": 1,
                              "recurrence_months": 6, "grouping": "crossing"}


def test_recurrence_within_months():
    r = cross_component_bugs(ISSUES, IC, recurrence_months=6)
    schema.check(r.recurrence, "bug_recurrence")
    assert r.recurrence[["pair", "first", "again", "gap_days"]].values.tolist() == [
        ["orders<->payments", "P-1", "P-5", 40.0], ["orders<->payments", "P-5", "P-2", 19.0]]
    r12 = cross_component_bugs(ISSUES, IC, recurrence_months=12)
    assert r12.recurrence["again"].tolist() == ["P-5", "P-2", "P-3"]
    assert cross_component_bugs(ISSUES, IC, recurrence_months=1).recurrence["again"].tolist() == ["P-2"]


def test_resolve_times_crossing_vs_single():
    rt = cross_component_bugs(ISSUES, IC).resolve_times.set_index("group")
    schema.check(rt.reset_index(), "bug_resolve_times")
    assert rt.loc["integration", ["bugs", "resolved"]].tolist() == [4, 3]  # P-5 is open
    assert rt.loc["integration", "median_days"] == 10.0 and rt.loc["integration", "mean_days"] == pytest.approx(41 / 3)
    assert rt.loc["component", ["bugs", "resolved", "median_days"]].tolist() == [1, 1, 2.0]


def test_with_categories_integration_counts_follow_the_category():
    ln_links = schema.conform(pd.DataFrame([(k, f"s{k}", "m", "explicit") for k in IC["issue_key"].unique()],
                                           columns=["issue_key", "sha", "evidence", "confidence"]), "links")
    from toolkit.load.links import Links
    cats = categorize_bugs(ISSUES, links=Links(ln_links, IC, schema.empty("unlinked_issues")),
                           labels=pd.DataFrame({"key": ["P-2"], "category": ["environment"]}))
    r = cross_component_bugs(cats, IC)
    assert r.summary["grouping"] == "category"
    row = r.pairs.set_index("pair").loc["orders<->payments"]
    assert (row["bugs"], row["integration_bugs"]) == (4, 3)
    assert r.resolve_times.set_index("group").loc["integration", "bugs"] == 3
    assert r.resolve_times.set_index("group").loc["component", "bugs"] == 1  # P-4; unlinked P-6 has no evidence
    assert cats.bugs.set_index("key").loc["P-6", "category"] == "unknown"  # ... so it is unknown, not component


def test_bug_overlay_sets_both_directions():
    g = nx.DiGraph()
    g.add_edge("orders", "payments", seam="orders->payments")
    g.add_edge("payments", "orders", seam="payments->orders")
    g.add_edge("users", "orders")
    g.add_edge("catalog", "orders")
    bug_overlay(g, cross_component_bugs(ISSUES, IC))
    assert nx.get_edge_attributes(g, "bugs") == {("orders", "payments"): 4, ("payments", "orders"): 4,
                                                 ("users", "orders"): 1, ("catalog", "orders"): 0}


def test_empty_inputs():
    r = cross_component_bugs(schema.empty("issues"), schema.empty("issue_components"))
    assert r.pairs.empty and r.recurrence.empty and r.matrix.empty
    assert r.summary["bugs"] == 0 and r.summary["share_crossing"] != r.summary["share_crossing"]  # NaN
    schema.check(r.resolve_times, "bug_resolve_times")


def test_sample_crossing_pairs_are_planted_seams(sample_evidence):
    ev = sample_evidence
    r = cross_component_bugs(ev.issues, ev.links.issue_components)
    assert {"inventory<->payments", "documents<->search_index"} <= set(r.pairs["pair"])
