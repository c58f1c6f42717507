"""Which seams to test first: one transparent risk score per seam, every factor visible.

The score is a weighted sum of factors, each normalised to 0..1 so a weight says
how much that kind of evidence matters (``DEFAULT_WEIGHTS``; ``AuditConfig.weights``
overrides by key). Risk is how likely the seam breaks and how unguarded it is: the
likelihood factors (change_coupling, bug_history, recent_change) weigh most, so among
seams equally likely to break the unguarded ones (integration_gap, mock_overuse) come
first, while a quiet seam no test reaches does not outrank busy ones on the gap alone.
Every factor's contribution (factor × weight) is its own column, so a reader can see
*why* a seam ranks where it does.

Factors (read from the tables :func:`rank_seams` is given — ``toolkit.core.findings.Findings.ranking`` passes
its cached analyses; the ``f.x`` names below say which. A code seam's call
sites, imports, status, tests_real and tests_mocking are read from ``f.interaction.seams``, never recounted)
    structural
        call sites + import statements across the seam (``f.interaction.seams``),
        log-scaled: ``log1p(n) / log1p(max n over seams)``.
    change_coupling
        code-maat coupling degree of the component pair (``f.logical_coupling``)
        / 100. Pair-level: both directions of a pair get it.
    bug_history
        integration bugs whose fixes touched both components
        (``f.cross_bugs.pairs.integration_bugs``), production escapes on the pair
        (``f.environments.escapes_by_seam``) and *open* integration/crossing bugs
        whose tracker components name both components (known, not yet fixed);
        ``log1p(n) / log1p(max n)``. Pair-level.
    integration_gap
        ``1 − integration call sites / call sites`` (``f.interaction.seams``);
        1 for seams exercised only through mocks or never; 0 for ``import_only``
        seams (imports but no call that can run: nothing to integration-test).
    mock_overuse
        ``tests mocking the callee side / (tests mocking + tests exercising it for real)``.
    doc_gap
        ``1 − mean interface-documentation score`` of the callee's interfaces used
        across the seam (``f.interfaces.seams``); 0.5 when unknown.
    drift
        interface drift events on the seam, ``log1p(n) / log1p(max n)``.
    environment
        tests failing only in the higher environment whose executed seams include
        this one (``f.environments.env_only_failures``), ``log1p``-scaled.
    recent_change
        commits in the last ``recent_days`` (default 90) before the newest commit
        that touched the seam's caller *and* callee component together, plus
        half-weight for commits touching only one side, ``log1p``-scaled. Recent
        edits next to an unverified seam are when breakage is introduced.

Generated code
    ``generated_sites`` counts a seam's call sites in files that declare themselves generated
    (:mod:`toolkit.vocab.generated`, table ``files`` column ``is_generated``). A seam whose
    every call site is in generated files keeps its score, and its reason says so first: what a reader opens
    there is data a tool wrote, not code to integration-test.

The reader's top list (:func:`top_of`)
    The pair-level factors (change_coupling, bug_history, recent_change) are the same for ``a->b`` and ``b->a``,
    so both directions of a busy pair would take two places at the top. Every list of the first seams shown to a
    reader (the summary's ``top``, findings.json's ``top_seams``, the report's first screen) is therefore ranked
    by pair: each unordered pair (per level) appears once, as its higher-ranked direction, naming the other
    direction and its rank (``reverse_rank``). The full table keeps every seam and its rank.

Extra seams (e.g. service-level seams from another analysis) can be passed as a
table with at least ``seam``, ``caller_component``, ``callee_component`` and a
``level`` column; their factor columns, when present, are used as given.
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any, Mapping

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.categories import ESTIMATED, IMPORT_ONLY, base_status, import_only_words
from toolkit.vocab.components import pair_name
from toolkit.load.history import change_components
from toolkit.analyze.environment_comparison import env_only_failures_per_seam

__all__ = ["DEFAULT_WEIGHTS", "FACTORS", "TOP", "SeamRanking", "one_per_pair", "open_bug_pairs", "rank_seams",
           "top_of"]

#: factor -> weight; ``AuditConfig.weights`` overrides by key. Evidence that a seam is likely to break (its sides
#: change together, it broke before, it is being edited) weighs more than the evidence that a break would go
#: unnoticed (no real test crosses it, its tests mock the callee): the gap is a static estimate that flags every
#: seam no test reaches by name, and weighted above the likelihood (2 vs 1) it put quiet helpers first. Chosen on
#: real backtests (``benchmarks/ranking_eval.py``: precision@3 0.42 -> 0.72 over 9 clones x 3 revisions) within
#: the range the leave-one-repository-out fits picked, keeping the sample's planted seams first.
DEFAULT_WEIGHTS: dict[str, float] = {
    "structural": 1.0,
    "change_coupling": 2.0,
    "bug_history": 2.0,
    "integration_gap": 1.0,
    "mock_overuse": 1.0,
    "doc_gap": 0.25,
    "drift": 0.5,
    "environment": 1.0,
    "recent_change": 1.5,
}
FACTORS: tuple[str, ...] = tuple(DEFAULT_WEIGHTS)
RECENT_DAYS = 90
#: how many seams the summary's ``top`` names
TOP = 3


@dataclass(frozen=True)
class SeamRanking:
    """``table``: schema ``seam_ranking`` (best first). ``weights``: the weights used.
    ``summary``: ``top`` (list of "seam: reason" for the first :data:`TOP` of :func:`top_of`), ``seams``,
    ``basis``."""

    table: pd.DataFrame
    weights: dict[str, float]
    summary: dict[str, Any] = field(default_factory=dict)


def _weights(cfg: Mapping[str, float] | None, weights: Mapping[str, float] | None) -> dict[str, float]:
    w = dict(DEFAULT_WEIGHTS)
    for src in (cfg or {}, weights or {}):
        for k, v in src.items():
            if k in w:  # config weights are shared with other methods: only our keys apply
                w[k] = float(v)
            elif src is weights:
                raise ValueError(f"unknown seam-ranking weight {k!r}; known: {sorted(w)}")
    return w


def _scaled(values: pd.Series) -> pd.Series:
    """log1p(v) / log1p(max v); 0 when every value is 0."""
    v = values.astype(float).clip(lower=0).fillna(0.0)
    top = float(v.max()) if len(v) else 0.0
    return (np.log1p(v) / math.log1p(top)).clip(0.0, 1.0) if top > 0 else v * 0.0


def _pair_counts(keys_by_pair: Mapping[str, float], seams: pd.DataFrame) -> pd.Series:
    return pd.Series([float(keys_by_pair.get(pair_name(a, b), 0.0))
                      for a, b in zip(seams["caller_component"], seams["callee_component"])], index=seams.index)


def open_bug_pairs(issues: pd.DataFrame | None, bugs: pd.DataFrame | None, links: pd.DataFrame | None,
                   component_names: Iterable[str]) -> dict[str, list[str]]:
    """pair -> open integration/crossing bugs (no linked fix) whose tracker components name both sides.

    ``issues``: schema ``issues``; ``bugs``: the categorized bugs (``key``, ``category``); ``links``: the fix
    links (``issue_key``), None when nothing was linked.
    """
    if issues is None or bugs is None:
        return {}
    names = set(component_names)
    linked = set(links["issue_key"].astype(str)) if links is not None else set()
    cat = dict(zip(bugs["key"].astype(str), bugs["category"].astype(object)))
    out: dict[str, list[str]] = defaultdict(list)
    for key, comps, open_ in zip(issues["key"].astype(str), issues["components"], issues["resolved"].isna().to_numpy()):
        if key not in cat or cat[key] not in ("integration",) or key in linked or not open_:
            continue
        named = sorted({str(c).strip().lower() for c in (comps if isinstance(comps, (list, tuple, np.ndarray)) else [])}
                       & names)
        for a, b in itertools.combinations(named, 2):
            out[pair_name(a, b)].append(key)
    return dict(out)


def _recent(commits: pd.DataFrame | None, fc: pd.DataFrame, components: Any, seams: pd.DataFrame, days: int
            ) -> pd.Series:
    if commits is None or len(commits) == 0 or len(fc) == 0:
        return pd.Series(0.0, index=seams.index)
    end = commits["timestamp"].max()
    recent = set(commits.loc[commits["timestamp"] >= end - pd.Timedelta(days=days), "sha"].astype(str))
    sub = fc[fc["sha"].astype(str).isin(recent)]
    touched: dict[str, set[str]] = defaultdict(set)
    for sha, c in zip(sub["sha"].astype(str), change_components(sub, components)):
        if c is not pd.NA:
            touched[sha].add(c)
    vals = []
    for a, b in zip(seams["caller_component"], seams["callee_component"]):
        both = sum(1 for cs in touched.values() if a in cs and b in cs)
        one = sum(1 for cs in touched.values() if (a in cs) != (b in cs))
        vals.append(both + 0.5 * one)
    return pd.Series(vals, index=seams.index, dtype=float)


def one_per_pair(seams: Iterable[str], pair_of: Mapping[str, Any]) -> list[str]:
    """``seams`` (best first) as a reader's list: the first seam of each pair (``pair_of[seam]``, any hashable key)
    in order, then the seams whose pair came earlier, in order. The one rule for every top-N list."""
    seams = list(seams)
    seen: set[Any] = set()
    first: list[Any] = []
    later: list[Any] = []
    for s in seams:
        (later if pair_of[s] in seen else first).append(s)
        seen.add(pair_of[s])
    return first + later


def _level(level: Any) -> str:
    return str(level) if isinstance(level, str) else "component"


def _pair_key(seam: str, level: Any) -> tuple[str, str]:
    a, sep, b = str(seam).partition("->")
    return (_level(level), pair_name(a, b) if sep else str(seam))


def top_of(table: pd.DataFrame, n: int | None = TOP) -> pd.DataFrame:
    """The first ``n`` rows (all with ``n=None``) a reader sees of a ranking table (schema ``seam_ranking``, or
    any table with ``seam``, ``rank`` and optionally ``level``): best first by ``rank``, one row per unordered pair
    and level (its higher-ranked direction), with ``reverse_rank``: the rank of the pair's other direction
    (<NA> when the table has none). Rows keep their ``rank`` in the full table."""
    if table is None or not len(table):
        return table
    t = table.sort_values("rank", kind="stable")
    levels = t["level"] if "level" in t.columns else pd.Series("component", index=t.index)
    keys = {i: _pair_key(s, lv) for i, s, lv in zip(t.index, t["seam"], levels)}
    rank_of = {(_level(lv), str(s)): r for s, lv, r in zip(t["seam"], levels, t["rank"])}
    shown = one_per_pair(list(t.index), keys)[:len(set(keys.values()))]  # the first row of each pair
    out = t.loc[shown if n is None else shown[:n]].copy()

    def reverse(seam: str, level: Any) -> Any:
        a, sep, b = str(seam).partition("->")
        return rank_of.get((_level(level), f"{b}->{a}"), pd.NA) if sep and a != b else pd.NA

    out["reverse_rank"] = pd.array([reverse(s, lv) for s, lv in zip(out["seam"], levels.loc[out.index])], dtype="Int64")
    return out


def other_direction(seam: str, reverse_rank: Any) -> str:
    """``"b->a (#k)"`` for a shown seam ``a->b`` whose other direction ranks k-th; "" when there is none."""
    if reverse_rank is None or pd.isna(reverse_rank):
        return ""
    a, _sep, b = str(seam).partition("->")
    return f"{b}->{a} (#{int(reverse_rank)})"


def _sites_list(cs: pd.DataFrame, seam: str, limit: int = 3, generated: frozenset = frozenset()) -> str:
    """The seam's call sites no integration test covers, hand-written files first."""
    sub = cs[(cs["seam"] == seam) & ~cs["status"].astype(str).str.startswith("integration")]
    if generated:
        sub = sub.assign(_gen=sub["path"].astype(str).isin(generated)).sort_values("_gen", kind="stable")
    locs = [f"{p}:{ln}" for p, ln in zip(sub["path"], sub["line"])]
    return ", ".join(locs[:limit]) + (f" (+{len(locs) - limit} more)" if len(locs) > limit else "")


