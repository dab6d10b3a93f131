"""Paper B's Compositional MNIST: k digits side by side, a systematic and a non-systematic target.

Composites pair the images by consecutive chunks (paper: 60k training images → 3 chunks of 20,000;
test images [0:3333], [3333:6666], [6666:9999]). The target of a composite of labels (d₁ … d_k) is
the k one-hot labels (10·k systematic outputs) followed by ``scale`` × the one-hot of the k-digit
number d₁d₂…d_k (10^k non-systematic outputs, which can only be memorised).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from modlab.tasks.composition import chunk_index, compose
from modlab.tasks.image_data import N_CLASSES, LabelledImages


@dataclass(frozen=True)
class CompositionalDigits:
    """``train_x``/``test_x``: (M, C, H, k·W) composites; ``train_y``/``test_y``: (M, 10k + 10^k)
    targets, systematic columns first; ``n_systematic`` = 10k."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    n_systematic: int


def compositional_targets(labels: torch.Tensor, scale: float) -> torch.Tensor:
    """Labels (M, k) → targets (M, 10k + 10^k): per-slot one-hots, then ``scale`` × one-hot of the number."""
    k = labels.shape[1]
    systematic = F.one_hot(labels, N_CLASSES).reshape(len(labels), N_CLASSES * k)
    place = N_CLASSES ** torch.arange(k - 1, -1, -1)
    number = (labels * place).sum(1)
    non_systematic = scale * F.one_hot(number, N_CLASSES**k)
    return torch.cat([systematic.float(), non_systematic.float()], dim=1)


def make_compositional_digits(
    train: LabelledImages,
    test: LabelledImages,
    n_slots: int = 3,
    scale: float = 10.0,
    max_train_images: int | None = None,
    max_test_images: int | None = None,
) -> CompositionalDigits:
    """Compose the first ``max_*_images`` images of each split (all by default) chunk by chunk."""
    parts = []
    for images, limit in ((train, max_train_images), (test, max_test_images)):
        count = len(images) if limit is None else min(limit, len(images))
        index = chunk_index(count, n_slots)
        parts.append((compose(images.images, index), compositional_targets(images.labels[index], scale)))
    (train_x, train_y), (test_x, test_y) = parts
    return CompositionalDigits(train_x, train_y, test_x, test_y, N_CLASSES * n_slots)


__all__ = ["CompositionalDigits", "compositional_targets", "make_compositional_digits"]
