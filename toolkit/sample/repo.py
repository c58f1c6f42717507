"""Turn the commit plan of :mod:`toolkit.sample.history` into a real git repository.

Everything is deterministic: fixed author and committer names, e-mails and dates,
no signing, no hooks, so the commit ids are the same on every machine.
"""
from __future__ import annotations

import ast
import datetime as dt
import os
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from toolkit.sample import history as h

START = dt.date(2025, 1, 6)  # a Monday
WORKING_DAYS = 245
TZ = "+0100"
COMMITTER = ("Shop CI", "ci@shopteam.example")
#: component -> the author who documents it (in this order, one API page each)
OWNERS = {"users": "priya", "notifications": "priya", "catalog": "jonas", "inventory": "jonas",
          "search_index": "tomas", "documents": "tomas", "gateway": "aiko", "payments": "maria", "orders": "maria"}


@dataclass(frozen=True)
class PlannedCommit:
    key: str
    author: str
    message: str
    date: str  # ISO 8601 with offset
    kind: str = "explicit"  # explicit | docstring | notes | release | bulk


@dataclass
class Plan:
    commits: list[PlannedCommit]
    pos: dict[str, int]
    edits: list[h.Edit]
    added: dict[str, str]
    notes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # path -> [(key, text)]
    releases: list[tuple[str, str]] = field(default_factory=list)  # (key, version)

    def date_of(self, key: str) -> dt.datetime:
        """When the commit ``key`` was made."""
        return dt.datetime.fromisoformat(self.commits[self.pos[key]].date)


