"""Does the seam ranking's definition hold on real repositories? Alternative formulations scored offline.

Not part of ``make test``: it needs full-history clones, which this script does not fetch::

    PYTHONPATH=. python benchmarks/ranking_eval.py /path/to/clones/* [--months 12 18 24] [--k 3 5]

Step 1 (slow, once per repository and revision, stored under ``--data``): as ``benchmarks/backtest_real.py`` does,
the repository's changelog bugs become an issue export, and at each revision ``--months`` before HEAD the
backtest's own pieces run (:func:`toolkit.core.evidence.evidence_as_of`, ``rank_seams`` on it,
:func:`toolkit.analyze.backtest.baselines`, :func:`~toolkit.analyze.backtest.later_fixes`). Kept: the ranking table
with every raw and factor column, churn per component, the coupling degree per pair and the later fixes' pairs.

Step 2 (pure pandas, seconds): every formulation in :data:`FORMULATIONS` orders the same seams and is scored with
:func:`toolkit.analyze.backtest.score_ranking`, the backtest's scoring. Printed: mean precision@k and top-20 %
share over the repository x revision cases that have a later fix to score, and how many cases it beats churn on.
Formulations with free weights are fitted leave-one-repository-out: weights chosen on the other repositories,
scored on the held-out one.
"""
from __future__ import annotations

import argparse
import itertools
import math
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from backtest_real import revision_before  # noqa: E402
from real_repos import changelog_export  # noqa: E402

from toolkit.analyze.backtest import score_ranking  # noqa: E402
from toolkit.analyze.seam_ranking import DEFAULT_WEIGHTS  # noqa: E402
from toolkit.vocab.components import pair_name  # noqa: E402


# ---- step 1: the evidence, once -------------------------------------------------------------------------------
def collect(repo: Path, months: list[int], data: Path) -> list[Path]:
    """Store one case per revision (``data/<repo>@<months>m.pkl``); cases stored already are kept."""
    from toolkit.analyze.backtest import baselines, later_fixes
    from toolkit.analyze.seam_ranking import rank_seams
    from toolkit.config import AuditConfig
    from toolkit.core.evidence import evidence_as_of, load_evidence
    from toolkit.core.findings import Findings

    out = {m: data / f"{repo.name}@{m}m.pkl" for m in months}
    todo = [m for m in months if not out[m].exists()]
    if not todo:
        return list(out.values())
    with tempfile.TemporaryDirectory() as tmp:
        export = changelog_export(repo, Path(tmp))
        if export is None:
            print(f"{repo.name}: the changelog names no bug; skipped", file=sys.stderr)
            return []
        full_ev = load_evidence(AuditConfig(repo=repo, issues=(export,)))
        full_f = Findings(full_ev)
        bugs = None if full_f.bugs is None else full_f.bugs.bugs
        links = None if full_ev.issues is None or full_ev.links is None else full_ev.links.links
        for m in todo:
            rev, date = revision_before(repo, m)
            ev, known, _when = evidence_as_of(full_ev, rev, [])
            ranking = rank_seams(**Findings(ev).ranking_inputs()).table
            churn_by, degree = baselines(ev.history, ev.components)
            later, unplaced = later_fixes(bugs, links, full_ev.history.file_changes, full_ev.components, known)
            case = {"repo": repo.name, "months": m, "at": rev, "date": date, "ranking": ranking,
                    "churn_by": churn_by, "degree": degree, "fixes": later["pairs"].tolist(), "unplaced": unplaced,
                    "changes": component_changes(ev.history, ev.components)}
            out[m].write_bytes(pickle.dumps(case))
            print(f"{repo.name} {m}m ({date}): {len(ranking)} seams, {len(later)} later fixes", file=sys.stderr)
    return [p for p in out.values() if p.exists()]


def component_changes(history, components) -> pd.DataFrame:
    """One row per (commit, component) up to REV: ``sha``, ``timestamp``, ``component``, ``lines`` (added +
    deleted), so formulations can read change volume over any window offline."""
    from toolkit.load.history import change_components

    fc = history.file_changes
    ts = dict(zip(history.commits["sha"].astype(str), history.commits["timestamp"]))
    t = fc.assign(component=change_components(fc, components), lines=fc["added"].fillna(0) + fc["deleted"].fillna(0))
    t = t.dropna(subset=["component"]).assign(sha=lambda d: d["sha"].astype(str), component=lambda d: d["component"].astype(str))
    t = t.groupby(["sha", "component"], as_index=False)["lines"].sum()
    t["timestamp"] = t["sha"].map(ts)
    return t


