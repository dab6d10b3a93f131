"""Figure ``a-ccifar``: paper A's Compositional CIFAR-10 — monolithic, modular and modular + kernel
rule (both variants), drawn from the ``compositional-cifar`` experiment.

Panels: the table of mean per-slot accuracy on seen and unseen class combinations and on the unseen
ones under additive noise, for every method (with the paper's Table 1 beside ours when run on real
CIFAR-10); unseen accuracy vs the number of images k (the paper's main Compositional CIFAR figure,
its read-off curve dashed beside ours on real CIFAR-10); vs the number of training composites; vs
training epochs (the paper trained one; the curve goes on past it); each module's share of input
energy per slot after training (does a module read one image?), on one colour range spanning the
three maps. Error bars and bands: s.e. over seeds. The k and n panels show the paper's three methods
(monolithic, modular, joint kernel rule); the table, the epoch panel and the energy maps show all four.

Source: the offline ``load_digits`` stand-in unless a data folder is given (``--data-dir`` /
``MODLAB_DATA``), then CIFAR-10; a preset holds one :class:`CcifarScale` per source. (modlab) The
digits presets use k = 8 images and 100 training composites for the table: with fewer slots or more
samples the methods tie on digits.

Presets (digits; measured on the 2-core development machine shared with other jobs, one torch thread):

- ``quick`` (tests, demo): k ∈ {1, 2, 4, 8}, n ∈ {50, 100, 300}, 60 epochs, 2 seeds, a short
  kernel-rule search; ≈ 20 s.
- ``full`` (the report): the paper's k = 1…8, n = 50…1000, 60 epochs, 6 seeds, the default search;
  only seeds are cut (the paper's scale is CIFAR-10, where ``full`` keeps the paper's one epoch on all
  50,000 composites with 3 seeds; not measured here, no CIFAR-10 files offline). Measured on digits
  (``FULL_BUDGET``): 204 runs, 5.3 min of CPU on one torch thread.
- ``paper``: 5 seeds on digits with n up to 3000; on CIFAR-10 the paper's one epoch on 50,000
  composites (GPU).

JSON: ``summary`` (``data_source``, the table's k and n, seeds, unseen accuracy per method with its
s.e., the paired modular − monolithic and kernel rule − modular differences, the gap at every k, each
module's final slot focus) and every plotted number.
"""

from __future__ import annotations

import os
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.experiments.compositional_cifar import METHODS, NAME, CompositionalCifarConfig
from modlab.figures.registry import FigureContext, figure
from modlab.metrics import Array, decode
from modlab.plots import METHOD_COLORS, mean_se, new_figure
from modlab.rules.kernel_rule import RULE_VARIANTS
from modlab.sweep import SweepSpec
from modlab.tasks.image_data import DATA_ENV, check_files

PAPER_TABLE = {"monolithic": (0.4256, 0.3947), "modular": (0.4526, 0.4307), "kernel_rule": (0.4990, 0.4695)}
PAPER_VS_K = {  # read off the paper's figure, k = 1 … 8
    "kernel_rule": [0.552, 0.542, 0.538, 0.525, 0.516, 0.505, 0.493, 0.482],
    "modular": [0.535, 0.536, 0.512, 0.488, 0.472, 0.456, 0.443, 0.433],
    "monolithic": [0.529, 0.537, 0.505, 0.476, 0.451, 0.429, 0.409, 0.390],
}
DATA_SOURCES = {"digits": "digits (offline stand-in)", "cifar10": "cifar10"}
CHANCE = 0.1  # ten classes per slot
LABELS = {
    "monolithic": "monolithic",
    "modular": "modular, plain GD",
    "kernel_rule": "kernel rule (joint)",
    "kernel_rule_per_module": "kernel rule (per-module, Alg. 1)",
}
COLORS = {method: METHOD_COLORS[label] for method, label in LABELS.items()}  # the paper-A colour of each method
THREE = ("monolithic", "modular", "kernel_rule")
MARKERS = {"monolithic": "o", "modular": "s", "kernel_rule": "^", "kernel_rule_per_module": "v"}
WIDTHS = {"monolithic": 1.4, "modular": 2.6, "kernel_rule": 1.2, "kernel_rule_per_module": 1.2}  # ties stay visible
FULL_BUDGET = "digits: 204 runs, 5.3 min of CPU on one torch thread (22 min wall on 2 cores shared at load ≈ 12)"


class CcifarScale(Config):
    """One source's sweep. ``run`` holds the fields every run shares; its ``n_slots`` and ``n_train``
    are the table's k and n (``method``, ``seed`` and ``source`` are the figure's)."""

    seeds: int = Field(ge=2, description="seeds per point (≥ 2 for an s.e.)")
    k_axis: tuple[int, ...] = Field(min_length=2, description="k values of the accuracy-vs-k panel")
    n_axis: tuple[int, ...] = Field(min_length=2, description="n values of the accuracy-vs-n panel")
    epoch_run: int | None = Field(
        None, ge=1, description="epochs of extra runs for the epoch panel (None: the table's)"
    )
    run: CompositionalCifarConfig


