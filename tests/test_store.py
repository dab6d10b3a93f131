import hashlib
import json
import os
import sqlite3

import numpy as np
import pytest

from modlab.errors import StoreError
from modlab.metrics import Array, Curve
from modlab.store import RunRecord, Store, flatten, tidy_table


def _record(key="k1", status="done", fingerprint="0.1.0:aaaa", **metrics):
    return RunRecord(
        key,
        "probe",
        {"value": 1.0, "nested": {"a": 2}},
        status,
        metrics or {"score": 1.5},
        None,
        0.1,
        "cpu",
        fingerprint,
        {"threads": 1, "started_at": "2026-01-01T00:00:00.000+00:00"},
    )


def test_put_and_read_back(store):
    store.put(_record(score=2.0, n_params=3471, curve=Curve([10, 20], [3.0, 4.0], "epoch"), w=Array([[1, 2], [3, 4]])))
    (rec,) = store.records(["k1"])
    assert rec.metrics["score"] == 2.0
    assert rec.metrics["n_params"] == 3471 and isinstance(rec.metrics["n_params"], int)
    assert rec.metrics["curve"] == Curve([10, 20], [3.0, 4.0], "epoch")
    assert rec.metrics["w"].numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert store.statuses(["k1", "missing"]) == {"k1": "done"}
    assert store.states(["k1"]) == {"k1": ("done", "0.1.0:aaaa", 1, None)}
    prov = store.provenance("k1")
    assert prov["fingerprint"] == "0.1.0:aaaa" and prov["started_at"] == "2026-01-01T00:00:00.000+00:00"


def test_done_of_the_same_code_is_never_replaced_and_failed_is(store):
    store.put(_record(status="failed"))
    store.put(_record(score=7.0))
    store.put(_record(status="failed"))
    store.put(_record(score=8.0))
    (rec,) = store.records(["k1"])
    assert rec.status == "done" and rec.metrics["score"] == 7.0


def test_a_record_of_other_code_or_a_rerun_replaces_and_the_old_one_goes_to_history(store):
    store.put(_record(score=1.0, fingerprint="old"))
    assert store.put(_record(score=2.0, fingerprint="new"))
    assert store.put(_record(score=3.0, fingerprint="new"), replace=True)
    (rec,) = store.records(["k1"])
    assert (rec.metrics["score"], rec.fingerprint) == (3.0, "new")
    assert [(r.metrics["score"], r.fingerprint) for r in store.history("k1")] == [(1.0, "old"), (2.0, "new")]


def test_tidy_table_has_one_row_per_metric_and_point_with_the_curves_x(store):
    store.put(_record(score=2.0, curve=Curve([10, 20], [3.0, 4.0], "epoch"), w=Array([[1, 2], [3, 4]])))
    table = store.table()
    assert len(table) == 7
    assert set(table.columns) >= {"key", "experiment", "value", "nested.a", "metric", "step", "x"}
    curve = table[table.metric == "curve"]
    assert curve.step.tolist() == [0, 1] and curve.x.tolist() == [10, 20] and curve.value.tolist() == [3.0, 4.0]
    assert table[table.metric == "w"].value.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.isnan(table.loc[table.metric == "score", ["step", "x"]].to_numpy(dtype=float)).all()


def test_flatten_dots_nested_keys():
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b.c": 2, "b.d.e": 3}


def test_tidy_table_of_nothing_is_empty():
    assert tidy_table([]).empty


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("readonly", [False, True])
def test_foreign_files_are_refused_and_left_untouched(tmp_path, readonly):
    text = tmp_path / "notes.sqlite"
    text.write_text("hello, not a database")
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    no_tables = tmp_path / "no-tables.sqlite"
    sqlite3.connect(no_tables).execute("PRAGMA user_version = 7").close()
    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE things (x)")
    db.commit()
    db.close()
    cases = ((text, "not an SQLite file"), (empty, "empty file"), (no_tables, "no tables"), (foreign, "not a modlab"))
    for path, reason in cases:
        before = _digest(path)
        with pytest.raises(StoreError, match=reason):
            Store(path, create=not readonly, readonly=readonly)
        assert _digest(path) == before
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


