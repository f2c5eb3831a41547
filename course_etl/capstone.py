"""The course's pipeline end to end: config → scheduled DAG → medallion layers → checks → publish.

:func:`build_pipeline` turns a resolved configuration (``configs/<env>.yaml``) into the scheduled
:class:`~course_etl.scheduling.Pipeline` ``extract >> bronze >> silver >> checks >> gold >>
publish``, with the configured cron, time zone, retries and retry delay. Each task is a plain
function of the warehouse connection and the run's context: ``extract`` lands the day's dirty
source batch (replayed from a fixed seed, so the logical date alone decides it), ``bronze``
ingests it append-only, ``silver`` processes the new bronze batches incrementally (watermarks on
the batch id, the medallion gates inside), ``checks`` runs a blocking suite with the configured
thresholds, ``gold`` promotes the audited mart to the served table and ``publish`` refreshes the
report view and notes the run in the run log. :class:`Capstone` runs simulated days on a
:class:`~course_etl.scheduling.SimulatedClock`, with a :class:`Fault` on one day, records every run
with :class:`~course_etl.monitoring.recorder.SchedulerRecorder`,
routes failure alerts to the console and a
JSON-lines file, backfills missed days, and :func:`airflow_dag` exports the same pipeline.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from course_etl.config import Config, load_config
from course_etl.db import atomic, query, quote_identifier, table_exists
from course_etl.errors import CourseEtlError
from course_etl.medallion import CUSTOMERS, ORDERS, DirtySource, ingest_batch, process_new_batches
from course_etl.medallion.bronze import BATCHES_TABLE, format_utc
from course_etl.medallion.gold import CITY_DAILY_REVENUE, CUSTOMER_STATS
from course_etl.monitoring.alerts import (
    AlertRouter,
    Channel,
    channels_from_config,
    task_failure_alert,
)
from course_etl.monitoring.checks import SuiteReport, run_suite
from course_etl.monitoring.dashboards import (
    plot_anomaly,
    plot_check_heatmap,
    plot_duration_per_task,
    plot_rows_per_run,
)
from course_etl.monitoring.history import runs_frame
from course_etl.monitoring.recorder import SchedulerRecorder
from course_etl.monitoring.runlog import add_run_note, record_check_results
from course_etl.sample_data import STORY_START
from course_etl.scheduling import FaultInjection, LocalRunner, Pipeline, RunContext, RunReport, Task
from course_etl.scheduling.export import to_airflow
from course_etl.scheduling.pipeline import blocking_check
from course_etl.scheduling.runner import SimulatedClock, snapshots_equal, warehouse_snapshot

__all__ = [
    "PIPELINE_NAME",
    "TASK_IDS",
    "STORY_DAY",
    "DAILY_ROWS",
    "SHORT_FEED_ROWS",
    "SERVED_TABLE",
    "PUBLISHED_VIEW",
    "PUBLISHED_RUNS",
    "DATA_TABLES",
    "AIRFLOW_WAREHOUSE",
    "CapstoneError",
    "Fault",
    "capstone_config",
    "build_pipeline",
    "extract",
    "bronze",
    "silver",
    "checks",
    "gold",
    "publish",
    "check_suite",
    "alert_channels",
    "Capstone",
    "Rows",
    "dashboard_figure",
    "runs_table",
    "airflow_dag",
]

PIPELINE_NAME = "course_capstone"
TASK_IDS = ("extract", "bronze", "silver", "checks", "gold", "publish")
STORY_DAY = date.fromisoformat(STORY_START)
DAILY_ROWS = 200  # customer rows (and about as many orders) the source sends per day
SOURCE_SEED = 6
SHORT_FEED_ROWS = 5  # a broken orders API: only the first rows of the day arrive
SERVED_TABLE = "served_city_daily_revenue"
PUBLISHED_VIEW = "published_city_revenue"
PUBLISHED_RUNS = "published_runs"
LANDING = {CUSTOMERS.name: "landing_customers", ORDERS.name: "landing_orders"}
#: The tables a run changes (the run log aside): equal snapshots mean an idempotent re-run.
DATA_TABLES = (*LANDING.values(), BATCHES_TABLE, CUSTOMERS.bronze_table, ORDERS.bronze_table,
               CUSTOMERS.silver_table, ORDERS.silver_table, CUSTOMER_STATS, CITY_DAILY_REVENUE,
               SERVED_TABLE, PUBLISHED_RUNS)
# Simulated seconds per try: the run log and its dashboard get stable, plausible durations.
TASK_SECONDS = {"extract": 30, "bronze": 45, "silver": 120, "checks": 20, "gold": 60,
                "publish": 15}
#: Where the exported DAG expects the warehouse (override with $COURSE_ETL_WAREHOUSE).
AIRFLOW_WAREHOUSE = "/opt/airflow/data/course_capstone.db"


@dataclass(frozen=True)
class Rows:
    """What a layer task read and wrote; the run log stores them as ``rows_in``/``rows_out``."""

    rows_read: int
    rows_written: int


class CapstoneError(CourseEtlError):
    """The capstone pipeline was asked for something it cannot do (e.g. a day before the story)."""


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
                                "'task_error'")
        if self.task not in TASK_IDS:
            raise CapstoneError(f"fault task {self.task!r} is unknown (known: "
                                f"{', '.join(TASK_IDS)})")


def capstone_config(env: str = "dev", overrides: Iterable[str] = (),
                    config_path: str | Path | None = None) -> Config:
    """The configuration for ``env``, ignoring the process's ``COURSE_ETL_*`` variables so a
    notebook gives the same result on every machine (pass overrides explicitly instead)."""
    return load_config(env, config_path, list(overrides), environ={})


# --- the tasks: plain functions of (conn, params, context) ------------------------------------

def _day(context: RunContext) -> date:
    day = context.logical_date.date()
    if day < STORY_DAY:
        raise CapstoneError(f"logical date {day} is before the story starts ({STORY_DAY}): "
                            "run a day from 2024-10-01 on")
    return day


def _ensure_landing(conn: sqlite3.Connection) -> None:
    for entity in (CUSTOMERS, ORDERS):
        columns = ", ".join(f"{quote_identifier(c)} TEXT" for c in entity.raw_columns)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_identifier(LANDING[entity.name])} "
                     f"(_day TEXT NOT NULL, _row INTEGER NOT NULL, {columns}, "
                     "PRIMARY KEY (_day, _row))")


def extract(conn: sqlite3.Connection, *, rows: int = DAILY_ROWS, seed: int = SOURCE_SEED,
            short_feed_days: Sequence[str] = (), context: RunContext) -> int:
    """Land the day's source batch (customers and orders, text as sent); returns rows landed.

    The source is replayed from ``seed`` up to the logical date, so a re-run or a backfill lands
    exactly what that day delivered; landing the day again replaces it.
    """
    day = _day(context)
    source = DirtySource(seed)
    for _ in range((day - STORY_DAY).days + 1):
        batch = source.next_batch(rows)
    frames = {CUSTOMERS.name: batch.customers, ORDERS.name: batch.orders}
    if day.isoformat() in short_feed_days:
        frames[ORDERS.name] = batch.orders.head(SHORT_FEED_ROWS)
    with atomic(conn):
        _ensure_landing(conn)
        for entity in (CUSTOMERS, ORDERS):
            table = quote_identifier(LANDING[entity.name])
            conn.execute(f"DELETE FROM {table} WHERE _day = ?", (day.isoformat(),))
            columns = ", ".join(quote_identifier(c) for c in entity.raw_columns)
            frame = frames[entity.name][list(entity.raw_columns)]
            conn.executemany(
                f"INSERT INTO {table} (_day, _row, {columns}) VALUES (?, ?, "
                f"{', '.join('?' * len(entity.raw_columns))})",
                [(day.isoformat(), n, *values)
                 for n, values in enumerate(frame.itertuples(index=False, name=None))],
            )
    return sum(len(f) for f in frames.values())


def bronze(conn: sqlite3.Connection, *, context: RunContext) -> Rows:
    """Ingest the day's landed batch into bronze; returns landed rows and new bronze rows
    (0 new: the batch is already in bronze)."""
    day = _day(context)
    moment = context.logical_date.astimezone(UTC)
    landed = new_rows = 0
    for entity in (CUSTOMERS, ORDERS):
        table = LANDING[entity.name]
        if not table_exists(conn, table):
            raise CapstoneError(f"no landing table {table!r}: run the extract task first")
        columns = ", ".join(quote_identifier(c) for c in entity.raw_columns)
        frame = query(conn, f"SELECT {columns} FROM {quote_identifier(table)} WHERE _day = ? "
                            "ORDER BY _row", (day.isoformat(),))
        if frame.empty:
            raise CapstoneError(f"nothing landed for {entity.name} on {day}: run extract for "
                                "that day first")
        frame = frame.astype(object).where(frame.notna(), None)
        result = ingest_batch(conn, entity.name, frame, clock=lambda: moment)
        landed += result.rows
        new_rows += 0 if result.duplicate else result.rows
    return Rows(landed, new_rows)


def silver(conn: sqlite3.Connection, *, context: RunContext) -> Rows:
    """Process the bronze batches silver has not seen (watermarks), gates included; returns
    the new bronze rows read and the valid rows staged. Raises GateFailedError when a medallion
    gate blocked the run (nothing is changed then)."""
    result = process_new_batches(conn)
    result.raise_if_blocked()
    return Rows(sum(s.bronze_rows for s in result.staged.values()),
                sum(s.staged for s in result.staged.values()))


def check_suite(min_rows: int, max_staleness_hours: float) -> dict[str, list[dict]]:
    """The blocking suite between silver and gold, with the configured thresholds."""
    # Whole minutes: the config allows fractional hours, a dbt-style period needs an integer.
    staleness_minutes = max(1, round(max_staleness_hours * 60))
    return {
        CUSTOMERS.silver_table: [
            {"check": "row_count_between", "min_rows": min_rows, "blocking": True},
            {"check": "unique_key", "key": CUSTOMERS.key, "blocking": True},
        ],
        ORDERS.silver_table: [
            {"check": "freshness", "column": "ordered_at", "blocking": True,
             "error_after": {"count": staleness_minutes, "period": "minute"}},
            # A feed far smaller (or larger) than the days before is held back, not published.
            {"check": "volume_anomaly", "metric": "orders_received", "min_history": 3,
             "warn_score": 3.5, "fail_score": 3.5, "blocking": True},
        ],
    }


def _orders_received(conn: sqlite3.Connection, moment: datetime) -> tuple[int, list[int]]:
    """Rows of the day's latest orders batch, and of every orders batch ingested before it."""
    stamp = format_utc(moment)
    table = quote_identifier(BATCHES_TABLE)
    today = conn.execute(f"SELECT row_count FROM {table} WHERE entity = ? AND ingested_at = ? "
                         "ORDER BY batch_id DESC LIMIT 1", (ORDERS.name, stamp)).fetchone()
    history = [r[0] for r in conn.execute(
        f"SELECT row_count FROM {table} WHERE entity = ? AND ingested_at < ? ORDER BY batch_id",
        (ORDERS.name, stamp))]
    return (today[0] if today else 0), history


