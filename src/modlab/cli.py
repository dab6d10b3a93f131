"""The ``modlab`` command: run, sweep, figure, results, plot, config. The only place that parses
arguments and prints. Every user-facing problem is one line on stderr and exit status 2; nothing
stored is lost. ``run``, ``sweep`` and ``figure`` end with one stderr line
``N runs: S reused, C computed, F failed``; read commands open the store read-only. Ctrl-C exits 130
and SIGTERM 143, each with one line.

Every command that stores or reads runs uses one default store, ``results/modlab.sqlite`` (relative
to the working folder), so ``modlab results`` after ``modlab figure`` or ``modlab sweep`` shows
their runs; ``--store`` picks another."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import modlab
from modlab.errors import ConfigError, ModlabError, clip, echo

DEFAULT_STORE = "results/modlab.sqlite"
FORMATS = ("table", "csv", "json", "parquet")
MESSAGE_LIMIT = 2000  # characters of one error line, whatever it echoes


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt is for SIGINT."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        _use_data_dir(getattr(args, "data_dir", None))
        _use_imports(getattr(args, "imports", []))
        code = args.handler(args)
        sys.stdout.flush()  # here, so a reader that has gone is caught below, not at exit
        return code
    except ModlabError as err:
        print(f"modlab: error: {printable(str(err))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        print(f"modlab: error: {printable(where + (err.strerror or str(err)))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modlab: interrupted; finished runs are stored, rerun the same command to resume", file=sys.stderr)
        return 130
    except Terminated:
        print("modlab: terminated; finished runs are stored, rerun the same command to resume", file=sys.stderr)
        return 143
    finally:
        signal.signal(signal.SIGTERM, previous)


def printable(message: str) -> str:
    """One terminal line of bounded length: newlines and other control characters (say, in a bad
    field name) escaped."""
    return clip("".join(c if c.isprintable() else repr(c)[1:-1] for c in message[: MESSAGE_LIMIT * 2]), MESSAGE_LIMIT)


def _silence_stdout() -> None:
    """The reader of our output has gone (``modlab results | head``): point stdout at /dev/null so
    Python's final flush raises nothing either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modlab", description="Theory and experiments of modular neural networks.")
    parser.add_argument("--version", action="version", version=f"modlab {modlab.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run one experiment config and print a summary of its metrics")
    run.add_argument("experiment", nargs="?", help="experiment name (see --list), or module.path:ATTRIBUTE")
    run.add_argument("--list", action="store_true", help="list the experiments")
    run.add_argument("--config", help="YAML/JSON file of config fields")
    _set_option(run)
    run.add_argument("--show-config", action="store_true", help="print the full config and exit")
    run.add_argument("--json", action="store_true", help="print the run's key and every metric as JSON")
    run.add_argument("--retry-failed", action="store_true", help="rerun the run if it is stored as failed")
    _recompute_options(run)
    _common(run)
    run.set_defaults(handler=cmd_run)

    sweep = sub.add_parser("sweep", help="run a grid of configs into the store (resumable)")
    sweep.add_argument("spec", help="sweep spec file (YAML/JSON)")
    _set_option(sweep, "override a field of the spec's base")
    sweep.add_argument(
        "--axis",
        action="append",
        default=[],
        metavar="FIELD=V1,V2,...",
        help="add a grid axis, or replace the spec's axis of that field (values: YAML, comma-separated)",
    )
    sweep.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    sweep.add_argument(
        "--on-error",
        choices=("continue", "stop"),
        default="continue",
        help="when a run fails: record it and go on with the others (continue, the default), or record it "
        "and stop the sweep (stop); either way `modlab results --failed` lists the failures",
    )
    _recompute_options(sweep, dry_run=True)
    _common(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    fig = sub.add_parser("figure", help="regenerate a figure (NAME.png, NAME.pdf, NAME.json)")
    fig.add_argument("name", nargs="?", help="figure name (see --list)")
    fig.add_argument("--list", action="store_true", help="list the figures")
    fig.add_argument("--preset", default="quick", help="quick | full | paper")
    fig.add_argument("--out", default="results/figures", help="output folder")
    _store_option(fig)
    fig.add_argument("--device", default="auto", help="auto | cpu | cuda")
    fig.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    _recompute_options(fig, dry_run=True)
    _backend_options(fig)
    fig.set_defaults(handler=cmd_figure)

    rep = sub.add_parser("report", help="regenerate every figure and write the reproduction report (index.html)")
    rep.add_argument("--preset", default="quick", help="quick | full | paper")
    rep.add_argument("--out", default="results/report", help="output folder (index.html, figures/, report.json)")
    _store_option(rep)
    rep.add_argument("--figure", action="append", default=None, metavar="NAME", help="only this figure (repeatable)")
    rep.add_argument("--device", default="auto", help="auto | cpu | cuda")
    rep.add_argument("--retry-failed", action="store_true", help="rerun runs recorded as failed")
    _backend_options(rep)
    rep.set_defaults(handler=cmd_report)

    res = sub.add_parser("results", help="print the results table of a sweep spec (one row per run)")
    res.add_argument("spec", nargs="?", help="sweep spec file (YAML/JSON); omitted: every run in the store")
    res.add_argument("--format", choices=FORMATS, default="table", help="parquet needs pyarrow; it goes to stdout")
    res.add_argument(
        "--agg",
        nargs="?",
        const="",
        default=None,
        metavar="FIELD,...",
        help="mean, standard error and count over these fields (default: those whose name ends in 'seed')",
    )
    res.add_argument("--long", action="store_true", help="the long form: one row per run × metric × x")
    _store_option(res)
    _import_option(res)
    res.add_argument("--failed", action="store_true", help="list the failed runs with their errors instead")
    res.add_argument(
        "--provenance",
        action="store_true",
        help="add what each run was computed with: versions, git commit, code fingerprint, device, "
        "engine, threads, host, data files' SHA-256, start, finish, duration",
    )
    res.set_defaults(handler=cmd_results)

    plot = sub.add_parser("plot", help="plot a metric of a sweep: mean ± s.e. over seeds (FILE and FILE.json)")
    plot.add_argument("spec", help="sweep spec file (YAML/JSON) whose stored runs are plotted")
    plot.add_argument("--x", required=True, help="config field on the x axis, or a curve metric's own x (e.g. step)")
    plot.add_argument("--y", required=True, help="metric on the y axis (a curve's final value against a field)")
    plot.add_argument("--hue", help="config field: one line per value")
    plot.add_argument("--col", help="config field: one panel per value")
    plot.add_argument("--logx", action="store_true", help="logarithmic x axis")
    plot.add_argument("--logy", action="store_true", help="logarithmic y axis")
    plot.add_argument("--out", required=True, help="image file to write (.png, .pdf or .svg)")
    _store_option(plot)
    _import_option(plot)
    plot.set_defaults(handler=cmd_plot)

    config = sub.add_parser("config", help="list every config field of an experiment with its default and range")
    config.add_argument("experiment", nargs="?", help="experiment name; omitted: list the experiments")
    _import_option(config)
    config.set_defaults(handler=cmd_config)
    return parser


def _recompute_options(parser: argparse.ArgumentParser, dry_run: bool = False) -> None:
    parser.add_argument("--rerun", action="store_true", help="recompute every run, even those stored")
    parser.add_argument(
        "--reuse-stale",
        action="store_true",
        help="reuse runs stored by other code (another code fingerprint, or unknown) instead of recomputing them",
    )
    if dry_run:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print how many runs are stored and how many would run; compute nothing",
        )


