"""Every bad input is one line: hypothesis draws, for every subcommand of ``seamscope``, one to three of its
arguments set to a bad value — a folder, a device (/dev/zero, /dev/null), a FIFO, a missing path, a file of
garbage, an existing file as an output folder, a number that is negative, zero, NaN, infinite, huge or not a
number, an unknown choice or key — and runs the real CLI in this process. Each run must exit 2 with exactly one
line on stderr and no traceback, and must never block on a FIFO or read a device without end.

Unreadable files are not drawn: the suite runs as root, who reads any file whatever its mode (and traverses any
folder), so a chmod-000 case would test nothing here.
"""
from __future__ import annotations

import io
import itertools
import os
import tempfile
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitutil import make_repo
from toolkit.cli import main

APP = {"pkg/__init__.py": "", "pkg/a.py": "from pkg import b\n\n\ndef f():\n    return b.g()\n",
       "pkg/b.py": "def g():\n    return 1\n", "tests/test_a.py": "from pkg import a\n\n\ndef test_f():\n    a.f()\n"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Paths every example draws from: a tiny good repository, and the bad kinds of path."""
    root = tmp_path_factory.mktemp("fuzz")
    repo = make_repo(root / "repo", APP, date="2024-01-01T12:00:00+00:00")
    (root / "empty-dir").mkdir()
    (root / "garbage.bin").write_bytes(b"\x00\xff\xfe garbage \x80\x81 {[<?xml" * 50)
    (root / "empty.txt").write_bytes(b"")
    (root / "text.txt").write_text("just some words\nno header, no json\n")
    os.mkfifo(root / "fifo")
    old = os.environ.get("SEAMSCOPE_CACHE")
    os.environ["SEAMSCOPE_CACHE"] = str(root / "cache")
    yield {"root": root, "repo": str(repo), "dir": str(root / "empty-dir"), "garbage": str(root / "garbage.bin"),
           "empty": str(root / "empty.txt"), "text": str(root / "text.txt"), "fifo": str(root / "fifo"),
           "missing": str(root / "no" / "such"), "zero": "/dev/zero", "null": "/dev/null",
           "long": str(root / ("x" * 300)), "under_file": str(root / "text.txt" / "child")}
    if old is None:
        os.environ.pop("SEAMSCOPE_CACHE", None)
    else:
        os.environ["SEAMSCOPE_CACHE"] = old


# a bad value is a (kind, text) pair; path kinds are resolved against the world at run time
NOT_A_PATH_FILE = ["dir", "zero", "null", "fifo", "missing", "long", "under_file"]  # not a readable regular file
NOT_AN_INPUT = NOT_A_PATH_FILE + ["garbage", "text"]                # not a usable input file
NOT_A_REPO = ["zero", "null", "fifo", "missing", "dir", "garbage", "long", "under_file"]  # no repository or bundle
BAD_NUMBERS = ["0", "-5", "nan", "inf", "-inf", "1e999", "abc", "", "9" * 5000, "3.5"]
BAD_OUT_FOLDER = ["garbage", "null", "under_file", "long"]         # no folder can be made there
BAD_OUT_FILE = ["dir", "under_file"]                                # no file can be written there

#: subcommand -> argument -> bad values; "@kind" is a path of the world
BAD: dict[str, dict[str, list[str]]] = {
    "audit": {
        "REPO": [f"@{k}" for k in NOT_A_REPO],
        "--config": [f"@{k}" for k in ["dir", "zero", "fifo", "missing", "garbage", "long", "under_file"]],
        "--tests": [f"@{k}" for k in NOT_AN_INPUT],
        "--coverage": [f"@{k}" for k in NOT_AN_INPUT],
        "--issues": [f"@{k}" for k in ["zero", "fifo", "missing", "garbage", "text", "null", "long", "under_file"]],
        "--labels": [f"@{k}" for k in ["dir", "zero", "fifo", "missing", "garbage", "long", "under_file"]],
        "--out": [f"@{k}" for k in BAD_OUT_FOLDER],
        "--compare": [f"@{k}" for k in NOT_AN_INPUT],
        "--at": ["no-such-revision", "HEAD~99", "-"],
        "--only": ["no_such_method"],
        "--fail-under": ["x", "interaction-coverage=abc", "=5", "interaction-coverage=nan"],
        "--threshold": [f"min_revs={v}" for v in BAD_NUMBERS if v not in ("0", "3.5")] + ["nokey=3", "x"],
        "--weight": [f"structural={v}" for v in ["nan", "inf", "-5", "abc", "1e999"]] + ["typo=1", "=1"],
    },
    "audit-many": {
        "ROOT": [f"@{k}" for k in ["zero", "fifo", "missing", "dir", "null", "garbage", "long", "under_file"]],
        "--out": [f"@{k}" for k in BAD_OUT_FOLDER],
        "--workers": [v for v in BAD_NUMBERS if v != ""],
    },
    "coupling": {
        "REPO": [f"@{k}" for k in NOT_A_REPO],
        "--level": ["module", ""],
        "--kind": ["semantic"],
        "--format": ["xml"],
        "--out": [f"@{k}" for k in BAD_OUT_FILE],
    },
    "tests": {
        "PATH": [f"@{k}" for k in NOT_AN_INPUT],
        "--format": ["xml", "html"],
        "--out": [f"@{k}" for k in BAD_OUT_FILE],
    },
    "backtest": {
        "REPO": [f"@{k}" for k in NOT_A_REPO],
        "--k": BAD_NUMBERS,
        "--tests": [f"@{k}" for k in NOT_AN_INPUT],
        "--issues": [f"@{k}" for k in ["zero", "fifo", "missing", "garbage", "text", "null", "long", "under_file"]],
        "--coverage": [f"@{k}" for k in NOT_AN_INPUT],
        "--format": ["csv"],
        "--at": ["no-such-revision"],
    },
    "issues": {
        "FILE": [f"@{k}" for k in ["zero", "fifo", "missing", "garbage", "text", "null", "long", "under_file"]],
        "--format": ["xml"],
        "--out": [f"@{k}" for k in BAD_OUT_FILE],
    },
    "sample": {
        "DIR": [f"@{k}" for k in ["garbage", "null", "zero", "under_file", "long"]],
    },
}
POSITIONAL = {"REPO", "ROOT", "PATH", "FILE", "DIR"}
#: the good value of a required or defaulted argument that the example leaves alone
GOOD = {("audit", "REPO"): "@repo", ("audit", "--out"): "@out", ("audit-many", "--out"): "@out",
        ("audit-many", "ROOT"): "@dir", ("coupling", "REPO"): "@repo", ("tests", "PATH"): "@missing",
        ("backtest", "REPO"): "@repo", ("backtest", "--at"): "HEAD", ("issues", "FILE"): "@missing",
        ("sample", "DIR"): "@garbage"}


@st.composite
def bad_command(draw):
    """(subcommand, {argument: value}) with one to three arguments bad."""
    cmd = draw(st.sampled_from(sorted(BAD)))
    names = sorted(BAD[cmd])
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)), unique=True))
    args = {name: draw(st.sampled_from(BAD[cmd][name])) for name in chosen}
    return cmd, args


_counter = itertools.count()


def argv_of(cmd: str, bad: dict[str, str], world: dict) -> list[str]:
    """The command line: the bad arguments, the good value of every other required argument."""
    values = {name: value for (c, name), value in GOOD.items() if c == cmd}
    values.update(bad)

    def resolve(v: str) -> str:
        if v == "@out":
            return tempfile.mkdtemp(dir=world["root"], prefix=f"out-{next(_counter)}-") + "/report"
        return world[v[1:]] if v.startswith("@") else v

    argv = ["-q", cmd]
    argv += [resolve(v) for name, v in values.items() if name in POSITIONAL]
    for name, v in values.items():
        if name not in POSITIONAL:
            argv += [name, resolve(v)]
    return argv


def run(argv: list[str]) -> tuple[int, str]:
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


@settings(max_examples=45, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=bad_command())
def test_every_bad_argument_of_every_subcommand_is_one_line_and_exit_2(world, case):
    cmd, bad = case
    argv = argv_of(cmd, bad, world)
    code, err = run(argv)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, (argv, err)
    assert code == 2, (argv, code, err)
    assert len(lines) == 1, (argv, err)


@pytest.mark.parametrize("cmd", sorted(BAD))
def test_each_bad_value_alone(world, cmd):
    """Every listed bad value of every argument, alone (the draws above mix them; this covers each once)."""
    failures = []
    for name, values in BAD[cmd].items():
        for v in values:
            argv = argv_of(cmd, {name: v}, world)
            code, err = run(argv)
            lines = [ln for ln in err.splitlines() if ln.strip()]
            if code != 2 or len(lines) != 1 or "Traceback" in err:
                failures.append((argv, code, err[-400:]))
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize("cmd", ["audit", "coupling", "backtest"])
def test_the_good_command_lines_the_draws_start_from_succeed(world, cmd):
    """Control: with no bad argument the same command lines run (so an exit 2 above is the bad argument's)."""
    code, err = run(argv_of(cmd, {}, world))
    assert code == 0, err
