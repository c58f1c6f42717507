"""Bug categorization: exact categories and evidence on hand-built tables, labels, classifier, the sample."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.analyze.bug_categorization import DEFAULT_WEIGHTS, categorize_bugs
from toolkit.load.links import Links


def issue(key, title, body="", *, type="bug", labels=(), components=(), resolution=None, environment="unknown",
          created="2025-01-10", resolved="2025-01-20", pr=False):
    return {"tracker": "github", "key": key, "title": title, "body": body, "type": type, "labels": list(labels),
            "components": list(components), "status": "closed", "resolution": resolution, "priority": None,
            "created": pd.Timestamp(created, tz="UTC"),
            "resolved": pd.Timestamp(resolved, tz="UTC") if resolved else pd.NaT,
            "environment": environment, "environment_evidence": None, "is_pull_request": pr}


def issues(*rows):
    return schema.conform(pd.DataFrame(list(rows)), "issues")


def links(fixes: dict[str, list[str]], components: dict[str, list[str]]) -> Links:
    ln = pd.DataFrame([(k, s, f"message: fixes {k}", "explicit") for k, shas in fixes.items() for s in shas],
                      columns=["issue_key", "sha", "evidence", "confidence"])
    ic = pd.DataFrame([(k, c, 1, 10) for k, cs in components.items() for c in cs],
                      columns=["issue_key", "component", "files", "churn"])
    return Links(schema.conform(ln, "links"), schema.conform(ic, "issue_components"), schema.empty("unlinked_issues"))


def changes(rows):
    df = pd.DataFrame([{"sha": s, "path": p, "old_path": None, "added": 3, "deleted": 1, "binary": False}
                       for s, p in rows])
    return schema.conform(df, "file_changes")


def row(result, key):
    return result.bugs.set_index("key").loc[key]


def with_plain_modules(files: pd.DataFrame, n: int, component: str) -> pd.DataFrame:
    """``files`` plus ``n`` production modules of ``component`` that import nothing: a file that talks across (or
    is imported by another component) is then rare, and a fix touching it counts in full (``_rarity``)."""
    more = pd.DataFrame([{"path": f"src/{component}/plain{j}.py", "component": component,
                          "module": f"{component}.plain{j}", "kind": "python", "is_test": False} for j in range(n)])
    return schema.conform(pd.concat([files, more], ignore_index=True), "files")


def test_cross_component_fix_is_integration_with_evidence_strongest_first():
    iss = issues(issue("#1", "Orders fail after the upgrade", "Both services pass their tests.",
                       environment="production", labels=["regression"]))
    ln = links({"#1": ["a1"]}, {"#1": ["orders", "payments"]})
    fc = changes([("a1", "app/orders/service.py"), ("a1", "app/payments/api.py"),
                  ("a1", "tests/integration/test_checkout.py")])
    r = categorize_bugs(iss, links=ln, file_changes=fc, weights={"integration_tests_added": 2.5,
                                                                 "fix_multi_component": 0.5})
    schema.check(r.bugs, "bug_categories")
    b = row(r, "#1")
    assert b["category"] == "integration" and b["decided_by"] == "rules"
    assert b["evidence"] == [  # a fix spanning components is a weak hint alone (the rule table's review)
        "fix added integration test code in tests/integration/test_checkout.py (+2.5 → integration)",
        "seen in production, fix spans components (+1 → integration)",
        'word "tests pass" in title/body (+1 → integration)',
        "fix touched 2 components: orders, payments (+0.5 → integration)",
        "label/component 'regression' (+0.5 → integration)",
    ]  # integration_tests_added and fix_multi_component are 0 by default (they fire as often for component bugs);
    # their mechanism is under test
    assert b["score_integration"] == 5.5 and b["score_component"] == 0.0
    assert b["confidence"] == pytest.approx(5.5 / (5.5 + DEFAULT_WEIGHTS["prior"]))  # all agree: margin / (total + prior)
    assert pd.isna(b["undecided"])
    assert b["components"] == ["orders", "payments"] and b["pairs"] == ["orders<->payments"]
    assert b["fix_commits"] == 1


def test_single_component_fix_with_rounding_words_is_component():
    iss = issues(issue("#2", "Total is off by a cent", "We truncate instead of rounding."))
    ln = links({"#2": ["b1"]}, {"#2": ["billing"]})
    fc = changes([("b1", "app/billing/money.py"), ("b1", "tests/unit/test_money.py")])
    r = categorize_bugs(iss, links=ln, file_changes=fc)
    b = row(r, "#2")
    assert b["category"] == "component"
    assert b["evidence"] == [
        "fix touched one component: billing (+2 → component)",
        'word "rounding" in title/body (+1 → component)',
    ]  # "fix added unit test code only" weighs 0 by default: nearly every fix adds one, whatever the bug
    assert b["confidence"] == pytest.approx(3 / 4)


def test_configuration_only_fix_in_production_is_environment():
    iss = issues(issue("#3", "Mail fails in prod", "The SMTP_HOST env var is missing in production.",
                       environment="production"))
    ln = links({"#3": ["c1"]}, {"#3": ["app"]})
    fc = changes([("c1", "deploy/production.env"), ("c1", "app/settings.py")])
    r = categorize_bugs(iss, links=ln, file_changes=fc)
    b = row(r, "#3")
    assert b["category"] == "environment"
    assert "fix changed only configuration: app/settings.py, deploy/production.env (+1.5 → environment)" in b["evidence"]
    assert "seen in production and the text names configuration (+1 → environment)" in b["evidence"]
    assert b["score_environment"] > b["score_component"]


@pytest.mark.parametrize("resolution", ["Won't Fix", "Duplicate", "Cannot Reproduce", "Not a Bug", "not_planned",
                                        "Invalid"])
def test_not_a_bug_resolutions(resolution):
    r = categorize_bugs(issues(issue("#4", "Button is blue", resolution=resolution)))
    b = row(r, "#4")
    assert b["category"] == "not_a_bug"
    assert b["evidence"] == [f"resolution {resolution!r} (+4 → not_a_bug)"]


def test_only_bugs_are_categorized():
    iss = issues(issue("#5", "Add export", type="feature"), issue("#6", "Fix crash", pr=True),
                 issue("#7", "Crash on start"))
    r = categorize_bugs(iss)
    # a bug-labelled pull request that closes no issue of the export is a bug whose fix is itself
    # (toolkit.load.links.bug_mask, the one definition); a feature is not
    assert r.bugs["key"].tolist() == ["#6", "#7"]


def test_no_or_conflicting_evidence_is_unknown_with_what_would_decide_it():
    iss = issues(issue("#8", "It does the wrong thing"),
                 issue("#9", "Timeout when saving", "Saving a draft typo'd the name."),  # timeout vs typo: a tie
                 issue("#7", "The api is wrong"))  # one weak word (+0.5) decides nothing
    r = categorize_bugs(iss)
    b = row(r, "#8")
    assert (b["category"], b["rules_category"], b["confidence"], b["evidence"]) == ("unknown", "unknown", 0.0, [])
    assert b["undecided"].startswith("no evidence; would decide: a linked fix commit")
    b = row(r, "#9")
    assert b["score_integration"] == b["score_component"] == 1.0
    assert b["category"] == "unknown" and b["confidence"] == 0.0
    assert b["undecided"].startswith("conflicting evidence (")
    b = row(r, "#7")
    assert b["category"] == "unknown" and b["confidence"] == pytest.approx(0.5 / 1.5)
    assert b["undecided"].startswith("weak evidence (integration 0.5)")
    assert r.summary["undecided"] == 3 and r.summary["decided"] == 0 and r.summary["decided_share"] == 0.0
    assert pd.isna(r.summary["integration_share"])  # nothing decided: no share, not a confident 0


def test_words_match_at_boundaries_only():
    # "rapid", "capital", "reformatting", "retrying" vs api/format/retry; "configured" is a stem hit.
    r = categorize_bugs(issues(issue("#10", "Rapid capital gains"), issue("#11", "Retrying the upload"),
                               issue("#12", "Wrongly configured")))
    assert row(r, "#10")["evidence"] == []
    assert row(r, "#11")["evidence"] == ['word "retry" in title/body (+1 → integration)']
    assert row(r, "#12")["evidence"] == ['word "config" in title/body (+0.5 → environment)']


def test_html_in_title_and_body_stays_text():
    title = "<script>alert('x')</script> <b>timeout</b>"
    body = "<img src=x onerror=alert(1)> <p>schema mismatch</p>"
    r = categorize_bugs(issues(issue("#13", title, body)))
    b = row(r, "#13")
    assert b["title"] == title
    assert b["category"] == "integration"
    assert not any("<" in e for e in b["evidence"])
    assert {e.split(" in ")[0] for e in b["evidence"]} == {'word "timeout"', 'word "schema"', 'word "mismatch"'}


def test_interface_file_and_imported_module():
    files = schema.conform(pd.DataFrame([
        {"path": "app/db/migrations/001.sql", "component": "db", "module": None, "kind": "sql", "is_test": False},
        {"path": "app/db/models.py", "component": "db", "module": "app.db.models", "kind": "python", "is_test": False},
        {"path": "app/web/views.py", "component": "web", "module": "app.web.views", "kind": "python", "is_test": False},
    ]), "files")
    files = with_plain_modules(files, 8, "web")  # 1 of 10 modules imported by another component: rare
    imports = pd.DataFrame([{"path": "app/web/views.py", "module": "app.web.views", "component": "web",
                             "target_module": "app.db.models", "target_component": "db"}])
    iss = issues(issue("#14", "Save fails"), issue("#15", "Save fails too"))
    ln = links({"#14": ["d1"], "#15": ["d2"]}, {"#14": ["db"], "#15": ["db"]})
    fc = changes([("d1", "app/db/migrations/001.sql"), ("d2", "app/db/models.py")])
    r = categorize_bugs(iss, links=ln, file_changes=fc, files=files, imports=imports)
    assert "fix touched interface file app/db/migrations/001.sql (+2.5 → integration)" in row(r, "#14")["evidence"]
    assert row(r, "#14")["category"] == "integration"
    assert "fix touched app/db/models.py, imported by another component (+0.5 → integration)" in row(r, "#15")["evidence"]
    b = row(r, "#15")  # a module another component imports is a weak hint, outweighed by the fix staying inside one
    assert b["score_component"] > b["score_integration"] and b["category"] != "integration"


def test_tracker_fields_labels_and_where_labels():
    iss = issues(issue("#16", "Broken", components=["Orders", "Payments"]),
                 issue("#17", "Broken", labels=["env:staging"]),
                 issue("#18", "Broken", labels=["area/config"]),
                 issue("#19", "Broken", labels=["contract-break"]),
                 issue("#20", "Broken", environment="integrated"))
    r = categorize_bugs(iss)
    assert row(r, "#16")["evidence"] == ["tracker names 2 components: Orders, Payments (+1.5 → integration)"]
    assert row(r, "#17")["evidence"] == []  # says where it was seen, not why
    assert row(r, "#18")["evidence"] == ["label/component 'area/config' (+2 → environment)"]
    assert row(r, "#19")["category"] == "integration"
    assert row(r, "#20")["evidence"] == ["first seen in the integrated environment (+2 → integration)"]


def test_fix_commit_messages_are_text_evidence():
    commits = pd.DataFrame({"sha": ["e1"], "message": ["Send the idempotency key on every retry\n\nfixes #21"]})
    r = categorize_bugs(issues(issue("#21", "Charged twice")), links=links({"#21": ["e1"]}, {}), commits=commits)
    # a fix message's words describe the commit: they count at fix_message_words (half)
    assert row(r, "#21")["evidence"] == ['word "retry" in fix message (+0.5 → integration)',
                                         'word "idempotency" in fix message (+0.5 → integration)']


def test_text_contribution_is_capped():
    body = "schema contract payload interface protocol handshake upstream mismatch"
    r = categorize_bugs(issues(issue("#22", "x", body)))
    assert row(r, "#22")["score_integration"] == DEFAULT_WEIGHTS["text_cap"]


def test_labels_win_and_weights_override():
    iss = issues(issue("#23", "Orders fail"))
    ln = links({"#23": ["f1"]}, {"#23": ["orders", "payments"]})
    labels = pd.DataFrame({"key": ["#23"], "category": ["environment"], "note": [""], "reviewer": [None],
                           "decided_at": [pd.NaT]})
    r = categorize_bugs(iss, links=ln, labels=labels, weights={"fix_multi_component": 3.0})
    b = row(r, "#23")
    assert (b["category"], b["decided_by"], b["confidence"], b["rules_category"]) == ("environment", "label", 1.0,
                                                                                  "integration")
    assert r.summary["labelled"] == 1 and r.summary["decided_by"]["label"] == 1
    r2 = categorize_bugs(iss, links=ln, weights={"fix_multi_component": 0})
    assert row(r2, "#23")["category"] == "unknown" and row(r2, "#23")["evidence"] == []
    assert r2.rules_weights["fix_multi_component"] == 0
    with pytest.raises(ValueError, match="unknown bug-categorization weights"):
        categorize_bugs(iss, weights={"nope": 1})


def test_summary_by_pair_and_by_quarter():
    iss = issues(issue("#30", "a", created="2025-01-05", environment="production"),
                 issue("#31", "b", created="2025-02-05", environment="production"),
                 issue("#32", "c", created="2025-04-05", environment="staging"),
                 issue("#33", "d", created="2025-04-06", resolution="Duplicate", environment="production"))
    ln = links({"#30": ["s1"], "#31": ["s2"], "#32": ["s3"]},
               {"#30": ["a", "b"], "#31": ["a"], "#32": ["a", "b", "c"]})
    r = categorize_bugs(iss, links=ln, weights={"fix_multi_component": 3.0})  # a fix's components decide here
    schema.check(r.by_pair, "bugs_by_pair")
    schema.check(r.by_quarter, "bugs_by_quarter")
    assert r.by_pair.set_index("pair")["integration"].to_dict() == {"a<->b": 2, "a<->c": 1, "b<->c": 1}
    assert r.by_quarter.set_index("quarter")[["integration", "component", "not_a_bug", "bugs"]].to_dict("index") == {
        "2025Q1": {"integration": 1, "component": 1, "not_a_bug": 0, "bugs": 2},
        "2025Q2": {"integration": 1, "component": 0, "not_a_bug": 1, "bugs": 2}}
    assert r.summary["counts"] == {"integration": 2, "component": 1, "environment": 0, "not_a_bug": 1, "unknown": 0}
    assert r.summary["production_bugs"] == 2 and r.summary["production_integration_share"] == 0.5
    assert r.summary["integration_share"] == pytest.approx(2 / 3)


def test_empty_input():
    r = categorize_bugs(schema.empty("issues"))
    schema.check(r.bugs, "bug_categories")
    assert r.bugs.empty and r.by_pair.empty and r.by_quarter.empty and r.summary["bugs"] == 0


# ---- the optional classifier ----

VOC = {
    "integration": ["schema", "contract", "payload", "upstream", "serialization", "handshake"],
    "component": ["rounding", "typo", "regex", "validation", "overflow", "index"],
    "environment": ["certificate", "dns", "secret", "deploy", "permission", "config"],
}


def labelled_set(n_per_class=12, seed=7):
    rng = np.random.default_rng(seed)
    rows, lab = [], []
    filler = ["the", "page", "user", "order", "report", "after", "when", "fails", "error", "shows"]
    for cat, words in VOC.items():
        for j in range(n_per_class):
            key = f"#{cat[:3]}{j}"
            text = " ".join(rng.choice(words, 2).tolist() + rng.choice(filler, 5).tolist())
            rows.append(issue(key, text))
            lab.append({"key": key, "category": cat, "note": "", "reviewer": None, "decided_at": pd.NaT})
    return issues(*rows), pd.DataFrame(lab)


def test_classifier_evaluation_beside_rules_is_deterministic():
    from toolkit.analyze.bug_classifier import apply_classifier, evaluate_classifier, train_classifier
    iss, labels = labelled_set()
    cats = categorize_bugs(iss)
    ev1 = evaluate_classifier(cats, labels, cv=4)
    ev2 = evaluate_classifier(cats, labels, cv=4)
    schema.check(ev1, "classifier_evaluation")
    pd.testing.assert_frame_equal(ev1, ev2)
    assert ev1["category"].tolist() == ["integration", "component", "environment", "macro avg"]
    assert ev1["support"].tolist() == [12, 12, 12, 36]
    assert ev1.set_index("category").loc["macro avg", "model_f1"] > 0.8
    # the rules on the same labels: recomputed here by hand
    truth = labels.set_index("key")["category"]
    rules = cats.bugs.set_index("key")["rules_category"].reindex(truth.index)
    for cat in ("integration", "component", "environment"):
        tp = ((rules == cat) & (truth == cat)).sum()
        recall = tp / (truth == cat).sum()
        assert ev1.set_index("category").loc[cat, "rules_recall"] == pytest.approx(recall)
    model = train_classifier(cats, labels)
    applied = apply_classifier(cats, model)
    assert set(applied.bugs["decided_by"]) == {"classifier"}
    assert (applied.bugs.set_index("key")["category"] == truth).mean() > 0.9


def test_classifier_too_few_labels_is_a_clear_error():
    from toolkit.analyze.bug_classifier import NotEnoughLabels, evaluate_classifier, train_classifier
    iss, labels = labelled_set(n_per_class=3)
    cats = categorize_bugs(iss)
    one_each = labels.groupby("category").head(1)
    with pytest.raises(NotEnoughLabels, match="at least 2 labels in each of 2 categories"):
        evaluate_classifier(cats, one_each)
    with pytest.raises(NotEnoughLabels, match="at least 2 categories"):
        train_classifier(cats, labels[labels["category"] == "component"])
    ev = evaluate_classifier(cats, labels, cv=5)  # 3 per class: folds shrink, with a note
    assert ev.attrs["cv"] == 3 and "cv reduced from 5 to 3" in ev.attrs["notes"][0]
    partial = pd.concat([labels[labels["category"] != "environment"], labels[labels["category"] == "environment"][:1]])
    ev = evaluate_classifier(cats, partial, cv=3)
    assert "environment" not in ev["category"].tolist()
    assert ev.attrs["notes"][0] == "left out (fewer than 2 labels): environment"


def test_classifier_without_scikit_learn_names_the_extra(monkeypatch):
    from toolkit.analyze import bug_classifier
    iss, labels = labelled_set(n_per_class=3)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"pip install seamscope\[ml\]"):
        bug_classifier.train_classifier(categorize_bugs(iss), labels)


# ---- the embedded sample ----

def test_sample_planted_integration_bugs_are_integration_and_component_bugs_are_not(sample_evidence, sample_truth):
    """As the audit calls the rules (every piece of evidence, the fix diffs included: a test that left one out missed
    a planted bug the audit called unknown)."""
    from toolkit.core.findings import Findings
    truth = sample_truth
    got = Findings(sample_evidence).bugs.bugs.set_index("key")["category"]
    planted = {p["issue"] for p in truth["planted"].values() if p["category"] == "integration"}
    assert planted and {k: got[k] for k in planted} == {k: "integration" for k in planted}
    component = [i["key"] for i in truth["issues"] if i["category"] == "component"]
    assert component and not [k for k in component if got[k] == "integration"]


def test_edited_integration_test_is_weaker_than_added_test_code():
    iss = issues(issue("#40", "Sign-up rejects some addresses"))
    ln = links({"#40": ["g1"]}, {"#40": ["users"]})
    fc = schema.conform(pd.DataFrame([
        {"sha": "g1", "path": "app/users/service.py", "old_path": None, "added": 1, "deleted": 1, "binary": False},
        {"sha": "g1", "path": "tests/integration/test_signup.py", "old_path": None, "added": 1, "deleted": 1,
         "binary": False},
        {"sha": "g1", "path": "tests/unit/test_users.py", "old_path": None, "added": 5, "deleted": 1, "binary": False},
    ]), "file_changes")
    b = row(categorize_bugs(iss, links=ln, file_changes=fc, weights={"integration_tests_changed": 0.5}), "#40")
    # integration test weights are 0 by default; the mechanism is under test: the edit weighs less than the fix's
    # staying inside one component (a margin of 1.5 on 2 is still too weak to decide: unknown)
    assert b["score_component"] > b["score_integration"] > 0 and b["category"] != "integration"
    assert b["evidence"] == [
        "fix touched one component: users (+2 → component)",
        "fix edited integration test tests/integration/test_signup.py (+0.5 → integration)",
    ]


@pytest.mark.parametrize("test_path, integration", [
    ("tests/test_checkout_it.py", True),  # the test-kind file convention (test_*_it.py)
    ("tests/test_contract_orders.py", True),
    ("tests/functional/test_checkout.py", True),  # an e2e directory runs components together too
    ("tests/unit/test_checkout.py", False),
    ("tests/test_checkout.py", False),
])
def test_fix_test_code_is_judged_by_the_test_kind_path_convention(test_path, integration):
    """One definition of "an integration test by its path" (toolkit.load.test_kinds.path_kind) for fixes too."""
    from toolkit.load.test_kinds import path_kind

    iss = issues(issue("#9", "Checkout breaks"))
    fc = changes([("c1", "app/orders/service.py"), ("c1", test_path)])
    b = row(categorize_bugs(iss, links=links({"#9": ["c1"]}, {"#9": ["orders"]}), file_changes=fc,
                            weights={"unit_tests_only": 0.5, "integration_tests_added": 2.5}),
             "#9")  # both 0 by default; the path rule is under test
    said = [e for e in b["evidence"] if test_path in e]
    assert said and said[0].startswith("fix added integration test code" if integration else "fix added unit test code")
    assert (path_kind(test_path) in ("integration", "e2e")) == integration


# ---- the rule table, the boundary, abstention and confidence ----

def vocab(*rows):
    """A boundary_terms table: (term, kind, pattern, source)."""
    return schema.conform(pd.DataFrame(list(rows), columns=["term", "kind", "pattern", "source"]), "boundary_terms")


VOCAB = vocab(("urllib3", "dependency", "urllib3", "declared in pyproject.toml"),
              ("ssl", "platform", "ssl|tls", "src/pkg/net.py imports ssl"),
              ("Windows", "os", "windows", "generic table"))


def test_process_lines_of_a_fix_message_are_not_evidence():
    """Trailers, bots' lines and changelog bookkeeping that squash merges pour into a fix message say how the commit
    was made: the tools they name (a declared dependency here) are not what the bug crossed."""
    tools = vocab(("pre-commit", "dependency", "pre-commit", "declared in pyproject.toml"),
                  ("towncrier", "dependency", "towncrier", "declared in pyproject.toml"))
    message = ("Fix the column width of wide characters (#12)\n\n* [pre-commit.ci] auto fixes from pre-commit.com hooks"
               "\nfor more information, see https://pre-commit.ci\n* Added towncrier changelog entry\n\n"
               "Co-authored-by: pre-commit-ci[bot] <bot@example.com>")
    commits = pd.DataFrame({"sha": ["e1"], "message": [message]})
    r = categorize_bugs(issues(issue("#12", "Misaligned table")), links=links({"#12": ["e1"]}, {}), commits=commits,
                        vocabulary=tools)
    assert not [e for e in row(r, "#12")["evidence"] if "names dependency" in e]
    assert "pre-commit" not in r.features["text"].iloc[0] and "fix the column width" in r.features["text"].iloc[0]


def test_a_boundary_name_only_the_fix_message_holds_is_no_evidence_by_default():
    """A fix message names what the commit touched and how it was made ("fix mypy", "bump urllib3" in a squash body),
    whatever the bug (fifth review): a name found only there counts at ``fix_message_names`` (0 by default); the
    same name in the bug's own text counts in full."""
    commits = pd.DataFrame({"sha": ["e1", "e2"], "message": ["Keep the order of the columns\n\n* bump urllib3 pin"] * 2})
    iss = issues(issue("#1", "Columns come out reordered"), issue("#2", "Columns reordered with urllib3 2"))
    ln = links({"#1": ["e1"], "#2": ["e2"]}, {})
    r = categorize_bugs(iss, links=ln, commits=commits, vocabulary=VOCAB)
    assert not [e for e in row(r, "#1")["evidence"] if "urllib3" in e]
    assert 'the text names dependency "urllib3" (declared in pyproject.toml) (+3 → integration)' in row(r, "#2")["evidence"]
    r = categorize_bugs(iss, links=ln, commits=commits, vocabulary=VOCAB, weights={"fix_message_names": 0.5})
    assert [e for e in row(r, "#1")["evidence"] if "urllib3" in e and "in the fix message" in e]


