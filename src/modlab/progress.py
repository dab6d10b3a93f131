"""Progress inside a run: a long loop (the trainer's steps) reports how far it is, and whoever
listens in this process (the command line's step bar) shows it. Reporting costs nothing when no
one listens, as in worker processes, whose runs show only in the bar of finished runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[int, int], None]  # (steps done, steps in all)
_listeners: list[Listener] = []


def report(done: int, total: int) -> None:
    """Tell the listeners that ``done`` of ``total`` steps of the current run are done."""
    for listener in _listeners:
        listener(done, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener(done, total)`` on every report inside the ``with`` block."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


@contextmanager
def step_bar(enabled: bool) -> Iterator[None]:
    """A terminal bar of the current run's steps (below the bar of runs), while the block runs (none when
    stderr is not a terminal)."""
    if not enabled:
        yield
        return
    from tqdm import tqdm

    bars: list[tqdm] = []  # drawn at the first report, so nothing shows before training starts

    def show(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="steps", unit="step", position=1, leave=False, disable=None))
        bar = bars[0]
        if bar.total != total or done < bar.n:
            bar.reset(total)
        bar.update(done - bar.n)

    try:
        with listening(show):
            yield
    finally:
        for bar in bars:
            bar.close()
