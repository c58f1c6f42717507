"""What the changed lines of bug fixes do at a boundary: one row per (commit, file, kind of fact[, component called]).

Which files a fix touched says little about WHERE the defect lived; its changed lines say more. A fix whose
changed lines do one of the things below changed something at a seam (evidence for ``integration`` in
:mod:`toolkit.analyze.bug_categorization`); one that does none and stays in one component changed one part.

:func:`fix_diff_facts` reads the Python changes of the fix commits with a few batched ``git log --no-walk -p``
calls (:meth:`toolkit.load.gitrepo.Repo.command`: nothing of the repository runs) and the import statements of
each changed file's post-fix version once (one ``cat-file --batch``; bindings cached per blob id across audits).
The table is cached per commit set.

Kinds of fact (``what``; definitions are generic — no project's names):

=========================  ==================================================================================
cross_component_call       an added or removed line calls a name the file imports from another component; one
                           row per component called, its detail ending ``(component)``
dependency_call            ... calls a name imported from a dependency, third-party or platform module (the
                           boundary vocabulary's kinds ``dependency``, ``third_party``, ``platform``; without
                           a vocabulary: any module that is neither the project's nor the standard library's,
                           plus the platform modules of :data:`toolkit.load.boundary_vocab.PLATFORM_MODULES`)
exception_translation      an ``except X:`` followed in the hunk by ``raise Y`` (Y not among X), one of the two
                           lines changed
serialization              an added or removed line calls a serialization or parsing step (:data:`SERIALIZATION`)
config                     an added or removed line reads configuration: the environment or a config parser
                           (:data:`CONFIG`)
changed                    the file's changed lines (``count``); every read file has one, so a fix whose rows are
                           only ``changed`` changed nothing at a boundary
=========================  ==================================================================================

Bounds: at most ``max_commits`` commits (newest kept, the rest a skip), and a commit with more than
``max_lines`` changed Python lines is a refactoring or vendoring, not read (a skip naming the commit). Binary
files and paths that cannot be decoded are read as bytes (named ``\\xNN``) or left out, never a crash.
"""
from __future__ import annotations

import ast
import codecs
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.errors import Skip, report_skip
from toolkit.load.boundary_vocab import PLATFORM_MODULES
from toolkit.load.gitrepo import Repo, path_text
from toolkit.load.history import change_components
from toolkit.load.links import bug_mask
from toolkit.load.python_ast import import_bindings
from toolkit.runtime import cache
from toolkit.vocab import schema
from toolkit.vocab.components import is_test_path, module_name

__all__ = ["FACT_KINDS", "MAX_LINES", "MAX_COMMITS", "SERIALIZATION", "CONFIG", "fix_commits", "fix_diff_facts"]

#: Kinds of fact, in the order rows are written (``changed`` last).
FACT_KINDS = ("cross_component_call", "dependency_call", "exception_translation", "serialization", "config",
              "changed")
#: A commit changing more Python lines than this is not read (refactoring, vendoring, reformatting).
MAX_LINES = 3000
#: Fix commits read at most per audit (the newest).
MAX_COMMITS = 20_000
#: Commits per ``git log`` call (keeps the command line short).
_BATCH = 400
#: A call of a serialization or parsing step: a format module's function, or a method/function named for it.
SERIALIZATION = re.compile(
    r"\b(?:json|simplejson|ujson|orjson|yaml|pickle|cPickle|marshal|toml|tomllib|tomli|csv|struct|base64|binascii"
    r"|xml\.\w+(?:\.\w+)*|ElementTree|ET|codecs|email\.\w+|urllib\.parse)\.\w+\s*\("
    r"|\.(?:encode|decode|dumps?|loads?|parse\w*|serializ\w*|deserializ\w*|unmarshal\w*|marshal\w*|to_json"
    r"|from_json)\s*\("
    r"|(?<![.\w])(?:parse|serialize|deserialize|dumps|loads|urlencode|urlparse|urlsplit|unquote|quote)\w*\s*\(")
