"""The run log: every pipeline run, task run, load, check result and alert, kept in the warehouse.

Airflow keeps task instances in its metadata database; course_etl keeps the same facts in four
small tables next to the data (``etl_pipeline_runs``, ``etl_task_runs``, ``etl_load_log``,
``etl_check_results``, plus ``etl_alert_log`` for deliveries). :class:`RunRecorder` writes them:
``recorder.task(run_id, "load")`` is a context manager that records the start in its own committed
transaction, runs the task's body in a second transaction that also records the success, and,
when the body raises, lets that transaction roll back and records the failure in a third one, so
a failing task never takes its own run record with it. :func:`record_load` stores a
:class:`~course_etl.loads.engine.LoadResult` (or the error of a failed load). Times come from an
injectable clock, so notebooks and tests can replay a day deterministically with
:class:`SimulatedClock`.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pandas as pd

from course_etl.db import atomic, query, quote_identifier, table_exists
from course_etl.errors import CourseEtlError
from course_etl.monitoring.stale import close_stale_runs

__all__ = [
    "RUNS_TABLE",
    "TASKS_TABLE",
    "LOADS_TABLE",
    "CHECKS_TABLE",
    "ALERTS_TABLE",
    "RUN_STATUSES",
    "TASK_STATUSES",
    "RunLogError",
    "SimulatedClock",
    "TaskRun",
    "RunRecorder",
    "SchedulerRecorder",
    "ensure_runlog_tables",
    "runlog_enabled",
    "record_load",
    "logged_load",
    "with_load_log",
    "record_check_results",
    "record_alert_delivery",
    "add_run_note",
    "runs_frame",
    "task_runs_frame",
    "loads_frame",
    "check_results_frame",
    "alerts_frame",
    "metric_history",
    "format_error",
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

# "blocked": a blocking check held the data back; "warning": published, but a check warned.
RUN_STATUSES = ("running", "success", "warning", "blocked", "failed")
TASK_STATUSES = ("running", "success", "failed", "skipped", "upstream_failed")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
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
CREATE TABLE IF NOT EXISTS {TASKS_TABLE} (
    task_run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {RUNS_TABLE}(run_id),
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
CREATE INDEX IF NOT EXISTS {TASKS_TABLE}_run ON {TASKS_TABLE} (run_id);
CREATE TABLE IF NOT EXISTS {LOADS_TABLE} (
    load_id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_run_id INTEGER REFERENCES {TASKS_TABLE}(task_run_id),
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
CREATE TABLE IF NOT EXISTS {CHECKS_TABLE} (
    check_result_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {RUNS_TABLE}(run_id),
    table_name TEXT,
    check_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
    blocking INTEGER NOT NULL DEFAULT 0,
    observed TEXT,
    expected TEXT,
    message TEXT
);
CREATE TABLE IF NOT EXISTS {ALERTS_TABLE} (
    alert_log_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES {RUNS_TABLE}(run_id),
    alert_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sent', 'throttled', 'failed', 'disabled')),
    sent_at TEXT NOT NULL,
    subject TEXT,
    error TEXT
);
"""

logger = logging.getLogger("course_etl.monitoring.runlog")

# The task run being executed, so a load recorded from inside the task links itself to it.
_current_task_run: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "course_etl_current_task_run", default=None
)
# Failed loads inside a task's transaction: recorded by the task after that transaction's
# rollback, which would otherwise take their records with it.
_pending_load_failures: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "course_etl_pending_load_failures", default=None
)


class RunLogError(CourseEtlError):
    """The run log was used in a way that could lose a record (e.g. inside an open transaction)."""


