"""The run log's tables: their names, their schema, and the one function that creates them.

Five tables live next to the data: ``etl_pipeline_runs``, ``etl_task_runs``, ``etl_load_log``,
``etl_check_results`` and ``etl_alert_log``. Run and task statuses are Airflow 3's states
(:mod:`course_etl.states`), and a run records who started it (:data:`STARTED_BY`). Only writers
call :func:`ensure_runlog_tables` (:mod:`~course_etl.monitoring.runlog`,
:mod:`~course_etl.monitoring.loadlog`, the alert router); readers
(:mod:`~course_etl.monitoring.history`) run the same queries on an empty in-memory copy of
:data:`SCHEMA` when the tables are missing, so reading never writes. A run log written by an older
course_etl (runs "blocked" or "warning", no ``started_by``) is migrated by the first writer, in
one transaction (:func:`migrate_legacy_runlog`).
"""

from __future__ import annotations

import sqlite3

from course_etl.db import atomic, quote_identifier, table_exists
from course_etl.errors import CourseEtlError, checked
from course_etl.states import RUN_STATES, TASK_STATES, RunState, TaskState

__all__ = [
    "RUNS_TABLE",
    "TASKS_TABLE",
    "LOADS_TABLE",
    "CHECKS_TABLE",
    "ALERTS_TABLE",
    "RUN_STATUSES",
    "TASK_STATUSES",
    "LOAD_STATUSES",
    "STARTED_BY",
    "SCHEMA",
    "LEGACY_RUN_STATUSES",
    "RunLogError",
    "ensure_runlog_tables",
    "migrate_legacy_runlog",
]


class RunLogError(CourseEtlError):
    """The run log was used in a way that could lose a record (e.g. inside an open transaction),
    or a table with a run log's name is not one this package can use or migrate.

    A bad argument gives ``.option`` and ``.value`` (``.known`` where it must be one of them;
    ``.task`` for a task's, with ``.started_at`` for a task run that ends before it starts); a
    task started inside a transaction ``.task`` and ``.run_id``; a table that is not a run log
    ``.table`` (``.missing``: the columns it lacks; or its migration error as ``__cause__``)."""


RUNS_TABLE = "etl_pipeline_runs"
TASKS_TABLE = "etl_task_runs"
LOADS_TABLE = "etl_load_log"
CHECKS_TABLE = "etl_check_results"
ALERTS_TABLE = "etl_alert_log"
TASKS_INDEX = f"{TASKS_TABLE}_run"

# Airflow's words, from course_etl.states. The CHECK constraints below spell the same lists out
# as SQL text (values never go into SQL through an f-string); tests/test_sql_names.py keeps the
# two in step, so the database itself refuses any other word.
RUN_STATUSES = RUN_STATES
TASK_STATUSES = TASK_STATES
LOAD_STATUSES = ("success", "failed")
#: Who started a run: the ``load`` command by hand, a crontab line, a pipeline runner in code, a
#: notebook panel or the capstone.
STARTED_BY = ("cli", "cron", "pipeline", "notebook")


def columns_sql(*names: str) -> str:
    """``"a", "b"``: column names quoted, for a column list or a SELECT list."""
    return ", ".join(map(quote_identifier, names))


def assignments_sql(*names: str) -> str:
    """``"a" = ?, "b" = ?``: an UPDATE's SET list, the values as placeholders."""
    return ", ".join(f"{quote_identifier(name)} = ?" for name in names)