def test_two_components_count_when_named_apart_in_the_bug_text_only():
    comps = vocab(("poolmanager", "component", "poolmanager", "a component"),
                  ("pkg", "component", "pkg", "a component"),
                  ("response", "component", "response", "a component"))
    r = categorize_bugs(issues(issue("#1", "Race in `pkg.poolmanager.PoolManager.connection_from_host()`"),
                               issue("#2", "The poolmanager drops the response when redirected"),
                               issue("#3", "Race condition")),
                        links=links({"#3": ["e3"]}, {}),
                        commits=pd.DataFrame({"sha": ["e3"], "message": ["Lock in poolmanager before response"]}),
                        vocabulary=comps)
    assert not [e for e in row(r, "#1")["evidence"] if "names components" in e]  # one dotted path: one place
    assert "the text names components poolmanager, response (+2 → integration)" in row(r, "#2")["evidence"]
    assert not [e for e in row(r, "#3")["evidence"] if "names components" in e]  # a fix message names its modules


def test_the_rule_table_is_data_over_one_category_vocabulary():
    from toolkit.analyze.bug_categorization import DECISIONS, FEATURES, PARAMETERS, UNKNOWN
    from toolkit.load.labels import CATEGORIES
    assert DECISIONS == (*CATEGORIES, UNKNOWN)
    assert {cat for cat, _w, _m in FEATURES.values()} <= set(CATEGORIES)
    assert set(DEFAULT_WEIGHTS) == set(FEATURES) | set(PARAMETERS)
    assert all(w >= 0 and meaning for _c, w, meaning in FEATURES.values())
    assert all("0 by default" in meaning for _c, w, meaning in FEATURES.values() if w == 0)  # says why it is off


