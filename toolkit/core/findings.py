"""Every analysis of one audit, each computed once and shared: ``Findings(ev)`` is what the report sections,
the seam ranking and the notebooks read (``f.interaction.seams``, ...). Each property runs its analysis the first
time it is read and keeps the result; thresholds and weights come from the audit configuration.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

import networkx as nx
import pandas as pd

from toolkit.core.evidence import Evidence


def analysis_code(*code: str) -> tuple[str, ...]:
    """The modules whose source keys an analysis' cached value: its own (``code``) and this module, which wires the
    analyses to one another and imports each of them: an analysis reading another's result (the ranking reads the
    interaction coverage, the bug categories, the coupling) is stale when that one's code changes."""
    return (*code, __name__)


def analysis(*code: str):
    """Like ``cached_property``, and the value is also kept in the on-disk cache (:meth:`Evidence.cached`, keyed
    on the evidence's inputs and the source of :func:`analysis_code`)."""
    def deco(fn):
        def compute(self):
            return self.ev.cached(fn.__name__, lambda: fn(self), code=analysis_code(*code))
        compute.__doc__ = fn.__doc__
        compute.__name__ = fn.__name__
        return cached_property(compute)
    return deco


def _generated_paths(files: pd.DataFrame) -> list[str]:
    """Paths of the files table that declare themselves generated (none when the table predates the column)."""
    if "is_generated" not in files.columns:
        return []
    return files.loc[files["is_generated"].fillna(False).astype(bool), "path"].astype(str).tolist()


def review_interfaces(structure, repo, history=None, *, rev: str | None = None, drift: bool = True,
                      max_drift_commits: int = 2000):
    """The interface documentation review of ``repo`` at ``rev`` (toolkit.analyze.interface_docs.InterfaceDocs):
    its modules' definitions loaded, the interfaces found, then — with ``history`` and ``drift`` — how their
    signatures changed in the newest ``max_drift_commits`` commits touching their files."""
    from toolkit.analyze.interface_docs import drift_targets, interface_docs
    from toolkit.load.definitions import load_definition_changes, load_definitions

    defs = load_definitions(repo, structure.files, rev)
    docs = interface_docs(structure, defs)
    if not drift or history is None or not len(docs.interfaces):
        return docs
    changes = load_definition_changes(repo, history, drift_targets(docs.interfaces), max_commits=max_drift_commits)
    return interface_docs(structure, defs, history=history, changes=changes)


