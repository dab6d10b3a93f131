"""Experiment ``linear-modules``: paper B's linear networks on its dataset space.

One run = one seed of one (dataset point, architecture, depth, rule) setting. Seeds of a setting
train as one batch. Every metric is a curve over epochs (a :class:`~modlab.metrics.Curve`, recorded
every ``record_every`` epochs):

- ``q_oy_ox``, ``q_oy_gx``, ``q_gy_ox``, ``q_gy_gx``: quadrant Frobenius norms of the total map,
  and ``systematicity``;
- ``loss``, ``loss_comp``, ``loss_noncomp``: training loss (squared error summed over all / Ωy /
  Γy outputs, mean over training points); with a held-out split also ``test_loss_comp`` and
  ``test_loss_noncomp`` on the held-out points;
- ``u_<module>_<mode>``: the simulated strength of each mode (mean over the mode's singular
  directions of ``u_αᵀ W v_α``), where the exact mode theory applies.

The store keeps only what was simulated. :func:`compare_with_theory` puts the exact dynamics beside
it: per mode the effective start u0, the theory curve and ``max_t |u_sim − u_theory| / (s/d)``;
the quadrant norms and loss the theory predicts; and ``max_rel_error`` over the modes that rose.
The theory applies when every point is trained on (no held-out split) with plain gradient flow
(γ = ν = 0). Effective u0: for depth ≥ 2 the start whose theory curve reaches half the fixed point
at the simulated half-rise time; for depth 1 (linear dynamics, no alignment needed) the simulated
strength at t = 0. A mode that never reaches half its fixed point within the run is *not reached in
the window*: it has no fitted start and is left out of ``max_rel_error``, with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from modlab.config import MAX_SEED, Config
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.metrics import Curve
from modlab.models.linear import (
    Architecture,
    LinearModule,
    ModularLinear,
    aligned_weights,
    layer_dims,
    module_layout,
    random_weights,
)
from modlab.rules.gradient_flow import Moments, train
from modlab.rules.hebbian import Scaling, local_terms
from modlab.tasks.dataset_space import DatasetSpace, DatasetSpaceConfig, make_dataset
from modlab.theory import (
    QUADRANTS,
    Point,
    discretisation_gap,
    effective_u0,
    first_crossing,
    group_of,
    loss_theory,
    mode_basis,
    modes,
    module_points,
    quadrant_norms,
    quadrant_norms_theory,
    systematicity,
    trajectory,
)

MAX_RECORDED = 2_000_000  # members × recorded epochs × measurements kept in memory per batch
DISCRETE_GAP_WARNING = 0.03  # warn when the discrete steps alone move a mode this far (of its fixed point)
DISCRETE_CHECK_U0 = 1e-6  # start of the single-mode discrete map used for that check


def point_of(task: DatasetSpaceConfig) -> Point:
    """The theory's view of a dataset point."""
    return Point(task.n1, task.n2, task.k1, task.k2, task.r, task.n_points)