@blocking_check
def checks(conn: sqlite3.Connection, *, min_rows: int = 1, max_staleness_hours: float = 24,
           suite: dict | None = None, context: RunContext) -> int:
    """Run :func:`check_suite` (or ``suite``, e.g. a student's), store the results in the run
    log; returns the checks run. The metric ``orders_received`` is available to the suite.

    Raises ChecksBlockedError when a blocking check failed, so gold and publish do not run.
    """
    moment = context.logical_date.astimezone(UTC)
    report: SuiteReport = run_suite(
        conn, check_suite(min_rows, max_staleness_hours) if suite is None else suite,
        now=context.data_interval_end,
        metrics={"orders_received": _orders_received(conn, moment)})
    record_check_results(conn, context.run_id, report.results)
    report.raise_if_blocked()
    return len(report.results)


def gold(conn: sqlite3.Connection, *, gold_sql: str | None = None, context: RunContext) -> int:
    """Promote the audited revenue mart to the served table in one transaction; returns rows.

    ``gold_sql`` (e.g. a student's) is a SELECT of ``city, day, n_orders, revenue_cents`` over
    the silver tables, used instead of the library's mart.
    """
    served = quote_identifier(SERVED_TABLE)
    mart = (f"SELECT city, day, n_orders, revenue_cents FROM "
            f"{quote_identifier(CITY_DAILY_REVENUE)}" if gold_sql is None else
            f"SELECT city, day, n_orders, revenue_cents FROM ({gold_sql.strip().rstrip(';')})")
    with atomic(conn):
        conn.execute(f"CREATE TABLE IF NOT EXISTS {served} (city TEXT NOT NULL, day TEXT NOT "
                     "NULL, n_orders INTEGER NOT NULL, revenue_cents INTEGER NOT NULL, "
                     "PRIMARY KEY (city, day))")
        conn.execute(f"DELETE FROM {served}")
        conn.execute(f"INSERT INTO {served} (city, day, n_orders, revenue_cents) {mart}")
        return conn.execute(f"SELECT COUNT(*) FROM {served}").fetchone()[0]


