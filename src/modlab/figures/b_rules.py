"""Figure ``b-rules``: quadrant norms of the dense network under the appendix's learning rules
(spec B §3 and §5, experiment 5).

One panel per rule (gradient descent, Hebbian, anti-Hebbian, contrastive Hebbian, predictive
coding) with the paper's (γ, ν, lr, epochs); the dense network of spec §3 (σ = 0.01/50, hidden 50)
at the default point. Simulation: solid, mean ± std over seeds. Dashed: the quadrant norms of the
gradient-flow fixed point (closed form), the reference each rule is compared with; the gradient
panel also carries the full theory curves and its ``max_rel_error``.
"""

from __future__ import annotations

from typing import Any

from modlab.experiments.linear_modules import epochs_axis, point_of
from modlab.figures.b_dynamics import QUADRANT_LABELS, band, curve_stats, scalar_values, setting_table, theory_dashes
from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.rules.hebbian import RULES
from modlab.theory import QUADRANTS, fixed_points, quadrant_norms_theory

SEEDS = {"quick": 10, "paper": 50}
TITLES = {
    "gradient": "gradient descent",
    "hebbian": "Hebbian (ν > 0)",
    "anti_hebbian": "anti-Hebbian (ν < 0)",
    "contrastive_hebbian": "contrastive Hebbian (γ = +1)",
    "predictive_coding": "predictive coding (γ = −1)",
}


@figure("b-rules", "paper B: quadrant norms of the dense linear network under five learning rules")
def make(ctx: FigureContext):
    seeds = SEEDS[ctx.preset]
    fig, axes = new_figure(len(RULES), width=3.6, height=3.3)
    data: dict[str, Any] = {"seeds": seeds, "rules": {}}
    for ax, (rule, setting) in zip(axes, RULES.items()):
        record_every = 1 if setting.epochs <= 300 else 5
        base = {
            "gamma": setting.gamma,
            "nu": setting.nu,
            "lr": setting.lr,
            "epochs": setting.epochs,
            "record_every": record_every,
        }
        cfg, table = setting_table(ctx, f"b-rules {rule}", base, seeds)
        t = epochs_axis(cfg)
        point = point_of(cfg.task)
        fixed = quadrant_norms_theory(point, *(fixed_points(point)[m] for m in ("pi1", "pi2", "pi3")))
        entry: dict[str, Any] = {
            "gamma": setting.gamma,
            "nu": setting.nu,
            "lr": setting.lr,
            "epochs": setting.epochs,
            "gradient_fixed_point": {q: float(v) for q, v in fixed.items()},
            "final": {},
        }
        for i, q in enumerate(QUADRANTS):
            stats = curve_stats(table, f"q_{q}")
            band(ax, t, stats, f"C{i}", QUADRANT_LABELS[q])
            if cfg.theory_applies:
                theory_dashes(ax, t, curve_stats(table, f"theory_q_{q}")["mean"], "theory" if i == 0 else None)
            else:
                theory_dashes(ax, t[[0, -1]], [fixed[q]] * 2, "gradient-flow fixed point" if i == 0 else None)
            entry["final"][q] = float(stats["mean"].iloc[-1])
            entry[q] = {"mean": stats["mean"], "std": stats["std"]}
        entry["epochs_axis"] = t
        entry["systematicity"] = float(curve_stats(table, "systematicity")["mean"].iloc[-1])
        if cfg.theory_applies:
            data["max_rel_error"] = float(scalar_values(table, "max_rel_error").max())
        data["rules"][rule] = entry
        ax.set(
            xlabel="epoch",
            ylabel="Frobenius norm",
            title=f"{TITLES[rule]}\nγ={setting.gamma:g}, ν={setting.nu:g}, lr={setting.lr:g}",
        )
        ax.legend(fontsize=6, loc="lower right")
    fig.suptitle(
        f"b-rules: dense network, (n1 n2 k1 k2 r) = (3 1 3 1 1), {seeds} seeds, simulation solid (mean ± std), "
        "dashed: gradient-flow theory",
        fontsize=9,
    )
    return fig, data
