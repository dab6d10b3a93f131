"""Figure a-ccifar end to end on tiny preset objects: offline digits, and CIFAR-10 files in the real format."""

import json
import pickle

import numpy as np
import pytest

from modlab.experiments.compositional_cifar import CompositionalCifarConfig
from modlab.figures import make_figure
from modlab.figures.a_ccifar import PRESETS, CcifarPreset, CcifarScale

TINY_RULE = {"kernel": "module", "steps": 3, "batch_size": 64, "joint_restarts": 2}


pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny(source: str, k: int, n_axis: tuple[int, ...], epoch_run: int | None = None) -> CcifarScale:
    run = CompositionalCifarConfig(
        source=source,
        n_slots=k,
        n_train=n_axis[0],
        n_test=40,
        epochs=2,
        batch_size=20,
        hidden=(32,),
        module_hidden=(8,),
        module_dim=4,
        kernel_rule=TINY_RULE,
    )
    return CcifarScale(seeds=2, k_axis=(1, k), n_axis=n_axis, epoch_run=epoch_run, run=run)


def test_digits_figure_has_every_method_panel_and_summary(tmp_path, monkeypatch):
    monkeypatch.delenv("MODLAB_DATA", raising=False)
    tiny = CcifarPreset(digits=_tiny("digits", 3, (40, 60)), cifar10=_tiny("cifar10", 2, (20, 30)))
    paths = make_figure("a-ccifar", tiny, tmp_path, progress=False)
    data = json.loads(paths["json"].read_text())
    assert data["preset"] == "custom" and data["preset_settings"]["digits"]["seeds"] == 2
    summary = data["summary"]
    assert summary["data_source"] == "digits (offline stand-in)" and (summary["k"], summary["n_train"]) == (3, 40)
    assert set(summary["unseen_accuracy"]) == {"monolithic", "modular", "kernel_rule", "kernel_rule_per_module"}
    assert all(0 <= v <= 1 for v in summary["unseen_accuracy"].values())
    paired = summary["modular_minus_monolithic"]["mean"]
    assert paired == pytest.approx(summary["unseen_accuracy"]["modular"] - summary["unseen_accuracy"]["monolithic"])
    assert set(summary["modular_minus_monolithic_by_k"]) == {"1", "3"} and summary["seeds"] == 2
    assert data["accuracy_vs_k"]["kernel_rule"]["n_slots"] == [1, 3] and "paper_table" not in data
    assert np.array(data["slot_energy"]["kernel_rule"]["energy_end"]).shape == (3, 3)
    assert np.allclose(np.array(data["slot_energy"]["modular"]["energy_end"]).sum(1), 1)
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
    tiny = CcifarPreset(digits=_tiny("digits", 3, (40, 60)), cifar10=_tiny("cifar10", 2, (20, 30), epoch_run=3))
    data = json.loads(make_figure("a-ccifar", tiny, tmp_path / "out", progress=False)["json"].read_text())
    assert data["summary"]["data_source"] == "cifar10" and data["paper_table"]["kernel_rule"] == [0.499, 0.4695]
    assert data["summary"]["paper_unseen_accuracy"]["modular"] == 0.4526
    assert len(data["accuracy_vs_k"]["paper_monolithic"]["accuracy"]) == 8
    assert data["accuracy_vs_epoch"]["modular"]["epoch"][-1] == 3


def test_full_preset_covers_the_papers_k_range_and_every_preset_validates():
    assert PRESETS["full"].digits.k_axis == tuple(range(1, 9)) == PRESETS["full"].cifar10.k_axis
    assert PRESETS["paper"].cifar10.run.epochs == 1 and PRESETS["paper"].cifar10.run.n_train == 50000
    with pytest.raises(ValueError, match="seeds"):
        CcifarScale(seeds=1, k_axis=(1, 2), n_axis=(10, 20), run=CompositionalCifarConfig())


def test_no_experiment_shares_a_figures_name():
    from modlab.experiments import EXPERIMENTS
    from modlab.figures.registry import FIGURES

    assert "compositional-cifar" in EXPERIMENTS and "compositional-mnist" in EXPERIMENTS
    assert not set(EXPERIMENTS) & set(FIGURES), set(EXPERIMENTS) & set(FIGURES)
