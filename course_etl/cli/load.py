"""Load commands: ``demo``, ``load full|incremental``, ``images`` and ``present``.

``load`` is what a cron entry calls. It resolves the configuration like every other command
(defaults < ``base.yaml`` < ``<env>.yaml`` < ``COURSE_ETL_…`` variables < its own options <
``--set``), so ``--env prod`` loads with prod's key, watermark and lookback, and an option given
on the command line wins over every file. Values are validated by the configuration's schema
before the warehouse is opened. Every load that starts is a run in the warehouse's run log
(success, or failure with the error), started by ``cli`` or, from a crontab line,
``--started-by cron``; it prints one readable line, or ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from course_etl.cli.args import PORT, output_file, output_folder
from course_etl.cli.config import add_config_arguments, config_from_args
from course_etl.config import Config, run_logged_load
from course_etl.db import attach, connect
from course_etl.dbfile import (
    DatabaseFileError,
    cause_of,
    create_database,
    open_database,
    rebuilt_database,
)
from course_etl.errors import checked
from course_etl.loads import LoadResult
from course_etl.loads.guards import DEFAULT_MAX_DELETE_SHARE
from course_etl.paths import check_path

__all__ = ["LOAD_FLAGS", "DEFAULT_DEMO_DB", "add_commands", "load_from_args"]

DEFAULT_DEMO_DB = "course_etl_demo.db"

# Options of `course_etl load` and the config key each one sets (attribute name on args). Every
# option defaults to None, so an option left out does not override the configuration.
LOAD_FLAGS: dict[str, tuple[str, str]] = {
    "database.warehouse": ("--db", "db"),
    "database.source": ("--source-db", "source_db"),
    "load.source_table": ("--source", "source"),
    "load.target_table": ("--target", "target"),
    "load.key": ("--key", "key"),
    "load.watermark_column": ("--watermark", "watermark"),
    "load.lookback_hours": ("--lookback-hours", "lookback_hours"),
    "load.soft_delete": ("--soft-delete", "soft_delete"),
    "load.reconcile_deletes": ("--reconcile-deletes", "reconcile_deletes"),
    "load.batch_size": ("--batch-size", "batch_size"),
}


@checked
def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``demo``, ``load``, ``images`` and ``present`` to the command line."""
    demo = commands.add_parser("demo", help="run the lecture's full/incremental story end to end")
    demo.set_defaults(handler=_run_demo)
    demo.add_argument("--db", default=DEFAULT_DEMO_DB, type=output_file,
                      help="SQLite file to create the demo in, or to re-create a demo file "
                           f"made before (default: ./{DEFAULT_DEMO_DB})")

    load = commands.add_parser("load", help="load one table (what a cron entry runs)")
    load.set_defaults(handler=_run_load)
    load.add_argument("mode", choices=["full", "incremental"])
    load.add_argument("--db", help="warehouse SQLite file (config: database.warehouse)")
    load.add_argument("--source", help="source table; 'src.table' with --source-db "
                                       "(config: load.source_table)")
    load.add_argument("--target", help="target table in the warehouse (config: load.target_table)")
    load.add_argument("--source-db", help="attach this SQLite file as schema 'src'")
    load.add_argument("--key", help="key column(s), comma-separated (config: load.key)")
    load.add_argument("--watermark", help="watermark column (config: load.watermark_column)")
    load.add_argument("--lookback-hours", type=float,
                      help="re-read this many hours before the watermark (late rows; ≥ 0)")
    load.add_argument("--soft-delete", help="source column flagging deleted rows")
    load.add_argument("--reconcile-deletes", action=argparse.BooleanOptionalAction,
                      help="also remove target rows whose key left the source")
    load.add_argument("--batch-size", type=int, help="rows per INSERT statement (≥ 1)")
    load.add_argument("--force-deletes", action="store_true",
                      help="let the load remove more than half of the target: a full load "
                           "from an empty source, --reconcile-deletes")
    load.add_argument("--json", action="store_true",
                      help="print the result as one JSON object (for scripts)")
    load.add_argument("--started-by", choices=["cli", "cron"], default="cli",
                      help="who started the load, as the run log records it (a crontab line "
                           "passes cron; default: cli)")
    add_config_arguments(load)

    images = commands.add_parser("images", help="draw the lecture's diagrams into a folder")
    images.set_defaults(handler=_run_images)
    images.add_argument("--out", default="images", type=output_folder,
                        help="output folder (default: ./images)")

    present = commands.add_parser("present", help="serve every demo panel with Voila")
    present.add_argument("--port", type=PORT, default=8866, help="1 to 65535 (default: 8866)")
    present.add_argument("--presenter", action="store_true",
                         help="start with large fonts for a projector")
    present.set_defaults(handler=_run_present)


