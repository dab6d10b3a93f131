import json

import pytest

from modlab.cli import main


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("a-theory")
    assert main(["figure", "a-theory", "--preset", "quick", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    return out


def test_writes_png_pdf_and_json(quick):
    for ext in ("png", "pdf", "json"):
        assert (quick / f"a-theory.{ext}").stat().st_size > 1000


def test_theory_matches_simulation_where_it_is_exact(quick):
    data = json.loads((quick / "a-theory.json").read_text())
    assert data["preset"] == "quick"
    assert data["max_rel_error_points"] >= 10
    assert data["max_rel_error"] < 0.03
    assert data["max_rel_error_asymptotic"] is not None and data["max_rel_error_asymptotic"] < 0.1


def test_panels_show_the_papers_trends(quick):
    panels = json.loads((quick / "a-theory.json").read_text())["panels"]
    mono, modular = panels["loss_vs_m_monolithic"], panels["loss_vs_m_modular"]
    assert all(b > a for a, b in zip(mono["theory_test"], mono["theory_test"][1:]))
    assert max(modular["sim_test_mean"]) < 1.1 * min(modular["sim_test_mean"])
    sc = panels["sample_complexity"]
    assert sc["monolithic"]["sim_n"][-1] > 10 * sc["monolithic"]["sim_n"][0]
    sim_mod = sc["modular"]["sim_n"]
    assert max(sim_mod) < 1.3 * min(sim_mod)


def test_rerun_resumes_from_the_store(quick, capsys):
    assert (
        main(["figure", "a-theory", "--preset", "quick", "--out", str(quick), "--no-progress", "--device", "cpu"]) == 0
    )
    assert (quick / "a-theory.png").exists()