def _set_option(parser: argparse.ArgumentParser, what: str = "set a field") -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help=f"{what} (YAML value; dotted for nested)"
    )


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"results store (default {DEFAULT_STORE})")


def _import_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a module (name, or a .py file) that registers experiments of your own; every worker does too",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    _store_option(parser)
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    _import_option(parser)
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
    parser.add_argument(
        "--engine",
        default="auto",
        help="training path: auto (fastest by shape and device, from a fixed table) | loop | batched | vmap | compiled",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="intra-op threads per process (default: cores / workers)"
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


def _use_imports(modules: list[str]) -> None:
    """``--import`` modules are imported here and, through ``MODLAB_IMPORT``, in every worker
    process (files by absolute path). The working folder is importable, as under ``python -m``."""
    from modlab.experiments.registry import IMPORT_ENV, import_modules

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if not modules:
        return
    entries = [str(Path(m).resolve()) if m.endswith(".py") else m for m in modules]
    previous = os.environ.get(IMPORT_ENV, "")
    os.environ[IMPORT_ENV] = os.pathsep.join(filter(None, [previous, *entries]))
    import_modules(os.pathsep.join(entries))


def _backend(args):
    from modlab.sweep import make_backend
    from modlab.train.threads import choose_threads

    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be ≥ 1")
    threads = choose_threads(args.workers or 1, args.threads)
    return make_backend(args.backend, args.workers, args.ray_address, args.engine, threads)


def _assignments(option: str, items: list[str]) -> list[tuple[str, str]]:
    """``FIELD=TEXT`` items → (field, text) pairs, or a one-line error for a malformed one."""
    pairs = []
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"{option} {echo(item)}: expected FIELD=VALUE")
        pairs.append((name, text))
    return pairs


