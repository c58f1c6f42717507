"""Bounded readers for untrusted YAML and JSON: a small hostile file must not exhaust memory or crash the audit.

The audited repository and the exports users hand in are untrusted. A 4 KB YAML file of nested aliases
("billion laughs") stands for a billion nodes; a JSON file nested 100,000 deep overflows the parser's recursion;
a 100,000-digit integer trips Python's int-conversion guard. Every YAML/JSON reader in :mod:`toolkit.load` goes
through :func:`load_json` / :func:`load_yaml` / :func:`load_yaml_all`, which raise :class:`LimitExceeded` (a
``ValueError``) whose ``reason`` names the limit and how to raise it; the caller names the file and turns it
into a :class:`~toolkit.errors.Skip` (file found in a repository or folder) or an
:class:`~toolkit.errors.InputError` (file named by the user). :func:`check_input_file` refuses devices, FIFOs
and files over the size limit before anything is read.

Limits (raise any with one environment variable, e.g. ``SEAMSCOPE_PARSE_LIMITS="aliases=1000000,depth=2000"``)
    ``aliases``    nodes that YAML aliases may stand for in one document, counted as expanded (default 100,000);
                   a recursive alias (a node containing itself) is always refused
    ``depth``      nesting of YAML collections and JSON arrays/objects (default 1,000, about what Python's own
                   recursion limit allows JSON; at most 20,000)
    ``digits``     digits of one integer in JSON (default: Python's ``sys.get_int_max_str_digits()``, 4,300)
    ``record_mb``  one record (a line of a JSON-lines file) in megabytes (default 64)
The size of a whole input file is bounded separately by ``SEAMSCOPE_MAX_FILE_MB``
(:func:`toolkit.load.gitrepo.max_file_bytes`).
"""
from __future__ import annotations

import json
import os
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Iterator

from toolkit.errors import InputError

__all__ = ["ENV", "Limits", "LimitExceeded", "limits", "load_json", "load_yaml", "load_yaml_all", "load_toml",
           "check_input_file", "files_in", "json_decode_at"]

ENV = "SEAMSCOPE_PARSE_LIMITS"
_MAX_DEPTH = 20_000
_DEFAULTS = {"aliases": 100_000, "depth": 1_000, "digits": 0, "record_mb": 64}  # digits 0: Python's own


@dataclass(frozen=True)
class Limits:
    """The parse limits in force (:func:`limits`)."""

    aliases: int
    depth: int
    digits: int
    record_bytes: int


class LimitExceeded(ValueError):
    """A document over a parse limit; ``reason`` says which limit, its value and how to raise it (no file name:
    the caller knows the file)."""

    def __init__(self, what: str, key: str, value: int | None) -> None:
        self.key = key
        self.reason = what if value is None else f"{what} (over the {key} limit of {value}; raise it with {ENV}={key}=N)"
        super().__init__(self.reason)


def limits() -> Limits:
    """The limits of ``SEAMSCOPE_PARSE_LIMITS`` (``key=N`` pairs, comma-separated) over the defaults;
    :class:`InputError` naming the variable when it is malformed."""
    got = dict(_DEFAULTS)
    raw = os.environ.get(ENV, "").strip()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, eq, value = part.partition("=")
        key = key.strip()
        if key not in _DEFAULTS:
            raise InputError(ENV, f"unknown limit {key!r}", hint=f"known: {', '.join(_DEFAULTS)}")
        try:
            n = int(value)
            if not eq or n < 1:
                raise ValueError
        except ValueError:
            raise InputError(ENV, f"{part!r} is not {key}=N with a whole number N >= 1") from None
        if key == "depth" and n > _MAX_DEPTH:
            raise InputError(ENV, f"depth={n} is more than {_MAX_DEPTH}", hint="deeper nesting would overflow the "
                             "interpreter's C stack")
        got[key] = n
    return Limits(aliases=got["aliases"], depth=got["depth"], digits=got["digits"] or sys.get_int_max_str_digits(),
                  record_bytes=got["record_mb"] << 20)