class LinearModulesConfig(Config):
    """One setting of paper B's linear experiments. Defaults: the dense network of docs/specialization.md §3."""

    task: DatasetSpaceConfig = DatasetSpaceConfig()
    architecture: Architecture = Field("dense", description="how the hidden units are split into modules")
    depth: int = Field(2, ge=1, le=8, description="weight layers per module (1 = shallow)")
    hidden: int = Field(50, ge=1, description="hidden width of every module")
    init: Literal["random", "aligned"] = Field("random", description="i.i.d. Gaussian, or decoupled and balanced")
    init_scale: float = Field(0.01 / 50, gt=0, description="random: weight std σ; aligned: each mode's start u0")
    lr: float = Field(0.02, gt=0, description="learning rate (1/τ = P·lr, P as tau_points says)")
    tau_points: Literal["all", "train"] = Field(
        "all",
        description="P in τ = 1/(P·lr): every point of the data set ('all', as the paper's code does for a "
        "held-out split) or the training points only ('train'); the moments always average the training points",
    )
    epochs: int = Field(300, ge=1, le=200_000, description="full-batch training epochs")
    gamma: float = Field(0.0, description="appendix rules: W2 term γ(YYᵀ − ŶŶᵀ)W2")
    nu: float = Field(0.0, description="appendix rules: W1 term, Oja (ν > 0) or anti-Hebbian (ν < 0)")
    local_scaling: Scaling = Field(
        "batch_sums",
        description="appendix rules: 'batch_sums' (the paper's code: sums over the batch, γ term × 1/τ, ν term "
        "without 1/τ) or 'means_times_rate' (moments averaged over points, both terms × 1/τ)",
    )
    record_every: int = Field(1, ge=1, description="record the curves every this many epochs")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="draws the random initial weights")

    @model_validator(mode="after")
    def _check(self) -> LinearModulesConfig:
        if (self.gamma != 0 or self.nu != 0) and self.depth != 2:
            raise ValueError(f"depth = {self.depth}: the local rules (gamma, nu ≠ 0) need depth 2")
        if self.record_every > self.epochs:
            raise ValueError(f"record_every = {self.record_every}: at most epochs = {self.epochs}")
        if self.init == "aligned" and self.depth > 1:
            needed = max(
                sum(m.multiplicity for m in modes(q))
                for q in module_points(self.architecture, point_of(self.task)).values()
            )
            if needed > self.hidden:
                raise ValueError(
                    f"hidden = {self.hidden}: the aligned init needs at least {needed} (one unit per mode direction)"
                )
        return self

    @property
    def theory_applies(self) -> bool:
        return self.task.n_train is None and self.gamma == 0 and self.nu == 0


def run_seed(cfg: LinearModulesConfig) -> int:
    """Each member's stream: its seed (different settings with one seed share the init draw, so
    architectures are compared from matched starts where their shapes agree)."""
    return cfg.seed


@dataclass(frozen=True)
class ModeProbe:
    """How to read one effective mode of one module off the total map."""

    module: str
    mode: str
    s: float
    d: float
    rows: torch.Tensor
    cols: torch.Tensor
    u: torch.Tensor  # (len(rows), m) singular directions of the module's Σyx in this mode
    v: torch.Tensor  # (len(cols), m)

    @property
    def key(self) -> str:
        return f"{self.module}_{self.mode}"

    def strength(self, total: torch.Tensor) -> torch.Tensor:
        """Mean of ``u_αᵀ W v_α`` over the mode's directions: (S, n_out, n_in) → (S,)."""
        block = total[:, self.rows.unsqueeze(1), self.cols.unsqueeze(0)]
        return torch.einsum("om,soi,im->s", self.u, block, self.v) / self.u.shape[1]


def mode_probes(cfg: LinearModulesConfig, data: DatasetSpace, moments: Moments) -> list[ModeProbe]:
    """One probe per (module, effective mode) of the architecture, from the numerical SVD of each
    module's Σyx grouped onto the closed-form modes of its sub-point."""
    layout = module_layout(cfg.architecture, data.omega_x, data.gamma_x, data.omega_y, data.gamma_y)
    points = module_points(cfg.architecture, point_of(cfg.task))
    probes = []
    for role, (rows, cols) in layout.items():
        u, s, v = mode_basis(moments.block(rows, cols).sigma_yx.cpu().numpy())
        groups = group_of(s, points[role])
        for index, mode in enumerate(modes(points[role])):
            pick = groups == index
            probes.append(
                ModeProbe(
                    role,
                    mode.name,
                    mode.s,
                    mode.d,
                    rows,
                    cols,
                    torch.as_tensor(u[:, pick]),
                    torch.as_tensor(v[:, pick]),
                )
            )
    return probes


def build_network(
    cfg: LinearModulesConfig, data: DatasetSpace, moments: Moments, generators: list[torch.Generator]
) -> ModularLinear:
    """The architecture's modules with their initial weights (one generator per member)."""
    parts = {}
    for role, (rows, cols) in module_layout(
        cfg.architecture, data.omega_x, data.gamma_x, data.omega_y, data.gamma_y
    ).items():
        dims = layer_dims(len(cols), len(rows), cfg.depth, cfg.hidden)
        if cfg.init == "random":
            weights = random_weights(dims, cfg.init_scale, generators)
        else:
            u, _, v = mode_basis(moments.block(rows, cols).sigma_yx.cpu().numpy())
            weights = aligned_weights(dims, torch.as_tensor(u), torch.as_tensor(v), cfg.init_scale, generators)
        parts[role] = LinearModule(weights, rows, cols)
    return ModularLinear(parts, data.y.shape[0], data.x.shape[0])


