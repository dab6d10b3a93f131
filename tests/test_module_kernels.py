"""Module kernels: the closed-form empirical NTK equals the jacrev Jacobian's, RBF is a proper kernel;
their matmul FLOP counts equal torch's own counter."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from modlab.models import MLP
from modlab.rules.module_kernels import (
    ntk_flops,
    ntk_kernel_reference,
    ntk_kernels,
    ntk_matmul_flops,
    rbf_flops,
    rbf_kernels,
    rbf_matmul_flops,
    stack_module_layers,
)


def test_batched_closed_form_ntk_equals_the_jacobian_of_each_module():
    blocks = [MLP(2, [16, 8], 1, torch.Generator().manual_seed(j)).double() for j in range(3)]
    z = torch.randn(3, 25, 2, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    batched = ntk_kernels(z, stack_module_layers(blocks))
    for j, block in enumerate(blocks):
        assert torch.allclose(batched[j], ntk_kernel_reference(block, z[j]), atol=1e-10)


def test_ntk_is_differentiable_in_the_inputs():
    block = MLP(1, [8], 1, torch.Generator().manual_seed(0)).double()
    z = torch.randn(10, 1, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda v: ntk_kernels(v, stack_module_layers([block]))[0].sum(), (z.unsqueeze(0),))


def test_rbf_kernel_has_unit_diagonal_and_median_bandwidth():
    z = torch.randn(2, 41, 3, generator=torch.Generator().manual_seed(1))
    kernel = rbf_kernels(z)
    assert torch.allclose(kernel.diagonal(dim1=-2, dim2=-1), torch.ones(2, 41))
    assert torch.allclose(kernel, kernel.mT)
    consecutive = ((z[:, 1:] - z[:, :-1]) ** 2).sum(-1)
    # the consecutive pair at the median distance has kernel value exp(−1/2)
    at_median = consecutive.median(-1)
    pair = kernel[0, at_median.indices[0], at_median.indices[0] + 1]
    assert torch.isclose(pair, torch.exp(torch.tensor(-0.5)), atol=1e-5)
    assert torch.linalg.eigvalsh(kernel.double()).min() > -1e-6


def _counted_flops(fn) -> int:
    """The matmul FLOPs torch's own counter sees while ``fn`` runs (it counts 0 for elementwise work)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def test_kernel_matmul_flops_equal_torchs_count():
    widths = (2, 5, 3, 1)
    gen = torch.Generator().manual_seed(0)
    layers = [
        (torch.randn(o, i, generator=gen), torch.randn(o, generator=gen)) for i, o in zip(widths[:-1], widths[1:])
    ]
    for n in (7, 30):
        z = torch.randn(n, 2, generator=gen)
        assert _counted_flops(lambda z=z: ntk_kernels(z, layers)) == ntk_matmul_flops(n, widths)
        assert _counted_flops(lambda z=z: rbf_kernels(z)) == rbf_matmul_flops(n, 2)
    assert ntk_flops(30, widths) > ntk_matmul_flops(30, widths) and rbf_flops(30, 2) > rbf_matmul_flops(30, 2)