def test_text_naming_a_dependency_or_platform_is_integration_and_names_the_source():
    r = categorize_bugs(issues(issue("#1", "Fix handshake failure when TLS 1.3 is negotiated"),
                               issue("#2", "Pool hangs with urllib3 2.0 when the connection is reused")),
                        vocabulary=VOCAB)
    assert 'the text names platform "ssl" (src/pkg/net.py imports ssl) (+2 → integration)' in row(r, "#1")["evidence"]
    assert row(r, "#1")["category"] == "integration"
    assert 'the text names dependency "urllib3" (declared in pyproject.toml) (+3 → integration)' \
        in row(r, "#2")["evidence"]


def test_a_text_naming_nothing_across_the_boundary_says_more_the_longer_it_is():
    long = "The progress bar shows the wrong percentage once more items finish than were queued at the start"
    r = categorize_bugs(issues(issue("#1", long), issue("#2", "Wrong percentage")), vocabulary=VOCAB)
    b1, b2 = row(r, "#1"), row(r, "#2")
    assert b1["category"] == "component" and b1["evidence"][0].endswith(
        "words name nothing across the project's boundary (+2 → component)")
    assert b2["score_component"] == pytest.approx(2 * 2 / 12)  # 2 of a full description's 12 words
    assert b2["category"] == "unknown" and b2["undecided"].startswith("weak evidence (component")
    # without a vocabulary, silence proves nothing
    assert row(categorize_bugs(issues(issue("#1", long))), "#1")["category"] == "unknown"


