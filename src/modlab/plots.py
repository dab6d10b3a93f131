"""Shared plotting helpers: one style for theory (lines) and experiment (markers), one colour per
method across paper A's figures, labelled reference lines, legends kept off the data, and the writer
of every figure's PNG/PDF/JSON triple."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# One colour per learning method across every paper-A figure; theory is always grey.
METHOD_COLORS: dict[str, str] = {
    "monolithic": "C0",
    "modular (true projections)": "C2",
    "modular, plain GD": "C1",
    "mixture of experts": "C5",
    "kernel rule (joint)": "C3",
    "kernel rule (per-module, Alg. 1)": "C4",
    "kernel rule (joint, module NTK)": "C6",
}
THEORY_COLOR = "grey"


def new_figure(n_panels: int, width: float = 4.0, height: float = 3.4, ncols: int | None = None):
    """A row (or grid) of panels; returns (fig, flat list of axes)."""
    ncols = ncols or n_panels
    nrows = math.ceil(n_panels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def theory_line(ax, x, y, color, label=None, dashed=False, **kw):
    """Theory: a line (dashed when ``dashed``), drawn under the markers."""
    ax.plot(x, y, color=color, lw=1.6, ls="--" if dashed else "-", label=label, zorder=2, **kw)


def sim_markers(ax, x, mean, err, color, label=None, marker="o", hollow=None, **kw):
    """Simulation: markers with error bars; ``hollow`` (bool mask) marks asymptotic-theory points."""
    x, mean, err = (np.asarray(a, float) for a in (x, mean, err))
    hollow = np.zeros(x.shape, bool) if hollow is None else np.asarray(hollow, bool)
    for mask, face in ((~hollow, color), (hollow, "white")):
        if mask.any():
            ax.errorbar(
                x[mask],
                mean[mask],
                yerr=err[mask],
                fmt=marker,
                color=color,
                mfc=face,
                ms=5,
                capsize=2,
                lw=1,
                label=label if face == color or not (~hollow).any() else None,
                zorder=3,
                **kw,
            )


def reference_line(ax, y: float, label: str, side: str = "left") -> None:
    """A horizontal reference (a target loss, the chance level) drawn thin and labelled at its
    ``side`` end ("left" or "right"), on a light backing so that markers do not hide it."""
    ax.axhline(y, color="black", lw=0.7, ls=":", zorder=1)
    right = side == "right"
    ax.annotate(
        label,
        (1.0 if right else 0.0, y),
        xycoords=("axes fraction", "data"),
        xytext=(-2 if right else 2, 2),
        textcoords="offset points",
        ha="right" if right else "left",
        va="bottom",
        fontsize=6,
        bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.7),
    )


def legend_below(fig, axes, ncol: int = 3) -> None:
    """One legend for the figure, below the panels (off the data), from the labelled artists of ``axes``."""
    handles, labels = {}, {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles[label], labels[label] = handle, label
    fig.legend(handles.values(), labels.values(), loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    rows = math.ceil(len(labels) / ncol)
    fig.tight_layout(rect=(0, (0.1 + 0.2 * rows) / fig.get_figheight(), 1, 1))


def mean_se(table: pd.DataFrame, by: list[str], metric: str) -> pd.DataFrame:
    """Mean, standard error and count of ``metric`` over seeds, grouped by ``by`` columns."""
    rows = table[table["metric"] == metric]
    grouped = rows.groupby(by, dropna=False)["value"]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    out["se"] = out["std"].fillna(0) / np.sqrt(out["count"])
    return out


def save_figure(fig, data: dict[str, Any], out_dir: str | Path, name: str) -> dict[str, Path]:
    """Write ``name.png``, ``name.pdf`` and ``name.json`` (numbers only, NaN/inf as null)."""
    out_dir = Path(out_dir)
    paths = {ext: out_dir / f"{name}.{ext}" for ext in ("png", "pdf", "json")}
    if not fig.legends:
        fig.tight_layout()
    fig.savefig(paths["png"], dpi=130)
    fig.savefig(paths["pdf"])
    plt.close(fig)
    paths["json"].write_text(json.dumps(jsonable(data), indent=1, allow_nan=False))
    return paths


def jsonable(value: Any) -> Any:
    """Numpy/pandas values → plain JSON types; non-finite floats → None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (pd.Series, pd.Index)):
        return jsonable(value.to_numpy())
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
