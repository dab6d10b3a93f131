"""Figure b-cmnist end to end on a tiny digits preset."""

import json

import numpy as np
import torch

from modlab.figures import b_cmnist, make_figure


def test_figure_writes_curves_and_final_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("MODLAB_DATA", raising=False)
    monkeypatch.setitem(
        b_cmnist.PRESETS,
        ("quick", "digits"),
        dict(
            seeds=2, base=dict(optimizer="adam", lr=1e-3, epochs=2, max_train_images=90, max_test_images=60, channels=4)
        ),
    )
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


def test_mnist_files_switch_the_source(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
        labels = (np.arange(30) % 10).astype(np.uint8)
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(
            b"\x00\x00\x08\x03" + _dims(30, 28, 28) + images.tobytes()
        )
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + _dims(30) + labels.tobytes())
    monkeypatch.setenv("MODLAB_DATA", str(tmp_path))
    monkeypatch.setitem(
        b_cmnist.PRESETS,
        ("quick", "mnist"),
        dict(seeds=1, base=dict(optimizer="adam", lr=1e-3, epochs=1, channels=2, eval_points=8)),
    )
    data = json.loads(make_figure("b-cmnist", "quick", tmp_path / "out", progress=False)["json"].read_text())
    assert data["source"] == "mnist" and len(data["curves"]["dense/test_compositional_error"]["mean"]) == 2


def _dims(*sizes: int) -> bytes:
    return b"".join(s.to_bytes(4, "big") for s in sizes)
