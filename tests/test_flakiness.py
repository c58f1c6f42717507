"""Flakiness and failures per environment, from real JUnit files written to disk."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.flakiness import failures_by_environment, flakiness
from toolkit.load.test_runs import load_test_runs

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"

BODY = {"passed": "", "failed": "<failure message='f'/>", "error": "<error message='e'/>", "skipped": "<skipped/>",
        "flaky": "<flakyFailure message='t'/>"}


def write_run(root: Path, rel: str, outcomes: dict[str, str], ts: str = "") -> None:
    cases = "".join(f"<testcase classname='t.m' name='{n}'>{BODY[o]}</testcase>" for n, o in outcomes.items())
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    stamp = f" timestamp='{ts}'" if ts else ""
    p.write_text(f"<testsuite name='s'{stamp}>{cases}</testsuite>")


def by_test(df: pd.DataFrame, env: str | None = None) -> pd.DataFrame:
    if env is not None:
        df = df[df["environment"] == env]
    return df.set_index("test_id")


def test_flaky_stable_and_flips(tmp_path):
    # natural run order: r2 before r10; a: P F P -> 2 flips; b always fails; c skipped once
    write_run(tmp_path, "integration/r1/x.xml", {"a": "passed", "b": "failed", "c": "passed", "d": "passed"})
    write_run(tmp_path, "integration/r10/x.xml", {"a": "passed", "b": "error", "c": "skipped", "d": "flaky"})
    write_run(tmp_path, "integration/r2/x.xml", {"a": "failed", "b": "failed", "c": "passed", "d": "passed"})
    write_run(tmp_path, "unit/r1.xml", {"a": "passed", "b": "passed"})
    df = load_test_runs(tmp_path)
    fl = flakiness(df)
    schema.check(fl, "flakiness")
    integ = by_test(fl, "integrated")
    assert integ.loc["t.m.a", ["runs", "passed", "failed", "flips"]].tolist() == [3, 2, 1, 2]
    assert bool(integ.loc["t.m.a", "is_flaky"])
    assert integ.loc["t.m.b", ["passed", "failed", "flips"]].tolist() == [0, 3, 0] and not integ.loc["t.m.b", "is_flaky"]
    assert integ.loc["t.m.c", ["runs", "passed", "failed"]].tolist() == [3, 2, 0] and not integ.loc["t.m.c", "is_flaky"]
    assert integ.loc["t.m.d", "reruns"] == 1 and bool(integ.loc["t.m.d", "is_flaky"])  # rerun to pass
    unit = by_test(fl, "isolated")
    assert not unit["is_flaky"].any() and unit.loc["t.m.b", "failed"] == 0
    assert fl["is_flaky"].iloc[0] and fl["commit"].isna().all()  # flaky first; no manifest -> commit NA


def test_commits_are_compared_separately(tmp_path):
    write_run(tmp_path, "ci/r1/x.xml", {"a": "passed"})
    write_run(tmp_path, "ci/r2/x.xml", {"a": "failed"})
    write_run(tmp_path, "ci/r3/x.xml", {"a": "failed"})
    (tmp_path / "manifest.json").write_text(json.dumps({"runs": {
        "ci/r1": {"commit": "c1"}, "ci/r2": {"commit": "c2"}, "ci/r3": {"commit": "c2"}}}))
    fl = flakiness(load_test_runs(tmp_path)).set_index("commit")
    assert not fl["is_flaky"].any()  # fixed-then-broken across commits is a regression, not flakiness
    assert fl.loc["c2", "runs"] == 2 and fl.loc["c1", "passed"] == 1


def test_order_by_manifest_run_then_timestamp_then_name(tmp_path):
    # a P, b P, c F: natural order a, b, c gives 1 flip; putting c in the middle gives 2
    write_run(tmp_path, "ci/a/x.xml", {"t": "passed"})
    write_run(tmp_path, "ci/b/x.xml", {"t": "passed"})
    write_run(tmp_path, "ci/c/x.xml", {"t": "failed"})
    (tmp_path / "manifest.json").write_text(json.dumps({"runs": {"ci/a": {"run": 1}, "ci/c": {"run": 2}, "ci/b": {"run": 3}}}))
    df = load_test_runs(tmp_path)
    assert flakiness(df)["flips"].tolist() == [2]
    df["run_seq"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df["timestamp"] = pd.to_datetime(df["run_id"].map({"ci/a": "2024-01-01", "ci/c": "2024-01-02", "ci/b": "2024-01-03"}), utc=True)
    assert flakiness(df)["flips"].tolist() == [2]
    df["timestamp"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    assert flakiness(df)["flips"].tolist() == [1]


def test_duplicate_rows_in_one_run_collapse(tmp_path):
    write_run(tmp_path, "ci/r1/x.xml", {"a": "passed"})
    write_run(tmp_path, "ci/r1/y.xml", {"a": "failed"})  # same test twice in one run: the run failed
    write_run(tmp_path, "ci/r2/x.xml", {"a": "failed"})
    fl = flakiness(load_test_runs(tmp_path))
    assert fl[["runs", "passed", "failed", "is_flaky"]].values.tolist() == [[2, 0, 2, False]]


def test_failures_by_environment(tmp_path):
    write_run(tmp_path, "unit/r1.xml", {"a": "passed", "b": "passed", "c": "skipped"})
    write_run(tmp_path, "integration/r1.xml", {"a": "failed", "b": "error", "c": "passed"})
    write_run(tmp_path, "integration/r2.xml", {"a": "failed", "b": "passed", "c": "skipped"})
    fe = failures_by_environment(load_test_runs(tmp_path))
    schema.check(fe, "failures_by_environment")
    assert fe["environment"].tolist() == ["isolated", "integrated"]
    row = fe.set_index("environment").loc["integrated"]
    assert row[["tests", "runs", "executions", "failed", "error", "skipped"]].tolist() == [3, 2, 6, 2, 1, 1]
    assert row["failure_rate"] == pytest.approx(3 / 5)
    assert fe.set_index("environment").loc["isolated", "failure_rate"] == 0.0


def test_empty_inputs():
    empty = schema.empty("test_results")
    schema.check(flakiness(empty), "flakiness")
    schema.check(failures_by_environment(empty), "failures_by_environment")


@pytest.mark.skipif(not (SAMPLE / "results").is_dir(), reason="sample results not generated yet")
def test_sample_flaky_tests_found(sample_truth):
    truth = sample_truth
    expected = {t if isinstance(t, str) else t.get("test_id") for t in truth.get("flaky_tests", [])}
    assert expected, "truth.json lists no flaky_tests"
    fl = flakiness(load_test_runs(SAMPLE / "results"))
    found = set(fl.loc[fl["is_flaky"], "test_id"])
    assert found & expected, (sorted(found)[:10], sorted(expected)[:10])


@pytest.mark.skipif(not (SAMPLE / "results").is_dir(), reason="sample results not generated yet")
def test_sample_env_only_failures_are_stable_not_flaky(sample_truth):
    truth = sample_truth
    expected = set(truth.get("env_only_failures", []))
    df = load_test_runs(SAMPLE / "results")
    assert df["commit"].notna().all()  # the sample's manifest gives every run its commit
    fl = flakiness(df)
    failing = fl[(fl["failed"] == fl["runs"]) & ~fl["is_flaky"]]
    only_integrated = set(failing.loc[failing["environment"] == "integrated", "test_id"]) - set(
        fl.loc[(fl["environment"] == "isolated") & (fl["failed"] > 0), "test_id"])
    assert expected and expected <= only_integrated, (expected, only_integrated)
