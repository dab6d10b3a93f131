"""Experiment ``b-cmnist``: paper B's Compositional MNIST check with dense and split ConvNets (spec B §6).

One run = one seed of one network trained on the composites of one image source. Squared error
(sum over outputs, mean over the batch), mini-batch SGD as in the paper or Adam (the spec measured
that at load_digits scale plain SGD at the paper's rate learns nothing in 60 epochs, so the digits
presets use Adam; figure captions say which). Each epoch (and before the first) the normalised
errors are measured on up to ``eval_points`` fixed random train and test composites:
compositional = squared error on the 10k systematic outputs / k, non-compositional = squared error
on the 10^k non-systematic outputs / r². (The paper divides by 3 and by 100 = r² for k = 3, r = 10.)
Seeds are trained one after another (no batched path for the ConvNets).
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch
from pydantic import Field, model_validator

from modlab.config import Config, config_key
from modlab.experiments.registry import Experiment, Metrics, register
from modlab.models.convnet import ConvNet, SplitConvNet, paper_kernels
from modlab.tasks.cmnist import CompositionalDigits, make_compositional_digits
from modlab.tasks.image_data import load_images

CURVES = ("train_compositional_error", "train_non_compositional_error",
          "test_compositional_error", "test_non_compositional_error")


class CMNISTConfig(Config):
    """Training defaults are the paper's (SGD lr 2e-3, batch 16, 300 epochs, r = 10, 32 channels);
    the source defaults to the offline digits (``mnist`` reads files from ``MODLAB_DATA``)."""

    source: Literal["digits", "mnist"] = "digits"
    architecture: Literal["dense", "split"] = "dense"
    channels: int = Field(32, ge=2, description="dense channels; each split module gets half")
    n_slots: int = Field(3, ge=1, le=4, description="digits per composite (non-systematic outputs: 10^k)")
    scale: float = Field(10.0, gt=0, description="r: scale of the non-systematic one-hot")
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = Field(2e-3, gt=0)
    batch_size: int = Field(16, ge=1)
    epochs: int = Field(300, ge=1)
    init_std: float = Field(0.01, gt=0)
    max_train_images: int | None = Field(None, ge=1, description="use the first images of the training split (all: None)")
    max_test_images: int | None = Field(9999, ge=1, description="paper: test images [0:9999]")
    eval_points: int = Field(1028, ge=1)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> "CMNISTConfig":
        if self.architecture == "split" and self.channels % 2:
            raise ValueError(f"channels = {self.channels}: a split network halves it, so it must be even")
        for name in ("max_train_images", "max_test_images"):
            value = getattr(self, name)
            if value is not None and value < self.n_slots:
                raise ValueError(f"{name} = {value}: needs at least n_slots = {self.n_slots} images")
        return self


def build_data(cfg: CMNISTConfig) -> CompositionalDigits:
    train, test = load_images(cfg.source, "train"), load_images(cfg.source, "test")
    return make_compositional_digits(train, test, cfg.n_slots, cfg.scale, cfg.max_train_images, cfg.max_test_images)


def build_model(cfg: CMNISTConfig, data: CompositionalDigits, generator: torch.Generator) -> torch.nn.Module:
    in_shape = data.train_x.shape[1:]
    kernels = paper_kernels(in_shape[1])
    out_dim = data.train_y.shape[1]
    if cfg.architecture == "dense":
        return ConvNet(in_shape, cfg.channels, kernels, out_dim, cfg.init_std, generator)
    return SplitConvNet(in_shape, cfg.channels // 2, kernels, out_dim, data.n_systematic, cfg.init_std, generator)


def normalised_errors(pred: torch.Tensor, target: torch.Tensor, n_systematic: int, n_slots: int, scale: float) -> tuple[float, float]:
    """Mean over points of (systematic squared error / k, non-systematic squared error / r²)."""
    sq = (pred - target) ** 2
    return (float(sq[:, :n_systematic].sum(1).mean()) / n_slots,
            float(sq[:, n_systematic:].sum(1).mean()) / scale**2)


def train_one(cfg: CMNISTConfig, data: CompositionalDigits, device: torch.device) -> Metrics:
    """Train one network; returns the four normalised-error curves (epochs + 1 points) and their ends."""
    gen = torch.Generator().manual_seed(int(config_key("b-cmnist", cfg)[:15], 16))
    model = build_model(cfg, data, gen).to(device)
    opt_class = torch.optim.SGD if cfg.optimizer == "sgd" else torch.optim.Adam
    optimizer = opt_class(model.parameters(), lr=cfg.lr)
    train_x, train_y = data.train_x.to(device), data.train_y.to(device)
    probes = {split: torch.randperm(len(x), generator=gen)[: cfg.eval_points]
              for split, x in (("train", data.train_x), ("test", data.test_x))}
    evals = {"train": (train_x[probes["train"]], train_y[probes["train"]]),
             "test": (data.test_x[probes["test"]].to(device), data.test_y[probes["test"]].to(device))}
    curves: dict[str, list[float]] = {name: [] for name in CURVES}

    def record():
        with torch.no_grad():
            for split, (x, y) in evals.items():
                comp, non_comp = normalised_errors(model(x), y, data.n_systematic, cfg.n_slots, cfg.scale)
                curves[f"{split}_compositional_error"].append(comp)
                curves[f"{split}_non_compositional_error"].append(non_comp)

    record()
    for _ in range(cfg.epochs):
        order = torch.randperm(len(train_x), generator=gen).to(device)
        for batch in order.split(cfg.batch_size):
            loss = ((model(train_x[batch]) - train_y[batch]) ** 2).sum(1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        record()
    return {**curves, **{f"final_{name}": values[-1] for name, values in curves.items()}}


def run_batch(configs: Sequence[CMNISTConfig], device: torch.device) -> list[Metrics]:
    data = build_data(configs[0])
    return [train_one(cfg, data, device) for cfg in configs]


EXPERIMENT = register(
    Experiment(
        name="b-cmnist",
        config=CMNISTConfig,
        run_batch=run_batch,
        description="paper B: Compositional MNIST, dense vs split ConvNet, normalised error per epoch",
    )
)

__all__ = ["CMNISTConfig", "CURVES", "build_data", "build_model", "normalised_errors", "train_one", "EXPERIMENT"]
