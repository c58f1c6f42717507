"""Integration test coverage of component interactions: which seams a test exercises for real.

Unit tests that replace a neighbour with a mock pass whatever that neighbour
would really do; only a test that runs both sides of a seam can catch the two
sides disagreeing. This method measures, per seam and per call site, whether
some test executed the interaction *without* replacing the callee.

Definitions (THE definition used by every report and notebook)
    interaction
        a cross-component seam ``caller->callee`` (a component pair) and, finer,
        each cross-component call site on it (``call_sites`` table).
    a test mocks the callee of a call site
        the test (matched on :func:`toolkit.vocab.testids.base_test_id`, since mocks are
        found in source without pytest parameters) has a ``mocks`` row whose
        ``target_qualname`` equals the callee's qualified name or is a prefix of it
        (the symbol itself, or its enclosing module/class, was replaced). With
        ``match="component"`` any mock row whose ``target_component`` is the
        callee component counts too (stricter: a test that fakes any part of the
        callee is not trusted to exercise the seam for real).
        Coverage can contradict a mock: when the same test executed a call site
        whose enclosing function (``caller``) is the replaced symbol or lies inside
        it, the real symbol ran, so the mock did not act in the recorded run (a
        mock applied only in another environment, e.g. under ``if ENV != ...``).
        Such a mock is ignored for that test's executed call sites; the test
        still counts among the seam's ``tests_mocking``.
    call-site status (basis ``coverage``: per-test coverage, ``test_exercises``)
        ``integration``    executed by at least one test that does not mock the callee;
        ``isolation_only`` executed only by tests that mock the callee, or never
                           executed while some test mocks that callee (the
                           interaction is only ever exercised in isolation);
        ``untested``       neither executed nor mocked by any test.
        Each call site lists ``tests_real`` (executed it, callee not mocked) and
        ``tests_mocked`` (executed it with the callee mocked, or mock that callee
        without executing it; source-level ids without parameters).
    seam status (:data:`SEAM_STATUSES`, :func:`seam_status`: one rule on both bases)
        ``import_only`` when the seam has import statements but no call site that can
        run (``seams`` table given): no interaction to test was found, so it is neither
        untested nor an integration gap (when its ``unresolved_calls`` > 0 a call may
        cross it unresolved: :func:`toolkit.vocab.categories.import_only_words`); else ``integration`` when ``tests_real`` > 0
        (on the coverage basis: some call site is ``integration``); ``mocks_only`` when
        ``tests_mocking`` > 0; ``untested`` otherwise.
        ``pct_integration`` = integration call sites / call sites × 100.
        ``tests_real``: tests executing any call site of the seam without mocking
        its callee; ``tests_mocking``: tests with a mock of a callee-component
        symbol that is (or encloses, or is enclosed by) a callee of the seam, or
        that is patched where the caller component looks it up.
        These per-seam numbers are computed here only: root causes, the seam
        ranking, the coupling graph and the report read them from ``seams``.
    summary
        ``pct_seams_integration`` (seams covered for integration / seams with a call
        site × 100; NaN when no seam has one), ``pct_call_sites_integration`` (NaN on
        the static basis, which cannot tell call sites apart), ``mocks_only_seams``,
        ``untested_seams``, ``import_only_seams`` and, of those, ``import_only_unresolved``
        (seam -> its ``unresolved_calls``, when > 0).

Without coverage data (``basis="static"``) the result is a clearly labelled
estimate from the tests found in source (``test_kinds``: each test's imported
``components`` and ``mocked_components``; without ``test_kinds`` each test file,
not a ``conftest.py``, which only provides fixtures, stands for one test): a test
reaches the components it imports and, through a facade (a component of ``__init__.py``
files only: a package's public namespace), each component the facade imports at run time
(a test that imports ``requests`` and calls ``requests.get`` runs ``api``'s and
``sessions``' code, although it names neither module), and the components those call (one step
along the call sites: a test running a component's code runs what that code calls). A test mocks the seam when it
reaches the caller and replaces what the seam's calls reach (the same rule as on the coverage
basis: a callee, its enclosing module/class or a symbol inside it, or the name where a caller
module looks it up; a conftest replacing one helper of a component leaves the calls to its
other symbols real); it exercises the seam for real when it reaches both components and does
not mock the seam. The reach does not go through a component the test mocks. Every status but ``import_only`` carries
the suffix ``_estimated`` and ``summary["basis_note"]`` says so. Call sites take
their seam's estimate (imports cannot tell call sites apart).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import is_collected_test_file, module_name, namespace_components, split_seam
from toolkit.vocab.categories import ESTIMATED, GAP_STATUSES, IMPORT_ONLY, SEAM_STATUSES, base_status
from toolkit.vocab.testids import base_test_id

__all__ = ["GAP_STATUSES", "IMPORT_ONLY", "InteractionCoverage", "SEAM_STATUSES", "base_status", "interaction_coverage",
           "seam_status"]

STATIC_NOTE = ("static estimate (no per-test coverage given): a seam counts as covered when a test reaches both "
               "its caller and its callee component (imports it, a package namespace re-exporting it, or code it "
               "imports calls it) without mocking the callee; call sites take their seam's estimate. Measured "
               "against per-test coverage on six public projects, the estimate agreed on 78-98% of the seams but "
               "found 1 of their 28 untested seams: it cannot tell which calls a test runs. Record coverage with "
               "--cov-context=test to find the gaps.")
COVERAGE_NOTE = ("measured: per-test coverage (test_exercises) says which test executed which call site; "
                 "mocks found in test source say which of those tests replaced the callee.")


def seam_status(call_sites: int, tests_real: int, tests_mocking: int, *, basis: str = "coverage") -> str:
    """THE status of a seam from its numbers (module docstring), with ``_estimated`` on the static basis."""
    if call_sites == 0:
        return IMPORT_ONLY
    status = "integration" if tests_real else "mocks_only" if tests_mocking else "untested"
    return status + (ESTIMATED if basis == "static" else "")


@dataclass(frozen=True)
class InteractionCoverage:
    """``call_sites`` (schema ``interaction_call_sites``), ``seams`` (schema ``interaction_seams``),
    ``summary`` (numbers and lists, see the module docstring), ``basis`` (``coverage`` or ``static``)."""

    call_sites: pd.DataFrame
    seams: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    basis: str = "coverage"


@lru_cache(maxsize=1 << 16)
def _prefixes(dotted: str) -> tuple[str, ...]:
    """``a.b.c`` -> ``("a", "a.b", "a.b.c")`` (asked for again and again: once per test that ran each call site)."""
    parts = dotted.split(".")
    return tuple(".".join(parts[:i]) for i in range(1, len(parts) + 1))


def _replaces(callee: str, mocked: str) -> bool:
    """A mock of ``mocked`` stands in for calls to ``callee``: the same symbol or an enclosing module/class."""
    return callee == mocked or callee.startswith(mocked + ".")


def _seam_mock_rule(callees: set[str], caller_modules: set[str]) -> Callable[[str | None, str | None], bool]:
    """Does a mock of the callee component (replaced symbol ``q``, ``written`` as the test wrote it) replace what
    the seam's calls reach? ``q`` encloses a callee or lies inside one, or it is patched where a caller module
    looks it up. A mock of some other symbol of that component leaves these calls real."""
    callee_prefixes = {p for c in callees for p in _prefixes(c)}

    def relates(q: str | None, written: str | None) -> bool:
        return (q is not None and (q in callee_prefixes or not callees.isdisjoint(_prefixes(q)))) or \
            (written is not None and written.rpartition(".")[0] in caller_modules)
    return relates


def _module_of(imports: pd.DataFrame | None) -> dict[str, Any]:
    """path -> its module as the structure named it (under the repository's source roots)."""
    return dict(zip(imports["path"].astype(str), imports["module"].astype(object))) if imports is not None else {}


def _modules(paths: pd.Series, module_of: dict[str, Any]) -> set[str]:
    """The modules of ``paths`` per ``module_of``, else as named under src/lib."""
    return {m if isinstance(m := module_of.get(p), str) else module_name(p) for p in paths.astype(object)}


def _str(v: Any) -> str | None:
    return None if pd.isna(v) else str(v)


def _mock_index(mocks: pd.DataFrame | None) -> dict[str, list[tuple[str | None, str | None, str | None]]]:
    """base test_id -> [(target_qualname, target_component, target as written)]."""
    out: dict[str, list[tuple[str | None, str | None, str | None]]] = {}
    if mocks is None or mocks.empty:
        return out
    for tid, q, comp, target in zip(mocks["test_id"], mocks["target_qualname"], mocks["target_component"],
                                    mocks["target"]):
        if not pd.isna(tid):
            out.setdefault(base_test_id(str(tid)), []).append((_str(q), _str(comp), _str(target)))
    return out


def interaction_coverage(
    call_sites: pd.DataFrame,
    *,
    test_exercises: pd.DataFrame | None = None,
    mocks: pd.DataFrame | None = None,
    test_kinds: pd.DataFrame | None = None,
    imports: pd.DataFrame | None = None,
    match: Literal["symbol", "component"] = "symbol",
    seams: pd.DataFrame | None = None,
) -> InteractionCoverage:
    """Share of component interactions exercised by integration (non-mocking) tests.

    ``call_sites`` (schema ``call_sites``) lists the interactions; ``seams`` (schema ``seams``, the
    coupling table) adds each seam's ``imports`` and a row for every seam with imports but no call
    site (status ``import_only``); ``test_exercises``
    (per-test coverage) decides the basis: given (even empty) -> measured, ``None`` ->
    static estimate from ``imports`` of test files. ``mocks`` (schema ``mocks``) says
    which tests replace which symbols; ``match`` picks the mock rule (module docstring).
    ``test_kinds`` adds, per seam, how many of the real tests are classified
    integration/e2e. Returns :class:`InteractionCoverage`.
    """
    if match not in ("symbol", "component"):
        raise ValueError(f"match must be 'symbol' or 'component', not {match!r}")
    got = _coverage(call_sites, test_exercises, mocks, test_kinds, imports, match, seams)
    only_if = [0] * len(got.seams)
    if mocks is not None and "conditional" in mocks.columns and bool(mocks["conditional"].any()):
        # the same rule again without the mocks applied under a condition: who mocks a seam only conditionally
        sure_kinds = test_kinds
        if test_kinds is not None and test_exercises is None:  # static: the tests' mocked components, sure ones only
            sure_kinds = _without_conditional(test_kinds, mocks)
        sure = _coverage(call_sites, test_exercises, mocks[~mocks["conditional"].astype(bool)], sure_kinds, imports,
                         match, seams).seams.set_index("seam")["tests_mocking_list"]
        only_if = [len(set(ts) - set(sure.get(seam, [])))
                   for seam, ts in zip(got.seams["seam"], got.seams["tests_mocking_list"])]
    got.seams["tests_mocking_conditional"] = pd.Series(only_if, index=got.seams.index, dtype="int64")
    return got


def _without_conditional(test_kinds: pd.DataFrame, mocks: pd.DataFrame) -> pd.DataFrame:
    """``test_kinds`` whose ``mocked_components`` keep only the components a test mocks unconditionally somewhere."""
    sure: dict[str, set[str]] = {}
    for tid, comp, cond in zip(mocks["test_id"], mocks["target_component"], mocks["conditional"]):
        if not pd.isna(tid) and not pd.isna(comp) and not bool(cond):
            sure.setdefault(base_test_id(str(tid)), set()).add(str(comp))
    out = test_kinds.copy()
    out["mocked_components"] = [sorted(set(_as_list(m)) & sure.get(base_test_id(str(t)), set()))
                                for t, m in zip(out["test_id"], out["mocked_components"])]
    return out


def _as_list(v: Any) -> list[str]:
    return [str(x) for x in schema.list_cell(v)]


def _coverage(call_sites: pd.DataFrame, test_exercises: pd.DataFrame | None, mocks: pd.DataFrame | None,
              test_kinds: pd.DataFrame | None, imports: pd.DataFrame | None, match: str,
              seams: pd.DataFrame | None) -> InteractionCoverage:
    if test_exercises is None:
        return _static(call_sites, mocks=mocks, imports=imports, test_kinds=test_kinds, seams=seams)
    mock_idx = _mock_index(mocks)
    module_of = _module_of(imports)
    by_qualname: dict[str, set[str]] = {}  # replaced symbol -> tests replacing it
    by_component: dict[str, list[tuple[str, str | None, str | None]]] = {}  # component -> (test, qualname, target)
    for t, ms in mock_idx.items():
        for q, c, w in ms:
            if q is not None:
                by_qualname.setdefault(q, set()).add(t)
            if c is not None:
                by_component.setdefault(c, []).append((t, q, w))

    def replacing(callee: str) -> set[str]:
        """Tests mocking ``callee`` or an enclosing module/class (a lookup per dotted prefix)."""
        out: set[str] = set()
        for p in _prefixes(callee):
            out |= by_qualname.get(p, set())
        return out

    ran_by: dict[str, set[str]] = {}
    caller_of = dict(zip(call_sites["call_site_id"].astype(object), call_sites["caller"].astype(object)))
    ran_inside: dict[str, set[str]] = {}  # test -> every dotted prefix of the functions enclosing its call sites
    for tid, cs in zip(test_exercises["test_id"].astype(object), test_exercises["call_site_id"].astype(object)):
        ran_by.setdefault(cs, set()).add(tid)
        caller = caller_of.get(cs)
        if isinstance(caller, str):
            ran_inside.setdefault(tid, set()).update(_prefixes(caller))

    def acted(test_id: str, q: str | None) -> bool:
        """False when coverage shows the test ran code inside the replaced symbol (the mock did not act)."""
        return q is None or q not in ran_inside.get(test_id, ())

    def mocks_callee(test_id: str, callee: str, callee_comp: str) -> bool:
        return any(acted(test_id, q) and ((q is not None and _replaces(callee, q))
                                          or (match == "component" and comp == callee_comp))
                   for q, comp, _w in mock_idx.get(base_test_id(test_id), ()))

    rows = []
    for cs in call_sites.itertuples(index=False):
        tests = ran_by.get(cs.call_site_id, set())
        mocked = {t for t in tests if mocks_callee(t, cs.callee, cs.callee_component)}
        real = tests - mocked
        mocked_anywhere = replacing(cs.callee)
        mocked_anywhere -= {base_test_id(t) for t in real}  # listed once, as real (its mock did not act)
        status = "integration" if real else ("isolation_only" if (tests or mocked_anywhere) else "untested")
        rows.append({**cs._asdict(), "status": status, "tests_real": sorted(real),
                     "tests_mocked": sorted(mocked | mocked_anywhere)})
    sites = pd.DataFrame(rows, columns=list(call_sites.columns) + ["status", "tests_real", "tests_mocked"])
    sites = _conform_sites(sites)

    kinds = _kinds(test_kinds)
    seam_rows = []
    for seam, grp in sites.groupby("seam", sort=True):
        caller, callee_comp = split_seam(seam)
        callees = set(grp["callee"].astype(object))
        n = len(grp)
        counts = grp["status"].value_counts()
        real = set().union(*grp["tests_real"]) if n else set()
        caller_modules = _modules(grp["path"], module_of)
        relates = _seam_mock_rule(callees, caller_modules)
        mocking = {t for t, q, written in by_component.get(callee_comp, ()) if relates(q, written)}
        mocking |= set().union(*grp["tests_mocked"]) if n else set()
        integ, iso, untested = (int(counts.get(s, 0)) for s in ("integration", "isolation_only", "untested"))
        seam_rows.append(_seam_row(seam, caller, callee_comp, n, integ, iso, untested,
                                   seam_status(n, len(real), len(mocking)), sorted(real), sorted(mocking), kinds))
    out = _conform_seams(seam_rows, seams)
    return InteractionCoverage(sites, out, _summary(sites, out, "coverage", COVERAGE_NOTE), "coverage")


def _seam_row(seam: str, caller: Any, callee: Any, n: int, integ: int, iso: int, untested: int, status: str,
              real: list[str], mocking: list[str], kinds: dict[str, str]) -> dict[str, Any]:
    """One row of the seams table (schema ``interaction_seams``, before ``imports``/``unresolved_calls``)."""
    return {"seam": seam, "caller_component": caller, "callee_component": callee, "call_sites": n,
            "integration": integ, "isolation_only": iso, "untested": untested,
            "pct_integration": 100.0 * integ / n if n else float("nan"), "status": status,
            "tests_real": len(real), "tests_mocking": len(mocking),
            "integration_kind_tests": sum(1 for t in real if kinds.get(base_test_id(t)) in ("integration", "e2e")),
            "tests_real_list": real, "tests_mocking_list": mocking}


def _kinds(test_kinds: pd.DataFrame | None) -> dict[str, str]:
    if test_kinds is None or test_kinds.empty:
        return {}
    return {base_test_id(str(t)): str(k) for t, k in zip(test_kinds["test_id"], test_kinds["kind"])}


def _conform_sites(sites: pd.DataFrame) -> pd.DataFrame:
    sites = sites.sort_values(["seam", "path", "line", "callee"], kind="stable").reset_index(drop=True)
    return schema.conform(sites, "interaction_call_sites")


def _conform_seams(rows: list[dict], seams: pd.DataFrame | None) -> pd.DataFrame:
    """The seams table: ``rows`` (seams with call sites) plus, from the coupling ``seams`` table, every seam's
    ``imports`` and ``unresolved_calls`` and one ``import_only`` row per seam with imports but no call site."""
    imports = dict(zip(seams["seam"].astype(str), seams["imports"].astype("int64"))) if seams is not None else {}
    unresolved = (dict(zip(seams["seam"].astype(str), seams["unresolved_calls"].astype("int64")))
                  if seams is not None and "unresolved_calls" in seams else {})
    have = {r["seam"] for r in rows}
    if seams is not None:
        for r in seams.itertuples(index=False):
            if str(r.seam) not in have and int(r.imports) > 0:
                rows.append(_seam_row(str(r.seam), r.caller_component, r.callee_component, 0, 0, 0, 0, IMPORT_ONLY,
                                      [], [], {}))
    if not rows:
        return schema.empty("interaction_seams")
    df = pd.DataFrame(rows)
    df["imports"] = [imports.get(s, 0) for s in df["seam"]]
    df["unresolved_calls"] = [unresolved.get(s, 0) for s in df["seam"]]
    for c in ("imports", "unresolved_calls", "call_sites", "integration", "isolation_only", "untested", "tests_real", "tests_mocking",
              "integration_kind_tests"):
        df[c] = df[c].astype("int64")
    df["pct_integration"] = df["pct_integration"].astype("float64")
    df = df.sort_values("seam", kind="stable").reset_index(drop=True)
    return schema.conform(df, "interaction_seams")


def _summary(sites: pd.DataFrame, seams: pd.DataFrame, basis: str, note: str) -> dict[str, Any]:
    status = seams["status"].map(base_status)
    covered = status == "integration"
    n_seams, n_sites = int((status != IMPORT_ONLY).sum()), len(sites)  # import-only seams have nothing to test
    site_cov = int((sites["status"].astype(object).map(lambda x: str(x).removesuffix(ESTIMATED))
                    == "integration").sum())
    static = basis == "static"  # call sites take their seam's estimate: no call-site share can be told
    return {
        "basis": basis,
        "basis_note": note,
        "seams": n_seams,
        "seams_integration": int(covered.sum()),
        "pct_seams_integration": 100.0 * covered.sum() / n_seams if n_seams else float("nan"),
        "call_sites": n_sites,
        "call_sites_integration": site_cov,
        "pct_call_sites_integration": 100.0 * site_cov / n_sites if n_sites and not static else float("nan"),
        "mocks_only_seams": sorted(seams.loc[status == "mocks_only", "seam"].astype(object)),
        "untested_seams": sorted(seams.loc[status == "untested", "seam"].astype(object)),
        "import_only_seams": sorted(seams.loc[status == IMPORT_ONLY, "seam"].astype(object)),
        "import_only_unresolved": {str(s): int(n) for s, n, st in zip(seams["seam"], seams["unresolved_calls"], status)
                                   if st == IMPORT_ONLY and n > 0},
    }


def _static_units(test_kinds: pd.DataFrame | None, mocks_of: dict[str, list[tuple[str, str | None, str | None]]],
                  imports: pd.DataFrame | None) -> list[tuple[str, set[str], set[str]]]:
    """(test, components it imports, components it mocks) per test of ``test_kinds``; without it, per test file
    pytest collects under its default ``python_files`` (a ``conftest.py`` or helper only provides fixtures:
    importing everything there exercises nothing by itself). ``mocks_of``: :func:`_static_mocks`."""
    if test_kinds is not None:
        return [(base_test_id(str(t)), set(_as_list(c)), set(_as_list(m)))
                for t, c, m in zip(test_kinds["test_id"], test_kinds["components"], test_kinds["mocked_components"])]
    imported: dict[str, set[str]] = {}
    if imports is not None and not imports.empty:
        for path, comp in zip(imports["path"].astype(object), imports["target_component"]):
            if is_collected_test_file(str(path)) and not pd.isna(comp):
                imported.setdefault(str(path), set()).add(str(comp))
    mocked = {f: {c for c, _q, _w in ms} for f, ms in mocks_of.items()}
    return [(f, imported.get(f, set()), mocked.get(f, set())) for f in sorted(set(imported) | set(mocked))]


#: a mock of some symbol of a component, which one unknown: it counts against every seam into that component
_SOME_SYMBOL = "*"


def _static_mocks(test_kinds: pd.DataFrame | None,
                  mocks: pd.DataFrame | None) -> dict[str, list[tuple[str, str | None, str | None]]]:
    """The units of :func:`_static_units` -> [(component, replaced symbol, target as written)] of their mocks;
    :data:`_SOME_SYMBOL` when only ``test_kinds``' mocked components are known (no ``mocks`` table)."""
    if test_kinds is not None:
        if mocks is None:
            return {base_test_id(str(t)): [(c, _SOME_SYMBOL, None) for c in _as_list(m)]
                    for t, m in zip(test_kinds["test_id"], test_kinds["mocked_components"])}
        return {t: [(c, q, w) for q, c, w in rows if c is not None] for t, rows in _mock_index(mocks).items()}
    out: dict[str, list[tuple[str, str | None, str | None]]] = {}
    if mocks is not None and not mocks.empty:
        for f, q, c, w in zip(mocks["test_file"].astype(object), mocks["target_qualname"], mocks["target_component"],
                              mocks["target"]):
            if not pd.isna(c):
                out.setdefault(str(f), []).append((str(c), _str(q), _str(w)))
    return out


def _facade_imports(imports: pd.DataFrame | None) -> nx.DiGraph:
    """Component -> component edges of the run-time imports of facade components
    (:func:`toolkit.vocab.components.namespace_components`: a package's public namespace, e.g. ``requests``
    re-exporting ``get`` from ``api`` and ``Session`` from ``sessions``). Imports under ``if TYPE_CHECKING:`` never run and do not count."""
    graph = nx.DiGraph()
    if imports is None or imports.empty:
        return graph
    rows = imports[imports["component"].notna() & imports["target_component"].notna()
                   & ~imports["is_type_checking"].fillna(False).astype(bool)]
    facades = namespace_components(zip(rows["path"].astype(str), rows["component"].astype(str)))
    graph.add_edges_from((str(a), str(b)) for a, b in zip(rows["component"], rows["target_component"])
                         if a != b and str(a) in facades)
    return graph


def _call_graph(call_sites: pd.DataFrame) -> nx.DiGraph:
    """Component -> component edges of the resolved call sites (caller component calls into callee component)."""
    graph = nx.DiGraph()
    graph.add_edges_from((str(a), str(b)) for a, b in zip(call_sites["caller_component"], call_sites["callee_component"])
                         if not pd.isna(a) and not pd.isna(b) and a != b)
    return graph


def _reached(facades: nx.DiGraph, calls: nx.DiGraph, imported: set[str], mocked: set[str]) -> set[str]:
    """The components a test is estimated to run code of: those it names — it imports them, or a facade it reaches
    re-exports them (a test importing ``requests`` and calling ``requests.get`` runs ``api``'s code) — and those
    the named ones call, one step (a test rendering a jinja template through ``Environment`` runs the parser the
    environment calls). A seam is exercised by a test that reaches its caller and its callee. Measured against
    per-test coverage (``benchmarks/static_vs_coverage.py``; chosen on starlette, jinja, click, then checked on
    attrs, httpx, werkzeug) the step took the estimate from agreeing on 73% of the 224 seams to 88%, and its
    "untested" from right for 11 of 52 seams to 1 of 1 (it finds 1 of the 28 measured gaps, the old rule 11);
    further steps changed nothing; naming the caller instead of reaching it agreed less (92/74/100% on the first
    three). A component the test mocks is not gone through."""
    named = set(imported)
    todo = [c for c in imported if c not in mocked and c in facades]
    while todo:
        for nxt in facades.successors(todo.pop()):
            if nxt not in named and nxt not in mocked:
                named.add(nxt)
                todo.append(nxt)
    called = {nxt for c in named if c not in mocked and c in calls for nxt in calls.successors(c)}
    return named | (called - mocked)


def _static(call_sites: pd.DataFrame, *, mocks: pd.DataFrame | None, imports: pd.DataFrame | None,
            test_kinds: pd.DataFrame | None, seams: pd.DataFrame | None) -> InteractionCoverage:
    """Estimate from the tests' imports and mocks when no per-test coverage exists (module docstring)."""
    by_caller: dict[str, list[tuple[str, set[str]]]] = {}  # component -> the tests reaching it
    graph, calls = _facade_imports(imports), _call_graph(call_sites)
    mocks_of = _static_mocks(test_kinds, mocks)
    for test, imported, mocked in _static_units(test_kinds, mocks_of, imports):
        reached = _reached(graph, calls, imported, mocked)
        for c in reached:
            by_caller.setdefault(c, []).append((test, reached))
    module_of = _module_of(imports)
    kinds = _kinds(test_kinds)
    seam_rows, status_of = [], {}
    for seam, grp in call_sites.groupby("seam", sort=True):
        caller, callee = split_seam(seam)
        relates = _seam_mock_rule(set(grp["callee"].astype(object)), _modules(grp["path"], module_of))
        mocking_units = {u for u, _ in by_caller.get(caller, ())
                         if any(c == callee and (q == _SOME_SYMBOL or relates(q, w))
                                for c, q, w in mocks_of.get(u, ()))}
        real = sorted({u for u, comps in by_caller.get(caller, ()) if callee in comps and u not in mocking_units})
        n = len(grp)
        status = status_of[seam] = seam_status(n, len(real), len(mocking_units), basis="static")
        integ = n if status.startswith("integration") else 0
        iso = n if status.startswith("mocks_only") else 0
        seam_rows.append(_seam_row(seam, caller, callee, n, integ, iso, n - integ - iso, status, real,
                                   sorted(mocking_units), kinds))
    sites = call_sites.copy()
    sites["status"] = [status_of[s] for s in sites["seam"]] if len(sites) else pd.Series(dtype="string")
    sites["tests_real"] = [[] for _ in range(len(sites))]
    sites["tests_mocked"] = [[] for _ in range(len(sites))]
    sites = _conform_sites(sites)
    out = _conform_seams(seam_rows, seams)
    return InteractionCoverage(sites, out, _summary(sites, out, "static", STATIC_NOTE), "static")