# ---- step 2: formulations, offline --------------------------------------------------------------------------------
def features(case: dict) -> pd.DataFrame:
    """The ranking table at REV (component seams) with the columns the formulations read."""
    t = case["ranking"]
    t = t[t["level"] == "component"].reset_index(drop=True).copy()
    churn = case["churn_by"]
    t["caller_churn"] = t["caller_component"].map(lambda c: churn.get(str(c), 0.0)).astype(float)
    t["callee_churn"] = t["callee_component"].map(lambda c: churn.get(str(c), 0.0)).astype(float)
    t["churn"] = t["caller_churn"] + t["callee_churn"]
    t["degree_all"] = [case["degree"].get(pair_name(a, b), 0.0)
                       for a, b in zip(t["caller_component"], t["callee_component"])]
    ch = case.get("changes")
    if ch is not None and len(ch):
        end = ch["timestamp"].max()
        for days in (90, 365, None):
            w = ch if days is None else ch[ch["timestamp"] >= end - pd.Timedelta(days=days)]
            tag = "all" if days is None else f"{days}d"
            lines = w.groupby("component")["lines"].sum()
            commits = w.groupby("component")["sha"].nunique()
            comps_of = w.groupby("sha")["component"].agg(frozenset)
            both = [sum(1 for cs in comps_of if a in cs and b in cs)
                    for a, b in zip(t["caller_component"].astype(str), t["callee_component"].astype(str))]
            t[f"lines_{tag}"] = [float(lines.get(a, 0) + lines.get(b, 0)) for a, b in
                                 zip(t["caller_component"].astype(str), t["callee_component"].astype(str))]
            t[f"commits_{tag}"] = [float(commits.get(a, 0) + commits.get(b, 0)) for a, b in
                                   zip(t["caller_component"].astype(str), t["callee_component"].astype(str))]
            t[f"cochange_{tag}"] = np.array(both, dtype=float)
    n_comp = max(1, len(set(t["caller_component"]) | set(t["callee_component"])) - 1)
    fan_in = t.groupby("callee_component")["caller_component"].nunique()
    t["callee_fan_in"] = t["callee_component"].map(fan_in).astype(float) / n_comp
    return t


def rank01(s: pd.Series) -> pd.Series:
    """Percentile rank in 0..1 (ties share their mean rank; all equal -> 0): scale-free."""
    s = s.astype(float).fillna(0.0)
    if s.nunique() <= 1:
        return s * 0.0
    return (s.rank(method="average") - 1) / (len(s) - 1)


def logmax(s: pd.Series) -> pd.Series:
    s = s.astype(float).clip(lower=0).fillna(0.0)
    top = float(s.max())
    return np.log1p(s) / math.log1p(top) if top > 0 else s * 0.0


#: DEFAULT_WEIGHTS before this evaluation
PREVIOUS = {"structural": 1.0, "change_coupling": 1.0, "bug_history": 2.0, "integration_gap": 2.0,
           "mock_overuse": 1.5, "doc_gap": 0.5, "drift": 0.5, "environment": 1.0, "recent_change": 1.0}
#: evidence that the seam is likely to break (it is used, changed, broke before) ...
LIKELIHOOD = ("structural", "change_coupling", "bug_history", "drift", "environment", "recent_change")
#: ... and evidence that a break would go unnoticed (no real test crosses it, tests mock it, undocumented)
UNGUARDED = ("integration_gap", "mock_overuse", "doc_gap")
#: raw counts behind the scaled factors (the ratios integration_gap, mock_overuse, doc_gap are used as given)
RAW = {"structural": ("call_sites", "imports"), "change_coupling": ("coupling_degree",),
       "bug_history": ("integration_bugs", "escapes", "open_bugs"), "drift": ("drift_events",),
       "environment": ("env_only_failures",), "recent_change": ("recent_commits",), "churn": ("churn",)}


