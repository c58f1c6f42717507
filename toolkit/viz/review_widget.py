"""Walk an analyst through production bugs and record one category per bug.

Each decision is written to the labels file (:mod:`toolkit.load.labels`, atomic,
with a ``.bak``) the moment it is made, so closing the notebook or restarting
the kernel loses nothing; reopening resumes at the first undecided bug.

Active learning: the bugs come most uncertain first (:func:`uncertain_first`) — those the rules could not
decide (``unknown``, or no suggestion at all), then the lowest confidence (the rules' margin, or the
classifier's probability margin) — because a label there teaches the classifier and fixes the report most.

An anywidget module (``review_widget.js``/``.css``) rather than plain ipywidgets because the review is keyboard
driven (a/i/c/e/n, arrows; keys act only while the widget has the focus, elsewhere they are JupyterLab's), which
ipywidgets cannot listen for, and because the untrusted bug text must be rendered with ``textContent``.
The browser only shows state and sends decisions; this class saves them.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import pandas as pd
import traitlets

from toolkit.errors import InputError
from toolkit.load.labels import read_labels, save_label
from toolkit.vocab.categories import CATEGORIES, UNKNOWN
from toolkit.viz.graph_widget import json_safe

_HERE = Path(__file__).parent


def _shortcuts(categories: Sequence[str]) -> dict[str, str]:
    """One letter per category: its first free letter (``a`` is reserved for accept)."""
    used = {"a"}
    out: dict[str, str] = {}
    for cat in categories:
        for ch in cat.lower():
            if ch.isalpha() and ch not in used:
                used.add(ch)
                out[ch] = cat
                break
    return out


class BugReviewWidget(anywidget.AnyWidget):
    """Review production bugs one by one; every decision is saved to ``labels_path`` immediately.

    ``bugs``: rows with ``key`` and ``title`` (optionally ``body``, ``url``, the tracker's ``components``,
    ``environment``), e.g. the ``issues`` table filtered to bugs. ``suggestions``: ``key`` (or ``issue_key``),
    ``category`` and ``evidence`` per bug, other columns shown as they are (the ``bug_categories`` table fits).
    ``links`` (table ``links`` or a :class:`toolkit.load.links.Links` bundle) and ``issue_components`` give the
    fix commits and the components they touch. ``order``: ``"uncertain"`` (:func:`uncertain_first`, said in the
    header) or ``"given"``.
    """

    _esm = _HERE / "review_widget.js"
    _css = _HERE / "review_widget.css"

    categories = traitlets.List().tag(sync=True)
    shortcuts = traitlets.Dict().tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    reviewed = traitlets.Int(0).tag(sync=True)
    bug = traitlets.Dict().tag(sync=True)
    decision = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    labels_file = traitlets.Unicode("").tag(sync=True)
    order_note = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        bugs: pd.DataFrame,
        *,
        labels_path: str | os.PathLike,
        categories: Sequence[str] = CATEGORIES,
        suggestions: pd.DataFrame | None = None,
        links: Any = None,
        issue_components: pd.DataFrame | None = None,
        body_chars: int = 1500,
        reviewer: str | None = None,
        order: str = "uncertain",
        **kwargs: Any,
    ) -> None:
        missing = {"key", "title"} - set(bugs.columns)
        if missing:
            raise ValueError(f"bugs needs columns key and title; missing {sorted(missing)}")
        if bugs["key"].duplicated().any():
            dup = bugs.loc[bugs["key"].duplicated(), "key"].iloc[0]
            raise ValueError(f"bug keys must be unique; {dup!r} appears twice")
        if order not in ORDER_NOTES:
            raise ValueError(f"order must be one of {sorted(ORDER_NOTES)}, not {order!r}")
        self._suggest = _by_key(suggestions)
        bugs = bugs.reset_index(drop=True)
        self._bugs = uncertain_first(bugs, self._suggest) if order == "uncertain" else bugs
        self._keys = [str(k) for k in self._bugs["key"]]
        self._path = Path(labels_path)
        self._cats = tuple(categories)
        self._reviewer = reviewer
        self._body_chars = body_chars
        if links is not None and hasattr(links, "issue_components") and hasattr(links, "links"):
            # a toolkit.load.links.Links bundle: both tables at once
            issue_components = links.issue_components if issue_components is None else issue_components
            links = links.links
        self._links = _group(links, "issue_key")
        self._comps = _group(issue_components, "issue_key")
        labels = read_labels(self._path, categories=self._cats)  # InputError (naming the .bak) if corrupted
        self._decided: dict[str, dict] = {
            r["key"]: {"category": r["category"], "note": "" if pd.isna(r["note"]) else r["note"]}
            for r in labels.to_dict("records")
        }
        super().__init__(categories=list(self._cats), shortcuts=_shortcuts(self._cats), total=len(self._bugs),
                         labels_file=str(self._path), order_note=ORDER_NOTES[order], **kwargs)
        self.on_msg(self._on_msg)
        self._show(self.first_undecided())

    # -- Python API (the buttons call the same) --------------------------------
    @property
    def bug_keys(self) -> list[str]:
        return self._keys

    def first_undecided(self) -> int:
        """Index of the first bug without a decision (0 when all are decided)."""
        return next((i for i, k in enumerate(self.bug_keys) if k not in self._decided), 0)

    def labels(self) -> pd.DataFrame:
        """The labels file as it is on disk now (table ``labels``)."""
        return read_labels(self._path, categories=self._cats)

    def go(self, index: int) -> None:
        self._show(max(0, min(index, len(self._bugs) - 1)))

    def decide(self, category: str, note: str | None = None, *, advance: bool = True) -> None:
        """Record ``category`` for the current bug (saved at once) and move to the next undecided one."""
        if not len(self._bugs):
            return
        if category not in self._cats:
            self.error = f"unknown category {category!r}"
            return
        key = self.bug_keys[self.index]
        if note is None:
            note = self._decided.get(key, {}).get("note", "")
        try:
            save_label(self._path, key, category, note, reviewer=self._reviewer, categories=self._cats)
        except (InputError, OSError, ValueError) as exc:  # shown in the widget; the decision is not lost silently
            self.error = f"not saved: {exc}"
            return
        self._decided[key] = {"category": category, "note": note}
        self.error = ""
        self.status = f"saved {key} → {category} in {self._path.name}"
        n = len(self._bugs)
        later = ((self.index + d) % n for d in range(1, n))
        nxt = next((i for i in later if self.bug_keys[i] not in self._decided), min(self.index + 1, n - 1))
        self._show(nxt if advance else self.index)

    def set_note(self, note: str) -> None:
        """Change the current bug's note; saved at once when the bug is already decided."""
        if not len(self._bugs):
            return
        key = self.bug_keys[self.index]
        if key in self._decided and self._decided[key]["note"] != note:
            self.decide(self._decided[key]["category"], note, advance=False)

    def accept(self, note: str | None = None) -> None:
        """Record the suggested category for the current bug."""
        key = self.bug_keys[self.index] if len(self._bugs) else None
        sug = self._suggest.get(key, {}).get("category")
        if not sug:
            self.error = f"no suggestion for {key}; choose a category"
            return
        self.decide(str(sug), note)

    # -- state → view -------------------------------------------------------------
    def _show(self, i: int) -> None:
        self.reviewed = sum(1 for k in self.bug_keys if k in self._decided)
        if not len(self._bugs):
            self.bug, self.decision, self.index = {}, {}, 0
            return
        row = self._bugs.iloc[i]
        key = str(row["key"])
        body = "" if "body" not in row or pd.isna(row["body"]) else str(row["body"])
        excerpt = body[: self._body_chars] + (" …" if len(body) > self._body_chars else "")
        fixes = [{"sha": str(link.get("sha", ""))[:12], "evidence": link.get("evidence"),
                  "confidence": link.get("confidence")} for link in self._links.get(key, [])]
        touched = [{"component": c.get("component"), "files": c.get("files"), "churn": c.get("churn")}
                   for c in self._comps.get(key, [])]
        sug = {k: v for k, v in self._suggest.get(key, {}).items() if k not in _SHOWN_ELSEWHERE}
        evidence = sug.pop("evidence", None)
        if evidence is not None and not isinstance(evidence, (list, tuple)):
            evidence = [evidence] if not (isinstance(evidence, float) and pd.isna(evidence)) else []
        extra = {k: row[k] for k in ("url", "environment", "components", "status", "created") if k in row.index}
        self.bug = json_safe({
            "key": key, "title": "" if pd.isna(row["title"]) else str(row["title"]), "body": excerpt,
            "fixes": fixes, "touched": touched, "extra": extra,
            "suggestion": {"category": sug.pop("category", None), "evidence": list(evidence or []), "other": sug}
            if sug or evidence else None,
        })
        self.decision = dict(self._decided.get(key, {}))
        self.index = i

    def _on_msg(self, _widget: Any, content: dict, _buffers: Any) -> None:
        kind = content.get("type")
        note = content.get("note")
        if kind == "decide":
            self.decide(str(content.get("category")), note)
        elif kind == "accept":
            self.accept(note)
        elif kind == "note":
            self.set_note(str(note or ""))
        elif kind == "go":
            self.go(int(content.get("index", self.index)))
        elif kind == "next_undecided":
            self.go(self.first_undecided())
        else:
            self.error = f"unknown message {kind!r}"


