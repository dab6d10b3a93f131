"""Where a sweep's batches run. Every backend yields each batch's records as soon as it finishes,
so the single store writer commits them at once and a killed driver loses only unfinished runs."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable, Iterator, Protocol


class Backend(Protocol):
    def map(self, fn: Callable[[Any, str], Any], items: Iterable[Any], device: str) -> Iterator[Any]:
        """Yield ``fn(item, device)`` for every item, in completion order."""


class LocalBackend:
    """This machine: in-process (``workers = 1``) or a pool of ``workers`` spawned processes."""

    def __init__(self, workers: int = 1):
        if workers < 1:
            raise ValueError(f"workers = {workers}: must be ≥ 1")
        self.workers = workers

    def map(self, fn, items, device):
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            for item in items:
                yield fn(item, device)
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = [pool.submit(fn, item, device) for item in items]
            for future in as_completed(futures):
                yield future.result()
