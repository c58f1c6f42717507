"""Read a folder of JUnit test runs, each tagged with its environment, in one call.

Folder convention
    ``root/<environment>/<run>/**/*.xml``
        every XML file anywhere under a run folder belongs to that run
        (Surefire and Gradle write one file per test class).
    ``root/<environment>/<file>.xml``
        each file directly in an environment folder is a run of its own.
    ``root/<file>.xml``
        each file directly in ``root`` is a run in environment ``unknown``.
    a single XML file
        one run, environment ``unknown``, run id = file stem.
    a list of paths and globs
        each folder is read by this convention, each file (or glob match) is a
        run of its own in environment ``unknown``.

Run ids are ``<environment folder>/<run folder or file stem>`` (file stem alone
for files given directly), so they are unique across environments. Runs are
ordered within an environment by the natural order of their names (``run-2``
before ``run-10``); that order is ``run_seq``.

Environment names
    The folder name is mapped with :func:`toolkit.vocab.environments.normalize`
    (``integration`` -> ``integrated``, ``unit`` -> ``isolated``). A folder name
    outside that vocabulary is kept verbatim (``perf-lab`` stays ``perf-lab``)
    rather than collapsed to ``unknown``: the team named it on purpose, and two
    different unknown folders must not merge.

Manifest (optional)
    ``root/manifest.json`` (or ``manifest=``)::

        {"runs": {"<environment folder>/<run>": {"environment": "staging", "commit": "abc123", "run": 3}}}

    overrides the environment (same naming rule), sets the commit the run tested
    and the run's order (``run``). ``<run>`` is the run folder name or the file
    name, with or without ``.xml``. Unknown keys in the manifest are an error
    (a typo would silently lose the commit).

Bad files inside a folder become :class:`~toolkit.errors.Skip` records and the
rest is loaded; when nothing loads at all, :class:`~toolkit.errors.InputError`.
"""
from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.vocab import environments
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.limits import LimitExceeded, check_input_file, load_json
from toolkit.load.junit import frame, read_columns
from toolkit.runtime.progress import progress

__all__ = ["load_test_runs", "environment_name", "natural_key"]


