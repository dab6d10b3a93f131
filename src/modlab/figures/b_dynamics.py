"""Figures ``b-dense``, ``b-split``, ``b-segregated``, ``b-shallow``: paper B's exact learning
dynamics against simulation, and :func:`plot_setting` for any point.

Panels: (a) each module's mode strengths u(t), simulated (solid, mean ± s.e. over seeds, projected
onto the singular vectors of the module's Σyx) and theory (dashed, from each seed's effective u0:
the start whose sigmoid reaches half the fixed point at the simulated half-rise time; depth 1: the
simulated value at t = 0); (b) the four quadrant norms of the total map, simulated vs the closed
forms evaluated on the theory mode strengths; (c) the training loss, simulated vs theory; (d)
systematicity, the share of the systematic outputs' weight on the systematic inputs, with the dense
network's fixed-point value P/(k1 r² + P) marked. The store holds only the simulation; the theory
is computed here (:func:`~modlab.experiments.linear_modules.compare_with_theory`).

Settings (the paper's): dense σ = 0.01/50, split and segregated σ = 0.1/50, lr 0.02, shallow
lr 0.005, 300 epochs, hidden 50, point (n1 n2 k1 k2 r) = (3 1 3 1 1). Presets differ only in seeds
(quick 20, full 50, paper 100). Measured budget of the full preset: ≈ 30 s per figure on the shared
2-core machine.

Any point of the space, from Python::

    from modlab.figures.b_dynamics import plot_setting
    plot_setting({"task": {"n1": 4, "n2": 2, "k1": 2}, "architecture": "split"}, "results/mine")

writes ``results/mine/b-custom.{png,pdf,json}``; the fields are those of ``modlab run
linear-modules --show-config``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import Field

from modlab.config import Config
from modlab.experiments.linear_modules import LinearModulesConfig, compare_with_theory, epochs_axis, point_of
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure, save_figure
from modlab.store import Store
from modlab.sweep import SweepSpec
from modlab.theory import QUADRANTS, modes, module_points


class DynamicsPreset(Config):
    """How many seeds of the paper's setting to run."""

    seeds: int = Field(ge=2, description="seeds (the error bands are s.e. over them)")


PRESETS = {"quick": DynamicsPreset(seeds=20), "full": DynamicsPreset(seeds=50), "paper": DynamicsPreset(seeds=100)}
SETTINGS: dict[str, dict[str, Any]] = {
    "b-dense": {"architecture": "dense"},
    "b-split": {"architecture": "split", "init_scale": 0.1 / 50},
    "b-segregated": {"architecture": "segregated", "init_scale": 0.1 / 50},
    "b-shallow": {"architecture": "dense", "depth": 1, "lr": 0.005},
}
TITLES = {
    "b-dense": "Dense linear network: learning dynamics vs exact theory",
    "b-split": "Output-split modules: learning dynamics vs exact theory",
    "b-segregated": "Input-segregated modules: a systematic map",
    "b-shallow": "One-layer network: exponential dynamics vs theory",
}
QUADRANT_LABELS = {"oy_ox": "‖W[Ωy,Ωx]‖", "oy_gx": "‖W[Ωy,Γx]‖", "gy_ox": "‖W[Γy,Ωx]‖", "gy_gx": "‖W[Γy,Γx]‖"}
MODE_LABELS = {"pi1": "π1", "pi2": "π2", "pi3": "π3"}
ERROR_MEASURE = "mean ± s.e. over seeds"
U0_NOTES = {
    "deep": "from each seed's effective start u0 (half-rise time matched)",
    "shallow": "from the simulated strength at t = 0",
}


