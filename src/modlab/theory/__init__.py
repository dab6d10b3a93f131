"""Closed forms, in numpy/scipy only: the public face of modlab's theory."""

from modlab.theory.crossing import Crossing, first_crossing
from modlab.theory.linear_dynamics import (
    Mode,
    Point,
    discrete_trajectory,
    discretisation_gap,
    effective_u0,
    fixed_points,
    group_of,
    input_eigenvalues,
    loss_theory,
    min_norm_map,
    mode_basis,
    modes,
    module_points,
    numerical_spectrum,
    quadrant_norms_theory,
    second_moments,
    singular_values,
    trajectory,
)
from modlab.theory.random_features import (
    min_norm_losses,
    pinv_sq_norm,
    rf_losses,
    ridge_losses,
    sample_complexity,
)
from modlab.theory.spectrum import Spectrum
from modlab.theory.systematicity import QUADRANTS, quadrant_norms, systematicity

__all__ = [
    "QUADRANTS",
    "Crossing",
    "Mode",
    "Point",
    "Spectrum",
    "discrete_trajectory",
    "discretisation_gap",
    "effective_u0",
    "first_crossing",
    "fixed_points",
    "group_of",
    "input_eigenvalues",
    "loss_theory",
    "min_norm_losses",
    "min_norm_map",
    "mode_basis",
    "modes",
    "module_points",
    "numerical_spectrum",
    "pinv_sq_norm",
    "quadrant_norms",
    "quadrant_norms_theory",
    "rf_losses",
    "ridge_losses",
    "sample_complexity",
    "second_moments",
    "singular_values",
    "systematicity",
    "trajectory",
]