# ----------------------------------------------------------------------------- files
def check_input_file(path: str | os.PathLike, *, flag: str | None = None, sized: bool = True) -> Path:
    """``path`` if it is a regular file within the size limit (``sized=False``: any size, for inputs read in a
    stream), else :class:`InputError` naming it: a device (``/dev/zero``), FIFO or socket would block or never
    end, a folder is not a file."""
    from toolkit.load.gitrepo import max_file_bytes, too_big

    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(p, "does not exist", flag=flag) from None
    except OSError as exc:
        raise InputError(p, f"cannot be read ({exc.strerror})", flag=flag) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(p, "is a folder, not a file", flag=flag)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(p, "is not a regular file (a device, FIFO or socket)", flag=flag)
    limit = max_file_bytes()
    if sized and st.st_size > limit:
        raise InputError(p, too_big(st.st_size, limit), flag=flag)
    return p


def files_in(path: str | os.PathLike, suffixes: tuple[str, ...], *, flag: str) -> list[tuple[Path, bool]]:
    """``(file, named)``: ``path`` itself (``named``), or the files with one of ``suffixes`` found in the folder
    ``path`` (searched recursively, sorted; ``named`` False); :class:`InputError` when it does not exist."""
    p = Path(path)
    if p.is_dir():
        return [(q, False) for q in sorted(p.rglob("*")) if q.is_file() and q.suffix.lower() in suffixes]
    if not p.exists():
        raise InputError(p, "does not exist", flag=flag)
    return [(p, True)]


# ----------------------------------------------------------------------------- JSON
@contextmanager
def _room(lim: Limits, frames_per_level: int = 1) -> Iterator[None]:
    """Python's int-digit and recursion limits raised to ``lim`` for one parse when the user asked for more
    than Python allows by default (never lowered: other threads may rely on them)."""
    old_digits, old_rec = sys.get_int_max_str_digits(), sys.getrecursionlimit()
    frames = 0
    f: FrameType | None = sys._getframe()
    while f is not None:
        frames, f = frames + 1, f.f_back
    want_rec = frames + frames_per_level * lim.depth + 100
    try:
        if lim.digits > old_digits:
            sys.set_int_max_str_digits(lim.digits)
        if want_rec > old_rec:
            sys.setrecursionlimit(want_rec)
        yield
    finally:
        sys.set_int_max_str_digits(old_digits)
        sys.setrecursionlimit(old_rec)


def load_json(text: str | bytes) -> Any:
    """``json.loads`` within the limits: :class:`LimitExceeded` for too deep nesting or too long an integer,
    ``json.JSONDecodeError``/``UnicodeDecodeError`` as usual for text that is not JSON. As fast as ``json.loads``
    (the limits are looked at only when Python's own guards trip)."""
    return _guarded(lambda: json.loads(text))


def json_decode_at(decoder: json.JSONDecoder, text: str, pos: int) -> tuple[Any, int]:
    """``decoder.raw_decode(text, pos)`` within the limits (for files holding several JSON values)."""
    return _guarded(lambda: decoder.raw_decode(text, pos))


def _json_limit(exc: BaseException, lim: Limits) -> LimitExceeded | None:
    if isinstance(exc, RecursionError):
        return LimitExceeded("is nested too deeply", "depth", lim.depth)
    if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError) and "digits" in str(exc):
        return LimitExceeded("holds an integer with too many digits", "digits", lim.digits)
    return None


def _guarded(parse: Any) -> Any:
    """``parse()``; when Python's recursion or int-digit guard trips, again with the room the user's limits give
    (when they are above Python's), else :class:`LimitExceeded`; other errors are re-raised."""
    try:
        return parse()
    except (RecursionError, ValueError) as exc:
        lim = limits()
        mapped = _json_limit(exc, lim)
        if mapped is None:
            raise
    if (mapped.key == "digits" and lim.digits > sys.get_int_max_str_digits()) or mapped.key == "depth":
        try:
            with _room(lim):
                return parse()
        except (RecursionError, ValueError) as again:
            mapped = _json_limit(again, lim)
            if mapped is None:
                raise
    raise mapped from None


