"""Figures modlab regenerates, by name. Each module registers itself on import."""

from modlab.figures import (
    a_ccifar,  # noqa: F401  (registers "a-ccifar")
    a_compute_matched,  # noqa: F401  (registers "a-compute-matched")
    a_module_mismatch,  # noqa: F401  (registers "a-module-mismatch")
    a_projections,  # noqa: F401  (registers "a-projections")
    a_sample_complexity,  # noqa: F401  (registers "a-sample-complexity")
    a_sine_loss,  # noqa: F401  (registers "a-sine-loss")
    a_theory,  # noqa: F401  (registers "a-theory")
    b_cmnist,  # noqa: F401  (registers "b-cmnist")
    b_dynamics,  # noqa: F401  (registers "b-dense", "b-split", "b-segregated", "b-shallow")
    b_fullrank,  # noqa: F401  (registers "b-fullrank")
    b_heldout,  # noqa: F401  (registers "b-heldout")
    b_rules,  # noqa: F401  (registers "b-rules")
)
from modlab.figures.registry import FIGURES, PRESETS, FigureContext, figure, make_figure

__all__ = ["FIGURES", "PRESETS", "FigureContext", "figure", "make_figure"]
