"""GitHub issues and pull requests: REST ``/repos/{o}/{r}/issues`` and ``/pulls`` pages,
``gh issue list --json ...`` and ``gh pr list --json ...`` output.

Keys are ``#<number>`` (issues and pull requests share GitHub's numbering). Pull
requests (items with a ``pull_request`` key, a ``/pull/`` URL, ``merged_at``/
``mergedAt``/``merge_commit_sha``/``mergeCommit``/``headRefName``/``head``) are kept
with ``is_pull_request`` so that merge and squash commits can be linked through them,
with ``merged`` (from ``merged_at``, ``pull_request.merged_at``, gh's ``state: MERGED``),
``merge_sha`` (``merge_commit_sha``, gh's ``mergeCommit.oid``) and ``closes`` (gh's
``closingIssuesReferences``; closing words in the body are read by :mod:`toolkit.load.links`).
``linked_prs`` of an issue: pull requests of the export whose body names the issue (``closes #12``, ``#12``), numbers the issue body
mentions that the export knows as pull requests (or every mention when the export
holds no pull requests, as ``gh issue list`` output), and gh's
``closedByPullRequestsReferences``.
"""
from __future__ import annotations

import re

import pandas as pd

from toolkit.errors import InputError
from toolkit.load.issues.normalize import field_name, name_list, tracker_frame

_MENTION = re.compile(r"(?<![\w/])#(\d+)\b")


def records(items: list[dict], path: str) -> pd.DataFrame:
    """REST or gh-CLI issue dicts -> raw frame for :func:`normalize.finish`."""
    rows = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("number"), int) or isinstance(it.get("number"), bool):
            raise InputError(path, "GitHub issue without an integer 'number'", record=i,
                             hint="expected the JSON of GET /repos/{owner}/{repo}/issues or gh issue list --json number,...")
        url = it.get("html_url") or it.get("url")
        is_pr = ("pull_request" in it or "/pull/" in str(url or "") or it.get("isPullRequest") is True
                 or any(k in it for k in _PR_FIELDS))
        merged, merge_sha = _merge_state(it) if is_pr else (None, None)
        closes = it.get("closingIssuesReferences") if is_pr else None
        state_reason = it.get("state_reason", it.get("stateReason"))
        closing = it.get("closedByPullRequestsReferences")
        rows.append({
            "key": f"#{it['number']}",
            "number": it["number"],
            "title": it.get("title"),
            "body": it.get("body"),
            "labels": name_list(it.get("labels"), "name"),
            "status": str(it["state"]).lower() if it.get("state") is not None else None,
            "resolution": str(state_reason).lower() if state_reason else None,
            "created": it.get("created_at", it.get("createdAt")),
            "resolved": it.get("closed_at", it.get("closedAt")),
            "updated": it.get("updated_at", it.get("updatedAt")),
            "reporter": field_name(it.get("user", it.get("author")), "login", "name"),
            "url": url,
            "milestone": field_name(it.get("milestone"), "title"),
            "is_pull_request": bool(is_pr),
            "merged": merged,
            "merge_sha": merge_sha,
            "closes": [f"#{c['number']}" for c in closes if isinstance(c, dict) and isinstance(c.get("number"), int)]
            if isinstance(closes, list) else [],
            "closing_refs": [c.get("number") for c in closing if isinstance(c, dict)] if isinstance(closing, list) else [],
        })
    df = tracker_frame(rows, ["key", "number", "title", "body", "labels", "status", "resolution", "created", "resolved",
                              "updated", "reporter", "url", "milestone", "is_pull_request", "merged", "merge_sha",
                              "closes", "closing_refs"], tracker="github", name="GitHub", path=path)
    df["linked_prs"] = _linked_prs(df)
    return df.drop(columns=["number", "closing_refs"])


#: fields only pull requests have (REST ``/pulls`` items and ``gh pr list --json`` output)
_PR_FIELDS = ("merged_at", "mergedAt", "merge_commit_sha", "mergeCommit", "headRefName", "baseRefName", "head",
              "base", "isDraft", "draft")


def _merge_state(it: dict) -> tuple[bool | None, str | None]:
    """(merged, merge sha) of a pull request item; None where the export does not say."""
    pr = it.get("pull_request") if isinstance(it.get("pull_request"), dict) else {}
    state = str(it.get("state") or "").lower()
    merged: bool | None = None
    for src, k in ((it, "merged_at"), (it, "mergedAt"), (pr, "merged_at")):
        if k in src:  # gh prints the zero time for an unmerged PR
            merged = src[k] not in (None, "", "0001-01-01T00:00:00Z")
            break
    else:
        if isinstance(it.get("merged"), bool):
            merged = it["merged"]
        elif state == "merged":
            merged = True
        elif state == "open":
            merged = False
    sha = it.get("merge_commit_sha")
    if isinstance(it.get("mergeCommit"), dict):
        sha = it["mergeCommit"].get("oid")
    # an unmerged PR's merge_commit_sha is GitHub's test merge, never part of the history
    return merged, (str(sha) if sha and merged is not False else None)


def _linked_prs(df: pd.DataFrame) -> pd.Series:
    prs = set(df.loc[df["is_pull_request"], "number"])
    by_issue: dict[int, set[int]] = {}
    for num, body in zip(df.loc[df["is_pull_request"], "number"], df.loc[df["is_pull_request"], "body"]):
        for m in _MENTION.findall(str(body or "")):
            by_issue.setdefault(int(m), set()).add(int(num))
    out = []
    for num, body, is_pr, refs in zip(df["number"], df["body"], df["is_pull_request"], df["closing_refs"]):
        if is_pr:
            out.append([])
            continue
        found = set(by_issue.get(num, ())) | {int(r) for r in refs if isinstance(r, int)}
        for m in _MENTION.findall(str(body or "")):
            n = int(m)
            if n != num and (n in prs or not prs):
                found.add(n)
        out.append(sorted(found))
    return pd.Series(out, index=df.index, dtype=object)
