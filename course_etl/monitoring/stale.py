"""Runs that never finished: a killed process leaves its run-log row "running" forever.

:func:`close_stale_runs` is called where a new run of a pipeline starts. Runs of that pipeline are
never meant to overlap (cron's ``flock``, one runner per pipeline), so a run still marked
"running" then belongs to a process that died: it is closed as failed with the error
"crashed", and its end time is the last moment it was seen (its latest task start or finish).
Its tasks still marked running are closed the same way.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from course_etl.clock import utc_text
from course_etl.db import atomic, quote_identifier, table_exists
from course_etl.errors import checked
from course_etl.monitoring.tables import RUNS_TABLE, TASKS_TABLE
from course_etl.states import RunState, TaskState

__all__ = ["CRASHED", "close_stale_runs"]

CRASHED = "crashed: the process ended without finishing the run (killed or lost power)"


@checked
def close_stale_runs(conn: sqlite3.Connection, *, now: datetime, pipeline: str | None = None
                     ) -> list[int]:
    """Close the runs (of ``pipeline``, or of every pipeline) still "running" that started
    before ``now``; returns their run ids. A run log that does not exist yet has none."""
    if not table_exists(conn, RUNS_TABLE):
        return []
    stamp = utc_text(now)  # the run log keeps naive UTC times
    runs_sql, tasks_sql = quote_identifier(RUNS_TABLE), quote_identifier(TASKS_TABLE)
    has_tasks = table_exists(conn, TASKS_TABLE)
    last_task_sql = (f"(SELECT MAX(MAX(t.started_at, COALESCE(t.finished_at, t.started_at))) "
                 f"FROM {tasks_sql} AS t WHERE t.run_id = r.run_id)") if has_tasks else "NULL"
    with atomic(conn):
        stale = conn.execute(
            f"SELECT r.run_id, MAX(r.started_at, COALESCE({last_task_sql}, r.started_at)) "
            f"FROM {runs_sql} AS r WHERE r.status = :running AND r.started_at <= :now "
            "AND (:pipeline IS NULL OR r.pipeline = :pipeline) ORDER BY r.run_id",
            {"now": stamp, "pipeline": pipeline, "running": RunState.RUNNING},
        ).fetchall()
        for run_id, last_seen in stale:
            note = f"{CRASHED}; last seen {last_seen}"
            conn.execute(
                f"UPDATE {runs_sql} SET status = :failed, finished_at = :seen, error = :note, "
                "seconds = ROUND((julianday(:seen) - julianday(started_at)) * 86400, 3) "
                "WHERE run_id = :run_id",
                {"seen": last_seen, "note": note, "run_id": run_id, "failed": RunState.FAILED},
            )
            if has_tasks:
                conn.execute(
                    f"UPDATE {tasks_sql} SET status = :failed, error = :note, "
                    "finished_at = COALESCE(finished_at, started_at) "
                    "WHERE run_id = :run_id AND status = :running",
                    {"note": note, "run_id": run_id, "failed": TaskState.FAILED,
                     "running": TaskState.RUNNING},
                )
    return [run_id for run_id, _ in stale]