def rank_seams(seams: pd.DataFrame, call_sites: pd.DataFrame, *, logical_coupling: pd.DataFrame,
               interface_seams: pd.DataFrame, commits: pd.DataFrame | None, file_changes: pd.DataFrame,
               components: Any, bug_pairs: pd.DataFrame | None = None, escapes_by_seam: pd.DataFrame | None = None,
               env_only_failures: pd.DataFrame | None = None, open_bugs: Mapping[str, list[str]] | None = None,
               basis: str | None = None, config_weights: Mapping[str, float] | None = None,
               weights: Mapping[str, float] | None = None, extra_seams: pd.DataFrame | None = None,
               recent_days: int = RECENT_DAYS, generated_paths: Iterable[str] = ()) -> SeamRanking:
    """Rank every seam of ``seams`` (plus ``extra_seams``) by the weighted factors of the module docstring.

    Inputs (``toolkit.core.findings.Findings.ranking_inputs`` gives them from one audit's cached analyses):
    ``seams``/``call_sites``: interaction coverage's per-seam and per-call-site tables (THE seam numbers);
    ``logical_coupling``: component change coupling (``entity``, ``coupled``, ``degree``); ``interface_seams``:
    documentation per seam (``mean_score``, ``drift_events``); ``commits``/``file_changes``/``components``: the
    history and the component mapping (recent changes); ``bug_pairs``: cross-component bugs per pair
    (``pair``, ``integration_bugs``); ``escapes_by_seam`` (``pair``, ``escapes``) and ``env_only_failures``
    (``seams``) from the environment comparison; ``open_bugs``: :func:`open_bug_pairs`; ``basis``: the coverage
    basis. ``config_weights``: the audit configuration's weights (keys of other methods ignored);
    ``weights``: overrides of :data:`DEFAULT_WEIGHTS` by key (an unknown key is a ValueError).
    ``generated_paths``: files that declare themselves generated (table ``files``, ``is_generated``).
    Returns :class:`SeamRanking` whose table follows schema ``seam_ranking``.
    """
    w = _weights(config_weights, weights)
    ic = seams
    base = ic[["seam", "caller_component", "callee_component", "imports", "call_sites"]
              + [c for c in ("unresolved_calls",) if c in ic]].copy()
    base["level"] = "component"
    if extra_seams is not None and len(extra_seams):
        defaults = {"imports": 0, "call_sites": 0, "level": "service"}
        extra = extra_seams.assign(**{c: v for c, v in defaults.items() if c not in extra_seams})
        base = pd.concat([base, extra], ignore_index=True)
    t = base.reset_index(drop=True)
    t["imports"] = t["imports"].fillna(0).astype("int64")
    t["call_sites"] = t["call_sites"].fillna(0).astype("int64")
    given = set(extra_seams.columns) if extra_seams is not None else set()

    # --- raw evidence per seam ------------------------------------------------
    lc = logical_coupling
    degree = {pair_name(a, b): float(d) for a, b, d in zip(lc["entity"], lc["coupled"], lc["degree"])} if len(lc) else {}
    t["coupling_degree"] = _pair_counts(degree, t)

    bugs_on = dict(zip(bug_pairs["pair"].astype(str), bug_pairs["integration_bugs"].astype(float))) \
        if bug_pairs is not None and len(bug_pairs) else {}
    escapes_on = dict(zip(escapes_by_seam["pair"].astype(str), escapes_by_seam["escapes"].astype(float))) \
        if escapes_by_seam is not None else {}
    env_fail = env_only_failures_per_seam(env_only_failures)
    open_bugs = dict(open_bugs or {})
    t["integration_bugs"] = _pair_counts(bugs_on, t).astype("int64")
    t["escapes"] = _pair_counts(escapes_on, t).astype("int64")
    t["open_bugs"] = _pair_counts({k: len(v) for k, v in open_bugs.items()}, t).astype("int64")
    # call-site evidence belongs to code seams only: a service seam may carry the same name ("orders->payments")
    code = t["level"] == "component"
    t["env_only_failures"] = t["seam"].map(lambda s: env_fail.get(s, 0.0)).where(code, 0).astype("int64")

    ic = ic.set_index("seam")
    t["status"] = t["seam"].map(ic["status"]).where(code).astype("string")
    for col, src in (("integration_sites", "integration"), ("tests_real", "tests_real"),
                     ("tests_mocking", "tests_mocking")):
        t[col] = t["seam"].map(ic[src]).where(code).fillna(0).astype("int64")

    ids = interface_seams.set_index("seam")
    t["doc_score"] = t["seam"].map(ids["mean_score"]).where(code).astype(float)
    t["drift_events"] = t["seam"].map(ids["drift_events"]).where(code).fillna(0).astype("int64")
    t["recent_commits"] = _recent(commits, file_changes, components, t, recent_days)
    generated = frozenset(str(p) for p in generated_paths)
    in_generated = call_sites[call_sites["path"].astype(str).isin(generated)] if generated else call_sites.iloc[:0]
    t["generated_sites"] = t["seam"].map(in_generated["seam"].value_counts()).where(code).fillna(0).astype("int64")

    # --- factors, 0..1 ----------------------------------------------------------
    fac: dict[str, pd.Series] = {}
    fac["structural"] = _scaled(t["call_sites"] + t["imports"])
    fac["change_coupling"] = (t["coupling_degree"] / 100.0).clip(0, 1)
    fac["bug_history"] = _scaled(t["integration_bugs"] + t["escapes"] + t["open_bugs"])
    status = t["status"].map(base_status).fillna("untested")  # a service seam without a code seam: untested
    gap = (1.0 - t["integration_sites"] / t["call_sites"].where(t["call_sites"] > 0)).fillna(0.0)
    gap = gap.where(status == "integration", 1.0).where(status != IMPORT_ONLY, 0.0)
    fac["integration_gap"] = gap.clip(0, 1)
    denom = (t["tests_mocking"] + t["tests_real"]).astype(float)
    fac["mock_overuse"] = (t["tests_mocking"] / denom.where(denom > 0)).fillna(0.0)
    fac["doc_gap"] = (1.0 - t["doc_score"]).fillna(0.5).clip(0, 1)
    fac["drift"] = _scaled(t["drift_events"])
    fac["environment"] = _scaled(t["env_only_failures"])
    fac["recent_change"] = _scaled(t["recent_commits"])
    for name in FACTORS:
        col = f"f_{name}"
        given_rows = t[col] if col in given and col in t else None
        t[col] = fac[name] if given_rows is None else given_rows.fillna(fac[name])
        t[f"c_{name}"] = t[col] * w[name]
    t["score"] = t[[f"c_{n}" for n in FACTORS]].sum(axis=1)
    t = t.sort_values(["score", "seam"], ascending=[False, True], kind="stable").reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1, dtype="int64")
    t["reason"] = [_reason(r, w) for r in t.itertuples(index=False)]
    t["recommendation"] = [_recommend(call_sites, r, generated) for r in t.itertuples(index=False)]
    t = schema.conform(t, "seam_ranking")
    top = [f"{r.seam}: {r.reason}" + (f" (the other direction, {o}, shares the pair's evidence)"
                                      if (o := other_direction(r.seam, r.reverse_rank)) else "")
           for r in top_of(t, TOP).itertuples()]
    return SeamRanking(table=t, weights=w, summary={"top": top, "seams": int(len(t)), "basis": basis})


