"""Write ``truth.json`` and the sample's README from what the builder generated."""
from __future__ import annotations

import json
import re
from pathlib import Path

from toolkit.vocab.environments import normalize
from toolkit.sample import exports, history, runs, services, truth
from toolkit.sample.repo import Plan, tree_at

#: The planted problems and the issues that tell their story.
PLANTED = {
    "charge_before_reservation": "SHOP-10",
    "document_metadata_format": "#24",
    "renamed_user_email": "SHOP-6",
    "gateway_retry_double_charge": "#21",
    "production_config_missing_sender": "SHOP-11",
    "open_gateway_timeout_integrated": "#33",
}


def _mentions(message: str, key: str) -> bool:
    start = r"(?<![\w#])" if key.startswith("#") else r"\b"  # \b cannot precede a "#"
    return re.search(rf"{start}{re.escape(key)}\b", message) is not None


def write(out_dir: Path, plan: Plan, shas: list[str], checkout_root: str) -> dict:
    """Compute the truth (see toolkit.sample.truth) and write truth.json + README.md into ``out_dir``."""
    head_files = tree_at(plan, len(plan.commits) - 1)
    derived = truth.compute(head_files, out_dir / "results", out_dir / "coverage" / ".coverage", checkout_root)
    sha = {c.key: shas[i] for i, c in enumerate(plan.commits)}

    issues = []
    for issue in exports.ISSUES:
        fixes = [sha[k] for k in issue.fixes]
        issues.append({
            "key": issue.key,
            "tracker": "jira" if issue.key.startswith("SHOP-") else "github",
            "type": {"Story": "feature", "PR": "pull_request"}.get(issue.type, issue.type.lower()),
            "category": issue.category,
            "environment": normalize(issue.environment) if issue.environment else None,
            "environment_reported": issue.environment or None,
            "state": "open" if issue.open else "closed",
            "components": list(issue.code_components),
            "seam": issue.seam,
            "introduced_by": sha[issue.intro] if issue.intro else None,
            "fix_commits": fixes,
            "fix_commits_mentioning_key": [sha[k] for k in issue.fixes
                                           if _mentions(plan.commits[plan.pos[k]].message, issue.key)],
        })
    bugs = [i for i in issues if i["type"] == "bug"]
    # risky: seams whose integration bug escaped to production and that no test integrates at HEAD
    risky = sorted({i["seam"] for i in bugs if i["category"] == "integration" and i["environment"] == "production"
                    and i["seam"] in derived["seams"] and not derived["seams"][i["seam"]]["integration_covered"]})
    data = {
        "formats": {
            "seam": "caller->callee (toolkit.vocab.components.seam_name)",
            "test_id": "dotted test module path + [Class.]test_name (toolkit.vocab.testids), e.g. "
                       "tests.unit.test_checkout.test_capture_charges_and_reserves",
            "call_site": "path (repo-relative), line (1-based, the call's first line), callee (qualified symbol)",
            "call_site_status": "integration: executed (integrated run 1 coverage) by a test that does not replace the "
                                "callee; isolation_only: executed only under tests that replace it, or only "
                                "referenced by mocks; untested: neither (a subclass statement, kind subclass, runs at import "
                                "time outside any test context, so it is untested by this rule)",
        },
        "head": shas[-1],
        "commit_count": len(shas),
        "authors": sorted(name for name, _ in history.AUTHORS.values()),
        **derived,  # components, seams, untested and integration-covered seams, tests, flaky and env-only tests
        "issues": issues,
        "unlinked_fixes": [i["key"] for i in bugs if i["fix_commits"] and not i["fix_commits_mentioning_key"]],
        "planted": {name: {"issue": key, **{k: v for i in issues if i["key"] == key for k, v in i.items()
                                               if k in ("seam", "category", "environment", "fix_commits")}}
                    for name, key in PLANTED.items()},
        "environment_differences": truth.environment_differences(head_files["shop/config.py"]),
        "top_risky_seams": risky,
        "backtest_rev": shas[plan.pos["fix-charge-order"] - 1],
        "backtest_note": "after the document metadata bug was introduced and before either it or the "
                         "charge-before-reservation bug was fixed",
        "bulk_commits": [sha[k] for k in history.BULK],
        "renames": [{"old": old, "new": new, "commit": sha[key]} for old, new, key in history.RENAMES],
        "coverage": {"file": "coverage/.coverage", "environment": "integrated", "run": 1,
                     "recorded_root": checkout_root},
        "junit_family": runs.JUNIT_FAMILY,
        "services": services.truth(head_files),
    }
    expected_risky = ["documents->search_index", "payments->inventory"]
    if risky != expected_risky:
        raise AssertionError(f"the sample no longer plants the expected risky seams: {risky} != {expected_risky}")
    (out_dir / "truth.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(README.format(commits=len(shas), head=shas[-1][:12]), encoding="utf-8")
    return data


README = """# The embedded sample: `shop`

A small online shop with a document library, used as every seamscope command's default
input and as the reference its analyses are tested against. Generated by
`python -m toolkit.sample data/sample` (deterministic: the same commit ids every build,
the same test outcomes every run); nothing needs generating at demo time.

| file | what |
|---|---|
| `repo.bundle` | the git repository ({commits} commits on `main`, HEAD `{head}`), five authors, one year of history: features, refactors, bug introductions and fixes, one `git mv`, two bulk commits (coding cookies, licence headers) |
| `results/<environment>/run<N>/junit.xml` | the sample's own pytest suite run at HEAD: `isolated` (in-process fakes, xunit1) and `integrated` (HTTP fake gateway on 127.0.0.1, xunit2), three runs each |
| `results/manifest.json` | environment, commit and run index of every result directory |
| `coverage/.coverage` | coverage.py data with per-test contexts (`--cov-context=test`) from integrated run 1; file paths are those of the builder's temporary checkout (see `truth.json: coverage.recorded_root`) |
| `issues/jira_export.csv` | the first half of the issues, Jira Cloud "Export CSV (all fields)" |
| `issues/github_issues.json` | the second half, GitHub REST `/issues?state=all` (a few pull requests included) |
| `contracts/` | the inventory (OpenAPI 3) and payments (Swagger 2) specs and the orders->inventory Pact (v3) |
| `traces/<environment>/spans.jsonl` | OTLP JSON (collector file-exporter format) of the `integrated` test run and of `production`, generated from the declared traffic (`toolkit/sample/services.py`) |
| `truth.json` | what really happened — **only tests read it**, never analyses |

## The application

Package `shop` with one component per subpackage: `users`, `catalog`, `inventory`, `payments`,
`orders`, `notifications`, `documents`, `search_index`, `gateway` (HTTP client of an external
payment gateway), plus `shop/config.py` (component `shop`, settings per environment).
Tests: `tests/unit` (mock their neighbours heavily), `tests/integration`, `tests/e2e`,
`tests/conftest.py` (`SHOP_ENV=isolated|integrated`).

## What is planted

* checkout charged the card before reserving stock (fixed; still only tested with mocks);
* documents sent metadata the search index silently skipped (fixed; still only mock-tested);
* a renamed field (`User.email` -> `email_address`), a gateway retry/idempotency bug and a
  production-only configuration gap, each introduced and fixed;
* several single-component bugs for contrast; two fixes whose messages name no issue;
* an open integration problem that fails only in the `integrated` environment, and a flaky test;
* a seam no test executes (`inventory->notifications`);
* at the service level (`deploy/docker-compose.yml`): `orders` calls the `inventory` and `payments` HTTP APIs
  and publishes `order-placed` for `notifications`; the inventory spec renamed `level` to `available` while
  the orders Pact and code still read `level`; only production traces carry `order-placed` — a service seam
  no test exercises.
"""
