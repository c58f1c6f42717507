"""Would the seam ranking have pointed at the seams that broke next? A backtest on the team's own history.

Procedure
    1. *Known at REV*: the structure at ``at``, and the full history restricted to REV and its
       ancestors (what ``git log REV`` gives); issues created up to REV's commit date, with later
       resolutions hidden (``resolved`` after REV becomes NaT) and re-linked to the commits up to REV
       only; analyst labels dropped (they were decided later). Test results are kept only for runs on
       commits that are REV or its ancestors and dated no later than REV (test kinds see only those);
       coverage only when its recorded time is before REV — otherwise they are dropped and ``notes``
       says so.
    2. *What happened next*: from the full evidence, every bug categorised ``integration`` or whose
       fix crossed components, with linked fix commits *after* REV (not REV or its ancestors). Such a
       fix "lands in" every unordered pair of production components its post-REV fix commits touched.
       Bugs whose later fixes touched fewer than two components cannot land on a seam; they are
       counted in ``unplaced``.
    3. *Scores* for each ranking of the seams known at REV (ties broken by seam name):
       ``precision@k`` = share of the top k seams whose pair a later fix landed in;
       ``recall@k`` = share of the hit pairs with a seam in the top k;
       ``top20_share`` = share of placed later fixes with a pair among the top ⌈20 %⌉ seams.
    Baselines on the same seams and data: ``churn`` (lines added + deleted in both components up to
    REV) and ``change_coupling`` (code-maat degree of the pair up to REV with every threshold at its
    minimum, so the baseline sees every co-change).

The as-of-REV evidence is derived from the full audit's evidence rather than loaded again: only the
structure at REV (per-blob cached) and the mocks/test kinds of REV's test files are read, so a backtest
adds little to an audit whose evidence is already loaded (issue 8).
"""
from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from toolkit.vocab.components import pair_name
from toolkit.config import AuditConfig
from toolkit.load.history import change_components, with_current_paths

__all__ = ["BacktestResult", "backtest", "backtest_many", "by_revision", "prepare", "score_ranking"]


@dataclass(frozen=True)
class BacktestResult:
    """``scores``: one row per ranking (``ranking``, ``k``, ``precision_at_k``, ``recall_at_k``,
    ``top20_share``, ``top_seams``). ``rankings``: ranking name -> seams best first.
    ``later_fixes``: bug key, fix commits after REV, components, pairs. ``ranking``: the full
    :class:`~toolkit.analyze.seam_ranking.SeamRanking` table at REV. ``notes``: what was dropped and why."""

    at: str
    scores: pd.DataFrame
    rankings: dict[str, list[str]]
    later_fixes: pd.DataFrame
    ranking: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    unplaced: int = 0

    def beats_baselines(self) -> bool:
        """Ours is at least as good as each baseline on every score and better on at least one (False when no
        later fix could be placed on a seam: there is nothing to score)."""
        if not len(self.later_fixes):
            return False
        s = self.scores.set_index("ranking")[["precision_at_k", "recall_at_k", "top20_share"]]
        ours = s.loc["ours"]
        return all((ours >= s.loc[b]).all() and (ours > s.loc[b]).any() for b in s.index if b != "ours")

    def text(self) -> str:
        cols = ["ranking", "precision_at_k", "recall_at_k", "top20_share", "top_seams"]
        lines = [f"Backtest at {self.at[:12]}: {len(self.later_fixes)} later integration/cross-component fix(es)"
                 f" on {len({p for ps in self.later_fixes['pairs'] for p in ps})} pair(s); {self.unplaced} unplaced",
                 self.scores[cols].to_string(index=False)]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


def _coverage_when(path) -> pd.Timestamp | None:
    """The time coverage.py recorded in its data file's ``meta`` table, or None."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("select value from meta where key = 'when'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if not row:
        return None
    ts = pd.to_datetime(row[0], errors="coerce")
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _evidence_at(config: AuditConfig, at: str, notes: list[str]):
    """Reference path: everything reloaded with ``load_evidence`` at ``at`` (slow; tests check
    :func:`_evidence_as_of` gives the same result)."""
    from toolkit.core.evidence import load_evidence
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


def _isin(col: pd.Series, values: set[str]) -> pd.Series:
    """``col.astype(str).isin(values)``, fast for long columns of few distinct values (commit ids)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    hit = np.fromiter((str(u) in values for u in uniques), dtype=bool, count=len(uniques))
    return pd.Series(np.where(codes >= 0, hit[codes], False), index=col.index)


