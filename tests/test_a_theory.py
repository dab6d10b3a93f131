"""Figure ``a-theory`` at a tiny preset: files, agreement of every simulated point with the closed
form, the identities named as such, and the sample-complexity reading."""

import json

import numpy as np
import pytest

from modlab.errors import ConfigError
from modlab.figures import make_figure
from modlab.figures.a_theory import PRESETS, ATheorySettings

TINY = ATheorySettings(
    seeds=40,
    peak_seeds=150,
    max_explicit_entries=2e6,
    m=4,
    p_fixed=20,
    n_fixed=20,
    n_axis=[8, 14, 30, 60, 300],
    p_axis=[5, 12, 40, 80],
    ridge=0.01,
    m_axis=[2, 5],
    n_for_m=60,
    p_for_m=20,
    k_axis=[1, 3],
    m_for_k=4,
    n_modules=3,
    p_module=5,
    target_loss=0.3,
    m_sc=[2, 4],
    sc_factors=[0.6, 1.0, 1.6],
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("a-theory")
    make_figure("a-theory", TINY, out, progress=False)
    return out, json.loads((out / "a-theory.json").read_text())


def test_writes_png_pdf_and_json_with_its_settings(tiny):
    out, data = tiny
    for ext in ("png", "pdf", "json"):
        assert (out / f"a-theory.{ext}").stat().st_size > 1000
    assert data["preset"] == "custom" and data["preset_settings"]["p_fixed"] == 20


def test_every_simulated_point_agrees_with_the_closed_form(tiny):
    """No point is dropped: every one is simulated and counted, and each is within 4 s.e. + 3 %."""
    _, data = tiny
    summary = data["summary"]
    assert summary["theory_only_points"] == 0
    points = 0
    for panel in data["panels"].values():
        for mean, se, theory, exact in zip(panel["mean"], panel["se"], panel["theory_test"], panel["exact"]):
            points += exact
            tolerance = 4 * se + 0.03 * theory if exact else 4 * se + 0.1 * theory
            assert abs(mean - theory) < tolerance
    assert summary["max_rel_error_points"] == points >= 20
    assert summary["max_rel_error"] < 4 * summary["max_rel_error_se"] + 0.03


def test_identities_are_flat_by_construction(tiny):
    """Identities of the model, not findings: modular theory flat in m, monolithic theory flat in k."""
    panels = tiny[1]["panels"]
    assert np.ptp(panels["loss_vs_m_modular"]["theory_test"]) == 0
    assert np.ptp(panels["loss_vs_k"]["theory_test"]) == 0
    assert np.all(np.diff(panels["loss_vs_m_monolithic"]["theory_test"]) > 0)  # the model's prediction


def test_sample_complexity_is_read_off_the_simulation(tiny):
    summary = tiny[1]["summary"]
    sample = tiny[1]["sample_complexity"]
    mono, modular = sample["monolithic"], sample["modular"]
    assert mono["theory_n"][1] > 2 * mono["theory_n"][0]  # m = 4 needs > 2× the samples of m = 2
    assert modular["theory_n"][0] == modular["theory_n"][1]  # identity: module spectra ignore m
    for frame in (mono, modular):
        for sim, se, theory in zip(frame["sim_n"], frame["sim_n_se"], frame["theory_n"]):
            assert abs(sim - theory) < 4 * se + 0.1 * theory
    assert len(summary["samples_to_target_monolithic"]["simulation"]) == 2


def test_rerun_reads_the_store(tiny, tmp_path):
    out, data = tiny
    again = make_figure("a-theory", TINY, tmp_path, store_path=out / "modlab.sqlite", progress=False)
    assert json.loads(again["json"].read_text())["summary"] == data["summary"]


def test_presets_are_typed_and_cover_the_papers_axes():
    full = PRESETS["full"]
    assert set(range(2, 10)) | {12, 16} <= set(full.m_sc)
    assert min(full.n_axis) <= 100 and max(full.n_axis) >= 100_000 and set(range(2, 10)) <= set(full.k_axis)
    with pytest.raises((ValueError, ConfigError), match="within 5 of n = p"):
        TINY.replace(n_axis=[18])


def test_points_too_large_to_simulate_are_theory_only_and_counted(tmp_path):
    small_budget = TINY.replace(seeds=3, peak_seeds=3, max_explicit_entries=1.5e5, m_axis=[3], k_axis=[2])
    paths = make_figure("a-theory", small_budget, tmp_path, progress=False)
    data = json.loads(paths["json"].read_text())
    n_panel = data["panels"]["loss_vs_n"]
    assert n_panel["mean"][-1] is None and n_panel["theory_test"][-1] > 0  # n = 300: 9·10⁵ features per seed
    assert data["summary"]["samples_to_target_monolithic"]["simulation"][1] == "theory only"  # m = 4
    assert data["summary"]["theory_only_points"] == 1  # curve points; the m = 4 reading is named above
