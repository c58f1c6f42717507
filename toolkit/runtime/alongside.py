"""Work done in a forked process beside this one, its results handed over through the on-disk cache.

Why: an audit's analyses run in one Python thread, so other cores sit idle. Work the audit needs later that
does not depend on them (the backtest's ranking as of an earlier revision) can run on an idle core meanwhile,
at a lower priority (``nice``) so it does not slow the caller down.

How: the child is a fork (everything already loaded) that returns nothing but an error message and writes
what it computes to :mod:`toolkit.runtime.cache`. The caller then computes as usual and hits the cache; if the
child failed or was stopped, the caller computes it itself, so a result never depends on the child.

Only where ``fork`` is the platform's default start method (Linux) and the process may run on more than one
core, and never inside a Jupyter kernel (its threads own sockets that a forked child must not touch).
Elsewhere :func:`start` returns None and the work is done in order.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Alongside", "available", "start"]

#: How much lower the child's scheduling priority is than the caller's (``nice``): it runs on what is idle.
NICENESS = 10


def available() -> bool:
    """Whether :func:`start` can fork here (module docstring)."""
    chosen = multiprocessing.get_start_method(allow_none=True)  # None: the platform default, listed first
    return ((chosen or multiprocessing.get_all_start_methods()[0]) == "fork" and sys.platform == "linux"
            and len(os.sched_getaffinity(0)) > 1  # one core: nothing would run beside the caller
            and not multiprocessing.current_process().daemon  # (a daemon may not start processes)
            and not _in_jupyter_kernel())


def _in_jupyter_kernel() -> bool:
    """Whether this process is a running Jupyter kernel (importing ipykernel, as widgets do, is not enough)."""
    app = sys.modules.get("ipykernel.kernelapp")
    return app is not None and app.IPKernelApp.initialized()


class Alongside:
    """One forked child running ``fn(*args)``. State is real here: the process, and what it reported."""

    def __init__(self, fn: Callable[..., Any], args: tuple, what: str) -> None:
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self.what = what
        self.seconds: float | None = None  # the child's wall time, once it reported
        self.proc = ctx.Process(target=_child, args=(fn, args, send), name=f"seamscope {what}", daemon=False)
        # Objects that exist now are left out of garbage collection until the child ends: a collection walks
        # every tracked object and writes to its header, which would copy each page the two processes share.
        # (Unless the process had frozen objects already: that was its own decision, kept.)
        self._unfreeze_at_end = gc.get_freeze_count() == 0
        gc.freeze()
        self.proc.start()
        send.close()  # the child holds the only write end: EOF when it dies without reporting
        self._ended = False
        self._why: str | None = None  # once ended: None when the child did all its work, else why not

    def wait(self) -> str | None:
        """Block until the child ends. None when it did all its work; else why not (the caller then does the
        work itself). Later calls return the same answer at once."""
        if not self._ended:
            try:
                self._why, self.seconds = self._recv.recv()
            except EOFError:
                self._why = None
            self.proc.join()
            if self._why is None and self.proc.exitcode != 0:
                self._why = f"the process ended with exit code {self.proc.exitcode} before it was done"
            self._end()
        return self._why

    def _end(self) -> None:
        self._recv.close()
        self._ended = True
        if self._unfreeze_at_end:
            gc.unfreeze()
            self._unfreeze_at_end = False

    def cancel(self) -> None:
        """Stop the child if it still runs (the caller failed or was interrupted; its results are not wanted)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=5)
            if self.proc.is_alive():  # stuck where no exception reaches (or starved at its low priority)
                self.proc.kill()
                self.proc.join()
                if self.proc.pid is not None:  # always, once started; said for the type checker
                    _remove_half_written(self.proc.pid)
        self.proc.join()
        if not self._ended:
            self._why = "cancelled"
            self._end()


def _child(fn: Callable[..., Any], args: tuple, conn) -> None:
    # Ctrl-C at a terminal, or cancel(): end through an exception, so half-written cache files are removed
    # (toolkit.runtime.atomic) and nothing is left behind. Its output goes nowhere: the caller's output is its own (no
    # second progress bar, warning or git message from here).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _exit_on_term)
    # Idle cores only: the caller (and the git processes it starts) keeps its CPU, which is what it waits for;
    # the child's own workers inherit this.
    os.nice(NICENESS)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from toolkit.runtime import progress
    progress.set_enabled(False)
    t0 = time.perf_counter()
    try:
        fn(*args)
        msg = None
    except BaseException as exc:  # noqa: BLE001 - handed to the caller, which does the work itself and reports
        msg = f"{type(exc).__name__}: {exc}"
    try:
        conn.send((msg, time.perf_counter() - t0))
    except OSError:
        pass  # the caller stopped listening (it cancelled): there is nobody left to tell
    finally:
        conn.close()


def _remove_half_written(pid: int) -> None:
    """Remove the temporary files a killed child left in the cache (its results go nowhere else)."""
    from toolkit.runtime import cache
    from toolkit.runtime.atomic import tmp_prefix

    for p in cache.root().rglob(f"{tmp_prefix('*', pid)}*.tmp"):
        p.unlink(missing_ok=True)


def _exit_on_term(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def start(fn: Callable[..., Any], args: tuple, what: str) -> Alongside | None:
    """Run ``fn(*args)`` in a forked child now, or return None where that is not available (:func:`available`).
    ``fn`` must hand its results over through :mod:`toolkit.runtime.cache`; ``what`` names the work in messages."""
    if not available():
        return None
    return Alongside(fn, args, what)
