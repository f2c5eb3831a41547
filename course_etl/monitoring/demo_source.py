"""The monitored demo's source system: a customers table that changes every business day.

:func:`create_demo_source` creates ``src_customers`` with 200 customers; :func:`change_source`
plays one business day of new customers and address changes, from a fixed seed, so every replay
sees the same data. The source-side faults of :data:`FAULTS` happen here (a frozen feed, a volume
spike); the pipeline-side ones happen in :mod:`course_etl.monitoring.lecture`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import numpy as np

from course_etl.db import atomic, quote_identifier
from course_etl.errors import CourseEtlError
from course_etl.sample_data import generate_customers

__all__ = ["SOURCE", "INITIAL_CUSTOMERS", "FAULTS", "check_fault", "as_day",
           "create_demo_source", "change_source"]

SOURCE = "src_customers"
SOURCE_SQL = quote_identifier(SOURCE)
INITIAL_CUSTOMERS = 200

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


def check_fault(fault: str) -> None:
    """Raises CourseEtlError naming the known faults when ``fault`` is not one of them."""
    if fault not in FAULTS:
        raise CourseEtlError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")


def as_day(value: date | str) -> date:
    """A date, from a date or an ISO string."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def create_demo_source(conn: sqlite3.Connection, *, seed: int = 6) -> int:
    """(Re)create ``src_customers`` with 200 customers last changed on 2024-09-30."""
    frame = generate_customers(INITIAL_CUSTOMERS, seed=seed)
    frame["updated_at"] = "2024-09-30 12:00:00"
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {SOURCE_SQL}")
        conn.execute(f"CREATE TABLE {SOURCE_SQL} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "city TEXT, updated_at TEXT NOT NULL)")
        conn.executemany(f"INSERT INTO {SOURCE_SQL} VALUES (?, ?, ?, ?)",
                         frame[["id", "name", "city", "updated_at"]].itertuples(
                             index=False, name=None))
    return INITIAL_CUSTOMERS


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

    with atomic(conn):
        max_id, = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {SOURCE_SQL}").fetchone()
        new = generate_customers(inserts, seed=int(rng.integers(1 << 30)))
        conn.executemany(
            f"INSERT INTO {SOURCE_SQL} VALUES (?, ?, ?, ?)",
            [(max_id + i + 1, name, city, stamp) for i, (name, city, stamp) in
             enumerate(zip(new["name"], new["city"], stamps(inserts), strict=True))])
        ids = rng.choice(np.arange(1, max_id + 1), size=min(updates, max_id), replace=False)
        cities = generate_customers(len(ids), seed=int(rng.integers(1 << 30)))["city"]
        conn.executemany(
            f"UPDATE {SOURCE_SQL} SET city = ?, updated_at = ? WHERE id = ?",
            [(city, stamp, int(i)) for i, city, stamp in
             zip(np.sort(ids), cities, stamps(len(ids)), strict=True)])
    return {"inserted": inserts, "updated": len(ids)}
