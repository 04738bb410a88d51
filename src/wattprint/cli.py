"""The ``wattprint`` command: a thin Typer layer over the tracker, the store and reports.

Every command that prints results takes ``--json`` and then prints exactly one JSON
document on stdout; errors go to stderr with a non-zero exit code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from wattprint.config import Settings, load_settings
from wattprint.errors import WattprintError

app = typer.Typer(
    name="wattprint",
    help="Measure the energy and carbon footprint of deep-learning workloads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
DirOpt = Annotated[
    Path | None,
    typer.Option("--dir", help="Data folder (store and journals); env WATTPRINT_DIR."),
]


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


class ExportTable(str, Enum):
    samples = "samples"
    windows = "windows"
    metrics = "metrics"
    emissions = "emissions"


@contextmanager
def _errors() -> Iterator[None]:
    """Turn wattprint's errors into one line on stderr and exit code 2."""
    try:
        yield
    except WattprintError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _settings(data_dir: Path | None, **overrides: Any) -> Settings:
    return load_settings(dir=data_dir, **overrides)


def _store(settings: Settings) -> Any:
    from wattprint.store.repository import Store

    store = Store.from_settings(settings)
    store.sync()
    return store


def _print_run(store: Any, ref: str, as_json: bool, explain: bool = False, **pricing: Any) -> None:
    """A run with its footprint, windows, metrics and source events, as JSON or Rich
    tables. ``pricing`` (region, pue, year, intensity_file) re-prices the run."""
    from wattprint.analysis.footprint import run_footprint

    detail = store.get_run(ref)
    footprint = run_footprint(store, detail, **pricing)
    windows = store.windows(detail.run_id)
    metrics = store.metrics(detail.run_id)
    events = store.events(detail.run_id)
    if as_json:
        _print_json(
            {
                "run": detail,
                "footprint": footprint,
                "windows": windows,
                "metrics": metrics,
                "events": events,
            }
        )
    else:
        from wattprint.report.console import footprint_report, run_report

        out.print(run_report(detail, windows, metrics, events))
        out.print(footprint_report(footprint, detail, explain))


def _print_json(document: Any) -> None:
    from wattprint.report.jsonable import jsonable

    sys.stdout.write(json.dumps(jsonable(document), indent=2, default=str) + "\n")


# ---------------------------------------------------------------------------- run
@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    command: Annotated[list[str], typer.Argument(help="The command to run, after `--`.")],
    project: Annotated[str | None, typer.Option(help="Project of the run.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Run name.")] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", help="Seconds between samples.")
    ] = None,
    attribution: Annotated[
        str | None, typer.Option(help="process (the command's process tree) or machine.")
    ] = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run COMMAND under the tracker: its whole process tree is measured, signals are
    forwarded, and wattprint exits with the command's exit code."""
    from wattprint.tracking.tracker import Tracker

    with _errors():
        settings = _settings(
            data_dir,
            project=project,
            run=name,
            sample_interval_s=interval,
            attribution=attribution,
        )
        try:
            child = subprocess.Popen(command)
        except OSError as exc:
            raise WattprintError(f"cannot start {command[0]!r}: {exc.strerror or exc}") from None
        # The tree is rooted at this wrapper: once it reaps the command, the command's CPU
        # time, and that of every descendant it reaped, shows in our children's times.
        tracker = Tracker(settings, command=shlex.join(command))
        restore = _forward_signals(child)
        try:
            tracker.start()
            returncode = child.wait()
        finally:
            restore()
        exit_code = returncode if returncode >= 0 else 128 - returncode
        result = tracker.stop("finished" if returncode == 0 else "failed", exit_code=exit_code)
        store = _store(settings)
        detail = store.get_run(result.run_id)
        if as_json:
            _print_json({"run": detail, "exit_code": exit_code})
        else:
            from wattprint.report.console import run_summary

            err.print(run_summary(detail))
    raise typer.Exit(exit_code)


