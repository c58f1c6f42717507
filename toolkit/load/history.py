"""Git history as two tables: ``commits`` and ``file_changes`` (see :mod:`toolkit.vocab.schema`), read from one
streaming ``git log -z --numstat`` process; nothing is checked out and the repository is never written.

What counts as history
    Every commit reachable from ``rev``, once. By default merges are listed (``is_merge``) but carry **no** file
    changes — what ``git log --numstat`` prints and code-maat sees — so every change counts once, for the
    non-merge commit that made it. ``first_parent=True`` walks the first-parent chain only, each merge carrying
    its diff against its first parent (one commit per merged pull request).
Renames
    ``renames=True`` detects renames (``-M``) in the same pass: a renamed file is one row with ``old_path``.
    ``renames=False`` (``--no-renames``, code-maat's recommended input) makes a rename a deletion plus an addition.
History follows the code
    ``current_path`` names every change's file as it is **now** (at ``rev``), so a change made before a move
    (``pkg/`` -> ``src/pkg/``, a module turned into a package) counts for the component the code belongs to
    today: :func:`current_paths` defines it and :func:`change_components`, the one mapping every analysis of
    history uses, maps it to components.
Binary files
    ``git`` prints ``-`` for their line counts: ``binary`` is True, counts <NA>.
Text
    Author names and messages are UTF-8 with replacement characters (git guarantees no encoding); paths as every
    table names them (:func:`toolkit.load.gitrepo.path_text`), so they join with the structure's.

Results are cached as Parquet in the runtime cache (namespace ``history``) keyed on the resolved commit id, the
arguments and this code's version; a later head whose new commits form one chain is read as those commits on top
of the cached tables.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.runtime import cache as cache_store
from toolkit.vocab.components import SOURCE_ROOTS, ComponentMap, file_kind, is_test_path, module_name, root_of
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.gitrepo import Repo, path_text
from toolkit.runtime.progress import progress

#: Starts each commit record: messages cannot hold NUL, and real ones never hold this control sequence.
_SENTINEL = b"\x1e\x1f\x1e"
_FORMAT = "--format=tformat:%x1e%x1f%x1e%H%x00%P%x00%an%x00%ae%x00%at%x00%B%x00"
_CHUNK = 1 << 20
_HEX = re.compile(r"[0-9a-f]{16,64}")  # commit ids and entry keys in a cached heads list

#: How many ``git log`` processes this module has started (lets tests prove a cache hit).
git_log_runs = 0


@dataclass(frozen=True)
class History:
    """The parsed history of one revision: ``commits`` and ``file_changes`` (schema), newest commit first;
    ``head`` the commit ``rev`` resolved to (``None``: an empty repository); ``shallow``: a shallow clone, whose
    older history is missing."""

    commits: pd.DataFrame
    file_changes: pd.DataFrame
    head: str | None
    shallow: bool


def _as_git_date(value: object, name: str) -> tuple[str | None, bool]:
    """``(argument for git, cacheable)``: dates become ISO strings; free text (``"2 weeks ago"``)
    passes through to git but is not cached because its meaning moves with the clock."""
    if value is None:
        return None, True
    if isinstance(value, str):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            return value, False
    elif isinstance(value, (_dt.datetime, _dt.date, pd.Timestamp)):
        ts = pd.Timestamp(value)
    else:
        raise InputError(None, f"{name}={value!r} is not a date", flag=name,
                         hint="give a datetime or an ISO date string")
    return (ts if ts.tzinfo is not None else ts.tz_localize("UTC")).isoformat(), True


def _git_args(head: str, since: str | None, until: str | None, paths: list[str] | None,
              first_parent: bool, renames: bool, limit: int | None) -> list[str]:
    args = ["log", "-z", "--numstat", _FORMAT, "--no-color", "--no-ext-diff", "--no-textconv", "--no-show-signature",
            "-M" if renames else "--no-renames"]
    args += ["--first-parent", "--diff-merges=first-parent"] if first_parent else ["--diff-merges=off"]
    if since:
        args.append(f"--since={since}")
    if until:
        args.append(f"--until={until}")
    if limit is not None:
        args.append(f"--max-count={int(limit)}")
    return [*args, head, "--", *(paths or ())]


def _records(proc) -> Iterator[bytes]:
    """Split git's stdout into one byte record per commit, streaming."""
    buf = b""
    for chunk in iter(lambda: proc.stdout.read(_CHUNK), b""):
        *parts, buf = (buf + chunk).split(_SENTINEL)
        yield from filter(None, parts)
    if buf:
        yield buf


