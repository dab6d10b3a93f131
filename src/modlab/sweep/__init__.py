"""Sweeps: specs (which runs), the runner (fills the store) and backends (where runs are computed).

Uses the experiments; the experiments never import it.
"""

from modlab.sweep.backends import Backend, LocalBackend, Lost, RayBackend, make_backend
from modlab.sweep.runner import SweepPlan, SweepReport, SweepStopped, make_batches, plan_sweep, run_sweep
from modlab.sweep.spec import SweepSpec

__all__ = [
    "Backend",
    "LocalBackend",
    "Lost",
    "RayBackend",
    "SweepPlan",
    "SweepReport",
    "SweepSpec",
    "SweepStopped",
    "make_backend",
    "make_batches",
    "plan_sweep",
    "run_sweep",
]
