"""The renderer-neutral shape of an audit report, which the HTML, Markdown and JSON writers all render.

All text in a ``Report`` is *untrusted* (commit messages, test names, issue titles): writers must escape it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.runtime.atomic import file_stem, unique_name


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
    not_measured: dict[str, str] = field(default_factory=dict)  # summary key left None -> why, and the fix

    def table(self, name: str) -> pd.DataFrame | None:
        """The first table called ``name``, or None."""
        return next((t.df for t in self.tables if t.name == name), None)


@dataclass
class Report:
    title: str
    sections: list[Section]
    provenance: dict[str, Any] = field(default_factory=dict)  # inputs read, skipped, versions, commit range
    schema_version: str = "1.0"
    generated: str | None = None  # ISO-8601 time of the audit; writers use "now" (UTC) when None
    #: the audit's results as data (toolkit.core.audit_result.Audit): metrics by id, top seams, gates; what
    #: findings.json serialises beside the sections (schema 2.0). None for a report not made by an audit.
    audit: Any = None

    def section(self, sid: str) -> Section | None:
        """The first section with id ``sid``, or None."""
        return next((s for s in self.sections if s.id == sid), None)

    def table(self, sid: str, name: str) -> pd.DataFrame | None:
        """Table ``name`` of section ``sid``, or None."""
        sec = self.section(sid)
        return sec.table(name) if sec is not None else None


def summary_shown(section: Section) -> dict[str, Any]:
    """The summary a writer lists: the top seams' prose (``top_risky_seams``) is left out of a section that has
    tables (the executive summary's ``top_seams``, the ranking), which show the same seams as rows."""
    if not section.tables:
        return dict(section.summary)
    return {k: v for k, v in section.summary.items() if k != "top_risky_seams"}


def reading_order(report: Report) -> list[int]:
    """Section indexes in the order readers meet them: the executive summary, what changed since the previous
    audit (``compare``), then the rest as the report lists them."""
    ids = [s.id for s in report.sections]
    first = [ids.index(i) for i in ("summary", "compare") if i in ids]
    return first + [i for i in range(len(ids)) if i not in first]


def output_names(report: Report) -> dict[tuple[str, int, int], str]:
    """Relative output paths shared by all writers: ``("table", section i, table i)`` ->
    ``tables/<section>__<table>.csv``, ``("figure", section i, figure i)`` -> ``figures/<name>.png``; from
    untrusted ids, so sanitised with :func:`file_stem` and de-duplicated (``_2``, ``_3``...)."""
    names: dict[tuple[str, int, int], str] = {}
    used: set[str] = set()

    def unique(folder: str, stem: str, ext: str) -> str:
        return f"{folder}/{unique_name(stem, used, lambda s: f'{folder}/{s}{ext}')}{ext}"

    for si, section in enumerate(report.sections):
        sec = file_stem(section.id, f"section{si + 1}")
        for ti, table in enumerate(section.tables):
            names[("table", si, ti)] = unique("tables", f"{sec}__{file_stem(table.name, f'table{ti + 1}')}", ".csv")
        for fi, fig in enumerate(section.figures):
            names[("figure", si, fi)] = unique("figures", file_stem(fig.name, f"{sec}_figure{fi + 1}"), ".png")
    return names
