"""Paper A's modular sine-wave regression task (docs/scaling.md §2).

K true modules; module i reads ``z_i = U_iᵀ x ∈ R^b`` and computes a sum of J sine components
``f_i(z) = Σ_j a_ij sin(ω_ijᵀ z + φ_ij)`` with ``a ~ N(0, 1/J)``, ``ω ~ N(0, Ω² I_b)``,
``φ ~ U[0, 2π)``. The target is ``y = K^{-1/2} Σ_i f_i(z_i) + ε``, ``ε ~ N(0, σ²)``.

Layouts of the projections ``U_i`` (D × b, orthonormal columns):

- ``random`` (the paper's preset, b = 1, D = m): each module reads its own uniformly random unit
  direction, drawn independently of the others (so K may exceed D). b > 1 is allowed here as a
  (modlab) extension: an independent random D × b orthonormal frame per module.
- ``orthogonal`` (modlab): the K·b columns are mutually orthonormal (the first K·b columns of a
  uniformly random rotation), so K·b ≤ D and the task dimension is m = K·b.

Inputs. In the ``orthogonal`` layout the training inputs tie the modules together with correlation
ρ: a shared latent ``c ~ N(0, I_b)``, ``z_i = √ρ c + √(1−ρ) e_i``, ``x = Σ_i U_i z_i + (I − Σ_i U_i
U_iᵀ) ξ``; each z_i keeps its N(0, I_b) marginal and ρ = 0 gives x ~ N(0, I_D) exactly. The
in-distribution test set uses the training ρ, the combinatorial OOD set ρ = 0. In the ``random``
layout x ~ N(0, I_D) (ρ must be 0) and there is no combinatorial OOD set. The scale-shift OOD set
draws x ~ N(0, s² I_D) in both layouts.

Choices where the paper is silent (modlab): label noise ε is added to the training targets only; every
test set holds the noiseless target, so a test loss measures the distance to the true function
(add σ² for the loss on noisy labels). The module function and projections are drawn from ``seed``
alone and each split from its own stream derived from ``seed``, drawing one row of latents per
sample, so changing ``n_train`` keeps the function and every test set fixed and the training set of
a smaller n is a prefix of that of a larger n.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import Field, model_validator

from modlab.config import MAX_SEED, Config
from modlab.frames import random_orthonormal
from modlab.seeding import named_generator


class SineTaskConfig(Config):
    """Every knob of the modular sine-wave task. For the ``random`` layout ``input_dim`` is m."""

    layout: Literal["random", "orthogonal"] = Field(
        "random", description="projections: independent random, or mutually orthonormal"
    )
    input_dim: int = Field(4, ge=1, description="input dimension D (= m in the random layout)")
    n_modules: int = Field(3, ge=1, description="true modules K")
    module_dim: int = Field(1, ge=1, description="dimension b each module reads")
    n_components: int = Field(4, ge=1, description="sine components J per module")
    omega: float = Field(1.0, gt=0, description="frequency scale Ω: ω ~ N(0, Ω² I_b)")
    noise: float = Field(0.0, ge=0, description="label noise σ on the training targets")
    rho: float = Field(0.0, ge=0, lt=1, description="correlation ρ of the modules' inputs in train and ID test")
    n_train: int = Field(1000, ge=1, description="training samples")
    n_test: int = Field(2000, ge=1, description="size of every test set (ID, OOD, scale shift)")
    ood_scale: float = Field(1.5, gt=0, description="s of the scale-shift OOD set x ~ N(0, s² I)")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="draws the projections, the module functions and the data")

    @model_validator(mode="after")
    def _check(self) -> SineTaskConfig:
        if self.module_dim > self.input_dim:
            raise ValueError(f"module_dim = {self.module_dim}: must be ≤ input_dim = {self.input_dim}")
        if self.layout == "orthogonal" and self.n_modules * self.module_dim > self.input_dim:
            raise ValueError(
                f"n_modules·module_dim = {self.n_modules * self.module_dim}: the orthogonal layout needs it "
                f"≤ input_dim = {self.input_dim}"
            )
        if self.layout == "random" and self.rho > 0:
            raise ValueError(
                f"rho = {self.rho}: correlated modules need layout 'orthogonal' (random layout allows rho = 0)"
            )
        return self

    @property
    def task_dim(self) -> int:
        """The intrinsic dimension m: D in the random layout, K·b in the orthogonal one."""
        return self.input_dim if self.layout == "random" else self.n_modules * self.module_dim


@dataclass(frozen=True)
class SineModules:
    """K module functions. Shapes: amplitudes (K, J), frequencies (K, J, b), phases (K, J)."""

    amplitudes: torch.Tensor
    frequencies: torch.Tensor
    phases: torch.Tensor

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """Module outputs ``f_i(z_i)``: z (K, n, b) → (K, n)."""
        angles = torch.einsum("kjb,knb->knj", self.frequencies, z) + self.phases[:, None, :]
        return (torch.sin(angles) * self.amplitudes[:, None, :]).sum(-1)


@dataclass(frozen=True)
class SineTask:
    """One draw of the task. x_*: (n, D), y_*: (n,); projections (K, D, b) are the true U_i.
    ``x_ood``/``y_ood`` (combinatorial shift, ρ = 0) exist in the orthogonal layout only."""

    config: SineTaskConfig
    projections: torch.Tensor
    modules: SineModules
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_ood: torch.Tensor | None
    y_ood: torch.Tensor | None
    x_scale: torch.Tensor
    y_scale: torch.Tensor

    def module_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """``z_i = U_iᵀ x``: x (n, D) → (K, n, b)."""
        return project(self.projections, x)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """The noiseless target ``K^{-1/2} Σ_i f_i(U_iᵀ x)``: x (n, D) → (n,)."""
        return modular_target(self.projections, self.modules, x)

    def sets(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """The evaluation sets that exist for this layout: name → (x, y)."""
        out = {"test": (self.x_test, self.y_test), "scale": (self.x_scale, self.y_scale)}
        if self.x_ood is not None:
            out["ood"] = (self.x_ood, self.y_ood)  # type: ignore[assignment]  # y_ood is set whenever x_ood is
        return out


def make_sine_task(cfg: SineTaskConfig) -> SineTask:
    """Draw the projections, the module functions and every data split of ``cfg`` (float32, CPU)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    projections = draw_projections(cfg, gen)
    modules = draw_modules(cfg, gen)

    def target(x: torch.Tensor) -> torch.Tensor:
        return modular_target(projections, modules, x)

    x_train = draw_inputs(cfg, projections, cfg.n_train, cfg.rho, 1.0, split_generator(cfg.seed, "train"))
    label_noise = torch.randn(cfg.n_train, generator=split_generator(cfg.seed, "noise")) * cfg.noise
    x_test = draw_inputs(cfg, projections, cfg.n_test, cfg.rho, 1.0, split_generator(cfg.seed, "test"))
    x_scale = draw_inputs(cfg, projections, cfg.n_test, 0.0, cfg.ood_scale, split_generator(cfg.seed, "scale"))
    x_ood = None
    if cfg.layout == "orthogonal":
        x_ood = draw_inputs(cfg, projections, cfg.n_test, 0.0, 1.0, split_generator(cfg.seed, "ood"))
    return SineTask(
        cfg,
        projections,
        modules,
        x_train,
        target(x_train) + label_noise,
        x_test,
        target(x_test),
        x_ood,
        None if x_ood is None else target(x_ood),
        x_scale,
        target(x_scale),
    )


