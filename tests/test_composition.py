"""The composition layer shared by both papers' image tasks."""

import pytest
import torch

from modlab.tasks.composition import (
    add_noise,
    chunk_index,
    compose,
    held_out,
    sample_combination_labels,
    sample_image_index,
)


def test_compose_places_slots_left_to_right():
    images = torch.arange(5 * 2 * 3 * 4, dtype=torch.float32).reshape(5, 2, 3, 4)
    index = torch.tensor([[4, 0, 2], [1, 1, 3]])
    out = compose(images, index)
    assert out.shape == (2, 2, 3, 12)
    for row, slots in enumerate(index.tolist()):
        for slot, image in enumerate(slots):
            assert torch.equal(out[row, :, :, 4 * slot : 4 * slot + 4], images[image])


def test_chunk_index_is_papers_consecutive_chunks():
    index = chunk_index(10, 3)
    assert index.tolist() == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_seen_and_unseen_combinations_are_disjoint_and_uniform(k):
    gen = torch.Generator().manual_seed(0)
    unseen = sample_combination_labels(20000, k, 10, 5, True, gen)
    seen = sample_combination_labels(20000, k, 10, 5, False, gen)
    assert held_out(unseen, 5).all() and not held_out(seen, 5).any()
    for labels in (seen, unseen):
        freq = torch.bincount(labels.flatten(), minlength=10).float() / labels.numel()
        assert torch.allclose(freq, torch.full((10,), 0.1), atol=0.01)
    if k == 2:  # the 20 held-out pairs (a + b) mod 5 = 0 all appear, equally often
        codes = torch.bincount(unseen[:, 0] * 10 + unseen[:, 1], minlength=100)
        assert (codes > 0).sum() == 20 and codes.max() < 1.2 * codes[codes > 0].min()


def test_single_image_has_no_held_out_combination():
    gen = torch.Generator().manual_seed(1)
    labels = sample_combination_labels(5000, 1, 10, 5, True, gen)
    assert not held_out(labels, 5).any() and labels.unique().numel() == 10


def test_modulus_must_divide_classes():
    with pytest.raises(ValueError, match="modulus = 3"):
        sample_combination_labels(4, 2, 10, 3, True, torch.Generator())


def test_sample_image_index_matches_labels():
    gen = torch.Generator().manual_seed(2)
    pool = torch.randint(10, (300,), generator=gen)
    wanted = torch.randint(10, (50, 4), generator=gen)
    index = sample_image_index(pool, wanted, gen)
    assert torch.equal(pool[index], wanted)
    assert index.unique().numel() > 100  # draws spread over the pool, not one image per class


def test_add_noise_is_seeded_gaussian():
    x = torch.zeros(20000)
    a = add_noise(x, 0.3, torch.Generator().manual_seed(3))
    b = add_noise(x, 0.3, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and abs(float(a.std()) - 0.3) < 0.01