def test_confidence_grows_with_agreeing_evidence_and_falls_with_conflict():
    r = categorize_bugs(issues(issue("#1", "Crash with urllib3"),
                               issue("#2", "Crash with urllib3 on Windows over TLS"),
                               issue("#3", "Typo in the off-by-one check with urllib3")), vocabulary=VOCAB)
    c = r.bugs.set_index("key")["confidence"]
    assert c["#2"] > c["#1"] > c["#3"]
    assert row(r, "#2")["category"] == "integration"
    assert row(r, "#2")["score_integration"] == DEFAULT_WEIGHTS["boundary_cap"]  # boundary names are capped


def test_a_fix_inside_one_component_counts_only_when_it_touched_nothing_across_the_boundary():
    files = schema.conform(pd.DataFrame([
        {"path": "src/pkg/net.py", "component": "pkg", "module": "pkg.net", "kind": "python", "is_test": False},
        {"path": "src/pkg/fmt.py", "component": "pkg", "module": "pkg.fmt", "kind": "python", "is_test": False},
    ]), "files")
    files = with_plain_modules(files, 8, "pkg")  # 1 of 10 modules imports ssl: a fix touching it says so in full
    imports = schema.conform(pd.DataFrame([
        {"path": "src/pkg/net.py", "line": 1, "module": "pkg.net", "component": "pkg", "target_module": "ssl",
         "target_symbol": None, "target_component": None, "is_relative": False, "is_conditional": False,
         "is_type_checking": False, "is_function_local": False}]), "imports")
    iss = issues(issue("#1", "Requests stall"), issue("#2", "Labels misprinted"), issue("#3", "Install fails"))
    ln = links({"#1": ["n1"], "#2": ["f1"], "#3": ["m1"]}, {"#1": ["pkg"], "#2": ["pkg"], "#3": ["pkg"]})
    fc = changes([("n1", "src/pkg/net.py"), ("f1", "src/pkg/fmt.py"), ("m1", "pyproject.toml"),
                  ("m1", "src/pkg/fmt.py")])
    r = categorize_bugs(iss, links=ln, file_changes=fc, files=files, imports=imports, vocabulary=VOCAB,
                        weights={"manifest_fix": 2.0})  # 0 by default (4 vs 5 labelled entries): its mechanism
    assert row(r, "#1")["evidence"] == ["fix touched src/pkg/net.py, which imports ssl (+0.5 → integration)"]
    # a fix inside one component and a text naming nothing across are one piece of evidence, counted once: the fix
    # adds what the text's two words did not say (2 of a full description's 12)
    assert row(r, "#2")["evidence"][0] == "fix touched one component: pkg (+1.66667 → component)"
    assert row(r, "#2")["score_component"] == pytest.approx(DEFAULT_WEIGHTS["fix_single_component"])
    assert row(r, "#2")["category"] == "component"
    assert row(r, "#3")["evidence"][0] == "fix changed dependency manifest pyproject.toml (+2 → integration)"
    assert row(r, "#3")["category"] == "integration"


