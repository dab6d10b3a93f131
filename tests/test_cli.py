import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from modlab.cli import main


def _spec(tmp_path, **axes):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"experiment": "probe", "axes": axes or {"value": [1.0, 2.0], "seed": [0, 1]}}))
    return path


def test_installed_console_script_lists_subcommands():
    script = Path(sys.executable).parent / "modlab"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("run", "sweep", "figure", "results"):
        assert command in out


def test_figure_list_names_every_figure_with_a_description(capsys):
    assert main(["figure", "--list"]) == 0
    assert "a-theory" in capsys.readouterr().out


def test_run_prints_metrics_and_stores_them(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    args = ["run", "linear-rf", "--set", "n=50", "--set", "spectrum.omega=1.3", "--store", str(store), "--no-progress"]
    args.append("--json")
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["metrics"]) == {"train_loss", "test_loss"} and out["metrics"]["test_loss"] > 0  # measured only
    assert main(args) == 0  # second time: read back from the store
    assert json.loads(capsys.readouterr().out) == out


def test_sweep_then_results_in_every_format(tmp_path, capsys):
    spec, store = _spec(tmp_path), str(tmp_path / "s.sqlite")
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 0
    assert "4 runs: 0 reused, 4 computed, 0 failed" in capsys.readouterr().err
    assert main(["results", str(spec), "--store", store, "--format", "csv", "--long"]) == 0
    csv_path = tmp_path / "out.csv"
    csv_path.write_text(capsys.readouterr().out)
    table = pd.read_csv(csv_path)
    assert len(table) == 4 * 3 and set(table.metric) == {"score", "curve"}
    assert main(["results", str(spec), "--store", store, "--format", "json", "--long"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 12
    assert main(["results", str(spec), "--store", store]) == 0
    assert "score" in capsys.readouterr().out


def test_failed_runs_exit_nonzero_and_are_listed(tmp_path, capsys):
    spec, store = _spec(tmp_path, fail=[True], seed=[0]), str(tmp_path / "s.sqlite")
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 1
    assert main(["results", str(spec), "--store", store, "--failed"]) == 0
    assert "probe asked to fail" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--store", store, "--no-progress", "--retry-failed"]) == 1
    assert "1 run: 0 reused, 0 computed, 1 failed" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "linear-rf", "--set", "n=0"], "field 'n' = 0"),
        (["run", "nope"], "unknown experiment 'nope'"),
        (["run", "linear-rf", "--set", "oops"], "expected FIELD=VALUE"),
        (["sweep", "missing.yaml"], "sweep spec file not found"),
        (["figure", "nope"], "unknown figure 'nope'"),
        (["figure", "a-theory", "--preset", "huge"], "preset 'huge'"),
        (["run", "linear-rf", "--device", "tpu"], "device 'tpu'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_with_exit_2(argv, fragment, tmp_path, capsys):
    assert main(argv + (["--store", str(tmp_path / "s.sqlite")] if argv[0] == "run" else [])) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_garbage_spec_and_foreign_store_are_one_line_errors(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("experiment: probe\naxes: {seed: [0, 1\n")
    store = tmp_path / "foreign.sqlite"
    store.write_text("not a store")
    for argv in (["sweep", str(spec)], ["sweep", str(_spec(tmp_path)), "--store", str(store)]):
        proc = subprocess.run([sys.executable, "-m", "modlab.cli", *argv], capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1
    assert store.read_text() == "not a store"


def test_the_example_sweep_runs_and_tabulates(tmp_path, capsys):
    example = Path(__file__).parents[1] / "examples" / "linear_rf_sweep.yaml"
    store = str(tmp_path / "s.sqlite")
    assert main(["sweep", str(example), "--store", store, "--no-progress"]) == 0
    assert "25 runs: 0 reused, 25 computed, 0 failed" in capsys.readouterr().err
    assert main(["results", str(example), "--store", store, "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 1 + 25  # one row per run


def test_results_without_a_spec_lists_the_whole_store(tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert main(["sweep", str(_spec(tmp_path, fail=[True], seed=[0])), "--store", store, "--no-progress"]) == 1
    capsys.readouterr()
    assert main(["results", "--failed", "--store", store]) == 0
    assert "probe asked to fail" in capsys.readouterr().out
    assert main(["results", "--store", str(tmp_path / "none.sqlite")]) == 2


def test_data_dir_is_checked_and_names_the_missing_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODLAB_DATA", "")  # recorded, so the value main() sets is undone after the test
    monkeypatch.delenv("MODLAB_DATA")
    assert main(["figure", "a-ccifar", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "--data-dir" in capsys.readouterr().err
    empty = tmp_path / "data"
    empty.mkdir()
    assert main(["figure", "b-cmnist", "--data-dir", str(empty), "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train-images-idx3-ubyte" in err


def test_bad_flags_fail_before_any_store_is_created(tmp_path, capsys):
    store = tmp_path / "new.sqlite"
    for flags in (["--workers", "0"], ["--device", "gpu"]):
        assert main(["run", "linear-rf", "--store", str(store), *flags]) == 2
        assert not store.exists()
    assert main(["run", "linear-rf", "--set", "n=[", "--store", str(store)]) == 2
    assert "is not valid YAML" in capsys.readouterr().err
    existing = tmp_path / "file.txt"
    existing.write_text("x")
    assert main(["figure", "a-theory", "--out", str(existing)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_run_prints_strict_json_even_for_infinite_theory(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "linear-rf",
                "--set",
                "n=50",
                "--set",
                "p=50",
                "--store",
                str(tmp_path / "s.sqlite"),
                "--no-progress",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"non-JSON {name}"))
    assert set(out["metrics"]) == {"train_loss", "test_loss"}  # the (infinite) closed form is not stored


def test_provenance_of_the_whole_store(tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert main(["sweep", str(_spec(tmp_path)), "--store", store, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["results", "--store", store, "--provenance", "--format", "csv"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert len(table) == 4 and table["torch_version"].notna().all()


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "linear-rf", "--set", ".n=3"], "field name '.n'"),
        (["run", "linear-rf", "--set", "seed=99999999999999999999"], "less than or equal to 9223372036854775807"),
        (["run", "linear-rf", "--config", "."], "is a folder, not a file"),
    ],
)
def test_more_bad_inputs_are_one_line(argv, fragment, tmp_path, capsys):
    assert main(argv + ["--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_failed_runs_list_in_any_format(tmp_path, capsys):
    spec, store = _spec(tmp_path, fail=[True], seed=[0, 1]), str(tmp_path / "s.sqlite")
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 1
    capsys.readouterr()
    assert main(["results", str(spec), "--store", store, "--failed", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and all("probe asked to fail" in r["error"] for r in rows)


def test_version():
    import modlab

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = subprocess.run([sys.executable, "-m", "modlab.cli", "--version"], capture_output=True, text=True).stdout
    assert out.strip() == f"modlab {modlab.__version__}"


def test_results_are_one_row_per_run_by_default_and_aggregate_over_seeds(tmp_path, capsys):
    spec, store = _spec(tmp_path), str(tmp_path / "s.sqlite")
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["results", str(spec), "--store", store, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [sorted(r) for r in rows] == [["curve[-1]", "key", "score", "seed", "value"]] * 4
    assert main(["results", str(spec), "--store", store, "--agg", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["value"], r["count"], r["score"], r["score_se"]) for r in rows] == [
        (1.0, 2, 1.5, 0.5),
        (2.0, 2, 2.5, 0.5),
    ]
    assert main(["results", str(spec), "--store", store, "--agg", "value", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("seed,count,score,score_se")
    assert main(["results", str(spec), "--store", store, "--agg", "--provenance"]) == 2
    assert "choose one" in capsys.readouterr().err


def test_parquet_without_pyarrow_is_one_clear_line(tmp_path, capsys):
    pytest.importorskip("pandas")
    if __import__("importlib").util.find_spec("pyarrow") is not None:
        pytest.skip("pyarrow is installed")
    spec, store = _spec(tmp_path), str(tmp_path / "s.sqlite")
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["results", str(spec), "--store", store, "--format", "parquet"]) == 2
    assert "needs pyarrow" in capsys.readouterr().err


def test_results_piped_into_head_end_cleanly(tmp_path):
    spec, store = _spec(tmp_path, value=list(range(300)), seed=[0, 1, 2]), str(tmp_path / "s.sqlite")  # > a pipe buffer
    assert main(["sweep", str(spec), "--store", store, "--no-progress"]) == 0
    results = f"{sys.executable} -m modlab.cli results --store {store} --long"
    shell = subprocess.run(["bash", "-c", f"set -o pipefail; {results} | head -1"], capture_output=True, text=True)
    assert shell.stdout.split()[0] == "key" and shell.stdout.count("\n") == 1
    assert shell.stderr == "" and shell.returncode == 141


def test_figure_sweep_and_results_share_one_default_store():
    from modlab.cli import DEFAULT_STORE, build_parser

    parser = build_parser()
    defaults = {
        command: parser.parse_args(argv).store
        for command, argv in {
            "run": ["run", "sine"],
            "sweep": ["sweep", "s.yaml"],
            "figure": ["figure", "a-theory"],
            "results": ["results"],
            "plot": ["plot", "s.yaml", "--x", "n", "--y", "loss", "--out", "p.png"],
        }.items()
    }
    assert set(defaults.values()) == {DEFAULT_STORE}


def test_run_prints_a_short_summary_by_default(tmp_path, capsys):
    assert main(["run", "probe", "--set", "value=2", "--store", str(tmp_path / "s.sqlite"), "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("run ") and out[1:] == ["  score: 2", "  curve: 1 (final of 2 points, index 0…1)"]


def test_sweep_set_overrides_the_base_and_axis_adds_or_replaces_an_axis(tmp_path, capsys):
    spec, store = _spec(tmp_path), str(tmp_path / "s.sqlite")
    argv = ["sweep", str(spec), "--store", store, "--no-progress", "--axis", "value=5,6,7", "--set", "nan=false"]
    assert main(argv) == 0
    assert "6 runs" in capsys.readouterr().err
    assert main(["results", str(spec), "--store", store]) == 0  # the spec's own runs were not run
    assert "(no runs)" in capsys.readouterr().out
    argv = ["sweep", str(spec), "--store", store, "--no-progress", "--axis", "seed=3", "--set", "value=9"]
    assert main(argv) == 2
    assert "'value': it is an axis of the sweep" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--store", store, "--axis", "seed="]) == 2
    assert "at least one value" in capsys.readouterr().err


def test_on_error_has_help_text(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--on-error {continue,stop} when a run fails" in out


def test_integral_floats_set_integer_fields_and_yaml_1_2_values(tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert main(["run", "sine", "--set", "task.n_train=1e3", "--set", "train.steps=2.5e3", "--show-config"]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["task"]["n_train"] == 1000 and config["train"]["steps"] == 2500
    assert main(["run", "sine", "--set", "task.n_train=10.5", "--set", "seed=-1", "--store", store]) == 2
    err = capsys.readouterr().err  # every invalid field at once
    assert "field 'task.n_train' = 10.5: Input should be a valid integer, got a number with a fractional part" in err
    assert "field 'seed' = -1" in err


def test_every_invalid_field_is_listed_at_once_with_suggestions(capsys):
    assert main(["run", "sine", "--set", "trian.lr=1", "--set", "seed=-1", "--show-config"]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'trian' (did you mean 'train'?" in err and "field 'seed' = -1" in err
    assert main(["run", "sinee"]) == 2
    assert "did you mean 'sine'?" in capsys.readouterr().err


def test_out_of_range_numbers_and_huge_values_give_short_lines(tmp_path, capsys):
    assert main(["run", "linear-rf", "--set", "n=1e400", "--store", str(tmp_path / "s.sqlite")]) == 2
    assert "the number '1e400' is out of range" in capsys.readouterr().err
    assert main(["run", "x" * 1_000_000, "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'xxx" in err and len(err) < 1000 and err.count("\n") == 1
    spec = tmp_path / "huge.yaml"
    spec.write_text(yaml.safe_dump({"experiment": "probe", "base": {"value": "v" * 1_000_000}}))
    assert main(["sweep", str(spec), "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "field 'value'" in err and len(err) < 1000


def test_a_billion_laughs_spec_is_refused_at_once(tmp_path, capsys):
    import time

    levels = ["experiment: probe", "a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    spec = tmp_path / "laughs.yaml"
    spec.write_text("\n".join(levels) + "\n")
    assert len(spec.read_bytes()) < 1100
    start = time.perf_counter()
    assert main(["sweep", str(spec), "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 2 and "aliases expand it to more than" in err and len(err) < 400
    assert not (tmp_path / "s.sqlite").exists()
