"""The command line's side of stale results, provenance and dry runs: every run/sweep/figure ends
with ``N runs: S reused, C computed, F failed`` on stderr; runs of other code are recomputed unless
``--reuse-stale``; ``--rerun`` recomputes; ``--dry-run`` counts and computes nothing; a non-finite
measured metric fails the run; ``results --provenance`` prints readable times."""

from __future__ import annotations

import io
import json
import sqlite3

import pandas as pd
import yaml

from modlab.cli import main


def _spec(tmp_path, seeds=(0, 1, 2)):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"experiment": "probe", "name": "t", "axes": {"seed": list(seeds)}}))
    return str(path)


def _sweep(capsys, *argv) -> tuple[int, str, str]:
    code = main(["sweep", *argv, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stale_runs_are_recomputed_reused_on_request_and_rerun_recomputes(tmp_path, capsys):
    spec, store = _spec(tmp_path), str(tmp_path / "s.sqlite")
    assert _sweep(capsys, spec, "--store", store)[2] == "3 runs: 0 reused, 3 computed, 0 failed\n"
    assert _sweep(capsys, spec, "--store", store)[2] == "3 runs: 3 reused, 0 computed, 0 failed\n"
    db = sqlite3.connect(store)
    db.execute("UPDATE runs SET fingerprint = '0.0.1:feedfacefeedface'")
    db.commit()
    db.close()
    assert _sweep(capsys, spec, "--store", store, "--reuse-stale")[2] == "3 runs: 3 reused, 0 computed, 0 failed\n"
    assert _sweep(capsys, spec, "--store", store)[2] == "3 runs: 0 reused, 3 computed, 0 failed\n"
    assert _sweep(capsys, spec, "--store", store, "--rerun")[2] == "3 runs: 0 reused, 3 computed, 0 failed\n"


def test_dry_run_counts_and_computes_nothing(tmp_path, capsys):
    spec, store = _spec(tmp_path), tmp_path / "s.sqlite"
    assert _sweep(capsys, spec, "--store", str(store), "--dry-run")[:2] == (0, "3 runs: 0 stored, 3 to run\n")
    assert not store.exists()
    _sweep(capsys, _spec(tmp_path, seeds=[0]), "--store", str(store))
    before = store.read_bytes()
    assert _sweep(capsys, _spec(tmp_path), "--store", str(store), "--dry-run")[1] == "3 runs: 1 stored, 2 to run\n"
    assert _sweep(capsys, _spec(tmp_path), "--store", str(store), "--dry-run", "--rerun")[1] == (
        "3 runs: 0 stored, 3 to run\n"
    )
    assert store.read_bytes() == before


def test_figure_dry_run_writes_nothing(tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(["figure", "b-rules", "--out", str(out), "--dry-run"]) == 0
    assert capsys.readouterr().out == "10 runs: 0 stored, 10 to run\n"
    assert not out.exists()


def test_an_infinite_measured_metric_fails_the_run_naming_it(tmp_path, capsys):
    store = str(tmp_path / "s.sqlite")
    assert main(["run", "probe", "--set", "inf=true", "--store", store, "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "1 run: 0 reused, 0 computed, 1 failed" in err
    assert "non-finite value (NaN or ±inf) in metric(s): score" in err


def test_results_provenance_is_readable(tmp_path, capsys):
    spec, store = _spec(tmp_path), str(tmp_path / "s.sqlite")
    _sweep(capsys, spec, "--store", store)
    assert main(["results", spec, "--store", store, "--provenance", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(io.StringIO(out))
    assert "e+09" not in out
    for column in ("started_at", "finished_at"):
        assert pd.to_datetime(table[column]).notna().all()
    assert {"git_commit", "fingerprint", "threads", "duration_s", "torch_version", "host"} <= set(table.columns)
    assert json.dumps(table["fingerprint"].unique().tolist()).count(":") == 1
