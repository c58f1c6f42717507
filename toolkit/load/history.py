"""Git history as two tables: ``commits`` and ``file_changes`` (see :mod:`toolkit.schema`).

One streaming ``git log -z --numstat`` process is read and parsed
incrementally; nothing is checked out and the repository is never written.

What counts as history
    Every commit reachable from ``rev`` appears once in ``commits``. By default
    merge commits are listed (``is_merge``) but carry **no** file changes —
    exactly what ``git log --numstat`` prints, and therefore what code-maat
    sees — so every change is attributed once, to the non-merge commit that
    made it. With ``first_parent=True`` only the first-parent chain is walked
    and each merge carries its diff against its first parent (the "one commit
    per merged pull request" view).
Renames
    ``renames=True`` runs rename detection (``-M``): a renamed file is one row
    with ``old_path`` set. ``renames=False`` passes ``--no-renames``: a rename is
    a deletion plus an addition, which is the input code-maat recommends
    (``git log --numstat --no-renames``) and makes file-level coupling
    comparable 1:1 with it.
Binary files
    ``git`` prints ``-`` for their line counts: ``binary`` is True, counts <NA>.
Text
    Author names and messages are decoded as UTF-8 with replacement characters
    (git does not guarantee an encoding); paths as every table names them
    (:func:`toolkit.load.gitrepo.path_text`: ``caf\\xe9.py`` for a byte that
    is not UTF-8), so they join with the structure's.

Results are cached as Parquet under ``cache_dir()/history/`` keyed on the
resolved commit id and the arguments, so a second run is near-instant.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit import cache as cache_store
from toolkit.atomic import atomic_write
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.gitrepo import Repo, cache_dir, path_text
from toolkit.progress import progress

#: Bumped whenever the parsed tables change shape or meaning (invalidates the cache).
FORMAT_VERSION = 1
#: Starts each commit record. Commit messages cannot contain NUL, and this
#: three-byte control sequence does not occur in real messages.
_SENTINEL = b"\x1e\x1f\x1e"
_FORMAT = "--format=tformat:%x1e%x1f%x1e%H%x00%P%x00%an%x00%ae%x00%at%x00%B%x00"
_CHUNK = 1 << 20
_HEX = re.compile(r"[0-9a-f]{16,64}")  # commit ids and entry keys in a cached heads list

#: How many ``git log`` processes this module has started (lets tests prove a cache hit).
git_log_runs = 0


@dataclass(frozen=True)
class History:
    """The parsed history of one revision.

    ``commits`` and ``file_changes`` follow the schema tables of the same
    names, newest commit first (``git log`` order). ``head`` is the commit id
    ``rev`` resolved to (``None`` for an empty repository); ``shallow`` is True
    when the repository is a shallow clone and older history is missing.
    """

    commits: pd.DataFrame
    file_changes: pd.DataFrame
    head: str | None
    shallow: bool


def _as_git_date(value: object, name: str) -> tuple[str | None, bool]:
    """``(argument for git, cacheable)``: dates become ISO strings; free text (``"2 weeks ago"``)
    passes through to git but is not cached because its meaning moves with the clock."""
    if value is None:
        return None, True
    if isinstance(value, (_dt.datetime, _dt.date, pd.Timestamp)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        return ts.isoformat(), True
    if isinstance(value, str):
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            return value, False
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        return ts.isoformat(), True
    raise InputError(None, f"{name}={value!r} is not a date", flag=name, hint="give a datetime or an ISO date string")


def _git_args(head: str, since: str | None, until: str | None, paths: list[str] | None,
              first_parent: bool, renames: bool, limit: int | None) -> list[str]:
    args = ["log", "-z", "--numstat", _FORMAT, "--no-color", "--no-ext-diff", "--no-textconv", "--no-show-signature"]
    args.append("-M" if renames else "--no-renames")
    if first_parent:
        args += ["--first-parent", "--diff-merges=first-parent"]
    else:
        args.append("--diff-merges=off")
    if since:
        args.append(f"--since={since}")
    if until:
        args.append(f"--until={until}")
    if limit is not None:
        args.append(f"--max-count={int(limit)}")
    args.append(head)
    args.append("--")
    if paths:
        args += list(paths)
    return args


def _records(proc, origin: str) -> Iterator[bytes]:
    """Split git's stdout into one byte record per commit, streaming."""
    buf = b""
    assert proc.stdout is not None
    while True:
        chunk = proc.stdout.read(_CHUNK)
        if not chunk:
            break
        buf += chunk
        parts = buf.split(_SENTINEL)
        buf = parts.pop()
        for rec in parts:
            if rec:
                yield rec
    if buf:
        yield buf


def _parse_int(tok: bytes) -> int | None:
    return None if tok == b"-" else int(tok)