def _config_at(config, at: str, when, notes: list[str]):
    """The audit configuration as of ``at``: no analyst labels (decided later), and coverage only when it
    was recorded no later than the revision."""
    cfg = config.with_(at=at, labels=None)
    if config.labels is not None:
        notes.append("analyst labels dropped: they were decided after the revision")
    if config.coverage is not None:
        rec = _coverage_when(config.coverage)
        if rec is None or rec > when:
            cfg = cfg.with_(coverage=None)
            notes.append(f"coverage dropped: recorded {'at an unknown time' if rec is None else f'{rec:%Y-%m-%d}'}, "
                         f"not before the revision ({when:%Y-%m-%d})")
    return cfg


def _issues_at(ev, issues, when, notes: list[str], key: str | None = None) -> None:
    """Keep issues created by ``when`` (later resolutions count as open) and re-link them to ``ev``'s history
    (cached under ``key`` when given: what the full links were computed from, plus the revision)."""
    if issues is None:
        return
    from toolkit.runtime import cache
    from toolkit.load.links import link_fixes
    iss = issues[~(issues["created"] > when)].copy()
    later = iss["resolved"] > when
    iss.loc[later, "resolved"] = pd.NaT
    notes.append(f"issues: {len(iss)} of {len(issues)} created by the revision; "
                 f"{int(later.sum())} resolved later treated as open")
    ev.issues = iss.reset_index(drop=True)
    ev.links = cache.cached("evidence", key, lambda own: link_fixes(
        ev.issues, ev.history, ev.repo, rev=ev.history.head or "HEAD", components=ev.structure.components))


def _drop_after(ev, tests, known: set[str], when, notes: list[str]) -> None:
    """Keep test results run on REV or its ancestors no later than REV (``tests``: the full table)."""
    if tests is None:
        return
    ok = tests["commit"].astype(str).isin(known) & ~(pd.to_datetime(tests["timestamp"], utc=True) > when)
    if not ok.all():
        notes.append(f"test results: {int((~ok).sum())} of {len(tests)} rows dropped (run on a later commit "
                     "or after the revision)")
    ev.test_results = tests[ok.to_numpy()].reset_index(drop=True) if ok.any() else None
    if ev.test_results is None:
        ev.missing["test results"] = "no test run from before the revision"


def _evidence_as_of(full_ev, at: str, notes: list[str]):
    """What was known at ``at``, derived from the full evidence ``full_ev`` (same result as
    :func:`_evidence_at`): history = the full history restricted to ``at`` and its ancestors (one
    ``git rev-list``), issues filtered by date and re-linked; only the structure, mocks and test
    kinds at ``at`` are read (cached like :func:`toolkit.core.evidence.load_evidence` caches them)."""
    from toolkit.runtime import cache
    from toolkit.core.evidence import Evidence, cached_mocks, repository_key, test_file_reader
    from toolkit.load.history import History, load_history
    from toolkit.load.structure import load_structure
    from toolkit.load.test_kinds import classify_tests

    config, repo = full_ev.config, full_ev.repo
    head = repo.resolve(at)
    known = set(repo.git("rev-list", head).stdout.split())
    use_cache = cache.enabled()
    skips: list = []
    structure = load_structure(repo, rev=head, mapping=config.components, skips=skips, cache=use_cache)
    roots = structure.components.roots  # the source roots at REV: where moved modules' files are then
    full_h = full_ev.history
    commits = full_h.commits
    in_full = _isin(commits["sha"], known)
    if int(in_full.sum()) == len(known):
        fc = full_h.file_changes[_isin(full_h.file_changes["sha"], known).to_numpy()].reset_index(drop=True)
        fc = with_current_paths(fc, repo.list_files(head), roots)  # where the files were at REV, not now
        hist = History(commits[in_full.to_numpy()].reset_index(drop=True), fc, head, full_h.shallow)
    else:  # REV is not an ancestor of the full evidence's revision (e.g. past ``horizon``)
        hist = load_history(repo, rev=head, skips=[], roots=roots)
    when = hist.commits["timestamp"].max() if len(hist.commits) else pd.Timestamp.now(tz="UTC")

    cfg = _config_at(config, at, when, notes)
    rkey = repository_key(repo, at, config.components)
    ev = Evidence(config=cfg, repo=repo, structure=structure, history=hist, skips=skips,
                  missing=dict(full_ev.missing))
    ev.missing.pop("test results", None)
    if cfg.coverage is not None:
        from toolkit.load.coverage_contexts import exercised_call_sites, load_coverage, test_components
        ev.test_lines = load_coverage(cfg.coverage, structure.files["path"].tolist(), skips=skips)
        ev.test_exercises = exercised_call_sites(ev.test_lines, structure.call_sites)
        ev.test_components = test_components(ev.test_lines, structure.components)
    else:
        ev.missing["coverage"] = "dropped: not recorded before the revision"
    test_files = test_file_reader(structure, repo, head)
    ev.mocks, mkey = cached_mocks(structure, repo, head, rkey, test_files, skips)
    _drop_after(ev, full_ev.test_results, known, when, notes)
    # test kinds see only the results known at REV (as in _evidence_at): later runs may name tests REV lacks
    tkey = cache.key("test_kinds", mkey, full_ev.keys.get("test_results"), head,
                     full_ev.keys.get("coverage") if cfg.coverage is not None else None,
                     code=("toolkit.load.test_kinds", "toolkit.analyze.backtest"))
    ev.test_kinds = cache.cached(
        "evidence", tkey if use_cache and full_ev.keys else None,
        lambda own: classify_tests(structure, repo, head, mocks=ev.mocks, test_components=ev.test_components,
                                   test_results=ev.test_results, skips=own, test_files=test_files(own)), skips)
    lkey = None
    if use_cache and "links" in full_ev.keys:
        lkey = cache.key("links_as_of", full_ev.keys["links"], rkey, head,
                         code=("toolkit.load.links", "toolkit.analyze.backtest"))
    _issues_at(ev, full_ev.issues, when, notes, lkey)
    if full_ev.keys:  # analyses of this evidence are cached on what it was derived from (Evidence.cached)
        ev.keys = {"repository": rkey, "as_of": cache.key("backtest_as_of", at, head, sorted(full_ev.keys.items()),
                                                         code=("toolkit.analyze.backtest",))}
    return ev, known, when


