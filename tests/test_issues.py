"""Issue loaders: real exports from ../shared/corpus and small hand-written ones."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from toolkit.vocab import schema
from toolkit.errors import InputError
from toolkit.load.issues import detect_format, load_issues
from toolkit.load.issues.normalize import parse_dates, pseudonym, type_of

# the shared corpus sits beside the checkout (/work/main -> /work/shared) or beside the worktrees' parent
CORPUS = next((p / "shared" / "corpus" / "issues" for p in Path(__file__).resolve().parents[2:4]
               if (p / "shared" / "corpus" / "issues").is_dir()),
              Path(__file__).resolve().parents[2] / "shared" / "corpus" / "issues")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")

# file -> rows loaded, or the phrase the InputError must contain
EXPECTED = {
    "github/octokit-rb_legacy_api_v2_issues_2009.json": "API v2",
    "github/perceval_github_empty_request.json": 0,
    "github/perceval_github_issue_1.json": 1,
    "github/perceval_github_issue_2.json": 1,
    "github/perceval_github_issue_2_with_pr.json": 1,
    "github/perceval_github_issue_comments_1.json": "comments",
    "github/perceval_github_request.json": 1,
    "github/perceval_github_request_from_2016_03_01.json": 1,
    "github/probot_issues_list_2016.json": 21,
    "gitlab/perceval_empty_response.json": 0,
    "gitlab/perceval_issue_1.json": 1,
    "gitlab/perceval_issue_2.json": 1,
    "gitlab/perceval_issue_3.json": 1,
    "gitlab/perceval_issue_4.json": 1,
    "gitlab/perceval_issue_page_1.json": 2,
    "gitlab/perceval_issue_page_2.json": 2,
    "gitlab/perceval_notes_1.json": "notes",
    "jira/jira_cloud_en_planeso-jira-migration.csv": 22,
    "jira/jira_cloud_es_fleetbase.csv": 106,
    "jira/jira_server_fr_github-csv-tools.csv": 516,
    "jira/perceval_jira_comments_issue_page_1.json": "comments",
    "jira/perceval_jira_fields.json": "field list",
    "jira/perceval_jira_issues_page_1.json": 2,
    "jira/perceval_jira_issues_page_2.json": 1,
    "jira/perceval_jira_issues_page_empty.json": 0,
}


@needs_corpus
def test_every_corpus_file_is_expected():
    found = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    assert found == set(EXPECTED)


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_loads_or_explains(name):
    want = EXPECTED[name]
    if isinstance(want, str):
        with pytest.raises(InputError, match=want):
            load_issues(CORPUS / name)
        return
    df = load_issues(CORPUS / name)
    schema.check(df, "issues")
    assert len(df) == want
    assert df["key"].notna().all() and df["key"].is_unique


@needs_corpus
def test_directory_loads_issue_lists_and_skips_other_endpoints():
    skips = []
    df = load_issues(CORPUS / "gitlab", skips=skips)
    # page_1/page_2 repeat issue_1..issue_4: duplicates are dropped and reported
    assert sorted(df["key"]) == sorted(set(df["key"]))
    assert any("notes" in s.reason for s in skips)
    assert any("duplicate issue" in s.reason for s in skips)
    assert set(df["tracker"]) == {"gitlab"}


@needs_corpus
def test_github_rest_fields_and_pull_requests():
    df = load_issues(CORPUS / "github" / "probot_issues_list_2016.json").set_index("key")
    assert df.loc["#62", "is_pull_request"]
    assert not df.loc["#63", "is_pull_request"]
    assert df.loc["#32", "linked_prs"] == [62]  # PR #62's body names #32
    assert "\r\n" in "".join(df["body"].dropna())  # CRLF kept verbatim
    pr = load_issues(CORPUS / "github" / "perceval_github_issue_2_with_pr.json")
    assert pr["is_pull_request"].all()
    two = load_issues(CORPUS / "github" / "perceval_github_issue_2.json").iloc[0]
    assert two["type"] == "bug" and "bug" in two["labels"]


@needs_corpus
def test_bug_labelled_pull_request_is_decided_not_dropped():
    """A real REST item with a ``pull_request`` key and a ``bug`` label: kept, counted as a bug (it closes no
    issue of the export), and unlinked with the reason, not silently dropped."""
    from toolkit.load.links import bug_mask, link_issues
    df = load_issues(CORPUS / "github" / "perceval_github_issue_2_with_pr.json")
    assert df["is_pull_request"].all() and (df["type"] == "bug").all()
    assert df["merged"].isna().all()  # the 2016-era item does not say whether it was merged
    assert bug_mask(df).all()
    res = link_issues(df, schema.empty("commits"))
    assert res.pr_bugs["counted"].all() and res.pr_bugs["decision"].str.startswith("counted as a bug").all()
    assert list(res.unlinked["reason"]) == ["a pull request with no merge or squash commit in the history"]


def test_github_pulls_and_gh_pr_list_merge_state(tmp_path):
    """REST /pulls items and ``gh pr list --json`` output: merged or not, the merge commit, closing references."""
    rest = [{"number": 5, "title": "Fix", "state": "closed", "merged_at": "2024-01-02T00:00:00Z",
             "merge_commit_sha": "a" * 40, "html_url": "https://github.com/o/r/pull/5", "body": "Fixes #1",
             "created_at": "2024-01-01T00:00:00Z", "labels": []},
            {"number": 6, "title": "Nope", "state": "closed", "merged_at": None, "merge_commit_sha": "b" * 40,
             "html_url": "https://github.com/o/r/pull/6", "created_at": "2024-01-01T00:00:00Z", "labels": []},
            {"number": 7, "title": "Old API", "state": "closed", "created_at": "2024-01-01T00:00:00Z", "labels": [],
             "pull_request": {"url": "u", "merged_at": None}, "html_url": "https://github.com/o/r/pull/7"}]
    gh = [{"number": 8, "title": "Fix crash", "state": "MERGED", "mergedAt": "2024-01-03T00:00:00Z",
           "mergeCommit": {"oid": "c" * 40}, "url": "https://github.com/o/r/pull/8",
           "closingIssuesReferences": [{"number": 2}], "createdAt": "2024-01-01T00:00:00Z", "labels": []},
          {"number": 9, "title": "Draft", "state": "OPEN", "url": "https://github.com/o/r/pull/9",
           "createdAt": "2024-01-01T00:00:00Z", "labels": [], "isDraft": True}]
    (tmp_path / "rest.json").write_text(json.dumps(rest))
    (tmp_path / "gh.json").write_text(json.dumps(gh))
    df = pd.concat([load_issues(tmp_path / "rest.json"), load_issues(tmp_path / "gh.json")]).set_index("key")
    schema.check(df.reset_index(), "issues")
    assert df["is_pull_request"].all()
    assert df["merged"].astype(object).to_dict() == {"#5": True, "#6": False, "#7": False, "#8": True, "#9": False}
    assert df.at["#5", "merge_sha"] == "a" * 40 and pd.isna(df.at["#6", "merge_sha"])  # test merge of an unmerged PR
    assert df.at["#8", "merge_sha"] == "c" * 40 and df.at["#8", "closes"] == ["#2"]


@needs_corpus
def test_jira_csv_localised_headers_lists_and_dates():
    es = load_issues(CORPUS / "jira" / "jira_cloud_es_fleetbase.csv")
    assert es["created"].notna().all()
    assert es["created"].dt.month.isin([10, 11]).all()  # "10/nov/25 4:51 PM"
    assert es["title"].notna().all()
    assert set(es["type"]) <= {"task", "feature"}  # Subtarea / Historia / Epic
    assert es["labels"].map(type).eq(list).all()
    en = load_issues(CORPUS / "jira" / "jira_cloud_en_planeso-jira-migration.csv").set_index("key")
    assert en.loc["TES-25", "created"] == pd.Timestamp("2025-09-22 09:26", tz="UTC")
    assert en["resolved"].notna().sum() == 10
    fr = load_issues(CORPUS / "jira" / "jira_server_fr_github-csv-tools.csv")
    assert (fr["type"] == "bug").sum() == 169  # "Bogue"
    assert fr["title"].notna().all()
    assert (fr["environment_evidence"].str.startswith("field:")).sum() > 10


@needs_corpus
def test_jira_json_fields():
    df = load_issues([CORPUS / "jira" / "perceval_jira_issues_page_1.json", CORPUS / "jira" / "perceval_jira_issues_page_2.json"])
    assert len(df) == 3
    assert df["components"].map(len).gt(0).any()
    assert df["created"].notna().all()


def test_jira_csv_repeated_columns_bom_and_cp1252(tmp_path):
    text = (
        "Summary,Issue key,Issue Type,Labels,Labels,Component/s,Component/s,Sprint,Created,Resolved,Environment,Description\n"
        'Café crash,SHOP-1,Bug,backend,env:production,payments,orders,S1,24/Nov/26 3:04 PM,,,"line one\nline two"\n'
        "Add search,SHOP-2,Story,,,search,,S2,06/août/15,10/oct./16 11:54 AM,,\n"
    )
    (tmp_path / "a.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "b.csv").write_bytes(text.replace("août", "ago").encode("cp1252"))
    for name, enc in (("a.csv", "utf-8-sig"), ("b.csv", "cp1252")):
        df = load_issues(tmp_path / name)
        assert df.attrs["encodings"][str(tmp_path / name)] == enc
        one = df.set_index("key").loc["SHOP-1"]
        assert one["labels"] == ["backend", "env:production"]
        assert one["components"] == ["payments", "orders"]
        assert one["title"] == "Café crash"
        assert one["body"] == "line one\nline two"
        assert one["environment"] == "production" and one["environment_evidence"].startswith("label")
        assert one["created"] == pd.Timestamp("2026-11-24 15:04", tz="UTC")
        two = df.set_index("key").loc["SHOP-2"]
        assert two["created"] == pd.Timestamp("2015-08-06", tz="UTC")
        assert two["resolved"] == pd.Timestamp("2016-10-10 11:54", tz="UTC")
        assert two["type"] == "feature"


@pytest.mark.parametrize("value", ["31/feb/24", "10/xyz/24", "10/oct/", "10/oct/24 25:00", "10/oct/24 3:00 xm", "soon"])
def test_parse_dates_rejects(value):
    with pytest.raises(InputError, match="unknown date format"):
        parse_dates(pd.Series([value]), column="Created", path="x")


def test_unknown_date_format_names_column_and_value(tmp_path):
    p = tmp_path / "j.csv"
    p.write_text("Issue key,Summary,Created\nX-1,a,yesterday-ish\n")
    with pytest.raises(InputError, match=r"'Created'.*yesterday-ish"):
        load_issues(p)


@pytest.mark.parametrize("value,expected", [
    ("22/Sep/25 9:26 AM", "2025-09-22 09:26"),
    ("10/nov/25 4:51 PM", "2025-11-10 16:51"),
    ("10/oct./16 11:54 AM", "2016-10-10 11:54"),
    ("06/août/15", "2015-08-06 00:00"),
    ("01/déc./15 12:05 AM", "2015-12-01 00:05"),
    ("03/Mär/24 12:30 PM", "2024-03-03 12:30"),
    ("05/dez/23 08:00", "2023-12-05 08:00"),
    ("2016-03-03T13:40:01.000+0000", "2016-03-03 13:40:01"),
    ("2024-01-02", "2024-01-02"),
    ("7/jan./2024 12:00 PM", "2024-01-07 12:00"),
    ("10/nov/25 4:51 p. m.", "2025-11-10 16:51"),
    ("10/oct/16 11:54:07", "2016-10-10 11:54:07"),
])
def test_parse_dates(value, expected):
    got = parse_dates(pd.Series([value, ""]), column="Created", path="x")
    assert got.iloc[0] == pd.Timestamp(expected, tz="UTC")
    assert pd.isna(got.iloc[1])


def test_detect_format_refuses_non_exports(tmp_path):
    with pytest.raises(InputError, match="JUnit XML"):
        detect_format(b'<?xml version="1.0"?><testsuite name="x"><testcase name="t"/></testsuite>', "r.xml")
    with pytest.raises(InputError, match="binary"):
        detect_format(b"\x89PNG\r\n\x1a\n\x00\x00", "x.json")
    with pytest.raises(InputError, match="empty"):
        detect_format(b"", "x.json")
    p = tmp_path / "plain.csv"
    p.write_text("ID,Subject\n1,a\n")
    with pytest.raises(InputError, match="mapping="):
        load_issues(p)


def test_gh_cli_json_and_pages_glued(tmp_path):
    cli = [{"number": 7, "title": "Checkout fails", "body": "Environment: staging\nfixed by #9", "state": "CLOSED",
            "stateReason": "COMPLETED", "labels": [{"name": "type: bug"}], "author": {"login": "ann"},
            "createdAt": "2024-05-01T10:00:00Z", "closedAt": "2024-05-03T10:00:00Z",
            "url": "https://github.com/o/r/issues/7", "milestone": {"title": "v1"}}]
    p = tmp_path / "gh.json"
    p.write_text(json.dumps(cli))
    row = load_issues(p, pseudonymize=True).iloc[0]
    assert row["key"] == "#7" and row["type"] == "bug" and row["resolution"] == "completed"
    assert row["environment"] == "staging" and row["environment_evidence"].startswith("body")
    assert row["linked_prs"] == [9] and row["milestone"] == "v1"
    assert row["reporter"] == pseudonym("ann", "seamscope") and row["reporter"].startswith("user-")
    assert load_issues(p, pseudonymize="pepper").iloc[0]["reporter"] == pseudonym("ann", "pepper")
    # two REST pages glued "][" and NDJSON, with a duplicate: the later update wins
    a = {"number": 1, "title": "old", "state": "open", "created_at": "2024-01-01T00:00:00Z",
         "updated_at": "2024-01-02T00:00:00Z", "html_url": "https://github.com/o/r/issues/1"}
    b = dict(a, title="new", updated_at="2024-02-01T00:00:00Z")
    glued = tmp_path / "glued.json"
    glued.write_text(json.dumps([b]) + json.dumps([a, dict(a, number=2)]))
    skips = []
    df = load_issues(glued, skips=skips).set_index("key")
    assert df.loc["#1", "title"] == "new" and len(df) == 2
    assert len(skips) == 1 and "duplicate issue #1" in skips[0].reason
    nd = tmp_path / "n.json"
    nd.write_text(json.dumps(a) + "\n" + json.dumps(dict(a, number=3)) + "\n")
    assert sorted(load_issues(nd)["key"]) == ["#1", "#3"]


def test_bare_work_labels_are_not_environments(tmp_path):
    p = tmp_path / "x.json"
    items = [{"number": 1, "title": "flaky", "state": "open", "labels": ["testing", "ci"]},
             {"number": 2, "title": "x", "state": "open", "labels": ["ci", "env:integration"]},
             {"number": 3, "title": "x", "state": "open", "labels": ["Production"]}]
    p.write_text(json.dumps(items))
    df = load_issues(p).set_index("key")
    assert df.loc["#1", "environment"] == "unknown" and df.loc["#1", "type"] == "task"
    assert df.loc["#2", "environment"] == "integrated" and df.loc["#2", "environment_evidence"] == "label: env:integration"
    assert df.loc["#3", "environment"] == "production"


def test_html_kept_verbatim(tmp_path):
    title = '<script>alert("x")</script> & <b>bold</b>'
    p = tmp_path / "x.json"
    p.write_text(json.dumps([{"number": 1, "title": title, "body": "<img src=x onerror=1>", "state": "open",
                              "created_at": "2024-01-01T00:00:00Z"}]))
    row = load_issues(p).iloc[0]
    assert row["title"] == title and row["body"] == "<img src=x onerror=1>"


def test_generic_csv_with_mapping(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("ID,Subject,Kind,Opened,Tags\n12,Login broken in prod,defect,2024-03-01 10:00,\"ui;auth\"\n")
    df = load_issues(p, mapping={"key": "ID", "title": "Subject", "type": "Kind", "created": "Opened", "labels": "Tags"})
    row = df.iloc[0]
    assert row["key"] == "#12" and row["type"] == "bug" and row["labels"] == ["ui", "auth"]
    assert row["environment"] == "production" and row["environment_evidence"] == "text: prod"
    assert row["tracker"] == "generic"
    with pytest.raises(InputError, match="no such column"):
        load_issues(p, mapping={"key": "Nope"})


def test_type_of_labels():
    assert type_of("type: bug") == "bug"
    assert type_of("kind/bug") == "bug"
    assert type_of("enhancement") == "feature"  # GitHub's "New feature or request"
    assert type_of("Improvement") == "improvement"
    assert type_of("testing") == "task"
    assert type_of("Bogue") == "bug"
    assert type_of("wontfix") is None


def test_missing_path():
    with pytest.raises(InputError, match="no such file"):
        load_issues("/nonexistent/issues.json")


def test_jira_rest_v3_description_and_format_mismatch(tmp_path):
    page = {"issues": [{"key": "SHOP-3", "fields": {
        "summary": "Upload fails", "issuetype": {"name": "Bug"}, "labels": ["uploads"],
        "components": [{"name": "documents"}], "environment": "PROD eu-west", "created": "2024-02-01T10:00:00.000+0100",
        "resolutiondate": None, "description": {"type": "doc", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "It <b>fails</b>"}]}]}}}]}
    p = tmp_path / "search.json"
    p.write_text(json.dumps(page))
    row = load_issues(p).iloc[0]
    assert row["body"] == "It <b>fails</b>" and row["components"] == ["documents"] and row["type"] == "bug"
    assert row["environment"] == "production" and row["environment_evidence"].startswith("field")
    assert row["created"] == pd.Timestamp("2024-02-01 09:00", tz="UTC")
    with pytest.raises(InputError, match="format='github'"):
        load_issues(p, format="github")


@needs_corpus
def test_french_trailing_empty_headers_do_not_shift_columns():
    fr = load_issues(CORPUS / "jira" / "jira_server_fr_github-csv-tools.csv")
    assert fr["key"].str.fullmatch(r"[A-Z]+-\d+").all()


def test_scalar_where_a_list_belongs_does_not_crash(tmp_path):
    """Found by the property test: a Jira REST export with `labels: 5` raised TypeError."""
    import json as _json

    p = tmp_path / "search.json"
    p.write_text(_json.dumps({"issues": [{"key": "A-1", "fields": {"summary": "s", "labels": 5, "components": None,
                                                                     "fixVersions": "1.0"}}]}))
    df = load_issues(p)
    assert df.loc[0, "labels"] == [] and df.loc[0, "components"] == [] and df.loc[0, "milestone"] == "1.0"


def test_json_export_larger_than_the_detection_head_loads(tmp_path):
    """Format detection reads the first MiB; a GitHub export bigger than that must still parse whole."""
    items = [{"number": i, "title": "x" * 200, "state": "closed", "created_at": "2024-01-01T00:00:00Z",
              "closed_at": "2024-01-02T00:00:00Z", "html_url": f"https://github.com/o/r/issues/{i}"}
             for i in range(1, 6001)]
    p = tmp_path / "big.json"
    p.write_text(json.dumps(items))
    assert p.stat().st_size > 1 << 20
    df = load_issues(p)
    assert len(df) == 6000 and set(df["key"]) == {f"#{i}" for i in range(1, 6001)}
