"""Architectures: plain ``torch.nn.Module`` s."""

from modlab.models.budget import count_params, width_for_budget
from modlab.models.mlp import MLP, stacked_mlp
from modlab.models.modular import ModularMLP

__all__ = ["MLP", "ModularMLP", "count_params", "stacked_mlp", "width_for_budget"]