#: A configuration read: the process environment or a config-file parser.
CONFIG = re.compile(r"\bos\.environ\b|\bgetenv\s*\(|\benviron(?:\.get)?\s*[\[(]|\bconfigparser\b|\bConfigParser\b"
                    r"|\bputenv\s*\(")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\(")
_EXCEPT = re.compile(r"^(\s*)except\b\s*(.*?)\s*(?:as\s+\w+\s*)?:")
_RAISE = re.compile(r"^(\s*)raise\s+([A-Za-z_][\w.]*)")
_NAME = re.compile(r"[A-Za-z_][\w.]*")
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_STDLIB = frozenset(sys.stdlib_module_names)
_MARK = b"@@seamscope-commit "


def fix_commits(links: Any, issues: pd.DataFrame | None = None) -> list[str]:
    """The commits linked to bugs (:func:`toolkit.load.links.bug_mask`; every linked commit without ``issues``),
    each once, in the links' order."""
    table = getattr(links, "links", links)
    if table is None or not len(table):
        return []
    if issues is not None and len(issues):
        bugs = set(issues.loc[bug_mask(issues).to_numpy(), "key"].astype(str))
        table = table[table["issue_key"].astype(str).isin(bugs)]
    return list(dict.fromkeys(table["sha"].astype(str)))


def _unquote(raw: bytes) -> bytes:
    """A path as git prints it in a patch header: C-quoted (``"a/\\303\\251.py"``) when it holds unusual bytes;
    git's escapes (``\\t``, ``\\"``, three-digit octal…) are Python's bytes escapes."""
    return codecs.escape_decode(raw[1:-1])[0] if raw.startswith(b'"') else raw


@dataclass
class _FileDiff:
    """One file's hunks in one commit: (old start, new start, lines as (tag, text)) with tag ``+``, ``-`` or ``' '``."""

    path: str
    blob: str | None = None  # post-fix blob id (None: the file was deleted)
    hunks: list[tuple[int, int, list[tuple[str, str]]]] = field(default_factory=list)
    changed: int = 0


def _log(repo: Repo, shas: list[str]) -> Iterator[bytes]:
    """The raw output of ``git log --no-walk -p`` for ``shas`` (Python files only), in batches."""
    for i in range(0, len(shas), _BATCH):
        yield repo.git("log", "--no-walk=unsorted", "--diff-merges=first-parent", "--no-renames", "--no-color",
                       "--raw", "--no-abbrev", "-p", "--unified=3", f"--format={_MARK.decode()}%H",
                       *shas[i:i + _BATCH], "--", "*.py", text=False).stdout


def _parse(out: bytes, max_lines: int, skips: list[Skip] | None) -> Iterator[tuple[str, list[_FileDiff]]]:
    """``(sha, files)`` per commit of one log output; a commit over ``max_lines`` changed lines is skipped."""
    for chunk in out.split(b"\n" + _MARK):
        if chunk.startswith(_MARK):
            chunk = chunk[len(_MARK):]
        head, _, rest = chunk.partition(b"\n")
        sha = head.strip().decode("ascii", "replace")
        if not sha:
            continue
        blobs: dict[str, str | None] = {}
        files: list[_FileDiff] = []
        cur: _FileDiff | None = None
        lines: list[tuple[str, str]] | None = None
        total = 0
        for line in rest.split(b"\n"):
            if line.startswith(b":") and b"\t" in line:  # --raw: ":100644 100644 <old> <new> M\tpath"
                meta, _, raw = line.partition(b"\t")
                parts = meta.split()
                if len(parts) >= 5:
                    blobs[path_text(_unquote(raw))] = None if set(parts[3]) == {ord("0")} else parts[3].decode()
            elif line.startswith(b"diff --git "):
                cur = None
                lines = None
            elif line.startswith(b"+++ ") and lines is None:  # a header (an added "++ x" line is in a hunk)
                target = _unquote(line[4:])
                if target == b"/dev/null":  # a deleted file: its removed lines are not read
                    cur = None
                    continue
                name = path_text(target[2:] if target.startswith(b"b/") else target)
                cur = _FileDiff(name, blobs.get(name))
                files.append(cur)
            elif line.startswith(b"@@") and (m := _HUNK.match(line)):
                lines = None
                if cur is not None:  # else a deleted file, or a header not understood: not read
                    lines = []
                    cur.hunks.append((int(m.group(1)), int(m.group(3)), lines))
            elif lines is not None and line[:1] in (b"+", b"-", b" "):
                tag = line[:1].decode()
                lines.append((tag, line[1:].decode("utf-8", "replace")))
                if tag != " ":
                    assert cur is not None
                    cur.changed += 1
                    total += 1
            elif line.startswith(b"Binary files"):
                lines = None
        if total > max_lines:
            report_skip(skips, f"commit {sha[:12]}", f"changes {total} Python lines (over {max_lines}): a refactoring "
                        "or vendoring, its diff is not read as fix evidence")
            continue
        yield sha, [f for f in files if f.path and f.changed]


#: An import statement's start (at any indentation): its text runs to the line end, or to the closing
#: parenthesis of a parenthesised name list, or on over backslash continuations.
_IMPORT_STMT = re.compile(rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*(?:\([^)]*\)|[^\n]*(?:\\\n[^\n]*)*)"
                          rb"|import[ \t]+[^\n]*(?:\\\n[^\n]*)*)", re.M)


