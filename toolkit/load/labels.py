"""The analyst labels file: one decided category per production bug.

An analyst (usually through :class:`toolkit.viz.review_widget.BugReviewWidget`)
decides for each bug whether it escaped because integration testing was missing
(``integration``), because of a defect inside one component (``component``),
because of the environment (``environment``) or whether it was no bug at all
(``not_a_bug``). The categorization method reads these decisions back and
prefers them over its own suggestions.

Format (UTF-8 CSV, written by :func:`write_labels` / :func:`save_label`)::

    key,category,note,decided_at,reviewer
    PROJ-12,integration,"payments->orders rounding",2026-11-25T16:00:00+00:00,alice

* ``key`` issue key as in the issues table, unique;
* ``category`` one of the categories (default :data:`CATEGORIES`);
* ``note`` free text (may be empty);
* ``decided_at`` ISO 8601 timestamp with offset (may be empty in hand-written files);
* ``reviewer`` optional column; who decided.

The first four columns are required; hand-written files may also be JSON
``{"PROJ-12": "integration", ...}``, which :func:`read_labels` accepts.

Writes are atomic (:func:`toolkit.runtime.atomic.atomic_write`: a temporary file, ``fsync``, :func:`os.replace`,
the folder ``fsync``-ed), so a crash at any moment leaves either the old or the new complete file. The previous good file, one that parses and holds decisions, is kept as
``<name>.bak``; an emptied file whose backup holds decisions is refused (with the ``cp`` that restores it) rather
than read as "nothing decided". :func:`save_label` holds an advisory lock (``<name>.lock``) while it reads,
changes and writes the file, so analysts saving into one file at the same time keep every decision.
"""
from __future__ import annotations

import csv
import getpass
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.categories import CATEGORIES, UNKNOWN
from toolkit.runtime.atomic import atomic_write
from toolkit.errors import InputError
from toolkit.load.limits import LimitExceeded, check_input_file, load_json

REQUIRED = ("key", "category", "note", "decided_at")
HEADER = (*REQUIRED, "reviewer")
MAX_NOTE_CHARS = 20_000  # well below the csv module's field limit (131,072), so every file we write reads back


def backup_path(path: str | os.PathLike) -> Path:
    """Where the previous good version of ``path`` is kept."""
    p = Path(path)
    return p.with_name(p.name + ".bak")


def _recovery_hint(path: Path) -> str:
    bak = backup_path(path)
    if bak.exists():
        return f"restore the previous good version with `cp {bak} {path}` (or fix the file by hand)"
    return f"fix the file by hand or delete it to start over (no backup {bak} exists yet)"


def _parse(path: Path, data: bytes, categories: Sequence[str]) -> pd.DataFrame:
    hint = _recovery_hint(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"labels file is not UTF-8 text ({exc.reason} at byte {exc.start})", hint=hint) from None
    if not text.strip():
        _refuse_if_backup_holds_more(path)
        return schema.empty("labels")
    if text.lstrip().startswith("{"):
        return _parse_json(path, text, categories, hint)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # e.g. NUL bytes from a crashed editor
        raise InputError(path, f"labels file is not valid CSV ({exc})", hint=hint) from None
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing or len(set(header)) != len(header):
        raise InputError(
            path, f"labels file header is {','.join(header)!r}, expected {','.join(HEADER)!r}", line=1, hint=hint
        )
    idx = {name: header.index(name) for name in header}
    records: dict[str, dict] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(
                path, f"row has {len(row)} fields, the header has {len(header)}", line=lineno, hint=hint
            )
        rec = {name: row[i] for name, i in idx.items()}
        key = rec["key"].strip()
        if not key:
            raise InputError(path, "empty key", line=lineno, hint=hint)
        category = rec["category"].strip()
        if category not in categories:
            raise InputError(
                path, f"unknown category {category!r} (known: {', '.join(categories)})", line=lineno,
                record=key, hint=hint,
            )
        decided = rec["decided_at"].strip()
        try:
            ts = pd.Timestamp(decided) if decided else pd.NaT
            if ts is not pd.NaT and ts.tzinfo is None:
                ts = ts.tz_localize("UTC")
        except ValueError:
            raise InputError(path, f"decided_at {decided!r} is not an ISO 8601 timestamp", line=lineno,
                             record=key, hint=hint) from None
        # A key decided twice (hand edits): the later line wins, as it would in the widget.
        records[key] = {
            "key": key, "category": category, "note": rec["note"],
            "reviewer": rec.get("reviewer") or None, "decided_at": ts,
        }
    return _frame(records.values())


def _parse_json(path: Path, text: str, categories: Sequence[str], hint: str) -> pd.DataFrame:
    try:
        obj = load_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"labels file is not valid JSON ({exc.msg})", line=exc.lineno, hint=hint) from None
    except LimitExceeded as exc:
        raise InputError(path, f"labels file {exc.reason}", hint=hint) from None
    if not isinstance(obj, dict):
        raise InputError(path, 'JSON labels must be an object {"KEY": "category", ...}', hint=hint)
    records = []
    for key, category in obj.items():
        if category not in categories:
            raise InputError(path, f"unknown category {category!r} (known: {', '.join(categories)})",
                             record=key, hint=hint)
        records.append({"key": key, "category": category, "note": "", "reviewer": None, "decided_at": pd.NaT})
    return _frame(records)


