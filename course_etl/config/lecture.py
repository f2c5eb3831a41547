"""The lecture's parameterization code, kept as written, and the demos that show what it misses.

:func:`lecture_get_watermark` is the lecture's function: ``table`` and ``col`` go straight into the
SQL text, so :data:`INJECTION_PAYLOAD` (a "table name" that is a sub-query) reads a table of
secrets from the throwaway database :func:`create_injection_demo` builds; the safe version is
:func:`course_etl.config.get_watermark`. :func:`compare_environments` runs the same loads under dev
and prod to show that only configuration changes between them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import pandas as pd

from course_etl.config.resolve import Config
from course_etl.config.run import run_incremental_load
from course_etl.db import atomic, connect, quote_identifier
from course_etl.errors import checked
from course_etl.facts import CUSTOMERS, TABLES, lecture_tuples
from course_etl.sample_data import create_customer_source, simulate_changes

__all__ = [
    "INJECTION_PAYLOAD",
    "lecture_get_watermark",
    "create_injection_demo",
    "compare_environments",
]

# A "table name" that is really a sub-query reading another table: what a tampered config file
# or environment variable could hold.
INJECTION_PAYLOAD = "(SELECT api_token AS updated_at FROM app_secrets)"


@checked
def lecture_get_watermark(conn, table, col="updated_at"):
    """The lecture's function, as written: ``table`` and ``col`` go straight into the SQL text."""
    q = f"SELECT MAX({col}) AS wm FROM {table}"  # sql-names: exempt, the injection demo
    return pd.read_sql_query(q, conn).iloc[0]['wm']


@checked
def create_injection_demo(conn: sqlite3.Connection) -> None:
    """A throwaway database for the injection demo: the lecture's warehouse after the first
    round of changes and a table of credentials that no watermark query has any business
    reading."""
    with atomic(conn):
        conn.execute(CUSTOMERS.ddl(TABLES.warehouse))
        conn.executemany(CUSTOMERS.insert_sql(TABLES.warehouse), lecture_tuples(after_round=1))
        conn.execute(f"CREATE TABLE {quote_identifier('app_secrets')} "
                     f"({quote_identifier('service')} TEXT PRIMARY KEY, "
                     f"{quote_identifier('api_token')} TEXT)")
        conn.execute(f"INSERT INTO {quote_identifier('app_secrets')} VALUES (?, ?)",
                     ("billing", "sk_live_DO_NOT_LEAK_4242"))


@checked
def compare_environments(configs: Iterable[Config], *, rows: int = 200) -> pd.DataFrame:
    """The same two loads under each configuration, side by side: no code changes, only config.

    For each config: a fresh in-memory source of ``rows`` customers, a first incremental load
    (a backfill), a fixed set of source changes, a second load. One row per load with the
    settings that differ between environments and what the load did.
    """
    results = []
    for config in configs:
        warehouse = connect(":memory:")
        try:
            source = config.load.source_table
            create_customer_source(warehouse, source, rows, seed=6, progress=False)
            first = run_incremental_load(warehouse, config)
            simulate_changes(warehouse, source, inserts=6, updates=5, soft_deletes=2,
                             hard_deletes=3, seed=7)
            second = run_incremental_load(warehouse, config)
        finally:
            warehouse.close()
        results += [
            {"env": config.env, "run": run, "batch_size": config.load.batch_size,
             "lookback_hours": config.load.lookback_hours,
             "soft_delete": config.load.soft_delete,
             "reconcile_deletes": config.load.reconcile_deletes, "rows_read": result.rows_read,
             "inserted": result.inserted, "updated": result.updated,
             "deleted": result.deleted, "batches": result.batches}
            for run, result in (("first", first), ("second", second))
        ]
    return pd.DataFrame(results)
