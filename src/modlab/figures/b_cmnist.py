"""Figure ``b-cmnist``: paper B's Compositional MNIST — dense vs split ConvNet, drawn from the
``compositional-mnist`` experiment.

Two panels (train, test): normalised compositional and non-compositional error vs epoch for the
dense and the split network, mean ± s.e. over seeds (shaded); a third panel holds the legend and the
definition of the normalised error. Compositional error = squared error on the 10k digit outputs / k,
non-compositional error = squared error on the 10^k outputs of the k-digit number / r²: both are 1
for a network that outputs zeros (every network starts there), and the best constant output ("chance")
scores 1 − 1/10 = 0.9 and 1 − 10^−k.

Source: the offline ``load_digits`` stand-in unless a data folder is given (``--data-dir`` /
``MODLAB_DATA``), then MNIST; a preset holds one :class:`CmnistScale` per source. Optimiser (stated in
the title): on MNIST ``full`` and ``paper`` use the paper's SGD (lr 2e-3, batch 16, 300 epochs); every
digits preset and the quick MNIST preset use Adam (lr 1e-3), because at the scaled-down size plain SGD
at the paper's rate learns nothing.

Presets (digits; measured on the 2-core development machine shared with other jobs):

- ``quick`` (tests, demo): 50 epochs, 3 seeds; ≈ 50 s.
- ``full`` (the report): the paper's 300 epochs and batch 16, Adam in place of SGD, 3 seeds (the
  paper: 10); measured on digits (``FULL_BUDGET``): 4.7 min of CPU. On MNIST: the paper's settings with 3 seeds (GPU advised;
  not measured here, no MNIST files offline).
- ``paper``: 10 seeds, 300 epochs (MNIST: the paper's SGD).

JSON: ``summary`` (``data_source``, optimiser, epochs, seeds, final compositional and
non-compositional test errors per network with their s.e., the chance levels) and every curve.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.experiments.compositional_mnist import NAME, CMNISTConfig
from modlab.figures.registry import FigureContext, figure
from modlab.plots import mean_se, new_figure
from modlab.sweep import SweepSpec
from modlab.tasks.image_data import DATA_ENV, N_CLASSES, check_files

ARCHITECTURES = ("dense", "split")
COLORS = {"dense": "#1f77b4", "split": "#d62728"}
STYLES = {"compositional": "-", "non_compositional": "--"}
OPTIMISERS = {"sgd": "SGD", "adam": "Adam"}
DATA_SOURCES = {"digits": "digits (offline stand-in)", "mnist": "mnist"}
FULL_BUDGET = "digits: 6 runs, 4.7 min of CPU (15 min wall on 2 cores shared at load ≈ 11)"


class CmnistScale(Config):
    """One source's sweep. ``run`` holds the fields every run shares (``architecture``, ``seed`` and
    ``source`` are the figure's)."""

    seeds: int = Field(ge=2, description="seeds per network (≥ 2 for an s.e.)")
    run: CMNISTConfig


class CmnistPreset(Config):
    """The settings for each source; the figure picks the one its data comes from."""

    digits: CmnistScale
    mnist: CmnistScale


def _scale(seeds: int, source: str, **run: Any) -> CmnistScale:
    return CmnistScale(seeds=seeds, run=CMNISTConfig(source=source, **run))


ADAM = {"optimizer": "adam", "lr": 1e-3}
PRESETS = {
    "quick": CmnistPreset(
        digits=_scale(3, "digits", **ADAM, epochs=50),
        mnist=_scale(3, "mnist", **ADAM, epochs=20, max_train_images=6000, max_test_images=3000),
    ),
    "full": CmnistPreset(digits=_scale(3, "digits", **ADAM, epochs=300), mnist=_scale(3, "mnist")),
    "paper": CmnistPreset(digits=_scale(10, "digits", **ADAM, epochs=300), mnist=_scale(10, "mnist")),
}


def source_for_run() -> Literal["mnist", "digits"]:
    """MNIST when a data folder is configured, else the offline digits."""
    return "mnist" if os.environ.get(DATA_ENV) else "digits"


def chance_levels(n_slots: int) -> dict[str, float]:
    """Normalised error of the best constant output: 1 − 1/10 per digit, 1 − 10^−k for the number."""
    return {"compositional": 1 - 1 / N_CLASSES, "non_compositional": 1 - float(N_CLASSES) ** -n_slots}


