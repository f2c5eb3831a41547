"""A local runner for the classroom: what a scheduler does for one run, in process.

:class:`LocalRunner` runs a pipeline's tasks in dependency order on one connection, passing each a
:class:`~course_etl.scheduling.pipeline.RunContext`. Task and run states are Airflow 3's words
(:mod:`course_etl.states`): a failing try ends ``up_for_retry`` while tries remain and the error
can pass by waiting (the course's one rule, :func:`course_etl.retries.fails_fast`), the task ends
``success`` or ``failed``, its downstream tasks ``upstream_failed``; a task that raises
:class:`TaskSkipped` is ``skipped``, and so is everything downstream of it (Airflow's default
``all_success`` rule); a run is ``failed`` when a task failed, with that task's error as its
reason. Time comes from the one clock of :mod:`course_etl.clock`: :class:`RealClock` really
waits, :class:`SimulatedClock` advances by each task's simulated duration and never sleeps, so
tests and notebooks get the same report every time. :class:`FaultInjection` makes a task fail on
its first N tries for demos. A recorder (anything with ``start_run``/``finish_task``/
``finish_run``, see :class:`RunRecorder`) can log runs; none is needed. The run id it returns
reaches every task as ``context.run_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol

import pandas as pd

from course_etl.clock import Clock, ClockError, RealClock, SimulatedClock
from course_etl.errors import CourseEtlError
from course_etl.retries import fails_fast, reason
from course_etl.scheduling.pipeline import Pipeline, PipelineError, RunContext, Task
from course_etl.scheduling.snapshots import snapshots_equal, warehouse_snapshot  # re-exported
from course_etl.states import TaskState, run_state

__all__ = [
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


class TaskSkipped(CourseEtlError):  # noqa: N818  (reads as the state it causes)
    """Raise inside a task to end it as ``skipped`` (e.g. "no new data today"); the message is
    the reason the run's report shows."""


class InjectedFailure(CourseEtlError, RuntimeError):
    """The failure :class:`FaultInjection` (or an exported DAG's ``fail_once``) raises instead of
    running the task (``.task``, ``.try_number``; None where the raiser does not know them).

    It stands for a failure waiting can fix, so it is ``transient``: the task's retries run it
    again, as they would after a dropped connection (:func:`course_etl.retries.fails_fast`).
    """

    transient = True

    def __init__(self, message: str, /, *, task: str | None = None,
                 try_number: int | None = None) -> None:
        super().__init__(message, task=task, try_number=try_number)


@dataclass(frozen=True)
class FaultInjection:
    """Make tasks fail on their first tries: ``FaultInjection({"incremental_load": 2})``."""

    failures: Mapping[str, int] = field(default_factory=dict)

    def should_fail(self, task_name: str, try_number: int) -> bool:
        return try_number <= self.failures.get(task_name, 0)


@dataclass(frozen=True)
class Attempt:
    """One try of a task: when it started and ended (seconds since the run started) and how
    (``success``, ``up_for_retry``, ``failed`` or ``skipped``)."""

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
    #: The last try's exception (what an on-failure callback would get), None if none.
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def tries(self) -> int:
        return len(self.attempts)

    @property
    def seconds(self) -> float:
        """From the first try's start to the last try's end, retry waits included."""
        return self.attempts[-1].ended - self.attempts[0].started if self.attempts else 0.0


@dataclass
class RunReport:
    """One pipeline run: its logical date, data interval, state and each task's report.

    ``started_at`` is the moment (aware UTC, from the runner's clock) the run started;
    ``reason`` says why a failed run failed (the first failed task and its error).
    """

    pipeline: str
    context: RunContext
    state: str
    tasks: dict[str, TaskReport]
    seconds: float
    started_at: datetime | None = None

    @property
    def logical_date(self) -> datetime:
        return self.context.logical_date

    @property
    def reason(self) -> str:
        """``"checks failed: CheckFailedError: …"`` for a failed run, ``""`` otherwise."""
        failed = next((r for r in self.tasks.values() if r.state == TaskState.FAILED), None)
        return f"{failed.task} failed: {failed.error}" if failed is not None else ""

    def table(self) -> pd.DataFrame:
        """One row per task: state, tries, seconds and the error (or why it did not run)."""
        rows = [
            {"task": r.task, "state": r.state, "tries": r.tries, "seconds": r.seconds,
             "error": r.error}
            for r in self.tasks.values()
        ]
        return pd.DataFrame(rows, columns=["task", "state", "tries", "seconds", "error"])

    def __str__(self) -> str:
        states = ", ".join(f"{r.task}={r.state}" for r in self.tasks.values())
        because = f"; {self.reason}" if self.reason else ""
        return (f"{self.pipeline} @ {self.logical_date:%Y-%m-%d %H:%M %Z}: {self.state} "
                f"({states}){because}")


class RunRecorder(Protocol):
    """What a run log implements to record runs; every method is called by the runner.

    ``start_run`` gets the moment the run started (aware UTC) and returns the run's id in the
    log (or None); the runner hands it to every task as ``context.run_id``. Task tries and the
    run's end are placed after that moment by their seconds.
    ``course_etl.monitoring.recorder.SchedulerRecorder`` is the one that writes the run log.
    """

    def start_run(self, pipeline: str, context: RunContext, started_at: datetime
                  ) -> int | None: ...

    def finish_task(self, pipeline: str, context: RunContext, report: TaskReport) -> None: ...

    def finish_run(self, report: RunReport) -> object: ...


