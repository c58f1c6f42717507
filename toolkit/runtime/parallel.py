"""One way to spread CPU-bound parsing over the machine's cores: chunks of items mapped in worker processes.

Its users (the structure loader, the definition history) parse with ``ast``, which holds the GIL: only
processes run that in parallel. Below ``min_items`` a pool costs more than it saves and the work runs here; an
``executor`` given by the caller (a Dask client, in the notebooks) is used instead of a new pool.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

from toolkit.runtime import gcpause
from toolkit.runtime.progress import progress

T = TypeVar("T")
R = TypeVar("R")


def chunks(items: Sequence[T], n: int, weight: Callable[[T], int]) -> list[list[T]]:
    """Split into ``n`` lists of about equal total weight (heaviest first, greedy), so workers finish together."""
    bins: list[list[T]] = [[] for _ in range(n)]
    sizes = [0] * n
    for it in sorted(items, key=lambda x: -weight(x)):
        i = sizes.index(min(sizes))
        bins[i].append(it)
        sizes[i] += weight(it)
    return [b for b in bins if b]


def map_chunks(fn: Callable[[list[T]], list[R]], items: Sequence[T], *, weight: Callable[[T], int],
               workers: int | None = None, executor: cf.Executor | None = None, min_items: int = 64,
               desc: str = "parse") -> list[R]:
    """``fn`` (a module-level function: it is pickled) over chunks of ``items``; the results concatenated, in no
    particular order. ``workers``: processes (default: the cores, at most 8; 1 runs here)."""
    items = list(items)
    if not items:
        return []
    if executor is None and (workers == 1 or (workers is None and len(items) < min_items)
                             or (os.cpu_count() or 1) == 1 and workers is None):
        return fn(items)
    n = workers or min(os.cpu_count() or 1, 8)
    parts = chunks(items, n * 4, weight)
    run = executor if executor is not None else \
        cf.ProcessPoolExecutor(max_workers=n, initializer=gcpause.freeze_inherited)
    try:
        return [r for res in progress(run.map(fn, parts), desc=desc, total=len(parts), unit="chunk") for r in res]
    finally:
        if run is not executor:
            run.shutdown()
