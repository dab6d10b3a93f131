"""Learning rules: how a model's parameters are found from data."""

from modlab.rules.gradient_flow import Moments, flow_updates, train, train_reference
from modlab.rules.hebbian import RULES, RuleSetting, local_terms
from modlab.rules.least_squares import fit_least_squares, fit_least_squares_reference

__all__ = ["Moments", "RULES", "RuleSetting", "fit_least_squares", "fit_least_squares_reference", "flow_updates", "local_terms",
           "train", "train_reference"]
