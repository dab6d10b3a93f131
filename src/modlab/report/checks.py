"""Numbers read from figures' JSON, quantities computed from them, and the checks that turn them
into verdicts.

A :class:`Number` names one value in one figure's JSON by its key path (with alternatives, so a
renamed key can be listed beside the old one). A :class:`Quantity` combines numbers (a value, a
difference, a ratio …) and says how in words. A :class:`Check` holds a quantity to a stated
threshold. Nothing here knows any figure: the claims table (:mod:`modlab.report.claims`) does.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]
Figures = Mapping[str, Mapping[str, Any]]  # figure name → its JSON


@dataclass(frozen=True)
class Number:
    """One number (or list of numbers) in figure ``figure``'s JSON: the first of ``paths`` present.

    ``at``: the paths lead to a list, and the number is its entry where the list found under the
    sibling key ``at[0]`` (same parent) equals ``at[1]`` — e.g. the samples needed at m = 9.
    ``unreached``: a null means "the curve never reached its target within the grid", read as
    +inf (so "fewer samples than a method that never got there" holds); otherwise a null is a
    missing number."""

    figure: str
    label: str
    paths: tuple[Path, ...]
    at: tuple[str, float] | None = None
    unreached: bool = False

    def read(self, figures: Figures) -> Any:
        """The value, or raise :class:`MissingNumber` saying which keys were looked for."""
        data = figures.get(self.figure)
        if data is None:
            raise MissingNumber(f"figure {self.figure} was not run")
        for path in self.paths:
            found, value = _walk(data, path)
            if not found:
                continue
            if self.at is not None:
                value = self._entry_at(data, path, value)
            if value is None:
                if self.unreached:
                    return math.inf
                raise MissingNumber(f"{self.figure}: {show_path(path)} is null")
            return value
        tried = " or ".join(show_path(p) for p in self.paths)
        raise MissingNumber(f"{self.figure}: no key {tried}")

    def _entry_at(self, data: Any, path: Path, values: Any) -> Any:
        assert self.at is not None
        x_key, x = self.at
        x_path = (*path[:-1], x_key)
        found, xs = _walk(data, x_path)
        if not (found and isinstance(xs, list) and isinstance(values, list) and len(xs) == len(values)):
            raise MissingNumber(f"{self.figure}: no list {show_path(x_path)} beside {show_path(path)}")
        if x not in xs:
            raise MissingNumber(f"{self.figure}: {x_key} = {fmt(x)} is not on this preset's grid")
        return values[xs.index(x)]


class MissingNumber(LookupError):
    """A number a quantity needs is not in the figure's JSON (or is null)."""


def number(
    figure: str, label: str, *paths: Path | str, at: tuple[str, float] | None = None, unreached: bool = False
) -> Number:
    """A :class:`Number`; a plain string path is one top-level key."""
    return Number(figure, label, tuple((p,) if isinstance(p, str) else tuple(p) for p in paths), at, unreached)


def show_path(path: Path) -> str:
    """``("a", "b", -1)`` → ``a › b[-1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f" › {part}" if text else str(part))
    return text


def _walk(data: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) at ``path``: string parts index dicts, integer parts index lists."""
    for part in path:
        if isinstance(part, int):
            if not (isinstance(data, list) and -len(data) <= part < len(data)):
                return False, None
            data = data[part]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False, None
    return True, data


class Quantity(ABC):
    """Something computed from numbers of the figures' JSON."""

    numbers: tuple[Number, ...]

    @abstractmethod
    def compute(self, values: Sequence[Any]) -> float:
        """The quantity from the values of ``numbers``, in order."""

    @abstractmethod
    def formula(self) -> str:
        """How it is computed, as the page prints it."""

    def figures(self) -> set[str]:
        return {n.figure for n in self.numbers}


