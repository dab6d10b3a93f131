"""Learning rules: how a model's parameters are found from data."""

from modlab.rules.least_squares import fit_least_squares, fit_least_squares_reference

__all__ = ["fit_least_squares", "fit_least_squares_reference"]
