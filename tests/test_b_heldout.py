import json

from modlab.figures import make_figure


def test_heldout_figure(tmp_path):
    data = json.loads(make_figure("b-heldout", "quick", tmp_path, progress=False)["json"].read_text())
    comp = data["final_compositional_test_loss"]
    assert set(comp) == {"(3 2 0 0 0)", "(3 2 1 0 2)", "(3 2 1 1 2)"}
    assert comp["(3 2 0 0 0)"] < 1e-6
    assert comp["(3 2 1 0 2)"] > 0.5 and comp["(3 2 1 1 2)"] > 0.5
    for label, entry in data["settings"].items():
        for metric, predicted in entry["min_norm_prediction"].items():
            assert abs(entry[metric]["final_mean"] - predicted) < 0.02, (label, metric)
    assert data["seeds"] == 50
