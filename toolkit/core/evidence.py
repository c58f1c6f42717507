"""Load every input once into an ``Evidence`` bundle that all analyses share (analyses never read files).

Missing inputs leave their fields ``None`` and a reason in ``missing``, so a partial input set still produces
a report that says what it could not do. Every table read here is cached (:mod:`toolkit.runtime.cache`) on the
content of the inputs it came from (repository state, input files' content hashes, arguments);
``Evidence.keys`` carries those keys so that analyses can cache their results on them too.
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.runtime import cache
from toolkit.config import AuditConfig
from toolkit.errors import Skip
from toolkit.load.history import commits_in, with_current_paths


@dataclass
class Evidence:
    """Everything read for one audit. Table schemas: toolkit.vocab.schema."""

    config: AuditConfig
    repo: Any  # toolkit.load.gitrepo.Repo
    structure: Any  # toolkit.load.structure.Structure
    history: Any  # toolkit.load.history.History
    test_results: pd.DataFrame | None = None
    test_lines: pd.DataFrame | None = None
    test_exercises: pd.DataFrame | None = None
    test_components: pd.DataFrame | None = None
    mocks: pd.DataFrame | None = None
    test_kinds: pd.DataFrame | None = None
    issues: pd.DataFrame | None = None
    links: Any = None  # toolkit.load.links.Links
    vocabulary: pd.DataFrame | None = None  # boundary_terms (toolkit.load.boundary_vocab), read with issues
    fix_diffs: pd.DataFrame | None = None  # fix_diff_facts (toolkit.load.fix_diffs): the bug fixes' changed lines
    labels: pd.DataFrame | None = None
    skips: list[Skip] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # input -> why it is absent
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    keys: dict[str, str] = field(default_factory=dict)  # input -> cache key of its content (toolkit.runtime.cache)
    service_scan: Any = None  # toolkit.load.services.ServiceScan (static HTTP calls, routes, messages)
    contracts: Any = None  # toolkit.load.contracts.Contracts, when --contracts given
    traces: Any = None  # toolkit.load.traces.Traces, when --traces given

    @property
    def components(self):
        return self.structure.components

    def cached(self, name: str, compute: Callable[[], Any], *, code: str | tuple[str, ...],
               params: Any = None) -> Any:
        """``compute()`` (a pure function of the evidence), cached on ``keys`` (every input's content and the
        configuration), ``params`` and the source of the ``code`` modules (with what they import)."""
        k = None
        if cache.enabled() and self.keys:
            k = cache.key("analysis", name, sorted(self.keys.items()), params,
                          code=(code,) if isinstance(code, str) else tuple(code))
        return cache.cached("analysis", k, lambda own: compute())


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0


def repository_key(repo, rev: str | None, components: dict[str, str] | None) -> str:
    """Cache key of the code at ``rev`` under a component mapping: what structure, history and mocks are read
    from (an audit's, and a backtest's at an earlier revision)."""
    mapping = sorted(components.items()) if components else None
    return cache.key("repository", cache.repo_state(repo, rev), mapping,
                     code=("toolkit.load.structure", "toolkit.load.history"))


def test_file_reader(structure, repo, rev: str | None) -> Callable[[list[Skip]], Any]:
    """``read(skips)``: the test sources at ``rev``, read and parsed on the first call only, so mocks and test
    kinds share them, and a run whose cache holds both never reads them."""
    from toolkit.load.mocks import read_test_files

    parsed: dict = {}

    def read(own: list[Skip]):
        if "files" not in parsed:
            parsed["files"] = read_test_files(structure, repo, rev, skips=own)
        return parsed["files"]
    return read


def cached_mocks(structure, repo, rev: str | None, rkey: str, test_files: Callable[[list[Skip]], Any],
                 skips: list[Skip]) -> tuple[pd.DataFrame, str]:
    """(``scan_mocks`` at ``rev``, its cache key): cached on the repository key ``rkey`` (:func:`repository_key`)."""
    from toolkit.load.mocks import scan_mocks

    mkey = cache.key("mocks", rkey, code=("toolkit.load.mocks",))
    mocks = cache.cached("evidence", mkey if cache.enabled() else None,
                         lambda own: scan_mocks(structure, repo, rev=rev, skips=own, test_files=test_files(own)), skips)
    return mocks, mkey


def load_evidence(config: AuditConfig, *, on_stage: Callable[[str], None] | None = None) -> Evidence:
    """Read the repository, history, test results, coverage, mocks, issues and labels of ``config``.

    Raises :class:`toolkit.errors.InputError` for an input that cannot be used at
    all; parts of inputs that cannot be used are collected in ``Evidence.skips``.
    """
    from toolkit.load.gitrepo import Repo
    from toolkit.load.history import load_history
    from toolkit.load.structure import load_structure

    config.check_paths()
    skips: list[Skip] = []
    timings: dict[str, float] = {}
    missing: dict[str, str] = {}

    def stage(name: str):
        if on_stage:
            on_stage(name)
        return _stage(timings, name)

    use_cache = cache.enabled()
    keys: dict[str, str] = {}

    def k(name: str, *parts, code: tuple[str, ...]) -> str | None:
        keys[name] = cache.key(name, *parts, code=code)
        return keys[name] if use_cache else None

    with stage("open repository"):
        repo = Repo.open(config.repo)
        keys["repository"] = repository_key(repo, config.at, config.components)
    mapping = sorted(config.components.items()) if config.components else None
    with stage("structure"):
        structure = load_structure(repo, rev=config.at, mapping=config.components, skips=skips, cache=use_cache)
    # The history is read beside the loaders that do not need it: ``git log`` works in its own process (on
    # another core) while this thread reads test files and scans for mocks and services. Its skips are put
    # where a serial read would have put them, so the evidence is the same either way.
    if on_stage:
        on_stage("git history")
    pending_history = _Beside(lambda own: load_history(repo, rev=config.at or "HEAD", skips=own, cache=use_cache,
                                                       roots=structure.components.roots),
                              timings, "git history", skips)
    ev = Evidence(config=config, repo=repo, structure=structure, history=None, skips=skips, missing=missing,
                  timings=timings, keys=keys)
    try:
        _load_the_rest(ev, config, stage, k, use_cache, mapping, pending_history)
    except BaseException:
        pending_history.settle()  # no git log outlives a failed load; the loader's error is the one raised
        raise
    if ev.history is None:
        ev.history = pending_history.result()
    return ev


class _Beside:
    """``read(own skips)`` started on a thread. :meth:`result` waits for its value (raising what it raised) and
    splices its skips into ``skips`` at the position they would have had if it had run at the start."""

    def __init__(self, read: Callable[[list[Skip]], Any], timings: dict[str, float], name: str,
                 skips: list[Skip]) -> None:
        self.skips, self.at = skips, len(skips)
        self.own: list[Skip] = []
        timings.setdefault(name, 0.0)  # the stages stay listed in the order they start
        t0 = time.perf_counter()

        def run() -> Any:
            try:
                return read(self.own)
            finally:
                timings[name] = time.perf_counter() - t0

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seamscope-" + name.replace(" ", "-"))
        self.future = pool.submit(run)
        pool.shutdown(wait=False)
        self.spliced = False

    def result(self) -> Any:
        try:
            return self.future.result()
        finally:
            self.settle()

    def settle(self) -> None:
        """Wait for the thread to end, its skips in place; its error (if any) is left to :meth:`result`."""
        self.future.exception()
        if not self.spliced:
            self.skips[self.at:self.at] = self.own
            self.spliced = True


def _load_the_rest(ev: Evidence, config: AuditConfig, stage, k, use_cache: bool, mapping,
                   pending_history: _Beside) -> None:
    """Everything :func:`load_evidence` reads after the structure, into ``ev`` (``ev.history`` once it is needed)."""
    repo, structure, skips, keys, missing = ev.repo, ev.structure, ev.skips, ev.keys, ev.missing
    rkey = keys["repository"]

    def stored(key: str | None, read: Callable[[list[Skip]], Any]) -> Any:
        return cache.cached("evidence", key, read, skips)

    def files_key(name: str, paths, *more, module: str) -> str | None:
        return k(name, [str(p) for p in paths], cache.fingerprint(*paths), *more, code=(module,))

    if config.tests:
        from toolkit.load.test_runs import load_test_runs
        with stage("test results"):
            ev.test_results = stored(files_key("test_results", config.tests, module="toolkit.load.test_runs"),
                                     lambda own: pd.concat([load_test_runs(p, skips=own) for p in config.tests],
                                                           ignore_index=True))
    else:
        missing["test results"] = "no JUnit XML given (--tests)"

    if config.coverage is not None:
        with stage("coverage"):
            # keyed on what each table is computed from, not on the whole repository: a new commit that leaves
            # the file list (or the call sites) as they were reuses the coverage mapping of the previous audit
            _read_coverage(ev, config.coverage, k("coverage", str(config.coverage), cache.fingerprint(config.coverage),
                                                  cache.frame_digest(structure.files[["path", "component"]]),
                                                  code=_COVERAGE))
    else:
        missing["coverage"] = "no coverage data given (--coverage); integration coverage falls back to a static estimate"

    from toolkit.load.test_kinds import classify_tests
    test_files = test_file_reader(structure, repo, config.at)

    with stage("mocks and test kinds"):
        ev.mocks, keys["mocks"] = cached_mocks(structure, repo, config.at, rkey, test_files, skips)
        ev.test_kinds = stored(
            k("test_kinds", keys["mocks"], keys.get("test_results"), keys.get("coverage"),
              code=("toolkit.load.test_kinds",)),
            lambda own: classify_tests(structure, repo, config.at, mocks=ev.mocks,
                                       test_components=ev.test_components, test_results=ev.test_results,
                                       skips=own, test_files=test_files(own)))

    if config.issues:
        from toolkit.load.boundary_vocab import boundary_vocabulary
        from toolkit.load.fix_diffs import fix_diff_facts
        from toolkit.load.issues import load_issues
        from toolkit.load.links import link_fixes
        with stage("issues"):
            ev.issues = stored(
                files_key("issues", config.issues, bool(config.pseudonymize), module="toolkit.load.issues"),
                lambda own: load_issues(list(config.issues), pseudonymize=config.pseudonymize, skips=own))
        with stage("issue links"):
            history = ev.history = pending_history.result()
            ev.links = stored(k("links", keys["issues"], rkey, code=("toolkit.load.links",)),
                              lambda own: link_fixes(ev.issues, history, repo, rev=config.at or "HEAD",
                                                     components=structure.components))
        with stage("boundary vocabulary"):
            ev.vocabulary = stored(k("boundary_vocab", rkey, code=("toolkit.load.boundary_vocab",)),
                                   lambda own: boundary_vocabulary(repo, config.at, files=structure.files,
                                                                   imports=structure.imports, skips=own))
        with stage("fix diffs"):  # cached per commit set by the loader itself; keyed here for the analyses
            k("fix_diffs", keys["links"], rkey, code=("toolkit.load.fix_diffs",))
            ev.fix_diffs = fix_diff_facts(repo, ev.links, issues=ev.issues, components=structure.components,
                                          vocabulary=ev.vocabulary, file_changes=ev.history.file_changes,
                                          skips=skips, use_cache=use_cache)
    else:
        missing["issues"] = "no issue-tracker export given (--issues)"

    # what analyses depend on besides the inputs' content (Evidence.cached keys on all of ``keys``)
    k("config", config.at, mapping, sorted((config.thresholds or {}).items()), sorted((config.weights or {}).items()),
      bool(config.pseudonymize), cache.fingerprint(config.labels) if config.labels is not None else None,
      code=("toolkit.config",))
    if config.labels is not None and config.labels.exists():
        from toolkit.load.labels import read_labels
        with stage("labels"):
            ev.labels = read_labels(config.labels)

    # ---- service level: static HTTP/message interactions, contracts, traces (toolkit.load.services, ...) ----
    from toolkit.load.contracts import contracts_in_repo, load_contracts, merge_contracts
    from toolkit.load.services import scan_services
    with stage("service interactions"):
        ev.service_scan = stored(k("service_scan", rkey, code=("toolkit.load.services",)),
                                 lambda own: scan_services(structure, repo, config.at, skips=own))
    with stage("contracts"):
        in_repo = stored(k("repo_contracts", rkey, code=("toolkit.load.contracts",)),
                         lambda own: contracts_in_repo(structure, repo, config.at, skips=own))
        given = stored(files_key("contracts", config.contracts, module="toolkit.load.contracts"),
                       lambda own: load_contracts(config.contracts, skips=own)) if config.contracts else None
        ev.contracts = merge_contracts(given, in_repo)
    if ev.contracts is None:
        missing["contracts"] = "no OpenAPI/Swagger spec or Pact file in the repository or given (--contracts)"
    if config.traces:
        from toolkit.load.traces import load_traces
        with stage("traces"):
            ev.traces = stored(files_key("traces", config.traces, module="toolkit.load.traces"),
                               lambda own: load_traces(config.traces, skips=own))
    else:
        missing["traces"] = "no trace export given (--traces); service-level test coverage is unknown"


_COVERAGE = ("toolkit.load.coverage_contexts",)


def _read_coverage(ev: Evidence, path: Path, key: str | None) -> None:
    """``ev``'s per-test coverage tables from coverage.py data ``path``, cached under ``key`` (None: not cached)."""
    from toolkit.load.coverage_contexts import exercised_call_sites, load_coverage, test_components

    structure, skips = ev.structure, ev.skips
    ev.test_lines = cache.cached("evidence", key and key + "-lines",
                                 lambda own: load_coverage(path, structure.files["path"].tolist(), skips=own), skips)
    exercises_key = key and cache.key("coverage_exercises", key, cache.frame_digest(structure.call_sites),
                                      code=_COVERAGE)
    ev.test_exercises = cache.cached(
        "evidence", exercises_key, lambda own: exercised_call_sites(ev.test_lines, structure.call_sites), skips)
    ev.test_components = cache.cached("evidence", key and key + "-components",
                                      lambda own: test_components(ev.test_lines, structure.components), skips)