@figure(
    "b-cmnist",
    "paper B: Compositional MNIST (digits offline), dense vs split ConvNet, normalised error vs epoch",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    source = source_for_run()
    check_files(source)
    scale: CmnistScale = getattr(ctx.settings, source)
    spec = SweepSpec(
        experiment=NAME,
        name=f"b-cmnist {ctx.preset} {source}",
        base={**scale.run.to_dict(), "source": source},
        axes={"architecture": list(ARCHITECTURES), "seed": list(range(scale.seeds))},
    )
    table = ctx.sweep(spec)
    chance = chance_levels(scale.run.n_slots)
    fig, axes = new_figure(3, width=4.4, height=3.6)
    curves: dict[str, Any] = {}
    for ax, split in zip(axes, ("train", "test")):
        for arch in ARCHITECTURES:
            for kind in STYLES:
                curves[f"{arch}/{split}_{kind}_error"] = _curve(ax, table, arch, f"{split}_{kind}_error", kind)
        for kind, level in chance.items():
            ax.axhline(level, color="grey", ls=STYLES[kind], lw=0.7, alpha=0.7)
        ax.set(xlabel="epoch", ylabel="normalised error", title=f"{split} composites", ylim=(0, None))
    _legend_and_definition(axes[2], scale.run, chance)
    run = scale.run
    optimiser = f"{OPTIMISERS[run.optimizer]} lr {run.lr:g}" + (
        "" if run.optimizer == "sgd" else " (paper: SGD lr 0.002)"
    )
    fig.suptitle(
        f"Compositional {'MNIST' if source == 'mnist' else 'digits (offline stand-in for MNIST)'}: "
        f"dense vs split ConvNet\n{optimiser}, {run.epochs} epochs; mean ± s.e. over {scale.seeds} seeds",
        fontsize=10,
    )
    summary = _summary(table, source, scale, chance)
    return fig, {"source": source, "data_source": DATA_SOURCES[source], "summary": summary, "curves": curves}


def _curve(ax, table: pd.DataFrame, architecture: str, metric: str, kind: str) -> dict[str, Any]:
    """Mean ± s.e. over seeds per epoch (x; 0 = before training), drawn as a line with a band."""
    stats = mean_se(table[table["architecture"] == architecture], ["x"], metric).sort_values("x")
    x, mean, se = stats["x"].to_numpy(), stats["mean"].to_numpy(), stats["se"].to_numpy()
    ax.plot(x, mean, color=COLORS[architecture], ls=STYLES[kind], lw=1.5)
    ax.fill_between(x, mean - se, mean + se, color=COLORS[architecture], alpha=0.2, lw=0)
    return {"epoch": x, "mean": mean, "se": se}


def _finals(table: pd.DataFrame, metric: str) -> tuple[dict[str, float], dict[str, float]]:
    stats = mean_se(table, ["architecture"], metric).set_index("architecture")
    return (
        {a: float(stats["mean"][a]) for a in ARCHITECTURES},
        {a: float(stats["se"][a]) for a in ARCHITECTURES},
    )


def _summary(table: pd.DataFrame, source: str, scale: CmnistScale, chance: dict[str, float]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "data_source": DATA_SOURCES[source],
        "optimizer": scale.run.optimizer,
        "lr": scale.run.lr,
        "epochs": scale.run.epochs,
        "seeds": scale.seeds,
        "chance": chance,
    }
    for kind in STYLES:
        mean, se = _finals(table, f"final_test_{kind}_error")
        summary[f"final_test_{kind}_error"] = mean
        summary[f"final_test_{kind}_error_se"] = se
    return summary


def _legend_and_definition(ax, run: CMNISTConfig, chance: dict[str, float]) -> None:
    """Legend (off the data) and what the normalised error is."""
    ax.axis("off")
    for arch in ARCHITECTURES:
        for kind in STYLES:
            ax.plot([], [], color=COLORS[arch], ls=STYLES[kind], lw=1.5, label=f"{arch}, {kind.replace('_', '-')}")
    ax.plot([], [], color="grey", ls="-", lw=0.7, label=f"chance, compositional ({chance['compositional']:.2f})")
    ax.plot(
        [], [], color="grey", ls="--", lw=0.7, label=f"chance, non-compositional ({chance['non_compositional']:.3f})"
    )
    ax.legend(loc="upper center", fontsize=8, frameon=False)
    k, n_outputs = run.n_slots, N_CLASSES**run.n_slots
    ax.text(
        0.5,
        0.02,
        "normalised error:\n"
        f"compositional = squared error on the {N_CLASSES * k}\ndigit outputs / {k}\n"
        f"non-compositional = squared error on the\n{n_outputs} number outputs / r² (= {run.scale**2:g})\n"
        "1 = outputs all zero (the start); bands: s.e.",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
    )
