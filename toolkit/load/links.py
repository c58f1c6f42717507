"""Fix links: which commits fixed which issues, with the evidence, its kind and a confidence.

The one definition of how a bug is linked to a commit. It follows how projects merge:

Kinds of evidence (``links.kind``)
    ``message``   a non-merge commit message names the key;
    ``merge``     a merge commit names the key (``Merge pull request #40``'s PR, or an issue in its
                  message body, e.g. the PR title ``Fix crash (fixes #12)`` or GitLab's ``Closes #12``):
                  the non-merge commits it brought in (``M^1..M^2``) are linked, the merge is the evidence;
                  a number the merged branch's name gives (``from ann/fix-1234``) is a ``reference``. When the
                  history does not hold the merged branch (``first_parent`` histories) the merge itself is
                  linked, as it then carries the diff;
    ``squash``    a non-merge commit is a squash merge of a pull request: its subject ends in ``(#40)`` and
                  #40 is a pull request of the export, or the export records it as the PR's merge commit;
    ``fragment``  the commit added a changelog/news fragment named after the issue
                  (``changelog/12.bugfix.rst``, ``news/12.feature``, ``changes/``, ``changelog.d/``,
                  ``newsfragments/``, ``.changes/``…; the oldest commit that wrote the file);
    ``changelog`` the commit added a line citing the issue to the changelog file (``CHANGES.rst``,
                  ``CHANGELOG.md``, ``HISTORY``, ``NEWS``…: ``#12``, ``GH-12``, ``:issue:`12```, ``:pr:`12```,
                  ``.../issues/12``; :func:`changelog_citations`): a fragment written into one file. The oldest
                  such commit counts (later edits move lines); a commit citing more than
                  :data:`MAX_CHANGELOG_CITES` numbers, adding a dated release heading or deleting fragments is a
                  release or a changelog rewrite, not a fix;
    ``pr``        a pull/merge request of the export closes the issue (``Fixes #12``/``Closes``/``Resolves``
                  in its title or body, gh's ``closingIssuesReferences``, a Jira key in its title) or names
                  it, and its commits are known through a merge, squash, fragment or the tracker's merge sha;
    ``heuristic`` (only with ``heuristic=True``) a commit within ``window_days`` after the issue was created
                  (and not after it was resolved) touching one of the issue's tracker components.
    A commit named by its message, changelog line or fragment that changed nothing but changelog files and
    fragments ("Changelog re #649") records a fix made elsewhere: it is not linked, and a bug left without a link
    says so in ``unlinked``.
Confidence
    ``explicit``  a closing word (``fixes/fixed/fix/closes/closed/resolves/resolved``) right before the key,
                  a subject that starts with one and names the key, a fragment, a merged PR that closes the
                  issue, or a PR's own merge/squash commit;
    ``reference`` the key is named without such a word; ``heuristic`` as above.
Keys
    ``#123`` and ``GH-123`` match GitHub/GitLab/generic issues and GitHub PRs keyed ``#123`` (GitHub numbers
    issues and PRs together, so ``Merge pull request #40`` names PR #40, never issue #40); ``!12`` and
    ``group/proj!12`` GitLab merge requests keyed ``!12``; ``PROJ-123`` Jira issues of the projects present.

Bugs (:func:`bug_mask`): issues of type ``bug``, and pull requests labelled as bugs that close no issue of
the export (their fix is their own commits); a bug-labelled PR that closes an issue is not counted again.
``Links.pr_bugs`` records that decision for every bug-labelled PR.

Reverts (git's ``Revert "..."``, ``This reverts commit X``): the subject a revert quotes and ``reopens #12``
are not mentions; a commit a revert undid (or the commits of a reverted merge) is no fix, unless the revert
was itself reverted, which re-applies it and carries its links.

Unlinked bugs get the true reason (:func:`_unlinked_reasons`): a reverted fix, a closing PR never merged or
merged outside the history, only an empty merge or a branch sync (over ``max_merge`` commits), only commits
the audited revision does not reach, or nothing in git (then, without pull requests in the export, the PR link
GitHub keeps on the tracker is what would link it).

:func:`link_fixes` is the one way an audit (and the backtest, as of a revision) links a repository. Mentions
are found with one vectorised ``str.extractall``; merge ranges are walked once per merge naming a key, in
generation order (git's merge-base walk), so 100,000 commits x 100,000 issues link in seconds.
"""
from __future__ import annotations

import bisect
import functools
import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap
from toolkit.load.gitrepo import Repo
from toolkit.load.history import History, change_components, history_paths, unreachable_commits

#: the kinds of evidence, strongest first when one (issue, commit) pair has several
KINDS = ("fragment", "changelog", "squash", "merge", "pr", "message", "heuristic")
_KW = r"(?i:\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?)\b)"
_RANK = {"explicit": 0, "reference": 1, "heuristic": 2}
#: changelog/news fragment files named after an issue (towncrier, scriv, reno-like layouts)
FRAGMENT = (r"(?i)(?:^|/)(?:changelog|changelog\.d|changes|changes\.d|news|newsfragments|\.changes|changelog_entries)"
            r"/(?:[^/]+/)?(?P<num>\d+)\.(?!\d)[^/]*$")  # ``12.bugfix.rst``, not a version's notes (``8.2.rst``)