_FACTORS: dict[tuple, pd.DataFrame] = {}


def factors(t: pd.DataFrame, scale: str = "logmax", fan_in_discount: bool = False) -> pd.DataFrame:
    key = (id(t), scale, fan_in_discount)
    if key not in _FACTORS:
        _FACTORS[key] = _factors(t, scale, fan_in_discount)
    return _FACTORS[key]


def _factors(t: pd.DataFrame, scale: str, fan_in_discount: bool) -> pd.DataFrame:
    """Factor columns 0..1. ``scale``: "logmax" (shipped: log1p(n)/log1p(max n)), "rank" (percentile rank,
    scale-free) or "shipped" (the table's own f_* columns). ``churn``: lines changed in both components.
    ``fan_in_discount``: the unguarded factors times (1 - share of other components calling the callee)."""
    f = pd.DataFrame(index=t.index)
    for n in PREVIOUS:
        f[n] = t[f"f_{n}"]
    if scale != "shipped":
        sc = rank01 if scale == "rank" else logmax
        for n, cols in RAW.items():
            if n == "change_coupling" and scale == "logmax":
                continue  # shipped: degree / 100
            f[n] = sc(sum((t[c].astype(float).fillna(0.0) for c in cols), pd.Series(0.0, index=t.index)))
    else:
        f["churn"] = logmax(t["churn"])
    for tag in ("90d", "365d", "all"):
        if f"lines_{tag}" in t:
            top = float(t[f"lines_{tag}"].max())
            f[f"volume_{tag}"] = t[f"lines_{tag}"] / top if top > 0 else t[f"lines_{tag}"] * 0.0  # linear share
            f[f"cochange_{tag}"] = (rank01 if scale == "rank" else logmax)(t[f"cochange_{tag}"])
            top = float(t[f"commits_{tag}"].max())
            f[f"commits_lin_{tag}"] = t[f"commits_{tag}"] / top if top > 0 else t[f"commits_{tag}"] * 0.0
            f[f"commits_log_{tag}"] = logmax(t[f"commits_{tag}"])
    if fan_in_discount:
        for n in UNGUARDED:
            f[n] = f[n] * (1.0 - t["callee_fan_in"])
    return f


def additive(w: dict[str, float], **kw) -> Callable[[pd.DataFrame], pd.Series]:
    def fn(t: pd.DataFrame) -> pd.Series:
        f = factors(t, **kw)
        return sum((f[n] * v for n, v in w.items() if v), pd.Series(0.0, index=t.index))
    return fn


def product(w: dict[str, float], base: float = 1.0, **kw) -> Callable[[pd.DataFrame], pd.Series]:
    """likelihood x (base + unguarded): a seam nobody changes or breaks is not urgent however untested, and
    among likely ones the unguarded come first."""
    def fn(t: pd.DataFrame) -> pd.Series:
        f = factors(t, **kw)
        like = sum((f[n] * w.get(n, 0.0) for n in f if n not in UNGUARDED), pd.Series(0.0, index=t.index))
        ung = sum((f[n] * w.get(n, 0.0) for n in UNGUARDED), pd.Series(0.0, index=t.index))
        return like * (base + ung)
    return fn


def f_churn(t: pd.DataFrame) -> pd.Series:
    return t["churn"]


def f_coupling(t: pd.DataFrame) -> pd.Series:
    return t["degree_all"]


