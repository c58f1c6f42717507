"""Write a Report to a directory: report.html, report.md, findings.json, tables/*.csv, figures/*.png.

``--out`` is untrusted ground (in CI it sits inside the checkout of a pull request), so publishing follows
four rules:

Old or new, never a mix
    Everything is rendered into a fresh private staging folder (``mkdtemp`` beside ``out_dir``, mode 0700),
    files of ``out_dir`` that seamscope did not write (user notes, other reports of ``audit-many``) are
    hard-linked into it, and it is swapped with ``out_dir`` in one ``renameat2`` ``RENAME_EXCHANGE`` (Linux;
    elsewhere two renames). Ctrl-C is held back for those few system calls (:data:`published` says which won).
Mount points: versioned in place
    A folder that cannot be renamed (a Docker volume, a bind mount; or the working directory) is published
    *inside* itself: staged in ``out_dir/.seamscope-v-<id>/``, the symlink ``out_dir/.seamscope-current`` is
    switched to it with one ``os.replace``, and the entry names are constant links through that pointer.
No write or delete through a link
    ``out_dir`` must not be a symlink (nor a link in the relative path given); inside it nothing is opened for
    writing or deleted by following a link: the staging tree is new, carried links stay links, and the
    previous tree is removed with ``shutil.rmtree`` (which unlinks links, never their targets).
Only our own files go stale
    ``.seamscope-manifest.json`` lists what seamscope wrote: those files are left out of the new folder when
    the new report does not produce them; anything else is carried over (a committed ``findings.json`` is never
    read). A forged manifest can only make seamscope drop files inside ``out_dir``, which it may rewrite anyway.

Concurrent writers into one ``out_dir`` take turns on an ``flock`` of ``out_dir/.seamscope.lock`` (that inode
is carried over, so the lock survives the swap).
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from toolkit.errors import InputError
from toolkit.runtime.atomic import umask
from toolkit.report.findings_json import dumps_findings, json_safe, plain_frame
from toolkit.report.html import render_html
from toolkit.report.markdown import render_markdown
from toolkit.report.model import Report, output_names
from toolkit.report.sarif import render_sarif
from toolkit.core.audit_result import GateResult
from toolkit.report.summary_md import render_summary

__all__ = ["write_report", "check_out_dir", "FORMATS", "MANIFEST", "published"]

FORMATS = ("html", "md", "json", "csv", "png", "summary", "sarif")
#: what an audit writes by default (``png`` comes with md/json, which name the figures)
DEFAULT_FORMATS = ("html", "md", "json", "csv", "summary", "sarif")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MANIFEST = ".seamscope-manifest.json"
LOCK = ".seamscope.lock"
CURRENT = ".seamscope-current"
_VERSION = ".seamscope-v-"
_VERSION_NAME = re.compile(r"\.seamscope-v-[A-Za-z0-9_]+")
_ENTRY = {"json": "findings.json", "md": "report.md", "html": "report.html", "summary": "report-summary.md",
          "sarif": "report.sarif"}
#: where the report will be published (e.g. the CI run's page), so report-summary.md links work from a comment
REPORT_URL_ENV = "SEAMSCOPE_REPORT_URL"
#: out folders whose new report this process has completely published (the CLI tells the user after Ctrl-C)
published: list[Path] = []


def _csv_cell(value: object) -> object:
    """CSV-friendly cell: lists/dicts as JSON text; text that a spreadsheet would run as a formula gets a ``'``
    (OWASP CSV injection: untrusted ``=HYPERLINK(...)`` stays text in Excel/Sheets)."""
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return json.dumps(json_safe(value), ensure_ascii=False)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) > 0:
        return json.dumps(json_safe(value), ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The one formula guard (:func:`_csv_cell`), used for every CSV seamscope writes (the CLI's tables too)."""
    df = plain_frame(df)
    out = df.copy()
    text_like = [pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt)
                 or isinstance(dt, pd.CategoricalDtype) for dt in out.dtypes]
    for i in [i for i, t in enumerate(text_like) if t]:
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.StringDtype):  # only text or NA: the formula guard, for the whole column
            guarded = col.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            values = col.astype(object)
            if guarded.any():
                values[guarded] = "'" + values[guarded]
            out.isetitem(i, values)
        else:
            out.isetitem(i, col.astype(object).map(_csv_cell))
    return out


