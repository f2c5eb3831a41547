"""Warehouse snapshots: equal snapshots mean equal warehouse states.

Used to show that re-running a day changes nothing, and that Airflow and Dagster leave the same
warehouse as the local runner.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from course_etl.db import query, quote_identifier, table_exists
from course_etl.errors import checked

__all__ = ["warehouse_snapshot", "snapshots_equal"]


@checked
def warehouse_snapshot(conn, tables: list[str]) -> dict[str, pd.DataFrame]:
    """Each table's rows sorted by every column: equal snapshots mean equal warehouse states.

    A missing table maps to None. Used to show a re-run is idempotent and that Airflow leaves
    the same warehouse as the local runner.
    """
    snapshot = {}
    for table in tables:
        if not table_exists(conn, table):
            snapshot[table] = None
            continue
        frame = query(conn, f"SELECT * FROM {quote_identifier(table)}")
        snapshot[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return snapshot


def _same(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.equals(b)


@checked
def snapshots_equal(a: Mapping[str, pd.DataFrame | None], b: Mapping[str, pd.DataFrame | None]
                    ) -> bool:
    """True when both snapshots have the same tables with the same rows."""
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)

