"""Intra-op threads: the engine's choice per process, not torch's default.

Small ensembles gain little from intra-op threads, and on a machine shared with other jobs threads
that spin while they wait for each other slow a run many times over. So a process takes its share
of the cores, ``cores // workers`` (at least one), unless the user sets ``--threads``. The count
can change a run's last bits (LAPACK's least squares), so it is recorded with every run (see
:func:`modlab.train.engine.note_engine`) and never depends on the machine's load.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from modlab.errors import ConfigError


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def choose_threads(workers: int = 1, requested: int | None = None) -> int:
    """Threads per process for ``workers`` processes sharing this machine: ``requested`` when
    given, else the cores shared out (at least one)."""
    if requested is not None:
        if requested < 1:
            raise ConfigError(f"threads = {requested}: must be ≥ 1")
        return requested
    return max(1, available_cores() // workers)


@contextmanager
def intra_op_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` inside the block (None: leave them as they are)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