def _bindings(path: str, module: str, data: bytes) -> dict[str, str]:
    """Local name -> dotted import target, for every import statement of a file (module-level and in functions):
    :func:`toolkit.load.python_ast.import_bindings` over its import statements alone. Only the statements are
    parsed (found as text), not the whole file — a file's imports are all a changed line's calls are resolved
    with, and parsing every version of every fixed file would cost the audit seconds per hundred files."""
    nodes: list[ast.AST] = []
    for m in _IMPORT_STMT.finditer(data):
        try:
            nodes += ast.parse(m.group(0).strip().decode("utf-8", "replace")).body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # "import" inside a string or a broken statement: not an import
    return import_bindings(nodes, module, path.endswith("__init__.py"))


def _blob_bindings(repo: Repo, wanted: dict[str, tuple[str, str, str]], use_cache: bool,
                   skips: list[Skip] | None) -> dict[str, dict[str, str]]:
    """blob id -> its import bindings (:func:`_bindings`); ``wanted``: blob id -> (commit, path, module). Kept per
    blob in the runtime cache (one entry per repository), so each file version is parsed once across audits."""
    entry = cache.key("fix_diffs", "bindings", repo.cache_id, code=("toolkit.load.python_ast", __name__)) \
        if use_cache else None
    got = cache.get("fix_diffs", entry) if entry else None
    known: dict[str, dict[str, str]] = got[0] if got is not None and isinstance(got[0], dict) else {}
    out = {b: known[b] for b in wanted if b in known}
    todo = {(wanted[b][0], wanted[b][1]): b for b in wanted if b not in known}
    if not todo:
        return out
    for pair, data in repo.read_blobs(list(todo), skips=skips):
        blob = todo[(str(pair[0]), pair[1])]
        if data is None:
            continue
        known[blob] = out[blob] = _bindings(pair[1], wanted[blob][2], data)
    if entry:
        if len(known) > 200_000:  # keep what this commit set uses, drop the rest
            known = {b: known[b] for b in out}
        cache.put("fix_diffs", entry, known)
    return out


