"""Seam risk ranking: truth on the sample, weights on a hand-built repository."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.seam_ranking import DEFAULT_WEIGHTS, FACTORS, rank_seams
from toolkit.config import SAMPLE_DIR, AuditConfig, sample_config
from toolkit.core.evidence import load_evidence
from toolkit.core.findings import Findings


@pytest.fixture(scope="module")
def sample_findings() -> Findings:
    if not (SAMPLE_DIR / "repo.bundle").exists():
        pytest.skip("sample missing")
    return Findings(load_evidence(sample_config()))


def test_sample_planted_seams_lead_with_their_causes(sample_findings):
    r = sample_findings.ranking
    schema.check(r.table, "seam_ranking")
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    top3 = r.table["seam"].head(3).tolist()
    for seam in truth["top_risky_seams"]:
        assert seam in top3
        row = r.table.set_index("seam").loc[seam]
        assert "0 exercised for real" in row["reason"]  # no integration test of the call sites
        assert "mocked by" in row["reason"]
        assert "integration bug" in row["reason"]
    assert len(r.summary["top"]) == 3 and r.summary["top"][0].startswith(top3[0] + ": ")


def test_contributions_add_up_and_rank_is_ordered(sample_findings):
    t = sample_findings.ranking.table
    total = sum(t[f"c_{n}"] for n in FACTORS)
    assert (abs(total - t["score"]) < 1e-9).all()
    assert t["score"].is_monotonic_decreasing and t["rank"].tolist() == list(range(1, len(t) + 1))
    for n in FACTORS:
        assert t[f"f_{n}"].between(0, 1).all(), n
    code = t[t["level"] == "component"]
    assert set(code["seam"]) == set(sample_findings.seams["seam"])
    # service-level seams rank in the same table
    assert set(t.loc[t["level"] == "service", "seam"]) >= {"orders->inventory", "orders->notifications"}


def test_pair_level_factors_apply_to_both_directions(sample_findings):
    t = sample_findings.ranking.table.set_index("seam")
    assert t.loc["payments->inventory", "integration_bugs"] == 1
    assert t.loc["documents->search_index", "escapes"] == 1


def test_unknown_weight_is_refused(sample_findings):
    with pytest.raises(ValueError, match="unknown seam-ranking weight"):
        rank_seams(**sample_findings.ranking_inputs(), weights={"nope": 1})


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin", "HOME": str(repo)})


def _write(root: Path, files: dict[str, str]) -> None:
    for p, text in files.items():
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text(text)


@pytest.fixture()
def hand_built(tmp_path: Path) -> Findings:
    """app.a calls app.b at three sites (never mocked) and app.c once (mocked by both tests)."""
    repo = tmp_path / "r"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _write(repo, {
        "app/__init__.py": "",
        "app/a/__init__.py": "",
        "app/a/core.py": ("from app.b import util\nfrom app.c import store\n\n"
                          "def run(x):\n    y = util.f(x)\n    y = util.f(y)\n    y = util.f(y)\n"
                          "    return store.save(y)\n"),
        "app/b/__init__.py": "",
        "app/b/util.py": "def f(x):\n    return x + 1\n",
        "app/c/__init__.py": "",
        "app/c/store.py": "def save(x):\n    return x\n",
        "tests/test_core.py": ("from unittest.mock import patch\nfrom app.a import core\n\n"
                               "@patch('app.c.store.save')\ndef test_run(save):\n    core.run(1)\n\n"
                               "@patch('app.c.store.save')\ndef test_run_again(save):\n    core.run(2)\n"),
    })
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "init")
    return Findings(load_evidence(AuditConfig(repo=repo)))


def test_weights_change_the_order_in_the_expected_direction(hand_built):
    t = rank_seams(**hand_built.ranking_inputs()).table
    assert set(t["seam"]) == {"a->b", "a->c"}
    mocks_first = rank_seams(**hand_built.ranking_inputs(), weights={n: 0.0 for n in FACTORS} | {"mock_overuse": 1.0}).table
    assert mocks_first["seam"].tolist()[0] == "a->c"
    assert mocks_first.set_index("seam").loc["a->c", "tests_mocking"] >= 1
    structure_first = rank_seams(**hand_built.ranking_inputs(), weights={n: 0.0 for n in FACTORS} | {"structural": 1.0}).table
    assert structure_first["seam"].tolist()[0] == "a->b"
    assert "4 static reference(s)" in structure_first["reason"].iloc[0]  # 3 call sites + 1 import


def test_config_weights_override_defaults(hand_built):
    hand_built.ev.config = hand_built.ev.config.with_(weights={"structural": 7.0, "unrelated_key": 3.0})
    r = rank_seams(**hand_built.ranking_inputs())
    assert r.weights["structural"] == 7.0 and r.weights["mock_overuse"] == DEFAULT_WEIGHTS["mock_overuse"]


def test_likelihood_outweighs_the_unguarded_estimate(hand_built):
    """Risk is likely-to-break x unguarded: a quiet seam no test reaches does not outrank one whose sides change
    together, broke before and are being edited; among equally likely seams the unguarded one comes first."""
    busy = {"f_change_coupling": 0.5, "f_bug_history": 0.5, "f_recent_change": 0.5}
    extra = pd.DataFrame([
        {"seam": "quiet->helper", "caller_component": "quiet", "callee_component": "helper",
         "f_integration_gap": 1.0, "f_mock_overuse": 1.0},
        {"seam": "busy->tested", "caller_component": "busy", "callee_component": "tested", **busy,
         "f_integration_gap": 0.0, "f_mock_overuse": 0.0},
        {"seam": "busy->untested", "caller_component": "busy", "callee_component": "untested", **busy,
         "f_integration_gap": 1.0, "f_mock_overuse": 0.0},
    ])
    t = rank_seams(**hand_built.ranking_inputs(), extra_seams=extra).table
    order = [s for s in t["seam"] if s in set(extra["seam"])]
    assert order == ["busy->untested", "busy->tested", "quiet->helper"], t[["seam", "score"]]


def test_a_seam_already_run_for_real_is_not_told_to_get_an_integration_test(hand_built):
    """Ranked for another reason (here its structure alone), a seam that tests already run for real is told to check
    those tests against its changes; one only mocked still gets the integration test (jinja's parser->nodes, run by
    818 tests, was told to 'add an integration test exercising this seam for real')."""
    t = rank_seams(**hand_built.ranking_inputs(), weights={n: 0.0 for n in FACTORS} | {"structural": 1.0}).table
    advice = t.set_index("seam")["recommendation"]
    assert advice["a->b"] == "already run for real by 2 test(s) (an estimate): check that they cover its recent changes"
    assert advice["a->c"] == "add an integration test exercising this seam for real"
