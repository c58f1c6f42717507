"""Optional learned bug categorization, judged against the rules on the same analyst labels.

The model: TF-IDF of the bug's text (title, body and fix messages) plus the
rule features of :mod:`toolkit.analyze.bug_categorization` (their weighted
contributions), into a multinomial logistic regression trained on the analyst
labels. :func:`evaluate_classifier` cross-validates it and puts the rules'
precision/recall/F1 on the very same labelled bugs beside it, so a team sees
whether the model is worth using before trusting it. :func:`apply_classifier`
then fills the categories of unlabelled bugs (``decided_by = "classifier"``); labels still win.
:func:`learn_from_labels` is what an audit does with the labels file: with :data:`MIN_LABELS` labels it
cross-validates, compares, and lets the better of the two decide the bugs the rules leave unknown.

Needs scikit-learn (``pip install seamscope[ml]``), imported only when used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.analyze.bug_categorization import FEATURES, BugCategories, _summary
from toolkit.vocab.categories import CATEGORIES, UNKNOWN

__all__ = ["BugClassifier", "NotEnoughLabels", "train_classifier", "evaluate_classifier", "apply_classifier",
           "Learning", "learn_from_labels", "MIN_LABELS"]


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


def _one_thread():
    """BLAS/OpenMP limited to one thread while fitting: the matrices are small (a few thousand labels), and on a
    busy machine the threads' spinning made a 5-fold cross-validation of 1k labels 25x slower (2.2 s vs 0.09 s
    per fit measured on 2 shared cores). threadpoolctl comes with scikit-learn."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(1)


@dataclass
class BugClassifier:
    """A fitted text + rule-feature model; ``classes`` in model order."""

    vectorizer: Any
    model: Any
    feature_names: list[str]
    classes: list[str]

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        with _one_thread():
            return self.model.predict(_matrix(self.vectorizer, features, self.feature_names, fit=False))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        with _one_thread():
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
    with _one_thread():
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
    with _one_thread():
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


def apply_classifier(categories: BugCategories, model: BugClassifier, *, undecided_only: bool = False) -> BugCategories:
    """Replace the rules' category of unlabelled bugs by the model's (``decided_by = "classifier"``).

    ``undecided_only``: only the bugs the rules leave ``unknown`` (what :func:`learn_from_labels` does; a rules'
    decision stands). ``confidence`` becomes the model's probability margin (best − second). Analyst labels stay
    as they are. Returns a new :class:`BugCategories`.
    """
    bugs = categories.bugs.copy()
    feats = categories.features.set_index(categories.features["key"].astype(str)).reindex(bugs["key"].astype(str))
    feats = feats.reset_index(drop=True).assign(key=bugs["key"].astype(str).to_numpy())
    feats["text"] = feats["text"].fillna("")
    unl = (bugs["decided_by"] != "label").to_numpy()
    if undecided_only:
        unl &= (bugs["category"] == UNKNOWN).to_numpy()
    if unl.any():
        proba = model.predict_proba(feats[unl])
        srt = np.sort(proba, axis=1)
        margin = srt[:, -1] - (srt[:, -2] if proba.shape[1] > 1 else 0)
        bugs.loc[unl, "category"] = np.array(model.classes, dtype=object)[proba.argmax(axis=1)]
        bugs.loc[unl, "confidence"] = margin
        bugs.loc[unl, "decided_by"] = "classifier"
        bugs.loc[unl, "undecided"] = pd.NA
    bugs = schema.conform(bugs, "bug_categories")
    from toolkit.analyze.bug_categorization import _by_pair, _by_quarter
    return replace(categories, bugs=bugs, by_pair=_by_pair(bugs), by_quarter=_by_quarter(bugs),
                   summary=_summary(bugs, int((bugs["decided_by"] == "label").sum())))


# ---- learning from the analyst: what an audit does with the labels file ----------------------------------------
#: Analyst labels (of this audit's bugs) before the audit trains and judges the classifier: fewer make a
#: cross-validated F1 too noisy to choose between the classifier and the rules.
MIN_LABELS = 20
#: Both must be among the labels (at least 2 each, so every cross-validation fold can hold them).
LEARN_CLASSES: tuple[str, ...] = ("integration", "component")


