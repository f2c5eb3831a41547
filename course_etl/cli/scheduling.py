"""Scheduling commands: ``schedule describe|next|crontab``, ``pipeline run|backfill|export``.

``schedule`` explains a cron expression and writes the crontab entry of a pipeline; ``pipeline
run`` is what that crontab entry calls (one run for the tick that just fired, or ``--date``),
``pipeline backfill`` runs a date range and ``pipeline export`` writes the Airflow or Dagster file.
A pipeline is named as in ``course_etl.scheduling.lecture.PIPELINES`` or as ``module:factory``.
A failed run exits 1; bad input exits 2 with one line naming the culprit (see ``cli.main``).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from course_etl.cli.args import (
    database_path,
    file_path,
    folder_path,
    integer,
    number,
    output_file,
    timezone_name,
    warehouse,
)
from course_etl.errors import check_type, checked, short_repr
from course_etl.facts import SCHEDULE
from course_etl.monitoring.recorder import SchedulerRecorder
from course_etl.paths import write_atomic
from course_etl.scheduling.cron import describe_cron, next_runs
from course_etl.scheduling.export import to_airflow, to_crontab, to_dagster
from course_etl.scheduling.lecture import PIPELINES
from course_etl.scheduling.pipeline import Pipeline, PipelineError
from course_etl.scheduling.runner import LocalRunner, RunReport

__all__ = ["add_commands", "load_pipeline"]


_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def load_pipeline(reference: str) -> Pipeline:
    """The pipeline named ``reference``: a known name or ``package.module:factory``.

    ``factory`` is a Pipeline, or a Python function that takes no arguments and returns one.
    The module must be the project's own, not Python's standard library (``os:system`` is no
    pipeline). Anything that fails while importing the module or calling the factory is
    reported in one line. Raises PipelineError.
    """
    check_type(reference, str, argument="reference", function="load_pipeline",
               wanted="a pipeline name or 'module:factory'")
    if reference in PIPELINES:
        return PIPELINES[reference]()
    module_name, _, attribute = reference.partition(":")
    if not attribute or not _DOTTED.fullmatch(module_name) or not attribute.isidentifier():
        raise PipelineError(
            f"unknown pipeline {short_repr(reference)} (known: {', '.join(PIPELINES)}; "
            "or give module:factory, e.g. mypipelines.nightly:build)", value=reference,
            known=list(PIPELINES))
    if module_name.split(".")[0] in sys.stdlib_module_names:
        raise PipelineError(f"{short_repr(reference)}: {module_name!r} is a module of Python's "
                            "standard library, not a pipeline: give your own module:factory",
                            value=reference, module=module_name)
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:  # the module is the user's code: any failure is reported
        raise PipelineError(f"cannot load pipeline {short_repr(reference)}: "
                            f"{type(error).__name__}: {' '.join(str(error).split())}",
                            value=reference, module=module_name, cause=error) from None
    built = factory if isinstance(factory, Pipeline) else _call_factory(reference, factory)
    if not isinstance(built, Pipeline):
        raise PipelineError(f"{short_repr(reference)} gave {type(built).__name__}, not a "
                            "Pipeline", value=reference, result=built)
    return built


def _call_factory(reference: str, factory: object) -> object:
    if not inspect.isfunction(factory):
        raise PipelineError(f"{short_repr(reference)} is not a Pipeline or a Python function "
                            f"returning one (it is of type {type(factory).__name__})",
                            value=reference, factory=factory)
    required = [p.name for p in inspect.signature(factory).parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                       p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if required:
        raise PipelineError(f"{short_repr(reference)} needs argument(s) {', '.join(required)}: "
                            "a factory takes none and returns a Pipeline", value=reference,
                            factory=factory, missing=required)
    try:
        return factory()
    except Exception as error:  # the factory is the user's code
        raise PipelineError(f"{short_repr(reference)} failed: {type(error).__name__}: "
                            f"{' '.join(str(error).split())}", value=reference, factory=factory,
                            cause=error) from None


def _absolute(path: str | Path) -> Path:
    # abspath, not resolve(): a symlink stays a symlink, and a loop is refused by the --db type
    # instead of raising RuntimeError here.
    return Path(os.path.abspath(Path(path).expanduser()))


# Dates a schedule can mean; beyond them date arithmetic overflows (9999-12-31 + 1 day).
_YEARS = range(1970, 2200)
_MAX_BACKFILL_DAYS = 3660


def _moment(text: str) -> date | datetime:
    """A datetime, or a date for a bare day (a day means its scheduled runs)."""
    try:
        moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise PipelineError(f"{short_repr(text)} is not a date or datetime: write 2024-10-01 "
                            "or 2024-10-01T06:30", value=text) from None
    if moment.year not in _YEARS:
        raise PipelineError(f"{short_repr(text)} is out of range: use a date from "
                            f"{_YEARS.start} to {_YEARS.stop - 1}", value=text)
    return moment


@checked
def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the ``schedule`` and ``pipeline`` subcommands to the main parser."""
    schedule = commands.add_parser("schedule", help="explain cron expressions, write crontab")
    actions = schedule.add_subparsers(dest="action", required=True, metavar="ACTION")
    describe = actions.add_parser("describe", help="a cron expression in English + next runs")
    next_ = actions.add_parser("next", help="the next runs of a cron expression")
    for sub in (describe, next_):
        sub.add_argument("expression", help=f"five cron fields, quoted: '{SCHEDULE.cron}'")
        sub.add_argument("--tz", default="UTC", type=timezone_name,
                         help="IANA time zone (default: UTC)")
        sub.add_argument("-n", type=integer(1, 1000), default=5,
                         help="how many runs, 1 to 1000 (default: 5)")
        sub.add_argument("--after", help="list runs after this date/datetime (default: now)")
        sub.set_defaults(handler=_describe if sub is describe else _next)
    crontab = actions.add_parser("crontab", help="the crontab entry that runs a pipeline")
    _pipeline_arguments(crontab)
    crontab.add_argument("--project-dir", default=".", type=folder_path,
                         help="working directory of the job")
    crontab.add_argument("--python", type=file_path,
                         help="interpreter (default: this one, the venv's)")
    crontab.add_argument("--log-dir", type=folder_path,
                         help="log folder (default: PROJECT_DIR/logs)")
    crontab.set_defaults(handler=_crontab)

    pipeline = commands.add_parser("pipeline", help="run, backfill or export a pipeline")
    actions = pipeline.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run once (what the crontab entry calls)")
    _pipeline_arguments(run)
    run.add_argument("--date", help="logical date (default: the tick that fired last)")
    run.add_argument("--full-refresh", action="store_true",
                     help="reload from scratch instead of continuing from the watermark")
    run.set_defaults(handler=_run)
    backfill = actions.add_parser("backfill", help="run every scheduled date in a range")
    _pipeline_arguments(backfill)
    backfill.add_argument("--start", required=True, help="first day, e.g. 2024-10-01")
    backfill.add_argument("--end", required=True, help="last day, e.g. 2024-10-07")
    backfill.add_argument("--full-refresh", action="store_true",
                          help="the first run reloads from scratch; the rest continue from it")
    backfill.set_defaults(handler=_backfill)
    export = actions.add_parser("export", help="write an Airflow, Dagster or crontab file")
    _pipeline_arguments(export)
    export.add_argument("--to", required=True, choices=["airflow", "dagster", "crontab"])
    export.add_argument("--out", type=output_file, help="file to write (default: print)")
    export.set_defaults(handler=_export)


