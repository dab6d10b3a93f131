"""Figure a-projections on a tiny preset: files, heat-maps and the overlap summaries it must carry."""

from __future__ import annotations

import json

import pytest

from modlab.figures import a_projections, make_figure

TINY = dict(
    m=4,
    n=64,
    task_seeds=2,
    net_seeds=1,
    module_hidden=[8],
    monolithic_hidden=[8],
    steps=20,
    lr=3e-3,
    batch_size=32,
    n_test=50,
    eval_every=10,
    kernel_rule=dict(kernel="rbf", steps=4, batch_size=32, joint_restarts=2, eval_size=64, record_every=2),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_preset_writes_heat_maps_curves_and_summaries(tmp_path, monkeypatch):
    monkeypatch.setitem(a_projections.PRESETS, "quick", TINY)
    paths = make_figure("a-projections", "quick", tmp_path, progress=False)
    data = json.loads(paths["json"].read_text())
    assert paths["png"].stat().st_size > 0 and paths["pdf"].exists()
    for key in (
        "mean_overlap_kernel_rule",
        "mean_overlap_kernel_rule_per_module",
        "mean_overlap_plain_gd",
        "mean_overlap_kernel_rule_module_kernel",
        "mean_overlap_kernel_rule_after_search",
    ):
        assert 0 <= data[key] <= 1 + 1e-9, key
    assert all(len(matrix) == 3 for matrix in data["matrices"].values())
    joint = data["curves"]["kernel rule (joint)"]
    assert joint["search"]["step"] == pytest.approx([0, 2, 4]) and joint["training"]["iteration"][0] == pytest.approx(4)