#: changelog files (not fragment folders): the basename, any case, with an optional text extension
CHANGELOG_FILE = r"(?i)(?:^|/)(?:changes|changelog|history|news|release[-_ ]?notes)(?:\.(?:rst|md|txt|markdown))?$"
#: an issue or pull request a changelog line cites (Sphinx roles, ``#12``, ``GH-12``, tracker URLs)
_CITE = re.compile(r"(?i):(?:issue|pr|gh|bug|pull):`#?(\d+)`|(?<![\w/&])#(\d+)\b|\bgh-(\d+)\b"
                   r"|/(?:issues|pull|pulls|merge_requests)/(\d+)\b")
#: a release heading added to a changelog: a version with a date (``## 0.8.0 (2025-09-26)``, ``2.0.3 (2023-06-07)``,
#: ``## 0.28.1 (6th December, 2024)``, ``Release 9.1.0 (released Dec 31, 2025)``) or ``Released 2023-08-21``; the
#: commit writing one is a release, which records fixes made before it
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (rf"(?:\b(?:19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?:19|20)\d\d\b"
         rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d\b)")
_RELEASE_LINE = re.compile(rf"\b\d+\.\d+(?:\.\d+)*\S*.*?{_DATE}|^\W*Released:?\s+\w", re.I)
#: a heading that is a version alone (``## 0.36.2``, ``Version 2.0.3``, an RST title ``1.2.0``): a release when a line
#: of only a date follows it within :data:`_DATE_BELOW` added lines (``## 0.36.2`` / ``February 3, 2024``); with
#: "Unreleased" below it, it is the first fix after a release opening the next version's notes
_VERSION_HEADING = re.compile(r"^\W*(?:version\s+|release\s+)?v?\d+\.\d+(?:\.\d+)*(?:[-.]?[a-z]+\d*)?\W*$", re.I)
_DATE_ONLY = re.compile(rf"^\W*(?:released:?\s+)?{_DATE}\W*$", re.I)
_DATE_BELOW = 3
#: a commit whose added changelog lines cite more numbers than this is a release or a rewrite of the changelog
MAX_CHANGELOG_CITES = 3
_MERGE_PR = r"^Merge pull request #(\d+)\b"
#: text of a commit message that names a key without claiming to fix it: the subject a revert quotes from the
#: commit it undoes, and "reopens #12"
_NOT_A_MENTION = (r'^Revert "[^\n]*"|(?i:\bre-?open(?:s|ed|ing)?\b)[ \t:]+'
                  r"(?:(?:GH-|#|!)\d+|[A-Z][A-Z0-9_]*-\d+)")
_GITLAB_MR = r"\bSee merge request [\w./-]*!(\d+)\b"
_SQUASH = r"\(#(\d+)\)\s*$"
#: the merged branch of a merge subject (GitHub's ``from owner/branch``, git's and GitLab's ``Merge branch 'x'``)
_BRANCH = r"^Merge (?:pull request #\d+ from [^/\s]+/|(?:remote-tracking )?branch ')([^\s']+)"


_BRANCH_WORD = r"(?i)(?:^|[-_/])(?:fix|fixes|issue|issues|bug|bugfix|hotfix|gh|closes)[-_/]?#?(\d+)(?![0-9A-Za-z.])"


def _branch_numbers(branch: str) -> list[int]:
    """Issue numbers a branch name gives: a number leading its last part (``1234-slow-start``) or following a
    fix/issue/bug/gh word (``fix-1234``, ``issue_12``, ``fix/issue4295``); not versions (``mypy-0.910``)."""
    lead = re.match(r"#?(\d{2,})(?:[-_]|$)", branch.rsplit("/", 1)[-1])
    return sorted({int(m.group(1)) for m in [*([lead] if lead else []), *re.finditer(_BRANCH_WORD, branch)]})


@dataclass(frozen=True)
class Links:
    """``links`` (schema ``links``), ``issue_components`` (schema ``issue_components``),
    ``unlinked`` (schema ``unlinked_issues``: bugs without a fix link and why), ``pr_bugs`` (schema
    ``pr_bugs``: each bug-labelled pull request and whether it is counted as a bug)."""

    links: pd.DataFrame
    issue_components: pd.DataFrame
    unlinked: pd.DataFrame
    pr_bugs: pd.DataFrame = field(default_factory=lambda: schema.empty("pr_bugs"))


def _pattern(projects: list[str], mr: bool) -> str:
    alts = [r"(?:\bGH-|(?<![\w/&])#)(?P<num>\d+)\b"]
    if mr:  # only when the export holds GitLab merge requests: the alternative costs time on every message
        alts.append(r"(?:(?<=[\w.-]/[\w.-])|(?<![\w/&!]))!(?P<mr>\d+)\b")
    if projects:
        alts.append(r"\b(?P<jira>(?:" + "|".join(map(re.escape, sorted(projects, key=len, reverse=True))) + r")-\d+)\b")
    return rf"(?P<kw>{_KW}[ \t:]*)?(?P<ref>" + "|".join(alts) + ")"


def _references(messages: pd.Series, projects: list[str], mr: bool = False) -> pd.DataFrame:
    """One row per key mention: (row, key, explicit, text); ``mr``: also GitLab merge requests (``!12``)."""
    m = messages.astype("string").fillna("").str.extractall(_pattern(projects, mr))
    if m.empty:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "key": pd.Series(dtype="string"),
                             "explicit": pd.Series(dtype=bool), "text": pd.Series(dtype="string")})
    jira = m["jira"] if "jira" in m.columns else pd.Series(pd.NA, index=m.index, dtype="string")
    mrs = ("!" + m["mr"]) if "mr" in m.columns else pd.Series(pd.NA, index=m.index, dtype="string")
    key = ("#" + m["num"]).where(m["num"].notna(), mrs.where(mrs.notna(), jira))
    return pd.DataFrame({
        "row": m.index.get_level_values(0),
        "key": key.astype("string").to_numpy(),
        "explicit": m["kw"].notna().to_numpy(),
        "text": (m["kw"].fillna("") + m["ref"]).str.strip().to_numpy(),
    })


