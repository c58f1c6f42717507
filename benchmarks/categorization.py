"""Benchmark: bug categorization against the hand-labelled changelog entries of data/labelled_bugs/.

For each project the boundary vocabulary is derived from the project's own clone (its manifests and the
imports of its code, :mod:`toolkit.load.boundary_vocab`) — what an audit of that repository would use. Prints,
for each part of the set (data/labelled_bugs/README.md), as a whole and per project:

* the rules alone: decided share, macro-F1 and per-class precision/recall over the decided entries (a decision
  of neither class — environment, not_a_bug — counts as wrong), accuracy at confidence >= 0.8, and a
  reliability table (confidence bins vs observed accuracy);
* the scikit-learn classifier (:mod:`toolkit.analyze.bug_classifier`): cross-validated leave-one-project-out
  on the tuning part (each project predicted by a model that never saw it); trained on the tuning part and
  tested on a held-out part when there is one;
* their combination: the rules where they decide, the classifier for the bugs they leave unknown.

``--with-fixes`` measures what the fix adds (issue 17, "the fix diff counts"): every entry that carries an issue
number is linked to its fix commits with the product's own :func:`toolkit.load.links.link_fixes` on the
project's clone, and the rules are scored three ways on the same entries — the text alone, the text plus the fix
as files (links, fix commits' files and messages), and that plus the fix's changed lines
(:func:`toolkit.load.fix_diffs.fix_diff_facts`). Entries without an issue number keep only their text.

``--feature-table`` (tuning part only, never the held-out): how often each file-level fix feature fires for
integration vs component entries among the tuning entries linked to a fix — a feature that fires as often for
both classes says nothing about the class (the review behind the rule table's weights).

A part that spans several projects is scored as a whole and per project (requests: few linked fixes; pip and
aiohttp: nearly all linked). The held-out part (httpx, sphinx: projects no rule was looked at against; requests,
pip and aiohttp, held out before, are tuning data now) is measured once, after a review of the rules on the tuning
part (``--part tuning``), and said so.

    python benchmarks/categorization.py [--repos /tmp/rr] [--part tuning|heldout|fresh|sixth|all] [--with-fixes]
                                        [--feature-table] [--lopo]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.vocab import schema  # noqa: E402
from toolkit.analyze.bug_categorization import UNKNOWN, categorize_bugs  # noqa: E402

DATA = ROOT / "data" / "labelled_bugs" / "bugs.jsonl"
#: project -> clone folder under --repos (as in data/labelled_bugs/extract.py)
CLONES = {"pytest": "pytest-dev+pytest", "urllib3": "urllib3+urllib3", "click": "pallets+click",
          "flask": "pallets+flask", "attrs": "python-attrs+attrs", "requests": "psf+requests",
          "pip": "pypa+pip", "aiohttp": "aio-libs+aiohttp", "httpx": "encode+httpx",
          "sphinx": "sphinx-doc+sphinx", "black": "psf+black", "uvicorn": "encode+uvicorn", "rich": "Textualize+rich",
          "tox": "tox-dev+tox", "werkzeug": "pallets+werkzeug", "coverage": "nedbat+coveragepy",
          "anyio": "agronholm+anyio", "scrapy": "scrapy+scrapy", "jinja": "pallets+jinja",
          "celery": "celery+celery", "starlette": "encode+starlette", "trio": "python-trio+trio",
          "marshmallow": "marshmallow-code+marshmallow", "paramiko": "paramiko+paramiko",
          "setuptools": "pypa+setuptools", "structlog": "hynek+structlog", "invoke": "pyinvoke+invoke",
          "pylint": "pylint-dev+pylint", "httpcore": "encode+httpcore", "falcon": "falconry+falcon"}
#: The parts of the labelled set (data/labelled_bugs/README.md): the rules were reviewed on "tuning" only;
#: "heldout" (the fourth part), "fresh" (the fifth, labelled before the abstention threshold was chosen) and "sixth"
#: (labelled after every rule of today was fixed, measured once) never.
PARTS = ("tuning", "heldout", "fresh", "sixth", "seventh", "eighth")
CLASSES = ("integration", "component")
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


def load(path: Path = DATA) -> pd.DataFrame:
    return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines() if line.strip()])


def as_issues(rows: pd.DataFrame) -> pd.DataFrame:
    """The entries as a tracker export would give them: one bug each, the entry as its title."""
    df = pd.DataFrame({"tracker": "github", "key": rows["id"], "title": rows["text"], "body": "", "type": "bug",
                       "labels": [[] for _ in range(len(rows))], "components": [[] for _ in range(len(rows))],
                       "status": "closed", "resolution": None, "priority": None,
                       "created": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]"),
                       "resolved": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]"),
                       "environment": "unknown", "environment_evidence": None, "is_pull_request": False})
    return schema.conform(df, "issues")


def vocabulary_of(repos: Path, project: str) -> pd.DataFrame | None:
    from toolkit.load.boundary_vocab import boundary_vocabulary
    from toolkit.load.structure import load_structure
    clone = repos / CLONES[project]
    if not clone.exists():
        print(f"  ({clone} missing: {project} evaluated without a vocabulary)")
        return None
    s = load_structure(clone, workers=1)
    return boundary_vocabulary(clone, files=s.files, imports=s.imports, skips=[])


def fixes_of(repos: Path, project: str, part: pd.DataFrame) -> dict | None:
    """The fix evidence of ``part``'s entries as an audit of the project's clone would have it: links (by
    :func:`toolkit.load.links.link_fixes`, re-keyed from ``#N`` to the entry ids), the history's file changes and
    commits, the structure's files and imports, and the fix diff facts; None without a clone."""
    from toolkit.load.fix_diffs import fix_diff_facts
    from toolkit.load.history import history_paths, load_history
    from toolkit.load.issues.normalize import finish
    from toolkit.load.links import Links, link_fixes
    from toolkit.load.structure import load_structure
    from common import pr_numbers

    clone = repos / CLONES[project]
    if not clone.exists():
        return None
    numbered = part[part["issue"].notna()]
    s = load_structure(clone, workers=1)
    hist = load_history(clone, roots=s.components.roots)
    nums = sorted({int(n) for n in numbered["issue"]})
    prs = pr_numbers(hist.commits)  # as a GitHub export would list them: a PR cited as the bug is a bug-labelled PR
    issues = finish(pd.DataFrame({"tracker": "github", "key": [f"#{n}" for n in nums], "title": "", "type": "bug",
                                  "is_pull_request": [n in prs for n in nums]}))
    t0 = time.perf_counter()
    links = link_fixes(issues, hist, clone, components=s.components)
    t1 = time.perf_counter()
    vocab = boundary_vocabulary_of(clone, s)
    skips: list = []
    diffs = fix_diff_facts(clone, links, issues=issues, components=s.components, vocabulary=vocab,
                           file_changes=hist.file_changes, skips=skips, use_cache=False)
    t2 = time.perf_counter()
    ids: dict[str, list[str]] = {}
    for i, n in zip(numbered["id"], numbered["issue"]):
        ids.setdefault(f"#{int(n)}", []).append(str(i))

    def rekey(df: pd.DataFrame) -> pd.DataFrame:
        df = df[df["issue_key"].astype(str).isin(ids)]
        return df.assign(issue_key=df["issue_key"].astype(str).map(ids)).explode("issue_key").reset_index(drop=True)

    fc = hist.file_changes
    return {"links": Links(links=rekey(links.links), issue_components=rekey(links.issue_components),
                           unlinked=links.unlinked),
            "file_changes": fc.assign(path=history_paths(fc)), "commits": hist.commits, "files": s.files,
            "imports": s.imports, "fix_diffs": diffs, "vocabulary": vocab,
            "stats": {"numbered": len(numbered), "linked": int(links.links["issue_key"].nunique()),
                      "diff rows": len(diffs), "diff skips": len(skips), "link s": round(t1 - t0, 2),
                      "diff s": round(t2 - t1, 2)}}


def boundary_vocabulary_of(clone: Path, s) -> pd.DataFrame:
    from toolkit.load.boundary_vocab import boundary_vocabulary
    return boundary_vocabulary(clone, files=s.files, imports=s.imports, skips=[])


#: What each --with-fixes mode gives the rules, beside the text and the vocabulary.
#: "text" gives the structure's files too: an audit always has them, and the rules read the project's own module
#: names from them (own_name_factor), not any fix.
MODES = {"text": ("files",), "text+fix files": ("links", "file_changes", "commits", "files", "imports"),
         "text+fix files+fix diff": ("links", "file_changes", "commits", "files", "imports", "fix_diffs")}


def categorize(rows: pd.DataFrame, repos: Path, weights=None, fixes: dict | None = None,
               mode: str = "text") -> pd.DataFrame:
    """Rules' output per entry (key, category, confidence, evidence, undecided) for every project in rows;
    ``fixes``: project -> :func:`fixes_of`, used as ``mode`` (:data:`MODES`) says."""
    out = []
    for project, part in rows.groupby("project", sort=False):
        f = (fixes or {}).get(project)
        vocab = f["vocabulary"] if f is not None else vocabulary_of(repos, project)
        extra = {k: f[k] for k in MODES[mode]} if f is not None else {}
        r = categorize_bugs(as_issues(part), vocabulary=vocab, weights=weights, **extra)
        out.append(r.bugs.assign(text=r.features["text"].to_numpy()))
        out[-1]["_features"] = [dict(zip(r.features.columns, v)) for v in r.features.itertuples(index=False)]
    return pd.concat(out, ignore_index=True)


def scores(truth: pd.Series, pred: pd.Series, conf: pd.Series | None = None) -> dict[str, object]:
    decided = pred != UNKNOWN
    t, p = truth[decided], pred[decided]
    res: dict[str, object] = {"n": int(len(truth)), "decided": int(decided.sum()),
                              "decided_share": float(decided.mean()) if len(truth) else float("nan"),
                              "accuracy": float((t == p).mean()) if len(t) else float("nan")}
    f1s = []
    for c in CLASSES:
        tp = int(((p == c) & (t == c)).sum())
        prec = tp / int((p == c).sum()) if (p == c).any() else float("nan")
        rec = tp / int((t == c).sum()) if (t == c).any() else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if prec == prec and rec == rec and prec + rec > 0 else 0.0
        res[c] = (prec, rec, f1)
        f1s.append(f1)
    res["macro_f1"] = float(np.mean(f1s))
    if conf is not None:
        c = conf[decided]
        hi = c >= 0.8
        res["acc_conf_0.8"] = (float((t[hi] == p[hi]).mean()) if hi.any() else float("nan"), int(hi.sum()))
        res["bins"] = [(lo, hi_, int(((c >= lo) & (c < hi_)).sum()),
                        float((t[(c >= lo) & (c < hi_)] == p[(c >= lo) & (c < hi_)]).mean())
                        if ((c >= lo) & (c < hi_)).any() else float("nan"))
                       for lo, hi_ in zip(BINS[:-1], BINS[1:])]
    return res


def show(name: str, s: dict) -> None:
    print(f"  {name}: decided {s['decided']}/{s['n']} ({100 * s['decided_share']:.0f}%), macro-F1 {s['macro_f1']:.2f}, "
          f"accuracy {s['accuracy']:.2f}")
    for c in CLASSES:
        prec, rec, f1 = s[c]
        print(f"      {c:<12} P {prec:.2f}  R {rec:.2f}  F1 {f1:.2f}")
    if "acc_conf_0.8" in s:
        acc, n = s["acc_conf_0.8"]
        print(f"      accuracy at confidence >= 0.8: {acc:.2f} (n={n})")
        print("      reliability: " + "; ".join(f"[{lo:.1f},{min(hi, 1):.1f}) n={n} acc={a:.2f}"
                                                for lo, hi, n, a in s["bins"] if n))


def classifier_parts(tuning: pd.DataFrame, others: dict[str, pd.DataFrame]):
    """Cross-validated predictions on tuning (leave one project out when there are several: a model is judged on
    projects it never saw, as it would be on a new repository), and a tuning-trained model's predictions on each
    held-out part."""
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    from toolkit.analyze.bug_classifier import _matrix, _new
    from toolkit.analyze.bug_categorization import FEATURES

    names = list(FEATURES)

    def feats(df):
        f = pd.DataFrame(list(df["_features"]))
        return f

    ft, yt = feats(tuning), tuning["label"].to_numpy()
    cv_pred = np.empty(len(yt), dtype=object)
    cv_conf = np.zeros(len(yt))
    groups = tuning["project"].to_numpy()
    folds = (LeaveOneGroupOut().split(np.zeros(len(yt)), yt, groups) if len(set(groups)) > 1
             else StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(yt)), yt))
    for train, test in folds:
        vec, model = _new(0)
        model.fit(_matrix(vec, ft.iloc[train], names, fit=True), yt[train])
        proba = model.predict_proba(_matrix(vec, ft.iloc[test], names, fit=False))
        cv_pred[test] = model.classes_[proba.argmax(axis=1)]
        cv_conf[test] = np.abs(proba[:, 0] - proba[:, 1])
    ho = {}
    vec, model = _new(0)
    model.fit(_matrix(vec, ft, names, fit=True), yt)
    for name, part in others.items():
        proba = model.predict_proba(_matrix(vec, feats(part), names, fit=False))
        ho[name] = (model.classes_[proba.argmax(axis=1)], np.abs(proba[:, 0] - proba[:, 1]))
    return (cv_pred, cv_conf), ho


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", type=Path, default=Path("/tmp/rr"))
    ap.add_argument("--part", choices=(*PARTS, "all"), default="all")
    ap.add_argument("--show-errors", action="store_true", help="print the wrong and undecided entries (tuning only)")
    ap.add_argument("--with-fixes", action="store_true",
                    help="link entries to their fix commits and score text / +fix files / +fix diff")
    ap.add_argument("--lopo", action="store_true",
                    help="leave one project out: the rule table's fire-rate decisions re-made without each project,"
                         " scored on it (+fix diff)")
    ap.add_argument("--feature-table", action="store_true",
                    help="tuning part only: how often each fix feature fires for integration vs component entries")
    args = ap.parse_args(argv)
    data = load()
    t0 = time.perf_counter()
    parts = {k: data[data["split"] == k] for k in PARTS}
    parts = {k: v for k, v in parts.items() if len(v)}
    if args.part != "all":
        if args.part not in parts:
            ap.error(f"the labelled set has no {args.part} part (data/labelled_bugs/README.md says why)")
        parts = {args.part: parts[args.part]}
    if args.feature_table:
        if "tuning" not in parts:
            ap.error("--feature-table reviews the tuning part only (never the held-out)")
        for mode in ("text+fix files", "text+fix files+fix diff"):
            show_feature_table(feature_table(parts["tuning"], args.repos, mode), mode)
        return 0
    if args.lopo:
        if "tuning" not in parts:
            ap.error("--lopo re-makes the review's decisions on the tuning part only (never the held-out)")
        return lopo(parts["tuning"], args.repos)
    if args.with_fixes:
        return with_fixes(parts, args.repos, args.show_errors)
    results = {}
    for name, rows in parts.items():
        got = categorize(rows.reset_index(drop=True), args.repos)
        got = got.merge(rows[["id", "label", "project"]], left_on="key", right_on="id")
        results[name] = got
        projects = ", ".join(f"{p} {n}" for p, n in got["project"].value_counts().items())
        print(f"\n== {name}: {len(got)} entries ({projects})")
        show("rules", scores(got["label"], got["rules_category"].astype(str), got["confidence"]))
        if args.show_errors and name == "tuning":
            bad = got[got["rules_category"].astype(str) != got["label"]]
            for r in bad.itertuples():
                print(f"    {r.key} truth={r.label} rules={r.rules_category} conf={r.confidence:.2f} | "
                      f"{r.title[:110]}\n        {r.evidence}")
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("\n(scikit-learn missing: classifier and combination not evaluated)")
        return 0
    if "tuning" in results:
        tun = results["tuning"]
        others = {k: v for k, v in results.items() if k != "tuning"}
        (cv_pred, cv_conf), ho_pred = classifier_parts(tun, others)
        for name, got, pred, conf in (("tuning", tun, cv_pred, cv_conf),
                                      *((k, others[k], *ho_pred[k]) for k in others)):
            how = ("cross-validated, leave one project out" if tun["project"].nunique() > 1
                   else "cross-validated, 5 folds") if name == "tuning" else "trained on tuning"
            print(f"\n== {name}: classifier ({how}) and combination")
            show("classifier", scores(got["label"], pd.Series(pred, index=got.index), pd.Series(conf, index=got.index)))
            rules = got["rules_category"].astype(str)
            comb = rules.where(rules != UNKNOWN, pd.Series(pred, index=got.index))
            comb_conf = got["confidence"].where(rules != UNKNOWN, pd.Series(conf, index=got.index))
            show("rules + classifier for unknown", scores(got["label"], comb, comb_conf))
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


