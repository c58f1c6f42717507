"""Audit many repositories at once and write an index across them (``seamscope audit-many``).

Targets come from a folder whose subfolders are repositories (a subfolder with a
``seamscope.toml`` is audited with it, otherwise the repository alone) or from a
text file listing repository paths or ``seamscope.toml`` paths, one per line.

Fan-out goes through any ``concurrent.futures.Executor``: a local
``ProcessPoolExecutor`` by default, or a Dask distributed cluster
(``Client(address).get_executor()``) with no other code path. The work function
:func:`audit_one` is top level (picklable), writes the repository's own report
under ``out/<name>/`` and returns only a small JSON-safe summary — the evidence
stays in the worker. With a remote cluster ``out`` must be on a file system the
workers share. A repository that fails is listed in the index with its error
instead of stopping the others.
"""
from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.vocab.categories import GAP_STATUSES, SEAM_STATUSES, base_status
from toolkit.vocab.metrics import INDEX_HEADLINES, METRICS
from toolkit.errors import InputError, SeamscopeError
from toolkit.load.limits import check_input_file
from toolkit.report.model import Report, Section, Table, file_stem

__all__ = ["Target", "read_targets", "audit_one", "audit_many", "index_report", "executor_for", "HEADLINES"]

#: headline numbers copied from each repository's audit into the index, as summary keys
#: (toolkit.vocab.metrics.INDEX_HEADLINES)
HEADLINES = tuple(METRICS[m].key for m in INDEX_HEADLINES)
TOP_SEAMS = 5
_RESERVED = {"tables", "figures", "index"}  # names the index itself writes into out/
_STATUS_ORDER = {st: i for i, st in enumerate(SEAM_STATUSES)}  # worst first


@dataclass(frozen=True)
class Target:
    """One repository to audit: its report folder name and either a repository path or a seamscope.toml;
    ``root``: the folder that toml's paths must stay inside (a subfolder's own toml found by discovery)."""

    name: str
    repo: str | None = None
    config: str | None = None
    root: str | None = None


def _unique(name: str, used: set[str]) -> str:
    stem = file_stem(name, "repo")
    if stem.lower() in _RESERVED:
        stem += "_repo"
    cand, n = stem, 1
    while cand.lower() in used:
        n += 1
        cand = f"{stem}_{n}"
    used.add(cand.lower())
    return cand


def read_targets(root: Path, flag: str = "ROOT_OR_LIST") -> list[Target]:
    """The repositories under folder ``root`` (non-hidden subfolders, sorted), or listed in text file ``root``.

    A list line is a repository path or a ``*.toml`` path, relative to the list file;
    blank lines and ``#`` comments are ignored. Entries are not checked here: a
    missing one fails in its own audit and is reported in the index.
    """
    root = Path(root)
    used: set[str] = set()
    if root.is_dir():
        targets = []
        for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            toml = sub / "seamscope.toml"
            own = toml.is_file() and not toml.is_symlink()  # a linked toml is not the folder's own: not read
            targets.append(Target(_unique(sub.name, used), repo=None if own else str(sub.resolve()),
                                  config=str(toml.resolve()) if own else None,
                                  root=str(sub.resolve()) if own else None))
        if not targets:
            raise InputError(root, "holds no repository folders", flag=flag,
                             hint="give a folder whose subfolders are repositories, or a text file listing them")
        return targets
    try:
        if root.exists():  # a device (/dev/zero) or FIFO would never end or block: refused before reading
            check_input_file(root, flag=flag)
        lines = root.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise InputError(root, "does not exist", flag=flag) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(root, f"cannot be read as a list of repositories: {exc}", flag=flag) from exc
    targets = []
    for line in lines:
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        path = (root.parent / os.path.expanduser(entry)).resolve()
        if path.suffix == ".toml":
            targets.append(Target(_unique(path.parent.name, used), config=str(path)))
        else:
            name = path.name.removesuffix(".bundle").removesuffix(".git") or path.name
            targets.append(Target(_unique(name, used), repo=str(path)))
    if not targets:
        raise InputError(root, "lists no repositories", flag=flag,
                         hint="one repository or seamscope.toml path per line")
    return targets


