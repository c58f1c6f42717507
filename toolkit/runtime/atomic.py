"""Write a file so that readers only ever see the old or the new complete version.

The content goes to a temporary file in the target's folder, is flushed and
``fsync``-ed, and replaces the target with ``os.replace`` (atomic on POSIX and
Windows). With ``durable=True`` the folder is ``fsync``-ed too, so the rename
itself survives a power cut (analyst labels); caches skip that cost. One
definition for the cache and the labels file.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(text: str, default: str = "item") -> str:
    """A file-name-safe stem for untrusted ``text``: ``[A-Za-z0-9._-]`` only, no leading dot, <= 80 chars."""
    stem = _UNSAFE.sub("_", str(text)).strip("._")[:80]
    return stem or default


def unique_name(stem: str, used: set[str], key: Callable[[str], str] = str) -> str:
    """``stem``, else ``stem_2``, ``stem_3``...: the first whose ``key`` (lower-cased, for case-insensitive file
    systems) is not in ``used``; that key is added to ``used``."""
    name, n = stem, 1
    while key(name).lower() in used:
        n += 1
        name = f"{stem}_{n}"
    used.add(key(name).lower())
    return name


def fsync_dir(directory: Path) -> None:
    """Persist a directory entry change (a rename); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def shared_file_mode() -> int:
    """The mode a plain ``open(..., "w")`` would give a new file (0666 minus the umask)."""
    return 0o666 & ~umask()


def tmp_prefix(name: str, pid: int | None = None) -> str:
    """How a half-written file of ``name`` by process ``pid`` (default: this one) begins: the writer's pid in the
    name lets whoever killed it outright (``kill -9`` leaves no chance to clean up) remove what it left."""
    return f".{name}.{os.getpid() if pid is None else pid}."


def atomic_write(target: str | os.PathLike, content: bytes | Callable[[BinaryIO], None], *,
                 durable: bool = False, mode: int | None = None) -> None:
    """Replace ``target`` with ``content`` (bytes, or a function writing to a binary file) atomically.

    A symbolic link at ``target`` is replaced by the file, never written through. The file is private (0600)
    unless ``mode`` is given (outputs meant for others: :func:`shared_file_mode`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=tmp_prefix(target.name), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(content, (bytes, bytearray, memoryview)):
                fh.write(content)
            else:
                content(fh)
            fh.flush()
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(target.parent)
