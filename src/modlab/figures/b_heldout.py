"""Figure ``b-heldout``: paper B's motivating example (spec B §5, experiment 6).

Dense two-layer linear network trained on 3 of the 8 points (the first three in counting order),
tested on the other 5, for (n1 n2 k1 k2 r) = (0 0 1 1 2), (3 0 1 1 2), (3 2 0 0 0), (3 2 1 0 2),
(3 2 1 1 2); σ = 0.001, lr 0.02, 500 epochs, 50 seeds (both presets: the whole figure takes
seconds). Every setting keeps P = 8 points (``n_features = 3``), so ``n1 = 0`` is a pure lookup
table of 8 items. Panels: compositional (Ωy) and non-compositional (Γy) loss on the training and
the held-out points, mean ± std over seeds (solid); dashed: the held-out loss of the min-norm map
``Y X⁺`` that gradient flow from a small start converges to. A setting without Ωy (n2 = 0) or
without Γy (k2 = 0) has no curve in the corresponding panels.
"""

from __future__ import annotations

from typing import Any


from modlab.experiments.linear_modules import LinearModulesConfig, epochs_axis
from modlab.figures.b_dynamics import band, curve_stats, setting_table, theory_dashes
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.tasks.dataset_space import make_dataset
from modlab.theory import min_norm_map

SETTINGS = [(0, 0, 1, 1, 2.0), (3, 0, 1, 1, 2.0), (3, 2, 0, 0, 0.0), (3, 2, 1, 0, 2.0), (3, 2, 1, 1, 2.0)]
SEEDS = {"quick": 50, "paper": 50}
BASE = {"init_scale": 0.001, "lr": 0.02, "epochs": 500}
PANELS = {
    "loss_comp": "compositional, train",
    "test_loss_comp": "compositional, held-out",
    "loss_noncomp": "non-compositional, train",
    "test_loss_noncomp": "non-compositional, held-out",
}


def setting_dict(n1: int, n2: int, k1: int, k2: int, r: float) -> dict[str, Any]:
    task = {"n1": n1, "n2": n2, "k1": k1, "k2": k2, "r": r, "n_features": 3, "n_train": 3}
    return {**BASE, "task": task}


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


@figure("b-heldout", "paper B: held-out combinations (train 3 of 8 points), compositional vs non-compositional loss")
def make(ctx: FigureContext):
    seeds = SEEDS[ctx.preset]
    fig, axes = new_figure(4, width=3.8, height=3.4)
    data: dict[str, Any] = {"seeds": seeds, "settings": {}}
    for i, point in enumerate(SETTINGS):
        label = "({} {} {} {} {:g})".format(*point)
        cfg, table = setting_table(ctx, f"b-heldout {label}", setting_dict(*point), seeds)
        t = epochs_axis(cfg)
        predicted = min_norm_test_losses(cfg)
        entry: dict[str, Any] = {"min_norm_prediction": predicted}
        for ax, metric in zip(axes, PANELS):
            if not (table["metric"] == metric).any():
                continue
            stats = curve_stats(table, metric)
            band(ax, t, stats, f"C{i}", label)
            if metric in predicted:
                theory_dashes(ax, t[[0, -1]], [predicted[metric]] * 2, "min-norm map" if i == 2 else None)
            entry[metric] = {
                "mean": stats["mean"],
                "std": stats["std"],
                "final_mean": float(stats["mean"].iloc[-1]),
                "final_std": float(stats["std"].fillna(0).iloc[-1]),
            }
        data["settings"][label] = entry
    for ax, title in zip(axes, PANELS.values()):
        ax.set(xlabel="epoch", ylabel="loss (sum over outputs, mean over points)", title=title, yscale="symlog")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(bottom=0, top=10)
        ax.legend(fontsize=7, title="(n1 n2 k1 k2 r)", title_fontsize=7)
    comp = {k: v["test_loss_comp"]["final_mean"] for k, v in data["settings"].items() if "test_loss_comp" in v}
    data["final_compositional_test_loss"] = comp
    fig.suptitle(
        f"b-heldout: dense linear network trained on 3 of 8 points, {seeds} seeds, mean ± std (solid); "
        "dashed: held-out loss of the min-norm map Y X⁺",
        fontsize=9,
    )
    return fig, data
