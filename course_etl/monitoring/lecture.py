"""A small monitored pipeline, its faults, and a deterministic 30-day history of it.

The pipeline is the lecture's customers job made observable, a
:class:`~course_etl.scheduling.pipeline.Pipeline` of four tasks run by
:class:`~course_etl.scheduling.runner.LocalRunner` and recorded by
:class:`~course_etl.monitoring.recorder.SchedulerRecorder`: ``extract`` snapshots the source
into ``stg_customers``, ``validate`` runs the table's check suite there (the blocking gate),
``load`` publishes with :func:`~course_etl.loads.engine.incremental_load` into ``dw_customers``
(it is skipped when a blocking check failed), and ``monitor`` checks the load's duration against
its history (the tasks and the source live in :mod:`~course_etl.monitoring.demo`). Every task
run, load, check result and alert lands in the run log. Faults can be injected one at a time
(:data:`FAULTS`): rows dropped at source, duplicate keys, a stale source, NULLs in a required
column, a slow task, a failing task, a volume spike.
:func:`generate_history` replays 30 days from 2024-10-01 with a simulated clock and a fixed seed,
so the dashboards show the same realistic month on every machine.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from course_etl.db import quote_identifier
from course_etl.errors import checked
from course_etl.facts import CUSTOMERS, STORY_START
from course_etl.monitoring.alerts import (
    AlertRouter,
    ConsoleChannel,
    Delivery,
    EmailChannel,
    JsonLinesChannel,
    alerts_from_checks,
    task_failure_alert,
)
from course_etl.monitoring.checks import CheckFailedError, SuiteReport
from course_etl.monitoring.demo import (
    FAULTS,
    MONITOR_SUITE,
    PIPELINE,
    SOURCE,
    STAGING,
    TARGET,
    VALIDATION_SUITE,
    DemoDay,
    DemoInputError,
    SourceFailure,
    as_day,
    change_source,
    check_fault,
    count_rows,
    create_demo_source,
    extract_staging,
    run_start,
)
from course_etl.monitoring.history import runs_frame
from course_etl.monitoring.recorder import SchedulerRecorder
from course_etl.monitoring.tables import RUNS_TABLE
from course_etl.scheduling.runner import LocalRunner, SimulatedClock

__all__ = [
    "PIPELINE",
    "FAULTS",
    "SOURCE",
    "STAGING",
    "TARGET",
    "VALIDATION_SUITE",
    "MONITOR_SUITE",
    "PipelineOutcome",
    "SourceFailure",
    "DemoDay",
    "create_demo_source",
    "change_source",
    "run_daily_pipeline",
    "generate_history",
    "DEFAULT_HISTORY_FAULTS",
    "FaultRun",
    "inject_fault",
    "lecture_check_on",
    "fault_matrix",
]


@dataclass
class PipelineOutcome:
    """What one run did: its status, every check, every alert delivery, whether it published."""

    run_id: int
    logical_date: str
    fault: str
    status: str
    published: bool
    checks: SuiteReport = field(default_factory=SuiteReport)
    deliveries: list[Delivery] = field(default_factory=list)
    error: str | None = None

    def checks_frame(self) -> pd.DataFrame:
        return self.checks.frame()

    def deliveries_frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(d) for d in self.deliveries],
                            columns=["channel", "status", "subject", "error"])


@checked
def run_daily_pipeline(
    conn: sqlite3.Connection, logical_date: date | str, *, fault: str = "none",
    clock: SimulatedClock | None = None, router: AlertRouter | None = None, seed: int = 6,
) -> PipelineOutcome:
    """Run extract → validate (gate) → load → monitor for ``logical_date`` on a LocalRunner.

    The run starts at the lecture's scheduled time the next day on ``clock`` (moved
    forward to that time; each task advances it by its simulated duration). Source-side faults
    belong to :func:`change_source`; the tasks inject the pipeline-side ones. Alerts for failed
    checks and the failed task go to ``router`` when given. Never raises for an injected fault: the
    outcome says what happened; any other error is recorded as a failed run, then raised.
    """
    check_fault(fault)
    day = as_day(logical_date)
    clock = clock or SimulatedClock(default=0, start=run_start(day))
    clock.advance_to(run_start(day))
    demo = DemoDay(day, fault, clock, seed=seed)
    runner = LocalRunner(conn, clock=clock, recorder=SchedulerRecorder(conn))
    report = runner.run(demo.pipeline(), day)
    if demo.unexpected is not None:
        raise demo.unexpected
    run_id = report.context.run_id
    load = report.tasks["load"]
    status, = conn.execute(
        f"SELECT {quote_identifier('status')} FROM {quote_identifier(RUNS_TABLE)} "
        f"WHERE {quote_identifier('run_id')} = ?", (run_id,)).fetchone()
    outcome = PipelineOutcome(
        run_id, day.isoformat(), fault, status=status,
        published=load.state == "success", checks=SuiteReport(tuple(demo.results)),
        error=load.error if load.state == "failed" else None)
    alerts = alerts_from_checks(outcome.checks, pipeline=PIPELINE, run_id=run_id)
    # A task failed by its blocking checks was alerted check by check above.
    alerts += [task_failure_alert(PIPELINE, name, task.error, run_id=run_id)
               for name, task in report.tasks.items() if task.state == "failed"
               and not isinstance(task.exception, CheckFailedError)]
    if router is not None:
        outcome.deliveries = router.send_all(alerts)
    return outcome


DEFAULT_HISTORY_FAULTS: Mapping[int, str] = {
    # day number (1 = 2024-10-01) -> fault: one of each kind spread over the month
    9: "slow_task", 13: "volume_spike", 17: "null_names", 20: "stale_source",
    23: "failing_task", 26: "duplicate_keys", 28: "rows_dropped",
}


@checked
def generate_history(
    conn: sqlite3.Connection, *, days: int = 30, start: str = STORY_START, seed: int = 6,
    faults: Mapping[int, str] | None = None, router: AlertRouter | None = None,
) -> pd.DataFrame:
    """Replay ``days`` daily runs from ``start`` on a fresh source; returns the runs table.

    Deterministic: the same seed gives the same rows, durations and check results. ``faults``
    maps day numbers (1-based) to a fault from FAULTS (default: one of each, spread over the
    month, the first after a week of clean history so the anomaly checks can judge).
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DemoInputError(f"days must be an int >= 1, not {days!r}", option="days",
                             value=days)
    faults = DEFAULT_HISTORY_FAULTS if faults is None else faults
    for fault in faults.values():
        check_fault(fault)
    create_demo_source(conn, seed=seed)
    first = date.fromisoformat(start)
    clock = SimulatedClock(default=0, start=datetime.combine(first, datetime.min.time()))
    for number in range(1, days + 1):
        day = first + timedelta(days=number - 1)
        fault = faults.get(number, "none")
        change_source(conn, day, fault=fault, seed=seed)
        run_daily_pipeline(conn, day, fault=fault, clock=clock, router=router, seed=seed)
    return runs_frame(conn)