def _stream(repo: Repo, args: list[str]) -> tuple[dict[str, list], dict[str, list]]:
    """Run ``git log`` once and parse its stream into column lists."""
    global git_log_runs
    git_log_runs += 1
    proc = repo.popen(*args)
    commits: list[tuple] = []
    changes: list[tuple] = []
    try:
        for rec in progress(_records(proc), desc="git log", unit="commit"):
            fields = rec.split(b"\0", 6)
            if len(fields) < 7:
                raise InputError(repo.origin, "git log printed a record seamscope cannot parse",
                                 record=rec[:60].decode("utf-8", "replace"))
            sha = fields[0].decode("ascii")
            commits.append((sha, fields[1].decode("ascii").split(), fields[2].decode("utf-8", "replace"),
                            fields[3].decode("utf-8", "replace"), int(fields[4]), fields[5].decode("utf-8", "replace")))
            toks = fields[6].split(b"\0")
            i, n = 0, len(toks)
            while i < n:
                tok = toks[i].lstrip(b"\n")
                i += 1
                if not tok:
                    continue
                added, deleted, path = tok.split(b"\t", 2)
                old = None
                if not path:  # rename/copy: old and new path follow as their own fields
                    old = path_text(toks[i])
                    path = toks[i + 1]
                    i += 2
                binary = added == b"-"
                changes.append((sha, path_text(path), old, None if binary else int(added),
                                None if deleted == b"-" else int(deleted), binary))
    finally:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        hint = ("the clone lacks objects its history names (a partial or damaged clone; line counts need every blob):"
                " run `git fetch --refetch` or clone it again in full" if re.search(r"unable to read|missing blob", err)
                else "check the revision and path arguments")
        raise InputError(repo.origin, f"git log failed: {err.strip()}", hint=hint)
    return (_columns(commits, ("sha", "parents", "author", "email", "timestamp", "message")),
            _columns(changes, ("sha", "path", "old_path", "added", "deleted", "binary")))


