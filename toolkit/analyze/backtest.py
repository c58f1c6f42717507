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
    3. *Scores* for each ranking of the seams known at REV (ties broken by seam name), read as a reader sees
       its top list (:func:`toolkit.analyze.seam_ranking.one_per_pair`: each unordered pair once, at its
       higher-ranked direction, the other directions after every pair's first):
       ``precision@k`` = share of the top k seams whose pair a later fix landed in;
       ``recall@k`` = share of the hit pairs with a seam in the top k;
       ``top20_share`` = share of placed later fixes with a pair among the top ⌈20 %⌉ seams.
    Baselines on the same seams and data: ``churn`` (lines added + deleted in both components up to
    REV) and ``change_coupling`` (code-maat degree of the pair up to REV with every threshold at its
    minimum, so the baseline sees every co-change).

This module scores (pure functions over tables); :mod:`toolkit.run.backtest` runs a backtest: the evidence as
of REV (:func:`toolkit.core.evidence.evidence_as_of`, derived from the full audit's evidence rather than loaded
again), the ranking on it, the cache and the preparation beside the audit.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pandas as pd

from toolkit.analyze.seam_ranking import one_per_pair
from toolkit.vocab.components import pair_name
from toolkit.load.history import change_components, commits_in

__all__ = ["BacktestResult", "baselines", "by_revision", "later_fixes", "score", "score_ranking"]


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


def later_fixes(bugs: pd.DataFrame | None, links: pd.DataFrame | None, file_changes: pd.DataFrame, components: Any,
                known: set[str]) -> tuple[pd.DataFrame, int]:
    """The integration or cross-component bugs fixed after the revision (fix commits not in ``known``), each with
    the component pairs its later fixes touched, and how many could not be placed on a pair (module docstring).

    ``bugs``: the full audit's categorized bugs (``key``, ``category``, ``components``); ``links``: its fix links
    (``issue_key``, ``sha``); ``file_changes``/``components``: its history and component mapping.
    """
    cols = ["key", "category", "fix_commits", "components", "pairs"]
    if bugs is None or links is None:
        return pd.DataFrame(columns=cols), 0
    wanted = {k for k, c, cs in zip(bugs["key"].astype(str), bugs["category"].astype(object), bugs["components"])
              if c == "integration" or len(cs) >= 2}
    cat = dict(zip(bugs["key"].astype(str), bugs["category"].astype(object)))
    links = links[links["issue_key"].astype(str).isin(wanted) & ~commits_in(links["sha"], known)]
    fc = file_changes[commits_in(file_changes["sha"], set(links["sha"].astype(str)))]
    comps_of_sha: dict[str, set[str]] = defaultdict(set)
    for sha, c in zip(fc["sha"].astype(str), change_components(fc, components)):
        if c is not pd.NA:
            comps_of_sha[sha].add(c)
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
    seams = one_per_pair(seams, pairs_of)  # the order a reader sees: a pair is not counted twice in the top k
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


def baselines(history: Any, components: Any) -> tuple[dict[str, float], dict[str, float]]:
    """component -> churn (lines added + deleted) and pair -> code-maat coupling degree in ``history`` (the
    history up to REV): what the churn-only and coupling-only baseline rankings order the seams by."""
    from toolkit.analyze.change_coupling import logical_coupling

    fc = history.file_changes
    churn_by = (fc.assign(component=change_components(fc, components),
                          lines=fc["added"].fillna(0) + fc["deleted"].fillna(0))
                .dropna(subset=["component"]).groupby("component")["lines"].sum())
    lc = logical_coupling(history, level="component", components=components, min_revs=1,
                          min_shared_revs=1, min_coupling=0)
    return ({str(c): float(v) for c, v in churn_by.items()},
            {pair_name(a, b): float(d) for a, b, d in zip(lc["entity"], lc["coupled"], lc["degree"])})


def score(at: str, ranking: pd.DataFrame, churn_by: dict[str, float], degree: dict[str, float],
          later: pd.DataFrame, unplaced: int, notes: list[str], k: int) -> BacktestResult:
    """Score the ranking at ``at`` (schema ``seam_ranking``) and the churn and coupling baselines of the same seams
    (:func:`baselines`) against the later fixes (:func:`later_fixes`)."""
    seams = ranking["seam"].astype(str).tolist()
    pairs_of = {s: pair_name(a, b) for s, a, b in zip(seams, ranking["caller_component"], ranking["callee_component"])}
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
