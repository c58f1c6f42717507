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

import os
from pathlib import Path

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from toolkit import schema, testids
from toolkit.errors import InputError

__all__ = ["load_junit", "MESSAGE_LIMIT"]

MESSAGE_LIMIT = 4000
_CHUNK = 1 << 20
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


class _Collector:
    """expat callbacks that append one row per ``<testcase>`` to column lists."""

    def __init__(self) -> None:
        self.expat = None
        self.root_seen = False
        self.suites: list[tuple[str | None, str | None, str | None]] = []  # (name, timestamp, file)
        self.in_case = False
        self.depth = 0  # element depth inside the current testcase
        self.case: dict[str, str] = {}
        self.kind: str | None = None  # deciding child so far: error / failed / skipped
        self.kind_msg: str | None = None
        self.reruns = 0
        self.rerun_kind: str | None = None
        self.capture: list[str] | None = None
        self.capture_kind: str | None = None
        self.suite: list = []
        self.classname: list = []
        self.name: list = []
        self.file: list = []
        self.outcome: list = []
        self.duration: list = []
        self.message: list = []
        self.timestamp: list = []
        self.reruns_col: list = []

    def close(self) -> None:  # called by XMLParser.close(); the columns are the result
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
            outer = self.suites[-1] if self.suites else (None, None, None)
            file = attrib.get("file")
            if file and file.endswith(("/", "\\")):
                file = None
            self.suites.append((attrib.get("name"), attrib.get("timestamp") or outer[1], file or outer[2]))
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
            self._emit()
            self.in_case = False
            return
        if "}" in tag:
            tag = _local(tag)
        if tag == "testsuite" and self.suites:
            self.suites.pop()

    def _emit(self) -> None:
        a = self.case
        suite = self.suites[-1] if self.suites else (None, None, None)
        kind, msg = self.kind, self.kind_msg
        if kind is None and self.rerun_kind is not None:
            kind = self.rerun_kind
        if kind is None:
            status = (a.get("status") or "").lower()
            if status in _SKIP_STATUS or (a.get("result") or "").lower() in _SKIP_STATUS:
                kind = "skipped"
            elif status in _FAIL_STATUS:
                kind = "failed"
            elif status in _ERROR_STATUS:
                kind = "error"
            else:
                kind = "passed"
        classname = a.get("classname") or a.get("class") or None
        self.suite.append(suite[0])
        self.classname.append(classname)
        self.name.append(a.get("name", ""))
        self.file.append(a.get("file") or suite[2])
        self.outcome.append(kind)
        t = a.get("time")
        if t is None:
            t = a.get("duration")
        if t is None:
            self.duration.append(float("nan"))
        else:
            try:
                self.duration.append(float(t))
            except ValueError:
                self.duration.append(parse_seconds(t))
        self.message.append(msg)
        self.timestamp.append(suite[1])
        self.reruns_col.append(self.reruns)


def _to_utc(values: list[str | None]) -> pd.Series:
    """Suite timestamps to UTC; each distinct string is parsed once (naive means UTC)."""
    parsed: dict[str | None, pd.Timestamp] = {}
    for v in set(values):
        ts = pd.NaT if not v else pd.to_datetime(v.strip(), utc=True, errors="coerce")
        parsed[v] = ts
    return pd.Series(pd.DatetimeIndex([parsed[v] for v in values], dtype="datetime64[ns, UTC]"))


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
    if not col.root_seen:
        raise InputError(path, "not XML (no root element)", hint="expected a JUnit XML report")
    return col


def load_junit(
    path: str | os.PathLike,
    *,
    run_id: str | None = None,
    environment: str = "unknown",
    commit: str | None = None,
) -> pd.DataFrame:
    """Read one JUnit XML file into the ``test_results`` table (see :mod:`toolkit.schema`).

    ``run_id`` defaults to the file stem; ``environment`` and ``commit`` are
    stored as given. A file without testcases gives an empty table. Raises
    :class:`~toolkit.errors.InputError` (naming file and line) for an empty file,
    non-XML, truncated XML, XML that is not JUnit, or a DTD/entity declaration.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder, not a JUnit XML file", hint="use toolkit.load.test_runs.load_test_runs")
    col = _parse(path)
    n = len(col.name)
    if n == 0:
        out = schema.empty("test_results")
        return out
    names = col.name
    classnames = col.classname
    suites = col.suite
    from_junit = testids.from_junit
    test_ids = [from_junit(c, nm, s) for c, nm, s in zip(classnames, names, suites)]
    src = str(path)
    df = pd.DataFrame({
        "run_id": pd.array([run_id if run_id is not None else path.stem] * n, dtype="string"),
        "environment": pd.array([environment] * n, dtype="string"),
        "suite": pd.array(suites, dtype="string"),
        "classname": pd.array(classnames, dtype="string"),
        "name": pd.array(names, dtype="string"),
        "test_id": pd.array(test_ids, dtype="string"),
        "file": pd.array(col.file, dtype="string"),
        "outcome": pd.array(col.outcome, dtype="string"),
        "duration_s": pd.array(col.duration, dtype="float64"),
        "message": pd.array(col.message, dtype="string"),
        "timestamp": _to_utc(col.timestamp),
        "reruns": pd.array(col.reruns_col, dtype="int64"),
        "commit": pd.array([commit] * n, dtype="string"),
        "source": pd.array([src] * n, dtype="string"),
    })
    return schema.conform(df, "test_results")