class SimulatedClock:
    """A clock that only moves when told to: replays a pipeline day deterministically.

    Call it to read the time; ``advance(seconds)`` moves it forward (a slow task advances it more).
    """

    def __init__(self, start: datetime | str = "2024-10-01 02:05:00") -> None:
        self.now = datetime.fromisoformat(start) if isinstance(start, str) else start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds!r})")
        self.now += timedelta(seconds=seconds)
        return self.now


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def format_error(error: BaseException) -> str:
    """The error text stored in the log: the exception's type and message, one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def ensure_runlog_tables(conn: sqlite3.Connection) -> None:
    """Create the run-log tables if they are missing (idempotent, one transaction)."""
    with atomic(conn):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)


def runlog_enabled(conn: sqlite3.Connection) -> bool:
    """True when this warehouse has a run log (someone called :func:`ensure_runlog_tables`)."""
    return table_exists(conn, LOADS_TABLE)


def _task_statuses(conn: sqlite3.Connection, run_id: int) -> list[str]:
    rows = conn.execute(
        f"SELECT status FROM {TASKS_TABLE_SQL} WHERE run_id = ? ORDER BY task_run_id", (run_id,)
    )
    return [r[0] for r in rows]


@dataclass
class TaskRun:
    """The handle a running task gets: its ids, and where it reports the rows it read and wrote."""

    task_run_id: int
    run_id: int | None
    task: str
    attempt: int
    rows_in: int | None = None
    rows_out: int | None = None
    status: str = "running"
    error: str | None = None
    seconds: float | None = field(default=None, repr=False)

    def set_rows(self, *, rows_in: int | None = None, rows_out: int | None = None) -> None:
        """Report row counts; they are written with the task's end record."""
        for name, value in (("rows_in", rows_in), ("rows_out", rows_out)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise RunLogError(f"{name} of task {self.task!r} must be an int >= 0, "
                                  f"not {value!r}")
        if rows_in is not None:
            self.rows_in = rows_in
        if rows_out is not None:
            self.rows_out = rows_out

    def use_load(self, result) -> None:
        """Take rows in/out from a LoadResult: rows read, and rows written."""
        self.set_rows(rows_in=result.rows_read, rows_out=result.rows_written)


class RunRecorder:
    """Writes pipeline and task runs to the run log of ``conn``.

    The methods a scheduler's runner calls are ``start_run``, ``start_task``, ``finish_task`` and
    ``finish_run``; ``run(...)`` and ``task(...)`` wrap them as context managers, and
    ``recorded(task)`` as a decorator. ``clock`` returns the current time (a
    :class:`SimulatedClock` makes a replay deterministic); by default, UTC wall-clock time.
    """

    def __init__(
        self, conn: sqlite3.Connection, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.conn = conn
        self.clock = clock or _utc_now
        ensure_runlog_tables(conn)

    # --- the runner interface -------------------------------------------------------------

    def start_run(self, pipeline: str, logical_date: object = None) -> int:
        """Record that ``pipeline`` started for ``logical_date``; returns the new run id."""
        if not isinstance(pipeline, str) or not pipeline:
            raise RunLogError(f"pipeline name must be a non-empty string, not {pipeline!r}")
        date_text = None if logical_date is None else str(logical_date)
        now = self.clock()
        with atomic(self.conn):
            close_stale_runs(self.conn, now=now, pipeline=pipeline)
            cursor = self.conn.execute(
                f"INSERT INTO {RUNS_TABLE_SQL} (pipeline, logical_date, status, started_at) "
                "VALUES (?, ?, 'running', ?)",
                (pipeline, date_text, _stamp(now)),
            )
        return cursor.lastrowid

    def start_task(self, run_id: int | None, task: str, *, attempt: int = 1) -> int:
        """Record that ``task`` (attempt ``attempt``) started; returns the task run id."""
        if not isinstance(task, str) or not task:
            raise RunLogError(f"task name must be a non-empty string, not {task!r}")
        if not isinstance(attempt, int) or attempt < 1:
            raise RunLogError(f"attempt of task {task!r} must be an int >= 1, not {attempt!r}")
        with atomic(self.conn):
            cursor = self.conn.execute(
                f"INSERT INTO {TASKS_TABLE_SQL} (run_id, task, attempt, status, started_at) "
                "VALUES (?, ?, ?, 'running', ?)",
                (run_id, task, attempt, _stamp(self.clock())),
            )
        return cursor.lastrowid

    def finish_task(
        self, task_run_id: int, status: str, *, rows_in: int | None = None,
        rows_out: int | None = None, error: str | BaseException | None = None,
    ) -> None:
        """Record how a task run ended: ``success``, ``failed`` or ``skipped``."""
        if status not in TASK_STATUSES or status == "running":
            raise RunLogError(f"unknown task status {status!r} "
                              "(use success, failed, skipped, upstream_failed)")
        if isinstance(error, BaseException):
            error = format_error(error)
        now = self.clock()
        with atomic(self.conn):
            started = self.conn.execute(
                f"SELECT started_at FROM {TASKS_TABLE_SQL} WHERE task_run_id = ?", (task_run_id,)
            ).fetchone()
            if started is None:
                raise RunLogError(f"unknown task run id {task_run_id!r}: start it first")
            seconds = (now - datetime.fromisoformat(started[0])).total_seconds()
            self.conn.execute(
                f"UPDATE {TASKS_TABLE_SQL} SET status = ?, finished_at = ?, seconds = ?, "
                "rows_in = ?, rows_out = ?, error = ? WHERE task_run_id = ?",
                (status, _stamp(now), seconds, rows_in, rows_out, error, task_run_id),
            )

    def record_task_run(
        self, run_id: int | None, task: str, *, attempt: int, status: str,
        started_at: datetime, finished_at: datetime, rows_in: int | None = None,
        rows_out: int | None = None, error: str | None = None,
    ) -> int:
        """Record a task run that already happened (times given), in one transaction.

        For runners that report attempts after the fact, like the scheduling runner.
        """
        if status not in TASK_STATUSES or status == "running":
            raise RunLogError(f"unknown task status {status!r} "
                              "(use success, failed, skipped, upstream_failed)")
        if finished_at < started_at:
            raise RunLogError(f"task {task!r} finished before it started "
                              f"({_stamp(finished_at)} < {_stamp(started_at)})")
        with atomic(self.conn):
            cursor = self.conn.execute(
                f"INSERT INTO {TASKS_TABLE_SQL} (run_id, task, attempt, status, started_at, "
                "finished_at, seconds, rows_in, rows_out, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, task, attempt, status, _stamp(started_at), _stamp(finished_at),
                 (finished_at - started_at).total_seconds(), rows_in, rows_out, error),
            )
        return cursor.lastrowid

    def finish_run(
        self, run_id: int, status: str | None = None, *, error: str | BaseException | None = None
    ) -> str:
        """Record how a run ended and return its status.

        Without ``status`` it follows from the task runs: ``failed`` if any task's last attempt
        failed, else ``success``.
        """
        if isinstance(error, BaseException):
            error = format_error(error)
        if status is None:
            status = "failed" if error or self._last_attempt_failed(run_id) else "success"
        if status not in RUN_STATUSES or status == "running":
            raise RunLogError(
                f"unknown run status {status!r} (use success, warning, blocked, failed)")
        now = self.clock()
        with atomic(self.conn):
            started = self.conn.execute(
                f"SELECT started_at FROM {RUNS_TABLE_SQL} WHERE run_id = ?", (run_id,)
            ).fetchone()
            if started is None:
                raise RunLogError(f"unknown run id {run_id!r}: start it with start_run first")
            seconds = (now - datetime.fromisoformat(started[0])).total_seconds()
            self.conn.execute(
                f"UPDATE {RUNS_TABLE_SQL} SET status = ?, finished_at = ?, seconds = ?, "
                "error = COALESCE(?, error) WHERE run_id = ?",
                (status, _stamp(now), seconds, error, run_id),
            )
        return status

    def _last_attempt_failed(self, run_id: int) -> bool:
        row = self.conn.execute(
            f"SELECT COUNT(*) FROM {TASKS_TABLE_SQL} AS t WHERE run_id = ? AND status = 'failed' "
            f"AND attempt = (SELECT MAX(attempt) FROM {TASKS_TABLE_SQL} WHERE run_id = t.run_id "
            "AND task = t.task)",
            (run_id,),
        ).fetchone()
        return row[0] > 0

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
        recorded in a fresh one, then the exception propagates.
        Raises RunLogError when called inside an open transaction: the failure record would
        roll back with the caller's work.
        """
        if self.conn.in_transaction:
            raise RunLogError(
                f"task {task!r} started inside an open transaction: its failure record would "
                "roll back with it. Start tasks outside atomic() blocks.")
        task_run_id = self.start_task(run_id, task, attempt=attempt)
        handle = TaskRun(task_run_id, run_id, task, attempt)
        token = _current_task_run.set(task_run_id)
        pending: list[dict] = []
        pending_token = _pending_load_failures.set(pending)
        try:
            with atomic(self.conn):
                yield handle
                for failed_load in pending:  # a load failed, but the task carried on
                    record_load(self.conn, **failed_load)
                self.finish_task(task_run_id, "success", rows_in=handle.rows_in,
                                 rows_out=handle.rows_out)
        except BaseException as error:
            # atomic() has rolled the task's own writes back; this record is a new transaction.
            handle.status, handle.error = "failed", format_error(error)
            self.finish_task(task_run_id, "failed", rows_in=handle.rows_in,
                             rows_out=handle.rows_out, error=error)
            for failed_load in pending:
                record_load(self.conn, **failed_load)
            raise
        else:
            handle.status = "success"
        finally:
            _pending_load_failures.reset(pending_token)
            _current_task_run.reset(token)
            handle.seconds = self.conn.execute(
                f"SELECT seconds FROM {TASKS_TABLE_SQL} WHERE task_run_id = ?", (task_run_id,)
            ).fetchone()[0]

    @contextlib.contextmanager
    def run(self, pipeline: str, logical_date: object = None) -> Iterator[int]:
        """Record a whole pipeline run around the block; yields the run id.

        The run ends ``failed`` with the error when the block raises, else with the status the
        task runs imply (call ``finish_run`` yourself inside the block to set another one).
        """
        run_id = self.start_run(pipeline, logical_date)
        try:
            yield run_id
        except BaseException as error:
            self.finish_run(run_id, "failed", error=error)
            raise
        if self.conn.execute(f"SELECT status FROM {RUNS_TABLE_SQL} WHERE run_id = ?",
                             (run_id,)).fetchone()[0] == "running":
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
                    if hasattr(result, "rows_written") and hasattr(result, "rows_read"):
                        handle.use_load(result)
                    elif isinstance(result, int) and not isinstance(result, bool):
                        handle.set_rows(rows_out=result)
                    return result

            return wrapper

        return decorate


def _rows_of(result: object) -> tuple[int | None, int | None]:
    if hasattr(result, "rows_read") and hasattr(result, "rows_written"):
        return result.rows_read, result.rows_written
    if isinstance(result, int) and not isinstance(result, bool):
        return None, result
    return None, None


class SchedulerRecorder:
    """Plugs the run log into the scheduling runner (``LocalRunner(..., recorder=…)``).

    Implements the runner's recorder interface, ``start_run(pipeline, context)``,
    ``finish_task(pipeline, context, report)`` and ``finish_run(report)``, by duck typing (no
    import of the scheduling package). Every try becomes a task run row (``attempt`` = try number,
    a try that will be retried is recorded ``failed``); a task that never ran is recorded
    ``upstream_failed`` or ``skipped``. The runner reports times as seconds since the run started;
    they are placed after the run's start, which is ``clock()`` when a clock is given, else the
    run's logical date (the scheduled moment, which makes simulated runs reproducible).
    """

    _ATTEMPT_STATUS = {"success": "success", "failed": "failed", "up_for_retry": "failed",
                       "skipped": "skipped", "upstream_failed": "upstream_failed"}

    def __init__(self, conn: sqlite3.Connection, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.recorder = RunRecorder(conn, clock=clock)
        self._clock = clock
        self._open: dict[tuple[str, object], tuple[int, datetime]] = {}

    def _start_of(self, context) -> datetime:
        if self._clock is not None:
            return self._clock()
        return context.logical_date.replace(tzinfo=None)

    def start_run(self, pipeline: str, context) -> int:
        start = self._start_of(context)
        self.recorder.clock = lambda: start
        run_id = self.recorder.start_run(pipeline, _stamp(context.logical_date.replace(
            tzinfo=None)))
        self._open[(pipeline, context.logical_date)] = (run_id, start)
        return run_id

    def finish_task(self, pipeline: str, context, report) -> None:
        run_id, start = self._open[(pipeline, context.logical_date)]
        rows_in, rows_out = _rows_of(report.result)
        if not report.attempts:
            status = self._ATTEMPT_STATUS.get(report.state, "skipped")
            self.recorder.record_task_run(run_id, report.task, attempt=1, status=status,
                                          started_at=start, finished_at=start,
                                          error=report.error or None)
            return
        for number, attempt in enumerate(report.attempts, 1):
            last = number == len(report.attempts)
            self.recorder.record_task_run(
                run_id, report.task, attempt=attempt.try_number,
                status=self._ATTEMPT_STATUS.get(attempt.state, "failed"),
                started_at=start + timedelta(seconds=attempt.started),
                finished_at=start + timedelta(seconds=attempt.ended),
                rows_in=rows_in if last else None, rows_out=rows_out if last else None,
                error=attempt.error or None)

    def finish_run(self, report) -> str:
        run_id, start = self._open.pop((report.pipeline, report.context.logical_date))
        end = start + timedelta(seconds=report.seconds)
        self.recorder.clock = lambda: end
        errors = [t.error for t in report.tasks.values() if t.error]
        status = "success" if report.state == "success" else "failed"
        return self.recorder.finish_run(run_id, status, error=errors[0] if errors else None)


def add_run_note(conn: sqlite3.Connection, run_id: int | None, text: str) -> None:
    """Append one line of text to a run's notes (no-op without a run id)."""
    if run_id is None:
        return
    with atomic(conn):
        conn.execute(
            f"UPDATE {RUNS_TABLE_SQL} SET notes = CASE WHEN notes IS NULL THEN ? "
            "ELSE notes || char(10) || ? END WHERE run_id = ?",
            (text, text, run_id),
        )


def record_load(
    conn: sqlite3.Connection, result_or_error, *, mode: str | None = None,
    source: str | None = None, target: str | None = None, seconds: float | None = None,
    only_if_enabled: bool = False,
) -> int | None:
    """Record a LoadResult, or the exception of a failed load, in ``etl_load_log``.

    Called inside the load's transaction with a result, the record commits with the data;
    called after the rollback with an error, it is a transaction of its own. For an error, pass
    ``mode``, ``source`` and ``target`` (an exception does not know them). Inside a
    :meth:`RunRecorder.task` block the record links to that task run. With
    ``only_if_enabled=True`` nothing is written unless the warehouse has a run log (the way the
    load engine calls it, so warehouses without monitoring stay untouched).
    Returns the new load id, or None when nothing was recorded.
    """
    if only_if_enabled and not runlog_enabled(conn):
        return None
    ensure_runlog_tables(conn)
    if isinstance(result_or_error, BaseException):
        values = {"status": "failed", "mode": mode, "source": source, "target": target,
                  "seconds": seconds, "error": format_error(result_or_error)}
    elif hasattr(result_or_error, "as_dict"):
        values = {key: value for key, value in result_or_error.as_dict().items()
                  if key in _LOAD_FIELDS} | {"status": "success", "error": None}
    else:
        raise RunLogError(
            f"record_load needs a LoadResult or an exception, not {type(result_or_error).__name__}"
        )
    values["task_run_id"] = _current_task_run.get()
    columns = ", ".join(values)
    try:
        with atomic(conn):
            cursor = conn.execute(
                f"INSERT INTO {LOADS_TABLE_SQL} ({columns}) "
                f"VALUES ({', '.join('?' * len(values))})",
                tuple(values.values()),
            )
    except sqlite3.Error as failure:
        if values["status"] == "success":
            raise  # part of the load's transaction: the load must not commit without its record
        # Recording a failure must never hide the failure itself.
        logger.warning("could not record the failed load of %r: %s", target, failure)
        return None
    return cursor.lastrowid


def logged_load(mode: str) -> Callable:
    """Decorator for the load engine: every call of ``load(conn, source, target, …)`` is logged.

    The load and its success record run in one transaction (the load's own ``atomic()`` becomes
    a savepoint inside it); on an exception that transaction rolls back, the error is recorded
    in a transaction of its own, and the exception propagates. Inside a
    :meth:`RunRecorder.task` the failure is handed to the task, which records it after its own
    rollback (inside any other open transaction it is recorded there, and shares its fate).
    Warehouses without a run log (no :func:`ensure_runlog_tables`) are not touched.
    """

    def decorate(load: Callable) -> Callable:
        @functools.wraps(load)
        def wrapper(conn: sqlite3.Connection, source: str, target: str, *args, **kwargs):
            if not runlog_enabled(conn):
                # Nothing to record: run the load as it is. Wrapping it anyway would turn its
                # transaction into a savepoint, whose journal doubles the I/O of a full load.
                return load(conn, source, target, *args, **kwargs)
            started = time.perf_counter()
            try:
                with atomic(conn):
                    result = load(conn, source, target, *args, **kwargs)
                    record_load(conn, result, only_if_enabled=True)
            except Exception as error:
                failure = {"result_or_error": error, "mode": mode, "source": source,
                           "target": target, "seconds": time.perf_counter() - started,
                           "only_if_enabled": True}
                pending = _pending_load_failures.get()
                if conn.in_transaction and pending is not None:
                    pending.append(failure)  # the enclosing task records it after its rollback
                    raise
                try:
                    record_load(conn, **failure)
                except Exception as problem:  # noqa: BLE001 - never hide the load's own error
                    logger.warning("could not record the failed load of %r: %s", target, problem)
                raise
            return result

        wrapper.logs_loads = True
        return wrapper

    return decorate


def with_load_log(load: Callable, mode: str = "incremental") -> Callable:
    """``load`` made to record every LoadResult: itself if the load engine already does.

    Lets notebooks and the demo pipeline log each load exactly once, whether or not
    ``course_etl.loads.engine`` applies :func:`logged_load` to its functions.
    """
    return load if getattr(load, "logs_loads", False) else logged_load(mode)(load)


_LOAD_FIELDS = ("mode", "source", "target", "rows_read", "inserted", "updated", "deleted",
                "unchanged", "watermark_before", "watermark_after", "batches", "seconds")


def record_check_results(conn: sqlite3.Connection, run_id: int | None, results) -> int:
    """Store check results (:mod:`course_etl.monitoring.checks`) for a run; returns how many."""
    ensure_runlog_tables(conn)
    rows = [
        (run_id, r.table, r.name, r.status, int(r.blocking), _text(r.observed),
         _text(r.expected), r.message)
        for r in results
    ]
    with atomic(conn):
        conn.executemany(
            f"INSERT INTO {CHECKS_TABLE_SQL} (run_id, table_name, check_name, status, blocking, "
            "observed, expected, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def record_alert_delivery(
    conn: sqlite3.Connection, *, run_id: int | None, alert_key: str, severity: str,
    channel: str, status: str, sent_at: datetime, subject: str, error: str | None = None,
) -> None:
    """Store one alert delivery attempt (sent, throttled, failed or disabled)."""
    ensure_runlog_tables(conn)
    with atomic(conn):
        conn.execute(
            f"INSERT INTO {ALERTS_TABLE_SQL} (run_id, alert_key, severity, channel, status, "
            "sent_at, subject, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, alert_key, severity, channel, status, _stamp(sent_at), subject, error),
        )


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_INT_COLUMNS = ("run_id", "task_run_id", "attempt", "rows_in", "rows_out", "rows_read",
                "inserted", "updated", "deleted", "unchanged", "batches", "blocking")


def _with_int_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts stay whole numbers when some are missing (pandas would make them floats)."""
    for column in _INT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame


def _frame(conn: sqlite3.Connection, table: str, order: str) -> pd.DataFrame:
    ensure_runlog_tables(conn)
    return _with_int_columns(query(
        conn, f"SELECT * FROM {quote_identifier(table)} ORDER BY {quote_identifier(order)}"))


def runs_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every pipeline run, oldest first."""
    return _frame(conn, RUNS_TABLE, "run_id")


def task_runs_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every task run with its pipeline and logical date, oldest first."""
    ensure_runlog_tables(conn)
    return _with_int_columns(query(
        conn,
        f"SELECT t.*, r.pipeline, r.logical_date FROM {TASKS_TABLE_SQL} AS t "
        f"LEFT JOIN {RUNS_TABLE_SQL} AS r USING (run_id) ORDER BY t.task_run_id",
    ))


def loads_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every recorded load, oldest first."""
    return _frame(conn, LOADS_TABLE, "load_id")


def check_results_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every check result with its run's logical date, oldest first."""
    ensure_runlog_tables(conn)
    return _with_int_columns(query(
        conn,
        f"SELECT c.*, r.pipeline, r.logical_date FROM {CHECKS_TABLE_SQL} AS c "
        f"LEFT JOIN {RUNS_TABLE_SQL} AS r USING (run_id) ORDER BY c.check_result_id",
    ))


def alerts_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every alert delivery attempt, oldest first."""
    return _frame(conn, ALERTS_TABLE, "alert_log_id")


_METRICS = ("rows_in", "rows_out", "seconds")


def metric_history(
    conn: sqlite3.Connection, pipeline: str, task: str, metric: str, *,
    before_run_id: int | None = None, limit: int = 30,
) -> list[float]:
    """``metric`` (rows_in, rows_out or seconds) of ``task`` in earlier successful runs.

    Oldest first, at most ``limit`` values, only runs before ``before_run_id`` when given: the
    history an anomaly check compares today's value against.
    """
    if metric not in _METRICS:
        raise RunLogError(f"unknown metric {metric!r} (known: {', '.join(_METRICS)})")
    ensure_runlog_tables(conn)
    rows = conn.execute(
        f"SELECT t.{metric} FROM {TASKS_TABLE_SQL} AS t JOIN {RUNS_TABLE_SQL} AS r USING (run_id) "
        f"WHERE r.pipeline = ? AND t.task = ? AND t.status = 'success' "
        f"AND t.{metric} IS NOT NULL AND (? IS NULL OR t.run_id < ?) "
        "ORDER BY t.run_id DESC LIMIT ?",
        (pipeline, task, before_run_id, before_run_id, limit),
    ).fetchall()
    return [r[0] for r in reversed(rows)]
