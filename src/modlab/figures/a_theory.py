"""Figure ``a-theory``: paper A's linear random-features theory against simulation (spec A §1).

Panels: loss vs n (double descent), vs p (with a ridge curve, asymptotic theory), vs task dimension
m (monolithic rising, modular flat), vs the task's number of modules k at fixed m (flat: the
monolithic spectrum depends on m only, so this invariance holds by construction in this model), and
the sample complexity (n to reach a target test loss with the best network size) vs m.
Theory: lines; simulation: mean ± s.e. over seeds, hollow where the theory is asymptotic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modlab.sweep import SweepSpec
from modlab.experiments.linear_rf import LinearRFConfig, theory_losses
from modlab.figures.registry import FigureContext, figure
from modlab.plots import mean_se, new_figure, sim_markers, theory_line
from modlab.theory import Spectrum, rf_losses, sample_complexity

PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(
        seeds=30,
        m=4,
        p_fixed=100,
        n_fixed=100,
        n_axis=[20, 30, 45, 70, 90, 110, 150, 220, 330, 500, 800, 1200],
        p_axis=[10, 20, 35, 55, 80, 120, 160, 250, 400, 650, 1000],
        ridge=0.01,
        m_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        n_for_m=400,
        k_axis=[1, 2, 3, 4, 5, 6, 7, 8, 9],
        m_for_k=6,
        n_modules=3,
        p_module=30,
        target_loss=0.3,
        m_sc=[2, 3, 4, 5, 6, 7],
        m_sc_theory=np.arange(2, 9.01, 0.25),
        sc_factors=[0.6, 1.0, 1.6],
    ),
    "paper": dict(
        seeds=100,
        m=4,
        p_fixed=1000,
        n_fixed=1000,
        n_axis=[100, 200, 400, 700, 900, 1100, 1500, 3000, 6000, 12000, 25000, 50000],
        p_axis=[100, 200, 400, 700, 900, 1100, 1500, 3000, 6000, 12000, 25000, 50000],
        ridge=0.01,
        m_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        n_for_m=1000,
        k_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        m_for_k=9,
        n_modules=3,
        p_module=300,
        target_loss=0.2,
        m_sc=[2, 3, 4, 5, 6, 7, 8],
        m_sc_theory=np.arange(2, 9.01, 0.1),
        sc_factors=[0.6, 1.0, 1.6],
    ),
}
N_GRID = np.unique(np.logspace(0.5, 7, 400).astype(int))
P_GRID = np.unique(np.logspace(0, 6.5, 300).astype(int))
COLORS = {"monolithic": "C0", "modular": "C3", "train": "C2", "ridge": "C1"}


def _spec(name: str, seeds: int, base: dict, axes: dict) -> SweepSpec:
    return SweepSpec(experiment="linear-rf", name=name, base=base, axes={**axes, "seed": list(range(seeds))})


def _point_stats(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per point: simulated test/train mean ± s.e. and the stored theory."""
    test = mean_se(table, by, "test_loss")
    train = mean_se(table, by, "train_loss")
    theory = {
        m: mean_se(table, by, m)["mean"].to_numpy() for m in ("theory_test_loss", "theory_train_loss", "theory_exact")
    }
    return test.assign(
        train_mean=train["mean"],
        train_se=train["se"],
        theory_test=theory["theory_test_loss"],
        theory_train=theory["theory_train_loss"],
        exact=theory["theory_exact"] > 0.5,
    )


def _curve(ctx, name, base, axis, values, x_col):
    stats = _point_stats(ctx.sweep(_spec(name, PRESETS[ctx.preset]["seeds"], base, {axis: values})), [x_col])
    return stats.sort_values(x_col)