def _scalar(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MissingNumber(f"{label}: expected a number, found {type(value).__name__}")
    return float(value)


@dataclass(frozen=True)
class Value(Quantity):
    """The number itself."""

    of: Number

    @property
    def numbers(self):  # type: ignore[override]
        return (self.of,)

    def compute(self, values):
        return _scalar(values[0], self.of.label)

    def formula(self):
        return self.of.label


@dataclass(frozen=True)
class Pair(Quantity, ABC):
    """A quantity of two numbers, ``a`` and ``b``."""

    a: Number
    b: Number

    @property
    def numbers(self):  # type: ignore[override]
        return (self.a, self.b)

    def scalars(self, values: Sequence[Any]) -> tuple[float, float]:
        """The values of ``a`` and ``b`` as numbers."""
        return _scalar(values[0], self.a.label), _scalar(values[1], self.b.label)


@dataclass(frozen=True)
class Difference(Pair):
    """``a − b``."""

    def compute(self, values):
        a, b = self.scalars(values)
        return a - b

    def formula(self):
        return f"{self.a.label} − {self.b.label}"


@dataclass(frozen=True)
class Ratio(Pair):
    """``a / b``."""

    def compute(self, values):
        a, b = self.scalars(values)
        if b == 0 or (math.isinf(a) and math.isinf(b)):
            return math.nan
        return a / b

    def formula(self):
        return f"{self.a.label} / {self.b.label}"


@dataclass(frozen=True)
class GapChange(Quantity):
    """``(a_end − b_end) − (a_start − b_start)``: how much a gap between two curves widens."""

    a_end: Number
    b_end: Number
    a_start: Number
    b_start: Number

    @property
    def numbers(self):  # type: ignore[override]
        return (self.a_end, self.b_end, self.a_start, self.b_start)

    def compute(self, values):
        a_end, b_end, a_start, b_start = (_scalar(v, n.label) for v, n in zip(values, self.numbers))
        return (a_end - b_end) - (a_start - b_start)

    def formula(self):
        return f"({self.a_end.label} − {self.b_end.label}) − ({self.a_start.label} − {self.b_start.label})"


@dataclass(frozen=True)
class GrowthPerStep(Quantity):
    """``(y_end / y_start) ^ (1 / (x_end − x_start))``: the factor by which y multiplies per unit of
    x between two points (constant for exponential growth); +inf when ``y_end`` was never reached.
    ``what`` names it on the page (the four numbers are listed beside it)."""

    what: str
    y_end: Number
    y_start: Number
    x_end: Number
    x_start: Number

    @property
    def numbers(self):  # type: ignore[override]
        return (self.y_end, self.y_start, self.x_end, self.x_start)

    def compute(self, values):
        y_end, y_start, x_end, x_start = (_scalar(v, n.label) for v, n in zip(values, self.numbers))
        if x_end <= x_start or y_start <= 0 or math.isinf(y_start):
            return math.nan
        return (y_end / y_start) ** (1.0 / (x_end - x_start))

    def formula(self):
        return self.what


@dataclass(frozen=True)
class RelativeGap(Pair):
    """``|a − b| / |b|``: the relative error of ``a`` against the reference ``b``."""

    def compute(self, values):
        a, b = self.scalars(values)
        return abs(a - b) / abs(b) if b else math.nan

    def formula(self):
        return f"|{self.a.label} − {self.b.label}| / {self.b.label}"


@dataclass(frozen=True)
class MaxAbsDifference(Pair):
    """``max_i |a_i − b_i|`` over two lists of the same length."""

    def compute(self, values):
        a, b = values
        if not isinstance(a, list) or not isinstance(b, list) or len(a) != len(b) or not a:
            raise MissingNumber(f"{self.a.label}, {self.b.label}: expected two lists of the same length")
        return max(abs(_scalar(x, self.a.label) - _scalar(y, self.b.label)) for x, y in zip(a, b))

    def formula(self):
        return f"max |{self.a.label} − {self.b.label}|"


@dataclass(frozen=True)
class Measured:
    """A quantity's value on this build's figures (``value`` None when a number was missing:
    ``problem`` says which)."""

    value: float | None
    inputs: tuple[tuple[str, Any], ...]
    problem: str | None = None


def measure(quantity: Quantity, figures: Figures) -> Measured:
    """Read the quantity's numbers from ``figures`` and compute it."""
    inputs: list[tuple[str, Any]] = []
    try:
        values = [n.read(figures) for n in quantity.numbers]
        inputs = [(n.label, v) for n, v in zip(quantity.numbers, values)]
        return Measured(quantity.compute(values), tuple(inputs))
    except MissingNumber as missing:
        return Measured(None, tuple(inputs), str(missing))


PASS, FAIL, UNDETERMINED, MISSING = "pass", "fail", "undetermined", "missing"


@dataclass(frozen=True)
class Check:
    """``quantity`` held to ``at_least`` and/or ``at_most``; ``if_fails``: what a failure means."""

    quantity: Quantity
    at_least: float | None = None
    at_most: float | None = None
    if_fails: str = ""

    def __post_init__(self):
        if self.at_least is None and self.at_most is None:
            raise ValueError(f"check on {self.quantity.formula()}: give at_least or at_most")

    def rule(self) -> str:
        """The threshold in words, e.g. ``≥ 4`` or ``between −0.02 and 0.02``."""
        if self.at_least is not None and self.at_most is not None:
            return f"between {fmt(self.at_least)} and {fmt(self.at_most)}"
        return f"≥ {fmt(self.at_least)}" if self.at_least is not None else f"≤ {fmt(self.at_most)}"

    def judge(self, measured: Measured) -> str:
        if measured.value is None:
            return MISSING
        if math.isnan(measured.value):
            return UNDETERMINED
        low_ok = self.at_least is None or measured.value >= self.at_least
        high_ok = self.at_most is None or measured.value <= self.at_most
        return PASS if low_ok and high_ok else FAIL


@dataclass(frozen=True)
class Outcome:
    check: Check
    measured: Measured
    status: str


REPRODUCES, PARTLY, DOES_NOT, NO_DATA, NOT_RUN = (
    "reproduces",
    "partly",
    "does not reproduce",
    "no data",
    "not run",
)
VERDICT_RULES = (
    (REPRODUCES, "every check passes"),
    (PARTLY, "some checks pass, not all"),
    (DOES_NOT, "no check passes and at least one fails"),
    (NO_DATA, "no check could be decided: a number it needs is missing (or both sides never reached a target)"),
    (NOT_RUN, "the figure was not made in this build, or its data (CIFAR-10, MNIST) is not available offline"),
)


def verdict(outcomes: Sequence[Outcome]) -> str:
    """The verdict of a claim from its checks' outcomes (rules in :data:`VERDICT_RULES`)."""
    statuses = [o.status for o in outcomes]
    if statuses and all(s == PASS for s in statuses):
        return REPRODUCES
    if PASS in statuses:
        return PARTLY
    return DOES_NOT if FAIL in statuses else NO_DATA


def evaluate(checks: Sequence[Check], figures: Figures) -> list[Outcome]:
    out = []
    for check in checks:
        measured = measure(check.quantity, figures)
        out.append(Outcome(check, measured, check.judge(measured)))
    return out


def fmt(value: Any) -> str:
    """A number for the page: 3 significant digits, thousands as 12,300, +inf as "not reached"."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if math.isinf(value):
        return "not reached" if value > 0 else "−inf"
    if math.isnan(value):
        return "nan"
    if value != 0 and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}".replace("-", "−")


@dataclass(frozen=True)
class Result:
    """A claim's verdict on this build, with each check's outcome and the reason when not run."""

    verdict: str
    outcomes: tuple[Outcome, ...] = field(default_factory=tuple)
    reason: str = ""