@checked
def load_from_args(args: argparse.Namespace, *, environ: Mapping[str, str] | None = None
                   ) -> LoadResult:
    """What ``course_etl load full|incremental`` runs: the configuration from ``--env``,
    ``--config`` and ``--set`` with the load options given on the command line on top
    (:data:`LOAD_FLAGS`), then the load on the configured warehouse, recorded as a run of its
    run log (``args.started_by``: cli or cron). Bad input (configuration, names that do not
    resolve, a target that is the source) raises before the run starts and writes nothing; an
    error once the load runs (bad data, a lock) ends the run ``failed`` with the error, the
    load's own writes rolled back, and is raised."""
    config = config_from_args(args, flags=LOAD_FLAGS, environ=environ)
    conn, created = _open_for_load(config)
    try:
        share = None if getattr(args, "force_deletes", False) else DEFAULT_MAX_DELETE_SHARE
        return run_logged_load(conn, config, args.mode, max_delete_share=share,
                               started_by=getattr(args, "started_by", "cli"))
    except sqlite3.OperationalError as error:
        conn.close()
        _remove(created)
        source = config.database.source
        if source is None or cause_of(error) != "locked by another process":
            raise
        # The write lock covers the attached source too: either file may be the busy one.
        # (``.reason`` is the cause in words, as for every file refusal; the error is chained.)
        raise DatabaseFileError(
            f"{config.database.warehouse} or its source {source}: locked by another process "
            f"({error}): wait for the other writer to finish, or stop it, then retry",
            path=str(config.database.warehouse), reason="locked by another process",
            source=source, fault=True) from error
    except BaseException as error:
        conn.close()
        if not getattr(error, "fault", False):
            _remove(created)  # refused before the run: the warehouse it created holds nothing
        # else the run started and is recorded failed in the new warehouse's run log: keep it
        raise
    finally:
        conn.close()


def _open_for_load(config: Config) -> tuple[sqlite3.Connection, Path | None]:
    """The warehouse with the source attached, and its path when this call created it.

    The source file must exist and be a sound SQLite database. The warehouse must exist too,
    unless the source is a separate file: then the first full load may create it.
    """
    database = config.database
    if database.source is not None and database.source != ":memory:":
        open_database(database.source, mode="read", what="--source-db").close()
    warehouse = database.warehouse
    if warehouse == ":memory:":
        return connect(warehouse), None
    if os.path.lexists(check_path(warehouse, what="--db")) or database.source is None:
        conn, created = open_database(warehouse), None
    else:
        conn, created = create_database(warehouse, maker="load"), Path(warehouse)
    try:
        if database.source is not None:
            attach(conn, database.source, database.source_alias)
    except BaseException:
        conn.close()
        _remove(created)
        raise
    return conn, created


def _remove(created: Path | None) -> None:
    """Remove a warehouse this command created (with its side files): it holds nothing."""
    if created is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{created}{suffix}").unlink(missing_ok=True)


def _run_demo(args: argparse.Namespace) -> int:
    from course_etl.loads.story import lecture_story

    # The story runs in a new file that replaces --db only at the end: a failed demo leaves
    # nothing behind, and a file the demo did not make is never replaced.
    with pd.option_context("display.width", 100), \
            rebuilt_database(args.db, maker="demo") as conn:
        print(f"Lecture demo in {args.db}")
        for step in lecture_story(conn):
            print(f"\n== {step.title}")
            print(step.result)
            print(step.warehouse.to_string(index=False))
            if step.message:
                print(step.message)
    return 0


def _run_load(args: argparse.Namespace) -> int:
    result = load_from_args(args)
    # People read one line (LoadResult's str); scripts parse --json (the result's fields).
    print(json.dumps(result.as_dict(), default=str) if args.json else result)
    return 0


def _run_images(args: argparse.Namespace) -> int:
    from course_etl.classroom.diagrams import draw_all

    for path in draw_all(args.out):
        print(path)
    return 0


def _run_present(args: argparse.Namespace) -> int:
    from course_etl.classroom.presentation import serve

    return serve(port=args.port, presenter=args.presenter)
