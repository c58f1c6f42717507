"""Issue-tracker exports of the sample's history: Jira CSV (first half) and GitHub issues JSON (second half).

Issue dates are derived from the commits that introduced and fixed each problem,
so the exports and the repository tell the same story.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.sample.history import AUTHORS
from toolkit.sample.repo import Plan

GITHUB_REPO = "shopteam/shop"
JIRA_PEOPLE = {**{key: name for key, (name, _email) in AUTHORS.items()}, "support": "Lena Fischer (Support)",
               "ops": "Ops on-call"}
GITHUB_LOGINS = {"maria": "mkeller", "tomas": "tortega", "priya": "pnair", "jonas": "jberg", "aiko": "atanaka",
                 "support": "lena-support", "ops": "shop-oncall", "customer": "k-weber"}


@dataclass(frozen=True)
class Issue:
    key: str
    type: str  # Bug | Story | Task (Jira names; GitHub uses labels)
    title: str
    body: str
    reporter: str
    assignee: str
    category: str  # integration | component | environment | feature | task | not_a_bug
    environment: str = ""  # as reported (free text); "" for non-bugs
    components: tuple[str, ...] = ()  # team spelling (Jira) — truth uses code component names
    code_components: tuple[str, ...] = ()
    seam: str | None = None  # caller->callee for integration/environment bugs
    intro: str | None = None  # commit key that introduced the bug
    fixes: tuple[str, ...] = ()  # commit keys that fixed or implemented it
    open: bool = False
    priority: str = "Medium"
    severity: str = ""
    labels: tuple[str, ...] = ()
    days_before_fix: int = 6  # how long before the (first) fix commit it was reported
    pull_request: bool = False
    state_reason: str | None = None


ISSUES: list[Issue] = [
    # ------------------------------------------------------------------ Jira (SHOP-…)
    Issue("SHOP-1", "Story", "User accounts", "As a customer I want an account so that I can order.\n\n"
          "* register with name and e-mail\n* e-mail is validated", "maria", "priya", "feature",
          components=("Users",), code_components=("users",), fixes=("users",), days_before_fix=3),
    Issue("SHOP-2", "Story", "Product search", "Full-text search over the catalogue (title, description, tags).",
          "maria", "tomas", "feature", components=("Search",), code_components=("search_index",), fixes=("search",),
          days_before_fix=4),
    Issue("SHOP-3", "Task", "Set up CI", "Run pytest on every push.", "aiko", "aiko", "task",
          components=("Build",), fixes=("ci",), days_before_fix=2),
    Issue("SHOP-4", "Story", "Checkout: pay for an order",
          "Charge the customer's card through the payment gateway when an order is placed.\n"
          "Reserve the stock of every order line.", "maria", "maria", "feature",
          components=("Payments", "Orders"), code_components=("payments", "orders"), fixes=("payments", "orders"),
          days_before_fix=10),
    Issue("SHOP-5", "Bug", "Cannot order the last item in stock",
          "Steps:\n1. set stock of A-1 to 1\n2. order 1 x A-1\n\nExpected: order goes through\nActual: OutOfStock",
          "support", "jonas", "component", "Staging EU", ("Inventory",), ("inventory",), intro="inventory",
          fixes=("fix-offbyone",), priority="High", severity="S3", days_before_fix=3),
    Issue("SHOP-6", "Bug", "Registration returns 500 on staging",
          "Every sign-up on staging fails since yesterday's deploy.\n\n"
          "{noformat}\nAttributeError: 'User' object has no attribute 'email'\n"
          "  File \"shop/notifications/sender.py\", line 28, in welcome\n{noformat}\n\n"
          "Unit tests are green.", "aiko", "priya", "integration", "Staging EU", ("Notifications", "Users"),
          ("notifications", "users"), seam="notifications->users", intro="rename-email", fixes=("fix-email-rename",),
          priority="Highest", severity="S2", days_before_fix=2),
    Issue("SHOP-7", "Bug", "No order confirmation e-mail",
          "Placed an order on my machine, no confirmation in the outbox. KeyError 'totl' in the log.",
          "maria", "priya", "component", "dev laptop", ("Notifications",), ("notifications",), intro="order-template",
          fixes=("fix-template",), priority="Medium", severity="S3", days_before_fix=1),
    Issue("SHOP-8", "Bug", "Gross prices are a cent too low",
          "Invoice shows 2.98, shop shows 2.97 for a 2.50 net product.\nLooks like we truncate instead of rounding.",
          "support", "jonas", "component", "Production", ("Catalog",), ("catalog",), intro="catalog",
          fixes=("fix-rounding",), priority="High", severity="S3", days_before_fix=5),
    Issue("SHOP-9", "Story", "Document library", "Customers can upload PDFs (invoices, manuals) and find them again.",
          "maria", "tomas", "feature", components=("Documents",), code_components=("documents",),
          fixes=("documents", "documents-index"), days_before_fix=12),
    Issue("SHOP-10", "Bug", "Customer charged for an item we could not ship",
          "Ticket #4471: customer paid for 2 x B-7 but we only had one left. Order shows as failed,\n"
          "the card was charged anyway. Finance had to refund manually. Three more tickets like this this week.\n\n"
          "Both the checkout and the stock tests pass.", "support", "maria", "integration", "Production",
          ("Payments", "Inventory"), ("payments", "inventory"), seam="payments->inventory", intro="checkout",
          fixes=("fix-charge-order",), priority="Highest", severity="S1", days_before_fix=21),
    Issue("SHOP-11", "Bug", "Notifications down after deploy",
          "All outgoing mail fails in prod: KeyError: 'notification_sender'.\nStaging is fine.",
          "ops", "aiko", "environment", "Production (EU-West)", ("Notifications", "Config"), ("notifications", "shop"),
          seam="notifications->shop", intro="sender-config", fixes=("fix-sender-prod",), priority="Highest",
          severity="S1", days_before_fix=1),
    Issue("SHOP-12", "Bug", "Upload fails for normal sized PDFs",
          "A 200 KB manual is rejected as too large. Limit is supposed to be 10 MB.", "tomas", "tomas", "component",
          "Staging EU", ("Documents",), ("documents",), intro="documents", fixes=("fix-upload-size",), priority="High",
          severity="S2", days_before_fix=4),
    Issue("SHOP-13", "Task", "Integration tests for registration and notifications",
          "After SHOP-6: add tests that use the real users and notifications together.", "aiko", "aiko", "task",
          components=("Users", "Notifications"), fixes=("integration-suite",), days_before_fix=8),
    Issue("SHOP-14", "Bug", "Sign-up rejects e-mail addresses with capital letters",
          "\"Anna.Schmidt@Example.DE\" is refused as invalid.", "support", "priya", "component", "Production",
          ("Users",), ("users",), intro="users", fixes=("fix-email-case",), priority="Medium", severity="S3",
          days_before_fix=9),
    Issue("SHOP-15", "Story", "Low-stock alerts", "Mail the warehouse when a SKU drops to 3 units or fewer.",
          "jonas", "jonas", "feature", components=("Inventory",), code_components=("inventory",), fixes=("alerts",),
          days_before_fix=7),
    Issue("SHOP-16", "Task", "Move issue tracking to GitHub", "Jira becomes read-only once the open issues are migrated.", "aiko", "aiko",
          "task", fixes=("move-tracker",), days_before_fix=10),
    # ------------------------------------------------------------------ GitHub (#21…)
    Issue("#21", "Bug", "Some customers were charged twice",
          "Support found 14 double charges between 02:00 and 02:20 last night, when the gateway had elevated "
          "latency. Each pair has the same amount and card, a few seconds apart.\n\nEnvironment: production",
          "support", "aiko", "integration", "production", ("payments", "gateway"), ("payments", "gateway"),
          seam="payments->gateway", intro="gateway", fixes=("fix-retry",), priority="High", severity="S1",
          labels=("bug", "priority:high"), days_before_fix=3),
    Issue("#22", "Story", "Refunds", "Support needs to refund a charge without logging into the gateway dashboard.",
          "support", "maria", "feature", code_components=("payments", "gateway"), fixes=("refunds",),
          labels=("enhancement",), days_before_fix=6),
    Issue("#23", "Bug", "Search for \"creme\" doesn't find \"Crème brûlée set\"",
          "Customers type without accents.\n\nEnvironment: production", "customer", "tomas", "component",
          "production", code_components=("search_index",), intro="search", fixes=("fix-accents",),
          labels=("bug", "search"), days_before_fix=5),
    Issue("#24", "Bug", "Uploaded documents never show up in search",
          "I uploaded three manuals this morning (upload succeeded, I can download them) but searching for their "
          "titles finds nothing. Products are found fine. No errors anywhere.", "support", "tomas", "integration",
          "production", ("documents", "search"), ("documents", "search_index"), seam="documents->search_index",
          intro="doc-record", fixes=("fix-doc-record", "merge-fix-index"), priority="High", severity="S2",
          labels=("bug", "env:production"), days_before_fix=18),
    Issue("#25", "Story", "Filter documents by tag in search", "Would be nice to restrict a search to one tag.",
          "customer", "tomas", "feature", code_components=("search_index", "documents"), open=True,
          intro="fix-accents", labels=("enhancement",), days_before_fix=-3),
    Issue("#26", "Bug", "Order total shows 23.8 EUR",
          "Confirmation mail says `Total: 23.8 EUR`. Seen on staging.", "priya", "maria", "component", "staging",
          code_components=("orders",), intro="orders", fixes=("fix-total",), labels=("bug", "env:staging"), days_before_fix=4),
    Issue("#27", "PR", "Fix document metadata sent to the search index",
          "Send `title` and a list of tags like the indexer expects, and add the JSON schema of the record.\n\n"
          "Fixes #24", "tomas", "tomas", "task", fixes=("merge-fix-index",), pull_request=True, days_before_fix=2),
    Issue("#28", "Task", "Test charges against the sandbox gateway",
          "After #21 we want at least one test that talks HTTP to a gateway.", "aiko", "aiko", "task",
          fixes=("gateway-it",), labels=("testing",), days_before_fix=5),
    Issue("#29", "Story", "Deactivate users", "GDPR request flow: deactivated users cannot order.", "priya", "priya",
          "feature", code_components=("users", "orders"), fixes=("deactivate",), labels=("enhancement",),
          days_before_fix=6),
    Issue("#30", "Task", "End-to-end test of the storefront", "Register, browse, get the welcome e-mail.",
          "priya", "priya", "task", fixes=("e2e", "merge-e2e"), labels=("testing",), days_before_fix=4),
    Issue("#31", "Bug", "Checkout hangs for 5 s when the gateway is down",
          "During the gateway maintenance window every checkout spun for five seconds before failing.\n\n"
          "Environment: production", "ops", "aiko", "component", "production", ("config",),
          ("shop",), intro="gateway", fixes=("timeout",),
          labels=("bug",), days_before_fix=6),
    Issue("#33", "Bug", "test_charge_card_succeeds fails on the integrated CI job",
          "Since the timeout change the integrated job is red on every run; the isolated job is green.\n\n"
          "```\nPaymentFailed: payment for order 1 failed: charge timed out after 0.2s\n```\n\n"
          "The sandbox takes about half a second to authorise.", "aiko", "aiko", "integration",
          "integrated CI job (SHOP_ENV=integrated)", ("payments", "gateway"), ("payments", "gateway"), seam="payments->gateway",
          intro="timeout", open=True, labels=("bug", "ci", "env:integration"), days_before_fix=-2),
    Issue("#32", "PR", "End-to-end storefront test", "Closes #30", "priya", "priya", "task", fixes=("merge-e2e",),
          pull_request=True, days_before_fix=1),
    Issue("#34", "PR", "Log gateway latency per request", "Draft: helps with #33.", "aiko", "aiko", "task",
          open=True, pull_request=True, intro="timeout", days_before_fix=-5),
    Issue("#35", "Bug", "Warehouse did not get a low stock mail for B-7",
          "B-7 went to 2 units and nobody was told.\n\nEnvironment: production", "jonas", "jonas", "not_a_bug",
          "production", code_components=("inventory",), intro="flaky-worker", open=False, state_reason="not_planned",
          labels=("bug", "wontfix"), days_before_fix=-3),
]


def _dates(plan: Plan, issue: Issue) -> tuple[dt.datetime, dt.datetime | None]:
    when = plan.date_of
    if issue.fixes:
        fixed = when(issue.fixes[-1]) + dt.timedelta(hours=2)
        created = when(issue.fixes[0]) - dt.timedelta(days=issue.days_before_fix, hours=3)
        if issue.intro and created <= when(issue.intro):
            created = when(issue.intro) + dt.timedelta(hours=1)
        return created, (None if issue.open else fixed)
    created = when(issue.intro) - dt.timedelta(days=issue.days_before_fix, hours=-1)
    closed = None if issue.open else created + dt.timedelta(days=3)
    return created, closed


def _clamp(plan: Plan, issue: Issue, created: dt.datetime) -> dt.datetime:
    """Keep each tracker on its side of the tracker switch."""
    switch = plan.date_of("move-tracker")
    if issue.key.startswith("SHOP-"):
        return min(created, switch - dt.timedelta(days=1))
    return max(created, switch + dt.timedelta(hours=1))


def _number(key: str) -> tuple[int, int]:
    return (0, int(key.split("-")[1])) if key.startswith("SHOP-") else (1, int(key[1:]))


def issue_dates(plan: Plan) -> dict[str, tuple[dt.datetime, dt.datetime | None]]:
    """Created/closed per issue key: derived from the commits, then made monotonic in the key number.

    Trackers number issues in creation order, so a later key is never older. Each issue is
    first moved earlier (not before the commit that introduced its problem) and then later
    (never after its fix) until that holds; an impossible plan raises.
    """
    ordered = sorted(ISSUES, key=lambda i: _number(i.key))
    raw = {}
    for issue in ordered:
        created, closed = _dates(plan, issue)
        raw[issue.key] = [_clamp(plan, issue, created), closed]
    hour = dt.timedelta(hours=1)
    floor = {i.key: plan.date_of(i.intro) + hour if i.intro and i.type in ("Bug", "PR") else None for i in ordered}
    for a, b in zip(reversed(ordered[:-1]), reversed(ordered[1:])):
        later = raw[b.key][0] - hour
        if raw[a.key][0] > later and (floor[a.key] is None or later >= floor[a.key]):
            raw[a.key][0] = later
    for a, b in zip(ordered[:-1], ordered[1:]):
        if raw[b.key][0] <= raw[a.key][0]:
            raw[b.key][0] = raw[a.key][0] + hour
    for issue in ordered:
        created, closed = raw[issue.key]
        if closed is not None and closed <= created:
            raise AssertionError(f"{issue.key}: created {created} after it was closed {closed}; adjust days_before_fix")
        if floor[issue.key] is not None and created < floor[issue.key]:
            raise AssertionError(f"{issue.key}: reported before the commit that introduced it")
    return {k: (v[0], v[1]) for k, v in raw.items()}


def jira_date(d: dt.datetime) -> str:
    hour = d.hour % 12 or 12
    return f"{d.day:02d}/{d.strftime('%b')}/{d.strftime('%y')} {hour}:{d.minute:02d} {'AM' if d.hour < 12 else 'PM'}"


def _release_after(plan: Plan, when: dt.datetime | None) -> str:
    """The first release on or after ``when`` ("" if none, or no date)."""
    return next((version for key, version in plan.releases if when and plan.date_of(key) >= when), "")


JIRA_HEADER = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Priority", "Resolution", "Assignee",
               "Reporter", "Created", "Updated", "Resolved", "Description", "Environment", "Labels", "Labels",
               "Component/s", "Component/s", "Fix Version/s", "Sprint", "Custom field (Severity)"]


def write_jira(plan: Plan, path: Path) -> list[str]:
    """Jira Cloud "Export CSV (all fields)" shape, newest first like Jira's default order."""
    rows = []
    dates = issue_dates(plan)
    for issue in ISSUES:
        if not issue.key.startswith("SHOP-"):
            continue
        created, resolved = dates[issue.key]
        labels = list(issue.labels) or (["customer-reported"] if issue.reporter == "support" else [])
        if issue.category == "integration" and issue.type == "Bug":
            labels = labels + ["regression"]
        labels = (labels + ["", ""])[:2]
        comps = (list(issue.components) + ["", ""])[:2]
        sprint = f"SHOP Sprint {1 + (created - dt.datetime(2025, 1, 6, tzinfo=created.tzinfo)).days // 14}"
        rows.append((created, [
            issue.title, issue.key, str(10000 + int(issue.key.split("-")[1])), issue.type,
            "Open" if issue.open else "Done", issue.priority, "" if issue.open else "Done",
            JIRA_PEOPLE[issue.assignee], JIRA_PEOPLE[issue.reporter], jira_date(created),
            jira_date(resolved or created), jira_date(resolved) if resolved else "", issue.body.replace("\n", "\r\n"),
            issue.environment, labels[0], labels[1], comps[0], comps[1], _release_after(plan, resolved), sprint,
            issue.severity]))
    rows.sort(key=lambda r: r[0], reverse=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(JIRA_HEADER)
        w.writerows(r for _, r in rows)
    return [r[1][1] for r in rows]


def _iso(d: dt.datetime | None) -> str | None:
    return None if d is None else d.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_github(plan: Plan, path: Path) -> list[str]:
    """GitHub REST ``GET /repos/{owner}/{repo}/issues?state=all`` list (newest first), PRs included."""
    items = []
    dates = issue_dates(plan)
    for issue in ISSUES:
        if not issue.key.startswith("#"):
            continue
        number = int(issue.key[1:])
        created, closed = dates[issue.key]
        labels = list(issue.labels)
        kind = "pull" if issue.pull_request else "issues"
        item = {
            "url": f"https://api.github.com/repos/{GITHUB_REPO}/issues/{number}",
            "html_url": f"https://github.com/{GITHUB_REPO}/{kind}/{number}",
            "id": 2400000000 + number * 7919,
            "number": number,
            "title": issue.title,
            "user": {"login": GITHUB_LOGINS[issue.reporter], "type": "User"},
            "labels": [{"name": name} for name in labels],
            "state": "open" if issue.open else "closed",
            "locked": False,
            "assignee": None if issue.pull_request else {"login": GITHUB_LOGINS[issue.assignee]},
            "milestone": ({"title": _release_after(plan, closed), "number": 1} if closed and not issue.pull_request
                          and _release_after(plan, closed) else None),
            "comments": (number * 3) % 7,
            "created_at": _iso(created),
            "updated_at": _iso(closed or created + dt.timedelta(days=1)),
            "closed_at": _iso(closed),
            "author_association": "MEMBER" if issue.reporter in AUTHORS else "NONE",
            "body": issue.body,
            "state_reason": (None if issue.open or issue.pull_request else (issue.state_reason or "completed")),
        }
        if issue.pull_request:
            item["pull_request"] = {
                "url": f"https://api.github.com/repos/{GITHUB_REPO}/pulls/{number}",
                "html_url": f"https://github.com/{GITHUB_REPO}/pull/{number}",
                "merged_at": _iso(closed),
            }
        items.append(item)
    items.sort(key=lambda i: i["number"], reverse=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [f"#{i['number']}" for i in items]