def natural_key(text: str) -> tuple:
    """Sort key that orders ``run-2`` before ``run-10``."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text))


def environment_name(folder: str) -> str:
    """Canonical environment for a folder name; names outside the vocabulary are kept verbatim."""
    env = environments.normalize(folder)
    return folder if env == environments.UNKNOWN and folder.strip().lower() != environments.UNKNOWN else env


@dataclass
class _Run:
    key: str  # "<env folder>/<run>" or file stem
    env_folder: str | None
    run_name: str
    files: list[Path]
    environment: str
    commit: str | None = None
    seq: int | None = None


def _file_run(p: Path) -> _Run:  # a run of its own in environment ``unknown``
    return _Run(p.stem, None, p.name, [p], environments.UNKNOWN)


def _is_xml(p: Path) -> bool:
    return p.suffix.lower() == ".xml" and p.is_file()


def _runs_in_root(root: Path) -> list[_Run]:
    runs: list[_Run] = []
    for child in sorted(root.iterdir(), key=lambda p: natural_key(p.name)):
        if _is_xml(child):
            runs.append(_file_run(child))
        elif child.is_dir() and not child.name.startswith("."):
            env = environment_name(child.name)
            for sub in sorted(child.iterdir(), key=lambda p: natural_key(p.name)):
                if _is_xml(sub):
                    runs.append(_Run(f"{child.name}/{sub.stem}", child.name, sub.name, [sub], env))
                elif sub.is_dir() and not sub.name.startswith("."):
                    files = sorted(filter(_is_xml, sub.rglob("*")), key=lambda p: natural_key(str(p)))
                    if files:
                        runs.append(_Run(f"{child.name}/{sub.name}", child.name, sub.name, files, env))
    return runs


def _read_manifest(path: Path) -> dict[str, dict]:
    try:
        data = load_json(check_input_file(path, flag="manifest").read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise InputError(path, f"manifest is not JSON ({e.msg})", line=e.lineno, flag="manifest") from None
    except LimitExceeded as e:
        raise InputError(path, f"manifest {e.reason}", flag="manifest") from None
    except (OSError, UnicodeError) as e:
        raise InputError(path, f"cannot read manifest: {e}", flag="manifest") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, dict):
        raise InputError(path, 'manifest must be {"runs": {"<environment>/<run>": {...}}}', flag="manifest")
    for key, entry in runs.items():
        if not isinstance(entry, dict):
            raise InputError(path, "manifest entry must be an object", record=key, flag="manifest")
        extra = set(entry) - {"environment", "commit", "run"}
        if extra:
            raise InputError(path, f"unknown manifest fields {sorted(extra)}", record=key,
                             hint="allowed: environment, commit, run", flag="manifest")
        if "run" in entry and not (isinstance(entry["run"], int) and not isinstance(entry["run"], bool)):
            raise InputError(path, "manifest `run` must be an integer", record=key, flag="manifest")
    return runs


def _apply_manifest(runs: list[_Run], manifest: dict[str, dict], path: Path) -> None:
    by_key: dict[str, _Run] = {}
    for r in runs:
        prefix = f"{r.env_folder}/" if r.env_folder else ""
        for name in {r.run_name, Path(r.run_name).stem if r.run_name.lower().endswith(".xml") else r.run_name}:
            by_key[prefix + name] = r
    for key, entry in manifest.items():
        run = by_key.get(key.strip("/"))
        if run is None:
            raise InputError(path, "manifest names a run folder that does not exist", record=key,
                             hint="keys are '<environment folder>/<run folder or file>'", flag="manifest")
        if entry.get("environment") is not None:
            run.environment = environment_name(str(entry["environment"]))
        if entry.get("commit") is not None:
            run.commit = str(entry["commit"])
        if entry.get("run") is not None:
            run.seq = int(entry["run"])


def _expand(paths: Iterable[str | os.PathLike]) -> tuple[list[_Run], list[Path]]:
    runs: list[_Run] = []
    roots: list[Path] = []
    for item in paths:
        text = os.fspath(item)
        matches = sorted(glob.glob(text, recursive=True), key=natural_key) if glob.has_magic(text) else [text]
        if not matches:
            raise InputError(text, "glob matches no file")
        for m in matches:
            p = Path(m)
            if p.is_dir():
                roots.append(p)
            elif p.is_file():
                runs.append(_file_run(p))
            elif p.exists():  # a device or FIFO: reading it would block or never end
                check_input_file(p)
            else:
                raise InputError(p, "no such file or folder")
    return runs, roots


def _read(path: Path) -> tuple[dict | None, tuple | None]:
    try:
        return read_columns(path), None
    except InputError as e:
        return None, (os.fspath(path), e.what + (f"; {e.hint}" if e.hint else ""), e.line)


def load_test_runs(
    root: str | os.PathLike | list[str | os.PathLike],
    *,
    manifest: str | os.PathLike | None = None,
    skips: list[Skip] | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Read every JUnit XML run under ``root`` into one ``test_results`` table.

    ``root`` is a folder laid out as in the module docstring, one XML file, or a
    list of files/folders/globs. ``manifest`` defaults to ``root/manifest.json``
    when that exists. Unreadable files are appended to ``skips`` (warned when
    ``skips`` is None). ``executor`` (e.g. a ``ProcessPoolExecutor``) parses
    files in parallel. Raises :class:`InputError` when nothing loads.
    """
    if isinstance(root, (list, tuple)):
        runs, roots = _expand(root)
        manifest_path = Path(manifest) if manifest is not None else None
    else:
        p = Path(root)
        if not p.exists():
            raise InputError(p, "no such file or folder", hint="point at a folder of <environment>/<run>/*.xml")
        if p.is_file():
            runs, roots = [_file_run(p)], []
        elif p.is_dir():
            runs, roots = [], [p]
        else:  # a device or FIFO: reading it would block or never end
            check_input_file(p)
            runs, roots = [], []
        manifest_path = Path(manifest) if manifest is not None else (p / "manifest.json" if p.is_dir() else None)
        if manifest is None and manifest_path is not None and not manifest_path.is_file():
            manifest_path = None
    for r in roots:
        runs.extend(_runs_in_root(r))
    if manifest_path is not None:
        _apply_manifest(runs, _read_manifest(manifest_path), manifest_path)
    if not any(r.files for r in runs):
        where = root if not isinstance(root, (list, tuple)) else ", ".join(map(os.fspath, root))
        raise InputError(os.fspath(where), "no JUnit XML files found",
                         hint="expected <environment>/<run>/*.xml or <environment>/*.xml")

    # run_seq: manifest `run`, else natural order of run names within the environment
    for env in {r.environment for r in runs}:
        env_runs = [r for r in runs if r.environment == env]
        if all(r.seq is None for r in env_runs):
            for i, r in enumerate(sorted(env_runs, key=lambda r: natural_key(r.key)), 1):
                r.seq = i

    jobs = [(f, r) for r in runs for f in r.files]
    paths = [f for f, _ in jobs]
    if executor is not None:
        results = executor.map(_read, paths, chunksize=max(1, len(paths) // 64))
    else:
        results = map(_read, paths)
    parts: list[tuple] = []
    errors: list[tuple] = []
    for (path, run), (cols, err) in zip(jobs, progress(results, desc="JUnit files", total=len(jobs), unit="file")):
        if err is not None:
            errors.append(err)
            report_skip(skips, err[0], err[1], err[2])
        else:
            parts.append((cols, run.key, run.environment, run.commit, str(path), run.seq))
    if len(errors) == len(jobs):
        path, what, line = errors[0]
        raise InputError(path, f"none of the {len(jobs)} JUnit files could be read; first: {what}", line=line)
    return frame(parts)
