"""The sample repository's commit plan: what each commit adds or changes.

The shipped templates (``app_src/``) are the files at HEAD. Earlier states are
derived by undoing :class:`Edit` s newer than the commit: each edit says "before
commit ``at`` the text ``head`` read ``before``". Applying every newer edit in
reverse chronological order turns HEAD into any earlier revision, so a bug
introduced by one commit and fixed by another is simply two chained edits.
Files appear at the commit named in :data:`ADDED`; one file is renamed with
``git mv``; two bulk commits touch every Python file (coding cookies removed,
licence headers added).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

AUTHORS = {
    "maria": ("Maria Keller", "maria.keller@shopteam.example"),
    "tomas": ("Tomás Ortega", "tomas.ortega@shopteam.example"),
    "priya": ("Priya Nair", "priya.nair@shopteam.example"),
    "jonas": ("Jonas Berg", "jonas.berg@shopteam.example"),
    "aiko": ("Aiko Tanaka", "aiko.tanaka@shopteam.example"),
}


@dataclass(frozen=True)
class Edit:
    """Before commit ``at``, the text ``head`` (as it reads from ``at`` on) read ``before``."""

    path: str
    at: str
    head: str
    before: str


@dataclass(frozen=True)
class Commit:
    key: str
    author: str
    message: str


# ----------------------------------------------------------------------------------------------
# The explicit plan, in order. Generated commits (docstrings, docs notes, releases) are woven in
# by ``plan()``.
# ----------------------------------------------------------------------------------------------
EXPLICIT: list[Commit] = [
    Commit("init", "maria", "Initial project skeleton\n\nPackage layout, pytest configuration and a README."),
    Commit("users", "priya", "Add user accounts with e-mail validation (SHOP-1)"),
    Commit("users-tests", "priya", "Unit tests for user registration"),
    Commit("catalog", "jonas", "Add product catalogue"),
    Commit("search", "tomas", "Add in-memory search index (SHOP-2)"),
    Commit("ci", "aiko", "Run the test suite on every push\n\nSHOP-3"),
    Commit("rename-index", "tomas", "Rename search_index.index to indexer\n\nThe module name shadowed the index() helpers people kept importing."),
    Commit("catalog-index", "jonas", "Index products when they are added to the catalogue"),
    Commit("search-tests", "tomas", "Unit tests for tokenising and searching"),
    Commit("ci-py311", "aiko", "CI: test on Python 3.11"),
    Commit("inventory", "jonas", "Add stock levels and reservations"),
    Commit("inventory-migration", "jonas", "Add SQL migration for stock and reservations"),
    Commit("notifications", "priya", "Add notification outbox and templates"),
    Commit("welcome", "priya", "Send a welcome message when a user registers"),
    Commit("catalog-tests", "jonas", "Unit tests for the catalogue"),
    Commit("gateway", "aiko", "Add payment gateway client"),
    Commit("payments", "maria", "Charge cards through the gateway (SHOP-4)"),
    Commit("checkout", "maria", "Add capture_order: charge the customer and reserve stock"),
    Commit("orders", "maria", "Add order placement (SHOP-4)\n\nAn order looks up the user and the products, takes the payment and\nconfirms the order to the customer."),
    Commit("conftest", "aiko", "Shared fixtures: reset in-memory stores between tests"),
    Commit("checkout-tests", "maria", "Unit tests for checkout with stock and gateway mocked"),
    Commit("orders-tests", "maria", "Unit tests for placing orders"),
    Commit("inventory-tests", "jonas", "Unit tests for reservations"),
    Commit("fix-offbyone", "jonas", "Allow reserving the last unit in stock (SHOP-5)"),
    Commit("rename-email", "priya", "Rename User.email to email_address\n\nThe CRM export expects email_address; keeping one name everywhere."),
    Commit("notifications-tests", "priya", "Unit tests for notify_user"),
    Commit("order-template", "priya", "Add order confirmation message"),
    Commit("gitignore-cov", "aiko", "Ignore coverage data"),
    Commit("fix-email-rename", "priya", "notifications: read User.email_address\n\nnotify_user and welcome still used the old attribute name and failed\nwith AttributeError on staging.\n\nFixes SHOP-6"),
    Commit("fix-template", "priya", "Fix typo in order confirmation template"),
    Commit("gateway-tests", "aiko", "Unit tests for the gateway client"),
    Commit("ci-cov", "aiko", "CI: install pytest-cov"),
    Commit("charges-tests", "maria", "Unit tests for charge_card with a recording client"),
    Commit("cookies", "aiko", "Drop Python 2 coding cookies from all modules"),
    Commit("fix-rounding", "jonas", "Round gross prices half up instead of truncating (SHOP-8)"),
    Commit("sender-config", "priya", "Make the notification sender address configurable"),
    Commit("documents", "tomas", "Add document library with uploads (SHOP-9)"),
    Commit("documents-index", "tomas", "Publish uploaded documents to the search index"),
    Commit("documents-tests", "tomas", "Unit tests for document uploads"),
    Commit("fix-sender-prod", "aiko", "Add notification_sender to production settings\n\nProduction had no notification_sender, so every message raised KeyError\nafter the last deploy. Also check that every environment defines the same keys.\n\nSHOP-11"),
    Commit("doc-tags", "tomas", "Store tags with document metadata"),
    Commit("doc-record", "tomas", "Send document metadata with the records service's field names\n\ndoc_title and a comma separated tag string, as agreed for the archive export."),
    Commit("fix-upload-size", "tomas", "Count upload limit in megabytes, not kilobytes (SHOP-12)"),
    Commit("integration-suite", "aiko", "Add integration tests for users and notifications (SHOP-13)"),
    Commit("ci-junit", "aiko", "CI: keep JUnit reports"),
    Commit("fix-email-case", "priya", "Accept upper-case letters in e-mail addresses\n\nResolves SHOP-14"),
    Commit("order-flow-it", "maria", "Integration test: place an order with real users and catalogue"),
    Commit("gitignore-junit", "maria", "Ignore local JUnit files"),
    Commit("fix-charge-order", "maria", "Fix charge before stock reservation (SHOP-10)\n\nReserve every line first and release the reservations when the charge\nfails, so customers are never charged for items we cannot ship.\nOutOfStock now carries the SKU so checkout can report it."),
    Commit("hints-reservation", "jonas", "Type hints on the checkout/stock interface"),
    Commit("alerts", "jonas", "Low-stock alerts for the warehouse (SHOP-15)"),
    Commit("move-tracker", "aiko", "Point contributors to GitHub issues\n\nThe Jira project is read-only from now on (SHOP-16)."),
    Commit("fix-retry", "aiko", "Do not retry charges that timed out\n\nA timed out charge may have succeeded at the gateway; retrying it charged\ncustomers twice. Send an Idempotency-Key and only retry connection errors.\n\nfixes #21"),
    Commit("refunds", "maria", "Add refunds through the gateway (#22)"),
    Commit("fix-accents", "tomas", "Fold accents when tokenising. Closes #23"),
    Commit("fix-total", "maria", "Show two decimals in order totals"),
    Commit("fix-doc-record", "tomas", "Send document metadata in the indexer's record format\n\nThe indexer needs `title` and a list of tags; records with doc_title were\nskipped without a trace, so uploads never showed up in search. Document\nthe record format and add the JSON schema for it.\n\nRefs #24"),
    Commit("merge-fix-index", "tomas", "Merge pull request #27 from dev/fix-index\n\nFix document metadata sent to the search index"),
    Commit("hints-records", "tomas", "Type hints for document uploads and index records"),
    Commit("licence", "aiko", "Add SPDX licence headers to all Python files"),
    Commit("overrides", "aiko", "Allow SHOP_<KEY> environment overrides of settings"),
    Commit("gateway-it", "aiko", "Integration tests for charges against the sandbox gateway (#28)"),
    Commit("ci-matrix", "aiko", "CI: run the suite in isolated and integrated mode"),
    Commit("titles", "tomas", "Add titles() helper to search queries"),
    Commit("deactivate", "priya", "Allow deactivating users; block their orders (#29)"),
    Commit("catalog-tags", "jonas", "Filter catalogue listings by tag"),
    Commit("e2e", "priya", "Add end-to-end storefront test (#30)"),
    Commit("merge-e2e", "priya", "Merge pull request #32 from dev/e2e-storefront\n\nEnd-to-end storefront test"),
    Commit("ci-checkout", "aiko", "CI: bump actions/checkout to v4"),
    Commit("invoice", "maria", "Attach invoice documents to orders"),
    Commit("timeout", "aiko", "Fail fast when the gateway is slow (#31)\n\nCheckout hung for five seconds when the gateway was unreachable.\nLower the client timeout to 200 ms in every environment."),
    Commit("flaky-worker", "priya", "Test that the outbox drains from a background worker"),
    Commit("readme-envs", "aiko", "Document SHOP_ENV=isolated|integrated in the README"),
    Commit("services", "maria", "Run inventory and payments as HTTP services; announce orders on Kafka\n\n"
           "orders calls the inventory and payments APIs when the shop runs split\n(deploy/docker-compose.yml) and "
           "publishes order-placed, which notifications\nconsumes to send the confirmation e-mail."),
]

#: commit key -> the files it adds, in the order they are added.
ADDED_BY: dict[str, list[str]] = {
    "init": ["README.md", ".gitignore", "pytest.ini", "shop/__init__.py", "shop/config.py", "tests/__init__.py",
             "tests/unit/__init__.py"],
    "users": ["shop/users/__init__.py", "shop/users/models.py", "shop/users/service.py"],
    "users-tests": ["tests/unit/test_users.py"],
    "catalog": ["shop/catalog/__init__.py", "shop/catalog/models.py", "shop/catalog/service.py"],
    "search": ["shop/search_index/__init__.py", "shop/search_index/indexer.py", "shop/search_index/query.py"],
    "ci": [".github/workflows/tests.yml"],
    "search-tests": ["tests/unit/test_search_index.py"],
    "inventory": ["shop/inventory/__init__.py", "shop/inventory/stock.py"],
    "inventory-migration": ["shop/inventory/migrations/001_stock.sql"],
    "notifications": ["shop/notifications/__init__.py", "shop/notifications/templates.py",
                      "shop/notifications/sender.py"],
    "catalog-tests": ["tests/unit/test_catalog.py"],
    "gateway": ["shop/gateway/__init__.py", "shop/gateway/errors.py", "shop/gateway/client.py"],
    "payments": ["shop/payments/__init__.py", "shop/payments/errors.py", "shop/payments/charges.py"],
    "checkout": ["shop/payments/checkout.py"],
    "checkout-tests": ["tests/unit/test_checkout.py"],
    "orders": ["shop/orders/__init__.py", "shop/orders/models.py", "shop/orders/service.py"],
    "orders-tests": ["tests/unit/test_orders.py"],
    "inventory-tests": ["tests/unit/test_inventory.py"],
    "notifications-tests": ["tests/unit/test_notifications.py"],
    "conftest": ["tests/conftest.py"],
    "gateway-tests": ["tests/unit/test_gateway_client.py"],
    "charges-tests": ["tests/unit/test_charges.py"],
    "documents": ["shop/documents/__init__.py", "shop/documents/models.py", "shop/documents/upload.py"],
    "documents-tests": ["tests/unit/test_documents.py"],
    "fix-sender-prod": ["tests/unit/test_config.py"],
    "integration-suite": ["tests/integration/__init__.py", "tests/integration/test_user_notifications.py"],
    "order-flow-it": ["tests/integration/test_order_flow.py"],
    "alerts": ["shop/inventory/alerts.py"],
    "move-tracker": ["CONTRIBUTING.md"],
    "fix-doc-record": ["shop/documents/schema/metadata.schema.json"],
    "gateway-it": ["tests/integration/test_payments_gateway.py"],
    "catalog-tags": ["tests/integration/test_catalog_search.py"],
    "e2e": ["tests/e2e/__init__.py", "tests/e2e/test_storefront.py"],
    "release-0.1.0": ["CHANGELOG.md"],
    # the service split (toolkit.sample.services): HTTP APIs, clients, a Kafka topic, a compose file
    "services": ["shop/orders/remote.py", "shop/inventory/api.py", "shop/payments/api.py",
                 "shop/notifications/consumer.py", "deploy/docker-compose.yml"],
}
#: path -> the commit that adds it.
ADDED: dict[str, str] = {path: key for key, paths in ADDED_BY.items() for path in paths}

#: (old path, new path, commit key) — done with ``git mv``.
RENAMES = [("shop/search_index/index.py", "shop/search_index/indexer.py", "rename-index")]

#: Extra files that are not in app_src (small, plain text).
EXTRA_FILES = {
    ".gitignore": "__pycache__/\n*.pyc\n.pytest_cache/\n.coverage\nhtmlcov/\njunit*.xml\n",
    ".github/workflows/tests.yml": (
        "name: tests\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    strategy:\n"
        "      matrix:\n        shop_env: [isolated, integrated]\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.11'\n"
        "      - run: pip install pytest pytest-cov\n"
        "      - run: pytest --junitxml=junit.xml\n        env:\n          SHOP_ENV: ${{ matrix.shop_env }}\n"
    ),
    "CONTRIBUTING.md": (
        "# Contributing\n\nReport bugs and feature requests as GitHub issues (the old Jira project SHOP is read-only).\n"
        "Bug reports should say in which environment the problem was seen.\n\n"
        "Reference the issue in the commit message or the pull request (`fixes #123`).\n"
    ),
}

# Bulk commits: coding cookies exist on every .py file added before "cookies"; licence headers on
# every .py file from "licence" on.
COOKIE = "# -*- coding: utf-8 -*-\n"
LICENCE = "# SPDX-License-Identifier: Apache-2.0\n# Copyright (c) 2025 The shop authors\n"
BULK = ("cookies", "licence")

RELEASES = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "0.9.0", "1.0.0"]

#: (author, path, text appended, earliest explicit commit, subject)
DOC_NOTES: list[tuple[str, str, str, str, str]] = [
    ("priya", "docs/architecture.md", "# Architecture\n\nThe shop is one Python package, `shop`, with one subpackage per component.\n", "users", "docs: architecture overview"),
    ("maria", "docs/architecture.md", "\n## Order flow\n\n`orders.place_order` looks up the user and the products, calls\n`payments.checkout.capture_order` and confirms the order through `notifications`.\n", "orders", "docs: describe the order flow"),
    ("jonas", "docs/architecture.md", "\n## Stock\n\nReservations are held in `inventory.stock`; the SQL schema lives in\n`shop/inventory/migrations`.\n", "inventory-migration", "docs: where stock and reservations live"),
    ("tomas", "docs/architecture.md", "\n## Search\n\nProducts and documents are indexed by `search_index.indexer` as records\nwith `id`, `title`, `body` and a list of `tags`.\n", "catalog-index", "docs: search record format"),
    ("aiko", "docs/operations.md", "# Operations\n\nSettings live in `shop/config.py`, one block per environment.\n", "gateway", "docs: start the operations guide"),
    ("aiko", "docs/operations.md", "\n## Payment gateway\n\nThe gateway URL, timeout and retries are configured per environment.\n", "payments", "docs: gateway settings"),
    ("priya", "docs/operations.md", "\n## Notifications\n\nMessages are queued in an outbox and delivered by a worker.\n", "notifications", "docs: how notifications are delivered"),
    ("maria", "docs/testing.md", "# Testing\n\nUnit tests live in `tests/unit` and mock neighbouring components.\n", "checkout-tests", "docs: testing conventions"),
    ("aiko", "docs/testing.md", "\nRun `SHOP_ENV=integrated pytest` to use the HTTP sandbox gateway.\n", "gateway-it", "docs: how to run the integrated suite"),
    ("tomas", "docs/operations.md", "\n## Document uploads\n\nThe upload limit is `max_upload_mb` (larger in production).\n", "documents", "docs: upload limits"),
    ("jonas", "docs/operations.md", "\n## Low-stock alerts\n\n`inventory.alerts.check_low_stock` mails the warehouse when a SKU runs low.\n", "alerts", "docs: low-stock alerts"),
    ("maria", "docs/testing.md", "\nIntegration tests are marked `integration`, the storefront journey `e2e`.\n", "e2e", "docs: test markers"),
    ("priya", "docs/architecture.md", "\n## Users\n\nE-mail addresses are normalised to lower case on registration.\n", "fix-email-case", "docs: e-mail normalisation"),
    ("tomas", "docs/testing.md", "\nSearch tests index records directly; catalogue tests patch the indexer.\n", "catalog-tests", "docs: what search and catalogue tests mock"),
    ("maria", "docs/decisions/0001-in-memory-stores.md", "# 1. In-memory stores\n\nWe keep users, products and orders in memory until the database work starts.\n", "users", "ADR 1: in-memory stores"),
    ("aiko", "docs/decisions/0002-http-gateway-client.md", "# 2. Our own gateway client\n\nThe gateway's SDK pulls in too much; `urllib.request` is enough for three calls.\n", "gateway", "ADR 2: our own gateway client"),
    ("tomas", "docs/decisions/0003-search-records.md", "# 3. Search records\n\nEverything searchable is sent to the indexer as a plain dict record.\n", "search", "ADR 3: search records"),
    ("jonas", "docs/decisions/0004-reservations.md", "# 4. Reservations\n\nStock is reserved per order line and released when an order fails.\n", "fix-charge-order", "ADR 4: reservations"),
    ("priya", "docs/decisions/0005-outbox.md", "# 5. Notification outbox\n\nMessages go to an outbox first so a slow mail server never blocks checkout.\n", "notifications", "ADR 5: notification outbox"),
    ("aiko", "docs/operations.md", "\n## Deployments\n\nStaging is deployed on every merge to main, production weekly.\n", "ci-junit", "docs: deployment cadence"),
    ("maria", "docs/operations.md", "\n## Refunds\n\nRefunds go through `payments.charges.refund_charge`.\n", "refunds", "docs: refunds"),
    ("priya", "docs/testing.md", "\nFixtures in `tests/conftest.py` reset the in-memory stores between tests.\n", "conftest", "docs: test fixtures"),
    ("jonas", "docs/architecture.md", "\n## Catalogue\n\nPrices are stored in cents; gross prices are rounded half up.\n", "fix-rounding", "docs: price rounding"),
    ("tomas", "docs/architecture.md", "\n## Documents\n\nUploads are content-addressed by the first 12 hex digits of their SHA-1.\n", "documents", "docs: document storage"),
    ("aiko", "docs/runbook.md", "# Runbook\n\n## Gateway timeouts\n\nCheck the gateway status page before restarting anything.\n", "fix-retry", "docs: runbook for gateway timeouts"),
    ("maria", "docs/runbook.md", "\n## Failed orders\n\nOrders in status `failed` hold no reservations and were not charged.\n", "fix-charge-order", "runbook: failed orders"),
    ("jonas", "docs/runbook.md", "\n## Stock corrections\n\nUse `inventory.stock.set_level` from a shell; never edit reservations.\n", "inventory", "runbook: stock corrections"),
    ("priya", "docs/runbook.md", "\n## Bounced e-mails\n\nBounces are reported by the mail provider; deactivate the user if needed.\n", "deactivate", "runbook: bounced e-mails"),
    ("tomas", "docs/runbook.md", "\n## Reindexing\n\nCall `search_index.indexer.reset()` and re-add every product and document.\n", "titles", "runbook: reindexing"),
    ("aiko", "docs/testing.md", "\nCoverage: `pytest --cov=shop --cov-context=test`.\n", "gitignore-cov", "docs: measuring coverage"),
    ("maria", "docs/architecture.md", "\n## Payments\n\nCheckout reserves stock before it charges the card.\n", "fix-charge-order", "docs: checkout order of operations"),
    ("jonas", "docs/operations.md", "\n## Migrations\n\nSQL migrations are applied in file-name order.\n", "inventory-migration", "docs: migrations"),
]

#: Files whose docstrings are added together in one maintenance commit (they belong together).
COCHANGE_DOCS = [
    ("Document the reservation contract between checkout and stock", "maria",
     ["shop/payments/checkout.py", "shop/inventory/stock.py"]),
    ("Describe the record format shared by uploads and the indexer", "tomas",
     ["shop/documents/upload.py", "shop/search_index/indexer.py"]),
    ("Document how notifications look users up", "priya", ["shop/notifications/sender.py", "shop/users/service.py"]),
    ("Docstrings for the charge path", "aiko", ["shop/payments/charges.py", "shop/gateway/client.py"]),
    ("Document order placement and checkout", "maria", ["shop/orders/service.py", "shop/payments/checkout.py"]),
    ("Docstrings for stock reservations", "jonas", ["shop/inventory/stock.py", "shop/payments/checkout.py"]),
]

APP_SRC = Path(__file__).resolve().parent / "app_src"


def template(path: str) -> str:
    """The HEAD text of a repository file shipped in ``app_src`` (``<path>.txt``)."""
    return (APP_SRC / (path + ".txt")).read_text(encoding="utf-8")


def _lines_of(path: str, name: str) -> tuple[list[str], ast.FunctionDef | ast.ClassDef]:
    text = template(path)
    node = next(n for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
    return text.splitlines(keepends=True), node


def _added(path: str, at: str, name: str) -> Edit:
    """Commit ``at`` added def/class ``name`` of ``path`` (decorators and the blank lines before it included)."""
    lines, node = _lines_of(path, name)
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    while start and not lines[start - 1].strip():
        start -= 1
    return Edit(path, at, "".join(lines[start:node.end_lineno]), "")


def _rewritten(path: str, at: str, name: str, before: str) -> Edit:
    """Commit ``at`` replaced the body ``before`` of def/class ``name`` of ``path`` by its HEAD body."""
    lines, node = _lines_of(path, name)
    return Edit(path, at, "".join(lines[node.body[0].lineno - 1:node.end_lineno]), before)


E = Edit
EDITS: list[Edit] = [
    # --- rename of the search index module: query imported the old module name
    E("shop/search_index/query.py", "rename-index", "from .indexer import", "from .index import"),
    # --- catalogue indexes products
    E("shop/catalog/service.py", "catalog-index", "from shop.search_index import indexer\n\n", ""),
    E("shop/catalog/service.py", "catalog-index",
      '    indexer.index_record({"id": f"product:{sku}", "title": name, "body": description, "tags": list(tags)})\n', ""),
    E("shop/catalog/service.py", "catalog-tags", '''def list_products(tag=None) -> list:
    products = sorted(_PRODUCTS.values(), key=lambda p: p.sku)
    if tag is None:
        return products
    return [p for p in products if tag in p.tags]
''', '''def list_products() -> list:
    return sorted(_PRODUCTS.values(), key=lambda p: p.sku)
'''),
    _added("tests/unit/test_catalog.py", "catalog-tags", "test_list_by_tag"),
    E("tests/unit/test_catalog.py", "catalog-tags", "from shop.search_index import indexer\n", ""),
    # --- welcome message on registration (function-local import)
    E("shop/users/service.py", "welcome",
      '    from shop.notifications import sender  # local import: notifications imports users\n\n', ""),
    E("shop/users/service.py", "welcome", "    sender.welcome(user)\n", ""),
    E("shop/users/service.py", "welcome", '    """Create a user and send the welcome message."""\n', '    """Create a user."""\n'),
    E("tests/unit/test_users.py", "welcome", '@patch("shop.notifications.sender.welcome")\ndef test_register_normalizes_email(welcome):',
      "def test_register_normalizes_email():"),
    E("tests/unit/test_users.py", "welcome", "    welcome.assert_called_once_with(user)\n", ""),
    E("tests/unit/test_users.py", "welcome", "from unittest.mock import patch\n\n", ""),
    # --- deactivation feature
    _added("shop/users/service.py", "deactivate", "deactivate"),
    E("shop/orders/service.py", "deactivate", '''    if not user.active:
        raise PermissionError(f"user {user_id} is deactivated")
''', ""),
    _added("tests/integration/test_order_flow.py", "deactivate", "test_deactivated_user_cannot_order"),
    # --- (c1) User.email renamed to email_address; notifications kept reading .email until the fix
    E("shop/users/models.py", "rename-email", "    email_address: str\n", "    email: str\n"),
    E("shop/users/models.py", "rename-email", 'self.email_address.split("@")[0]', 'self.email.split("@")[0]'),
    E("shop/users/service.py", "rename-email", "email_address=normalize_email(email))", "email=normalize_email(email))"),
    E("tests/unit/test_users.py", "rename-email", "    assert user.email_address ==", "    assert user.email =="),
    E("shop/notifications/sender.py", "fix-email-rename", '    return send(user.email_address, "welcome", name=user.display_name)',
      '    return send(user.email, "welcome", name=user.display_name)'),
    E("shop/notifications/sender.py", "fix-email-rename", "    return send(user.email_address, template, **context)",
      "    return send(user.email, template, **context)"),
    E("tests/unit/test_notifications.py", "fix-email-rename", "    fake_user = MagicMock(spec=User)\n    fake_user.email_address =",
      "    fake_user = MagicMock()\n    fake_user.email ="),
    E("tests/unit/test_notifications.py", "fix-email-rename", "from shop.users.models import User\n", ""),
    # --- (d6) order confirmation template typo
    E("shop/notifications/templates.py", "fix-template", "Total: {total}.", "Total: {totl}."),
    E("shop/notifications/templates.py", "order-template", '    "order_confirmed": "Your order {order_id} is confirmed. Total: {totl}.",\n', ""),
    _added("tests/unit/test_notifications.py", "fix-template", "test_render_order_confirmed"),
    E("tests/unit/test_notifications.py", "fix-template", "from shop.notifications.templates import render\n", ""),
    E("shop/notifications/templates.py", "alerts", '    "low_stock": "Stock for {sku} is low: {level} left.",\n', ""),
    # --- flaky worker test
    _added("tests/unit/test_notifications.py", "flaky-worker", "test_outbox_drains_in_background"),
    E("tests/unit/test_notifications.py", "flaky-worker", "import threading\nimport time\n", ""),
    _added("tests/conftest.py", "flaky-worker", "worker_delay"),
    E("tests/conftest.py", "flaky-worker", "import random\n", ""),
    # --- (d3) off-by-one in reservations
    E("shop/inventory/stock.py", "fix-offbyone", "        if quantity > available:\n", "        if quantity >= available:\n"),
    _added("tests/unit/test_inventory.py", "fix-offbyone", "test_reserve_exact_level_allowed"),
    # --- (a) charge before reservation: capture_order charged first; fixed by reserving first
    _rewritten("shop/payments/checkout.py", "fix-charge-order", "capture_order", '''    """Charge the customer for ``order`` and reserve its stock."""
    charge = charge_card(order.id, order.total_cents, order.payment_token)
    for line in order.lines:
        stock.reserve(line.sku, line.quantity)
    return {"order_id": order.id, "charge": charge}
'''),
    E("shop/payments/checkout.py", "fix-charge-order", "from .errors import PaymentFailed\n", ""),
    _rewritten("shop/inventory/stock.py", "fix-charge-order", "OutOfStock", "    pass\n"),
    E("shop/inventory/stock.py", "fix-charge-order", "            raise OutOfStock(sku, quantity, available)\n",
      '            raise OutOfStock(f"{sku}: requested {quantity}, available {available}")\n'),
    _added("shop/inventory/stock.py", "fix-charge-order", "release"),
    _added("tests/unit/test_inventory.py", "fix-charge-order", "test_release_returns_units"),
    _added("tests/unit/test_checkout.py", "fix-charge-order", "test_capture_out_of_stock_does_not_charge"),
    _added("tests/unit/test_checkout.py", "fix-charge-order", "test_charge_failure_releases_stock"),
    E("tests/unit/test_checkout.py", "fix-charge-order", '''from unittest.mock import MagicMock, call, patch

import pytest

from shop.inventory.stock import OutOfStock
from shop.orders.models import Order, OrderLine
from shop.payments import checkout
from shop.payments.errors import PaymentFailed
''', '''from unittest.mock import patch

from shop.orders.models import Order, OrderLine
from shop.payments import checkout
'''),
    # --- (c2) gateway retried timed-out charges without an idempotency key
    _rewritten("shop/gateway/client.py", "fix-retry", "charge", '''        """Charge a card, retrying transient failures."""
        payload = {"amount": amount_cents, "currency": currency, "source": token}
        last_error = None
        for attempt in range(self.retries + 1):
            try:
                return self._post("/v1/charges", payload, {})
            except urllib.error.HTTPError as exc:
                if exc.code == 402:
                    raise CardDeclined(token) from exc
                raise GatewayError(f"gateway answered {exc.code}") from exc
            except (urllib.error.URLError, socket.timeout, TimeoutError) as exc:
                last_error = exc
        raise GatewayTimeout(f"no answer after {self.retries + 1} attempts: {last_error}")
'''),
    E("shop/gateway/client.py", "fix-retry", "import urllib.request\nimport uuid\n", "import urllib.request\n"),
    E("tests/unit/test_gateway_client.py", "fix-retry", '    assert "Idempotency-Key" in headers\n', ""),
    _added("tests/unit/test_gateway_client.py", "fix-retry", "test_timeout_is_not_retried"),
    E("tests/unit/test_gateway_client.py", "fix-retry", '''import socket
from unittest.mock import patch

import pytest

from shop.gateway.client import GatewayClient
from shop.gateway.errors import GatewayTimeout
''', '''from unittest.mock import patch

from shop.gateway.client import GatewayClient
'''),
    _added("shop/gateway/client.py", "refunds", "refund"),
    _added("shop/payments/charges.py", "refunds", "refund_charge"),
    # --- (e) the gateway timeout was lowered below the sandbox gateway's latency (still open)
    *(E("shop/config.py", "timeout", f'"gateway_url": "{url}",\n        "gateway_timeout": 0.2,',
        f'"gateway_url": "{url}",\n        "gateway_timeout": 5.0,')
      for url in ("http://127.0.0.1:8099", "https://gateway.staging.example.net", "https://gateway.example.net")),
    # --- (c3) notification_sender only in dev/staging until the production fix
    E("shop/config.py", "fix-sender-prod", '        "notification_sender": "orders@example.net",\n', ""),
    *(E("shop/config.py", "sender-config", f'        "notification_sender": "{sender}",\n', "")
      for sender in ("shop-dev@example.test", "shop-staging@example.net")),
    E("shop/notifications/sender.py", "sender-config", "from shop.config import get_settings\n", ""),
    E("shop/notifications/sender.py", "sender-config", '''    settings = get_settings()
    message = Message(sender=settings["notification_sender"], to=to, body=render(template, **context))
''', '''    message = Message(sender="noreply@example.net", to=to, body=render(template, **context))
'''),
    E("shop/config.py", "documents", '''        "max_upload_mb": 10,
    },
    "staging"''', '''    },
    "staging"'''),
    E("shop/config.py", "documents", '''        "max_upload_mb": 10,
    },
    "production"''', '''    },
    "production"'''),
    E("shop/config.py", "documents", '''        "max_upload_mb": 25,
    },
}''', '''    },
}'''),
    _rewritten("shop/config.py", "overrides", "get_settings", "    return dict(SETTINGS[env or current_env()])\n"),
    E("shop/config.py", "overrides", '''
The environment is chosen with SHOP_CONFIG_ENV (dev, staging, production);
individual values can be overridden with SHOP_<KEY> variables.
''', '''
The environment is chosen with SHOP_CONFIG_ENV (dev, staging, production).
'''),
    _added("tests/unit/test_config.py", "overrides", "test_environment_override"),
    # conftest: the gateway fixtures came with the sandbox integration tests, uploads with documents
    *(_added("tests/conftest.py", "gateway-it", name) for name in ("_GatewayHandler", "FakeGatewayClient", "gateway")),
    E("tests/conftest.py", "gateway-it", '''"""Shared fixtures.

