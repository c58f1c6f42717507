"""How well :func:`toolkit.load.links.link_issues` finds fix commits on real repositories (issue 17, "Truth").

No tracker export of these projects is available offline, so the truth comes from each repository itself:
a bug is an issue number a changelog entry names, its fix is the commit that added that entry —
a towncrier fragment (``changelog/N.bugfix.rst``; attrs' ``changelog.d/N.change.md``, untyped) or, for
projects without fragments, the line citing the issue in the changelog file (Flask's ``:issue:`N```) —
when that commit also changes code and cites at most 3 entries (else the bug is left out: its fix cannot be
identified from the repository), together with the other commits of the pull request that brought it in
(the merge's ``M^1..M^2``, at most 100 commits) and that merge. Numbers the history shows as pull requests (``Merge pull request #N``,
a subject ending in ``(#N)``) are exported as bug-labelled pull requests, as a GitHub export would have
them. Each repository is linked twice:

``all``                     every kind of evidence, as an audit links (fragment and changelog-line links are
                            right by construction here: the truth is made of them);
``no fragments/changelog``  fragment files and changelog lines hidden, so the truth is independent of the
                            evidence used. Its unlinked bugs are split by what their fix names: only its pull
                            request (GitHub keeps the issue->PR link outside git: only a PR export links them),
                            or not even that.

Printed per repository: bugs, share linked, share linked to a right commit (recall), share of linked bugs
with a right commit (precision), links by evidence kind, unlinked reasons. ``links_handchecked.csv``
holds links a person opened and judged (issue, commit, verdict); their precision is printed per repository.

Run: ``PYTHONPATH=. python benchmarks/links_eval.py [/tmp/rr]``
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pandas as pd

from common import pr_numbers
from toolkit.load.gitrepo import Repo
from toolkit.load.history import load_history
from toolkit.load.issues.normalize import finish
from toolkit.load.links import CHANGELOG_FILE, FRAGMENT, KINDS, _Graph, changelog_citations, link_issues

#: Not here (their hand-checked fixes are in links_handchecked.csv): sphinx-doc+sphinx, whose per-release
#: changelogs (doc/changes/8.2.rst) match FRAGMENT as fragments of issues #7, #8, #9, so its truth would be those;
#: encode+httpx, which writes its changelog in the release commit ("Version 0.15.4", a version bump: code), so the
#: truth derived from changelog lines would be release commits
REPOS = ("pytest-dev+pytest", "urllib3+urllib3", "python-attrs+attrs", "pallets+flask")
CHANGELOG_FILES = ("CHANGES.rst", "CHANGELOG.rst", "CHANGES.md", "CHANGELOG.md", "CHANGES", "HISTORY.rst")
HANDCHECKED = Path(__file__).with_name("links_handchecked.csv")
_CITE = re.compile(r":issue:`(\d+)`|(?<![\w/&])#(\d+)\b")


def _fragment_truth(history) -> dict[int, set[str]]:
    """issue number -> {commit that added its fragment}; bug fragments only where fragments are typed."""
    fc = history.file_changes
    num = fc["path"].astype(str).str.extract(FRAGMENT, expand=False)
    frag = fc[num.notna() & (fc["added"].fillna(1) > 0)].assign(num=num[num.notna()].astype(int))
    kind = frag["path"].astype(str).str.extract(r"/\d+\.([a-z]+)", expand=False)
    if kind.isin(["bugfix", "bug", "fix"]).sum() >= 20:  # typed fragments (attrs' are all "change")
        frag = frag[kind.isin(["bugfix", "bug", "fix"])]
    first = frag.drop_duplicates("path", keep="last")  # newest first: the oldest commit that wrote it
    out: dict[int, set[str]] = {}
    for n, sha in zip(first["num"], first["sha"].astype(str)):
        out.setdefault(int(n), set()).add(sha)
    return out


def _changelog_truth(path: Path) -> dict[int, set[str]]:
    """issue number -> {oldest commit adding a changelog line citing it} (``:issue:`N``` or ``#N``)."""
    repo = Repo.open(path)
    # a changelog may cite its own tracker by URL (rich: ".../Textualize/rich/pull/4006"); a clone folder is named
    # owner+name, and only that repository's URLs cite its issues (another project's #N is not this one's)
    own = path.name.split("+", 1)[-1]
    url = re.compile(rf"github\.com/[\w.-]+/{re.escape(own)}/(?:issues|pull)/(\d+)", re.I)
    out: dict[int, set[str]] = {}
    log = repo.git("log", "-p", "--no-merges", "--reverse", "--format=@@commit %H", "--unified=0", "--",
                   *CHANGELOG_FILES, text=False).stdout.decode("utf-8", "replace")
    sha = None
    for line in log.splitlines():
        if line.startswith("@@commit "):
            sha = line.split()[1]
        elif line.startswith("+") and not line.startswith("+++") and sha:
            for n in [int(a or b) for a, b in _CITE.findall(line)] + [int(u) for u in url.findall(line)]:
                out.setdefault(n, {sha})
    return out


def _identifiable(hist, truth: dict[int, set[str]]) -> dict[int, set[str]]:
    """Keep truth commits that can be a fix: reachable, changing a file besides changelogs and fragments, and
    citing at most 3 entries (a "move changelog to towncrier" or "add missing newsfragments" commit is not
    the fix). Bugs left without one are dropped: their fix cannot be identified from the repository."""
    fc = hist.file_changes
    p = fc["path"].astype(str)
    notes = p.str.extract(FRAGMENT, expand=False).notna() | p.str.contains(CHANGELOG_FILE, regex=True)
    code = set(fc.loc[~notes, "sha"].astype(str))
    cites: dict[str, int] = {}
    for s in truth.values():
        for c in s:
            cites[c] = cites.get(c, 0) + 1
    out = {n: {c for c in s if c in code and cites[c] <= 3} for n, s in truth.items()}
    return {n: s for n, s in out.items() if s}


def _truth_sets(commits: pd.DataFrame, truth: dict[int, set[str]]) -> dict[int, set[str]]:
    """Each truth commit plus the other commits of the merge (<= 100 commits) that brought it in, and the merge."""
    g = _Graph(commits)
    shas = commits["sha"].astype(str).tolist()
    merges = [i for i, p in enumerate(g.raw) if len(p) > 1]
    home: dict[int, list[int]] = {}
    for m in merges:
        got = g.brought_in(m, 100)
        if got and len(got) <= 100:
            for c in got:
                if c not in home or len(home[c]) > len(got) + 1:
                    home[c] = got + [m]
    row = {s: i for i, s in enumerate(shas)}
    out = {}
    for n, fixes in truth.items():
        s = set(fixes)
        for f in fixes:
            if f in row:
                s |= {shas[c] for c in home.get(row[f], [])}
        out[n] = s
    return out


def _score(links, truth_sets: dict[int, set[str]]) -> tuple[int, int, int]:
    """(linked bugs, bugs linked to a right commit, bugs)."""
    by = {k: set(v) for k, v in links.links.groupby("issue_key")["sha"]}
    linked = right = 0
    for n, good in truth_sets.items():
        got = by.get(f"#{n}")
        if got:
            linked += 1
            right += bool(got & good)
    return linked, right, len(truth_sets)


def _not_in_git(links, truth_sets: dict[int, set[str]], commits: pd.DataFrame) -> dict[str, int]:
    """Why each unlinked bug's fix names nothing of it: the fix (or its merge) names a pull request, whose link
    to the issue lives only on the tracker (a PR export would give it), or it names no pull request at all."""
    msg = dict(zip(commits["sha"].astype(str), commits["message"].astype(str)))
    out = {"fix names only its PR (issue->PR link on the tracker only)": 0, "fix names no PR either": 0}
    for n in {int(str(k)[1:]) for k in links.unlinked["issue_key"]} & set(truth_sets):
        prs = {int(x) for s in truth_sets[n] for x in re.findall(r"^Merge pull request #(\d+)|\(#(\d+)\)\s*$",
                                                                   msg.get(s, "").split("\n", 1)[0]) for x in x if x}
        out["fix names only its PR (issue->PR link on the tracker only)" if prs - {n} else
            "fix names no PR either"] += 1
    return out


def evaluate(root: Path, name: str) -> dict:
    path = root / name
    hist = load_history(path)
    truth = _fragment_truth(hist)
    source = "fragments"
    if not truth:
        truth, source = _changelog_truth(path), "changelog lines"
    truth = _identifiable(hist, truth)
    prs = pr_numbers(hist.commits)
    nums = sorted(truth)
    issues = finish(pd.DataFrame({"tracker": "github", "key": [f"#{n}" for n in nums], "type": "bug",
                                  "is_pull_request": [n in prs for n in nums], "source": "changelog"}))
    truth_sets = _truth_sets(hist.commits, truth)
    frag = hist.file_changes["path"].astype(str).str.extract(FRAGMENT, expand=False).notna()
    res = {"repo": name, "truth from": source, "bugs": len(nums), "of them PRs": sum(n in prs for n in nums)}
    t = time.perf_counter()
    changelog = changelog_citations(path, "HEAD", hist.file_changes)
    res["changelog read s"] = round(time.perf_counter() - t, 2)
    for label, fc, cl in (("all", hist.file_changes, changelog),
                          ("no fragments/changelog", hist.file_changes[~frag], None)):
        t = time.perf_counter()
        links = link_issues(issues, hist.commits, file_changes=fc, changelog=cl)
        res.setdefault("produced", set()).update(zip(links.links["issue_key"].astype(str),
                                                     links.links["sha"].astype(str)))
        secs = time.perf_counter() - t
        linked, right, n = _score(links, truth_sets)
        best = links.links.assign(_r=links.links["kind"].map({k: i for i, k in enumerate(
            KINDS)})).sort_values("_r").drop_duplicates("issue_key")
        res[label] = {
            "linked %": round(100 * linked / n, 1) if n else None,
            "recall %": round(100 * right / n, 1) if n else None,
            "precision %": round(100 * right / linked, 1) if linked else None,
            "bugs by strongest kind": best["kind"].value_counts().to_dict(),
            "links by kind": links.links["kind"].value_counts().to_dict(),
            "unlinked reasons": links.unlinked["reason"].str.replace(r"\s*\(.*", "", regex=True)
            .value_counts().to_dict(),
            "seconds": round(secs, 2),
        }
        if label != "all":
            res[label]["unlinked, why not in git"] = _not_in_git(links, truth_sets, hist.commits)
    return res


def handchecked(produced: dict[str, set] | None = None) -> pd.DataFrame:
    """The hand-checked links (``repo, issue, sha, kind, verdict, note``): precision per repository, over the
    rows the linker still produces when ``produced`` (repo -> {(issue, sha)} of its default links, plus those
    with fragments hidden) is given."""
    if not HANDCHECKED.exists():
        return pd.DataFrame()
    import io
    text = "".join(line for line in HANDCHECKED.open() if not line.startswith("# "))  # issue keys hold '#'
    hc = pd.read_csv(io.StringIO(text), dtype=str)
    if produced is not None:
        unlinked_repo = ~hc["repo"].isin(list(produced))
        if unlinked_repo.any():  # hand-identified fixes of repositories not in REPOS (or not under --root)
            print(f"  {int(unlinked_repo.sum())} hand-checked rows of repositories not linked in this run: "
                  + ", ".join(sorted(set(hc.loc[unlinked_repo, "repo"]))))
            hc = hc[~unlinked_repo]
        still = [(i, s) in produced.get(r, set()) for r, i, s in zip(hc["repo"], hc["issue"], hc["sha"])]
        gone = hc[[not x for x in still]]
        for r in gone.itertuples():
            print(f"  hand-checked link no longer produced: {r.repo} {r.issue} {r.sha[:10]} ({r.verdict})")
        hc = hc[still]
    return (hc.assign(fix=hc["verdict"].eq("fix"), right=hc["verdict"].isin(["fix", "same-pr"])).groupby("repo")
            .agg(checked=("right", "size"), fix=("fix", "sum"), right=("right", "sum"))
            .assign(**{"precision % (fix or same PR)": lambda d: (100 * d["right"] / d["checked"]).round(1),
                       "precision % (the fix itself)": lambda d: (100 * d["fix"] / d["checked"]).round(1)}))


def main(argv: list[str]) -> None:
    root = Path(argv[1]) if len(argv) > 1 else Path("/tmp/rr")
    produced: dict[str, set] = {}
    for name in REPOS:
        if not (root / name).is_dir():
            print(f"{name}: not found under {root}, skipped")
            continue
        r = evaluate(root, name)
        produced[name] = r.pop("produced")
        print(f"\n== {r['repo']}  (truth from {r['truth from']}: {r['bugs']} bugs, {r['of them PRs']} of them "
              "numbered as pull requests)")
        print(f"  changelog lines read in {r['changelog read s']} s")
        for label in ("all", "no fragments/changelog"):
            print(f"  [{label}]")
            for k, v in r[label].items():
                print(f"    {k}: {v}")
    print("\n== hand-checked links (links_handchecked.csv), those still produced")
    hc = handchecked(produced)
    if len(hc):
        print(hc.to_string())
    judged = handchecked()
    judged = judged[~judged.index.isin(list(produced))] if len(judged) else judged
    if len(judged):  # not re-linked here: precision over the rows as judged (httpx/sphinx: hand-found fixes too)
        print("\n== hand-checked links of repositories this run does not link (precision as judged)")
        print(judged.to_string())
        relinked = relink_handchecked(root, set(judged.index))
        if len(relinked):
            print("\n== the same repositories' hand-checked issues linked again by today's linker (all evidence; "
                  "numbers the history shows as pull requests exported as pull requests)")
            print(relinked.to_string())


def relink_handchecked(root: Path, repos: set[str]) -> pd.DataFrame:
    """Per repository: its hand-checked issues linked again with :func:`toolkit.load.links.link_fixes`, each link
    looked up in links_handchecked.csv: issues, issues with a right commit (fix or same PR), links, links judged
    wrong, links nobody judged (to open by hand before quoting a precision)."""
    import io

    from toolkit.load.links import link_fixes

    text = "".join(line for line in HANDCHECKED.open() if not line.startswith("# "))
    hc = pd.read_csv(io.StringIO(text), dtype=str)
    rows = []
    for repo, g in hc[hc["repo"].isin(list(repos))].groupby("repo"):
        if not (root / repo).is_dir():
            continue
        hist = load_history(root / repo)
        prs = pr_numbers(hist.commits)
        nums = sorted({int(str(i).lstrip("#")) for i in g["issue"]})
        issues = finish(pd.DataFrame({"tracker": "github", "key": [f"#{n}" for n in nums], "type": "bug",
                                      "is_pull_request": [n in prs for n in nums], "source": "changelog"}))
        links = link_fixes(issues, hist, root / repo).links
        verdict = {(str(i), str(sh)[:10]): v for i, sh, v in zip(g["issue"], g["sha"], g["verdict"])}
        got = [verdict.get((str(k), str(sh)[:10]), "unjudged") for k, sh in zip(links["issue_key"], links["sha"])]
        right = {str(k) for k, v in zip(links["issue_key"], got) if v in ("fix", "same-pr")}
        rows.append({"repo": repo, "issues": len(nums), "linked": int(links["issue_key"].nunique()),
                     "with a right commit": len(right), "links": len(got), "wrong": got.count("wrong"),
                     "unjudged": got.count("unjudged")})
    return pd.DataFrame(rows).set_index("repo") if rows else pd.DataFrame()


if __name__ == "__main__":
    main(sys.argv)