def check_out_dir(out_dir: str | os.PathLike, flag: str = "--out") -> Path:
    """``out_dir`` as an absolute path, or :class:`InputError` when it is a file or a symbolic link.

    A link is refused for the folder itself and for every component of a relative path below the working
    directory (a committed ``seamscope-report -> /victim`` must not receive the report); components of an
    absolute path the user typed are the user's own choice (``/tmp`` is a link on some systems).
    """
    given = Path(out_dir)
    if not str(out_dir).strip():
        raise InputError(str(out_dir), "is empty", flag=flag, hint="give the folder to write the report to")
    parts = given.parts
    walk = Path(parts[0]) if given.is_absolute() else Path(".")
    for part in parts[1:] if given.is_absolute() else parts:
        walk = walk / part
        last = walk == given
        if (not given.is_absolute() or last) and walk.is_symlink():
            raise InputError(given, f"{'is' if last else f'goes through {walk}, which is'} a symbolic link; "
                             "seamscope never writes through a link", flag=flag,
                             hint="give a real folder (a link committed to a repository could point anywhere)")
    if given.exists() and not given.is_dir():
        raise InputError(given, "exists and is not a folder", flag=flag,
                         hint="give a folder (it is created if missing)")
    return Path(os.path.realpath(given.parent)) / given.name if given.name not in ("", ".", "..") \
        else Path(os.path.realpath(given))


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C back for a few system calls: a SIGINT arriving inside is acted on right after them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if got:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold ``flock`` on ``out_dir/.seamscope.lock``: writers into one folder publish one after the other."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    path = out_dir / LOCK
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        os.unlink(path)  # a planted link: remove the link itself, never touch its target
        fd = os.open(path, flags | os.O_EXCL, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(path, "is not a regular file", hint="remove it; seamscope keeps its lock there")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"seamscope: waiting for another audit writing to {out_dir}", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_manifest(folder: Path) -> set[str]:
    """The relative paths seamscope wrote into ``folder`` last time (its own manifest; never a link)."""
    try:
        fd = os.open(folder / MANIFEST, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return set()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return set()
        with os.fdopen(fd, "rb", closefd=False) as fh:
            doc = json.loads(fh.read(16 << 20))
    except (OSError, ValueError):
        return set()  # damaged or forged: then nothing counts as ours and everything is carried over
    finally:
        os.close(fd)
    files = doc.get("files") if isinstance(doc, dict) else None
    return {f for f in files if isinstance(f, str)} if isinstance(files, list) else set()


def _current_version(out_dir: Path) -> Path | None:
    """The versioned folder ``out_dir/.seamscope-current`` points to, if it is one of ours (a real folder)."""
    try:
        target = os.readlink(out_dir / CURRENT)
    except OSError:
        return None
    if not _VERSION_NAME.fullmatch(target):
        return None
    try:
        st = os.lstat(out_dir / target)
    except OSError:
        return None
    return out_dir / target if stat.S_ISDIR(st.st_mode) else None


def _carry(src: Path, dst: Path, ours: Callable[[str], bool], rel: str = "") -> None:
    """Hard-link into ``dst`` every entry below ``src`` that is not ``ours`` and that ``dst`` does not
    already hold (the new report wins). Links are carried as links, never followed."""
    try:
        with os.scandir(src) as it:
            entries = list(it)
    except OSError:
        return
    for e in entries:
        r = rel + e.name
        if ours(r):
            continue
        target = dst / e.name
        if e.is_dir(follow_symlinks=False):
            if os.path.lexists(target) and not (target.is_dir() and not target.is_symlink()):
                continue
            created = not os.path.lexists(target)
            if created:
                target.mkdir()
                os.chmod(target, stat.S_IMODE(e.stat(follow_symlinks=False).st_mode) | stat.S_IRWXU)
            _carry(Path(e.path), target, ours, r + "/")
            if created and not any(target.iterdir()) and any(Path(e.path).iterdir()):
                target.rmdir()  # held only our stale files
            continue
        if os.path.lexists(target):
            continue
        try:
            os.link(e.path, target, follow_symlinks=False)
        except OSError:
            if e.is_symlink():
                os.symlink(os.readlink(e.path), target)
            elif e.is_file(follow_symlinks=False):
                shutil.copy2(e.path, target, follow_symlinks=False)
            # a device/FIFO/socket that cannot be linked is not copied (it would block or mean nothing)


@lru_cache(maxsize=1)
def _renameat2() -> Callable | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _exchange(a: Path, b: Path) -> None:
    """Swap folders ``a`` and ``b`` atomically where the system can (Linux ``RENAME_EXCHANGE``), else with
    two renames (``b`` briefly absent; Ctrl-C is held back by the caller). Raises OSError (EBUSY, EXDEV)
    when either cannot be renamed."""
    fn = _renameat2()
    if fn is not None:
        if fn(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(b))
    aside = a.with_name(a.name + ".old")
    os.rename(b, aside)
    try:
        os.rename(a, b)
    except OSError:
        os.rename(aside, b)
        raise
    os.rename(aside, a)


def _in_place_wanted(out_dir: Path) -> bool:
    """Publish inside ``out_dir`` (versioned) rather than swapping it: a mount point, or a folder holding the
    working directory (a shell or server sitting in it would be left in a deleted folder)."""
    if os.path.ismount(out_dir) or _current_version(out_dir) is not None:  # once in place, stays in place
        return True
    cwd = os.path.realpath(os.getcwd())
    return cwd == str(out_dir) or cwd.startswith(str(out_dir) + os.sep)


def _publish_swap(out_dir: Path, staged: Path) -> None:
    old = _read_manifest(out_dir)
    _carry(out_dir, staged, lambda rel: rel in old or rel == MANIFEST)  # the lock file is carried: same inode
    os.chmod(staged, stat.S_IMODE(os.lstat(out_dir).st_mode))
    _exchange(staged, out_dir)  # staged now holds the previous report; the caller removes it


def _publish_in_place(out_dir: Path, staged: Path) -> None:
    """Switch ``out_dir/.seamscope-current`` to ``staged`` (a folder inside ``out_dir``); entries link through it."""
    previous = _current_version(out_dir)
    if previous is not None:
        pold = _read_manifest(previous)
        _carry(previous, staged, lambda rel: rel in pold or rel == MANIFEST)
    top_old = _read_manifest(out_dir)  # a report once written by swapping, before the folder became a mount
    names = sorted(p.name for p in staged.iterdir() if p.name != MANIFEST)
    trash = Path(tempfile.mkdtemp(prefix=".seamscope-trash-", dir=out_dir))
    try:
        for name in names:  # a real file or folder of that name: replaced by the link (user files inside kept)
            entry = out_dir / name
            if entry.is_dir() and not entry.is_symlink():
                _carry(entry, staged / name, lambda rel, n=name: f"{n}/{rel}" in top_old, "")
                os.rename(entry, trash / name)
        os.chmod(staged, 0o777 & ~umask())  # the version folder: as readable as a plain mkdir makes it
        _replace_link(out_dir / CURRENT, staged.name)  # the switch: one atomic rename
        for name in names:
            _replace_link(out_dir / name, f"{CURRENT}/{name}")
        for entry in out_dir.iterdir():  # our links to what this report no longer has
            if entry.name not in names and entry.is_symlink() and \
                    os.readlink(entry) == f"{CURRENT}/{entry.name}" and not os.path.lexists(staged / entry.name):
                entry.unlink()
        if (out_dir / MANIFEST).is_file() and not (out_dir / MANIFEST).is_symlink():
            os.rename(out_dir / MANIFEST, trash / MANIFEST)
        if previous is not None and previous != staged:
            os.rename(previous, trash / previous.name)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def _replace_link(path: Path, target: str) -> None:
    """Make ``path`` the symlink ``target``, replacing whatever name was there (never writing through it)."""
    try:
        if os.readlink(path) == target:
            return
    except OSError:
        pass
    tmp = path.with_name(f".seamscope-link-{secrets.token_hex(6)}")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    report: Report, out_dir: Path | str, *, formats: Iterable[str] = DEFAULT_FORMATS,
    entry_names: Mapping[str, str] | None = None, gates: list[GateResult] | None = None,
) -> dict[str, Path]:
    """Render ``report`` into ``out_dir``; returns ``{kind (a key of _ENTRY) or relative path: absolute Path}``.

    ``formats`` (:data:`FORMATS`): the files of ``_ENTRY``, ``csv`` (every table, all rows) and ``png`` (figures,
    also written with ``md`` or ``json``, which name them). ``gates`` is report-summary.md's verdict; its links
    point under ``$SEAMSCOPE_REPORT_URL`` when set. ``entry_names`` renames entry files (audit-many: ``index.*``).
    Raises :class:`InputError` when ``out_dir`` is a file or a symbolic link (see :func:`check_out_dir`).
    """
    fmts = tuple(dict.fromkeys(formats))
    unknown = [f for f in fmts if f not in FORMATS]
    if unknown:
        raise InputError(str(out_dir), f"unknown report format(s) {unknown!r}",
                         hint=f"choose from {', '.join(FORMATS)}", flag="--format")
    entry = {**_ENTRY, **(entry_names or {})}
    out_dir = check_out_dir(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with _locked(out_dir):
            return _write_locked(report, out_dir, fmts, entry, gates)
    except OSError as exc:  # a full disk, a folder of another user, a read-only mount: one line, not a traceback
        raise InputError(out_dir, f"the report cannot be written there ({exc.strerror or exc}"
                         f"{': ' + str(exc.filename) if exc.filename else ''})", flag="--out",
                         hint="choose a folder you can write, with free space") from exc


def write_audit(run: Any, out_dir: Path | str) -> dict[str, Path]:
    """Write one audit (a toolkit.run.audit.AuditRun) into ``out_dir``: each worker of ``audit-many`` does this."""
    from toolkit.report.sections import audit_report

    return write_report(audit_report(run), out_dir)


def _write_locked(report: Report, out_dir: Path, fmts: tuple[str, ...], entry: Mapping[str, str],
                  gates: list[GateResult] | None) -> dict[str, Path]:
    """Stage, then publish (the caller holds the folder's lock)."""
    in_place = _in_place_wanted(out_dir)
    tmp: Path | None = None
    if not in_place:
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        except OSError:  # the parent is read-only (a volume mounted at --out): publish inside it
            in_place = True
    if tmp is None:
        tmp = Path(tempfile.mkdtemp(prefix=_VERSION, dir=out_dir))
    try:
        result = _render_into(report, tmp, fmts, entry, out_dir, gates)
        with _interrupts_held():
            if not in_place:
                try:
                    _publish_swap(out_dir, tmp)  # tmp now holds the previous report
                except OSError as exc:
                    if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES, errno.EROFS):
                        raise
                    in_place = True  # e.g. a bind mount os.path.ismount cannot see: publish inside it
                    moved = Path(tempfile.mkdtemp(prefix=_VERSION, dir=out_dir))
                    shutil.copytree(tmp, moved, symlinks=True, dirs_exist_ok=True)
                    shutil.rmtree(tmp, ignore_errors=True)
                    tmp = moved
            if in_place:
                _publish_in_place(out_dir, tmp)
                tmp = None  # it is the live version now
            published.append(out_dir)
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
                tmp = None
        return result
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _report_url() -> str | None:
    """``$SEAMSCOPE_REPORT_URL`` when it is an http(s) URL without spaces or markup, else None."""
    url = os.environ.get(REPORT_URL_ENV, "").strip()
    return url if re.fullmatch(r"https?://[^\s()<>\[\]`\"']+", url) else None


def _render_into(report: Report, tmp: Path, fmts: tuple[str, ...], entry: Mapping[str, str], out_dir: Path,
                 gates: list[GateResult] | None) -> dict[str, Path]:
    """Render every file into the private staging folder ``tmp`` and write its manifest."""
    names = output_names(report)
    staged: list[str] = []
    kinds = {entry[k]: k for k in _ENTRY}

    def stage_bytes(rel: str, data: bytes) -> None:
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        staged.append(rel)

    if "csv" in fmts:
        for si, sec in enumerate(report.sections):
            for ti, table in enumerate(sec.tables):
                stage_bytes(names[("table", si, ti)], csv_frame(table.df).to_csv(index=False, lineterminator="\n")
                            .encode("utf-8"))
    if {"png", "md", "json"} & set(fmts):  # md and json name the figures
        for si, sec in enumerate(report.sections):
            for fi, fig in enumerate(sec.figures):
                stage_bytes(names[("figure", si, fi)], bytes(fig.png))
    for kind, render in (("json", dumps_findings), ("md", render_markdown), ("html", render_html),
                         ("sarif", render_sarif)):
        if kind in fmts:
            stage_bytes(entry[kind], render(report).encode("utf-8"))
    if "summary" in fmts:
        files = [entry[k] for k in ("html", "md", "json", "sarif") if k in fmts]
        stage_bytes(entry["summary"], render_summary(report, gates=gates, report_url=_report_url(),
                                                     files=files).encode("utf-8"))
    (tmp / MANIFEST).write_text(json.dumps({"seamscope_manifest": 1, "files": staged}, indent=0) + "\n",
                                encoding="utf-8")
    return {kinds.get(rel, rel): out_dir / rel for rel in staged}
