"""``seamscope init``: a commented ``seamscope.toml`` for a repository, written from what an audit would find.

The components are those the default rules (:mod:`toolkit.vocab.components`) give the repository today, one
commented ``[components]`` line each with why it is one and its size, so a maintainer edits a line instead of
writing patterns from nothing; the code the rules leave out is listed with its reason. Inputs lying in the work
tree (JUnit XML folders, coverage.py data files, issue-tracker exports) are recognised by their content, not
their names, and written as keys; nothing of the repository is executed.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import InputError, SeamscopeError
from toolkit.vocab.components import EXCLUDE, FOREIGN_DIRS, is_test_path

#: How deep below the repository top inputs are looked for, and how many files are looked at at most.
MAX_DEPTH = 5
MAX_FILES = 20_000
_SKIP_DIRS = FOREIGN_DIRS | {"__pycache__", "node_modules", "site-packages", "build", "dist"}
_ISSUE_FORMATS = ("github", "gitlab", "jira_csv", "jira_json")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class FoundInputs:
    """Inputs found in a work tree, as repository-relative POSIX paths."""

    tests: tuple[str, ...] = ()  # folders holding JUnit XML (the outermost such folder)
    coverage: tuple[str, ...] = ()  # coverage.py data files (.coverage, .coverage.*)
    issues: tuple[str, ...] = ()  # GitHub/GitLab/Jira exports


def _walk(top: Path) -> Iterator[tuple[str, list[str]]]:
    """(relative folder, file names) below ``top``: hidden and foreign folders skipped, links not followed."""
    seen = 0
    for folder, dirs, files in os.walk(top, followlinks=False):
        rel = Path(folder).relative_to(top)
        depth = len(rel.parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS and depth < MAX_DEPTH
                         and not (Path(folder) / d).is_symlink())
        seen += len(files)
        if seen > MAX_FILES:
            return
        yield rel.as_posix(), sorted(files)


def _is_junit(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b"<testsuite" in head or b"<testcase" in head


def _issue_format(path: Path) -> str | None:
    from toolkit.load.issues import detect_format
    from toolkit.load.limits import check_input_file

    try:
        check_input_file(path)
        fmt = detect_format(path.read_bytes(), str(path))
    except (InputError, OSError):
        return None
    return fmt if fmt in _ISSUE_FORMATS else None


def find_inputs(top: Path) -> FoundInputs:
    """JUnit folders, coverage data and issue exports inside the work tree ``top`` (see the module docstring)."""
    junit: list[str] = []
    coverage: list[str] = []
    issues: list[str] = []
    for rel, files in _walk(top):
        here = "" if rel == "." else rel
        join = (lambda n: f"{here}/{n}" if here else n)
        for name in files:
            p = top / join(name)
            if p.is_symlink() or not p.is_file():
                continue
            if name == ".coverage" or name.startswith(".coverage."):
                coverage.append(join(name))
            elif name.endswith(".xml") and _is_junit(p) and here not in junit:
                junit.append(here)
            elif name.endswith((".json", ".csv")) and not is_test_path(join(name)) and _issue_format(p):
                issues.append(join(name))
    return FoundInputs(_junit_roots(junit), tuple(sorted(coverage)), tuple(sorted(issues)))


def _junit_roots(folders: list[str]) -> tuple[str, ...]:
    """The folders to give as ``tests``: XML folders under one top-level folder are runs of one results tree
    (``results/<environment>/<run>/``), so their common parent is named, as the test-run loader reads it."""
    groups: dict[str, list[str]] = {}
    for d in folders:
        groups.setdefault(d.split("/")[0], []).append(d)
    return tuple(sorted({(os.path.commonpath(ds) if all(ds) else "") or "." for ds in groups.values()}))


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return _CONTROL.sub(" ", text)


def _pattern(path: str) -> str:
    return path if path.endswith(".py") else path.rstrip("/") + "/**"


def config_text(repo: Path, *, where: Path | None = None) -> str:
    """The commented ``seamscope.toml`` for the work tree ``repo``, to be written at ``where`` (default
    ``repo/seamscope.toml``; its paths are relative to that file)."""
    from toolkit.analyze.change_coupling import COMPONENT_COUPLING_DEFAULTS
    from toolkit.analyze.root_causes import THRESHOLDS
    from toolkit.analyze.seam_ranking import DEFAULT_WEIGHTS
    from toolkit.load.gitrepo import Repo
    from toolkit.load.structure import load_structure

    top = repo.resolve()
    where = (where or top / "seamscope.toml").absolute()
    r = Repo.open(top)
    cm = load_structure(r, mapping={}).components  # the default rules, not a mapping already in the repository
    found = find_inputs(top)

    def rel(p: str) -> str:
        return Path(os.path.relpath(top / p, where.parent)).as_posix()

    lines = [
        "# seamscope configuration, written by `seamscope init` — edit freely.",
        "# Found by `seamscope audit` and the notebooks from this folder upward; flags override it.",
        "# Paths are relative to this file. Reference: `seamscope audit --help`.",
        "",
        f"repo = {_q(rel('.'))}                  # the git work tree audited",
        f"name = {_q(top.name):<20} # shown in the report title",
        "",
        "# JUnit XML: files or folders laid out as <folder>/<environment>/<run>/*.xml",
    ]
    lines.append(f"tests = [{', '.join(_q(rel(p)) for p in found.tests)}]" if found.tests else
                 "# tests = [\"test-results/\"]     # none found in the work tree")
    lines.append("# coverage.py data recorded per test (pytest --cov --cov-context=test); without it a static estimate")
    if found.coverage:
        lines.append(f"coverage = {_q(rel(found.coverage[0]))}")
        lines += [f"# coverage = {_q(rel(p))}   # also found" for p in found.coverage[1:]]
    else:
        lines.append("# coverage = \".coverage\"        # none found in the work tree")
    lines.append("# issue-tracker exports (GitHub/GitLab JSON, Jira CSV/JSON)")
    lines.append(f"issues = [{', '.join(_q(rel(p)) for p in found.issues)}]" if found.issues else
                 "# issues = [\"issues.json\"]       # none found in the work tree")
    lines += [
        "# labels = \"seamscope-labels.csv\"  # analyst labels; default: seamscope-labels.csv beside this file",
        "# contracts = [\"specs/\"]            # OpenAPI/Swagger specs and Pact files",
        "# traces = [\"traces/\"]              # OTLP/Jaeger JSON exports laid out as <folder>/<environment>/",
        "# at = \"HEAD\"                       # audit as of a revision",
        "",
        "[components]",
        "# The components the default rules find today, one line each (why, Python files, lines). Uncomment and edit",
        "# a line to rename, merge (same name) or split components; a commented line keeps following the rules.",
        "# Patterns are globs over repository paths; the first matching line wins; \"-\" excludes the files.",
    ]
    rows = {c: (why, files, n) for c, why, files, n in cm.rows}
    by_comp: dict[str, list[str]] = {}
    for prefix, comp in cm.prefixes:  # longest first: uncommented in this order, they map as the rules do
        by_comp.setdefault(comp, []).append(prefix)
    width = max([len(_q(_pattern(p))) for ps in by_comp.values() for p in ps] or [10])
    for prefix, comp in cm.prefixes:
        why, files, n = rows.get(comp, ("", 0, None))
        size = f"{files} file{'s' if files != 1 else ''}" + (f", {n:,} lines" if n is not None else "")
        lines.append(f"# {_q(_pattern(prefix)):<{width}} = {_q(comp)}   # {_comment(why)}; {size}")
    if cm.excluded:
        lines += ["", "# Not components by default (uncomment a line, with a name, to make it one):"]
        for path, why, files in cm.excluded:
            name = Path(path.rstrip("/")).stem or path
            lines.append(f"# {_q(_pattern(path)):<{width}} = {_q(name)}   # excluded: {_comment(why)} "
                         f"({files} file{'s' if files != 1 else ''})")
    lines += ["# \"src/pkg/vendored/**\" = \"" + EXCLUDE + "\"   # e.g. exclude code that is not yours", ""]
    lines += ["[thresholds]", "# defaults shown; uncomment to change (also --threshold KEY=VALUE)"]
    lines += [f"# {k} = {v}" for k, v in {**COMPONENT_COUPLING_DEFAULTS, **THRESHOLDS}.items()]
    lines += ["", "[weights]", "# seam-ranking factor weights, defaults shown (also --weight KEY=VALUE)"]
    lines += [f"# {k} = {v}" for k, v in DEFAULT_WEIGHTS.items()]
    return "\n".join(lines) + "\n"


def write_config(repo: Path, out: Path | None = None, *, force: bool = False) -> Path:
    """Write :func:`config_text` for ``repo`` to ``out`` (default ``repo/seamscope.toml``); an existing file is
    kept (:class:`SeamscopeError`) unless ``force``. Returns the path written."""
    from toolkit.runtime.atomic import atomic_write, shared_file_mode

    target = Path(out) if out is not None else Path(repo) / "seamscope.toml"
    if target.is_dir():
        raise InputError(target, "is a folder", flag="--out", hint="give the seamscope.toml file to write")
    if (target.exists() or target.is_symlink()) and not force:
        raise SeamscopeError(f"{target} already exists; not overwritten (pass --force to replace it)")
    text = config_text(Path(repo), where=target)
    atomic_write(target, text.encode("utf-8"), mode=shared_file_mode())  # a link at that name is replaced
    return target
