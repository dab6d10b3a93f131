"""Experiment ``linear-rf``: paper A's linear random-features model, simulated and predicted.

One run = one seed of one (architecture, n, p, m, …) point: sample a problem, fit it by min-norm
least squares (or ridge), measure train loss on the sample and the exact population test loss of the
fitted weights (``Σ f_i (θ_i − θ̂_i)² + Tr Λ₂ + σ²`` per output), and store the closed-form
prediction beside it. Seeds of one point are simulated as one batch.
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch
from pydantic import Field, model_validator

from modlab.config import MAX_SEED, Config, config_key
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.rules import fit_least_squares
from modlab.tasks import sample_rf_problems
from modlab.theory import Spectrum, rf_losses
from modlab.theory.random_features import block_eigenvalues, model_block

MAX_DESIGN_ENTRIES = 50_000_000  # one seed's N × p design matrix (400 MB in float64)
BATCH_ENTRIES = 20_000_000  # seeds simulated together share this many design entries


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
    def _check(self) -> "LinearRFConfig":
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


def theory_losses(cfg: LinearRFConfig) -> dict[str, float]:
    """The closed-form prediction for one config."""
    out = rf_losses(
        cfg.n,
        cfg.p,
        cfg.m,
        spectrum=cfg.spectrum,
        architecture=cfg.architecture,
        n_modules=cfg.n_modules,
        module_dim=cfg.module_dim,
        n_outputs=cfg.n_outputs,
        noise=cfg.noise,
        ridge=cfg.ridge,
        parameterisation=cfg.parameterisation,
    )
    return {"train": float(out["train"]), "test": float(out["test"]), "exact": float(out["exact"])}


def simulate(configs: Sequence[LinearRFConfig], device: torch.device) -> list[dict[str, float]]:
    """Monte-Carlo train/test loss, one per config; all configs must differ only in ``seed``."""
    cfg = configs[0]
    _, dim, _, tail = model_block(cfg.spectrum, cfg.architecture, cfg.m, cfg.n_modules, cfg.module_dim, cfg.p)
    tail = float(tail)
    eigs = torch.as_tensor(block_eigenvalues(cfg.spectrum, cfg.architecture, cfg.n_modules, float(dim), cfg.p))
    ones = torch.ones_like(eigs)
    coef_var, feature_var = (eigs, ones) if cfg.parameterisation == "white" else (ones, eigs)
    residual_var = tail + cfg.noise**2
    per_chunk = max(1, BATCH_ENTRIES // (cfg.n_eqs * cfg.p_total))
    results = []
    for start in range(0, len(configs), per_chunk):
        chunk = configs[start : start + per_chunk]
        gens = [torch.Generator().manual_seed(run_seed(c)) for c in chunk]
        problem = sample_rf_problems(coef_var, feature_var, residual_var, cfg.n_eqs, gens)
        features, targets = problem.features.to(device), problem.targets.to(device)
        weights = fit_least_squares(features, targets, cfg.ridge)
        train = ((targets - (features @ weights.unsqueeze(-1)).squeeze(-1)) ** 2).sum(-1) / cfg.n
        error = ((problem.coef - weights.cpu()) ** 2 * feature_var).sum(-1)
        test = cfg.n_outputs * (error + residual_var)
        results += [{"train": float(a), "test": float(b)} for a, b in zip(train.cpu(), test)]
    return results


def run_seed(cfg: LinearRFConfig) -> int:
    """Each run's own random stream, from a hash of its full config (seed included): every point of
    a grid is an independent draw, and any run is reproducible from its config alone."""
    return int(config_key("linear-rf", cfg)[:15], 16)


def run_batch(configs: Sequence[LinearRFConfig], device: torch.device) -> list[Metrics]:
    theory = theory_losses(configs[0])
    return [
        {
            "train_loss": sim["train"],
            "test_loss": sim["test"],
            "theory_train_loss": theory["train"],
            "theory_test_loss": theory["test"],
            "theory_exact": theory["exact"],
        }
        for sim in simulate(configs, device)
    ]


EXPERIMENT = register(
    Experiment(
        name="linear-rf",
        config=LinearRFConfig,
        run_batch=run_batch,
        description="paper A's linear random-features model: min-norm fit simulated vs closed form",
    )
)

__all__ = ["LinearRFConfig", "theory_losses", "simulate", "EXPERIMENT"]