def publish(conn: sqlite3.Connection, *, context: RunContext) -> int:
    """Refresh the report view, record the publication (one row per logical date, replaced on
    a re-run) and note it in the run log; returns the served rows."""
    served = quote_identifier(SERVED_TABLE)
    day = context.logical_date.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    with atomic(conn):
        conn.execute(f"CREATE VIEW IF NOT EXISTS {quote_identifier(PUBLISHED_VIEW)} AS "
                     "SELECT city, SUM(n_orders) AS n_orders, "
                     f"SUM(revenue_cents) / 100.0 AS revenue FROM {served} GROUP BY city")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_identifier(PUBLISHED_RUNS)} ("
                     "logical_date TEXT PRIMARY KEY, served_rows INTEGER NOT NULL, "
                     "revenue_cents INTEGER NOT NULL)")
        rows, cents = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(revenue_cents), 0) FROM {served}").fetchone()
        conn.execute(f"INSERT OR REPLACE INTO {quote_identifier(PUBLISHED_RUNS)} "
                     "VALUES (?, ?, ?)", (day, rows, cents))
    add_run_note(conn, context.run_id,
                 f"published {rows} city-day rows, revenue {cents / 100:.2f}")
    return rows


def build_pipeline(config: Config, *, short_feed_days: Sequence[str] = (),
                   suite: dict | None = None, gold_sql: str | None = None,
                   source_seed: int = SOURCE_SEED) -> Pipeline:
    """The capstone pipeline with the schedule, retries and check thresholds of ``config``.

    ``short_feed_days`` (ISO dates) makes the source deliver a short orders feed on those days;
    ``suite`` and ``gold_sql`` replace the checks task's suite and the gold task's mart;
    ``source_seed`` makes the source send other data (the exercises' second data set).
    """
    schedule = config.schedule
    options = {"retries": schedule.retries,
               "retry_delay": timedelta(minutes=schedule.retry_delay_minutes)}
    extract_task = Task(extract, params={"rows": DAILY_ROWS, "seed": source_seed,
                                         "short_feed_days": list(short_feed_days)}, **options)
    check_params = {"min_rows": config.checks.min_rows,
                    "max_staleness_hours": config.checks.max_staleness_hours}
    check_task = Task(checks, params=check_params if suite is None else
                      {**check_params, "suite": suite}, **options)
    bronze_task, silver_task, publish_task = (Task(fn, **options)
                                              for fn in (bronze, silver, publish))
    gold_task = Task(gold, params={} if gold_sql is None else {"gold_sql": gold_sql}, **options)
    extract_task >> bronze_task >> silver_task >> check_task >> gold_task >> publish_task
    return Pipeline(PIPELINE_NAME, [extract_task, bronze_task, silver_task, check_task,
                                    gold_task, publish_task], schedule=schedule.cron,
                    timezone=schedule.timezone, start_date=STORY_DAY,
                    description=f"course capstone ({config.env}): source to published report")


