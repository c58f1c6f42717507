"""What a definition's docstring documents, and how a signature changed: the helpers the interface
documentation review applies to definitions (:mod:`toolkit.load.definitions` reads them).

The docstring helpers recognise the three common styles: Google (``Args:``), NumPy (``Parameters`` underlined
with dashes) and Sphinx (``:param x:``).
"""
from __future__ import annotations

import re

# ---- docstrings -------------------------------------------------------------
_GOOGLE_PARAMS = re.compile(r"^(\s*)(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|"
                            r"Other Parameters|Attributes)\s*:\s*$")
_GOOGLE_ENTRY = re.compile(r"^\s*\**(\w+)\s*(\([^)]*\))?\s*:")
_NUMPY_PARAMS = re.compile(r"^(\s*)(Parameters|Other Parameters|Keyword Arguments|Attributes)\s*$")
_NUMPY_ENTRY = re.compile(r"^\s*(\**\w+(?:\s*,\s*\**\w+)*)\s*(?::.*)?$")
_DASHES = re.compile(r"^\s*-{3,}\s*$")
_SPHINX_PARAM = re.compile(r":(?:param|parameter|arg|argument|key|keyword|ivar)\s+(?:[^:]*?\s)?\**(\w+)\s*:")
_RETURNS = re.compile(r"(^\s*(Returns?|Yields?)\s*:)|(:returns?:)|(:rtype:)|(:yields?:)|"
                      r"(^\s*(Returns|Yields)\s*\n\s*-{3,}\s*$)", re.MULTILINE)
_RAISES = re.compile(r"(^\s*Raises\s*:)|(:raises?\b)|(^\s*Raises\s*\n\s*-{3,}\s*$)", re.MULTILINE)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def documented_params(doc: str | None) -> set[str]:
    """Parameter names a docstring documents, in Google, NumPy or Sphinx style."""
    if not doc:
        return set()
    names = set(_SPHINX_PARAM.findall(doc))
    lines = doc.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        g = _GOOGLE_PARAMS.match(line)
        if g:
            head = len(g.group(1))
            i += 1
            entry_indent = None
            while i < len(lines):
                ln = lines[i]
                if ln.strip():
                    ind = _indent(ln)
                    if ind <= head:
                        break
                    if entry_indent is None:
                        entry_indent = ind
                    if ind == entry_indent:
                        m = _GOOGLE_ENTRY.match(ln)
                        if m:
                            names.add(m.group(1))
                i += 1
            continue
        n = _NUMPY_PARAMS.match(line)
        if n and i + 1 < len(lines) and _DASHES.match(lines[i + 1]):
            head = len(n.group(1))
            i += 2
            while i < len(lines):
                ln = lines[i]
                if ln.strip():
                    if i + 1 < len(lines) and _DASHES.match(lines[i + 1]):
                        break  # the next section's header
                    if _indent(ln) == head:
                        m = _NUMPY_ENTRY.match(ln)
                        if m:
                            names.update(x.strip().lstrip("*") for x in m.group(1).split(","))
                    elif _indent(ln) < head:
                        break
                i += 1
            continue
        i += 1
    return names


def documents_returns(doc: str | None) -> bool:
    """A ``Returns:``/``Yields:`` section (Google), ``:returns:``/``:rtype:`` (Sphinx) or an underlined
    ``Returns`` (NumPy)."""
    return bool(doc) and _RETURNS.search(doc) is not None


def documents_raises(doc: str | None) -> bool:
    """A ``Raises:`` section (Google), ``:raises X:`` (Sphinx) or an underlined ``Raises`` (NumPy)."""
    return bool(doc) and _RAISES.search(doc) is not None


def describe_change(before: tuple, after: tuple) -> str:
    """A short human description of how a signature changed."""
    def param(name: str, kind: str, ann: str | None, default: str | None) -> str:
        star = kind if kind in ("*", "**") else ""
        return star + name + (f": {ann}" if ann else "") + ("" if default is None else f" = {default}")

    def fmt(sig: tuple) -> str:
        return f"({', '.join(param(*p) for p in sig[0])})" + (f" -> {sig[1]}" if sig[1] else "")
    return f"{fmt(before)} => {fmt(after)}"