def modular_target(projections: torch.Tensor, modules: SineModules, x: torch.Tensor) -> torch.Tensor:
    """``K^{-1/2} Σ_i f_i(U_iᵀ x)``: projections (K, D, b), x (n, D) → (n,)."""
    return modules(project(projections, x)).sum(0) / math.sqrt(projections.shape[0])


def project(projections: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``U_iᵀ x`` for every module: projections (K, D, b), x (n, D) → (K, n, b)."""
    return torch.einsum("kdb,nd->knb", projections, x)


def split_generator(seed: int, split: str) -> torch.Generator:
    """An independent stream per (seed, split), from a hash so no two (seed, split) pairs collide."""
    return named_generator("sine-task", seed, split)


def draw_projections(cfg: SineTaskConfig, gen: torch.Generator) -> torch.Tensor:
    """The true U_i: (K, D, b) with orthonormal columns (mutually orthogonal in that layout)."""
    k, d, b = cfg.n_modules, cfg.input_dim, cfg.module_dim
    if cfg.layout == "orthogonal":
        frame = random_orthonormal(d, k * b, gen)
        return frame.reshape(d, k, b).permute(1, 0, 2).contiguous()
    return torch.stack([random_orthonormal(d, b, gen) for _ in range(k)])


def draw_modules(cfg: SineTaskConfig, gen: torch.Generator) -> SineModules:
    """Amplitudes N(0, 1/J), frequencies N(0, Ω² I_b), phases U[0, 2π)."""
    k, j, b = cfg.n_modules, cfg.n_components, cfg.module_dim
    amplitudes = torch.randn(k, j, generator=gen) / math.sqrt(j)
    frequencies = torch.randn(k, j, b, generator=gen) * cfg.omega
    phases = torch.rand(k, j, generator=gen) * 2 * math.pi
    return SineModules(amplitudes, frequencies, phases)


def draw_inputs(
    cfg: SineTaskConfig, projections: torch.Tensor, n: int, rho: float, scale: float, gen: torch.Generator
) -> torch.Tensor:
    """n inputs (n, D). Each sample draws one row of latents (c, e_1…e_K, ξ), so a smaller n is a
    prefix of a larger one. ``scale`` > 1 multiplies x (scale shift; used with ρ = 0)."""
    k, d, b = cfg.n_modules, cfg.input_dim, cfg.module_dim
    latents = torch.randn(n, b + k * b + d, generator=gen)
    shared, own, xi = latents[:, :b], latents[:, b : b + k * b].reshape(n, k, b), latents[:, b + k * b :]
    if cfg.layout == "random":
        return xi * scale
    z = math.sqrt(rho) * shared[:, None, :] + math.sqrt(1 - rho) * own
    frame = projections.permute(1, 0, 2).reshape(d, k * b)
    inside = z.reshape(n, k * b) @ frame.T
    outside = xi - (xi @ frame) @ frame.T
    return (inside + outside) * scale


def input_covariance(cfg: SineTaskConfig, projections: torch.Tensor, rho: float, scale: float = 1.0) -> torch.Tensor:
    """Covariance (D, D) of the inputs :func:`draw_inputs` makes: ``s²(I + ρ Σ_{i≠i'} U_i U_i'ᵀ)``."""
    summed = projections.double().sum(0)
    coupling = summed @ summed.T - torch.einsum("kdb,keb->de", projections.double(), projections.double())
    return scale**2 * (torch.eye(cfg.input_dim, dtype=torch.float64) + rho * coupling)


def target_moments(task: SineTask, input_cov: torch.Tensor) -> tuple[float, float]:
    """Exact mean and variance of the noiseless target under x ~ N(0, input_cov) (input_cov (D, D)).

    Each component is ``sin(wᵀx + φ)`` with ``w = U_i ω_ij`` ∈ R^D, and for Gaussian x
    ``E sin(wᵀx + φ) = sin φ · e^{−wᵀΣw/2}`` and ``E sin(wᵀx+φ) sin(w'ᵀx+φ') =
    ½[cos(φ−φ') e^{−(w−w')ᵀΣ(w−w')/2} − cos(φ+φ') e^{−(w+w')ᵀΣ(w+w')/2}]``.
    """
    cov = input_cov.double()
    w = torch.einsum("kdb,kjb->kjd", task.projections.double(), task.modules.frequencies.double()).reshape(
        -1, cov.shape[0]
    )
    phase = task.modules.phases.double().reshape(-1)
    amp = task.modules.amplitudes.double().reshape(-1) / math.sqrt(task.config.n_modules)
    quad = lambda v: torch.einsum("...d,de,...e->...", v, cov, v)  # noqa: E731
    mean = (amp * torch.sin(phase) * torch.exp(-quad(w) / 2)).sum()
    diff = torch.exp(-quad(w[:, None] - w[None]) / 2) * torch.cos(phase[:, None] - phase[None])
    total = torch.exp(-quad(w[:, None] + w[None]) / 2) * torch.cos(phase[:, None] + phase[None])
    second = (amp[:, None] * amp[None] * (diff - total) / 2).sum()
    return float(mean), float(second - mean**2)
