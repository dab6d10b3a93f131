"""Figures modlab regenerates, by name. Each module registers itself on import."""

from modlab.figures import a_ccifar  # noqa: F401  (registers "a-ccifar")
from modlab.figures import a_compute_matched  # noqa: F401  (registers "a-compute-matched")
from modlab.figures import a_module_mismatch  # noqa: F401  (registers "a-module-mismatch")
from modlab.figures import a_projections  # noqa: F401  (registers "a-projections")
from modlab.figures import a_sample_complexity  # noqa: F401  (registers "a-sample-complexity")
from modlab.figures import a_sine_loss  # noqa: F401  (registers "a-sine-loss")
from modlab.figures import a_theory  # noqa: F401  (registers "a-theory")
from modlab.figures import b_cmnist  # noqa: F401  (registers "b-cmnist")
from modlab.figures import b_dynamics  # noqa: F401  (registers "b-dense", "b-split", "b-segregated", "b-shallow")
from modlab.figures import b_fullrank  # noqa: F401  (registers "b-fullrank")
from modlab.figures import b_heldout  # noqa: F401  (registers "b-heldout")
from modlab.figures import b_rules  # noqa: F401  (registers "b-rules")
from modlab.figures.registry import FIGURES, PRESETS, FigureContext, figure, make_figure

__all__ = ["FIGURES", "PRESETS", "FigureContext", "figure", "make_figure"]
