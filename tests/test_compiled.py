"""The compiled whole-step path equals the per-model loop (SGD with momentum, Adam, mini-batches,
early stopping, members of unequal n, a member count padded up to its bucket), and a member's
numbers do not depend on which runs share its bucket. Each compile takes tens of seconds on a
small CPU, so the cases are few and share shapes where they can."""

from __future__ import annotations

import pytest
import torch
from test_ensemble import SETTINGS, data, members, order_generators

from modlab import provenance
from modlab.train.compiled import MEMBER_BUCKETS, member_bucket, pad_rows
from modlab.train.ensemble import TrainSettings, train_ensemble

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(
    ("kind", "setting"), [("modular", "adam-minibatch-early-stop"), ("mlp", "sgd-momentum-full-batch")]
)
def test_compiled_equals_the_per_model_loop(kind, setting):
    count = 3  # padded to a bucket of 4
    xs, ys = data(count)
    test = ([torch.randn(20, 5) for _ in range(count)], [torch.randn(20) for _ in range(count)])
    lrs = [SETTINGS[setting].lr * (1 + i / 4) for i in range(count)]
    results = {
        method: train_ensemble(
            members(kind, count),
            xs,
            ys,
            SETTINGS[setting],
            order_generators(count),
            lrs=lrs,
            eval_sets={"test": test},
            method=method,
        )
        for method in ("loop", "compiled")
    }
    reference, compiled = results["loop"], results["compiled"]
    assert compiled.path == "compiled" and reference.path == "loop"
    notes = provenance.collect()  # of the last run, the compiled one
    assert notes["engine"] == "compiled" and notes["compile_seconds"] >= 0 and notes["threads"] == 1
    for name, value in reference.params.items():
        torch.testing.assert_close(compiled.params[name], value, atol=1e-5, rtol=1e-4)
    for name, curve in reference.curves.items():
        torch.testing.assert_close(compiled.curves[name], curve, atol=1e-5, rtol=1e-4)
    assert torch.equal(compiled.stopped_at, reference.stopped_at)
    if SETTINGS[setting].patience:
        assert (reference.stopped_at < SETTINGS[setting].steps).any(), "the case must exercise early stopping"


def test_a_member_has_the_same_bits_whoever_shares_its_bucket():
    """Members of equal n (so equal shapes): member 1 trained beside 0 and 2 equals it trained with 2."""
    settings = TrainSettings(steps=30, batch_size=8, lr=1e-2, eval_every=10)
    gen = torch.Generator().manual_seed(5)
    xs = [torch.randn(24, 5, generator=gen) for _ in range(3)]
    ys = [x[:, 0].sin() for x in xs]
    trio = train_ensemble(members("modular", 3), xs, ys, settings, order_generators(3), method="compiled")
    pair = train_ensemble(members("modular", 2, 1), xs[1:], ys[1:], settings, order_generators(2, 1), method="compiled")
    for name, value in trio.params.items():
        assert torch.equal(pair.params[name][0], value[1]), name


def test_buckets_and_row_padding():
    assert [member_bucket(n) for n in (1, 4, 5, 16, 17, 64, 65, 130)] == [4, 4, 16, 16, 64, 64, 128, 192]
    assert MEMBER_BUCKETS == tuple(sorted(MEMBER_BUCKETS))
    t = torch.arange(6.0).view(2, 3)
    assert torch.equal(pad_rows(t, 4), torch.tensor([[0.0, 1, 2], [3, 4, 5], [3, 4, 5], [3, 4, 5]]))
    assert pad_rows(t, 2) is t