WITH_CHURN = {**PREVIOUS, "churn": 1.0}
FORMULATIONS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "previous weights": ("the weighted sum with the weights before this evaluation", additive(PREVIOUS, scale="shipped")),
    "DEFAULT_WEIGHTS": ("the weighted sum with the shipped DEFAULT_WEIGHTS", additive(DEFAULT_WEIGHTS, scale="shipped")),
    "churn baseline": ("lines changed in both components up to REV", f_churn),
    "coupling baseline": ("code-maat degree of the pair up to REV", f_coupling),
    "sum, rank-scaled": ("the same weights over percentile ranks: no factor dominates by its scale",
                         additive(PREVIOUS, scale="rank")),
    "sum + churn": ("the shipped sum plus a churn factor (lines changed on both sides, log-max)",
                    additive(WITH_CHURN)),
    "sum, fan-in discount": ("unguarded factors x (1 - callee fan-in share): shared infrastructure is caught by "
                             "any test", additive(PREVIOUS, fan_in_discount=True)),
    "product": ("likelihood x (1 + unguarded): a seam nobody changes is not urgent however untested",
                product(PREVIOUS)),
    "product, rank": ("product over percentile ranks", product(PREVIOUS, scale="rank")),
    "product + churn": ("product with churn as likelihood", product(WITH_CHURN)),
    "product + churn, rank": ("product with churn, percentile ranks", product(WITH_CHURN, scale="rank")),
    "product, fan-in": ("product, unguarded discounted by callee fan-in", product(PREVIOUS, fan_in_discount=True)),
    "product + churn, rank, fan-in": ("all three", product(WITH_CHURN, scale="rank", fan_in_discount=True)),
    "volume x (1+unguarded), 365d": ("lines changed on both sides in the last year (linear share) x (1 + unguarded)",
                                     product({"volume_365d": 1.0, **{n: PREVIOUS[n] for n in UNGUARDED}})),
    "volume x (1+unguarded), all": ("the same over all history", product({"volume_all": 1.0, **{n: PREVIOUS[n] for n in UNGUARDED}})),
    "volume x (2+unguarded), all": ("the same, base 2", product({"volume_all": 1.0, **{n: PREVIOUS[n] for n in UNGUARDED}}, base=2.0)),
    "sum, coupling -> co-change count": ("coupling as commits touching both sides (log-max) instead of the degree %",
                                         additive({**{n: v for n, v in PREVIOUS.items() if n != "change_coupling"},
                                                   "cochange_all": 1.0})),
    "sum + volume 365d": ("the shipped sum plus volume_365d (weight 2)", additive({**PREVIOUS, "volume_365d": 2.0})),
    "sum, recent linear 90d": ("recent_change as a linear share of the sides' commits (90 days), not log",
                               additive({**PREVIOUS, "recent_change": 0, "commits_lin_90d": 1.0})),
    "sum, recent linear 365d": ("recent_change over a year, linear share", additive({**PREVIOUS, "recent_change": 0, "commits_lin_365d": 1.0})),
    "sum, recent linear 365d x2": ("recent_change over a year, linear share, weight 2", additive({**PREVIOUS, "recent_change": 0, "commits_lin_365d": 2.0})),
    "product, recent linear 365d": ("product with recent_change over a year, linear share",
                                    product({**PREVIOUS, "recent_change": 0, "commits_lin_365d": 1.0})),
    "product, recent linear 365d x2": ("the same, weight 2", product({**PREVIOUS, "recent_change": 0, "commits_lin_365d": 2.0})),
    "product, recent linear all x2": ("the same over all history", product({**PREVIOUS, "recent_change": 0, "commits_lin_all": 2.0})),
    "sum, recent_change -> volume 365d x2": ("recent_change redefined as lines changed on both sides in the last "
                                            "year (linear share), weight 2", additive({**PREVIOUS, "recent_change": 0, "volume_365d": 2.0})),
    "sum, recent_change -> volume 365d x2, fan-in": ("the same, unguarded discounted by callee fan-in",
        additive({**PREVIOUS, "recent_change": 0, "volume_365d": 2.0}, fan_in_discount=True)),
    "product(likelihood + volume)": ("product, likelihood adds volume_365d (weight 2)",
                                     product({**PREVIOUS, "volume_365d": 2.0})),
}


def order(t: pd.DataFrame, score: pd.Series) -> list[str]:
    s = pd.Series(score.to_numpy(dtype=float), index=t["seam"].astype(str))
    return sorted(s.index, key=lambda x: (-s[x], x))


def evaluate(cases: list[tuple[dict, pd.DataFrame]], fn: Callable[[pd.DataFrame], pd.Series], ks: list[int]
             ) -> pd.DataFrame:
    """One row per case: precision@k for each k and the top-20 % share."""
    rows = []
    for case, t in cases:
        seams = order(t, fn(t))
        pairs_of = {s: pair_name(a, b) for s, a, b in zip(t["seam"].astype(str), t["caller_component"],
                                                          t["callee_component"])}
        row = {"repo": case["repo"], "months": case["months"]}
        for k in ks:
            sc = score_ranking(seams, pairs_of, case["fixes"], k)
            row[f"p@{k}"] = sc["precision_at_k"]
            row["top20"] = sc["top20_share"]
        rows.append(row)
    return pd.DataFrame(rows)


