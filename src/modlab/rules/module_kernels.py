"""The kernels of single modules on their projected inputs (docs/scaling.md §4), batched over modules.

A module ``g_j`` linearised around its initial weights θ⁰ is the linear model
``g_j(z; θ⁰) + ∇_θ g_j(z; θ⁰)·(θ − θ⁰)``, so its kernel is the empirical neural tangent kernel
``k_j(z, z') = ∇_θ g_j(z)·∇_θ g_j(z')`` at θ⁰. For a ReLU MLP (layers ``a_l = W_l h_{l−1} + b_l``,
``h_l = relu(a_l)``, ``h_0 = z``, scalar output ``a_L``) back-propagation gives it in closed form:
with ``δ_L = 1`` and ``δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ 1[a_l > 0]``,

    k(z, z') = Σ_l (δ_l(z)·δ_l(z')) (h_{l−1}(z)·h_{l−1}(z') + 1)

(the ``+1`` is the bias). :func:`ntk_kernels` computes this with matmuls over every leading
dimension, differentiably in ``z`` (the ReLU masks are piecewise constant, so this is the gradient
almost everywhere); :func:`ntk_kernel_reference` is the plain ``torch.func.jacrev`` Jacobian of an
``nn.Module`` it is tested against. :func:`rbf_kernels` is the (modlab) alternative: a Gaussian
kernel whose bandwidth σ is the median pairwise distance of the batch (held fixed in the gradient).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, jacrev

Layers = Sequence[tuple[torch.Tensor, torch.Tensor]]


def ntk_kernels(z: torch.Tensor, layers: Layers) -> torch.Tensor:
    """Empirical NTK of ReLU MLPs with scalar output, one per leading index.

    Shapes: z (*lead, n, b); layers ``[(W_l (*lead, out_l, in_l), bias_l (*lead, out_l))]`` with
    ``in_1 = b`` and ``out_L = 1`` (leading dimensions broadcast) → (*lead, n, n).
    """
    if layers[-1][0].shape[-2] != 1:
        raise ValueError(f"module output width {layers[-1][0].shape[-2]}: the module kernel needs a scalar output")
    inputs = [z]
    masks = []
    for weight, bias in layers[:-1]:
        pre = inputs[-1] @ weight.mT + bias.unsqueeze(-2)
        masks.append((pre > 0).to(z.dtype))
        inputs.append(torch.relu(pre))
    delta = torch.ones(*z.shape[:-1], 1, dtype=z.dtype, device=z.device)
    kernel = _layer_term(delta, inputs[-1])
    for (weight, _), mask, h_in in zip(reversed(layers[1:]), reversed(masks), reversed(inputs[:-1])):
        delta = (delta @ weight) * mask
        kernel = kernel + _layer_term(delta, h_in)
    return kernel


def _layer_term(delta: torch.Tensor, h_in: torch.Tensor) -> torch.Tensor:
    """One layer's share ``(ΔΔᵀ) ⊙ (HHᵀ + 1)``: delta (*lead, n, out), h_in (*lead, n, in) → (*lead, n, n)."""
    return (delta @ delta.mT) * (h_in @ h_in.mT + 1)


def ntk_kernel_reference(module: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """The plain empirical NTK ``J Jᵀ`` of a scalar-output module from its full parameter Jacobian
    (``torch.func.jacrev``). z (n, b) → (n, n)."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    jac = jacrev(lambda p: functional_call(module, p, (z,)).reshape(-1))(params)
    flat = torch.cat([j.reshape(z.shape[0], -1) for j in jac.values()], dim=1)
    return flat @ flat.T


def rbf_kernels(z: torch.Tensor) -> torch.Tensor:
    """Gaussian kernels ``exp(−‖z − z'‖² / 2σ²)``, σ² the median squared pairwise distance of each
    batch (detached), estimated from the n − 1 consecutive pairs ``(z_a, z_{a+1})`` of the batch
    (the points come in random order) rather than all n² pairs. z (*lead, n, b) → (*lead, n, n).

    Computed as ``e^{−‖z‖²/2σ²} e^{z·z'/σ²} e^{−‖z'‖²/2σ²}``: one batched matmul and one n × n
    exponential, so few n × n temporaries (the batched search is memory-bound on a CPU)."""
    consecutive = ((z[..., 1:, :] - z[..., :-1, :]) ** 2).sum(-1).detach()
    bandwidth_sq = consecutive.median(dim=-1).values.clamp_min(torch.finfo(z.dtype).tiny)
    scaled = z / bandwidth_sq.sqrt()[..., None, None]
    edge = torch.exp(-(scaled * scaled).sum(-1) / 2)
    return torch.exp(scaled @ scaled.mT) * edge.unsqueeze(-1) * edge.unsqueeze(-2)


def stack_module_layers(blocks: Sequence[nn.Module] | nn.ModuleList) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (weight, bias) of every ``nn.Linear`` of each block, stacked over blocks (detached):
    ``[(W_l (K̂, out_l, in_l), bias_l (K̂, out_l))]``. All blocks must share one architecture."""
    per_block = [
        [(m.weight.detach(), m.bias.detach()) for m in b.modules() if isinstance(m, nn.Linear)] for b in blocks
    ]
    return [
        (torch.stack([p[i][0] for p in per_block]), torch.stack([p[i][1] for p in per_block]))
        for i in range(len(per_block[0]))
    ]


def ntk_matmul_flops(n: int, widths: Sequence[int]) -> float:
    """Matmul FLOPs of :func:`ntk_kernels` for one module on n points, widths ``(b̂, h_1, …, 1)``
    (2 per multiply-add, as ``torch.utils.flop_counter`` counts them): the forward pass through every
    layer but the last and the delta pass back through every layer but the first (2 per weight per
    point each), and the two n × n Gram matrices of every layer (``2n²·in`` and ``2n²·out``)."""
    weights = [a * c for a, c in zip(widths[:-1], widths[1:])]
    grams = sum(2 * n * n * (a + c) for a, c in zip(widths[:-1], widths[1:]))
    return 2.0 * n * (sum(weights[:-1]) + sum(weights[1:])) + grams


def ntk_flops(n: int, widths: Sequence[int]) -> float:
    """Forward FLOPs of :func:`ntk_kernels`: its matmuls plus the elementwise work — bias, ReLU and
    mask per hidden unit per point (3 each in the forward pass, 1 in the delta pass) and, per
    layer, the ``+1``, the product and the accumulation of the n × n terms (3n²)."""
    hidden = sum(widths[1:-1])
    return ntk_matmul_flops(n, widths) + 4.0 * n * hidden + 3.0 * n * n * (len(widths) - 1)


def rbf_matmul_flops(n: int, module_dim: int) -> float:
    """Matmul FLOPs of :func:`rbf_kernels` on n points of dimension b̂: the Gram matrix, 2n²b̂."""
    return 2.0 * n * n * module_dim


def rbf_flops(n: int, module_dim: int) -> float:
    """Forward FLOPs of :func:`rbf_kernels`: the Gram matrix plus the elementwise work — the
    bandwidth (consecutive differences, squares, sums: 3nb̂), the scaling and the edge factors
    (3nb̂ + n) and, on the n × n matrix, one exponential and two products (3n², an exponential
    counted as one FLOP). The median's selection is not counted."""
    return rbf_matmul_flops(n, module_dim) + 6.0 * n * module_dim + n + 3.0 * n * n
