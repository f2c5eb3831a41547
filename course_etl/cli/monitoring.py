"""Command line for monitoring: ``monitor history``, ``monitor runs`` and ``monitor checks``.

``monitor history`` replays the deterministic 30-day history of the demo pipeline into a
warehouse file and can save the dashboards as a PNG; ``monitor runs`` prints the latest runs of a
warehouse's run log, with who started each (cli, cron, pipeline, notebook); ``monitor checks``
runs a check suite declared in a YAML file against a warehouse and exits with 1 when a blocking
check failed, so a shell script or a scheduler can stop before publishing. Library errors (a
bad suite, an unknown table) exit with 2 through the main CLI.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from course_etl.cli.args import (
    database_path,
    input_file,
    integer,
    moment,
    output_file,
    timezone_name,
)
from course_etl.clock import shown
from course_etl.config.yamltext import YamlReadError, read_yaml
from course_etl.db import table_exists
from course_etl.dbfile import open_database, rebuilt_database
from course_etl.errors import checked
from course_etl.monitoring.checks import CheckConfigError, run_suite
from course_etl.paths import FileRefusedError, read_text, replacing

__all__ = ["add_commands", "read_suite"]


@checked
def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``monitor`` and its subcommands to the course_etl command line."""
    monitor = commands.add_parser("monitor", help="run logs, data checks and dashboards")
    actions = monitor.add_subparsers(dest="monitor_command", required=True, metavar="ACTION")

    history = actions.add_parser("history", help="replay the demo pipeline's 30-day history")
    history.add_argument("--db", required=True, type=output_file,
                         help="new SQLite file to fill, or one an earlier `monitor history` "
                              "made (any other file is refused, never replaced)")
    history.add_argument("--days", type=integer(1, 3650), default=30,
                         help="days to replay, 1 to 3650 (default 30)")
    history.add_argument("--dashboard", type=output_file,
                         help="also save the dashboards as this PNG")
    history.set_defaults(handler=_history)

    runs = actions.add_parser("runs", help="show the latest runs of a warehouse's run log")
    runs.add_argument("--db", required=True, type=database_path)
    runs.add_argument("--last", type=integer(1, 100_000), default=10,
                      help="how many runs (default 10)")
    runs.add_argument("--tz", type=timezone_name, default="UTC",
                      help="show start times in this IANA time zone (default: UTC, as stored)")
    runs.set_defaults(handler=_runs)

    checks = actions.add_parser("checks", help="run a YAML check suite; exit 1 if it blocks")
    checks.add_argument("--db", required=True, type=database_path)
    checks.add_argument("--suite", required=True, type=input_file,
                        help="YAML file: {table: [{check: ..., blocking: true}, ...]}")
    checks.add_argument("--now", type=moment,
                        help="time for freshness checks (ISO, e.g. 2024-10-15T06:30)")
    checks.set_defaults(handler=_checks)


def _history(args: argparse.Namespace) -> int:
    from course_etl.monitoring.dashboards import dashboard_figure
    from course_etl.monitoring.lecture import generate_history

    if args.dashboard is not None and args.dashboard.suffix.lower() != ".png":
        raise CheckConfigError(f"--dashboard {str(args.dashboard)!r} must end in .png",
                               option="--dashboard", value=args.dashboard)
    # The replay fills a new file beside the warehouse and replaces it only when everything,
    # dashboard included, succeeded: a failure leaves the old file as it was. Only a file an
    # earlier `monitor history` made is replaced; any other file there is refused.
    with rebuilt_database(args.db, maker="monitor history") as conn:
        runs = generate_history(conn, days=args.days)
        if args.dashboard:
            with replacing(args.dashboard, what="--dashboard") as scratch:
                dashboard_figure(conn).savefig(scratch, format="png", dpi=100)
    counts = runs.status.value_counts()
    print(f"{len(runs)} runs replayed into {args.db.name}: "
          + ", ".join(f"{n} {status}" for status, n in counts.items()))
    if args.dashboard:
        print(f"dashboards saved to {args.dashboard}")
    return 0


def _runs(args: argparse.Namespace) -> int:
    from course_etl.monitoring.history import runs_frame
    from course_etl.monitoring.tables import RUNS_TABLE

    conn = open_database(args.db, mode="read")
    try:
        # Reading never creates the run log: a warehouse without one has no runs.
        runs = runs_frame(conn).tail(args.last) if table_exists(conn, RUNS_TABLE) else None
    finally:
        conn.close()
    if runs is None:
        print("no runs recorded")
        return 0
    # Who started each run (cli, cron, pipeline, notebook); a log from an older course_etl that
    # a writer has not migrated yet has no such column.
    runs = runs.assign(started=[shown(t, args.tz) for t in runs.started_at])
    columns = [c for c in ("run_id", "pipeline", "logical_date", "started_by", "started",
                           "status", "seconds", "error") if c in runs.columns]
    with pd.option_context("display.width", 140, "display.max_colwidth", 60,
                           "display.precision", 1):
        # A load started by hand has no logical date, a success no error: "-", not "None".
        table = runs[columns].astype(object).where(runs[columns].notna(), "-")
        print(table.to_string(index=False) if not runs.empty else "no runs recorded")
    return 0


@checked
def read_suite(path: str | Path) -> object:
    """The check suite in the YAML file ``path``, read through the course's bounded opener and
    YAML reader. Raises CheckConfigError naming the file and the cause (``.path``, and
    ``.cause``: the file's or the YAML reader's refusal)."""
    try:
        return read_yaml(read_text(path, what="suite file"), source=f"suite file {path}")
    except FileRefusedError as error:
        raise CheckConfigError(f"cannot read {error}", path=path, cause=error) from None
    except YamlReadError as error:
        raise CheckConfigError(f"cannot read {error}", path=path, cause=error) from None


def _checks(args: argparse.Namespace) -> int:
    suite = read_suite(args.suite)
    conn = open_database(args.db, mode="read")
    try:
        report = run_suite(conn, suite, now=args.now)
    finally:
        conn.close()
    with pd.option_context("display.width", 140, "display.max_colwidth", 70):
        print(report.frame()[["table", "name", "status", "blocking", "message"]]
              .to_string(index=False))
    if report.blocked:
        print("BLOCKED: a blocking check failed; do not publish.")
        return 1
    return 0
