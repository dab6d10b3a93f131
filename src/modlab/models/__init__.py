"""Architectures: plain ``torch.nn.Module`` s."""

from modlab.models.linear import LinearModule, ModularLinear, aligned_weights, layer_dims, module_layout, random_weights

__all__ = ["LinearModule", "ModularLinear", "aligned_weights", "layer_dims", "module_layout", "random_weights"]
