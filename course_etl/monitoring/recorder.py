"""The run log as the scheduling runner's recorder: what ``LocalRunner(recorder=…)`` reports to.

:class:`SchedulerRecorder` implements :class:`~course_etl.scheduling.runner.RunRecorder`: the
runner tells it when a run starts (it returns the run id the tasks see as ``context.run_id``),
how each task ended, and how the run ended. Every try becomes a task run row with the runner's
state for it (``attempt`` = try number: ``up_for_retry``, then ``success`` or ``failed``); a task
that never ran is recorded ``upstream_failed`` or ``skipped`` with the reason. A task that
returns a LoadResult has it logged in ``etl_load_log`` with its mode, linked to its task run, so
a pipeline's loads are logged with no wrapper around them. The run's state is the runner's
(Airflow's rule, :func:`course_etl.states.run_state`), its error the runner's reason.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta

from course_etl.clock import as_utc
from course_etl.monitoring.loadlog import record_load
from course_etl.monitoring.runlog import RunLog, rows_of, stamp
from course_etl.scheduling.pipeline import RunContext
from course_etl.scheduling.runner import RunRecorder, RunReport, TaskReport
from course_etl.states import RunState, TaskState

__all__ = ["SchedulerRecorder"]


class SchedulerRecorder(RunRecorder):
    """Records the scheduling runner's runs, task tries and loads in the run log of ``conn``.

    Times are the runner's: a run starts at the moment its clock gave (``start_run``), and each
    try and the run's end are placed after it by their seconds, so run log and runner agree to
    the second. ``started_by`` says who started the runs (``pipeline`` for a runner in code,
    ``cli``/``cron`` for the command line, ``notebook`` for a panel or the capstone).
    """

    def __init__(self, conn: sqlite3.Connection, *, started_by: str = "pipeline") -> None:
        self.run_log = RunLog(conn)
        self.started_by = started_by
        self._open: dict[tuple[str, object], tuple[int, datetime]] = {}

    def start_run(self, pipeline: str, context: RunContext, started_at: datetime) -> int:
        start = as_utc(started_at)
        run_id = self.run_log.start_run(pipeline, _logical_text(context.logical_date),
                                        started_by=self.started_by, at=start)
        self._open[(pipeline, context.logical_date)] = (run_id, start)
        return run_id

    def finish_task(self, pipeline: str, context: RunContext, report: TaskReport) -> None:
        run_id, start = self._open[(pipeline, context.logical_date)]
        if not report.attempts:  # never ran: upstream_failed or skipped, with the reason
            self.run_log.record_task_run(run_id, report.task, attempt=1, status=report.state,
                                         started_at=start, finished_at=start,
                                         error=report.error or None)
            return
        rows_in, rows_out = rows_of(report.result)
        for number, attempt in enumerate(report.attempts, 1):
            last = number == len(report.attempts)
            task_run_id = self.run_log.record_task_run(
                run_id, report.task, attempt=attempt.try_number, status=attempt.state,
                started_at=start + timedelta(seconds=attempt.started),
                finished_at=start + timedelta(seconds=attempt.ended),
                rows_in=rows_in if last else None, rows_out=rows_out if last else None,
                error=attempt.error or None)
        if report.state == TaskState.SUCCESS and _is_load_result(report.result):
            record_load(self.run_log.conn, report.result, task_run_id=task_run_id)

    def finish_run(self, report: RunReport) -> str:
        run_id, start = self._open.pop((report.pipeline, report.context.logical_date))
        failed = report.state == RunState.FAILED
        return self.run_log.finish_run(run_id, report.state,
                                       error=report.reason if failed else None,
                                       at=start + timedelta(seconds=report.seconds))


def _logical_text(moment: datetime) -> str:
    """The logical date as the log shows it, in the pipeline's zone: the date alone for a run
    scheduled at midnight (a business day: ``2024-10-15``), else ``2024-10-15 06:30:00``."""
    moment = moment.replace(tzinfo=None)
    return moment.date().isoformat() if moment.time() == time.min else stamp(moment)


def _is_load_result(result: object) -> bool:
    return all(hasattr(result, name) for name in ("mode", "rows_read", "as_dict"))
