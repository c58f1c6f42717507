"""Logical (change) coupling: which files or components change together — computed as code-maat does.

Definition (code-maat's ``coupling`` analysis, ``coupling_algos.clj`` + ``logical_coupling.clj``)
    1. Each commit's *changeset* is the list of entities it changed. Changesets
       with more than ``max_changeset_size`` entries are dropped entirely —
       they count neither as shared revisions nor as revisions of their files
       (bulk reformatting, vendoring, license headers).
    2. ``revs(e)`` = number of remaining changesets containing ``e``.
    3. ``shared(a, b)`` = number of remaining changesets containing both.
    4. ``average-revs`` = (revs(a) + revs(b)) / 2, kept exact;
       ``coupling`` = shared / average-revs * 100, kept exact.
    5. A pair is reported when average-revs >= ``min_revs``, shared >=
       ``min_shared_revs``, coupling >= ``min_coupling`` and
       floor(coupling) <= ``max_coupling``.
    6. Reported ``degree`` = int(coupling) (truncated), ``average-revs`` =
       ceil(average-revs). Each unordered pair appears once with ``entity`` <
       ``coupled`` (string order); rows are sorted by degree, then
       average-revs, descending. code-maat leaves ties in hash-map order; we
       break them by entity, coupled ascending, so output is deterministic.
    Integer arithmetic is used throughout, so no float rounding can move a
    pair across a threshold.

Same numbers as code-maat
    code-maat reads ``git log --all --numstat --date=short
    --pretty=format:'--%h--%ad--%aN' --no-renames``. In that log merge commits
    print no files, and ``--no-renames`` turns a rename into a deletion plus an
    addition. :func:`toolkit.load.history.load_history` with ``renames=False``
    produces exactly those changesets (merges carry no file changes by
    default), so ``logical_coupling(history, follow_renames=False)`` on it equals
    code-maat's output row for row (for ``rev`` covering the same commits as
    ``--all``). With ``renames=True`` (the default) and ``follow_renames=True``
    a file's revisions under older names and locations are counted under its
    path today (``toolkit.load.history.history_paths``) — code-maat cannot do that.
Component level
    Changes are mapped with ``toolkit.load.history.change_components`` (the
    component of the file's path today); tests and
    unassigned files are left out (like code-maat's ``--group``, which drops
    unmatched files). The changeset-size limit counts the commit's mapped
    *files* (as ``--group`` does), while pairs and revisions count each
    component once per commit.
"""
from __future__ import annotations

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap
from toolkit.errors import InputError
from toolkit.load.history import History, change_components, history_paths


#: Thresholds for coupling between components (fewer, larger change sets than files have).
COMPONENT_COUPLING_DEFAULTS = {"min_revs": 3, "min_shared_revs": 3, "min_coupling": 10}


def _changesets(history: History, level: str, components: ComponentMap | None, follow_renames: bool) -> pd.DataFrame:
    """Rows ``(sha, entity)``: one per mapped file change, in history order."""
    fc = history.file_changes
    if level not in ("file", "component"):
        raise InputError(None, f"level={level!r} is not 'file' or 'component'", flag="level")
    if level == "file":
        entity = history_paths(fc) if follow_renames else fc["path"]
    else:
        if components is None:
            raise InputError(None, "component-level coupling needs a ComponentMap", flag="components",
                             hint="pass components=ComponentMap.from_files(repo.list_files())")
        entity = change_components(fc if follow_renames else fc.drop(columns=["latest_path", "current_path"],
                                                                      errors="ignore"), components)
    out = pd.DataFrame({"sha": fc["sha"].to_numpy(), "entity": entity.to_numpy()})
    out = out[out["entity"].notna()]
    out["entity"] = out["entity"].astype(str)
    return out


def logical_coupling(
    history: History,
    *,
    level: str = "file",
    components: ComponentMap | None = None,
    min_revs: int = 5,
    min_shared_revs: int = 5,
    min_coupling: int = 30,
    max_coupling: int = 100,
    max_changeset_size: int = 30,
    follow_renames: bool = True,
) -> pd.DataFrame:
    """Pairs of entities that change together, as the ``logical_coupling`` table.

    Columns ``entity, coupled, degree, average-revs`` exactly as code-maat's
    ``-a coupling`` (defaults are code-maat's). ``level`` is ``"file"`` or
    ``"component"`` (needs ``components``). See the module docstring for the
    definition and how to reproduce code-maat's numbers 1:1.
    """
    rows = _changesets(history, level, components, follow_renames)
    if rows.empty:
        return schema.empty("logical_coupling")
    size = rows.groupby("sha", sort=False).size()
    keep = size.index[size <= max_changeset_size]
    rows = rows[rows["sha"].isin(keep)].drop_duplicates(["sha", "entity"])
    revs = rows["entity"].value_counts()
    pairs = rows.merge(rows, on="sha", suffixes=("_a", "_b"))
    pairs = pairs[pairs["entity_a"] < pairs["entity_b"]]
    if pairs.empty:
        return schema.empty("logical_coupling")
    shared = pairs.groupby(["entity_a", "entity_b"], sort=False).size().rename("shared").reset_index()
    ra = shared["entity_a"].map(revs).astype("int64")
    rb = shared["entity_b"].map(revs).astype("int64")
    total = ra + rb  # = 2 * average-revs
    num = shared["shared"].astype("int64") * 200  # coupling = num / total, in percent
    degree = num // total
    ok = (
        (total >= 2 * min_revs)
        & (shared["shared"] >= min_shared_revs)
        & (num >= min_coupling * total)
        & (degree <= max_coupling)
    )
    out = pd.DataFrame({
        "entity": shared["entity_a"][ok],
        "coupled": shared["entity_b"][ok],
        "degree": degree[ok],
        "average-revs": (total[ok] + 1) // 2,
    })
    out = out.sort_values(["degree", "average-revs", "entity", "coupled"], ascending=[False, False, True, True],
                          kind="stable").reset_index(drop=True)
    return schema.conform(out, "logical_coupling")


def sum_of_coupling(
    history: History,
    *,
    level: str = "file",
    components: ComponentMap | None = None,
    min_revs: int = 5,
    follow_renames: bool = True,
) -> pd.DataFrame:
    """Sum of coupling per entity, as the ``sum_of_coupling`` table (code-maat's ``-a soc``).

    For every commit, each entity it changed scores (number of entities in the
    commit - 1); ``soc`` is the sum over all commits. No changeset-size limit
    applies (code-maat applies none). Entities with ``soc > min_revs`` (strictly,
    code-maat's filter) are kept, sorted by soc then entity, both descending.
    At component level each component counts once per commit.
    """
    rows = _changesets(history, level, components, follow_renames).drop_duplicates(["sha", "entity"])
    if rows.empty:
        return schema.empty("sum_of_coupling")
    n = rows.groupby("sha", sort=False)["entity"].transform("size") - 1
    soc = n.groupby(rows["entity"]).sum()
    soc = soc[soc > min_revs]
    out = pd.DataFrame({"entity": soc.index.astype(str), "soc": soc.to_numpy(dtype="int64")})
    out = out.sort_values(["soc", "entity"], ascending=[False, False], kind="stable").reset_index(drop=True)
    return schema.conform(out, "sum_of_coupling")
