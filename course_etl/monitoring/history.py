"""Reading the run log: runs, task runs, loads, check results and alerts as DataFrames.

Reading never writes: on a warehouse without a run log (its tables missing) every reader returns
an empty frame with the columns it would have, and :func:`metric_history` an empty list, so a
read-only command or a dashboard never creates or changes a database file. Counts come back as
whole numbers (pandas' nullable ``Int64``) even where some are missing.
"""

from __future__ import annotations

import functools
import sqlite3

import pandas as pd

from course_etl.db import query, quote_identifier, table_exists
from course_etl.errors import checked
from course_etl.monitoring.runlog import RunLogError
from course_etl.monitoring.tables import (
    ALERTS_TABLE,
    CHECKS_TABLE,
    LOADS_TABLE,
    RUNS_TABLE,
    SCHEMA,
    TASKS_TABLE,
)

__all__ = [
    "runs_frame",
    "task_runs_frame",
    "loads_frame",
    "check_results_frame",
    "alerts_frame",
    "metric_history",
]

_INT_COLUMNS = ("run_id", "task_run_id", "attempt", "rows_in", "rows_out", "rows_read",
                "inserted", "updated", "deleted", "unchanged", "batches", "blocking")
_METRICS = ("rows_in", "rows_out", "seconds")


@functools.cache
def _empty_log() -> sqlite3.Connection:
    """A private in-memory run log with no rows: what a query returns on a warehouse without one."""
    empty = sqlite3.connect(":memory:", check_same_thread=False)
    empty.executescript(SCHEMA)
    return empty


def _read(conn: sqlite3.Connection, sql: str, tables: tuple[str, ...]) -> pd.DataFrame:
    # The same SQL on an empty copy of the schema gives the same columns, without a write here.
    source = conn if all(table_exists(conn, t) for t in tables) else _empty_log()
    frame = query(source, sql)
    for column in _INT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame


def _all_rows(conn: sqlite3.Connection, table: str, order: str) -> pd.DataFrame:
    return _read(conn, f"SELECT * FROM {quote_identifier(table)} "
                       f"ORDER BY {quote_identifier(order)}", (table,))


def _run_columns_sql() -> str:
    """``r."pipeline", r."logical_date"``: what a task run or check result shows of its run."""
    return f"r.{quote_identifier('pipeline')}, r.{quote_identifier('logical_date')}"


@checked
def runs_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every pipeline run, oldest first."""
    return _all_rows(conn, RUNS_TABLE, "run_id")


@checked
def task_runs_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every task run with its pipeline and logical date, oldest first."""
    return _read(conn, f"SELECT t.*, {_run_columns_sql()} "
                       f"FROM {quote_identifier(TASKS_TABLE)} AS t "
                       f"LEFT JOIN {quote_identifier(RUNS_TABLE)} AS r "
                       f"USING ({quote_identifier('run_id')}) "
                       f"ORDER BY t.{quote_identifier('task_run_id')}",
                 (TASKS_TABLE, RUNS_TABLE))


@checked
def loads_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every recorded load, oldest first."""
    return _all_rows(conn, LOADS_TABLE, "load_id")


@checked
def check_results_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every check result with its run's logical date, oldest first."""
    return _read(conn, f"SELECT c.*, {_run_columns_sql()} "
                       f"FROM {quote_identifier(CHECKS_TABLE)} AS c "
                       f"LEFT JOIN {quote_identifier(RUNS_TABLE)} AS r "
                       f"USING ({quote_identifier('run_id')}) "
                       f"ORDER BY c.{quote_identifier('check_result_id')}",
                 (CHECKS_TABLE, RUNS_TABLE))


@checked
def alerts_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every alert delivery attempt, oldest first."""
    return _all_rows(conn, ALERTS_TABLE, "alert_log_id")


@checked
def metric_history(
    conn: sqlite3.Connection, pipeline: str, task: str, metric: str, *,
    before_run_id: int | None = None, limit: int = 30,
) -> list[float]:
    """``metric`` (rows_in, rows_out or seconds) of ``task`` in earlier successful runs.

    Oldest first, at most ``limit`` values, only runs before ``before_run_id`` when given: the
    history an anomaly check compares today's value against (empty without a run log).
    Raises RunLogError for an unknown metric.
    """
    if metric not in _METRICS:
        raise RunLogError(f"unknown metric {metric!r} (known: {', '.join(_METRICS)})",
                          option="metric", value=metric, known=list(_METRICS))
    if not (table_exists(conn, TASKS_TABLE) and table_exists(conn, RUNS_TABLE)):
        return []
    metric_sql, run_id_sql = quote_identifier(metric), quote_identifier("run_id")
    rows = conn.execute(
        f"SELECT t.{metric_sql} FROM {quote_identifier(TASKS_TABLE)} AS t "
        f"JOIN {quote_identifier(RUNS_TABLE)} AS r USING ({run_id_sql}) "
        f"WHERE r.{quote_identifier('pipeline')} = ? AND t.{quote_identifier('task')} = ? "
        f"AND t.{quote_identifier('status')} = 'success' "
        f"AND t.{metric_sql} IS NOT NULL AND (? IS NULL OR t.{run_id_sql} < ?) "
        f"ORDER BY t.{run_id_sql} DESC LIMIT ?",
        (pipeline, task, before_run_id, before_run_id, limit),
    ).fetchall()
    return [r[0] for r in reversed(rows)]
