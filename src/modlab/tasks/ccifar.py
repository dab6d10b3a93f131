"""Paper A's Compositional CIFAR-10: k images side by side, k class labels, unseen combinations.

Training composites are drawn from the seen class combinations and the training images; the test
sets are built from the test images (images never seen in training): seen combinations, unseen
(held-out) combinations, and the unseen ones again under additive Gaussian noise (noise added to
the [0, 1] pixels before standardisation). Every composite is standardised per channel with the
training images' mean and standard deviation and flattened, ready for an MLP.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from modlab.tasks.composition import add_noise, compose, sample_combination_labels, sample_image_index
from modlab.tasks.image_data import N_CLASSES, LabelledImages


@dataclass(frozen=True)
class CompositionalImages:
    """Flattened composites ``*_x`` (n, C·H·k·W) and their labels ``*_y`` (n, k) for the sets
    ``train`` (seen combinations), ``seen``, ``unseen`` and ``noisy`` (the unseen composites plus noise);
    ``image_shape`` = (C, H, k·W) of one composite."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    seen_x: torch.Tensor
    seen_y: torch.Tensor
    unseen_x: torch.Tensor
    unseen_y: torch.Tensor
    noisy_x: torch.Tensor
    image_shape: tuple[int, int, int]


def make_compositional_images(
    train: LabelledImages,
    test: LabelledImages,
    n_slots: int,
    n_train: int,
    n_test: int,
    modulus: int,
    noise_std: float,
    generator: torch.Generator,
) -> CompositionalImages:
    """Draw every set from ``generator`` (deterministic given its state)."""
    mean = train.images.mean(dim=(0, 2, 3), keepdim=True)
    std = train.images.std(dim=(0, 2, 3), keepdim=True)

    def draw(pool: LabelledImages, n: int, unseen: bool) -> tuple[torch.Tensor, torch.Tensor]:
        labels = sample_combination_labels(n, n_slots, N_CLASSES, modulus, unseen, generator)
        return compose(pool.images, sample_image_index(pool.labels, labels, generator)), labels

    def flat(images: torch.Tensor) -> torch.Tensor:
        return ((images - mean) / std).flatten(1)

    train_x, train_y = draw(train, n_train, unseen=False)
    seen_x, seen_y = draw(test, n_test, unseen=False)
    unseen_x, unseen_y = draw(test, n_test, unseen=True)
    noisy_x = add_noise(unseen_x, noise_std, generator)
    return CompositionalImages(
        flat(train_x),
        train_y,
        flat(seen_x),
        seen_y,
        flat(unseen_x),
        unseen_y,
        flat(noisy_x),
        tuple(train_x.shape[1:]),  # type: ignore[arg-type]  # images are (N, C, H, W)
    )


def slot_energy(projections: torch.Tensor, image_shape: tuple[int, int, int], n_slots: int) -> torch.Tensor:
    """Share of each module's projection energy on each slot's pixels: projections (K̂, D, b̂) with
    D = C·H·k·W (flattened composites) → (K̂, k), rows summing to 1. A module that reads one image
    has a row like (1, 0, …, 0)."""
    c, h, width = image_shape
    energy = (projections**2).sum(-1).reshape(-1, c, h, n_slots, width // n_slots)
    per_slot = energy.sum(dim=(1, 2, 4))
    return per_slot / per_slot.sum(1, keepdim=True)


__all__ = ["CompositionalImages", "make_compositional_images", "slot_energy"]
