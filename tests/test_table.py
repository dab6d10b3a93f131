import math

import pytest

from modlab.errors import ConfigError
from modlab.metrics import Array, Curve, encode
from modlab.store import RunRecord
from modlab.table import flatten, metric_summary, results_table, tidy_table, wide_table


def _record(key, seed, n, lr=0.1, loss=1.0):
    metrics = {
        "loss": loss,
        "n_params": 3471,
        "curve": encode(Curve([10, 20], [loss * 2, loss], "epoch")),
        "matrix": encode(Array([[1.0, 2.0], [3.0, 4.0]])),
    }
    config = {"n": n, "seed": seed, "train": {"lr": lr, "steps": 5}}
    return RunRecord(key, "exp", config, "done", metrics)


RECORDS = [
    _record("a", 0, 10, loss=1.0),
    _record("b", 1, 10, loss=3.0),
    _record("c", 0, 20, loss=0.5),
    _record("d", 1, 20, loss=0.7),
]


def test_flatten_dots_nested_keys():
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b.c": 2, "b.d.e": 3}


def test_long_form_has_a_curves_own_x_and_an_arrays_positions():
    table = tidy_table(RECORDS[:1])
    assert list(table.columns) == [
        "key",
        "experiment",
        "n",
        "seed",
        "train.lr",
        "train.steps",
        "metric",
        "step",
        "x",
        "value",
    ]
    curve = table[table.metric == "curve"]
    assert curve.x.tolist() == [10, 20] and curve.step.tolist() == [0, 1] and curve.value.tolist() == [2.0, 1.0]
    assert table[table.metric == "matrix"].value.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert math.isnan(table[table.metric == "loss"].x.iloc[0])
    assert tidy_table([]).empty


def test_a_plain_list_still_reads_as_a_curve_over_its_index():
    record = RunRecord("k", "exp", {"seed": 0}, "done", {"old": [5.0, 4.0, 3.0]})
    assert tidy_table([record]).x.tolist() == [0, 1, 2]


def test_wide_form_is_one_row_per_run_with_ints_as_ints_and_final_curve_values():
    table = wide_table(RECORDS)
    assert len(table) == 4
    assert str(table["n_params"].dtype) == "Int64" and str(table["loss"].dtype) == "float64"
    assert table["curve[-1]"].tolist() == [1.0, 3.0, 0.5, 0.7]
    assert "matrix" not in table


def test_results_show_only_the_fields_that_vary():
    table = results_table(RECORDS)
    assert list(table.columns) == ["key", "n", "seed", "loss", "n_params", "curve[-1]"]
    assert "3471.0" not in table.to_string() and "3471" in table.to_string()


def test_agg_over_seeds_gives_mean_standard_error_and_count():
    table = results_table(RECORDS, agg="seeds")
    assert list(table.columns) == [
        "n",
        "count",
        "loss",
        "loss_se",
        "n_params",
        "n_params_se",
        "curve[-1]",
        "curve[-1]_se",
    ]
    first = table[table.n == 10].iloc[0]
    assert first["count"] == 2 and first["loss"] == pytest.approx(2.0)
    assert first["loss_se"] == pytest.approx(math.sqrt(2.0) / math.sqrt(2))  # std 1.414 of (1, 3) over √2
    over_n = results_table(RECORDS, agg=["n"])
    assert list(over_n["seed"]) == [0, 1] and list(over_n["count"]) == [2, 2]


def test_agg_names_an_unknown_field_and_refuses_long_with_agg():
    with pytest.raises(ConfigError, match="--agg: no field 'sed'"):
        results_table(RECORDS, agg=["sed"])
    with pytest.raises(ConfigError, match="choose one"):
        results_table(RECORDS, agg="seeds", long=True)
    with pytest.raises(ConfigError, match="or 'seeds' for the seed fields"):
        results_table(RECORDS, agg=[])
    with pytest.raises(ConfigError, match="--agg 'seed': give a list of field names"):
        results_table(RECORDS, agg="seed")


def test_long_results_are_one_row_per_run_metric_and_x():
    table = results_table(RECORDS, long=True)
    assert len(table) == 4 * (1 + 1 + 2 + 4)
    assert list(table.columns) == ["key", "n", "seed", "metric", "step", "x", "value"]


def test_a_config_field_named_like_a_column_is_kept_apart():
    record = RunRecord("k", "exp", {"value": 2.5, "metric": "m"}, "done", {"score": 1.0})
    table = tidy_table([record])
    assert table["config.value"].tolist() == [2.5] and table["value"].tolist() == [1.0]
    assert table["config.metric"].tolist() == ["m"] and table["metric"].tolist() == ["score"]


def test_metric_summary_is_one_short_line_per_metric():
    lines = metric_summary(RECORDS[0].metrics)
    assert lines == [
        "  loss: 1",
        "  n_params: 3471",
        "  curve: 1 (final of 2 points, epoch 10…20)",
        "  matrix: array of shape 2×2",
    ]


def test_store_table_is_the_long_form_with_x(store):
    metrics = {"loss": 1.0, "curve": Curve([10, 20], [2.0, 1.0], "epoch")}
    store.put(RunRecord("k", "exp", {"seed": 0}, "done", metrics))
    table = store.table()
    assert "x" in table and table[table.metric == "curve"].x.tolist() == [10, 20]
