"""Experiment ``compositional-cifar``: paper A's Compositional CIFAR-10 with four methods (the
figure ``a-ccifar`` draws it).

One run = one seed of one method: the seed draws the run's composites (its own training set and
test sets) and its network. ``method``:

- ``monolithic``: a ReLU MLP on the flattened composite, 10·k outputs (k heads of 10 classes);
- ``modular``: :class:`~modlab.models.ModularMLP` with K̂ modules (default one per slot), each an MLP
  on its own learnable b̂-dimensional projection of the flattened composite, outputs summed;
- ``kernel_rule`` / ``kernel_rule_per_module``: the same modular network whose projections are
  first found by :mod:`modlab.rules.kernel_rule` (joint variant / the paper's Algorithm 1), with
  each module's own empirical NTK at its initial weights (``kernel_rule.kernel = "module"``: on
  images an RBF kernel does not make modules read one slot each), then trained end to end like
  ``modular``.

The kernel rule is stated for a scalar target; the composite's target is 10·k one-hot outputs.
(modlab) The rule is given ``y = (Y − 1/10) r`` — the centred one-hot targets contracted with one
random unit vector r drawn from the run's seed — and each module's kernel is the NTK of its
scalar output ``rᵀ g_j``. That y is a sum of one function per slot, the additive structure the rule
is built for, and ``E_r[yᵀ(K + εI)⁻¹y]`` is the multi-output objective ``tr Yᵀ(K + εI)⁻¹Y`` (up to
centring).

Training: the summed cross-entropy of the k heads, mini-batch Adam (or SGD), ``epochs`` passes over
the ``n_train`` composites (the paper trained one epoch), all seeds of a point as one ensemble
(:func:`~modlab.train.ensemble.train_ensemble`). Metrics: mean per-slot accuracy on ``train``,
``seen`` and ``unseen`` combinations of test images and on the unseen ones under noise (``noisy``);
``unseen_accuracy_curve``, a :class:`~modlab.metrics.Curve` over epochs (four points per epoch, at
most 40 in all); for modular methods each module's share of input energy per slot, before training
(``slot_energy_start``, after the kernel rule for its runs) and after (``slot_energy_end``), each an
:class:`~modlab.metrics.Array` of shape (K̂, k), and ``slot_focus_*`` = the mean over modules of the
largest share (1: every module reads one image; 1/k: spread evenly).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import nn

from modlab.config import MAX_SEED, Config
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.metrics import Array, Curve
from modlab.models import MLP, ModularMLP
from modlab.rules.kernel_rule import RULE_VARIANTS, KernelRuleConfig, find_projections, variant_follows
from modlab.rules.module_kernels import stack_module_layers
from modlab.seeding import named_generator
from modlab.tasks.ccifar import CompositionalImages, make_compositional_images, slot_energy
from modlab.tasks.image_data import N_CLASSES, load_images
from modlab.train.ensemble import TrainSettings, ensemble_forward, pad_members, train_ensemble

NAME = "compositional-cifar"
METHODS = ("monolithic", "modular", "kernel_rule", "kernel_rule_per_module")
EVALS_PER_EPOCH = 4
MAX_EVALS = 40  # points of the unseen-accuracy curve at most


class CompositionalCifarConfig(Config):
    """One seed of one method on Compositional CIFAR-10 (``cifar10`` reads files from
    ``MODLAB_DATA``) or its offline digits variant (the default)."""

    source: Literal["digits", "cifar10"] = Field("digits", description="images: offline digits, or CIFAR-10 files")
    method: Literal["monolithic", "modular", "kernel_rule", "kernel_rule_per_module"] = Field(
        "modular", description="network, and how its projections start (see the module docstring)"
    )
    n_slots: int = Field(4, ge=1, le=8, description="k: images per composite")
    n_train: int = Field(10000, ge=2, description="training composites (seen combinations)")
    n_test: int = Field(2000, ge=1, description="test composites per set (seen, unseen, noisy)")
    holdout_modulus: Literal[2, 5, 10] = Field(5, description="combinations with label sum ≡ 0 mod this are unseen")
    noise_std: float = Field(0.2, ge=0, description="additive Gaussian noise on [0, 1] pixels of the noisy set")
    hidden: tuple[int, ...] = Field((512, 512), description="monolithic MLP hidden widths")
    module_hidden: tuple[int, ...] = Field((128,), description="each module's MLP hidden widths")
    n_modules: int | None = Field(None, ge=1, description="K̂ (default: one per slot)")
    module_dim: int = Field(32, ge=1, description="b̂: each module's projection dimension")
    optimizer: Literal["sgd", "adam"] = Field("adam", description="optimiser of the network weights")
    lr: float = Field(1e-3, gt=0, description="learning rate")
    batch_size: int = Field(64, ge=1, description="composites per mini-batch")
    epochs: int = Field(1, ge=1, description="passes over the training composites (paper: 1)")
    kernel_rule: KernelRuleConfig = KernelRuleConfig(kernel="module", steps=100, batch_size=256, joint_restarts=4)
    seed: int = Field(0, ge=0, le=MAX_SEED, description="draws the run's composites and its network")

    @model_validator(mode="before")
    @classmethod
    def _kernel_rule_variant(cls, data: Any) -> Any:
        """``kernel_rule.variant`` follows ``method`` (an explicit contradicting one is an error)."""
        return variant_follows(data, "method")

    @model_validator(mode="after")
    def _check(self) -> CompositionalCifarConfig:
        if not self.hidden or min(self.hidden) < 1 or not self.module_hidden or min(self.module_hidden) < 1:
            raise ValueError(
                f"hidden = {self.hidden}, module_hidden = {self.module_hidden}: one or more widths, each ≥ 1"
            )
        return self

    @property
    def modules(self) -> int:
        return self.n_modules or self.n_slots

    @property
    def steps(self) -> int:
        return self.epochs * math.ceil(self.n_train / self.batch_size)


def config_for(method: str, **fields) -> CompositionalCifarConfig:
    """A config of ``method`` whose kernel-rule variant matches it (the variant is the method's)."""
    rule = dict(fields.pop("kernel_rule", {}))
    if method in RULE_VARIANTS:
        rule["variant"] = RULE_VARIANTS[method]
    base = CompositionalCifarConfig.model_fields["kernel_rule"].default.to_dict()
    return CompositionalCifarConfig.parse({**fields, "method": method, "kernel_rule": {**base, **rule}})


def stream(cfg: CompositionalCifarConfig, purpose: str) -> torch.Generator:
    """An independent generator per (seed, purpose); the data stream ignores the method, so every
    method of one seed sees the same composites."""
    return named_generator(NAME, cfg.seed, purpose)


def network_kind(cfg: CompositionalCifarConfig) -> str:
    """``monolithic`` or ``modular``: the modular methods share initial modules and batch order, so
    they differ only in where their projections start."""
    return "monolithic" if cfg.method == "monolithic" else "modular"


def build_data(cfg: CompositionalCifarConfig) -> CompositionalImages:
    train, test = load_images(cfg.source, "train"), load_images(cfg.source, "test")
    return make_compositional_images(
        train,
        test,
        cfg.n_slots,
        cfg.n_train,
        cfg.n_test,
        cfg.holdout_modulus,
        cfg.noise_std,
        stream(cfg, f"data/{cfg.n_slots}/{cfg.n_train}/{cfg.n_test}"),
    )


def build_model(cfg: CompositionalCifarConfig, input_dim: int) -> nn.Module:
    gen = stream(cfg, f"init/{network_kind(cfg)}")
    out_dim = N_CLASSES * cfg.n_slots
    if cfg.method == "monolithic":
        return MLP(input_dim, cfg.hidden, out_dim, gen)
    return ModularMLP(input_dim, cfg.modules, cfg.module_dim, cfg.module_hidden, out_dim, generator=gen)


def scalar_kernel_layers(
    blocks: Sequence[nn.Module] | nn.ModuleList, probe: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The modules' initial layers stacked over modules, the read-out contracted with ``probe`` (out,),
    a unit vector: each module becomes the scalar-output MLP ``probeᵀ g_j``, and the NTK of these
    layers is exactly the NTK of ``probeᵀ g_j`` in all of g_j's parameters (the read-out's share is
    ``‖probe‖² (h·h' + 1)``, hence the unit norm)."""
    if abs(float(probe.norm()) - 1) > 1e-5:
        raise ValueError(f"probe norm {float(probe.norm()):.4g}: must be a unit vector")
    layers = stack_module_layers(blocks)
    weight, bias = layers[-1]
    return [*layers[:-1], (torch.einsum("o,koh->kh", probe, weight).unsqueeze(1), (bias @ probe).unsqueeze(1))]


def kernel_rule_projections(
    cfg: CompositionalCifarConfig, data: CompositionalImages, model: ModularMLP, device: torch.device
) -> torch.Tensor:
    """Projections (K̂, D, b̂) found by the configured kernel-rule variant on the run's training set."""
    out_dim = N_CLASSES * cfg.n_slots
    probe = torch.randn(out_dim, generator=stream(cfg, "probe"))
    probe = probe / probe.norm()
    targets = F.one_hot(data.train_y, N_CLASSES).flatten(1).float() - 1.0 / N_CLASSES
    layers = [(w.to(device), b.to(device)) for w, b in scalar_kernel_layers(model.blocks, probe)]
    generators = [stream(cfg, f"kernel-rule/{i}") for i in range(cfg.kernel_rule.n_descents(cfg.modules))]
    result = find_projections(
        data.train_x.to(device),
        (targets @ probe).to(device),
        cfg.kernel_rule,
        cfg.modules,
        cfg.module_dim,
        generators,
        layers,
    )
    return result.projections.cpu()


def slot_loss(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of the k heads: pred (..., n, 10k), labels (..., n, k) → (..., n)."""
    logits = pred.reshape(*labels.shape, N_CLASSES)
    return F.cross_entropy(logits.flatten(0, -2), labels.flatten(), reduction="none").reshape(labels.shape).sum(-1)


def slot_accuracy(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean per-slot accuracy: pred (..., n, 10k), labels (..., n, k) → (...)."""
    logits = pred.reshape(*labels.shape, N_CLASSES)
    return (logits.argmax(-1) == labels).float().mean(dim=(-2, -1))


def run_batch(configs: Sequence[CompositionalCifarConfig], device: torch.device) -> list[Metrics]:
    """Train the seeds of one point as one ensemble and measure every member."""
    cfg = configs[0]
    datasets = [build_data(c) for c in configs]
    models = [build_model(c, d.train_x.shape[1]) for c, d in zip(configs, datasets)]
    starts: list[torch.Tensor | None] = [None] * len(configs)
    if cfg.method != "monolithic":
        for i, (c, d, m) in enumerate(zip(configs, datasets, models)):
            if c.method in RULE_VARIANTS:
                found = kernel_rule_projections(c, d, m, device)  # type: ignore[arg-type]  # rule methods build a ModularMLP
                with torch.no_grad():
                    m.projections.copy_(found)  # type: ignore[operator]  # a ModularMLP's projections; torch types them as Module
            starts[i] = m.projections.detach().clone()  # type: ignore[operator]  # a ModularMLP's projections; torch types them as Module
    settings = TrainSettings(
        optimizer=cfg.optimizer,
        lr=cfg.lr,
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        eval_every=max(1, cfg.steps // min(cfg.epochs * EVALS_PER_EPOCH, MAX_EVALS)),
    )
    unseen = pad_members([d.unseen_x for d in datasets], [d.unseen_y for d in datasets], device)
    template = copy.deepcopy(models[0]).to("meta")

    def unseen_probe(params: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            return slot_accuracy(ensemble_forward(template, params, unseen.x), unseen.y)

    result = train_ensemble(
        models,
        [d.train_x for d in datasets],
        [d.train_y for d in datasets],
        settings,
        [stream(c, f"order/{network_kind(c)}") for c in configs],
        loss=slot_loss,
        device=device,
        probes={"unseen_accuracy": unseen_probe},
    )
    epochs_at = [s * cfg.epochs / cfg.steps for s in result.eval_steps]
    metrics: list[Metrics] = [{} for _ in configs]
    for name in ("train", "seen", "unseen", "noisy"):
        xs = [getattr(d, f"{name}_x") for d in datasets]
        ys = [d.unseen_y if name == "noisy" else getattr(d, f"{name}_y") for d in datasets]
        padded = pad_members(xs, ys, device)
        with torch.no_grad():
            accuracy = slot_accuracy(result.predict(padded.x), padded.y).cpu()
        for i, value in enumerate(accuracy.tolist()):
            metrics[i][f"{name}_accuracy"] = value
    for i, (c, d) in enumerate(zip(configs, datasets)):
        metrics[i]["unseen_accuracy_curve"] = Curve(epochs_at, result.curves["unseen_accuracy"][i].tolist(), "epoch")
        if starts[i] is not None:
            for when, frames in (("start", starts[i]), ("end", result.params["projections"][i].cpu())):
                energy = slot_energy(frames, d.image_shape, c.n_slots)  # type: ignore[arg-type]  # starts[i] checked not None
                metrics[i][f"slot_energy_{when}"] = Array(energy.numpy())
                metrics[i][f"slot_focus_{when}"] = float(energy.max(1).values.mean())
    return metrics


EXPERIMENT = register(
    Experiment(
        name=NAME,
        config=CompositionalCifarConfig,
        run_batch=run_batch,  # type: ignore[arg-type]  # Experiment is not generic in its config class
        description="paper A: Compositional CIFAR-10 (k images, unseen combinations, noise): monolithic, modular, kernel rule",
    )
)

__all__ = [
    "CompositionalCifarConfig",
    "METHODS",
    "NAME",
    "build_data",
    "build_model",
    "config_for",
    "run_batch",
    "scalar_kernel_layers",
    "slot_accuracy",
    "slot_loss",
    "EXPERIMENT",
]