def _stream(repo: Repo, args: list[str]) -> tuple[list, list]:
    """Run ``git log`` once and parse its stream into column lists."""
    global git_log_runs
    git_log_runs += 1
    proc = repo.popen(*args)
    c_sha, c_parents, c_author, c_email, c_ts, c_msg = [], [], [], [], [], []
    f_sha, f_path, f_old, f_add, f_del, f_bin = [], [], [], [], [], []
    try:
        for rec in progress(_records(proc, repo.origin), desc="git log", unit="commit"):
            fields = rec.split(b"\0", 6)
            if len(fields) < 7:
                raise InputError(repo.origin, "git log printed a record seamscope cannot parse",
                                 record=rec[:60].decode("utf-8", "replace"))
            sha = fields[0].decode("ascii")
            c_sha.append(sha)
            c_parents.append(fields[1].decode("ascii").split())
            c_author.append(fields[2].decode("utf-8", "replace"))
            c_email.append(fields[3].decode("utf-8", "replace"))
            c_ts.append(int(fields[4]))
            c_msg.append(fields[5].decode("utf-8", "replace"))
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
                f_sha.append(sha)
                f_path.append(path_text(path))
                f_old.append(old)
                binary = added == b"-"
                f_bin.append(binary)
                f_add.append(None if binary else int(added))
                f_del.append(_parse_int(deleted))
    finally:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        raise InputError(repo.origin, f"git log failed: {err.strip()}", hint="check the revision and path arguments")
    commits = {"sha": c_sha, "parents": c_parents, "author": c_author, "email": c_email, "timestamp": c_ts,
               "message": c_msg}
    changes = {"sha": f_sha, "path": f_path, "old_path": f_old, "added": f_add, "deleted": f_del, "binary": f_bin}
    return commits, changes


