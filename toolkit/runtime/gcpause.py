"""Python's cyclic garbage collector, paused while seamscope builds large tables: the one place that does.

Why: an audit allocates millions of objects that live as long as it does, and every full collection walks all
of them again (benchmarks/bench_speed_tricks.py: the pytest audit takes 1.16x the time without the pause). The
front doors pause (the CLI, ``run_audit``, ``backtest_many``, the notebooks' ``load``), loaders do not. A forked
worker freezes the heap it inherited first (:func:`freeze_inherited`: the pytest drift review 1.43x slower without).
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused", "freeze_inherited"]


def freeze_inherited() -> None:
    """Initializer of a forked worker process: what it inherited from its caller (an audit's tables, millions of
    objects) is left out of its collections, which would otherwise walk them all, touching (so copying) every
    page it shares with the caller."""
    gc.freeze()


@contextmanager
def collection_paused() -> Iterator[None]:
    """The collector off for the duration, and back on after if it was on.

    Reference counting still frees everything that is not in a cycle; the few cycles made meanwhile (+12 MiB on
    the big audit) wait for the next full collection. On exit the objects built meanwhile are moved to the
    oldest generation without a scan (``gc.freeze`` + ``gc.unfreeze``) rather than scanned by the first young
    collections, unless the caller froze objects itself, which is left as it is. Nested uses are no-ops.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()