def _docstring_edits() -> dict[str, list[tuple[str, str]]]:
    """Docstring lines of the HEAD sources that can be added later: path -> [(qualname, text)]."""
    claimed: dict[str, list[str]] = defaultdict(list)
    for e in h.EDITS:
        claimed[e.path] += [e.head, e.before]
    out: dict[str, list[tuple[str, str]]] = {}
    for f in sorted(h.APP_SRC.rglob("*.py.txt")):
        path = f.relative_to(h.APP_SRC).as_posix()[: -len(".txt")]
        if not path.startswith("shop/"):
            continue
        text = f.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        tree = ast.parse(text)
        nodes = [("module", tree)] + [(n.name, n) for n in ast.walk(tree)
                                      if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        for name, node in nodes:
            if not node.body or not (isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                                     and isinstance(node.body[0].value.value, str)):
                continue
            if len(node.body) == 1 and name != "module":
                continue  # a docstring-only body would not parse without it
            doc = node.body[0]
            chunk = "".join(lines[doc.lineno - 1: doc.end_lineno])
            if any(chunk in c or c in chunk for c in claimed.get(path, []) if c.strip()):
                continue
            if text.count(chunk) != 1:
                continue
            out.setdefault(path, []).append((name, chunk))
    return out


def make_plan() -> Plan:
    """Weave the generated commits (docstrings, notes, releases) into the explicit plan and date them."""
    explicit = list(h.EXPLICIT)
    epos = {c.key: i for i, c in enumerate(explicit)}
    added = dict(h.ADDED)
    # generated filler commits, each with the earliest explicit position at which it makes sense
    fillers: list[tuple[int, PlannedCommit]] = []
    docs = _docstring_edits()
    doc_edits: list[tuple[str, str, str]] = []  # (key, path, chunk)
    for n, (subject, author, paths) in enumerate(h.COCHANGE_DOCS):
        take = [(p, docs[p].pop(0)) for p in paths if docs.get(p)]
        if len(take) < 2:
            continue
        key = f"cochange-{n}"
        doc_edits += [(key, p, chunk) for p, (_name, chunk) in take]
        earliest = max(epos[added[p]] for p, _ in take)
        fillers.append((earliest, PlannedCommit(key, author, subject, "", "docstring")))
    owners = {**OWNERS, "shop": "aiko"}
    for path in sorted(docs):
        for name, chunk in docs[path]:  # one commit per docstring
            key = f"doc-{path}-{name}"
            mod = path[:-3].replace("/", ".")
            subject = f"Add module docstring to {mod}" if name == "module" else f"Document {name} in {mod}"
            doc_edits.append((key, path, chunk))
            component = path.split("/")[1] if path.count("/") > 1 else "shop"  # shop/<component>/...
            fillers.append((epos[added[path]], PlannedCommit(key, owners[component], subject, "", "docstring")))
    notes: dict[str, list[tuple[str, str]]] = {}
    for n, (author, path, text, after, subject) in enumerate(h.DOC_NOTES + component_pages()):
        key = f"notes-{n}"
        notes.setdefault(path, []).append((key, text))
        fillers.append((epos[after], PlannedCommit(key, author, subject, "", "notes")))
    fillers.sort(key=lambda f: f[0])
    # weave: after each explicit commit, insert fillers that are ready (at most 2)
    ordered: list[PlannedCommit] = []
    queue = list(fillers)
    ready: list[PlannedCommit] = []
    rel_every = len(explicit) // len(h.RELEASES)
    releases: list[tuple[str, str]] = []

    def release() -> None:
        version = h.RELEASES[len(releases)]
        releases.append((f"release-{version}", version))
        ordered.append(PlannedCommit(f"release-{version}", "aiko", f"Release {version}", "", "release"))

    for i, c in enumerate(explicit):
        ordered.append(PlannedCommit(c.key, c.author, c.message, "", "bulk" if c.key in h.BULK else "explicit"))
        while queue and queue[0][0] <= i:
            ready.append(queue.pop(0)[1])
        for _ in range(2 if len(ready) > 3 else 1):
            if ready:
                ordered.append(ready.pop(0))
        if (i + 1) % rel_every == 0 and len(releases) < len(h.RELEASES) and i > 3:
            release()
    ordered += ready + [f[1] for f in queue]
    while len(releases) < len(h.RELEASES):
        release()
    # dates: spread over the working days of the year, working hours only
    days = pd.bdate_range(START, periods=WORKING_DAYS).date  # Monday to Friday
    dated = []
    for i, c in enumerate(ordered):
        day = days[(i * WORKING_DAYS) // len(ordered)]
        minutes = 9 * 60 + (i * 137) % (8 * 60)
        clock = f"{minutes // 60:02d}:{minutes % 60:02d}:{(i * 13) % 60:02d}"
        dated.append(replace(c, date=f"{day.isoformat()}T{clock}{TZ}"))
    pos = {c.key: i for i, c in enumerate(dated)}
    edits = list(h.EDITS) + [h.Edit(p, key, chunk, "") for key, p, chunk in doc_edits]
    # __version__ chain and changelog
    prev = "0.1.0.dev0"
    for key, version in releases:
        edits.append(h.Edit("shop/__init__.py", key, f'__version__ = "{version}"', f'__version__ = "{prev}"'))
        prev = version
    added["CHANGELOG.md"] = releases[0][0]
    for path, items in notes.items():
        added[path] = min((k for k, _ in items), key=lambda k: pos[k])
    return Plan(dated, pos, edits, added, notes, releases)


def component_pages() -> list[tuple[str, str, str, str, str]]:
    """One docs page per component listing its public functions (from the HEAD sources)."""
    epos = {c.key: i for i, c in enumerate(h.EXPLICIT)}
    out = []
    for comp, author in OWNERS.items():
        lines = [f"# {comp}\n\nPublic functions:\n\n"]
        for f in sorted((h.APP_SRC / "shop" / comp).glob("*.py.txt")):
            tree = ast.parse(f.read_text(encoding="utf-8"))
            mod = f"shop.{comp}.{f.name[:-7]}"
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                    lines.append(f"- `{mod}.{node.name}`\n")
        # written once the component's API has settled: after its last explicit change
        keys = [key for p, key in h.ADDED.items() if p.startswith(f"shop/{comp}/")]
        keys += [e.at for e in h.EDITS if e.path.startswith(f"shop/{comp}/") and e.at in epos]
        after = max(keys, key=lambda k: epos[k])
        out.append((author, f"docs/components/{comp}.md", "".join(lines), after, f"docs: {comp} API reference page"))
    return out


def tree_at(plan: Plan, i: int) -> dict[str, str]:
    """The full file tree (path -> text) after commit ``i`` of the plan."""
    pos = plan.pos
    cookies, licence = pos[h.BULK[0]], pos[h.BULK[1]]
    newer = sorted((e for e in plan.edits if pos[e.at] > i), key=lambda e: pos[e.at], reverse=True)
    by_path: dict[str, list[h.Edit]] = defaultdict(list)
    for e in newer:
        by_path[e.path].append(e)
    renamed = {new: (old, pos[key]) for old, new, key in h.RENAMES}
    tree: dict[str, str] = {}
    for path, key in plan.added.items():
        if pos[key] > i:
            continue
        if path in plan.notes:
            text = "".join(t for k, t in plan.notes[path] if pos[k] <= i)
        elif path == "CHANGELOG.md":
            text = changelog(plan, i)
        elif path in h.EXTRA_FILES:
            text = h.EXTRA_FILES[path]
        else:
            text = h.template(path)
        for e in by_path.get(path, ()):
            if text.count(e.head) != 1:
                raise AssertionError(f"edit {e.at} on {path}: head found {text.count(e.head)} times at commit {i}")
            text = text.replace(e.head, e.before)
        if path.endswith(".py"):
            if i >= licence:
                text = h.LICENCE + text
            elif i < cookies:
                text = h.COOKIE + text
        tree[renamed[path][0] if path in renamed and renamed[path][1] > i else path] = text
    return tree


def changelog(plan: Plan, i: int) -> str:
    entries = []
    prev = -1
    for key, version in plan.releases:
        p = plan.pos[key]
        if p > i:
            break
        subjects = [c.message.splitlines()[0] for c in plan.commits[prev + 1: p]
                    if c.kind == "explicit" and not c.message.startswith("Merge")]
        body = "".join(f"- {s}\n" for s in subjects) or "- Maintenance\n"
        entries.append(f"## {version} ({plan.commits[p].date[:10]})\n\n{body}\n")
        prev = p
    return "# Changelog\n\n" + "".join(reversed(entries))


def run_git(workdir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``workdir`` isolated from the user's and the system's configuration (no signing, no hooks)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    base.update({"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(workdir), "GIT_CONFIG_GLOBAL": os.devnull,
                 "LC_ALL": "C", "TZ": "UTC"})
    base.update(env or {})
    from toolkit.load.gitrepo import git_command, git_env

    proc = subprocess.run(git_command(*args, overrides=("commit.gpgsign=false", "core.autocrlf=false")),
                          cwd=workdir, env=git_env(base),
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {workdir}: {proc.stderr.strip()}")
    return proc.stdout


def commit(workdir: Path, message: str, author: tuple[str, str], committer: tuple[str, str], date: str) -> str:
    """Commit what is staged as ``author`` by ``committer`` (name, e-mail) at ``date``; return the commit id."""
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1], "GIT_AUTHOR_DATE": date,
           "GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1], "GIT_COMMITTER_DATE": date}
    run_git(workdir, "commit", "-q", "-m", message, env=env)
    return run_git(workdir, "rev-parse", "HEAD").strip()


def build_history(workdir: str | os.PathLike, plan: Plan | None = None) -> list[str]:
    """Create the sample repository in ``workdir`` (must not exist or be empty); return commit ids, oldest first."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        raise FileExistsError(f"{workdir} is not empty")
    plan = plan or make_plan()
    run_git(workdir, "init", "-q", "-b", "main")
    run_git(workdir, "config", "user.name", COMMITTER[0])
    run_git(workdir, "config", "user.email", COMMITTER[1])
    previous: dict[str, str] = {}
    shas = []
    for i, c in enumerate(plan.commits):
        tree = tree_at(plan, i)
        for old, new, key in h.RENAMES:
            if key == c.key:
                run_git(workdir, "mv", old, new)
        for path in sorted(set(previous) - set(tree)):
            if (workdir / path).exists():
                run_git(workdir, "rm", "-q", path)
        changed = [p for p in sorted(tree) if previous.get(p) != tree[p]]
        for path in changed:
            target = workdir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(tree[path], encoding="utf-8", newline="\n")
        if changed:
            run_git(workdir, "add", "--", *changed)
        shas.append(commit(workdir, c.message, h.AUTHORS[c.author], COMMITTER, c.date))
        previous = tree
    return shas
