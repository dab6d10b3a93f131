"""A plot of any sweep straight from its stored runs: a metric's mean ± standard error over seeds
against a config field, one line per ``hue`` value and one panel per ``col`` value. A curve metric
is plotted against its own x (``--x step``, or whatever its x is called) or, against a config field,
by its final value. ``modlab plot`` calls :func:`plot_table` and :func:`save_plot`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from modlab.config import did_you_mean
from modlab.errors import ConfigError, echo
from modlab.metrics import Curve, decode
from modlab.table import (
    FINAL,
    LONG_COLUMNS,
    RUN_COLUMNS,
    config_columns,
    metric_columns,
    seed_fields,
    varying,
    wide_table,
)

MAX_LABELLED_TICKS = 8


def plot_table(
    records: Sequence[Any],
    x: str,
    y: str,
    hue: str | None = None,
    col: str | None = None,
    *,
    logx: bool = False,
    logy: bool = False,
):
    """Draw ``y`` against ``x`` from finished run records; returns (matplotlib figure, data dict of
    every plotted number: per panel and line, x, mean, se and count)."""
    if not records:
        raise ConfigError("plot: no finished runs to plot (run the sweep first)")
    points = _points(records, x, y)
    not_fields = {*RUN_COLUMNS, *LONG_COLUMNS, *metric_columns(records), "_y"}
    fields = [c for c in points.columns if c not in not_fields]
    groups = [name for name in (col, hue) if name]
    for name in groups:
        if name not in points:
            raise ConfigError(f"plot: no field {echo(name)} ({did_you_mean(name, fields)}fields: {', '.join(fields)})")
    shown = {x, *groups, *seed_fields(fields)}
    loose = [f for f in varying(points, fields) if f not in shown]
    if loose:
        raise ConfigError(
            f"plot: {', '.join(loose)} also vary between the runs; show them with --hue or --col, "
            "or fix them in the spec (only seeds are averaged over)"
        )
    summary = _mean_se(points, [*groups, x])
    fig, data = _draw(summary, x, y, hue, col, logx, logy)
    return fig, data


def _points(records: Sequence[Any], x: str, y: str) -> pd.DataFrame:
    """One row per plotted point of one run: config fields, ``x`` and the value ``_y``."""
    curves = {name for rec in records for name, v in rec.metrics.items() if isinstance(decode(v), Curve)}
    y_curves = {rec.key: _curve(rec.metrics, y) for rec in records}
    x_names = {curve.x_name for curve in y_curves.values() if curve is not None}
    if y in curves and (x in x_names or x == "x"):
        rows = []
        for rec in records:
            curve = y_curves[rec.key] or Curve([], [])
            base = {"key": rec.key, **config_columns(rec.config, (x, "_y"))}
            rows += [{**base, x: at, "_y": value} for at, value in zip(curve.x, curve.y)]
        return pd.DataFrame(rows)
    table = wide_table(records)
    column = y + FINAL if y in curves else y
    if column not in table:
        metrics = sorted({name for rec in records for name in rec.metrics})
        raise ConfigError(f"plot: no metric {echo(y)} ({did_you_mean(y, metrics)}metrics: {', '.join(metrics)})")
    if x not in table:
        choices = [c for c in table.columns if c not in ("key", "experiment")] + sorted(x_names)
        raise ConfigError(
            f"plot: no field {echo(x)} to plot against ({did_you_mean(x, choices)}choices: {', '.join(choices)})"
        )
    return table.assign(_y=table[column])


def _curve(metrics: dict[str, Any], name: str) -> Curve | None:
    metric = decode(metrics[name]) if name in metrics else None
    return metric if isinstance(metric, Curve) else None


def _mean_se(points: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    grouped = points.groupby(by, dropna=False)["_y"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["se"] = out["std"] / out["count"] ** 0.5
    return out.drop(columns="std")


def _draw(summary: pd.DataFrame, x: str, y: str, hue: str | None, col: str | None, logx: bool, logy: bool):
    from modlab.plots import new_figure

    panels = list(summary.groupby(col, sort=True)) if col else [(None, summary)]
    fig, axes = new_figure(len(panels), ncols=min(len(panels), 4))
    data: dict[str, Any] = {"x": x, "y": y, "hue": hue, "col": col, "panels": []}
    for ax, (col_value, panel) in zip(axes, panels):
        lines = list(panel.groupby(hue, sort=True)) if hue else [(None, panel)]
        entry: dict[str, Any] = {"col": _scalar(col_value), "lines": []}
        for hue_value, line in lines:
            line = line.sort_values(x)
            label = f"{hue}={_scalar(hue_value)}" if hue else None
            ax.errorbar(line[x], line["mean"], yerr=line["se"].fillna(0), marker="o", ms=4, capsize=2, label=label)
            numbers = {"x": line[x], "mean": line["mean"], "se": line["se"], "count": line["count"]}
            entry["lines"].append({"hue": _scalar(hue_value), **{k: v.tolist() for k, v in numbers.items()}})
        data["panels"].append(entry)
        ax.set(xlabel=x, ylabel=f"{y} (mean ± s.e.)", title=f"{col} = {_scalar(col_value)}" if col else y)
        ax.set_xscale("log" if logx else "linear")
        ax.set_yscale("log" if logy else "linear")
        _label_data_ticks(ax, panel[x])
        if hue:
            ax.legend(fontsize=8)
    return fig, data


def _label_data_ticks(ax, values: pd.Series) -> None:
    """A few numeric x values: ticks at exactly those values, labelled plainly (no 2×10¹ clutter)."""
    from matplotlib.ticker import NullFormatter

    ticks = sorted(set(values.dropna()))
    if 1 < len(ticks) <= MAX_LABELLED_TICKS and pd.api.types.is_numeric_dtype(values):
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())


def _scalar(value: Any) -> Any:
    """A group key as a plain value (pandas hands one-column keys over as 1-tuples)."""
    return value[0] if isinstance(value, tuple) and len(value) == 1 else value


def save_plot(fig, data: dict[str, Any], out: str | Path) -> list[Path]:
    """Write the figure to ``out`` (any matplotlib format, by suffix) and its numbers to ``out`` with
    suffix ``.json``; returns both paths."""
    import matplotlib.pyplot as plt

    from modlab.plots import jsonable

    out = Path(out)
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ConfigError(f"--out {echo(str(out))}: name a .png, .pdf or .svg file")
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=130)
        out.with_suffix(".json").write_text(json.dumps(jsonable(data), indent=1, allow_nan=False))
    except OSError as err:
        raise ConfigError(f"--out {echo(str(out))}: cannot write ({err.strerror or err})") from None
    finally:
        plt.close(fig)
    return [out, out.with_suffix(".json")]
