"""Figure ``b-heldout``: paper B's motivating example, held-out combinations.

Dense two-layer linear network trained on 3 of the 8 points (the first three in counting order),
tested on the other 5, for (n1 n2 k1 k2 r) = (0 0 1 1 2), (3 0 1 1 2), (3 2 0 0 0), (3 2 1 0 2),
(3 2 1 1 2); σ = 0.001, lr 0.02, 500 epochs. As in the paper's code the time constant counts every
point, τ = 1/(8·lr), while the moments average the 3 training points (``tau_points = "all"``).
Every setting keeps P = 8 points (``n_features = 3``), so ``n1 = 0`` is a pure lookup table of 8
items. Panels: compositional (Ωy) and non-compositional (Γy) loss on the training and the held-out
points, mean ± s.e. over seeds (solid); top row the paper's 30-epoch window, bottom row the whole run;
dashed: the held-out loss of the min-norm map ``Y X⁺`` that gradient flow from a small start
converges to. A setting without Ωy (n2 = 0) or without Γy (k2 = 0) has no curve in those panels.
All presets run the paper's 50 seeds and 500 epochs (≈ 70 s on the shared 2-core machine).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modlab.config import Config
from modlab.experiments.linear_modules import LinearModulesConfig, epochs_axis
from modlab.figures.b_dynamics import ERROR_MEASURE, band, curve_stats, setting_table, theory_dashes
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.tasks.dataset_space import make_dataset
from modlab.theory import min_norm_map


class HeldoutPreset(Config):
    """Seeds, epochs of the long run, and the early window the paper plots."""

    seeds: int = Field(ge=2, description="seeds per setting (the bands are s.e. over them)")
    epochs: int = Field(500, ge=1)
    window: int = Field(30, ge=1, description="epochs of the paper's window (top row)")


PRESETS = {"quick": HeldoutPreset(seeds=50), "full": HeldoutPreset(seeds=50), "paper": HeldoutPreset(seeds=50)}
SETTINGS = [(0, 0, 1, 1, 2.0), (3, 0, 1, 1, 2.0), (3, 2, 0, 0, 0.0), (3, 2, 1, 0, 2.0), (3, 2, 1, 1, 2.0)]
PANELS = {
    "loss_comp": "compositional, train",
    "test_loss_comp": "compositional, held-out",
    "loss_noncomp": "non-compositional, train",
    "test_loss_noncomp": "non-compositional, held-out",
}


def setting_dict(n1: int, n2: int, k1: int, k2: int, r: float, epochs: int) -> dict[str, Any]:
    task = {"n1": n1, "n2": n2, "k1": k1, "k2": k2, "r": r, "n_features": 3, "n_train": 3}
    return {"init_scale": 0.001, "lr": 0.02, "epochs": epochs, "tau_points": "all", "task": task}


def min_norm_test_losses(cfg: LinearModulesConfig) -> dict[str, float]:
    """Held-out compositional / non-compositional loss of the min-norm map fitted to the training points."""
    data = make_dataset(cfg.task)
    x, y = data.x.numpy(), data.y.numpy()
    w = min_norm_map(x[:, data.train.numpy()], y[:, data.train.numpy()])
    residual = (w @ x[:, data.test.numpy()] - y[:, data.test.numpy()]) ** 2
    out = {}
    for metric, rows in (("test_loss_comp", data.omega_y), ("test_loss_noncomp", data.gamma_y)):
        if len(rows):
            out[metric] = float(residual[rows.numpy()].sum(0).mean())
    return out


@figure(
    "b-heldout",
    "paper B: held-out combinations (train 3 of 8 points), compositional vs non-compositional loss",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    settings: HeldoutPreset = ctx.settings
    fig, axes = new_figure(10, width=3.5, height=3.2, ncols=5)
    window_axes, long_axes, legend_ax = axes[:4], axes[5:9], axes[4]
    axes[9].set_visible(False)
    data: dict[str, Any] = {"seeds": settings.seeds, "window": settings.window, "settings": {}}
    for i, point in enumerate(SETTINGS):
        label = "({} {} {} {} {:g})".format(*point)
        cfg, table = setting_table(ctx, f"b-heldout {label}", setting_dict(*point, settings.epochs), settings.seeds)
        t = epochs_axis(cfg)
        early = t <= settings.window
        predicted = min_norm_test_losses(cfg)
        entry: dict[str, Any] = {"min_norm_prediction": predicted}
        for window_ax, long_ax, metric in zip(window_axes, long_axes, PANELS):
            if not (table["metric"] == metric).any():
                continue
            stats = curve_stats(table, metric)
            band(window_ax, t[early], stats[early], f"C{i}", label)
            band(long_ax, t, stats, f"C{i}", label)
            if metric in predicted:
                theory_dashes(long_ax, t[[0, -1]], [predicted[metric]] * 2, "min-norm map Y X⁺" if i == 2 else None)
            entry[metric] = {
                "mean": stats["mean"],
                "se": stats["se"],
                "at_window_mean": float(stats["mean"][early].iloc[-1]),
                "final_mean": float(stats["mean"].iloc[-1]),
                "final_se": float(stats["se"].fillna(0).iloc[-1]),
            }
        data["settings"][label] = entry
    for row_axes, span in ((window_axes, f"first {settings.window} epochs"), (long_axes, "whole run")):
        for ax, title in zip(row_axes, PANELS.values()):
            ax.set(xlabel="epoch", ylabel=f"loss, {span}", title=title)
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(bottom=0, top=10)
    handles = {label: h for ax in axes for h, label in zip(*ax.get_legend_handles_labels())}
    legend_ax.axis("off")
    legend_ax.legend(handles.values(), handles.keys(), title="(n1 n2 k1 k2 r)", loc="center left", frameon=False)
    final = {k: v["test_loss_comp"]["final_mean"] for k, v in data["settings"].items() if "test_loss_comp" in v}
    window = {k: v["test_loss_comp"]["at_window_mean"] for k, v in data["settings"].items() if "test_loss_comp" in v}
    data["final_compositional_test_loss"] = final
    data["summary"] = {
        "final_compositional_test_loss": final,
        f"compositional_test_loss_at_epoch_{settings.window}": window,
        "final_noncompositional_test_loss": {
            k: v["test_loss_noncomp"]["final_mean"] for k, v in data["settings"].items() if "test_loss_noncomp" in v
        },
    }
    fig.suptitle(
        f"Held-out combinations: a dense linear network trained on 3 of 8, tested on the other 5; {settings.seeds} "
        f"seeds, {ERROR_MEASURE}. Loss: squared error summed over outputs, mean over points; dashed: the min-norm map",
        fontsize=9,
    )
    return fig, data