class CcifarPreset(Config):
    """The settings for each source; the figure picks the one its data comes from."""

    digits: CcifarScale
    cifar10: CcifarScale


DIGITS_RUN = {"source": "digits", "n_slots": 8, "n_train": 100, "batch_size": 50, "hidden": (256, 256)}
CIFAR_RUN = {"source": "cifar10", "n_slots": 4, "batch_size": 64}
QUICK_RULE = {"kernel": "module", "steps": 50, "batch_size": 256, "joint_restarts": 2}


def _scale(base: dict[str, Any], seeds: int, k_axis, n_axis, epoch_run: int | None = None, **run: Any) -> CcifarScale:
    return CcifarScale(
        seeds=seeds,
        k_axis=k_axis,
        n_axis=n_axis,
        epoch_run=epoch_run,
        run=CompositionalCifarConfig(**{**base, **run}),
    )


ALL_K = tuple(range(1, 9))
PRESETS = {
    "quick": CcifarPreset(
        digits=_scale(
            DIGITS_RUN,
            2,
            (1, 2, 4, 8),
            (50, 100, 300),
            module_hidden=(64,),
            n_test=400,
            epochs=60,
            kernel_rule=QUICK_RULE,
        ),
        cifar10=_scale(
            CIFAR_RUN, 2, (1, 2, 4, 8), (1000, 5000), 10, n_train=5000, n_test=1000, epochs=3, kernel_rule=QUICK_RULE
        ),
    ),
    "full": CcifarPreset(
        digits=_scale(DIGITS_RUN, 6, ALL_K, (50, 100, 300, 1000), module_hidden=(64,), n_test=1000, epochs=60),
        cifar10=_scale(CIFAR_RUN, 3, ALL_K, (1000, 5000, 20000, 50000), 10, n_train=50000, n_test=2000, epochs=1),
    ),
    "paper": CcifarPreset(
        digits=_scale(DIGITS_RUN, 5, ALL_K, (100, 300, 1000, 3000), module_hidden=(64,), n_test=1000, epochs=100),
        cifar10=_scale(CIFAR_RUN, 3, ALL_K, (1000, 5000, 20000, 50000), 10, n_train=50000, n_test=5000, epochs=1),
    ),
}


def source_for_run() -> Literal["cifar10", "digits"]:
    """CIFAR-10 when a data folder is configured, else the offline digits."""
    return "cifar10" if os.environ.get(DATA_ENV) else "digits"


def _specs(name: str, run: dict[str, Any], methods, seeds: int, axes: dict | None = None) -> list[SweepSpec]:
    """One spec per method (its kernel-rule variant follows the method, and a grid axis cannot tie
    two fields together); the caller concatenates their tables."""
    return [
        SweepSpec(
            experiment=NAME,
            name=f"{name} {method}",
            base={
                **run,
                "method": method,
                "kernel_rule": {**run["kernel_rule"], "variant": RULE_VARIANTS.get(method, "joint")},
            },
            axes={**(axes or {}), "seed": list(range(seeds))},
        )
        for method in methods
    ]


def _run(ctx: FigureContext, specs: list[SweepSpec]) -> pd.DataFrame:
    return pd.concat([ctx.sweep(spec) for spec in specs], ignore_index=True)


