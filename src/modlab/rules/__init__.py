"""Learning rules: how a model's parameters are found from data."""

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
    "KernelRuleConfig", "KernelRuleResult", "find_projections", "find_projections_reference", "kernel_objective",
    "search_flops", "fit_least_squares", "fit_least_squares_reference", "ntk_kernels", "rbf_kernels",
    "stack_module_layers",
]
