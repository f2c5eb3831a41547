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
    or a table with a run log's name is not one this package can use or migrate."""


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

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {quote_identifier(RUNS_TABLE)} (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline TEXT NOT NULL,
    logical_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed')),
    started_by TEXT NOT NULL DEFAULT 'pipeline'
        CHECK (started_by IN ('cli', 'cron', 'pipeline', 'notebook')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    error TEXT,
    notes TEXT
);
CREATE TABLE IF NOT EXISTS {quote_identifier(TASKS_TABLE)} (
    task_run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {quote_identifier(RUNS_TABLE)}(run_id),
    task TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'success', 'failed',
                                           'up_for_retry', 'upstream_failed', 'skipped')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    rows_in INTEGER,
    rows_out INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS {quote_identifier(TASKS_INDEX)}
    ON {quote_identifier(TASKS_TABLE)} (run_id);
CREATE TABLE IF NOT EXISTS {quote_identifier(LOADS_TABLE)} (
    load_id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_run_id INTEGER REFERENCES {quote_identifier(TASKS_TABLE)}(task_run_id),
    status TEXT NOT NULL CHECK (status IN ('success', 'failed')),
    mode TEXT,
    source TEXT,
    target TEXT,
    rows_read INTEGER,
    inserted INTEGER,
    updated INTEGER,
    deleted INTEGER,
    unchanged INTEGER,
    watermark_before TEXT,
    watermark_after TEXT,
    batches INTEGER,
    seconds REAL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS {quote_identifier(CHECKS_TABLE)} (
    check_result_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {quote_identifier(RUNS_TABLE)}(run_id),
    table_name TEXT,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    blocking INTEGER NOT NULL DEFAULT 0,
    observed TEXT,
    expected TEXT,
    message TEXT
);
CREATE TABLE IF NOT EXISTS {quote_identifier(ALERTS_TABLE)} (
    alert_log_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {quote_identifier(RUNS_TABLE)}(run_id),
    alert_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'throttled', 'failed', 'disabled')),
    sent_at TEXT NOT NULL,
    subject TEXT,
    error TEXT
);
"""


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
    column_sql = quote_identifier(column)
    if table == RUNS_TABLE and column == "status":
        return ("CASE status WHEN ? THEN ? WHEN ? THEN ? ELSE status END",
                tuple(v for item in LEGACY_RUN_STATUSES.items() for v in item))
    if table == RUNS_TABLE and column in ("error", "notes"):
        old = "blocked" if column == "error" else "warning"
        return (f"CASE WHEN status = ? THEN COALESCE({column_sql} || char(10), '') || ? "
                f"ELSE {column_sql} END", (old, _LEGACY_REASONS[old]))
    if table == TASKS_TABLE and column == "status":
        # The old log recorded a try that was retried as failed: Airflow calls it up_for_retry.
        return (f"CASE WHEN status = ? AND attempt < (SELECT MAX(later.attempt) FROM "
                f"{quote_identifier('_legacy_' + TASKS_TABLE)} AS later WHERE later.run_id IS "
                "old.run_id AND later.task = old.task) THEN ? ELSE status END",
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
                              table=table)
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