def _frame(records: Iterable[dict]) -> pd.DataFrame:
    df = pd.DataFrame(list(records), columns=schema.columns("labels"))
    if df.empty:
        return schema.empty("labels")
    df["decided_at"] = pd.to_datetime(df["decided_at"], utc=True)
    return schema.conform(df, "labels").reset_index(drop=True)


def read_labels(path: str | os.PathLike, *, categories: Sequence[str] = CATEGORIES) -> pd.DataFrame:
    """Read the analyst labels file; table ``labels`` (toolkit.vocab.schema).

    A missing file means nothing was decided yet (empty table). A file that
    cannot be used raises :class:`InputError` naming the ``.bak`` to restore.
    """
    p = Path(path)
    if p.exists():  # a folder, device or FIFO is refused in one line, not read (or waited on)
        check_input_file(p, flag="--labels")
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return schema.empty("labels")
    return _parse(p, data, categories)


def _render(df: pd.DataFrame) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for rec in df.itertuples(index=False):
        ts = rec.decided_at
        w.writerow([
            rec.key, rec.category, "" if pd.isna(rec.note) else rec.note,
            "" if pd.isna(ts) else pd.Timestamp(ts).isoformat(),
            "" if pd.isna(rec.reviewer) else rec.reviewer,
        ])
    return buf.getvalue().encode("utf-8")


def _refuse_if_backup_holds_more(path: Path) -> None:
    """An emptied labels file (truncated to 0 bytes by a crash or a full disk) whose ``.bak`` holds decisions
    is damage, not "nothing decided": reading it as empty would let the next save drop every decision."""
    bak = backup_path(path)
    try:
        data = bak.read_bytes()
    except OSError:
        return
    if data.strip():
        raise InputError(path, f"labels file is empty but its backup {bak} holds decisions",
                         hint=f"restore it with `cp {bak} {path}` (or delete both to start over)")


def _current_good(path: Path, categories: Sequence[str]) -> bytes | None:
    """The current file's bytes if it parses and holds at least one decision (a backup candidate), else None:
    an empty or damaged file never replaces the last good ``.bak``."""
    try:
        data = path.read_bytes()
        return None if _parse(path, data, categories).empty else data
    except (FileNotFoundError, InputError):
        return None


def write_labels(path: str | os.PathLike, df: pd.DataFrame, *, categories: Sequence[str] = CATEGORIES) -> None:
    """Atomically replace the labels file with ``df`` (table ``labels``), keeping the old one as ``.bak``."""
    p = Path(path)
    df = df.copy()
    for col in schema.columns("labels"):
        if col not in df.columns:
            df[col] = None
    bad = sorted(set(df["category"]) - set(categories))
    if bad:
        raise ValueError(f"unknown categories {bad}; known: {list(categories)}")
    if df["note"].fillna("").astype(str).str.len().gt(MAX_NOTE_CHARS).any():
        raise ValueError(f"a note is longer than {MAX_NOTE_CHARS} characters; shorten it")
    if df["key"].isna().any() or df["key"].duplicated().any():
        raise ValueError("label keys must be present and unique")
    df["decided_at"] = pd.to_datetime(df["decided_at"], utc=True)
    p.parent.mkdir(parents=True, exist_ok=True)
    old = _current_good(p, categories)
    if old is not None:
        atomic_write(backup_path(p), old)
    atomic_write(p, _render(df), durable=True)


def save_label(
    path: str | os.PathLike,
    key: str,
    category: str,
    note: str = "",
    *,
    reviewer: str | None = None,
    categories: Sequence[str] = CATEGORIES,
) -> pd.DataFrame:
    """Record one decision (replacing an earlier one for ``key``) and return all labels.

    The file is rewritten atomically before this returns, so a kernel restart
    right after loses nothing. A corrupted existing file raises
    :class:`InputError` rather than being overwritten.
    """
    if category not in categories:
        raise ValueError(f"unknown category {category!r}; known: {list(categories)}")
    if reviewer is None:
        reviewer = os.environ.get("SEAMSCOPE_REVIEWER") or _user()
    with _locked(Path(path)):  # read-modify-write: two analysts saving at once must not lose a decision
        df = read_labels(path, categories=categories)
        records = {r["key"]: r for r in df.to_dict("records")}
        # an earlier decision is replaced in place, a new one is appended
        records[str(key)] = {"key": str(key), "category": category, "note": note or "", "reviewer": reviewer,
                             "decided_at": pd.Timestamp(datetime.now(timezone.utc))}
        new = _frame(records.values())
        write_labels(path, new, categories=categories)
    return new


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``<name>.lock`` beside ``path`` (POSIX ``flock``; released if the
    process dies). Where ``fcntl`` does not exist (Windows) saves are not serialised between processes."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return None
