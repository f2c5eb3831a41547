"""The lecture's pipeline, made real: ``full_load >> incremental_load`` on the customers tables.

The tasks call the real :func:`course_etl.loads.full_load` and
:func:`course_etl.loads.incremental_load` with the lecture's tables, schedule (``5 2 * * *``, the
cron line's 02:05 daily), start date (2024-10-01), ``catchup=False`` and ``retries=1``. An optional
third task, :func:`row_count_check`, fails when the warehouse has fewer rows than expected, which
gives the run simulator a longer chain to show ``upstream_failed`` on.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from ..data import apply_lecture_changes, create_lecture_source
from ..db import atomic, quote_identifier, resolve_table
from ..errors import CourseEtlError
from ..loads import full_load, incremental_load
from ..watermarks import reset_watermark
from .pipeline import Pipeline, RunContext, Task, blocking_check
from .runner import (
    FaultInjection,
    LocalRunner,
    RunReport,
    SimulatedClock,
    snapshots_equal,
    warehouse_snapshot,
)

__all__ = [
    "SOURCE",
    "TARGET",
    "WAREHOUSE_TABLES",
    "RowCountError",
    "row_count_check",
    "customers_pipeline",
    "prepare_lecture_warehouse",
    "DEMO_DURATIONS",
    "simulate_run",
    "BackfillDemo",
    "backfill_demo",
    "PIPELINES",
]

SOURCE = "src_customers"
TARGET = "dw_customers"
WAREHOUSE_TABLES = [SOURCE, TARGET, "etl_watermarks"]
LOAD_OPTIONS = {"source": SOURCE, "target": TARGET, "key": "id", "watermark": "updated_at"}


class RowCountError(CourseEtlError):
    """The warehouse table holds fewer rows than the check expects."""


@blocking_check
def row_count_check(conn: sqlite3.Connection, *, target: str, minimum: int = 1,
                    context: RunContext | None = None) -> int:
    """Return the row count of ``target``; raise RowCountError when it is below ``minimum``."""
    ref = resolve_table(conn, target, role="checked table")
    rows = conn.execute(f"SELECT COUNT(*) FROM {ref.sql}").fetchone()[0]
    if rows < minimum:
        day = f" for {context.logical_date:%Y-%m-%d}" if context else ""
        raise RowCountError(f"{target} has {rows} row(s){day}, expected at least {minimum}")
    return rows


def customers_pipeline(*, with_check: bool = False, retries: int = 1) -> Pipeline:
    """The lecture's DAG ``customers_etl``: full_load >> incremental_load (>> row_count_check)."""
    load = Task(full_load, name="full_load", params=LOAD_OPTIONS, retries=retries)
    incremental = Task(incremental_load, name="incremental_load", params=LOAD_OPTIONS,
                       retries=retries, retry_delay=timedelta(minutes=5))
    load >> incremental
    tasks = [load, incremental]
    if with_check:
        check = Task(row_count_check, params={"target": TARGET, "minimum": 3}, retries=0)
        incremental >> check
        tasks.append(check)
    return Pipeline(
        "customers_etl", tasks, schedule="5 2 * * *", catchup=False,
        description="The lecture's customers pipeline: full load, then incremental load.",
    )


def prepare_lecture_warehouse(conn: sqlite3.Connection) -> None:
    """A fresh start: the lecture's three-row source, no warehouse table, no watermark."""
    create_lecture_source(conn, SOURCE)
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(TARGET)}")
    reset_watermark(conn, TARGET)


# Simulated seconds per try, so the notebook's Gantt charts and reports never vary.
DEMO_DURATIONS = {"full_load": 40.0, "incremental_load": 25.0, "row_count_check": 5.0}


def simulate_run(
    conn: sqlite3.Connection, *, failing_task: str | None = None, failures: int = 0,
    retries: int = 1, day: date = date(2024, 10, 2),
) -> tuple[Pipeline, RunReport]:
    """One run of the lecture's pipeline (with its row-count check) on a fresh warehouse.

    ``failing_task`` fails on its first ``failures`` tries; every task gets ``retries``. Time is
    simulated (:data:`DEMO_DURATIONS`), so the report is the same on every call.
    """
    pipeline = customers_pipeline(with_check=True, retries=retries)
    prepare_lecture_warehouse(conn)
    faults = FaultInjection({failing_task: failures} if failing_task else {})
    runner = LocalRunner(conn, clock=SimulatedClock(DEMO_DURATIONS), faults=faults)
    return pipeline, runner.run(pipeline, day)


@dataclass
class BackfillDemo:
    """A backfill and the re-run of one of its days, with whether the warehouse stayed equal."""

    reports: list[RunReport]
    rerun: RunReport
    idempotent: bool


def backfill_demo(conn: sqlite3.Connection, start: date, end: date, *,
                  rerun_day: date | None = None) -> BackfillDemo:
    """Backfill the lecture's pipeline from ``start`` to ``end`` on a fresh warehouse whose
    source changes on 2024-10-05 and 2024-10-06 (the lecture's story), then re-run ``rerun_day``
    (default: the last day) and compare the warehouse before and after."""
    pipeline = customers_pipeline(with_check=True)
    prepare_lecture_warehouse(conn)
    runner = LocalRunner(conn, clock=SimulatedClock(DEMO_DURATIONS))
    reports = []
    for moment in pipeline.logical_dates(start, end):
        for round_, first_day in ((1, date(2024, 10, 5)), (2, date(2024, 10, 6))):
            if moment.date() == first_day:  # the day the lecture's changes reach the source
                apply_lecture_changes(conn, round_)
        reports.append(runner.run(pipeline, moment))
    if not reports:
        reports = runner.backfill(pipeline, start, end)  # raises the "widen the range" error
    before = warehouse_snapshot(conn, WAREHOUSE_TABLES)
    rerun = runner.run(pipeline, rerun_day or reports[-1].logical_date)
    after = warehouse_snapshot(conn, WAREHOUSE_TABLES)
    return BackfillDemo(reports, rerun, snapshots_equal(before, after))


# Pipelines the command line knows by name: name -> factory.
PIPELINES = {"customers_etl": customers_pipeline}
