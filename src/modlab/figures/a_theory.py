"""Figure ``a-theory``: paper A's linear random-features theory against simulation.

Six panels: loss vs n and vs p (double descent; ridge beside min-norm), vs the task dimension m
(monolithic rising, modular flat), vs the task's number of modules k at fixed m, and the sample
complexity: the simulated loss at each m read off where it crosses the target, and the samples
needed vs m. Lines: the closed form (:func:`modlab.theory.rf_losses`), computed here, never stored.
Markers: the ``linear-rf`` simulation, mean ± s.e. over seeds, hollow where the closed form is the
asymptotic deterministic equivalent (ridge). Points near the interpolation peak (N/p between 1/2 and
2) get ``peak_seeds`` seeds; every simulated point enters ``max_rel_error``.

Two flat lines are identities of the model, not findings: the modular loss does not depend on m
(its modules' spectra depend on their own dimension only) and the monolithic loss does not depend
on k (its spectrum depends on m only).

Presets. ``quick``: tests and the demo, p = n = 100, 95 simulated points, 2 min of CPU time
(measured). ``full``: the paper's own axes (n and p over 10²…10⁵ around 10³; m = 2…9; k = 2…9;
samples to target for m = 2…9, 12, 16), quick's 30 seeds (120 near the peak); the simulation draws
every feature up to 10·max(p, N) explicitly, so the points that would draw more than
``max_explicit_entries`` per seed (n or p ≥ 3000; monolithic m ≥ 8 in the sample-complexity panel;
m = 16, whose target needs more than 10¹² samples in theory) are theory only, listed in the JSON.
``modlab report`` prints its measured run time. ``paper``: 100 seeds (400 near the peak), every
point simulated (a GPU's work).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter
from pydantic import Field, model_validator

from modlab.config import Config
from modlab.experiments.linear_rf import LinearRFConfig
from modlab.figures.registry import FigureContext, figure
from modlab.plots import METHOD_COLORS, mean_se, new_figure, sim_markers, theory_line
from modlab.sweep import SweepSpec
from modlab.theory import Spectrum, first_crossing, rf_losses, sample_complexity

N_GRID = np.unique(np.logspace(0.5, 12, 500).astype(np.int64))  # theory's search grid for samples to target
P_GRID = np.unique(np.logspace(0, 12, 400).astype(np.int64))
COLORS = {  # the paper-A colours of the two networks; train and ridge lines in colours no method uses
    "monolithic": METHOD_COLORS["monolithic"],
    "modular": METHOD_COLORS["modular (true projections)"],
    "train": "C8",
    "ridge": "C9",
}
PEAK_GAP = 5  # simulated points keep |N − p| ≥ 5: closer, the test loss has infinite variance


class ATheorySettings(Config):
    """What ``a-theory`` sweeps. n, p: samples and parameters (per module when modular)."""

    seeds: int = Field(ge=2, description="seeds per simulated point")
    peak_seeds: int = Field(ge=2, description="seeds per point with N/p between 1/2 and 2")
    max_explicit_entries: float = Field(gt=0, description="points drawing more N·P per seed are theory only")
    m: int = Field(ge=1, description="task dimension of the n and p panels")
    p_fixed: int = Field(ge=1, description="parameters of the n panel")
    n_fixed: int = Field(ge=1, description="samples of the p panel")
    n_axis: list[int]
    p_axis: list[int]
    ridge: float = Field(gt=0)
    m_axis: list[int]
    n_for_m: int = Field(ge=1, description="samples of the m and k panels")
    p_for_m: int = Field(ge=1, description="monolithic parameters of the m and k panels")
    k_axis: list[int]
    m_for_k: int = Field(ge=1)
    n_modules: int = Field(ge=1, description="modules of the modular network (one input dimension each)")
    p_module: int = Field(ge=1)
    target_loss: float = Field(gt=0)
    m_sc: list[int] = Field(description="task dimensions of the sample-complexity panel")
    sc_factors: list[float] = Field(description="simulated n = factor · the theory's n to target")

    @model_validator(mode="after")
    def _check(self) -> ATheorySettings:
        for name in ("n_axis", "p_axis", "m_axis", "k_axis", "m_sc", "sc_factors"):
            if not getattr(self, name):
                raise ValueError(f"{name} is empty: give at least one value")
        near = [n for n in self.n_axis if abs(n - self.p_fixed) < PEAK_GAP]
        near += [p for p in self.p_axis if abs(p - self.n_fixed) < PEAK_GAP]
        if near:
            raise ValueError(f"axis values {near} lie within {PEAK_GAP} of n = p, where the loss has infinite variance")
        return self


PRESETS = {
    "quick": ATheorySettings(
        seeds=30,
        peak_seeds=120,
        max_explicit_entries=2e7,
        m=4,
        p_fixed=100,
        n_fixed=100,
        n_axis=[20, 30, 45, 70, 90, 110, 150, 220, 330, 500, 800, 1200],
        p_axis=[10, 20, 35, 55, 80, 120, 160, 250, 400, 650, 1000],
        ridge=0.01,
        m_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        n_for_m=400,
        p_for_m=100,
        k_axis=[1, 2, 3, 4, 5, 6, 7, 8, 9],
        m_for_k=6,
        n_modules=3,
        p_module=30,
        target_loss=0.3,
        m_sc=[2, 3, 4, 5, 6, 7],
        sc_factors=[0.6, 1.0, 1.6],
    ),
    "full": ATheorySettings(
        seeds=30,
        peak_seeds=120,
        max_explicit_entries=3e7,
        m=4,
        p_fixed=1000,
        n_fixed=1000,
        n_axis=[100, 200, 400, 700, 900, 1100, 1500, 3000, 6000, 12000, 25000, 50000, 100000],
        p_axis=[100, 200, 400, 700, 900, 1100, 1500, 3000, 6000, 12000, 25000, 50000, 100000],
        ridge=0.01,
        m_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        n_for_m=1000,
        p_for_m=300,
        k_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        m_for_k=9,
        n_modules=3,
        p_module=100,
        target_loss=0.3,
        m_sc=[2, 3, 4, 5, 6, 7, 8, 9, 12, 16],
        sc_factors=[0.6, 1.0, 1.6],
    ),
    "paper": ATheorySettings(
        seeds=100,
        peak_seeds=400,
        max_explicit_entries=1e12,
        m=4,
        p_fixed=1000,
        n_fixed=1000,
        n_axis=[100, 200, 400, 700, 900, 1100, 1500, 3000, 6000, 12000, 25000, 50000],
        p_axis=[100, 200, 400, 700, 900, 1100, 1500, 3000, 6000, 12000, 25000, 50000],
        ridge=0.01,
        m_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        n_for_m=1000,
        p_for_m=300,
        k_axis=[2, 3, 4, 5, 6, 7, 8, 9],
        m_for_k=9,
        n_modules=3,
        p_module=300,
        target_loss=0.2,
        m_sc=[2, 3, 4, 5, 6, 7, 8],
        sc_factors=[0.6, 1.0, 1.6],
    ),
}


@figure(
    "a-theory",
    "paper A: linear random-features theory vs simulation (loss vs n, p, m, modules; sample complexity)",
    presets=PRESETS,
)
def make(ctx: FigureContext):
    settings: ATheorySettings = ctx.settings
    fig, axes = new_figure(6, ncols=3, width=4.6, height=3.7)
    n_base = dict(m=settings.m, p=settings.p_fixed)
    p_base = dict(m=settings.m, n=settings.n_fixed)
    curves = {
        "loss_vs_n": _curve(ctx, "a-theory vs n", n_base, "n", settings.n_axis),
        "loss_vs_p": _curve(ctx, "a-theory vs p", p_base, "p", settings.p_axis),
        "loss_vs_p_ridge": _curve(
            ctx, "a-theory vs p (ridge)", {**p_base, "ridge": settings.ridge}, "p", settings.p_axis
        ),
    }
    lines = {
        "loss_vs_n": _dense_line(n_base, "n", settings.n_axis),
        "loss_vs_p": _dense_line(p_base, "p", settings.p_axis),
        "loss_vs_p_ridge": _dense_line({**p_base, "ridge": settings.ridge}, "p", settings.p_axis),
    }
    _double_descent(axes[0], curves["loss_vs_n"], lines["loss_vs_n"], "n", COLORS["monolithic"], "min-norm")
    _loss_axis(axes[0], [curves["loss_vs_n"]])
    _mark_peak(axes[0], settings.p_fixed, f"n = p = {settings.p_fixed}")
    axes[0].set(xlabel=f"training samples n (p = {settings.p_fixed}, m = {settings.m})", title="Double descent in n")
    _double_descent(axes[1], curves["loss_vs_p"], lines["loss_vs_p"], "p", COLORS["monolithic"], "min-norm")
    _double_descent(
        axes[1], curves["loss_vs_p_ridge"], lines["loss_vs_p_ridge"], "p", COLORS["ridge"], f"ridge {settings.ridge:g}"
    )
    _loss_axis(axes[1], [curves["loss_vs_p"], curves["loss_vs_p_ridge"]])
    _mark_peak(axes[1], settings.n_fixed, f"p = n = {settings.n_fixed}")
    axes[1].set(xlabel=f"parameters p (n = {settings.n_fixed}, m = {settings.m})", title="Double descent in p")
    curves |= _dimension_panel(ctx, axes[2], settings)
    curves["loss_vs_k"] = _modules_panel(ctx, axes[3], settings)
    sample_complexity_data, sc_curves = _sample_complexity_panels(ctx, axes[4], axes[5], settings)
    fig.suptitle(
        "Paper A, linear random features: closed form (lines) vs simulation (markers: mean ± s.e. over seeds; "
        "hollow where the closed form is asymptotic)",
        fontsize=9,
    )
    all_curves = curves | sc_curves
    data = {
        "summary": _summary(all_curves, sample_complexity_data, settings.target_loss),
        "panels": {name: _columns(frame) for name, frame in all_curves.items()},
        "theory_lines": lines,
        "sample_complexity": sample_complexity_data,
    }
    return fig, data


def _point(base: dict[str, Any], axis: str, value: Any) -> LinearRFConfig:
    """One point's fields, unvalidated: a theory-only point may be too large to simulate, which the
    config refuses; the sweep validates every point it runs."""
    return LinearRFConfig.model_construct(**base, **{axis: value})


def _seeds(cfg: LinearRFConfig, settings: ATheorySettings) -> int | None:
    """Seeds for one point: ``peak_seeds`` where N/p is between 1/2 and 2, None (theory only) where
    one seed would draw more than ``max_explicit_entries`` features."""
    if cfg.explicit_entries > settings.max_explicit_entries:
        return None
    return settings.peak_seeds if 0.5 <= cfg.n_eqs / cfg.p_total <= 2 else settings.seeds


def _curve(ctx: FigureContext, name: str, base: dict[str, Any], axis: str, values: list) -> pd.DataFrame:
    """One row per axis value: ``x``, simulated test/train mean ± s.e. and ``seeds`` (nan where
    theory only), the closed form ``theory_test``/``theory_train`` and ``exact``."""
    groups: dict[int, list] = {}
    for value in values:
        seeds = _seeds(_point(base, axis, value), ctx.settings)
        if seeds is not None:
            groups.setdefault(seeds, []).append(value)
    rows = pd.DataFrame({axis: values})
    stats = [
        _stats(
            ctx.sweep(
                SweepSpec(
                    experiment="linear-rf",
                    name=f"{name} ({seeds} seeds)",
                    base=base,
                    axes={axis: vals, "seed": list(range(seeds))},
                )
            ),
            axis,
        )
        for seeds, vals in groups.items()
    ]
    if stats:
        rows = rows.merge(pd.concat(stats, ignore_index=True), on=axis, how="left")
    else:
        rows = rows.assign(mean=np.nan, se=np.nan, train_mean=np.nan, train_se=np.nan, seeds=0)
    theory = [_theory(_point(base, axis, v)) for v in values]
    rows = rows.assign(**{key: [t[key] for t in theory] for key in ("theory_test", "theory_train", "exact")})
    return rows.rename(columns={axis: "x"}).assign(axis=axis, seeds=rows["seeds"].fillna(0).astype(int))


def _stats(table: pd.DataFrame, axis: str) -> pd.DataFrame:
    test, train = mean_se(table, [axis], "test_loss"), mean_se(table, [axis], "train_loss")
    return test[[axis, "mean", "se"]].assign(train_mean=train["mean"], train_se=train["se"], seeds=test["count"])


def _theory(cfg: LinearRFConfig) -> dict[str, Any]:
    out = rf_losses(cfg.n, cfg.p, cfg.m, **cfg.model_kwargs())
    return {"theory_test": float(out["test"]), "theory_train": float(out["train"]), "exact": bool(out["exact"])}


def _dense_line(base: dict[str, Any], axis: str, values: list) -> dict[str, Any]:
    """The closed form on 400 log-spaced integer values of ``axis`` across the axis range."""
    cfg = _point(base, axis, values[0])
    x = np.unique(np.geomspace(min(values), max(values), 400).astype(int))
    grid: dict[str, Any] = {"n": cfg.n, "p": cfg.p, "m": cfg.m, axis: x}
    out = rf_losses(grid["n"], grid["p"], grid["m"], **cfg.model_kwargs())
    return {"x": x, "test": out["test"], "train": out["train"]}


def _double_descent(ax, curve: pd.DataFrame, line: dict[str, Any], axis: str, color: str, label: str) -> None:
    theory_line(ax, line["x"], line["test"], color, f"test, {label}")
    theory_line(ax, line["x"], line["train"], color, f"train, {label}", dashed=True, alpha=0.6)
    sim = curve[curve["mean"].notna()]
    hollow = ~sim["exact"].astype(bool)
    sim_markers(ax, sim["x"], sim["mean"], sim["se"], color, hollow=hollow)
    sim_markers(ax, sim["x"], sim["train_mean"], sim["train_se"], color, marker="s", hollow=hollow, alpha=0.6)


def _loss_axis(ax, curves: list[pd.DataFrame]) -> None:
    """Log x; y from 0 to 1.5 × the highest simulated point (the peak's theory is infinite), logarithmic
    down to the decade of the smallest positive loss and linear below it (train losses of 0)."""
    top = max(np.nanmax(c["mean"] + c["se"]) for c in curves)
    losses = np.concatenate([c[col].to_numpy(float) for c in curves for col in ("mean", "train_mean", "theory_test")])
    smallest = np.nanmin(losses[losses > 1e-6 * top])  # an interpolating fit's train loss is 0 up to rounding
    ax.set(xscale="log", ylabel="loss per sample", ylim=(0, 1.5 * top))
    ax.set_yscale("symlog", linthresh=10 ** np.floor(np.log10(smallest)))  # log down to the smallest loss, then 0
    ax.xaxis.set_minor_formatter(NullFormatter())
    _legend_below(ax)


def _mark_peak(ax, at: float, text: str) -> None:
    ax.axvline(at, color="grey", lw=0.8, ls=":")
    ax.annotate(
        text,
        (at, 0.5),
        xycoords=("data", "axes fraction"),
        xytext=(3, 0),
        textcoords="offset points",
        rotation=90,
        va="center",
        fontsize=7,
        color="grey",
    )


def _legend_below(ax) -> None:
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)


def _dimension_panel(ctx: FigureContext, ax, settings: ATheorySettings) -> dict[str, pd.DataFrame]:
    """Loss vs task dimension m: monolithic (rises), modular (flat, an identity)."""
    bases: dict[str, dict[str, Any]] = {
        "monolithic": dict(n=settings.n_for_m, p=settings.p_for_m),
        "modular": dict(
            n=settings.n_for_m, p=settings.p_module, architecture="modular", n_modules=settings.n_modules, module_dim=1
        ),
    }
    out = {}
    for label, base in bases.items():
        curve = _curve(ctx, f"a-theory vs m ({label})", base, "m", settings.m_axis)
        note = "" if label == "monolithic" else ", flat by identity"
        theory_line(ax, curve["x"], curve["theory_test"], COLORS[label], f"{label}{note}")
        sim_markers(ax, curve["x"], curve["mean"], curve["se"], COLORS[label])
        out[f"loss_vs_m_{label}"] = curve
    ax.set(xlabel=f"task dimension m (n = {settings.n_for_m})", ylabel="test loss", title="Task dimension")
    ax.set_ylim(bottom=0)
    _legend_below(ax)
    return out


def _modules_panel(ctx: FigureContext, ax, settings: ATheorySettings) -> pd.DataFrame:
    """Monolithic loss vs the task's number of modules k at fixed m: flat, an identity of the model."""
    base = dict(n=settings.n_for_m, p=settings.p_for_m, m=settings.m_for_k)
    curve = _curve(ctx, "a-theory vs k", base, "n_modules", settings.k_axis)
    theory_line(ax, curve["x"], curve["theory_test"], COLORS["monolithic"], "monolithic, flat by identity")
    sim_markers(ax, curve["x"], curve["mean"], curve["se"], COLORS["monolithic"])
    ax.set(xlabel=f"task's number of modules k (m = {settings.m_for_k})", ylabel="test loss", title="Task modules")
    ax.set_ylim(0, 1.5 * np.nanmax(curve["theory_test"]))
    _legend_below(ax)
    return curve


def _sample_complexity_panels(ctx: FigureContext, ax_curves, ax_n, settings: ATheorySettings):
    """Samples to reach ``target_loss`` with the best network size, vs m. Theory: the closed form
    minimised over p on a grid. Simulation: the loss at n = factors · (the theory's n) with p at the
    theory's best size, read off where its mean crosses the target (log-log; s.e. by the delta
    method from the bracketing points' s.e.; open markers where censored)."""
    target = settings.target_loss
    models = {
        "monolithic": {},
        "modular": dict(architecture="modular", n_modules=settings.n_modules, module_dim=1),
    }
    m_line = np.arange(min(settings.m_sc), max(settings.m_sc) + 0.01, 0.25)
    data: dict[str, Any] = {"target_loss": target, "m": settings.m_sc, "m_theory": m_line}
    curves: dict[str, pd.DataFrame] = {}
    for label, model in models.items():
        line = sample_complexity(target, m_line, n_grid=N_GRID, p_grid=P_GRID, spectrum=Spectrum(), **model)
        theory_line(ax_n, m_line, line["n"], COLORS[label], f"{label}, theory")
        at = sample_complexity(target, settings.m_sc, n_grid=N_GRID, p_grid=P_GRID, spectrum=Spectrum(), **model)
        rows = []
        for m, n_star, p_star, censored in zip(settings.m_sc, at["n"], at["p"], at["censored"]):
            crossing = _simulated_crossing(ctx, settings, label, {**model, "m": m}, n_star, p_star, censored)
            if crossing is not None:
                curves[f"samples_to_target_{label}_m{m}"] = crossing.pop("curve")
                _draw_loss_curve(ax_curves, curves[f"samples_to_target_{label}_m{m}"], label, m, settings)
            rows.append(
                {
                    "m": m,
                    "theory_n": n_star,
                    "theory_censored": censored,
                    "best_p": p_star,
                    **(crossing or {"sim_describe": "theory only"}),
                }
            )
        frame = pd.DataFrame(rows)
        simulated = frame[frame["sim_describe"] != "theory only"]
        data[label] = {
            **_columns(frame),
            "simulated_m": simulated["m"].tolist(),
            "simulated_n": simulated["sim_n"].tolist() if "sim_n" in simulated else [],
        }
        _draw_crossings(ax_n, frame, COLORS[label], f"{label}, simulation")
    ax_curves.axhline(target, color="k", lw=0.8, ls="--")
    ax_curves.annotate(
        f"target {target:g}",
        (0.02, target),
        xycoords=("axes fraction", "data"),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize=7,
    )
    ax_curves.annotate("darker: larger m", (0.98, 0.98), xycoords="axes fraction", ha="right", va="top", fontsize=7)
    ax_curves.xaxis.set_minor_formatter(NullFormatter())
    _legend_below(ax_curves)
    ax_curves.set(
        xscale="log",
        yscale="log",
        xlabel="training samples n (best p per m)",
        ylabel="test loss",
        title="Reading off samples to target",
    )
    ax_n.set(
        yscale="log",
        xlabel="task dimension m",
        ylabel=f"samples to reach test loss {target:g}",
        title="Samples to target (best p)",
    )
    _legend_below(ax_n)
    return data, curves


def _simulated_crossing(ctx, settings, label, model, n_star, p_star, censored) -> dict[str, Any] | None:
    """Simulate around the theory's n; None where the theory is censored or the point is theory only."""
    if censored is not None:
        return None
    p_star = int(p_star)
    n_values = sorted(
        {_off_peak(int(round(n_star * f)), p_star * model.get("n_modules", 1)) for f in settings.sc_factors}
    )
    base = {**model, "p": p_star}
    if _seeds(_point(base, "n", max(n_values)), settings) is None:
        return None
    curve = _curve(ctx, f"a-theory samples to target {label} m={model['m']}", base, "n", n_values)
    found = first_crossing(curve["x"], curve["mean"], settings.target_loss)
    return {
        "sim_n": found.value if found.censored is None else found.bound,
        "sim_n_se": _crossing_se(curve, found.value),
        "sim_censored": found.censored,
        "sim_describe": found.describe(),
        "curve": curve,
    }


def _off_peak(n: int, p_total: int) -> int:
    """``n`` moved to ``p_total ± PEAK_GAP`` when closer to the peak than that."""
    if abs(n - p_total) >= PEAK_GAP:
        return max(n, 2)
    return p_total + PEAK_GAP if n >= p_total else max(2, p_total - PEAK_GAP)


def _crossing_se(curve: pd.DataFrame, n_cross: float) -> float:
    """Delta-method s.e. of the crossing: relative s.e. of the loss at the crossing over the
    log-log slope of the bracketing points."""
    if not np.isfinite(n_cross):
        return float("nan")
    i = int(np.clip(np.searchsorted(curve["x"].to_numpy(), n_cross), 1, len(curve) - 1))
    x, mean, se = (curve[c].to_numpy()[i - 1 : i + 1] for c in ("x", "mean", "se"))
    slope = np.diff(np.log(mean))[0] / np.diff(np.log(x))[0]
    return float(n_cross * np.mean(se / mean) / abs(slope))


def _draw_loss_curve(ax, curve: pd.DataFrame, label: str, m: int, settings: ATheorySettings) -> None:
    """One m's simulated loss around its crossing; darker for larger m, the method named once."""
    shade = 0.35 + 0.65 * (m - min(settings.m_sc)) / max(1, max(settings.m_sc) - min(settings.m_sc))
    ax.errorbar(
        curve["x"],
        curve["mean"],
        yerr=curve["se"],
        color=COLORS[label],
        alpha=shade,
        marker="o",
        ms=3,
        lw=0.8,
        capsize=1.5,
        label=label if m == settings.m_sc[0] else None,
    )


def _draw_crossings(ax, frame: pd.DataFrame, color: str, label: str) -> None:
    if "sim_n" not in frame:
        return
    found = frame[frame["sim_n"].notna()]
    sim_markers(
        ax, found["m"], found["sim_n"], found["sim_n_se"].fillna(0), color, label, hollow=found["sim_censored"].notna()
    )


def _summary(curves: dict[str, pd.DataFrame], sample_data: dict[str, Any], target: float) -> dict[str, Any]:
    """What a report quotes: the worst relative gap between simulation and closed form over every
    simulated point (exact and asymptotic separately), with its s.e. and where it is; the number of
    theory-only points; samples to target per m, theory and simulation."""
    rows = pd.concat([c.assign(panel=name) for name, c in curves.items()], ignore_index=True)
    simulated = rows[rows["mean"].notna() & np.isfinite(rows["theory_test"])]
    rel = (simulated["mean"] - simulated["theory_test"]).abs() / simulated["theory_test"]
    out: dict[str, Any] = {}
    for suffix, mask in (("", simulated["exact"].astype(bool)), ("_asymptotic", ~simulated["exact"].astype(bool))):
        name = f"max_rel_error{suffix}"
        out[f"{name}_points"] = int(mask.sum())
        if not mask.any():
            out[name] = None
            continue
        worst = rel[mask].idxmax()
        point = simulated.loc[worst]
        out[name] = float(rel[worst])
        out[f"{name}_se"] = float(point["se"] / point["theory_test"])
        out[f"{name}_at"] = f"{point['panel']}, {point['axis']} = {point['x']:g} ({int(point['seeds'])} seeds)"
    z = (simulated["mean"] - simulated["theory_test"]) / simulated["se"]
    out["max_abs_z"] = float(z.abs().max())  # largest gap in standard errors, over every simulated point
    out["simulated_points"] = len(simulated)
    out["theory_only_points"] = int(rows["mean"].isna().sum())
    out["target_loss"] = target
    for label in ("monolithic", "modular"):
        frame = sample_data[label]
        out[f"samples_to_target_{label}"] = {
            "m": frame["m"],
            "theory": [_describe(n, c) for n, c in zip(frame["theory_n"], frame["theory_censored"])],
            "simulation": frame["sim_describe"],
        }
    return out


def _describe(n: float, censored: str | None) -> str:
    if censored == "right":
        return f"> {N_GRID[-1]:.0e}"
    return f"{n:.4g}" if censored is None else f"≤ {n:g}"


def _columns(frame: pd.DataFrame) -> dict[str, list]:
    """A table as JSON columns (NaN where a value does not exist, e.g. theory-only points)."""
    return {
        col: [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in frame[col].tolist()]
        for col in frame.columns
    }
