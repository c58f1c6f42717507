"""Run backtests of the seam ranking (``seamscope audit --backtest``, ``seamscope backtest``): the orchestration.

For each revision: the evidence as of REV (:func:`toolkit.core.evidence.evidence_as_of`, derived from the full
audit's evidence), the ranking on it (cached on that evidence), the later fixes from the full audit, scored by
:mod:`toolkit.analyze.backtest` (the procedure is described there). Whole results are cached on the full
evidence's inputs, the revision and k; :func:`prepare` runs them beside the audit's analyses on another core.
"""
from __future__ import annotations

from dataclasses import replace

from toolkit.analyze.backtest import BacktestResult, baselines, later_fixes, score
from toolkit.analyze.seam_ranking import rank_seams
from toolkit.config import AuditConfig
from toolkit.core.evidence import evidence_as_of, load_evidence
from toolkit.core.findings import Findings
from toolkit.runtime import cache

__all__ = ["backtest", "backtest_many", "prepare"]


def prepare(findings, revisions: list[str], k: int = 3):
    """Start the backtest at each of ``revisions`` in a forked process (:mod:`toolkit.runtime.alongside`) while the caller
    runs the full audit's analyses on ``findings``; pass the returned handle to :func:`backtest` /
    :func:`backtest_many`, which wait for it and read its results from the cache.

    The ranking at REV depends only on the evidence known at REV, so it can run beside the full audit's analyses
    (issue 8). None when there is nothing to hand over (no cache, no issues, every result stored) or no fork.
    """
    from toolkit.runtime import alongside

    ev = findings.ev
    if not revisions or ev.issues is None or not ev.keys or not cache.enabled():
        return None
    todo = [at for at in revisions if not cache.has("analysis", _result_key(ev, at, k))]
    return alongside.start(_prepare, (ev, todo, k), what="backtests") if todo else None


def _result_key(full_ev, at: str, k: int) -> str | None:
    """Cache key of a whole backtest: the revision (as named and as resolved), k and the full evidence's inputs."""
    if not (cache.enabled() and full_ev.keys):
        return None
    return cache.key("backtest", at, full_ev.repo.resolve(at), k, sorted(full_ev.keys.items()),
                     code=("toolkit.run.backtest", "toolkit.analyze.backtest"))


def _prepare(full_ev, revisions: list[str], k: int) -> None:
    # The whole backtest, so the caller only reads it. Its scores need the full audit's bug categorization: by the
    # time the ranking as of REV is done the caller has usually stored it, and a fresh Findings reads it back.
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
    full_ev = findings.ev if findings is not None else evidence
    if full_ev is None:
        full_ev = load_evidence(config.with_(at=horizon) if horizon else config)
    full_f = findings if findings is not None else Findings(full_ev)
    computed: list[bool] = []

    def compute(_own: list) -> BacktestResult:
        computed.append(True)
        notes: list[str] = []
        ev, known, _when = evidence_as_of(full_ev, at, notes)
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

    own = None
    with collection_paused():
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


def _score(at: str, ev, known: set[str], full_ev, full_f, notes: list[str], k: int) -> BacktestResult:
    """The ranking as of REV (on ``ev``, cached on it) scored against the full audit's later fixes."""
    # cached on the evidence as of REV (not only as part of the whole result): another k reuses them
    f = Findings(ev)
    ranking = ev.cached("backtest_ranking", lambda: rank_seams(**f.ranking_inputs()).table,
                        code="toolkit.analyze.seam_ranking")
    churn_by, degree = ev.cached("backtest_baselines", lambda: baselines(ev.history, ev.components),
                                 code=("toolkit.analyze.backtest", "toolkit.analyze.change_coupling"))
    bugs = None if full_f.bugs is None else full_f.bugs.bugs
    links = None if full_ev.issues is None or full_ev.links is None else full_ev.links.links
    later, unplaced = later_fixes(bugs, links, full_ev.history.file_changes, full_ev.components, known)
    return score(at, ranking, churn_by, degree, later, unplaced, notes, k)
