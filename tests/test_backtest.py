"""Backtest of the seam ranking on the sample's own history."""
from __future__ import annotations

import json

import pytest

from toolkit.analyze.backtest import backtest, score_ranking
from toolkit.config import SAMPLE_DIR, sample_config


def test_score_ranking_by_hand():
    seams = ["a->b", "c->d", "b->a", "e->f", "x->y"]
    pairs = {"a->b": "a<->b", "b->a": "a<->b", "c->d": "c<->d", "e->f": "e<->f", "x->y": "x<->y"}
    s = score_ranking(seams, pairs, [["a<->b"], ["e<->f"]], k=2)
    assert s["precision_at_k"] == 0.5 and s["recall_at_k"] == 0.5
    assert s["top20_share"] == 0.5  # ceil(0.2 * 5) = 1 seam: a->b


@pytest.fixture(scope="module")
def result():
    if not (SAMPLE_DIR / "repo.bundle").exists():
        pytest.skip("sample missing")
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    return backtest(sample_config(), truth["backtest_rev"], k=3)


def test_later_fixes_are_the_planted_integration_bugs(result):
    pairs = {p for ps in result.later_fixes["pairs"] for p in ps}
    assert pairs == {"documents<->search_index", "inventory<->payments"}


def test_nothing_from_after_the_revision_is_used(result):
    assert any(n.startswith("coverage dropped") for n in result.notes)
    assert any(n.startswith("test results") for n in result.notes)
    # no bug fixed after the revision is known as fixed at it
    assert (result.ranking["integration_bugs"] == 0).all()


def test_ours_beats_both_baselines_on_the_sample(result):
    s = result.scores.set_index("ranking")
    assert set(s.index) == {"ours", "churn", "change_coupling"}
    assert result.beats_baselines(), result.text()
    assert s.loc["ours", "precision_at_k"] > max(s.loc["churn", "precision_at_k"],
                                                 s.loc["change_coupling", "precision_at_k"])
    assert "precision_at_k" in result.text()
