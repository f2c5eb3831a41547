"""A local runner for the classroom: what a scheduler does for one run, in process.

:class:`LocalRunner` runs a pipeline's tasks in dependency order on one connection, passing each a
:class:`~course_etl.scheduling.pipeline.RunContext`. A failing task is retried after its retry
delay (doubling with exponential backoff) and ends ``success`` or ``failed``; its downstream tasks
become ``upstream_failed``; a task that raises :class:`TaskSkipped` is ``skipped``, and so is
everything downstream of it (Airflow's default ``all_success`` rule). Time comes from a clock
object: :class:`RealClock` really waits, :class:`SimulatedClock` advances by each task's simulated
duration and never sleeps, so tests and notebooks get the same report every time. The same clock
objects give run logs their timestamps (call the clock for the current moment).
:class:`FaultInjection` makes a task fail on its first N tries for demos. A recorder (anything with
``start_run``/``finish_task``/``finish_run``, see :class:`RunRecorder`) can log runs; none is
needed. The run id it returns reaches every task as ``context.run_id``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from typing import Protocol

import pandas as pd

from course_etl.db import query, quote_identifier, table_exists
from course_etl.errors import CourseEtlError
from course_etl.scheduling.pipeline import Pipeline, PipelineError, RunContext, Task

__all__ = [
    "STATES",
    "TaskSkipped",
    "InjectedFailure",
    "FaultInjection",
    "Clock",
    "ClockError",
    "RealClock",
    "SimulatedClock",
    "Attempt",
    "TaskReport",
    "RunReport",
    "RunRecorder",
    "LocalRunner",
    "warehouse_snapshot",
    "snapshots_equal",
]

STATES = ("success", "failed", "up_for_retry", "upstream_failed", "skipped")


class TaskSkipped(Exception):  # noqa: N818  (reads as the state it causes)
    """Raise inside a task to end it as ``skipped`` (e.g. "no new data today")."""


class ClockError(CourseEtlError):
    """A simulated clock was asked to go back in time."""


class InjectedFailure(RuntimeError):
    """The failure :class:`FaultInjection` raises instead of running the task."""


@dataclass(frozen=True)
class FaultInjection:
    """Make tasks fail on their first tries: ``FaultInjection({"incremental_load": 2})``."""

    failures: Mapping[str, int] = field(default_factory=dict)

    def should_fail(self, task_name: str, try_number: int) -> bool:
        return try_number <= self.failures.get(task_name, 0)


class Clock(Protocol):
    """Where runners and run logs get time from.

    For a runner: ``now()`` in seconds, ``sleep()`` between retries, and ``spend(task_name)``
    after each try (a simulated clock advances by the task's duration). For a run log:
    calling the clock gives the current moment as a datetime. ``advance(seconds)`` lets a task
    that simulates its own work move simulated time (real time needs no help).
    """

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def spend(self, task_name: str) -> None: ...

    def advance(self, seconds: float) -> datetime: ...

    def __call__(self) -> datetime: ...


class RealClock:
    """Wall-clock time: real durations and real waits. Not for notebooks (outputs would vary)."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def spend(self, task_name: str) -> None:
        """Real work already took real time."""

    def advance(self, seconds: float) -> datetime:
        """Real work already took real time: only the current moment is returned."""
        return self()

    def __call__(self) -> datetime:
        """The current moment in UTC (time-zone aware)."""
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told: replays runs deterministically, to the second.

    ``SimulatedClock(durations, default=60, start="2024-10-01 02:05:00")``: each try of a task
    takes ``durations[task]`` seconds (``default`` for others), a retry wait advances the clock
    instead of sleeping, and a task that simulates its own work calls ``advance(seconds)``.
    ``now()`` counts seconds from 0; calling the clock gives ``start`` plus those seconds, the
    moment a run log records. Raises ClockError for a negative step (time never goes back).
    """

    def __init__(self, durations: Mapping[str, float] | None = None, *, default: float = 60.0,
                 start: datetime | str = "2024-10-01 02:05:00"):
        self.durations = dict(durations or {})
        self.default = default
        self.start = datetime.fromisoformat(start) if isinstance(start, str) else start
        self.seconds = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def spend(self, task_name: str) -> None:
        self.advance(self.durations.get(task_name, self.default))

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` forward; returns the new moment."""
        if seconds < 0:
            raise ClockError(f"a clock cannot go back: advance({seconds!r}) needs seconds >= 0")
        self.seconds += seconds
        return self()

    def advance_to(self, moment: datetime) -> datetime:
        """Move the clock forward to ``moment`` (no change if it is already later)."""
        return self.advance(max(0.0, (moment - self()).total_seconds()))

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Attempt:
    """One try of a task: when it started and ended (seconds since the run started) and how."""

    try_number: int
    started: float
    ended: float
    state: str
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class TaskReport:
    """How one task ended in one run, with every try; ``result`` is what the function returned."""

    task: str
    state: str
    attempts: list[Attempt] = field(default_factory=list)
    result: object = None
    error: str = ""

    @property
    def tries(self) -> int:
        return len(self.attempts)

    @property
    def seconds(self) -> float:
        """From the first try's start to the last try's end, retry waits included."""
        return self.attempts[-1].ended - self.attempts[0].started if self.attempts else 0.0


@dataclass
class RunReport:
    """One pipeline run: its logical date, data interval, state and each task's report."""

    pipeline: str
    context: RunContext
    state: str
    tasks: dict[str, TaskReport]
    seconds: float

    @property
    def logical_date(self) -> datetime:
        return self.context.logical_date

    def table(self) -> pd.DataFrame:
        """One row per task: state, tries, seconds and the last error."""
        rows = [
            {"task": r.task, "state": r.state, "tries": r.tries, "seconds": r.seconds,
             "error": r.error}
            for r in self.tasks.values()
        ]
        return pd.DataFrame(rows, columns=["task", "state", "tries", "seconds", "error"])

    def __str__(self) -> str:
        states = ", ".join(f"{r.task}={r.state}" for r in self.tasks.values())
        return (f"{self.pipeline} @ {self.logical_date:%Y-%m-%d %H:%M %Z}: {self.state} "
                f"({states})")


class RunRecorder(Protocol):
    """What a run log implements to record runs; every method is called by the runner.

    ``start_run`` returns the run's id in the log (or None); the runner hands it to every task
    as ``context.run_id``. ``course_etl.monitoring.recorder.SchedulerRecorder`` is the one that
    writes the run log's tables.
    """

    def start_run(self, pipeline: str, context: RunContext) -> int | None: ...

    def finish_task(self, pipeline: str, context: RunContext, report: TaskReport) -> None: ...

    def finish_run(self, report: RunReport) -> object: ...


def _short_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class LocalRunner:
    """Runs pipelines in process on ``conn``.

    ``clock`` defaults to :class:`RealClock`; ``faults`` injects failures; ``recorder`` (optional)
    is told about every run and task. Task errors are caught and reported, never raised: a run
    always returns its :class:`RunReport`.
    """

    def __init__(self, conn, *, clock: Clock | None = None, faults: FaultInjection | None = None,
                 recorder: RunRecorder | None = None):
        self.conn = conn
        self.clock = clock if clock is not None else RealClock()
        self.faults = faults or FaultInjection()
        self.recorder = recorder
        if any(not isinstance(n, int) or n < 0 for n in self.faults.failures.values()):
            raise PipelineError(f"fault counts must be integers >= 0, got {self.faults.failures}")

    def run(self, pipeline: Pipeline, logical_date: date | datetime, *,
            full_refresh: bool = False) -> RunReport:
        """Run every task of ``pipeline`` once for ``logical_date``; returns the report.

        A date stands for that day's first scheduled time (2024-10-02 → 02:05 for '5 2 * * *').
        ``full_refresh`` reaches the tasks through their :class:`RunContext`.
        Raises PipelineError for a date without a scheduled run or faults on unknown tasks.
        """
        if not isinstance(logical_date, datetime):
            ticks = pipeline.cron.runs_between(
                *(datetime.combine(logical_date, t) for t in (time_of_day.min, time_of_day.max)),
            )
            if not ticks:
                raise PipelineError(
                    f"{pipeline.name!r} ({pipeline.schedule}) has no scheduled run on "
                    f"{logical_date}: pass a datetime or another day"
                )
            logical_date = ticks[0]
        unknown = sorted(n for n in self.faults.failures if n not in pipeline.graph)
        if unknown:
            raise PipelineError(
                f"fault injection names unknown task(s) {', '.join(unknown)} "
                f"(known: {', '.join(pipeline.order)})"
            )
        context = pipeline.context_for(logical_date, full_refresh=full_refresh)
        if self.recorder is not None:
            context = replace(context, run_id=self.recorder.start_run(pipeline.name, context))
        origin = self.clock.now()
        reports: dict[str, TaskReport] = {}
        for name in pipeline.order:
            task = pipeline[name]
            upstream_states = {reports[u.name].state for u in task.upstream}
            if upstream_states & {"failed", "upstream_failed"}:
                report = TaskReport(name, "upstream_failed")
            elif "skipped" in upstream_states:
                report = TaskReport(name, "skipped")
            else:
                report = self._run_task(task, context, origin)
            reports[name] = report
            if self.recorder is not None:
                self.recorder.finish_task(pipeline.name, context, report)
        ok = all(r.state in ("success", "skipped") for r in reports.values())
        run = RunReport(pipeline.name, context, "success" if ok else "failed", reports,
                        self.clock.now() - origin)
        if self.recorder is not None:
            self.recorder.finish_run(run)
        return run

    def _run_task(self, task: Task, context: RunContext, origin: float) -> TaskReport:
        report = TaskReport(task.name, "failed")
        for try_number in range(1, task.retries + 2):
            started = self.clock.now() - origin
            try:
                if self.faults.should_fail(task.name, try_number):
                    raise InjectedFailure(
                        f"injected failure {try_number}/{self.faults.failures[task.name]}"
                    )
                result = task(self.conn, context=replace(context, try_number=try_number))
            except TaskSkipped as skip:
                self.clock.spend(task.name)
                report.attempts.append(Attempt(try_number, started, self.clock.now() - origin,
                                               "skipped", str(skip)))
                report.state, report.error = "skipped", str(skip)
                return report
            except Exception as error:  # a task's failure is data for the report, not a crash
                self.clock.spend(task.name)
                last = try_number > task.retries
                state = "failed" if last else "up_for_retry"
                report.error = _short_error(error)
                report.attempts.append(Attempt(try_number, started, self.clock.now() - origin,
                                               state, report.error))
                if last:
                    report.state = "failed"
                    return report
                self.clock.sleep(task.retry_wait(try_number).total_seconds())
            else:
                self.clock.spend(task.name)
                report.attempts.append(
                    Attempt(try_number, started, self.clock.now() - origin, "success")
                )
                report.state, report.result, report.error = "success", result, ""
                return report
        return report  # pragma: no cover  (the loop always returns)

    def backfill(self, pipeline: Pipeline, start: date | datetime,
                 end: date | datetime, *, full_refresh: bool = False) -> list[RunReport]:
        """Run ``pipeline`` once per scheduled time from ``start`` to ``end``, oldest first.

        ``full_refresh`` applies to the first run only: the later runs continue incrementally
        from the watermark it stores.
        """
        dates = pipeline.logical_dates(start, end)
        if not dates:
            raise PipelineError(
                f"no scheduled run of {pipeline.name!r} ({pipeline.schedule}) between {start} and "
                f"{end} on or after its start date {pipeline.start_date}: widen the range"
            )
        return [self.run(pipeline, moment, full_refresh=full_refresh and n == 0)
                for n, moment in enumerate(dates)]


def warehouse_snapshot(conn, tables: list[str]) -> dict[str, pd.DataFrame]:
    """Each table's rows sorted by every column: equal snapshots mean equal warehouse states.

    A missing table maps to None. Used to show a re-run is idempotent and that Airflow leaves
    the same warehouse as the local runner.
    """
    snapshot = {}
    for table in tables:
        if not table_exists(conn, table):
            snapshot[table] = None
            continue
        frame = query(conn, f"SELECT * FROM {quote_identifier(table)}")
        snapshot[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return snapshot


def _same(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.equals(b)


def snapshots_equal(a: Mapping[str, pd.DataFrame | None], b: Mapping[str, pd.DataFrame | None]
                    ) -> bool:
    """True when both snapshots have the same tables with the same rows."""
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)

