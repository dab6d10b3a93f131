"""The registry of figures ``modlab figure NAME`` regenerates.

A figure is a preset (sweep specs run through the store, so a rerun after a crash redoes only what
is missing) plus a plot of the resulting table. ``make(ctx)`` draws and returns a matplotlib figure
and the JSON-able dict of every plotted number and summary; :func:`make_figure` writes
``NAME.png``, ``NAME.pdf`` and ``NAME.json`` into the output folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from modlab.engine.backends import Backend
from modlab.engine.sweep import SweepReport, SweepSpec, run_sweep
from modlab.errors import ConfigError, ModlabError
from modlab.store import Store

PRESETS = ("quick", "paper")


@dataclass
class FigureContext:
    """What a figure's ``make`` needs: preset, store, device, backend, progress."""

    preset: str
    store: Store
    device: str = "cpu"
    backend: Backend | None = None
    progress: bool = True
    retry_failed: bool = False

    def sweep(self, spec: SweepSpec):
        """Run (or resume) a sweep in the store and return its tidy table of finished runs."""
        report: SweepReport = run_sweep(
            spec,
            self.store,
            device=self.device,
            backend=self.backend,
            progress=self.progress,
            retry_failed=self.retry_failed,
        )
        if report.failed:
            raise ModlabError(
                f"{report.failed} run(s) of sweep {spec.name!r} failed (stored; list them with `modlab results "
                f"--failed --store STORE`, rerun the figure with --retry-failed after fixing the cause)"
            )
        return self.store.table(spec.keys())


@dataclass(frozen=True)
class Figure:
    name: str
    description: str
    make: Callable[[FigureContext], tuple[Any, dict[str, Any]]]


FIGURES: dict[str, Figure] = {}


def figure(name: str, description: str):
    """Decorator registering ``make(ctx) -> (matplotlib Figure, data dict)`` under ``name``."""

    def register(make):
        if name in FIGURES:
            raise ValueError(f"figure {name!r} registered twice")
        FIGURES[name] = Figure(name, description, make)
        return make

    return register


def make_figure(
    name: str,
    preset: str,
    out_dir: str | Path,
    *,
    store_path: str | Path | None = None,
    device: str = "cpu",
    backend: Backend | None = None,
    progress: bool = True,
    retry_failed: bool = False,
) -> dict[str, Path]:
    """Regenerate figure ``name`` into ``out_dir``; returns the paths of the files written."""
    from modlab.plots import save_figure

    if name not in FIGURES:
        raise ConfigError(f"unknown figure {name!r} (known: {', '.join(sorted(FIGURES))})")
    if preset not in PRESETS:
        raise ConfigError(f"preset {preset!r}: allowed {', '.join(PRESETS)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    with Store(store_path or out_dir / "modlab.sqlite") as store:
        ctx = FigureContext(preset, store, device, backend, progress, retry_failed)
        fig, data = FIGURES[name].make(ctx)
    return save_figure(fig, {"figure": name, "preset": preset, **data}, out_dir, name)
