"""Sine's kernel-rule runs search as one computation per batch: each run's search gives, bit for bit
on the CPU, what it gives alone and under the ``loop`` engine (one run at a time); the trained
networks then agree to rounding (training batches members of other sizes)."""

from __future__ import annotations

import pytest
import torch
from test_sine_experiment import RULE_TINY, tiny

from modlab.experiments.sine import run_batch
from modlab.train.engine import engine_choice

pytestmark = pytest.mark.usefixtures("one_thread")

SEARCHED = ("search_objective", "search_overlap_curve")
TRAINED = ("projection_overlap", "test_mse")


def test_a_batch_of_kernel_rule_runs_equals_each_run_alone():
    configs = [tiny(projection_init="kernel_rule", kernel_rule=RULE_TINY, seed=s) for s in (0, 1, 2)]
    together = run_batch(configs, torch.device("cpu"))
    with engine_choice("loop"):
        one_by_one = run_batch(configs, torch.device("cpu"))
    alone = [run_batch([cfg], torch.device("cpu"))[0] for cfg in configs]
    for batched, looped, single in zip(together, one_by_one, alone):
        for name in SEARCHED:  # on the CPU a run's restarts are evaluated together, never with another run's
            assert batched[name] == single[name] == looped[name], name
        for name in TRAINED:  # training batches members of another size: allclose
            torch.testing.assert_close(torch.tensor(batched[name]), torch.tensor(single[name]), atol=1e-5, rtol=1e-4)
    assert together[0]["search_objective"] != together[1]["search_objective"]
