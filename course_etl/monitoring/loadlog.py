"""The load log: record what a load did (or why it failed) in ``etl_load_log``.

The load engine never logs by itself: a load behaves the same whether or not the warehouse has a
run log. Every way a load starts records it through one of these:

- :func:`recorded_load` runs one load as a run of the run log (a run, its task, the load record
  or the error), saying who started it: the command line's ``load`` (``cli``, or ``cron`` from a
  crontab line) and the notebook panels (``notebook``) use it;
- a pipeline run by ``LocalRunner`` with a
  :class:`~course_etl.monitoring.recorder.SchedulerRecorder` (``pipeline run``, the notebooks'
  runners, the capstone) logs every task that returns a LoadResult, linked to that task run;
- :func:`record_load` stores one LoadResult, or the exception of a failed load;
- :func:`logged` wraps a load function so each call records itself, linked to a
  :class:`~course_etl.monitoring.runlog.TaskRun` when one is given (inside ``RunLog.task``, a
  failed load's record is written after the task's rollback, so it is not lost with the work).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable

from course_etl.clock import Clock, RealClock, TimeSource
from course_etl.db import atomic, quote_identifier
from course_etl.errors import checked
from course_etl.monitoring.runlog import RunLog, RunLogError, TaskRun, format_error
from course_etl.monitoring.tables import LOADS_TABLE, ensure_runlog_tables
from course_etl.states import TaskState

__all__ = ["record_load", "logged", "recorded_load"]

logger = logging.getLogger("course_etl.monitoring.loadlog")

_LOAD_FIELDS = ("mode", "source", "target", "rows_read", "inserted", "updated", "deleted",
                "unchanged", "watermark_before", "watermark_after", "batches", "seconds")


@checked
def record_load(
    conn: sqlite3.Connection, result_or_error, *, task_run_id: int | None = None,
    mode: str | None = None, source: str | None = None, target: str | None = None,
    seconds: float | None = None,
) -> int:
    """Record a LoadResult, or the exception of a failed load, in ``etl_load_log``.

    A result knows its mode, source and target; for an error, pass them (an exception does not
    know them). ``task_run_id`` links the record to the task run it belongs to. Creates the
    run-log tables when missing (recording is the caller's explicit choice). Returns the new
    load id. Raises RunLogError for anything but a LoadResult or an exception.
    """
    if isinstance(result_or_error, BaseException):
        values = {"status": TaskState.FAILED, "mode": mode, "source": source, "target": target,
                  "seconds": seconds, "error": format_error(result_or_error)}
    elif hasattr(result_or_error, "as_dict") and hasattr(result_or_error, "mode"):
        values = {key: value for key, value in result_or_error.as_dict().items()
                  if key in _LOAD_FIELDS} | {"status": TaskState.SUCCESS, "error": None}
    else:
        raise RunLogError(
            f"record_load needs a LoadResult or an exception, not {type(result_or_error).__name__}",
            option="result_or_error", value=result_or_error)
    values["task_run_id"] = task_run_id
    ensure_runlog_tables(conn)
    columns_sql = ", ".join(map(quote_identifier, values))
    placeholders_sql = ", ".join("?" * len(values))
    with atomic(conn):
        cursor = conn.execute(
            f"INSERT INTO {quote_identifier(LOADS_TABLE)} ({columns_sql}) "
            f"VALUES ({placeholders_sql})",
            tuple(values.values()),
        )
    return cursor.lastrowid


@checked
def logged(load: Callable, task_run: TaskRun | None = None, *,
           mode: str | None = None, clock: TimeSource | None = None) -> Callable:
    """``load`` made to record each call: its LoadResult, or its error, then re-raise.

    ``task_run`` (the handle ``RunLog.task`` yields) links every record to that task run; a
    failure inside it is recorded once the task's transaction has rolled back. ``mode`` names
    the load in failure records (default: the function's name without ``_load``, so
    ``incremental_load`` is ``incremental``). A failure to record a failure is logged, never
    raised over the load's own error. ``clock`` times a failed load (default: real time).
    """
    mode = mode or load.__name__.removesuffix("_load")
    task_run_id = None if task_run is None else task_run.task_run_id
    clock = clock or RealClock()

    @functools.wraps(load)
    def wrapper(conn: sqlite3.Connection, source: str, target: str, *args, **kwargs):
        started = clock.now()
        try:
            result = load(conn, source, target, *args, **kwargs)
        except Exception as error:
            failure = functools.partial(
                _record_failure, conn, error, task_run_id=task_run_id, mode=mode, source=source,
                target=target, seconds=(clock.now() - started).total_seconds())
            if task_run is not None and conn.in_transaction:
                task_run.defer(failure)  # written after the task's rollback, not lost with it
            else:
                failure()
            raise
        record_load(conn, result, task_run_id=task_run_id)
        return result

    return wrapper


@checked
def recorded_load(conn: sqlite3.Connection, load: Callable[[], object], *, mode: str,
                  source: str, target: str, started_by: str, clock: Clock | None = None):
    """Run ``load()`` (a load on ``conn``) as one run of the run log; returns its LoadResult.

    The run is pipeline ``<mode>_load`` with one task of that name, started by ``started_by``
    (``cli``, ``cron``, ``pipeline`` or ``notebook``): the load's record is committed with the
    load's own work; a failed load rolls its work back and leaves the run ``failed`` with the
    error (and a failed load record), then the error propagates. Raises RunLogError inside an
    open transaction (the failure record would roll back with it).
    """
    clock = clock or RealClock()
    run_log = RunLog(conn, clock=clock)
    name = f"{mode}_load"
    with run_log.run(name, started_by=started_by) as run_id, \
            run_log.task(run_id, name) as task_run:
        result = logged(lambda c, s, t: load(), task_run, mode=mode, clock=clock)(
            conn, source, target)
        task_run.use_load(result)
        return result


def _record_failure(conn: sqlite3.Connection, error: BaseException, **fields) -> None:
    try:
        record_load(conn, error, **fields)
    except Exception as problem:  # noqa: BLE001 - never hide the load's own error
        logger.warning("could not record the failed load of %r: %s", fields["target"], problem)
