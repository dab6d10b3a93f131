"""Shared fixtures: a tiny in-process experiment whose runs can fail or return NaN on demand."""

from __future__ import annotations

import math

import pytest
from pydantic import Field

from modlab.config import Config
from modlab.experiments import EXPERIMENTS, Experiment, register


class ProbeConfig(Config):
    """``value`` is returned as the metric; ``fail`` raises, ``nan`` returns NaN, ``inf`` infinity
    (and an infinite theory value, which is not a measurement)."""

    value: float = 1.0
    fail: bool = False
    nan: bool = False
    inf: bool = False
    seed: int = Field(0, ge=0)


def _probe_batch(configs, device):
    out = []
    for cfg in configs:
        if cfg.fail:
            raise RuntimeError(f"probe asked to fail (value={cfg.value})")
        score = math.nan if cfg.nan else math.inf if cfg.inf else cfg.value + cfg.seed
        theory = {"theory_score": math.inf} if cfg.inf else {}
        out.append({"score": score, **theory, "curve": [cfg.value, cfg.value / 2]})
    return out


if "probe" not in EXPERIMENTS:
    register(Experiment("probe", ProbeConfig, _probe_batch, "test-only probe experiment"))


@pytest.fixture
def one_thread():
    """Train on one torch thread (small networks: thread hand-offs cost more than they give, and
    results are bit-stable); the previous setting is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def store(tmp_path):
    from modlab.store import Store

    with Store(tmp_path / "store.sqlite", create=True) as opened:
        yield opened