def _worst_seams(report: Report, n: int = TOP_SEAMS) -> list[dict[str, Any]]:
    """The ``n`` seams least covered by integration tests: untested before mocks-only, then most uncovered sites."""
    sec = next((s for s in report.sections if s.id == "interaction_coverage"), None)
    table = next((t for t in sec.tables if t.name == "seams"), None) if sec is not None else None
    if table is None or table.df.empty:
        return []
    df = table.df
    status = df["status"].map(base_status)
    out = pd.DataFrame({
        "seam": df["seam"].astype(str), "status": status,
        "call_sites": df["call_sites"].astype(int),
        "uncovered_call_sites": (df["call_sites"] - df["integration"]).astype(int),
        "pct_integration": df["pct_integration"].astype(float).round(1),
    })
    out = out[out["status"].isin(GAP_STATUSES)]  # covered and import-only seams are no gap
    out = out.assign(_rank=out["status"].map(_STATUS_ORDER).fillna(3))
    out = out.sort_values(["_rank", "uncovered_call_sites", "seam"], ascending=[True, False, True]).head(n)
    recs = out.drop(columns="_rank").to_dict("records")
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in recs]


def audit_one(name: str, repo: str | None, config: str | None, out_dir: str, root: str | None = None
              ) -> dict[str, Any]:
    """Audit one repository, write its report to ``out_dir/name`` and return a small JSON-safe summary.

    Runs in a worker process (local or Dask). Never raises for a bad repository:
    the error is returned in ``error`` so the index can list it.
    """
    from toolkit.runtime import progress
    from toolkit.run.audit import run_audit
    from toolkit.config import AuditConfig, load_toml
    from toolkit.report.writer import write_report

    progress.set_enabled(False)  # many workers drawing bars on one terminal helps nobody
    t0 = time.perf_counter()
    result: dict[str, Any] = {"name": name, "repo": repo or config, "report": None, "error": None,
                              "summary": {}, "top_seams": [], "skipped_inputs": 0, "seconds": None}
    try:
        conf = load_toml(Path(config), root=Path(root) if root else None) if config else AuditConfig(repo=Path(repo))
        if conf.name is None:
            conf = conf.with_(name=name)
        report, ev = run_audit(conf)
        write_report(report, Path(out_dir) / name)
        result["summary"] = {METRICS[m].key: report.audit.value(m) for m in INDEX_HEADLINES}  # by metric id
        result["top_seams"] = _worst_seams(report)
        result["skipped_inputs"] = len(ev.skips)
        result["report"] = f"{name}/report.html"
    except SeamscopeError as exc:
        result["error"] = str(exc)
    except Exception as exc:  # a bug on one repository must not hide the others' results; the index shows it
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result["error"] = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def audit_many(targets: list[Target], out: Path, *, executor: Executor | None = None,
               workers: int | None = None) -> dict[str, Any]:
    """Audit ``targets`` through ``executor`` (default: a local process pool of ``workers``) and write the index.

    Returns ``{"repos": [audit_one results, in target order], "paths": {"html", "md", "json": index files}}``.
    """
    from toolkit.runtime import progress

    from toolkit.report.writer import check_out_dir

    out = check_out_dir(out)  # a file or a symbolic link: refused before any repository is audited
    out.mkdir(parents=True, exist_ok=True)
    own = executor is None
    if own:  # forked local workers inherit what is imported now instead of each importing it again
        import toolkit.run.audit  # noqa: F401
        import toolkit.report.writer  # noqa: F401
    pool = ProcessPoolExecutor(max_workers=workers) if own else executor
    try:
        futures = {pool.submit(audit_one, t.name, t.repo, t.config, str(out), t.root): t for t in targets}
        results: dict[str, dict[str, Any]] = {}
        for fut in progress.progress(as_completed(futures), desc="repositories", total=len(futures), unit="repo"):
            t = futures[fut]
            try:
                results[t.name] = fut.result()
            except Exception as exc:  # the worker itself died (killed, out of memory, lost from the cluster)
                results[t.name] = {"name": t.name, "repo": t.repo or t.config, "report": None, "summary": {},
                                   "top_seams": [], "skipped_inputs": 0, "seconds": None,
                                   "error": f"worker failed: {type(exc).__name__}: {exc}"}
    finally:
        if own:
            pool.shutdown()
    ordered = [results[t.name] for t in targets]
    return {"repos": ordered, "paths": write_index(index_report(ordered), out)}


def _total(values) -> int | None:
    """The sum of the measured values (None = not measured); None when none was measured."""
    got = [int(v) for v in values if v is not None]
    return sum(got) if got else None


