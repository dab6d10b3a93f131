"""Backends: every item comes back once, a dead worker's item is retried or reported lost, and a
sweep on a local Ray fills the store with exactly the table the local backend gives."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import backend_probes
import pandas as pd
import pytest
from backend_probes import (
    die_on_request,
    driver_alive_before_and_after_close,
    pid_and_threads,
    raise_on_three,
    square,
    torch_threads,
)

from modlab.errors import ConfigError, ModlabError
from modlab.store import Store
from modlab.sweep import LocalBackend, Lost, RayBackend, SweepSpec, make_backend, run_sweep
from modlab.sweep.backends import RAY_CPUS_PER_TASK, driver_alive, threads_per_worker

TINY = SweepSpec(
    experiment="linear-rf", name="tiny", base={"m": 4}, axes={"n": [8, 16, 32], "p": [4, 12], "seed": [0, 1, 2]}
)


def test_in_process_backend_yields_every_result_in_order():
    assert list(LocalBackend(1).map(square, range(4), "cpu")) == [(0, "cpu"), (1, "cpu"), (4, "cpu"), (9, "cpu")]


def test_worker_pool_retries_a_killed_worker_and_reports_one_that_always_dies(tmp_path):
    items = [
        (0, "ok", None),
        (1, "once", str(tmp_path / "died-once")),
        (2, "always", None),
        (3, "ok", None),
        (4, "ok", None),
    ]
    results = list(LocalBackend(workers=2, retries=1).map(die_on_request, items, "cpu"))
    lost = [r for r in results if isinstance(r, Lost)]
    assert sorted(r for r in results if not isinstance(r, Lost)) == [0, 1, 3, 4]
    assert [r.item for r in lost] == [(2, "always", None)]
    assert "died (exit code -9) on all 2 attempts" in lost[0].reason
    assert (tmp_path / "died-once").exists()


def test_worker_pool_reraises_an_error_of_the_function():
    with pytest.raises(ValueError, match="three is not allowed"):
        list(LocalBackend(workers=2).map(raise_on_three, [1, 3], "cpu"))


def test_lost_batches_are_recorded_failed_and_the_sweep_finishes(tmp_path):
    class LosesFirstBatch(LocalBackend):
        def map(self, fn, items, device):
            first, *rest = items
            yield Lost(first, "worker process died (exit code -9) on all 2 attempts")
            yield from super().map(fn, rest, device)

    with Store.create(tmp_path / "s.sqlite") as store:
        report = run_sweep(TINY, store, backend=LosesFirstBatch(), progress=False)
        failed = store.records(TINY.keys(), status="failed")
    assert (report.computed, report.failed) == (15, 3)
    assert {r.error for r in failed} == {"worker process died (exit code -9) on all 2 attempts"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gpu", None, None), "backend 'gpu': allowed local, ray"),
        (("local", 0, None), "workers = 0: must be ≥ 1"),
        (("local", None, "10.0.0.1:6379"), "given with backend 'local'"),
        (("ray", None, "10.0.0.1"), "has no port"),
        (("ray", None, "10.0.0.1:0"), "outside 1–65535"),
    ],
)
def test_make_backend_refuses_bad_choices(args, message):
    with pytest.raises(ConfigError, match=message):
        make_backend(*args)


def test_driver_alive_is_true_in_the_driver_and_false_in_a_worker_whose_driver_is_gone():
    assert driver_alive()
    [(alive_before, alive_after)] = LocalBackend(workers=2).map(driver_alive_before_and_after_close, [0], "cpu")
    assert (alive_before, alive_after) == (True, False)


def test_make_backend_builds_the_named_backend():
    assert isinstance(make_backend("local", 3), LocalBackend) and make_backend("local", 3).workers == 3
    ray_backend = make_backend("ray", 2, "127.0.0.1:6379")
    assert isinstance(ray_backend, RayBackend) and (ray_backend.address, ray_backend.workers) == ("127.0.0.1:6379", 2)


def test_ray_backend_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ModlabError, match=r"pip install 'modlab\[ray\]'"):
        list(RayBackend().map(square, [1], "cpu"))


def test_ray_backend_fails_fast_on_an_address_nobody_listens_on():
    pytest.importorskip("ray", reason="ray is not installed (pip install 'modlab[ray]')")
    with pytest.raises(ModlabError, match="cannot reach Ray at 127.0.0.1:1"):
        list(RayBackend(address="127.0.0.1:1").map(square, [1], "cpu"))


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'modlab[ray]')")
    ray.cloudpickle.register_pickle_by_value(backend_probes)  # Ray's workers cannot import tests/
    yield
    ray.shutdown()


def test_sweep_on_local_ray_gives_the_in_process_bits_at_equal_threads(tmp_path, local_ray):
    with Store.create(tmp_path / "local.sqlite") as store, torch_threads(RAY_CPUS_PER_TASK):
        run_sweep(TINY, store, progress=False)
        local = store.table(TINY.keys())
    with Store.create(tmp_path / "ray.sqlite") as store:
        report = run_sweep(TINY, store, backend=RayBackend(workers=2), progress=False)
        on_ray = store.table(TINY.keys())
        devices = {store.provenance(k)["device"] for k in TINY.keys()}
    assert (report.computed, report.failed) == (18, 0)
    assert devices == {"cpu"}
    pd.testing.assert_frame_equal(on_ray, local, check_exact=True)


def test_ray_retries_a_task_whose_worker_died(tmp_path, local_ray):
    marker = str(tmp_path / "died-once")
    results = list(RayBackend(workers=2, retries=1).map(die_on_request, [(5, "once", marker), (6, "ok", None)], "cpu"))
    assert sorted(results) == [5, 6]


def test_ray_reports_a_task_whose_worker_always_dies(local_ray):
    [result] = RayBackend(workers=1, retries=0).map(die_on_request, [(7, "always", None)], "cpu")
    assert isinstance(result, Lost) and result.item == (7, "always", None)
    assert "ray gave up on the task" in result.reason


def test_ray_reraises_an_error_of_the_function(local_ray):
    with pytest.raises(ValueError, match="three is not allowed"):
        list(RayBackend(workers=2).map(raise_on_three, [1, 3], "cpu"))


def test_one_item_on_a_pool_still_runs_in_a_worker():
    """So a sweep's bits never depend on how many batches it has left (worker threads ≠ driver's)."""
    [(pid, threads)] = LocalBackend(workers=2).map(pid_and_threads, [0], "cpu")
    assert pid != os.getpid()
    assert threads == threads_per_worker(2)


def test_ray_tasks_run_with_one_thread_per_cpu_they_hold(local_ray):
    [(_, threads)] = RayBackend(workers=2).map(pid_and_threads, [0], "cpu")
    assert threads == RAY_CPUS_PER_TASK


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            kids = [int(p) for p in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
        except OSError:
            continue
        found += kids
        todo += kids
    return found


def ray_task_workers(driver: int) -> list[int]:
    """The driver's local Ray worker processes that are running one of our tasks."""
    pids = []
    for pid in descendants(driver):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::_call_with_threads"):
                pids.append(pid)
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds Ray's processes through Linux /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_ray_tasks_stop_when_the_driver_goes(tmp_path, signum):
    """SIGTERM: one line, exit 143 (not Ray's stack); SIGKILL: the running tasks' worker processes
    exit within seconds instead of finishing their batch (each computes for many seconds)."""
    pytest.importorskip("ray", reason="ray is not installed (pip install 'modlab[ray]')")
    spec = tmp_path / "slow.json"
    spec.write_text(
        json.dumps(
            # one task is the 16 seeds of one n: tens of seconds, so the signal lands mid-task
            {
                "experiment": "linear-rf",
                "base": {"m": 4, "p": 1500},
                "axes": {"n": [6000, 6100], "seed": list(range(16))},
            }
        )
    )
    command = [sys.executable, "-m", "modlab.cli", "sweep", str(spec), "--store", str(tmp_path / "s.sqlite")]
    proc = subprocess.Popen(
        [*command, "--backend", "ray", "--workers", "2", "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (workers := ray_task_workers(proc.pid)) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert workers, "no Ray task started"
    time.sleep(1)
    family = descendants(proc.pid)  # Ray's own processes too, to clean up after the test
    proc.send_signal(signum)
    proc.wait(timeout=60)
    try:
        deadline = time.monotonic() + 5
        while (alive := [p for p in workers if Path(f"/proc/{p}").exists()]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive, f"Ray task workers {alive} outlived the driver"
        if signum == signal.SIGTERM:
            assert proc.returncode == 143
            lines = [line for line in proc.stderr.read().splitlines() if "modlab" in line or "Traceback" in line]
            assert lines == ["modlab: terminated; finished runs are stored, rerun the same command to resume"]
    finally:
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.stderr.close()