def test_a_missing_store_is_an_error_unless_created_explicitly(tmp_path):
    path = tmp_path / "new" / "s.sqlite"
    for kwargs in ({}, {"readonly": True}):
        with pytest.raises(StoreError, match=r"no store at .*Store\.create"):
            Store(path, **kwargs)
    assert not path.exists()
    with Store.create(path) as store:
        assert store.records() == []
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".modlab-new")] == []


def test_reopening_keeps_runs(tmp_path):
    with Store.create(tmp_path / "s.sqlite") as first:
        first.put(_record())
    with Store(tmp_path / "s.sqlite") as second:
        assert second.statuses(["k1"]) == {"k1": "done"}


def test_read_only_opening_never_changes_the_store(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.create(path) as store:
        store.put(_record())
    before = _digest(path)
    with Store(path, readonly=True) as store:
        assert store.statuses(["k1"]) == {"k1": "done"}
        with pytest.raises(StoreError, match="cannot be written"):
            store.put(_record("k2"))
    assert _digest(path) == before


def test_links_to_devices_and_dangling_links_are_refused(tmp_path):
    to_null, dangling = tmp_path / "null.sqlite", tmp_path / "dangling.sqlite"
    to_null.symlink_to("/dev/null")
    dangling.symlink_to(tmp_path / "nowhere.sqlite")
    with pytest.raises(StoreError, match="not a regular file"):
        Store(to_null, create=True)
    with pytest.raises(StoreError, match="does not exist"):
        Store(dangling, create=True)
    assert not (tmp_path / "nowhere.sqlite").exists()


def test_a_path_component_over_255_bytes_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="too long"):
        Store(tmp_path / ("x" * 300) / "s.sqlite", create=True)


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (key TEXT PRIMARY KEY, experiment TEXT NOT NULL, config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')), metrics TEXT, error TEXT, seconds REAL,
    device TEXT, modlab_version TEXT, torch_version TEXT, host TEXT, finished_at REAL);
INSERT INTO meta VALUES ('app', 'modlab');
INSERT INTO meta VALUES ('schema', '1');
INSERT INTO runs VALUES ('k1', 'probe', '{"value": 1.0}', 'done', '{"score": 1.5, "curve": [3.0, 4.0]}', NULL,
    0.1, 'cpu', '0.0.9', '2.0.0', 'lab', 1790000000.0);
"""


def schema_1_store(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(V1_SCHEMA)
    db.close()
    return path


def test_a_schema_1_store_is_read_as_it_is_and_migrated_by_a_writer(tmp_path):
    path = schema_1_store(tmp_path / "v1.sqlite")
    before = _digest(path)
    with Store(path, readonly=True) as store:
        (old,) = store.records()
        assert store.states(["k1"]) == {"k1": ("done", None, None, None)}
        assert store.provenance("k1")["finished_at"] == "2026-09-21T14:13:20.000+00:00"
        assert store.provenance("k1")["fingerprint"] == "unknown"
    assert _digest(path) == before
    assert old.metrics["curve"] == Curve([0, 1], [3.0, 4.0], "index")
    with Store(path) as store:
        assert store.schema == "2" and store.records() == [old]
        store.put(_record(fingerprint="new"))
        assert [r.fingerprint for r in store.history("k1")] == [None]


def test_a_store_whose_runs_table_lacks_columns_is_refused_untouched(tmp_path):
    path = tmp_path / "broken.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE runs (key TEXT, other TEXT);"
        "INSERT INTO meta VALUES ('app', 'modlab'); INSERT INTO meta VALUES ('schema', '1');"
    )
    db.close()
    before = _digest(path)
    with pytest.raises(StoreError, match="lacks the columns"):
        Store(path)
    assert _digest(path) == before


def test_records_survive_the_json_round_trip_of_recovery_files(store):
    record = _record(curve=Curve([1, 2], [3.0, float("inf")]))
    again = RunRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert again == record


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a read-only tmpfs")
def test_a_store_on_a_read_only_medium_is_read_without_a_trace(tmp_path):
    import shutil
    import subprocess

    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with Store.create(tmp_path / "s.sqlite") as store:
            store.put(_record())
        shutil.copy(tmp_path / "s.sqlite", mount / "s.sqlite")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        with Store(mount / "s.sqlite", readonly=True) as store:
            assert store.statuses(["k1"]) == {"k1": "done"}
        assert sorted(p.name for p in mount.iterdir()) == ["s.sqlite"]
    finally:
        subprocess.run(["umount", str(mount)], check=True)