SHOP_ENV selects how external services are provided:
  isolated   - in-process fakes (fast, the default for developers)
  integrated - a real HTTP fake of the payment gateway on 127.0.0.1
"""
import json
import os
''', '''"""Shared fixtures."""
import os
'''),
    E("tests/conftest.py", "gateway-it", "import threading\nimport time\nfrom http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n", ""),
    E("tests/conftest.py", "gateway-it", '''
SHOP_ENV = os.environ.get("SHOP_ENV", "isolated")
GATEWAY_LATENCY = 0.5  # the sandbox gateway's typical authorisation time
''', ""),
    E("tests/conftest.py", "documents-tests", "from shop.documents import upload\n", ""),
    E("tests/conftest.py", "documents-tests", "(catalog, upload, stock,", "(catalog, stock,"),
    # --- (d1) price rounding
    E("shop/catalog/models.py", "fix-rounding", '''        gross = Decimal(self.price_cents) * (Decimal(1) + Decimal(rate))
        return int(gross.quantize(Decimal(1), rounding=ROUND_HALF_UP))
''', '''        return int(self.price_cents * (1 + float(rate)))
'''),
    E("shop/catalog/models.py", "fix-rounding", "from dataclasses import dataclass, field\nfrom decimal import ROUND_HALF_UP, Decimal\n",
      "from dataclasses import dataclass, field\n"),
    E("shop/catalog/models.py", "fix-rounding", '        """Gross price in cents, rounded half up like the invoices."""\n', ""),
    E("tests/unit/test_catalog.py", "fix-rounding", '''def test_price_with_tax_rounds_half_up():
    assert Product("A-1", "Mug", 250).price_with_tax() == 298
    assert Product("A-2", "Pen", 50).price_with_tax() == 60
''', '''def test_price_with_tax():
    assert Product("A-1", "Mug", 1000).price_with_tax() == 1190
'''),
    # --- (d2) e-mail validation was case sensitive
    E("shop/users/service.py", "fix-email-case", "    return bool(_EMAIL.match(normalize_email(email)))\n",
      "    return bool(_EMAIL.match(email))\n"),
    E("tests/integration/test_user_notifications.py", "fix-email-case", 'users.register("Grace", "Grace@Example.net")',
      'users.register("Grace", "grace@example.net")'),
    E("tests/unit/test_users.py", "fix-email-case", 'service.register("Ada", "  Ada@Example.NET ")', 'service.register("Ada", "ada@example.net")'),
    _added("tests/unit/test_users.py", "fix-email-case", "test_email_validation_ignores_case"),
    # --- (d4) accents
    _rewritten("shop/search_index/indexer.py", "fix-accents", "tokenize",
               '    return [word for word in text.lower().replace("-", " ").split() if word]\n'),
    E("shop/search_index/indexer.py", "fix-accents", "import logging\nimport unicodedata\n", "import logging\n"),
    _added("tests/unit/test_search_index.py", "fix-accents", "test_accents_are_folded"),
    _added("shop/search_index/query.py", "titles", "titles"),
    E("shop/search_index/query.py", "titles", "from .indexer import INDEX, RECORDS, tokenize", "from .indexer import INDEX, tokenize"),
    # --- (d5) upload limit counted in kilobytes
    E("shop/documents/upload.py", "fix-upload-size", '    return get_settings()["max_upload_mb"] * 1024 * 1024\n',
      '    return get_settings()["max_upload_mb"] * 1024\n'),
    # --- documents publish to search; (b) metadata sent in a format the indexer skips
    E("shop/documents/upload.py", "documents-index", "from shop.search_index import indexer\n", ""),
    E("shop/documents/upload.py", "documents-index", "    indexer.index_record(meta.to_record())\n", ""),
    E("shop/documents/upload.py", "documents-index", '    """Store ``content`` and make it findable by title and tags."""\n',
      '    """Store ``content``."""\n'),
    E("shop/documents/models.py", "fix-doc-record",
      '        return {"id": f"doc:{self.doc_id}", "title": self.title, "body": "", "tags": list(self.tags)}\n',
      '        return {"id": f"doc:{self.doc_id}", "doc_title": self.title, "tags": ",".join(self.tags)}\n'),
    E("shop/documents/models.py", "doc-record",
      '        return {"id": f"doc:{self.doc_id}", "doc_title": self.title, "tags": ",".join(self.tags)}\n',
      '        return {"id": f"doc:{self.doc_id}", "title": self.title}\n'),
    E("shop/documents/models.py", "fix-doc-record", '    """Metadata of an uploaded document (see schema/metadata.schema.json)."""\n',
      '    """Metadata of an uploaded document."""\n'),
    E("shop/documents/models.py", "doc-tags", "    tags: list = field(default_factory=list)\n", ""),
    E("shop/documents/models.py", "doc-tags", "from dataclasses import dataclass, field\n", "from dataclasses import dataclass\n"),
    E("shop/documents/upload.py", "doc-tags", "size_bytes=len(content), tags=list(tags))", "size_bytes=len(content))"),
    E("shop/search_index/indexer.py", "fix-doc-record", '''"""The in-memory inverted index.