def summary(per_case: pd.DataFrame, churn: pd.DataFrame, ks: list[int]) -> dict[str, float]:
    """Means over cases (each repository weighs the same: a mean of per-repository means) and the cases where
    precision@k[0] beats / loses to churn."""
    cols = [f"p@{k}" for k in ks] + ["top20"]
    by_repo = per_case.groupby("repo")[cols].mean()
    out = {c: float(by_repo[c].mean()) for c in cols}
    p = f"p@{ks[0]}"
    diff = per_case[p].to_numpy() - churn[p].to_numpy()
    out[f"{p} >churn"] = int((diff > 1e-9).sum())
    out[f"{p} <churn"] = int((diff < -1e-9).sum())
    return out


def objective(per_case: pd.DataFrame, ks: list[int]) -> float:
    cols = [f"p@{k}" for k in ks] + ["top20"]
    return float(per_case.groupby("repo")[cols].mean().mean().mean())


GRID = (0.0, 0.5, 1.0, 2.0, 4.0)


def fit(cases: list, make: Callable[[dict[str, float]], Callable], start: dict[str, float], ks: list[int],
        passes: int = 2) -> dict[str, float]:
    """Coordinate ascent over :data:`GRID` per weight, from ``start``, on ``cases`` (ties keep the earlier)."""
    w = dict(start)
    best = objective(evaluate(cases, make(w), ks), ks)
    for _ in range(passes):
        changed = False
        for n in list(w):
            for v in GRID:
                if v == w[n]:
                    continue
                trial = {**w, n: v}
                got = objective(evaluate(cases, make(trial), ks), ks)
                if got > best + 1e-9:
                    best, w, changed = got, trial, True
        if not changed:
            break
    return w


def leave_one_repo_out(cases: list, make: Callable[[dict[str, float]], Callable], start: dict[str, float],
                       ks: list[int]) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Each repository scored with weights fitted on the others."""
    rows, chosen = [], {}
    for repo in sorted({c["repo"] for c, _ in cases}):
        train = [x for x in cases if x[0]["repo"] != repo]
        held = [x for x in cases if x[0]["repo"] == repo]
        w = fit(train, make, start, ks)
        chosen[repo] = w
        rows.append(evaluate(held, make(w), ks))
    return pd.concat(rows, ignore_index=True), chosen


def sample_keeps_its_truth() -> Callable[[dict[str, float]], bool]:
    """Whether weights keep the sample's planted truth: its planted risky seams in the top 3 of the full ranking,
    and the seams its later fixes land on in the top 3 at the sample's backtest revision."""
    import json

    from toolkit import config as cfg
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings
    from toolkit.run.backtest import backtest

    bt = backtest(cfg.sample_config(), cfg.sample_backtest_rev())
    hit = {p for ps in bt.later_fixes["pairs"] for p in ps}
    full = Findings(load_evidence(cfg.sample_config())).ranking.table
    planted = set(json.loads((cfg.SAMPLE_DIR / "truth.json").read_text())["top_risky_seams"])

    def top3(t: pd.DataFrame, w: dict[str, float]) -> list[str]:
        t = t[t["level"] == "component"]
        return order(t, sum((t[f"f_{n}"] * v for n, v in w.items()), pd.Series(0.0, index=t.index)))[:3]

    def keeps(w: dict[str, float]) -> bool:
        at_rev = {pair_name(*s.split("->")) for s in top3(bt.ranking, w)}
        return planted <= set(top3(full, w)) and hit <= at_rev
    return keeps


#: the grid searched for DEFAULT_WEIGHTS (drift and environment kept: the clones give them no evidence)
WEIGHT_GRID = {"structural": (1.0, 2.0), "change_coupling": (1.0, 2.0), "bug_history": (2.0,),
               "integration_gap": (1.0, 1.5, 2.0), "mock_overuse": (1.0, 1.5), "doc_gap": (0.25, 0.5),
               "drift": (0.5,), "environment": (1.0,), "recent_change": (0.5, 1.0, 1.5)}


