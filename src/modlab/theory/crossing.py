"""Where a curve first reaches a level: samples to a target loss, time for a mode to rise.

One helper for every "first crossing" in modlab, with censoring stated rather than hidden:
a curve that already meets the level at its first point is *left-censored* (the crossing is
``≤ x[0]``); one that never meets it is *right-censored* (``> x[-1]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Censored = Literal["left", "right"] | None


@dataclass(frozen=True)
class Crossing:
    """The first crossing: ``value`` is the interpolated x (for a left-censored curve ``x[0]``, for a
    right-censored one ``nan``); ``censored`` is ``"left"``, ``"right"`` or None; ``bound`` is the x the
    censoring refers to (``x[0]`` or ``x[-1]``)."""

    value: float
    censored: Censored = None
    bound: float = float("nan")

    def describe(self) -> str:
        """``"123"``, ``"≤ 10"`` or ``"> 5000"``."""
        if self.censored == "left":
            return f"≤ {self.bound:g}"
        if self.censored == "right":
            return f"> {self.bound:g}"
        return f"{self.value:.4g}"


def first_crossing(
    x: np.typing.ArrayLike,
    y: np.typing.ArrayLike,
    level: float,
    *,
    direction: Literal["down", "up"] = "down",
    log: bool = True,
) -> Crossing:
    """First x at which ``y(x)`` reaches ``level``: falls to it (``down``) or rises to it (``up``).

    Between the two bracketing points the crossing is interpolated linearly, in log x and log y when
    ``log`` (a loss falling with n), else in x and y (a mode rising in time). ``x``, ``y``: (N,).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    reached = np.flatnonzero(y <= level if direction == "down" else y >= level)
    if reached.size == 0:
        return Crossing(float("nan"), "right", float(x[-1]))
    i = int(reached[0])
    if i == 0:
        return Crossing(float(x[0]), "left", float(x[0]))
    if log:
        x0, x1, y0, y1, target = np.log(x[i - 1]), np.log(x[i]), np.log(y[i - 1]), np.log(y[i]), np.log(level)
    else:
        x0, x1, y0, y1, target = x[i - 1], x[i], y[i - 1], y[i], level
    frac = (target - y0) / (y1 - y0)
    value = x0 + frac * (x1 - x0)
    return Crossing(float(np.exp(value) if log else value))