def _reason(r: Any, w: Mapping[str, float]) -> str:
    """The strongest contributing factors, each said with its real numbers."""
    said = {
        "structural": f"{r.call_sites + r.imports} static reference(s) across it",
        "integration_gap": (
            (f"{r.call_sites} call site(s); no test found in source reaches both sides for real (an estimate: "
             "no per-test coverage given)" if str(r.status).endswith("_estimated") else
             f"{r.call_sites} call site(s), {r.integration_sites} exercised for real")
            if r.call_sites else "no test exercises it for real"),
        "mock_overuse": f"mocked by {r.tests_mocking} test(s) vs {r.tests_real} real",
        "bug_history": ", ".join(x for x in (
            f"{r.integration_bugs} integration bug(s) fixed across the pair" if r.integration_bugs else "",
            f"{r.escapes} production escape(s)" if r.escapes else "",
            f"{r.open_bugs} open integration bug(s) naming both sides" if r.open_bugs else "") if x),
        "change_coupling": f"change-coupled {r.coupling_degree:.0f}%",
        "doc_gap": f"callee docs score {r.doc_score:.2f}" if not pd.isna(r.doc_score) else "callee interfaces undocumented",
        "drift": f"{r.drift_events} interface drift event(s)",
        "environment": (f"{r.env_only_failures} test(s) fail only in the higher environment" if r.level == "component"
                        else "seen in production traces, exercised by no test"),
        "recent_change": f"{r.recent_commits:g} recent commit(s) per side",
    }
    contrib = sorted(((getattr(r, f"c_{n}"), n) for n in FACTORS if getattr(r, f"c_{n}") > 0), reverse=True)
    parts = list(dict.fromkeys(said[n] for _c, n in contrib[:4] if said[n]))  # each sentence once, in order
    if r.call_sites and r.generated_sites == r.call_sites:  # said first: the reader would open generated data
        parts.insert(0, f"all {r.call_sites} call site(s) are in generated files (their first lines say so)")
    return "; ".join(parts) if parts else "no risk evidence"


