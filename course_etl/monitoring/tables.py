"""The run log's tables: their names, their schema, and the one function that creates them.

Five tables live next to the data: ``etl_pipeline_runs``, ``etl_task_runs``, ``etl_load_log``,
``etl_check_results`` and ``etl_alert_log``. Only writers call :func:`ensure_runlog_tables`
(:mod:`~course_etl.monitoring.runlog`, :mod:`~course_etl.monitoring.loadlog`, the alert router);
readers (:mod:`~course_etl.monitoring.history`) run the same queries on an empty in-memory copy
of :data:`SCHEMA` when the tables are missing, so reading never writes.
"""

from __future__ import annotations

import sqlite3

from course_etl.db import atomic, quote_identifier

__all__ = [
    "RUNS_TABLE",
    "TASKS_TABLE",
    "LOADS_TABLE",
    "CHECKS_TABLE",
    "ALERTS_TABLE",
    "RUN_STATUSES",
    "TASK_STATUSES",
    "SCHEMA",
    "ensure_runlog_tables",
]

RUNS_TABLE = "etl_pipeline_runs"
TASKS_TABLE = "etl_task_runs"
LOADS_TABLE = "etl_load_log"
CHECKS_TABLE = "etl_check_results"
ALERTS_TABLE = "etl_alert_log"
# The names as they go into SQL, quoted once.
RUNS_TABLE_SQL = quote_identifier(RUNS_TABLE)
TASKS_TABLE_SQL = quote_identifier(TASKS_TABLE)
LOADS_TABLE_SQL = quote_identifier(LOADS_TABLE)
CHECKS_TABLE_SQL = quote_identifier(CHECKS_TABLE)
ALERTS_TABLE_SQL = quote_identifier(ALERTS_TABLE)
TASKS_INDEX_SQL = quote_identifier(f"{TASKS_TABLE}_run")

# "blocked": a blocking check held the data back; "warning": published, but a check warned.
RUN_STATUSES = ("running", "success", "warning", "blocked", "failed")
TASK_STATUSES = ("running", "success", "failed", "skipped", "upstream_failed")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {RUNS_TABLE_SQL} (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline TEXT NOT NULL,
    logical_date TEXT,
    status TEXT NOT NULL CHECK (status IN {RUN_STATUSES!r}),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    error TEXT,
    notes TEXT
);
CREATE TABLE IF NOT EXISTS {TASKS_TABLE_SQL} (
    task_run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {RUNS_TABLE_SQL}(run_id),
    task TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status TEXT NOT NULL CHECK (status IN {TASK_STATUSES!r}),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    rows_in INTEGER,
    rows_out INTEGER,
    error TEXT
);
CREATE INDEX IF NOT EXISTS {TASKS_INDEX_SQL} ON {TASKS_TABLE_SQL} (run_id);
CREATE TABLE IF NOT EXISTS {LOADS_TABLE_SQL} (
    load_id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_run_id INTEGER REFERENCES {TASKS_TABLE_SQL}(task_run_id),
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
CREATE TABLE IF NOT EXISTS {CHECKS_TABLE_SQL} (
    check_result_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {RUNS_TABLE_SQL}(run_id),
    table_name TEXT,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    blocking INTEGER NOT NULL DEFAULT 0,
    observed TEXT,
    expected TEXT,
    message TEXT
);
CREATE TABLE IF NOT EXISTS {ALERTS_TABLE_SQL} (
    alert_log_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {RUNS_TABLE_SQL}(run_id),
    alert_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'throttled', 'failed', 'disabled')),
    sent_at TEXT NOT NULL,
    subject TEXT,
    error TEXT
);
"""


def ensure_runlog_tables(conn: sqlite3.Connection) -> None:
    """Create the run-log tables if they are missing (idempotent, one transaction)."""
    with atomic(conn):
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