def test_a_file_that_talks_across_counts_as_much_as_such_files_are_rare():
    """"The fix touched a file that imports ssl" is news in a project where one module in ten does, and nearly none
    where most modules do (a library): there it weighs little and leaves most of the text's silence standing."""
    def imports_ssl(paths):
        return schema.conform(pd.DataFrame([
            {"path": p, "line": 1, "module": p[4:-3].replace("/", "."), "component": "pkg", "target_module": "ssl",
             "target_symbol": None, "target_component": None, "is_relative": False, "is_conditional": False,
             "is_type_checking": False, "is_function_local": False} for p in paths]), "imports")
    files = with_plain_modules(schema.empty("files"), 10, "pkg")
    iss = issues(issue("#1", "The progress bar shows the wrong percentage once more items finish than were queued"))
    ln, fc = links({"#1": ["n1"]}, {"#1": ["pkg"]}), changes([("n1", "src/pkg/plain0.py")])
    rare = row(categorize_bugs(iss, links=ln, file_changes=fc, files=files, imports=imports_ssl(["src/pkg/plain0.py"]),
                               vocabulary=VOCAB), "#1")
    common = row(categorize_bugs(iss, links=ln, file_changes=fc, files=files,
                                 imports=imports_ssl([f"src/pkg/plain{j}.py" for j in range(7)]), vocabulary=VOCAB),
                 "#1")
    assert rare["evidence"] == ["fix touched src/pkg/plain0.py, which imports ssl (+0.5 → integration)"]
    assert rare["category"] == "unknown"  # the fix may have crossed: the text's silence no longer says component
    # 7 of 10 modules import ssl: a random one-file fix touches one with probability 0.7, 0.51 bits of 3
    assert common["evidence"][-1] == ("fix touched src/pkg/plain0.py, which imports ssl (7 of 10 production files do:"
                                      " x0.17) (+0.0857622 → integration)")
    assert common["score_component"] > 0.8 * DEFAULT_WEIGHTS["no_boundary"]  # the fix's inside-ness counted once
    assert common["category"] == "component"


