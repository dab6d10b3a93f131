"""The composition layer both papers' image tasks are built from.

A composite is k labelled images placed side by side; its labels are the k class labels, one per
slot. Paper B pairs images by consecutive chunks (:func:`chunk_index`); paper A draws class
combinations, holding some out of training (:func:`sample_combination_labels`, :func:`held_out`),
and perturbs test images with additive Gaussian noise (:func:`add_noise`).

Held-out combinations (modlab): a combination of k ≥ 2 classes is unseen
when the sum of its labels is divisible by ``modulus`` (5 holds out one combination in five). A
single image (k = 1) has no combination to hold out, so for k = 1 every class is "seen" and the
unseen test set is drawn like the seen one.
"""

from __future__ import annotations

import torch


def compose(images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) and slot indices (M, k) → composites (M, C, H, k·W), slot 0 leftmost."""
    picked = images[index]  # (M, k, C, H, W)
    m, k, c, h, w = picked.shape
    return picked.permute(0, 2, 3, 1, 4).reshape(m, c, h, k * w)


def chunk_index(n_images: int, k: int) -> torch.Tensor:
    """Paper B's pairing: k consecutive chunks of ⌊N/k⌋ images, composite i = (chunk₀[i], …, chunk_{k−1}[i]).
    Returns (⌊N/k⌋, k) indices."""
    per_chunk = n_images // k
    return torch.arange(per_chunk * k).reshape(k, per_chunk).T.contiguous()


def held_out(labels: torch.Tensor, modulus: int) -> torch.Tensor:
    """Labels (M, k) → (M,) bool: the combination is unseen in training (label sum ≡ 0 mod ``modulus``;
    never for k = 1)."""
    if labels.shape[1] < 2:
        return torch.zeros(labels.shape[0], dtype=torch.bool)
    return labels.sum(1) % modulus == 0


def sample_combination_labels(
    n: int, k: int, n_classes: int, modulus: int, unseen: bool, generator: torch.Generator
) -> torch.Tensor:
    """(n, k) class labels drawn uniformly from the seen (or the unseen) combinations.

    The first k − 1 slots are uniform; the last is uniform among the classes that put the
    combination in the wanted set. When ``modulus`` divides ``n_classes`` every residue has the same
    number of completions, so this is exactly uniform over the set.
    """
    if n_classes % modulus:
        raise ValueError(f"modulus = {modulus}: must divide the number of classes {n_classes}")
    first = torch.randint(n_classes, (n, k - 1), generator=generator)
    classes = torch.arange(n_classes)
    if k == 1:
        completions = classes.expand(1, n_classes)
        residue = torch.zeros(n, dtype=torch.int64)
    else:
        residue = first.sum(1) % modulus
        sums = (torch.arange(modulus)[:, None] + classes[None, :]) % modulus  # (modulus, n_classes)
        wanted = sums == 0 if unseen else sums != 0
        completions = torch.stack([classes[row] for row in wanted])  # (modulus, completions)
    pick = torch.randint(completions.shape[1], (n,), generator=generator)
    last = completions[residue, pick]
    return torch.cat([first, last[:, None]], dim=1)


def sample_image_index(pool_labels: torch.Tensor, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """For each wanted label (M, k), a uniformly random image of that class from the pool (N,)
    → indices (M, k) into the pool."""
    order = torch.argsort(pool_labels, stable=True)
    counts = torch.bincount(pool_labels, minlength=int(labels.max()) + 1)
    if (counts[labels.unique()] == 0).any():
        raise ValueError("the image pool lacks a class that the combinations ask for")
    starts = torch.cumsum(counts, 0) - counts
    offset = (torch.rand(labels.shape, generator=generator) * counts[labels]).long()
    return order[starts[labels] + offset]


def add_noise(images: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """Paper A's perturbation: images + N(0, std²) per pixel (pixels stay unclipped)."""
    noise = torch.randn(images.shape, generator=generator, dtype=images.dtype)
    return images + std * noise


__all__ = ["add_noise", "chunk_index", "compose", "held_out", "sample_combination_labels", "sample_image_index"]
