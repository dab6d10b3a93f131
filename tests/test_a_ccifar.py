"""Figure a-ccifar end to end on tiny presets: offline digits, and CIFAR-10 files in the real format."""

import json
import pickle

import numpy as np
import pytest

from modlab.figures import a_ccifar, make_figure

TINY_RULE = dict(kernel="module", steps=3, batch_size=64, joint_restarts=2)


pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny(k: int, n_axis: list[int]) -> dict:
    return dict(
        seeds=2,
        k=k,
        n_train=n_axis[0],
        k_axis=[1, k],
        n_axis=n_axis,
        base=dict(
            n_test=40, epochs=2, batch_size=20, hidden=[32], module_hidden=[8], module_dim=4, kernel_rule=TINY_RULE
        ),
    )


def test_digits_figure_has_every_method_and_panel(tmp_path, monkeypatch):
    monkeypatch.delenv("MODLAB_DATA", raising=False)
    monkeypatch.setitem(a_ccifar.PRESETS, ("quick", "digits"), _tiny(3, [40, 60]))
    paths = make_figure("a-ccifar", "quick", tmp_path, progress=False)
    data = json.loads(paths["json"].read_text())
    assert set(data["unseen_accuracy"]) == {"monolithic", "modular", "kernel_rule", "kernel_rule_per_module"}
    assert all(0 <= v <= 1 for v in data["unseen_accuracy"].values())
    assert data["accuracy_vs_k"]["kernel_rule"]["n_slots"] == [1, 3] and "paper_table" not in data
    assert np.array(data["slot_energy"]["kernel_rule"]["energy_end"]).shape == (3, 3)
    assert data["accuracy_vs_epoch"]["monolithic"]["epoch"][-1] == 2
    assert paths["png"].stat().st_size > 0


def test_cifar_files_switch_the_source_and_show_the_paper(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"labels": rng.permutation(np.arange(30) % 10).tolist(),
            b"data": rng.integers(0, 256, (30, 3072), dtype=np.uint8),
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    monkeypatch.setenv("MODLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setitem(a_ccifar.PRESETS, ("quick", "cifar10"), _tiny(2, [20]))
    monkeypatch.setitem(a_ccifar.EPOCH_RUN, "cifar10", 3)
    data = json.loads(make_figure("a-ccifar", "quick", tmp_path / "out", progress=False)["json"].read_text())
    assert data["source"] == "cifar10" and data["paper_table"]["kernel_rule"] == [0.499, 0.4695]
    assert len(data["accuracy_vs_k"]["paper_monolithic"]["accuracy"]) == 8
    assert data["accuracy_vs_epoch"]["modular"]["epoch"][-1] == 3
