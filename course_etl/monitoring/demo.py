"""The monitored demo's world: a source that changes every business day, and the pipeline's tasks.

:func:`create_demo_source` creates the customers source with 200 customers; :func:`change_source`
plays one business day of new customers and address changes, from a fixed seed, so every replay
sees the same data. :class:`DemoDay` holds one day's four tasks, extract → validate (the gate)
→ load → monitor, as plain functions ``task(conn, *, context)`` with the suites they run; a
blocking check that fails makes ``validate`` fail (load and monitor are then
``upstream_failed`` and the run ``failed``, Airflow's words for a gate that held). Each
fault of :data:`FAULTS` happens where it would in real life: at the source (a frozen feed, a
volume spike), in the extract (dropped rows, duplicates, NULLs) or in the load (slow, failing).
:mod:`course_etl.monitoring.lecture` runs the days and the experiments.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

import numpy as np

from course_etl.db import atomic, quote_identifier, resolve_table, table_exists
from course_etl.errors import CourseEtlError, checked
from course_etl.facts import CUSTOMERS, SCHEDULE, STORY_START, TABLES
from course_etl.loads.engine import LoadResult, incremental_load
from course_etl.loads.watermarks import read_watermark
from course_etl.monitoring.checks import CheckFailedError, CheckResult, run_suite
from course_etl.monitoring.history import metric_history
from course_etl.monitoring.runlog import Rows, record_check_results
from course_etl.sample_data import generate_customers
from course_etl.scheduling.cron import next_runs
from course_etl.scheduling.pipeline import Pipeline, RunContext, Task
from course_etl.scheduling.runner import SimulatedClock, TaskSkipped

__all__ = [
    "PIPELINE", "SOURCE", "STAGING", "TARGET", "INITIAL_CUSTOMERS", "FAULTS",
    "VALIDATION_SUITE", "MONITOR_SUITE", "SourceFailure", "DemoInputError", "check_fault",
    "as_day",
    "create_demo_source", "change_source", "count_rows", "extract_staging", "run_start",
    "DemoDay",
]

SOURCE = TABLES.source
INITIAL_CUSTOMERS = 200
PIPELINE = "customers_daily"
STAGING, TARGET = TABLES.staging, TABLES.warehouse
KEY, WATERMARK = CUSTOMERS.key, CUSTOMERS.watermark

# The gate: declared per table as plain data, as it would sit in a YAML file.
VALIDATION_SUITE = {
    STAGING: [
        {"check": "row_count_non_decreasing", "blocking": True},
        {"check": "unique_key", "key": KEY, "blocking": True},
        {"check": "not_null", "column": "name", "blocking": True},
        {"check": "freshness", "column": WATERMARK,
         "warn_after": {"count": 12, "period": "hour"},
         "error_after": {"count": 2, "period": "day"}},
        {"check": "volume_anomaly", "metric": "rows_to_load", "min_history": 7},
    ],
}
MONITOR_SUITE = {
    TARGET: [{"check": "duration_anomaly", "metric": "load_seconds", "min_history": 7}],
}


class DemoInputError(CourseEtlError):
    """A request the monitoring demo cannot meet: ``.option`` (``"fault"``, ``"days"``) and
    ``.value`` (what it was given), with ``.known`` for a fault (the faults there are)."""


class SourceFailure(CourseEtlError, ConnectionError):
    """The injected 'failing task' fault: the connection dropped mid-load."""


FAULTS: Mapping[str, str] = {
    "none": "no fault: a normal day",
    "rows_dropped": "the export lost 30% of the rows (rows dropped at source)",
    "duplicate_keys": "an extract bug wrote 5 customers twice (duplicate keys)",
    "stale_source": "the source feed froze: no change since yesterday (stale source)",
    "null_names": "an upstream schema change blanked 4 names (NULLs in a required column)",
    "slow_task": "the load waited 9 minutes on a lock (a slow task)",
    "failing_task": "the warehouse connection dropped during the load (a failing task)",
    "volume_spike": "a marketing import added 15x the usual new customers (a volume spike)",
}


@checked
def check_fault(fault: str) -> None:
    """Raises DemoInputError naming the known faults when ``fault`` is not one of them."""
    if fault not in FAULTS:
        raise DemoInputError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})",
                             option="fault", value=fault, known=list(FAULTS))


@checked
def as_day(value: date | str) -> date:
    """A date, from a date or an ISO string."""
    return value if isinstance(value, date) else date.fromisoformat(value)


@checked
def create_demo_source(conn: sqlite3.Connection, *, seed: int = 6) -> int:
    """(Re)create the source with 200 customers last changed at noon the day before the story
    starts (2024-09-30)."""
    frame = generate_customers(INITIAL_CUSTOMERS, seed=seed)
    eve = date.fromisoformat(STORY_START) - timedelta(days=1)
    frame[WATERMARK] = f"{eve} 12:00:00"
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(SOURCE)}")
        conn.execute(CUSTOMERS.ddl(SOURCE, constraints=True))
        conn.executemany(CUSTOMERS.insert_sql(SOURCE), frame[list(CUSTOMERS.names)].itertuples(
            index=False, name=None))
    return INITIAL_CUSTOMERS


@checked
def change_source(
    conn: sqlite3.Connection, day: date | str, *, fault: str = "none", seed: int = 6
) -> dict[str, int]:
    """The source's business day: new customers and address changes stamped during ``day``.

    ``stale_source`` writes nothing; ``volume_spike`` inserts 15 times the usual new customers.
    Returns the counts written.
    """
    check_fault(fault)
    day = as_day(day)
    if fault == "stale_source":
        return {"inserted": 0, "updated": 0}
    rng = np.random.default_rng([seed, day.toordinal()])
    inserts = int(rng.poisson(12)) * (15 if fault == "volume_spike" else 1)
    updates = int(rng.poisson(18))
    start = datetime.combine(day, datetime.min.time())

    def stamps(n: int) -> list[str]:
        seconds = np.sort(rng.integers(6 * 3600, 22 * 3600, size=n))
        return [(start + timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S")
                for s in seconds]

    source_sql, key_sql = quote_identifier(SOURCE), quote_identifier(KEY)
    with atomic(conn):
        max_id, = conn.execute(
            f"SELECT COALESCE(MAX({key_sql}), 0) FROM {source_sql}").fetchone()
        new = generate_customers(inserts, seed=int(rng.integers(1 << 30)))
        new[KEY] += max_id
        new[WATERMARK] = stamps(inserts)
        conn.executemany(CUSTOMERS.insert_sql(SOURCE), new[list(CUSTOMERS.names)].itertuples(
            index=False, name=None))
        ids = rng.choice(np.arange(1, max_id + 1), size=min(updates, max_id), replace=False)
        cities = generate_customers(len(ids), seed=int(rng.integers(1 << 30)))["city"]
        conn.executemany(
            f"UPDATE {source_sql} SET {quote_identifier('city')} = ?, "
            f"{quote_identifier(WATERMARK)} = ? WHERE {key_sql} = ?",
            [(city, stamp, int(i)) for i, city, stamp in
             zip(np.sort(ids), cities, stamps(len(ids)), strict=True)])
    return {"inserted": inserts, "updated": len(ids)}


@checked
def count_rows(conn: sqlite3.Connection, table: str) -> int:
    if not table_exists(conn, table):
        return 0
    return conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(table)}").fetchone()[0]


@checked
def extract_staging(conn: sqlite3.Connection, fault: str,
                    rng: np.random.Generator) -> tuple[int, int]:
    """Snapshot the source into staging, then apply the extract-side fault. Returns rows in/out."""
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(STAGING)}")
        # No constraints on purpose: staging holds whatever arrived, the checks judge it.
        conn.execute(CUSTOMERS.ddl(STAGING, primary_key=False))
        # Every name checked first: SQLite reads a quoted name no table has as a string.
        source = resolve_table(conn, SOURCE, role="source table")
        names = [source.column(c.name) for c in CUSTOMERS.columns
                 if not c.optional or c.name in source.columns]
        columns_sql = ", ".join(map(quote_identifier, names))
        conn.execute(f"INSERT INTO {quote_identifier(STAGING)} ({columns_sql}) "
                     f"SELECT {columns_sql} FROM {source.sql}")
        rows_in = count_rows(conn, SOURCE)
        key_sql = quote_identifier(KEY)
        ids = [r[0] for r in conn.execute(
            f"SELECT {key_sql} FROM {quote_identifier(STAGING)} ORDER BY {key_sql}")]
        if fault == "rows_dropped":
            lost = rng.choice(ids, size=int(0.3 * len(ids)), replace=False)
            conn.executemany(f"DELETE FROM {quote_identifier(STAGING)} WHERE {key_sql} = ?",
                             [(int(i),) for i in lost])
        elif fault == "duplicate_keys":
            twice = rng.choice(ids, size=5, replace=False)
            conn.executemany(f"INSERT INTO {quote_identifier(STAGING)} "
                             f"SELECT * FROM {quote_identifier(STAGING)} WHERE {key_sql} = ?",
                             [(int(i),) for i in twice])
        elif fault == "null_names":
            blank = rng.choice(ids, size=4, replace=False)
            conn.executemany(f"UPDATE {quote_identifier(STAGING)} "
                             f"SET {quote_identifier('name')} = NULL WHERE {key_sql} = ?",
                             [(int(i),) for i in blank])
    return rows_in, count_rows(conn, STAGING)


@checked
def run_start(day: date) -> datetime:
    """Runs start at the lecture's scheduled time the day after their logical date, like
    an Airflow daily interval."""
    after = datetime.combine(day + timedelta(days=1), datetime.min.time()) - timedelta(seconds=1)
    first, = next_runs(SCHEDULE.cron, 1, after=after, timezone=SCHEDULE.timezone)
    return first.replace(tzinfo=None)


def rows_to_load(conn: sqlite3.Connection) -> int:
    """The rows the next incremental load will read: at or past the stored watermark."""
    if not table_exists(conn, TARGET):
        return count_rows(conn, STAGING)
    stored = read_watermark(conn, TARGET, WATERMARK)
    if stored is None:
        return count_rows(conn, STAGING)
    return conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(STAGING)} "
                        f"WHERE {quote_identifier(WATERMARK)} >= ?", (stored.value,)).fetchone()[0]


class DemoDay:
    """One day of the monitored pipeline: its four tasks, and what they share.

    The tasks are plain methods ``task(conn, *, context)`` that share the day's ``fault``, one
    seeded random stream (drawn in task order, so a replay is exact) and the ``clock`` each
    advances by its simulated duration. ``results`` collects the checks validate and monitor
    ran; ``unexpected`` keeps an error that is no injected fault (a bug), to be raised again.
    """

    def __init__(self, day: date, fault: str, clock: SimulatedClock, *, seed: int = 6):
        self.day, self.fault, self.clock = day, fault, clock
        self.rng = np.random.default_rng([seed, day.toordinal(), 1])
        self.results: list[CheckResult] = []
        self.unexpected: Exception | None = None

    def extract(self, conn: sqlite3.Connection, *, context: RunContext) -> Rows:
        rows_in, rows_out = extract_staging(conn, self.fault, self.rng)
        self.clock.advance(18 + self.rng.normal(0, 1.5))
        return Rows(rows_in, rows_out)

    def validate(self, conn: sqlite3.Connection, *, context: RunContext) -> Rows:
        """The gate: the validation suite on staging; a failed blocking check fails this task
        (CheckFailedError, with the checks' messages), so the load never starts."""
        history = metric_history(conn, PIPELINE, "load", "rows_in",
                                 before_run_id=context.run_id)
        report = run_suite(
            conn, VALIDATION_SUITE, now=self.clock.now(),
            previous_row_counts={STAGING: count_rows(conn, TARGET)},
            metrics={"rows_to_load": (rows_to_load(conn), history)})
        self.results += report.results
        record_check_results(conn, context.run_id, report.results)
        self.clock.advance(4 + self.rng.normal(0, 0.5))
        report.raise_if_blocked()
        return Rows(count_rows(conn, STAGING), None)

    def load(self, conn: sqlite3.Connection, *, context: RunContext) -> LoadResult:
        if self.fault == "failing_task":
            self.clock.advance(7)
            raise SourceFailure("connection to the warehouse reset by peer during the upsert")
        result = incremental_load(conn, STAGING, TARGET, key=KEY, watermark=WATERMARK,
                                  reconcile_deletes=True)
        self.clock.advance(25 + result.rows_read / 20 + self.rng.normal(0, 2)
                           + (540 if self.fault == "slow_task" else 0))
        return result

    def monitor(self, conn: sqlite3.Connection, *, context: RunContext) -> None:
        """Today's load duration against the earlier ones (the recorder logged it already)."""
        seconds = metric_history(conn, PIPELINE, "load", "seconds", limit=31)
        report = run_suite(conn, MONITOR_SUITE, metrics={
            "load_seconds": (seconds[-1], seconds[:-1])})
        self.results += report.results
        record_check_results(conn, context.run_id, report.results)
        self.clock.advance(1)

    def pipeline(self) -> Pipeline:
        """extract >> validate >> load >> monitor, daily (the date names the business day)."""
        steps = [Task(self._watched(step), name=step.__name__)
                 for step in (self.extract, self.validate, self.load, self.monitor)]
        steps[0] >> steps[1] >> steps[2] >> steps[3]
        return Pipeline(PIPELINE, steps, schedule="@daily", start_date=date(2000, 1, 1),
                        description="the lecture's customers job, monitored")

    def _watched(self, step: Callable) -> Callable:
        def run(conn: sqlite3.Connection, *, context: RunContext):
            try:
                return step(conn, context=context)
            except (TaskSkipped, SourceFailure, CheckFailedError):
                raise  # the day's injected fault, or the gate: the report tells them
            except Exception as error:
                self.unexpected = error
                raise

        return run
