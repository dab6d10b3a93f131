"""Experiment compositional-mnist: paper B's claim on the offline digits variant, and bad configs."""

import numpy as np
import pytest
import torch

from modlab.errors import ConfigError
from modlab.experiments.compositional_mnist import CMNISTConfig, build_data, run_batch, train_members

pytestmark = pytest.mark.usefixtures("one_thread")


def test_split_network_generalises_compositionally_better_than_dense():
    """Paper B: the split network's compositional test error is below the dense network's
    (Adam: plain SGD at the paper's rate learns nothing at this small scale; 2 seeds, 30 epochs)."""
    finals = {}
    for arch in ("dense", "split"):
        configs = [
            CMNISTConfig(source="digits", architecture=arch, optimizer="adam", lr=1e-3, epochs=30, seed=s)
            for s in range(2)
        ]
        finals[arch] = np.mean([m["final_test_compositional_error"] for m in run_batch(configs, torch.device("cpu"))])
    assert finals["split"] < finals["dense"] - 0.03, finals


def test_ensemble_equals_the_per_model_loop_and_starts_at_chance():
    """vmap over seeds = the plain loop; at init (outputs ≈ 0) both normalised errors are ≈ 1."""
    configs = [
        CMNISTConfig(
            source="digits",
            architecture="split",
            channels=4,
            epochs=2,
            max_train_images=60,
            max_test_images=30,
            optimizer="adam",
            lr=1e-3,
            seed=s,
        )
        for s in range(2)
    ]
    data = build_data(configs[0])
    batched = train_members(configs, data, torch.device("cpu"), method="vmap")
    loop = train_members(configs, data, torch.device("cpu"), method="loop")
    for fast, plain in zip(batched, loop):
        for name in ("train_compositional_error", "test_non_compositional_error"):
            assert fast[name].x == plain[name].x == (0, 1, 2) and fast[name].x_name == "epoch"
            assert np.allclose(fast[name].y, plain[name].y, rtol=1e-4, atol=1e-6)
        assert fast["test_compositional_error"].y[0] == pytest.approx(1.0, abs=0.05)
        assert fast["test_non_compositional_error"].y[0] == pytest.approx(1.0, abs=0.05)
    assert batched[0]["train_compositional_error"].y != batched[1]["train_compositional_error"].y


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(architecture="split", channels=31), "channels = 31"),
        (dict(max_train_images=2), "max_train_images = 2"),
        (dict(optimizer="rmsprop"), "optimizer"),
    ],
)
def test_bad_configs_are_one_line_errors(fields, words):
    with pytest.raises(ConfigError, match=words) as err:
        CMNISTConfig.parse(fields)
    assert "\n" not in str(err.value)
