"""Run the loads from a resolved configuration: the same code for dev and prod.

:func:`run_incremental_load` and :func:`run_full_load` check the configured names against the
database, then call :mod:`course_etl.loads.engine` with the configured key, watermark, lookback,
batch size and delete handling; :func:`run_logged_load` does the same as one run of the
warehouse's run log, saying who started it (the command line's ``load``, a notebook panel).
:func:`open_warehouse` opens the configured warehouse file with the source attached.
:class:`SecretFilter` keeps secrets out of log records even when code logs the revealed value by
mistake.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from course_etl.config.identifiers import check_against_database, target_name
from course_etl.config.layers import Problem
from course_etl.config.resolve import Config, ConfigError
from course_etl.db import connect, validate_identifier
from course_etl.errors import CourseEtlError, checked
from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.loads.errors import WatermarkError
from course_etl.loads.guards import DEFAULT_MAX_DELETE_SHARE, check_target
from course_etl.monitoring.loadlog import recorded_load
from course_etl.monitoring.masking import MaskingFilter

__all__ = [
    "incremental_arguments",
    "open_warehouse",
    "run_incremental_load",
    "run_full_load",
    "run_logged_load",
    "SecretFilter",
]


@checked
def incremental_arguments(config: Config) -> dict[str, object]:
    """The keyword arguments of ``incremental_load`` that the configuration decides."""
    load = config.load
    return {
        "key": list(load.key),
        "watermark": load.watermark_column,
        "initial_value": load.initial_value,
        "lookback": timedelta(hours=load.lookback_hours) if load.lookback_hours else None,
        "soft_delete": load.soft_delete,
        "reconcile_deletes": load.reconcile_deletes,
        "batch_size": load.batch_size,
    }


@checked
def open_warehouse(config: Config) -> sqlite3.Connection:
    """Connect to ``database.warehouse`` with ``database.source`` attached as ``source_alias``.

    Raises ConfigError when the source file does not exist (SQLite would silently create an
    empty one and the load would then report an unknown table).
    """
    database = config.database
    attach = None
    if database.source is not None:
        if database.source != ":memory:" and not Path(database.source).exists():
            raise ConfigError(problems=[Problem("database.source", database.source,
                                                config.source_of("database.source"),
                                                "no such file: check the path (relative paths "
                                                "start in the working directory)")])
        attach = {database.source_alias: database.source}
    return connect(database.warehouse, attach_as=attach)


@checked
def run_incremental_load(conn: sqlite3.Connection, config: Config, *,
                         max_delete_share: float | None = DEFAULT_MAX_DELETE_SHARE) -> LoadResult:
    """Check the configured names against ``conn``, then run ``incremental_load`` with them.

    ``max_delete_share`` is the share of the target that reconciling deletes may remove (None:
    no limit, what ``--force-deletes`` passes).
    Raises ConfigError (bad names, naming the key and where it was set) before anything is read,
    or the load's own errors.
    """
    tables = check_against_database(conn, config)
    try:
        return incremental_load(conn, tables.source.label, target_name(config),
                                **incremental_arguments(config),
                                max_delete_share=max_delete_share)
    except WatermarkError as error:
        if getattr(error, "option", None) != "initial_value":
            raise
        # The engine knows the argument; the configuration knows where the value was set.
        raise ConfigError(problems=[Problem("load.initial_value", config.load.initial_value,
                                            config.source_of("load.initial_value"),
                                            error.reason)], cause=error) from None


@checked
def run_full_load(conn: sqlite3.Connection, config: Config, *,
                  max_delete_share: float | None = DEFAULT_MAX_DELETE_SHARE) -> LoadResult:
    """Check the configured names against ``conn``, then run ``full_load`` with them.

    ``max_delete_share`` is the share of the target the load may delete (None: no limit, what
    ``--force-deletes`` passes, e.g. to empty a table on purpose).
    """
    tables = check_against_database(conn, config)
    return full_load(conn, tables.source.label, target_name(config), key=list(config.load.key),
                     watermark=config.load.watermark_column, max_delete_share=max_delete_share)


@checked
def run_logged_load(conn: sqlite3.Connection, config: Config, mode: str, *, started_by: str,
                    max_delete_share: float | None = DEFAULT_MAX_DELETE_SHARE) -> LoadResult:
    """The configured ``mode`` load ("full" or "incremental") as one run of the run log.

    Bad input (a name that does not resolve, a target that is the source, a view or SQLite's
    own) is refused before the run starts: nothing is written, not even a run. From then on,
    whatever stops the load (bad data, the delete guard, a lock) ends the run ``failed`` with the
    error, the load's own writes rolled back, and is raised marked as a fault of a started run
    (``error.fault``: the command line exits 1); a success is recorded with its LoadResult.
    ``started_by`` is cli, cron, pipeline or notebook.
    """
    tables = check_against_database(conn, config)
    validate_identifier(config.load.target_table, what="target table name")
    check_target(conn, tables.source, target_name(config))

    def load() -> LoadResult:
        if mode == "full":
            return run_full_load(conn, config, max_delete_share=max_delete_share)
        return run_incremental_load(conn, config, max_delete_share=max_delete_share)

    try:
        return recorded_load(conn, load, mode=mode, source=config.load.source_table,
                             target=target_name(config), started_by=started_by)
    except CourseEtlError as error:
        # The run started and is recorded failed: a failed run (exit 1 on the command line),
        # not bad input, which was refused above before anything was written.
        error.fault = True
        raise


#: The config's own name for the one masking filter: ``SecretFilter(config.secret_values())``.
SecretFilter = MaskingFilter
