"""Figure ``a-ccifar``: paper A's Compositional CIFAR-10 (spec A §5) — monolithic, modular and
modular + kernel rule (both variants).

Panels: the table of mean per-slot accuracy on seen and unseen class combinations and on the unseen
ones under additive noise, for every method (with the paper's Table 1 beside ours when run on real
CIFAR-10); unseen accuracy vs the number of images k (the paper's main Compositional CIFAR figure,
its read-off curve dashed beside ours on real CIFAR-10); vs the number of training composites; vs
training epochs (the paper trained one; the curve goes on past it); each module's share of input
energy per slot after training (does a module read one image?).

Source: the offline ``load_digits`` variant unless a data folder is given (``--data-dir`` /
``MODLAB_DATA``), then CIFAR-10. (modlab) The digits presets use k = 8 images and 100 training
composites for the table — the spec measured that with fewer slots or more samples the methods tie
on digits. The k and n panels show the paper's three methods (monolithic, modular, joint kernel
rule); the table, the epoch panel and the energy maps show all four. Mean ± std over seeds.
JSON: ``unseen_accuracy`` {monolithic, modular, kernel_rule, kernel_rule_per_module} (mean over
seeds) and every plotted number.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from modlab.sweep import SweepSpec
from modlab.experiments.compositional_cifar import METHODS, RULE_VARIANTS
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.tasks.image_data import DATA_ENV, check_files

PAPER_TABLE = {"monolithic": (0.4256, 0.3947), "modular": (0.4526, 0.4307), "kernel_rule": (0.4990, 0.4695)}
PAPER_VS_K = {  # read off the paper's figure, k = 1 … 8 (spec A §5)
    "kernel_rule": [0.552, 0.542, 0.538, 0.525, 0.516, 0.505, 0.493, 0.482],
    "modular": [0.535, 0.536, 0.512, 0.488, 0.472, 0.456, 0.443, 0.433],
    "monolithic": [0.529, 0.537, 0.505, 0.476, 0.451, 0.429, 0.409, 0.390],
}
QUICK_RULE = dict(kernel="module", steps=50, batch_size=256, joint_restarts=2)
PRESETS: dict[tuple[str, str], dict[str, Any]] = {
    ("quick", "digits"): dict(
        seeds=2,
        k=8,
        n_train=100,
        k_axis=[1, 2, 4, 8],
        n_axis=[50, 100, 300],
        base=dict(n_test=400, epochs=60, batch_size=50, hidden=[256, 256], module_hidden=[64], kernel_rule=QUICK_RULE),
    ),
    ("paper", "digits"): dict(
        seeds=5,
        k=8,
        n_train=100,
        k_axis=[1, 2, 3, 4, 5, 6, 7, 8],
        n_axis=[100, 300, 1000, 3000],
        base=dict(n_test=1000, epochs=100, batch_size=50, hidden=[256, 256], module_hidden=[64]),
    ),
    ("quick", "cifar10"): dict(
        seeds=2,
        k=4,
        n_train=5000,
        k_axis=[1, 2, 4, 8],
        n_axis=[1000, 5000],
        base=dict(n_test=1000, epochs=3, batch_size=64, kernel_rule=QUICK_RULE),
    ),
    ("paper", "cifar10"): dict(
        seeds=3,
        k=4,
        n_train=50000,
        k_axis=[1, 2, 3, 4, 5, 6, 7, 8],
        n_axis=[1000, 5000, 20000, 50000],
        base=dict(n_test=5000, epochs=1, batch_size=64),
    ),
}
EPOCH_RUN = {"digits": None, "cifar10": 10}  # extra epochs for the epoch panel (None: the table's runs)
COLORS = {"monolithic": "C0", "modular": "C3", "kernel_rule": "C2", "kernel_rule_per_module": "C1"}
LABELS = {
    "monolithic": "monolithic",
    "modular": "modular",
    "kernel_rule": "kernel rule (joint)",
    "kernel_rule_per_module": "kernel rule (per-module, Alg. 1)",
}
THREE = ("monolithic", "modular", "kernel_rule")


def source_for_run() -> str:
    """CIFAR-10 when a data folder is configured, else the offline digits."""
    return "cifar10" if os.environ.get(DATA_ENV) else "digits"


def _spec(name: str, base: dict, methods, seeds: int, axes: dict | None = None) -> list[SweepSpec]:
    """One spec per method (its kernel-rule variant follows the method, and a grid axis cannot tie
    two fields together); the caller concatenates their tables."""
    return [
        SweepSpec(
            experiment="a-ccifar",
            name=f"{name} {method}",
            base={
                **base,
                "method": method,
                "kernel_rule": {**base.get("kernel_rule", {}), "variant": RULE_VARIANTS.get(method, "joint")},
            },
            axes={**(axes or {}), "seed": list(range(seeds))},
        )
        for method in methods
    ]


def _run(ctx: FigureContext, specs: list[SweepSpec]) -> pd.DataFrame:
    return pd.concat([ctx.sweep(spec) for spec in specs], ignore_index=True)


def _scalar(table: pd.DataFrame, metric: str, by: list[str]) -> pd.DataFrame:
    rows = table[(table["metric"] == metric)]
    return rows.groupby(by)["value"].agg(["mean", "std"]).fillna(0.0).reset_index()


@figure(
    "a-ccifar",
    "paper A: Compositional CIFAR-10 (digits offline): seen/unseen/noise table, accuracy vs k, n, epochs; slot energy",
)
def make(ctx: FigureContext):
    source = source_for_run()
    preset = PRESETS[(ctx.preset, source)]
    check_files(source)
    base = {**preset["base"], "source": source, "n_slots": preset["k"], "n_train": preset["n_train"]}
    main = _run(ctx, _spec("a-ccifar main", base, METHODS, preset["seeds"]))
    vs_k = _run(ctx, _spec("a-ccifar vs k", base, THREE, preset["seeds"], {"n_slots": preset["k_axis"]}))
    vs_n = _run(ctx, _spec("a-ccifar vs n", base, THREE, preset["seeds"], {"n_train": preset["n_axis"]}))
    epoch_table = (
        main
        if EPOCH_RUN[source] is None
        else _run(ctx, _spec("a-ccifar epochs", {**base, "epochs": EPOCH_RUN[source]}, METHODS, preset["seeds"]))
    )

    fig, axes = new_figure(7, ncols=4, width=4.2, height=3.5)
    data: dict[str, Any] = {"source": source, "preset_settings": preset}
    data.update(_table_panel(axes[0], main, source, preset))
    data["accuracy_vs_k"] = _line_panel(axes[1], vs_k, "n_slots", "number of images k", source == "cifar10")
    data["accuracy_vs_n"] = _line_panel(axes[2], vs_n, "n_train", "training composites n", False)
    axes[2].set_xscale("log")
    data["accuracy_vs_epoch"] = _epoch_panel(axes[3], epoch_table)
    data["slot_energy"] = {m: _energy_panel(ax, main, m, preset["k"]) for ax, m in zip(axes[4:], METHODS[1:])}
    fig.suptitle(
        f"Paper A, compositional {'CIFAR-10' if source == 'cifar10' else 'digits (load_digits)'}: k = {preset['k']} "
        f"images, n = {preset['n_train']}, unseen = label sum ≡ 0 mod 5, test images unseen in training; "
        f"Adam, mean ± std over {preset['seeds']} seeds",
        fontsize=9,
    )
    return fig, data


def _table_panel(ax, main: pd.DataFrame, source: str, preset: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("seen", "unseen", "noisy", "train"):
        stats = _scalar(main, f"{name}_accuracy", ["method"]).set_index("method")
        out[f"{name}_accuracy"] = {m: float(stats.loc[m, "mean"]) for m in METHODS}
        out[f"{name}_accuracy_std"] = {m: float(stats.loc[m, "std"]) for m in METHODS}
    columns = ["seen", "unseen", "noise"]
    rows = [
        [f"{out[f'{c}_accuracy'][m]:.3f} ± {out[f'{c}_accuracy_std'][m]:.3f}" for c in ("seen", "unseen", "noisy")]
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
    ax.set_title(f"accuracy (k = {preset['k']}, n = {preset['n_train']})", fontsize=9)
    return out


def _line_panel(ax, table: pd.DataFrame, axis: str, xlabel: str, with_paper: bool) -> dict[str, Any]:
    stats = _scalar(table, "unseen_accuracy", ["method", axis])
    out: dict[str, Any] = {}
    for method in THREE:
        rows = stats[stats["method"] == method].sort_values(axis)
        ax.errorbar(
            rows[axis],
            rows["mean"],
            yerr=rows["std"],
            color=COLORS[method],
            marker="o",
            ms=4,
            capsize=2,
            lw=1.4,
            label=LABELS[method],
        )
        out[method] = {axis: rows[axis], "mean": rows["mean"], "std": rows["std"]}
        if with_paper:
            ks = np.arange(1, 9)
            ax.plot(ks, PAPER_VS_K[method], color=COLORS[method], ls="--", lw=1, label=f"paper, {LABELS[method]}")
            out[f"paper_{method}"] = {"n_slots": ks, "accuracy": PAPER_VS_K[method]}
    ax.set(xlabel=xlabel, ylabel="unseen-combination accuracy", title=f"vs {xlabel}")
    ax.legend(fontsize=6)
    return out


def _epoch_panel(ax, table: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows = table[table["metric"] == "unseen_accuracy_curve"]
    epochs = table[table["metric"] == "curve_epochs"].groupby("step")["value"].first()
    for method in METHODS:
        stats = rows[rows["method"] == method].groupby("step")["value"].agg(["mean", "std"]).fillna(0.0)
        x = epochs.loc[stats.index].to_numpy()
        ax.plot(x, stats["mean"], color=COLORS[method], lw=1.4, label=LABELS[method])
        ax.fill_between(
            x, stats["mean"] - stats["std"], stats["mean"] + stats["std"], color=COLORS[method], alpha=0.15, lw=0
        )
        out[method] = {"epoch": x, "mean": stats["mean"], "std": stats["std"]}
    ax.axvline(1, color="grey", ls=":", lw=0.8)
    ax.set(
        xlabel="epochs (dotted: one, as the paper trained)",
        ylabel="unseen-combination accuracy",
        title="vs training epochs",
    )
    ax.legend(fontsize=6)
    return out


def _energy_panel(ax, table: pd.DataFrame, method: str, k: int) -> dict[str, Any]:
    """Mean over seeds of each module's input-energy share per slot, after training."""
    rows = table[(table["method"] == method) & (table["metric"] == "slot_energy_end")]
    energy = rows.groupby("step")["value"].mean().to_numpy().reshape(-1, k)
    focus = {
        when: float(_scalar(table[table["method"] == method], f"slot_focus_{when}", ["method"])["mean"].iloc[0])
        for when in ("start", "end")
    }
    image = ax.imshow(energy, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    ax.set(
        xlabel="slot (image)",
        ylabel="module",
        xticks=range(k),
        yticks=range(energy.shape[0]),
        title=f"{LABELS[method]}: energy share\nfocus {focus['start']:.2f} → {focus['end']:.2f} (1 = one image, 1/k = {1 / k:.2f})",
    )
    ax.title.set_fontsize(7)
    return {"energy_end": energy, "focus_start": focus["start"], "focus_end": focus["end"]}
