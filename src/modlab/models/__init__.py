"""Architectures: plain ``torch.nn.Module`` s."""

from modlab.models.budget import count_params, width_for_budget
from modlab.models.linear import LinearModule, ModularLinear, aligned_weights, layer_dims, module_layout, random_weights
from modlab.models.mlp import MLP, stacked_mlp
from modlab.models.modular import ModularMLP

__all__ = [
    "LinearModule",
    "MLP",
    "ModularLinear",
    "ModularMLP",
    "aligned_weights",
    "count_params",
    "layer_dims",
    "module_layout",
    "random_weights",
    "stacked_mlp",
    "width_for_budget",
]
