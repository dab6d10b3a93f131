"""Figure b-cmnist end to end on a tiny digits preset."""

import json

import torch

from modlab.figures import b_cmnist, make_figure


def test_figure_writes_curves_and_final_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("MODLAB_DATA", raising=False)
    monkeypatch.setitem(b_cmnist.PRESETS, ("quick", "digits"),
                        dict(seeds=2, base=dict(optimizer="adam", lr=1e-3, epochs=2, max_train_images=90,
                                                max_test_images=60, channels=4)))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        paths = make_figure("b-cmnist", "quick", tmp_path, progress=False)
    finally:
        torch.set_num_threads(before)
    data = json.loads(paths["json"].read_text())
    assert set(data["final_test_compositional_error"]) == {"dense", "split"}
    curve = data["curves"]["split/test_compositional_error"]
    assert curve["epoch"] == [0, 1, 2] and len(curve["std"]) == 3
    assert data["final_test_compositional_error"]["split"] == curve["mean"][-1]