class LocalRunner:
    """Runs pipelines in process on ``conn``.

    ``clock`` defaults to :class:`RealClock`; ``faults`` injects failures; ``recorder`` (optional)
    is told about every run and task. Task errors are caught and reported, never raised: a run
    always returns its :class:`RunReport`. Retries follow :func:`course_etl.retries.fails_fast`.
    """

    def __init__(self, conn, *, clock: Clock | None = None, faults: FaultInjection | None = None,
                 recorder: RunRecorder | None = None, retry_delay: float | None = None,
                 retry_notice: Callable[[str], object] | None = None):
        self.conn = conn
        # Seconds between tries for every task (None: each task's own retry_delay), and where a
        # waiting retry is announced ("retrying in 300 s…").
        self.retry_delay, self.retry_notice = retry_delay, retry_notice
        self.clock = clock if clock is not None else RealClock()
        self.faults = faults or FaultInjection()
        self.recorder = recorder
        if any(not isinstance(n, int) or n < 0 for n in self.faults.failures.values()):
            raise PipelineError(f"fault counts must be integers >= 0, got {self.faults.failures}",
                                value=self.faults.failures)

    def run(self, pipeline: Pipeline, logical_date: date | datetime, *,
            full_refresh: bool = False) -> RunReport:
        """Run every task of ``pipeline`` once for ``logical_date``; returns the report.

        A date stands for that day's first scheduled time (2024-10-02 → 06:30 for '30 6 * * *').
        ``full_refresh`` reaches the tasks through their :class:`RunContext`.
        Raises PipelineError for a date without a scheduled run or faults on unknown tasks.
        """
        if not isinstance(logical_date, datetime):
            logical_date = pipeline.run_on(logical_date)
        unknown = sorted(n for n in self.faults.failures if n not in pipeline.graph)
        if unknown:
            raise PipelineError(
                f"fault injection names unknown task(s) {', '.join(unknown)} "
                f"(known: {', '.join(pipeline.order)})", value=unknown, known=list(pipeline.order),
                pipeline=pipeline.name)
        context = pipeline.context_for(logical_date, full_refresh=full_refresh)
        origin = self.clock.now()
        if self.recorder is not None:
            context = replace(context,
                              run_id=self.recorder.start_run(pipeline.name, context, origin))
        reports: dict[str, TaskReport] = {}
        causes: dict[str, list[str]] = {}  # the tasks whose failure or skip reached this one
        for name in pipeline.order:
            task = pipeline[name]
            failed = sorted({c for u in task.upstream if reports[u.name].state in (
                TaskState.FAILED, TaskState.UPSTREAM_FAILED) for c in causes[u.name]})
            skipped = sorted({c for u in task.upstream
                              if reports[u.name].state == TaskState.SKIPPED
                              for c in causes[u.name]})
            if failed:  # the reason names the task that failed, however far upstream
                report = TaskReport(name, TaskState.UPSTREAM_FAILED,
                                    error=f"upstream {', '.join(failed)} failed")
            elif skipped:
                report = TaskReport(name, TaskState.SKIPPED,
                                    error=f"upstream {', '.join(skipped)} skipped")
            else:
                report = self._run_task(task, context, origin)
            causes[name] = failed or skipped or [name]
            reports[name] = report
            if self.recorder is not None:
                self.recorder.finish_task(pipeline.name, context, report)
        state = run_state(r.state for r in reports.values())
        run = RunReport(pipeline.name, context, state, reports, self._since(origin), origin)
        if self.recorder is not None:
            self.recorder.finish_run(run)
        return run

    def _since(self, origin: datetime) -> float:
        return (self.clock.now() - origin).total_seconds()

    def _run_task(self, task: Task, context: RunContext, origin: datetime) -> TaskReport:
        report = TaskReport(task.name, TaskState.FAILED)
        for try_number in range(1, task.retries + 2):
            started = self._since(origin)
            try:
                if self.faults.should_fail(task.name, try_number):
                    raise InjectedFailure(
                        f"injected failure {try_number}/{self.faults.failures[task.name]}",
                        task=task.name, try_number=try_number)
                result = task(self.conn, context=replace(context, try_number=try_number))
            except TaskSkipped as skip:
                self.clock.spend(task.name)
                report.attempts.append(Attempt(try_number, started, self._since(origin),
                                               TaskState.SKIPPED, str(skip)))
                report.state, report.error = TaskState.SKIPPED, str(skip)
                return report
            except Exception as error:  # a task's failure is data for the report, not a crash
                self.clock.spend(task.name)
                last = try_number > task.retries or fails_fast(error)
                state = TaskState.FAILED if last else TaskState.UP_FOR_RETRY
                report.error, report.exception = reason(error), error
                report.attempts.append(Attempt(try_number, started, self._since(origin),
                                               state, report.error))
                if last:
                    report.state = TaskState.FAILED
                    return report
                delay = (self.retry_delay if self.retry_delay is not None
                         else task.retry_wait(try_number).total_seconds())
                if self.retry_notice is not None:
                    self.retry_notice(f"{task.name} failed ({report.error}); try {try_number + 1}"
                                      f"/{task.retries + 1}: retrying in {delay:g} s…")
                self.clock.sleep(delay)
            else:
                self.clock.spend(task.name)
                report.attempts.append(
                    Attempt(try_number, started, self._since(origin), TaskState.SUCCESS)
                )
                report.state, report.result = TaskState.SUCCESS, result
                report.error, report.exception = "", None
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
                f"{end} on or after its start date {pipeline.start_date}: widen the range",
                value=(start, end), start=start, end=end, pipeline=pipeline.name)
        return [self.run(pipeline, moment, full_refresh=full_refresh and n == 0)
                for n, moment in enumerate(dates)]
