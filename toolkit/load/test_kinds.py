"""Unit, integration or end-to-end: THE one definition of a test's kind, with its reasons.

Every test found in source (``test_*`` functions and methods of ``Test*``/
``TestCase`` classes, read with :mod:`ast`, in the files pytest collects:
:func:`toolkit.vocab.components.is_collected_test_file`) or in JUnit results gets one row.
The kind is decided by the first layer that has an opinion, in this order:

1. **explicit marker** — ``@pytest.mark.e2e`` / ``integration`` / ``unit`` on the
   test, its class or the module's ``pytestmark`` (names in :class:`TestKindRules`);
2. **path / name convention** — a directory such as ``tests/e2e``,
   ``acceptance``, ``functional``, ``tests/integration``, ``with_dummyserver``,
   ``tests/unit``, or a file named ``test_*_integration.py``;
3. **evidence**, strongest first:
   a browser fixture (``page``, ``browser``, ``selenium``...) -> e2e;
   a real server/process/socket (fixtures like ``live_server``, ``httpserver``,
   ``*_container``; calls to ``subprocess``/``socket``) -> integration;
   per-test coverage executing >= ``min_components`` production components that
   it does not mock -> integration;
   calling an external client library (HTTP, DB, queue...) without stubbing it -> integration;
   (without coverage for the test) importing >= ``min_components`` components and mocking none
   of them -> integration;
   mocking every neighbour of the one component it imports -> unit;
4. otherwise **unit** (no sign of crossing a component boundary).

Explicit beats convention beats evidence because a team's own label is a
statement of intent; the evidence that disagrees is still listed in ``reasons``
(prefixed ``"overridden: "``) so a reviewer sees the mismatch.

``components`` lists the production components the test executed (per-test
coverage) or, when the test is not in the coverage data, the components its file
imports; ``mocked_components`` those whose symbols it replaces (``mocks`` table).
A mock applied under a condition (``mocks.conditional``) still counts as a mock,
since CI runs usually take that branch; a reason naming mocked components adds
which of them are replaced only under a condition.
Parametrised tests have one row under the id without ``[...]``; match JUnit ids
with :func:`toolkit.vocab.testids.base_test_id`.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from collections.abc import Set as AbstractSet
from functools import lru_cache
from pathlib import PurePosixPath

import pandas as pd

from toolkit.vocab import schema
from toolkit.errors import Skip
from toolkit.vocab.external_services import external_service
from toolkit.load.gitrepo import Repo
from toolkit.load.mocks import (SymbolResolver, TestFile, TestInfo, collect_tests, mocks_table, python_classes_of,
                                python_files_of, read_test_files)
from toolkit.vocab.testids import base_test_id

UNIT, INTEGRATION, E2E = "unit", "integration", "e2e"


@dataclass(frozen=True)
class TestKindRules:
    """Patterns and thresholds of the classification (module docstring); every field can be overridden."""

    __test__ = False  # not a pytest test class

    e2e_markers: tuple[str, ...] = ("e2e", "end_to_end", "endtoend", "acceptance", "system", "ui", "browser")
    integration_markers: tuple[str, ...] = ("integration", "integration_test", "contract", "db", "database",
                                            "requires_db", "docker", "network", "online")
    unit_markers: tuple[str, ...] = ("unit", "unit_test", "unittest")
    e2e_dirs: tuple[str, ...] = ("e2e", "end_to_end", "endtoend", "acceptance", "functional", "system", "ui")
    integration_dirs: tuple[str, ...] = ("integration", "integration_tests", "integrationtests", "it",
                                         "with_dummyserver", "contract", "contracts")
    unit_dirs: tuple[str, ...] = ("unit", "unit_tests", "unittests")
    e2e_files: tuple[str, ...] = ("test_*_e2e.py", "test_e2e_*.py", "*_e2e_test.py")
    integration_files: tuple[str, ...] = ("test_*_integration.py", "test_integration_*.py", "*_integration_test.py",
                                          "test_*_it.py", "test_contract_*.py", "test_*_contract.py",
                                          "test_acceptance_*.py", "test_*_acceptance.py")
    e2e_fixtures: tuple[str, ...] = ("browser", "page", "selenium", "driver", "webdriver", "playwright*",
                                     "splinter*", "live_browser")
    server_fixtures: tuple[str, ...] = ("live_server", "httpserver", "http_server", "*_server", "server", "httpbin*",
                                        "docker*", "*_container", "container", "testcontainer*", "*_service_url",
                                        "unused_tcp_port*", "xprocess", "postgresql", "redis_proc", "mongodb")
    process_calls: tuple[str, ...] = ("subprocess.*", "socket.socket", "socket.create_connection",
                                      "http.server.*", "multiprocessing.Process", "asyncio.create_subprocess_*")
    #: a call to an external library counts as reaching the service when it is a function (``requests.get``,
    #: ``psycopg2.connect``) or a class named like a connection; data classes (``HTTPResponse``,
    #: ``Request``, exceptions) do not reach anything.
    client_classes: tuple[str, ...] = ("*Connection", "*Client", "*Session", "SMTP*", "Redis", "StrictRedis",
                                       "*Producer", "*Consumer", "MongoClient", "*Pool")
    min_components: int = 2
    use_imports: bool = True


def _path_parts(file: str) -> list[str]:
    return [p.lower() for p in PurePosixPath(file).parts[:-1]]


def _convention(file: str | None, rules: TestKindRules) -> tuple[str, str] | None:
    if not file:
        return None
    dirs = _path_parts(file)
    name = PurePosixPath(file).name
    for kind, names in ((E2E, rules.e2e_dirs), (INTEGRATION, rules.integration_dirs), (UNIT, rules.unit_dirs)):
        hit = next((d for d in dirs if d in names), None)
        if hit:
            return kind, f"path: under a {hit!r} directory ({file})"
    for kind, pats in ((E2E, rules.e2e_files), (INTEGRATION, rules.integration_files)):
        if _match(name, pats):
            return kind, f"path: file name {name!r} follows the {kind} convention"
    return None


@lru_cache(maxsize=1 << 14)
def path_kind(file: str | None, rules: TestKindRules = TestKindRules()) -> str | None:
    """The kind a test file's path says by convention (directories, then file name): ``unit``, ``integration``,
    ``e2e`` or None. The one definition of "an integration test by its path", also used where only paths are
    known (e.g. the files a bug fix touched, toolkit.analyze.bug_categorization)."""
    got = _convention(file, rules)
    return got[0] if got else None


def _marker(markers: list[str], rules: TestKindRules) -> tuple[str, str] | None:
    for kind, names in ((E2E, rules.e2e_markers), (INTEGRATION, rules.integration_markers), (UNIT, rules.unit_markers)):
        hit = next((m for m in markers if m in names), None)
        if hit:
            return kind, f"marker: @pytest.mark.{hit}"
    return None


def _match(name: str, pats: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in pats)


def _file_from_test_id(test_id: str) -> str:
    """Best-effort path of a results-only test (``tests.integration.test_x.T.t`` -> ``tests/integration/...``)."""
    return "/".join(base_test_id(test_id).split(".")[:-1]) + ".py"


def classify_tests(structure, repo, rev: str | None = None, *, mocks: pd.DataFrame | None = None,
                   test_components: pd.DataFrame | None = None, test_results: pd.DataFrame | None = None,
                   rules: TestKindRules | None = None, skips: list[Skip] | None = None,
                   test_files: dict[str, TestFile] | None = None) -> pd.DataFrame:
    """The ``test_kinds`` table for every test in source and in ``test_results``.

    ``structure`` (files, imports, call_sites) and ``repo``/``rev`` give the test
    source; ``mocks`` (table ``mocks``) is computed when not given;
    ``test_components`` (table ``test_components``, from per-test coverage) and
    ``test_results`` (table ``test_results``) are optional evidence; ``test_files``
    (from :func:`toolkit.load.mocks.read_test_files`) avoids parsing the tests twice.
    """
    r = repo if isinstance(repo, Repo) else Repo.open(repo)
    files = test_files if test_files is not None else read_test_files(structure, r, rev, skips=skips)
    tests = collect_tests(files, python_files_of(structure), python_classes_of(structure))
    resolver = SymbolResolver(structure, r, rev)
    if mocks is None:
        mocks = mocks_table(tests, files, resolver)
    return classify(tests, files, resolver, neighbours(structure), mocks=mocks, test_components=test_components,
                    test_results=test_results, rules=rules)


def neighbours(structure) -> dict[str, set[str]]:
    """component -> components it imports or calls (from structure.imports and structure.call_sites)."""
    out: dict[str, set[str]] = {}
    pairs = [t[cols].set_axis(["a", "b"], axis=1) for t, cols in (
        (structure.imports, ["component", "target_component"]),
        (structure.call_sites, ["caller_component", "callee_component"])) if len(t)]
    if pairs:
        both = pd.concat(pairs).dropna()
        for a, b in zip(both["a"].astype(str), both["b"].astype(str)):
            if a != b:
                out.setdefault(a, set()).add(b)
    return out


def classify(tests: list[TestInfo], test_files: dict[str, TestFile], resolver: SymbolResolver,
             neighbours: dict[str, set[str]], *, mocks: pd.DataFrame | None = None,
             test_components: pd.DataFrame | None = None, test_results: pd.DataFrame | None = None,
             rules: TestKindRules | None = None) -> pd.DataFrame:
    """Classify already collected tests (what :func:`classify_tests` does after reading the source)."""
    rules = rules or TestKindRules()
    mocked, conditionally, stubbed_services = _mocked_by_test(mocks)
    executed: dict[str, set[str]] | None = None
    if test_components is not None:
        executed = {}
        tids = test_components["test_id"].astype(str).map(base_test_id)
        for t, c in zip(tids, test_components["component"].astype(str)):
            executed.setdefault(t, set()).add(c)
    imported = {tf.path: {comp for _q, comp, inside in map(resolver.resolve, tf.imports) if inside and comp}
                for tf in test_files.values()}

    rows = []
    seen = set()
    for t in tests:
        seen.add(t.test_id)
        # names defined in the repository are the code under test, never "an external library"
        calls = {c for c in t.calls if not resolver.resolve(c)[2]}
        rows.append(_decide(t.test_id, t.file, t.markers, t.fixtures, calls, imported.get(t.file, set()),
                            mocked.get(t.test_id, set()), stubbed_services.get(t.test_id, set()),
                            executed, neighbours, rules, conditionally.get(t.test_id, set())))
    if test_results is not None and len(test_results):
        res = test_results.drop_duplicates("test_id")
        for tid, file in zip(res["test_id"].astype(str), res["file"].astype(object)):
            base = base_test_id(tid)
            if base in seen:
                continue
            seen.add(base)
            f = None if pd.isna(file) else str(file)
            row = _decide(base, f or _file_from_test_id(base), [], [], set(), set(), mocked.get(base, set()),
                          stubbed_services.get(base, set()), executed, neighbours, rules, conditionally.get(base, set()))
            row["file"] = f
            row["reasons"] = ["seen only in test results (no source found)"] + row["reasons"]
            rows.append(row)
    if not rows:
        return schema.empty("test_kinds")
    df = pd.DataFrame(rows).sort_values("test_id", kind="stable").reset_index(drop=True)
    return schema.conform(df, "test_kinds")


def _mocked_by_test(mocks: pd.DataFrame | None) -> tuple[dict[str, set[str]], dict[str, set[str]],
                                                         dict[str, set[str]]]:
    """Per base test id: components it mocks, those it mocks only conditionally, external services it stubs.

    A component is mocked only conditionally when every one of the test's mocks of it is ``conditional``
    (tables without that column count as unconditional).
    """
    mocked: dict[str, set[str]] = {}
    always: dict[str, set[str]] = {}
    stubbed: dict[str, set[str]] = {}
    if mocks is None or not len(mocks):
        return mocked, {}, stubbed
    cond = mocks["conditional"].astype(bool) if "conditional" in mocks.columns else pd.Series(False, mocks.index)
    for t, c, s, when in zip(mocks["test_id"].map(base_test_id), mocks["target_component"].astype(object),
                             mocks["external_service"].astype(object), cond):
        if not pd.isna(c):
            mocked.setdefault(t, set()).add(c)
            if not when:
                always.setdefault(t, set()).add(c)
        if not pd.isna(s):
            stubbed.setdefault(t, set()).add(s)
    conditionally = {t: comps - always.get(t, set()) for t, comps in mocked.items()}
    return mocked, {t: c for t, c in conditionally.items() if c}, stubbed


def _only_under_condition(components: AbstractSet[str], conditional: AbstractSet[str]) -> str:
    """`` (payments only under a condition)`` for the named components mocked only conditionally, else ``""``."""
    named = sorted(components & conditional)
    return f" ({', '.join(named)} only under a condition)" if named else ""


def _decide(test_id: str, file: str | None, markers: list[str], fixtures: list[str], calls: set[str],
            imported: set[str], mocked: set[str], stubbed: set[str], executed: dict[str, set[str]] | None,
            neighbours: dict[str, set[str]], rules: TestKindRules,
            conditional: set[str] | frozenset[str] = frozenset()) -> dict:
    """One test's kind; ``calls`` are the dotted names it (and its fixtures) call outside the repository.

    ``conditional`` (of ``mocked``) only changes wording: a mock under a condition still counts, since the
    run that matters (CI) usually takes that branch.
    """
    # (kind, reason) in precedence order
    decisions: list[tuple[str, str]] = [d for d in (_marker(markers, rules), _convention(file, rules)) if d]
    ex = executed.get(test_id) if executed is not None else None  # a test absent from the coverage run: unknown
    browser = [f for f in fixtures if _match(f, rules.e2e_fixtures)]
    if browser:
        decisions.append((E2E, f"evidence: drives a browser/UI through fixture(s) {', '.join(browser)}"))
    servers = [f for f in fixtures if _match(f, rules.server_fixtures)]
    if servers:
        decisions.append((INTEGRATION, "evidence: starts a real server/container through fixture(s) "
                                       + ", ".join(servers)))
    procs = sorted(x for x in calls if _match(x, rules.process_calls))
    if procs:
        decisions.append((INTEGRATION, f"evidence: uses a real process/socket ({', '.join(procs[:3])})"))
    if ex is not None:
        real = sorted(ex - mocked)
        if len(real) >= rules.min_components:
            decisions.append((INTEGRATION, f"coverage: executes {len(real)} production components without mocking "
                                           f"them ({', '.join(real)})"))
    reaching = [x for x in calls if not x.rsplit(".", 1)[-1][:1].isupper()
                or _match(x.rsplit(".", 1)[-1], rules.client_classes)]
    services = sorted({s for s in (external_service(x) for x in reaching) if s and s not in stubbed
                       and s not in ("process", "socket")})
    if services:
        decisions.append((INTEGRATION, f"evidence: calls external client libraries for real ({', '.join(services)})"))
    if ex is None and rules.use_imports and len(imported) >= rules.min_components and not (imported & mocked):
        decisions.append((INTEGRATION, f"imports: uses {len(imported)} components and mocks none of them "
                                       f"({', '.join(sorted(imported))})"))
    if len(imported) == 1 and mocked:
        (subject,) = imported
        nb = neighbours.get(subject, set())
        if nb and nb <= mocked:
            decisions.append((UNIT, f"mocks: replaces every neighbour of {subject} ({', '.join(sorted(nb))})"
                                    + _only_under_condition(nb, conditional)))
    if ex is not None and len(ex - mocked) < rules.min_components and not decisions:
        decisions.append((UNIT, f"coverage: executes {len(ex - mocked)} unmocked production component(s)"
                                + (f" ({', '.join(sorted(ex - mocked))})" if ex - mocked else "")))
    if decisions:
        kind = decisions[0][0]
        reasons = [decisions[0][1]] + [r if k == kind else f"overridden: {r} -> {k}" for k, r in decisions[1:]]
    else:
        kind, reasons = UNIT, ["default: no marker, path convention or evidence of crossing a component boundary"]
    components = sorted(ex) if ex is not None else sorted(imported)
    return {"test_id": test_id, "file": file, "kind": kind, "reasons": reasons, "components": components,
            "mocked_components": sorted(mocked)}