def _schema_sql() -> str:
    """The run log's DDL (:data:`SCHEMA`), every name quoted."""
    # The names used more than once; the others are quoted where they stand.
    (run_id_sql, task_run_id_sql, status_sql, started_by_sql, started_at_sql, finished_at_sql,
     seconds_sql, attempt_sql, error_sql) = map(quote_identifier, (
        "run_id", "task_run_id", "status", "started_by", "started_at", "finished_at",
        "seconds", "attempt", "error"))
    runs_sql, tasks_sql = quote_identifier(RUNS_TABLE), quote_identifier(TASKS_TABLE)
    return f"""
CREATE TABLE IF NOT EXISTS {runs_sql} (
    {run_id_sql} INTEGER PRIMARY KEY AUTOINCREMENT,
    {quote_identifier("pipeline")} TEXT NOT NULL,
    {quote_identifier("logical_date")} TEXT,
    {status_sql} TEXT NOT NULL CHECK ({status_sql} IN ('queued', 'running', 'success', 'failed')),
    {started_by_sql} TEXT NOT NULL DEFAULT 'pipeline'
        CHECK ({started_by_sql} IN ('cli', 'cron', 'pipeline', 'notebook')),
    {started_at_sql} TEXT NOT NULL,
    {finished_at_sql} TEXT,
    {seconds_sql} REAL,
    {error_sql} TEXT,
    {quote_identifier("notes")} TEXT
);
CREATE TABLE IF NOT EXISTS {tasks_sql} (
    {task_run_id_sql} INTEGER PRIMARY KEY AUTOINCREMENT,
    {run_id_sql} INTEGER REFERENCES {runs_sql}({run_id_sql}),
    {quote_identifier("task")} TEXT NOT NULL,
    {attempt_sql} INTEGER NOT NULL DEFAULT 1 CHECK ({attempt_sql} >= 1),
    {status_sql} TEXT NOT NULL CHECK ({status_sql} IN ('queued', 'running', 'success', 'failed',
                                           'up_for_retry', 'upstream_failed', 'skipped')),
    {started_at_sql} TEXT NOT NULL,
    {finished_at_sql} TEXT,
    {seconds_sql} REAL,
    {quote_identifier("rows_in")} INTEGER,
    {quote_identifier("rows_out")} INTEGER,
    {error_sql} TEXT
);
CREATE INDEX IF NOT EXISTS {quote_identifier(TASKS_INDEX)} ON {tasks_sql} ({run_id_sql});
CREATE TABLE IF NOT EXISTS {quote_identifier(LOADS_TABLE)} (
    {quote_identifier("load_id")} INTEGER PRIMARY KEY AUTOINCREMENT,
    {task_run_id_sql} INTEGER REFERENCES {tasks_sql}({task_run_id_sql}),
    {status_sql} TEXT NOT NULL CHECK ({status_sql} IN ('success', 'failed')),
    {quote_identifier("mode")} TEXT,
    {quote_identifier("source")} TEXT,
    {quote_identifier("target")} TEXT,
    {quote_identifier("rows_read")} INTEGER,
    {quote_identifier("inserted")} INTEGER,
    {quote_identifier("updated")} INTEGER,
    {quote_identifier("deleted")} INTEGER,
    {quote_identifier("unchanged")} INTEGER,
    {quote_identifier("watermark_before")} TEXT,
    {quote_identifier("watermark_after")} TEXT,
    {quote_identifier("batches")} INTEGER,
    {seconds_sql} REAL,
    {error_sql} TEXT
);
CREATE TABLE IF NOT EXISTS {quote_identifier(CHECKS_TABLE)} (
    {quote_identifier("check_result_id")} INTEGER PRIMARY KEY AUTOINCREMENT,
    {run_id_sql} INTEGER REFERENCES {runs_sql}({run_id_sql}),
    {quote_identifier("table_name")} TEXT,
    {quote_identifier("check_name")} TEXT NOT NULL,
    {status_sql} TEXT NOT NULL CHECK ({status_sql} IN ('pass', 'warn', 'fail')),
    {quote_identifier("blocking")} INTEGER NOT NULL DEFAULT 0,
    {quote_identifier("observed")} TEXT,
    {quote_identifier("expected")} TEXT,
    {quote_identifier("message")} TEXT
);
CREATE TABLE IF NOT EXISTS {quote_identifier(ALERTS_TABLE)} (
    {quote_identifier("alert_log_id")} INTEGER PRIMARY KEY AUTOINCREMENT,
    {run_id_sql} INTEGER REFERENCES {runs_sql}({run_id_sql}),
    {quote_identifier("alert_key")} TEXT NOT NULL,
    {quote_identifier("severity")} TEXT NOT NULL,
    {quote_identifier("channel")} TEXT NOT NULL,
    {status_sql} TEXT NOT NULL CHECK ({status_sql} IN ('sent', 'throttled', 'failed', 'disabled')),
    {quote_identifier("sent_at")} TEXT NOT NULL,
    {quote_identifier("subject")} TEXT,
    {error_sql} TEXT
);
"""


#: The run log's DDL: CREATE ... IF NOT EXISTS statements separated by ";" (an existing table,
#: written by an older course_etl with its names unquoted, is the same table and stays as is).
SCHEMA = _schema_sql()


@checked
def ensure_runlog_tables(conn: sqlite3.Connection) -> None:
    """Create the run-log tables if they are missing, migrating a run log written by an older
    course_etl first (idempotent, one transaction). Raises RunLogError for a table of the same
    name that is not a run log this package can migrate."""
    with atomic(conn):
        migrate_legacy_runlog(conn)
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)


# --- run logs written by the previous version --------------------------------------------------

