"""The component mapping a repository or configuration file declares: ``[components]`` of ``seamscope.toml``,
``[tool.seamscope.components]`` of ``pyproject.toml`` (what it means: :mod:`toolkit.vocab.components`).

A reader, so it lives in ``load``: the TOML is a committed file of the audited repository, parsed through the
bounded reader (:func:`toolkit.load.limits.load_toml`). Errors name the file and the pattern's line
(``seamscope.toml:LINE``).
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping

from toolkit.errors import ConfigError
from toolkit.load.limits import LimitExceeded, load_toml
from toolkit.vocab.components import EXCLUDE, PatternMapping


def _key_lines(text: str, section: tuple[str, ...]) -> dict[str, int]:
    """Line of each key of table ``[a.b.c]`` in TOML ``text`` (one ``key = value`` per line)."""
    want = list(section)
    lines: dict[str, int] = {}
    inside = False
    for i, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if s.startswith("[") and not s.startswith("[["):
            try:
                probe = tomllib.loads(s)
            except tomllib.TOMLDecodeError:
                continue
            node, path = probe, []
            while isinstance(node, dict) and len(node) == 1:
                k = next(iter(node))
                path.append(k)
                node = node[k]
            inside = path == want
            continue
        if inside and "=" in s:
            try:
                lines.update({k: i for k in tomllib.loads(s) if k not in lines})
            except tomllib.TOMLDecodeError:
                continue
    return lines


def mapping_from_toml(data: dict, text: str, name: str, section: tuple[str, ...]) -> PatternMapping | None:
    """The ``[components]`` table at ``section`` of parsed TOML ``data`` (``text`` gives the lines), or ``None``."""
    node: object = data
    for key in section:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    lines = _key_lines(text, section)
    if not isinstance(node, dict):
        raise ConfigError(name, f"[{'.'.join(section)}] must map glob patterns to component names (strings)")
    for pat, comp in node.items():
        if not isinstance(comp, str):
            raise ConfigError(name, f"[{'.'.join(section)}] must map glob patterns to component names (strings); "
                              f"{pat!r} maps to {comp!r}", line=lines.get(pat),
                              hint=f"write \"{pat}\" = \"component\", or \"{EXCLUDE}\" to exclude the files")
    return PatternMapping(node, source=name, lines=lines)


def read_mapping_config(repo_files: Mapping[str, bytes]) -> tuple[PatternMapping | None, str | None]:
    """Read a component mapping from ``seamscope.toml`` or ``pyproject.toml`` contents.

    ``repo_files`` maps those file names to their bytes (read by the caller from a work tree or a git
    revision). Returns ``(mapping, source_name)`` or ``(None, None)``; the mapping remembers each pattern's line.
    """
    for name, section in (("seamscope.toml", ("components",)), ("pyproject.toml", ("tool", "seamscope", "components"))):
        raw = repo_files.get(name)
        if raw is None:
            continue
        try:
            text = raw.decode("utf-8")
            data = load_toml(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(name, f"is not valid TOML: {exc}") from exc
        except LimitExceeded as exc:
            raise ConfigError(name, exc.reason) from None
        got = mapping_from_toml(data, text, name, section)
        if got is not None:
            return got, name
    return None, None
