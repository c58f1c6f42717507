"""Audit many repositories at once and write an index across them (``seamscope audit-many``).

Targets: a folder whose subfolders are repositories (audited with their own ``seamscope.toml``, if any) or a
text file listing repository or ``seamscope.toml`` paths. Fan-out goes through any
``concurrent.futures.Executor`` (a local process pool, or a Dask cluster's). :func:`audit_one` runs in the
worker, has the report written under ``out/<name>/`` (on a file system the workers share) and returns only a
small JSON-safe summary; a repository that fails is listed with its error instead of stopping the others.
"""
from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterator
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
from toolkit.runtime.atomic import file_stem, unique_name

__all__ = ["STATUS_ORDER", "TOP_SEAMS", "Target", "read_targets", "audit_one", "audit_many", "executor_for"]

#: how many of each repository's worst seams its result carries
TOP_SEAMS = 5
_RESERVED = {"tables", "figures", "index"}  # names the index itself writes into out/
#: seam statuses worst first: how worst seams are ordered, in each repository and across them
STATUS_ORDER = {st: i for i, st in enumerate(SEAM_STATUSES)}
#: writes one audit (toolkit.run.audit.AuditRun) into a folder: the front door's renderer
Writer = Callable[[Any, Path], Any]


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
    return unique_name(stem + "_repo" if stem.lower() in _RESERVED else stem, used)


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


def _worst_seams(df: pd.DataFrame, n: int = TOP_SEAMS) -> list[dict[str, Any]]:
    """The ``n`` seams of an interaction-coverage seams table least covered by integration tests: untested
    before mocks-only, then most uncovered sites."""
    if df.empty:
        return []
    status = df["status"].map(base_status)
    out = pd.DataFrame({
        "seam": df["seam"].astype(str), "status": status,
        "call_sites": df["call_sites"].astype(int),
        "uncovered_call_sites": (df["call_sites"] - df["integration"]).astype(int),
        "pct_integration": df["pct_integration"].astype(float).round(1),
    })
    out = out[out["status"].isin(GAP_STATUSES)]  # covered and import-only seams are no gap
    out = out.assign(_rank=out["status"].map(STATUS_ORDER).fillna(3))
    out = out.sort_values(["_rank", "uncovered_call_sites", "seam"], ascending=[True, False, True]).head(n)
    recs = out.drop(columns="_rank").to_dict("records")
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in recs]


def _result(name: str, repo: str | None, error: str | None = None) -> dict[str, Any]:
    """What :func:`audit_one` returns for a repository before (or without) its audit."""
    return {"name": name, "repo": repo, "report": None, "error": error, "summary": {}, "top_seams": [],
            "skipped_inputs": 0, "seconds": None}


def audit_one(name: str, repo: str | None, config: str | None, out_dir: str, root: str | None = None, *,
              write: Writer | None = None) -> dict[str, Any]:
    """Audit one repository, have ``write`` write its report to ``out_dir/name`` (no report when None) and return
    a small JSON-safe summary.

    Runs in a worker process (local or Dask): ``write`` must be a module-level function. Never raises for a bad
    repository: the error is returned in ``error`` so the index can list it.
    """
    from toolkit.runtime import progress
    from toolkit.run.audit import run_audit
    from toolkit.config import AuditConfig, load_toml

    progress.set_enabled(False)  # many workers drawing bars on one terminal helps nobody
    t0 = time.perf_counter()
    result = _result(name, repo or config)
    try:
        conf = load_toml(Path(config), root=Path(root) if root else None) if config else AuditConfig(repo=Path(repo))
        if conf.name is None:
            conf = conf.with_(name=name)
        run = run_audit(conf)
        result["summary"] = {METRICS[m].key: run.audit.value(m) for m in INDEX_HEADLINES}  # by metric id
        result["top_seams"] = _worst_seams(run.findings.interaction.seams)
        result["skipped_inputs"] = len(run.ev.skips)
        if write is not None:
            write(run, Path(out_dir) / name)
            result["report"] = f"{name}/report.html"
    except SeamscopeError as exc:
        result["error"] = str(exc)
    except Exception as exc:  # a bug on one repository must not hide the others' results; the index shows it
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result["error"] = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def audit_many(targets: list[Target], out: Path, *, write: Writer | None = None, executor: Executor | None = None,
               workers: int | None = None) -> list[dict[str, Any]]:
    """Audit ``targets`` through ``executor`` (default: a local process pool of ``workers``), each report
    written into ``out/<name>`` by ``write`` (:func:`audit_one`); the :func:`audit_one` results in target order.
    """
    from toolkit.runtime import progress

    out.mkdir(parents=True, exist_ok=True)
    own = executor is None
    if own:  # forked local workers inherit what is imported now instead of each importing it again
        import toolkit.run.audit  # noqa: F401
    pool = ProcessPoolExecutor(max_workers=workers) if own else executor
    try:
        futures = {pool.submit(audit_one, t.name, t.repo, t.config, str(out), t.root, write=write): t
                   for t in targets}
        results: dict[str, dict[str, Any]] = {}
        for fut in progress.progress(as_completed(futures), desc="repositories", total=len(futures), unit="repo"):
            t = futures[fut]
            try:
                results[t.name] = fut.result()
            except Exception as exc:  # the worker itself died (killed, out of memory, lost from the cluster)
                results[t.name] = _result(t.name, t.repo or t.config, f"worker failed: {type(exc).__name__}: {exc}")
    finally:
        if own:
            pool.shutdown()
    return [results[t.name] for t in targets]


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