def _isin(values: pd.Series, keys: set) -> np.ndarray:
    """``values.isin(keys)`` as a bool array: a set lookup per value (pandas' isin on Arrow strings is ~10x slower)."""
    return np.fromiter((v in keys for v in values.to_numpy(dtype=object, na_value=None)), dtype=bool,
                       count=len(values))


def _projects(iss: pd.DataFrame) -> list[str]:
    keys = iss["key"].astype("string")
    jira_keys = keys[iss["tracker"].eq("jira") & keys.str.fullmatch(r"[A-Z][A-Z0-9_]*-\d+").fillna(False)]
    return sorted(set(jira_keys.str.extract(r"^(.*)-\d+$", expand=False).dropna()))


def _pr_mask(iss: pd.DataFrame) -> pd.Series:
    if "is_pull_request" not in iss:
        return pd.Series(False, index=iss.index)
    return iss["is_pull_request"].fillna(False).astype(bool)


def pr_closes(issues: pd.DataFrame, projects: list[str] | None = None) -> dict[str, dict[str, bool]]:
    """Per pull request key: {issue key: closes?} — True when its title/body puts a closing word before the key,
    the tracker lists it in ``closes``, or a Jira key stands in its title; False when it only names the key
    (in its body, or through an issue's ``linked_prs``). Only keys of non-PR issues of the export count."""
    iss = issues.reset_index(drop=True)
    is_pr = _pr_mask(iss)
    if not is_pr.any():
        return {}
    keys = iss["key"].astype("string")
    issue_keys = set(keys[~is_pr].dropna())
    projects = _projects(iss) if projects is None else projects
    out: dict[str, dict[str, bool]] = {k: {} for k in keys[is_pr].dropna()}
    if not out:
        return out
    prs = iss[is_pr]
    title = prs["title"].astype("string").fillna("")
    text = title + "\n" + prs["body"].astype("string").fillna("")
    refs = _references(text.reset_index(drop=True), projects, any(str(k).startswith("!") for k in out))
    pkeys = keys[is_pr].to_numpy(dtype=object)
    titles = title.to_numpy(dtype=object)
    for row, key, explicit in zip(refs["row"], refs["key"], refs["explicit"]):
        if key not in issue_keys:
            continue
        in_title = re.search(rf"(?<![\w-]){re.escape(str(key))}\b", str(titles[row])) is not None
        closes = bool(explicit) or (in_title and not str(key).startswith(("#", "!")))
        d = out[pkeys[row]]
        d[key] = d.get(key, False) or closes
    if "closes" in prs:
        for pk, lst in zip(pkeys, prs["closes"]):
            out[pk].update({k: True for k in schema.list_cell(lst) if k in issue_keys})
    if "linked_prs" in iss:
        prefix = {k[:1] for k in out}
        for ik, lst in zip(keys[~is_pr], iss.loc[~is_pr, "linked_prs"]):
            for n in schema.list_cell(lst):
                for pk in {f"{p}{n}" for p in prefix} & out.keys():
                    out[pk].setdefault(ik, False)
    return out


def bug_mask(issues: pd.DataFrame) -> pd.Series:
    """The bugs of ``issues`` (see the module docstring): ``type == "bug"``, counting a bug-labelled pull request
    only when it closes no issue of the export. The one definition the report and the analyses use."""
    is_pr = _pr_mask(issues)
    bug = issues["type"].eq("bug").fillna(False).astype(bool)
    if not (bug & is_pr).any():
        return bug & ~is_pr
    closes = pr_closes(issues)
    closing = {p for p, d in closes.items() if any(d.values())}
    return bug & (~is_pr | ~_isin(issues["key"], closing))


def _pr_bugs(iss: pd.DataFrame, closes: dict[str, dict[str, bool]]) -> pd.DataFrame:
    rows = iss[_pr_mask(iss) & iss["type"].eq("bug").fillna(False)]
    if rows.empty:
        return schema.empty("pr_bugs")
    counted, decision = [], []
    for k in rows["key"]:
        closed = sorted(i for i, c in closes.get(k, {}).items() if c)
        counted.append(not closed)
        decision.append("counted as a bug: a bug-labelled pull request that closes no issue of the export; "
                        "its fix is its own commits" if not closed else
                        f"not counted: it is the fix of {', '.join(closed)}, counted there")
    return schema.conform(pd.DataFrame({"key": rows["key"].astype("string").to_numpy(), "counted": counted,
                                        "decision": decision}), "pr_bugs")


