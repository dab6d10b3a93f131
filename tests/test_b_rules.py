import json

import pytest

from modlab.figures import make_figure
from modlab.figures.b_rules import RulesPreset


def test_rules_figure(tmp_path):
    data = json.loads(make_figure("b-rules", RulesPreset(seeds=3), tmp_path, progress=False)["json"].read_text())
    assert set(data["rules"]) == {"gradient", "hebbian", "anti_hebbian", "contrastive_hebbian", "predictive_coding"}
    assert data["summary"]["max_rel_error_gradient"] <= 0.03
    for rule, entry in data["rules"].items():
        assert len(entry["epochs_axis"]) == len(entry["oy_ox"]["mean"])
    print(json.dumps(data["summary"], indent=1))
