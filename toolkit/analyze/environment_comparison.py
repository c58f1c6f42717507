"""Deployment environment testing: what only a more integrated environment (or production) reveals.

A test that passes with fakes (``isolated``) and fails with the real neighbours
(``integrated``) points at an interaction nobody tested in isolation; a bug
first seen in production is one no lower environment caught. Both say where the
cheaper environments are not enough.

Definitions
    outcome of a test in a run
        failed if any of its rows in that run failed or errored, else passed if any
        passed, else skipped (skipped runs are not counted anywhere).
    failure rate per environment
        failed / executions, over test × run outcomes that ran.
    environment-only failure (``lower`` -> ``higher``)
        a test that passed in every lower-environment run it ran in (at least one),
        failed in more than half of its higher-environment runs, and is not flaky
        in either environment (``flakiness`` table: passed and failed at the same
        environment and commit, or rerun to pass). Flaky tests fail for timing and
        ordering reasons, not because the environment differs.
    escape
        a bug issue (``type == "bug"``) whose environment is ``production``
        (:func:`toolkit.vocab.environments.is_escape`). Its components are those its fix
        commits touched (``links.issue_components``); its seams are the unordered
        pairs of those components (a fix touching both sides of a pair is evidence
        the defect lived between them).
    significance
        Fisher's exact test (two-sided) on the 2×2 table of failed/passed
        executions in the lower vs the higher environment (tests flaky in either
        environment left out, as above), overall, per component (executions of
        the tests that execute that component, per ``test_components``) and per
        seam (tests executing one of its call sites, per ``test_exercises``). Effect sizes: risk difference (higher rate − lower
        rate) and the odds ratio with a Haldane correction (+0.5 in every cell, so
        a zero cell gives a finite ratio). Below ``min_executions`` in either
        environment the verdict is "not enough data" and no p-value is given.
    multiple comparisons
        one audit runs a test per component and per seam (dozens), so some raw p
        below ``alpha`` are expected by chance alone. Every p-value is adjusted
        with Benjamini–Hochberg over all tests of the comparison (``p_adjusted``,
        the q-value: the false discovery rate at which the row would be called
        significant) and verdicts use ``p_adjusted < alpha``; the raw ``p_value``
        stays beside it.
"""
from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, fisher_exact

from toolkit.vocab import schema
from toolkit.vocab.components import pair_name
from toolkit.vocab.environments import is_escape
from toolkit.analyze.flakiness import flakiness, in_environment_order
from toolkit.vocab.testids import base_test_id

__all__ = ["EnvironmentComparison", "benjamini_hochberg", "env_only_failures_per_seam", "environment_comparison",
           "fisher_row"]


@dataclass(frozen=True)
class EnvironmentComparison:
    """Tables (schemas of the same names in :mod:`toolkit.vocab.schema`) and a ``summary`` dict.

    ``failure_rates`` (environment_failure_rates), ``env_only_failures``, ``escapes``,
    ``escapes_by_component``, ``escapes_by_seam``, ``significance`` (environment_significance),
    ``bugs_by_environment``.
    """

    failure_rates: pd.DataFrame
    env_only_failures: pd.DataFrame
    escapes: pd.DataFrame
    escapes_by_component: pd.DataFrame
    escapes_by_seam: pd.DataFrame
    significance: pd.DataFrame
    bugs_by_environment: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _per_run(test_results: pd.DataFrame) -> pd.DataFrame:
    """One row per test × environment × run that ran: failed (bool), plus the first failure message."""
    outcome = test_results["outcome"].astype(object)
    work = pd.DataFrame({
        "test_id": test_results["test_id"].astype(object),
        "environment": test_results["environment"].astype(object),
        "run_id": test_results["run_id"].astype(object),
        "failed": outcome.isin(("failed", "error")).to_numpy(),
        "passed": (outcome == "passed").to_numpy(),
        "message": test_results["message"].astype(object).where(outcome.isin(("failed", "error")), None),
    })
    runs = work.groupby(["test_id", "environment", "run_id"], sort=True).agg(
        failed=("failed", "any"), passed=("passed", "any"), message=("message", "first")).reset_index()
    return runs[runs["failed"] | runs["passed"]].reset_index(drop=True)


def _rates(runs: pd.DataFrame) -> pd.DataFrame:
    if runs.empty:
        return schema.empty("environment_failure_rates")
    g = runs.groupby("environment", sort=False).agg(
        tests=("test_id", "nunique"), runs=("run_id", "nunique"), executions=("test_id", "size"),
        failed=("failed", "sum")).reset_index()
    g["failure_rate"] = g["failed"] / g["executions"]
    return schema.conform(in_environment_order(g), "environment_failure_rates")


