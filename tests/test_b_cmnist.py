"""Figure b-cmnist end to end on tiny preset objects: offline digits, and MNIST files in the real format."""

import json

import numpy as np
import pytest

from modlab.experiments.compositional_mnist import CMNISTConfig
from modlab.figures import make_figure
from modlab.figures.b_cmnist import PRESETS, CmnistPreset, CmnistScale, chance_levels

pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny(source: str, **run) -> CmnistScale:
    return CmnistScale(seeds=2, run=CMNISTConfig(source=source, optimizer="adam", lr=1e-3, **run))


TINY = CmnistPreset(
    digits=_tiny("digits", epochs=2, max_train_images=90, max_test_images=60, channels=4),
    mnist=_tiny("mnist", epochs=1, channels=2, eval_points=8),
)


def test_figure_writes_curves_and_summary(tmp_path, monkeypatch):
    monkeypatch.delenv("MODLAB_DATA", raising=False)
    paths = make_figure("b-cmnist", TINY, tmp_path, progress=False)
    data = json.loads(paths["json"].read_text())
    summary = data["summary"]
    assert summary["data_source"] == "digits (offline stand-in)" and summary["epochs"] == 2
    assert set(summary["final_test_compositional_error"]) == {"dense", "split"}
    assert summary["chance"]["compositional"] == pytest.approx(0.9)
    curve = data["curves"]["split/test_compositional_error"]
    assert curve["epoch"] == [0, 1, 2] and len(curve["se"]) == 3
    assert summary["final_test_compositional_error"]["split"] == pytest.approx(curve["mean"][-1])
    assert data["preset_settings"]["digits"]["run"]["channels"] == 4


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
    data = json.loads(make_figure("b-cmnist", TINY, tmp_path / "out", progress=False)["json"].read_text())
    assert data["summary"]["data_source"] == "mnist"
    assert len(data["curves"]["dense/test_compositional_error"]["mean"]) == 2


def test_chance_levels_and_presets():
    assert chance_levels(3) == pytest.approx({"compositional": 0.9, "non_compositional": 0.999})
    assert PRESETS["full"].digits.run.epochs == 300 and PRESETS["full"].mnist.run.optimizer == "sgd"
    assert PRESETS["paper"].mnist.run.lr == 2e-3 and PRESETS["paper"].mnist.seeds == 10


def _dims(*sizes: int) -> bytes:
    return b"".join(s.to_bytes(4, "big") for s in sizes)
