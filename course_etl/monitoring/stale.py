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
    (run_id_sql, status_sql, pipeline_sql, started_at_sql, finished_at_sql, seconds_sql,
     error_sql) = map(quote_identifier, ("run_id", "status", "pipeline", "started_at",
                                         "finished_at", "seconds", "error"))
    has_tasks = table_exists(conn, TASKS_TABLE)
    last_task_sql = (f"(SELECT MAX(MAX(t.{started_at_sql}, "
                     f"COALESCE(t.{finished_at_sql}, t.{started_at_sql}))) "
                     f"FROM {tasks_sql} AS t WHERE t.{run_id_sql} = r.{run_id_sql})"
                     ) if has_tasks else "NULL"
    with atomic(conn):
        stale = conn.execute(
            f"SELECT r.{run_id_sql}, MAX(r.{started_at_sql}, "
            f"COALESCE({last_task_sql}, r.{started_at_sql})) "
            f"FROM {runs_sql} AS r WHERE r.{status_sql} = :running AND r.{started_at_sql} <= :now "
            f"AND (:pipeline IS NULL OR r.{pipeline_sql} = :pipeline) ORDER BY r.{run_id_sql}",
            {"now": stamp, "pipeline": pipeline, "running": RunState.RUNNING},
        ).fetchall()
        for run_id, last_seen in stale:
            note = f"{CRASHED}; last seen {last_seen}"
            conn.execute(
                f"UPDATE {runs_sql} SET {status_sql} = :failed, {finished_at_sql} = :seen, "
                f"{error_sql} = :note, {seconds_sql} = "
                f"ROUND((julianday(:seen) - julianday({started_at_sql})) * 86400, 3) "
                f"WHERE {run_id_sql} = :run_id",
                {"seen": last_seen, "note": note, "run_id": run_id, "failed": RunState.FAILED},
            )
            if has_tasks:
                conn.execute(
                    f"UPDATE {tasks_sql} SET {status_sql} = :failed, {error_sql} = :note, "
                    f"{finished_at_sql} = COALESCE({finished_at_sql}, {started_at_sql}) "
                    f"WHERE {run_id_sql} = :run_id AND {status_sql} = :running",
                    {"note": note, "run_id": run_id, "failed": TaskState.FAILED,
                     "running": TaskState.RUNNING},
                )
    return [run_id for run_id, _ in stale]
