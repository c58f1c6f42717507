"""One hook for progress on long work: tqdm on a terminal, silent elsewhere.

``set_enabled(False)`` (``--quiet``, tests) silences every bar; by default bars
show only when stderr is a TTY so logs and CI output stay clean.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
_enabled: bool | None = None  # None = decide by TTY


def set_enabled(enabled: bool | None) -> None:
    """Force progress bars on/off, or ``None`` to follow whether stderr is a TTY."""
    global _enabled
    _enabled = enabled


def is_enabled() -> bool:
    if _enabled is None:
        return sys.stderr.isatty()
    return _enabled


def progress(iterable: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar when progress is enabled."""
    if not is_enabled():
        yield from iterable
        return
    yield from tqdm(iterable, desc=desc, total=total, unit=unit, leave=False)
