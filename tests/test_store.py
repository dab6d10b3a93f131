import hashlib
import sqlite3

import numpy as np
import pytest

from modlab.errors import StoreError
from modlab.store import RunRecord, Store, flatten, tidy_table


def _record(key="k1", status="done", **metrics):
    return RunRecord(
        key, "probe", {"value": 1.0, "nested": {"a": 2}}, status, metrics or {"score": 1.5}, None, 0.1, "cpu"
    )


def test_put_and_read_back(store):
    store.put(_record(score=2.0, curve=[3.0, 4.0]))
    (rec,) = store.records(["k1"])
    assert rec.metrics == {"score": 2.0, "curve": {"x": [0, 1], "y": [3.0, 4.0], "x_name": "index"}}  # JSON form
    assert store.statuses(["k1", "missing"]) == {"k1": "done"}
    prov = store.provenance("k1")
    assert prov["modlab_version"] and prov["torch_version"] and prov["device"] == "cpu"


def test_done_is_never_replaced_and_failed_is(store):
    store.put(_record(status="failed"))
    store.put(_record(score=7.0))
    store.put(_record(status="failed"))
    (rec,) = store.records(["k1"])
    assert rec.status == "done" and rec.metrics["score"] == 7.0


def test_tidy_table_has_one_row_per_metric_and_step(store):
    store.put(_record(score=2.0, curve=[3.0, 4.0]))
    table = store.table()
    assert len(table) == 3
    assert set(table.columns) >= {"key", "experiment", "value", "nested.a", "metric", "step"}
    assert table.loc[table.metric == "curve", "step"].tolist() == [0, 1]
    assert np.isnan(table.loc[table.metric == "score", "step"]).all()


def test_flatten_dots_nested_keys():
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b.c": 2, "b.d.e": 3}


def test_tidy_table_of_nothing_is_empty():
    assert tidy_table([]).empty


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_foreign_files_are_refused_and_left_untouched(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("hello, not a database")
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE things (x)")
    db.commit()
    db.close()
    for path, reason in ((text, "not an SQLite file"), (foreign, "not a modlab store")):
        before = _digest(path)
        with pytest.raises(StoreError, match=reason):
            Store(path)
        assert _digest(path) == before
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


def test_reopening_keeps_runs(tmp_path):
    with Store(tmp_path / "s.sqlite") as first:
        first.put(_record())
    with Store(tmp_path / "s.sqlite") as second:
        assert second.statuses(["k1"]) == {"k1": "done"}
