"""The renderer-neutral shape of an audit report.

Analyses produce ``Section`` objects (summary numbers, tables, figures, prose);
the HTML, Markdown and JSON writers render the same ``Report``. All text in a
``Report`` is *untrusted* (it may hold commit messages, test names, issue
titles): writers must escape it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Table:
    name: str  # file-safe id, also the CSV name
    df: pd.DataFrame
    caption: str = ""
    max_rows: int = 200  # rows shown in HTML/Markdown; CSV/JSON get all


@dataclass
class Figure:
    name: str
    png: bytes  # rendered by toolkit.viz; embedded as base64 in HTML
    caption: str = ""


@dataclass
class Section:
    id: str  # stable key, also the findings.json section name
    title: str
    summary: dict[str, Any] = field(default_factory=dict)  # headline numbers (JSON-serialisable)
    paragraphs: list[str] = field(default_factory=list)  # plain text, escaped on output
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    missing: str | None = None  # why this section could not be computed (input absent), else None


@dataclass
class Report:
    title: str
    sections: list[Section]
    provenance: dict[str, Any] = field(default_factory=dict)  # inputs read, skipped, versions, commit range
    schema_version: str = "1.0"
