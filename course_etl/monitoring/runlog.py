"""The run log's writer: pipeline runs, task runs, check results and alerts, in the warehouse.

Airflow keeps task instances in its metadata database; course_etl keeps the same facts in tables
next to the data (:mod:`~course_etl.monitoring.tables`). :class:`RunLog` writes them:
``run_log.task(run_id, "load")`` records the start in its own committed transaction, runs the
task's body in a second one that also records the success, and when the body raises, lets that
roll back and records the failure in a third, so a failing task never takes its own record with
it. Statuses are Airflow's words (:mod:`course_etl.states`) and every run says who started it
(``cli``, ``cron``, ``pipeline`` or ``notebook``). The load engine never looks at these tables:
every way a load starts records it (:mod:`~course_etl.monitoring.loadlog`, the scheduling
runner's :mod:`~course_etl.monitoring.recorder`), and the readers in
:mod:`~course_etl.monitoring.history` never create them. Times come from the one clock of
:mod:`course_etl.clock` (a ``SimulatedClock`` replays a day deterministically) and are stored as
naive UTC text.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from course_etl.clock import Clock, RealClock, as_utc
from course_etl.clock import utc_text as stamp
from course_etl.db import atomic, quote_identifier
from course_etl.monitoring.run_records import (  # re-exported: callers know them here
    add_run_note,
    record_alert_delivery,
    record_check_results,
)
from course_etl.monitoring.stale import close_stale_runs
from course_etl.monitoring.tables import (  # the names are re-exported: callers know them here
    ALERTS_TABLE,
    CHECKS_TABLE,
    LOADS_TABLE,
    RUN_STATUSES,
    RUNS_TABLE,
    STARTED_BY,
    TASK_STATUSES,
    TASKS_TABLE,
    RunLogError,
    assignments_sql,
    columns_sql,
    ensure_runlog_tables,
)
from course_etl.retries import reason as format_error
from course_etl.states import RunState, TaskState

__all__ = [
    "RUNS_TABLE", "TASKS_TABLE", "LOADS_TABLE", "CHECKS_TABLE", "ALERTS_TABLE", "RUN_STATUSES",
    "TASK_STATUSES", "STARTED_BY", "RunLogError", "ensure_runlog_tables",  # from .tables
    "TaskRun", "RunLog", "record_check_results", "record_alert_delivery", "add_run_note",
    "format_error", "stamp", "Rows", "rows_of",
]

#: The columns that say how a task run ended, in the order of their values.
TASK_OUTCOME = ("status", "finished_at", "seconds", "rows_in", "rows_out", "error")


@dataclass
class TaskRun:
    """The handle a running task gets: its ids, and where it reports the rows it read and wrote.

    ``defer(record)`` keeps a callable that writes a record which must survive the task's
    rollback (a failed load's record): the run log calls it after the task's transaction ends.
    """

    task_run_id: int
    run_id: int | None
    task: str
    attempt: int
    rows_in: int | None = None
    rows_out: int | None = None
    status: str = TaskState.RUNNING
    error: str | None = None
    seconds: float | None = field(default=None, repr=False)
    deferred: list[Callable[[], object]] = field(default_factory=list, repr=False)

    def set_rows(self, *, rows_in: int | None = None, rows_out: int | None = None) -> None:
        """Report row counts; they are written with the task's end record."""
        for name, value in (("rows_in", rows_in), ("rows_out", rows_out)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise RunLogError(f"{name} of task {self.task!r} must be an int >= 0, "
                                  f"not {value!r}", option=name, value=value, task=self.task)
        if rows_in is not None:
            self.rows_in = rows_in
        if rows_out is not None:
            self.rows_out = rows_out

    def use_load(self, result) -> None:
        """Take rows in/out from a LoadResult: rows read, and rows written."""
        self.set_rows(rows_in=result.rows_read, rows_out=result.rows_written)

    def defer(self, record: Callable[[], object]) -> None:
        """Write ``record()`` once the task's own transaction has ended (committed or not)."""
        self.deferred.append(record)


@dataclass(frozen=True)
class Rows:
    """What a task read and wrote, as a task returns it; the run log stores them as
    ``rows_in``/``rows_out`` (None: not counted)."""

    rows_read: int | None
    rows_written: int | None


def rows_of(result: object) -> tuple[int | None, int | None]:
    """(rows in, rows out) of a task's return value: a LoadResult-like object, or an int out."""
    if hasattr(result, "rows_read") and hasattr(result, "rows_written"):
        return result.rows_read, result.rows_written
    if isinstance(result, int) and not isinstance(result, bool):
        return None, result
    return None, None


class RunLog:
    """Writes pipeline and task runs to the run log of ``conn`` (creating its tables).

    ``start_run``, ``start_task``, ``finish_task``, ``record_task_run`` and ``finish_run`` write
    one record each; ``run(...)`` and ``task(...)`` wrap them as context managers, and
    ``recorded(task)`` as a decorator. ``clock.now()`` gives the current moment (a
    ``SimulatedClock`` makes a replay deterministic); by default, UTC wall-clock time. Methods
    that take ``at`` record that moment instead (a runner that reports after the fact).
    """

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock | None = None) -> None:
        self.conn = conn
        self.clock = clock or RealClock()
        self._tables_ready = False  # created by the first write, not by the constructor

    def _tables(self) -> None:
        if not self._tables_ready:
            ensure_runlog_tables(self.conn)
            self._tables_ready = True

    def _now(self, at: datetime | None = None) -> datetime:
        return as_utc(self.clock.now() if at is None else at)

    def start_run(self, pipeline: str, logical_date: object = None, *,
                  started_by: str = "pipeline", at: datetime | None = None) -> int:
        """Record that ``pipeline`` started for ``logical_date``; returns the new run id.

        ``started_by`` is one of :data:`STARTED_BY` (cli, cron, pipeline, notebook).
        """
        if not isinstance(pipeline, str) or not pipeline:
            raise RunLogError(f"pipeline name must be a non-empty string, not {pipeline!r}",
                              option="pipeline", value=pipeline)
        if started_by not in STARTED_BY:
            raise RunLogError(f"started_by {started_by!r} is unknown (use "
                              f"{', '.join(STARTED_BY)})", option="started_by", value=started_by,
                              known=STARTED_BY)
        date_text = None if logical_date is None else str(logical_date)
        now = self._now(at)
        self._tables()
        with atomic(self.conn):
            close_stale_runs(self.conn, now=now, pipeline=pipeline)
            cursor = self.conn.execute(
                f"INSERT INTO {quote_identifier(RUNS_TABLE)} ("
                f"{columns_sql('pipeline', 'logical_date', 'status', 'started_by', 'started_at')}"
                ") VALUES (?, ?, ?, ?, ?)",
                (pipeline, date_text, RunState.RUNNING, started_by, stamp(now)),
            )
        return cursor.lastrowid

    def start_task(self, run_id: int | None, task: str, *, attempt: int = 1) -> int:
        """Record that ``task`` (attempt ``attempt``) started; returns the task run id."""
        if not isinstance(task, str) or not task:
            raise RunLogError(f"task name must be a non-empty string, not {task!r}",
                              option="task", value=task)
        if not isinstance(attempt, int) or attempt < 1:
            raise RunLogError(f"attempt of task {task!r} must be an int >= 1, not {attempt!r}",
                              option="attempt", value=attempt, task=task)
        self._tables()
        with atomic(self.conn):
            cursor = self.conn.execute(
                f"INSERT INTO {quote_identifier(TASKS_TABLE)} "
                f"({columns_sql('run_id', 'task', 'attempt', 'status', 'started_at')}) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, task, attempt, TaskState.RUNNING, stamp(self._now())),
            )
        return cursor.lastrowid

    def finish_task(
        self, task_run_id: int, status: str, *, rows_in: int | None = None,
        rows_out: int | None = None, error: str | BaseException | None = None,
    ) -> None:
        """Record how a task run ended: ``success``, ``failed``, ``up_for_retry`` or ``skipped``."""
        _check_task_status(status)
        if isinstance(error, BaseException):
            error = format_error(error)
        now = self._now()
        self._tables()
        with atomic(self.conn):
            started = self.conn.execute(
                f"SELECT {quote_identifier('started_at')} FROM {quote_identifier(TASKS_TABLE)} "
                f"WHERE {quote_identifier('task_run_id')} = ?",
                (task_run_id,),
            ).fetchone()
            if started is None:
                raise RunLogError(f"unknown task run id {task_run_id!r}: start it first",
                                  option="task_run_id", value=task_run_id)
            seconds = (now - as_utc(started[0])).total_seconds()
            self.conn.execute(
                f"UPDATE {quote_identifier(TASKS_TABLE)} SET {assignments_sql(*TASK_OUTCOME)} "
                f"WHERE {quote_identifier('task_run_id')} = ?",
                (status, stamp(now), seconds, rows_in, rows_out, error, task_run_id),
            )

    def record_task_run(
        self, run_id: int | None, task: str, *, attempt: int, status: str,
        started_at: datetime, finished_at: datetime, rows_in: int | None = None,
        rows_out: int | None = None, error: str | None = None,
    ) -> int:
        """Record a task run that already happened (times given), in one transaction.

        For runners that report attempts after the fact, like the scheduling runner.
        """
        _check_task_status(status)
        if as_utc(finished_at) < as_utc(started_at):
            raise RunLogError(f"task {task!r} finished before it started "
                              f"({stamp(finished_at)} < {stamp(started_at)})",
                              option="finished_at", value=finished_at, task=task,
                              started_at=started_at)
        self._tables()
        with atomic(self.conn):
            cursor = self.conn.execute(
                f"INSERT INTO {quote_identifier(TASKS_TABLE)} "
                f"({columns_sql('run_id', 'task', 'attempt', 'started_at', *TASK_OUTCOME)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, task, attempt, stamp(started_at), status, stamp(finished_at),
                 (as_utc(finished_at) - as_utc(started_at)).total_seconds(), rows_in, rows_out,
                 error),
            )
        return cursor.lastrowid

    def finish_run(
        self, run_id: int, status: str | None = None, *, error: str | BaseException | None = None,
        at: datetime | None = None,
    ) -> str:
        """Record how a run ended and return its state.

        Without ``status`` it follows from the run's records as Airflow decides: ``failed`` if
        ``error`` is given or any task's last attempt ended ``failed`` or ``upstream_failed``,
        else ``success`` (a check that only warned is a check result, not a state).
        """
        if isinstance(error, BaseException):
            error = format_error(error)
        if status is None:
            status = RunState.FAILED if error else self._state_from_records(run_id)
        if status not in (RunState.SUCCESS, RunState.FAILED):
            raise RunLogError(f"unknown run status {status!r}: a run ends success or failed",
                              option="status", value=status,
                              known=[RunState.SUCCESS, RunState.FAILED])
        now = self._now(at)
        self._tables()
        run_id_sql, error_sql = quote_identifier("run_id"), quote_identifier("error")
        with atomic(self.conn):
            started = self.conn.execute(
                f"SELECT {quote_identifier('started_at')} FROM {quote_identifier(RUNS_TABLE)} "
                f"WHERE {run_id_sql} = ?", (run_id,)
            ).fetchone()
            if started is None:
                raise RunLogError(f"unknown run id {run_id!r}: start it with start_run first",
                                  option="run_id", value=run_id)
            seconds = (now - as_utc(started[0])).total_seconds()
            self.conn.execute(
                f"UPDATE {quote_identifier(RUNS_TABLE)} "
                f"SET {assignments_sql('status', 'finished_at', 'seconds')}, "
                f"{error_sql} = COALESCE(?, {error_sql}) WHERE {run_id_sql} = ?",
                (status, stamp(now), seconds, error, run_id),
            )
        return status

    def _state_from_records(self, run_id: int) -> RunState:
        tasks_sql = quote_identifier(TASKS_TABLE)
        run_id_sql, task_sql, attempt_sql = map(quote_identifier, ("run_id", "task", "attempt"))
        failed_tasks, = self.conn.execute(
            f"SELECT COUNT(*) FROM {tasks_sql} AS t "
            f"WHERE {run_id_sql} = ? AND {quote_identifier('status')} IN (?, ?) "
            f"AND {attempt_sql} = (SELECT MAX({attempt_sql}) FROM {tasks_sql} "
            f"WHERE {run_id_sql} = t.{run_id_sql} AND {task_sql} = t.{task_sql})",
            (run_id, TaskState.FAILED, TaskState.UPSTREAM_FAILED),
        ).fetchone()
        return RunState.FAILED if failed_tasks else RunState.SUCCESS

    def note(self, run_id: int, text: str) -> None:
        """Append a line to the run's notes (e.g. an alert channel that failed)."""
        add_run_note(self.conn, run_id, text)

    # --- context managers and decorator ---------------------------------------------------

    @contextlib.contextmanager
    def task(
        self, run_id: int | None, task: str, *, attempt: int = 1
    ) -> Iterator[TaskRun]:
        """Run the block as task ``task`` of run ``run_id`` and record how it went.

        Three transactions: the start is committed first (a crash leaves a 'running' row behind,
        which is itself a signal); the block and its success record commit together; when the
        block raises, its transaction rolls back and the failure (with the error text) is
        recorded in a fresh one, then the exception propagates. Records the block deferred
        (:meth:`TaskRun.defer`) are written after its transaction, whatever its fate.
        Raises RunLogError when called inside an open transaction: the failure record would
        roll back with the caller's work.
        """
        if self.conn.in_transaction:
            raise RunLogError(
                f"task {task!r} started inside an open transaction: its failure record would "
                "roll back with it. Start tasks outside atomic() blocks.", task=task,
                run_id=run_id)
        task_run_id = self.start_task(run_id, task, attempt=attempt)
        handle = TaskRun(task_run_id, run_id, task, attempt)
        try:
            with atomic(self.conn):
                yield handle
                self.finish_task(task_run_id, TaskState.SUCCESS, rows_in=handle.rows_in,
                                 rows_out=handle.rows_out)
        except BaseException as error:
            # atomic() has rolled the task's own writes back; this record is a new transaction.
            handle.status, handle.error = TaskState.FAILED, format_error(error)
            self.finish_task(task_run_id, TaskState.FAILED, rows_in=handle.rows_in,
                             rows_out=handle.rows_out, error=error)
            raise
        else:
            handle.status = TaskState.SUCCESS
        finally:
            for record in handle.deferred:
                record()
            handle.seconds = self.conn.execute(
                f"SELECT {quote_identifier('seconds')} FROM {quote_identifier(TASKS_TABLE)} "
                f"WHERE {quote_identifier('task_run_id')} = ?",
                (task_run_id,),
            ).fetchone()[0]

    @contextlib.contextmanager
    def run(self, pipeline: str, logical_date: object = None, *,
            started_by: str = "pipeline") -> Iterator[int]:
        """Record a whole pipeline run around the block; yields the run id.

        The run ends ``failed`` with the error when the block raises, else with the state its
        records imply (call ``finish_run`` yourself inside the block to set another one).
        """
        run_id = self.start_run(pipeline, logical_date, started_by=started_by)
        try:
            yield run_id
        except BaseException as error:
            self.finish_run(run_id, RunState.FAILED, error=error)
            raise
        status, = self.conn.execute(
            f"SELECT {quote_identifier('status')} FROM {quote_identifier(RUNS_TABLE)} "
            f"WHERE {quote_identifier('run_id')} = ?", (run_id,)).fetchone()
        if status == RunState.RUNNING:
            self.finish_run(run_id)

    def recorded(self, task: str, *, attempt: int = 1) -> Callable:
        """Decorator: ``fn(run_id, *args)`` runs as a recorded task of run ``run_id``.

        A LoadResult return value fills rows in/out; an int return value is taken as rows out.
        """

        def decorate(function: Callable) -> Callable:
            @functools.wraps(function)
            def wrapper(run_id: int | None, *args, **kwargs):
                with self.task(run_id, task, attempt=attempt) as handle:
                    result = function(*args, **kwargs)
                    rows_in, rows_out = rows_of(result)
                    handle.set_rows(rows_in=rows_in, rows_out=rows_out)
                    return result

            return wrapper

        return decorate


def _check_task_status(status: str) -> None:
    ended = [s for s in TASK_STATUSES if s not in (TaskState.QUEUED, TaskState.RUNNING)]
    if status not in ended:
        raise RunLogError(f"unknown task status {status!r}: a task try ends "
                          f"{', '.join(ended)}", option="status", value=status, known=ended)