def benjamini_hochberg(p_values: Any) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given.

    ``q_(i) = min over j >= i of p_(j) * m / j`` over the ``m`` finite p-values sorted
    ascending, capped at 1. NaN (a test that was not run: not enough data) stays NaN and
    is not counted in ``m``, so refusing to test a scope does not water down the others.
    """
    p = np.asarray(p_values, dtype="float64")
    q = np.full(p.shape, np.nan)
    ran = np.isfinite(p)
    if ran.any():
        q[ran] = false_discovery_control(p[ran], method="bh")
    return q


def _p(x: float) -> str:
    """A p-value for people: two significant digits."""
    return f"{x:.2g}"


def _verdict(row: dict[str, Any], *, lower: str, higher: str, alpha: float, tests: int) -> str:
    """The plain-language reading of a row whose ``p_value`` and ``p_adjusted`` are set; decided on ``p_adjusted``."""
    p, q = row["p_value"], row["p_adjusted"]
    hi_rate, lo_rate = row["higher_rate"], row["lower_rate"]
    rates = f"{hi_rate:.1%} {higher} vs {lo_rate:.1%} {lower}"
    adj = f"p={_p(p)}" if tests <= 1 else f"p={_p(p)}, adjusted for {tests} tests q={_p(q)}"
    if q < alpha:
        more = "more" if hi_rate > lo_rate else "less"
        return f"{higher} fails {more} often than {lower} ({rates}, {adj}): unlikely to be chance"
    if p < alpha:
        return (f"no significant difference once {tests} comparisons are corrected for ({rates}, {adj}; the raw "
                f"p alone would pass {alpha:g} by chance at this many tests)")
    return f"no significant difference ({rates}, {adj})"


def fisher_row(scope: str, lower_failed: int, lower_passed: int, higher_failed: int, higher_passed: int, *,
               lower: str = "lower", higher: str = "higher", min_executions: int = 10,
               alpha: float = 0.05) -> dict[str, Any]:
    """One ``environment_significance`` row: rates, risk difference, Haldane odds ratio, Fisher p, verdict.

    As a single test its ``p_adjusted`` equals ``p_value``; :func:`environment_comparison` adjusts it (and
    rewrites the verdict) across all the rows of one comparison.
    """
    n_low, n_high = lower_failed + lower_passed, higher_failed + higher_passed
    lo_rate = lower_failed / n_low if n_low else float("nan")
    hi_rate = higher_failed / n_high if n_high else float("nan")
    odds = ((higher_failed + 0.5) * (lower_passed + 0.5)) / ((higher_passed + 0.5) * (lower_failed + 0.5))
    row = {"scope": scope, "lower_failed": lower_failed, "lower_passed": lower_passed,
           "higher_failed": higher_failed, "higher_passed": higher_passed, "lower_rate": lo_rate,
           "higher_rate": hi_rate, "risk_difference": hi_rate - lo_rate, "odds_ratio": odds,
           "p_value": float("nan"), "p_adjusted": float("nan")}
    if n_low < min_executions or n_high < min_executions:
        row["verdict"] = (f"not enough data: {n_low} {lower} and {n_high} {higher} executions "
                          f"(at least {min_executions} each are needed)")
        return row
    _, p = fisher_exact([[higher_failed, higher_passed], [lower_failed, lower_passed]], alternative="two-sided")
    row["p_value"] = row["p_adjusted"] = float(p)
    row["verdict"] = _verdict(row, lower=lower, higher=higher, alpha=alpha, tests=1)
    return row


def _adjust(rows: list[dict[str, Any]], *, lower: str, higher: str, alpha: float) -> int:
    """Benjamini–Hochberg across ``rows`` (in place: ``p_adjusted`` and the verdicts); the number of tests."""
    q = benjamini_hochberg([r["p_value"] for r in rows])
    tests = int(np.isfinite(q).sum())
    for r, qi in zip(rows, q):
        if np.isfinite(qi):
            r["p_adjusted"] = float(qi)
            r["verdict"] = _verdict(r, lower=lower, higher=higher, alpha=alpha, tests=tests)
    return tests


def _by_test(pairs: Iterable[tuple[Any, Any]]) -> dict[str, set[str]]:
    """Test id, and its id without parameters -> the scopes (components or seams) of ``(test_id, scope)`` pairs."""
    out: dict[str, set[str]] = defaultdict(set)
    for t, scope in pairs:
        out[str(t)].add(str(scope))
        out[base_test_id(str(t))].add(str(scope))
    return dict(out)


def _components_by_test(test_components: pd.DataFrame | None) -> dict[str, set[str]]:
    if test_components is None or test_components.empty:
        return {}
    return _by_test(zip(test_components["test_id"].astype(object), test_components["component"].astype(object)))


def _seams_by_test(test_exercises: pd.DataFrame | None, call_sites: pd.DataFrame | None) -> dict[str, set[str]]:
    if test_exercises is None or call_sites is None or test_exercises.empty or call_sites.empty:
        return {}
    seam_of = dict(zip(call_sites["call_site_id"].astype(object), call_sites["seam"].astype(object)))
    return _by_test((t, seam_of[cs]) for t, cs in zip(test_exercises["test_id"].astype(object),
                                                      test_exercises["call_site_id"].astype(object)) if cs in seam_of)


def env_only_failures_per_seam(env_only_failures: pd.DataFrame | None) -> Counter[str]:
    """Seam -> the environment-only failures (``env_only_failures`` table) whose tests execute it."""
    if env_only_failures is None:
        return Counter()
    return Counter(str(s) for listed in env_only_failures["seams"]
                   if isinstance(listed, (list, tuple, np.ndarray)) for s in listed)


def _lookup(index: dict[str, set[str]], test_id: str) -> list[str]:
    return sorted(index.get(test_id) or index.get(base_test_id(test_id)) or ())


def environment_comparison(
    test_results: pd.DataFrame,
    *,
    flaky: pd.DataFrame | None = None,
    issues: pd.DataFrame | None = None,
    links: Any = None,
    call_sites: pd.DataFrame | None = None,
    test_components: pd.DataFrame | None = None,
    test_exercises: pd.DataFrame | None = None,
    lower: str = "isolated",
    higher: str = "integrated",
    min_executions: int = 10,
    alpha: float = 0.05,
) -> EnvironmentComparison:
    """Compare test outcomes between ``lower`` and ``higher`` and count production escapes.

    ``test_results``: schema ``test_results``. ``flaky``: the ``flakiness`` table
    (computed from ``test_results`` when omitted). ``issues``/``links``
    (:class:`toolkit.load.links.Links`): for escapes. ``test_components``,
    ``test_exercises`` + ``call_sites``: which components and seams a failing
    test touches. See the module docstring for every definition.
    """
    if test_results is None:
        raise ValueError("test_results is required (the test_results table, possibly empty)")
    runs = _per_run(test_results) if len(test_results) else pd.DataFrame(
        columns=["test_id", "environment", "run_id", "failed", "passed", "message"])
    rates = _rates(runs)

    if flaky is None:
        flaky = flakiness(test_results)
    flaky_in = {(str(t), str(e)) for t, e, f in zip(flaky["test_id"], flaky["environment"], flaky["is_flaky"]) if f}
    comps_of = _components_by_test(test_components)
    seams_of = _seams_by_test(test_exercises, call_sites)

    # ---- environment-only failures
    per_env = runs.groupby(["test_id", "environment"], sort=True).agg(
        n=("failed", "size"), failed=("failed", "sum")).reset_index()
    low = per_env[per_env["environment"] == lower]
    high = per_env[per_env["environment"] == higher]
    both = low.merge(high, on="test_id", suffixes=("_lo", "_hi"))
    flaky_tests = {t for t, e in flaky_in if e in (lower, higher)}
    hits = both[(both["failed_lo"] == 0) & (both["failed_hi"] * 2 > both["n_hi"]) & ~both["test_id"].isin(flaky_tests)]
    failed_hi = runs[(runs["environment"] == higher) & runs["failed"]].dropna(subset=["message"])
    first_msg = failed_hi.groupby("test_id", sort=False)["message"].first()
    rows = [{"test_id": t, "lower_runs": int(nl), "higher_runs": int(nh), "higher_failed": int(fh),
             "higher_failure_share": float(fh) / float(nh), "components": _lookup(comps_of, t),
             "seams": _lookup(seams_of, t), "message": first_msg.get(t)}
            for t, nl, nh, fh in zip(hits["test_id"], hits["n_lo"], hits["n_hi"], hits["failed_hi"])]
    env_only = schema.conform(pd.DataFrame(rows), "env_only_failures") if rows else schema.empty("env_only_failures")

    # ---- significance: executions of tests flaky in neither environment, overall and per component
    lh = per_env[per_env["environment"].isin((lower, higher)) & ~per_env["test_id"].isin(flaky_tests)]

    def counts(frame: pd.DataFrame) -> tuple[int, int, int, int]:
        lo = frame[frame["environment"] == lower]
        hi = frame[frame["environment"] == higher]
        return (int(lo["failed"].sum()), int((lo["n"] - lo["failed"]).sum()),
                int(hi["failed"].sum()), int((hi["n"] - hi["failed"]).sum()))

    sig_rows = [fisher_row("overall", *counts(lh), lower=lower, higher=higher, min_executions=min_executions,
                           alpha=alpha)]
    compared = per_env.loc[per_env["environment"].isin((lower, higher)), "test_id"].unique()
    for index in (comps_of, seams_of):  # components, then seams (names with "->")
        if not index:
            continue
        # every component/seam a compared test touches gets a row, even when only flaky tests reach it
        pairs = pd.DataFrame([(t, c) for t in compared for c in _lookup(index, t)], columns=["test_id", "scope"])
        joined = pairs.merge(lh, on="test_id", how="left")
        for scope in sorted(pairs["scope"].unique()):
            part = joined[joined["scope"] == scope].dropna(subset=["environment"])
            sig_rows.append(fisher_row(scope, *counts(part), lower=lower, higher=higher,
                                       min_executions=min_executions, alpha=alpha))
    tests = _adjust(sig_rows, lower=lower, higher=higher, alpha=alpha)
    sig = schema.conform(pd.DataFrame(sig_rows), "environment_significance")

    # ---- bugs per environment and escapes
    escapes, by_comp, by_seam, by_env = _escapes(issues, links)

    overall = sig.iloc[0]
    summary: dict[str, Any] = {
        "lower": lower,
        "higher": higher,
        "environments": rates["environment"].astype(object).tolist(),
        "env_only_failures": env_only["test_id"].astype(object).tolist(),
        "flaky_excluded": sorted(flaky_tests),
        "p_value": None if pd.isna(overall["p_value"]) else float(overall["p_value"]),
        "p_adjusted": None if pd.isna(overall["p_adjusted"]) else float(overall["p_adjusted"]),
        "tests_corrected_for": tests,
        "risk_difference": None if pd.isna(overall["risk_difference"]) else float(overall["risk_difference"]),
        "odds_ratio": float(overall["odds_ratio"]),
        "verdict": str(overall["verdict"]),
        "bugs": int(by_env["bugs"].sum()) if len(by_env) else 0,
        "escapes": int(len(escapes)),
        "escape_share": float(len(escapes) / by_env["bugs"].sum()) if len(by_env) and by_env["bugs"].sum() else None,
        "issues_given": issues is not None,
    }
    return EnvironmentComparison(rates, env_only, escapes, by_comp, by_seam, sig, by_env, summary)


def _escapes(issues: pd.DataFrame | None, links: Any) -> tuple[pd.DataFrame, ...]:
    if issues is None or issues.empty:
        return (schema.empty("escapes"), schema.empty("escapes_by_component"), schema.empty("escapes_by_seam"),
                schema.empty("bugs_by_environment"))
    from toolkit.load.links import bug_mask
    bugs = issues[bug_mask(issues).to_numpy()]
    env = bugs["environment"].astype(object).fillna("unknown")
    by_env = env.value_counts().rename_axis("environment").rename("bugs").reset_index()
    by_env["share"] = by_env["bugs"] / len(bugs) if len(bugs) else pd.Series(dtype="float64")
    by_env = schema.conform(in_environment_order(by_env), "bugs_by_environment")

    comps: dict[str, list[str]] = defaultdict(list)
    if links is not None and links.issue_components is not None:
        ic = links.issue_components
        for k, c in zip(ic["issue_key"].astype(object), ic["component"].astype(object)):
            comps[k].append(c)
    esc_rows, comp_rows, pair_rows = [], [], []
    for key, title, e in zip(bugs["key"].astype(object), bugs["title"].astype(object), env):
        cs = sorted(set(comps.get(key, [])))
        pairs = [pair_name(a, b) for a, b in itertools.combinations(cs, 2)]
        esc = is_escape(e)
        if esc:
            esc_rows.append({"issue_key": key, "title": title, "components": cs, "pairs": pairs})
        comp_rows += [{"component": c, "escape": esc} for c in cs]
        pair_rows += [{"pair": p, "escape": esc} for p in pairs]
    escapes = schema.conform(pd.DataFrame(esc_rows), "escapes") if esc_rows else schema.empty("escapes")

    def tally(rows: list[dict], key: str, table: str) -> pd.DataFrame:
        if not rows:
            return schema.empty(table)
        df = pd.DataFrame(rows).groupby(key, sort=True).agg(bugs=("escape", "size"), escapes=("escape", "sum"))
        df = df.reset_index()
        df["escape_share"] = df["escapes"] / df["bugs"]
        df = df.sort_values(["escapes", "bugs", key], ascending=[False, False, True], kind="stable")
        return schema.conform(df.reset_index(drop=True), table)

    return escapes, tally(comp_rows, "component", "escapes_by_component"), tally(pair_rows, "pair", "escapes_by_seam"), by_env
