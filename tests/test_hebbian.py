import numpy as np
import pytest
import torch

from modlab.models.linear import LinearModule, ModularLinear, layer_dims, module_layout, random_weights
from modlab.rules.gradient_flow import Moments, train, train_reference
from modlab.rules.hebbian import RULES, local_terms
from modlab.tasks.dataset_space import DatasetSpaceConfig, make_dataset

DATA = make_dataset(DatasetSpaceConfig())
MOMENTS = Moments.of(DATA.x, DATA.y)


def dense(members=3, depth=2):
    gens = [torch.Generator().manual_seed(i) for i in range(members)]
    rows, cols = module_layout("dense", DATA.omega_x, DATA.gamma_x, DATA.omega_y, DATA.gamma_y)["dense"]
    return ModularLinear(
        {"dense": LinearModule(random_weights(layer_dims(27, 9, depth, 10), 0.05, gens), rows, cols)}, 9, 27
    )


def test_the_paper_settings():
    assert (RULES["hebbian"].nu, RULES["anti_hebbian"].nu) == (0.001, -0.001)
    assert (RULES["contrastive_hebbian"].gamma, RULES["predictive_coding"].gamma) == (1.0, -1.0)
    assert RULES["predictive_coding"].epochs == 3000 and local_terms(0, 0) is None


# A 2 × 2 example: 2 points (columns), 2 inputs, 2 hidden units, 2 outputs.
X2 = torch.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=torch.float64)
Y2 = torch.tensor([[1.0, 0.0], [-1.0, 3.0]], dtype=torch.float64)
W1 = torch.tensor([[0.3, -0.2], [0.1, 0.4]], dtype=torch.float64)
W2 = torch.tensor([[0.2, 0.5], [-0.3, 0.1]], dtype=torch.float64)


def one_step(gamma, nu, rate, *scaling):
    """One step of the batched trainer from (W1, W2) on the 2 × 2 example (default scaling unless given)."""
    part = LinearModule([W1[None].clone(), W2[None].clone()], torch.arange(2), torch.arange(2))
    net = ModularLinear({"dense": part}, 2, 2)
    train(net, Moments.of(X2, Y2), rate, 1, lambda w: w.flatten(1), extra=local_terms(gamma, nu, *scaling))
    return part.weights[0][0], part.weights[1][0]


def outer_sum(a, b):
    """Σ_p a_p b_pᵀ over the columns p, written as a loop over points."""
    return sum(torch.outer(a[:, p], b[:, p]) for p in range(a.shape[1]))


@pytest.mark.parametrize("gamma, nu", [(0.7, 0.0), (0.0, 0.3), (0.0, -0.3), (-1.0, 0.001)])
def test_one_step_follows_the_formula_with_batch_sums(gamma, nu):
    """W1 += (1/τ) W2ᵀ E + ν-term (sums over the batch, no 1/τ); W2 += (1/τ) (E W1ᵀ + γ (YYᵀ − ŶŶᵀ) W2)."""
    rate = 0.3
    h = W1 @ X2
    y_hat = W2 @ h
    error = (outer_sum(Y2, X2) - outer_sum(y_hat, X2)) / 2  # Σyx − W Σx, moments over the 2 points
    if nu > 0:
        nu_term = nu * (outer_sum(h, X2) - outer_sum(h, h) @ W1)
    else:
        nu_term = nu * torch.diag(1 / (1 - (W1**2).sum(1))) @ outer_sum(h, X2)
    expected_w1 = W1 + rate * W2.T @ error + nu_term
    expected_w2 = W2 + rate * (error @ W1.T + gamma * (outer_sum(Y2, Y2) - outer_sum(y_hat, y_hat)) @ W2)
    w1, w2 = one_step(gamma, nu, rate)
    assert torch.allclose(w1, expected_w1, atol=1e-14) and torch.allclose(w2, expected_w2, atol=1e-14)


def test_the_means_option_divides_by_the_batch_and_scales_both_terms_by_the_step():
    rate, gamma, nu = 0.3, 0.7, 0.2
    plain_w1, plain_w2 = one_step(0.0, 0.0, rate)
    w1, w2 = one_step(gamma, nu, rate, "means_times_rate")
    h = W1 @ X2
    y_hat = W2 @ h
    assert torch.allclose(w1 - plain_w1, rate * nu * (outer_sum(h, X2) - outer_sum(h, h) @ W1) / 2, atol=1e-14)
    assert torch.allclose(w2 - plain_w2, rate * gamma * (outer_sum(Y2, Y2) - outer_sum(y_hat, y_hat)) @ W2 / 2)
    with pytest.raises(ValueError, match="scaling = 'sums'"):
        local_terms(1.0, 0.0, "sums")


@pytest.mark.parametrize("scaling", ["batch_sums", "means_times_rate"])
@pytest.mark.parametrize("rule", ["hebbian", "anti_hebbian", "contrastive_hebbian", "predictive_coding"])
def test_batched_rules_equal_the_per_member_loop(rule, scaling):
    setting = RULES[rule]
    net = dense()
    extra = local_terms(setting.gamma, setting.nu, scaling)
    reference = train_reference(net, MOMENTS, 8 * setting.lr, 30, extra)
    curves = train(net, MOMENTS, 8 * setting.lr, 30, lambda w: w.flatten(1), record_every=30, extra=extra)
    assert np.allclose(curves[-1].numpy().reshape(3, 9, 27), reference, atol=1e-12)


def test_local_rules_need_two_layers():
    with pytest.raises(ValueError, match="depth 2"):
        local_terms(1.0, 0.0)([torch.zeros(9, 27)], MOMENTS, 0.1)
