"""The run log as the scheduling runner's recorder: what ``LocalRunner(recorder=…)`` reports to.

:class:`SchedulerRecorder` implements :class:`~course_etl.scheduling.runner.RunRecorder`: the
runner tells it when a run starts (it returns the run id the tasks see as ``context.run_id``),
how each task ended, and how the run ended. Every try becomes a task run row (``attempt`` = try
number; a try that will be retried is recorded ``failed``); a task that never ran is recorded
``upstream_failed`` or ``skipped``. A task that returns a LoadResult has it logged in
``etl_load_log`` with its mode, linked to its task run, so a pipeline's loads are logged with no
wrapper around them. The run's status follows from its records (failed, blocked, warning,
success: see :meth:`RunLog.finish_run <course_etl.monitoring.runlog.RunLog.finish_run>`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, time, timedelta

from course_etl.monitoring.loadlog import record_load
from course_etl.monitoring.runlog import RunLog, naive_utc, rows_of, stamp
from course_etl.scheduling.pipeline import RunContext
from course_etl.scheduling.runner import RunRecorder, RunReport, TaskReport

__all__ = ["SchedulerRecorder"]


class SchedulerRecorder(RunRecorder):
    """Records the scheduling runner's runs, task tries and loads in the run log of ``conn``.

    The runner reports times as seconds since the run started; they are placed after the run's
    start, which is ``clock()`` when a clock is given (the runner's own ``SimulatedClock``, so
    run log and runner agree), else the run's logical date (the scheduled moment, which makes
    simulated runs reproducible).
    """

    _ATTEMPT_STATUS = {"success": "success", "failed": "failed", "up_for_retry": "failed",
                       "skipped": "skipped", "upstream_failed": "upstream_failed"}

    def __init__(self, conn: sqlite3.Connection, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.run_log = RunLog(conn, clock=clock)
        self._clock = clock
        self._open: dict[tuple[str, object], tuple[int, datetime]] = {}

    def _start_of(self, context: RunContext) -> datetime:
        if self._clock is not None:
            return naive_utc(self._clock())
        return context.logical_date.replace(tzinfo=None)

    def start_run(self, pipeline: str, context: RunContext) -> int:
        start = self._start_of(context)
        self.run_log.clock = lambda: start
        run_id = self.run_log.start_run(pipeline, _logical_text(context.logical_date))
        self._open[(pipeline, context.logical_date)] = (run_id, start)
        return run_id

    def finish_task(self, pipeline: str, context: RunContext, report: TaskReport) -> None:
        run_id, start = self._open[(pipeline, context.logical_date)]
        if not report.attempts:
            status = self._ATTEMPT_STATUS.get(report.state, "skipped")
            self.run_log.record_task_run(run_id, report.task, attempt=1, status=status,
                                         started_at=start, finished_at=start,
                                         error=report.error or None)
            return
        rows_in, rows_out = rows_of(report.result)
        for number, attempt in enumerate(report.attempts, 1):
            last = number == len(report.attempts)
            task_run_id = self.run_log.record_task_run(
                run_id, report.task, attempt=attempt.try_number,
                status=self._ATTEMPT_STATUS.get(attempt.state, "failed"),
                started_at=start + timedelta(seconds=attempt.started),
                finished_at=start + timedelta(seconds=attempt.ended),
                rows_in=rows_in if last else None, rows_out=rows_out if last else None,
                error=attempt.error or None)
        if report.state == "success" and _is_load_result(report.result):
            record_load(self.run_log.conn, report.result, task_run_id=task_run_id)

    def finish_run(self, report: RunReport) -> str:
        run_id, start = self._open.pop((report.pipeline, report.context.logical_date))
        end = start + timedelta(seconds=report.seconds)
        self.run_log.clock = lambda: end
        errors = [t.error for t in report.tasks.values() if t.state == "failed" and t.error]
        status = None if report.state == "success" else "failed"
        return self.run_log.finish_run(run_id, status, error=errors[0] if errors else None)


def _logical_text(moment: datetime) -> str:
    """The logical date as the log shows it, in the pipeline's zone: the date alone for a run
    scheduled at midnight (a business day: ``2024-10-15``), else ``2024-10-15 02:05:00``."""
    moment = moment.replace(tzinfo=None)
    return moment.date().isoformat() if moment.time() == time.min else stamp(moment)


def _is_load_result(result: object) -> bool:
    return all(hasattr(result, name) for name in ("mode", "rows_read", "as_dict"))