def with_fixes(parts: dict[str, pd.DataFrame], repos: Path, show_errors: bool = False) -> int:
    """The ``--with-fixes`` report (module docstring): per part, the rules in each of :data:`MODES`."""
    t0 = time.perf_counter()
    table: list[tuple[str, str, dict]] = []
    for name, rows in parts.items():
        rows = rows.reset_index(drop=True)
        fixes = {}
        for project, part in rows.groupby("project", sort=False):
            f = fixes_of(repos, project, part)
            if f is not None:
                fixes[project] = f
                print(f"  {project}: {f['stats']}")
        print(f"\n== {name}: {len(rows)} entries, {int(rows['issue'].notna().sum())} with an issue number")
        for mode in MODES:
            got = categorize(rows, repos, fixes=fixes, mode=mode)
            got = got.merge(rows[["id", "label", "project", "issue"]], left_on="key", right_on="id")
            whole = scores(got["label"], got["rules_category"].astype(str), got["confidence"])
            show(f"rules, {mode}", whole)
            table.append((name, mode, whole))
            if got["project"].nunique() > 1:
                for project, one in got.groupby("project", sort=False):
                    s = scores(one["label"], one["rules_category"].astype(str), one["confidence"])
                    show(f"  {project}", s)
                    table.append((f"{name} {project}", mode, s))
            linked = got[got["fix_commits"] > 0]
            if mode != "text" and len(linked):
                show(f"  of them the {len(linked)} entries linked to a fix",
                     scores(linked["label"], linked["rules_category"].astype(str), linked["confidence"]))
            if show_errors and mode.endswith("diff"):
                fired = got[got["evidence"].map(lambda e: any("fix diff" in x for x in e))]
                for r in fired.itertuples():
                    print(f"    {r.key} truth={r.label} rules={r.rules_category} conf={r.confidence:.2f} | "
                          f"{r.title[:90]}\n        {[x for x in r.evidence if 'fix diff' in x]}")
    print("\n| part | mode | macro-F1 | decided | acc at conf >= 0.8 (n) |\n|---|---|---|---|---|")
    for part, mode, sc in table:
        acc, n = sc["acc_conf_0.8"]
        print(f"| {part} ({sc['n']}) | {mode} | {sc['macro_f1']:.2f} | {100 * sc['decided_share']:.0f}% | "
              f"{acc:.2f} ({n}) |")
    print(f"\n({time.perf_counter() - t0:.1f} s)")
    return 0


