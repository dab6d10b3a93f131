"""The report's static page: one HTML file with its style inline, images beside it, nothing fetched.

Top: what was built with what, the verdict rules, a table of every claim with its verdict (linked
to its section), and each figure's run time. Then one section per paper, one block per figure: the
image and caption, the claims it decides (each check with its numbers and threshold, and what we
learned where one fails), the paper's numbers beside ours, the theory-vs-simulation errors, the
figure's headline numbers, and its run time, seeds and settings. A small inline script checks that
every image loaded and that no script error occurred, and says so at the foot of the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from modlab.report.checks import FAIL, PASS, VERDICT_RULES, Number, Outcome, Quantity, Value, fmt, measure
from modlab.report.claims import Claim
from modlab.report.figure_notes import NOTES, FigureNote

if TYPE_CHECKING:
    from modlab.report.build import FigureBuild, Report

PAPERS = {
    "A": (
        "a-",
        "Paper A — Boopathy et al., ICLR 2025, “Breaking neural network scaling laws with modularity”",
    ),
    "B": ("b-", "Paper B — Jarvis, Klein, Rosman and Saxe, ICLR 2023, “On the specialization of neural modules”"),
}
STATUS_MARK = {PASS: "✓ pass", FAIL: "✗ fail"}
PRESET_MEANING = {
    "quick": "small runs for tests and the demo, well short of the papers' ranges: verdicts here are indicative only",
    "full": "the papers' own ranges, with seeds and steps cut to fit a two-core CPU (each figure says what it cut)",
    "paper": "the papers' own scale",
}

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1180px; margin: 0 auto; padding: 0 18px 40px;
       color: #1d1d1f; }
h1 { font-size: 1.7em; margin-top: 1.2em; } h2 { border-bottom: 2px solid #ccc; margin-top: 2em; }
h3 { margin-top: 2.2em; } h4 { margin: 1.2em 0 0.3em; font-size: 1em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #d4d4d4; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
img.figure { width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { color: #333; margin: 0.4em 0 0.8em; }
.verdict { font-weight: 600; padding: 1px 7px; border-radius: 9px; white-space: nowrap; }
.v-reproduces { background: #d5f2d5; } .v-partly { background: #fdeeb5; }
.v-does-not-reproduce { background: #f8d0d0; } .v-no-data, .v-not-run { background: #e4e4e4; }
.claim { border-left: 4px solid #bbb; padding: 2px 12px; margin: 1em 0; }
.stand-in { color: #6b4e00; } .learned { background: #fff8e0; padding: 4px 10px; }
.meta { color: #555; font-size: 0.9em; } details { margin: 0.3em 0; } pre { white-space: pre-wrap; }
.problem { color: #a00000; }
"""

# Checks, after load, that each image decoded (naturalWidth > 0) and that no script or resource
# error occurred; writes the result into #page-check for readers and for the browser test.
SCRIPT = """
window.pageErrors = [];
window.addEventListener('error', function (event) {
  var target = event.target;
  var what = target && target.src ? 'failed to load ' + target.src : String(event.message);
  window.pageErrors.push(what);
}, true);
window.addEventListener('load', function () {
  var check = document.getElementById('page-check');
  var images = Array.prototype.slice.call(document.images);
  var widths = images.map(function (img) { return img.getAttribute('src') + '=' + img.naturalWidth; });
  var broken = images.filter(function (img) { return img.naturalWidth === 0; });
  check.setAttribute('data-images', widths.join(';'));
  check.setAttribute('data-errors', window.pageErrors.join(';'));
  check.textContent = broken.length || window.pageErrors.length
    ? 'Problems on this page: ' + broken.length + ' image(s) did not load; ' + window.pageErrors.join('; ')
    : 'Page check: all ' + images.length + ' figure images loaded, no script errors.';
  if (broken.length || window.pageErrors.length) { check.className = 'problem'; }
});
"""


def write_page(report: Report) -> None:
    (report.out_dir / "index.html").write_text(render(report), encoding="utf-8")


def render(report: Report) -> str:
    body = [
        f"<h1>modlab reproduction report — preset “{escape(report.preset)}”</h1>",
        _intro(report),
        _summary_table(report),
        _budget_table(report.builds),
        *(_paper_section(report, paper) for paper in PAPERS),
        _other_section(report),
        '<p id="page-check">Page check did not run (scripts disabled?).</p>',
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>modlab report ({escape(report.preset)})</title><style>{STYLE}</style>"
        f"<script>{SCRIPT}</script></head>\n<body>\n" + "\n".join(b for b in body if b) + "\n</body></html>\n"
    )


def _intro(report: Report) -> str:
    info = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in report.info.items())
    rules = "".join(f"<li>{_badge(v)} — {escape(text)}</li>" for v, text in VERDICT_RULES)
    return (
        "<p>Every figure of both papers regenerated by modlab at one preset, each claim of the papers judged "
        "from the numbers in the figures' JSON files (in <code>figures/</code>) by stated rules. A claim's "
        "checks compare a quantity with a threshold; the verdict follows from how many pass:</p>"
        f"<ul>{rules}</ul><p>Preset “{escape(report.preset)}”: {escape(PRESET_MEANING.get(report.preset, ''))}.</p>"
        f"<table>{info}</table>"
    )