@dataclass(frozen=True)
class Learning:
    """What the analyst labels taught one audit (:func:`learn_from_labels`).

    ``labelled``: labels naming a bug of this audit. ``needed``: how many more labels are needed before the
    classifier is trained (0 when enough; ``missing`` names a class with fewer than 2 labels). ``evaluation``:
    schema ``classifier_evaluation`` (cross-validated classifier beside the rules on the same labels), None when
    not trained. ``rules_macro_f1``/``classifier_macro_f1``: its macro avg row (None: not measured).
    ``chosen``: ``classifier`` when it scored the higher macro-F1 and decided the rules' unknown bugs, else
    ``rules`` (those bugs stay unknown). ``decided``: bugs the classifier decided. ``note``: one sentence saying
    which and why, or what is missing.
    """

    labelled: int
    needed: int
    missing: tuple[str, ...] = ()
    evaluation: pd.DataFrame | None = None
    rules_macro_f1: float | None = None
    classifier_macro_f1: float | None = None
    chosen: str = "rules"
    decided: int = 0
    note: str = ""


def _needs(n: int, counts: dict[str, int], min_labels: int) -> tuple[int, tuple[str, ...]]:
    missing = tuple(c for c in LEARN_CLASSES if counts.get(c, 0) < 2)
    short = sum(2 - counts.get(c, 0) for c in missing)
    return max(min_labels - n, short, 0), missing


def learn_from_labels(categories: BugCategories, labels: pd.DataFrame | None, *, min_labels: int = MIN_LABELS,
                      cv: int = 5, random_state: int = 0) -> BugCategories:
    """Train the classifier on the analyst labels when there are enough, judge it beside the rules on the same
    labels (cross-validated), and let the better one (macro-F1) decide the bugs the rules leave ``unknown``.

    ``labels``: schema ``labels``; only labels naming a bug of ``categories`` count. Labels always win (they are
    already in ``categories``); a rules' decision is never replaced. Below ``min_labels`` labels, or with fewer
    than 2 of a class of :data:`LEARN_CLASSES`, nothing is trained and ``learning.needed`` says how many more
    labels are needed. Without scikit-learn the rules stay and the note says so. Returns a new
    :class:`BugCategories` whose ``learning`` is a :class:`Learning`.
    """
    keys = set(categories.bugs["key"].astype(str))
    lab = labels[labels["key"].astype(str).isin(keys)] if labels is not None and len(labels) else None
    n = 0 if lab is None else len(lab)
    counts = {} if lab is None else lab["category"].astype(str).value_counts().to_dict()
    needed, missing = _needs(n, counts, min_labels)
    if needed:
        what = f" (with at least 2 {' and 2 '.join(missing)})" if missing else ""
        note = (f"The classifier is trained once {min_labels} bugs are labelled{what}: {n} labelled, "
                f"{needed} more needed.")
        return replace(categories, learning=Learning(n, needed, missing, note=note))
    try:
        _sklearn()
    except ImportError as exc:
        return replace(categories, learning=Learning(n, 0, note=f"{n} labelled bugs, but {exc}; the rules decide."))
    try:
        ev = evaluate_classifier(categories, lab, cv=cv, random_state=random_state)
    except NotEnoughLabels as exc:  # e.g. too few labels of a class to fill the folds
        return replace(categories, learning=Learning(n, 0, note=f"{exc}; the rules decide."))
    macro = ev[ev["category"] == "macro avg"].iloc[0]
    model_f1, rules_f1 = float(macro["model_f1"]), float(macro["rules_f1"])
    folds = ev.attrs.get("cv", cv)
    scores = f"macro-F1 {model_f1:.2f} (classifier, {folds}-fold cross-validated) vs {rules_f1:.2f} (rules)"
    if model_f1 <= rules_f1:
        left = int(((categories.bugs["category"] == UNKNOWN) & (categories.bugs["decided_by"] != "label")).sum())
        return replace(categories, learning=Learning(
            n, 0, evaluation=ev, rules_macro_f1=rules_f1, classifier_macro_f1=model_f1, chosen="rules",
            note=f"On the {n} labelled bugs the rules are at least as good: {scores}; "
                 + (f"the {left} bug(s) the rules leave unknown stay unknown." if left
                    else "the rules leave no unlabelled bug unknown.")))
    model = train_classifier(categories, lab, random_state=random_state)
    out = apply_classifier(categories, model, undecided_only=True)
    decided = int((out.bugs["decided_by"] == "classifier").sum())
    return replace(out, learning=Learning(
        n, 0, evaluation=ev, rules_macro_f1=rules_f1, classifier_macro_f1=model_f1, chosen="classifier",
        decided=decided,
        note=f"On the {n} labelled bugs the classifier is better: {scores}; it decided the {decided} bug(s) the "
             "rules left unknown (decided_by = classifier)."))
