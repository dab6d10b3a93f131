"""The engine's choices: the path ``auto`` takes comes from a fixed table (never from timing), a
user's ``--engine`` and ``--threads`` reach the processes that train, and both are noted in every
run's provenance without entering its key."""

from __future__ import annotations

import pytest
import torch

from modlab import provenance
from modlab.errors import ConfigError
from modlab.models import MLP
from modlab.sweep import LocalBackend, make_backend
from modlab.train.engine import AUTO_TABLE, auto_path, chosen_engine, engine_choice
from modlab.train.ensemble import TrainSettings, train_ensemble
from modlab.train.threads import choose_threads, intra_op_threads

CPU = torch.device("cpu")


def test_auto_compiles_only_when_the_run_is_long_enough_to_repay_the_compile():
    assert auto_path(True, CPU, steps=1500, step_flops=1e6) == "batched"
    assert auto_path(True, CPU, steps=1_000_000, step_flops=1e8) == "compiled"
    assert auto_path(False, CPU, steps=1_000_000, step_flops=1e8) == "vmap"
    assert auto_path(True, torch.device("meta"), steps=10**6, step_flops=1e8) == "batched"  # no table: unmeasured
    costs = AUTO_TABLE["cpu"]
    assert costs["compiled"].compile_s > 0 and costs["batched"].compile_s == 0


def test_engine_choice_reaches_train_ensemble_and_is_noted():
    gens = [torch.Generator().manual_seed(i) for i in range(2)]
    models = [MLP(3, (4,), 1, g) for g in gens]
    xs = [torch.randn(10, 3), torch.randn(10, 3)]
    ys = [torch.randn(10), torch.randn(10)]
    provenance.reset()
    with engine_choice("loop"), intra_op_threads(1):
        assert chosen_engine() == "loop"
        result = train_ensemble(models, xs, ys, TrainSettings(steps=3, batch_size=0), gens)
    assert chosen_engine() == "auto"
    assert result.path == "loop"
    assert provenance.collect() == {"engine": "loop", "threads": 1}


def probe_engine(item: int, device: str) -> tuple[str, int]:
    return chosen_engine(), torch.get_num_threads()


@pytest.mark.parametrize("workers", [1, 2])
def test_backends_apply_engine_and_threads_where_runs_compute(workers):
    backend = make_backend("local", workers, engine="vmap", threads=1)
    assert list(backend.map(probe_engine, [0], "cpu")) == [("vmap", 1)]


def test_bad_engine_and_threads_are_one_line_errors():
    with pytest.raises(ConfigError, match="engine 'fast': allowed auto, loop, batched, vmap, compiled"):
        LocalBackend(engine="fast")
    with pytest.raises(ConfigError, match="threads = 0: must be ≥ 1"):
        choose_threads(1, 0)
    assert choose_threads(1, 3) == 3
    assert choose_threads(10**6) == 1
