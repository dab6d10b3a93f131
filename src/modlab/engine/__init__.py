"""The engine: sweeps over the store, backends that run them, device selection."""

from modlab.engine.backends import Backend, LocalBackend, Lost, RayBackend, make_backend
from modlab.engine.device import resolve_device
from modlab.engine.sweep import SweepReport, SweepSpec, SweepStopped, run_sweep

__all__ = [
    "Backend",
    "LocalBackend",
    "Lost",
    "RayBackend",
    "make_backend",
    "SweepReport",
    "SweepSpec",
    "SweepStopped",
    "resolve_device",
    "run_sweep",
]
