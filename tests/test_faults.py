"""Nothing finished is lost and nothing is stored twice: the sweep driver SIGKILLed at random points
and rerun, a worker process SIGKILLed mid-sweep, Ctrl-C, and two sweeps (and two raw writers)
sharing one store at once all end with exactly the table of one uninterrupted run."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from backend_probes import torch_threads

from modlab.store import Store
from modlab.sweep import SweepSpec, run_sweep
from modlab.sweep.backends import threads_per_worker
from modlab.train.threads import choose_threads

SEEDS = [0, 1, 2, 3]
N_VALUES = [500, 550, 600, 650, 700, 750, 800, 850]
SPEC = {"experiment": "linear-rf", "name": "faults", "base": {"m": 4, "p": 400}, "axes": {"n": N_VALUES, "seed": SEEDS}}
RUNS = len(N_VALUES) * len(SEEDS)
BATCH = len(SEEDS)  # the seeds of one n are simulated as one batch
WAIT_S = 120


def uninterrupted_table(folder: Path) -> pd.DataFrame:
    spec = SweepSpec.model_validate(SPEC)
    with Store.create(folder / "s.sqlite") as store:
        run_sweep(spec, store, progress=False)
        return store.table(spec.keys())


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    """The table of one uninterrupted in-process run, at the threads the command line picks for one
    process (results' last bits depend on the thread count; a batch an interruption left half
    stored is recomputed whole, so batching does not change them)."""
    with torch_threads(choose_threads(1)):
        return uninterrupted_table(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def reference_two_workers(tmp_path_factory) -> pd.DataFrame:
    """The same, with the intra-op threads each of two workers gets."""
    with torch_threads(threads_per_worker(2)):
        return uninterrupted_table(tmp_path_factory.mktemp("reference-two-workers"))


def write_spec(folder: Path, name: str, n_values: list[int]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({**SPEC, "name": name, "axes": {"n": n_values, "seed": SEEDS}}))
    return path


def launch(spec: Path, store: Path, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "modlab.cli",
        "sweep",
        str(spec),
        "--store",
        str(store),
        "--device",
        "cpu",
        "--no-progress",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored_rows(store: Path) -> int:
    """Committed runs, read without writing (0 while the store does not exist yet)."""
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return 0


def wait_for_rows(store: Path, target: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_S
    while stored_rows(store) < target:
        if proc.poll() is not None:
            pytest.fail(f"sweep exited ({proc.returncode}) before {target} runs were stored: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"fewer than {target} runs stored after {WAIT_S} s")
        time.sleep(0.002)


def finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 0, err
    assert err.endswith(" 0 failed\n"), err


def final_table(store: Path) -> pd.DataFrame:
    spec = SweepSpec.model_validate(SPEC)
    with Store(store) as opened:
        return opened.table(spec.keys())


def assert_complete_and_unique(store: Path, table: pd.DataFrame, reference: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(table, reference, check_exact=True)
    assert not table.duplicated(["key", "metric", "step"]).any()
    db = sqlite3.connect(store)
    try:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM runs").fetchone() == (RUNS, RUNS)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkilled_driver_then_rerun_gives_the_uninterrupted_table(tmp_path, reference, seed):
    """Kill points: after a random number of stored runs (a batch boundary or mid-batch) plus a
    random delay; seed 1 is killed twice before the final rerun."""
    rng = random.Random(seed)
    spec, store = write_spec(tmp_path, "faults", N_VALUES), tmp_path / "s.sqlite"
    for target in sorted(rng.sample(range(1, RUNS - BATCH), 1 + seed % 2)):
        proc = launch(spec, store)
        wait_for_rows(store, target, proc)
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        assert stored_rows(store) < RUNS, "the kill landed after the sweep had finished"
    assert stored_rows(store) > 0
    finish(launch(spec, store))
    assert_complete_and_unique(store, final_table(store), reference)


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def worker_pids(driver: int) -> list[int]:
    """The pool's workers: the children of the driver's fork server."""
    servers = [p for p in children(driver) if b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
    return [w for server in servers for w in children(server)]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds worker processes through Linux /proc")
def test_sigkilled_worker_is_replaced_and_the_sweep_finishes(tmp_path, reference_two_workers):
    spec, store = write_spec(tmp_path, "faults", N_VALUES), tmp_path / "s.sqlite"
    proc = launch(spec, store, "--workers", "2")
    wait_for_rows(store, 1, proc)
    victims = worker_pids(proc.pid)
    assert victims, "no worker processes found"
    os.kill(victims[0], signal.SIGKILL)
    finish(proc)
    assert not Path(f"/proc/{victims[0]}").exists()
    assert_complete_and_unique(store, final_table(store), reference_two_workers)


def test_ctrl_c_stops_the_workers_quietly_and_the_rerun_finishes(tmp_path, reference_two_workers):
    spec, store = write_spec(tmp_path, "faults", N_VALUES), tmp_path / "s.sqlite"
    proc = launch(spec, store, "--workers", "2")
    wait_for_rows(store, 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 130
    assert err == "modlab: interrupted; finished runs are stored, rerun the same command to resume\n"
    assert stored_rows(store) < RUNS
    finish(launch(spec, store, "--workers", "2"))
    assert_complete_and_unique(store, final_table(store), reference_two_workers)


def test_two_sweeps_on_one_new_store_lose_nothing(tmp_path, reference):
    """Overlapping halves of the grid, started together on a store that does not exist yet."""
    store = tmp_path / "shared.sqlite"
    first = launch(write_spec(tmp_path, "first", N_VALUES[:5]), store)
    second = launch(write_spec(tmp_path, "second", N_VALUES[3:]), store)
    finish(first)
    finish(second)
    assert_complete_and_unique(store, final_table(store), reference)


WRITER = """
import sys
from modlab.store import RunRecord, Store
name, status, path = sys.argv[1:]
with Store.create(path) as store:
    for i in range(150):
        store.put(RunRecord(f"{name}-{i}", "x", {"i": i}, "done", {"v": float(i)}))
    for i in range(50):
        store.put(RunRecord(f"shared-{i}", "x", {"i": i}, status, {"v": float(i)} if status == "done" else {}, None if status == "done" else "boom"))
