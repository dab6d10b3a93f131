"""Paper B's dataset space (docs/specialization.md §1): systematic ±1 features plus memorised identity blocks.

A point of the space is ``(n1, n2, k1, k2, r)``. The ``P = 2^n_features`` data points are every
combination of ``n_features`` binary ±1 features (``n_features`` defaults to ``n1``; the paper's
motivating example keeps ``P = 8`` while dropping the systematic inputs, ``n1 = 0``). Columns are
data points, in binary counting order (the first point is all −1):

- input  ``X = [X_sys ; r·I_P ; … ; r·I_P]`` with ``k1`` identity blocks, ``X_sys`` the first
  ``n1`` feature rows (Ωx = those rows, Γx = the identity rows);
- output ``Y = [Y_sys ; r·I_P ; … ; r·I_P]`` with ``k2`` identity blocks, ``Y_sys`` ``n2`` of the
  ``n1`` rows of ``X_sys`` (the first ``n2``, or a subset drawn from ``row_seed``).

A held-out split trains on ``n_train`` of the ``P`` columns (the first ones, or a subset drawn from
``split_seed``) and tests on the rest. :func:`full_rank_probability` estimates how many sampled
combinations a learner needs before the systematic input covariance is identifiable.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from pydantic import Field, model_validator

from modlab.config import MAX_SEED, Config

MAX_FEATURES = 10  # P = 1024 points, input dimension up to n1 + k1·1024
MAX_EXACT_SUBSETS = 200_000  # the exact full-rank count enumerates at most this many subsets


class DatasetSpaceConfig(Config):
    """One point ``(n1, n2, k1, k2, r)`` of the dataset space, with an optional held-out split."""

    n1: int = Field(3, ge=0, description="systematic input features")
    n2: int = Field(1, ge=0, description="systematic output features kept (≤ n1)")
    k1: int = Field(3, ge=0, description="identity blocks in the input")
    k2: int = Field(1, ge=0, description="identity blocks in the output")
    r: float = Field(1.0, ge=0, description="scale of the identity blocks")
    n_features: int | None = Field(
        None, ge=0, description="binary features generating P = 2^n_features points (default n1)"
    )
    row_seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="draw which n2 rows of X_sys are outputs (default: the first n2)"
    )
    n_train: int | None = Field(None, ge=1, description="training columns of a held-out split (default: all P)")
    split_seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="draw the training columns (default: the first n_train)"
    )

    @model_validator(mode="after")
    def _check(self) -> DatasetSpaceConfig:
        if self.n2 > self.n1:
            raise ValueError(f"n2 = {self.n2}: at most n1 = {self.n1} systematic outputs can be kept")
        if self.features > MAX_FEATURES:
            raise ValueError(f"n_features = {self.features}: at most {MAX_FEATURES} (P = 2^n_features points)")
        if self.features < self.n1:
            raise ValueError(f"n_features = {self.n_features}: must be ≥ n1 = {self.n1}")
        if self.input_dim == 0:
            raise ValueError("n1 = 0 and k1 = 0: the input is empty; set n1 or k1 ≥ 1")
        if self.output_dim == 0:
            raise ValueError("n2 = 0 and k2 = 0: the output is empty; set n2 or k2 ≥ 1")
        if self.n2 == 0 and self.r == 0:
            raise ValueError("r = 0 with n2 = 0: every target is zero; set r > 0 or n2 ≥ 1")
        if self.n_train is not None and self.n_train > self.n_points:
            raise ValueError(f"n_train = {self.n_train}: at most P = {self.n_points} points")
        return self

    @property
    def features(self) -> int:
        return self.n1 if self.n_features is None else self.n_features

    @property
    def n_points(self) -> int:
        """P, the number of data points."""
        return 2**self.features

    @property
    def input_dim(self) -> int:
        return self.n1 + self.k1 * self.n_points

    @property
    def output_dim(self) -> int:
        return self.n2 + self.k2 * self.n_points


@dataclass(frozen=True)
class DatasetSpace:
    """A materialised point. ``x``: (n1 + k1·P, P), ``y``: (n2 + k2·P, P), float64, columns are
    points. Index sets (long tensors) of rows: ``omega_x``/``gamma_x`` of ``x``, ``omega_y``/
    ``gamma_y`` of ``y``; ``train``/``test`` index columns (``test`` empty without a split);
    ``output_rows``: which rows of ``X_sys`` became ``Y_sys``."""

    x: torch.Tensor
    y: torch.Tensor
    omega_x: torch.Tensor
    gamma_x: torch.Tensor
    omega_y: torch.Tensor
    gamma_y: torch.Tensor
    train: torch.Tensor
    test: torch.Tensor
    output_rows: torch.Tensor


def feature_patterns(n_features: int) -> torch.Tensor:
    """All ``2^n_features`` ±1 patterns in binary counting order, shape (n_features, P)."""
    points = torch.arange(2**n_features)
    bits = (points.unsqueeze(0) >> torch.arange(n_features - 1, -1, -1).unsqueeze(1)) & 1
    return (2 * bits - 1).to(torch.float64)


def make_dataset(cfg: DatasetSpaceConfig) -> DatasetSpace:
    """Build X, Y and the index sets of one point of the space (deterministic from the config)."""
    n_points = cfg.n_points
    x_sys = feature_patterns(cfg.features)[: cfg.n1]
    output_rows = _choose(cfg.n1, cfg.n2, cfg.row_seed)
    identity = cfg.r * torch.eye(n_points, dtype=torch.float64)
    x = torch.cat([x_sys, *[identity] * cfg.k1])
    y = torch.cat([x_sys[output_rows], *[identity] * cfg.k2])
    n_train = n_points if cfg.n_train is None else cfg.n_train
    order = (
        torch.randperm(n_points, generator=torch.Generator().manual_seed(cfg.split_seed))
        if cfg.split_seed is not None
        else torch.arange(n_points)
    )
    return DatasetSpace(
        x=x,
        y=y,
        omega_x=torch.arange(cfg.n1),
        gamma_x=torch.arange(cfg.n1, cfg.input_dim),
        omega_y=torch.arange(cfg.n2),
        gamma_y=torch.arange(cfg.n2, cfg.output_dim),
        train=order[:n_train].sort().values,
        test=order[n_train:].sort().values,
        output_rows=output_rows,
    )


def _choose(n: int, k: int, seed: int | None) -> torch.Tensor:
    """``k`` of ``range(n)``: the first ``k``, or a sorted random subset drawn from ``seed``."""
    if seed is None:
        return torch.arange(k)
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k].sort().values


def full_rank_probability(
    n1: int, n_samples: list[int], *, draws: int = 5000, seed: int = 0, exact: bool = True
) -> dict[str, list[float]]:
    """Probability that ``j`` distinct sampled combinations identify the systematic structure.

    For each ``j`` in ``n_samples``: sample ``j`` of the ``P = 2^n1`` ±1 patterns without
    replacement (``draws`` Monte-Carlo draws from ``seed``), stack them as ``S`` (j × n1) and test
    ``SᵀS`` (n1 × n1, proportional to the sample's systematic input covariance):

    - ``rank``: true rank test, ``matrix_rank(SᵀS) == n1``;
    - ``paper_det``: the paper's test, ``|det(|SᵀS|)| > 0.1`` with ``|·|`` element-wise.

    With ``exact`` the rank probability is also counted over every subset (``rank_exact``, NaN
    where there are more than ``MAX_EXACT_SUBSETS``). Returns lists aligned with ``n_samples``.
    """
    patterns = feature_patterns(n1).T  # (P, n1)
    n_points = patterns.shape[0]
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, list[float]] = {"rank": [], "paper_det": [], "rank_exact": []}
    for j in n_samples:
        if not 1 <= j <= n_points:
            raise ValueError(f"n_samples entry {j}: must be in [1, P = {n_points}]")
        picks = torch.rand(draws, n_points, generator=gen).argsort(dim=1)[:, :j]
        rank_ok, det_ok = _identifiable(patterns[picks])
        out["rank"].append(rank_ok.double().mean().item())
        out["paper_det"].append(det_ok.double().mean().item())
        out["rank_exact"].append(_exact_rank_probability(patterns, j) if exact else math.nan)
    return out


def _identifiable(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``samples`` (B, j, n1) → (full rank by ``matrix_rank``, paper's determinant test), each (B,)."""
    gram = samples.mT @ samples
    n1 = samples.shape[-1]
    return torch.linalg.matrix_rank(gram) == n1, torch.linalg.det(gram.abs()).abs() > 0.1


def _exact_rank_probability(patterns: torch.Tensor, j: int) -> float:
    """Fraction of all ``C(P, j)`` subsets whose patterns have full rank (NaN when too many)."""
    n_points = patterns.shape[0]
    if math.comb(n_points, j) > MAX_EXACT_SUBSETS:
        return math.nan
    subsets = torch.tensor(list(itertools.combinations(range(n_points), j)), dtype=torch.long)
    rank_ok, _ = _identifiable(patterns[subsets])
    return rank_ok.double().mean().item()
