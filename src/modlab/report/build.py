"""``modlab report``: regenerate every figure at one preset (resuming from one store), judge every
claim on the figures' JSON, and write a static page.

Output folder: ``index.html``, ``report.json`` (verdicts, checks, run times, provenance),
``summary.md`` (the table of claims and verdicts in Markdown, for a README),
``figures/NAME.png`` and ``figures/NAME.json`` (every plotted number), and the store
``modlab.sqlite`` the figures resume from (not part of the report: keep it out of version control).
A figure that lacks the preset, or fails, is reported on the page and in :attr:`Report.problems`;
the other figures go on.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modlab.errors import ConfigError
from modlab.figures import FIGURES, make_figure
from modlab.plots import jsonable
from modlab.report.build_info import build_info
from modlab.report.checks import Result, fmt
from modlab.report.claims import CLAIMS, Claim, judge
from modlab.report.figure_notes import NOTES
from modlab.report.page import write_page
from modlab.report.summary import summary_markdown
from modlab.store import Store
from modlab.sweep.backends import Backend
from modlab.sweep.runner import SweepReport

FIGURE_DIR = "figures"
STORE_NAME = "modlab.sqlite"
MADE, SKIPPED, FAILED = "made", "skipped", "failed"


@dataclass
class FigureBuild:
    """How one figure fared in this build. ``budget_seconds``: its wall time from an empty store,
    estimated as this build's wall time plus the stored run times of the runs it reused, added one
    after another (an upper bound where runs ran at once, as long as the stored times were measured
    on a machine as free as this one)."""

    name: str
    status: str
    message: str = ""
    wall_seconds: float = 0.0
    new_runs: int = 0
    budget_seconds: float = 0.0


@dataclass
class Report:
    out_dir: Path
    preset: str
    info: dict[str, str]
    builds: list[FigureBuild]
    figures: dict[str, dict[str, Any]]
    claims: tuple[Claim, ...]
    results: dict[str, Result] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """One line per figure that was not made."""
        return [f"{b.name}: {b.status}: {b.message}" for b in self.builds if b.status != MADE]


def figure_order(names: Iterable[str]) -> list[str]:
    """Figures in reading order: the notes' order (paper A's, then B's), then any others by name."""
    names = set(names)
    return [n for n in NOTES if n in names] + sorted(names - set(NOTES))


def build_report(
    out_dir: str | Path,
    preset: str = "quick",
    *,
    names: Sequence[str] | None = None,
    store_path: str | Path | None = None,
    device: str = "auto",
    backend: Backend | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    claims: tuple[Claim, ...] = CLAIMS,
) -> Report:
    """Regenerate figures ``names`` (default: every registered figure) at ``preset`` into
    ``out_dir`` and write the report there; returns what was built and judged."""
    names = figure_order(FIGURES if names is None else names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ConfigError(f"report: unknown figure(s) {', '.join(unknown)} (known: {', '.join(sorted(FIGURES))})")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir}: exists and is not a folder")
    figure_dir = out_dir / FIGURE_DIR
    figure_dir.mkdir(parents=True, exist_ok=True)
    store_path = Path(store_path) if store_path else out_dir / STORE_NAME
    info = build_info(device)
    options = {
        "store_path": store_path,
        "device": device,
        "backend": backend,
        "progress": progress,
        "retry_failed": retry_failed,
    }
    builds = [_make_one(name, preset, figure_dir, options) for name in names]
    figures = {b.name: json.loads((figure_dir / f"{b.name}.json").read_text()) for b in builds if b.status == MADE}
    report = Report(out_dir, preset, info, builds, figures, claims)
    not_run = {b.name: f"{b.status}: {b.message}" for b in builds if b.status != MADE}
    report.results = {claim.id: judge(claim, figures, not_run) for claim in claims}
    _write_json(report)
    write_page(report)
    return report


def _make_one(name: str, preset: str, figure_dir: Path, options: dict[str, Any]) -> FigureBuild:
    """Make one figure (PNG and JSON only; ``options``: :func:`make_figure`'s keywords), timing it
    and counting the runs it computed; a figure without the preset is skipped, one that raises is
    recorded as failed. Prints one line per figure to stderr."""
    for stale in (figure_dir / f"{name}.png", figure_dir / f"{name}.json"):
        stale.unlink(missing_ok=True)
    try:
        FIGURES[name].settings(preset)
    except ConfigError as err:
        return _told(FigureBuild(name, SKIPPED, str(err)))
    ledger: list[SweepReport] = []
    start = time.perf_counter()
    try:
        paths = make_figure(name, preset, figure_dir, ledger=ledger, **options)
    except Exception as err:  # noqa: BLE001 — one figure's failure must not lose the others' hours of runs
        return _told(FigureBuild(name, FAILED, f"{type(err).__name__}: {err}", time.perf_counter() - start))
    wall = time.perf_counter() - start
    for path in paths.values():
        if path.suffix not in (".png", ".json"):
            path.unlink()
    done = sum(ledger, SweepReport())
    reused_only = set(done.reused_keys) - set(done.computed_keys)  # a run two sweeps share counts once
    with Store(options["store_path"], readonly=True) as store:
        budget = wall + store.run_seconds(reused_only)
    return _told(FigureBuild(name, MADE, "", wall, len(set(done.computed_keys)), budget))


def _told(build: FigureBuild) -> FigureBuild:
    line = f"{build.name}: {build.status}"
    if build.status == MADE:
        line += f" in {build.wall_seconds:.0f} s ({build.new_runs} new runs; from empty ≈ {build.budget_seconds:.0f} s)"
    else:
        line += f": {build.message}"
    print(line, file=sys.stderr, flush=True)
    return build


def _write_json(report: Report) -> None:
    claims = []
    for claim in report.claims:
        result = report.results[claim.id]
        claims.append(
            {
                "id": claim.id,
                "paper": claim.paper,
                "statement": claim.statement,
                "figure": claim.figure,
                "source": claim.source,
                "stand_in": claim.stand_in,
                "verdict": result.verdict,
                "reason": result.reason,
                "checks": [
                    {
                        "quantity": o.check.quantity.formula(),
                        "rule": o.check.rule(),
                        "value": o.measured.value,
                        "shown": fmt(o.measured.value) if o.measured.value is not None else "missing",
                        "inputs": dict(o.measured.inputs),
                        "status": o.status,
                        "problem": o.measured.problem,
                    }
                    for o in result.outcomes
                ],
            }
        )
    body = {
        "preset": report.preset,
        "build": report.info,
        "figures": [asdict(b) for b in report.builds],
        "claims": claims,
    }
    body = jsonable(body)
    (report.out_dir / "report.json").write_text(json.dumps(body, indent=1, allow_nan=False))
    (report.out_dir / "summary.md").write_text(summary_markdown(body), encoding="utf-8")