def _loss(total: torch.Tensor, x: torch.Tensor, y: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Squared error summed over output ``rows``, mean over the columns of ``x``: (S,)."""
    residual = (total[:, rows] @ x - y[rows]) ** 2
    return residual.sum(1).mean(-1)


def simulate(
    configs: Sequence[LinearModulesConfig], device: torch.device
) -> tuple[dict[str, np.ndarray], list[ModeProbe]]:
    """Train all members (configs differing only in ``seed``) as one batch.

    Returns the recorded curves, name → (R, S) array, and the mode probes used. Curves that do not
    exist for the setting are left out: test losses without a held-out split, systematicity
    without systematic outputs (n2 = 0), mode strengths where the theory does not apply.
    """
    cfg = configs[0]
    data = make_dataset(cfg.task)
    train_x, train_y = data.x[:, data.train], data.y[:, data.train]
    moments = Moments.of(train_x, train_y)
    probes = mode_probes(cfg, data, moments) if cfg.theory_applies else []
    network = build_network(cfg, data, moments, [torch.Generator().manual_seed(run_seed(c)) for c in configs]).to(
        device
    )
    observe, names = _observer(data, probes, device)
    recorded = len(configs) * (cfg.epochs // cfg.record_every + 1) * len(names)
    if recorded > MAX_RECORDED:
        raise ValueError(
            f"{recorded} recorded values: raise record_every or run fewer seeds per batch (at most {MAX_RECORDED})"
        )
    with _few_threads(device):
        recorded = train(  # type: ignore[assignment]  # the name now holds the recording
            network,
            moments.to(device),
            1 / time_constant(cfg),
            cfg.epochs,
            observe,
            cfg.record_every,
            local_terms(cfg.gamma, cfg.nu, cfg.local_scaling),
        )
    values = recorded.cpu().numpy()  # type: ignore[attr-defined]  # a tensor: see above
    return {name: values[:, :, i] for i, name in enumerate(names)}, probes


def _observer(data: DatasetSpace, probes: list[ModeProbe], device: torch.device):
    """The per-epoch measurement ``total map (S, n_out, n_in) → (S, k)`` and the k names."""
    on = {name: t.to(device) for name, t in vars(data).items()}
    x_train, y_train = on["x"][:, on["train"]], on["y"][:, on["train"]]
    x_test, y_test = on["x"][:, on["test"]], on["y"][:, on["test"]]
    every_row = torch.arange(data.y.shape[0], device=device)
    probes = [
        ModeProbe(p.module, p.mode, p.s, p.d, *(t.to(device) for t in (p.rows, p.cols, p.u, p.v))) for p in probes
    ]
    has_test, has_systematic = len(data.test) > 0, len(data.omega_y) > 0
    losses = {"loss": every_row, "loss_comp": on["omega_y"], "loss_noncomp": on["gamma_y"]}
    losses = {name: rows for name, rows in losses.items() if len(rows)}
    test_losses = {f"test_{name}": rows for name, rows in losses.items() if name != "loss"} if has_test else {}
    names = [f"q_{q}" for q in QUADRANTS] + ["systematicity"] * has_systematic + list(losses) + list(test_losses)
    names += [f"u_{p.key}" for p in probes]

    def observe(total: torch.Tensor) -> torch.Tensor:
        norms = quadrant_norms(total, on["omega_x"], on["gamma_x"], on["omega_y"], on["gamma_y"])
        columns = [norms[q] for q in QUADRANTS] + [systematicity(norms)] * has_systematic
        columns += [_loss(total, x_train, y_train, rows) for rows in losses.values()]
        columns += [_loss(total, x_test, y_test, rows) for rows in test_losses.values()]
        columns += [p.strength(total) for p in probes]
        return torch.stack(columns, dim=1)

    return observe, names


@contextmanager
def _few_threads(device: torch.device):
    """One intra-op thread while training on CPU: these matrices are tiny (tens of rows), and on a
    shared machine thread hand-offs cost ~10× the arithmetic. The previous setting is restored."""
    previous = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def epochs_axis(cfg: LinearModulesConfig) -> np.ndarray:
    """The epoch of every recorded value."""
    return np.arange(cfg.epochs // cfg.record_every + 1) * cfg.record_every


def time_constant(cfg: LinearModulesConfig) -> float:
    """τ = 1/(P·lr), P every point of the data set or the training points (``tau_points``)."""
    points = cfg.task.n_points if cfg.tau_points == "all" else (cfg.task.n_train or cfg.task.n_points)
    return 1 / (points * cfg.lr)


def run_batch(configs: Sequence[LinearModulesConfig], device: torch.device) -> list[Metrics]:
    curves, _ = simulate(configs, device)
    t = epochs_axis(configs[0])
    return [{name: Curve(t, values[:, m], "epoch") for name, values in curves.items()} for m in range(len(configs))]


@dataclass(frozen=True)
class ModeFit:
    """The theory of one mode beside its simulated curves: effective starts (S,) (NaN where the
    seed never reached half the fixed point), theory curves (S, R), relative errors (S,)
    ``max_t |u_sim − u_theory| / (s/d)``, and the gap the discrete steps alone make."""

    key: str
    fixed_point: float
    starts: np.ndarray
    theory: np.ndarray
    rel_errors: np.ndarray
    discretisation_gap: float

    @property
    def reached(self) -> bool:
        """Every seed's mode rose to half its fixed point within the window."""
        return bool(np.isfinite(self.starts).all())


@dataclass(frozen=True)
class TheoryComparison:
    """Simulation vs exact dynamics for one setting (S seeds, R recorded epochs)."""

    modes: dict[str, ModeFit]
    curves: dict[str, np.ndarray]  # q_<quadrant> and loss from the theory mode curves: (S, R)

    @property
    def not_reached(self) -> list[str]:
        return [key for key, fit in self.modes.items() if not fit.reached]

    @property
    def max_rel_error(self) -> float:
        """Largest relative error over the seeds and the modes that rose (NaN if none did)."""
        errors = [fit.rel_errors.max() for fit in self.modes.values() if fit.reached]
        return float(max(errors)) if errors else float("nan")


def compare_with_theory(cfg: LinearModulesConfig, curves: dict[str, np.ndarray]) -> TheoryComparison:
    """The exact dynamics beside simulated curves ``u_<module>_<mode>`` (R, S) of one setting.

    Warns when a mode is not reached in the window (it is left out of ``max_rel_error``) and when
    ``P·lr`` is so large that the discrete steps alone move a mode by more than
    ``DISCRETE_GAP_WARNING`` of its fixed point (the theory is continuous-time)."""
    if not cfg.theory_applies:
        raise ValueError("the mode theory needs plain gradient flow on every point (no n_train, gamma = nu = 0)")
    fits = {}
    for role, point in module_points(cfg.architecture, point_of(cfg.task)).items():
        for mode in modes(point):
            key = f"{role}_{mode.name}"
            fits[key] = _fit_mode(cfg, key, mode.s, mode.d, curves[f"u_{key}"])
    late = [key for key, fit in fits.items() if not fit.reached]
    if late:
        warnings.warn(
            f"mode(s) {', '.join(late)} do not reach half their fixed point within {cfg.epochs} epochs: not reached "
            "in the window, left out of max_rel_error",
            stacklevel=2,
        )
    coarse = {key: fit.discretisation_gap for key, fit in fits.items() if fit.discretisation_gap > DISCRETE_GAP_WARNING}
    if coarse:
        gaps = ", ".join(f"{key} {gap:.2f}" for key, gap in coarse.items())
        warnings.warn(
            f"P·lr = {1 / time_constant(cfg):g}: the discrete steps alone move the modes by more than "
            f"{DISCRETE_GAP_WARNING} of their fixed point ({gaps}); the continuous theory does not describe this "
            "run, lower lr",
            stacklevel=2,
        )
    return TheoryComparison(fits, theory_curves(cfg, {key: fit.theory for key, fit in fits.items()}))


def _fit_mode(cfg: LinearModulesConfig, key: str, s: float, d: float, simulated: np.ndarray) -> ModeFit:
    starts = effective_starts(cfg, s, d, simulated)
    unfitted = simulated[0] if cfg.depth == 1 else np.maximum(np.abs(simulated[0]), 1e-300)
    known = np.where(np.isfinite(starts), starts, unfitted)  # a mode not reached: from its simulated start
    theory = trajectory(s, d, known, epochs_axis(cfg), time_constant(cfg), cfg.depth)
    errors = np.abs(simulated.T - theory).max(axis=1) / (s / d)
    gap = discretisation_gap(s, d, DISCRETE_CHECK_U0, 1 / time_constant(cfg), cfg.epochs, cfg.depth)
    return ModeFit(key, s / d, starts, theory, errors, gap)


def effective_starts(cfg: LinearModulesConfig, s: float, d: float, simulated: np.ndarray) -> np.ndarray:
    """Effective u0 of each member's simulated mode curve, ``simulated`` (R, S) → (S,).

    Depth ≥ 2: the theory start that reaches half the fixed point at the simulated half-rise time,
    interpolated in logit space; a curve that starts above half keeps its value at t = 0. Depth 1:
    the simulated value at t = 0. NaN where a curve never reaches half its fixed point in the run.
    """
    t = epochs_axis(cfg)
    fixed = s / d
    starts = np.full(simulated.shape[1], np.nan)
    for member, curve in enumerate(simulated.T):
        half = first_crossing(t, _logit(curve, fixed), 0.0, direction="up", log=False)  # logit(fixed/2) = 0
        if half.censored == "right":
            continue
        if cfg.depth == 1 or half.censored == "left":
            starts[member] = curve[0]
        else:
            starts[member] = effective_u0(s, d, half.value, time_constant(cfg), cfg.depth)
    return starts


def _logit(u, fixed: float):
    """``log(u / (fixed − u))``, clipped: linear in t along a depth-2 sigmoid, so interpolating a
    crossing time in it is exact even when the curve is recorded sparsely."""
    tiny = 1e-300
    return np.log(np.maximum(u, tiny) / np.maximum(fixed - np.asarray(u), tiny))


def theory_curves(cfg: LinearModulesConfig, strengths: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Quadrant norms (``q_<quadrant>``) and training ``loss`` of the whole network from each
    module's mode strengths, keyed ``<module>_<mode>`` (modules write disjoint rows, so squared
    norms and losses add)."""
    squared = {q: 0.0 for q in QUADRANTS}
    loss = 0.0
    for role, point in module_points(cfg.architecture, point_of(cfg.task)).items():
        pis = [strengths.get(f"{role}_{name}", 0.0) for name in ("pi1", "pi2", "pi3")]
        for q, norm in quadrant_norms_theory(point, *pis).items():
            squared[q] = squared[q] + norm**2  # type: ignore[assignment]  # theory strengths are arrays
        loss = loss + loss_theory(point, *pis)  # type: ignore[assignment]  # theory strengths are arrays
    return {**{f"q_{q}": np.sqrt(v) for q, v in squared.items()}, "loss": loss}


EXPERIMENT = register(
    Experiment(
        name="linear-modules",
        config=LinearModulesConfig,
        run_batch=run_batch,  # type: ignore[arg-type]  # Experiment is not generic in its config class
        description="paper B: dense / split / segregated linear networks on the dataset space (theory: "
        "compare_with_theory)",
        max_batch=256,
    )
)

__all__ = [
    "EXPERIMENT",
    "LinearModulesConfig",
    "ModeFit",
    "TheoryComparison",
    "compare_with_theory",
    "effective_starts",
    "epochs_axis",
    "simulate",
    "theory_curves",
    "time_constant",
]
