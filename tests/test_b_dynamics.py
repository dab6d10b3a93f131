import json

import pytest

from modlab.figures import make_figure
from modlab.figures.b_dynamics import DynamicsPreset, plot_setting

TINY = DynamicsPreset(seeds=4)


@pytest.mark.parametrize("name", ["b-dense", "b-split", "b-segregated", "b-shallow"])
def test_dynamics_figures_agree_with_theory(name, tmp_path):
    paths = make_figure(name, TINY, tmp_path, progress=False)
    assert paths["png"].stat().st_size > 10_000 and paths["pdf"].exists()
    data = json.loads(paths["json"].read_text())
    assert data["preset"] == "custom" and data["preset_settings"] == {"seeds": 4}
    summary = data["summary"]
    assert summary["max_rel_error"] <= 0.03 and summary["modes_not_reached"] == []
    assert set(data["max_rel_error_per_mode"]) == set(data["modes"])
    assert ("t = 0" if name == "b-shallow" else "half-rise") in data["u0"]
    final = data["final_quadrants"]
    for q in final.values():
        assert q["sim"] == pytest.approx(q["theory"], abs=5e-3)
    if name == "b-segregated":
        assert summary["systematicity"] == pytest.approx(1.0) and final["oy_gx"]["sim"] < 1e-12
    else:
        assert summary["systematicity"] == pytest.approx(8 / 11, abs=5e-3) and final["oy_gx"]["sim"] > 0.4
        assert summary["systematic_share_dense_theory"] == pytest.approx(8 / 11)


def test_presets_are_typed_and_differ_in_seeds():
    from modlab.figures.registry import FIGURES

    presets = FIGURES["b-dense"].presets
    assert [presets[p].seeds for p in ("quick", "full", "paper")] == [20, 50, 100]


def test_plot_setting_draws_any_point(tmp_path):
    paths = plot_setting(
        {"task": {"n1": 2, "n2": 2, "k1": 1, "k2": 2, "r": 1.5}, "architecture": "split", "init_scale": 0.002},
        tmp_path,
        seeds=3,
    )
    data = json.loads(paths["json"].read_text())
    assert data["figure"] == "b-custom" and data["setting"]["task"]["n1"] == 2
    assert data["max_rel_error"] <= 0.03 and paths["png"].exists()


def test_plot_setting_refuses_settings_without_theory(tmp_path):
    with pytest.raises(ValueError, match="mode theory"):
        plot_setting({"task": {"n_train": 3}}, tmp_path, seeds=2)
