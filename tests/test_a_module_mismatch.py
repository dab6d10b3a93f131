"""Figure a-module-mismatch: a tiny preset has one point per K̂ for each method and metric; a small
preset tests its claim."""

from __future__ import annotations

import json

import pytest

from modlab.figures import a_module_mismatch, make_figure
from modlab.figures.a_module_mismatch import MismatchPreset

TINY = MismatchPreset(
    m=4,
    k=2,
    k_hat=(1, 2, 4),
    n=64,
    task_seeds=2,
    net_seeds=1,
    module_hidden=(8,),
    monolithic_hidden=(8,),
    steps=20,
    lr=3e-3,
    batch_size=32,
    n_test=50,
    kernel_rule=dict(kernel="rbf", steps=4, batch_size=32, joint_restarts=2, eval_size=64),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_preset_has_every_k_hat(tmp_path):
    data = json.loads(make_figure("a-module-mismatch", TINY, tmp_path, progress=False)["json"].read_text())
    for method in a_module_mismatch.METHODS:
        for metric, _ in a_module_mismatch.PANELS:
            assert data["panels"][method][metric]["k_hat"] == [1, 2, 4]
            assert all(v >= 0 for v in data["panels"][method][metric]["mean"])  # a range check, not a claim


SMALL = MismatchPreset(
    m=6,
    k=2,
    k_hat=(1, 2, 4),
    n=256,
    task_seeds=2,
    net_seeds=1,
    module_hidden=(16,),
    monolithic_hidden=(16,),
    steps=200,
    lr=3e-3,
    batch_size=64,
    n_test=200,
    kernel_rule=dict(kernel="rbf", steps=30, batch_size=128, joint_restarts=2, eval_size=256),
)


def test_joint_rule_needs_at_least_k_modules_and_spare_ones_do_no_harm(tmp_path):
    """The figure's claim: with K̂ < K modules the joint rule cannot read every true direction (one
    module serves at most one: mean overlap ≤ (1 + cos²)/2), with K̂ = K it reads them all and spare
    modules (K̂ = 2K) keep them. Measured at this preset (K = 2; K̂ = 1 / 2 / 4): overlap (cos²)
    0.48 / 0.998 / 0.993, ID test MSE / Var(y) 0.54 / 0.038 / 0.079."""
    panels = json.loads(make_figure("a-module-mismatch", SMALL, tmp_path, progress=False)["json"].read_text())["panels"]
    overlap = panels["kernel rule (joint)"]["projection_overlap"]["mean"]
    loss = panels["kernel rule (joint)"]["test_nmse"]["mean"]
    assert overlap[0] < 0.75 and overlap[1] > 0.9 and overlap[2] > 0.9, overlap
    assert loss[1] < loss[0] / 5 and loss[2] < loss[0] / 5, loss
