"""Every script in benchmarks/ runs at a tiny size and ends with its JSON line. No timing is
asserted: the scripts' speed claims are read from their output (``make bench``), not tested here;
what is tested is that each still runs against the current API and agrees with its reference path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TINY = {
    "theory_speed.py": ["--seeds", "2"],
    "linear_modules_speed.py": ["--seeds", "4", "--epochs", "5"],
    "kernel_rule_speed.py": ["--runs", "2", "--steps", "2", "--repeats", "1", "--threads", "1", "--device", "cpu"],
    "sweep_throughput.py": ["--runs", "8", "--workers", "2", "--repeats", "1"],
    "ensemble_speed.py": ["--repeats", "1", "--threads", "1"],
}


def test_every_benchmark_script_has_a_tiny_run():
    assert sorted(TINY) == sorted(p.name for p in BENCHMARKS.glob("*.py"))


@pytest.mark.parametrize("script", sorted(TINY))
def test_a_benchmark_script_runs_and_ends_with_its_json(script):
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *TINY[script]], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if script == "linear_modules_speed.py":
        assert result["max_abs_difference"] < 1e-6  # the batched path equals the per-seed loop
