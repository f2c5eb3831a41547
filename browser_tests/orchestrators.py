"""Helpers for the orchestrator browser tests: run states from the metadata databases, and the
local runner replaying what a server ran, for the warehouse comparison."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from course_etl.classroom.orchestrators.airflow_server import prepare_warehouse
from course_etl.db import connect
from course_etl.scheduling.lecture import WAREHOUSE_TABLES
from course_etl.scheduling.runner import LocalRunner, SimulatedClock, warehouse_snapshot


def read_rows(database: Path, sql: str, params=()) -> list[sqlite3.Row]:
    """Rows of a read-only query on a server's SQLite metadata DB (retried while it is busy)."""
    for _ in range(20):
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
                conn.row_factory = sqlite3.Row
                return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # locked by a writer for a moment
            time.sleep(0.5)
    raise TimeoutError(f"{database} stayed locked")


def airflow_runs(database: Path, dag_id: str) -> list[sqlite3.Row]:
    """The DAG's runs in the order they started (one active run at a time: execution order)."""
    return read_rows(database, "SELECT run_id, run_type, state, data_interval_start, "
                               "data_interval_end, run_after, conf FROM dag_run WHERE dag_id = ? "
                               "ORDER BY start_date, id", (dag_id,))


def wait_until(condition, *, timeout: float, what: str, interval: float = 2.0):
    """Poll ``condition()`` until it returns a truthy value; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def airflow_moment(text: str | None) -> datetime | None:
    """A timestamp as Airflow's SQLite metadata DB stores it (UTC, naive) -> aware datetime."""
    if text is None:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def replay_locally(pipeline, ticks: list[datetime], workdir: Path) -> dict:
    """Run ``pipeline`` with the local runner for each tick, in order, on a warehouse prepared
    like the server's; returns its snapshot."""
    path = workdir / f"{pipeline.name}_local.db"
    prepare_warehouse(path, pipeline)  # as the server's warehouse was prepared
    conn = connect(path)
    try:
        runner = LocalRunner(conn, clock=SimulatedClock())
        for tick in ticks:
            report = runner.run(pipeline, tick)
            assert report.state == "success", report.table()
        return warehouse_snapshot(conn, WAREHOUSE_TABLES)
    finally:
        conn.close()


def snapshot_of(path: Path) -> dict:
    conn = connect(path)
    try:
        return warehouse_snapshot(conn, WAREHOUSE_TABLES)
    finally:
        conn.close()
