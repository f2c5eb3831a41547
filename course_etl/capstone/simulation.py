"""Simulated days of the capstone: run, fault, backfill and re-run on a simulated clock.

:class:`Capstone` runs the pipeline day by day on a
:class:`~course_etl.clock.SimulatedClock` (no waiting, the same durations every time) that
runner, run log and alert router share, records every run with
:class:`~course_etl.monitoring.recorder.SchedulerRecorder`, routes failure alerts to the console
and a JSON-lines file, backfills missed days and checks that a re-run changes nothing.
:class:`Fault` describes the fault injected on one day (a short orders feed, or a task that
raises on its first tries).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from course_etl.capstone.constants import (
    DATA_TABLES,
    STORY_DAY,
    TASK_IDS,
    TASK_SECONDS,
    CapstoneError,
)
from course_etl.capstone.pipeline import alert_channels, build_pipeline
from course_etl.clock import Clock, SimulatedClock
from course_etl.config import Config
from course_etl.monitoring.alerts import AlertRouter, task_failure_alert
from course_etl.monitoring.recorder import SchedulerRecorder
from course_etl.scheduling import FaultInjection, LocalRunner, RunReport
from course_etl.scheduling.runner import snapshots_equal, warehouse_snapshot
from course_etl.states import TaskState


@dataclass(frozen=True)
class Fault:
    """A fault to inject on one day.

    ``kind="short_feed"``: the orders API delivers only :data:`SHORT_FEED_ROWS` rows, the blocking
    volume check fails and gold is held back. ``kind="task_error"``: ``task`` raises on its first
    ``failures`` tries (retries from the config may recover it).
    """

    day: date
    kind: str = "short_feed"
    task: str = "silver"
    failures: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("short_feed", "task_error"):
            raise CapstoneError(f"fault kind {self.kind!r} is unknown: use 'short_feed' or "
                                "'task_error'", option="kind", value=self.kind,
                                known=["short_feed", "task_error"])
        if self.task not in TASK_IDS:
            raise CapstoneError(f"fault task {self.task!r} is unknown (known: "
                                f"{', '.join(TASK_IDS)})", option="task", value=self.task,
                                known=list(TASK_IDS))


class Capstone:
    """Runs the capstone pipeline day by day on ``conn`` for ``config``.

    Time is one clock shared by runner, run log and alert router (default: simulated, no
    waiting, same durations every time; each day's run starts at its tick, or later for a day
    run after later ones); every run lands in the run log, started by ``started_by``; every
    failed task sends an alert to :func:`alert_channels` (``alerts_path`` is the JSON-lines
    file). ``suite`` and ``gold_sql`` plug a student's checks and gold SQL into every run.
    """

    def __init__(self, conn: sqlite3.Connection, config: Config, *, alerts_path: str | Path,
                 suite: dict | None = None, gold_sql: str | None = None,
                 clock: Clock | None = None, started_by: str = "notebook"):
        self.conn, self.config = conn, config
        self.student = {"suite": suite, "gold_sql": gold_sql}  # a student's pieces, or None
        self.pipeline = build_pipeline(config, **self.student)
        self.clock = clock if clock is not None else SimulatedClock(TASK_SECONDS)
        self.recorder = SchedulerRecorder(conn, started_by=started_by)
        self.router = AlertRouter(conn, alert_channels(config, alerts_path), clock=self.clock)

    def run_day(self, day: date | str, *, fault: Fault | None = None) -> RunReport:
        """Run the pipeline for ``day`` (its first scheduled time), with ``fault`` if given."""
        day = date.fromisoformat(day) if isinstance(day, str) else day
        if fault is not None and fault.day != day:
            fault = None
        pipeline, faults = self.pipeline, FaultInjection()
        if fault is not None and fault.kind == "short_feed":
            pipeline = build_pipeline(self.config, short_feed_days=[day.isoformat()],
                                      **self.student)
        elif fault is not None:
            faults = FaultInjection({fault.task: fault.failures})
        if isinstance(self.clock, SimulatedClock):  # a scheduler starts the run at its tick
            self.clock.advance_to(pipeline.run_on(day))
        runner = LocalRunner(self.conn, clock=self.clock, faults=faults, recorder=self.recorder)
        report = runner.run(pipeline, day)
        self._alert(report)
        return report

    def _alert(self, report: RunReport) -> None:
        run_id = report.context.run_id
        for task_report in report.tasks.values():
            if task_report.state == TaskState.FAILED:
                self.router.send(task_failure_alert(report.pipeline, task_report.task,
                                                    task_report.error, run_id=run_id))

    def run_days(self, start: date | str = STORY_DAY, days: int = 5, *,
                 fault: Fault | None = None, skip: Iterable[date | str] = ()) -> list[RunReport]:
        """Run ``days`` consecutive days from ``start``, leaving out ``skip`` (missed days)."""
        start = date.fromisoformat(start) if isinstance(start, str) else start
        missed = {date.fromisoformat(d) if isinstance(d, str) else d for d in skip}
        every = [start + timedelta(days=n) for n in range(days)]
        return [self.run_day(d, fault=fault) for d in every if d not in missed]

    def backfill(self, start: date | str, end: date | str | None = None) -> list[RunReport]:
        """Run each day from ``start`` to ``end`` (inclusive) once, oldest first: a missed day
        gets the data it would have had, because extract replays the source for that date."""
        start = date.fromisoformat(start) if isinstance(start, str) else start
        end = start if end is None else (date.fromisoformat(end) if isinstance(end, str)
                                         else end)
        if end < start:
            raise CapstoneError(f"backfill ends ({end}) before it starts ({start}): swap them",
                                option="end", value=end, start=start)
        return [self.run_day(start + timedelta(days=n)) for n in range((end - start).days + 1)]

    def snapshot(self) -> dict[str, pd.DataFrame | None]:
        """Every data table's rows (run log excluded), for idempotence comparisons."""
        return warehouse_snapshot(self.conn, list(DATA_TABLES))

    def rerun_is_idempotent(self, day: date | str) -> bool:
        """Run ``day`` again and say whether every data table is unchanged.

        Meant for re-triggering a day right after it ran: ``publish`` records the served state
        at run time, so re-running an older day after later days updates that day's row.
        """
        before = self.snapshot()
        self.run_day(day)
        return snapshots_equal(before, self.snapshot())
