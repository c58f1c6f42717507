"""Read one JUnit/xUnit XML report into the ``test_results`` table.

JUnit XML has no single specification; every runner writes its own dialect.
This reader accepts the common ones: pytest (xunit1 with ``file``/``line`` and
xunit2), Maven Surefire/Failsafe (with ``rerunFailure``/``flakyFailure``),
Gradle, jest-junit, mocha-junit-reporter, go-junit-report, Ant, PHPUnit (nested
suites with ``file=``), Bazel (``status="run"``, ``duration``), ``tst``
(``status='disabled'``), googletest (``result="skipped"``) and xUnit.net's JUnit
output, under a ``<testsuites>`` or a bare ``<testsuite>`` root.

Definitions
    suite
        the name of the innermost ``<testsuite>`` around the testcase.
    outcome
        from the testcase's children, by precedence **error > failure > skipped >
        passed**: a testcase that holds ``<skipped/>`` and ``<failure>`` failed
        (the skip did not stop it from failing). Without such children, a
        ``status``/``result`` attribute saying ``disabled``/``notrun``/``skipped``
        (Bazel, googletest, tst) means skipped and ``failed``/``errored`` (tst)
        means failed/error. Surefire's ``rerunFailure``/``rerunError`` without a
        final ``<failure>``/``<error>`` count as failed/error; ``flakyFailure``/
        ``flakyError`` do not change the outcome (the test passed on a rerun).
    reruns
        the number of ``rerunFailure``, ``rerunError``, ``flakyFailure`` and
        ``flakyError`` children.
    duration_s
        ``time`` (else ``duration``) in seconds. ``1,234.5`` and ``1.234,5`` read
        as 1234.5; a lone comma is a decimal comma (``0,5`` = 0.5; Surefire in
        many locales); unreadable values are NaN.
    message
        the ``message`` attribute of the deciding child, else its text (first
        4000 characters); <NA> for passed tests.
    file
        the testcase's ``file`` attribute, else the innermost suite's ``file``
        (PHPUnit) unless that names a folder; <NA> otherwise.
    timestamp
        the nearest enclosing suite's ``timestamp``, in UTC (naive = UTC).

The file is parsed as a stream through defusedxml's parser (a target that keeps
only the columns, so memory stays bounded for reports of any size). Entity
declarations and external references are refused, never expanded.
"""
from __future__ import annotations

import functools
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from toolkit.vocab import schema, testids
from toolkit.errors import InputError

__all__ = ["load_junit", "read_columns", "frame", "parse_seconds", "MESSAGE_LIMIT"]

MESSAGE_LIMIT = 4000
_CHUNK = 1 << 20
# Arrow's default mimalloc pool keeps freed pages; the system allocator returns them (~100 MiB less peak RSS)
_POOL = pa.system_memory_pool()
_BATCH = 20_000  # rows held as Python objects before conversion: bounds memory on huge files
_SKIP_STATUS = frozenset({"disabled", "notrun", "not_run", "skipped", "skip", "ignored", "suppressed", "pending"})
_FAIL_STATUS = frozenset({"failed", "fail", "failure"})
_ERROR_STATUS = frozenset({"errored", "error"})
_RERUN = {"rerunFailure": "failed", "rerunError": "error", "flakyFailure": None, "flakyError": None}
_KIND = {"error": "error", "failure": "failed", "skipped": "skipped"}
_RANK = {"error": 3, "failed": 2, "skipped": 1}
_OTHER_FORMATS = {
    "test-run": "NUnit 3", "test-results": "NUnit 2", "test-suite": "NUnit", "assemblies": "xUnit.net v2", "assembly": "xUnit.net v2",
    "TestRun": "Visual Studio TRX",
}


class _NotJUnit(Exception):
    def __init__(self, tag: str, line: int) -> None:
        super().__init__(tag)
        self.tag, self.line = tag, line


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def parse_seconds(value: str | None) -> float:
    """Seconds from a JUnit ``time`` attribute, tolerating thousands separators and decimal commas."""
    if value is None:
        return float("nan")
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip().rstrip("sS").strip()
    if "," in text:
        if "." in text:  # the last separator is the decimal one
            text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
        elif text.count(",") > 1:  # 1,234,567
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return float("nan")