def test_a_changed_call_into_another_component_is_a_seam_inside_the_project_not_across_its_boundary():
    """The fix's lines call into another of the project's components: the fix is not "inside one component", but
    it crossed nothing of the project's boundary, so the text's silence about that boundary still speaks."""
    def facts(sha, rows):
        return schema.conform(pd.DataFrame([{"sha": sha, "path": "src/pkg/fmt.py", "component": "pkg", "what": w,
                                             "line": 3, "count": 1, "detail": d} for w, d in rows]), "fix_diff_facts")
    iss = issues(issue("#1", "The progress bar shows the wrong percentage once more items finish than were queued"))
    ln, fc = links({"#1": ["c1"]}, {"#1": ["pkg"]}), changes([("c1", "src/pkg/fmt.py")])
    inside = row(categorize_bugs(iss, links=ln, file_changes=fc, vocabulary=VOCAB,
                                 fix_diffs=facts("c1", [("changed", "4 lines")])), "#1")
    seam = row(categorize_bugs(iss, links=ln, file_changes=fc, vocabulary=VOCAB, fix_diffs=facts(
        "c1", [("changed", "4 lines"), ("cross_component_call", "adds a call of pkg.util.clamp (util)")]),
        weights={"diff_cross_component_call": 0.5}), "#1")  # 0 by default (31 vs 37 labelled entries)
    assert inside["evidence"][0] == "14 words name nothing across the project's boundary (+2 → component)"
    assert seam["evidence"] == ["14 words name nothing across the project's boundary (+2 → component)",
                                "fix diff src/pkg/fmt.py:3 adds a call of pkg.util.clamp (util) (+0.5 → integration)"]
    # a short text says little, so the fix's staying inside one component adds the rest — unless it called across
    short = issues(issue("#2", "Wrong percentage"))
    ln2 = links({"#2": ["c1"]}, {"#2": ["pkg"]})
    inside2 = row(categorize_bugs(short, links=ln2, file_changes=fc, vocabulary=VOCAB,
                                  fix_diffs=facts("c1", [("changed", "4 lines")])), "#2")
    seam2 = row(categorize_bugs(short, links=ln2, file_changes=fc, vocabulary=VOCAB, fix_diffs=facts(
        "c1", [("changed", "4 lines"), ("cross_component_call", "adds a call of pkg.util.clamp (util)")])), "#2")
    assert inside2["evidence"][0] == "fix touched one component: pkg (+1.66667 → component)"
    assert not [e for e in seam2["evidence"] if e.startswith("fix touched one component")]


