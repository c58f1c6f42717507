"""Optional learned bug categorization, judged against the rules on the same analyst labels.

The model: TF-IDF of the bug's text (title, body and fix messages) plus the
rule features of :mod:`toolkit.analyze.bug_categorization` (their weighted
contributions), into a multinomial logistic regression trained on the analyst
labels. :func:`evaluate_classifier` cross-validates it and puts the rules'
precision/recall/F1 on the very same labelled bugs beside it, so a team sees
whether the model is worth using before trusting it. :func:`apply_classifier`
then fills the categories of unlabelled bugs (``source = "model"``); labels still win.

Needs scikit-learn (``pip install seamscope[ml]``), imported only when used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.analyze.bug_categorization import CATEGORIES, FEATURES, UNKNOWN, BugCategories, _summary

__all__ = ["BugClassifier", "NotEnoughLabels", "train_classifier", "evaluate_classifier", "apply_classifier"]


class NotEnoughLabels(ValueError):
    """Too few analyst labels to train or cross-validate."""


def _sklearn():
    try:
        import sklearn  # noqa: F401
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import precision_recall_fscore_support
        from sklearn.model_selection import StratifiedKFold
    except ImportError as exc:
        raise ImportError("the bug classifier needs scikit-learn: pip install seamscope[ml]") from exc
    return sparse, TfidfVectorizer, LogisticRegression, precision_recall_fscore_support, StratifiedKFold


@dataclass
class BugClassifier:
    """A fitted text + rule-feature model; ``classes`` in model order."""

    vectorizer: Any
    model: Any
    feature_names: list[str]
    classes: list[str]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.model.predict(_matrix(self.vectorizer, features, self.feature_names, fit=False))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(_matrix(self.vectorizer, features, self.feature_names, fit=False))


def _features(data: BugCategories | pd.DataFrame) -> pd.DataFrame:
    table = data.features if isinstance(data, BugCategories) else data
    if "key" not in table or "text" not in table:
        raise ValueError("features need 'key' and 'text' columns (BugCategories.features)")
    return table


def _matrix(vectorizer: Any, features: pd.DataFrame, names: list[str], *, fit: bool):
    sparse = _sklearn()[0]
    text = features["text"].astype(str).tolist()
    tf = vectorizer.fit_transform(text) if fit else vectorizer.transform(text)
    num = features.reindex(columns=names, fill_value=0.0).to_numpy(dtype=float)
    return sparse.hstack([tf, sparse.csr_matrix(num)]).tocsr()


def _labelled(features: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    decided = dict(zip(labels["key"].astype(str), labels["category"].astype(str)))
    mask = features["key"].astype(str).isin(decided).to_numpy()
    sub = features[mask].reset_index(drop=True)
    y = np.array([decided[k] for k in sub["key"].astype(str)], dtype=object)
    return sub, y


def _new(random_state: int):
    _sparse, Tfidf, LogReg, _prf, _skf = _sklearn()
    vec = Tfidf(lowercase=True, ngram_range=(1, 2), min_df=1, sublinear_tf=True, max_features=20000)
    model = LogReg(max_iter=2000, class_weight="balanced", random_state=random_state)
    return vec, model


def train_classifier(data: BugCategories | pd.DataFrame, labels: pd.DataFrame, *,
                     random_state: int = 0) -> BugClassifier:
    """Fit on the labelled bugs of ``data`` (``BugCategories`` or its ``features``); labels: schema ``labels``."""
    features = _features(data)
    sub, y = _labelled(features, labels)
    classes = sorted(set(y))
    if len(classes) < 2:
        raise NotEnoughLabels(f"the classifier needs labelled bugs of at least 2 categories; "
                              f"{len(y)} labelled bug(s) cover {classes or 'none'}. Label more bugs in the review widget.")
    names = [f for f in FEATURES if f in features.columns]
    vec, model = _new(random_state)
    model.fit(_matrix(vec, sub, names, fit=True), y)
    return BugClassifier(vec, model, names, list(model.classes_))


def evaluate_classifier(data: BugCategories | pd.DataFrame, labels: pd.DataFrame, *, cv: int = 5,
                        rules: pd.Series | pd.DataFrame | None = None, random_state: int = 0) -> pd.DataFrame:
    """Cross-validated precision/recall/F1 per category, beside the rules' on the same labels.

    ``data``: :class:`BugCategories` (its ``rules_category`` is the rules' answer)
    or its ``features`` table with ``rules`` given (the bugs table or a Series
    key-aligned with the features). Folds are stratified and seeded by
    ``random_state``. Categories with fewer than 2 labels cannot be
    cross-validated and are left out (``attrs["notes"]`` says so); with fewer
    than 2 categories left, or fewer labels than folds, :class:`NotEnoughLabels`
    is raised with counts. ``cv`` shrinks to the smallest category's count
    (at least 2), noted in ``attrs``. Returns schema ``classifier_evaluation``
    (one row per category, then ``macro avg``).
    """
    _sparse, _t, _l, prf, SKF = _sklearn()
    features = _features(data)
    if isinstance(data, BugCategories):
        rules_of = dict(zip(data.bugs["key"].astype(str), data.bugs["rules_category"].astype(str)))
    elif isinstance(rules, pd.DataFrame):
        rules_of = dict(zip(rules["key"].astype(str), rules["rules_category"].astype(str)))
    elif isinstance(rules, pd.Series):
        rules_of = dict(zip(features["key"].astype(str), rules.astype(str)))
    else:
        raise ValueError("evaluate_classifier needs the rules' categories: pass BugCategories or rules=")
    sub, y = _labelled(features, labels)
    counts = pd.Series(y, dtype=object).value_counts()
    notes = []
    few = sorted(counts[counts < 2].index)
    if few:
        notes.append(f"left out (fewer than 2 labels): {', '.join(few)}")
        keep = ~pd.Series(y).isin(few).to_numpy()
        sub, y = sub[keep].reset_index(drop=True), y[keep]
        counts = counts[counts >= 2]
    if len(counts) < 2 or len(y) < 2:
        raise NotEnoughLabels(
            f"cannot cross-validate: {len(y)} usable labelled bug(s) in {len(counts)} categor(ies) "
            f"({', '.join(f'{c}: {n}' for c, n in counts.items()) or 'none'}); at least 2 labels in each of "
            f"2 categories are needed ({cv}+ per category for cv={cv}). Label more bugs in the review widget.")
    folds = min(cv, int(counts.min()))
    if folds < cv:
        notes.append(f"cv reduced from {cv} to {folds} folds: the smallest category has {int(counts.min())} labels")
    if len(y) < folds:
        raise NotEnoughLabels(f"{len(y)} labelled bugs cannot fill {folds} folds")

    names = [f for f in FEATURES if f in features.columns]
    pred = np.empty(len(y), dtype=object)
    for train, test in SKF(n_splits=folds, shuffle=True, random_state=random_state).split(np.zeros(len(y)), y):
        vec, model = _new(random_state)
        model.fit(_matrix(vec, sub.iloc[train], names, fit=True), y[train])
        pred[test] = model.predict(_matrix(vec, sub.iloc[test], names, fit=False))
    rule_pred = np.array([rules_of.get(k, UNKNOWN) for k in sub["key"].astype(str)], dtype=object)

    classes = [c for c in CATEGORIES if c in set(y)] + sorted(set(y) - set(CATEGORIES))
    mp, mr, mf, support = prf(y, pred, labels=classes, zero_division=0)
    rp, rr, rf, _ = prf(y, rule_pred, labels=classes, zero_division=0)
    out = pd.DataFrame({"category": classes, "support": support.astype("int64"),
                        "model_precision": mp, "model_recall": mr, "model_f1": mf,
                        "rules_precision": rp, "rules_recall": rr, "rules_f1": rf})
    macro = {"category": "macro avg", "support": int(support.sum()),
             **{c: float(out[c].mean()) for c in out.columns if c not in ("category", "support")}}
    out = pd.concat([out, pd.DataFrame([macro])], ignore_index=True)
    out = schema.conform(out, "classifier_evaluation")
    out.attrs["notes"] = notes
    out.attrs["cv"] = folds
    return out


def apply_classifier(categories: BugCategories, model: BugClassifier) -> BugCategories:
    """Replace the rules' category of unlabelled bugs by the model's (``source = "model"``).

    ``confidence`` becomes the model's probability margin (best − second). Analyst
    labels stay as they are. Returns a new :class:`BugCategories`.
    """
    bugs = categories.bugs.copy()
    feats = categories.features.set_index(categories.features["key"].astype(str)).reindex(bugs["key"].astype(str))
    feats = feats.reset_index(drop=True).assign(key=bugs["key"].astype(str).to_numpy())
    feats["text"] = feats["text"].fillna("")
    unl = (bugs["source"] != "label").to_numpy()
    if unl.any():
        proba = model.predict_proba(feats[unl])
        srt = np.sort(proba, axis=1)
        margin = srt[:, -1] - (srt[:, -2] if proba.shape[1] > 1 else 0)
        bugs.loc[unl, "category"] = np.array(model.classes, dtype=object)[proba.argmax(axis=1)]
        bugs.loc[unl, "confidence"] = margin
        bugs.loc[unl, "source"] = "model"
        bugs.loc[unl, "undecided"] = pd.NA
    bugs = schema.conform(bugs, "bug_categories")
    from toolkit.analyze.bug_categorization import _by_pair, _by_quarter
    return replace(categories, bugs=bugs, by_pair=_by_pair(bugs), by_quarter=_by_quarter(bugs),
                   summary=_summary(bugs, int((bugs["source"] == "label").sum())))