class Findings:
    """Lazily computed, cached results of every detection method for one ``Evidence``."""

    def __init__(self, ev: Evidence) -> None:
        self.ev = ev

    def _thresholds(self, keys: dict[str, Any]) -> dict[str, Any]:
        t = self.ev.config.thresholds
        return {k: t.get(k, v) for k, v in keys.items()}

    # ---- structure and coupling ------------------------------------------
    @analysis("toolkit.analyze.structural_coupling")
    def seams(self) -> pd.DataFrame:
        from toolkit.analyze.structural_coupling import seam_table
        return seam_table(self.ev.structure)

    @analysis("toolkit.analyze.structural_coupling")
    def structural_coupling(self) -> pd.DataFrame:
        from toolkit.analyze.structural_coupling import structural_coupling
        return structural_coupling(self.ev.structure)

    @analysis("toolkit.analyze.change_coupling")
    def logical_coupling(self) -> pd.DataFrame:
        from toolkit.analyze.change_coupling import COMPONENT_COUPLING_DEFAULTS, logical_coupling
        return logical_coupling(self.ev.history, level="component", components=self.ev.components,
                                **self._thresholds(COMPONENT_COUPLING_DEFAULTS))

    @analysis("toolkit.load.history")
    def history_mapping(self) -> dict[str, Any]:
        """How much of the history counts for today's components (toolkit.load.history.history_mapping)."""
        from toolkit.load.history import history_mapping
        return history_mapping(self.ev.history.file_changes, self.ev.components)

    @analysis("toolkit.analyze.coupling_graph")
    def coupling_graph(self) -> nx.DiGraph:
        from toolkit.analyze.coupling_graph import coupling_graph
        return coupling_graph(self.seams, self.logical_coupling, history=self.ev.history,
                              components=self.ev.components, files=self.ev.structure.files)

    # ---- tests ---------------------------------------------------------------
    @analysis("toolkit.analyze.flakiness")
    def flakiness(self) -> pd.DataFrame | None:
        if self.ev.test_results is None:
            return None
        from toolkit.analyze.flakiness import flakiness
        return flakiness(self.ev.test_results)

    # ---- detection methods ---------------------------------------------------
    @analysis("toolkit.analyze.interaction_coverage", "toolkit.analyze.structural_coupling")
    def interaction(self):
        """toolkit.analyze.interaction_coverage.InteractionCoverage (static estimate without coverage): its
        ``seams`` table is THE per-seam call sites, imports, status, tests_real and tests_mocking that root
        causes, the ranking, the graph and the report read."""
        from toolkit.analyze.interaction_coverage import interaction_coverage
        ev = self.ev
        return interaction_coverage(ev.structure.call_sites, test_exercises=ev.test_exercises, mocks=ev.mocks,
                                    test_kinds=ev.test_kinds, imports=ev.structure.imports, seams=self.seams)

    @analysis("toolkit.analyze.environment_comparison")
    def environments(self):
        """toolkit.analyze.environment_comparison.EnvironmentComparison, or None without test results."""
        ev = self.ev
        if ev.test_results is None or ev.test_results.empty:
            return None
        from toolkit.analyze.environment_comparison import environment_comparison
        envs = set(ev.test_results["environment"].dropna())
        lower, higher = self._env_pair(envs)
        return environment_comparison(ev.test_results, flaky=self.flakiness, issues=ev.issues, links=ev.links,
                                      call_sites=ev.structure.call_sites, test_components=ev.test_components,
                                      test_exercises=ev.test_exercises, lower=lower, higher=higher)

    def _env_pair(self, envs: set[str]) -> tuple[str, str]:
        from toolkit.vocab.environments import rank
        t = self.ev.config.thresholds
        if "lower_environment" in t and "higher_environment" in t:
            return t["lower_environment"], t["higher_environment"]
        known = sorted(envs, key=rank)
        return (known[0], known[-1]) if len(known) >= 2 else ("isolated", "integrated")

    @analysis("toolkit.analyze.bug_categorization", "toolkit.analyze.bug_classifier")
    def bugs(self):
        """toolkit.analyze.bug_categorization.BugCategories, or None without issues. With a labels file its
        ``learning`` says what the labels taught (toolkit.analyze.bug_classifier.learn_from_labels): the
        classifier beside the rules, and which of them decided the bugs the rules leave unknown."""
        ev = self.ev
        if ev.issues is None:
            return None
        from toolkit.analyze.bug_categorization import categorize_bugs
        from toolkit.load.history import history_paths
        fc = ev.history.file_changes  # a fix's files as they are named now, like the structure it is compared with
        bc = categorize_bugs(ev.issues, links=ev.links, file_changes=fc.assign(path=history_paths(fc)),
                             files=ev.structure.files, labels=ev.labels, commits=ev.history.commits,
                             imports=ev.structure.imports, vocabulary=ev.vocabulary,
                             fix_diffs=getattr(ev, "fix_diffs", None))
        if ev.labels is None:
            return bc
        from toolkit.analyze.bug_classifier import learn_from_labels
        return learn_from_labels(bc, ev.labels)

    @analysis("toolkit.analyze.cross_component_bugs")
    def cross_bugs(self):
        """toolkit.analyze.cross_component_bugs.CrossComponentBugs, or None without issues."""
        if self.bugs is None or self.ev.links is None:
            return None
        from toolkit.analyze.cross_component_bugs import cross_component_bugs
        return cross_component_bugs(self.bugs, self.ev.links.issue_components,
                                    recurrence_months=int(self.ev.config.thresholds.get("recurrence_months", 6)))

    @analysis("toolkit.core.findings")
    def interfaces(self):
        """toolkit.analyze.interface_docs.InterfaceDocs."""
        ev = self.ev
        return review_interfaces(ev.structure, ev.repo, ev.history, rev=ev.config.at,
                                 max_drift_commits=int(ev.config.thresholds.get("max_drift_commits", 2000)))

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The coupling graph overlaid with the findings, for the widget and the report picture.

        Edges gain ``bugs`` (fixed across the pair), ``risk`` (ranking score / best score, 0..1),
        ``integration_coverage`` (0..1; absent for import-only seams) and ``f.interaction.seams``'s ``call_sites``,
        ``imports``, ``status``, ``tests_real`` and ``tests_mocking``; nodes gain ``risk`` (their riskiest seam),
        ``bugs`` (whose fixes touched them) and ``integration_coverage`` (over the call sites of their seams).
        Service seams (``f.services.seams``) add ``service_calls``, ``service_kind``, ``service_exercised`` and
        ``service_production_only`` to the same ``a->b`` edge, or a ``structural=False`` edge of their own.
        """
        from toolkit.analyze.coupling_graph import _EDGE_INTS
        g = self.coupling_graph.copy()
        for r in self.services.seams.itertuples(index=False):
            u, v = r.caller_component, r.callee_component
            for c in (u, v):
                if c not in g:
                    g.add_node(c, component=c, size=0, churn=0, revisions=0)
            if not g.has_edge(u, v):
                g.add_edge(u, v, seam=r.seam, structural=False, **{k: 0 for k in _EDGE_INTS})
            g.edges[u, v].update(service_calls=int(r.call_sites), service_kind=str(r.kind),
                                 service_exercised=bool(r.exercised_by_tests),
                                 service_production_only=bool(r.production_only))
        if self.cross_bugs is not None:
            from toolkit.analyze.cross_component_bugs import bug_overlay
            bug_overlay(g, self.cross_bugs)
            touched = self.bugs.bugs.explode("components")["components"].dropna().value_counts()
            for node in g.nodes:
                g.nodes[node]["bugs"] = int(touched.get(node, 0))
        table = self.ranking.table
        top = float(table["score"].max()) if len(table) else 0.0
        risk = {seam: (float(score) / top if top > 0 else 0.0) for seam, score in zip(table["seam"], table["score"])}
        ic = self.interaction.seams.set_index("seam")
        for u, v, data in g.edges(data=True):
            seam = data.get("seam") or f"{u}->{v}"
            data["risk"] = risk.get(seam, 0.0)
            if seam in ic.index:  # the seam's numbers as interaction coverage computed them, never recounted
                row = ic.loc[seam]
                data.update(call_sites=int(row["call_sites"]), imports=int(row["imports"]), status=str(row["status"]),
                            tests_real=int(row["tests_real"]), tests_mocking=int(row["tests_mocking"]))
                if not pd.isna(row["pct_integration"]):
                    data["integration_coverage"] = float(row["pct_integration"]) / 100.0
        sites: dict[str, list[int]] = {}  # component -> [integration call sites, call sites] on its seams
        for r in ic.itertuples():
            for c in (r.caller_component, r.callee_component):
                acc = sites.setdefault(c, [0, 0])
                acc[0] += int(r.integration)
                acc[1] += int(r.call_sites)
        for node in g.nodes:
            edges = list(g.in_edges(node, data="risk")) + list(g.out_edges(node, data="risk"))
            g.nodes[node]["risk"] = max((r for *_, r in edges), default=0.0)
            covered, total = sites.get(node, (0, 0))
            if total:
                g.nodes[node]["integration_coverage"] = covered / total
        return g

    # ---- root causes and the seam ranking (read the analyses above, compute nothing again) ----
    def root_cause_inputs(self) -> dict[str, Any]:
        """The tables :func:`toolkit.analyze.root_causes.root_causes` reads, from this audit's analyses."""
        ev, env = self.ev, self.environments
        return {"seams": self.interaction.seams, "components": list(ev.components.names),
                "structural_coupling": self.structural_coupling, "imports": ev.structure.imports,
                "test_kinds": ev.test_kinds,
                "env_only_failures": None if env is None else env.env_only_failures,
                "escapes_by_seam": None if env is None else env.escapes_by_seam,
                "environments": None if env is None else (env.summary.get("lower"), env.summary.get("higher")),
                "thresholds": ev.config.thresholds}

    @analysis("toolkit.analyze.root_causes")
    def root_causes(self):
        """toolkit.analyze.root_causes.RootCauses."""
        from toolkit.analyze.root_causes import root_causes
        return root_causes(**self.root_cause_inputs())

    def ranking_inputs(self) -> dict[str, Any]:
        """The tables :func:`toolkit.analyze.seam_ranking.rank_seams` reads, from this audit's analyses (without
        the service seams: :attr:`ranking` adds them)."""
        from toolkit.analyze.seam_ranking import open_bug_pairs

        ev, env = self.ev, self.environments
        bugs = None if self.bugs is None else self.bugs.bugs
        return {"seams": self.interaction.seams, "call_sites": self.interaction.call_sites,
                "logical_coupling": self.logical_coupling, "interface_seams": self.interfaces.seams,
                "commits": ev.history.commits, "file_changes": ev.history.file_changes, "components": ev.components,
                "bug_pairs": None if self.cross_bugs is None else self.cross_bugs.pairs,
                "escapes_by_seam": None if env is None else env.escapes_by_seam,
                "env_only_failures": None if env is None else env.env_only_failures,
                "open_bugs": open_bug_pairs(ev.issues, bugs, None if ev.links is None else ev.links.links,
                                            ev.components.names),
                "basis": getattr(self.interaction, "basis", None), "config_weights": ev.config.weights,
                "generated_paths": _generated_paths(ev.structure.files)}

    @analysis("toolkit.analyze.seam_ranking", "toolkit.analyze.service_seams")
    def ranking(self):
        """toolkit.analyze.seam_ranking.SeamRanking (weights from the audit configuration)."""
        from toolkit.analyze.seam_ranking import rank_seams
        from toolkit.analyze.service_seams import service_seam_table
        services = service_seam_table(self.services)
        return rank_seams(**self.ranking_inputs(), extra_seams=services if len(services) else None)

    # ---- service level (HTTP/message seams, contracts, traces) ----
    @cached_property
    def services(self):
        """toolkit.analyze.service_seams.ServiceSeams: service seams (level "service"), contract review, trace
        coverage. ``service_seam_table(f.services)`` is the extra seams table for the ranking."""
        from toolkit.analyze.service_seams import service_seams
        from toolkit.load.services import scan_services
        ev = self.ev
        scan = ev.service_scan
        if scan is None:  # an Evidence built by hand without the service scan
            scan = scan_services(ev.structure, ev.repo, ev.config.at, skips=ev.skips)
        t = ev.config.thresholds
        kw = {k: tuple(t[k]) for k in ("test_environments", "production_environments") if k in t}
        return service_seams(scan, ev.contracts, ev.traces, **kw)