def _recommend(call_sites: pd.DataFrame, r: Any, generated: frozenset = frozenset()) -> str:
    """Map the strongest factor to the seed's remedies."""
    order = sorted(((getattr(r, f"c_{n}"), n) for n in FACTORS), reverse=True)
    top = [n for c, n in order if c > 0][:2]
    import_only = base_status(r.status) == IMPORT_ONLY
    for n in top:
        if n == "integration_gap" and r.call_sites:
            sites = _sites_list(call_sites, r.seam, generated=generated) \
                if getattr(r, "level", "component") == "component" else ""
            return f"add an integration test for these call sites: {sites}" if sites else \
                "add an integration test exercising this seam for real"
        if n == "mock_overuse" and not import_only:
            return "reduce mocks here: replace the callee mocks with the real component or a contract test"
        if n in ("bug_history", "change_coupling", "drift"):
            return "add contract tests at this seam (both sides verify the same interface)"
        if n == "environment":
            return "staging parity: align the configuration this seam uses across environments"
        if n == "doc_gap":
            return "document the interface (parameters, returns, raises, data contract)"
    if import_only:
        unresolved = int(getattr(r, "unresolved_calls", 0) or 0)
        return "imports only: " + import_only_words(unresolved)
    if base_status(r.status) == "integration" and r.tests_real:  # risky for another reason: its tests exist
        how = " (an estimate)" if str(r.status).endswith(ESTIMATED) else ""
        return f"already run for real by {r.tests_real} test(s){how}: check that they cover its recent changes"
    return "add an integration test exercising this seam for real"