class _Graph:
    """The commit graph of a ``commits`` table: what a merge brought in (``M^1..M^2``)."""

    def __init__(self, commits: pd.DataFrame) -> None:
        shas = commits["sha"].astype(str).tolist()
        self.idx = {s: i for i, s in enumerate(shas)}
        raw = commits["parents"].tolist() if "parents" in commits else [[] for _ in shas]
        self.raw = [schema.list_cell(p) for p in raw]
        self.par: list[list[int]] = []  # parent rows, with generation numbers on the first walk
        self._gen: list[int] | None = None

    def gen(self) -> list[int]:
        """Generation numbers (1 + the highest of the parents'), so a walk in decreasing generation
        meets every child before its parents."""
        if self._gen is None:
            self.par = [[self.idx[p] for p in ps if p in self.idx] for ps in self.raw]
            g = [0] * len(self.par)  # 0: not known yet
            for start in range(len(g) - 1, -1, -1):
                stack = [start]
                while stack:
                    c = stack[-1]
                    if g[c]:
                        stack.pop()
                        continue
                    todo = [p for p in self.par[c] if not g[p]]
                    if todo:
                        stack.extend(todo)
                        continue
                    g[c] = 1 + max((g[p] for p in self.par[c]), default=0)
                    stack.pop()
            self._gen = g
        return self._gen

    def brought_in(self, m: int, limit: int | None = None) -> list[int] | None:
        """Rows of the commits merge ``m`` brought in (reachable from a later parent, not from the first);
        None when a parent is not in the table (a first-parent or truncated history). With ``limit``, the walk
        stops after ``limit + 1`` of them (enough to say "more than ``limit``")."""
        ps = self.raw[m]
        if len(ps) < 2 or any(p not in self.idx for p in ps):
            return None
        gen = self.gen()
        flag: dict[int, int] = {}
        heap: list[tuple[int, int]] = []
        for j, p in enumerate(ps):
            i = self.idx[p]
            flag[i] = flag.get(i, 0) | (1 if j == 0 else 2)
            heapq.heappush(heap, (-gen[i], i))
        pending = {i for i, f in flag.items() if f == 2}
        done: set[int] = set()
        out: list[int] = []
        while pending and heap:
            _, c = heapq.heappop(heap)
            if c in done:
                continue
            done.add(c)
            f = flag[c]
            pending.discard(c)
            if f == 2:
                out.append(c)
                if limit is not None and len(out) > limit:
                    break
            for p in self.par[c]:
                old = flag.get(p, 0)
                new = old | f
                if new != old:
                    flag[p] = new
                    heapq.heappush(heap, (-gen[p], p))
                    if new == 2:
                        pending.add(p)
                    else:
                        pending.discard(p)
        return out