@dataclass
class FaultRun:
    """One fault-injection experiment: the run's outcome and the warehouse it ran in."""

    outcome: PipelineOutcome
    warehouse: sqlite3.Connection
    console: str
    published_before: int
    published_after: int

    @property
    def gate_held(self) -> bool:
        """True when a blocking check kept the day's data out of the published table."""
        return self.outcome.checks.blocked and self.published_after == self.published_before

    def summary(self) -> str:
        """One sentence on what happened, for a notebook or a widget."""
        outcome = self.outcome
        if self.gate_held:
            names = ", ".join(r.name for r in outcome.checks.failures(blocking_only=True))
            what = (f"validate failed on blocking check(s) {names}, load upstream_failed; "
                    f"{TARGET} unchanged")
        elif outcome.status == "failed":
            what = f"the run failed ({outcome.error}); {TARGET} kept yesterday's data"
        elif outcome.checks.status == "warn":
            what = "published, with warnings"
        else:
            what = "published, every check passed"
        sent = sorted({d.channel for d in outcome.deliveries if d.status == "sent"})
        alerts = f"alerts sent on {', '.join(sent)}" if sent else "no alert sent"
        return (f"{outcome.logical_date} with fault {outcome.fault!r}: run {outcome.status}, "
                f"{what}; {TARGET} rows {self.published_before} -> {self.published_after}; "
                f"{alerts}.")


