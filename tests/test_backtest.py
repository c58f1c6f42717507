"""Backtest of the seam ranking on the sample's own history."""
from __future__ import annotations

import json

import pytest

from toolkit.analyze.backtest import score_ranking
from toolkit.config import SAMPLE_DIR, sample_config
from toolkit.run.backtest import backtest


def _evidence_at(config, at: str, notes: list[str]):
    """Reference path: everything reloaded with ``load_evidence`` at ``at`` (slow; tests check
    :func:`toolkit.core.evidence.evidence_as_of` gives the same result): the test oracle."""
    import pandas as pd

    from toolkit.core.evidence import _config_at, _drop_after, _issues_at, load_evidence
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import load_history

    repo = Repo.open(config.repo)
    hist = load_history(repo, rev=at, skips=[])
    known = set(hist.commits["sha"].astype(str))
    when = hist.commits["timestamp"].max() if len(hist.commits) else pd.Timestamp.now(tz="UTC")
    cfg = _config_at(config, at, when, notes)
    ev = load_evidence(cfg)
    everything = ev.test_results
    _drop_after(ev, everything, known, when, notes)
    if ev.test_results is not everything:  # the kinds were classified with results from after the revision
        from toolkit.load.test_kinds import classify_tests
        ev.test_kinds = classify_tests(ev.structure, ev.repo, at, mocks=ev.mocks, test_components=ev.test_components,
                                       test_results=ev.test_results)
    _issues_at(ev, ev.issues, when, notes)
    ev.keys = {}  # the keys are those of an unfiltered audit at ``at``: analyses must not be cached under them
    return ev, known, when


def _backtest_reloaded(config, at: str, *, k: int = 3, horizon: str | None = None):
    """The reference implementation: both evidences loaded from scratch (for equivalence tests)."""
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings
    from toolkit.run.backtest import _score

    notes: list[str] = []
    full_ev = load_evidence(config.with_(at=horizon) if horizon else config)
    ev, known, _when = _evidence_at(config, at, notes)
    return _score(at, ev, known, full_ev, Findings(full_ev), notes, k)


def test_score_ranking_by_hand():
    seams = ["a->b", "c->d", "b->a", "e->f", "x->y"]
    pairs = {"a->b": "a<->b", "b->a": "a<->b", "c->d": "c<->d", "e->f": "e<->f", "x->y": "x<->y"}
    s = score_ranking(seams, pairs, [["a<->b"], ["e<->f"]], k=2)
    assert s["precision_at_k"] == 0.5 and s["recall_at_k"] == 0.5
    assert s["top20_share"] == 0.5  # ceil(0.2 * 5) = 1 seam: a->b
    none = score_ranking(seams, pairs, [], k=2)  # no later fix: nothing to score, not a score of 0
    assert all(none[m] != none[m] for m in ("precision_at_k", "recall_at_k", "top20_share"))


def test_a_revision_with_no_later_fix_is_not_scored(sample_evidence):
    head = sample_evidence.history.head
    r = backtest(sample_config(), head, evidence=sample_evidence, k=3)
    assert r.later_fixes.empty and not r.beats_baselines()
    assert r.scores["precision_at_k"].isna().all()
    assert any("nothing to score" in n for n in r.notes)


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


def test_reusing_the_audit_evidence_gives_the_reloaded_result(result, sample_evidence):
    """The as-of-REV evidence derived from the full audit equals the one reloaded from scratch."""
    import pandas as pd

    from toolkit.core.evidence import evidence_as_of
    from toolkit.core.findings import Findings

    at = json.loads((SAMPLE_DIR / "truth.json").read_text())["backtest_rev"]
    ref = _backtest_reloaded(sample_config(), at, k=3)
    for got in (result, backtest(sample_config(), at, evidence=sample_evidence, k=3),
                backtest(sample_config(), at, findings=Findings(sample_evidence), k=3)):
        pd.testing.assert_frame_equal(got.scores, ref.scores)
        pd.testing.assert_frame_equal(got.ranking, ref.ranking)
        pd.testing.assert_frame_equal(got.later_fixes, ref.later_fixes)
        assert got.rankings == ref.rankings and got.notes == ref.notes and got.unplaced == ref.unplaced

    new, known_new, when_new = evidence_as_of(sample_evidence, at, [])
    old, known_old, when_old = _evidence_at(sample_config(), at, [])
    assert known_new == known_old and when_new == when_old and len(known_new) < len(sample_evidence.history.commits)
    pd.testing.assert_frame_equal(new.history.commits, old.history.commits)
    pd.testing.assert_frame_equal(new.history.file_changes, old.history.file_changes)
    pd.testing.assert_frame_equal(new.links.links, old.links.links)
    assert new.test_results is None and old.test_results is None  # the sample's runs are all after the revision
    pd.testing.assert_frame_equal(new.test_kinds, old.test_kinds)
    pd.testing.assert_frame_equal(new.mocks, old.mocks)


