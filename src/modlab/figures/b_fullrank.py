"""Figure ``b-fullrank``: probability that j sampled combinations identify the compositional
structure (spec B §1 and §5, experiment 7), for n1 = 3 and n1 = 4.

For each j (n1 ≤ j < P = 2^n1) draw j distinct ±1 patterns and test the sample's systematic input
Gram matrix SᵀS (n1 × n1). Solid: Monte Carlo with the true rank test (``matrix_rank``). Dashed:
the exact fraction over all C(P, j) subsets (the theory). Dotted: Monte Carlo with the paper's test,
``|det(|SᵀS|)| > 0.1`` (element-wise absolute value), which the paper's figure used: it agrees with
the rank for n1 = 3 and not for n1 = 4. Both presets use 5000 draws (seconds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modlab.figures.registry import FigureContext, figure
from modlab.plots import new_figure
from modlab.tasks.dataset_space import full_rank_probability

DRAWS = {"quick": 5000, "paper": 5000}


@figure("b-fullrank", "paper B: probability that j sampled combinations give a full-rank systematic covariance")
def make(ctx: FigureContext):
    fig, axes = new_figure(2, width=4.2, height=3.4)
    data: dict[str, Any] = {"draws": DRAWS[ctx.preset]}
    for ax, n1 in zip(axes, (3, 4)):
        j = list(range(n1, 2**n1))
        prob = full_rank_probability(n1, j, draws=DRAWS[ctx.preset], seed=n1)
        ax.plot(j, prob["rank"], "o-", color="C0", lw=2, label="rank test, Monte Carlo")
        ax.plot(j, prob["rank_exact"], "--", color="k", lw=1.2, label="rank test, exact count")
        ax.plot(j, prob["paper_det"], "s:", color="C3", lw=1.5, ms=4, label="paper's |det(|SᵀS|)| > 0.1, Monte Carlo")
        ax.set(xlabel="sampled combinations j", ylabel="P(full rank)", title=f"n1 = {n1} (P = {2**n1})", ylim=(0, 1.05))
        ax.legend(fontsize=7)
        gap = np.abs(np.array(prob["rank"]) - np.array(prob["paper_det"]))
        data[f"n1={n1}"] = {"j": j, **prob, "max_gap_rank_vs_paper": float(gap.max())}
    fig.suptitle("b-fullrank: when do sampled combinations identify the compositional map?", fontsize=9)
    return fig, data
