import pytest
import torch

from modlab.models.linear import LinearModule, ModularLinear, aligned_weights, layer_dims, module_layout, random_weights
from modlab.tasks.dataset_space import DatasetSpaceConfig, make_dataset

DATA = make_dataset(DatasetSpaceConfig())
SETS = (DATA.omega_x, DATA.gamma_x, DATA.omega_y, DATA.gamma_y)


def gens(n, offset=0):
    return [torch.Generator().manual_seed(offset + i) for i in range(n)]


def network(architecture, depth=2, members=3):
    parts = {
        role: LinearModule(random_weights(layer_dims(len(c), len(r), depth, 7), 0.3, gens(members)), r, c)
        for role, (r, c) in module_layout(architecture, *SETS).items()
    }
    return ModularLinear(parts, 9, 27)


def test_layouts():
    dense = module_layout("dense", *SETS)
    assert list(dense) == ["dense"] and len(dense["dense"][0]) == 9 and len(dense["dense"][1]) == 27
    split = module_layout("split", *SETS)
    assert split["systematic"][0].tolist() == [0] and len(split["systematic"][1]) == 27
    seg = module_layout("segregated", *SETS)
    assert seg["systematic"][1].tolist() == [0, 1, 2] and len(seg["nonsystematic"][1]) == 27
    no_sys = make_dataset(DatasetSpaceConfig(n2=0))
    assert list(module_layout("split", no_sys.omega_x, no_sys.gamma_x, no_sys.omega_y, no_sys.gamma_y)) == [
        "nonsystematic"
    ]


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_dense_forward_is_the_product_of_its_layers(depth):
    net = network("dense", depth)
    weights = list(net.parts["dense"].weights)
    expected = weights[0]
    for w in weights[1:]:
        expected = w @ expected
    assert torch.allclose(net.total_map(), expected)
    assert net(DATA.x).shape == (3, 9, 8)
    assert torch.allclose(net(DATA.x)[1], expected[1] @ DATA.x)


def test_segregated_systematic_module_cannot_read_identity_inputs():
    total = network("segregated").total_map()
    assert torch.count_nonzero(total[:, DATA.omega_y][:, :, DATA.gamma_x]) == 0
    assert torch.count_nonzero(total[:, DATA.omega_y][:, :, DATA.omega_x]) > 0


def test_split_modules_write_disjoint_rows():
    net = network("split")
    total = net.total_map()
    assert torch.allclose(total[:, DATA.omega_y], net.parts["systematic"].product())
    assert torch.allclose(total[:, DATA.gamma_y], net.parts["nonsystematic"].product())


def test_random_weights_are_seeded_per_member():
    a = random_weights([4, 5, 2], 1.0, gens(2))
    b = random_weights([4, 5, 2], 1.0, gens(2))
    c = random_weights([4, 5, 2], 1.0, gens(1))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert torch.equal(a[0][0], c[0][0]) and not torch.equal(a[0][0], a[0][1])
    assert a[0].std().item() == pytest.approx(1.0, abs=0.4)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_aligned_weights_are_decoupled_and_balanced(depth):
    u, _ = torch.linalg.qr(torch.randn(9, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    v, _ = torch.linalg.qr(torch.randn(27, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    weights = aligned_weights(layer_dims(27, 9, depth, 6), u, v, 1e-3, gens(2))
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    assert torch.allclose(product, 1e-3 * (u @ v.T).expand(2, 9, 27))
    for lower, upper in zip(weights, weights[1:]):
        assert torch.allclose(lower @ lower.mT, upper.mT @ upper)
    with pytest.raises(ValueError, match="hidden width 3"):
        aligned_weights(layer_dims(27, 9, 2, 3), u, v, 1e-3, gens(1))
