"""Figure a-sample-complexity: the tiny preset writes every panel and the censoring it needs; the
quick preset tests the figure's claims — monolithic sample complexity grows with m, modules given
the true projections need a number of samples flat in m (the theory's claim), and the kernel rule
needs fewer samples than the monolithic and plain-GD modular networks, ID and OOD (the paper's)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modlab.figures import a_sample_complexity, make_figure
from modlab.figures.a_sample_complexity import SampleComplexityPreset

TINY = SampleComplexityPreset(
    m_axis=(3, 4),
    n_axis=(32, 64),
    task_seeds=2,
    net_seeds=1,
    monolithic_hidden=(8,),
    module_hidden=(8,),
    steps=20,
    lr=3e-3,
    batch_size=32,
    n_test=50,
    target_id=0.5,
    target_ood=0.8,
    n_boot=20,
    kernel_rule=dict(kernel="rbf", steps=4, batch_size=32, joint_restarts=2, eval_size=64),
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_preset_writes_every_method_with_censoring_and_pair_counts(tmp_path):
    data = json.loads(make_figure("a-sample-complexity", TINY, tmp_path, progress=False)["json"].read_text())
    assert data["preset"] == "custom" and data["preset_settings"]["m_axis"] == [3, 4]
    assert set(data["sample_complexity"]) == set(a_sample_complexity.METHODS)
    for method, splits in data["sample_complexity"].items():
        for split in ("id", "ood"):
            points = splits[split]
            assert points["m"] == [3, 4] and points["pairs"] == [2, 2]
            for n, censored, label in zip(points["n"], points["censored"], points["label"]):
                assert censored in (None, "left", "right")
                assert (n is None) == (censored == "right") and (label == "> 64") == (censored == "right")
        assert data["loss_vs_n"][method]["id"]["n"] == [32, 64]
    assert "kernel rule fewer than monolithic id" in data["summary"]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The quick preset's samples to target (ID and OOD), as the figure computes them."""
    out = tmp_path_factory.mktemp("sc")
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    data = json.loads(make_figure("a-sample-complexity", "quick", out, progress=False)["json"].read_text())
    torch.set_num_threads(before)
    return data


def _samples(data, method, split):
    """Samples to target per m: right-censored points as inf, left-censored ones at n_min (an upper bound)."""
    points = data["sample_complexity"][method][split]
    return np.array([np.inf if c == "right" else n for n, c in zip(points["n"], points["censored"])])


def test_monolithic_sample_complexity_grows_with_m(quick):
    """Measured (quick, ID): 336 / 219 / 2786 at m = 4 / 8 / 16."""
    mono = _samples(quick, "monolithic", "id")
    assert mono[-1] > 2 * mono[0], mono


def test_true_projections_need_samples_flat_in_m(quick):
    """The theory's claim for modules that read the right projections: independent of m (here:
    within a factor 2 over m = 4 … 16, while the monolithic network's grows ×8). Measured (quick, ID):
    100 / ≤ 64 / 110; a left-censored point counts as n_min, so this spread is 110 / 64."""
    true = _samples(quick, "modular (true projections)", "id")
    assert np.isfinite(true).all() and true.max() / true.min() <= 2, true


@pytest.mark.parametrize("split", ["id", "ood"])
@pytest.mark.parametrize("other", ["monolithic", "modular, plain GD"])
def test_kernel_rule_needs_fewer_samples(quick, split, other):
    """The paper's claim, on the point estimates. Measured (quick, m = 4 / 8 / 16): ID joint 138 / 124 / 860,
    monolithic 336 / 219 / 2786, plain GD 177 / 608 / 986; OOD joint 224 / 121 / 683, monolithic
    844 / 228 / > 4096, plain GD 386 / 465 / 729. At m = 4 and 16 ID the bootstrap intervals of joint and
    plain GD overlap (124–147 vs 132–231; 410–1239 vs 397–1335): the ordering is there, its margin is
    within seed noise at this preset."""
    rule, baseline = _samples(quick, "kernel rule (joint)", split), _samples(quick, other, split)
    assert np.all(rule < baseline), (rule, baseline)