def test_summary_shares_are_over_decided_bugs_with_the_undecided_beside():
    r = categorize_bugs(issues(issue("#1", "Crash with urllib3 on Windows", environment="production"),
                               issue("#2", "It broke", environment="production"),
                               issue("#3", "The progress bar shows the wrong percentage once more items finish "
                                           "than were queued", environment="production")), vocabulary=VOCAB)
    s = r.summary
    assert (s["decided"], s["undecided"], s["decided_share"]) == (2, 1, pytest.approx(2 / 3))
    assert s["integration_share"] == 0.5 and s["production_integration_share"] == 0.5
    assert (s["production_bugs"], s["production_undecided"]) == (3, 1)


def test_term_lookup_finds_exactly_what_a_plain_regex_search_finds():
    """The fast lookup (word-start index, literal beginnings, literals an anchorless term must contain) is a
    shortcut for ``re.search`` of each bounded term: on texts built to trip it (a beginning inside a longer word,
    after a hyphen, repeated, at the text's edges, non-ASCII letters, optional prefixes) it agrees term for term."""
    import re

    from toolkit.analyze.bug_categorization import VOCABULARY, _bounded, _index, _TermSet

    patterns = [p for terms in VOCABULARY.values() for _t, p, _f in terms] + [
        r"py(?:thon)?\s?3\.\d+", r"\.whl", r"-bb", r"ssl|tls", r"open ?ssl", r"(?:lib)?curl", r"qa"]
    texts = ["", "api", "rapid api", "xapi -api api-v2 _api", "the api's endpoint", "a time-out, timed out, timeouts",
             "timestamp times out", "unmarshalling and deserialization", "un-marshal", "serialization",
             "the unit tests pass but", "tests: are green", "passed their own tests", "python3.12 and py 3.9",
             "wheel .whl foo.whl", "python -bb", "openssl vs open ssl, ssl", "libcurl curl", "qa is fine; qas",
             "ämbigüous ünicode api ünterface interface", "schemas schemata schema-x", "retryretry retry",
             "config-only only in prod only on production, prod-only", "misconfigured configuration", "qa"]
    ts = _TermSet(patterns)
    got = ts.hits(texts, _index(texts, ts.wanted))
    want: dict[int, list[int]] = {}
    for j, p in enumerate(patterns):
        rx = re.compile(_bounded(p))
        for i, t in enumerate(texts):
            if t and rx.search(t):
                want.setdefault(i, []).append(j)
    assert got == want
    assert len(want) > 15  # the texts do name terms