class _Across:
    """Which dotted names are across a boundary: another component, or a dependency/platform module."""

    def __init__(self, components: Any, vocabulary: pd.DataFrame | None) -> None:
        self.components = components
        self.own = {str(m).split(".")[0] for m, _c in getattr(components, "modules", ())}
        self.vocab: set[str] | None = None
        if vocabulary is not None and len(vocabulary):
            self.vocab = {_norm(t) for t, k in zip(vocabulary["term"].astype(str), vocabulary["kind"].astype(str))
                          if k in ("dependency", "third_party", "platform")}

    def component_of(self, path: str) -> str | None:
        return None if self.components is None else self.components.component_of(path)

    def module_of(self, path: str) -> str:
        return self.components.module_name(path) if self.components is not None else module_name(path)

    def kind(self, target: str, home: str | None) -> tuple[str, str] | None:
        """(what, across what) for a call of dotted ``target`` from a file of component ``home``."""
        top = target.split(".")[0]
        other = self.components.component_of_module(target) if self.components is not None else None
        if top in self.own or other:
            return ("cross_component_call", other) if other and home and other != home else None
        if self.vocab is not None:
            return ("dependency_call", top) if _norm(top) in self.vocab else None
        if top in PLATFORM_MODULES or (top not in _STDLIB and not top.startswith("_")):
            return "dependency_call", top
        return None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip().lower())


def _calls(text: str, bound: dict[str, str]) -> Iterator[str]:
    """Dotted targets of the calls in one line whose root name an import binds (``x = 1  # f()`` comments and
    strings are not stripped: a fix line is short and the names must still be imports to count)."""
    code = text.split("#", 1)[0]
    for m in _CALL.finditer(code):
        chain = m.group(1)
        root, _, rest = chain.partition(".")
        target = bound.get(root)
        if target:
            yield f"{target}.{rest}" if rest else target


def _translations(lines: list[tuple[str, str]], new_line: int, old_line: int) -> Iterator[tuple[int, str]]:
    """(line, "except X -> raise Y") per ``raise Y`` under an ``except X:`` (Y not among X) on one side of a hunk,
    one of the two lines changed. Lines are numbered on the side they live on (new side for context)."""
    for side in ("+", "-"):
        handler: tuple[int, set[str], bool, str] | None = None  # indent, caught names, changed, text
        n = new_line if side == "+" else old_line
        for tag, text in lines:
            if tag not in (" ", side):
                continue
            stripped = text.strip()
            indent = len(text) - len(text.lstrip())
            if handler is not None and stripped and indent <= handler[0] and not stripped.startswith("#"):
                handler = None
            m = _EXCEPT.match(text)
            if m:
                caught = {x.split(".")[-1] for x in _NAME.findall(m.group(2))}
                handler = (indent, caught, tag != " ", m.group(2).strip() or "anything")
            else:
                r = _RAISE.match(text)
                if r and handler is not None and (tag != " " or handler[2]):
                    raised = r.group(2)
                    if raised.split(".")[-1] not in handler[1] and raised not in ("e", "exc", "err", "error"):
                        yield n, f"except {handler[3]} -> raise {raised}"
            n += 1


def _facts_of(sha: str, fd: _FileDiff, bound: dict[str, str], across: _Across, home: str | None) -> list[tuple]:
    """The rows of one file of one commit (see the module docstring); ``home``: the file's component today."""
    test = is_test_path(fd.path)  # test code calls test tools and fixtures: only its lines changed count
    found: dict[str, list[tuple[int, str]]] = {k: [] for k in FACT_KINDS}
    first = None
    for old, new, lines in fd.hunks:
        o, n = old, new
        for tag, text in lines:
            line = n if tag != "-" else o
            if tag != " ":
                first = line if first is None else first
            if tag != " " and not test:
                verb = "adds" if tag == "+" else "removes"
                for target in _calls(text, bound):
                    k = across.kind(target, home)
                    if k:
                        found[k[0]].append((line, f"{verb} a call of {target}"
                                                  + (f" ({k[1]})" if k[0] == "cross_component_call" else "")))
                ser = SERIALIZATION.search(text)
                if ser:
                    found["serialization"].append((line, f"{verb} {ser.group(0).rstrip('( ')}()"))
                conf = CONFIG.search(text)
                if conf:
                    found["config"].append((line, f"reads {conf.group(0).strip('([ ')}"))
            if tag != "+":
                o += 1
            if tag != "-":
                n += 1
        if not test:
            found["exception_translation"] += list(_translations(lines, new, old))
    rows = []
    for what in FACT_KINDS[:-1]:
        hits = found[what]
        # shown: the first added line's fact (what the fix does now), else the first removed one; a call into another
        # component is one row per component called (its detail ends "(component)"), because how much such a call
        # says depends on which component it calls (a helper most components use says little)
        called = {h[1].rsplit(" (", 1)[-1] for h in hits} if what == "cross_component_call" else set()
        groups = [[h for h in hits if h[1].endswith(f" ({o}")] for o in sorted(called)] if called else [hits]
        for group in groups:
            if group:
                line, detail = min(group, key=lambda h: not h[1].startswith("adds"))
                rows.append((sha, fd.path, home, what, line, len(group), detail))
    rows.append((sha, fd.path, home, "changed", first or 0, fd.changed, f"{fd.changed} lines changed"))
    return rows


