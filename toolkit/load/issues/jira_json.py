"""Jira REST search results (``/rest/api/2|3/search``: ``{"issues": [{"key", "fields": {...}}]}``).

Reads ``summary``, ``description`` (plain text, or Atlassian Document Format in
API v3, flattened to its text), ``issuetype.name``, ``status.name``,
``resolution.name``, ``priority.name``, ``labels``, ``components[].name``,
``fixVersions[].name`` (first one as milestone), ``environment``, ``created``,
``resolutiondate``, ``updated``, ``reporter``.
"""
from __future__ import annotations

import pandas as pd

from toolkit.errors import InputError
from toolkit.load.issues.normalize import field_name, name_list, tracker_frame


def _text(v: object) -> str | None:
    """Plain text of a string or an Atlassian Document Format node."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        if v.get("type") == "text":
            return str(v.get("text", ""))
        parts = [_text(c) or "" for c in v.get("content") or []]
        sep = "\n" if v.get("type") in ("doc", "bulletList", "orderedList") else ""
        return sep.join(parts)
    if isinstance(v, list):
        return "\n".join(_text(c) or "" for c in v)
    return str(v)


_NAMED = ("name", "value", "displayName")  # the keys naming a Jira field value


def _name(v: object) -> str | None:
    return field_name(v, *_NAMED)


def records(items: list[dict], path: str) -> pd.DataFrame:
    rows = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("key"), str) or not isinstance(it.get("fields"), dict):
            raise InputError(path, "Jira issue without 'key' and 'fields'", record=i,
                             hint="expected the JSON of GET /rest/api/2/search")
        f = it["fields"]
        reporter = f.get("reporter")
        versions = name_list(f.get("fixVersions"), *_NAMED)
        rows.append({
            "key": it["key"],
            "title": _text(f.get("summary")),
            "body": _text(f.get("description")),
            "type": _name(f.get("issuetype")),
            "labels": name_list(f.get("labels"), "name"),
            "components": name_list(f.get("components"), *_NAMED),
            "status": _name(f.get("status")),
            "resolution": _name(f.get("resolution")),
            "priority": _name(f.get("priority")),
            "environment": _text(f.get("environment")),
            "created": f.get("created"),
            "resolved": f.get("resolutiondate"),
            "updated": f.get("updated"),
            "reporter": (reporter.get("name") or reporter.get("displayName") or reporter.get("accountId"))
            if isinstance(reporter, dict) else reporter,
            "url": it.get("self"),
            "milestone": versions[0] if versions else None,
        })
    return tracker_frame(rows, ["key", "title", "body", "type", "labels", "components", "status", "resolution",
                                "priority", "environment", "created", "resolved", "updated", "reporter", "url",
                                "milestone"], tracker="jira", name="Jira", path=path)