@figure(
    "a-theory", "paper A: linear random-features theory vs simulation (loss vs n, p, m, modules; sample complexity)"
)
def make(ctx: FigureContext):
    cfg = PRESETS[ctx.preset]
    spectrum = Spectrum()
    fig, axes = new_figure(5, ncols=5, width=3.6)
    panels: dict[str, Any] = {}
    points: list[pd.DataFrame] = []

    vs_n = _curve(ctx, "a-theory vs n", dict(p=cfg["p_fixed"], m=cfg["m"]), "n", cfg["n_axis"], "n")
    n_line = np.unique(np.logspace(np.log10(cfg["n_axis"][0]), np.log10(cfg["n_axis"][-1]), 300).astype(int))
    line = rf_losses(n_line, cfg["p_fixed"], cfg["m"], spectrum=spectrum)
    _draw_loss_panel(axes[0], vs_n, "n", n_line, line, COLORS["monolithic"], "min-norm")
    axes[0].axvline(cfg["p_fixed"], color="grey", lw=0.8, ls=":")
    axes[0].set(xlabel="training samples n", title=f"vs n (p = {cfg['p_fixed']}, m = {cfg['m']})")
    axes[0].legend(fontsize=7)
    panels["loss_vs_n"] = _panel_data(vs_n, "n", n_line, line)
    points.append(vs_n)

    vs_p = _curve(ctx, "a-theory vs p", dict(n=cfg["n_fixed"], m=cfg["m"]), "p", cfg["p_axis"], "p")
    ridge_p = _curve(
        ctx, "a-theory vs p (ridge)", dict(n=cfg["n_fixed"], m=cfg["m"], ridge=cfg["ridge"]), "p", cfg["p_axis"], "p"
    )
    p_line = np.unique(np.logspace(np.log10(cfg["p_axis"][0]), np.log10(cfg["p_axis"][-1]), 300).astype(int))
    line = rf_losses(cfg["n_fixed"], p_line, cfg["m"], spectrum=spectrum)
    ridge_line = rf_losses(cfg["n_fixed"], p_line, cfg["m"], spectrum=spectrum, ridge=cfg["ridge"])
    _draw_loss_panel(axes[1], vs_p, "p", p_line, line, COLORS["monolithic"], "min-norm")
    theory_line(axes[1], p_line, ridge_line["test"], COLORS["ridge"], f"ridge {cfg['ridge']} (asymptotic)", dashed=True)
    sim_markers(axes[1], ridge_p["p"], ridge_p["mean"], ridge_p["se"], COLORS["ridge"], hollow=~ridge_p["exact"])
    axes[1].axvline(cfg["n_fixed"], color="grey", lw=0.8, ls=":")
    axes[1].set(xlabel="parameters p", title=f"vs p (n = {cfg['n_fixed']}, m = {cfg['m']})")
    axes[1].legend(fontsize=7)
    panels["loss_vs_p"] = _panel_data(vs_p, "p", p_line, line)
    panels["loss_vs_p_ridge"] = _panel_data(ridge_p, "p", p_line, ridge_line)
    points += [vs_p, ridge_p]

    m_axis = cfg["m_axis"]
    mono_m = _curve(ctx, "a-theory vs m", dict(n=cfg["n_for_m"], p=cfg["p_fixed"]), "m", m_axis, "m")
    modular_base = dict(
        n=cfg["n_for_m"], p=cfg["p_module"], architecture="modular", n_modules=cfg["n_modules"], module_dim=1
    )
    mod_m = _curve(ctx, "a-theory vs m (modular)", modular_base, "m", m_axis, "m")
    ax = axes[2]
    for label, stats, kw in (("monolithic", mono_m, dict(p=cfg["p_fixed"])), ("modular", mod_m, modular_base)):
        theory = [theory_losses(LinearRFConfig(**{**kw, "n": cfg["n_for_m"], "m": m}))["test"] for m in m_axis]
        theory_line(ax, m_axis, theory, COLORS[label], label)
        sim_markers(ax, stats["m"], stats["mean"], stats["se"], COLORS[label])
        panels[f"loss_vs_m_{label}"] = {"m": m_axis, "theory_test": theory, **_sim_columns(stats)}
    ax.set(xlabel="task dimension m", ylabel="test loss", title=f"vs m (n = {cfg['n_for_m']})")
    ax.legend(fontsize=7)
    points += [mono_m, mod_m]

    vs_k = _curve(
        ctx,
        "a-theory vs k",
        dict(n=cfg["n_for_m"], p=cfg["p_fixed"], m=cfg["m_for_k"]),
        "n_modules",
        cfg["k_axis"],
        "n_modules",
    )
    ax = axes[3]
    theory_line(ax, vs_k["n_modules"], vs_k["theory_test"], COLORS["monolithic"], "monolithic theory")
    sim_markers(ax, vs_k["n_modules"], vs_k["mean"], vs_k["se"], COLORS["monolithic"], "simulation")
    ax.set(
        xlabel="task's number of modules k",
        ylabel="test loss",
        ylim=(0, 1.5 * vs_k["mean"].max()),
        title=f"vs k (m = {cfg['m_for_k']}, p = {cfg['p_fixed']})",
    )
    ax.legend(fontsize=7)
    panels["loss_vs_k"] = {"k": vs_k["n_modules"], "theory_test": vs_k["theory_test"], **_sim_columns(vs_k)}
    points.append(vs_k)

    panels["sample_complexity"], sc_points = _sample_complexity_panel(ctx, axes[4], spectrum)
    points += sc_points

    all_points = pd.concat(points, ignore_index=True)
    data = {"panels": panels, "preset_settings": cfg, **_agreement(all_points), "target_loss": cfg["target_loss"]}
    fig.suptitle(
        "Paper A, linear random-features model: theory (lines) vs simulation (markers, mean ± s.e.; hollow = asymptotic theory)",
        fontsize=9,
    )
    return fig, data


