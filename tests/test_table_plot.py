import json

import pytest

from modlab.cli import main
from modlab.errors import ConfigError
from modlab.metrics import Curve, encode
from modlab.store import RunRecord
from modlab.table_plot import plot_table, save_plot


def _records(widths=(8, 16), methods=("a", "b"), seeds=(0, 1), lr=(0.1,)):
    out = []
    for width in widths:
        for method in methods:
            for seed in seeds:
                for rate in lr:
                    loss = width * (1 if method == "a" else 2) + seed
                    metrics = {
                        "loss": float(loss),
                        "curve": encode(Curve([0, 50, 100], [3.0 * loss, 2.0 * loss, loss], "step")),
                    }
                    config = {"width": width, "method": method, "seed": seed, "train": {"lr": rate}}
                    out.append(RunRecord(f"{width}{method}{seed}{rate}", "exp", config, "done", metrics))
    return out


def test_mean_and_standard_error_over_seeds_per_hue_and_panel(tmp_path):
    fig, data = plot_table(_records(), "width", "loss", hue="method", logx=True)
    lines = {line["hue"]: line for line in data["panels"][0]["lines"]}
    assert lines["a"]["x"] == [8, 16] and lines["a"]["mean"] == [8.5, 16.5] and lines["a"]["count"] == [2, 2]
    assert lines["b"]["mean"] == [16.5, 32.5] and lines["b"]["se"] == pytest.approx([0.5, 0.5])
    paths = save_plot(fig, data, tmp_path / "p.png")
    assert paths[0].stat().st_size > 1000 and json.loads(paths[1].read_text())["y"] == "loss"


def test_a_curve_against_its_own_x_and_its_final_value_against_a_field():
    _, data = plot_table(_records(), "step", "curve", col="method", hue="width")
    assert [panel["col"] for panel in data["panels"]] == ["a", "b"]
    first = data["panels"][0]["lines"][0]
    assert first["hue"] == 8 and first["x"] == [0, 50, 100] and first["mean"] == [25.5, 17.0, 8.5]
    _, final = plot_table(_records(), "width", "curve", hue="method")
    assert final["panels"][0]["lines"][0]["mean"] == [8.5, 16.5]


def test_fields_that_vary_off_the_plot_are_refused_not_averaged():
    with pytest.raises(ConfigError, match="method also vary"):
        plot_table(_records(), "width", "loss")
    with pytest.raises(ConfigError, match="did you mean 'loss'"):
        plot_table(_records(), "width", "los", hue="method")
    with pytest.raises(ConfigError, match="did you mean 'width'"):
        plot_table(_records(), "widht", "loss", hue="method")
    with pytest.raises(ConfigError, match="no finished runs"):
        plot_table([], "width", "loss")


def test_plot_command_writes_the_image_and_its_numbers(tmp_path, capsys):
    spec, store, out = tmp_path / "spec.yaml", str(tmp_path / "s.sqlite"), tmp_path / "fig.png"
    spec.write_text("experiment: probe\naxes:\n  value: [1.0, 2.0, 4.0]\n  seed: [0, 1, 2]\n")
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 0
    assert main(["plot", str(spec), "--store", store, "--x", "value", "--y", "score", "--logy", "--out", str(out)]) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    line = data["panels"][0]["lines"][0]
    assert line["x"] == [1.0, 2.0, 4.0] and line["mean"] == [2.0, 3.0, 5.0] and line["count"] == [3, 3, 3]
    assert (
        main(["plot", str(spec), "--store", store, "--x", "index", "--y", "curve", "--hue", "value", "--out", str(out)])
        == 0
    )
    curves = json.loads(out.with_suffix(".json").read_text())["panels"][0]["lines"]
    assert [c["mean"] for c in curves] == [[1.0, 0.5], [2.0, 1.0], [4.0, 2.0]]
    capsys.readouterr()
    assert (
        main(["plot", str(spec), "--store", store, "--x", "value", "--y", "score", "--out", str(tmp_path / "f.txt")])
        == 2
    )
    assert ".png, .pdf or .svg" in capsys.readouterr().err