_NO_SUITE = (None, None, None)


class _Collector:
    """expat callbacks that keep one tuple per ``<testcase>``, converted to columns in batches."""

    def __init__(self) -> None:
        self.expat = None
        self.root_seen = False
        self.suites: list[tuple[str | None, str | None, str | None]] = []  # (name, timestamp, file)
        self.suite = _NO_SUITE  # innermost open suite
        self.in_case = False
        self.depth = 0  # element depth inside the current testcase
        self.case: dict[str, str] = {}
        self.kind: str | None = None  # deciding child so far: error / failed / skipped
        self.kind_msg: str | None = None
        self.reruns = 0
        self.rerun_kind: str | None = None
        self.capture: list[str] | None = None
        self.capture_kind: str | None = None
        # (suite, classname, name, file, outcome, time, message, reruns), converted every _BATCH rows
        self.rows: list[tuple] = []
        self.batches: list[dict] = []

    def flush(self) -> None:
        if self.rows:
            self.batches.append(_batch(self.rows))
            self.rows = []

    def close(self) -> None:  # called by XMLParser.close(); the rows are the result
        return None

    # -- expat handlers ------------------------------------------------------------------
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if "}" in tag:
            tag = _local(tag)
        if self.in_case:
            self.depth += 1
            if self.depth != 1:
                return
            kind = _KIND.get(tag)
            if kind is not None:
                if self.kind is None or _RANK[kind] > _RANK[self.kind]:
                    msg = attrib.get("message")
                    self.kind, self.kind_msg = kind, (msg[:MESSAGE_LIMIT] if msg else None)
                    if not msg:
                        self.capture, self.capture_kind = [], kind
                        self.expat.CharacterDataHandler = self.capture.append
            elif tag in _RERUN:
                self.reruns += 1
                if _RERUN[tag] and self.rerun_kind is None:
                    self.rerun_kind = _RERUN[tag]
            return
        if tag == "testcase":
            self.in_case, self.depth, self.case = True, 0, attrib
            self.kind = self.kind_msg = self.rerun_kind = None
            self.reruns = 0
        elif tag == "testsuite":
            outer = self.suite
            file = attrib.get("file")
            if file and file.endswith(("/", "\\")):
                file = None
            self.suites.append(outer)
            self.suite = (attrib.get("name"), attrib.get("timestamp") or outer[1], file or outer[2])
        elif not self.root_seen:
            if tag != "testsuites":
                raise _NotJUnit(tag, self.expat.CurrentLineNumber)
        self.root_seen = True

    def end(self, tag: str) -> None:
        if self.in_case:
            if self.depth:
                if self.depth == 1 and self.capture is not None:
                    text = "".join(self.capture).strip()
                    if self.capture_kind == self.kind:
                        self.kind_msg = text[:MESSAGE_LIMIT] or None
                    self.capture = self.capture_kind = None
                    self.expat.CharacterDataHandler = len  # cheapest C callable: ignore text
                self.depth -= 1
                return
            self.in_case = False
            a = self.case
            kind = self.kind or self.rerun_kind
            if kind is None:
                kind = "passed"
                status = a.get("status")
                result = a.get("result")
                if status or result:
                    status = (status or "").lower()
                    if status in _SKIP_STATUS or (result or "").lower() in _SKIP_STATUS:
                        kind = "skipped"
                    elif status in _FAIL_STATUS:
                        kind = "failed"
                    elif status in _ERROR_STATUS:
                        kind = "error"
            suite = self.suite
            t = a.get("time")
            self.rows.append((
                suite, a.get("classname") or a.get("class") or None, a.get("name", ""), a.get("file") or suite[2],
                kind, a.get("duration") if t is None else t, self.kind_msg, self.reruns,
            ))
            if len(self.rows) >= _BATCH:
                self.flush()
            return
        if "}" in tag:
            tag = _local(tag)
        if tag == "testsuite" and self.suites:
            self.suite = self.suites.pop()