def alert_channels(config: Config, jsonl_path: str | Path) -> list[Channel]:
    """Console and JSON-lines channels, plus e-mail when the config lists it. E-mail stays
    disabled here (deliveries are recorded as 'disabled'): a classroom sends no real mail."""
    settings: dict = {"console": True, "jsonl_path": jsonl_path}
    alerts = config.alerts
    if "email" in alerts.channels and alerts.smtp_host and alerts.email_to:
        settings["email"] = {"host": alerts.smtp_host, "port": alerts.smtp_port,
                             "sender": "course-etl@example.com",
                             "recipients": list(alerts.email_to)}
    return channels_from_config(settings)


class Capstone:
    """Runs the capstone pipeline day by day on ``conn`` for ``config``.

    Time is simulated (no waiting, same durations every time); every run lands in the run log;
    every failed task sends an alert to :func:`alert_channels` (``alerts_path`` is the JSON-lines
    file). ``suite`` and ``gold_sql`` plug a student's checks and gold SQL into every run.
    """

    def __init__(self, conn: sqlite3.Connection, config: Config, *, alerts_path: str | Path,
                 suite: dict | None = None, gold_sql: str | None = None):
        self.conn, self.config = conn, config
        self.student = {"suite": suite, "gold_sql": gold_sql}  # a student's pieces, or None
        self.pipeline = build_pipeline(config, **self.student)
        self.clock = SimulatedClock(TASK_SECONDS)
        self.recorder = SchedulerRecorder(conn)
        self.router = AlertRouter(conn, alert_channels(config, alerts_path))

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
        runner = LocalRunner(self.conn, clock=self.clock, faults=faults, recorder=self.recorder)
        report = runner.run(pipeline, day)
        self._alert(report)
        return report

    def _alert(self, report: RunReport) -> None:
        moment = report.logical_date.replace(tzinfo=None)
        self.router.clock = lambda: moment
        run_id = report.context.run_id
        for task_report in report.tasks.values():
            if task_report.state == "failed":
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
            raise CapstoneError(f"backfill ends ({end}) before it starts ({start}): swap them")
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