@figure(
    "a-ccifar",
    "paper A: Compositional CIFAR-10 (digits offline): seen/unseen/noise table, accuracy vs k, n, epochs; slot energy",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    source = source_for_run()
    check_files(source)
    scale: CcifarScale = getattr(ctx.settings, source)
    run = {**scale.run.to_dict(), "source": source}
    k, n = scale.run.n_slots, scale.run.n_train
    main_specs = _specs("a-ccifar main", run, METHODS, scale.seeds)
    main = _run(ctx, main_specs)
    vs_k = _run(ctx, _specs("a-ccifar vs k", run, THREE, scale.seeds, {"n_slots": list(scale.k_axis)}))
    vs_n = _run(ctx, _specs("a-ccifar vs n", run, THREE, scale.seeds, {"n_train": list(scale.n_axis)}))
    epoch_table = (
        main
        if scale.epoch_run is None
        else _run(ctx, _specs("a-ccifar epochs", {**run, "epochs": scale.epoch_run}, METHODS, scale.seeds))
    )

    fig, axes = new_figure(8, ncols=4, width=4.2, height=3.6)
    data: dict[str, Any] = {"source": source, "data_source": DATA_SOURCES[source]}
    data.update(_table_panel(axes[0], main, source, k, n))
    data["accuracy_vs_k"] = _line_panel(axes[1], vs_k, "n_slots", "number of images k", source == "cifar10")
    data["accuracy_vs_n"] = _line_panel(axes[2], vs_n, "n_train", "training composites n", False)
    axes[2].set_xscale("log")
    axes[2].set_xticks(scale.n_axis, [str(v) for v in scale.n_axis])
    axes[2].minorticks_off()
    data["accuracy_vs_epoch"] = _epoch_panel(axes[3], epoch_table)
    for ax in axes[1:4]:
        ax.title.set_fontsize(10)
    energies = _final_energies(ctx, main_specs)
    data["slot_energy"] = _energy_panels(axes[4:7], main, energies, k)
    _legend(axes[7])
    data["summary"] = _summary(data, main, vs_k, source, scale)
    fig.suptitle(
        f"Compositional {'CIFAR-10' if source == 'cifar10' else 'digits (offline stand-in for CIFAR-10)'}: "
        f"k images side by side, accuracy on unseen class combinations\n"
        f"table: k = {k}, n = {n}; Adam; mean ± s.e. over {scale.seeds} seeds",
        fontsize=10,
    )
    return fig, data


def _paired(table: pd.DataFrame, first: str, second: str, by: str) -> pd.DataFrame:
    """Mean, s.e. and count over seeds of the unseen accuracy of ``first`` − ``second`` per value of
    ``by`` (the methods of one seed see the same composites, so the difference is paired by seed)."""
    rows = table[table["metric"] == "unseen_accuracy"].pivot_table(index=[by, "seed"], columns="method", values="value")
    stats = (rows[first] - rows[second]).groupby(level=by).agg(["mean", "std", "count"])
    stats["se"] = stats["std"] / np.sqrt(stats["count"])
    return stats


def _summary(data: dict, main: pd.DataFrame, vs_k: pd.DataFrame, source: str, scale: CcifarScale) -> dict:
    modular_gain = _paired(main, "modular", "monolithic", "n_slots").iloc[0]
    rule_gain = _paired(main, "kernel_rule", "modular", "n_slots").iloc[0]
    gap_by_k = _paired(vs_k, "modular", "monolithic", "n_slots")
    summary = {
        "data_source": DATA_SOURCES[source],
        "k": scale.run.n_slots,
        "n_train": scale.run.n_train,
        "seeds": scale.seeds,
        "unseen_accuracy": data["unseen_accuracy"],
        "unseen_accuracy_se": data["unseen_accuracy_se"],
        "noisy_accuracy": data["noisy_accuracy"],
        "modular_minus_monolithic": {"mean": float(modular_gain["mean"]), "se": float(modular_gain["se"])},
        "kernel_rule_minus_modular": {"mean": float(rule_gain["mean"]), "se": float(rule_gain["se"])},
        "modular_minus_monolithic_by_k": {int(kk): float(v) for kk, v in zip(gap_by_k.index, gap_by_k["mean"])},
        "slot_focus_end": {m: data["slot_energy"][m]["focus_end"] for m in data["slot_energy"]},
    }
    if source == "cifar10":
        summary["paper_unseen_accuracy"] = {m: v[0] for m, v in PAPER_TABLE.items()}
    return summary


def _table_panel(ax, main: pd.DataFrame, source: str, k: int, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("seen", "unseen", "noisy", "train"):
        stats = mean_se(main, ["method"], f"{name}_accuracy").set_index("method")
        out[f"{name}_accuracy"] = {m: float(stats["mean"][m]) for m in METHODS}
        out[f"{name}_accuracy_se"] = {m: float(stats["se"][m]) for m in METHODS}
    columns = ["seen", "unseen", "noise"]
    rows = [
        [f"{out[f'{c}_accuracy'][m]:.3f} ± {out[f'{c}_accuracy_se'][m]:.3f}" for c in ("seen", "unseen", "noisy")]
        for m in METHODS
    ]
    if source == "cifar10":
        columns += ["paper unseen", "paper noise"]
        for row, m in zip(rows, METHODS):
            row += [f"{v:.3f}" for v in PAPER_TABLE[m]] if m in PAPER_TABLE else ["–", "–"]
        out["paper_table"] = PAPER_TABLE
    ax.axis("off")
    table = ax.table(
        cellText=rows, rowLabels=[LABELS[m] for m in METHODS], colLabels=columns, loc="center", cellLoc="center"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1.0, 1.6)
    ax.set_title(f"accuracy (k = {k}, n = {n})", fontsize=9)
    return out


def _chance(ax) -> None:
    ax.axhline(CHANCE, color="grey", ls=":", lw=0.9)
    ax.annotate(
        "chance",
        (1, CHANCE),
        xycoords=("axes fraction", "data"),
        xytext=(-2, 2),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=7,
        color="grey",
    )
    ax.set_ylim(0, 1)


def _line_panel(ax, table: pd.DataFrame, axis: str, xlabel: str, with_paper: bool) -> dict[str, Any]:
    stats = mean_se(table, ["method", axis], "unseen_accuracy")
    out: dict[str, Any] = {}
    for method in THREE:
        rows = stats[stats["method"] == method].sort_values(axis)
        ax.errorbar(
            rows[axis],
            rows["mean"],
            yerr=rows["se"],
            color=COLORS[method],
            marker=MARKERS[method],
            ms=4,
            capsize=2,
            lw=WIDTHS[method],
        )
        out[method] = {axis: rows[axis], "mean": rows["mean"], "se": rows["se"]}
        if with_paper:
            ks = np.arange(1, 9)
            ax.plot(ks, PAPER_VS_K[method], color=COLORS[method], ls="--", lw=1)
            out[f"paper_{method}"] = {"n_slots": ks, "accuracy": PAPER_VS_K[method]}
    _chance(ax)
    ax.set(
        xlabel=xlabel,
        ylabel="unseen-combination accuracy",
        title=f"vs {xlabel}" + (" (dashed: paper)" if with_paper else ""),
    )
    return out


def _epoch_panel(ax, table: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    stats = mean_se(table, ["method", "x"], "unseen_accuracy_curve")
    for method in METHODS:
        rows = stats[stats["method"] == method].sort_values("x")
        x, mean, se = rows["x"].to_numpy(), rows["mean"].to_numpy(), rows["se"].to_numpy()
        ax.plot(x, mean, color=COLORS[method], lw=WIDTHS[method])
        ax.fill_between(x, mean - se, mean + se, color=COLORS[method], alpha=0.2, lw=0)
        out[method] = {"epoch": x, "mean": mean, "se": se}
    ax.axvline(1, color="grey", ls="--", lw=0.8)
    ax.annotate(
        "1 epoch (paper)",
        (1, 0.97),
        xycoords=("data", "axes fraction"),
        xytext=(3, 0),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=7,
        color="grey",
    )
    _chance(ax)
    ax.set(xlabel="training epochs", ylabel="unseen-combination accuracy", title="vs training epochs")
    return out


def _final_energies(ctx: FigureContext, specs: list[SweepSpec]) -> dict[str, np.ndarray]:
    """Per modular method, the seed-mean of each module's energy share per slot after training (K̂, k)."""
    assert ctx.store is not None  # a dry run without a store fails here (and draws nothing)
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        records = ctx.store.records(spec.keys(), status="done")
        arrays = [cast(Array, decode(r.metrics["slot_energy_end"])) for r in records if "slot_energy_end" in r.metrics]
        if arrays:
            out[spec.base["method"]] = np.mean([a.numpy() for a in arrays], axis=0)
    return out


def _energy_panels(axes, main: pd.DataFrame, energies: dict[str, np.ndarray], k: int) -> dict[str, Any]:
    """Heat-maps of module × slot energy share on one colour range (the smallest to the largest share
    over the maps), so the maps can be compared and small departures from an even 1/k show."""
    low = min(float(e.min()) for e in energies.values())
    high = max(float(e.max()) for e in energies.values())
    out: dict[str, Any] = {}
    for ax, (method, energy) in zip(axes, energies.items()):
        focus = {
            when: float(mean_se(main[main["method"] == method], ["method"], f"slot_focus_{when}")["mean"].iloc[0])
            for when in ("start", "end")
        }
        image = ax.imshow(energy, vmin=low, vmax=high, cmap="viridis", aspect="auto")
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.046)
        bar.ax.axhline(1 / k, color="white", lw=1.2)
        bar.set_label(f"energy share (line: even, 1/k = {1 / k:.3f})", fontsize=7)
        ax.set(
            xlabel="slot (image)",
            ylabel="module",
            xticks=range(k),
            yticks=range(energy.shape[0]),
            title=f"{LABELS[method]}\nfocus {focus['start']:.2f} → {focus['end']:.2f} (1 = one image per module)",
        )
        ax.title.set_fontsize(8)
        out[method] = {"energy_end": energy, "focus_start": focus["start"], "focus_end": focus["end"]}
    return out


def _legend(ax) -> None:
    """The methods' legend, in its own panel (off the data)."""
    ax.axis("off")
    for method in METHODS:
        ax.plot([], [], color=COLORS[method], marker=MARKERS[method], ms=4, lw=WIDTHS[method], label=LABELS[method])
    ax.plot([], [], color="grey", ls=":", lw=0.9, label=f"chance ({CHANCE:g})")
    ax.legend(loc="center", fontsize=8, frameon=False, title="error bars, bands: s.e. over seeds", title_fontsize=8)
