"""Experiment ``linear-rf``: paper A's linear random-features model, simulated.

One run = one seed of one (architecture, n, p, m, …) point: draw a problem (every feature up to
``P = 10·max(p, N)`` per module explicitly, only the far tail beyond by its exact conditional law;
see :mod:`modlab.tasks.random_features`), fit it by min-norm least squares (or ridge), and measure
the train loss on the sample and the exact population test loss of the fitted weights
(``Σ_j f_j (θ_j − θ̂_j)² + unmodelled power + σ²`` per output). A modular network is K modules,
each on its own task module's features, outputs summed, fitted jointly. Only measured values are
stored; the closed form (:func:`modlab.theory.rf_losses`, keyword arguments
:meth:`LinearRFConfig.model_kwargs`) is computed by whoever compares. Seeds of one point are
simulated as one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

from modlab.config import MAX_SEED, Config, config_key
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.rules import fit_least_squares
from modlab.tasks import sample_rf_problems
from modlab.theory import Spectrum

MAX_DESIGN_ENTRIES = 50_000_000  # one seed's N × p design matrix (400 MB in float64)
EXPLICIT_FACTOR = 10  # features drawn explicitly per module: EXPLICIT_FACTOR · max(p, N)
BATCH_ENTRIES = 20_000_000  # seeds simulated together share this many design entries


MODEL_FIELDS = ("architecture", "n_modules", "module_dim", "n_outputs", "noise", "ridge", "parameterisation")


class LinearRFConfig(Config):
    """One point of the linear random-features model. ``p`` is parameters per module when modular."""

    architecture: Literal["monolithic", "modular"] = Field("monolithic", description="one model, or one per module")
    n: int = Field(100, ge=1, description="training samples")
    p: int = Field(50, ge=1, description="parameters (per module when modular)")
    m: int = Field(4, ge=1, description="task intrinsic dimension")
    n_modules: int = Field(
        1, ge=1, description="modules of the task (and of a modular network); the monolithic spectrum depends on m only"
    )
    module_dim: int = Field(1, ge=1, description="input dimension b of each module")
    n_outputs: int = Field(1, ge=1, description="outputs d per sample")
    noise: float = Field(0.0, ge=0, description="label noise standard deviation σ")
    ridge: float = Field(0.0, ge=0, description="ridge penalty of the fit (0: min-norm least squares)")
    parameterisation: Literal["white", "feature_cov"] = Field(
        "white", description="the spectrum weights the target's coefficients (white) or the features' variances"
    )
    spectrum: Spectrum = Field(Spectrum(), description="the task's eigenvalue spectrum")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="draws the problem: features, targets and noise")

    @model_validator(mode="after")
    def _check(self) -> LinearRFConfig:
        if self.module_dim > self.m:
            raise ValueError(f"module_dim = {self.module_dim} exceeds the task dimension m = {self.m}")
        entries = self.n_outputs * self.n * self.p_total
        if entries > MAX_DESIGN_ENTRIES:
            raise ValueError(
                f"n_outputs·n·p_total = {entries} design entries: at most {MAX_DESIGN_ENTRIES} can be simulated"
            )
        return self

    @property
    def p_total(self) -> int:
        return self.p * (self.n_modules if self.architecture == "modular" else 1)

    @property
    def n_eqs(self) -> int:
        return self.n_outputs * self.n

    @property
    def explicit_entries(self) -> int:
        """Gaussian numbers one seed draws for its features: ``N · K · EXPLICIT_FACTOR · max(p, N)``."""
        n_modules = self.n_modules if self.architecture == "modular" else 1
        return self.n_eqs * n_modules * EXPLICIT_FACTOR * max(self.p, self.n_eqs)

    def model_kwargs(self) -> dict[str, Any]:
        """The model's fields as keyword arguments of :func:`modlab.theory.rf_losses` (besides n, p, m)."""
        return self.model_dump(include=set(MODEL_FIELDS)) | {"spectrum": self.spectrum}


def simulate(configs: Sequence[LinearRFConfig], device: torch.device) -> list[dict[str, float]]:
    """Monte-Carlo train/test loss, one per config; all configs must differ only in ``seed``."""
    cfg = configs[0]
    coef_var, feature_var, far_tail = task_variances(cfg)
    per_chunk = max(1, BATCH_ENTRIES // (cfg.n_eqs * cfg.p_total))
    modelled_var = feature_var[:, : cfg.p].reshape(-1)
    results = []
    for start in range(0, len(configs), per_chunk):
        chunk = configs[start : start + per_chunk]
        gens = [torch.Generator().manual_seed(run_seed(c)) for c in chunk]
        problem = sample_rf_problems(coef_var, feature_var, cfg.p, far_tail, cfg.noise**2, cfg.n_eqs, gens)
        features, targets = problem.features.to(device), problem.targets.to(device)
        weights = fit_least_squares(features, targets, cfg.ridge)
        train = ((targets - (features @ weights.unsqueeze(-1)).squeeze(-1)) ** 2).sum(-1) / cfg.n
        error = ((problem.coef - weights.cpu()) ** 2 * modelled_var).sum(-1)
        test = cfg.n_outputs * (error + problem.unmodelled_power + cfg.noise**2)
        results += [{"train": float(a), "test": float(b)} for a, b in zip(train.cpu(), test)]
    return results


def task_variances(cfg: LinearRFConfig) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The task's explicit features: coefficient and feature variances, two ``(K, P)``, and the far
    tail's power beyond them. A monolithic network reads one block of ``Λ(m)``; a modular one reads
    its own K task modules, each ``Λ(b)/K`` (K = n_modules, b = module_dim)."""
    modular = cfg.architecture == "modular"
    n_modules, dim = (cfg.n_modules, cfg.module_dim) if modular else (1, cfg.m)
    explicit = EXPLICIT_FACTOR * max(cfg.p, cfg.n_eqs)
    eigs = torch.as_tensor(cfg.spectrum.eigenvalues(dim, explicit)) / n_modules
    far_tail = float(cfg.spectrum.tail_trace(dim, explicit))
    eigs = eigs.expand(n_modules, explicit)
    ones = torch.ones_like(eigs)
    coef_var, feature_var = (eigs, ones) if cfg.parameterisation == "white" else (ones, eigs)
    return coef_var, feature_var, far_tail


def run_seed(cfg: LinearRFConfig) -> int:
    """Each run's own random stream, from a hash of its full config (seed included): every point of
    a grid is an independent draw, and any run is reproducible from its config alone (to the last
    bit at the same intra-op threads and batch size: see :mod:`modlab.sweep.runner`)."""
    return int(config_key("linear-rf", cfg)[:15], 16)


def run_batch(configs: Sequence[LinearRFConfig], device: torch.device) -> list[Metrics]:
    return [{"train_loss": sim["train"], "test_loss": sim["test"]} for sim in simulate(configs, device)]


EXPERIMENT = register(
    Experiment(
        name="linear-rf",
        config=LinearRFConfig,
        run_batch=run_batch,  # type: ignore[arg-type]  # Experiment is not generic in its config class
        description="paper A's linear random-features model: min-norm or ridge fit, simulated",
    )
)

__all__ = ["LinearRFConfig", "simulate", "task_variances", "EXPERIMENT"]
