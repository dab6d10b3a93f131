"""Compositional MNIST targets and composites."""

import torch

from modlab.tasks.cmnist import compositional_targets, make_compositional_digits
from modlab.tasks.image_data import load_images


def test_targets_are_slot_one_hots_then_scaled_number_one_hot():
    labels = torch.tensor([[3, 0, 7], [9, 9, 9]])
    y = compositional_targets(labels, scale=10.0)
    assert y.shape == (2, 30 + 1000)
    assert y[0, :30].nonzero().flatten().tolist() == [3, 10, 27]
    assert y[0, 30:].nonzero().flatten().tolist() == [307] and y[0, 30 + 307] == 10.0
    assert y[1, 30 + 999] == 10.0 and y[1, 30:].sum() == 10.0


def test_digits_composites_follow_the_chunk_layout():
    train, test = load_images("digits", "train"), load_images("digits", "test")
    data = make_compositional_digits(train, test, n_slots=3, scale=10.0)
    assert data.train_x.shape == (400, 1, 8, 24) and data.test_x.shape == (199, 1, 8, 24)
    assert data.n_systematic == 30 and data.train_y.shape == (400, 1030)
    # composite 5's middle slot is training image 400 + 5, and its label is that image's label
    assert torch.equal(data.train_x[5, 0, :, 8:16], train.images[405, 0])
    assert data.train_y[5, 10 + int(train.labels[405])] == 1.0
