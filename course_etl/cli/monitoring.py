"""Command line for monitoring: ``monitor history``, ``monitor runs`` and ``monitor checks``.

``monitor history`` replays the deterministic 30-day history of the demo pipeline into a
warehouse file and can save the dashboards as a PNG; ``monitor runs`` prints the latest runs of a
warehouse's run log; ``monitor checks`` runs a check suite declared in a YAML file against a
warehouse and exits with 1 when a blocking check failed, so a shell script or a scheduler can
stop before publishing. Library errors (a bad suite, an unknown table) exit with 2 through the
main CLI.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml

from course_etl.db import connect
from course_etl.monitoring.checks import CheckConfigError, run_suite

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``monitor`` and its subcommands to the course_etl command line."""
    monitor = commands.add_parser("monitor", help="run logs, data checks and dashboards")
    actions = monitor.add_subparsers(dest="monitor_command", required=True, metavar="ACTION")

    history = actions.add_parser("history", help="replay the demo pipeline's 30-day history")
    history.add_argument("--db", required=True, type=Path, help="warehouse file to (re)fill")
    history.add_argument("--days", type=int, default=30, help="days to replay (default 30)")
    history.add_argument("--dashboard", type=Path, help="also save the dashboards as this PNG")
    history.set_defaults(handler=_history)

    runs = actions.add_parser("runs", help="show the latest runs of a warehouse's run log")
    runs.add_argument("--db", required=True, type=Path)
    runs.add_argument("--last", type=int, default=10, help="how many runs (default 10)")
    runs.set_defaults(handler=_runs)

    checks = actions.add_parser("checks", help="run a YAML check suite; exit 1 if it blocks")
    checks.add_argument("--db", required=True, type=Path)
    checks.add_argument("--suite", required=True, type=Path,
                        help="YAML file: {table: [{check: ..., blocking: true}, ...]}")
    checks.add_argument("--now", help="time for freshness checks (ISO, e.g. 2024-10-15T02:05)")
    checks.set_defaults(handler=_checks)


def _history(args: argparse.Namespace) -> int:
    from course_etl.monitoring.dashboards import dashboard_figure
    from course_etl.monitoring.lecture import generate_history

    if args.db.exists():
        args.db.unlink()  # a replay starts from an empty warehouse
    conn = connect(args.db)
    try:
        runs = generate_history(conn, days=args.days)
        counts = runs.status.value_counts()
        print(f"{len(runs)} runs replayed into {args.db.name}: "
              + ", ".join(f"{n} {status}" for status, n in counts.items()))
        if args.dashboard:
            dashboard_figure(conn).savefig(args.dashboard, dpi=100)
            print(f"dashboards saved to {args.dashboard}")
    finally:
        conn.close()
    return 0


def _runs(args: argparse.Namespace) -> int:
    from course_etl.monitoring.history import runs_frame

    conn = _open_existing(args.db)
    try:
        runs = runs_frame(conn).tail(args.last)
    finally:
        conn.close()
    columns = ["run_id", "pipeline", "logical_date", "status", "seconds", "error"]
    with pd.option_context("display.width", 140, "display.max_colwidth", 60,
                           "display.precision", 1):
        print(runs[columns].to_string(index=False) if not runs.empty else "no runs recorded")
    return 0


def _checks(args: argparse.Namespace) -> int:
    try:
        suite = yaml.safe_load(args.suite.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CheckConfigError(f"cannot read suite file {args.suite}: {error}") from None
    conn = _open_existing(args.db)
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


def _open_existing(path: Path):
    if not path.exists():
        raise CheckConfigError(f"warehouse file {path} does not exist: check --db")
    return connect(path)