def test_a_call_into_a_helper_most_components_use_says_little():
    """A changed call into another component weighs by how few other components use the callee (-log2 of the
    share, full at rare_file_bits): pip's ``utils`` is called from everywhere, a one-caller module is a real seam."""
    comps = ["a", "b", "c", "d", "e"]
    imp = [(c, "util") for c in comps] + [("a", "b")]  # util is used by all five others, b by one of five
    imports = schema.conform(pd.DataFrame([
        {"path": f"src/{s}/m.py", "line": 1, "module": f"{s}.m", "component": s, "target_module": f"{t}.x",
         "target_symbol": None, "target_component": t, "is_relative": False, "is_conditional": False,
         "is_type_checking": False, "is_function_local": False} for s, t in imp]), "imports")

    def evidence(callee):
        facts = schema.conform(pd.DataFrame([{"sha": "c1", "path": "src/a/m.py", "component": "a", "what": w,
                                              "line": 3, "count": 1, "detail": d} for w, d in
                                             [("changed", "4 lines"),
                                              ("cross_component_call", f"adds a call of {callee}.x.f ({callee})")]]),
                              "fix_diff_facts")
        return row(categorize_bugs(issues(issue("#1", "Wrong total")), links=links({"#1": ["c1"]}, {"#1": ["a"]}),
                                   file_changes=changes([("c1", "src/a/m.py")]), imports=imports, fix_diffs=facts),
                   "#1")["score_integration"]

    assert evidence("util") == 0.0  # every other component uses it: no information
    assert evidence("b") == pytest.approx(DEFAULT_WEIGHTS["diff_cross_component_call"] * min(1, np.log2(5) / 3))