def _later_fixes(full_ev, full_f, known: set[str]) -> tuple[pd.DataFrame, int]:
    cols = ["key", "category", "fix_commits", "components", "pairs"]
    if full_ev.issues is None or full_ev.links is None or full_f.bugs is None:
        return pd.DataFrame(columns=cols), 0
    bugs = full_f.bugs.bugs
    wanted = {k for k, c, cs in zip(bugs["key"].astype(str), bugs["category"].astype(object), bugs["components"])
              if c == "integration" or len(cs) >= 2}
    cat = dict(zip(bugs["key"].astype(str), bugs["category"].astype(object)))
    links = full_ev.links.links
    links = links[links["issue_key"].astype(str).isin(wanted) & ~_isin(links["sha"], known)]
    fc = full_ev.history.file_changes
    fc = fc[_isin(fc["sha"], set(links["sha"].astype(str)))]
    comps_of_sha: dict[str, set[str]] = {}
    for sha, c in zip(fc["sha"].astype(str), change_components(fc, full_ev.components)):
        got = comps_of_sha.setdefault(sha, set())
        if c is not pd.NA:
            got.add(c)
    rows, unplaced = [], 0
    for key, grp in links.groupby("issue_key", sort=True):
        shas = sorted(set(grp["sha"].astype(str)))
        comps = sorted(set().union(*(comps_of_sha.get(s, set()) for s in shas)))
        pairs = sorted(pair_name(a, b) for a, b in combinations(comps, 2))
        if not pairs:
            unplaced += 1
            continue
        rows.append((str(key), cat.get(str(key)), shas, comps, pairs))
    return pd.DataFrame(rows, columns=cols), unplaced


def score_ranking(seams: list[str], pairs_of: dict[str, str], fixes: list[list[str]], k: int) -> dict[str, Any]:
    """precision@k, recall@k and top-20 % share of one ranking (module docstring)."""
    hit = {p for ps in fixes for p in ps}
    top = seams[:k]
    top_pairs = {pairs_of[s] for s in top}
    n20 = max(1, math.ceil(0.2 * len(seams))) if seams else 0
    pairs20 = {pairs_of[s] for s in seams[:n20]}
    return {
        "k": k,
        "precision_at_k": sum(1 for s in top if pairs_of[s] in hit) / k if k and fixes else float("nan"),
        "recall_at_k": len(hit & top_pairs) / len(hit) if hit else float("nan"),
        "top20_share": sum(1 for ps in fixes if set(ps) & pairs20) / len(fixes) if fixes else float("nan"),
        "top_seams": ", ".join(top),
    }


