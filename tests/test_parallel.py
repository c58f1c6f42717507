"""toolkit.runtime.parallel.map_chunks: the same results in worker processes as in this one."""
from __future__ import annotations

import gc

from toolkit.runtime.parallel import chunks, map_chunks


def _square_all(items: list[int]) -> list[tuple[int, int, bool]]:
    # also reports whether the worker's collector still has the inherited objects to walk (frozen: it has not)
    return [(i, i * i, gc.get_freeze_count() > 0) for i in items]


def test_worker_processes_give_the_serial_results_and_freeze_the_inherited_heap():
    items = list(range(40))
    serial = sorted(_square_all(items))
    pooled = sorted(map_chunks(_square_all, items, weight=lambda i: i + 1, workers=2, min_items=1))
    assert [(i, sq) for i, sq, _f in pooled] == [(i, sq) for i, sq, _f in serial]
    assert all(frozen for *_x, frozen in pooled)  # gc.freeze ran in every worker before its first chunk


def test_chunks_balance_weight():
    parts = chunks(list(range(1, 11)), 2, weight=lambda i: i)
    assert sorted(x for p in parts for x in p) == list(range(1, 11))
    assert abs(sum(parts[0]) - sum(parts[1])) <= 1