#: The weights the third review set from fire rates (toolkit.analyze.bug_categorization.FEATURES, PARAMETERS): the
#: weight each has when its evidence says something about its class, and a probe run's weight that shows it firing.
LOPO_WEIGHTS = {"fix_message_names": (0.5, 1.0), "integration_tests_added": (2.5, 1e-6),
                "integration_tests_changed": (0.5, 1e-6),
                # the fourth review (429 entries, ten projects) by the same rule
                "fix_multi_component": (0.5, 1e-6), "manifest_fix": (2.0, 1e-6), "diff_cross_component_call": (0.5, 1e-6),
                "diff_exception_translation": (1.0, 1e-6), "diff_serialization": (0.5, 1e-6)}


def lopo(rows: pd.DataFrame, repos: Path, mode: str = "text+fix files+fix diff") -> int:
    """Leave one project out: for each project, each weight of :data:`LOPO_WEIGHTS` is decided on the OTHER
    projects by the rule the review used — it keeps its weight where it fires for its class with precision >= 0.6
    (a likelihood ratio of ~1.5 on a balanced set), else 0 —, and the project is scored with those weights; the
    predictions of the eight folds are scored together. What the figures on all projects would be for a project
    the decisions never saw."""
    rows = rows.reset_index(drop=True)
    fixes = {p: f for p, part in rows.groupby("project", sort=False) if (f := fixes_of(repos, p, part)) is not None}
    probe = categorize(rows, repos, weights={k: v for k, (_w, v) in LOPO_WEIGHTS.items()}, fixes=fixes, mode=mode)
    probe = probe.merge(rows[["id", "label", "project"]], left_on="key", right_on="id")
    feats = pd.DataFrame(list(probe["_features"]))
    fired = {"fix_message_names": probe["evidence"].map(
        lambda e: any(" names " in x and "in the fix message" in x for x in e)).to_numpy(),
             **{f: feats[f].to_numpy() > 0 for f in LOPO_WEIGHTS if f != "fix_message_names"}}
    is_int = (probe["label"] == "integration").to_numpy()
    out = []
    print(f"\n== leave one project out ({mode}): weights decided on the other projects")
    for project in rows["project"].unique():
        train = (probe["project"] != project).to_numpy()
        weights = {}
        for f, (keep, _p) in LOPO_WEIGHTS.items():
            n = int((fired[f] & train).sum())
            prec = float((fired[f] & train & is_int).sum() / n) if n else float("nan")
            weights[f] = keep if prec >= 0.6 else 0.0
        print(f"  without {project}: " + ", ".join(f"{f} {w:g}" for f, w in weights.items()))
        part = rows[rows["project"] == project].reset_index(drop=True)
        got = categorize(part, repos, weights=weights, fixes=fixes, mode=mode)
        out.append(got.merge(part[["id", "label", "project"]], left_on="key", right_on="id"))
    got = pd.concat(out, ignore_index=True)
    show("rules, leave one project out", scores(got["label"], got["rules_category"].astype(str), got["confidence"]))
    print("\n| project | macro-F1 | decided | acc at conf >= 0.8 (n) |\n|---|---|---|---|")
    for project, one in [("all", got), *got.groupby("project", sort=False)]:
        sc = scores(one["label"], one["rules_category"].astype(str), one["confidence"])
        acc, n = sc["acc_conf_0.8"]
        print(f"| {project} ({sc['n']}) | {sc['macro_f1']:.2f} | {100 * sc['decided_share']:.0f}% | {acc:.2f} ({n}) |")
    return 0