def fix_diff_facts(repo: Repo | str, links: Any, *, issues: pd.DataFrame | None = None, components: Any = None,
                   vocabulary: pd.DataFrame | None = None, file_changes: pd.DataFrame | None = None,
                   max_lines: int = MAX_LINES,
                   max_commits: int = MAX_COMMITS, skips: list[Skip] | None = None,
                   use_cache: bool = True) -> pd.DataFrame:
    """The boundary facts of the Python lines the bug fixes changed (schema ``fix_diff_facts``; module docstring).

    ``links``: :class:`toolkit.load.links.Links` or its table; ``issues``: which linked issues are bugs (else
    every linked commit). ``components`` (:class:`toolkit.vocab.components.ComponentMap`): which component a file
    and an imported module belong to; ``vocabulary`` (``boundary_terms``): which imported modules sit across the
    boundary. With ``file_changes`` a fixed file counts for the component its code belongs to today
    (:func:`toolkit.load.history.change_components`), else for that of the path the fix wrote. Not cached when
    ``use_cache`` is false or the cache is off.
    """
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    shas = fix_commits(links, issues)
    if len(shas) > max_commits:
        report_skip(skips, f"{len(shas) - max_commits} fix commits", f"over the {max_commits} read at most: their "
                    "diffs are not read")
        shas = shas[:max_commits]
    if not shas:
        return schema.empty("fix_diff_facts")
    use_cache = use_cache and cache.enabled()
    across = _Across(components, vocabulary)
    mapping = sorted(getattr(components, "mapping", ()) or ()) if components is not None else None
    home_of: dict[tuple[str, str], str | None] = {}
    if file_changes is not None and components is not None and len(file_changes):
        changed = file_changes[file_changes["sha"].astype(str).isin(set(shas))]
        home_of = {(str(sha), str(path)): (None if pd.isna(c) else str(c)) for sha, path, c in
                   zip(changed["sha"], changed["path"], change_components(changed, components))}
    k = cache.key("fix_diffs", repo.cache_id, sorted(shas), max_lines, mapping, sorted(home_of.items()),
                  sorted(across.own), sorted(across.vocab) if across.vocab is not None else None,
                  code=(__name__,)) if use_cache else None

    def compute(own: list[Skip]) -> pd.DataFrame:
        diffs = [diff for out in _log(repo, shas) for diff in _parse(out, max_lines, own)]
        wanted = {fd.blob: (sha, fd.path, across.module_of(fd.path)) for sha, files in diffs for fd in files
                  if fd.blob and not is_test_path(fd.path)}  # test lines only count as changed
        bindings = _blob_bindings(repo, wanted, use_cache, own)
        rows: list[tuple] = []
        for sha, files in diffs:
            for fd in files:
                home = home_of[(sha, fd.path)] if (sha, fd.path) in home_of else across.component_of(fd.path)
                rows += _facts_of(sha, fd, bindings.get(fd.blob or "", {}), across, home)
        if not rows:
            return schema.empty("fix_diff_facts")
        df = pd.DataFrame(rows, columns=["sha", "path", "component", "what", "line", "count", "detail"])
        return schema.conform(df, "fix_diff_facts")

    return cache.cached("fix_diffs", k, compute, skips)
