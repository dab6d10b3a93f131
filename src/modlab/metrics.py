"""What a run measures: scalars, curves with their own x, and arrays with their shape.

An experiment's ``run_batch`` returns, per run, a mapping metric name → one of
- a number (``int`` stays ``int``);
- a :class:`Curve`: y-values over x-values (training steps, epochs, sample sizes …), x named;
- an :class:`Array`: a matrix or tensor, with its shape;
- a plain list of numbers, read as a curve over its index (``x_name = "index"``).

Values are stored as JSON through :func:`encode` and read back through :func:`decode`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Curve:
    """``y[i]`` measured at ``x[i]``; ``x_name`` says what x is (``step``, ``epoch``, ``n`` …)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    x_name: str = "step"

    def __init__(self, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, x_name: str = "step"):
        x_values, y_values = tuple(_number(v) for v in x), tuple(_number(v) for v in y)
        if len(x_values) != len(y_values):
            raise ValueError(f"curve: {len(x_values)} x-values but {len(y_values)} y-values")
        object.__setattr__(self, "x", x_values)
        object.__setattr__(self, "y", y_values)
        object.__setattr__(self, "x_name", x_name)


@dataclass(frozen=True)
class Array:
    """An array of numbers kept with its shape (row-major ``values``)."""

    values: tuple[float, ...]
    shape: tuple[int, ...]

    def __init__(self, data: Any):
        array = np.asarray(data, dtype=float)
        object.__setattr__(self, "values", tuple(float(v) for v in array.ravel()))
        object.__setattr__(self, "shape", tuple(int(s) for s in array.shape))

    def numpy(self) -> np.ndarray:
        return np.asarray(self.values, dtype=float).reshape(self.shape)


Metric = int | float | Curve | Array | list


def _number(value: Any) -> float | int:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def encode(value: Metric) -> Any:
    """A metric → its JSON form: a number, ``{"x", "y", "x_name"}`` or ``{"values", "shape"}``."""
    if isinstance(value, Curve):
        return {"x": list(value.x), "y": list(value.y), "x_name": value.x_name}
    if isinstance(value, Array):
        return {"values": list(value.values), "shape": list(value.shape)}
    if isinstance(value, (list, tuple)):
        return encode(Curve(range(len(value)), value, "index"))
    return _number(value)


def decode(data: Any) -> Metric:
    """The JSON form → a metric (a stored plain list is a curve over its index)."""
    if isinstance(data, dict) and "y" in data:
        return Curve(data["x"], data["y"], data.get("x_name", "step"))
    if isinstance(data, dict) and "shape" in data:
        return Array(np.asarray(data["values"], dtype=float).reshape(data["shape"]))
    if isinstance(data, list):
        return Curve(range(len(data)), data, "index")
    return data


def non_finite(value: Metric) -> bool:
    """True when any number of the metric is NaN or infinite."""
    if isinstance(value, Curve):
        numbers: Sequence[float] = value.y
    elif isinstance(value, Array):
        numbers = value.values
    elif isinstance(value, (list, tuple)):
        numbers = value
    else:
        numbers = [value]
    return any(isinstance(v, float) and not math.isfinite(v) for v in numbers)
