"""The example examples/kernel_rule_own_task.py runs and its kernel rule finds the made-up task's directions."""

from __future__ import annotations

import runpy
from pathlib import Path

import torch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "kernel_rule_own_task.py"


def test_example_finds_the_directions_and_beats_a_random_start():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = runpy.run_path(str(EXAMPLE))["main"]()
    finally:
        torch.set_num_threads(before)
    assert results["overlap_module_1"] > 0.9 and results["overlap_module_2"] > 0.9
    assert results["test_nmse kernel rule"] < results["test_nmse random start"]
