"""Learning rules: how a model's parameters are found from data."""

from modlab.rules.gradient_flow import Moments, flow_updates, train, train_reference
from modlab.rules.hebbian import RULES, RuleSetting, local_terms
from modlab.rules.kernel_rule import (
    KernelRuleConfig,
    KernelRuleResult,
    find_projections,
    find_projections_reference,
    kernel_objective,
    search_flops,
)
from modlab.rules.least_squares import fit_least_squares, fit_least_squares_reference
from modlab.rules.module_kernels import ntk_kernels, rbf_kernels, stack_module_layers

__all__ = [
    "KernelRuleConfig",
    "KernelRuleResult",
    "Moments",
    "RULES",
    "RuleSetting",
    "find_projections",
    "find_projections_reference",
    "fit_least_squares",
    "fit_least_squares_reference",
    "flow_updates",
    "kernel_objective",
    "local_terms",
    "ntk_kernels",
    "rbf_kernels",
    "search_flops",
    "stack_module_layers",
    "train",
    "train_reference",
]
