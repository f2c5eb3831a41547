"""The capstone's six tasks: plain functions of the warehouse connection and the run's context.

``extract`` lands the day's dirty source batch (replayed from a fixed seed, so the logical date
alone decides it), ``bronze`` ingests it append-only, ``silver`` processes the new bronze batches
incrementally (watermarks on the batch id, the medallion gates inside), ``checks`` runs the
blocking suite of :func:`check_suite` with the configured thresholds, ``gold`` promotes the
audited mart to the served table and ``publish`` refreshes the report view and notes the run in
the run log. :class:`Rows` is what a layer task read and wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime

from course_etl.capstone.constants import (
    DAILY_ROWS,
    LANDING,
    PUBLISHED_RUNS,
    PUBLISHED_VIEW,
    SERVED_TABLE,
    SHORT_FEED_ROWS,
    SOURCE_SEED,
    STORY_DAY,
    CapstoneError,
)
from course_etl.capstone.student import (
    GOLD_COLUMNS,
    audited_gold,
    execute_student_gold,
    served_differences,
)
from course_etl.clock import SimulatedClock
from course_etl.db import atomic, query, quote_identifier, table_exists
from course_etl.errors import checked
from course_etl.medallion import CUSTOMERS, ORDERS, DirtySource, ingest_batch, process_new_batches
from course_etl.medallion.bronze import BATCHES_TABLE, format_utc
from course_etl.medallion.gold import CITY_DAILY_REVENUE
from course_etl.monitoring.checks import SuiteReport, run_suite
from course_etl.monitoring.runlog import Rows, add_run_note, record_check_results
from course_etl.scheduling import RunContext
from course_etl.scheduling.pipeline import blocking_check


def _day(context: RunContext) -> date:
    day = context.logical_date.date()
    if day < STORY_DAY:
        raise CapstoneError(f"logical date {day} is before the story starts ({STORY_DAY}): "
                            f"run a day from {STORY_DAY} on", option="logical_date", value=day,
                            expected=f">= {STORY_DAY}")
    return day


def _landing_sql() -> tuple[str, str]:
    """A landing table's own columns, quoted: _day (the logical date), _row (order as sent)."""
    return quote_identifier("_day"), quote_identifier("_row")


def _ensure_landing(conn: sqlite3.Connection) -> None:
    day_sql, row_sql = _landing_sql()
    for entity in (CUSTOMERS, ORDERS):
        columns_sql = ", ".join(f"{quote_identifier(c)} TEXT" for c in entity.raw_columns)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_identifier(LANDING[entity.name])} "
                     f"({day_sql} TEXT NOT NULL, {row_sql} INTEGER NOT NULL, {columns_sql}, "
                     f"PRIMARY KEY ({day_sql}, {row_sql}))")


@checked
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
    day_sql, row_sql = _landing_sql()
    with atomic(conn):
        _ensure_landing(conn)
        for entity in (CUSTOMERS, ORDERS):
            table_sql = quote_identifier(LANDING[entity.name])
            conn.execute(f"DELETE FROM {table_sql} WHERE {day_sql} = ?", (day.isoformat(),))
            columns_sql = ", ".join(quote_identifier(c) for c in entity.raw_columns)
            placeholders_sql = ", ".join("?" * len(entity.raw_columns))
            frame = frames[entity.name][list(entity.raw_columns)]
            conn.executemany(
                f"INSERT INTO {table_sql} ({day_sql}, {row_sql}, {columns_sql}) VALUES (?, ?, "
                f"{placeholders_sql})",
                [(day.isoformat(), n, *values)
                 for n, values in enumerate(frame.itertuples(index=False, name=None))],
            )
    return sum(len(f) for f in frames.values())


@checked
def bronze(conn: sqlite3.Connection, *, context: RunContext) -> Rows:
    """Ingest the day's landed batch into bronze; returns landed rows and new bronze rows
    (0 new: the batch is already in bronze)."""
    day = _day(context)
    moment = context.logical_date.astimezone(UTC)
    landed = new_rows = 0
    for entity in (CUSTOMERS, ORDERS):
        table = LANDING[entity.name]
        if not table_exists(conn, table):
            raise CapstoneError(f"no landing table {table!r}: run the extract task first",
                                table=table, entity=entity.name, value=day)
        columns_sql = ", ".join(quote_identifier(c) for c in entity.raw_columns)
        day_sql, row_sql = _landing_sql()
        frame = query(conn, f"SELECT {columns_sql} FROM {quote_identifier(table)} "
                            f"WHERE {day_sql} = ? ORDER BY {row_sql}", (day.isoformat(),))
        if frame.empty:
            raise CapstoneError(f"nothing landed for {entity.name} on {day}: run extract for "
                                "that day first", table=table, entity=entity.name, value=day)
        frame = frame.astype(object).where(frame.notna(), None)
        # Stamped with the run's tick, so a re-run or a backfill lands the same batch.
        result = ingest_batch(conn, entity.name, frame, clock=SimulatedClock(start=moment))
        landed += result.rows
        new_rows += 0 if result.duplicate else result.rows
    return Rows(landed, new_rows)


@checked
def silver(conn: sqlite3.Connection, *, context: RunContext) -> Rows:
    """Process the bronze batches silver has not seen (watermarks), gates included; returns
    the new bronze rows read and the valid rows staged. Raises CheckFailedError when a blocking
    medallion gate failed (the task fails at once and nothing is changed)."""
    result = process_new_batches(conn)
    result.raise_if_blocked()
    return Rows(sum(s.bronze_rows for s in result.staged.values()),
                sum(s.staged for s in result.staged.values()))


