"""Environment comparison: hand-built runs and issues with hand-computed answers, then the sample's truth."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.environment_comparison import environment_comparison, fisher_row
from toolkit.load.links import Links

# outcome per run: isolated i1..i3, integrated g1..g3
OUTCOMES = {
    "t.test_a": ("ppp", "fff"),  # passes with fakes, always fails integrated -> environment-only
    "t.test_b": ("ppp", "ffp"),  # flaky in integrated -> excluded
    "t.test_c": ("ppp", "ppp"),  # stable pass
    "t.test_d": ("pfp", "fff"),  # flaky in isolated -> excluded
}


def _results(outcomes=OUTCOMES) -> pd.DataFrame:
    rows = []
    for tid, (iso, integ) in outcomes.items():
        for env, seq in (("isolated", iso), ("integrated", integ)):
            for i, o in enumerate(seq, 1):
                outcome = {"p": "passed", "f": "failed", "s": "skipped"}[o]
                rows.append({"run_id": f"{env}/run{i}", "environment": env, "suite": "pytest",
                             "classname": tid.rpartition(".")[0], "name": tid.rpartition(".")[2], "test_id": tid,
                             "outcome": outcome, "message": f"boom {env} {i}" if o == "f" else None,
                             "reruns": 0, "commit": "c0ffee", "source": f"{env}/run{i}/junit.xml", "run_seq": i,
                             "duration_s": 0.1})
    return schema.conform(pd.DataFrame(rows), "test_results")


def _issues() -> pd.DataFrame:
    rows = [("K-1", "bug", "production"), ("K-2", "bug", "integrated"), ("K-3", "bug", "production"),
            ("K-4", "feature", "production"), ("K-5", "bug", "unknown")]
    df = pd.DataFrame(rows, columns=["key", "type", "environment"])
    df["title"] = "title of " + df["key"]
    df["is_pull_request"] = False
    return schema.conform(df, "issues")


def _links() -> Links:
    ic = pd.DataFrame([("K-1", "orders"), ("K-1", "payments"), ("K-2", "orders"), ("K-3", "payments")],
                      columns=["issue_key", "component"])
    ic["files"], ic["churn"] = 1, 10
    return Links(schema.empty("links"), schema.conform(ic, "issue_components"), schema.empty("unlinked_issues"))


def test_rates_env_only_failures_and_significance_by_hand():
    tc = schema.conform(pd.DataFrame([("t.test_a", "orders", 5), ("t.test_c", "orders", 2),
                                      ("t.test_b", "payments", 3)], columns=["test_id", "component", "lines"]),
                        "test_components")
    cs = pd.DataFrame([("o.py:1:p.f", "orders->payments")], columns=["call_site_id", "seam"])
    ex = schema.conform(pd.DataFrame([("t.test_a", "o.py:1:p.f")], columns=["test_id", "call_site_id"]),
                        "test_exercises")
    res = environment_comparison(_results(), test_components=tc, test_exercises=ex, call_sites=cs,
                                 min_executions=5)
    for name, table in (("environment_failure_rates", res.failure_rates), ("env_only_failures", res.env_only_failures),
                        ("environment_significance", res.significance)):
        schema.check(table, name)
    rates = res.failure_rates.set_index("environment")
    # isolated: 4 tests x 3 runs = 12 executions, 1 failure (d); integrated: a 3 + b 2 + d 3 = 8 of 12
    assert rates.loc["isolated", ["tests", "runs", "executions", "failed"]].tolist() == [4, 3, 12, 1]
    assert rates.loc["integrated", "failed"] == 8 and rates.loc["integrated", "failure_rate"] == 8 / 12
    assert list(rates.index) == ["isolated", "integrated"]  # vocabulary order

    env_only = res.env_only_failures
    assert env_only["test_id"].tolist() == ["t.test_a"]
    a = env_only.iloc[0]
    assert (a["lower_runs"], a["higher_runs"], a["higher_failed"], a["higher_failure_share"]) == (3, 3, 3, 1.0)
    assert a["components"] == ["orders"] and a["seams"] == ["orders->payments"]
    assert a["message"] == "boom integrated 1"
    assert res.summary["flaky_excluded"] == ["t.test_b", "t.test_d"]

    # significance over tests flaky nowhere (a, c): lower 0 failed / 6 passed, higher 3 failed / 3 passed.
    # Fisher, margins 6/6 rows and 3/9 columns: P(x) = C(6,x) C(6,3-x) / C(12,3) = 20, 90, 90, 20 over 220;
    # two-sided p = P(0) + P(3) = 40/220 = 2/11. Haldane OR = (3.5 * 6.5) / (3.5 * 0.5) = 13; RD = 0.5 - 0 = 0.5
    sig = res.significance.set_index("scope")
    overall = sig.loc["overall"]
    assert [overall[c] for c in ("lower_failed", "lower_passed", "higher_failed", "higher_passed")] == [0, 6, 3, 3]
    assert overall["p_value"] == pytest.approx(2 / 11)
    assert overall["odds_ratio"] == pytest.approx(13.0) and overall["risk_difference"] == 0.5
    assert overall["verdict"].startswith("no significant difference")
    # per component: orders has a and c (the same table); payments only has flaky b -> not enough data
    assert sig.loc["orders", "p_value"] == pytest.approx(2 / 11)
    assert sig.loc["payments", "verdict"].startswith("not enough data") and math.isnan(sig.loc["payments", "p_value"])
    assert res.summary["p_value"] == pytest.approx(2 / 11)
    # per seam: only a executes orders->payments: lower 0/3, higher 3/3 -> 3 + 3 executions, below 5 -> not enough
    assert sig.loc["orders->payments", ["lower_failed", "lower_passed", "higher_failed", "higher_passed"]].tolist() \
        == [0, 3, 3, 0]
    assert sig.loc["orders->payments", "verdict"].startswith("not enough data")
    assert list(sig.index) == ["overall", "orders", "payments", "orders->payments"]

    # the default minimum (10 executions per environment) refuses to read 6 vs 6
    default = environment_comparison(_results())
    assert default.significance.iloc[0]["verdict"].startswith("not enough data")
    assert default.summary["p_value"] is None
    assert default.env_only_failures.iloc[0]["components"] == []  # no coverage given: nothing touched known


def test_most_runs_rule_and_skips():
    # e: passes isolated; integrated fail, fail, skipped -> 2 of 2 runs that ran failed -> environment-only.
    # f: passes isolated (one skip); integrated fails 1 of 3 and passes 2 -> flaky, excluded.
    # g: never ran in integrated -> not compared. h: fails in isolated too -> not environment-only.
    res = environment_comparison(_results({"t.e": ("ppp", "ffs"), "t.f": ("pps", "fpp"), "t.g": ("ppp", "sss"),
                                           "t.h": ("fff", "fff")}))
    assert res.env_only_failures["test_id"].tolist() == ["t.e"]
    e = res.env_only_failures.iloc[0]
    assert (e["lower_runs"], e["higher_runs"], e["higher_failed"]) == (3, 2, 2)


def test_fisher_row_significant_and_effect_sizes():
    # lower 0/20 failed, higher 10/20 failed. Two-sided Fisher: only x=10 and x=0 are as extreme,
    # each C(20,10) / C(40,10) = 184756 / 847660528, so p = 2 * 184756 / 847660528
    row = fisher_row("overall", 0, 20, 10, 10, lower="isolated", higher="integrated")
    assert row["p_value"] == pytest.approx(2 * 184756 / 847660528, rel=1e-9)
    assert row["risk_difference"] == 0.5
    assert row["odds_ratio"] == pytest.approx((10.5 * 20.5) / (10.5 * 0.5))  # 41.0
    assert row["verdict"].startswith("integrated fails more often than isolated")
    few = fisher_row("x", 0, 3, 2, 1)
    assert few["verdict"].startswith("not enough data") and math.isnan(few["p_value"])


def test_escapes_per_component_and_seam_by_hand():
    res = environment_comparison(_results(), issues=_issues(), links=_links())
    for name, table in (("escapes", res.escapes), ("escapes_by_component", res.escapes_by_component),
                        ("escapes_by_seam", res.escapes_by_seam), ("bugs_by_environment", res.bugs_by_environment)):
        schema.check(table, name)
    # bugs: K-1, K-2, K-3, K-5 (K-4 is a feature); escapes (production): K-1, K-3
    assert res.escapes["issue_key"].tolist() == ["K-1", "K-3"]
    assert res.escapes.iloc[0]["components"] == ["orders", "payments"]
    assert res.escapes.iloc[0]["pairs"] == ["orders<->payments"] and res.escapes.iloc[1]["pairs"] == []
    comp = res.escapes_by_component.set_index("component")
    # payments: K-1, K-3 both escapes; orders: K-1 escape, K-2 not
    assert comp.loc["payments", ["bugs", "escapes"]].tolist() == [2, 2] and comp.loc["payments", "escape_share"] == 1.0
    assert comp.loc["orders", ["bugs", "escapes"]].tolist() == [2, 1] and comp.loc["orders", "escape_share"] == 0.5
    assert res.escapes_by_component["component"].tolist() == ["payments", "orders"]  # most escapes first
    assert res.escapes_by_seam[["pair", "bugs", "escapes"]].values.tolist() == [["orders<->payments", 1, 1]]
    env = res.bugs_by_environment.set_index("environment")
    assert env["bugs"].to_dict() == {"integrated": 1, "production": 2, "unknown": 1}
    assert env.loc["production", "share"] == 0.5
    assert res.summary["bugs"] == 4 and res.summary["escapes"] == 2 and res.summary["escape_share"] == 0.5


def test_without_issues_or_results():
    res = environment_comparison(schema.empty("test_results"))
    assert res.failure_rates.empty and res.env_only_failures.empty and res.escapes.empty
    assert res.significance.iloc[0]["verdict"].startswith("not enough data")
    assert res.summary["escape_share"] is None and res.summary["issues_given"] is False


# ----------------------------------------------------------------------------- the sample, end to end
def test_sample_env_only_failures_and_escapes_match_truth(sample_evidence, sample_truth):
    ev, truth = sample_evidence, sample_truth
    if ev.test_results is None:
        pytest.skip("the sample's test results were not read")
    res = environment_comparison(ev.test_results, issues=ev.issues, links=ev.links,
                                 call_sites=ev.structure.call_sites, test_components=ev.test_components,
                                 test_exercises=ev.test_exercises)
    assert sorted(res.env_only_failures["test_id"]) == sorted(truth["env_only_failures"])
    assert set(truth["flaky_tests"]) <= set(res.summary["flaky_excluded"])
    assert not set(truth["flaky_tests"]) & set(res.env_only_failures["test_id"])
    bugs = [i for i in truth["issues"] if i["type"] == "bug"]
    expected = sorted(i["key"] for i in bugs if i["environment"] == "production")
    assert sorted(res.escapes["issue_key"]) == expected
    assert res.summary["bugs"] == len(bugs)


# ----------------------------------------------------------------------------- multiple comparisons
def test_benjamini_hochberg_by_hand():
    from toolkit.analyze.environment_comparison import benjamini_hochberg

    # m = 8 sorted p: p*m/rank = .008 .032 .104 .082 .0672 .08 .08457 .205; the running minimum from the top
    # rank down gives q = .008 .032 .0672 .0672 .0672 .08 .08457 .205
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    q = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.074 * 8 / 7, 0.205]
    assert benjamini_hochberg(p) == pytest.approx(q)
    # any order in, the same order out; a NaN (test not run) stays NaN and is not one of the m tests:
    # m = 4, sorted .005 .01 .03 .04 -> .02 .02 .04 .04
    got = benjamini_hochberg([0.01, float("nan"), 0.04, 0.03, 0.005])
    assert math.isnan(got[1])
    assert [got[0], got[2], got[3], got[4]] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([0.9, 0.8]).tolist() == pytest.approx([0.9, 0.9])  # never above 1, monotone
    assert benjamini_hochberg([]).size == 0 and math.isnan(benjamini_hochberg([float("nan")])[0])


def test_verdicts_use_the_adjusted_p_and_show_both():
    # test_s fails integrated 6 of 12 runs and never isolated: significant alone (p = 0.014) ...
    outcomes = {"t.test_s": ("p" * 12, "ffffffpppppp")}
    # ... plus nine components with no difference at all, each touched by its own stable test
    for i in range(9):
        outcomes[f"t.test_{i}"] = ("p" * 12, "p" * 12)
    rows = [("t.test_s", "hot", 1)] + [(f"t.test_{i}", f"comp{i}", 1) for i in range(9)]
    tc = schema.conform(pd.DataFrame(rows, columns=["test_id", "component", "lines"]), "test_components")
    results = _results(outcomes)
    results["commit"] = results["run_id"]  # a commit per run: failing half the runs is not flakiness here
    res = environment_comparison(results, test_components=tc)
    sig = res.significance.set_index("scope")
    schema.check(res.significance, "environment_significance")
    hot = sig.loc["hot"]
    # Fisher on [[6, 6], [0, 12]]: P(6 failures all integrated) = 2 * C(12,6) C(12,0) / C(24,6) = 1848 / 134596
    assert hot["p_value"] == pytest.approx(2 * 924 / 134596)
    # 11 tests ran (overall, hot, comp0..8); the comps' p = 1. hot is rank 1 (p = .0137), overall rank 2
    # (6/120 vs 0/120: p = .0294); q_hot = min(.0137*11, .0294*11/2, 1) = .151, also q_overall = .162
    p_overall = sig.loc["overall", "p_value"]
    assert p_overall < 0.05
    assert hot["p_adjusted"] == pytest.approx(min(hot["p_value"] * 11, p_overall * 11 / 2))
    assert sig.loc["overall", "p_adjusted"] == pytest.approx(p_overall * 11 / 2)
    assert sig.loc["comp0", "p_adjusted"] == pytest.approx(1.0)
    # significant alone, not once eleven comparisons are corrected for; the verdict says both numbers
    assert hot["verdict"].startswith("no significant difference once 11 comparisons are corrected for")
    assert "p=0.014" in hot["verdict"] and "q=0.15" in hot["verdict"]
    assert res.summary["p_adjusted"] == pytest.approx(sig.loc["overall", "p_adjusted"])
    assert res.summary["tests_corrected_for"] == 11
    # alone, the same table is significant (fisher_row is one test: q = p)
    alone = fisher_row("hot", 0, 12, 6, 6, lower="isolated", higher="integrated")
    assert alone["p_adjusted"] == alone["p_value"] and alone["verdict"].startswith("integrated fails more often")