#: The file-level fix features reviewed by --feature-table (toolkit.analyze.bug_categorization.FEATURES).
FIX_FEATURES = ("fix_multi_component", "fix_single_component", "unit_tests_only", "integration_tests_added",
                "integration_tests_changed", "interface_file", "manifest_fix", "config_only_fix", "boundary_file",
                "interface_module", "diff_cross_component_call", "diff_dependency_call", "diff_exception_translation",
                "diff_serialization", "diff_config", "diff_inside_component")


def feature_table(rows: pd.DataFrame, repos: Path, mode: str = "text+fix files") -> pd.DataFrame:
    """Per fix feature, among ``rows`` linked to a fix: how many integration / component entries it fires for,
    the share of each class it fires for, and the precision of the class it supports. Schema: feature, supports,
    weight, integration (fires), component (fires), integration_share, component_share, precision, n_integration,
    n_component. A feature whose weight is 0 is scored at a negligible weight so that it still shows when it
    would fire."""
    from toolkit.analyze.bug_categorization import DEFAULT_WEIGHTS, FEATURES

    rows = rows.reset_index(drop=True)
    fixes = {p: f for p, part in rows.groupby("project", sort=False) if (f := fixes_of(repos, p, part)) is not None}
    weights = {f: (w if w > 0 or f not in FIX_FEATURES else 1e-6) for f, w in DEFAULT_WEIGHTS.items()}
    got = categorize(rows, repos, weights=weights, fixes=fixes, mode=mode)
    got = got.merge(rows[["id", "label"]], left_on="key", right_on="id")
    linked = got[got["fix_commits"] > 0].reset_index(drop=True)
    feats = pd.DataFrame(list(linked["_features"]))
    is_int = (linked["label"] == "integration").to_numpy()
    n_i, n_c = int(is_int.sum()), int((~is_int).sum())
    out = []
    for f in FIX_FEATURES:
        fired = (feats[f].to_numpy() > 0)
        fi, fc = int((fired & is_int).sum()), int((fired & ~is_int).sum())
        supports = FEATURES[f][0]
        right = fi if supports == "integration" else fc if supports == "component" else 0
        out.append({"feature": f, "supports": supports, "weight": DEFAULT_WEIGHTS[f], "integration": fi,
                    "component": fc, "integration_share": fi / n_i if n_i else float("nan"),
                    "component_share": fc / n_c if n_c else float("nan"),
                    "precision": right / (fi + fc) if fi + fc else float("nan"),
                    "n_integration": n_i, "n_component": n_c})
    return pd.DataFrame(out)


def show_feature_table(table: pd.DataFrame, mode: str) -> None:
    n_i, n_c = int(table["n_integration"].iloc[0]), int(table["n_component"].iloc[0])
    print(f"\n== tuning, entries linked to a fix ({n_i} integration, {n_c} component), {mode}: "
          "how often each fix feature fires")
    print("| feature | supports | weight | fires: integration | fires: component | precision for its class |")
    print("|---|---|---|---|---|---|")
    for r in table.itertuples():
        prec = f"{r.precision:.2f}" if r.precision == r.precision else "-"
        print(f"| {r.feature} | {r.supports} | {r.weight:g} | {r.integration} ({100 * r.integration_share:.0f}%) | "
              f"{r.component} ({100 * r.component_share:.0f}%) | {prec} |")


if __name__ == "__main__":
    raise SystemExit(main())
