"""Device selection: ``auto`` takes CUDA when present, else the CPU."""

from __future__ import annotations

import torch

from modlab.errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` → a torch device that exists here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} asked for, but no CUDA device is available (use auto or cpu)")
        return torch.device(name)
    raise ConfigError(f"device {name!r}: allowed {', '.join(DEVICE_CHOICES)} or cuda:N")