def _overrides(items: list[str]) -> dict[str, Any]:
    """``--set`` items → field name → value (read as YAML 1.2)."""
    from modlab.yaml12 import load

    return {name: load(text, f"--set {echo(name)}") for name, text in _assignments("--set", items)}


def _axes(items: list[str]) -> dict[str, list[Any]]:
    """``--axis FIELD=V1,V2`` items → field name → values (each read as YAML 1.2; brackets nest)."""
    from modlab.yaml12 import load

    axes = {}
    for name, text in _assignments("--axis", items):
        values = load(f"[{text}]", f"--axis {echo(name)}")
        if not values:
            raise ConfigError(f"--axis {echo(name)}: give at least one value (FIELD=V1,V2,...)")
        axes[name] = values
    return axes


def _step_bar(args):
    """The bar of the current run's training steps, where runs train in this process (workers'
    runs show only in the bar of finished runs)."""
    from modlab.progress import step_bar

    return step_bar(not args.no_progress and args.backend == "local" and (args.workers or 1) == 1)


def _checked_runtime(args):
    """Device and backend validated (and a Ray cluster joined) before any store is opened or created."""
    from modlab.train.device import resolve_device

    resolve_device(args.device)
    backend = _backend(args)
    if not getattr(args, "dry_run", False):
        backend.connect()
    return backend


def _open_store(path: str, *, writing: bool):
    """The store at ``path``: created if missing when ``writing``, else opened read-only (and a
    missing store is an error)."""
    from modlab.store import Store

    if not writing and not Path(path).exists():
        raise ConfigError(f"store {path} does not exist (run a sweep or figure first, or name one with --store)")
    return Store(path, create=True) if writing else Store(path, readonly=True)


def _dry_run(args, spec) -> int:
    from modlab.sweep import plan_sweep

    backend = _checked_runtime(args)
    flags = {"retry_failed": args.retry_failed, "rerun": args.rerun, "reuse_stale": args.reuse_stale}
    if not Path(args.store).exists():
        print(plan_sweep(spec, None, backend=backend, **flags))
        return 0
    with _open_store(args.store, writing=False) as store:
        print(plan_sweep(spec, store, backend=backend, **flags))
    return 0


