"""Errors and skip records shared by every loader.

A user's input is often imperfect. Two outcomes exist:

* ``InputError`` — the input cannot be used at all. The message names the file,
  the line or record, what is wrong, and what to do. The CLI prints it as one
  line and exits 2.
* ``Skip`` — one part of an input cannot be used but the rest can (a Python file
  that does not parse, an XML file that is not JUnit). Loaders append a ``Skip``
  to the ``skips`` list the caller passes in, or warn with ``SkippedInputWarning``
  when no list is given, so that nothing is dropped silently.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass


class SeamscopeError(Exception):
    """Base class of every error seamscope raises on purpose."""


class InputError(SeamscopeError):
    """An input file or directory cannot be used.

    ``path`` is the offending file, ``line``/``record`` where in it, ``hint`` what
    the user can do, ``flag`` the CLI flag or parameter that pointed at it.
    """

    def __init__(
        self,
        path: str | os.PathLike | None,
        what: str,
        *,
        line: int | None = None,
        record: str | int | None = None,
        hint: str | None = None,
        flag: str | None = None,
    ) -> None:
        self.path = None if path is None else os.fspath(path)
        self.what = what
        self.line = line
        self.record = record
        self.hint = hint
        self.flag = flag
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.record is not None:
            where += f" (record {self.record})"
        msg = f"{where}: {self.what}"
        if self.flag:
            msg += f" [given by {self.flag}]"
        if self.hint:
            msg += f"; {self.hint}"
        return msg


class ConfigError(InputError):
    """A configuration file or mapping is inconsistent (e.g. a glob matching nothing)."""


class GateFailed(SeamscopeError):
    """A CI gate (``--fail-under``/``--fail-on``) was not met; the CLI exits 1."""


class SkippedInputWarning(UserWarning):
    """Emitted for a skipped part of an input when the caller collects no skips."""


@dataclass(frozen=True)
class Skip:
    """One part of an input that was left out, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


def report_skip(skips: list[Skip] | None, path: str | os.PathLike, reason: str, line: int | None = None) -> None:
    """Record a skipped input in ``skips`` or, when the caller keeps none, warn."""
    skip = Skip(os.fspath(path), reason, line)
    if skips is None:
        warnings.warn(str(skip), SkippedInputWarning, stacklevel=3)
    else:
        skips.append(skip)