def grid_leave_one_repo_out(cases: list, ks: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The DEFAULT_WEIGHTS procedure, held out: among the :data:`WEIGHT_GRID` weights that keep the sample's truth,
    the best on the other repositories, scored on the held-out one. Returns its per-case scores and the choices."""
    keeps = sample_keeps_its_truth()
    names = list(WEIGHT_GRID)
    grid = [dict(zip(names, vs)) for vs in itertools.product(*WEIGHT_GRID.values())]
    grid = [w for w in grid if keeps(w)]
    per = [evaluate(cases, additive(w, scale="shipped"), ks) for w in grid]
    rows, chosen = [], {}
    for repo in sorted({c["repo"] for c, _ in cases}):
        train = [objective(ev[ev["repo"] != repo], ks) for ev in per]
        best = int(np.argmax(train))
        chosen[repo] = grid[best]
        rows.append(per[best][per[best]["repo"] == repo])
    return pd.concat(rows, ignore_index=True), pd.DataFrame(chosen).T


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repos", nargs="*", type=Path, help="clones to collect (default: every case in --data)")
    ap.add_argument("--months", type=int, nargs="+", default=[12, 18, 24])
    ap.add_argument("--k", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "seamscope-ranking-eval")
    ap.add_argument("--fit", action="store_true", help="also fit weights leave-one-repository-out (slower)")
    ap.add_argument("--per-repo", action="store_true", help="also print precision@k per repository")
    args = ap.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    for r in args.repos:
        collect(r, args.months, args.data)
    names = {r.name for r in args.repos}
    cases = []
    for p in sorted(args.data.glob("*.pkl")):
        case = pickle.loads(p.read_bytes())
        if (not names or case["repo"] in names) and case["months"] in args.months and case["fixes"]:
            cases.append((case, features(case)))
    repos = sorted({c["repo"] for c, _ in cases})
    print(f"{len(cases)} cases (repository x revision with a later fix) over {len(repos)} repositories: "
          + ", ".join(f"{c['repo']}@{c['months']}m" for c, _ in cases))
    if not cases:
        print("n/a: no case has a later fix that touched two components (nothing to score; pick older revisions)")
        return
    churn = evaluate(cases, f_churn, args.k)
    rows, per_repo = {}, {}
    for name, (_why, fn) in FORMULATIONS.items():
        ev = evaluate(cases, fn, args.k)
        rows[name] = summary(ev, churn, args.k)
        per_repo[name] = ev.groupby("repo")[f"p@{args.k[0]}"].mean()
    if args.fit:
        ev, chosen = grid_leave_one_repo_out(cases, args.k)
        name = "sum, sample-keeping grid (LOO)"
        rows[name] = summary(ev, churn, args.k)
        per_repo[name] = ev.groupby("repo")[f"p@{args.k[0]}"].mean()
        print(f"{name}: weights per held-out repository")
        print(chosen.to_string())
        for name, make, start in (
                ("sum, fitted (LOO)", lambda w: additive(w), PREVIOUS),
                ("sum, recent -> volume 365d, fitted (LOO)", lambda w: additive(w),
                 {**PREVIOUS, "recent_change": 0.0, "volume_365d": 2.0}),
                ("product, recent -> volume 365d, fitted (LOO)", lambda w: product(w),
                 {**PREVIOUS, "recent_change": 0.0, "volume_365d": 2.0})):
            ev, chosen = leave_one_repo_out(cases, make, start, args.k)
            rows[name] = summary(ev, churn, args.k)
            per_repo[name] = ev.groupby("repo")[f"p@{args.k[0]}"].mean()
            print(f"{name}: weights per held-out repository")
            print(pd.DataFrame(chosen).T.to_string())
    table = pd.DataFrame(rows).T
    print(f"\nmeans over repositories (each repository's revisions averaged first); "
          f"'>churn'/'<churn': cases where precision@{args.k[0]} beats / loses to the churn baseline")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.per_repo:
        print(f"\nprecision@{args.k[0]} per repository (mean over its revisions)")
        print(pd.DataFrame(per_repo).T.to_string(float_format=lambda v: f"{v:.2f}"))
    print("\n" + "\n".join(f"{n}: {why}" for n, (why, _fn) in FORMULATIONS.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
