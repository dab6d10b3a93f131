"""``modlab report`` on stand-in figures (no training: a probe sweep), and the claims table against
the registry. The page in a real browser: tests/test_report_browser.py."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from modlab.cli import main
from modlab.config import Config
from modlab.figures import FIGURES
from modlab.figures.registry import Figure
from modlab.report import CLAIMS, Claim, build_report
from modlab.report.checks import Check, MissingNumber, Value, number
from modlab.report.claims import judge
from modlab.report.figure_notes import NOTES
from modlab.report.summary import summary_markdown
from modlab.store import Store
from modlab.sweep import SweepSpec


class ProbePreset(Config):
    seeds: int = 2


def _sweep_figure(ctx):
    table = ctx.sweep(SweepSpec(experiment="probe", name="x-probe", axes={"seed": list(range(ctx.settings.seeds))}))
    scores = table[table["metric"] == "score"]["value"]
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(scores.to_numpy())
    return fig, {"summary": {"mean score": float(scores.mean()), "nested": {"best": float(scores.max())}}}


def _broken_figure(ctx):
    raise RuntimeError("probe figure broke")


@pytest.fixture
def probe_figures(monkeypatch):
    """Three stand-in figures: one sweeping the probe experiment, one that raises, one with only a
    quick preset."""
    quick = {"quick": ProbePreset()}
    both = {**quick, "full": ProbePreset(seeds=3)}
    for name, make, presets in (
        ("x-probe", _sweep_figure, both),
        ("x-broken", _broken_figure, both),
        ("x-quick-only", _sweep_figure, quick),
    ):
        monkeypatch.setitem(FIGURES, name, Figure(name, f"stand-in figure {name}", make, presets))


PROBE_CLAIMS = (
    Claim(
        "probe-high",
        "A",
        "The probe scores at least 1.",
        "x-probe",
        (
            Check(Value(number("x-probe", "mean score", ("summary", "mean score"))), at_least=1.0),
            Check(
                Value(number("x-probe", "best score", ("summary", "nested", "best"))),
                at_least=5.0,
                if_fails="The best probe score stayed below 5.",
            ),
        ),
    ),
    Claim(
        "probe-broken",
        "B",
        "The broken figure shows something.",
        "x-broken",
        (Check(Value(number("x-broken", "x", "x")), at_most=1.0),),
    ),
)


def test_report_makes_figures_judges_claims_and_writes_a_page(probe_figures, tmp_path):
    report = build_report(tmp_path, "quick", names=["x-probe", "x-broken"], progress=False, claims=PROBE_CLAIMS)
    assert report.results["probe-high"].verdict == "partly"  # mean 1.5 ≥ 1; best 2 < 5
    assert report.results["probe-broken"].verdict == "not run"
    assert "probe figure broke" in report.results["probe-broken"].reason
    assert report.problems == ["x-broken: failed: RuntimeError: probe figure broke"]

    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "figures").iterdir())
    assert files == ["figures/x-probe.json", "figures/x-probe.png"]  # no PDF, nothing of the broken one
    page = (tmp_path / "index.html").read_text()
    for text in (
        "src='figures/x-probe.png'",
        "href='#claim-probe-high'",
        "id='claim-probe-high'",
        "The best probe score stayed below 5.",
        "mean score",
        "nested › best",
        "Not made: RuntimeError: probe figure broke",
        "≥ 5",
        "stand-in figure x-probe",  # no note for it: the registry's description is its caption
    ):
        assert text in page
    assert "http://" not in page and "https://" not in page

    saved = json.loads((tmp_path / "report.json").read_text())
    assert [c["verdict"] for c in saved["claims"]] == ["partly", "not run"]
    assert saved["claims"][0]["checks"][1] == {
        "quantity": "best score",
        "rule": "≥ 5",
        "value": 2.0,
        "shown": "2",
        "inputs": {"best score": 2.0},
        "status": "fail",
        "problem": None,
    }
    assert {"modlab", "git commit", "torch", "device"} <= set(saved["build"])
    summary = (tmp_path / "summary.md").read_text()
    assert "| A | [The probe scores at least 1.](index.html#claim-probe-high) | **partly** |" in summary
    assert "best score = 2 (≥ 5) ✗" in summary and "| **not run** | x-broken: failed" in summary


def test_the_committed_report_judged_every_claim_it_could():
    """In the committed full report, every claim on data available offline has a verdict from
    numbers that were all found."""
    report = json.loads((Path(__file__).resolve().parents[1] / "docs" / "report" / "report.json").read_text())
    assert all(figure["status"] == "made" for figure in report["figures"])
    for claim in report["claims"]:
        if claim["source"] not in (None, "digits"):
            assert claim["verdict"] == "not run" and "data not available offline" in claim["reason"]
            continue
        assert claim["verdict"] != "not run", claim["id"]
        assert [c["problem"] for c in claim["checks"] if c["problem"]] == [], claim["id"]


def test_the_committed_report_finds_every_number_its_notes_put_beside_the_papers():
    figures = {
        path.stem: json.loads(path.read_text())
        for path in (Path(__file__).resolve().parents[1] / "docs" / "report" / "figures").glob("*.json")
    }
    missing = []
    for note in NOTES.values():
        numbers = [n for quantity in note.errors for n in quantity.numbers] + [p.ours for p in note.paper]
        for wanted in numbers:
            try:
                wanted.read(figures)
            except MissingNumber as err:
                missing.append(str(err))
    assert missing == []


def test_the_readme_quotes_the_committed_reports_summary():
    """The README's table of claims is the committed report's, as ``modlab report`` wrote it (after
    a new ``docs/report``, paste its ``summary.md`` with links under docs/report/)."""
    root = Path(__file__).resolve().parents[1]
    report = json.loads((root / "docs" / "report" / "report.json").read_text())
    assert report["preset"] == "full"
    assert summary_markdown(report, "docs/report/index.html") in (root / "README.md").read_text()


def _twice_figure(ctx):
    """Two sweeps sharing every run, as figures whose panels share a point do."""
    _sweep_figure(ctx)
    return _sweep_figure(ctx)


@pytest.mark.parametrize("name", ["x-probe", "x-twice"])
def test_a_resumed_report_budgets_each_reused_run_once_at_its_stored_time(
    probe_figures, monkeypatch, tmp_path, capsys, name
):
    twice = Figure("x-twice", "two sweeps of the same runs", _twice_figure, {"quick": ProbePreset()})
    monkeypatch.setitem(FIGURES, "x-twice", twice)
    first = build_report(tmp_path, "quick", names=[name], progress=False, claims=())
    again = build_report(tmp_path, "quick", names=[name], progress=False, claims=())
    assert first.builds[0].new_runs == 2 and again.builds[0].new_runs == 0
    assert first.builds[0].budget_seconds == first.builds[0].wall_seconds  # computed here, not added again
    with Store(tmp_path / "modlab.sqlite") as store:
        stored = sum(record.seconds for record in store.records())
    assert stored > 0
    assert again.builds[0].budget_seconds == pytest.approx(again.builds[0].wall_seconds + stored)
    assert capsys.readouterr().err.count(f"{name}: made in") == 2


def test_a_figure_without_the_preset_is_skipped_with_the_reason(probe_figures, tmp_path):
    report = build_report(tmp_path, "full", names=["x-probe", "x-quick-only"], progress=False, claims=())
    assert [b.status for b in report.builds] == ["made", "skipped"]
    assert "figure 'x-quick-only' has no 'full' preset (it has quick)" in report.problems[0]
    assert "has no &#x27;full&#x27; preset" in (tmp_path / "index.html").read_text()


def test_cli_report_exits_1_and_names_each_figure_not_made(probe_figures, tmp_path, capsys):
    args = ["report", "--out", str(tmp_path), "--figure", "x-probe", "--figure", "x-broken", "--no-progress"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'index.html'}: 1 figures" in out
    assert "figure not made: x-broken: failed: RuntimeError: probe figure broke" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset", "huge"], "--preset 'huge': allowed quick, full, paper"),
        (["--figure", "no-such"], "report: unknown figure(s) no-such"),
    ],
)
def test_cli_report_bad_input_is_one_line(tmp_path, capsys, args, message):
    assert main(["report", "--out", str(tmp_path / "r"), *args]) == 2
    assert message in capsys.readouterr().err


def test_every_claim_reads_registered_figures_and_every_figure_has_a_note():
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)
    for claim in CLAIMS:
        assert claim.figures() <= set(FIGURES), claim.id
    assert set(NOTES) == set(FIGURES)
    for note in NOTES.values():
        for quantity in note.errors:
            assert quantity.figures() <= set(FIGURES)


def test_the_claims_of_both_papers_are_all_there():
    expected = {
        "a-theory-matches",
        "a-monolithic-exponential",
        "a-modular-flat",
        "a-kernel-rule-finds-projections",
        "a-kernel-rule-fewer-samples",
        "a-images-cifar",
        "a-images-digits",
        "b-dynamics-match",
        "b-systematicity",
        "b-rules",
        "b-heldout",
        "b-fullrank",
        "b-convnet-mnist",
        "b-convnet-digits",
    }
    assert {c.id for c in CLAIMS} == expected
    stand_ins = {c.id: c.source for c in CLAIMS if c.stand_in}
    assert stand_ins == {"a-images-digits": "digits", "b-convnet-digits": "digits"}


def test_real_figure_b_fullrank_is_judged_from_its_json(tmp_path):
    report = build_report(tmp_path, "quick", names=["b-fullrank"], progress=False)
    result = report.results["b-fullrank"]
    assert result.verdict == "partly"  # the paper's determinant test is a rank test for n1 = 3, not for n1 = 4
    assert [o.status for o in result.outcomes] == ["pass", "fail"]
    assert result.outcomes[1].measured.value > 0.1
    assert report.results["a-theory-matches"].verdict == "not run"
    page = (tmp_path / "index.html").read_text()
    assert "What we learned" in page and "b-fullrank" in page


def test_image_claims_need_their_data_and_the_stand_in_is_named():
    real, stand_in = (c for c in CLAIMS if c.id in ("a-images-cifar", "a-images-digits"))
    accuracy = {"monolithic": 0.40, "modular": 0.45, "kernel_rule": 0.50}
    curves = {m: {"n_slots": [1, 8], "mean": [0.55, v]} for m, v in accuracy.items()}
    digits = {"a-ccifar": {"source": "digits", "unseen_accuracy": accuracy, "accuracy_vs_k": curves}}
    offline = judge(real, digits, {})
    assert offline.verdict == "not run" and offline.reason.startswith("data not available offline")
    assert judge(stand_in, digits, {}).verdict == "reproduces"
    cifar = {"a-ccifar": {**digits["a-ccifar"], "source": "cifar10"}}
    assert judge(real, cifar, {}).verdict == "reproduces"
    assert judge(stand_in, cifar, {}).verdict == "not run"
    assert "digits" in stand_in.stand_in and "Adam" in stand_in.stand_in
