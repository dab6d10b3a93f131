"""Figure a-module-mismatch on a tiny preset: one point per K̂ for each method and metric."""

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
            assert all(v >= 0 for v in data["panels"][method][metric]["mean"])
