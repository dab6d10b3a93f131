"""The registry of figures ``modlab figure NAME`` regenerates.

A figure is a preset (sweep specs run through the store, so a rerun after a crash redoes only what
is missing) plus a plot of the resulting table. ``make(ctx)`` draws and returns a matplotlib figure
and the JSON-able dict of every plotted number and summary; :func:`make_figure` writes
``NAME.png``, ``NAME.pdf`` and ``NAME.json`` into the output folder.

Presets are typed: a figure registers one frozen :class:`~modlab.config.Config` object per preset
name (``quick``: tests and the demo, a minute or two on two cores; ``full``: the papers' ranges,
sized for a CPU; ``paper``: the papers' own scale) and reads the chosen one as ``ctx.settings``.
A test or a user passes their own object of the same class instead of a name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from modlab.config import Config
from modlab.errors import ConfigError, ModlabError
from modlab.store import Store, tidy_table
from modlab.sweep import SweepSpec, plan_sweep, run_sweep
from modlab.sweep.backends import Backend

PRESETS = ("quick", "full", "paper")
CUSTOM = "custom"


class _SweepFlags(TypedDict):
    """Which stored runs a figure's sweeps redo (the keywords of ``plan_sweep`` and ``run_sweep``)."""

    retry_failed: bool
    rerun: bool
    reuse_stale: bool


@dataclass
class FigureContext:
    """What a figure's ``make`` needs: the preset's name and its typed settings, store, device,
    backend, progress."""

    preset: str
    store: Store | None
    device: str = "cpu"
    backend: Backend | None = None
    progress: bool = True
    retry_failed: bool = False
    settings: Any = None
    rerun: bool = False
    reuse_stale: bool = False
    dry_run: bool = False
    ledger: list = field(default_factory=list)  # each sweep's SweepReport (SweepPlan in a dry run)

    def sweep(self, spec: SweepSpec):
        """Run (or resume) a sweep in the store and return its tidy table of finished runs. In a dry
        run, only count what would run and return the table of what is stored."""
        flags = _SweepFlags(retry_failed=self.retry_failed, rerun=self.rerun, reuse_stale=self.reuse_stale)
        if self.dry_run:
            self.ledger.append(plan_sweep(spec, self.store, backend=self.backend, **flags))
            return self.store.table(spec.keys()) if self.store is not None else tidy_table([])
        assert self.store is not None
        report = run_sweep(spec, self.store, device=self.device, backend=self.backend, progress=self.progress, **flags)
        self.ledger.append(report)
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
    presets: dict[str, Config] = field(default_factory=dict)

    def settings(self, preset: str | Config) -> tuple[str, Config | None]:
        """(preset name, typed settings) for a preset name or a settings object of this figure."""
        if isinstance(preset, Config):
            kinds = {type(p) for p in self.presets.values()}
            if kinds and type(preset) not in kinds:
                allowed = ", ".join(sorted(k.__name__ for k in kinds))
                raise ConfigError(
                    f"figure {self.name!r}: preset object of type {type(preset).__name__}, expected {allowed}"
                )
            return CUSTOM, preset
        if preset not in PRESETS:
            raise ConfigError(f"preset {preset!r}: allowed {', '.join(PRESETS)}")
        if self.presets and preset not in self.presets:
            raise ConfigError(f"figure {self.name!r} has no {preset!r} preset (it has {', '.join(self.presets)})")
        return preset, self.presets.get(preset)


FIGURES: dict[str, Figure] = {}


def figure(name: str, description: str, presets: Mapping[str, Config] | None = None):
    """Decorator registering ``make(ctx) -> (matplotlib Figure, data dict)`` under ``name``, with its
    typed ``presets`` (preset name → settings object, read as ``ctx.settings``)."""

    def register(make):
        if name in FIGURES:
            raise ValueError(f"figure {name!r} registered twice")
        FIGURES[name] = Figure(name, description, make, dict(presets or {}))
        return make

    return register


def make_figure(
    name: str,
    preset: str | Config,
    out_dir: str | Path,
    *,
    store_path: str | Path | None = None,
    device: str = "cpu",
    backend: Backend | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    rerun: bool = False,
    reuse_stale: bool = False,
    dry_run: bool = False,
    ledger: list | None = None,
) -> dict[str, Path]:
    """Regenerate figure ``name`` at ``preset`` (a name, or a settings object of the figure's preset
    class) into ``out_dir``; returns the paths of the files written. Each sweep's report is appended
    to ``ledger``. ``dry_run``: compute, write and draw nothing; ``ledger`` gets each sweep's plan
    (a sweep that needs an earlier sweep's results is counted only once those are stored)."""
    from modlab.plots import save_figure

    if name not in FIGURES:
        raise ConfigError(f"unknown figure {name!r} (known: {', '.join(sorted(FIGURES))})")
    preset_name, settings = FIGURES[name].settings(preset)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: exists and is not a folder")
    store_path = Path(store_path or out_dir / "modlab.sqlite")
    ledger = [] if ledger is None else ledger
    if dry_run:
        store = Store(store_path, readonly=True) if store_path.exists() else None
        ctx = FigureContext(
            preset_name, store, device, backend, progress, retry_failed, settings, rerun, reuse_stale, True, ledger
        )
        try:
            FIGURES[name].make(ctx)
        except Exception:  # noqa: BLE001 - drawing from a partly stored table may fail; nothing is drawn
            pass
        finally:
            if store is not None:
                store.close()
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    with Store(store_path, create=True) as store:
        ctx = FigureContext(
            preset_name, store, device, backend, progress, retry_failed, settings, rerun, reuse_stale, False, ledger
        )
        fig, data = FIGURES[name].make(ctx)
    if settings is not None:
        data = {"preset_settings": settings.to_dict(), **data}
    return save_figure(fig, {"figure": name, "preset": preset_name, **data}, out_dir, name)