def _pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pipeline", help=f"{' or '.join(PIPELINES)} or module:factory")
    parser.add_argument("--db", required=True, type=database_path, help="warehouse SQLite file")
    if parser.prog.split()[-1] in ("run", "backfill"):
        parser.add_argument("--retry-delay", type=number(0, 86_400), metavar="SECONDS",
                            help="wait between tries of a failed task (default: each task's "
                                 "retry_delay)")
        parser.add_argument("--started-by", choices=["cli", "cron"], default="cli",
                            help="who started the run, as the run log records it (the "
                                 "crontab entry passes cron; default: cli)")


def _after(args: argparse.Namespace) -> datetime:
    if args.after is None:
        return datetime.now(UTC)
    moment = _moment(args.after)
    return moment if isinstance(moment, datetime) else datetime.combine(moment, datetime.min.time())


def _describe(args: argparse.Namespace) -> int:
    print(describe_cron(args.expression))
    return _next(args)


def _next(args: argparse.Namespace) -> int:
    for moment in next_runs(args.expression, args.n, after=_after(args), timezone=args.tz):
        print(f"{moment:%a %Y-%m-%d %H:%M %Z}")
    return 0


def _crontab(args: argparse.Namespace) -> int:
    print(to_crontab(load_pipeline(args.pipeline), warehouse=_absolute(args.db),
                     project_dir=_absolute(args.project_dir),
                     python=args.python, log_dir=args.log_dir and _absolute(args.log_dir)))
    return 0


