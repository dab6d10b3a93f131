"""Ensemble training: the batched paths equal the per-model loop, members are independent,
early stopping and curves behave as documented."""

from __future__ import annotations

import pytest
import torch

from modlab.errors import ConfigError
from modlab.models import MLP, ModularMLP
from modlab.train.ensemble import TrainSettings, pad_members, split_validation, train_ensemble

S = 4


pytestmark = pytest.mark.usefixtures("one_thread")


def members(kind: str, count: int = S, first_seed: int = 0):
    gens = [torch.Generator().manual_seed(first_seed + i) for i in range(count)]
    if kind == "mlp":
        return [MLP(5, (12, 12), 1, g) for g in gens]
    return [ModularMLP(5, 2, 2, (6, 6), read_all=kind == "moe", generator=g) for g in gens]


def data(count: int = S, first: int = 0):
    gen = torch.Generator().manual_seed(99)
    xs = [torch.randn(30 + 7 * i, 5, generator=gen) for i in range(first + count)][first:]
    ys = [x[:, 0].sin() + x[:, 1] * x[:, 2] for x in xs]
    return xs, ys


def order_generators(count: int = S, first_seed: int = 0):
    return [torch.Generator().manual_seed(1000 + first_seed + i) for i in range(count)]


SETTINGS = {
    "adam-minibatch-early-stop": TrainSettings(
        steps=60, batch_size=16, lr=2e-2, val_fraction=0.25, patience=2, eval_every=10
    ),
    "sgd-momentum-full-batch": TrainSettings(
        optimizer="sgd", momentum=0.9, steps=40, batch_size=0, lr=2e-2, eval_every=10
    ),
}


@pytest.mark.parametrize("kind", ["mlp", "modular", "moe"])
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_batched_and_vmap_equal_the_per_model_loop(kind, setting):
    xs, ys = data()
    test = ([torch.randn(20, 5) for _ in range(S)], [torch.randn(20) for _ in range(S)])
    lrs = [SETTINGS[setting].lr * (1 + i / 4) for i in range(S)]
    results = {
        method: train_ensemble(
            members(kind),
            xs,
            ys,
            SETTINGS[setting],
            order_generators(),
            lrs=lrs,
            eval_sets={"test": test},
            method=method,
        )
        for method in ("loop", "batched", "vmap")
    }
    reference = results["loop"]
    for method in ("batched", "vmap"):
        for name, value in reference.params.items():
            torch.testing.assert_close(results[method].params[name], value, atol=1e-5, rtol=1e-4)
        for name, curve in reference.curves.items():
            torch.testing.assert_close(results[method].curves[name], curve, atol=1e-5, rtol=1e-4)
        assert torch.equal(results[method].stopped_at, reference.stopped_at)
    assert set(reference.curves) == {"train", "test"} | ({"val"} if SETTINGS[setting].val_fraction else set())


def test_a_member_does_not_depend_on_the_others():
    """Member 2 of a 4-member ensemble equals the same member trained alone."""
    settings = SETTINGS["adam-minibatch-early-stop"]
    xs, ys = data()
    together = train_ensemble(members("modular"), xs, ys, settings, order_generators())
    alone = train_ensemble(members("modular", 1, 2), *data(1, 2), settings, order_generators(1, 2))
    for name, value in alone.params.items():
        torch.testing.assert_close(together.params[name][2], value[0], atol=1e-5, rtol=1e-4)


def test_training_reduces_loss_and_predict_matches_members():
    xs, ys = data()
    result = train_ensemble(
        members("mlp"), xs, ys, TrainSettings(steps=150, batch_size=0, lr=1e-2, eval_every=50), order_generators()
    )
    assert (result.curves["train"][:, -1] < 0.5 * result.curves["train"][:, 0]).all()
    assert result.eval_steps == [0, 50, 100, 150]
    x = torch.randn(S, 9, 5)
    pred = result.predict(x)
    for i in range(S):
        torch.testing.assert_close(pred[i], result.member(i)(x[i]))


def test_early_stopping_freezes_curves_and_keeps_best_validation_params():
    settings = TrainSettings(steps=400, batch_size=8, lr=0.2, val_fraction=0.3, patience=1, eval_every=5)
    xs, ys = data()
    result = train_ensemble(members("mlp"), xs, ys, settings, order_generators())
    assert (result.stopped_at < 400).all()
    val = result.curves["val"]
    for i in range(S):
        after = [j for j, step in enumerate(result.eval_steps) if step >= result.stopped_at[i]]
        assert torch.all(val[i, after] == val[i, after[0]])
    _, (vx, vy) = split_validation(xs, ys, 0.3)
    held_out = pad_members(vx, vy, torch.device("cpu"))
    best = ((result.predict(held_out.x).squeeze(-1) - held_out.y) ** 2 * held_out.weights).sum(-1)
    torch.testing.assert_close(best, val.min(1).values, atol=1e-5, rtol=1e-4)


def test_bad_settings_and_inputs():
    with pytest.raises(ConfigError, match="patience = 3"):
        TrainSettings.parse({"patience": 3})
    with pytest.raises(ConfigError, match="optimizer"):
        TrainSettings.parse({"optimizer": "lbfgs"})
    xs, ys = data()
    with pytest.raises(ValueError, match="generators"):
        train_ensemble(members("mlp"), xs, ys, TrainSettings(steps=1), order_generators(S - 1))
    with pytest.raises(ValueError, match="stacked_forward"):
        train_ensemble(
            [torch.nn.Linear(5, 1) for _ in range(S)],
            xs,
            ys,
            TrainSettings(steps=1),
            order_generators(),
            method="batched",
        )


def test_vmap_trains_any_module():
    xs, ys = data()
    linear = [torch.nn.Linear(5, 1) for _ in range(S)]
    result = train_ensemble(linear, xs, ys, TrainSettings(steps=5, batch_size=0), order_generators())
    assert result.params["weight"].shape == (S, 1, 5)