def cmd_run(args) -> int:
    from modlab.config import read_mapping_file, set_dotted
    from modlab.experiments import EXPERIMENTS
    from modlab.plots import jsonable
    from modlab.store import encode_metrics
    from modlab.sweep import SweepSpec, run_sweep
    from modlab.table import metric_summary

    if args.list:
        for name, exp in sorted(EXPERIMENTS.items()):
            print(f"{name:24s} {exp.description}")
        return 0
    if not args.experiment:
        raise ConfigError("run: name an experiment (modlab run --list shows them)")
    fields = read_mapping_file(args.config, "config") if args.config else {}
    for name, value in _overrides(args.set).items():
        set_dotted(fields, name, value)
    spec = SweepSpec(experiment=args.experiment, name=args.experiment, base=fields)
    config = spec.configs()[0]
    if args.show_config:
        print(config.to_yaml(), end="")
        return 0
    backend = _checked_runtime(args)
    with _open_store(args.store, writing=True) as store, _step_bar(args):
        report = run_sweep(
            spec,
            store,
            device=args.device,
            backend=backend,
            progress=not args.no_progress,
            retry_failed=args.retry_failed,
            rerun=args.rerun,
            reuse_stale=args.reuse_stale,
        )
        record = store.records(spec.keys())[0]
    print(report, file=sys.stderr)
    if record.status == "failed":
        print(f"modlab: run {record.key} failed: {record.error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(jsonable({"key": record.key, "metrics": encode_metrics(record.metrics)}), indent=1))
    else:
        print(
            f"run {record.key} ({record.experiment}): {record.seconds:.2f} s", *metric_summary(record.metrics), sep="\n"
        )
    return 0


def cmd_sweep(args) -> int:
    from modlab.sweep import SweepSpec, run_sweep

    spec = SweepSpec.load(args.spec).overridden(_overrides(args.set), _axes(args.axis))
    if args.dry_run:
        return _dry_run(args, spec)
    backend = _checked_runtime(args)
    with _open_store(args.store, writing=True) as store, _step_bar(args):
        report = run_sweep(
            spec,
            store,
            retry_failed=args.retry_failed,
            on_error=args.on_error,
            device=args.device,
            backend=backend,
            progress=not args.no_progress,
            rerun=args.rerun,
            reuse_stale=args.reuse_stale,
        )
    print(f"store: {args.store}")
    print(report, file=sys.stderr)
    return 1 if report.failed else 0


def cmd_figure(args) -> int:
    from modlab.figures import FIGURES, make_figure

    if args.list:
        for name, fig in sorted(FIGURES.items()):
            print(f"{name:22s} {fig.description}")
        return 0
    if not args.name:
        raise ConfigError("figure: name a figure (modlab figure --list shows them)")
    out = Path(args.out)
    if not args.dry_run and out.is_dir() and not os.access(out, os.W_OK):
        raise ConfigError(f"--out {out}: folder is not writable")
    ledger: list = []
    backend = _checked_runtime(args)
    with _step_bar(args):
        paths = make_figure(
            args.name,
            args.preset,
            args.out,
            store_path=args.store,
            device=args.device,
            backend=backend,
            progress=not args.no_progress,
            retry_failed=args.retry_failed,
            rerun=args.rerun,
            reuse_stale=args.reuse_stale,
            dry_run=args.dry_run,
            ledger=ledger,
        )
    summary = sum(ledger[1:], ledger[0]) if ledger else None
    if args.dry_run:
        print(summary if summary is not None else "0 runs: 0 stored, 0 to run")
        return 0
    for path in paths.values():
        print(path)
    print(summary if summary is not None else "0 runs: 0 reused, 0 computed, 0 failed", file=sys.stderr)
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

    from modlab.table import results_table

    fields = None if args.agg is None else [f.strip() for f in args.agg.split(",") if f.strip()]
    agg = "seeds" if fields == [] else fields
    if agg is not None and (args.provenance or args.failed):
        raise ConfigError("--agg summarises runs; --provenance and --failed list them one by one: choose one")
    keys = _spec_keys(args.spec)
    with _open_store(args.store, writing=False) as store:
        if args.failed:
            failed = store.records(keys, status="failed")
            table = pd.DataFrame(
                [{"key": r.key, "experiment": r.experiment, "error": r.error} for r in failed],
                columns=["key", "experiment", "error"],
            )
        else:
            table = results_table(store.records(keys, status="done"), long=args.long, agg=agg)
        if args.provenance and "key" in table:
            table = table.merge(store.provenance_table(keys), on="key", how="left")
    _print_table(table, args.format)
    return 0


def cmd_plot(args) -> int:
    from modlab.table_plot import plot_table, save_plot

    keys = _spec_keys(args.spec)
    with _open_store(args.store, writing=False) as store:
        records = store.records(keys, status="done")
    fig, data = plot_table(records, args.x, args.y, args.hue, args.col, logx=args.logx, logy=args.logy)
    for path in save_plot(fig, {"spec": args.spec, "runs": len(records), **data}, args.out):
        print(path)
    return 0


def cmd_config(args) -> int:
    from modlab import reference
    from modlab.experiments import EXPERIMENTS

    if not args.experiment:
        for name, exp in sorted(EXPERIMENTS.items()):
            print(f"{name:24s} {exp.description}")
        return 0
    print(reference.text(args.experiment))
    return 0


def _spec_keys(spec_path: str | None) -> list[str] | None:
    from modlab.sweep import SweepSpec

    return SweepSpec.load(spec_path).keys() if spec_path else None


def _print_table(table, fmt: str) -> None:
    if fmt == "csv":
        print(table.to_csv(index=False), end="")
    elif fmt == "json":
        print(table.to_json(orient="records"))
    elif fmt == "parquet":
        _write_parquet(table)
    else:
        print(table.to_string(index=False) if len(table) else "(no runs)")


def _write_parquet(table) -> None:
    """Parquet bytes on stdout (redirect them to a file); needs pyarrow."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        raise ConfigError("--format parquet needs pyarrow (pip install pyarrow); csv and json need nothing")
    if sys.stdout.isatty():
        raise ConfigError("--format parquet writes binary: redirect it to a file (modlab results ... > runs.parquet)")
    sys.stdout.flush()
    table.to_parquet(sys.stdout.buffer, index=False)


if __name__ == "__main__":
    raise SystemExit(main())
