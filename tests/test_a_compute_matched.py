"""Figure a-compute-matched on a tiny preset: the kernel rule's curve starts at its search cost."""

from __future__ import annotations

import json

import pytest

from modlab.figures import make_figure
from modlab.figures.a_compute_matched import ComputeMatchedPreset

TINY = ComputeMatchedPreset(
    m=4,
    n=64,
    task_seeds=2,
    net_seeds=1,
    module_hidden=(8,),
    monolithic_hidden=(8,),
    steps=20,
    eval_every=10,
    lr=3e-3,
    batch_size=32,
    n_test=50,
    kernel_rule=dict(kernel="rbf", steps=4, batch_size=32, joint_restarts=2, eval_size=64),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_search_flops_shift_the_kernel_rule_curves(tmp_path):
    data = json.loads(make_figure("a-compute-matched", TINY, tmp_path, progress=False)["json"].read_text())
    curves = data["curves"]
    assert curves["monolithic"]["search_flops"] == 0 and curves["modular, plain GD"]["search_flops"] == 0
    for rule in ("kernel rule (joint)", "kernel rule (per-module, Alg. 1)"):
        search = curves[rule]["search_flops"]
        assert search > 0 and curves[rule]["flops"][0] == search  # step 0: the search alone
    assert data["summary"]["budget_flops"] == min(c["flops"][-1] for c in curves.values())