@checked
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
    table_sql = quote_identifier(BATCHES_TABLE)
    count_sql, entity_sql, at_sql, id_sql = map(quote_identifier, (
        "row_count", "entity", "ingested_at", "batch_id"))
    today = conn.execute(f"SELECT {count_sql} FROM {table_sql} "
                         f"WHERE {entity_sql} = ? AND {at_sql} = ? "
                         f"ORDER BY {id_sql} DESC LIMIT 1", (ORDERS.name, stamp)).fetchone()
    history = [r[0] for r in conn.execute(
        f"SELECT {count_sql} FROM {table_sql} WHERE {entity_sql} = ? AND {at_sql} < ? "
        f"ORDER BY {id_sql}", (ORDERS.name, stamp))]
    return (today[0] if today else 0), history


@checked
@blocking_check
def checks(conn: sqlite3.Connection, *, min_rows: int = 1, max_staleness_hours: float = 24,
           suite: dict | None = None, gold_sql: str | None = None,
           context: RunContext) -> int:
    """Run :func:`check_suite` (or ``suite``, e.g. a student's), store the results in the run
    log; returns the checks run. The metric ``orders_received`` is available to the suite.
    With ``gold_sql`` (a student's), the suite audits the gold that SELECT builds, under the
    mart's name (:func:`~course_etl.capstone.student.audited_gold`).

    Raises CheckFailedError when a blocking check failed: the task fails at once (a retry does
    not change the data), so gold and publish end ``upstream_failed``.
    StudentGoldError when ``gold_sql`` cannot build the gold.
    """
    moment = context.logical_date.astimezone(UTC)
    with audited_gold(conn, gold_sql):
        report: SuiteReport = run_suite(
            conn, check_suite(min_rows, max_staleness_hours) if suite is None else suite,
            now=context.data_interval_end,
            metrics={"orders_received": _orders_received(conn, moment)})
    record_check_results(conn, context.run_id, report.results)
    report.raise_if_blocked()
    return len(report.results)


@checked
def gold(conn: sqlite3.Connection, *, gold_sql: str | None = None, context: RunContext) -> int:
    """Promote the audited revenue mart to the served table in one transaction; returns rows.

    ``gold_sql`` (e.g. a student's) is a SELECT of ``city, day, n_orders, revenue_cents`` over
    the silver tables, used instead of the library's mart.
    """
    served_sql = quote_identifier(SERVED_TABLE)
    columns_sql = ", ".join(map(quote_identifier, GOLD_COLUMNS))
    city_sql, day_sql, n_sql, cents_sql = map(quote_identifier, GOLD_COLUMNS)
    with atomic(conn):
        conn.execute(f"CREATE TABLE IF NOT EXISTS {served_sql} ({city_sql} TEXT NOT NULL, "
                     f"{day_sql} TEXT NOT NULL, {n_sql} INTEGER NOT NULL, "
                     f"{cents_sql} INTEGER NOT NULL, PRIMARY KEY ({city_sql}, {day_sql}))")
        conn.execute(f"DELETE FROM {served_sql}")
        if gold_sql is None:
            conn.execute(f"INSERT INTO {served_sql} ({columns_sql}) SELECT {columns_sql} "
                         f"FROM {quote_identifier(CITY_DAILY_REVENUE)}")
        else:
            execute_student_gold(conn, f"INSERT INTO {served_sql} ({columns_sql})", gold_sql)
        return conn.execute(f"SELECT COUNT(*) FROM {served_sql}").fetchone()[0]


@checked
def publish(conn: sqlite3.Connection, *, context: RunContext) -> int:
    """Refresh the report view, record the publication (one row per logical date, replaced on
    a re-run) and note it in the run log; returns the served rows."""
    served_sql = quote_identifier(SERVED_TABLE)
    day = context.logical_date.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    city_sql, _, n_sql, cents_sql = map(quote_identifier, GOLD_COLUMNS)
    with atomic(conn):
        conn.execute(f"CREATE VIEW IF NOT EXISTS {quote_identifier(PUBLISHED_VIEW)} AS "
                     f"SELECT {city_sql}, SUM({n_sql}) AS {n_sql}, "
                     f"SUM({cents_sql}) / 100.0 AS {quote_identifier('revenue')} "
                     f"FROM {served_sql} GROUP BY {city_sql}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_identifier(PUBLISHED_RUNS)} ("
                     f"{quote_identifier('logical_date')} TEXT PRIMARY KEY, "
                     f"{quote_identifier('served_rows')} INTEGER NOT NULL, "
                     f"{cents_sql} INTEGER NOT NULL)")
        rows, cents = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM({cents_sql}), 0) FROM {served_sql}").fetchone()
        conn.execute(f"INSERT OR REPLACE INTO {quote_identifier(PUBLISHED_RUNS)} "
                     "VALUES (?, ?, ?)", (day, rows, cents))
    differing, example = served_differences(conn)
    add_run_note(conn, context.run_id,
                 f"published {rows} city-day rows, revenue {cents / 100:.2f}"
                 + (f"; {differing} city-days differ from the library's gold (e.g. {example})"
                    if differing else ""))
    return rows
