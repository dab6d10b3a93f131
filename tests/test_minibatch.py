"""Per-member mini-batch schedules: epochs of permutations, full batches, padding weights."""

from __future__ import annotations

import torch

from modlab.train.minibatch import CHUNK_STEPS, BatchSchedule, padded_weights


def test_each_epoch_visits_every_sample_once():
    schedule = BatchSchedule([12, 40], 4, [torch.Generator().manual_seed(i) for i in range(2)])
    steps = [schedule.next() for _ in range(30)]
    indices = torch.stack([i for i, _ in steps])  # (steps, S, B)
    member1 = indices[:, 1].reshape(-1)
    for epoch in range(3):
        assert sorted(member1[epoch * 40 : (epoch + 1) * 40].tolist()) == list(range(40))
    member0 = indices[:, 0].reshape(-1)
    assert sorted(member0[:12].tolist()) == list(range(12))
    assert torch.allclose(steps[0][1], torch.full((2, 4), 0.25))


def test_small_members_use_their_full_set_with_padding_weights():
    schedule = BatchSchedule([3, 50], 8, [torch.Generator() for _ in range(2)])
    indices, weights = schedule.next()
    assert indices.shape == weights.shape == (2, 8)
    assert indices[0, :3].tolist() == [0, 1, 2]
    torch.testing.assert_close(weights[0], torch.tensor([1 / 3] * 3 + [0.0] * 5))
    assert not schedule.full_batch
    assert BatchSchedule([3, 5], 0, [torch.Generator() for _ in range(2)]).full_batch


def test_streams_continue_across_chunks_and_are_reproducible():
    def draw():
        schedule = BatchSchedule([7], 3, [torch.Generator().manual_seed(4)])
        return torch.cat([schedule.next()[0][0] for _ in range(CHUNK_STEPS + 5)])

    first, second = draw(), draw()
    assert torch.equal(first, second)
    whole = first[: 7 * ((CHUNK_STEPS + 5) * 3 // 7)].view(-1, 7)
    assert all(sorted(row.tolist()) == list(range(7)) for row in whole)


def test_padded_weights_sum_to_one():
    weights = padded_weights([2, 5], 6)
    torch.testing.assert_close(weights.sum(1), torch.ones(2))
    assert weights[0, 2:].eq(0).all()
