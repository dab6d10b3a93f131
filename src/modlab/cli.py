"""The ``modlab`` command: run, sweep, figure, results. The only place that parses arguments and
prints. Every user-facing problem is one line on stderr and exit status 2; nothing stored is lost."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

import yaml

from modlab.errors import ConfigError, ModlabError

DEFAULT_STORE = "results/modlab.sqlite"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        _use_data_dir(getattr(args, "data_dir", None))
        return args.handler(args)
    except ModlabError as err:
        print(f"modlab: error: {printable(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modlab: interrupted; finished runs are stored, rerun the same command to resume", file=sys.stderr)
        return 130


def printable(message: str) -> str:
    """One terminal line: newlines and other control characters (say, in a bad field name) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modlab", description="Theory and experiments of modular neural networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run one experiment config and print its metrics")
    run.add_argument("experiment", nargs="?", help="experiment name (see --list)")
    run.add_argument("--list", action="store_true", help="list the experiments")
    run.add_argument("--config", help="YAML/JSON file of config fields")
    run.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="set a field (YAML value; dotted for nested)"
    )
    run.add_argument("--show-config", action="store_true", help="print the full config and exit")
    run.add_argument("--retry-failed", action="store_true", help="rerun the run if it is stored as failed")
    _common(run)
    run.set_defaults(handler=cmd_run)

    sweep = sub.add_parser("sweep", help="run a grid of configs into the store (resumable)")
    sweep.add_argument("spec", help="sweep spec file (YAML/JSON)")
    sweep.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    sweep.add_argument("--on-error", choices=("continue", "stop"), default="continue")
    _common(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    fig = sub.add_parser("figure", help="regenerate a figure (NAME.png, NAME.pdf, NAME.json)")
    fig.add_argument("name", nargs="?", help="figure name (see --list)")
    fig.add_argument("--list", action="store_true", help="list the figures")
    fig.add_argument("--preset", default="quick", help="quick | full | paper")
    fig.add_argument("--out", default="results/figures", help="output folder")
    fig.add_argument("--store", default=None, help="results store (default OUT/modlab.sqlite)")
    fig.add_argument("--device", default="auto", help="auto | cpu | cuda")
    fig.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    _backend_options(fig)
    fig.set_defaults(handler=cmd_figure)

    rep = sub.add_parser("report", help="regenerate every figure and write the reproduction report (index.html)")
    rep.add_argument("--preset", default="quick", help="quick | full | paper")
    rep.add_argument("--out", default="results/report", help="output folder (index.html, figures/, report.json)")
    rep.add_argument("--store", default=None, help="results store to resume from (default OUT/modlab.sqlite)")
    rep.add_argument("--figure", action="append", default=None, metavar="NAME", help="only this figure (repeatable)")
    rep.add_argument("--device", default="auto", help="auto | cpu | cuda")
    rep.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    _backend_options(rep)
    rep.set_defaults(handler=cmd_report)

    res = sub.add_parser("results", help="print the tidy results table of a sweep spec")
    res.add_argument("spec", nargs="?", help="sweep spec file (YAML/JSON); omitted: every run in the store")
    res.add_argument("--format", choices=("table", "csv", "json"), default="table")
    res.add_argument("--store", default=DEFAULT_STORE)
    res.add_argument("--failed", action="store_true", help="list the failed runs with their errors instead")
    res.add_argument("--provenance", action="store_true", help="add each run's modlab and torch versions, device, host")
    res.set_defaults(handler=cmd_results)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"results store (default {DEFAULT_STORE})")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    _backend_options(parser)


def _backend_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="where runs execute: this machine, or a Ray cluster (pip install 'modlab[ray]')",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="runs at once: local worker processes (default 1); with ray, the CPUs of the "
        "local Ray it starts (default: cores, at most 4), or with --ray-address the tasks in flight",
    )
    parser.add_argument(
        "--ray-address", default=None, help="Ray cluster to join (e.g. 10.0.0.5:6379); default: start a local Ray"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--data-dir", default=None, help="folder of real dataset files (CIFAR-10, MNIST); sets MODLAB_DATA"
    )


def _use_data_dir(data_dir: str | None) -> None:
    """``--data-dir`` becomes ``MODLAB_DATA``, which the dataset readers (and worker processes) read."""
    from modlab.tasks.image_data import DATA_ENV

    if data_dir is None:
        return
    if not Path(data_dir).expanduser().is_dir():
        raise ConfigError(f"--data-dir {data_dir}: no such folder")
    os.environ[DATA_ENV] = str(Path(data_dir).expanduser().resolve())


def _backend(args):
    from modlab.sweep import make_backend

    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be ≥ 1")
    return make_backend(args.backend, args.workers, args.ray_address)