_FORWARDED = ("SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def _forward_signals(child: subprocess.Popen[bytes]) -> Callable[[], None]:
    """Pass signals on to the child; returns a function restoring the old handlers.

    A Ctrl-C typed in the terminal already reaches the child (same foreground process
    group), so SIGINT is forwarded only when it did not come from the terminal.
    """

    def forward(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT and _child_got_terminal_signal(child.pid):
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous: dict[int, Any] = {}
    for sig_name in _FORWARDED:
        signum = getattr(signal, sig_name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, forward)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _child_got_terminal_signal(child_pid: int) -> bool:
    try:
        fd = sys.stdin.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgid(child_pid)
    except (OSError, ValueError):
        return False


# ------------------------------------------------------------------ store queries
@app.command()
def runs(
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    status: Annotated[
        str | None, typer.Option(help="running, finished, failed or interrupted.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first."""
    with _errors():
        accepted = ("running", "finished", "failed", "interrupted")
        if status is not None and status not in accepted:
            raise WattprintError(f"--status {status!r} is not one of: {', '.join(accepted)}")
        store = _store(_settings(data_dir))
        found = store.list_runs(project=project, status=status, limit=limit)
        if as_json:
            _print_json({"runs": found})
        else:
            from wattprint.report.console import runs_table

            out.print(runs_table(found))


@app.command()
def show(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, id prefix or name.")],
    region: Annotated[
        str | None,
        typer.Option(help="Re-price for this place: FR, US-CA, aws:eu-west-3, … (`regions`)."),
    ] = None,
    pue: Annotated[float | None, typer.Option(help="Re-price at this PUE (>= 1).")] = None,
    year: Annotated[int | None, typer.Option(help="Grid intensity of this year.")] = None,
    intensity_file: Annotated[
        Path | None, typer.Option(help="CSV time series of intensity (timestamp, gCO2e/kWh).")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show how every figure was computed.")
    ] = False,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a run: energy per component (measured or estimated, with sources), its
    operational emissions, windows, metrics and what happened to the energy sources."""
    with _errors():
        store = _store(_settings(data_dir))
        _print_run(
            store,
            run_ref,
            as_json,
            explain,
            region=region,
            pue=pue,
            year=year,
            intensity_file=intensity_file,
        )


@app.command()
def export(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, id prefix or name.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = (
        ExportFormat.json
    ),
    table: Annotated[
        ExportTable,
        typer.Option(help="With csv: samples, windows, metrics, or emissions (priced windows)."),
    ] = ExportTable.samples,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="With --table emissions: price for this place.")
    ] = None,
    pue: Annotated[float | None, typer.Option(help="With --table emissions: this PUE.")] = None,
    data_dir: DirOpt = None,
) -> None:
    """Export a run as JSON (everything) or CSV (one table; ``emissions``: each window and
    the run with energy, PUE, grid intensity and emissions, with their sources)."""
    from wattprint.store.export import export_csv, export_json

    with _errors():
        store = _store(_settings(data_dir))
        detail = store.get_run(run_ref)
        stream = output.open("w", newline="") if output else sys.stdout
        try:
            if fmt is ExportFormat.json:
                export_json(store, detail.run_id, stream)
            elif table is ExportTable.emissions:
                from wattprint.report.emissions import write_emissions_csv

                write_emissions_csv(store, detail.run_id, stream, region=region, pue=pue)
            else:
                export_csv(store, detail.run_id, table.value, stream)
        finally:
            if output:
                stream.close()


# ------------------------------------------------------------------------- carbon
class RegionKind(str, Enum):
    world = "world"
    country = "country"
    region = "region"
    cloud = "cloud"


@app.command()
def regions(
    kind: Annotated[RegionKind | None, typer.Option(help="Only this kind of location.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Only locations whose code or name contains this.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the places wattprint knows, with their grid carbon intensity, source and year."""
    from wattprint.carbon.intensity import list_regions

    with _errors():
        found = list_regions(kind.value if kind else None)
        if search:
            needle = search.lower()
            found = [
                (loc, i)
                for loc, i in found
                if needle in loc.code.lower() or needle in loc.name.lower()
            ]
        if as_json:
            _print_json({"regions": [{"location": loc, "intensity": i} for loc, i in found]})
        else:
            from wattprint.report.console import regions_table

            out.print(regions_table(found))


# --------------------------------------------------------------------- estimation
@app.command()
def estimate(
    hardware: Annotated[
        str, typer.Option(help="e.g. 8xA100-80GB, '2xAMD EPYC 7763', cpu:MODEL:CORES, ram:GB.")
    ],
    hours: Annotated[float | None, typer.Option(help="Run time (calculator mode).")] = None,
    params: Annotated[
        float | None, typer.Option(help="Model parameters (FLOP mode, with --tokens).")
    ] = None,
    tokens: Annotated[float | None, typer.Option(help="Training or inference tokens.")] = None,
    flops: Annotated[float | None, typer.Option(help="Total FLOPs (FLOP mode).")] = None,
    mode: Annotated[str, typer.Option(help="FLOP mode: training (6PT) or inference (2PT).")] = (
        "training"
    ),
    precision: Annotated[str, typer.Option(help="FLOP mode: fp32, tf32, bf16, fp16, fp8.")] = (
        "bf16"
    ),
    efficiency: Annotated[
        float | None, typer.Option(help="FLOP mode: model FLOPs utilisation (0-1].")
    ] = None,
    utilisation: Annotated[float, typer.Option(help="Share of TDP drawn, (0-1].")] = 1.0,
    power_per_device: Annotated[
        float | None, typer.Option(help="Measured average W per device, instead of TDP.")
    ] = None,
    pue: Annotated[float | None, typer.Option(help="Data-centre PUE (>= 1).")] = None,
    region: Annotated[str | None, typer.Option(help="FR, US-CA, aws:eu-west-3, …")] = None,
    intensity: Annotated[
        float | None, typer.Option(help="Grid intensity in gCO2e/kWh, instead of a region.")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Grid intensity of this year.")] = None,
    lifetime_years: Annotated[
        float | None, typer.Option(help="Hardware lifetime for embodied emissions.")
    ] = None,
    share: Annotated[float, typer.Option(help="Share of the machine used, (0-1].")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Estimate energy and emissions before running: from hardware and hours (the Green
    Algorithms / ML CO2 Impact method) or from a FLOP count."""
    from wattprint.estimate.requests import FootprintRequest
    from wattprint.validation import validated

    with _errors():
        request = validated(
            FootprintRequest,
            {
                "hardware": hardware,
                "hours": hours,
                "params": params,
                "tokens": tokens,
                "flops": flops,
                "mode": mode,
                "precision": precision,
                "efficiency": efficiency,
                "utilisation": utilisation,
                "power_per_device_w": power_per_device,
                "pue": pue,
                "region": region,
                "intensity_g_per_kwh": intensity,
                "year": year,
                "lifetime_years": lifetime_years,
                "share": share,
            },
            "estimate",
        )
        result = request.compute()
        if as_json:
            _print_json({"estimate": result})
        else:
            from wattprint.report.estimates import estimate_report

            out.print(estimate_report(result))


@app.command()
def lifecycle(
    training: Annotated[
        list[str] | None, typer.Option(help="Training run(s) in the store (T).")
    ] = None,
    training_kwh: Annotated[float | None, typer.Option(help="Training energy T, kWh.")] = None,
    search: Annotated[
        list[str] | None, typer.Option(help="Search/tuning trial runs (CT); repeatable.")
    ] = None,
    search_kwh: Annotated[float | None, typer.Option(help="Search energy CT, kWh.")] = None,
    inference_run: Annotated[
        str | None, typer.Option(help="Run whose inference windows give I.")
    ] = None,
    inference_window: Annotated[str, typer.Option(help="Name of those windows.")] = "inference",
    samples: Annotated[
        float | None,
        typer.Option(help="Inferences in those windows (default: its 'samples' metric)."),
    ] = None,
    inference_j: Annotated[float | None, typer.Option(help="Energy of one inference, J.")] = None,
    inferences: Annotated[float | None, typer.Option(help="Expected inferences e.")] = None,
    per_day: Annotated[float | None, typer.Option(help="Inferences per day (with --days).")] = (
        None
    ),
    days: Annotated[float | None, typer.Option(help="Days in service.")] = None,
    region: Annotated[str | None, typer.Option(help="Price it for this place.")] = None,
    pue: Annotated[float | None, typer.Option(help="PUE (>= 1).")] = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The life-cycle energy E_life = CT + T + I*e (Gitzel et al.): search, training and
    e inferences, from runs in the store or numbers; with break-even points."""
    from wattprint.estimate.requests import LifecycleRequest
    from wattprint.validation import validated

    with _errors():
        request = validated(
            LifecycleRequest,
            {
                "training": tuple(training or ()),
                "training_kwh": training_kwh,
                "search": tuple(search or ()),
                "search_kwh": search_kwh,
                "inference_run": inference_run,
                "inference_window": inference_window,
                "samples": samples,
                "inference_j": inference_j,
                "inferences": inferences,
                "per_day": per_day,
                "days": days,
                "region": region,
                "pue": pue,
            },
            "life-cycle estimate",
        )
        result = request.compute(_store(_settings(data_dir)))
        if as_json:
            _print_json({"lifecycle": result})
        else:
            from wattprint.report.estimates import lifecycle_report

            out.print(lifecycle_report(result))


# ------------------------------------------------------------------ report, plot
class PlotKind(str, Enum):
    timeline = "timeline"
    epochs = "epochs"
    metric = "metric"
    prediction = "prediction"
    regions = "regions"
    compare = "compare"


RunsArg = Annotated[
    list[str], typer.Argument(metavar="RUN...", help="Run ids, id prefixes or names.")
]
RegionOpt = Annotated[
    str | None,
    typer.Option(help="Price for this place: FR, US-CA, aws:eu-west-3, … (`regions`)."),
]
PueOpt = Annotated[float | None, typer.Option(help="Price at this PUE (>= 1).")]
MetricOpt = Annotated[
    str | None, typer.Option("--metric", help="Metric to plot (default: the first logged).")
]


@app.command()
def report(
    run_refs: RunsArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="report.html (self-contained) or report.md.")
    ],
    region: RegionOpt = None,
    pue: PueOpt = None,
    metric: MetricOpt = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a report of one or several runs: energy and emissions with their sources,
    plots over time, per epoch, against a metric, predicted vs actual, other regions,
    recommendations, and for several runs a comparison."""
    from wattprint.report.build import write_report

    with _errors():
        store = _store(_settings(data_dir))
        written = write_report(store, run_refs, output, region=region, pue=pue, metric=metric)
        if as_json:
            _print_json({"report": str(written), "runs": run_refs})
        else:
            out.print(f"report written to {written}", highlight=False)


@app.command()
def plot(
    run_refs: RunsArg,
    kind: Annotated[PlotKind, typer.Option("--kind", help="What to plot.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.png or FILE.svg.")],
    region: RegionOpt = None,
    pue: PueOpt = None,
    metric: MetricOpt = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plot runs as PNG or SVG: timeline, epochs, metric, prediction, regions or compare
    (several runs)."""
    from wattprint.report.plots import figure, save_figure

    with _errors():
        if output.suffix.lower() not in (".png", ".svg"):
            raise WattprintError(f"--output {str(output)!r}: accepted suffixes: .png, .svg")
        store = _store(_settings(data_dir))
        fig = figure(kind.value, store, run_refs, metric=metric, region=region, pue=pue)
        written = save_figure(fig, output)
        if as_json:
            _print_json({"plot": str(written), "kind": kind.value, "runs": run_refs})
        else:
            out.print(f"{kind.value} plot written to {written}", highlight=False)


# --------------------------------------------------------------------------- bench
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Also write a report: FILE.html (self-contained) or FILE.md."),
]


def _split_models(models: list[str] | None) -> list[str]:
    return [m.strip() for item in models or [] for m in item.split(",") if m.strip()]


@app.command()
def bench(
    suite: Annotated[
        str, typer.Option(help="vision, audio, nlp, all, or scaling (the scaling experiments).")
    ] = "vision",
    models: Annotated[
        list[str] | None,
        typer.Option("--models", help="Only these models, comma-separated (`bench --list`)."),
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Training epochs (default 3).")] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="Batch size for training and inference (64).")
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda or cuda:N (default: cuda when available).")
    ] = None,
    amp: Annotated[
        bool, typer.Option("--amp", help="Mixed precision: float16 on CUDA, bfloat16 on CPU.")
    ] = False,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Tiny sizes, 256 samples, 2 epochs: minutes on a laptop."),
    ] = False,
    size: Annotated[
        str | None, typer.Option(help="full or tiny (audio and NLP models; vision has one size).")
    ] = None,
    train_size: Annotated[
        int | None, typer.Option(min=1, help="Training samples (default: the whole split).")
    ] = None,
    test_size: Annotated[
        int | None, typer.Option(min=1, help="Test samples served (default: the whole split).")
    ] = None,
    data_root: Annotated[
        Path | None,
        typer.Option(help="Folder with cifar-10-batches-py/ or LibriSpeech/ (never downloaded)."),
    ] = None,
    pretrained: Annotated[
        bool, typer.Option("--pretrained", help="Start from local torchvision weights.")
    ] = False,
    report: ReportOpt = None,
    project: Annotated[str, typer.Option(help="Project the runs are stored under.")] = "bench",
    list_models: Annotated[
        bool, typer.Option("--list", help="List the suites' models and exit.")
    ] = False,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Benchmark model families: train each model (a window per epoch), serve its test
    split (a window per batch), store it all as one benchmark, and show the table."""
    with _errors():
        try:
            from wattprint.bench import suites, zoo
            from wattprint.bench.progress import RichProgress
        except ModuleNotFoundError as exc:
            raise WattprintError(
                f"the benchmark needs PyTorch and the model libraries ({exc}); install them "
                "with pip install 'wattprint[torch,bench-models,huggingface]'"
            ) from None
        if list_models:
            listing = {f: zoo.names(f) for f in zoo.FAMILIES}
            if as_json:
                _print_json({"models": listing})
            else:
                for family, names in listing.items():
                    out.print(f"{family}: {', '.join(names)}", highlight=False)
            return
        if suite not in suites.SUITES:
            raise WattprintError(f"--suite {suite!r}: accepted: {', '.join(suites.SUITES)}")
        options = suites.suite_options(
            device=device,
            data_root=data_root,
            quick=quick,
            amp=amp,
            pretrained=pretrained,
            epochs=epochs,
            batch_size=batch_size,
            size=size,
            train_size=train_size,
            test_size=test_size,
        )
        settings = _settings(data_dir, project=project)
        names = _split_models(models)
        if suite == "scaling" and names:
            raise WattprintError("--models does not apply to --suite scaling (its models are set)")
        count = 0 if suite == "scaling" else len(suites.suite_models(suite, names))
        with RichProgress(err, count) as progress:
            if suite == "scaling":
                from wattprint.bench.scaling import run_scaling

                outcome = run_scaling(options, settings=settings, quick=quick, progress=progress)
            else:
                outcome = suites.run_suite(
                    suite, options, settings=settings, models=names, progress=progress
                )
            progress.finish()
        _show_benchmark(settings, outcome.benchmark, report, as_json, outcome)
        if outcome.failures:
            raise typer.Exit(1)


def _show_benchmark(
    settings: Settings, ref: str, report: Path | None, as_json: bool, outcome: Any = None
) -> None:
    """Print a stored benchmark (table, or JSON) and write its report when asked."""
    from wattprint.bench.results import load_benchmark

    store = _store(settings)
    benchmark = load_benchmark(store, ref)
    written = None
    if report is not None:
        from wattprint.report.bench import write_benchmark_report

        written = write_benchmark_report(store, benchmark.id, report)
    if as_json:
        document: dict[str, Any] = {**benchmark.summary(), "report": written}
        if benchmark.suite == "scaling":
            from wattprint.bench.linearity import analyse_scaling

            analysis = analyse_scaling(benchmark)
            document["fits"] = {"epochs": analysis.epochs_fit, "samples": analysis.samples_fit}
        if outcome is not None:
            document["failures"] = [{"model": m, "error": e} for m, e in outcome.failures]
            document["notes"] = list(outcome.notes)
        _print_json(document)
        return
    if benchmark.suite == "scaling":
        from wattprint.bench.linearity import analyse_scaling
        from wattprint.report.scaling import scaling_tables

        out.print(scaling_tables(analyse_scaling(benchmark)))
    else:
        from wattprint.report.bench import benchmark_table

        out.print(benchmark_table(benchmark))
    for note in outcome.notes if outcome is not None else ():
        err.print(note, style="yellow", highlight=False)
    for model, error in outcome.failures if outcome is not None else ():
        err.print(f"{model} failed: {error}", style="red", highlight=False)
    if written is not None:
        out.print(f"report written to {written}", highlight=False)
    else:
        err.print(f"next: wattprint benchmarks {benchmark.id} --report bench.html", highlight=False)


@app.command()
def benchmarks(
    ref: Annotated[
        str | None, typer.Argument(help="A benchmark id, a unique prefix, or `latest`.")
    ] = None,
    report: ReportOpt = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored benchmarks, or show one (its table, and its report with --report)."""
    with _errors():
        settings = _settings(data_dir)
        if ref is None:
            if report is not None:
                raise WattprintError("--report needs a benchmark: wattprint benchmarks latest")
            from wattprint.bench.results import list_benchmarks

            found = list_benchmarks(_store(settings))
            if as_json:
                _print_json({"benchmarks": found})
            else:
                from wattprint.report.bench import benchmarks_table

                out.print(benchmarks_table(found))
            return
        _show_benchmark(settings, ref, report, as_json)


# ------------------------------------------------------------------------ compress
PlotFileOpt = Annotated[
    Path | None,
    typer.Option("--plot", help="Also write the Pareto figure: FILE.png or FILE.svg."),
]


@app.command()
def compress(
    model: Annotated[
        str,
        typer.Argument(
            help="A zoo model (`wattprint bench --list`); with --checkpoint, the model whose "
            "data and metric are used (and whose architecture a state_dict fits)."
        ),
    ],
    techniques: Annotated[
        str,
        typer.Option(
            help="Variants, comma-separated, each compared with the original; the techniques "
            "of one variant joined by '+': prune:0.5,quant:int8,prune:0.5+lowrank:0.9."
        ),
    ],
    epochs: Annotated[
        int | None,
        typer.Option(min=1, help="Training epochs of the original (1; not with --checkpoint)."),
    ] = None,
    finetune_epochs: Annotated[
        int, typer.Option(min=0, help="Fine-tune pruned/low-rank variants this long first.")
    ] = 0,
    batch_size: Annotated[int, typer.Option(min=1, help="Batch size, training and serving.")] = 64,
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda or cuda:N (default: cuda when available).")
    ] = None,
    size: Annotated[str, typer.Option(help="full or tiny (audio and NLP models).")] = "full",
    train_size: Annotated[
        int | None, typer.Option(min=1, help="Training samples (default: the whole split).")
    ] = None,
    test_size: Annotated[
        int | None, typer.Option(min=1, help="Test samples served (default: the whole split).")
    ] = None,
    data_root: Annotated[
        Path | None,
        typer.Option(
            "--data-root",
            "--data",
            help="Folder with cifar-10-batches-py/ or LibriSpeech/ (never downloaded).",
        ),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="torch.save file: a whole model, or a state_dict of MODEL at --size."),
    ] = None,
    plot: PlotFileOpt = None,
    project: Annotated[str, typer.Option(help="Project the runs are stored under.")] = "compress",
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare a model with its compressed variants: train it (or load a checkpoint),
    then serve the same test batches with the original and each variant (a window per
    batch), store it all as one comparison, and show the table."""
    with _errors():
        try:
            from wattprint.bench import zoo
            from wattprint.bench.progress import RichProgress
            from wattprint.bench.runner import BenchOptions
            from wattprint.compress.lab import compare
            from wattprint.compress.pipeline import parse_variants
        except ModuleNotFoundError as exc:
            raise WattprintError(
                f"the compression lab needs PyTorch and the model libraries ({exc}); install "
                "them with pip install 'wattprint[torch,bench-models,huggingface]'"
            ) from None
        chains = parse_variants(techniques)
        spec = zoo.get(model)
        _check_plot_file(plot)
        if checkpoint is not None and epochs is not None:
            raise WattprintError(
                f"--epochs {epochs} trains the original, and a --checkpoint model is measured "
                "as saved: give one of them"
            )
        import torch

        options = BenchOptions(
            epochs=epochs or 1,
            batch_size=batch_size,
            device=device or ("cuda" if torch.cuda.is_available() else "cpu"),
            size=size,
            train_size=train_size,
            test_size=test_size,
            data_root=data_root,
        )
        settings = _settings(data_dir, project=project)
        with RichProgress(err, 1 + len(chains)) as progress:
            comparison = compare(
                spec,
                chains,
                settings=settings,
                options=options,
                finetune_epochs=finetune_epochs,
                checkpoint=checkpoint,
                progress=progress,
            )
            progress.finish()
        _show_comparison(comparison, plot, as_json)
        if comparison.failures:
            raise typer.Exit(1)


def _check_plot_file(plot: Path | None) -> None:
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise WattprintError(f"--plot {str(plot)!r}: accepted suffixes: .png, .svg")


def _show_comparison(comparison: Any, plot: Path | None, as_json: bool) -> None:
    """Print a stored comparison (table, or JSON) and write its Pareto figure when asked."""
    written = None
    if plot is not None:
        from wattprint.report.compress_plots import pareto_figure
        from wattprint.report.plots import save_figure

        written = save_figure(pareto_figure(comparison), plot)
    if as_json:
        _print_json({**comparison.summary(), "plot": written})
        return
    from wattprint.report.compress import comparison_table

    out.print(comparison_table(comparison))
    if written is not None:
        out.print(f"Pareto figure written to {written}", highlight=False, soft_wrap=True)
    else:
        err.print(f"next: wattprint comparisons {comparison.id} --plot pareto.png", highlight=False)


@app.command()
def comparisons(
    ref: Annotated[
        str | None, typer.Argument(help="A comparison id, a unique prefix, or `latest`.")
    ] = None,
    plot: PlotFileOpt = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List stored compression comparisons, or show one (its table, and its Pareto figure
    with --plot)."""
    with _errors():
        _check_plot_file(plot)
        store = _store(_settings(data_dir))
        if ref is None:
            if plot is not None:
                raise WattprintError("--plot needs a comparison: wattprint comparisons latest")
            from wattprint.compress.results import list_comparisons

            found = list_comparisons(store)
            if as_json:
                _print_json({"comparisons": found})
            else:
                from wattprint.report.compress import comparisons_table

                out.print(comparisons_table(found))
            return
        from wattprint.compress.results import load_comparison

        _show_comparison(load_comparison(store, ref), plot, as_json)


# ------------------------------------------------------------------------ finetune
def _column(name: str) -> Any:
    flag = f"--{name.replace('_', '-')}-column"
    return typer.Option(
        flag, help=f"The dataset's {name.replace('_', ' ')} column (default: detected)."
    )


@app.command()
def finetune(
    task: Annotated[
        str | None,
        typer.Option(
            help="text-classification, causal-lm, masked-lm, token-classification, "
            "question-answering, translation or summarization."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Local directory, or a hub id in the local cache.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="CSV/JSON/JSONL/Parquet file or folder, or a cached hub id.")
    ] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec", help="A YAML/JSON job spec; options given here override it."),
    ] = None,
    save_spec: Annotated[
        Path | None,
        typer.Option(help="Write the job spec (YAML/JSON) and exit without training."),
    ] = None,
    dataset_config: Annotated[str | None, typer.Option(help="Hub dataset config/subset.")] = None,
    train_split: Annotated[str | None, typer.Option(help="Training split (train).")] = None,
    eval_split: Annotated[
        str | None, typer.Option(help="Eval split (default: validation/test, else 10% of train).")
    ] = None,
    text_column: Annotated[str | None, _column("text")] = None,
    text_pair_column: Annotated[str | None, _column("text_pair")] = None,
    label_column: Annotated[str | None, _column("label")] = None,
    tokens_column: Annotated[str | None, _column("tokens")] = None,
    tags_column: Annotated[str | None, _column("tags")] = None,
    question_column: Annotated[str | None, _column("question")] = None,
    context_column: Annotated[str | None, _column("context")] = None,
    answers_column: Annotated[str | None, _column("answers")] = None,
    target_column: Annotated[str | None, _column("target")] = None,
    epochs: Annotated[float | None, typer.Option(help="Training epochs (3).")] = None,
    learning_rate: Annotated[
        float | None, typer.Option("--lr", help="Learning rate (5e-5).")
    ] = None,
    train_batch_size: Annotated[int | None, typer.Option(help="Training batch size (8).")] = None,
    eval_batch_size: Annotated[int | None, typer.Option(help="Eval batch size (8).")] = None,
    max_length: Annotated[
        int | None, typer.Option(help="Tokens per input; block size for LM (128).")
    ] = None,
    max_target_length: Annotated[int | None, typer.Option(help="Tokens per target (128).")] = None,
    source_lang: Annotated[str | None, typer.Option(help="Translation source language.")] = None,
    target_lang: Annotated[str | None, typer.Option(help="Translation target language.")] = None,
    source_prefix: Annotated[str | None, typer.Option(help="Prefix for inputs (T5).")] = None,
    max_train_samples: Annotated[int | None, typer.Option(help="Cap the training set.")] = None,
    max_eval_samples: Annotated[int | None, typer.Option(help="Cap the eval set.")] = None,
    peft: Annotated[str | None, typer.Option(help="none, lora, prefix, prompt or ia3.")] = None,
    lora_r: Annotated[int | None, typer.Option(help="LoRA rank (8).")] = None,
    lora_alpha: Annotated[int | None, typer.Option(help="LoRA alpha (16).")] = None,
    lora_dropout: Annotated[float | None, typer.Option(help="LoRA dropout (0.05).")] = None,
    target_modules: Annotated[
        str | None, typer.Option(help="Modules LoRA/IA3 adapt, comma-separated (detected).")
    ] = None,
    virtual_tokens: Annotated[
        int | None, typer.Option(help="Prefix/prompt tuning length (20).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (42).")] = None,
    precision: Annotated[str | None, typer.Option(help="fp32, fp16 or bf16.")] = None,
    output_dir: Annotated[
        Path | None, typer.Option(help="Where the model/adapter goes (<dir>/finetune/<run>).")
    ] = None,
    project: Annotated[str | None, typer.Option(help="Project of the run (finetune).")] = None,
    run_name: Annotated[str | None, typer.Option("--run", help="Name of the run.")] = None,
    emissions_csv: Annotated[
        Path | None, typer.Option(help="Also write the run's emissions table (CSV) here.")
    ] = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fine-tune a Hugging Face model on a dataset for a task, offline, under the tracker:
    columns detected, data preprocessed, PEFT optional, the model saved, the run stored."""
    with _errors():
        from wattprint.finetune.spec import FinetuneSpec, load_spec

        columns = {
            "text": text_column,
            "text_pair": text_pair_column,
            "label": label_column,
            "tokens": tokens_column,
            "tags": tags_column,
            "question": question_column,
            "context": context_column,
            "answers": answers_column,
            "target": target_column,
        }
        peft_options = {
            "type": peft,
            "r": lora_r,
            "alpha": lora_alpha,
            "dropout": lora_dropout,
            "target_modules": tuple(m.strip() for m in target_modules.split(",") if m.strip())
            if target_modules
            else None,
            "num_virtual_tokens": virtual_tokens,
        }
        given = {
            "task": task,
            "model": model,
            "dataset": dataset,
            "dataset_config": dataset_config,
            "train_split": train_split,
            "eval_split": eval_split,
            "epochs": epochs,
            "learning_rate": learning_rate,
            "train_batch_size": train_batch_size,
            "eval_batch_size": eval_batch_size,
            "max_length": max_length,
            "max_target_length": max_target_length,
            "source_lang": source_lang,
            "target_lang": target_lang,
            "source_prefix": source_prefix,
            "max_train_samples": max_train_samples,
            "max_eval_samples": max_eval_samples,
            "seed": seed,
            "precision": precision,
            "output_dir": output_dir,
            "project": project,
            "run": run_name,
        }
        spec = load_spec(spec_file) if spec_file is not None else None
        base = spec.model_dump(exclude_none=True) if spec is not None else {}
        merged_columns = {**base.get("columns", {}), **{k: v for k, v in columns.items() if v}}
        merged_peft = {
            **base.get("peft", {}),
            **{k: v for k, v in peft_options.items() if v is not None},
        }
        spec = FinetuneSpec.build(
            **{
                **base,
                **{k: v for k, v in given.items() if v is not None},
                "columns": merged_columns,
                "peft": merged_peft,
            }
        )
        if save_spec is not None:
            written = spec.to_file(save_spec)
            if as_json:
                _print_json({"spec": str(written), "job": spec.model_dump(mode="json")})
            else:
                out.print(f"job spec written to {written}", highlight=False)
            return
        try:
            from wattprint.finetune.runner import finetune as run_finetune
        except ModuleNotFoundError as exc:
            raise WattprintError(
                f"fine-tuning needs transformers, datasets and peft ({exc}); install them with "
                "pip install 'wattprint[torch,finetune]'"
            ) from None
        settings = _settings(data_dir)
        if not as_json:
            err.print(f"fine-tuning {spec.model} on {spec.dataset} ({spec.task})…", highlight=False)
        from wattprint.finetune.progress import RichTrainerProgress

        result = run_finetune(spec, settings=settings, callbacks=[RichTrainerProgress(err)])
        store = _store(settings)
        if emissions_csv is not None:
            from wattprint.report.emissions import write_emissions_csv

            emissions_csv.parent.mkdir(parents=True, exist_ok=True)
            with emissions_csv.open("w", newline="", encoding="utf-8") as stream:
                write_emissions_csv(store, result.run_id, stream)
        if as_json:
            _print_json(
                {
                    "run": store.get_run(result.run_id),
                    "output_dir": result.output_dir,
                    "metrics": result.metrics,
                    "notes": result.notes,
                    "emissions_csv": emissions_csv,
                    "job": spec.model_dump(mode="json"),
                }
            )
            return
        for note in result.notes:
            err.print(f"· {note}", highlight=False)
        _print_run(store, result.run_id, False)
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
        out.print(f"final metrics: {metrics or 'none (no eval split)'}", highlight=False)
        out.print(f"model saved to {result.output_dir}", highlight=False)


# ---------------------------------------------------------------------------- jobs
jobs_app = typer.Typer(
    name="jobs",
    help="Queue fine-tuning and benchmark jobs; run them with `wattprint worker` or on SLURM.",
    no_args_is_help=True,
)
app.add_typer(jobs_app)
JobIdArg = Annotated[int, typer.Argument(help="The job's id (`wattprint jobs list`).")]


def _jobs(data_dir: Path | None) -> Any:
    from wattprint.jobs.manager import JobManager

    return JobManager(_settings(data_dir))


@jobs_app.command("submit")
def jobs_submit(
    spec_file: Annotated[
        Path,
        typer.Option(
            "--spec",
            help="YAML/JSON job spec (kind: finetune or bench), or a fine-tuning spec "
            "written by `wattprint finetune --save-spec`.",
        ),
    ],
    executor: Annotated[
        str | None, typer.Option(help="local (run by `wattprint worker`) or slurm.")
    ] = None,
    project: Annotated[str | None, typer.Option(help="Project of the job's runs.")] = None,
    partition: Annotated[str | None, typer.Option(help="SLURM partition.")] = None,
    account: Annotated[str | None, typer.Option(help="SLURM account.")] = None,
    gpus: Annotated[int | None, typer.Option(help="SLURM GPUs per node.")] = None,
    cpus: Annotated[int | None, typer.Option(help="SLURM CPU cores.")] = None,
    mem_gb: Annotated[float | None, typer.Option(help="SLURM memory, GB.")] = None,
    time_min: Annotated[int | None, typer.Option(help="SLURM time limit, minutes.")] = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a job; with --executor slurm, submit it to SLURM at once."""
    with _errors():
        from wattprint.jobs.spec import load_job_spec

        resources = {
            "partition": partition,
            "account": account,
            "gpus": gpus,
            "cpus": cpus,
            "mem_gb": mem_gb,
            "time_min": time_min,
        }
        spec = load_job_spec(spec_file, executor=executor, project=project, slurm=resources)
        with _jobs(data_dir) as manager:
            job = manager.submit(spec)
        if as_json:
            _print_json({"job": job})
            return
        where = f"SLURM job {job.slurm_job_id}" if job.slurm_job_id else "queued for a worker"
        out.print(f"job {job.id} ({job.kind}): {where}", highlight=False)
        err.print(f"next: wattprint jobs show {job.id}", highlight=False)


@jobs_app.command("list")
def jobs_list(
    state: Annotated[
        str | None,
        typer.Option(
            help="Only jobs in this state: queued, running, succeeded, failed, cancelled."
        ),
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only jobs of this kind: finetune, bench.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many jobs, newest first.")] = 50,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first."""
    with _errors(), _jobs(data_dir) as manager:
        found = manager.list(state=state, kind=kind, limit=limit)
        if as_json:
            _print_json({"jobs": found})
        else:
            from wattprint.report.console import jobs_table

            out.print(jobs_table(found))


@jobs_app.command("show")
def jobs_show(
    job_id: JobIdArg,
    tail: Annotated[int, typer.Option(min=0, help="Lines of the log to show.")] = 20,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a job: state, times, runs, error, and the tail of its log."""
    with _errors(), _jobs(data_dir) as manager:
        job = manager.get(job_id)
        log_tail = manager.log(job_id, tail)
        if as_json:
            _print_json({"job": job, "log_tail": log_tail})
        else:
            from wattprint.report.console import job_report

            out.print(job_report(job, log_tail))


@jobs_app.command("cancel")
def jobs_cancel(job_id: JobIdArg, data_dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel a queued or running job (its process gets SIGTERM)."""
    with _errors(), _jobs(data_dir) as manager:
        job = manager.cancel(job_id)
        if as_json:
            _print_json({"job": job})
        else:
            out.print(f"job {job.id} {job.state}", highlight=False)


# ---------------------------------------------------------------------------- db
db_app = typer.Typer(
    name="db",
    help="The store's schema: create or upgrade it (`db upgrade`), show where it stands.",
    no_args_is_help=True,
)
app.add_typer(db_app)
_LINE: dict[str, Any] = {"highlight": False, "soft_wrap": True}  # a URL stays on one line


def _schema_json(state: Any) -> dict[str, Any]:
    from wattprint.store.migrate import HEAD_REVISION, standing

    return {
        "revision": state.revision,
        "schema_version": state.version,
        "head": HEAD_REVISION,
        "standing": standing(state),
    }


@db_app.command("upgrade")
def db_upgrade(data_dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Create or upgrade the store's schema (WATTPRINT_DB, else the data folder's SQLite)."""
    with _errors():
        from wattprint.store.repository import safe_url, upgrade_store

        url = _settings(data_dir).db_url
        before, after = upgrade_store(url)
        if as_json:
            _print_json(
                {
                    "store": safe_url(url),
                    "before": _schema_json(before),
                    "after": _schema_json(after),
                }
            )
            return
        if before == after:
            out.print(f"store {safe_url(url)}: already at {after.describe()}", **_LINE)
        else:
            out.print(f"store {safe_url(url)}: {before.describe()} -> {after.describe()}", **_LINE)


@db_app.command("current")
def db_current(data_dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Show the store's schema revision and version, and whether it is up to date."""
    with _errors():
        from wattprint.store.migrate import HEAD_REVISION, standing
        from wattprint.store.repository import safe_url, store_schema

        url = _settings(data_dir).db_url
        state = store_schema(url)
        if as_json:
            _print_json({"store": safe_url(url), **_schema_json(state)})
            return
        notes = {
            "current": "up to date",
            "empty": "`wattprint db upgrade` creates the schema",
            "behind": f"behind revision {HEAD_REVISION}: run `wattprint db upgrade`",
            "newer": f"newer than this wattprint (revision {HEAD_REVISION}): upgrade wattprint",
        }
        note = notes[standing(state)]
        out.print(f"store {safe_url(url)}: {state.describe()}: {note}", **_LINE)


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run the next queued job (if any), then exit.")
    ] = False,
    poll_s: Annotated[
        float, typer.Option(min=0.05, help="Seconds between looks at an empty queue.")
    ] = 2.0,
    device: Annotated[
        str | None,
        typer.Option(
            help="cuda:N: the jobs see only GPU N (start one worker per GPU); cpu: no GPU."
        ),
    ] = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the queued local jobs one at a time, each in a child process whose output goes
    to the job's log; Ctrl-C or SIGTERM stops the worker and its running job."""
    with _errors(), _jobs(data_dir) as manager:
        report = (lambda line: None) if as_json else (lambda line: err.print(line, highlight=False))
        try:
            ran = manager.worker(poll_s=poll_s, device=device, report=report).run(once=once)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        if as_json:
            _print_json({"jobs": ran})


# ------------------------------------------------------------------ users, tokens
users_app = typer.Typer(
    name="users",
    help="Team server users and what they may do per project (read, write, launch).",
    no_args_is_help=True,
)
tokens_app = typer.Typer(
    name="tokens", help="API tokens of team server users.", no_args_is_help=True
)
app.add_typer(users_app)
app.add_typer(tokens_app)
UserArg = Annotated[str, typer.Argument(help="User name.")]


@contextmanager
def _access(data_dir: Path | None) -> Iterator[Any]:
    """The users, tokens and audit of the configured store."""
    from wattprint.store.access import AccessStore

    with _store(_settings(data_dir)) as store:
        yield AccessStore(store)


@users_app.command("add")
def users_add(
    name: UserArg,
    admin: Annotated[bool, typer.Option("--admin", help="May read and do all.")] = False,
    data_dir: DirOpt = None,
) -> None:
    """Add a user. The first user makes the store a team store: from then on the
    dashboard needs a user's token for every request."""
    with _errors(), _access(data_dir) as access:
        access.add_user(name, admin=admin)
        access.audit("cli", "user.add", None, {"user": name, "admin": admin})
        err.print(f"user {name} added; give it a token: wattprint tokens create {name}")


@users_app.command("list")
def users_list(data_dir: DirOpt = None, as_json: JsonOpt = False) -> None:
    """Users with their projects and scopes."""
    with _errors(), _access(data_dir) as access:
        found = access.users()
        if as_json:
            _print_json({"users": found})
            return
        for user in found:
            projects = ", ".join(f"{p} ({s})" for p, s in user["projects"].items()) or "none"
            role = " (admin)" if user["admin"] else ""
            out.print(f"{user['name']}{role}: {projects}", highlight=False)


@users_app.command("grant")
def users_grant(
    name: UserArg,
    project: Annotated[str, typer.Argument(help="Project name.")],
    scopes: Annotated[
        str, typer.Option(help="Comma-separated: read, write, launch; '' removes the user.")
    ] = "read",
    data_dir: DirOpt = None,
) -> None:
    """Set what a user may do in a project."""
    with _errors(), _access(data_dir) as access:
        chosen = access.grant(name, project, scopes.split(","))
        access.audit("cli", "user.grant", project, {"user": name, "scopes": sorted(chosen)})
        err.print(f"{name} in {project}: {', '.join(sorted(chosen)) or 'no access'}")


@tokens_app.command("create")
def tokens_create(
    name: UserArg,
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    data_dir: DirOpt = None,
) -> None:
    """Make an API token for a user and print it once (only its hash is kept)."""
    with _errors(), _access(data_dir) as access:
        token = access.create_token(name, label)
        access.audit("cli", "token.create", None, {"user": name, "label": label})
        err.print(f"token for {name} (shown once; store it as a secret):")
        out.print(token, highlight=False, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option(help="Only this user's.")] = None,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tokens (never their value): id, user, label, when made, last used, revoked."""
    with _errors(), _access(data_dir) as access:
        found = access.tokens(user)
        if as_json:
            _print_json({"tokens": found})
            return
        for t in found:
            state = "revoked" if t.revoked_at else "active"
            out.print(f"{t.id}  {t.user}  {t.label or '-'}  {state}", highlight=False)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (`tokens list`).")],
    data_dir: DirOpt = None,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    with _errors(), _access(data_dir) as access:
        access.revoke_token(token_id)
        access.audit("cli", "token.revoke", None, {"token": token_id})
        err.print(f"token {token_id} revoked")


@app.command()
def audit(
    limit: Annotated[int, typer.Option(min=1, help="Newest entries to show.")] = 50,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit log: job launches and cancels, users, grants and tokens, newest first."""
    with _errors(), _access(data_dir) as access:
        found = access.audit_log(limit)
        if as_json:
            _print_json({"audit": found})
            return
        for a in found:
            when = datetime.fromtimestamp(a.t).strftime("%Y-%m-%d %H:%M:%S")
            detail = json.dumps(a.detail, sort_keys=True)
            out.print(
                f"{when}  {a.user}  {a.action}  {a.project or '-'}  {detail}", highlight=False
            )


# -------------------------------------------------------------------------- ui
@app.command()
def ui(
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond 127.0.0.1 the token is required.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the browser.")
    ] = False,
    gpus: Annotated[
        str,
        typer.Option(help="Local job workers: auto (one per GPU), none (one, any device), 0,1."),
    ] = "auto",
    data_dir: DirOpt = None,
) -> None:
    """Serve the dashboard (runs, compare, benchmarks, estimate, jobs) and run the jobs it
    launches locally; Ctrl-C stops both."""
    with _errors():
        try:
            from wattprint.server.launch import serve
        except ModuleNotFoundError as exc:
            raise WattprintError(
                f"the dashboard needs its extra ({exc}): pip install 'wattprint[ui]'"
            ) from None
        serve(
            _settings(data_dir),
            host=host,
            port=port,
            open_browser=not no_browser,
            gpus=gpus,
            say=lambda line: err.print(line, highlight=False, soft_wrap=True),
        )


# ------------------------------------------------------------------------ hardware
@app.command()
def hardware(as_json: JsonOpt = False) -> None:
    """List every energy source on this machine, measured or estimated, and why."""
    from wattprint.hardware.cpu import detect_cpu
    from wattprint.meters.discovery import hardware_inventory, probe_sources

    with _errors():
        settings = load_settings()
        statuses = probe_sources(settings)
        inventory = hardware_inventory(statuses, detect_cpu())
        if as_json:
            _print_json({"sources": statuses, "inventory": inventory})
        else:
            from wattprint.report.console import hardware_table

            out.print(hardware_table(statuses, inventory))


# ---------------------------------------------------------------------------- demo
@app.command()
def demo(
    epochs: Annotated[int, typer.Option(min=1, max=100, help="Training epochs.")] = 3,
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a small PyTorch model under the tracker (examples/quickstart.py) and show
    what each epoch cost."""
    import runpy

    from wattprint.tracking.tracker import Tracker

    with _errors():
        settings = _settings(data_dir, project="demo")
        try:
            example = runpy.run_path(str(_quickstart_path()))
        except ModuleNotFoundError as exc:
            raise WattprintError(
                f"the demo needs PyTorch ({exc}); install it with pip install 'wattprint[torch]'"
            ) from None
        with Tracker(settings, command="wattprint demo") as tracker:
            if not as_json:
                err.print(f"training a small MLP for {epochs} epochs under wattprint…")
            example["train"](tracker, epochs)
        store = _store(settings)
        _print_run(store, tracker.run_id, as_json)
        if not as_json:
            err.print(
                f"next: wattprint report {tracker.run_id[:8]} -o report.html"
                f"   (or: wattprint show {tracker.run_id[:8]} --region FR --explain)"
            )


def _quickstart_path() -> Path:
    """The quickstart example: shipped in the wheel, or the checkout's examples/."""
    shipped = Path(__file__).with_name("_examples") / "quickstart.py"
    if shipped.is_file():
        return shipped
    checkout = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"
    if checkout.is_file():
        return checkout
    raise WattprintError("examples/quickstart.py not found next to the wattprint package")


# ------------------------------------------------------ distributed: merge, group
@app.command()
def merge(
    sources: Annotated[
        list[Path],
        typer.Argument(
            metavar="SRC_DIR_OR_DB...",
            help="Other data folders (or their journal/ folders, or their wattprint.db).",
        ),
    ],
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge the runs of other data folders (e.g. one per node of a distributed run)
    into this store, by ingesting their run journals. Merging twice changes nothing."""
    with _errors():
        store = _store(_settings(data_dir))
        merged: list[dict[str, Any]] = []
        for source in sources:
            folder = _journal_folder(source)
            merged.append({"source": str(source), "journals": str(folder)})
            merged[-1]["records"] = store.merge(folder)
        if as_json:
            _print_json({"merged": merged})
        else:
            for m in merged:
                out.print(f"{m['source']}: {m['records']} new records", highlight=False)


@app.command()
def push(
    data_dir: DirOpt = None,
    server: Annotated[
        str | None, typer.Option(help="URL of the wattprint server; env WATTPRINT_SERVER.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="The server's access token; better in env WATTPRINT_TOKEN."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the server the records of this data folder's run journals that it has not
    acknowledged (runs tracked while it was unreachable). Pushing twice sends nothing new."""
    with _errors():
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        from wattprint.tracking.upload import IngestClient, pending_uploads, push_journals

        settings = _settings(data_dir, server=server, token=token)
        if settings.server is None:
            raise WattprintError("no server to push to: give --server URL or WATTPRINT_SERVER")
        secret = settings.token.get_secret_value() if settings.token else None
        client = IngestClient(settings.server, secret)
        try:
            uploads = pending_uploads(client, settings.journal_dir)
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
            with Progress(*columns, console=err, transient=True, disable=not uploads) as bar:
                task = bar.add_task(f"pushing {len(uploads)} journal(s)")
                bar.update(task, total=sum(u.unsent_bytes() for u in uploads))
                results = push_journals(uploads, lambda covered: bar.advance(task, covered))
        finally:
            client.close()
        if as_json:
            _print_json({"server": settings.server, "pushed": results})
        else:
            _print_pushed(settings.server, results)
        if any(r.error for r in results):
            raise typer.Exit(1)


def _print_pushed(server: str, results: list[Any]) -> None:
    """One line per journal sent or refused; one for those left while the server was down."""
    if not results:
        out.print(f"nothing to push to {server}", highlight=False)
        return
    for r in results:
        if not r.retry:
            line = f"{r.run_id}: {r.records} records sent"
            line += f"; the rest refused: {r.error}" if r.error else ""
            out.print(line, highlight=False, soft_wrap=True)
    left = [r for r in results if r.retry]
    if left:
        err.print(
            f"{len(left)} journal(s) not sent: {left[0].error}; nothing is lost: push again later",
            highlight=False,
            soft_wrap=True,
        )
    total = sum(r.records for r in results)
    runs = sum(1 for r in results if r.records)
    out.print(f"{total} records of {runs} run(s) sent to {server}", highlight=False)


def _journal_folder(source: Path) -> Path:
    """The journal folder of ``source``: a data folder, a journal folder, or a store file
    whose data folder holds a ``journal/`` folder."""
    if not source.exists():
        raise WattprintError(f"cannot merge {source}: no such file or folder")
    base = source.parent if source.is_file() else source
    if (base / "journal").is_dir():
        return base / "journal"
    if base.is_dir() and any(base.glob("*.jsonl")):
        return base
    raise WattprintError(
        f"cannot merge {source}: expected a wattprint data folder (with journal/), a "
        "journal folder (*.jsonl) or a wattprint.db next to a journal/ folder"
    )


@app.command()
def group(
    group_ref: Annotated[
        str, typer.Argument(metavar="GROUP", help="Group id, id prefix, or a run of the group.")
    ],
    data_dir: DirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a distributed run group (torchrun, SLURM): energy per rank, per node and in
    total, each node's CPU and RAM counted once."""
    with _errors():
        store = _store(_settings(data_dir))
        detail = store.get_group(group_ref)
        if as_json:
            _print_json({"group": detail})
        else:
            for table in _group_tables(detail):
                out.print(table)
            for warning in detail.warnings:
                err.print(f"[yellow]warning:[/] {warning}", highlight=False)


def _group_tables(detail: Any) -> list[Any]:
    from rich.table import Table

    def kwh(joules: float) -> str:
        return f"{joules / 3.6e6:.6f}"

    ranks = Table(title=f"group {detail.group} ({detail.launcher or '?'}, {detail.status})")
    for column in ("rank", "local", "node", "status", "run", "kWh", "CPU+RAM", "quality"):
        ranks.add_column(column, justify="right" if column in ("rank", "local", "kWh") else "left")
    for r in detail.ranks:
        host = any(c.kind in ("cpu", "ram") for c in r.components)
        ranks.add_row(
            str(r.rank),
            str(r.local_rank),
            r.node or r.host or "",
            r.status,
            r.run_id[:12],
            kwh(r.energy_j),
            "measured here" if host else "-",
            r.quality,
        )
    nodes = Table(title="per node")
    for column in ("node", "ranks", "CPU/RAM by rank", "kWh", "by kind (kWh)", "quality"):
        nodes.add_column(column)
    for n in detail.nodes:
        kinds = ", ".join(f"{k} {kwh(v)}" for k, v in n.energy.by_kind_j.items())
        nodes.add_row(
            n.node,
            ",".join(map(str, n.ranks)),
            "-" if n.host_rank is None else str(n.host_rank),
            kwh(n.energy.energy_j),
            kinds,
            n.energy.quality,
        )
    t = detail.total
    total = Table(title="total")
    for column in ("kWh", "low-high kWh", "measured kWh", "estimated kWh", "duration s"):
        total.add_column(column, justify="right")
    total.add_row(
        kwh(t.energy_j),
        f"{kwh(t.energy_low_j)}-{kwh(t.energy_high_j)}",
        kwh(t.measured_j),
        kwh(t.estimated_j),
        f"{detail.duration_s:.1f}",
    )
    return [ranks, nodes, total]


def main() -> None:
    """Console-script entry point."""
    app()
