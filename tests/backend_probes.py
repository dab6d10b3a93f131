"""Functions the backend tests hand to worker processes (importable by them: no test module state),
and a thread-count scope so an in-process reference sweep runs with a worker's intra-op threads
(CPU results of LAPACK-based runs depend on the thread count)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import torch


def square(item: int, device: str) -> tuple[int, str]:
    return item * item, device


def die_on_request(item: tuple[int, str, str | None], device: str) -> int:
    """Item ``(value, mode, marker)``: mode 'always' kills its worker every time; 'once' kills it the
    first time only (the marker file remembers); anything else returns ``value``."""
    value, mode, marker = item
    if mode == "always" or (mode == "once" and not Path(marker).exists()):
        if mode == "once":
            Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return value


def pid_and_threads(item: int, device: str) -> tuple[int, int]:
    return os.getpid(), torch.get_num_threads()


def raise_on_three(item: int, device: str) -> int:
    if item == 3:
        raise ValueError("three is not allowed")
    return item


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run this block with ``threads`` intra-op threads (as a worker would), then restore the count."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def driver_alive_before_and_after_close(item: int, device: str) -> tuple[bool, bool]:
    """In a pool worker: ``driver_alive()``, then the same once the liveness pipe reads as closed
    (the watchdog is paused so that it does not end the process first)."""
    from modlab.sweep import backends

    before = backends.driver_alive()
    link, backends._driver_link = backends._driver_link, _ClosedLink()
    try:
        return before, backends.driver_alive()
    finally:
        backends._driver_link = link


class _ClosedLink:
    def poll(self) -> bool:
        raise EOFError
