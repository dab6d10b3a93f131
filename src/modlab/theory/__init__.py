"""Closed forms, in numpy/scipy only: the public face of modlab's theory."""

from modlab.theory.random_features import (
    min_norm_losses,
    pinv_sq_norm,
    rf_losses,
    ridge_losses,
    sample_complexity,
)
from modlab.theory.spectrum import Spectrum

__all__ = ["Spectrum", "min_norm_losses", "pinv_sq_norm", "rf_losses", "ridge_losses", "sample_complexity"]
