"""The embedded sample really contains what its truth file says (checked with git, JUnit, coverage, the exports)."""
from __future__ import annotations

import csv
import json
import subprocess
from collections import defaultdict
from pathlib import Path

import defusedxml.ElementTree as ET
import pytest

from toolkit.vocab import testids
from toolkit.vocab.components import ComponentMap
from toolkit.sample import build_history
from toolkit.sample import history as plan_data

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
BUNDLE = SAMPLE / "repo.bundle"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A clone of the shipped bundle (all refs)."""
    dest = tmp_path_factory.mktemp("sample") / "repo"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(dest)], check=True, capture_output=True, timeout=60)
    return dest


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, int], dict[str, str]]:
    out = {}
    for f in sorted((SAMPLE / "results").glob("*/run*/junit.xml")):
        cases = {}
        for case in ET.parse(f).getroot().iter("testcase"):
            tags = {c.tag for c in case}
            cases[testids.from_junit(case.get("classname"), case.get("name"))] = (
                "failed" if tags & {"failure", "error"} else "passed")
        out[(f.parent.parent.name, int(f.parent.name[3:]))] = cases
    return out


def components_touched(repo: Path, sha: str) -> set[str]:
    files = git(repo, "show", "--name-only", "--format=", sha).split()
    cmap = ComponentMap.from_files(git(repo, "ls-tree", "-r", "--name-only", sha).split())
    return {c for c in (cmap.component_of(f) for f in files) if c}


def test_history_is_deterministic_and_matches_the_bundle(tmp_path, repo):
    a = build_history(tmp_path / "a")
    b = build_history(tmp_path / "b")
    assert a == b
    assert git(repo, "rev-list", "--reverse", "origin/main").split() == a


def test_history_shape(repo, truth):
    shas = git(repo, "rev-list", "origin/main").split()
    assert len(shas) >= 150 and len(shas) == truth["commit_count"]
    assert shas[0] == truth["head"]
    authors = set(git(repo, "log", "origin/main", "--format=%an <%ae>").splitlines())
    assert len(authors) >= 5
    dates = git(repo, "log", "origin/main", "--format=%ad", "--date=short").split()
    assert min(dates) >= "2025-01-06" and max(dates) <= "2025-12-31"
    for sha in truth["bulk_commits"]:
        assert len(git(repo, "show", "--name-only", "--format=", sha).split()) > 30
    renames = git(repo, "log", "origin/main", "-M", "--diff-filter=R", "--name-status", "--format=%H")
    assert "shop/search_index/index.py" in renames and "shop/search_index/indexer.py" in renames
    messages = git(repo, "log", "origin/main", "--format=%B")
    assert "Merge pull request #" in messages and "fixes #21" in messages and "Closes #23" in messages


def test_bundle_opens_with_the_loader(truth):
    from toolkit.load.gitrepo import Repo

    r = Repo.open(BUNDLE)
    assert r.resolve("HEAD") == truth["head"]
    files = r.list_files()
    assert "shop/payments/checkout.py" in files and "tests/conftest.py" in files
    assert set(ComponentMap.from_files(files).names) == set(truth["components"])


def test_issue_fixes_exist_and_touch_their_components(repo, truth):
    for issue in truth["issues"]:
        touched: set[str] = set()
        for sha in issue["fix_commits"]:
            assert git(repo, "cat-file", "-t", sha).strip() == "commit"
            touched |= components_touched(repo, sha)
        if not issue["fix_commits"] or issue["type"] != "bug":
            continue
        assert touched & set(issue["components"]), issue["key"]
        if issue["category"] == "component":  # contrast bugs: fixed inside one component
            assert touched == set(issue["components"]), issue["key"]
    planted = truth["planted"]
    for name in ("charge_before_reservation", "document_metadata_format"):
        caller, _, callee = planted[name]["seam"].partition("->")
        touched = set().union(*(components_touched(repo, s) for s in planted[name]["fix_commits"]))
        assert {caller, callee} <= touched, name
    for key in truth["unlinked_fixes"]:
        issue = next(i for i in truth["issues"] if i["key"] == key)
        for sha in issue["fix_commits"]:
            assert key not in git(repo, "show", "-s", "--format=%B", sha)


def test_charge_before_reservation_is_visible_in_history(repo, truth):
    fix = truth["planted"]["charge_before_reservation"]["fix_commits"][0]

    def order(rev: str) -> tuple[int, int]:
        body = git(repo, "show", f"{rev}:shop/payments/checkout.py")
        body = body[body.index("def capture_order"):]
        return body.index("charge_card("), body.index("stock.reserve(")

    charge, reserve = order(f"{fix}^")
    assert charge < reserve  # before the fix: charge first
    charge, reserve = order(fix)
    assert reserve < charge
    # the backtest revision still has both planted bugs
    rev = truth["backtest_rev"]
    charge, reserve = order(rev)
    assert charge < reserve
    assert "doc_title" in git(repo, "show", f"{rev}:shop/documents/models.py")
    assert "doc_title" not in git(repo, "show", f"{truth['head']}:shop/documents/models.py")
    # only mocked unit tests of the seam, ever: no integration/e2e test file mentions the reservation
    for path in git(repo, "ls-tree", "-r", "--name-only", truth["head"], "tests").split():
        if path.startswith(("tests/integration/", "tests/e2e/")):
            text = git(repo, "show", f"{truth['head']}:{path}")
            assert "capture_order(" not in text.replace("checkout.capture_order\"", "") and "stock.reserve" not in text


def test_junit_shows_env_only_failure_and_flaky_test(outcomes, truth):
    manifest = json.loads((SAMPLE / "results" / "manifest.json").read_text())
    assert set(manifest["runs"]) == {f"{e}/run{r}" for e, r in outcomes}
    assert {v["commit"] for v in manifest["runs"].values()} == {truth["head"]}
    assert truth["env_only_failures"] == ["tests.integration.test_payments_gateway.test_charge_card_succeeds"]
    for tid in truth["env_only_failures"]:
        assert all(outcomes[(e, r)][tid] == "failed" for e, r in outcomes if e == "integrated")
        assert all(outcomes[(e, r)][tid] == "passed" for e, r in outcomes if e == "isolated")
    assert truth["flaky_tests"] == ["tests.unit.test_notifications.test_outbox_drains_in_background"]
    per_env = defaultdict(set)
    for (env, _run), cases in outcomes.items():
        per_env[env].add(cases[truth["flaky_tests"][0]])
    assert any(v == {"passed", "failed"} for v in per_env.values())
    assert set(truth["tests"]) == set(outcomes[("isolated", 1)])
    # the two JUnit flavours are both present
    iso = (SAMPLE / "results/isolated/run1/junit.xml").read_text()
    integ = (SAMPLE / "results/integrated/run1/junit.xml").read_text()
    assert ' file="' in iso and ' file="' not in integ


def test_coverage_has_per_test_contexts(truth):
    from coverage import CoverageData

    data = CoverageData(basename=str(SAMPLE / "coverage" / ".coverage"))
    data.read()
    contexts = {testids.from_nodeid(c) for c in data.measured_contexts() if c}
    assert "tests.unit.test_checkout.test_capture_charges_and_reserves" in contexts
    assert len(contexts) >= 30
    root = truth["coverage"]["recorded_root"]
    assert all(f.startswith(root) for f in data.measured_files())


def test_truth_seams(truth):
    seams = truth["seams"]
    for seam in ("orders->users", "orders->catalog", "orders->payments", "orders->notifications",
                 "payments->inventory", "payments->gateway", "documents->search_index", "catalog->search_index",
                 "users->notifications", "notifications->users"):
        assert seams[seam]["call_sites"], seam
    assert seams["payments->inventory"]["integration_covered"] is False
    assert seams["documents->search_index"]["integration_covered"] is False
    assert "tests.unit.test_checkout.test_capture_charges_and_reserves" in seams["payments->inventory"]["mocked_by_tests"]
    assert seams["catalog->search_index"]["integration_covered"] is True
    assert truth["untested_seams"] == ["inventory->notifications"]
    assert truth["top_risky_seams"] == ["documents->search_index", "payments->inventory"]
    site = next(s for s in seams["payments->inventory"]["call_sites"] if s["callee"] == "shop.inventory.stock.reserve")
    assert site["path"] == "shop/payments/checkout.py" and site["status"] == "isolation_only"
    assert {t["kind"] for t in truth["tests"].values()} == {"unit", "integration", "e2e"}
    assert set(truth["environment_differences"]) >= {"notification_sender", "max_upload_mb"}


def test_issue_exports(truth):
    with (SAMPLE / "issues" / "jira_export.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header.count("Labels") == 2 and header.count("Component/s") == 2
    jira_keys = {r[header.index("Issue key")] for r in rows[1:]}
    assert any("\n" in r[header.index("Description")] for r in rows[1:])
    github = json.loads((SAMPLE / "issues" / "github_issues.json").read_text(encoding="utf-8"))
    gh_keys = {f"#{i['number']}" for i in github}
    assert sum(1 for i in github if "pull_request" in i) >= 2
    assert not jira_keys & gh_keys
    for issue in truth["issues"]:
        assert issue["key"] in (jira_keys if issue["tracker"] == "jira" else gh_keys), issue["key"]
    open_bugs = [i for i in truth["issues"] if i["type"] == "bug" and i["state"] == "open"]
    assert [i["environment"] for i in open_bugs] == ["integrated"]


def test_templates_are_not_importable_or_collectable():
    src = ROOT / "toolkit" / "sample" / "app_src"
    assert not list(src.rglob("*.py")) and not (src / "__init__.py").exists()
    assert len(list(src.rglob("*.py.txt"))) > 40
    assert set(plan_data.ADDED) >= {"shop/payments/checkout.py", "tests/conftest.py"}


def test_sample_is_small():
    size = sum(f.stat().st_size for f in SAMPLE.rglob("*") if f.is_file())
    assert size < 5 * 1024 * 1024


def test_issue_dates_follow_history(repo, truth):
    """Trackers number issues in creation order; bugs are reported after they were introduced, closed after the fix."""
    import datetime as dt

    github = json.loads((SAMPLE / "issues" / "github_issues.json").read_text(encoding="utf-8"))
    created = sorted((i["number"], i["created_at"]) for i in github)
    assert [c for _, c in created] == sorted(c for _, c in created)
    with (SAMPLE / "issues" / "jira_export.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    h = rows[0]
    jira = {r[h.index("Issue key")]: dt.datetime.strptime(r[h.index("Created")], "%d/%b/%y %I:%M %p") for r in rows[1:]}
    ordered = [jira[k] for k in sorted(jira, key=lambda k: int(k.split("-")[1]))]
    assert ordered == sorted(ordered)
    assert max(d.date() for d in jira.values()) < min(dt.date.fromisoformat(c[:10]) for _, c in created)
    gh = {f"#{i['number']}": i for i in github}
    for issue in truth["issues"]:
        if issue["tracker"] != "github" or not issue["fix_commits"] or issue["type"] != "bug":
            continue
        fixed = git(repo, "show", "-s", "--format=%cI", issue["fix_commits"][-1]).strip()
        fixed_utc = dt.datetime.fromisoformat(fixed).astimezone(dt.timezone.utc)
        closed = dt.datetime.fromisoformat(gh[issue["key"]]["closed_at"].replace("Z", "+00:00"))
        opened = dt.datetime.fromisoformat(gh[issue["key"]]["created_at"].replace("Z", "+00:00"))
        assert opened < fixed_utc <= closed, issue["key"]