def prepare(findings, revisions: list[str], k: int = 3):
    """Start the backtest at each of ``revisions`` in a forked process (:mod:`toolkit.runtime.alongside`) while the caller
    runs the full audit's analyses on ``findings``; pass the returned handle to :func:`backtest` /
    :func:`backtest_many`, which wait for it and read its results from the cache.

    The ranking at REV depends only on the evidence known at REV, never on the full audit's analyses, so it can
    run beside them: on a machine with a second core the backtest then adds little to the audit's wall time
    (issue 8; it still costs the same CPU). None when there is nothing to hand over (no cache, no issues to
    score against, every result stored already) or no fork here.
    """
    from toolkit.runtime import alongside, cache

    ev = findings.ev
    if not revisions or ev.issues is None or not ev.keys or not cache.enabled():
        return None
    todo = [at for at in revisions if not cache.has("analysis", _result_key(ev, at, k))]
    return alongside.start(_prepare, (ev, todo, k), what="backtests") if todo else None


def _result_key(full_ev, at: str, k: int) -> str | None:
    """Cache key of a whole backtest: the revision (as named and as resolved), k and the full evidence's inputs."""
    from toolkit.runtime import cache

    if not (cache.enabled() and full_ev.keys):
        return None
    return cache.key("backtest", at, full_ev.repo.resolve(at), k, sorted(full_ev.keys.items()), code=(__name__,))


def _prepare(full_ev, revisions: list[str], k: int) -> None:
    # The whole backtest, so the caller only reads it. Its scores need the full audit's bug categorization: by the
    # time the ranking as of REV is done the caller has usually stored it, and a fresh Findings reads it back.
    from toolkit.core.findings import Findings

    full_f = Findings(full_ev)
    for at in revisions:
        backtest(full_ev.config, at, findings=full_f, k=k)


def backtest(config: AuditConfig, at: str, *, evidence=None, findings=None, k: int = 3,
             horizon: str | None = None, prepared=None) -> BacktestResult:
    """Rank seams from what was known at ``at`` and score the ranking against the fixes that came later.

    ``evidence``/``findings``: the full audit's already loaded :class:`~toolkit.core.evidence.Evidence` /
    :class:`~toolkit.core.findings.Findings` of ``config`` (at ``horizon`` when given), reused instead of
    loading it again; the evidence as of ``at`` is derived from it. ``horizon``: an optional revision;
    only fixes that are ancestors of it count (default: everything in the full evidence). ``prepared``: the
    handle of :func:`prepare`, waited for first. Returns :class:`BacktestResult`, cached on the full evidence's
    inputs, the revision and ``k`` (a re-run of an audit reads it).
    """
    from toolkit.runtime import cache
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings

    full_ev = findings.ev if findings is not None else evidence
    if full_ev is None:
        full_ev = load_evidence(config.with_(at=horizon) if horizon else config)
    full_f = findings if findings is not None else Findings(full_ev)
    computed: list[bool] = []

    def compute(_own: list) -> BacktestResult:
        computed.append(True)
        notes: list[str] = []
        ev, known, _when = _evidence_as_of(full_ev, at, notes)
        return _score(at, ev, known, full_ev, full_f, notes, k)

    why = prepared.wait() if prepared is not None else None  # before reading what it prepared
    result = cache.cached("analysis", _result_key(full_ev, at, k), compute)
    if why is not None and computed:
        result = replace(result, notes=[
            f"the backtest was not prepared beside the audit ({why}); computed after it",
            *result.notes])
    return result


def backtest_many(config: AuditConfig, revisions: list[str], *, evidence=None, findings=None,
                  k: int = 3, prepared=None) -> list[BacktestResult]:
    """:func:`backtest` at each of ``revisions`` (oldest first is clearest), the full evidence loaded once.
    ``prepared``: :func:`prepare`'s handle for these revisions; without ``findings`` the rankings are prepared
    here, beside the full evidence's bug categorization that scores them.

    One revision is an anecdote; several show whether the ranking warned in time again and again."""
    from toolkit.runtime.gcpause import collection_paused

    with collection_paused():
        return _backtest_many(config, revisions, evidence=evidence, findings=findings, k=k, prepared=prepared)


def _backtest_many(config: AuditConfig, revisions: list[str], *, evidence, findings, k: int, prepared
                   ) -> list[BacktestResult]:
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings

    own = None
    if findings is None:
        findings = Findings(evidence if evidence is not None else load_evidence(config))
        if prepared is None:
            prepared = own = prepare(findings, revisions, k)
    try:
        findings.bugs  # noqa: B018 - what the later fixes are read from; computed while the rankings are
        return [backtest(config, at, findings=findings, k=k, prepared=prepared) for at in revisions]
    finally:
        if own is not None:
            own.cancel()


