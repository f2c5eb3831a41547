"""The lecture's pipeline, made real: ``full_load >> incremental_load`` on the customers tables.

The lecture's DAG full-loads every day, which is what notebook 01 teaches against. Here the two
tasks keep the lecture's names, schedule (the cron line's, once a day), start date
(2024-10-01), ``catchup=False`` and ``retries=1`` (all from :data:`course_etl.facts.SCHEDULE`),
but carry the daily semantics themselves, so every runner (the local one, cron, Airflow, Dagster)
does the same:

* ``full_load`` (:func:`full_load_if_new`) copies the source only when the target has no
  watermark yet (the first run) or the run asks for a full refresh; otherwise it does nothing.
* ``incremental_load`` (:func:`incremental_load_for_interval`) reads from the stored watermark up
  to the end of the run's data interval, exclusive. The watermark, not the interval's start, is
  the lower bound, so a missed or failed day is never lost: the next run reads from where the
  last good one stopped. The upper bound keeps a backfilled day from loading later days' rows, and
  the watermark never passes the interval's end, so re-running a day changes nothing.

An optional third task, :func:`row_count_check`, fails when the warehouse has fewer rows than
expected, which gives the run simulator a longer chain to show ``upstream_failed`` on.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib.resources import files

import pandas as pd
from croniter import croniter

from course_etl.db import atomic, quote_identifier, resolve_table
from course_etl.errors import CourseEtlError, checked
from course_etl.facts import CHANGE_ROUNDS, CUSTOMERS, LECTURE_ROWS, SCHEDULE, TABLES, round_day
from course_etl.facts.lecture_code import render
from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.loads.watermarks import moment_in_format, read_watermark, reset_watermark
from course_etl.sample_data import apply_lecture_changes, create_lecture_source
from course_etl.scheduling.cron import resolve_timezone, runs_between, validate_cron
from course_etl.scheduling.pipeline import Pipeline, RunContext, Task, blocking_check
from course_etl.scheduling.runner import (
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
    "full_load_if_new",
    "incremental_load_for_interval",
    "customers_pipeline",
    "prepare_lecture_warehouse",
    "DEMO_DURATIONS",
    "simulate_run",
    "BackfillDemo",
    "backfill_demo",
    "backfill_table",
    "PIPELINES",
    "LECTURE_AIRFLOW_DAG",
    "airflow_facts",
    "DST_NIGHTS",
    "dst_nights",
]

logger = logging.getLogger(__name__)
SOURCE = TABLES.source
TARGET = TABLES.warehouse
WAREHOUSE_TABLES = [SOURCE, TARGET, TABLES.watermarks]
_START = SCHEDULE.start_date
# The lecture's "Airflow DAG pseudo-example", character for character (notebook 02 prints it),
# with the schedule's facts filled in (course_etl/facts/templates/airflow_dag.py.j2).
LECTURE_AIRFLOW_DAG = render("airflow_dag.py.j2")
LOAD_OPTIONS = {"source": SOURCE, "target": TARGET, "key": CUSTOMERS.key,
                "watermark": CUSTOMERS.watermark}


class RowCountError(CourseEtlError):
    """The warehouse table holds fewer rows than the check expects (``.table``, ``.rows``,
    ``.minimum``, and ``.logical_date``: the run's, or None outside a run)."""


@checked
@blocking_check
def row_count_check(conn: sqlite3.Connection, *, target: str, minimum: int = 1,
                    context: RunContext | None = None) -> int:
    """Return the row count of ``target``; raise RowCountError when it is below ``minimum``."""
    ref = resolve_table(conn, target, role="checked table")
    rows = conn.execute(f"SELECT COUNT(*) FROM {ref.sql}").fetchone()[0]
    if rows < minimum:
        day = context.logical_date if context else None
        raise RowCountError(f"{target} has {rows} row(s)"
                            f"{f' for {day:%Y-%m-%d}' if day else ''}, expected at least {minimum}",
                            table=target, rows=rows, minimum=minimum, logical_date=day)
    return rows


@checked
def full_load_if_new(conn: sqlite3.Connection, *, source: str, target: str, key: str,
                     watermark: str, context: RunContext | None = None) -> LoadResult | None:
    """A full load when ``target`` has no watermark yet or the run asks for a full refresh;
    otherwise None: the target is already loaded and the incremental task does the day's work."""
    refresh = context is not None and context.full_refresh
    stored = None if refresh else read_watermark(conn, target, watermark)
    if stored is not None:
        # An orchestrator's task log says why nothing happened, instead of "None".
        logger.info("no full load: %s already has watermark %s (%s), so incremental_load does "
                    "the day's work; pass full_refresh to reload", target, stored.value, watermark)
        return None
    return full_load(conn, source, target, key=key, watermark=watermark)


@checked
def incremental_load_for_interval(conn: sqlite3.Connection, *, source: str, target: str,
                                  key: str, watermark: str,
                                  context: RunContext | None = None) -> LoadResult:
    """The rows changed since the stored watermark and stamped before the end of the run's data
    interval (``watermark < data_interval_end``, written in the column's own format).

    Without a context (a call by hand) there is no upper bound. Late rows (stamped before the
    watermark but written after it was stored) are not seen: a lookback or a full refresh
    brings them in.
    """
    until = None
    if context is not None:
        stored = read_watermark(conn, target, watermark)
        if stored is not None:
            until = moment_in_format(context.data_interval_end, stored)
    return incremental_load(conn, source, target, key=key, watermark=watermark, until=until)


@checked
def customers_pipeline(*, with_check: bool = False, retries: int = SCHEDULE.retries) -> Pipeline:
    """The lecture's DAG ``customers_etl``: full_load >> incremental_load (>> row_count_check),
    where ``full_load`` runs only on the first run or a full refresh."""
    load = Task(full_load_if_new, name="full_load", params=LOAD_OPTIONS, retries=retries)
    incremental = Task(incremental_load_for_interval, name="incremental_load", params=LOAD_OPTIONS,
                       retries=retries, retry_delay=timedelta(minutes=5))
    load >> incremental
    tasks = [load, incremental]
    if with_check:
        check = Task(row_count_check, params={"target": TARGET, "minimum": len(LECTURE_ROWS)},
                     retries=0)
        incremental >> check
        tasks.append(check)
    return Pipeline(
        SCHEDULE.dag_id, tasks, schedule=SCHEDULE.cron, catchup=SCHEDULE.catchup,
        start_date=SCHEDULE.start_date, timezone=SCHEDULE.timezone,
        description="Full load on the first run only; then incremental up to each interval's end.",
    )


@checked
def prepare_lecture_warehouse(conn: sqlite3.Connection) -> None:
    """A fresh start: the lecture's three-row source, no warehouse table, no watermark."""
    create_lecture_source(conn, SOURCE)
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(TARGET)}")
    reset_watermark(conn, TARGET)