def link_issues(issues: pd.DataFrame, commits: pd.DataFrame, *, file_changes: pd.DataFrame | None = None,
                components: ComponentMap | None = None, heuristic: bool = False, window_days: int = 7,
                unreachable: pd.DataFrame | Callable[[], pd.DataFrame] | None = None, max_merge: int = 100,
                changelog: pd.DataFrame | None = None) -> Links:
    """Link ``issues`` to ``commits`` (schema tables); see the module docstring.

    ``file_changes`` gives the changelog fragments and ``issue_components`` (per issue and component, the
    non-test files its fixes changed and their churn); ``components`` maps paths (default: from the changed
    paths). ``unreachable`` (``sha``, ``message``, or a function giving them, called only when a bug is
    unlinked: :func:`toolkit.load.history.unreachable_commits`) only says why a bug they name is unlinked. A
    merge that brought in over ``max_merge`` commits is a branch sync: its mentions link nothing. ``changelog``:
    :func:`changelog_citations`.
    """
    iss = issues.reset_index(drop=True)
    com = commits.reset_index(drop=True)
    is_pr = _pr_mask(iss)
    keys = iss["key"].astype("string")
    projects = _projects(iss)
    issue_keys = set(keys[~is_pr].dropna())
    pr_keys = set(keys[is_pr].dropna())
    closes = pr_closes(iss, projects)
    hash_keys = bool(issue_keys | pr_keys) and iss["tracker"].ne("jira").any()

    messages = com["message"].astype("string").fillna("")
    shas = com["sha"].astype("string").to_numpy(dtype=object)
    is_merge = com["is_merge"].fillna(False).astype(bool).to_numpy() if "is_merge" in com else \
        com["parents"].map(lambda p: len(p) > 1 if isinstance(p, list) else False).to_numpy()
    subject = messages.str.extract(r"^([^\n]*)", expand=False).fillna("")
    mr = any(str(k).startswith("!") for k in pr_keys)
    # the words a revert quotes from the commit it undoes, and "reopens #12", are not mentions of a fix
    refs = _references(messages.str.replace(_NOT_A_MENTION, "", regex=True), projects, mr)
    # "Fix charge before stock reservation (SHOP-10)": a subject starting with a fix word closes its keys too
    fix_subject = subject.str.contains(rf"^\s*{_KW}", regex=True).to_numpy(dtype=bool)
    if fix_subject.any():
        subj = _references(subject[fix_subject], projects, mr)
        subj = pd.DataFrame({"row": subj["row"].to_numpy(), "key": subj["key"].to_numpy(), "in_fix_subject": True})
        refs = refs.merge(subj.drop_duplicates(), on=["row", "key"], how="left")
        # ...unless the message already puts a fix word right before a key ("resolved SHOP-7; also GH-12")
        direct_rows = refs.loc[refs["explicit"], "row"].unique()
        promote = (refs["in_fix_subject"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                   & ~refs["row"].isin(direct_rows).to_numpy())
        refs.loc[promote, "text"] = subject.to_numpy(dtype=object)[refs.loc[promote, "row"].to_numpy()]
        refs.loc[promote, "explicit"] = True
        refs = refs.drop(columns="in_fix_subject")
    refs = refs[_isin(refs["key"], issue_keys | pr_keys)].reset_index(drop=True)
    refs["is_merge"] = is_merge[refs["row"].to_numpy()]

    # the pull/merge request each commit is the merge (or squash) of
    named = subject.str.extract(f"{_MERGE_PR}|{_SQUASH}")  # one pass over the subjects
    # "(#N)" ending a subject is the PR a squash (or a merge) landed, unless the export knows #N as an issue
    squash_n = ("#" + named.iloc[:, 1]).astype("string")
    squash_n = squash_n.where(~_isin(squash_n, issue_keys))
    own = ("#" + named.iloc[:, 0]).fillna(squash_n)
    if mr:
        own = ("!" + messages.str.extract(_GITLAB_MR, expand=False)).where(is_merge).fillna(own)
    own = own.where(is_merge | _isin(own, pr_keys)).astype("string")
    if "merge_sha" in iss:
        recorded = iss.loc[is_pr & iss["merge_sha"].notna(), ["key", "merge_sha"]]
        row_of = pd.Series(np.arange(len(com)), index=pd.Index(shas))
        row_of = row_of[~row_of.index.duplicated()]
        hit = recorded["merge_sha"].astype(str).map(row_of).dropna()
        own.iloc[hit.astype(int).to_numpy()] = recorded.loc[hit.index, "key"].to_numpy()
    own_at = own.fillna("").to_numpy(dtype=object)
    refs = refs[own_at[refs["row"].to_numpy()] != refs["key"].to_numpy(dtype=object)]

    rows: list[tuple[str, str, str, str, str]] = []  # issue, sha, evidence, confidence, kind
    # 1. non-merge commits naming an issue
    d = refs[~refs["is_merge"] & _isin(refs["key"], issue_keys)]
    direct = pd.DataFrame({
        "issue_key": d["key"], "sha": shas[d["row"].to_numpy()] if len(d) else [],
        "evidence": "message: " + d["text"],
        "confidence": d["explicit"].map({True: "explicit", False: "reference"}), "kind": "message"})

    graph = functools.cache(lambda: _Graph(com))  # built on the first merge that names a key
    empty_merge: dict[str, str] = {}  # issue -> why a merge naming it linked nothing

    @functools.cache
    def targets(r: int) -> tuple[list[int], str | None]:
        """Commits a commit stands for: what a merge brought in (or itself), with why a merge gives none."""
        if not is_merge[r]:
            return [r], None
        got = graph().brought_in(r, max_merge)
        if got is None:
            return [r], None
        if len(got) > max_merge:  # (the walk stopped at max_merge + 1)
            return [], (f"mentioned only in a merge that brought in more than {max_merge} commits ({shas[r][:10]}), "
                        "a branch sync rather than a fix")
        got = [c for c in got if not is_merge[c]]  # merges of the base into the branch are syncs, not the fix
        if not got:
            return [], f"mentioned only in a merge that brought in nothing ({shas[r][:10]})"
        return got, None

    def add(issue: str, r: int, evidence: str, confidence: str, kind: str) -> None:
        got, why = targets(r)
        if why:
            empty_merge.setdefault(issue, why)
        for t in got:
            rows.append((issue, shas[t], evidence, confidence, kind))

    # 2. merge commits naming an issue: the commits they brought in
    for r, key, explicit, text in refs.loc[refs["is_merge"] & _isin(refs["key"], issue_keys),
                                           ["row", "key", "explicit", "text"]].itertuples(index=False):
        add(key, r, f"merge {shas[r][:10]}: {subject.iat[r][:80]} ({text})",
            "explicit" if explicit else "reference", "merge")
    # 2b. the merged branch's name names an issue (``from ann/fix-1234``, ``Merge branch 'issue_12'``)
    if hash_keys:
        branch = subject.str.extract(_BRANCH, expand=False).where(is_merge)
        for r in np.flatnonzero(branch.notna().to_numpy()):
            for num in _branch_numbers(str(branch.iat[r])):
                k = f"#{num}"
                if k in issue_keys and k != own_at[r]:
                    add(k, r, f"merge {shas[r][:10]}: branch {branch.iat[r]} names {k}", "reference", "merge")
    # 3. a PR's own merge or squash commit: the PR and the issues it closes or names
    for r in np.flatnonzero(_isin(own, pr_keys)):
        p = own_at[r]
        how = "merge" if is_merge[r] else "squash"
        add(p, r, f"{how} of PR {p} ({shas[r][:10]})", "explicit", how)
        for ik, c in closes.get(p, {}).items():
            add(ik, r, f"PR {p} {'closes' if c else 'names'} {ik}; its {how} {shas[r][:10]}",
                "explicit" if c else "reference", "pr")
    # 4. non-merge commits naming a PR (not their own): the PR, and weakly what it closes
    for r, key, text in refs.loc[~refs["is_merge"] & _isin(refs["key"], pr_keys),
                                 ["row", "key", "text"]].itertuples(index=False):
        rows.append((key, shas[r], "message: " + text, "reference", "message"))
        for ik in closes.get(key, {}):
            rows.append((ik, shas[r], f"commit names PR {key}, which names {ik}", "reference", "pr"))
    # 5. changelog/news fragments named after an issue or PR, by the commit that added them, and
    # 6. lines citing an issue or PR added to the changelog file, by the oldest commit that added one
    cited = []
    if hash_keys and file_changes is not None and len(file_changes):
        cited.append((_fragments(file_changes), "fragment", "fragment {}"))
    if hash_keys and changelog is not None and len(changelog):
        cited.append((_changelog_fixes(changelog, file_changes, set(shas)), "changelog", "changelog line in {}"))
    for table, kind, where in cited:
        for path, sha, num in table.itertuples(index=False):
            k, what = f"#{num}", where.format(path)
            if k in issue_keys or k in pr_keys:
                rows.append((k, sha, what, "explicit", kind))
            for ik, c in closes.get(k, {}).items():
                rows.append((ik, sha, f"PR {k} {'closes' if c else 'names'} {ik}; its {what}",
                             "explicit" if c else "reference", "pr"))
    links = pd.concat([direct, pd.DataFrame(rows, columns=["issue_key", "sha", "evidence", "confidence", "kind"])],
                      ignore_index=True)

    changes = None
    if file_changes is not None and len(file_changes):
        paths = history_paths(file_changes)  # the fix's files as they are named now: moves since don't lose them
        cmap = components or ComponentMap.from_files(list(paths.dropna().unique()))
        changes = pd.DataFrame({
            "sha": file_changes["sha"].astype("string"), "path": paths,
            "component": change_components(file_changes, cmap),
            "churn": file_changes["added"].fillna(0).astype("int64") + file_changes["deleted"].fillna(0).astype("int64"),
        }).dropna(subset=["component"])

    bug = bug_mask(iss)
    if heuristic and changes is not None and "components" in iss:
        linked = set(links["issue_key"])
        cand = iss[bug & ~_isin(keys, linked) & iss["created"].notna()][["key", "components", "created", "resolved"]]
        cand = cand.explode("components").dropna(subset=["components"])
        if len(cand):
            cand["comp"] = cand["components"].astype(str).str.lower()
            touched = changes.assign(comp=changes["component"].str.lower())[["sha", "comp", "component"]].drop_duplicates()
            touched = touched.merge(pd.DataFrame({"sha": com["sha"].astype("string"), "ts": com["timestamp"]}), on="sha")
            hits = cand.merge(touched, on="comp")
            end = hits["created"] + pd.Timedelta(days=window_days)
            end = end.where(hits["resolved"].isna() | (hits["resolved"] > end), hits["resolved"])
            hits = hits[(hits["ts"] >= hits["created"]) & (hits["ts"] <= end)]
            links = pd.concat([links, pd.DataFrame({
                "issue_key": hits["key"].astype("string"), "sha": hits["sha"],
                "evidence": "touches " + hits["component"] + f" within {window_days} days of creation",
                "confidence": "heuristic", "kind": "heuristic",
            })], ignore_index=True)

    links, reverted = _reverts(links, subject, messages, shas, targets)
    links, recorded = _records_only(links, file_changes)

    if len(links):
        kind_rank = {k: i for i, k in enumerate(KINDS)}
        links = (links.assign(_r=links["confidence"].map(_RANK), _k=links["kind"].map(kind_rank))
                 .sort_values(["_r", "_k"], kind="stable")
                 .drop_duplicates(["issue_key", "sha"]).drop(columns=["_r", "_k"])
                 .sort_values(["issue_key", "sha"], kind="stable").reset_index(drop=True))
    links = schema.conform(links, "links") if len(links) else schema.empty("links")

    if changes is not None and len(links):
        ic = links[["issue_key", "sha"]].merge(changes, on="sha")
        ic = (ic.groupby(["issue_key", "component"], as_index=False)
              .agg(files=("path", "nunique"), churn=("churn", "sum")))
        issue_components = schema.conform(ic, "issue_components")
    else:
        issue_components = schema.empty("issue_components")

    unl = keys[bug & ~_isin(keys, set(links["issue_key"]))]
    reasons = _unlinked_reasons(iss, unl, closes, empty_merge | recorded, set(shas), unreachable, projects,
                                reverted, issue_keys | pr_keys)
    unlinked = schema.conform(pd.DataFrame({"issue_key": unl.to_numpy(), "reason": reasons}), "unlinked_issues") \
        if len(unl) else schema.empty("unlinked_issues")
    return Links(links, issue_components, unlinked, _pr_bugs(iss, closes))


#: Link kinds that name a commit by what it says or writes, not by how it was merged: a commit of these kinds that
#: changed nothing but changelog files and fragments records a fix made elsewhere ("Changelog re #649").
_RECORDING_KINDS = ("message", "changelog", "fragment")


def _records_only(links: pd.DataFrame, file_changes: pd.DataFrame | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """``links`` without the commits that only record a fix: a commit named by its message, its changelog line or
    its fragment (:data:`_RECORDING_KINDS`) whose changed files are all changelog files or fragments changed no
    code, so it is not the fix (on the seventh labelled part's hand-checked links, 5 of paramiko's 9 and one of
    structlog's were such commits). A commit brought in by a merge or a PR keeps its link: it is part of the
    change that fixed it. Returns the links kept and, per issue left with none, why."""
    if file_changes is None or not len(file_changes) or not len(links):
        return links, {}
    path = file_changes["path"].astype("string").fillna("")
    record = path.str.contains(CHANGELOG_FILE, regex=True) | path.str.extract(FRAGMENT, expand=False).notna()
    only = record.groupby(file_changes["sha"].astype(str).to_numpy()).all()
    only = set(only.index[only.to_numpy(dtype=bool)])
    drop = links["kind"].isin(_RECORDING_KINDS).to_numpy(dtype=bool) & _isin(links["sha"].astype("string"), only)
    if not drop.any():
        return links, {}
    kept = links[~drop].reset_index(drop=True)
    left = set(kept["issue_key"].astype(str))
    why = {str(k): f"mentioned only in a commit that changed nothing but the changelog ({str(sha)[:10]}): it records a"
                   " fix made elsewhere"
           for k, sha in zip(links.loc[drop, "issue_key"], links.loc[drop, "sha"]) if str(k) not in left}
    return kept, why


def _fragments(file_changes: pd.DataFrame) -> pd.DataFrame:
    """(path, sha, number) of each fragment file, by the oldest commit that wrote lines to it (the one that
    added it; later edits and the release commit deleting it do not count)."""
    paths = file_changes["path"].astype("string")
    uniq = pd.Series(paths.dropna().unique(), dtype="string")
    num = uniq.str.extract(FRAGMENT, expand=False)
    found = dict(zip(uniq[num.notna()], num[num.notna()]))
    if not found:
        return pd.DataFrame({"path": [], "sha": [], "num": []})
    fc = file_changes[_isin(paths, set(found)) & (file_changes["added"].fillna(1) > 0).to_numpy()]
    first = fc.drop_duplicates("path", keep="last")  # newest first: the last row is the oldest commit
    return pd.DataFrame({"path": first["path"].astype(str).to_numpy(), "sha": first["sha"].astype(str).to_numpy(),
                         "num": first["path"].map(found).astype(int).to_numpy()})


def _reverts(links: pd.DataFrame, subject: pd.Series, messages: pd.Series, shas: np.ndarray,
             targets: Callable[[int], tuple[list[int], str | None]]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Follow git's reverts (``This reverts commit X``): a commit a later revert undid (or a reverted merge
    brought in) fixes nothing — its links are dropped; a revert of a revert re-applies the original and carries
    its links. Returns the links and {issue: why it lost its fix}."""
    is_revert = subject.str.match(r"Revert\b", na=False).to_numpy(dtype=bool)
    if not is_revert.any() or links.empty:
        return links, {}
    row_of = {s: i for i, s in enumerate(shas)}
    ordered = sorted(row_of)
    of: dict[int, int] = {}  # revert row -> the row it reverts
    for r in np.flatnonzero(is_revert):
        m = re.search(r"This reverts commit ([0-9a-f]{7,40})", str(messages.iat[r]))
        if not m:
            continue
        t = row_of.get(m.group(1))
        if t is None:  # an abbreviated id: the one commit it starts
            j = bisect.bisect_left(ordered, m.group(1))
            near = [s for s in ordered[j:j + 2] if s.startswith(m.group(1))]
            t = row_of[near[0]] if len(near) == 1 else None
        if t is not None and t != r:
            of[r] = t
    if not of:
        return links, {}
    # rows are newest first: of several reverts of one commit, the oldest (highest row) is kept
    by = {t: r for r, t in sorted(of.items(), key=lambda x: -x[0])}

    def undone(c: int, seen: int = 0) -> bool:
        r = by.get(c)
        return r is not None and seen < 20 and not undone(r, seen + 1)

    gone: dict[str, str] = {}  # sha -> the revert that undid it
    for t, r in by.items():
        if undone(t):
            for c in targets(t)[0]:
                gone[shas[c]] = shas[r]
    sha_at = links["sha"].astype(str)
    carried = []
    for r, y in of.items():  # a revert of a revert re-applies the original's links
        x = of.get(y)
        if x is None or undone(r):
            continue
        orig = {shas[c] for c in targets(x)[0]}
        got = links[sha_at.isin(orig).to_numpy()]
        if len(got):
            carried.append(got.assign(sha=shas[r], evidence="re-applies " + got["sha"].astype(str).str[:10]
                                      + f" (reverting its revert {shas[y][:10]}): " + got["evidence"]))
    drop = sha_at.isin(set(gone)).to_numpy()
    why = {}
    for k, s in zip(links.loc[drop, "issue_key"].astype(str), sha_at[drop]):
        why.setdefault(k, f"its fix {s[:10]} was reverted by {gone[s][:10]}")
    out = pd.concat([links[~drop], *carried], ignore_index=True) if carried else links[~drop].reset_index(drop=True)
    return out, why


def changelog_citations(repo: Repo | str, rev: str = "HEAD",
                        file_changes: pd.DataFrame | None = None) -> pd.DataFrame:
    """``sha``, ``path``, ``num``, ``release``: each number (issue or PR, :data:`_CITE`) a non-merge commit reachable from
    ``rev`` cites on the lines it added to a changelog file (:data:`CHANGELOG_FILE`) — one ``git log -p`` over
    the changelog files ``file_changes`` names (schema ``file_changes``; else those at ``rev``), without
    context lines; ``release``: the commit also added a release heading (:data:`_RELEASE_LINE`, or a version heading
    with a date alone below it, :data:`_VERSION_HEADING`). Numbers only:
    which are issue keys is for :func:`link_issues` to say."""
    empty = pd.DataFrame({"sha": pd.Series(dtype="string"), "path": pd.Series(dtype="string"),
                          "num": pd.Series(dtype="int64"), "release": pd.Series(dtype=bool)})
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    head = repo.resolve(rev)
    if head is None:
        return empty
    names = (file_changes["path"].dropna().astype(str).unique() if file_changes is not None
             else repo.list_files(head))
    paths = sorted(p for p in names if re.search(CHANGELOG_FILE, p) and "\\x" not in p)
    if not paths:
        return empty
    out = repo.git("log", "-p", "--no-merges", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv",
                   "--no-renames", "--format=@@commit %H", head, "--", *(":(literal)" + p for p in paths),
                   text=False).stdout.decode("utf-8", "replace")
    rows: list[tuple[str, str, int]] = []
    releases: set[str] = set()
    sha = path = ""
    below = 0  # added non-blank lines left in which a date alone makes the version heading above a release
    for line in out.split("\n"):
        if line.startswith("+") and not line.startswith("+++ "):
            for m in _CITE.finditer(line):
                rows.append((sha, path, int(next(g for g in m.groups() if g))))
            text = line[1:]
            if sha not in releases and (_RELEASE_LINE.search(text) or (below and _DATE_ONLY.match(text))):
                releases.add(sha)
            if text.strip():
                below = _DATE_BELOW if _VERSION_HEADING.match(text) else max(below - 1, 0)
        elif line.startswith("@@commit "):
            sha, below = line[9:].strip(), 0
        elif line.startswith("+++ "):
            path, below = (line[6:] if line.startswith("+++ b/") else ""), 0
    if not rows:
        return empty
    df = pd.DataFrame(rows, columns=["sha", "path", "num"]).drop_duplicates().astype(
        {"sha": "string", "path": "string", "num": "int64"}).reset_index(drop=True)
    return df.assign(release=_isin(df["sha"], releases))


def _changelog_fixes(changelog: pd.DataFrame, file_changes: pd.DataFrame | None, history: set) -> pd.DataFrame:
    """(path, sha, num): per number, the oldest commit of ``history`` that added a changelog line citing it,
    among commits that cite at most :data:`MAX_CHANGELOG_CITES` numbers, add no release heading and delete no
    fragment (a release, a towncrier build, a changelog rewrite record fixes made elsewhere)."""
    cl = changelog[_isin(changelog["sha"].astype("string"), history)]
    if cl.empty:
        return pd.DataFrame({"path": [], "sha": [], "num": []})
    cites = cl.groupby("sha")["num"].nunique()
    bulk = set(cites.index[cites > MAX_CHANGELOG_CITES])
    if "release" in cl:
        bulk |= set(cl.loc[cl["release"].fillna(False).astype(bool).to_numpy(), "sha"].astype(str))
    if file_changes is not None and len(file_changes):
        p = file_changes["path"].astype("string")
        gone = file_changes["added"].fillna(0).eq(0) & file_changes["deleted"].fillna(0).gt(0)
        frag_del = gone.to_numpy(dtype=bool) & p.str.extract(FRAGMENT, expand=False).notna().to_numpy(dtype=bool)
        bulk |= set(file_changes.loc[frag_del, "sha"].astype(str))
    # the log is newest first: the last row of a number is its oldest citation (bulk commits included, so
    # a line a release first wrote is not later credited to whoever moved it)
    first = cl.drop_duplicates("num", keep="last")
    first = first[~_isin(first["sha"].astype("string"), bulk)]
    return first[["path", "sha", "num"]].astype({"path": str, "sha": str, "num": int}).reset_index(drop=True)


def link_fixes(issues: pd.DataFrame, history: History, repo: Repo | str, *, rev: str = "HEAD",
               components: ComponentMap | None = None) -> Links:
    """The links of ``issues`` to ``history`` (loaded at ``rev``), as the audit and the backtest link them:
    :func:`link_issues` with the changelog lines (:func:`changelog_citations`) and, for the unlinked bugs'
    reasons, the commits ``rev`` does not reach (:func:`toolkit.load.history.unreachable_commits`)."""
    if not isinstance(repo, Repo):
        repo = Repo.open(repo)
    fc = history.file_changes
    hashed = bool(len(issues)) and bool(issues["tracker"].ne("jira").any())
    changelog = changelog_citations(repo, rev, fc) if hashed and len(fc) else None
    return link_issues(issues, history.commits, file_changes=fc, components=components, changelog=changelog,
                       unreachable=lambda: unreachable_commits(repo, rev))


def _unlinked_reasons(iss: pd.DataFrame, unl: pd.Series, closes: dict[str, dict[str, bool]],
                      empty_merge: dict[str, str], in_history: set, unreachable: object,
                      projects: list[str], reverted: dict[str, str], known: set) -> list[str]:
    """The true reason each unlinked bug has no fix commit, most specific first."""
    closer: dict[str, str] = {}  # issue -> the first pull request that closes it
    for p, d in closes.items():
        for ik, c in d.items():
            if c:
                closer.setdefault(ik, p)
    k_all = iss["key"].astype(str).tolist()
    is_pr = dict(zip(k_all, _pr_mask(iss).tolist()))
    merged = dict(zip(k_all, iss["merged"].astype(object).tolist())) if "merged" in iss else {}
    msha = dict(zip(k_all, iss["merge_sha"].astype(object).tolist())) if "merge_sha" in iss else {}

    def was_merged(key: str) -> bool | None:
        v = merged.get(key)
        return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else bool(v)

    elsewhere: dict[str, str] = {}
    if callable(unreachable) and len(unl):
        unreachable = unreachable()
    if isinstance(unreachable, pd.DataFrame) and len(unreachable):
        u = unreachable.reset_index(drop=True)
        r = _references(u["message"].astype("string").fillna(""), projects, any(str(k).startswith("!") for k in known))
        for row, key in zip(r["row"], r["key"]):
            elsewhere.setdefault(key, str(u["sha"].iat[row])[:10])
    out = []
    for k in unl.astype(str):
        why = reverted.get(k)  # its fix is in the history, undone
        p = None if why else closer.get(k)
        if p is not None:
            sha = msha.get(p)
            if was_merged(p) is False:
                why = f"closed by PR {p}, which was never merged"
            elif isinstance(sha, str) and sha not in in_history:
                why = f"closed by PR {p}, merged as {sha[:10]}, which is not in the audited history"
            else:
                why = f"closed by PR {p}, but no merge or squash commit of it is in the history"
        if why is None and is_pr.get(k):
            why = ("a pull request never merged" if was_merged(k) is False
                   else "a pull request with no merge or squash commit in the history")
        why = why or empty_merge.get(k)
        if why is None and k in elsewhere:
            why = f"mentioned only in commits not reachable from the audited revision ({elsewhere[k]})"
        if why is None:
            why = ("no commit, merge or changelog line names it" + (
                "" if closes else "; the export holds no pull requests, so a PR that closed it on the tracker "
                "(a link GitHub/GitLab keep outside git) cannot be followed: export them too"))
        out.append(why)
    return out