Records are dicts with ``id``, ``title``, optional ``body`` and ``tags`` (a list).
"""''', '''"""The in-memory inverted index."""'''),
    E("tests/unit/test_documents.py", "merge-fix-index", "    index_record.assert_called_once_with(meta.to_record())\n",
      "    index_record.assert_called_once()\n"),
    # --- low-stock alerts import the template; invoices
    _added("shop/orders/service.py", "invoice", "attach_invoice"),
    E("shop/orders/service.py", "invoice", '''
if TYPE_CHECKING:
    from shop.documents.models import DocumentMeta
''', ""),
    E("shop/orders/service.py", "invoice", "from typing import TYPE_CHECKING\n\n", ""),
    # --- (d7) totals printed as floats
    E("shop/orders/service.py", "fix-total", '    return f"{cents // 100}.{cents % 100:02d} EUR"\n', '    return f"{cents / 100} EUR"\n'),
    E("tests/integration/test_order_flow.py", "fix-total", '    assert "23.80 EUR" in sender.OUTBOX[-1].body\n', ""),
    _added("tests/unit/test_orders.py", "fix-total", "test_format_total"),
    E("shop/orders/service.py", "order-template",
      '    sender.notify_user(user.id, "order_confirmed", order_id=order.id, total=format_total(order.total_cents))\n', ""),
    E("shop/orders/service.py", "order-template", "from shop.notifications import sender\n", ""),
    E("tests/unit/test_orders.py", "order-template", '''    capture_order.assert_called_once_with(order)
    notify_user.assert_called_once()
''', '''    capture_order.assert_called_once_with(order)
'''),
    E("tests/unit/test_orders.py", "order-template", '''    assert service.get_order(1).status == "failed"
    notify_user.assert_not_called()
''', '''    assert service.get_order(1).status == "failed"
'''),
    E("tests/unit/test_orders.py", "order-template",
      '@patch("shop.orders.service.sender.notify_user")\n@patch("shop.orders.service.checkout.capture_order")\n',
      '@patch("shop.orders.service.checkout.capture_order")\n'),
    E("tests/unit/test_orders.py", "order-template",
      "def test_place_order_marks_paid(get_user, get_product, capture_order, notify_user, user):",
      "def test_place_order_marks_paid(get_user, get_product, capture_order, user):"),
    E("tests/unit/test_orders.py", "order-template",
      '@patch("shop.orders.service.sender.notify_user")\n@patch("shop.orders.service.checkout.capture_order", side_effect',
      '@patch("shop.orders.service.checkout.capture_order", side_effect'),
    E("tests/unit/test_orders.py", "order-template",
      "def test_payment_failure_marks_failed(get_user, get_product, capture_order, notify_user, user):",
      "def test_payment_failure_marks_failed(get_user, get_product, capture_order, user):"),
    E("pytest.ini", "merge-e2e", "    e2e: drives a whole user journey\n", ""),
    E("pytest.ini", "integration-suite", "markers =\n    integration: wires several real components together\n", ""),
    # --- CI workflow maintenance
    E(".github/workflows/tests.yml", "ci-matrix", "    strategy:\n      matrix:\n        shop_env: [isolated, integrated]\n", ""),
    E(".github/workflows/tests.yml", "ci-matrix", "        env:\n          SHOP_ENV: ${{ matrix.shop_env }}\n", ""),
    E(".github/workflows/tests.yml", "ci-cov", "      - run: pip install pytest pytest-cov\n", "      - run: pip install pytest\n"),
    E(".github/workflows/tests.yml", "ci-junit", "      - run: pytest --junitxml=junit.xml\n", "      - run: pytest\n"),
    E(".github/workflows/tests.yml", "ci-py311", "python-version: '3.11'", "python-version: '3.10'"),
    E(".github/workflows/tests.yml", "ci-checkout", "actions/checkout@v4", "actions/checkout@v3"),
    E(".gitignore", "gitignore-cov", ".coverage\nhtmlcov/\n", ""),
    E(".gitignore", "gitignore-junit", "junit*.xml\n", ""),
    # --- co-changes of files that belong together
    E("shop/payments/checkout.py", "hints-reservation", "def capture_order(order) -> dict:\n", "def capture_order(order):\n"),
    E("shop/inventory/stock.py", "hints-reservation", "def level(sku: str) -> int:\n", "def level(sku):\n"),
    E("shop/inventory/stock.py", "hints-reservation", "def reserve(sku: str, quantity: int) -> None:\n", "def reserve(sku, quantity):\n"),
    E("shop/documents/upload.py", "hints-records", 'def upload(owner: "User", title: str, content: bytes, tags=()) -> DocumentMeta:\n',
      "def upload(owner, title, content, tags=()):\n"),
    E("shop/documents/upload.py", "hints-records", "import hashlib\nfrom typing import TYPE_CHECKING\n", "import hashlib\n"),
    E("shop/documents/upload.py", "hints-records", "\nif TYPE_CHECKING:\n    from shop.users.models import User\n", ""),
    E("shop/search_index/indexer.py", "hints-records", "def index_record(record: dict) -> bool:\n", "def index_record(record):\n"),
    E("shop/search_index/indexer.py", "hints-records", "def tokenize(text: str) -> list:\n", "def tokenize(text):\n"),
    # --- README gains the environment switch
    E("README.md", "readme-envs", '''    pip install pytest
    SHOP_ENV=isolated pytest          # in-process fakes
    SHOP_ENV=integrated pytest        # HTTP sandbox gateway on 127.0.0.1
''', '''    pip install pytest
    pytest
'''),
]
