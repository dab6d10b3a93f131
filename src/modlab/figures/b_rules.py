"""Figure ``b-rules``: quadrant norms of the dense network under the appendix's learning rules.

One panel per rule (gradient descent, Hebbian, anti-Hebbian, contrastive Hebbian, predictive
coding) with the paper's (γ, ν, lr, epochs) and the paper's scaling of the local terms (sums over
the batch; γ term × 1/τ, ν term without); the dense network (σ = 0.01/50, hidden 50) at the point
(n1 n2 k1 k2 r) = (3 1 3 1 1). Simulation: solid, mean ± s.e. over seeds. Dashed: the quadrant
norms of the gradient-flow fixed point (closed form), the reference each rule is compared with; the
gradient panel carries the full theory curves instead, and its ``max_rel_error``.
Presets differ in seeds only (quick 10, full 20, paper 50); every rule runs its paper epochs.
Measured budget of the full preset: ≈ 65 s on the shared 2-core machine.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modlab.config import Config
from modlab.experiments.linear_modules import compare_with_theory, epochs_axis, point_of
from modlab.figures.b_dynamics import (
    ERROR_MEASURE,
    QUADRANT_LABELS,
    band,
    curve_stats,
    legend_outside,
    seed_curves,
    setting_table,
    theory_dashes,
)
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.rules.hebbian import RULES
from modlab.theory import QUADRANTS, fixed_points, modes, quadrant_norms_theory


class RulesPreset(Config):
    """Seeds per rule, and how often long runs record their curves."""

    seeds: int = Field(ge=2, description="seeds per rule (the bands are s.e. over them)")
    record_every: int = Field(5, ge=1, description="record every this many epochs in runs longer than 300")


PRESETS = {"quick": RulesPreset(seeds=10), "full": RulesPreset(seeds=20), "paper": RulesPreset(seeds=50)}
TITLES = {
    "gradient": "gradient descent",
    "hebbian": "Hebbian (ν > 0)",
    "anti_hebbian": "anti-Hebbian (ν < 0)",
    "contrastive_hebbian": "contrastive Hebbian (γ = +1)",
    "predictive_coding": "predictive coding (γ = −1)",
}


@figure("b-rules", "paper B: quadrant norms of the dense linear network under five learning rules", presets=PRESETS)
def make(ctx: FigureContext):
    settings: RulesPreset = ctx.settings
    fig, axes = new_figure(len(RULES), width=3.6, height=3.9)
    data: dict[str, Any] = {"seeds": settings.seeds, "rules": {}}
    for ax, (rule, setting) in zip(axes, RULES.items()):
        base = {
            "gamma": setting.gamma,
            "nu": setting.nu,
            "lr": setting.lr,
            "epochs": setting.epochs,
            "record_every": 1 if setting.epochs <= 300 else settings.record_every,
        }
        cfg, table = setting_table(ctx, f"b-rules {rule}", base, settings.seeds)
        t = epochs_axis(cfg)
        point = point_of(cfg.task)
        fixed = quadrant_norms_theory(point, *(fixed_points(point)[m] for m in ("pi1", "pi2", "pi3")))
        theory = None
        if cfg.theory_applies:
            keys = [f"dense_{m.name}" for m in modes(point)]
            theory = compare_with_theory(cfg, {f"u_{k}": seed_curves(table, f"u_{k}") for k in keys})
            data["max_rel_error"] = theory.max_rel_error
        entry: dict[str, Any] = {
            "gamma": setting.gamma,
            "nu": setting.nu,
            "lr": setting.lr,
            "epochs": setting.epochs,
            "gradient_fixed_point": {q: float(v) for q, v in fixed.items()},
            "final": {},
            "final_se": {},
        }
        for i, q in enumerate(QUADRANTS):
            stats = curve_stats(table, f"q_{q}")
            band(ax, t, stats, f"C{i}", QUADRANT_LABELS[q])
            if theory is not None:
                theory_dashes(ax, t, theory.curves[f"q_{q}"].mean(0), "theory" if i == 0 else None)
            else:
                theory_dashes(ax, t[[0, -1]], [fixed[q]] * 2, "gradient-descent end point" if i == 0 else None)
            entry["final"][q] = float(stats["mean"].iloc[-1])
            entry["final_se"][q] = float(stats["se"].iloc[-1])
            entry[q] = {"mean": stats["mean"], "se": stats["se"]}
        entry["epochs_axis"] = t
        entry["systematicity"] = float(curve_stats(table, "systematicity")["mean"].iloc[-1])
        data["rules"][rule] = entry
        ax.set(xlabel="epoch", ylabel="Frobenius norm", title=f"{TITLES[rule]}\nγ={setting.gamma:g}, ν={setting.nu:g}")
        legend_outside(ax)
    data["summary"] = {
        "max_rel_error_gradient": data.get("max_rel_error"),
        "systematicity": {rule: entry["systematicity"] for rule, entry in data["rules"].items()},
        "final_oy_gx": {rule: entry["final"]["oy_gx"] for rule, entry in data["rules"].items()},
        "final_gy_gx": {rule: entry["final"]["gy_gx"] for rule, entry in data["rules"].items()},
    }
    fig.suptitle(
        f"Other learning rules: dense linear network, {settings.seeds} seeds; solid: simulation, {ERROR_MEASURE}; "
        "dashed: gradient-descent theory",
        fontsize=9,
    )
    return fig, data
