"""Samples to target from seed-mean loss curves (with censoring and a bootstrap interval), and the
methods' sweep specs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from modlab.experiments.sine import SineConfig
from modlab.figures.sine_methods import METHODS, RULE_QUICK, SineNetworks, method_spec, samples_to_target

NETWORKS = SineNetworks(
    task_seeds=1, net_seeds=1, monolithic_hidden=(8,), module_hidden=(4,), n_test=10, steps=3, lr=1e-3, batch_size=8
)


def _table(curves: dict[int, tuple[float, ...]], n=(100, 1000, 10000)) -> pd.DataFrame:
    """Loss curves of task seeds 0, 1, … (network seed 0) over ``n``."""
    return pd.DataFrame(
        [
            {"task.seed": t, "seed": 0, "task.n_train": size, "metric": "test_nmse", "value": v}
            for t, curve in curves.items()
            for size, v in zip(n, curve)
        ]
    )


def test_the_estimate_comes_from_the_seed_mean_curve_not_from_the_survivors():
    """Pair 0 reaches 0.1 at n = 1000, pair 1 never does. The old survivor average said 1000 (from
    pair 0 alone); the mean curve (1.0, 0.3, 0.15) never reaches 0.1: censored, "> 10000"."""
    out = samples_to_target(_table({0: (1.0, 0.1, 0.05), 1: (1.0, 0.5, 0.25)}), "test_nmse", 0.1)
    assert out["censored"] == "right" and out["label"] == "> 10000" and math.isnan(out["n"])
    assert (out["pairs_reached"], out["pairs"]) == (1, 2)


def test_mean_curve_crossing_is_log_log_interpolated_with_a_bootstrap_interval():
    table = _table({0: (1.0, 0.02, 0.01), 1: (1.0, 0.02, 0.01), 2: (1.0, 0.5, 0.01)})
    out = samples_to_target(table, "test_nmse", 0.1)
    mean = np.array([1.0, 0.18, 0.01])
    frac = (np.log(mean[1]) - np.log(0.1)) / (np.log(mean[1]) - np.log(mean[2]))
    assert out["n"] == pytest.approx(np.exp(np.log(1000) + frac * np.log(10)))
    assert out["censored"] is None and out["pairs_reached"] == 3
    assert out["lo"] <= out["n"] <= out["hi"] and out["hi"] > out["lo"]
    identical = samples_to_target(_table({0: (1.0, 0.01, 0.001), 1: (1.0, 0.01, 0.001)}), "test_nmse", 0.1)
    assert identical["lo"] == identical["hi"] == pytest.approx(identical["n"])


def test_a_curve_below_the_target_at_the_smallest_n_is_left_censored():
    out = samples_to_target(_table({0: (0.05, 0.01, 0.001)}), "test_nmse", 0.1)
    assert out["censored"] == "left" and out["label"] == "≤ 100" and out["n"] == 100


def test_missing_points_are_refused():
    table = _table({0: (1.0, 0.1, 0.05), 1: (1.0, 0.5, 0.2)}).iloc[:-1]
    with pytest.raises(ValueError, match="every pair needs every n"):
        samples_to_target(table, "test_nmse", 0.1)


def test_every_method_is_a_valid_sine_sweep():
    preset = NETWORKS.replace(kernel_rule=RULE_QUICK)
    for method, (kind, init) in METHODS.items():
        [cfg] = method_spec("t", method, {"input_dim": 4, "n_modules": 2}, preset, {"seed": [0]}).configs()
        assert isinstance(cfg, SineConfig) and cfg.model.kind == kind and cfg.projection_init == init
