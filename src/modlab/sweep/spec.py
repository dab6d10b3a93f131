"""Sweeps as data: a spec expands to an indexable list of configs.

A spec (YAML or JSON) names an experiment, ``base`` fields and ``axes`` (a grid: the product of the
axes, in the order given; seeds are an ordinary axis). Dotted axis names set nested fields
(``spectrum.omega``). Config ``i`` of a spec is always the same run, and its store key is a hash of
the full config, so resuming is "run the keys that have no ``done`` record".
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from modlab.config import (
    Config,
    check_finite,
    config_key,
    deep_copy,
    describe_validation_error,
    merge_nested,
    nested_defaults,
    read_mapping_file,
    set_dotted,
)
from modlab.errors import ConfigError, echo
from modlab.experiments import get_experiment

MAX_POINTS = 1_000_000


class SweepSpec(Config):
    """A grid of runs of one experiment."""

    experiment: str
    name: str = ""
    base: dict[str, Any] = Field(default_factory=dict)
    axes: dict[str, list[Any]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> SweepSpec:
        """Read a spec file and validate every point of it (before any store is opened), or raise a
        one-line ConfigError."""
        spec = cls.parse(read_mapping_file(path, "sweep spec"), where=f"sweep spec {path}")
        spec.configs()
        return spec

    def overridden(self, fields: dict[str, Any], axes: dict[str, list[Any]]) -> SweepSpec:
        """This spec with dotted ``fields`` set in its base and ``axes`` added (or replacing the axis of
        the same field), every point validated; a field set in both is refused."""
        both = sorted(set(fields) & {*self.axes, *axes})
        if both:
            raise ConfigError(f"--set {echo(both[0])}: it is an axis of the sweep; change its values with --axis")
        base = deep_copy(self.base)
        for name, value in fields.items():
            set_dotted(base, name, value)
        spec = self.replace(base=base, axes={**self.axes, **axes})
        spec.configs()
        return spec

    def points(self) -> list[dict[str, Any]]:
        """The raw field mappings of every point, in grid order."""
        for axis, values in self.axes.items():
            if not values:
                raise ConfigError(f"sweep spec: axis '{axis}' has no values")
        size = math.prod(len(v) for v in self.axes.values())
        if size > MAX_POINTS:
            raise ConfigError(f"sweep spec: {size} points, at most {MAX_POINTS}")
        names = list(self.axes)
        points = []
        for combo in itertools.product(*self.axes.values()):
            point = deep_copy(self.base)
            for name, value in zip(names, combo):
                set_dotted(point, name, value)
            points.append(point)
        return points

    def configs(self) -> list[Config]:
        """Every point validated into the experiment's config (all checked before any runs)."""
        experiment = get_experiment(self.experiment)
        nested = nested_defaults(experiment.config)
        configs, problems = [], []
        points = self.points()
        for i, point in enumerate(points):
            where = f"sweep point {i} ({_describe_axes(point, self.axes)})" if self.axes else "config"
            try:
                config = experiment.config.model_validate(merge_nested(nested, point))
                check_finite(config.to_dict(), where)
            except ValidationError as err:
                problems.append(describe_validation_error(err, experiment.config, where))
                continue
            except ConfigError as err:
                problems.append(str(err))
                continue
            configs.append(config)
        if problems:
            raise ConfigError(_all_problems(problems, len(points)))
        return configs

    def keys(self) -> list[str]:
        return [config_key(self.experiment, c) for c in self.configs()]


def _all_problems(problems: list[str], points: int) -> str:
    """One line for every invalid point: the first in full; if more, how many, and each other
    distinct field problem once (without the point's name)."""
    if len(problems) == 1:
        return problems[0]
    first = _field_problems(problems[0])
    others = [p for problem in problems[1:] for p in _field_problems(problem) if p not in first]
    others = list(dict.fromkeys(others))
    line = f"{problems[0]} — {len(problems)} of {points} points are invalid"
    return line + (f"; also: {'; '.join(others)}" if others else "")


def _field_problems(problem: str) -> list[str]:
    """``"sweep point 3 (n=-5): field 'n' = -5: …; field 'p' = 0: …"`` → one item per field."""
    detail = problem.partition("): ")[2] or problem
    return re.split(r"; (?=(?:unknown )?field ')", detail)


def _describe_axes(point: dict[str, Any], axes: Mapping[str, Sequence[Any]]) -> str:
    parts = []
    for dotted in axes:
        value: Any = point
        for name in dotted.split("."):
            value = value.get(name) if isinstance(value, dict) else None
        parts.append(f"{dotted}={echo(value, 60)}")
    return ", ".join(parts)