def by_revision(results: list[BacktestResult]) -> pd.DataFrame:
    """One row per backtest: ``at``, ``later_fixes``, ``unplaced``, ours' ``precision_at_k``/``recall_at_k``/
    ``top20_share``, the better baseline's ``baseline_top20_share`` and ``beats_baselines`` (False when nothing
    could be scored)."""
    rows = []
    for r in results:
        s = r.scores.set_index("ranking")
        base = s.drop(index="ours")["top20_share"]
        rows.append({"at": r.at, "later_fixes": int(len(r.later_fixes)), "unplaced": int(r.unplaced),
                     "precision_at_k": s.loc["ours", "precision_at_k"], "recall_at_k": s.loc["ours", "recall_at_k"],
                     "top20_share": s.loc["ours", "top20_share"],
                     "baseline_top20_share": float(base.max()) if base.notna().any() else float("nan"),
                     "beats_baselines": r.beats_baselines()})
    return pd.DataFrame(rows, columns=["at", "later_fixes", "unplaced", "precision_at_k", "recall_at_k",
                                       "top20_share", "baseline_top20_share", "beats_baselines"])


def _backtest_reloaded(config: AuditConfig, at: str, *, k: int = 3, horizon: str | None = None) -> BacktestResult:
    """The reference implementation: both evidences loaded from scratch (for equivalence tests)."""
    from toolkit.core.evidence import load_evidence
    from toolkit.core.findings import Findings

    notes: list[str] = []
    full_ev = load_evidence(config.with_(at=horizon) if horizon else config)
    ev, known, _when = _evidence_at(config, at, notes)
    return _score(at, ev, known, full_ev, Findings(full_ev), notes, k)


def _baselines(ev) -> tuple[dict[str, float], dict[str, float]]:
    """component -> churn (lines added + deleted) and pair -> code-maat coupling degree, up to REV."""
    from toolkit.analyze.change_coupling import logical_coupling

    fc = ev.history.file_changes
    churn_by = (fc.assign(component=change_components(fc, ev.components),
                          lines=fc["added"].fillna(0) + fc["deleted"].fillna(0))
                .dropna(subset=["component"]).groupby("component")["lines"].sum())
    lc = logical_coupling(ev.history, level="component", components=ev.components, min_revs=1,
                          min_shared_revs=1, min_coupling=0)
    return ({str(c): float(v) for c, v in churn_by.items()},
            {pair_name(a, b): float(d) for a, b, d in zip(lc["entity"], lc["coupled"], lc["degree"])})


def _score(at: str, ev, known: set[str], full_ev, full_f, notes: list[str], k: int) -> BacktestResult:
    from toolkit.analyze.seam_ranking import rank_seams
    from toolkit.core.findings import Findings

    # cached on the evidence as of REV (not only as part of the whole result): another k reuses them
    f = Findings(ev)
    ranking = ev.cached("backtest_ranking", lambda: rank_seams(f).table, code="toolkit.analyze.seam_ranking")
    churn_by, degree = ev.cached("backtest_baselines", lambda: _baselines(ev),
                                 code=("toolkit.analyze.backtest", "toolkit.analyze.change_coupling"))
    seams = ranking["seam"].astype(str).tolist()
    pairs_of = {s: pair_name(a, b) for s, a, b in zip(seams, ranking["caller_component"], ranking["callee_component"])}
    later, unplaced = _later_fixes(full_ev, full_f, known)
    fixes = later["pairs"].tolist()

    callers = dict(zip(seams, ranking["caller_component"].astype(str)))
    callees = dict(zip(seams, ranking["callee_component"].astype(str)))

    def by(score: dict[str, float]) -> list[str]:
        return sorted(seams, key=lambda s: (-score[s], s))

    rankings = {
        "ours": seams,
        "churn": by({s: float(churn_by.get(callers[s], 0) + churn_by.get(callees[s], 0)) for s in seams}),
        "change_coupling": by({s: degree.get(pairs_of[s], 0.0) for s in seams}),
    }
    if not fixes:
        notes.append("no integration or cross-component bug fix after the revision touched two components: "
                     "nothing to score the ranking against (pick an earlier revision, or give --issues)")
    rows = [{"ranking": name, **score_ranking(order, pairs_of, fixes, k)} for name, order in rankings.items()]
    scores = pd.DataFrame(rows, columns=["ranking", "k", "precision_at_k", "recall_at_k", "top20_share", "top_seams"])
    return BacktestResult(at=at, scores=scores, rankings=rankings, later_fixes=later, ranking=ranking, notes=notes,
                          unplaced=unplaced)
