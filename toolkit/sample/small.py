"""A second, different tiny system — ``ledger`` — to prove notebooks and analyses do not depend on the shop sample.

``build_small(out_dir)`` writes, deterministically and in a second or two, ``repo/`` (a real git work tree of
:data:`FILES` built by :data:`COMMITS`, some fixing GitHub issues, one across the ``journal``/``rates`` seam),
``results/<environment>/run1/junit.xml`` (written by hand: the cross-currency trial balance passes in isolation
and fails wherever the real components run together) and ``issues/github_issues.json`` (:data:`ISSUES`).
No coverage data: whoever audits it gets the static interaction estimate. Tests generate it into a temporary
folder; nothing here is committed as data.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path
from xml.sax.saxutils import quoteattr

from toolkit.sample.repo import commit, run_git

__all__ = ["build_small", "FILES", "COMMITS", "ISSUES"]

_INIT = '"""{doc}"""\n'

FILES: dict[str, str] = {
    "README.md": "# ledger\n\nA tiny double-entry ledger (seamscope's second sample).\n",
    "ledger/__init__.py": _INIT.format(doc="ledger: accounts, journal, currency rates and reports."),
    "ledger/accounts/__init__.py": _INIT.format(doc="Accounts and their balances."),
    "ledger/accounts/model.py": '''"""Accounts."""
from dataclasses import dataclass, field


@dataclass
class Account:
    """One account in one currency."""

    name: str
    currency: str
    postings: list = field(default_factory=list)


_ACCOUNTS: dict[str, Account] = {}


def open_account(name: str, currency: str) -> Account:
    """Open an account.

    Args:
        name: unique account name.
        currency: ISO 4217 code.

    Returns:
        The new account.
    """
    _ACCOUNTS[name] = Account(name, currency)
    return _ACCOUNTS[name]


def get_account(name):
    return _ACCOUNTS[name]


def balance(name):
    return round(sum(get_account(name).postings), 2)
''',
    "ledger/rates/__init__.py": _INIT.format(doc="Currency conversion."),
    "ledger/rates/convert.py": '''"""Currency conversion rates."""
RATES = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}


def convert(amount, source, target):
    """Convert ``amount`` between currencies."""
    if source == target:
        return amount
    return round(amount * RATES[(source, target)], 2)
''',
    "ledger/journal/__init__.py": _INIT.format(doc="The journal: postings between accounts."),
    "ledger/journal/post.py": '''"""Post entries to the journal."""
from ledger.accounts.model import get_account
from ledger.rates.convert import convert

ENTRIES: list[dict] = []


def post(debit, credit, amount, currency):
    """Move ``amount`` from ``credit`` to ``debit``, converting into each account's currency."""
    d, c = get_account(debit), get_account(credit)
    d.postings.append(convert(amount, currency, d.currency))
    c.postings.append(-convert(amount, currency, c.currency))
    ENTRIES.append({"debit": debit, "credit": credit, "amount": amount, "currency": currency})
    return len(ENTRIES)
''',
    "ledger/reports/__init__.py": _INIT.format(doc="Reports over the journal."),
    "ledger/reports/summary.py": '''"""Summaries."""
from ledger.accounts.model import balance
from ledger.journal.post import ENTRIES


def trial_balance(names):
    return {n: balance(n) for n in names}


def entry_count():
    return len(ENTRIES)
''',
    "tests/__init__.py": "",
    "tests/unit/__init__.py": "",
    "tests/unit/test_accounts.py": '''from ledger.accounts.model import balance, open_account


def test_new_account_has_zero_balance():
    open_account("cash", "EUR")
    assert balance("cash") == 0
''',
    "tests/unit/test_journal.py": '''from unittest.mock import patch

from ledger.accounts.model import balance, open_account
from ledger.journal.post import post


@patch("ledger.journal.post.convert", side_effect=lambda amount, s, t: amount)
def test_post_moves_amount(_convert):
    open_account("a", "EUR")
    open_account("b", "USD")
    post("a", "b", 10, "EUR")
    assert balance("a") == 10 and balance("b") == -10
''',
    "tests/unit/test_rates.py": '''from ledger.rates.convert import convert


def test_same_currency_is_identity():
    assert convert(5, "EUR", "EUR") == 5
''',
    "tests/integration/__init__.py": "",
    "tests/integration/test_reports.py": '''from ledger.accounts.model import open_account
from ledger.journal.post import post
from ledger.reports.summary import trial_balance


def test_trial_balance_after_posting():
    open_account("x", "EUR")
    open_account("y", "EUR")
    post("x", "y", 3, "EUR")
    assert trial_balance(["x", "y"]) == {"x": 3, "y": -3}