def seed_curves(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Every seed's curve of ``metric``: (R recorded epochs, S seeds)."""
    rows = table[table["metric"] == metric]
    return rows.pivot(index="step", columns="key", values="value").sort_index().to_numpy()


def curve_stats(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and s.e. over seeds of a curve metric at every recorded step."""
    values = seed_curves(table, metric)
    return pd.DataFrame({"mean": values.mean(1), "se": values.std(1, ddof=1) / np.sqrt(values.shape[1])})


def band(ax, x, stats: pd.DataFrame, color, label, **kw):
    """Simulation: a solid mean line with a ±s.e. band."""
    mean, se = stats["mean"].to_numpy(), stats["se"].fillna(0).to_numpy()
    ax.plot(x, mean, color=color, lw=2.4, alpha=0.8, label=label, **kw)
    ax.fill_between(x, mean - se, mean + se, color=color, alpha=0.25, lw=0)


def theory_dashes(ax, x, y, label=None):
    """Theory: a thin black dashed line drawn over the simulation it belongs to."""
    ax.plot(x, y, color="k", ls=(0, (3, 2)), lw=1.1, label=label, zorder=4)


def legend_outside(ax, **kw):
    """The legend below the panel, off the data."""
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, **kw)


def setting_table(
    ctx: FigureContext, name: str, setting: dict[str, Any], seeds: int
) -> tuple[LinearModulesConfig, pd.DataFrame]:
    """Run (or resume) ``seeds`` seeds of one setting; its config and tidy table."""
    spec = SweepSpec(experiment="linear-modules", name=name, base=setting, axes={"seed": list(range(seeds))})
    return cast(LinearModulesConfig, spec.configs()[0]), ctx.sweep(spec)


def dynamics_figure(ctx: FigureContext, name: str, setting: dict[str, Any], seeds: int, title: str):
    """Draw the four dynamics panels of one setting; returns (figure, data)."""
    cfg, table = setting_table(ctx, name, setting, seeds)
    if not cfg.theory_applies:
        raise ValueError(
            f"{name}: the mode theory needs plain gradient flow on every point (no n_train, gamma = nu = 0)"
        )
    point = point_of(cfg.task)
    keys = [f"{role}_{m.name}" for role, q in module_points(cfg.architecture, point).items() for m in modes(q)]
    theory = compare_with_theory(cfg, {f"u_{key}": seed_curves(table, f"u_{key}") for key in keys})
    t = epochs_axis(cfg)
    fig, axes = new_figure(4, width=3.9, height=3.9)
    u0_note = U0_NOTES["shallow" if cfg.depth == 1 else "deep"]
    data: dict[str, Any] = {"setting": cfg.to_dict(), "seeds": seeds, "epochs": t, "u0": u0_note}
    data.update(_modes_panel(axes[0], cfg, table, theory, t))
    data.update(_quadrant_panel(axes[1], table, theory, t))
    data.update(_loss_panel(axes[2], table, theory, t))
    data.update(_systematicity_panel(axes[3], table, point, t))
    task = cfg.task
    data["summary"] = {
        "max_rel_error": theory.max_rel_error,
        "modes_not_reached": theory.not_reached,
        "systematicity": data.get("systematicity"),
        "systematic_share_dense_theory": data.get("systematic_share_dense_theory"),
        "final_oy_gx": data["final_quadrants"]["oy_gx"]["sim"],
    }
    fig.suptitle(
        f"{title}\n(n1 n2 k1 k2 r) = ({task.n1} {task.n2} {task.k1} {task.k2} {task.r:g}), {seeds} seeds; "
        f"solid: simulation, {ERROR_MEASURE}; black dashed: theory ({u0_note})",
        fontsize=9,
    )
    return fig, data


def _modes_panel(ax, cfg: LinearModulesConfig, table: pd.DataFrame, theory, t) -> dict[str, Any]:
    out: dict[str, Any] = {"modes": {}}
    for color, (role, mode) in enumerate(
        (role, m) for role, q in module_points(cfg.architecture, point_of(cfg.task)).items() for m in modes(q)
    ):
        key, fit = f"{role}_{mode.name}", theory.modes[f"{role}_{mode.name}"]
        label = MODE_LABELS[mode.name] if role == "dense" else f"{role} {MODE_LABELS[mode.name]}"
        sim = curve_stats(table, f"u_{key}")
        band(ax, t, sim, f"C{color}", label + ("" if fit.reached else " (not reached)"))
        theory_dashes(ax, t, fit.theory.mean(0), "theory" if color == 0 else None)
        out["modes"][key] = {
            "sim_mean": sim["mean"],
            "sim_se": sim["se"],
            "theory_mean": fit.theory.mean(0),
            "fixed_point": mode.fixed_point,
            "s": mode.s,
            "d": mode.d,
            "multiplicity": mode.multiplicity,
            "reached": fit.reached,
            "u0_mean": float(np.nanmean(fit.starts)) if fit.reached else None,
            "max_rel_error": float(fit.rel_errors.max()) if fit.reached else None,
        }
    ax.set(xlabel="epoch", ylabel="mode strength u", title="(a) mode strengths")
    legend_outside(ax)
    per_mode = {key: entry["max_rel_error"] for key, entry in out["modes"].items()}
    return {**out, "max_rel_error": theory.max_rel_error, "max_rel_error_per_mode": per_mode}


def _quadrant_panel(ax, table: pd.DataFrame, theory, t) -> dict[str, Any]:
    out: dict[str, Any] = {"quadrants": {}, "final_quadrants": {}}
    for i, q in enumerate(QUADRANTS):
        sim, predicted = curve_stats(table, f"q_{q}"), theory.curves[f"q_{q}"].mean(0)
        band(ax, t, sim, f"C{i}", QUADRANT_LABELS[q])
        theory_dashes(ax, t, predicted, "theory" if i == 0 else None)
        out["quadrants"][q] = {"sim_mean": sim["mean"], "sim_se": sim["se"], "theory_mean": predicted}
        out["final_quadrants"][q] = {"sim": float(sim["mean"].iloc[-1]), "theory": float(predicted[-1])}
    ax.set(xlabel="epoch", ylabel="Frobenius norm", title="(b) quadrant norms of the map W")
    legend_outside(ax)
    return out


def _loss_panel(ax, table: pd.DataFrame, theory, t) -> dict[str, Any]:
    out: dict[str, Any] = {"loss": {}}
    names = {"loss": "total", "loss_comp": "compositional (Ωy)", "loss_noncomp": "non-compositional (Γy)"}
    for i, (metric, label) in enumerate(names.items()):
        if (table["metric"] == metric).any():
            sim = curve_stats(table, metric)
            band(ax, t, sim, f"C{i}", label)
            out["loss"][metric] = {"sim_mean": sim["mean"], "sim_se": sim["se"]}
    predicted = theory.curves["loss"].mean(0)
    theory_dashes(ax, t, predicted, "total, theory")
    out["loss"]["theory_total"] = predicted
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title="(c) training loss")
    ax.set_ylim(bottom=max(1e-6, float(np.nanmin(predicted)) / 10))
    legend_outside(ax)
    return out


def _systematicity_panel(ax, table: pd.DataFrame, point, t) -> dict[str, Any]:
    """Systematicity over epochs with the dense network's fixed-point share and full systematicity."""
    ax.set(xlabel="epoch", ylabel="systematicity", title="(d) systematicity", ylim=(0, 1.08))
    share = point.n_points / point.a
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":", label="1: fully systematic")
    ax.axhline(share, color="k", lw=0.9, ls=(0, (3, 2)), label=f"dense theory P/(k1r²+P) = {share:.3f}")
    if point.n2 == 0:
        ax.text(0.5, 0.5, "no systematic outputs (n2 = 0)", ha="center", transform=ax.transAxes)
        legend_outside(ax)
        return {}
    stats = curve_stats(table, "systematicity")
    band(ax, t, stats, "C4", "simulation")
    legend_outside(ax)
    return {
        "systematicity_curve": {"mean": stats["mean"], "se": stats["se"]},
        "systematicity": float(stats["mean"].iloc[-1]),
        "systematic_share_dense_theory": share,
    }


def _register(name: str, description: str) -> None:
    @figure(name, description, presets=PRESETS)
    def make(ctx: FigureContext):
        return dynamics_figure(ctx, name, SETTINGS[name], ctx.settings.seeds, TITLES[name])


_register("b-dense", "paper B: dense two-layer linear network, mode dynamics and quadrant norms vs exact theory")
_register("b-split", "paper B: output-split modules, mode dynamics and quadrant norms vs exact theory")
_register("b-segregated", "paper B: input-segregated modules (systematic map), dynamics vs theory and systematicity")
_register("b-shallow", "paper B: shallow (one-layer) network, exponential mode dynamics vs theory")


def plot_setting(
    setting: dict[str, Any], out_dir: str | Path, *, seeds: int = 20, name: str = "b-custom", device: str = "cpu"
) -> dict[str, Path]:
    """Theory vs simulation for any ``linear-modules`` setting (nested dict of config fields) in
    one call: writes ``NAME.png/.pdf/.json`` (and the store) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with Store(out_dir / "modlab.sqlite", create=True) as store:
        ctx = FigureContext("custom", store, device, progress=False)
        fig, data = dynamics_figure(ctx, name, setting, seeds, "Learning dynamics vs exact theory")
    return save_figure(fig, {"figure": name, **data}, out_dir, name)