"""


def test_two_processes_putting_at_once_lose_no_record(tmp_path):
    """WAL, busy timeout and one transaction per put: 2 × 150 own records and 50 contested keys,
    where the writer of 'done' always wins over the writer of 'failed', whatever the order."""
    store = tmp_path / "s.sqlite"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, name, status, str(store)], stderr=subprocess.PIPE, text=True)
        for name, status in (("a", "done"), ("b", "failed"))
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=WAIT_S)
        assert proc.returncode == 0, err
    db = sqlite3.connect(store)
    try:
        counts = dict(db.execute("SELECT substr(key, 1, 1), COUNT(*) FROM runs GROUP BY substr(key, 1, 1)").fetchall())
        shared = dict(
            db.execute("SELECT status, COUNT(*) FROM runs WHERE key LIKE 'shared-%' GROUP BY status").fetchall()
        )
    finally:
        db.close()
    assert counts == {"a": 150, "b": 150, "s": 50}
    assert shared == {"done": 50}


CREATOR = """
import sys, time
from modlab.store import Store
folder, start = sys.argv[1], float(sys.argv[2])
for i in range(30):
    while time.time() < start + 0.05 * i:
        time.sleep(0.0005)
    Store.create(f"{folder}/s{i}.sqlite").close()
"""


def test_processes_creating_the_same_new_stores_at_once_all_succeed(tmp_path):
    """SQLite answers 'locked' at once, without waiting, to two first switches to WAL on one new
    file; the store waits and retries instead (this failed a few times in 40 before it did)."""
    start = str(time.time() + 4)  # after both interpreters have imported modlab
    procs = [
        subprocess.Popen([sys.executable, "-c", CREATOR, str(tmp_path), start], stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=WAIT_S)
        assert proc.returncode == 0, err
    for i in range(30):
        with Store(tmp_path / f"s{i}.sqlite") as store:
            assert store.records() == []


# --- write faults: disk full, file-size limit, store locked ----------------------------------------

SMALL_SPEC = {
    "experiment": "linear-rf",
    "name": "small",
    "base": {"m": 4, "p": 6},
    "axes": {"n": [8, 16, 32, 64], "seed": SEEDS},
}


def small_reference(folder: Path) -> pd.DataFrame:
    spec = SweepSpec.model_validate(SMALL_SPEC)
    with Store.create(folder / "reference.sqlite") as store:
        run_sweep(spec, store, progress=False)
        return store.table(spec.keys())


def sweep_cli(spec: Path, store: Path, env: dict, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    command = [sys.executable, "-m", "modlab.cli", "sweep", str(spec), "--store", str(store), "--no-progress"]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=WAIT_S, preexec_fn=limit if limit_bytes else None
    )


def mount_small_tmpfs(folder: Path) -> bool:
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )


def fill(folder: Path, leave_bytes: int) -> Path:
    """A file taking all the free space of ``folder``'s file system but ``leave_bytes``."""
    filler = folder / "filler"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    filler.write_bytes(b"\0" * max(0, free - leave_bytes))
    return filler


