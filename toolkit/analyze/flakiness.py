"""Flaky tests and failures per environment, from the ``test_results`` table.

A test that both passes and fails on the same code in the same environment is
flaky: its failures say little about integration defects and much about timing,
ordering or shared state. Separating it from stable failures keeps the
integration findings honest.

Definitions
    group
        one test_id in one environment at one commit. When the commit is unknown
        (<NA>), all runs of that environment are compared.
    outcome of a run
        a test seen several times in one run (parametrised duplicates, several
        suites) failed in that run if any of its rows failed or errored, else
        passed if any passed, else it was skipped.
    runs / passed / failed
        runs where the test appears / passed / failed or errored; skipped runs
        count in ``runs`` only.
    flips
        changes between passed and failed in consecutive non-skipped runs,
        ordered by ``run_seq``, then suite timestamp, then natural order of
        ``run_id``.
    is_flaky
        passed and failed in the same group, or passed after a rerun (Surefire
        ``flakyFailure``: the runner itself saw it fail and then pass).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.load.test_runs import natural_key
from toolkit.vocab.environments import ORDER, rank

__all__ = ["flakiness", "failures_by_environment", "in_environment_order"]

_KEYS = ["test_id", "environment", "commit"]
_NO_COMMIT = "\x1b<no commit>"  # NA commits must form a group (groupby drops NA keys)


def _per_run(test_results: pd.DataFrame) -> pd.DataFrame:
    """One row per test per run: failed / passed / reruns, in run order."""
    df = test_results
    outcome = df["outcome"].astype(object)
    commit = df["commit"].astype(object).where(df["commit"].notna(), _NO_COMMIT)  # NA must group, not drop
    run_seq = df["run_seq"] if "run_seq" in df.columns else pd.Series(pd.NA, index=df.index, dtype="Int64")
    work = pd.DataFrame({
        "test_id": df["test_id"].astype(object),
        "environment": df["environment"].astype(object),
        "commit": commit,
        "run_id": df["run_id"].astype(object),
        "failed": outcome.isin(("failed", "error")).to_numpy(),
        "passed": (outcome == "passed").to_numpy(),
        "reruns": df["reruns"].to_numpy(dtype="int64"),
    })
    runs = work.groupby(_KEYS + ["run_id"], sort=False).agg(
        failed=("failed", "any"), passed=("passed", "any"), reruns=("reruns", "sum")).reset_index()
    runs["passed"] &= ~runs["failed"]
    # run order: run_seq, then the run's earliest suite timestamp, then natural run_id
    meta = pd.DataFrame({"environment": work["environment"], "run_id": work["run_id"],
                         "seq": run_seq.astype("Float64").to_numpy(dtype="float64", na_value=np.nan),
                         "ts": df["timestamp"].dt.tz_convert(None).to_numpy()})
    order = meta.groupby(["environment", "run_id"], sort=False).agg(seq=("seq", "min"), ts=("ts", "min")).reset_index()
    def key(seq: float, ts: pd.Timestamp, run_id: str) -> tuple:
        return ((1, 0.0) if np.isnan(seq) else (0, seq), (1, 0) if pd.isna(ts) else (0, ts.value), natural_key(run_id))

    keys = [key(*row) for row in zip(order["seq"], order["ts"], order["run_id"])]
    pos = np.empty(len(keys), dtype="int64")
    pos[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    order["pos"] = pos
    runs = runs.merge(order[["environment", "run_id", "pos"]], on=["environment", "run_id"], how="left")
    return runs.sort_values(_KEYS + ["pos"], kind="stable")


def flakiness(test_results: pd.DataFrame) -> pd.DataFrame:
    """Per test × environment × commit: runs, passes, failures, reruns, flips and whether it is flaky.

    Returns the ``flakiness`` table (see :mod:`toolkit.vocab.schema`), flaky tests first.
    """
    if len(test_results) == 0:
        return schema.empty("flakiness")
    runs = _per_run(test_results)
    ran = runs[runs["failed"] | runs["passed"]]
    state, keys = ran["failed"].to_numpy(), ran[_KEYS].to_numpy()
    flip = np.zeros(len(ran), dtype="int64")
    if len(ran) > 1:  # a change of outcome between consecutive runs of one group
        flip[1:] = (keys[1:] == keys[:-1]).all(axis=1) & (state[1:] != state[:-1])
    ran = ran.assign(flip=flip)
    flips = ran.groupby(_KEYS, sort=False)["flip"].sum()
    runs["rerun_pass"] = runs["passed"] & (runs["reruns"] > 0)
    g = runs.groupby(_KEYS, sort=False).agg(
        runs=("run_id", "size"), passed=("passed", "sum"), failed=("failed", "sum"),
        reruns=("reruns", "sum"), rerun_pass=("rerun_pass", "any"))
    g["flips"] = flips.reindex(g.index, fill_value=0)
    g["is_flaky"] = ((g["passed"] > 0) & (g["failed"] > 0)) | g["rerun_pass"]
    out = g.drop(columns="rerun_pass").reset_index()
    out["commit"] = out["commit"].where(out["commit"] != _NO_COMMIT, None)
    out = out.sort_values(["is_flaky", "flips", "failed", "test_id"], ascending=[False, False, False, True], kind="stable")
    return schema.conform(out.reset_index(drop=True)[schema.columns("flakiness")], "flakiness")


def failures_by_environment(test_results: pd.DataFrame) -> pd.DataFrame:
    """Per environment: tests, runs, testcase rows, failed, error, skipped and failure rate.

    ``failure_rate`` = (failed + error) / rows that ran (skipped rows excluded).
    Returns the ``failures_by_environment`` table, environments in vocabulary order.
    """
    if len(test_results) == 0:
        return schema.empty("failures_by_environment")
    df = test_results
    outcome = df["outcome"].astype(object)
    work = pd.DataFrame({
        "environment": df["environment"].astype(object), "test_id": df["test_id"].astype(object),
        "run_id": df["run_id"].astype(object),
        "failed": (outcome == "failed"), "error": (outcome == "error"), "skipped": (outcome == "skipped"),
    })
    g = work.groupby("environment", sort=False).agg(
        tests=("test_id", "nunique"), runs=("run_id", "nunique"), executions=("test_id", "size"),
        failed=("failed", "sum"), error=("error", "sum"), skipped=("skipped", "sum")).reset_index()
    ran = g["executions"] - g["skipped"]
    g["failure_rate"] = ((g["failed"] + g["error"]) / ran.where(ran > 0)).astype("float64")
    return schema.conform(in_environment_order(g), "failures_by_environment")


def in_environment_order(df: pd.DataFrame) -> pd.DataFrame:
    """Rows by :data:`~toolkit.vocab.environments.ORDER` of their ``environment`` (unknown ones last, by name)."""
    key = [(rank(e) if rank(e) >= 0 else len(ORDER), e) for e in df["environment"]]
    return df.assign(_k=key).sort_values("_k").drop(columns="_k").reset_index(drop=True)
