"""One content-keyed, atomic, concurrency-safe cache for loaders and analyses.

Keys
    :func:`key` hashes its parts with :func:`code_version` (the source of the computing modules and every
    seamscope module they import), so an entry is reused only for the same inputs read by the same code.
    :func:`fingerprint` hashes file **content** (a folder: every file's relative path and content); above
    :data:`FULL_HASH_LIMIT` only the first and last MiB plus size, path and ``mtime_ns`` (hashing gigabytes costs
    more than the cache saves; an in-place edit keeping size and mtime of such a file is all it can miss).
Files
    ``root()/<namespace>/<key>.parquet`` for a DataFrame (list columns and the entry's skips in the metadata),
    ``<key>.pkl`` for anything else, or a frame Parquet cannot hold. One namespace per kind of entry
    (``history``, ``structure``, ``definitions``, ``evidence``, ``analysis``), all written through :func:`put`.
Concurrency and damage
    Writers replace the final name atomically (:mod:`toolkit.runtime.atomic`), so readers only see complete
    files. An unreadable entry is removed and recomputed: the cache never turns into an error for the user.
Trust
    Unpickling runs code, so the cache folder must be the user's own: a folder owned by another user, or
    writable by group/others, is refused with one warning and the audit runs without a cache (:func:`enabled`
    is False). Every pickle (only :func:`put` writes one) carries an HMAC-SHA256 over its path and content with
    a per-user key in ``<cache>/.hmac-key`` (0600, created on first use); a pickle whose HMAC does not match is
    deleted unread. A folder that cannot be created or written also means "no cache", with one warning.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.runtime.atomic import atomic_write
from toolkit.errors import Skip

#: files above this size are fingerprinted by head + tail + size + mtime instead of their whole content
FULL_HASH_LIMIT = 64 << 20
_EDGE = 1 << 20
_META = b"seamscope"
#: How many entries were served from / written to the cache by this process (lets tests prove a hit).
stats = {"hits": 0, "misses": 0, "writes": 0, "healed": 0}


def root() -> Path:
    """The cache folder: ``$SEAMSCOPE_CACHE``, else ``$XDG_CACHE_HOME/seamscope``, else ``~/.cache/seamscope``.

    Whether it may be used: :func:`enabled`."""
    folder = os.environ.get("SEAMSCOPE_CACHE")
    if folder:
        return Path(folder)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "seamscope"


_KEY_FILE = ".hmac-key"
_MAGIC = b"seamscope-pickle-hmac1\n"
_REFUSED: dict[str, str] = {}  # cache folder -> why it is not used (warned once per process)
_KEYS: dict[str, bytes] = {}


def _refuse(folder: Path, why: str) -> None:
    """Stop using ``folder`` for the rest of this process, saying so once on stderr."""
    if str(folder) not in _REFUSED:
        _REFUSED[str(folder)] = why
        why = " ".join(why.split())  # one line, whatever the cause's text holds
        print(f"seamscope: warning: cache folder {folder} {why}; continuing without a cache", file=sys.stderr)


def write_failed(exc: OSError) -> None:
    """A store in the cache folder failed (read-only, full): warn once and use no cache from now on."""
    _refuse(root(), f"cannot be written ({exc.strerror or exc})")


def _trusted(folder: Path) -> bool:
    """Whether ``folder`` may hold the cache: ours, not writable by others, with our key. Checked once."""
    name = str(folder)
    if name in _REFUSED:
        return False
    if name in _KEYS:
        return True
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.stat()
        if st.st_uid != os.geteuid():
            _refuse(folder, f"is owned by another user (uid {st.st_uid}), so its files could run code here")
            return False
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            _refuse(folder, f"is writable by other users (mode {stat.S_IMODE(st.st_mode):o}), so its files "
                    "could run code here (chmod go-w it)")
            return False
        _KEYS[name] = _key(folder)
    except (OSError, ValueError) as exc:
        _refuse(folder, f"cannot be used ({exc.strerror if isinstance(exc, OSError) else exc})")
        return False
    return True


def _key(folder: Path) -> bytes:
    """The per-user HMAC key of ``folder`` (created once, 0600; refused when someone else could read or set it)."""
    path = folder / _KEY_FILE
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        tmp = folder / f".hmac-key.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic: a concurrent first run keeps one key, complete
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise ValueError(f"its key file {path} is not a private file of this user")
        data = os.read(fd, 64)
    finally:
        os.close(fd)
    if len(data) != 32:
        raise ValueError(f"its key file {path} is damaged (delete it to start a fresh cache)")
    return data


def _mac(path: Path, payload: bytes) -> bytes:
    folder = root()
    rel = os.path.relpath(path, folder).encode("utf-8", "surrogateescape")
    return hmac.new(_KEYS[str(folder)], rel + b"\0" + payload, hashlib.sha256).digest()


def _read_pickle(path: Path) -> tuple[Any, list[Skip]]:
    """The entry :func:`put` pickled at ``path``; ValueError, before unpickling, when its HMAC does not match."""
    data = path.read_bytes()
    head = len(_MAGIC) + 32
    if len(data) < head or not data.startswith(_MAGIC) or \
            not hmac.compare_digest(data[len(_MAGIC):head], _mac(path, data[head:])):
        raise ValueError("not written by this cache with its key")  # never unpickled
    value, skips = pickle.loads(data[head:])
    return value, _skips_from(skips)


_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)", re.M)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+([\w., \t]+)", re.M)


@lru_cache(maxsize=None)
def _module_source(name: str) -> tuple[Path | None, bytes, tuple[str, ...]]:
    """(file, source, toolkit modules it may import) of a dotted ``toolkit`` name; (None, b"", ()) if no module."""
    base = Path(__file__).resolve().parents[1]  # the toolkit package
    rel = Path(*name.split(".")[1:])
    found = [f for f in ((base / f"{rel}.py") if rel.parts else None, base / rel / "__init__.py")
             if f is not None and f.is_file()]
    if not found:
        return None, b"", ()  # a name imported from a module, not a module
    src = found[0].read_bytes()
    pkg = name if found[0].name == "__init__.py" else name.rpartition(".")[0]
    deps = [name.rpartition(".")[0]]  # importing a.b.c runs a/__init__ and a/b/__init__
    for m in _FROM.finditer(src):  # a regex, not ast: this runs on every audit, and over-matching is harmless
        mod = m.group(1).decode()
        level = len(mod) - len(mod.lstrip("."))
        mod = mod.lstrip(".")
        if level:
            parent = pkg.rsplit(".", level - 1)[0] if level > 1 else pkg
            mod = f"{parent}.{mod}" if mod else parent
        deps.append(mod)
        names = m.group(2).decode().strip("()")
        deps += [f"{mod}.{n.split()[0]}" for n in names.replace("\n", " ").split(",") if n.split()]
    for m in _IMPORT.finditer(src):
        deps += [n.split()[0] for n in m.group(1).decode().split(",") if n.split()]
    return found[0], src, tuple(d for d in deps if d.startswith("toolkit"))


@lru_cache(maxsize=None)
def code_modules(*modules: str) -> dict[Path, bytes]:
    """File -> source of ``modules`` (dotted ``toolkit.*`` names), of this module and of every ``toolkit`` module
    they import, transitively (anywhere in their source: a lazy import in a function body counts)."""
    files: dict[Path, bytes] = {}
    seen: set[str] = set()
    todo = list(modules) + [__name__]
    while todo:
        name = todo.pop()
        if name in seen or not name.startswith("toolkit"):
            continue
        seen.add(name)
        path, src, deps = _module_source(name)
        if path is not None:
            files[path] = src
            todo += deps
    return files


@lru_cache(maxsize=None)
def code_version(*modules: str) -> str:
    """Hash of the source of ``modules`` and of what they import (:func:`code_modules`): changing any code that
    produced an entry invalidates it, and only those entries. With no module: every ``toolkit/**/*.py``."""
    base = Path(__file__).resolve().parents[1]
    files = code_modules(*modules) if modules else {p: p.read_bytes() for p in sorted(base.rglob("*.py"))}
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(str(p.relative_to(base)).encode())
        h.update(files[p])
    return h.hexdigest()[:16]


def _hash_file(path: Path, h: "hashlib._Hash") -> None:
    st = path.stat()
    h.update(b"%d\0" % st.st_size)
    with open(path, "rb") as fh:
        if st.st_size <= FULL_HASH_LIMIT:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        else:
            h.update(fh.read(_EDGE))
            fh.seek(-_EDGE, os.SEEK_END)
            h.update(fh.read(_EDGE))
            h.update(b"%s\0%d" % (str(path.resolve()).encode("utf-8", "surrogateescape"), st.st_mtime_ns))


def fingerprint(*paths: str | os.PathLike | None) -> str:
    """Content hash of files and folders (folders: every file below, by relative path). Missing paths hash
    as missing, so creating one changes the fingerprint."""
    h = hashlib.sha256()
    for p in paths:
        if p is None:
            h.update(b"<none>\0")
            continue
        p = Path(p)
        if p.is_file():
            h.update(b"F\0")
            _hash_file(p, h)
        elif p.is_dir():
            h.update(b"D\0")
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                h.update(str(f.relative_to(p)).encode("utf-8", "surrogateescape") + b"\0")
                _hash_file(f, h)
        else:
            h.update(b"M\0" + str(p).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def enabled() -> bool:
    """False when ``SEAMSCOPE_NO_CACHE`` is set (to anything but 0/false/no), or when the cache folder is
    refused (another user's, writable by others, unwritable or full: warned once, see the module doc)."""
    if os.environ.get("SEAMSCOPE_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    return _trusted(root())


def repo_state(repo, rev: str | None) -> str:
    """What the repository's files are at ``rev``: its commit id; for the work tree (``rev=None``) the HEAD
    commit plus a content key of its files, computed without ``git status`` (:meth:`Repo.work_tree_state`)."""
    if rev is not None or repo.work_tree is None:
        return f"commit:{repo.resolve(rev or 'HEAD')}"
    head = repo.resolve("HEAD")
    try:
        return f"worktree:{head}:{repo.work_tree_state()}"
    except OSError:  # a file vanished or became unreadable while hashed: this state is not worth a cache entry
        return f"uncacheable:{time.time_ns()}"



def frame_digest(*frames: pd.DataFrame | None) -> str:
    """Content hash of DataFrames (values, index and column names) — for keys derived from other tables."""
    h = hashlib.sha256()
    for df in frames:
        if df is None:
            h.update(b"<none>")
            continue
        h.update(repr((list(df.columns), [str(t) for t in df.dtypes], len(df))).encode())
        if len(df):
            hashable = df.apply(lambda c: c.map(repr) if c.dtype == object else c)
            h.update(pd.util.hash_pandas_object(hashable, index=True).to_numpy().tobytes())
    return h.hexdigest()


def key(*parts: Any, code: Iterable[str] = ()) -> str:
    """The entry key of ``parts`` (JSON-able values or reprs) under the current version of the ``code``
    modules (dotted names, with what they import; empty: all of seamscope)."""
    blob = json.dumps([code_version(*sorted(code)), *parts], default=repr, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()[:40]


# ---- files -------------------------------------------------------------------
def _path(namespace: str, k: str, ext: str) -> Path:
    return root() / namespace / f"{k}.{ext}"


def _discard(path: Path) -> None:
    stats["healed"] += 1
    try:
        path.unlink()
    except OSError:
        pass


def _skips_json(skips: list[Skip]) -> list[list]:
    return [[None if s.path is None else str(s.path), s.reason, s.line] for s in skips]


def _skips_from(rows: list[list]) -> list[Skip]:
    return [Skip(path, reason, line) for path, reason, line in rows]


def _write_parquet(df: pd.DataFrame, skips: list[Skip], fh) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lists = [c for c in df.columns if df[c].dtype == object and len(df)
             and df[c].map(lambda v: isinstance(v, list)).any()]
    table = pa.Table.from_pandas(df, preserve_index=None)
    meta = dict(table.schema.metadata or {})
    meta[_META] = json.dumps({"skips": _skips_json(skips), "lists": [str(c) for c in lists],
                              "columns": [str(c) for c in df.columns]}).encode()
    pq.write_table(table.replace_schema_metadata(meta), fh)


def _read_parquet(path: Path) -> tuple[pd.DataFrame, list[Skip]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    info = json.loads(table.schema.metadata[_META])
    lists = {c: _python_lists(table.column(c)) for c in info["lists"]}
    df = table.drop_columns(list(lists)).to_pandas() if lists else table.to_pandas()
    for c, values in lists.items():
        df[c] = pd.Series(values, index=df.index, dtype=object)
    return df[info["columns"]] if lists else df, _skips_from(info["skips"])


def _python_lists(col) -> list[list | None]:
    """A Parquet list column as Python lists, sliced from one flat list (``to_pylist`` per row is slow)."""
    import pyarrow as pa

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    flat = arr.values.to_numpy(zero_copy_only=False).tolist()
    bounds = arr.offsets.to_numpy().tolist()
    base = bounds[0]
    out = [flat[a - base:b - base] for a, b in zip(bounds, bounds[1:])]
    if arr.null_count:
        for i in (arr.is_null().to_numpy(zero_copy_only=False)).nonzero()[0].tolist():
            out[i] = None
    return out


def get(namespace: str, k: str) -> tuple[Any, list[Skip]] | None:
    """``(value, skips)`` stored under ``k``, or ``None`` (absent, cache off, or damaged and now removed)."""
    if not enabled():
        return None
    for ext, read in (("parquet", _read_parquet), ("pkl", _read_pickle)):
        path = _path(namespace, k, ext)
        try:
            got = read(path)
        except FileNotFoundError:
            continue
        except Exception:  # noqa: BLE001 - unreadable or not ours (a class that moved, a bad HMAC): recomputed
            _discard(path)
            continue
        stats["hits"] += 1
        return got
    return None


def has(namespace: str, k: str) -> bool:
    """Whether an entry is stored under ``k`` (without reading it: it may still turn out damaged)."""
    return enabled() and any(_path(namespace, k, ext).is_file() for ext in ("parquet", "pkl"))


def put(namespace: str, k: str, value: Any, skips: Iterable[Skip] = ()) -> None:
    """Store ``value`` (and the skips computing it reported) under ``k``; failures to store are not errors."""
    skips = list(skips)
    if not enabled():
        return
    try:
        if isinstance(value, pd.DataFrame):
            try:
                atomic_write(_path(namespace, k, "parquet"), lambda fh: _write_parquet(value, skips, fh))
                stats["writes"] += 1
                return
            except (ValueError, TypeError, ImportError, UnicodeEncodeError, _arrow_error()):
                pass  # Parquet cannot hold this frame: pickle it
        path = _path(namespace, k, "pkl")
        payload = pickle.dumps((value, _skips_json(skips)), protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(path, _MAGIC + _mac(path, payload) + payload)
        stats["writes"] += 1
    except OSError as exc:  # a read-only or full cache folder: the result is still returned, once warned
        write_failed(exc)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        pass  # a value pickle cannot hold: computed again next time


def _arrow_error() -> type[Exception]:
    import pyarrow as pa
    return pa.ArrowException


def cached(namespace: str, k: str | None, compute: Callable[[list[Skip]], Any],
           skips: list[Skip] | None = None) -> Any:
    """``compute(own skips)`` under ``k`` (None: not cached), read or computed and stored. Its skips are stored
    with the value and replayed into ``skips`` on every hit, so a warm run reports what a cold one did."""
    if k is not None:
        hit = get(namespace, k)
        if hit is not None:
            value, found = hit
            if skips is not None:
                skips.extend(found)
            return value
    stats["misses"] += 1
    own: list[Skip] = []
    value = compute(own)
    if skips is not None:
        skips.extend(own)
    if k is not None:
        put(namespace, k, value, own)
    return value
