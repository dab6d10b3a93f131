"""Figure ``a-sine-loss`` end to end on a tiny preset: files, every panel, summary values."""

from __future__ import annotations

import json

import pytest

from modlab.figures import a_sine_loss, make_figure

TINY = dict(
    n_axis=[20, 40],
    task_seeds=1,
    net_seeds=2,
    random_m=[2],
    orthogonal_m=[4],
    orthogonal_dim=6,
    monolithic_hidden=[8, 8],
    module_hidden=[4, 4],
    steps=20,
    lr=1e-2,
    batch_size=16,
    n_test=50,
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_tiny_figure_writes_every_panel_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setitem(a_sine_loss.PRESETS, "quick", TINY)
    paths = make_figure("a-sine-loss", "quick", tmp_path, progress=False)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    data = json.loads(paths["json"].read_text())
    assert set(data["panels"]) == {"random_m2", "orthogonal_m4"}
    for panel in data["panels"].values():
        assert set(panel) == set(a_sine_loss.NETWORKS)
        for curve in panel.values():
            assert curve["n"] == [20, 40] and curve["runs"] == [2, 2]
            assert all(v > 0 for v in curve["id_mean"] + curve["ood_mean"])
    summary = data["summary"]["orthogonal_m4 monolithic"]
    assert summary["ood_over_id_at_max_n"] == pytest.approx(summary["ood_at_max_n"] / summary["id_at_max_n"])
    again = json.loads(make_figure("a-sine-loss", "quick", tmp_path, progress=False)["json"].read_text())
    assert again["panels"] == data["panels"]