def _yaml_value(item: str, text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"--set {item!r}: the value {text!r} is not valid YAML") from None


def _checked_runtime(args):
    """Device and backend validated before any store is opened or created."""
    from modlab.train.device import resolve_device

    resolve_device(args.device)
    return _backend(args)


def cmd_run(args) -> int:
    from modlab.config import read_mapping_file
    from modlab.sweep import SweepSpec, run_sweep
    from modlab.config import set_dotted
    from modlab.experiments import EXPERIMENTS
    from modlab.plots import jsonable
    from modlab.store import Store

    if args.list:
        for name, exp in sorted(EXPERIMENTS.items()):
            print(f"{name:24s} {exp.description}")
        return 0
    if not args.experiment:
        raise ConfigError("run: name an experiment (modlab run --list shows them)")
    fields = read_mapping_file(args.config, "config") if args.config else {}
    for item in args.set:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--set {item!r}: expected FIELD=VALUE")
        set_dotted(fields, name, _yaml_value(item, text))
    spec = SweepSpec(experiment=args.experiment, name=args.experiment, base=fields)
    config = spec.configs()[0]
    if args.show_config:
        print(config.to_yaml(), end="")
        return 0
    backend = _checked_runtime(args)
    with Store(args.store) as store:
        run_sweep(
            spec,
            store,
            device=args.device,
            backend=backend,
            progress=not args.no_progress,
            retry_failed=args.retry_failed,
        )
        record = store.records(spec.keys())[0]
    if record.status == "failed":
        print(f"modlab: run {record.key} failed: {record.error}", file=sys.stderr)
        return 1
    print(json.dumps(jsonable({"key": record.key, "metrics": record.metrics}), indent=1))
    return 0


def cmd_sweep(args) -> int:
    from modlab.sweep import SweepSpec, run_sweep
    from modlab.store import Store

    spec = SweepSpec.load(args.spec)
    backend = _checked_runtime(args)
    with Store(args.store) as store:
        report = run_sweep(
            spec,
            store,
            retry_failed=args.retry_failed,
            on_error=args.on_error,
            device=args.device,
            backend=backend,
            progress=not args.no_progress,
        )
    print(f"{report}; store: {args.store}")
    return 1 if report.failed else 0


def cmd_figure(args) -> int:
    from modlab.figures import FIGURES, make_figure

    if args.list:
        for name, fig in sorted(FIGURES.items()):
            print(f"{name:22s} {fig.description}")
        return 0
    if not args.name:
        raise ConfigError("figure: name a figure (modlab figure --list shows them)")
    paths = make_figure(
        args.name,
        args.preset,
        args.out,
        store_path=args.store,
        device=args.device,
        backend=_checked_runtime(args),
        progress=not args.no_progress,
        retry_failed=args.retry_failed,
    )
    for path in paths.values():
        print(path)
    return 0


def cmd_report(args) -> int:
    from modlab.figures import PRESETS
    from modlab.report import build_report

    if args.preset not in PRESETS:
        raise ConfigError(f"--preset {args.preset!r}: allowed {', '.join(PRESETS)}")
    report = build_report(
        args.out,
        args.preset,
        names=args.figure,
        store_path=args.store,
        device=args.device,
        backend=_checked_runtime(args),
        progress=not args.no_progress,
        retry_failed=args.retry_failed,
    )
    verdicts = [result.verdict for result in report.results.values()]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
    print(f"{report.out_dir / 'index.html'}: {len(report.figures)} figures, claims: {counts}")
    for problem in report.problems:
        print(f"modlab: figure not made: {printable(problem)}", file=sys.stderr)
    return 1 if report.problems else 0


def cmd_results(args) -> int:
    import pandas as pd

    from modlab.sweep import SweepSpec
    from modlab.store import Store

    keys = SweepSpec.load(args.spec).keys() if args.spec else None
    if not Path(args.store).exists():
        raise ConfigError(f"store {args.store} does not exist (run a sweep or figure first)")
    with Store(args.store) as store:
        if args.failed:
            failed = store.records(keys, status="failed")
            table = pd.DataFrame(
                [{"key": r.key, "experiment": r.experiment, "error": r.error} for r in failed],
                columns=["key", "experiment", "error"],
            )
        else:
            table = store.table(keys)
        if args.provenance and len(table):
            table = table.merge(store.provenance_table(keys), on="key", how="left")
    _print_table(table, args.format)
    return 0


def _print_table(table, fmt: str) -> None:
    if fmt == "csv":
        print(table.to_csv(index=False), end="")
    elif fmt == "json":
        print(table.to_json(orient="records"))
    else:
        print(table.to_string(index=False) if len(table) else "(no runs)")


if __name__ == "__main__":
    raise SystemExit(main())
