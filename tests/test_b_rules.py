import json

import pytest

from modlab.figures import make_figure


def test_rules_figure(tmp_path):
    data = json.loads(make_figure("b-rules", "quick", tmp_path, progress=False)["json"].read_text())
    assert set(data["rules"]) == {"gradient", "hebbian", "anti_hebbian", "contrastive_hebbian", "predictive_coding"}
    assert data["max_rel_error"] <= 0.03
    for rule, entry in data["rules"].items():
        assert len(entry["epochs_axis"]) == len(entry["oy_ox"]["mean"])
        assert entry["final"]["oy_gx"] > 0.3, rule  # no rule makes the dense network systematic
        assert entry["systematicity"] == pytest.approx(8 / 11, abs=0.01), rule