def dashboard_figure(conn: sqlite3.Connection) -> Figure:
    """The run-log dashboard of the capstone: rows silver read per run, seconds per task, every
    check per run, and the volume check's history (runs in the order they were executed)."""
    # 11 inches = 1,100 px: shown unshrunk on a laptop, so its labels stay above 12 px.
    figure = Figure(figsize=(11, 8), dpi=100, layout="constrained")
    (rows_ax, duration_ax), (heatmap_ax, anomaly_ax) = figure.subplots(2, 2)
    plot_rows_per_run(rows_ax, conn, task="silver", pipeline=PIPELINE_NAME)
    plot_duration_per_task(duration_ax, conn, pipeline=PIPELINE_NAME)
    plot_check_heatmap(heatmap_ax, conn, pipeline=PIPELINE_NAME)
    plot_anomaly(anomaly_ax, conn, check="volume_anomaly(orders_received)",
                 pipeline=PIPELINE_NAME)
    for ax in (rows_ax, duration_ax):  # headroom on the log scale, so legends cover no data
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 4)
    for ax in (rows_ax, duration_ax, anomaly_ax):  # the heatmap's legend sits below its labels
        for label in ax.get_xticklabels():  # full logical dates: slant them so none overlap
            label.set(rotation=30, horizontalalignment="right")
    runs = runs_frame(conn)
    runs = runs[runs.pipeline == PIPELINE_NAME]
    counts = runs.status.value_counts()
    figure.suptitle(f"{PIPELINE_NAME}: {len(runs)} runs in the run log ("
                    + ", ".join(f"{n} {status}" for status, n in counts.items()) + ")",
                    fontsize=13)
    return figure


def runs_table(reports: Iterable[RunReport]) -> pd.DataFrame:
    """One row per run: logical date, run state and each task's state (tries when > 1)."""
    rows = []
    for report in reports:
        row = {"logical_date": f"{report.logical_date:%Y-%m-%d %H:%M}", "run": report.state}
        for name, task_report in report.tasks.items():
            tries = f" ({task_report.tries} tries)" if task_report.tries > 1 else ""
            row[name] = task_report.state + tries
        rows.append(row)
    return pd.DataFrame(rows)


def airflow_dag(config: Config, *, warehouse: str | Path = AIRFLOW_WAREHOUSE) -> str:
    """The Airflow 3 DAG file of the capstone pipeline for ``config``."""
    return to_airflow(build_pipeline(config), warehouse=warehouse)