def _print_report(report: RunReport) -> None:
    print(report)
    print(report.table().to_string(index=False))


def _run(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(args.pipeline)
    if args.date is not None:
        logical_date = _moment(args.date)
    else:  # cron starts us just after the tick: the run stands for that tick
        logical_date = pipeline.cron.previous_run(datetime.now(UTC) + timedelta(seconds=1))
    with warehouse(_absolute(args.db)) as conn:
        report = _runner(conn, args).run(pipeline, logical_date,
                                         full_refresh=args.full_refresh)
    _print_report(report)
    return 0 if report.state == "success" else 1


def _backfill(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(args.pipeline)
    start, end = _moment(args.start), _moment(args.end)
    if _day(end) < _day(start):
        raise PipelineError(f"--end {args.end} is before --start {args.start}: swap them",
                            value=(args.start, args.end), start=args.start, end=args.end)
    if (_day(end) - _day(start)).days > _MAX_BACKFILL_DAYS:
        raise PipelineError(f"backfill from {args.start} to {args.end} spans more than "
                            f"{_MAX_BACKFILL_DAYS} days: split it into smaller ranges",
                            value=(args.start, args.end), start=args.start, end=args.end)
    with warehouse(_absolute(args.db)) as conn:
        reports = _runner(conn, args).backfill(pipeline, start, end,
                                               full_refresh=args.full_refresh)
    for report in reports:
        print(report)
    return 0 if all(r.state == "success" for r in reports) else 1


def _day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _runner(conn, args: argparse.Namespace) -> LocalRunner:
    # Every run, task and load (with its mode) lands in the warehouse's run log, as the
    # notebooks' runs do.
    return LocalRunner(conn, recorder=SchedulerRecorder(conn, started_by=args.started_by),
                       retry_delay=args.retry_delay, retry_notice=_notice)


def _notice(line: str) -> None:
    """A waiting retry says so: a cron log shows why the run takes minutes."""
    print(line, flush=True)


def _export(args: argparse.Namespace) -> int:
    pipeline, warehouse = load_pipeline(args.pipeline), _absolute(args.db)
    if args.to == "airflow":
        text = to_airflow(pipeline, warehouse=warehouse)
    elif args.to == "dagster":
        text = to_dagster(pipeline, warehouse=warehouse)
    else:
        text = to_crontab(pipeline, warehouse=warehouse, project_dir=Path.cwd()) + "\n"
    if args.out:
        # Written beside the file and renamed into place: a full disk names this file and
        # leaves the old one whole, never a truncated DAG for the scheduler to pick up.
        write_atomic(args.out, text, what="--out")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