def _badge(verdict: str) -> str:
    return f'<span class="verdict v-{verdict.replace(" ", "-")}">{escape(verdict)}</span>'


def _summary_table(report: Report) -> str:
    rows = []
    for claim in report.claims:
        result = report.results[claim.id]
        numbers = "; ".join(_short_outcome(o) for o in result.outcomes) or escape(result.reason)
        where = " <em>(offline digits stand-in)</em>" if claim.stand_in else ""
        rows.append(
            f"<tr><td>{claim.paper}</td><td><a href='#claim-{claim.id}'>{escape(claim.statement)}</a>{where}</td>"
            f"<td>{_badge(result.verdict)}</td><td>{numbers}</td></tr>"
        )
    return (
        "<h2 id='summary'>Summary: every claim and its verdict</h2><table><tr><th>paper</th><th>claim</th>"
        f"<th>verdict</th><th>the numbers behind it</th></tr>{''.join(rows)}</table>"
    )


def _short_outcome(outcome: Outcome) -> str:
    mark = {PASS: "✓", FAIL: "✗"}.get(outcome.status, "?")
    value = fmt(outcome.measured.value) if outcome.measured.value is not None else "missing"
    return f"{escape(outcome.check.quantity.formula())} = {escape(value)} ({escape(outcome.check.rule())}) {mark}"


def _budget_table(builds: list[FigureBuild]) -> str:
    rows = "".join(
        f"<tr><td><a href='#fig-{b.name}'>{b.name}</a></td><td>{escape(b.status)}</td>"
        f"<td class='num'>{b.wall_seconds:.0f}</td><td class='num'>{b.new_runs}</td>"
        f"<td class='num'>{b.budget_seconds:.0f}</td></tr>"
        for b in builds
    )
    total = sum(b.wall_seconds for b in builds)
    budget = sum(b.budget_seconds for b in builds)
    return (
        "<h2 id='budget'>Run time per figure</h2><p>Wall seconds of this build; runs already in the store are "
        "resumed, not recomputed. Budget: the estimated wall time from an empty store, that is this build's wall time plus the "
        "stored run times of the runs it reused, added one after another (an upper bound where runs ran at "
        "once).</p>"
        "<table><tr><th>figure</th><th>status</th><th>wall s (this build)</th><th>new runs</th>"
        f"<th>budget s (from empty)</th></tr>{rows}<tr><th>total</th><td></td><td class='num'>{total:.0f}</td><td></td>"
        f"<td class='num'>{budget:.0f}</td></tr></table>"
    )


def _paper_section(report: Report, paper: str) -> str:
    prefix, title = PAPERS[paper]
    builds = [b for b in report.builds if b.name.startswith(prefix)]
    blocks = "\n".join(_figure_block(report, b) for b in builds)
    return f"<h2 id='paper-{paper}'>{escape(title)}</h2>\n{blocks}"


def _other_section(report: Report) -> str:
    prefixes = tuple(prefix for prefix, _ in PAPERS.values())
    builds = [b for b in report.builds if not b.name.startswith(prefixes)]
    if not builds:
        return ""
    return "<h2 id='other'>Other figures</h2>\n" + "\n".join(_figure_block(report, b) for b in builds)


def _figure_block(report: Report, build: FigureBuild) -> str:
    note = NOTES.get(build.name)
    data = report.figures.get(build.name)
    claims = [c for c in report.claims if c.figure == build.name]
    parts = [f"<h3 id='fig-{build.name}'>{escape(build.name)}</h3>"]
    caption = note.caption if note else _registered_description(build.name)
    if data is None:
        parts.append(f"<p>{escape(caption)}</p><p class='problem'>Not made: {escape(build.message)}</p>")
    else:
        parts.append(
            f"<figure><img class='figure' src='figures/{build.name}.png' alt='{escape(build.name)}'>"
            f"<figcaption>{escape(caption)}{_source_line(data)}</figcaption></figure>"
        )
    parts += [_claim_block(report, claim) for claim in claims]
    if data is not None:
        parts += [_paper_numbers(report, note), _errors(report, note), _headline(data)]
    parts.append(_run_line(build, data, report.info))
    return "\n".join(p for p in parts if p)


def _registered_description(name: str) -> str:
    from modlab.figures import FIGURES

    return FIGURES[name].description if name in FIGURES else name


def _source_line(data: dict[str, Any]) -> str:
    source = data.get("source")
    if source is None:
        return ""
    stand_in = " — the offline stand-in for the paper's data" if source == "digits" else ""
    return f" <strong>Data: {escape(str(source))}{stand_in}.</strong>"


