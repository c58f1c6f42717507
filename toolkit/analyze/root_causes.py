"""Why integration testing is inadequate where it is: root-cause signals per component and seam.

Every signal is one row (schema ``root_cause_signals``): where (component or seam), which signal,
its value, the threshold that flags it, a severity and a sentence. The tables behind the signals
are kept too, so a reader can check the numbers.

Signals and thresholds (``THRESHOLDS``; ``AuditConfig.thresholds`` overrides by key)
    testing_strategy
        test pyramid per component (``test_kinds``; a test targets the components its
        ``components`` list names): flagged ``no_integration_tests`` when a component with
        unit tests has no integration/e2e test; per seam ``no_integration_test`` when the seam has
        no test exercising it for real (``seams``, i.e. ``f.interaction.seams``: untested or mocks_only; an
        ``import_only`` seam has no call to test).
    coupling
        ``structural_coupling``: efferent >= ``max_efferent`` (4), instability >= ``max_instability``
        (0.8) with efferent >= 2, cohesion < ``min_cohesion`` (0.4).
    mock_overuse
        per seam (numbers read from ``f.interaction.seams``) ``tests_mocking / (tests_mocking + tests_real)`` >= ``max_mock_ratio`` (0.5) with at
        least one mocking test. A mock applied under a condition (``mocks.conditional``) counts like any
        other; the mock table's ``conditional_mock_tests`` says how many of the mocking tests replace
        the seam's callee side only conditionally (they may exercise the seam for real in some runs).
    external_services
        production files importing a module of :data:`toolkit.vocab.external_services.EXTERNAL_SERVICES`
        (http, db, queue, cache, cloud, rpc, ...), per component and service kind.
    environment
        env-only failures per seam and production escapes per component and pair (``f.environments``).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.categories import GAP_STATUSES, base_status
from toolkit.vocab.external_services import external_service
from toolkit.analyze.environment_comparison import env_only_failures_per_seam

__all__ = ["RootCauses", "THRESHOLDS", "root_causes"]

THRESHOLDS: dict[str, float] = {"max_efferent": 4, "max_instability": 0.8, "min_cohesion": 0.4,
                                "max_mock_ratio": 0.5}


@dataclass(frozen=True)
class RootCauses:
    """``signals`` (schema ``root_cause_signals``), ``pyramid`` (component, unit, integration, e2e),
    ``external`` (component, service, modules, files), ``mocks`` (seam, tests_mocking, tests_real,
    mock_ratio, conditional_mock_tests: int64, of tests_mocking those that mock the seam only under a
    condition — interaction coverage's ``tests_mocking_conditional``), ``summary`` (signal counts)."""

    signals: pd.DataFrame
    pyramid: pd.DataFrame
    external: pd.DataFrame
    mocks: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def root_causes(seams: pd.DataFrame, *, components: Sequence[str], structural_coupling: pd.DataFrame,
                imports: pd.DataFrame, test_kinds: pd.DataFrame | None = None,
                env_only_failures: pd.DataFrame | None = None, escapes_by_seam: pd.DataFrame | None = None,
                environments: tuple[str, str] | None = None, thresholds: Mapping[str, Any] | None = None
                ) -> RootCauses:
    """Root-cause signals from the tables of one audit (``toolkit.core.findings.Findings.root_causes`` passes
    its cached analyses).

    ``seams``: interaction coverage's per-seam table (``f.interaction.seams``: status, call sites, tests_real,
    tests_mocking, tests_mocking_conditional); ``components``: component names; ``structural_coupling``:
    efferent, instability, cohesion per component; ``imports``: schema ``imports`` (external services);
    ``test_kinds``: schema ``test_kinds`` or None; ``env_only_failures`` (``seams``), ``escapes_by_seam``
    (``pair``, ``escapes``, ``bugs``) and ``environments`` (lower, higher names) from the environment
    comparison, None without test results; ``thresholds``: overrides of :data:`THRESHOLDS` by key.
    """
    given = thresholds or {}
    th = {k: float(given.get(k, v)) for k, v in THRESHOLDS.items()}
    sig: list[dict[str, Any]] = []

    def add(where: str, signal: str, value: float, threshold: str, severity: str, text: str) -> None:
        sig.append({"where": where, "signal": signal, "value": float(value), "threshold": threshold,
                    "severity": severity, "explanation": text})

    # testing strategy: pyramid per component
    counts = {c: {"unit": 0, "integration": 0, "e2e": 0} for c in components}
    if test_kinds is not None:
        for kind, comps, file in zip(test_kinds["kind"].astype(str), test_kinds["components"],
                                     test_kinds["file"].astype(object)):
            # the component a test targets: named in its file name (test_payments_gateway.py), else all it runs;
            # a test seen only in results may have no file
            name = file.rsplit("/", 1)[-1] if isinstance(file, str) else ""
            stem = name.removesuffix(".py").removeprefix("test_").removesuffix("_test")
            named = [c for c in counts if c in stem or c.rstrip("s") in stem.split("_")]
            for c in named or map(str, schema.list_cell(comps)):
                if c in counts and kind in counts[c]:
                    counts[c][kind] += 1
    pyramid = pd.DataFrame([{"component": c, **v} for c, v in sorted(counts.items())],
                           columns=["component", "unit", "integration", "e2e"])
    for r in pyramid.itertuples(index=False):
        if r.unit > 0 and r.integration + r.e2e == 0:
            add(r.component, "no_integration_tests", 0, "integration + e2e tests >= 1", "high",
                f"{r.unit} unit test(s) but no integration or e2e test exercises {r.component}")
    for r in seams.itertuples(index=False):
        if base_status(r.status) in GAP_STATUSES:  # an import-only seam has no call to test
            add(r.seam, "no_integration_test", r.integration, "call sites exercised for real >= 1", "high",
                f"none of its {r.call_sites} call site(s) is exercised by a test without mocks ({r.status})")
    # coupling and cohesion
    for r in structural_coupling.itertuples(index=False):
        if r.efferent >= th["max_efferent"]:
            add(r.component, "high_efferent_coupling", r.efferent, f">= {th['max_efferent']:g}", "medium",
                f"depends on {r.efferent} other components: every one is a seam to test")
        if r.instability >= th["max_instability"] and r.efferent >= 2:
            add(r.component, "high_instability", r.instability, f">= {th['max_instability']:g}", "low",
                f"instability {r.instability:.2f}: changes in its {r.efferent} dependencies reach it")
        if not pd.isna(r.cohesion) and r.cohesion < th["min_cohesion"]:
            add(r.component, "low_cohesion", r.cohesion, f"< {th['min_cohesion']:g}", "medium",
                f"only {100 * r.cohesion:.0f}% of its references stay inside it")
    # mock overuse per seam
    denom = (seams["tests_mocking"] + seams["tests_real"]).astype(float)
    mocks = pd.DataFrame({"seam": seams["seam"], "tests_mocking": seams["tests_mocking"],
                          "tests_real": seams["tests_real"],
                          "mock_ratio": (seams["tests_mocking"] / denom.where(denom > 0)).astype(float),
                          "conditional_mock_tests": seams["tests_mocking_conditional"].astype("int64")})
    for r in mocks.itertuples(index=False):
        if r.tests_mocking > 0 and r.mock_ratio >= th["max_mock_ratio"]:
            add(r.seam, "mock_overuse", r.mock_ratio, f">= {th['max_mock_ratio']:g}",
                "high" if r.tests_real == 0 else "medium",
                f"{r.tests_mocking} test(s) mock the callee, {r.tests_real} exercise it for real")
    # external services imported by production code
    prod = imports[imports["component"].notna() & imports["target_component"].isna()]
    ext: dict[tuple[str, str], tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))  # modules, files
    for comp, mod, path in zip(prod["component"].astype(str), prod["target_module"].astype(object),
                               prod["path"].astype(str)):
        if kind := external_service(mod if isinstance(mod, str) else None):
            ext[(comp, kind)][0].add(str(mod))
            ext[(comp, kind)][1].add(path)
    external = pd.DataFrame([{"component": c, "service": k, "modules": sorted(m), "files": len(f)}
                             for (c, k), (m, f) in sorted(ext.items())],
                            columns=["component", "service", "modules", "files"])
    for r in external.itertuples(index=False):
        add(r.component, "external_service", r.files, "any", "medium",
            f"calls a {r.service} service ({', '.join(r.modules)}) from {r.files} file(s): needs a contract or "
            "an integration test against a real or containerised service")
    # environment differences
    lower, higher = environments or (None, None)
    for s, n in sorted(env_only_failures_per_seam(env_only_failures).items()):
        add(s, "env_only_failures", n, ">= 1", "high", f"{n} test(s) pass in {lower} but fail in {higher}")
    if escapes_by_seam is not None:
        for r in escapes_by_seam.itertuples(index=False):
            if r.escapes > 0:
                add(r.pair, "production_escapes", r.escapes, ">= 1", "high",
                    f"{r.escapes} of {r.bugs} bug(s) on this pair were first seen in production")
    out = pd.DataFrame(sig, columns=schema.columns("root_cause_signals"))
    sev = {"high": 0, "medium": 1, "low": 2}
    out = out.sort_values(["severity", "signal", "where"], key=lambda c: c.map(sev) if c.name == "severity" else c,
                          kind="stable").reset_index(drop=True)
    out = schema.conform(out, "root_cause_signals")
    summary = {"signals": int(len(out)), **{f"signals_{k}": int(v) for k, v in out["signal"].value_counts().items()}}
    return RootCauses(signals=out, pyramid=pyramid, external=external, mocks=mocks, summary=summary)