def _draw_loss_panel(ax, stats, x_col, x_line, line, color, label):
    theory_line(ax, x_line, line["test"], color, f"test, {label}")
    theory_line(ax, x_line, line["train"], COLORS["train"], "train", dashed=True)
    sim_markers(ax, stats[x_col], stats["mean"], stats["se"], color, hollow=~stats["exact"])
    sim_markers(ax, stats[x_col], stats["train_mean"], stats["train_se"], COLORS["train"], marker="s")
    top = np.nanmax(np.where(np.isfinite(line["test"]), line["test"], np.nan))
    ax.set(xscale="log", yscale="symlog", ylabel="loss per sample", ylim=(0, min(top, 20 * np.nanmedian(line["test"]))))
    ax.set_yscale("symlog", linthresh=0.05)


def _panel_data(stats: pd.DataFrame, x_col: str, x_line, line) -> dict[str, Any]:
    return {
        f"{x_col}_theory": x_line,
        "theory_test": line["test"],
        "theory_train": line["train"],
        x_col: stats[x_col],
        "exact": stats["exact"],
        **_sim_columns(stats),
    }


def _sim_columns(stats: pd.DataFrame) -> dict[str, Any]:
    return {
        "sim_test_mean": stats["mean"],
        "sim_test_se": stats["se"],
        "sim_train_mean": stats["train_mean"],
        "sim_train_se": stats["train_se"],
        "point_theory_test": stats["theory_test"],
        "seeds": stats["count"],
    }


def _agreement(points: pd.DataFrame) -> dict[str, Any]:
    """``max_rel_error`` over exact-theory points whose s.e. is below 1% of the mean; the same over
    asymptotic points as ``max_rel_error_asymptotic``; and how many points each covers."""
    finite = np.isfinite(points["theory_test"]) & (points["se"] < 0.01 * points["mean"])
    rel = (points["mean"] - points["theory_test"]).abs() / points["theory_test"]
    out = {}
    for name, mask in (
        ("max_rel_error", finite & points["exact"]),
        ("max_rel_error_asymptotic", finite & ~points["exact"]),
    ):
        out[name] = float(rel[mask].max()) if mask.any() else None
        out[f"{name}_points"] = int(mask.sum())
    return out


def _sample_complexity_panel(ctx: FigureContext, ax, spectrum: Spectrum):
    """Theory: n to reach the target with the best p, vs m. Simulation: the loss at n ∈ factors·n*
    (p fixed at the theory's best size), interpolated log-log where it crosses the target."""
    cfg = PRESETS[ctx.preset]
    target = cfg["target_loss"]
    models = {
        "monolithic": dict(spectrum=spectrum),
        "modular": dict(spectrum=spectrum, architecture="modular", n_modules=cfg["n_modules"], module_dim=1),
    }
    data: dict[str, Any] = {"m_theory": cfg["m_sc_theory"], "m": cfg["m_sc"]}
    points = []
    for label, model in models.items():
        line = sample_complexity(target, cfg["m_sc_theory"], n_grid=N_GRID, p_grid=P_GRID, **model)
        theory_line(ax, cfg["m_sc_theory"], line["n"], COLORS[label], label)
        at = sample_complexity(target, np.array(cfg["m_sc"]), n_grid=N_GRID, p_grid=P_GRID, **model)
        sim_n, sim_stats = [], []
        for m, n_star, p_star in zip(cfg["m_sc"], at["n"], at["p"]):
            n_axis = sorted({max(2, int(round(n_star * f))) for f in cfg["sc_factors"]})
            base = {k: v for k, v in model.items() if k != "spectrum"} | dict(m=int(m), p=int(p_star))
            stats = _curve(ctx, f"a-theory sample complexity {label} m={m}", base, "n", n_axis, "n")
            sim_n.append(_crossing(stats["n"].to_numpy(), stats["mean"].to_numpy(), target))
            sim_stats.append(stats)
        sim_markers(ax, cfg["m_sc"], sim_n, np.zeros(len(sim_n)), COLORS[label])
        data[label] = {"theory_n": line["n"], "theory_n_at_m": at["n"], "best_p_at_m": at["p"], "sim_n": sim_n}
        points += sim_stats
    ax.set(
        yscale="log",
        xlabel="task dimension m",
        ylabel=f"samples to reach test loss {target}",
        title="sample complexity (best p)",
    )
    ax.legend(fontsize=7)
    return data, points


def _crossing(n: np.ndarray, loss: np.ndarray, target: float) -> float:
    """Log-log interpolated n where a decreasing loss curve crosses ``target`` (nan if it does not)."""
    below = np.flatnonzero(loss <= target)
    if below.size == 0 or below[0] == 0:
        return float("nan")
    i = below[0]
    lo, hi = np.log(loss[i - 1]), np.log(loss[i])
    frac = (lo - np.log(target)) / (lo - hi)
    return float(np.exp(np.log(n[i - 1]) + frac * (np.log(n[i]) - np.log(n[i - 1]))))
