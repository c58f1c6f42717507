"""Any CSV of issues, with a column mapping ``{canonical field: CSV header}``.

Canonical fields: ``key`` (required), ``title``, ``body``, ``type``, ``labels``,
``components``, ``status``, ``resolution``, ``priority``, ``created``,
``resolved``, ``updated``, ``environment``, ``reporter``, ``url``. ``labels`` and
``components`` cells are split on ``;`` and ``,``; a header repeated in the file
contributes all its columns. Numeric keys become ``#<n>``.
"""
from __future__ import annotations

import pandas as pd

from toolkit.errors import InputError
from toolkit.load.issues.jira_csv import list_column, read_columns, text_column
from toolkit.load.issues.normalize import parse_dates

FIELDS = ("key", "title", "body", "type", "labels", "components", "status", "resolution", "priority", "created",
          "resolved", "updated", "environment", "reporter", "url", "milestone")


def records(raw: bytes, path: str, mapping: dict[str, str]) -> tuple[pd.DataFrame, str]:
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise InputError(path, f"mapping names unknown fields {unknown}", hint=f"fields are {', '.join(FIELDS)}",
                         flag="mapping")
    if "key" not in mapping:
        raise InputError(path, "mapping has no 'key' column", hint='e.g. mapping={"key": "ID", "title": "Subject"}',
                         flag="mapping")
    def pick(names: list[str]) -> dict[str, list[int]]:
        lower = [n.lower() for n in names]
        out = {}
        for field, head in mapping.items():
            out[field] = [i for i, n in enumerate(lower) if n == str(head).strip().lower()]
            if not out[field]:
                raise InputError(path, f"mapping {field!r} -> {head!r}: no such column",
                                 hint=f"columns are {', '.join(n for n in names if n)[:300]}", flag="mapping")
        return out

    chosen: dict[str, list[int]] = {}

    def wanted(names: list[str]) -> list[int]:
        chosen.update(pick(names))
        return [i for idx in chosen.values() for i in idx]

    names, frame, encoding = read_columns(raw, path, wanted)
    n = len(frame)
    data = {f: list_column(frame, idx, n, split=";") if f in ("labels", "components") else text_column(frame, idx, n)
            for f, idx in chosen.items()}
    df = pd.DataFrame(data, index=range(n))
    df = df[df["key"].notna()].reset_index(drop=True)
    df["key"] = df["key"].where(~df["key"].str.fullmatch(r"\d+"), "#" + df["key"])
    for field in ("created", "resolved", "updated"):
        if field in df.columns:
            df[field] = parse_dates(df[field], column=mapping[field], path=path)
    df["tracker"] = "generic"
    df["source"] = path
    return df, encoding