#: Run statuses of the previous version and the state each one is now (with the reason kept).
LEGACY_RUN_STATUSES = {"blocked": RunState.FAILED, "warning": RunState.SUCCESS}
_LEGACY_REASONS = {
    "blocked": 'a blocking check failed (recorded as "blocked" by an older course_etl)',
    "warning": 'a check warned (recorded as "warning" by an older course_etl)',
}
# Parents before children: rows are copied in this order and the old tables dropped in reverse.
_ORDER = (RUNS_TABLE, TASKS_TABLE, LOADS_TABLE, CHECKS_TABLE, ALERTS_TABLE)
_NEEDED = {RUNS_TABLE: {"run_id", "pipeline", "status", "started_at"},
           TASKS_TABLE: {"task_run_id", "run_id", "task", "status", "started_at"}}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))]


def _table_sql(conn: sqlite3.Connection, table: str) -> str:
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (table,)).fetchone()
    return row[0] if row else ""


def _is_legacy(conn: sqlite3.Connection) -> bool:
    if table_exists(conn, RUNS_TABLE) and "started_by" not in _columns(conn, RUNS_TABLE):
        return True
    return table_exists(conn, TASKS_TABLE) and "'up_for_retry'" not in _table_sql(conn, TASKS_TABLE)


def _copy_expression(table: str, column: str) -> tuple[str, tuple]:
    """The SELECT expression (and its parameters) that carries ``column`` into the new table."""
    column_sql, status_sql = quote_identifier(column), quote_identifier("status")
    if table == RUNS_TABLE and column == "status":
        return (f"CASE {status_sql} WHEN ? THEN ? WHEN ? THEN ? ELSE {status_sql} END",
                tuple(v for item in LEGACY_RUN_STATUSES.items() for v in item))
    if table == RUNS_TABLE and column in ("error", "notes"):
        old = "blocked" if column == "error" else "warning"
        return (f"CASE WHEN {status_sql} = ? THEN COALESCE({column_sql} || char(10), '') || ? "
                f"ELSE {column_sql} END", (old, _LEGACY_REASONS[old]))
    if table == TASKS_TABLE and column == "status":
        # The old log recorded a try that was retried as failed: Airflow calls it up_for_retry.
        attempt_sql, run_id_sql, task_sql = map(quote_identifier, ("attempt", "run_id", "task"))
        return (f"CASE WHEN {status_sql} = ? AND {attempt_sql} < (SELECT MAX(later.{attempt_sql}) "
                f"FROM {quote_identifier('_legacy_' + TASKS_TABLE)} AS later "
                f"WHERE later.{run_id_sql} IS old.{run_id_sql} "
                f"AND later.{task_sql} = old.{task_sql}) THEN ? ELSE {status_sql} END",
                (TaskState.FAILED, TaskState.UP_FOR_RETRY))
    return column_sql, ()


@checked
def migrate_legacy_runlog(conn: sqlite3.Connection) -> list[str]:
    """Rebuild a run log written by the previous version with today's schema; returns the tables
    migrated (none for a current or missing log). Call inside a transaction (as
    :func:`ensure_runlog_tables` does): on any error nothing changes.

    Runs "blocked" become ``failed`` (the reason in ``error``), runs "warning" ``success`` (the
    warning in ``notes``), a retried try recorded "failed" becomes ``up_for_retry``, and every
    old run is ``started_by`` pipeline. Raises RunLogError when a table of a run log's name lacks
    the columns a run log has (it is someone else's table: rename it, or use another file).
    """
    if not _is_legacy(conn):
        return []
    present = [t for t in _ORDER if table_exists(conn, t)]
    for table in present:
        missing = sorted(_NEEDED.get(table, set()) - set(_columns(conn, table)))
        if missing:
            raise RunLogError(f"table {table!r} is not a course_etl run log (no column "
                              f"{', '.join(missing)}): rename it or use another warehouse",
                              table=table, missing=missing)
    conn.execute(f"DROP INDEX IF EXISTS {quote_identifier(TASKS_INDEX)}")
    for table in present:
        conn.execute(f"ALTER TABLE {quote_identifier(table)} "
                     f"RENAME TO {quote_identifier('_legacy_' + table)}")
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table in present:
        legacy = "_legacy_" + table
        columns = [c for c in _columns(conn, table) if c in _columns(conn, legacy)]
        parts = [_copy_expression(table, c) for c in columns]
        columns_sql = ", ".join(quote_identifier(c) for c in columns)
        select_sql = ", ".join(expression for expression, _ in parts)
        try:
            conn.execute(f"INSERT INTO {quote_identifier(table)} ({columns_sql}) "
                         f"SELECT {select_sql} FROM {quote_identifier(legacy)} AS old",
                         tuple(p for _, values in parts for p in values))
        except sqlite3.IntegrityError as error:
            raise RunLogError(f"cannot migrate {table!r} written by an older course_etl "
                              f"({error}): copy the warehouse, then drop the etl_* tables to "
                              "start a new run log", table=table) from error
    for table in reversed(present):
        conn.execute(f"DROP TABLE {quote_identifier('_legacy_' + table)}")
    return present
