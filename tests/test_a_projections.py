"""Figure a-projections: a tiny preset writes the heat-maps, curves, overlap summaries (cos²) and the
per-module objective at the true and the found directions; a small preset tests its claim that the
joint kernel rule finds the true directions where plain GD does not. (Why Algorithm 1 misses them —
its objective is lower at the mixed direction than at every true one — is tested in
test_kernel_rule.py, at a search long enough to converge; this small preset's 100-step search is not:
there the found directions beat the true ones in 1 of 2 runs.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from modlab.figures import make_figure
from modlab.figures.a_projections import ProjectionsPreset

TINY = ProjectionsPreset(
    m=4,
    n=64,
    task_seeds=2,
    net_seeds=1,
    module_hidden=(8,),
    monolithic_hidden=(8,),
    steps=20,
    lr=3e-3,
    batch_size=32,
    n_test=50,
    eval_every=10,
    kernel_rule=dict(kernel="rbf", steps=4, batch_size=32, joint_restarts=2, eval_size=64, record_every=2),
)
SMALL = TINY.replace(
    m=6,
    n=768,
    module_hidden=(16,),
    monolithic_hidden=(16,),
    steps=100,
    batch_size=64,
    n_test=200,
    eval_every=50,
    kernel_rule=dict(kernel="rbf", steps=100, batch_size=256, joint_restarts=3, eval_size=512, record_every=10),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_preset_writes_heat_maps_curves_and_summaries(tmp_path):
    paths = make_figure("a-projections", TINY, tmp_path, progress=False)
    data = json.loads(paths["json"].read_text())
    assert paths["png"].stat().st_size > 0 and paths["pdf"].exists()
    for key in (
        "mean_overlap_kernel_rule",
        "mean_overlap_kernel_rule_per_module",
        "mean_overlap_plain_gd",
        "mean_overlap_kernel_rule_module_kernel",
        "mean_overlap_kernel_rule_after_search",
    ):
        assert 0 <= data[key] <= 1 + 1e-9, key  # a range check, not a claim
    assert all(len(matrix) == 3 for matrix in data["matrices"].values())
    joint = data["curves"]["kernel rule (joint)"]
    assert joint["search"]["step"] == pytest.approx([0, 2, 4]) and joint["training"]["iteration"][0] == pytest.approx(4)
    objectives = data["module_objectives"]
    assert np.shape(objectives["true"]) == (2, 3) and np.shape(objectives["found"]) == (2, 3)
    assert data["summary"]["overlap_unit"] == "cos²"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    out = make_figure("a-projections", SMALL, tmp_path_factory.mktemp("proj"), progress=False)
    torch.set_num_threads(before)
    return json.loads(out["json"].read_text())


def test_joint_rule_finds_the_directions_plain_gd_does_not(small):
    """Measured at this preset: joint 0.985, plain GD 0.51 (cos², mean of 2 task draws)."""
    assert small["mean_overlap_kernel_rule"] > 0.9 > small["mean_overlap_plain_gd"] + 0.1, small["summary"]
