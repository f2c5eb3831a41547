"""The lecture's full/incremental story, run end to end with course_etl.

Used by ``python -m course_etl demo`` and the first notebook: the lecture's three customers are
fully loaded, Chloe moves to Aurora and Dai arrives, an incremental load picks both up, Eva arrives
and the row-count check sees 4 -> 5. Each step yields what a person wants to look at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from course_etl.db import atomic, query, quote_identifier
from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.loads.watermarks import reset_watermark
from course_etl.sample_data import apply_lecture_changes, create_lecture_source

__all__ = ["DemoStep", "lecture_story", "SOURCE", "TARGET"]

SOURCE = "src_customers"
TARGET = "dw_customers"


@dataclass
class DemoStep:
    """One step of the story: what happened, the load's result and the warehouse afterwards."""

    title: str
    result: LoadResult
    warehouse: pd.DataFrame
    message: str = ""


def _warehouse(conn: sqlite3.Connection) -> pd.DataFrame:
    return query(conn, f"SELECT * FROM {quote_identifier(TARGET)} ORDER BY id")


def _row_count(conn: sqlite3.Connection) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(TARGET)}").fetchone()[0]


def lecture_story(conn: sqlite3.Connection) -> Iterator[DemoStep]:
    """Run the lecture's story on ``conn`` from a clean start, yielding each step as it happens."""
    create_lecture_source(conn, SOURCE)
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(TARGET)}")
    reset_watermark(conn, TARGET)
    options = {"key": "id", "watermark": "updated_at"}

    result = full_load(conn, SOURCE, TARGET, **options)
    yield DemoStep("FULL LOAD #1 → copy all rows", result, _warehouse(conn))

    apply_lecture_changes(conn, 1)
    result = incremental_load(conn, SOURCE, TARGET, **options)
    yield DemoStep(
        "Source changes (Chloe moves to Aurora, Dai arrives) → INCREMENTAL LOAD",
        result, _warehouse(conn),
    )

    before = _row_count(conn)
    apply_lecture_changes(conn, 2)
    result = incremental_load(conn, SOURCE, TARGET, **options)
    after = _row_count(conn)
    verdict = (
        f"ALERT: Row count dropped unexpectedly! {before} -> {after}" if after < before
        else f"OK: Row count non-decreasing. {before} -> {after}"
    )
    yield DemoStep("Eva arrives → INCREMENTAL LOAD + row-count check", result,
                   _warehouse(conn), verdict)