@checked
def inject_fault(
    base: sqlite3.Connection, fault: str, *, logical_date: str = "2024-10-15",
    alerts_path: str | Path, seed: int = 6,
) -> FaultRun:
    """Copy the warehouse ``base`` (with its history), inject ``fault`` and run one day.

    ``base`` is left untouched (the run happens in an in-memory copy made with SQLite's backup
    API), so every experiment starts from the same state. Alerts go to a console channel
    (captured in ``FaultRun.console``), a JSON-lines file at ``alerts_path`` and an e-mail
    channel that is configured but off, as in the lecture's ``email_alerts: False``.
    """
    check_fault(fault)
    warehouse = _copy(base)
    warehouse.execute("PRAGMA foreign_keys = ON")
    console = io.StringIO()
    clock = SimulatedClock(default=0, start=run_start(as_day(logical_date)))
    router = AlertRouter(warehouse, [
        ConsoleChannel(console), JsonLinesChannel(alerts_path),
        EmailChannel("smtp.example.org", 25, sender="etl@example.org",
                     recipients=["data-team@example.org"], enabled=False),
    ], clock=clock)
    before = count_rows(warehouse, TARGET)
    change_source(warehouse, logical_date, fault=fault, seed=seed)
    outcome = run_daily_pipeline(warehouse, logical_date, fault=fault, clock=clock,
                                 router=router, seed=seed)
    return FaultRun(outcome, warehouse, console.getvalue(), before, count_rows(warehouse, TARGET))


def _copy(base: sqlite3.Connection) -> sqlite3.Connection:
    warehouse = sqlite3.connect(":memory:", isolation_level=None)
    base.backup(warehouse)
    return warehouse


@checked
def lecture_check_on(
    base: sqlite3.Connection, fault: str, *, logical_date: str = "2024-10-15", seed: int = 6
) -> str:
    """What the lecture's pipeline would print on the same faulty day.

    On a copy of ``base``: the same source day and the same extract (with its fault), then the
    lecture's load (rows with ``updated_at > MAX(updated_at)`` of the warehouse, written with
    INSERT OR REPLACE) and its row-count check, printed as the lecture prints it.
    """
    check_fault(fault)
    day = as_day(logical_date)
    warehouse = _copy(base)
    try:
        change_source(warehouse, day, fault=fault, seed=seed)
        extract_staging(warehouse, fault, np.random.default_rng([seed, day.toordinal(), 1]))
        if fault == "failing_task":
            return "a traceback in the job's log; no run record, no alert"
        before = count_rows(warehouse, TARGET)
        watermark_sql = quote_identifier(CUSTOMERS.watermark)
        columns_sql = ", ".join(map(quote_identifier, CUSTOMERS.names))
        last_wm = warehouse.execute(
            f"SELECT MAX({watermark_sql}) FROM {quote_identifier(TARGET)}").fetchone()[0]
        warehouse.execute(f"INSERT OR REPLACE INTO {quote_identifier(TARGET)} ({columns_sql}) "
                          f"SELECT {columns_sql} FROM {quote_identifier(STAGING)} "
                          f"WHERE {watermark_sql} > ?", (last_wm,))
        after = count_rows(warehouse, TARGET)
    finally:
        warehouse.close()
    if after < before:
        return "ALERT: Row count dropped unexpectedly!"
    return f"OK: Row count non-decreasing. {before} -> {after}"


@checked
def fault_matrix(
    base: sqlite3.Connection, *, alerts_path: str | Path, logical_date: str = "2024-10-15",
    seed: int = 6,
) -> pd.DataFrame:
    """Every fault, side by side: what the lecture's check printed and what course_etl did."""
    rows = []
    for fault in FAULTS:
        run = inject_fault(base, fault, logical_date=logical_date, alerts_path=alerts_path,
                           seed=seed)
        flagged = [f"{r.name} {r.status}" for r in run.outcome.checks.results
                   if r.status != "pass"]
        if run.outcome.error:
            flagged.append("task load failed")
        sent = sorted({d.channel for d in run.outcome.deliveries if d.status == "sent"})
        rows.append({
            "fault": fault,
            "lecture's check": lecture_check_on(base, fault, logical_date=logical_date,
                                                seed=seed),
            "run status": run.outcome.status,
            "flagged": "; ".join(flagged) or "-",
            "published": "no (held back)" if run.gate_held else
                         ("yes" if run.outcome.published else "no"),
            "alerted on": ", ".join(sent) or "-",
        })
        run.warehouse.close()
    return pd.DataFrame(rows)
