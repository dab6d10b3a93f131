"""Results as tables: stored runs → a long form (one row per run × metric × x) and a wide form (one
row per run), and the wide form aggregated over seeds (mean, standard error, count).

Metrics are read through :func:`modlab.metrics.decode`: a number is a scalar, a
:class:`~modlab.metrics.Curve` has its own x, an :class:`~modlab.metrics.Array` keeps its shape.
The wide form keeps scalars and each curve's final value (column ``NAME[-1]``); arrays are in the
long form only. Integer values stay integers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from modlab.errors import ConfigError
from modlab.metrics import Array, Curve, decode

RUN_COLUMNS = ("key", "experiment")
LONG_COLUMNS = ("metric", "step", "x", "value")
FINAL = "[-1]"  # suffix of a curve's final value in the wide form


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config → dotted columns (``spectrum.omega``)."""
    flat: dict[str, Any] = {}
    for name, value in config.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def tidy_table(records: Iterable[Any]) -> pd.DataFrame:
    """Records (``key``, ``experiment``, ``config``, ``metrics``) → the long form: one row per run ×
    metric × point. Columns: key, experiment, config fields…, metric, step (a curve's or array's
    position; NaN for scalars), x (a curve's own x; NaN otherwise), value."""
    rows = []
    for rec in records:
        base = {"key": rec.key, "experiment": rec.experiment, **config_columns(rec.config, LONG_COLUMNS)}
        for name, stored in rec.metrics.items():
            rows += [{**base, "metric": name, **point} for point in _points(decode(stored))]
    return pd.DataFrame(rows)


def config_columns(config: dict[str, Any], reserved: Iterable[str]) -> dict[str, Any]:
    """A run's config as dotted columns; a field whose name a table uses for something else (a
    ``value`` field in the long form, a field named like a metric) becomes ``config.NAME``."""
    taken = {*RUN_COLUMNS, *reserved}
    return {f"config.{k}" if k in taken else k: v for k, v in flatten(config).items()}


def _points(metric: Any) -> list[dict[str, Any]]:
    """A decoded metric → its rows: ``step``, ``x`` and ``value`` of every number it holds."""
    if isinstance(metric, Curve):
        return [{"step": i, "x": x, "value": y} for i, (x, y) in enumerate(zip(metric.x, metric.y))]
    if isinstance(metric, Array):
        return [{"step": i, "x": math.nan, "value": v} for i, v in enumerate(metric.values)]
    return [{"step": math.nan, "x": math.nan, "value": metric}]


def metric_summary(metrics: dict[str, Any]) -> list[str]:
    """One short line per metric of a run: a scalar's value, a curve's final value with its x range,
    an array's shape."""
    lines = []
    for name, stored in metrics.items():
        metric = decode(stored)
        if isinstance(metric, Curve):
            span = f"{metric.x_name} {_number(metric.x[0])}…{_number(metric.x[-1])}" if metric.x else "empty"
            shown = _number(metric.y[-1]) if metric.y else "-"
            lines.append(f"  {name}: {shown} (final of {len(metric.y)} points, {span})")
        elif isinstance(metric, Array):
            lines.append(f"  {name}: array of shape {'×'.join(map(str, metric.shape))}")
        else:
            lines.append(f"  {name}: {_number(metric)}")
    return lines


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def wide_table(records: Iterable[Any]) -> pd.DataFrame:
    """One row per run: key, experiment, every config field, each scalar metric and each curve's
    final value (``NAME[-1]``)."""
    rows = []
    for rec in records:
        metrics = _wide_metrics(rec.metrics)
        rows.append({"key": rec.key, "experiment": rec.experiment, **config_columns(rec.config, metrics), **metrics})
    return _with_ints(rows)