def load_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` within the depth limit (:class:`LimitExceeded`; ``tomllib.TOMLDecodeError`` as usual):
    the pure-Python parser recurses once per nested array or inline table."""
    import tomllib

    lim = limits()
    try:
        with _room(lim, _TOML_FRAMES):
            return tomllib.loads(text)
    except RecursionError:
        raise LimitExceeded("is nested too deeply", "depth", lim.depth) from None


_TOML_FRAMES = 4  # Python frames tomllib uses per level of nesting


# ----------------------------------------------------------------------------- YAML
def _loader_class():
    import yaml
    from yaml.events import AliasEvent
    from yaml.nodes import MappingNode, SequenceNode

    class BoundedLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` (no tags that construct objects) that counts, while composing, the nodes every
        alias stands for and the nesting depth, and refuses a document over the limits before anything walks
        the expanded tree."""

        def __init__(self, stream: Any, lim: Limits) -> None:
            super().__init__(stream)
            self._lim = lim
            self._depth = 0
            self._expanded = 0
            self._done: set[int] = set()
            self._sizes: dict[int, int] = {}

        def compose_document(self):
            self._expanded, self._done, self._sizes = 0, set(), {}
            return super().compose_document()

        def _size(self, node: Any) -> int:
            """Nodes under ``node`` with every alias expanded (memoised; iterative, no recursion)."""
            sizes = self._sizes
            stack = [(node, False)]
            while stack:
                n, ready = stack.pop()
                if id(n) in sizes:
                    continue
                kids = ([k for pair in n.value for k in pair] if isinstance(n, MappingNode)
                        else list(n.value) if isinstance(n, SequenceNode) else [])
                if ready:
                    total = 1 + sum(sizes[id(k)] for k in kids)
                    sizes[id(n)] = total
                    if total > self._lim.aliases:
                        raise LimitExceeded("has YAML aliases that expand to too many nodes", "aliases",
                                            self._lim.aliases)
                else:
                    stack.append((n, True))
                    stack.extend((k, False) for k in kids if id(k) not in sizes)
            return sizes[id(node)]

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):
                event = self.peek_event()
                node = super().compose_node(parent, index)
                if id(node) not in self._done:
                    raise LimitExceeded(f"has a recursive YAML alias *{event.anchor} (a node that contains "
                                        "itself expands without end)", "aliases", None)
                self._expanded += self._size(node)
                if self._expanded > self._lim.aliases:
                    raise LimitExceeded("has YAML aliases that expand to too many nodes", "aliases",
                                        self._lim.aliases)
                return node
            self._depth += 1
            if self._depth > self._lim.depth:
                raise LimitExceeded("is nested too deeply", "depth", self._lim.depth)
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            self._done.add(id(node))
            return node

    return BoundedLoader


_YAML_FRAMES = 8  # Python frames the pure-Python composer and constructor use per level of nesting


@contextmanager
def _yaml_loader(text: str | bytes) -> Iterator[tuple[Any, Limits]]:
    lim = limits()
    loader = _loader_class()(text, lim)
    try:
        yield loader, lim
    except RecursionError:  # a constructor or scanner path deeper than Python allows
        raise LimitExceeded("is nested too deeply", "depth", lim.depth) from None
    finally:
        loader.dispose()


def load_yaml(text: str | bytes) -> Any:
    """``yaml.safe_load`` within the limits (:class:`LimitExceeded`; ``yaml.YAMLError`` for invalid YAML)."""
    with _yaml_loader(text) as (loader, lim), _room(lim, _YAML_FRAMES):
        return loader.get_single_data()


def load_yaml_all(text: str | bytes) -> list[Any]:
    """``list(yaml.safe_load_all(text))`` within the limits."""
    docs: list[Any] = []
    with _yaml_loader(text) as (loader, lim):
        while True:
            with _room(lim, _YAML_FRAMES):
                if not loader.check_data():
                    return docs
                docs.append(loader.get_data())