# ---- the evidence as of an earlier revision (the backtest) ----------------------------------------------
def _coverage_when(path) -> pd.Timestamp | None:
    """The time coverage.py recorded in its data file's ``meta`` table, or None."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("select value from meta where key = 'when'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if not row:
        return None
    ts = pd.to_datetime(row[0], errors="coerce")
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _config_at(config, at: str, when, notes: list[str]):
    """The audit configuration as of ``at``: no analyst labels (decided later), and coverage only when it
    was recorded no later than the revision."""
    cfg = config.with_(at=at, labels=None)
    if config.labels is not None:
        notes.append("analyst labels dropped: they were decided after the revision")
    if config.coverage is not None:
        rec = _coverage_when(config.coverage)
        if rec is None or rec > when:
            cfg = cfg.with_(coverage=None)
            notes.append(f"coverage dropped: recorded {'at an unknown time' if rec is None else f'{rec:%Y-%m-%d}'}, "
                         f"not before the revision ({when:%Y-%m-%d})")
    return cfg


def _issues_at(ev, issues, when, notes: list[str], key: str | None = None) -> None:
    """Keep issues created by ``when`` (later resolutions count as open) and re-link them to ``ev``'s history
    (cached under ``key`` when given: what the full links were computed from, plus the revision)."""
    if issues is None:
        return
    from toolkit.load.links import link_fixes
    iss = issues[~(issues["created"] > when)].copy()
    later = iss["resolved"] > when
    iss.loc[later, "resolved"] = pd.NaT
    notes.append(f"issues: {len(iss)} of {len(issues)} created by the revision; "
                 f"{int(later.sum())} resolved later treated as open")
    ev.issues = iss.reset_index(drop=True)
    ev.links = cache.cached("evidence", key, lambda own: link_fixes(
        ev.issues, ev.history, ev.repo, rev=ev.history.head or "HEAD", components=ev.structure.components))


def _drop_after(ev, tests, known: set[str], when, notes: list[str]) -> None:
    """Keep test results run on REV or its ancestors no later than REV (``tests``: the full table)."""
    if tests is None:
        return
    ok = tests["commit"].astype(str).isin(known) & ~(pd.to_datetime(tests["timestamp"], utc=True) > when)
    if not ok.all():
        notes.append(f"test results: {int((~ok).sum())} of {len(tests)} rows dropped (run on a later commit "
                     "or after the revision)")
    ev.test_results = tests[ok.to_numpy()].reset_index(drop=True) if ok.any() else None
    if ev.test_results is None:
        ev.missing["test results"] = "no test run from before the revision"


def evidence_as_of(full_ev, at: str, notes: list[str]):
    """The one definition of "the evidence as of REV" (what the backtest ranks seams from), derived from the full
    evidence ``full_ev``: the same as ``load_evidence`` at ``at`` with later test runs, resolutions, labels and
    coverage dropped (a test checks it). Only the structure, mocks and test kinds at ``at`` are read. Returns
    ``(evidence, known commit ids, the revision's time)``; ``notes`` gets what was dropped and why."""
    from toolkit.load.history import History, load_history
    from toolkit.load.structure import load_structure
    from toolkit.load.test_kinds import classify_tests

    config, repo = full_ev.config, full_ev.repo
    head = repo.resolve(at)
    known = set(repo.git("rev-list", head).stdout.split())
    use_cache = cache.enabled()
    skips: list = []
    structure = load_structure(repo, rev=head, mapping=config.components, skips=skips, cache=use_cache)
    roots = structure.components.roots  # the source roots at REV: where moved modules' files are then
    full_h = full_ev.history
    commits = full_h.commits
    in_full = commits_in(commits["sha"], known)
    if int(in_full.sum()) == len(known):
        fc = full_h.file_changes[commits_in(full_h.file_changes["sha"], known).to_numpy()].reset_index(drop=True)
        fc = with_current_paths(fc, repo.list_files(head), roots)  # where the files were at REV, not now
        hist = History(commits[in_full.to_numpy()].reset_index(drop=True), fc, head, full_h.shallow)
    else:  # REV is not an ancestor of the full evidence's revision (e.g. past ``horizon``)
        hist = load_history(repo, rev=head, skips=[], roots=roots)
    when = hist.commits["timestamp"].max() if len(hist.commits) else pd.Timestamp.now(tz="UTC")

    cfg = _config_at(config, at, when, notes)
    rkey = repository_key(repo, at, config.components)
    ev = Evidence(config=cfg, repo=repo, structure=structure, history=hist, skips=skips,
                  missing=dict(full_ev.missing))
    ev.missing.pop("test results", None)
    if cfg.coverage is not None:
        _read_coverage(ev, cfg.coverage, None)
    else:
        ev.missing["coverage"] = "dropped: not recorded before the revision"
    test_files = test_file_reader(structure, repo, head)
    ev.mocks, mkey = cached_mocks(structure, repo, head, rkey, test_files, skips)
    _drop_after(ev, full_ev.test_results, known, when, notes)
    # test kinds see only the results known at REV (as a reload at REV would): later runs may name tests REV lacks
    tkey = cache.key("test_kinds", mkey, full_ev.keys.get("test_results"), head,
                     full_ev.keys.get("coverage") if cfg.coverage is not None else None,
                     code=("toolkit.load.test_kinds", "toolkit.core.evidence"))
    ev.test_kinds = cache.cached(
        "evidence", tkey if use_cache and full_ev.keys else None,
        lambda own: classify_tests(structure, repo, head, mocks=ev.mocks, test_components=ev.test_components,
                                   test_results=ev.test_results, skips=own, test_files=test_files(own)), skips)
    lkey = None
    if use_cache and "links" in full_ev.keys:
        lkey = cache.key("links_as_of", full_ev.keys["links"], rkey, head,
                         code=("toolkit.load.links", "toolkit.core.evidence"))
    _issues_at(ev, full_ev.issues, when, notes, lkey)
    fd = getattr(full_ev, "fix_diffs", None)
    if fd is not None:  # the changed lines of fixes made by REV (a commit's diff does not change with the revision)
        ev.fix_diffs = fd[commits_in(fd["sha"], known).to_numpy()].reset_index(drop=True)
    if full_ev.keys:  # analyses of this evidence are cached on what it was derived from (Evidence.cached)
        ev.keys = {"repository": rkey, "as_of": cache.key("backtest_as_of", at, head, sorted(full_ev.keys.items()),
                                                         code=("toolkit.core.evidence",))}
    return ev, known, when