def test_a_second_backtest_at_the_revision_reads_its_cache(sample_evidence, tmp_path, monkeypatch):
    import pandas as pd

    from toolkit.runtime import cache

    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path))
    monkeypatch.delenv("SEAMSCOPE_NO_CACHE", raising=False)
    at = json.loads((SAMPLE_DIR / "truth.json").read_text())["backtest_rev"]
    cold = backtest(sample_config(), at, evidence=sample_evidence, k=3)
    hits = cache.stats["hits"]
    warm = backtest(sample_config(), at, evidence=sample_evidence, k=3)
    assert cache.stats["hits"] > hits
    pd.testing.assert_frame_equal(warm.ranking, cold.ranking)
    pd.testing.assert_frame_equal(warm.scores, cold.scores)
    assert warm.rankings == cold.rankings and warm.notes == cold.notes


def test_test_kinds_at_the_revision_ignore_tests_seen_only_in_later_runs(sample_evidence):
    """A test that only later runs name (no source at REV) is not classified as if it existed at REV."""
    import dataclasses

    import pandas as pd

    from toolkit.core.evidence import evidence_as_of

    at = json.loads((SAMPLE_DIR / "truth.json").read_text())["backtest_rev"]
    res = sample_evidence.test_results
    later = res.iloc[:1].copy()
    later["test_id"], later["file"] = "tests.test_added_later.test_new_flow", "tests/test_added_later.py"
    full = dataclasses.replace(sample_evidence, test_results=pd.concat([res, later], ignore_index=True), keys={})
    from toolkit.load.test_kinds import classify_tests
    everything = classify_tests(full.structure, full.repo, None, mocks=full.mocks, test_results=full.test_results)
    assert "tests.test_added_later.test_new_flow" in set(everything["test_id"])  # the table does list such tests
    ev, _known, _when = evidence_as_of(full, at, [])
    assert "tests.test_added_later.test_new_flow" not in set(ev.test_kinds["test_id"])
    assert len(ev.test_kinds) and not ev.test_kinds["reasons"].map(lambda r: r[0].startswith("seen only")).any()


def test_a_backtest_prepared_beside_the_audit_is_what_the_backtest_reads(sample_evidence, tmp_path, monkeypatch):
    """``prepare`` runs the backtest at REV in a forked child; the caller then computes nothing of it itself (no
    cache miss) and gets what it gets without the child."""
    import pandas as pd

    from toolkit.runtime import alongside, cache
    from toolkit.run.backtest import prepare
    from toolkit.core.findings import Findings

    if not alongside.available():
        pytest.skip("no fork start method here")
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SEAMSCOPE_NO_CACHE", raising=False)
    at = json.loads((SAMPLE_DIR / "truth.json").read_text())["backtest_rev"]
    f = Findings(sample_evidence)
    f.bugs  # noqa: B018 - the full audit's own analysis (the later fixes), not the prepared part
    h = prepare(f, [at])
    assert h is not None and h.wait() is None
    misses = cache.stats["misses"]
    got = backtest(sample_config(), at, findings=f, prepared=h)
    assert cache.stats["misses"] == misses
    assert prepare(f, [at]) is None  # the whole result is stored: nothing left to prepare

    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "other"))
    plain = backtest(sample_config(), at, findings=Findings(sample_evidence))
    assert cache.stats["misses"] > misses  # computed here this time
    pd.testing.assert_frame_equal(got.ranking, plain.ranking)
    pd.testing.assert_frame_equal(got.scores, plain.scores)
    assert got.rankings == plain.rankings and got.notes == plain.notes


def test_a_failed_preparation_is_noted_and_the_backtest_computed_after(sample_evidence, tmp_path, monkeypatch):
    import pandas as pd

    from toolkit.runtime import alongside
    from toolkit.core.findings import Findings

    if not alongside.available():
        pytest.skip("no fork start method here")
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))
    at = json.loads((SAMPLE_DIR / "truth.json").read_text())["backtest_rev"]
    failed = alongside.start(_no_such_revision, (), what="backtests")
    got = backtest(sample_config(), at, findings=Findings(sample_evidence), prepared=failed)
    assert got.notes[0] == ("the backtest was not prepared beside the audit (InputError: <input>: no such revision); "
                            "computed after it")
    plain = backtest(sample_config(), at, findings=Findings(sample_evidence))
    pd.testing.assert_frame_equal(got.ranking, plain.ranking)
    assert got.notes[1:] == plain.notes


def _no_such_revision() -> None:
    from toolkit.errors import InputError
    raise InputError(None, "no such revision")


def test_the_backtest_links_as_the_audit_does(sample_evidence):
    """Re-linking as of a revision is the audit's linking (toolkit.load.links.link_fixes) at that revision: the
    same links, and an unlinked bug whose fix came later is told as named by commits the revision does not reach."""
    from toolkit.core.evidence import evidence_as_of
    from toolkit.load.links import link_fixes
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    ev, _known, _when = evidence_as_of(sample_evidence, truth["backtest_rev"], [])
    again = link_fixes(ev.issues, ev.history, ev.repo, rev=ev.history.head, components=ev.structure.components)
    assert ev.links.links.equals(again.links) and ev.links.unlinked.equals(again.unlinked)
    reasons = ev.links.unlinked["reason"]
    assert reasons.str.startswith("mentioned only in commits not reachable from the audited revision").any(), \
        reasons.tolist()
