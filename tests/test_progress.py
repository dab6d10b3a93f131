import sys

import torch

from modlab import progress
from modlab.cli import _step_bar, build_parser
from modlab.experiments import get_experiment


def test_the_trainer_reports_its_steps_to_listeners():
    sine = get_experiment("sine")
    config = sine.config.parse({"train": {"steps": 40, "eval_every": 10}, "task": {"n_train": 32, "n_test": 32}})
    seen = []
    with progress.listening(lambda done, total: seen.append((done, total))):
        sine.run_batch([config], torch.device("cpu"))
    assert seen[-1] == (40, 40) and {total for _, total in seen} == {40} and len(seen) >= 4
    progress.report(1, 2)  # no listener left: nothing happens
    assert seen[-1] == (40, 40)


def test_the_step_bar_is_shown_only_on_a_terminal(capsys):
    with _step_bar(build_parser().parse_args(["run", "sine"])):
        progress.report(5, 10)
    assert capsys.readouterr().err == ""  # stderr is captured here, not a terminal: no bar in log files


def test_the_step_bar_is_shown_only_for_runs_in_this_process(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    parser = build_parser()
    with _step_bar(parser.parse_args(["run", "sine"])):
        progress.report(5, 10)
    assert "steps" in capsys.readouterr().err
    for flags in (["--workers", "2"], ["--backend", "ray"], ["--no-progress"]):
        with _step_bar(parser.parse_args(["run", "sine", *flags])):
            progress.report(5, 10)
        assert capsys.readouterr().err == ""
