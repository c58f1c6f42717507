"""Per-test coverage: which test executed which line, and so which call sites and components.

A coverage data file recorded with per-test contexts (pytest-cov
``--cov-context=test`` or coverage's ``[run] dynamic_context = test_function``)
says, for every line, which tests ran it. That turns the static call-site table
(:mod:`toolkit.load.structure`) into evidence: a test *exercises* a cross-component
call site when it executed that site's line.

Reading goes through coverage.py's own :class:`coverage.CoverageData` (it
validates the file and its schema version). For the bulk line data there are two
readers with identical results:

* ``"api"`` — :meth:`CoverageData.contexts_by_lineno` per file; portable across
  coverage versions but decodes every (line, context) pair in Python.
* ``"sql"`` (default when coverage's schema is the documented version 7) — one
  read-only query over ``line_bits``/``arc`` and a vectorised numpy decode of the
  numbits; ~an order of magnitude faster on big suites (see
  ``benchmarks/bench_coverage.py``). coverage documents the schema and its
  version number precisely so that readers can do this safely.

Paths in a data file are absolute paths of the machine that ran the tests. They
are mapped to repository paths by ``path_map`` (``[paths]``-style prefix
remapping) and then by the longest unique path suffix among the repository's
files; a file that maps to none or to several is reported as a :class:`Skip`.
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap
from toolkit.errors import InputError, Skip, report_skip
from toolkit.vocab.testids import from_nodeid

NO_CONTEXTS_HINT = ("recorded without per-test contexts; rerun with --cov-context=test (pytest-cov) "
                    "or [run] dynamic_context = test_function")
_KNOWN_SCHEMA = 7


def context_test_id(context: str) -> str | None:
    """test_id of a coverage context, or ``None`` for the global ``""`` context.

    pytest-cov contexts are node ids with a phase (``tests/x.py::T::t|run``; the
    ``setup``/``teardown`` phases belong to the same test); coverage's
    ``test_function`` contexts are already dotted qualnames (``tests.x.T.t``).
    """
    if not context:
        return None
    if "::" in context or "|" in context or context.endswith(".py"):
        return from_nodeid(context)
    return context


# ---- path mapping --------------------------------------------------------------------------

def map_paths(recorded: Iterable[str], repo_files: Iterable[str], path_map: Mapping[str, str] | None = None,
              *, skips: list[Skip] | None = None, source: str = "<coverage>") -> dict[str, str]:
    """Map recorded (usually absolute) file paths to repository-relative paths.

    First ``path_map`` (recorded prefix -> repository-relative prefix, longest
    prefix first, like coverage's ``[paths]``); then, when the result is not a
    repository file, the repository file sharing the longest path suffix with it,
    if exactly one does. Unmatched and ambiguous files are reported as skips.
    """
    files = [f.replace(os.sep, "/") for f in repo_files]
    file_set = set(files)
    by_name: dict[str, list[tuple[str, ...]]] = {}
    for f in files:
        parts = tuple(PurePosixPath(f).parts)
        by_name.setdefault(parts[-1], []).append(parts)
    prefixes = sorted(((k.replace("\\", "/").rstrip("/"), v.replace("\\", "/").strip("/"))
                       for k, v in (path_map or {}).items()), key=lambda kv: -len(kv[0]))
    out: dict[str, str] = {}
    for rec in recorded:
        p = rec.replace("\\", "/")
        for old, new in prefixes:
            if p == old or p.startswith(old + "/"):
                rest = p[len(old):].lstrip("/")
                p = f"{new}/{rest}" if new else rest
                break
        if p in file_set:
            out[rec] = p
            continue
        parts = tuple(x for x in PurePosixPath(p).parts if x not in ("/", ""))
        # the candidates (same file name) sharing the longest path suffix with it
        shared = [(len(os.path.commonprefix([c[::-1], parts[::-1]])), c) for c in by_name.get(parts[-1], [])
                  ] if parts else []
        most = max((n for n, _c in shared), default=0)
        best = [c for n, c in shared if n == most]
        if len(best) == 1:
            out[rec] = "/".join(best[0])
        elif best:
            report_skip(skips, source, f"measured file {rec!r} matches several repository files by suffix ("
                        + ", ".join(sorted("/".join(b) for b in best)) + "); give a path_map to disambiguate")
        else:
            report_skip(skips, source, f"measured file {rec!r} is not a file of the repository")
    return out


# ---- reading ---------------------------------------------------------------------------------

def _open(path: Path):
    import coverage
    from coverage.exceptions import CoverageException

    if not path.is_file():
        raise InputError(path, "does not exist" if not path.exists() else "is not a file",
                         hint="give the .coverage data file written by coverage.py / pytest-cov")
    _check_shape(path)
    try:
        try:
            data = coverage.CoverageData(basename=str(path), read_only=True)
        except TypeError:  # coverage < 7.10 has no read_only
            data = coverage.CoverageData(basename=str(path))
        data.read()
        files = sorted(data.measured_files())
        contexts = data.measured_contexts()
    except (CoverageException, sqlite3.Error) as exc:
        raise InputError(path, f"is not a usable coverage data file (coverage {coverage.__version__}): {exc}",
                         hint="give a .coverage file written by coverage.py 5+; combine parallel files with "
                              "`coverage combine` first") from exc
    return data, files, contexts


#: SQLite virtual-machine steps one query may take per byte of the data file (plus a floor): a query over plain
#: tables is linear in the file, so a query far beyond that is a hostile file, not a big one
_STEPS_PER_BYTE, _STEP_FLOOR, _STEP_CHUNK = 200, 10**9, 100_000


def _connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to a coverage data file whose queries abort after a step budget (see above)."""
    con = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    budget = [max(_STEP_FLOOR, _STEPS_PER_BYTE * path.stat().st_size) // _STEP_CHUNK]

    def spend() -> int:
        budget[0] -= 1
        return 1 if budget[0] < 0 else 0  # non-zero aborts the query (sqlite3.OperationalError: interrupted)

    con.set_progress_handler(spend, _STEP_CHUNK)
    return con


def _check_shape(path: Path) -> None:
    """Refuse, before coverage.py opens it, a data file holding what coverage.py never writes: a VIEW or TRIGGER
    (a recursive view makes every read hang; a trigger is code), or a virtual table. Ids need no check: they
    are looked up, never used as array sizes (:func:`_codes`)."""
    try:
        con = _connect(path)
        try:
            odd = con.execute("select type, name from sqlite_master where type in ('view', 'trigger') "
                              "or (type = 'table' and upper(sql) like 'CREATE VIRTUAL%') limit 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise InputError(path, f"is not a usable coverage data file: {exc}",
                         hint="give a .coverage file written by coverage.py 5+") from None
    if odd:
        kind = "virtual table" if odd[0] == "table" else odd[0].upper()
        raise InputError(path, f"is not a coverage data file: it holds a {kind} ({odd[1]!r}), which coverage.py "
                               "never writes", hint="give the .coverage file written by coverage.py / pytest-cov")


def _read_sql(path: Path, has_arcs: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, str], dict[int, str]]:
    """All executed (file_id, context_id, line) triples as numpy arrays, plus the id -> name tables."""
    con = _connect(path)
    try:
        files = dict(con.execute("select id, path from file"))
        contexts = dict(con.execute("select id, context from context"))
        if has_arcs:
            rows = np.array(con.execute(
                "select file_id, context_id, fromno from arc where fromno > 0 "
                "union select file_id, context_id, tono from arc where tono > 0").fetchall(), dtype=np.int64)
            rows = rows.reshape(-1, 3)
            lines = rows[:, 2]  # a line number beyond int32 is no line of a source file: 0, dropped later
            return rows[:, 0], rows[:, 1], np.where(lines < 1 << 31, lines, 0).astype(np.int32), files, contexts
        bit_rows = con.execute("select file_id, context_id, numbits from line_bits").fetchall()
        fids, cids, blobs = (list(col) for col in zip(*bit_rows)) if bit_rows else ([], [], [])
    finally:
        con.close()
    if not blobs:
        empty = np.array([], np.int64)
        return empty, empty, np.array([], np.int32), files, contexts
    # numbits: bit k of byte j is line 8*j + k; decode all rows at once
    lens = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    bits = np.unpackbits(np.frombuffer(b"".join(blobs), dtype=np.uint8), bitorder="little")
    pos = np.flatnonzero(bits)
    nonempty = lens > 0
    counts = np.zeros(len(blobs), dtype=np.int64)
    counts[nonempty] = np.add.reduceat(bits, starts[nonempty] * 8, dtype=np.int64)
    row = np.repeat(np.arange(len(blobs)), counts)  # pos is ascending, so rows come in blob order
    line = (pos - starts[row] * 8).astype(np.int32)
    return np.asarray(fids, np.int64)[row], np.asarray(cids, np.int64)[row], line, files, contexts


def _lookup(ids: dict[int, str | None]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(sorted ids, their codes, sorted category names)``: code -1 for None. Ids are whatever the file holds
    (``2**62`` included), so they are searched, never used as positions (see :func:`_codes`)."""
    cats = sorted({v for v in ids.values() if v is not None})
    index = {c: i for i, c in enumerate(cats)}
    keys = np.array(sorted(ids), dtype=np.int64)
    codes = np.array([-1 if (c := ids[k]) is None else index[c] for k in keys.tolist()], dtype=np.int64)
    return keys, codes, cats


def _codes(table: tuple[np.ndarray, np.ndarray, list[str]], ids: np.ndarray) -> np.ndarray:
    """The code of each id in ``ids`` (-1 for an id the table does not hold: a row naming no known file/context)."""
    keys, codes, _ = table
    if not len(keys):
        return np.full(len(ids), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
    return np.where(keys[at] == ids, codes[at], -1)


def _drop_unused(col: pd.Series) -> pd.Series:
    """``cat.remove_unused_categories`` by counting codes (no sort of a column with millions of rows)."""
    codes = col.cat.codes.to_numpy()
    used = np.bincount(codes[codes >= 0], minlength=len(col.cat.categories)) > 0
    if used.all():
        return col
    remap = np.cumsum(used) - 1
    new_codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return pd.Series(pd.Categorical.from_codes(new_codes, categories=col.cat.categories[used]), index=col.index,
                     name=col.name)


def load_coverage(path: str | os.PathLike, repo_files: list[str], *, path_map: dict[str, str] | None = None,
                  skips: list[Skip] | None = None, reader: str = "auto") -> pd.DataFrame:
    """Read a coverage data file with per-test contexts into the ``test_lines`` table.

    One row per (test_id, path, line) the test executed — setup, call and
    teardown phases of one test are merged; lines run outside any test (the
    ``""`` context: imports at collection time) are left out. ``path`` is
    repository-relative (see :func:`map_paths`; files that do not map are
    skipped with a :class:`Skip`). ``test_id`` and ``path`` are categoricals and
    ``line`` is int32 because the table has one row per test per executed line.

    Raises :class:`InputError` naming the file when it is not a coverage data
    file, comes from an incompatible coverage version, or was recorded without
    per-test contexts. ``reader`` is ``"auto"``, ``"sql"`` or ``"api"`` (module docstring).
    """
    import coverage.sqldata

    p = Path(path)
    data, files, contexts = _open(p)
    if not files:
        return schema.conform(pd.DataFrame({"test_id": pd.Categorical([]), "path": pd.Categorical([]),
                                            "line": np.array([], np.int32)}), "test_lines")
    if not any(context_test_id(c) for c in contexts):
        raise InputError(p, "has no per-test contexts", hint=NO_CONTEXTS_HINT)
    mapping = map_paths(files, repo_files, path_map, skips=skips, source=str(p))
    if reader == "auto":
        reader = "sql" if coverage.sqldata.SCHEMA_VERSION == _KNOWN_SCHEMA else "api"
    if reader == "sql":
        try:
            fid, cid, line, file_names, ctx_names = _read_sql(p, data.has_arcs())
        except (sqlite3.Error, ValueError, TypeError) as exc:  # interrupted, or values of the wrong type
            raise InputError(p, f"cannot be read as coverage data: {exc}",
                             hint="give the .coverage file written by coverage.py / pytest-cov") from None
        pt = _lookup({i: mapping.get(name) for i, name in file_names.items() if isinstance(i, int)})
        tt = _lookup({i: context_test_id(c) for i, c in ctx_names.items() if isinstance(i, int)})
        pcats, tcats = pt[2], tt[2]
        pcode, tcode = _codes(pt, fid), _codes(tt, cid)
        keep = (pcode >= 0) & (tcode >= 0) & (line > 0)
        pcode, tcode, line = pcode[keep], tcode[keep], line[keep]
        # several contexts of one test (setup/run/teardown) or two recorded files on one path repeat rows
        repeats = any(len(set(used.tolist())) < len(used) for used in (tt[1][tt[1] >= 0], pt[1][pt[1] >= 0]))
        if repeats and len(line):
            key = (tcode * len(pcats) + pcode) * (1 << 31) + line.astype(np.int64)
            _, first = np.unique(key, return_index=True)
            first.sort()
            pcode, tcode, line = pcode[first], tcode[first], line[first]
        df = pd.DataFrame({"test_id": pd.Categorical.from_codes(tcode, categories=tcats),
                           "path": pd.Categorical.from_codes(pcode, categories=pcats), "line": line})
    elif reader == "api":
        parts = []
        for f in files:
            pairs = [(n, c) for n, cs in data.contexts_by_lineno(f).items() for c in cs] if f in mapping else []
            if pairs:
                t = pd.Series([c for _n, c in pairs], dtype=object).map(context_test_id)
                parts.append(pd.DataFrame({"test_id": t.to_numpy(), "path": mapping[f],
                                           "line": np.asarray([n for n, _c in pairs], dtype=np.int32)}))
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"test_id": [], "path": [], "line": []})
        df = df.dropna(subset=["test_id", "path"]).drop_duplicates()
        df = pd.DataFrame({"test_id": df["test_id"].astype("category"), "path": df["path"].astype("category"),
                           "line": df["line"].astype(np.int32)}).reset_index(drop=True)
    else:
        raise ValueError(f"reader must be 'auto', 'sql' or 'api', not {reader!r}")
    df["test_id"] = _drop_unused(df["test_id"])
    df["path"] = _drop_unused(df["path"])
    return schema.conform(df, "test_lines")


# ---- joins with structure --------------------------------------------------------------------

def _path_line_key(paths: pd.Series, lines: pd.Series, categories: pd.Index) -> np.ndarray:
    """One int64 per (path, line): the path's position in ``categories`` << 32 | line; -1 for unknown paths."""
    if isinstance(paths.dtype, pd.CategoricalDtype) and paths.cat.categories.equals(categories):
        codes = paths.cat.codes.to_numpy().astype(np.int64)
    else:
        codes = pd.Index(categories).get_indexer(paths.astype(object)).astype(np.int64)
    key = codes * (1 << 32) + lines.to_numpy(np.int64)
    key[codes < 0] = -1
    return key


def exercised_call_sites(test_lines: pd.DataFrame, call_sites: pd.DataFrame) -> pd.DataFrame:
    """The ``test_exercises`` table: (test_id, call_site_id) for every call site whose line the test executed.

    A call site is exercised when its (path, line) was executed in the test's
    context. Several call sites on one line are all exercised.
    """
    if test_lines.empty or call_sites.empty:
        return schema.empty("test_exercises")
    cats = test_lines["path"].cat.categories if isinstance(test_lines["path"].dtype, pd.CategoricalDtype) \
        else pd.Index(test_lines["path"].astype(object).unique())
    tl_key = _path_line_key(test_lines["path"], test_lines["line"], cats)
    cs_key = _path_line_key(call_sites["path"], call_sites["line"], cats)
    cs = pd.DataFrame({"key": cs_key, "call_site_id": call_sites["call_site_id"].astype(object).to_numpy()})
    cs = cs[cs["key"] >= 0]
    if cs.empty:
        return schema.empty("test_exercises")
    wanted = np.unique(cs["key"].to_numpy())
    at = np.minimum(np.searchsorted(wanted, tl_key), len(wanted) - 1)
    keep = wanted[at] == tl_key  # membership without sorting the (huge) test-line keys
    tests = test_lines["test_id"]
    tl = pd.DataFrame({"key": tl_key[keep], "test_id": np.asarray(tests.astype(object))[keep]
                       if not isinstance(tests.dtype, pd.CategoricalDtype)
                       else np.asarray(tests.cat.categories.astype(object))[tests.cat.codes.to_numpy()[keep]]})
    out = tl.merge(cs, on="key", how="inner")[["test_id", "call_site_id"]].drop_duplicates()
    out["test_id"] = out["test_id"].astype(object)
    out = out.sort_values(["test_id", "call_site_id"], kind="stable").reset_index(drop=True)
    return schema.conform(out, "test_exercises")


def test_components(test_lines: pd.DataFrame, components: ComponentMap) -> pd.DataFrame:
    """The ``test_components`` table: lines each test executed per production component.

    Test files and files outside every component are not counted.
    """
    if test_lines.empty:
        return schema.empty("test_components")
    paths = test_lines["path"].astype("category")
    comp_of = np.array([components.component_of(p) for p in paths.cat.categories] + [None], dtype=object)
    comp = comp_of[paths.cat.codes.to_numpy()]  # code -1 (missing path) picks the trailing None
    df = pd.DataFrame({"test_id": test_lines["test_id"].astype(object).to_numpy(), "component": comp})
    df = df.dropna(subset=["component"])
    out = df.groupby(["test_id", "component"], sort=True).size().rename("lines").reset_index()
    return schema.conform(out, "test_components")


test_components.__test__ = False  # type: ignore[attr-defined]  # a loader, not a pytest test, wherever it is imported
