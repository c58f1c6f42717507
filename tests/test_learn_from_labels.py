"""Learning from the analyst (issue 17, deliverable 4): with enough labels the audit trains the classifier, shows its
cross-validated P/R/F1 beside the rules' on the same labels, and lets the better one decide the bugs the rules
leave unknown, saying per bug who decided (``decided_by``). Labels always win. Real CLI audits of the sample."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.bug_categorization import categorize_bugs
from toolkit.analyze.bug_classifier import MIN_LABELS, learn_from_labels
from toolkit.cli import main
from toolkit.config import SAMPLE_DIR

from tests.test_bug_categorization import labelled_set

pytest.importorskip("sklearn")


# ---- the function -------------------------------------------------------------------------------------------------
def test_fewer_labels_say_how_many_more_and_change_nothing():
    iss, labels = labelled_set()
    cats = categorize_bugs(iss)
    few = labels.groupby("category").head(3)  # 9 labels, every class
    out = learn_from_labels(cats, few)
    assert out.learning.labelled == 9 and out.learning.needed == MIN_LABELS - 9
    assert out.learning.evaluation is None and out.learning.classifier_macro_f1 is None
    assert f"{MIN_LABELS - 9} more needed" in out.learning.note
    pd.testing.assert_frame_equal(out.bugs, cats.bugs)
    one_class = labels[labels["category"] != "component"]  # 24 labels, no component among them
    out = learn_from_labels(cats, one_class)
    assert out.learning.needed == 2 and out.learning.missing == ("component",)
    assert "at least 2 component" in out.learning.note
    # labels of bugs this audit does not have do not count
    stranger = labels.assign(key=labels["key"] + "-elsewhere")
    assert learn_from_labels(cats, stranger).learning.labelled == 0


def test_enough_labels_compare_and_the_better_decides_only_the_rules_unknown_bugs():
    iss, labels = labelled_set()
    held = labels.groupby("category").tail(2)["key"]  # 6 bugs left for the classifier to decide
    lab = labels[~labels["key"].isin(held)]
    cats = categorize_bugs(iss, labels=lab)
    out = learn_from_labels(cats, lab)
    ln = out.learning
    assert ln.labelled == len(lab) >= MIN_LABELS and ln.needed == 0
    schema.check(ln.evaluation, "classifier_evaluation")
    macro = ln.evaluation.set_index("category").loc["macro avg"]
    assert ln.classifier_macro_f1 == pytest.approx(macro["model_f1"])
    assert ln.rules_macro_f1 == pytest.approx(macro["rules_f1"])
    b = out.bugs.set_index("key")
    schema.check(out.bugs, "bug_categories")
    truth = labels.set_index("key")["category"]
    # labels always win
    assert (b.loc[lab["key"], "decided_by"] == "label").all()
    assert (b.loc[lab["key"], "category"] == truth[lab["key"]]).all()
    before = cats.bugs.set_index("key")
    rest = b.loc[held]
    if ln.chosen == "classifier":
        assert ln.classifier_macro_f1 > ln.rules_macro_f1
        unknown = before.loc[held, "category"] == "unknown"
        assert (rest.loc[unknown, "decided_by"] == "classifier").all()
        assert ln.decided == int(unknown.sum())
    else:
        assert ln.classifier_macro_f1 <= ln.rules_macro_f1 and ln.decided == 0
        assert "classifier" not in set(b["decided_by"])
    # a rules' decision is never replaced
    ruled = before.loc[held, "decided_by"].eq("rules") & before.loc[held, "category"].ne("unknown")
    assert (rest.loc[ruled, "category"] == before.loc[held][ruled]["category"]).all()
    assert out.summary["decided_by"]["classifier"] == ln.decided


def test_the_classifier_decides_when_it_beats_rules_that_cannot_read_the_text():
    """Words only the team uses (no rule knows them): the rules leave every bug unknown, the classifier learns."""
    rows, lab = [], []
    from tests.test_bug_categorization import issue, issues
    words = {"integration": "zorblat quint handoff", "component": "flimwick inner tally"}
    for cat, w in words.items():
        for j in range(14):
            key = f"T-{cat[:3]}{j}"
            rows.append(issue(key, f"{w} case {j}"))
            if j < 12:
                lab.append({"key": key, "category": cat, "note": "", "reviewer": None, "decided_at": pd.NaT})
    iss, lab = issues(*rows), pd.DataFrame(lab)
    cats = categorize_bugs(iss, labels=lab)
    assert set(cats.bugs.loc[cats.bugs["decided_by"] == "rules", "category"]) == {"unknown"}
    out = learn_from_labels(cats, lab)
    assert out.learning.chosen == "classifier" and out.learning.classifier_macro_f1 > out.learning.rules_macro_f1
    b = out.bugs.set_index("key")
    for cat in words:
        for j in (12, 13):
            assert (b.loc[f"T-{cat[:3]}{j}", "category"], b.loc[f"T-{cat[:3]}{j}", "decided_by"]) == (cat, "classifier")
    assert out.summary["undecided"] == 0 and out.learning.decided == 4


def test_notebook_shows_the_comparison_or_how_many_more():
    from toolkit.notebook import show_learning
    iss, labels = labelled_set()
    cats = categorize_bugs(iss, labels=labels)
    html = show_learning(learn_from_labels(cats, labels)).markup
    assert "model_f1" in html and "rules_f1" in html and "macro avg" in html and "macro-F1" in html
    few = show_learning(learn_from_labels(cats, labels.head(4))).markup
    assert f"{MIN_LABELS - 4} more needed" in few and "model_f1" not in few
    assert "label bugs in the review widget" in show_learning(cats).markup  # no labels file at all


# ---- the CLI audit of the sample ------------------------------------------------------------------------------------
#: Bugs a team might add to the sample's tracker: (title, body, label or None for "left to decide").
EXTRA = [
    ("Gateway client sends the amount in euros but the payment gateway expects cents",
     "orders calls payments.charge with 12.5 instead of 1250", "integration"),
    ("Inventory reservation ignores the new sku field from orders", "orders sends item_id, inventory reads sku",
     "integration"),
    ("Search index never receives documents from the uploads service", "the message queue topic was renamed",
     "integration"),
    ("Notifications service cannot parse the order event payload", "the JSON schema changed on one side only",
     "integration"),
    ("Refund webhook from the payment provider is rejected", "the signature header is read under a different name",
     "integration"),
    ("Checkout times out when the catalog service is slow", "no timeout on the HTTP call across the boundary",
     "integration"),
    ("Discount rounding gives 0.01 too much", "pricing rounds half up twice", "component"),
    ("Password reset link expires immediately", "the expiry is computed in seconds instead of minutes", "component"),
    ("Typo in the cart total label", "Totla instead of Total", "component"),
    ("Sorting products by price puts 10 before 9", "prices are compared as strings", "component"),
    ("Empty cart can be checked out", "the validation of the cart skips the empty case", "component"),
    ("Pagination shows the last page twice", "off by one in the page count", "component"),
    ("Something looks off sometimes", "hard to say", None),
    ("Weird behaviour reported by a customer", "no details", None),
]


def _extra_issues(path: Path) -> Path:
    items = []
    for i, (title, body, _label) in enumerate(EXTRA, start=101):
        items.append({"url": f"https://api.github.com/repos/shopteam/shop/issues/{i}",
                      "html_url": f"https://github.com/shopteam/shop/issues/{i}", "id": 9_000_000 + i, "number": i,
                      "title": title, "body": body, "labels": [{"name": "bug"}], "state": "closed",
                      "created_at": "2025-12-01T10:00:00Z", "updated_at": "2025-12-02T10:00:00Z",
                      "closed_at": "2025-12-02T10:00:00Z", "user": {"login": "qa", "type": "User"}})
    path.write_text(json.dumps(items))
    return path


def _sample_truth() -> dict[str, str]:
    truth = json.loads((SAMPLE_DIR / "truth.json").read_text())
    return {i["key"]: i["category"] for i in truth["issues"] if i.get("type") == "bug"}


def _write_labels(path: Path, labels: dict[str, str]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "category", "note", "decided_at"])
        for k, c in labels.items():
            w.writerow([k, c, "", ""])
    return path


def _audit(tmp_path: Path, labels: Path, name: str) -> dict:
    extra = _extra_issues(tmp_path / "extra_issues.json")
    out = tmp_path / name
    issues = [str(SAMPLE_DIR / "issues" / "github_issues.json"), str(SAMPLE_DIR / "issues" / "jira_export.csv"),
              str(extra)]
    assert main(["audit", "--quiet", "--only", "bug_categorization", "--issues", *issues, "--labels", str(labels),
                 "--out", str(out)]) == 0
    return json.loads((out / "findings.json").read_text())["sections"]["bug_categorization"]


def test_cli_audit_with_enough_labels_shows_the_comparison_and_who_decided(tmp_path):
    sample = _sample_truth()
    labels = {**sample, **{f"#{i}": lab for i, (_t, _b, lab) in enumerate(EXTRA, start=101) if lab}}
    assert len(labels) >= MIN_LABELS
    sec = _audit(tmp_path, _write_labels(tmp_path / "labels.csv", labels), "enough")
    s = sec["summary"]
    assert s["analyst_labelled_bugs"] == len(labels) and s["labels_needed_for_classifier"] == 0
    assert 0 <= s["classifier_macro_f1"] <= 1 and 0 <= s["rules_macro_f1_on_labels"] <= 1
    table = pd.DataFrame(sec["tables"]["classifier_vs_rules"])
    assert {"model_precision", "model_recall", "model_f1", "rules_precision", "rules_recall", "rules_f1"} <= set(table)
    assert table.set_index("category").loc["macro avg", "model_f1"] == pytest.approx(s["classifier_macro_f1"], abs=1e-3)
    bugs = pd.DataFrame(sec["tables"]["bugs"]).set_index("key")
    assert (bugs.loc[list(labels), "decided_by"] == "label").all()  # labels always win
    assert (bugs.loc[list(labels), "category"] == pd.Series(labels)).all()
    left = bugs[(bugs["decided_by"] != "label") & (bugs["rules_category"] == "unknown")]  # the rules' undecided
    ruled = bugs[(bugs["decided_by"] != "label") & (bugs["rules_category"] != "unknown")]
    assert (ruled["decided_by"] == "rules").all() and (ruled["category"] == ruled["rules_category"]).all()
    if s["classifier_chosen"]:
        assert s["classifier_macro_f1"] > s["rules_macro_f1_on_labels"]
        assert (left["decided_by"] == "classifier").all() and "unknown" not in set(left["category"])
        assert s["bugs_decided_by_classifier"] == len(left)
    else:
        assert s["classifier_macro_f1"] <= s["rules_macro_f1_on_labels"]
        assert (left["category"] == "unknown").all() and s["bugs_decided_by_classifier"] == 0
    assert any("Learning from the analyst" in p and "macro-F1" in p for p in sec["paragraphs"])
    from toolkit.analyze.bug_categorization import MEASURED_ON_UNSEEN, trust_note
    assert trust_note() in sec["paragraphs"]  # the reader is told how often a decision was right on new projects
    assert f"{100 * MEASURED_ON_UNSEEN['accuracy_with_fix']:.0f}%" in trust_note()


def test_cli_audit_with_too_few_labels_says_how_many_more(tmp_path):
    sample = _sample_truth()
    labels = dict(list(sample.items())[:5])
    sec = _audit(tmp_path, _write_labels(tmp_path / "few.csv", labels), "few")
    s = sec["summary"]
    assert s["labels_needed_for_classifier"] == MIN_LABELS - 5
    assert s["classifier_macro_f1"] is None and s["rules_macro_f1_on_labels"] is None  # n/a, not 0
    assert s["classifier_chosen"] is None
    assert f"{MIN_LABELS - 5} more needed" in sec["not_measured"]["classifier_macro_f1"]
    assert "classifier_vs_rules" not in sec["tables"]
    bugs = pd.DataFrame(sec["tables"]["bugs"])
    assert "classifier" not in set(bugs["decided_by"]) and (bugs["decided_by"] == "label").sum() == 5