def _claim_block(report: Report, claim: Claim) -> str:
    result = report.results[claim.id]
    head = (
        f"<div class='claim' id='claim-{claim.id}'><p><strong>Claim ({claim.paper}):</strong> "
        f"{escape(claim.statement)} {_badge(result.verdict)}</p>"
    )
    parts = [head]
    if claim.stand_in:
        parts.append(f"<p class='stand-in'>Run on the {escape(claim.stand_in)}.</p>")
    if result.reason:
        parts.append(f"<p>Not run: {escape(result.reason)}.</p>")
    if result.outcomes:
        parts.append(_checks_table(result.outcomes))
    lessons = [o.check.if_fails for o in result.outcomes if o.status == FAIL and o.check.if_fails]
    if lessons:
        items = "".join(f"<li>{escape(text)}</li>" for text in lessons)
        parts.append(f"<div class='learned'><strong>What we learned:</strong><ul>{items}</ul></div>")
    parts.append("</div>")
    return "\n".join(parts)


def _checks_table(outcomes: Iterable[Outcome]) -> str:
    rows = []
    for o in outcomes:
        inputs = ", ".join(f"{escape(label)} = {escape(_fmt_any(v))}" for label, v in o.measured.inputs)
        value = fmt(o.measured.value) if o.measured.value is not None else escape(o.measured.problem or "missing")
        rows.append(
            f"<tr><td>{escape(o.check.quantity.formula())}</td><td>{inputs}</td><td class='num'>{escape(value)}</td>"
            f"<td>{escape(o.check.rule())}</td><td>{STATUS_MARK.get(o.status, escape(o.status))}</td></tr>"
        )
    return (
        "<table><tr><th>check</th><th>numbers read</th><th>value</th><th>rule</th><th>outcome</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _fmt_any(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value[:12]) + (", …]" if len(value) > 12 else "]")
    return fmt(value)


def _paper_numbers(report: Report, note: FigureNote | None) -> str:
    if note is None or not note.paper:
        return ""
    rows = []
    for row in note.paper:
        rows.append(
            f"<tr><td>{escape(row.quantity)}</td><td class='num'>{escape(row.paper)}</td>"
            f"<td class='num'>{escape(_measured(report, row.ours))}</td><td>{escape(row.note)}</td></tr>"
        )
    return (
        "<h4>The paper's numbers beside ours</h4><table><tr><th>quantity</th><th>paper</th><th>ours</th>"
        f"<th>note</th></tr>{''.join(rows)}</table>"
    )


def _measured(report: Report, quantity: Quantity | Number) -> str:
    measured = measure(Value(quantity) if isinstance(quantity, Number) else quantity, report.figures)
    return fmt(measured.value) if measured.value is not None else f"— ({measured.problem})"


def _errors(report: Report, note: FigureNote | None) -> str:
    if note is None or not note.errors:
        return ""
    rows = []
    for quantity in note.errors:
        value = _measured(report, quantity)
        rows.append(f"<tr><td>{escape(quantity.formula())}</td><td class='num'>{escape(value)}</td></tr>")
    return f"<h4>Theory vs simulation</h4><table><tr><th>error</th><th>value</th></tr>{''.join(rows)}</table>"


def _headline(data: dict[str, Any]) -> str:
    summary = data.get("summary")
    if not isinstance(summary, dict) or not summary:
        return ""
    rows = "".join(
        f"<tr><td>{escape(key)}</td><td class='num'>{escape(_fmt_any(value))}</td></tr>"
        for key, value in _flatten(summary)
    )
    return (
        "<details><summary><strong>Headline numbers</strong> (the figure's own summary, "
        f"{rows.count('<tr>')} entries)</summary><table>{rows}</table></details>"
    )


def _flatten(mapping: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in mapping.items():
        name = f"{prefix} › {key}" if prefix else str(key)
        out += _flatten(value, name) if isinstance(value, dict) else [(name, value)]
    return out


def seeds_of(data: dict[str, Any]) -> dict[str, Any]:
    """The seed counts a figure states: keys naming seeds (or Monte Carlo draws) at its top level
    and in its preset settings."""
    found = {}
    for where in (data, data.get("preset_settings") or {}):
        for key, value in where.items():
            if ("seed" in key or key == "draws") and isinstance(value, (int, list)):
                found[key] = len(value) if isinstance(value, list) else value
    return found


def _run_line(build: FigureBuild, data: dict[str, Any] | None, info: dict[str, str]) -> str:
    provenance = ", ".join(f"{k} {v}" for k, v in info.items() if k != "built")
    text = (
        f"Run time: {build.wall_seconds:.0f} s this build ({build.new_runs} new runs); from an "
        f"empty store ≈ {build.budget_seconds:.0f} s. Built with {provenance}."
    )
    if data is None:
        return f"<p class='meta'>{escape(text)}</p>"
    seeds = ", ".join(f"{k} = {v}" for k, v in seeds_of(data).items()) or "not stated by the figure"
    settings = json.dumps(data.get("preset_settings", {}), indent=1)
    return (
        f"<p class='meta'>{escape(text)} Seeds: {escape(seeds)}. Preset: {escape(str(data.get('preset', '')))}. "
        f"Numbers: <a href='figures/{build.name}.json'>{build.name}.json</a>.</p>"
        f"<details><summary class='meta'>preset settings</summary><pre>{escape(settings)}</pre></details>"
    )