# Simulated seconds per try, so the notebook's Gantt charts and reports never vary.
DEMO_DURATIONS = {"full_load": 40.0, "incremental_load": 25.0, "row_count_check": 5.0}


@checked
def simulate_run(
    conn: sqlite3.Connection, *, failing_task: str | None = None, failures: int = 0,
    retries: int = SCHEDULE.retries, day: date = _START + timedelta(days=1),
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


@checked
def backfill_demo(conn: sqlite3.Connection, start: date, end: date, *,
                  rerun_day: date | None = None) -> BackfillDemo:
    """Backfill the lecture's pipeline from ``start`` to ``end`` on a fresh warehouse whose
    source changes as the lecture's story does (round 1 on 2024-10-05, round 2 on 2024-10-06:
    each round on the day of its timestamps), then re-run ``rerun_day`` (default: the last day)
    and compare the warehouse before and after."""
    pipeline = customers_pipeline(with_check=True)
    prepare_lecture_warehouse(conn)
    runner = LocalRunner(conn, clock=SimulatedClock(DEMO_DURATIONS))
    reports = []
    for moment in pipeline.logical_dates(start, end):
        for round_ in CHANGE_ROUNDS:
            if moment.date() == round_day(round_):  # the day the changes reach the source
                apply_lecture_changes(conn, round_)
        reports.append(runner.run(pipeline, moment))
    if not reports:
        reports = runner.backfill(pipeline, start, end)  # raises the "widen the range" error
    before = warehouse_snapshot(conn, WAREHOUSE_TABLES)
    rerun = runner.run(pipeline, rerun_day or reports[-1].logical_date)
    after = warehouse_snapshot(conn, WAREHOUSE_TABLES)
    return BackfillDemo(reports, rerun, snapshots_equal(before, after))


@checked
def backfill_table(reports: list[RunReport]) -> pd.DataFrame:
    """One row per run of the customers pipeline: what each load task did that day.

    ``full_load`` is the rows the full load copied, or ``-`` when the target already had a
    watermark (the task did nothing); ``written`` counts the rows either load inserted, updated
    or deleted; ``watermark`` is the stored watermark after the run.
    """
    rows = []
    for report in reports:
        full, incremental = (report.tasks[name].result
                             for name in ("full_load", "incremental_load"))
        loads = [r for r in (full, incremental) if r is not None]
        rows.append({
            "logical_date": f"{report.logical_date:%Y-%m-%d %H:%M}",
            "state": report.state,
            "full_load": full.rows_read if full is not None else "-",
            "incremental_read": incremental.rows_read if incremental is not None else "-",
            "written": sum(r.rows_written for r in loads),
            "watermark": loads[-1].watermark_after if loads else None,
        })
    return pd.DataFrame(rows)


# Pipelines the command line knows by name: name -> factory.
PIPELINES = {SCHEDULE.dag_id: customers_pipeline}


@checked
def airflow_facts() -> dict:
    """What a real Airflow 3 did with the lecture's DAG and with cron schedules, as recorded by
    ``make airflow-facts`` (``integration/airflow/airflow_facts.py``) in ``.venv-airflow``."""
    text = files("course_etl.scheduling").joinpath("airflow3_facts.json").read_text("utf-8")
    return json.loads(text)


# The two nights of 2024 when Europe's clocks change: 02:00-02:59 is skipped, then repeated.
DST_NIGHTS = {"clocks go forward": date(2024, 3, 31), "clocks go back": date(2024, 10, 27)}
_FACT_NIGHT = {"clocks go forward": "spring", "clocks go back": "autumn"}


@checked
def dst_nights(expressions: list[str], timezone: str = "Europe/Berlin") -> pd.DataFrame:
    """When each schedule fires on the two daylight-saving nights: croniter alone, course_etl
    (which fires as cron does) and Airflow 3's ``CronTriggerTimetable`` as recorded in
    :func:`airflow_facts` (recorded for Europe/Berlin only)."""
    zone = resolve_timezone(timezone)
    facts = airflow_facts()["dst"] if timezone == "Europe/Berlin" else {}
    rows = []
    for expression in expressions:
        expression = validate_cron(expression)
        for night, day in DST_NIGHTS.items():
            start = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone)
            end = start + timedelta(days=1)
            ticks, raw = croniter(expression, start), []
            while (moment := datetime.fromtimestamp(
                    ticks.get_next(datetime).timestamp(), zone)) <= end:
                raw.append(moment)
            ours = runs_between(expression, start, end, timezone=timezone)
            recorded = facts.get(f"{expression} {_FACT_NIGHT[night]}", {})
            airflow = [run["logical_date"][11:] for run in recorded.get("CronTriggerTimetable", [])
                       if run["logical_date"].startswith(day.isoformat())]
            rows.append({
                "schedule": expression, "night": f"{day} ({night})",
                "croniter alone": ", ".join(f"{m:%H:%M %Z}" for m in raw),
                "course_etl, as cron": ", ".join(f"{m:%H:%M %Z}" for m in ours),
                "Airflow 3": ", ".join(airflow) if recorded else "not recorded",
            })
    return pd.DataFrame(rows)
