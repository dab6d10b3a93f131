"""Reading sample complexity off loss-vs-n curves, and the methods' sweep specs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from modlab.experiments.sine import SineConfig
from modlab.figures.sine_methods import METHODS, RULE_QUICK, crossing_n, method_spec, samples_needed


def test_crossing_is_log_log_interpolated_and_nan_when_never_reached():
    n = np.array([100.0, 1000.0])
    assert math.isclose(crossing_n(n, np.array([1.0, 0.01]), 0.1), math.sqrt(100 * 1000))
    assert crossing_n(n, np.array([0.05, 0.01]), 0.1) == 100.0
    assert math.isnan(crossing_n(n, np.array([1.0, 0.5]), 0.1))


def test_samples_needed_averages_each_seed_pairs_crossing():
    rows = [
        {"task.input_dim": 4, "task.seed": t, "seed": 0, "task.n_train": n, "metric": "test_nmse", "value": v}
        for t, curve in ((0, (1.0, 0.01)), (1, (1.0, 0.1)), (2, (1.0, 0.9)))
        for n, v in zip((100, 10000), curve)
    ]
    out = samples_needed(pd.DataFrame(rows), "test_nmse", 0.1, "task.input_dim").iloc[0]
    assert (out["reached"], out["pairs"]) == (2, 3)
    assert math.isclose(out["mean"], (1000 + 10000) / 2)


def test_every_method_is_a_valid_sine_sweep():
    preset = dict(
        monolithic_hidden=[8], module_hidden=[4], n_test=10, steps=3, lr=1e-3, batch_size=8, kernel_rule=RULE_QUICK
    )
    for method, (kind, init) in METHODS.items():
        [cfg] = method_spec("t", method, {"input_dim": 4, "n_modules": 2}, preset, {"seed": [0]}).configs()
        assert isinstance(cfg, SineConfig) and cfg.model.kind == kind and cfg.projection_init == init