def _frames(commits: dict, changes: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    parents = pd.Series(commits["parents"], dtype=object)
    c = pd.DataFrame({
        "sha": pd.array(commits["sha"], dtype="string"),
        "author": pd.array(commits["author"], dtype="string"),
        "email": pd.array(commits["email"], dtype="string"),
        "timestamp": pd.to_datetime(np.asarray(commits["timestamp"], dtype="int64"), unit="s", utc=True)
        .astype("datetime64[ns, UTC]"),
        "message": pd.array(commits["message"], dtype="string"),
        "parents": parents,
        "is_merge": np.fromiter((len(p) > 1 for p in commits["parents"]), dtype=bool,
                                count=len(commits["parents"])),
    })
    f = pd.DataFrame({
        "sha": pd.array(changes["sha"], dtype="string"),
        "path": pd.array(changes["path"], dtype="string"),
        "old_path": pd.array(changes["old_path"], dtype="string"),
        "added": pd.array(changes["added"], dtype="Int64"),
        "deleted": pd.array(changes["deleted"], dtype="Int64"),
        "binary": np.asarray(changes["binary"], dtype=bool),
    })
    return schema.conform(c, "commits"), schema.conform(f, "file_changes")


# ---- cache -----------------------------------------------------------------
def _cache_paths(key: str) -> tuple[Path, Path]:
    d = cache_dir() / "history"
    return d / f"{key}.commits.parquet", d / f"{key}.parquet"


def _read_cache(key: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    cpath, fpath = _cache_paths(key)
    if not (cpath.exists() and fpath.exists()):
        return None
    try:
        c = pd.read_parquet(cpath)
        f = pd.read_parquet(fpath)
        c["parents"] = pd.Series([list(p) for p in c["parents"]], index=c.index, dtype=object)
        return schema.conform(c, "commits"), schema.conform(f, "file_changes")
    except Exception:  # noqa: BLE001 - a damaged entry (truncated, not Parquet, other columns) is a miss, healed
        for path in (cpath, fpath):
            path.unlink(missing_ok=True)
        return None


def _atomic_parquet(df: pd.DataFrame, target: Path) -> None:
    atomic_write(target, lambda fh: df.to_parquet(fh, index=False))


def _write_cache(key: str, commits: pd.DataFrame, changes: pd.DataFrame, skips: list[Skip] | None,
                 origin: str) -> None:
    cpath, fpath = _cache_paths(key)
    try:
        _atomic_parquet(changes, fpath)  # the commits file is written last: its presence marks a complete entry
        _atomic_parquet(commits, cpath)
    except UnicodeEncodeError as exc:  # undecodable (non-UTF-8) paths cannot be stored as Parquet strings
        report_skip(skips, origin, f"history not cached: {exc}")
    except OSError as exc:  # a read-only or full cache folder: one warning, then no cache
        cache_store.write_failed(exc)


# ---- public ------------------------------------------------------------------
def load_history(
    repo: Repo | str | Path,
    rev: str = "HEAD",
    *,
    since: object = None,
    until: object = None,
    paths: list[str] | None = None,
    first_parent: bool = False,
    renames: bool = True,
    skips: list[Skip] | None = None,
    cache: bool = True,
    limit: int | None = None,
) -> History:
    """Read the history reachable from ``rev`` into the ``commits`` and ``file_changes`` tables.

    ``since``/``until`` (datetimes or date strings) and ``paths`` (pathspecs)
    are passed to ``git log``; ``limit`` keeps only the newest ``limit`` commits.
    An empty repository gives empty tables. A shallow clone gives what is
    there plus a :class:`~toolkit.errors.Skip` (or a warning when ``skips`` is None).
    Raises :class:`InputError` when ``rev`` does not exist or git fails.
    """
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    head = repo.resolve(rev)
    if head is None:
        return History(schema.empty("commits").astype({"parents": object}), schema.empty("file_changes"), None,
                       False)
    shallow = repo.is_shallow()
    if shallow:
        report_skip(skips, repo.origin, "shallow clone: commits before the shallow boundary are missing from the "
                    "history (run `git fetch --unshallow` for complete change coupling)")
    since_arg, ok1 = _as_git_date(since, "since")
    until_arg, ok2 = _as_git_date(until, "until")
    args = _git_args(head, since_arg, until_arg, paths, first_parent, renames, limit)
    use_cache = cache and ok1 and ok2 and cache_store.enabled()  # SEAMSCOPE_NO_CACHE, or a refused folder
    key = hashlib.sha256(json.dumps([FORMAT_VERSION, head, shallow, args]).encode()).hexdigest()[:32]
    if use_cache:
        hit = _read_cache(key)
        if hit is not None:
            return History(hit[0], hit[1], head, shallow)
    # the same history of an earlier head, when only a chain of commits came since: read just those
    plain = not (since or until or paths or limit is not None or shallow)
    family = _family(repo, args[:-2]) if use_cache and plain else None
    got = _extend_cached(repo, head, family, lambda rng: _git_args(rng, None, None, None, first_parent, renames, None))
    commits, changes = got if got is not None else _frames(*_stream(repo, args))
    if use_cache:
        _write_cache(key, commits, changes, skips, repo.origin)
        if family is not None:
            _remember(family, head, key)
    return History(commits, changes, head, shallow)


def _family(repo: Repo, args: list[str]) -> Path:
    """The file listing the cached heads of one repository read with the same ``git log`` options."""
    sig = hashlib.sha256(json.dumps([FORMAT_VERSION, str(repo.git_dir.resolve()), args]).encode()).hexdigest()[:24]
    return cache_dir() / "history" / f"heads-{sig}.json"


def _remember(family: Path, head: str, key: str) -> None:
    try:
        known = [e for e in json.loads(family.read_text()) if e[0] != head] if family.exists() else []
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        known = []  # a damaged list is rebuilt
    try:
        atomic_write(family, json.dumps((known + [[head, key]])[-16:]).encode())
    except OSError as exc:
        cache_store.write_failed(exc)


def _extend_cached(repo: Repo, head: str, family: Path | None, args_for) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``(commits, file_changes)`` of ``head`` as the commits since a cached earlier head plus that head's cached
    tables, or None. Only when the commits since form one chain (no merge): then ``git log head`` walks them
    first, one at a time, and then exactly what ``git log`` of the earlier head gives, so the rows and their
    order equal a full read."""
    if family is None or not family.exists():
        return None
    try:
        known = json.loads(family.read_text())
    except (OSError, ValueError):
        return None
    valid = [e for e in known if isinstance(e, list) and len(e) == 2 and all(
        isinstance(x, str) and _HEX.fullmatch(x) for x in e)] if isinstance(known, list) else []
    for old_head, old_key in reversed(valid[-4:]):  # only commit ids and keys reach git and the file names
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
    """Each change's path under the file's **newest** name, following renames backwards.

    ``file_changes`` must be newest first (as :func:`load_history` returns it).
    A path reused after its file was renamed away counts as a different file.
    Without renames (``old_path`` all <NA>) this is ``path`` unchanged.
    """
    paths = file_changes["path"]
    old = file_changes["old_path"]
    if not old.notna().any():
        return paths.copy()
    alias: dict[str, str] = {}
    out = paths.to_numpy(dtype=object, na_value=None).copy()
    olds = old.to_numpy(dtype=object, na_value=None)
    shas = file_changes["sha"].to_numpy(dtype=object)
    n = len(out)
    i = 0
    while i < n:  # one commit at a time: map its rows, then apply its renames for older commits
        j = i
        while j < n and shas[j] == shas[i]:
            j += 1
        renamed = []
        for k in range(i, j):
            p = out[k]
            if alias:
                out[k] = alias.get(p, p)
            if olds[k] is not None and olds[k] != p:
                renamed.append((olds[k], p, out[k]))
        for o, new, final in renamed:
            alias.pop(new, None)
            alias[o] = final
        i = j
    return pd.Series(pd.array(out, dtype="string"), index=file_changes.index, name="path")