def _wide_metrics(stored_metrics: dict[str, Any]) -> dict[str, Any]:
    """A run's scalar metrics and its curves' final values (``NAME[-1]``); arrays are left out."""
    out: dict[str, Any] = {}
    for name, stored in stored_metrics.items():
        metric = decode(stored)
        if isinstance(metric, Curve):
            out[name + FINAL] = metric.y[-1] if metric.y else math.nan
        elif not isinstance(metric, Array):
            out[name] = metric
    return out


def metric_columns(records: Iterable[Any]) -> list[str]:
    """The metric columns of the wide table of ``records``, in order of first appearance."""
    return list(dict.fromkeys(name for rec in records for name in _wide_metrics(rec.metrics)))


def varying(table: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """Those of ``columns`` whose value differs between rows (missing counts as a value)."""
    return [c for c in columns if c in table and table[c].astype(str).nunique() > 1]


def seed_fields(columns: Iterable[str]) -> list[str]:
    """The default fields to aggregate over: those whose name ends in ``seed``."""
    return [c for c in columns if c.rsplit(".", 1)[-1].endswith("seed")]


def aggregate(
    table: pd.DataFrame, over: Sequence[str], group_by: Sequence[str], metrics: Sequence[str]
) -> pd.DataFrame:
    """Mean, standard error (NaN for one run) and count of each metric over the runs that differ only
    in ``over``, one row per value of ``group_by``. Columns: group_by…, count, then per metric
    ``NAME`` (the mean) and ``NAME_se``."""
    unknown = [f for f in over if f not in table]
    if unknown:
        raise ConfigError(f"--agg: no field {', '.join(map(repr, unknown))} (fields: {', '.join(table.columns)})")
    keys = [c for c in group_by if c not in over]
    grouped = table.groupby(keys or np.zeros(len(table), int), dropna=False, sort=False)
    out = grouped.size().rename("count").to_frame()
    for name in metrics:
        values = grouped[name]
        out[name] = values.mean()
        out[name + "_se"] = values.std() / np.sqrt(values.count())
    return out.reset_index(drop=not keys)


def _with_ints(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame of ``rows`` where every column whose values are all integers (or missing) is an
    integer column (pandas' nullable ``Int64``), not float."""
    table = pd.DataFrame(rows)
    for column in table.columns:
        values = [row[column] for row in rows if column in row and not _missing(row[column])]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            table[column] = table[column].astype("Int64")
    return table


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def results_table(
    records: Sequence[Any], *, long: bool = False, agg: Sequence[str] | Literal["seeds"] | None = None
) -> pd.DataFrame:
    """What ``modlab results`` shows of ``records``: the config fields that vary between them, then
    the metrics. Wide (one row per run, with its key) by default; ``long``: one row per run × metric
    × point; ``agg``: the fields to aggregate over (mean, standard error and count of the runs that
    differ only in them), or ``"seeds"``: the fields whose name ends in ``seed``."""
    if long and agg is not None:
        raise ConfigError("--long and --agg: choose one (the long form lists every run)")
    if agg is not None and not isinstance(agg, str) and not agg:
        raise ConfigError("--agg: give the fields to aggregate over, or 'seeds' for the seed fields")
    if isinstance(agg, str) and agg != "seeds":
        raise ConfigError(f"--agg {agg!r}: give a list of field names, or 'seeds' for the seed fields")
    if not records:
        return pd.DataFrame()
    if long:
        table = tidy_table(records)
        fields = [c for c in table.columns if c not in (*RUN_COLUMNS, *LONG_COLUMNS)]
        return table[["key", *varying(table, ["experiment", *fields]), *LONG_COLUMNS]]
    table = wide_table(records)
    metrics = metric_columns(records)
    fields = [c for c in table.columns if c not in (*RUN_COLUMNS, *metrics)]
    shown = varying(table, ["experiment", *fields])
    if agg is None:
        return table[["key", *shown, *metrics]]
    return aggregate(table, seed_fields(fields) if agg == "seeds" else list(agg), shown, metrics)
