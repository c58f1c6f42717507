"""Issue-tracker exports -> one ``issues`` table (see ``toolkit.vocab.schema``).

Formats (detected from content, not the file extension):

``github``      GitHub REST ``/repos/{o}/{r}/issues`` (a JSON list; pages concatenated
                as ``][`` or NDJSON; one file per page), a single issue object, or
                ``gh issue list --json number,title,...`` (camelCase)
``jira_json``   Jira REST ``/search`` results ``{"issues": [{"key", "fields"}]}``
``jira_csv``    Jira "Export CSV (all/current fields)", any UI language, UTF-8/cp1252
``gitlab``      GitLab ``/projects/:id/issues`` pages or one issue object
``generic_csv`` any CSV, with ``mapping={"key": "ID", "title": "Subject", ...}``

Not issue lists, and refused with an :class:`InputError` saying what they are
when named directly (reported as a :class:`Skip` when found in a directory that
is loaded as a whole): GitHub/GitLab/Jira comment and note lists, the Jira
``/field`` list, the retired GitHub API v2 ``{"issues": [...]}`` shape, JUnit or
other XML, binary files. An empty page (``[]``, ``{"issues": []}``) is valid and
adds no rows.

Rows are normalised by :mod:`toolkit.load.issues.normalize` (type, environment,
reporter pseudonyms) and duplicate keys across pages are dropped, keeping the
copy updated last, each reported as a Skip.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from toolkit.vocab import schema
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.issues import generic_csv, github, gitlab, jira_csv, jira_json
from toolkit.load.issues.normalize import conform, deduplicate, finish
from toolkit.load.limits import LimitExceeded, check_input_file, json_decode_at

FORMATS = ("github", "jira_json", "jira_csv", "gitlab", "generic_csv")
_EXPORT_HINT = "expected a GitHub/Jira/GitLab issue export or a CSV with mapping="

__all__ = ["FORMATS", "detect_format", "load_issues"]


def _json_values(text: str, path: str) -> list[object]:
    """All top-level JSON values of ``text``: one document, pages glued as ``][``, or NDJSON."""
    dec = json.JSONDecoder()
    values, pos, n = [], 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            return values
        try:
            value, pos = json_decode_at(dec, text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON: {exc.msg}", line=exc.lineno,
                             hint="the file may be truncated; re-download the export") from None
        except LimitExceeded as exc:
            raise InputError(path, exc.reason) from None
        values.append(value)


def _classify_json(values: list[object], path: str) -> tuple[str, list[dict]]:
    """(format, issue dicts) for parsed JSON, or InputError naming what the file is instead."""
    items: list[object] = []
    fmt: str | None = None
    for v in values:
        if isinstance(v, list):
            items.extend(v)
        elif isinstance(v, dict):
            if isinstance(v.get("issues"), list):
                issues = v["issues"]
                if issues and isinstance(issues[0], dict) and "fields" not in issues[0] and (
                        "votes" in issues[0] or isinstance(issues[0].get("user"), str) or "number" in issues[0]):
                    raise InputError(path, "GitHub API v2 issues ({'issues': [...]}, retired in 2012)",
                                     hint="export with the REST API v3 (GET /repos/{owner}/{repo}/issues) or gh issue list --json")
                if issues and not all(isinstance(i, dict) and "fields" in i and "key" in i for i in issues):
                    raise InputError(path, "an 'issues' list whose items have no Jira 'key'/'fields'", hint=_EXPORT_HINT)
                fmt = fmt or "jira_json"
                items.extend(issues)
            elif isinstance(v.get("comments"), list):
                raise InputError(path, "a Jira comments page (/issue/{key}/comment), not an issue list", hint=_EXPORT_HINT)
            elif "iid" in v or "number" in v or "key" in v:
                items.append(v)
            else:
                raise InputError(path, f"a JSON object with keys {sorted(v)[:8]}, not an issue list", hint=_EXPORT_HINT)
        else:
            raise InputError(path, f"a JSON {type(v).__name__}, not an issue list", hint=_EXPORT_HINT)
    if not items:
        return fmt or "empty", []
    first = items[0]
    if not isinstance(first, dict):
        raise InputError(path, f"a JSON list of {type(first).__name__}, not of issues", record=0, hint=_EXPORT_HINT)
    if fmt == "jira_json" or ("fields" in first and "key" in first):
        return "jira_json", items
    if "noteable_type" in first or "noteable_id" in first:
        raise InputError(path, "GitLab notes (/issues/:iid/notes), not an issue list", hint=_EXPORT_HINT)
    if "clauseNames" in first or ("custom" in first and "schema" in first):
        raise InputError(path, "the Jira field list (/rest/api/2/field), not an issue list", hint=_EXPORT_HINT)
    if "issue_url" in first and "number" not in first:
        raise InputError(path, "GitHub issue comments (/issues/{n}/comments), not an issue list", hint=_EXPORT_HINT)
    if "iid" in first:
        return "gitlab", items
    if "number" in first and any(k in first for k in ("title", "state", "html_url", "created_at", "createdAt", "url")):
        return "github", items
    raise InputError(path, f"JSON items with keys {sorted(map(str, first))[:8]} match no known tracker",
                     record=0, hint=_EXPORT_HINT)


def detect_format(raw: bytes, path: str = "<input>") -> str:
    """Name the export format of ``raw`` (one of :data:`FORMATS`, or ``empty``) or raise InputError saying what it is."""
    head = raw[:8192]
    if re.match(rb"\s*\Z", raw):
        raise InputError(path, "empty file", hint=_EXPORT_HINT)
    if b"\x00" in head:
        raise InputError(path, "binary file (NUL bytes)", hint=_EXPORT_HINT)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        if "<testsuite" in text or "<testcase" in text:
            raise InputError(path, "not a GitHub/Jira/GitLab export: found a JUnit XML file", hint=_EXPORT_HINT)
        raise InputError(path, "not a GitHub/Jira/GitLab export: found an XML/HTML file", hint=_EXPORT_HINT)
    if text[:1] in "[{":
        fmt, _ = _classify_json(_json_values(jira_csv.decode(raw, path)[0], path), path)
        return fmt
    names = {n.strip().lower() for n in jira_csv.header(raw[: 1 << 20].decode("utf-8-sig", errors="replace"))}
    if names & jira_csv.MARKERS:
        return "jira_csv"
    if len(names) > 1:
        return "generic_csv"
    raise InputError(path, "neither JSON nor a CSV with a header row", hint=_EXPORT_HINT)


def _expand(paths: str | os.PathLike | list) -> list[tuple[Path, bool]]:
    """(file, named_directly) for every input; directories contribute their files, sorted."""
    items = paths if isinstance(paths, (list, tuple)) else [paths]
    out: list[tuple[Path, bool]] = []
    for p in items:
        p = Path(p)
        if p.is_dir():
            out.extend((f, False) for f in sorted(p.rglob("*")) if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            out.append((p, True))
        elif p.exists():  # a device or FIFO: reading it would block or never end
            check_input_file(p, flag="issues", sized=False)
        else:
            raise InputError(p, "no such file or directory", flag="issues")
    return out


_HEAD = 1 << 20  # bytes read to detect the format; a larger Jira CSV is not read into memory whole


def _load_one(path: Path, fmt: str | None, mapping: dict[str, str] | None) -> tuple[pd.DataFrame | None, str | None]:
    p = os.fspath(path)
    def read(size: int = -1) -> tuple[bytes, bool]:
        try:
            with path.open("rb") as fh:
                return fh.read(size), size < 0 or not fh.read(1)
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror}") from None

    raw, whole = read(_HEAD)
    # JSON is classified by parsing it, so a JSON export larger than the head is read whole first
    if not whole and (not raw.strip() or raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")):
        raw, whole = read()
    detected = detect_format(raw, p)
    if not whole and (fmt or detected) != "jira_csv":
        raw, whole = read()  # generic CSVs are parsed from memory; a large Jira CSV is read by pandas from the file
    if fmt is None and detected == "generic_csv" and mapping is None:
        raise InputError(p, "a CSV that is not a Jira export (no issue key column)",
                         hint='pass mapping={"key": "<id column>", "title": ..., ...} to read it as a generic CSV')
    if fmt is None:
        fmt = "generic_csv" if mapping is not None and detected in ("jira_csv", "generic_csv") else detected
    elif fmt not in FORMATS:
        raise InputError(p, f"unknown format {fmt!r}", hint=f"one of {', '.join(FORMATS)}", flag="format")
    elif detected != "empty" and detected != fmt and not (fmt == "generic_csv" and detected == "jira_csv"):
        raise InputError(p, f"format={fmt!r} but the content is {detected}", flag="format")
    if detected == "empty":
        return None, None
    if fmt in ("github", "gitlab", "jira_json"):
        _, items = _classify_json(_json_values(jira_csv.decode(raw, p)[0], p), p)
        return {"github": github, "gitlab": gitlab, "jira_json": jira_json}[fmt].records(items, p), None
    if fmt == "jira_csv":
        return jira_csv.records(raw if whole else path, p)
    if mapping is None:
        raise InputError(p, "format='generic_csv' needs mapping=", flag="mapping")
    return generic_csv.records(raw, p, mapping)


def load_issues(
    paths: str | os.PathLike | list,
    *,
    format: str | None = None,
    mapping: dict[str, str] | None = None,
    pseudonymize: bool | str = False,
    skips: list[Skip] | None = None,
) -> pd.DataFrame:
    """Load issue exports (files, directories, or a list of them) into the ``issues`` table.

    ``format`` forces one of :data:`FORMATS` (default: detected per file).
    ``mapping`` reads CSVs as generic (canonical field -> CSV header).
    ``pseudonymize`` replaces reporters by ``user-xxxxxx`` (a str is the salt).
    Files in a directory that are not issue exports are reported to ``skips``;
    a file named directly that is not one raises :class:`InputError`.
    ``df.attrs["encodings"]`` maps each CSV to the encoding it was read with.
    """
    frames, encodings = [], {}
    for path, named in _expand(paths):
        try:
            raw, enc = _load_one(path, format, mapping)
        except InputError as exc:
            if named:
                raise
            report_skip(skips, path, f"not loaded: {exc.what}")
            continue
        if enc:
            encodings[os.fspath(path)] = enc
        if raw is not None and len(raw):
            frames.append(finish(raw, pseudonymize=pseudonymize))
    if not frames:
        out = schema.empty("issues")
    else:
        out = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        out = conform(deduplicate(out, skips))
    out.attrs["encodings"] = encodings
    return out