def _durations(raw: tuple) -> np.ndarray:
    """``time`` strings to seconds: vectorised for plain numbers, :func:`parse_seconds` for the rest."""
    out = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    for i in np.flatnonzero(np.isnan(out)):
        if raw[i] is not None:
            out[i] = parse_seconds(raw[i])
    return out


_NAT = int(np.iinfo("int64").min)  # NaT as int64 nanoseconds
_NS_MAX = int(np.iinfo("int64").max)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@functools.lru_cache(maxsize=8192)
def timestamp_ns(text: str | None) -> int:
    """A suite ``timestamp`` as UTC nanoseconds since the epoch (naive means UTC; unreadable -> NaT)."""
    if not text:
        return _NAT
    text = text.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            ts = pd.to_datetime(text, utc=True, errors="coerce")  # e.g. "2021-03-07T10:36:56 UTC"
            return _NAT if pd.isna(ts) else int(ts.as_unit("ns").value)
        except (ValueError, OverflowError, TypeError):
            return _NAT
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    ns = (dt - _EPOCH) // timedelta(microseconds=1) * 1000
    return ns if _NAT < ns <= _NS_MAX else _NAT  # datetime64[ns] spans 1677..2262


def _parse(path: Path) -> _Collector:
    col = _Collector()
    parser = DefusedXMLParser(target=col, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    expat = col.expat = parser.parser
    expat.ordered_attributes = 0
    expat.StartElementHandler = col.start
    expat.EndElementHandler = col.end
    expat.CharacterDataHandler = len
    started = False
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                if not started:
                    if not chunk.lstrip(b"\xef\xbb\xbf \t\r\n"):
                        continue
                    started = True
                parser.feed(chunk)
            if not started:
                raise InputError(path, "File is empty", hint="expected a JUnit XML report")
            parser.close()
    except _NotJUnit as e:
        other = _OTHER_FORMATS.get(e.tag)
        known = f" (this looks like {other})" if other else ""
        raise InputError(
            path, f"not JUnit XML: the root element is <{e.tag}>, not <testsuites> or <testsuite>{known}",
            line=e.line,
            hint="NUnit, xUnit.net v2 and TRX are other formats; export JUnit XML from the test runner",
        ) from None
    except DefusedXmlException as e:
        raise InputError(
            path, f"refused: the file declares entities/DTD (possible XML bomb or XXE); seamscope does not expand them ({type(e).__name__})",
            line=expat.CurrentLineNumber, hint="produce the report without a DOCTYPE/ENTITY declaration",
        ) from None
    except ParseError as e:
        line, column = getattr(e, "position", (None, None))
        msg = str(e).split(":")[0]
        if col.root_seen:
            what = f"malformed or truncated XML ({msg}, column {None if column is None else column + 1})"
            hint = "the report may have been cut off (runner killed, disk full); re-run the tests"
        else:
            what = f"not XML ({msg}, column {None if column is None else column + 1})"
            hint = "expected a JUnit XML report"
        raise InputError(path, what, line=line, hint=hint) from None
    except (ValueError, LookupError, UnicodeError) as e:  # e.g. an unknown encoding= declaration
        raise InputError(path, f"cannot decode XML: {e}", line=expat.CurrentLineNumber,
                         hint="save the report as UTF-8") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None
    finally:
        col.expat = expat.StartElementHandler = expat.EndElementHandler = expat.CharacterDataHandler = None
    if not col.root_seen:
        raise InputError(path, "not XML (no root element)", hint="expected a JUnit XML report")
    return col


_STRING_COLS = ("suite", "classname", "name", "test_id", "file", "outcome", "message")
_NUMBER_COLS = ("timestamp", "duration_s", "reruns")


def read_columns(path: str | os.PathLike) -> dict:
    """Parse one file into compact columns (Arrow strings, NumPy numbers); the unit of work per file.

    Raises :class:`InputError` like :func:`load_junit`. The result pickles cheaply, so
    files can be parsed in worker processes.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder, not a JUnit XML file", hint="use toolkit.load.test_runs.load_test_runs")
    col = _parse(path)
    col.flush()
    batches, col.batches = col.batches, []  # the parser objects form a cycle; do not let it hold the rows
    n = sum(b["n"] for b in batches)
    if not n:
        return {"n": 0}
    out: dict = {k: pa.chunked_array([b[k] for b in batches], type=pa.large_string()) for k in _STRING_COLS}
    out.update({k: np.concatenate([b[k] for b in batches]) for k in _NUMBER_COLS})
    out["n"] = n
    return out


def _batch(rows: list[tuple]) -> dict:
    """Collector rows -> Arrow/NumPy columns (test_id computed here, by toolkit.vocab.testids)."""
    suite, classname, name, file, outcome, time, message, reruns = zip(*rows)
    suite_name = [s[0] for s in suite]
    from_junit = testids.from_junit
    lists = {
        "suite": suite_name, "classname": classname, "name": name,
        "test_id": [from_junit(c, nm, s) for c, nm, s in zip(classname, name, suite_name)],
        "file": file, "outcome": outcome, "message": message,
    }
    out: dict = {k: pa.array(v, type=pa.large_string(), memory_pool=_POOL) for k, v in lists.items()}
    stamps = {sv: timestamp_ns(sv[1]) for sv in set(suite)}
    out["timestamp"] = np.fromiter((stamps[sv] for sv in suite), dtype="int64", count=len(suite))
    out["duration_s"] = _durations(time)
    out["reruns"] = np.asarray(reruns, dtype="int64")
    out["n"] = len(rows)
    return out


def frame(parts: list[tuple]) -> pd.DataFrame:
    """One ``test_results`` table from ``(columns, run_id, environment, commit, source[, run_seq])`` parts."""
    parts = [p for p in parts if p[0]["n"]]
    if not parts:
        return schema.empty("test_results")

    def strings(chunks: list) -> pd.arrays.ArrowStringArray:
        flat = [a for c in chunks for a in (c.chunks if isinstance(c, pa.ChunkedArray) else [c])]
        return pd.arrays.ArrowStringArray(pa.chunked_array(flat, type=pa.large_string()))

    def const(i: int) -> pd.arrays.ArrowStringArray:
        return strings([pa.repeat(pa.scalar(p[i], pa.large_string()), p[0]["n"], memory_pool=_POOL) for p in parts])

    data: dict = {"run_id": const(1), "environment": const(2), "commit": const(3), "source": const(4)}
    data.update({c: strings([p[0][c] for p in parts]) for c in _STRING_COLS})
    data.update({c: np.concatenate([p[0][c] for p in parts]) for c in _NUMBER_COLS})
    data["timestamp"] = pd.DatetimeIndex(data["timestamp"].view("datetime64[ns]")).tz_localize("UTC").array
    seqs = [p[5] if len(p) > 5 else None for p in parts]
    if any(q is not None for q in seqs):
        data["run_seq"] = pd.array(np.repeat(np.array([np.nan if q is None else q for q in seqs], dtype="float64"),
                                             [p[0]["n"] for p in parts]), dtype="Int64")
    return schema.conform(pd.DataFrame(data), "test_results")


def load_junit(
    path: str | os.PathLike,
    *,
    run_id: str | None = None,
    environment: str = "unknown",
    commit: str | None = None,
) -> pd.DataFrame:
    """Read one JUnit XML file into the ``test_results`` table (see :mod:`toolkit.vocab.schema`).

    ``run_id`` defaults to the file stem; ``environment`` and ``commit`` are
    stored as given. A file without testcases gives an empty table. Raises
    :class:`~toolkit.errors.InputError` (naming file and line) for an empty file,
    non-XML, truncated XML, XML that is not JUnit, or a DTD/entity declaration.
    """
    path = Path(path)
    cols = read_columns(path)
    return frame([(cols, run_id if run_id is not None else path.stem, environment, commit, str(path))])
