"""Figure ``b-cmnist``: paper B's Compositional MNIST — dense vs split ConvNet (spec B §6).

Two panels (train, test): normalised compositional and non-compositional error vs epoch for the
dense and the split network, mean ± std over seeds (shaded). The source is the offline
``load_digits`` variant unless a data folder is given (``--data-dir`` / ``MODLAB_DATA``), then MNIST.
Optimiser (stated in the title): the ``paper`` preset on MNIST is the paper's SGD (lr 2e-3, batch 16,
300 epochs, 10 seeds); every digits preset and the quick MNIST preset use Adam (lr 1e-3), because
the spec measured that plain SGD at the paper's rate learns nothing at the scaled-down size.
JSON: every curve, and ``final_test_compositional_error`` {dense, split} (mean over seeds).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from modlab.sweep import SweepSpec
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.tasks.image_data import DATA_ENV, check_files

PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("quick", "digits"): dict(seeds=3, base=dict(optimizer="adam", lr=1e-3, epochs=50)),
    ("paper", "digits"): dict(seeds=10, base=dict(optimizer="adam", lr=1e-3, epochs=100)),
    ("quick", "mnist"): dict(
        seeds=3, base=dict(optimizer="adam", lr=1e-3, epochs=20, max_train_images=6000, max_test_images=3000)
    ),
    ("paper", "mnist"): dict(seeds=10, base=dict(optimizer="sgd", lr=2e-3, epochs=300)),
}
ARCHITECTURES = ("dense", "split")
COLORS = {"dense": "C0", "split": "C3"}
STYLES = {"compositional": "-", "non_compositional": "--"}


def source_for_run() -> str:
    """MNIST when a data folder is configured, else the offline digits."""
    return "mnist" if os.environ.get(DATA_ENV) else "digits"


@figure("b-cmnist", "paper B: Compositional MNIST (digits offline), dense vs split ConvNet, normalised error vs epoch")
def make(ctx: FigureContext):
    source = source_for_run()
    preset = PRESETS[(ctx.preset, source)]
    check_files(source)
    spec = SweepSpec(
        experiment="b-cmnist",
        name=f"b-cmnist {ctx.preset} {source}",
        base={**preset["base"], "source": source},
        axes={"architecture": list(ARCHITECTURES), "seed": list(range(preset["seeds"]))},
    )
    table = ctx.sweep(spec)
    fig, axes = new_figure(2, width=4.6)
    curves: dict[str, Any] = {}
    for ax, split in zip(axes, ("train", "test")):
        for arch in ARCHITECTURES:
            for kind in STYLES:
                metric = f"{split}_{kind}_error"
                stats = _curve_stats(table, arch, metric)
                label = f"{arch}, {kind.replace('_', '-')}"
                ax.plot(stats.index, stats["mean"], color=COLORS[arch], ls=STYLES[kind], lw=1.5, label=label)
                ax.fill_between(
                    stats.index,
                    stats["mean"] - stats["std"],
                    stats["mean"] + stats["std"],
                    color=COLORS[arch],
                    alpha=0.18,
                    lw=0,
                )
                curves[f"{arch}/{metric}"] = {"epoch": stats.index, "mean": stats["mean"], "std": stats["std"]}
        ax.set(xlabel="epoch", ylabel="normalised error", title=f"{split}", ylim=(0, None))
        ax.legend(fontsize=7)
    final = {arch: float(_finals(table, arch, "final_test_compositional_error").mean()) for arch in ARCHITECTURES}
    final_std = {arch: float(_finals(table, arch, "final_test_compositional_error").std()) for arch in ARCHITECTURES}
    opt = preset["base"]
    fig.suptitle(
        f"Paper B, compositional {'MNIST' if source == 'mnist' else 'digits (load_digits, 8×24)'}: "
        f"dense vs split ConvNet; {opt['optimizer'].upper()} lr {opt['lr']:g}, {opt['epochs']} epochs, "
        f"mean ± std over {preset['seeds']} seeds",
        fontsize=9,
    )
    data = {
        "source": source,
        "preset_settings": preset,
        "curves": curves,
        "final_test_compositional_error": final,
        "final_test_compositional_error_std": final_std,
        "final_test_non_compositional_error": {
            a: float(_finals(table, a, "final_test_non_compositional_error").mean()) for a in ARCHITECTURES
        },
    }
    return fig, data


def _curve_stats(table: pd.DataFrame, architecture: str, metric: str) -> pd.DataFrame:
    """Mean and std over seeds per epoch (the curve index is the epoch; 0 = before training)."""
    rows = table[(table["architecture"] == architecture) & (table["metric"] == metric)]
    grouped = rows.groupby("step")["value"]
    stats = grouped.agg(["mean", "std"]).fillna(0.0)
    stats.index = stats.index.astype(int)
    return stats


def _finals(table: pd.DataFrame, architecture: str, metric: str) -> np.ndarray:
    rows = table[(table["architecture"] == architecture) & (table["metric"] == metric)]
    return rows["value"].to_numpy()
