"""Per-member mini-batch schedules for an ensemble, drawn outside any batched computation.

Member i has ``n_i`` training samples (padded to a common length) and its own ``torch.Generator``.
Its batches run through an endless stream of epochs, each a fresh random permutation of its
samples (a batch may straddle two epochs). A member with ``n_i ≤ batch_size`` (or ``batch_size =
0``) uses its full set every step. Every step is returned as indices (S, B) into the padded samples
and weights (S, B) that sum to one per member (zero on padding), so members with different ``n_i``
train in one batched computation and a member's loss is ``Σ_b weight·loss``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

CHUNK_STEPS = 128  # steps of indices drawn per member at a time


class BatchSchedule:
    """Yields (indices (S, B), weights (S, B)) per step; ``full_batch`` when no member samples."""

    def __init__(self, sizes: Sequence[int], batch_size: int, generators: Sequence[torch.Generator]):
        if len(sizes) != len(generators):
            raise ValueError(f"{len(sizes)} members but {len(generators)} generators")
        if min(sizes) < 1:
            raise ValueError(f"member sizes {list(sizes)}: every member needs ≥ 1 training sample")
        self.sizes = [int(n) for n in sizes]
        self.batch_size = batch_size
        self.generators = list(generators)
        self.sampled = [batch_size > 0 and n > batch_size for n in self.sizes]
        self.width = batch_size if any(self.sampled) else max(self.sizes)
        self._streams = [torch.empty(0, dtype=torch.long) for _ in self.sizes]
        self._chunk: tuple[torch.Tensor, torch.Tensor] | None = None
        self._cursor = 0

    @property
    def full_batch(self) -> bool:
        """True when every member uses all its samples every step (no sampling at all)."""
        return not any(self.sampled)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next step's (indices (S, B), weights (S, B))."""
        if self._chunk is None or self._cursor == CHUNK_STEPS:
            self._chunk = self._draw_chunk()
            self._cursor = 0
        indices, weights = self._chunk
        step = self._cursor
        self._cursor += 1
        return indices[:, step], weights

    def _draw_chunk(self) -> tuple[torch.Tensor, torch.Tensor]:
        rows = []
        for i, n in enumerate(self.sizes):
            if self.sampled[i]:
                rows.append(self._take(i, CHUNK_STEPS * self.batch_size).view(CHUNK_STEPS, self.batch_size))
            else:
                row = torch.zeros(self.width, dtype=torch.long)
                row[:n] = torch.arange(n)
                rows.append(row.expand(CHUNK_STEPS, -1))
        weights = padded_weights([self.batch_size if s else n for s, n in zip(self.sampled, self.sizes)], self.width)
        return torch.stack(rows), weights

    def _take(self, member: int, count: int) -> torch.Tensor:
        """The next ``count`` indices of a member's stream of epoch permutations."""
        stream = self._streams[member]
        parts = [stream]
        have = stream.numel()
        while have < count:
            perm = torch.randperm(self.sizes[member], generator=self.generators[member])
            parts.append(perm)
            have += perm.numel()
        stream = torch.cat(parts)
        self._streams[member] = stream[count:]
        return stream[:count]


def padded_weights(counts: Sequence[int], width: int) -> torch.Tensor:
    """(S, width): 1/count on the first ``count`` entries of each row, 0 after."""
    counts_t = torch.tensor(counts, dtype=torch.float32)
    mask = torch.arange(width)[None, :] < counts_t[:, None]
    return mask.float() / counts_t[:, None]