def test_cross_currency_trial_balance():
    open_account("e", "EUR")
    open_account("u", "USD")
    post("e", "u", 100, "EUR")
    assert trial_balance(["e", "u"]) == {"e": 100, "u": -108.0}
''',
}

#: earlier texts of a file, by the commit (index into COMMITS) that wrote them: before "Fix #3" the journal
#: converted only into the debit account's currency and ``convert`` took no source currency — a signature
#: change whose docstring stayed the same (interface drift)
EARLY: dict[str, dict[int, str]] = {
    "ledger/rates/convert.py": {3: '''"""Currency conversion rates."""
RATES = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}


def convert(amount, target):
    """Convert ``amount`` between currencies."""
    return round(amount * RATES.get(("EUR", target), 1.0), 2)
'''},
    "ledger/journal/post.py": {k: FILES["ledger/journal/post.py"]
                               .replace(", converting into each account's currency", "")
                               .replace("convert(amount, currency, d.currency)", "convert(amount, d.currency)")
                               .replace("-convert(amount, currency, c.currency)", "-amount")
                               + ("" if k == 10 else "\n# first version\n") for k in (5, 10)},
}

#: (message, paths it writes); one day apart from 2025-03-03; a path's text is FILES[path], plus a revision marker
#: while a later commit still changes it
COMMITS: list[tuple[str, list[str]]] = [
    ("Project skeleton", ["README.md", "ledger/__init__.py"]),
    ("Accounts: open accounts", ["ledger/accounts/__init__.py", "ledger/accounts/model.py"]),
    ("Unit test for accounts", ["tests/__init__.py", "tests/unit/__init__.py", "tests/unit/test_accounts.py"]),
    ("Rates: convert between currencies", ["ledger/rates/__init__.py", "ledger/rates/convert.py"]),
    ("Unit test for rates", ["tests/unit/test_rates.py"]),
    ("Journal: post entries", ["ledger/journal/__init__.py", "ledger/journal/post.py"]),
    ("Unit test for the journal with rates mocked", ["tests/unit/test_journal.py"]),
    ("Reports: trial balance", ["ledger/reports/__init__.py", "ledger/reports/summary.py"]),
    ("Integration test for reports", ["tests/integration/__init__.py", "tests/integration/test_reports.py"]),
    ("Fix #2: balances are rounded to cents", ["ledger/accounts/model.py"]),
    ("Journal records each entry", ["ledger/journal/post.py"]),
    ("Fix #3: convert into the account's currency on both sides", ["ledger/journal/post.py", "ledger/rates/convert.py"]),
    ("Reports: entry count", ["ledger/reports/summary.py"]),
    ("Accounts: document open_account", ["ledger/accounts/model.py"]),
    ("Fix #5: posting to a USD account used the EUR rate", ["ledger/journal/post.py", "ledger/rates/convert.py"]),
    ("Cross-currency trial balance test", ["tests/integration/test_reports.py"]),
    ("Rates: round converted amounts", ["ledger/rates/convert.py"]),
    ("Reports use account balances", ["ledger/reports/summary.py", "ledger/accounts/model.py"]),
    ("Fix #7: journal rejects unknown accounts with KeyError", ["ledger/journal/post.py", "ledger/accounts/model.py"]),
    ("README: what ledger is", ["README.md"]),
]

#: (number, title, labels, body, created day, closed day or None, state_reason, is pull request)
ISSUES: list[tuple[int, str, list[str], str, int, int | None, str | None, bool]] = [
    (1, "Export the trial balance as CSV", ["enhancement"], "Finance wants a CSV.", 4, None, None, False),
    (2, "Balance shows 0.30000000000000004", ["bug"], "Rounding.\n\nEnvironment: production", 8, 9, "completed", False),
    (3, "USD account gets EUR amount after posting", ["bug"],
     "Posting 100 EUR to a USD account shows 100 USD.\n\nEnvironment: production", 10, 11, "completed", False),
    (4, "Add trial balance report", [], "", 6, 7, None, True),
    (5, "Cross-currency posting uses the wrong rate", ["bug", "regression"],
     "The journal asks rates for EUR->EUR.\n\nEnvironment: integrated", 12, 14, "completed", False),
    (6, "Reports are slow", ["bug", "wontfix"], "Only on my laptop.", 13, 15, "not_planned", False),
    (7, "Posting to a missing account crashes", ["bug"], "KeyError in the journal.\n\nEnvironment: staging", 16, 18,
     "completed", False),
]

#: (classname, name, file, line of the def) of each test in the JUnit runs
_TESTS = [(path[:-3].replace("/", "."), node.name, path, node.lineno) for path, text in FILES.items()
          if path.startswith("tests/") for node in ast.parse(text).body
          if isinstance(node, ast.FunctionDef) and node.name.startswith("test")]
_FAILS = {("integrated", "test_cross_currency_trial_balance"), ("staging", "test_cross_currency_trial_balance")}
ENVIRONMENTS = ("isolated", "integrated", "staging")


def _day(n: int) -> str:
    return f"2025-03-{3 + n:02d}T10:00:00+00:00"


def _text(path: str, step: int) -> str:
    """The content of ``path`` at commit ``step``: the final text, with a marker line for earlier revisions."""
    if step in EARLY.get(path, {}):
        return EARLY[path][step]
    final = FILES[path]
    if not any(path in paths for _, paths in COMMITS[step + 1:]):
        return final
    return final + (f"\n# revision {step}\n" if path.endswith(".py") else f"\n<!-- revision {step} -->\n")


def _build_repo(repo: Path) -> list[str]:
    repo.mkdir(parents=True)
    run_git(repo, "init", "-q", "-b", "main")
    authors = [("Ada Byron", "ada@ledger.test"), ("Grace Hopper", "grace@ledger.test")]
    shas = []
    for i, (message, paths) in enumerate(COMMITS):
        for p in paths:
            f = repo / p
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(_text(p, i), encoding="utf-8")
        run_git(repo, "add", "--", *paths)
        shas.append(commit(repo, message, authors[i % 2], authors[i % 2], _day(i)))
    return shas


def _junit(environment: str) -> str:
    cases = []
    failures = 0
    for classname, name, file, line in _TESTS:
        attrs = (f"classname={quoteattr(classname)} name={quoteattr(name)} file={quoteattr(file)} "
                 f"line=\"{line}\" time=\"0.001\"")
        if (environment, name) in _FAILS:
            failures += 1
            cases.append(f"<testcase {attrs}><failure message=\"AssertionError: assert {{'e': 100, 'u': -100}} == "
                         f"{{'e': 100, 'u': -108.0}}\">ledger/reports/summary.py: trial balance mismatch</failure>"
                         f"</testcase>")
        else:
            cases.append(f"<testcase {attrs} />")
    return (f'<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
            f'<testsuite name="ledger-{environment}" errors="0" failures="{failures}" skipped="0" '
            f'tests="{len(_TESTS)}" time="0.010" timestamp="2025-03-25T12:00:00+00:00" hostname="ci">'
            + "".join(cases) + "</testsuite></testsuites>\n")


def _github_issues() -> list[dict]:
    items = []
    for number, title, labels, body, created, closed, reason, is_pr in ISSUES:
        item = {
            "url": f"https://api.github.com/repos/ledgerteam/ledger/issues/{number}",
            "html_url": f"https://github.com/ledgerteam/ledger/{'pull' if is_pr else 'issues'}/{number}",
            "id": 900000 + number, "number": number, "title": title,
            "user": {"login": "ada", "type": "User"}, "labels": [{"name": n} for n in labels],
            "state": "closed" if closed else "open", "locked": False, "assignee": None, "milestone": None,
            "comments": 0, "created_at": _day(created - 1).replace("+00:00", "Z"),
            "updated_at": _day((closed or created) - 1).replace("+00:00", "Z"),
            "closed_at": _day(closed - 1).replace("+00:00", "Z") if closed else None,
            "author_association": "MEMBER", "body": body, "state_reason": reason,
        }
        if is_pr:
            item["pull_request"] = {"url": f"https://api.github.com/repos/ledgerteam/ledger/pulls/{number}"}
        items.append(item)
    return items


def build_small(out_dir: str | os.PathLike) -> dict:
    """Write the ``ledger`` system into ``out_dir``; return the paths (notebook parameters) and a few counts."""
    out = Path(out_dir).resolve()
    for sub in ("repo", "results", "issues"):
        shutil.rmtree(out / sub, ignore_errors=True)
    shas = _build_repo(out / "repo")
    for env in ENVIRONMENTS:
        run = out / "results" / env / "run1"
        run.mkdir(parents=True)
        (run / "junit.xml").write_text(_junit(env), encoding="utf-8")
    manifest = {"runs": {f"{env}/run1": {"environment": env, "commit": shas[-1], "run": 1} for env in ENVIRONMENTS}}
    (out / "results" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "issues").mkdir()
    issues = out / "issues" / "github_issues.json"
    issues.write_text(json.dumps(_github_issues(), indent=1) + "\n", encoding="utf-8")
    return {"repo": str(out / "repo"), "tests": [str(out / "results")], "coverage": None, "issues": [str(issues)],
            "commits": len(shas), "head": shas[-1], "components": ["accounts", "journal", "rates", "reports"],
            "issues_count": len(ISSUES), "environments": list(ENVIRONMENTS)}
