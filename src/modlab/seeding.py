"""Named random streams: one ``torch.Generator`` per purpose, seeded from a hash of its name."""

from __future__ import annotations

import hashlib

import torch


def named_generator(*parts: object) -> torch.Generator:
    """A generator seeded from the SHA-256 of ``"/".join(parts)``: distinct names give independent
    streams (no two (seed, purpose) pairs collide), the same name always the same stream."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()
    return torch.Generator().manual_seed(int(digest[:15], 16))
