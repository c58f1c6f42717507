"""Work in a forked child beside the caller (toolkit.runtime.alongside): real forks, real exits."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from toolkit.runtime import alongside

pytestmark = pytest.mark.skipif(not alongside.available(), reason="no fork start method here")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _fail() -> None:
    raise ValueError("no such revision")


def _die() -> None:
    os._exit(3)  # the way an out-of-memory kill or a crash in C ends a process: no report


def _sleep() -> None:
    time.sleep(60)


def test_the_child_does_its_work_and_reports_success(tmp_path):
    out = tmp_path / "done"
    h = alongside.start(_write, (str(out), "ok"), what="test")
    assert h.wait() is None and h.proc.exitcode == 0 and h.seconds is not None
    assert out.read_text() == "ok"  # the parent sees what the child wrote
    assert h.wait() is None  # asked again: the same answer, without a second join


def test_a_failing_child_says_why_and_the_caller_goes_on():
    h = alongside.start(_fail, (), what="test")
    assert h.wait() == "ValueError: no such revision"


def test_a_child_that_dies_without_reporting_is_not_taken_for_done():
    h = alongside.start(_die, (), what="test")
    assert h.wait() == "the process ended with exit code 3 before it was done"


def test_cancel_stops_a_running_child():
    h = alongside.start(_sleep, (), what="test")
    t0 = time.perf_counter()
    h.cancel()
    assert not h.proc.is_alive() and time.perf_counter() - t0 < 30
    assert h.wait() == "cancelled"


def _write_slowly(path: str) -> None:
    from toolkit.runtime.atomic import atomic_write

    def content(fh) -> None:
        fh.write(b"half")
        time.sleep(60)

    atomic_write(path, content)


def test_a_cancelled_child_leaves_no_half_written_file(tmp_path):
    target = tmp_path / "entry.pkl"
    h = alongside.start(_write_slowly, (str(target),), what="test")
    deadline = time.monotonic() + 20
    while not list(tmp_path.glob(".entry.pkl.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp_path.glob(".entry.pkl.*.tmp")), "the child never started writing"
    h.cancel()
    assert list(tmp_path.iterdir()) == []


def _write_slowly_deaf_to_term(path: str) -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # like a child starved or stuck in C: terminate() is not enough
    _write_slowly(path)


def test_a_child_killed_outright_leaves_no_half_written_cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SEAMSCOPE_CACHE", str(tmp_path / "cache"))
    from toolkit.runtime import cache

    target = cache.root() / "ns" / "entry.pkl"
    h = alongside.start(_write_slowly_deaf_to_term, (str(target),), what="test")
    deadline = time.monotonic() + 20
    while not list(target.parent.glob(f".entry.pkl.{h.proc.pid}.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(target.parent.glob(".entry.pkl.*.tmp")), "the child never started writing"
    h.cancel()
    assert h.proc.exitcode == -9  # it ignored SIGTERM, so it was killed: no exception ran its clean-up
    assert list(target.parent.iterdir()) == []


def test_objects_are_kept_out_of_collection_only_while_the_child_runs():
    import gc

    assert gc.get_freeze_count() == 0
    h = alongside.start(_sleep, (), what="test")
    assert gc.get_freeze_count() > 0  # the parent's collections would copy the pages it shares with the child
    h.cancel()
    assert gc.get_freeze_count() == 0


def test_no_fork_inside_a_jupyter_kernel_though_importing_ipykernel_is_fine():
    """A kernel's threads own ZeroMQ sockets a forked child must not touch: notebooks run the work in order."""
    import importlib

    import nbformat
    from nbclient import NotebookClient

    importlib.import_module("ipykernel.kernelapp")  # as widgets may: not a kernel yet
    assert alongside.available()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from toolkit.runtime import alongside\nprint(alongside.available())")]
    root = str(Path(__file__).resolve().parents[1])
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": root}}, timeout=120).execute()
    assert nb.cells[0].outputs[0]["text"].strip() == "False"


def _available_in_a_daemon(conn) -> None:
    conn.send(alongside.available())


def test_a_daemon_process_does_the_work_in_order():
    """multiprocessing forbids daemons (e.g. some worker pools) to start processes: no fork there."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_available_in_a_daemon, args=(send,), daemon=True)
    p.start()
    assert recv.recv() is False
    p.join()


def _write_niceness(path: str) -> None:
    _write(path, str(os.getpriority(os.PRIO_PROCESS, 0)))


def test_the_child_runs_at_a_lower_priority(tmp_path):
    """It is meant to use idle cores, not to slow down the caller it works for."""
    out = tmp_path / "nice"
    h = alongside.start(_write_niceness, (str(out),), what="test")
    assert h.wait() is None
    assert int(out.read_text()) == min(os.getpriority(os.PRIO_PROCESS, 0) + alongside.NICENESS, 19)


def test_a_process_bound_to_one_core_does_the_work_in_order():
    import subprocess
    import sys

    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); " \
           "from toolkit.runtime import alongside; print(alongside.available())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "False"