def _columns(rows: list[tuple], names: tuple[str, ...]) -> dict[str, list]:
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _frames(commits: dict, changes: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two tables of :func:`_stream`'s columns (:func:`schema.conform` puts the columns in order)."""
    c = pd.DataFrame({k: pd.array(commits[k], dtype="string") for k in ("sha", "author", "email", "message")})
    c["timestamp"] = pd.to_datetime(np.asarray(commits["timestamp"], dtype="int64"), unit="s", utc=True) \
        .astype("datetime64[ns, UTC]")
    c["parents"] = pd.Series(commits["parents"], dtype=object)
    c["is_merge"] = np.fromiter((len(p) > 1 for p in commits["parents"]), dtype=bool, count=len(commits["parents"]))
    f = pd.DataFrame({k: pd.array(changes[k], dtype=t) for k, t in (("sha", "string"), ("path", "string"),
                     ("old_path", "string"), ("added", "Int64"), ("deleted", "Int64"))})
    f["binary"] = np.asarray(changes["binary"], dtype=bool)
    return schema.conform(c, "commits"), schema.conform(f, "file_changes")


# ---- cache -----------------------------------------------------------------
# Entries live in the runtime cache (:mod:`toolkit.runtime.cache`, namespace ``history``), keyed by
# :func:`cache_store.key` with this module's code version: ``<key>.parquet`` (file changes) and
# ``<key>.commits.parquet`` (written last: its presence marks a complete entry), and per repository and
# ``git log`` options one list of the heads cached (``_family``), newest last.
_NAMESPACE = "history"


def _read_cache(key: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    tables = []
    for k in (f"{key}.commits", key):
        got = cache_store.get(_NAMESPACE, k)
        if got is None or not isinstance(got[0], pd.DataFrame):
            return None
        tables.append(got[0])
    return schema.conform(tables[0], "commits"), schema.conform(tables[1], "file_changes")


def _write_cache(key: str, commits: pd.DataFrame, changes: pd.DataFrame) -> None:
    cache_store.put(_NAMESPACE, key, changes)
    cache_store.put(_NAMESPACE, f"{key}.commits", commits)


# ---- public ------------------------------------------------------------------
def load_history(repo: Repo | str | Path, rev: str = "HEAD", *, since: object = None, until: object = None,
                 paths: list[str] | None = None, first_parent: bool = False, renames: bool = True,
                 skips: list[Skip] | None = None, cache: bool = True, limit: int | None = None,
                 roots: tuple[str, ...] = SOURCE_ROOTS) -> History:
    """Read the history reachable from ``rev`` into the ``commits`` and ``file_changes`` tables.

    ``since``/``until`` (datetimes or date strings) and ``paths`` (pathspecs) are passed to ``git log``; ``limit``
    keeps the newest ``limit`` commits. ``roots``: the source roots of ``rev`` (``structure.components.roots``),
    so a moved module whose rename git missed finds its file. An empty repository gives empty tables; a shallow
    clone what is there plus a :class:`~toolkit.errors.Skip` (a warning when ``skips`` is None). Raises
    :class:`InputError` when ``rev`` does not exist or git fails.
    """
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    head = repo.resolve(rev)
    if head is None:
        return History(schema.empty("commits").astype({"parents": object}), schema.empty("file_changes"), None, False)
    shallow = repo.is_shallow()
    if shallow:
        report_skip(skips, repo.origin, "shallow clone: commits before the shallow boundary are missing from the "
                    "history (run `git fetch --unshallow` for complete change coupling)")
    since_arg, ok1 = _as_git_date(since, "since")
    until_arg, ok2 = _as_git_date(until, "until")
    args = _git_args(head, since_arg, until_arg, paths, first_parent, renames, limit)
    use_cache = cache and ok1 and ok2 and cache_store.enabled()  # SEAMSCOPE_NO_CACHE, or a refused folder
    key = cache_store.key(_NAMESPACE, head, shallow, args, list(roots), code=(__name__,))
    if use_cache:
        hit = _read_cache(key)
        if hit is not None:
            return History(hit[0], hit[1], head, shallow)
    # the same history of an earlier head, when only a chain of commits came since: read just those
    plain = not (since or until or paths or limit is not None or shallow)
    family = _family(repo, args[:-2]) if use_cache and plain else None
    got = _extend_cached(repo, head, family, lambda rng: _git_args(rng, None, None, None, first_parent, renames, None))
    commits, changes = got if got is not None else _frames(*_stream(repo, args))
    changes = _follow_the_code(repo, head, changes, tuple(roots))
    if use_cache:
        _write_cache(key, commits, changes)
        if family is not None:
            _remember(family, head, key)
    return History(commits, changes, head, shallow)


def _follow_the_code(repo: Repo, head: str, changes: pd.DataFrame,
                     roots: tuple[str, ...] = SOURCE_ROOTS) -> pd.DataFrame:
    """``changes`` with the paths their files have at ``head`` (one ``git ls-tree``; a benchmark turns it off)."""
    return with_current_paths(changes, repo.list_files(head), roots)


def _family(repo: Repo, args: list[str]) -> str:
    """The cache key of the list of cached heads of one repository read with the same ``git log`` options."""
    return cache_store.key(_NAMESPACE, "heads", str(repo.git_dir.resolve()), args, code=(__name__,))


def _heads(family: str) -> list[list[str]]:
    """``[head, entry key]`` pairs cached for ``family``, oldest first (only commit ids and keys: they reach git)."""
    got = cache_store.get(_NAMESPACE, family)
    known = got[0] if got is not None else None
    return [e for e in known if isinstance(e, list) and len(e) == 2 and all(
        isinstance(x, str) and _HEX.fullmatch(x) for x in e)] if isinstance(known, list) else []


def _remember(family: str, head: str, key: str) -> None:
    known = [e for e in _heads(family) if e[0] != head]
    cache_store.put(_NAMESPACE, family, (known + [[head, key]])[-16:])


def _extend_cached(repo: Repo, head: str, family: str | None, args_for) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``(commits, file_changes)`` of ``head`` as the commits since a cached earlier head plus that head's cached
    tables, or None. Only when the commits since form one chain (no merge): then ``git log head`` walks them
    first, one at a time, and then exactly what ``git log`` of the earlier head gives, so the rows and their
    order equal a full read."""
    if family is None:
        return None
    for old_head, old_key in reversed(_heads(family)[-4:]):
        if repo.git("merge-base", "--is-ancestor", old_head, head, check=False).returncode != 0:
            continue
        if repo.git("rev-list", "--count", "--merges", f"{old_head}..{head}").stdout.strip() != "0":
            continue
        old = _read_cache(old_key)
        if old is None:
            continue
        new_c, new_f = _frames(*_stream(repo, args_for(f"{old_head}..{head}")))
        commits = pd.concat([new_c, old[0]], ignore_index=True)
        commits["parents"] = pd.Series(list(new_c["parents"]) + list(old[0]["parents"]), dtype=object)
        return schema.conform(commits, "commits"), schema.conform(pd.concat([new_f, old[1]], ignore_index=True),
                                                                  "file_changes")
    return None


def follow_renames(file_changes: pd.DataFrame) -> pd.Series:
    """Each change's path under the file's **newest** name, following renames backwards through ``file_changes``
    (newest first, as :func:`load_history` returns it); a path reused after its file was renamed away is another
    file."""
    paths = file_changes["path"]
    old = file_changes["old_path"]
    if not old.notna().any():
        return paths.copy()
    alias: dict[str, str] = {}
    out = paths.to_numpy(dtype=object, na_value=None).copy()
    olds = old.to_numpy(dtype=object, na_value=None)
    shas = file_changes["sha"].to_numpy(dtype=object)
    for _, rows in itertools.groupby(range(len(out)), key=shas.__getitem__):
        renamed = []  # one commit at a time: map its rows, then apply its renames for older commits
        for k in rows:
            p = out[k]
            if alias:
                out[k] = alias.get(p, p)
            if olds[k] is not None and olds[k] != p:
                renamed.append((olds[k], p, out[k]))
        for o, new, final in renamed:
            alias.pop(new, None)
            alias[o] = final
    return pd.Series(pd.array(out, dtype="string"), index=file_changes.index, name="path")


def unreachable_commits(repo: Repo | str | Path, rev: str = "HEAD") -> pd.DataFrame:
    """``sha`` and ``message`` of the commits on the repository's other refs that ``rev`` does not reach
    (unmerged branches, later history): only to tell why a bug is named by a commit yet not linked."""
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    head = repo.resolve(rev)
    if head is None:
        return pd.DataFrame({"sha": pd.Series(dtype="string"), "message": pd.Series(dtype="string")})
    out = repo.git("log", "--all", "--not", head, "-z", "--format=%H%x00%B", text=False).stdout
    parts = out.decode("utf-8", "replace").split("\0")
    shas, msgs = parts[0::2], parts[1::2]
    n = min(len(shas), len(msgs))
    return pd.DataFrame({"sha": pd.array([s.strip() for s in shas[:n]], dtype="string"),
                         "message": pd.array(msgs[:n], dtype="string")})


def _below_root(path: str, roots: tuple[str, ...]) -> str:
    """``path`` below the source root it lies in (what a move into a source root keeps)."""
    root = root_of(path, roots)
    return path[len(root) + 1:] if root else path


def _home_key(path: str, roots: tuple[str, ...] = SOURCE_ROOTS) -> str:
    """What stays the same when code moves under a source root: a Python file's dotted module name
    (``requests/sessions.py``, ``src/requests/sessions.py`` -> ``requests.sessions``; ``pkg/util.py`` and
    ``pkg/util/__init__.py`` -> ``pkg.util``), any other file's path below the source root. ``roots``: the
    repository's source roots (:attr:`toolkit.vocab.components.ComponentMap.roots`)."""
    return "py:" + module_name(path, roots) if path.endswith(".py") else "file:" + _below_root(path, roots)


def with_current_paths(file_changes: pd.DataFrame, files: list[str] | set[str],
                       roots: tuple[str, ...] = SOURCE_ROOTS) -> pd.DataFrame:
    """``file_changes`` (newest first) with ``latest_path`` and ``current_path`` set for the revision whose
    tracked files are ``files`` and source roots ``roots`` (:func:`current_paths`); the loader and the
    backtest's as-of slice both use it."""
    out = file_changes.copy()
    out["latest_path"] = follow_renames(out)
    out["current_path"] = _resolve(out["latest_path"], files, roots)
    return schema.conform(out, "file_changes")


def current_paths(file_changes: pd.DataFrame, files: list[str] | set[str],
                  roots: tuple[str, ...] = SOURCE_ROOTS) -> pd.Series:
    """Each change's file as it is named in the revision whose tracked files are ``files``; <NA> when it is gone.

    The file is followed through git's renames (:func:`follow_renames`). When that name is not in ``files``
    (rename detection missed the move: the content was rewritten on the way, or the commit moved more files than
    git compares), the one file whose module name under the source ``roots`` (non-Python: path below the source
    root) is the same stands in; without one, the file was deleted with no successor.
    """
    return _resolve(follow_renames(file_changes), files, roots)


def _only_one(items: set[str], key) -> dict[str, str | None]:
    """``key(item)`` -> the item, or ``None`` when several items share the key (none of them is the one)."""
    out: dict[str, str | None] = {}
    for item in items:
        k = key(item)
        out[k] = None if k in out else item
    return out


def _resolve(followed: pd.Series, files: list[str] | set[str], roots: tuple[str, ...]) -> pd.Series:
    """The file of ``files`` each followed path is now (itself, or its module's one successor), else <NA>."""
    present = set(files)
    homes = _only_one(present, lambda f: _home_key(f, roots))  # two files with one module name: no successor
    lookup = {p: (p if p in present else homes.get(_home_key(p, roots))) for p in pd.unique(followed.dropna())}
    return pd.Series(pd.array(followed.map(lookup), dtype="string"), index=followed.index, name="current_path")


def history_paths(file_changes: pd.DataFrame) -> pd.Series:
    """Where each change counts: its file's ``current_path``, or for a file deleted since, its ``latest_path``
    (a module removed from a directory that is still a component counts for that component); a table without
    these columns (or with them <NA>) counts at ``path``."""
    out = file_changes["path"].astype("string")
    for col in ("latest_path", "current_path"):
        if col in file_changes:
            out = file_changes[col].astype("string").fillna(out)
    return out


def change_components(file_changes: pd.DataFrame, components: ComponentMap) -> pd.Series:
    """The component each file change counts for today; <NA> for tests and files outside every component.

    ``components.component_of`` of the file's :func:`history_paths`; a file deleted since counts in its last
    directory as that directory is named today (``requests/core.py``, deleted before ``requests/`` moved to
    ``src/requests/``, counts as ``src/requests/core.py``) when exactly one of today's directories is the same
    below the source root. The one mapping of history to components: fix commits, change coupling, churn,
    recent changes and the backtest all use it.
    """
    where = history_paths(file_changes)
    if "current_path" in file_changes:
        gone = file_changes["current_path"].isna().to_numpy()
        if gone.any():
            where = where.copy()
            place = _in_todays_dirs(file_changes["current_path"], components.roots)
            where[gone] = where[gone].map({p: place(p) for p in pd.unique(where[gone])})
    lookup = {p: components.component_of(p) for p in pd.unique(where.dropna())}
    return pd.Series(pd.array(where.map(lookup), dtype="string"), index=file_changes.index, name="component")


def _in_todays_dirs(current: pd.Series, roots: tuple[str, ...]):
    """A function placing a gone file's path in today's directory of the same name below the source root
    (one of ``roots``)."""
    dirs = {p.rpartition("/")[0] for p in pd.unique(current.dropna())}
    by_key = _only_one(dirs, lambda d: _below_root(d, roots))  # two directories, one name: no successor

    def place(path: str) -> str:
        d, _, name = path.rpartition("/")
        if not d or d in dirs:
            return path
        now = by_key.get(_below_root(d, roots))
        return f"{now}/{name}" if now else path
    return place


def history_mapping(file_changes: pd.DataFrame, components: ComponentMap) -> dict[str, int | float | None]:
    """How much of the history reaches today's components.

    Code changes: to files that are non-test Python code as named today (a test suite that lived inside the
    package before it moved to ``tests/`` is tests). Of those, ``mapped`` count for a component; ``gone`` belong
    to files deleted since, in a directory no component holds today; ``outside`` to files now outside every
    component. ``commits`` touch code, ``commits_mapped`` of them with a mapped change. Shares are None (not 0)
    without code changes.
    """
    paths = history_paths(file_changes)
    uniq = pd.unique(paths.dropna())
    is_code = {p: file_kind(p) == "python" and not is_test_path(p) for p in uniq}
    code = paths.map(is_code).fillna(False).astype(bool).to_numpy()
    comp = change_components(file_changes, components).notna().to_numpy()
    has_now = (file_changes["current_path"].notna().to_numpy() if "current_path" in file_changes
               else np.ones(len(file_changes), dtype=bool))
    n, mapped = int(code.sum()), int((code & comp).sum())
    gone = int((code & ~comp & ~has_now).sum())
    shas = file_changes["sha"].to_numpy(dtype=object)
    touched, reached = set(shas[code]), set(shas[code & comp])
    return {
        "code_changes": n, "mapped": mapped, "gone": gone, "outside": n - mapped - gone,
        "share": mapped / n if n else None,
        "commits": len(touched), "commits_mapped": len(reached),
        "commit_share": len(reached) / len(touched) if touched else None,
    }


def commits_in(col: pd.Series, values: set[str]) -> pd.Series:
    """``col.astype(str).isin(values)``, fast for long columns of few distinct values (commit ids): whether
    each row's commit is one of ``values``."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    hit = np.fromiter((str(u) in values for u in uniques), dtype=bool, count=len(uniques))
    return pd.Series(np.where(codes >= 0, hit[codes], False), index=col.index)
