"""GitLab issues API (``/projects/:id/issues`` list pages or one ``/issues/:iid`` object) and
merge requests (``/projects/:id/merge_requests``).

Keys are ``#<iid>`` for issues and ``!<iid>`` for merge requests (GitLab numbers
them apart; commits mention them so, as in ``references.short`` and ``See merge
request group/proj!12``); ``state`` ``opened``/``closed``/``merged``; labels are
strings. A merge request (an item with ``merge_commit_sha``/``source_branch`` or a
``/merge_requests/`` URL) has ``is_pull_request``, ``merged`` and ``merge_sha``
(its merge commit, else its squash commit).
"""
from __future__ import annotations

import pandas as pd

from toolkit.errors import InputError
from toolkit.load.issues.normalize import name_list, tracker_frame


def records(items: list[dict], path: str) -> pd.DataFrame:
    rows = []
    for i, it in enumerate(items):
        iid = it.get("iid") if isinstance(it, dict) else None
        if not isinstance(iid, int) or isinstance(iid, bool):
            raise InputError(path, "GitLab issue without an integer 'iid'", record=i,
                             hint="expected the JSON of GET /api/v4/projects/:id/issues")
        refs = it.get("references") if isinstance(it.get("references"), dict) else {}
        author = it.get("author")
        milestone = it.get("milestone")
        issue_type = it.get("issue_type") or it.get("type")
        is_mr = any(k in it for k in ("merge_commit_sha", "squash_commit_sha", "source_branch", "merged_at")) or \
            "/merge_requests/" in str(it.get("web_url") or "")
        state = str(it.get("state") or "").lower()
        rows.append({
            "key": refs.get("short") or f"{'!' if is_mr else '#'}{iid}",
            "is_pull_request": is_mr,
            "merged": (state == "merged") if is_mr and state else None,
            "merge_sha": (it.get("merge_commit_sha") or it.get("squash_commit_sha")) if is_mr and state == "merged"
            else None,
            "title": it.get("title"),
            "body": it.get("description"),
            "type": "incident" if str(issue_type).lower() == "incident" else None,
            "labels": name_list(it.get("labels"), "name"),
            "status": it.get("state"),
            "created": it.get("created_at"),
            "resolved": it.get("closed_at"),
            "updated": it.get("updated_at"),
            "reporter": author.get("username") if isinstance(author, dict) else None,
            "url": it.get("web_url"),
            "milestone": milestone.get("title") if isinstance(milestone, dict) else None,
        })
    return tracker_frame(rows, ["key", "title", "body", "type", "labels", "status", "created", "resolved", "updated",
                                "reporter", "url", "milestone", "is_pull_request", "merged", "merge_sha"],
                         tracker="gitlab", name="GitLab", path=path)
