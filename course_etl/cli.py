"""Command line: ``python -m course_etl …`` (also installed as ``course-etl``).

``demo`` runs the lecture's story on a fresh SQLite file; ``load full|incremental`` loads one table
and is what a cron entry calls; ``images`` redraws the lecture's diagrams. Topic modules add their
own commands. Errors from bad input print one line naming the culprit and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd

from .db import connect
from .errors import CourseEtlError

__all__ = ["main", "build_parser"]

DEFAULT_DEMO_DB = "course_etl_demo.db"
# Topic modules that add their own subcommands: each has add_commands(commands), which adds
# subparsers and sets handler=<function(args) -> exit code> on each with set_defaults.
_COMMAND_MODULES: tuple[str, ...] = (
    "presentation", "cli_config", "cli_scheduling", "cli_monitoring", "medallion.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="course_etl",
        description="Teaching toolkit for Pipelines & Orchestration: loads on SQLite.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the lecture's full/incremental story end to end")
    demo.set_defaults(handler=_run_demo)
    demo.add_argument("--db", default=DEFAULT_DEMO_DB,
                      help=f"SQLite file to (re)create the demo in (default: ./{DEFAULT_DEMO_DB})")

    load = commands.add_parser("load", help="load one table (what a cron entry runs)")
    load.set_defaults(handler=_run_load)
    load.add_argument("mode", choices=["full", "incremental"])
    load.add_argument("--db", required=True, help="warehouse SQLite file")
    load.add_argument("--source", required=True,
                      help="source table; 'src.table' with --source-db")
    load.add_argument("--target", required=True, help="target table in the warehouse")
    load.add_argument("--source-db", help="attach this SQLite file as schema 'src'")
    load.add_argument("--key", default="id", help="key column(s), comma-separated (default: id)")
    load.add_argument("--watermark", default="updated_at",
                      help="watermark column (default: updated_at)")
    load.add_argument("--lookback-hours", type=float, default=0,
                      help="re-read this many hours before the watermark (late rows)")
    load.add_argument("--soft-delete", help="source column flagging deleted rows")
    load.add_argument("--reconcile-deletes", action="store_true",
                      help="also remove target rows whose key left the source")
    load.add_argument("--batch-size", type=int, help="rows per INSERT statement")

    images = commands.add_parser("images", help="draw the lecture's diagrams into a folder")
    images.set_defaults(handler=_run_images)
    images.add_argument("--out", default="images", help="output folder (default: ./images)")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"course_etl.{name}").add_commands(commands)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from .demo import lecture_story

    print(f"Lecture demo in {args.db}")
    with pd.option_context("display.width", 100):
        conn = connect(args.db)
        try:
            for step in lecture_story(conn):
                print(f"\n== {step.title}")
                print(step.result)
                print(step.warehouse.to_string(index=False))
                if step.message:
                    print(step.message)
        finally:
            conn.close()
    return 0


def _run_load(args: argparse.Namespace) -> int:
    from .loads import full_load, incremental_load

    key = [k.strip() for k in args.key.split(",") if k.strip()]
    attach = {"src": args.source_db} if args.source_db else None
    if args.source_db and not Path(args.source_db).exists():
        raise CourseEtlError(f"--source-db {args.source_db!r} does not exist")
    conn = connect(args.db, attach_as=attach)
    try:
        if args.mode == "full":
            result = full_load(conn, args.source, args.target, key=key,
                               watermark=args.watermark or None)
        else:
            lookback = timedelta(hours=args.lookback_hours) if args.lookback_hours else None
            result = incremental_load(
                conn, args.source, args.target, key=key, watermark=args.watermark,
                lookback=lookback, soft_delete=args.soft_delete,
                reconcile_deletes=args.reconcile_deletes, batch_size=args.batch_size,
            )
    finally:
        conn.close()
    print(result)
    return 0


def _run_images(args: argparse.Namespace) -> int:
    from .diagrams import draw_all

    for path in draw_all(args.out):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CourseEtlError as error:
        print(f"course_etl: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