def index_report(results: list[dict[str, Any]]) -> Report:
    """The cross-repository index: headline numbers per repository and the worst seams across all of them."""
    rows = []
    for r in results:
        worst = ", ".join(f"{s['seam']} ({s['status']})" for s in r["top_seams"][:3])
        rows.append({"repository": r["name"], "status": "failed" if r["error"] else "ok",
                     **{k: r["summary"].get(k) for k in HEADLINES}, "worst_seams": worst,
                     "report": r["report"], "error": r["error"], "path": r["repo"]})
    repos = pd.DataFrame(rows, columns=["repository", "status", *HEADLINES, "worst_seams", "report", "error", "path"])
    repos = repos.sort_values(["status", "interaction_coverage", "interaction_coverage_estimated", "repository"],
                              ascending=[False, True, True, True],
                              na_position="first", kind="stable").reset_index(drop=True)
    seams = pd.DataFrame([{"repository": r["name"], **s} for r in results for s in r["top_seams"]],
                         columns=["repository", "seam", "status", "call_sites", "uncovered_call_sites",
                                  "pct_integration"])
    if len(seams):
        seams = seams.assign(_rank=seams["status"].map(_STATUS_ORDER).fillna(3)).sort_values(
            ["_rank", "uncovered_call_sites", "repository", "seam"], ascending=[True, False, True, True]
        ).drop(columns="_rank").reset_index(drop=True)
    ok = [r for r in results if not r["error"]]
    cov = [r["summary"]["interaction_coverage"] for r in ok if r["summary"].get("interaction_coverage") is not None]
    failed = [r for r in results if r["error"]]
    sections = [
        Section(id="repositories", title="Repositories, least integration-covered first",
                summary={"repositories": len(results), "audited": len(ok), "failed": len(failed),
                         "median_interaction_coverage": round(float(pd.Series(cov).median()), 1) if cov else None,
                         # over the repositories that measured them; n/a (None) when none could
                         **{k: _total(r["summary"].get(k) for r in ok)
                            for k in ("untested_seams", "seams_only_mocked")}},
                paragraphs=["Each repository's own report is in <name>/report.html next to this index. "
                            "interaction_coverage: share of seams with at least one call site exercised by a test "
                            "with both components real."],
                tables=[Table("repositories", repos, "Headline numbers per repository")]),
        Section(id="worst_seams", title="Worst seams across repositories",
                paragraphs=[f"Up to {TOP_SEAMS} seams per repository that no test runs (untested) or that tests "
                            "run only with the callee mocked (mocks_only), most uncovered call sites first."],
                tables=[Table("worst_seams", seams, "Seams least covered by integration tests, all repositories")]),
    ]
    if failed:
        sections.append(Section(id="failures", title="Repositories that could not be audited",
                                summary={"failed": len(failed)},
                                tables=[Table("failures", pd.DataFrame(
                                    [{"repository": r["name"], "path": r["repo"], "error": r["error"]}
                                     for r in failed], columns=["repository", "path", "error"]),
                                    "The error each one raised")]))
    prov = {"repositories": [{"name": r["name"], "path": r["repo"], "seconds": r["seconds"],
                              "skipped_inputs": r["skipped_inputs"]} for r in results]}
    return Report(title=f"Integration-testing audit of {len(results)} repositories", sections=sections,
                  provenance=prov)


def write_index(report: Report, out: Path) -> dict[str, Path]:
    """Write the index as ``out/index.html``, ``index.md``, ``index.json`` (+ ``out/tables/*.csv``)."""
    from toolkit.report.writer import write_report

    # published like any report: the whole folder (the repositories' reports carried over) old or new
    paths = write_report(report, out, formats=("html", "md", "json", "csv"),
                         entry_names={"json": "index.json", "md": "index.md", "html": "index.html"})
    return {kind: paths[kind] for kind in ("json", "md", "html")}


@contextmanager
def executor_for(scheduler: str | None, workers: int | None = None) -> Iterator[Executor]:
    """A local ``ProcessPoolExecutor(workers)``, or the executor of a Dask cluster at ``scheduler``."""
    if workers is not None and workers < 1:
        raise InputError(None, f"--workers must be at least 1, not {workers}", flag="--workers")
    if scheduler is None:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
        return
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise SeamscopeError("--scheduler needs Dask distributed: pip install seamscope[dask]") from exc
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(scheduler, f"cannot connect to the Dask scheduler: {exc}", flag="--scheduler",
                         hint="give tcp://HOST:PORT of a running dask scheduler") from exc
    try:
        yield client.get_executor()
    finally:
        client.close()