#: what the header says about the order of the bugs
ORDER_NOTES = {
    "uncertain": "most uncertain first: bugs the rules could not decide (unknown), then the lowest confidence — "
                 "your label teaches the classifier most there",
    "given": "in the order given",
}


def uncertain_first(bugs: pd.DataFrame, suggestions: dict[str, dict]) -> pd.DataFrame:
    """``bugs`` reordered for active learning: no suggestion or category ``unknown`` first, then by ascending
    ``confidence`` (missing confidence counts as 0: nothing is known), ties in the given order.

    ``suggestions``: per key, the row of the suggestions table (``category``, optional ``confidence``).
    """
    def rank(key: object) -> tuple[int, float]:
        sug = suggestions.get(str(key))
        decided = 0 if not sug or pd.isna(sug.get("category")) or str(sug.get("category")) == UNKNOWN else 1
        conf = sug.get("confidence") if sug else None
        try:
            c = float(conf) if conf is not None and not pd.isna(conf) else 0.0
        except (TypeError, ValueError):  # a non-numeric confidence (e.g. a link's "explicit") says nothing here
            c = 0.0
        return decided, c

    ranks = [rank(k) for k in bugs["key"]]
    order = sorted(range(len(bugs)), key=lambda i: ranks[i])  # stable: ties keep the given order
    return bugs.iloc[order].reset_index(drop=True)


#: bug_categories columns the card already shows (or that add nothing to a decision)
_SHOWN_ELSEWHERE = frozenset({"title", "created", "environment", "components", "fix_commits",
                              "score_integration", "score_component", "score_environment", "score_not_a_bug"})


def _by_key(df: pd.DataFrame | None) -> dict[str, dict]:
    if df is None or df.empty:
        return {}
    col = "key" if "key" in df.columns else "issue_key"
    if col not in df.columns or "category" not in df.columns:
        raise ValueError("suggestions need a key (or issue_key) and a category column")
    return {str(r.pop(col)): r for r in df.to_dict("records")}


def _group(df: pd.DataFrame | None, col: str) -> dict[str, list[dict]]:
    if df is None or df.empty:
        return {}
    if col not in df.columns:
        raise ValueError(f"expected a {col} column, got {list(df.columns)}")
    out: dict[str, list[dict]] = {}
    for r in df.to_dict("records"):
        out.setdefault(str(r[col]), []).append(r)
    return out