def test_a_write_fault_loses_no_computed_run(tmp_path):
    """Disk full on a small tmpfs (where the test may mount one), else a file-size limit: the sweep
    stops with one line naming the cause, the computed runs are in a recovery file (beside the store
    or in $TMPDIR), and the rerun imports them and ends with the uninterrupted table."""
    disk, tmpdir = tmp_path / "disk", tmp_path / "tmp"
    tmpfs = mount_small_tmpfs(disk)
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    spec, store = tmp_path / "small.json", disk / "s.sqlite"
    spec.write_text(json.dumps(SMALL_SPEC))
    try:
        Store.create(store).close()
        filler = fill(disk, 96 * 1024) if tmpfs else None
        failed = sweep_cli(spec, store, env, None if tmpfs else store.stat().st_size + 48 * 1024)
        assert failed.returncode == 2, failed.stderr
        assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
        assert "disk is full or a file-size limit" in failed.stderr and "rerun the same command" in failed.stderr
        saved = list(disk.glob("s.sqlite.recovered-*.json")) + list(tmpdir.glob("modlab-recovered-*.json"))
        assert len(saved) == 1 and str(saved[0]) in failed.stderr
        if filler is not None:
            filler.unlink()
        done = sweep_cli(spec, store, env)
        assert done.returncode == 0, done.stderr
        assert not saved[0].exists()
        with Store(store) as opened:
            table = opened.table(SweepSpec.model_validate(SMALL_SPEC).keys())
            assert opened._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        if tmpfs:
            subprocess.run(["umount", str(disk)], check=True)
    pd.testing.assert_frame_equal(table, small_reference(tmp_path), check_exact=True)


def test_a_store_locked_past_the_busy_timeout_loses_no_computed_run(tmp_path, monkeypatch):
    from modlab import store as store_module
    from modlab.errors import StoreWriteError
    from modlab.sweep import runner

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(runner, "WRITE_RETRY_DELAYS_S", (0.05,))
    spec = SweepSpec.model_validate(SMALL_SPEC)
    path = tmp_path / "s.sqlite"
    with Store.create(path) as store:
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreWriteError, match=r"held the store locked .* 4 computed run\(s\) saved to"):
            run_sweep(spec, store, progress=False)
        locker.execute("ROLLBACK")
        locker.close()
        report = run_sweep(spec, store, progress=False)
        assert (report.reused, report.computed, report.failed) == (4, 12, 0)
        table = store.table(spec.keys())
    pd.testing.assert_frame_equal(table, small_reference(tmp_path), check_exact=True)


def test_sigterm_exits_like_ctrl_c_and_the_rerun_finishes(tmp_path, reference_two_workers):
    spec, store = write_spec(tmp_path, "faults", N_VALUES), tmp_path / "s.sqlite"
    proc = launch(spec, store, "--workers", "2")
    wait_for_rows(store, 1, proc)
    workers = worker_pids(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 143
    assert err == "modlab: terminated; finished runs are stored, rerun the same command to resume\n"
    assert_gone(workers, within_s=10)
    finish(launch(spec, store, "--workers", "2"))
    assert_complete_and_unique(store, final_table(store), reference_two_workers)


def assert_gone(pids: list[int], within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while (
        alive := [p for p in pids if Path(f"/proc/{p}").exists() and b"Z" not in _state(p)]
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"worker processes {alive} outlived the driver"


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().split(b")")[-1][:3]
    except OSError:
        return b"Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds worker processes through Linux /proc")
def test_workers_die_with_a_sigkilled_driver(tmp_path):
    """Mid-batch (each batch computes for seconds), the workers exit within a second or two of the
    driver's SIGKILL instead of finishing their batch."""
    slow = {**SPEC, "name": "slow", "base": {"m": 4, "p": 1500}, "axes": {"n": [6000, 6100, 6200, 6300], "seed": SEEDS}}
    spec, store = tmp_path / "slow.json", tmp_path / "s.sqlite"
    spec.write_text(json.dumps(slow))
    proc = launch(spec, store, "--workers", "2")
    deadline = time.monotonic() + WAIT_S
    while len(workers := worker_pids(proc.pid) if proc.poll() is None else []) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(workers) == 2, proc.stderr.read() if proc.poll() is not None else "no workers"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # not communicate(): orphaned workers would hold its output pipes open
    try:
        assert_gone(workers, within_s=3)
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
