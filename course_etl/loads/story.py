"""The lecture's full/incremental story, run end to end with course_etl.

Used by ``python -m course_etl demo`` and the first notebook: the lecture's customers are fully
loaded, the first round of changes arrives (Chloe moves to Aurora, Dai arrives) and an incremental
load picks it up, then the second (Eva) and the row-count check sees 4 -> 5. The rows and rounds
are the facts' (:mod:`course_etl.facts`). Each step yields what a person wants to look at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from course_etl.db import atomic, query, quote_identifier
from course_etl.facts import CHANGE_ROUNDS, CUSTOMERS, TABLES, describe_round
from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.loads.watermarks import reset_watermark
from course_etl.sample_data import apply_lecture_changes, create_lecture_source

__all__ = ["DemoStep", "lecture_story", "SOURCE", "TARGET"]

SOURCE = TABLES.source
TARGET = TABLES.warehouse


@dataclass
class DemoStep:
    """One step of the story: what happened, the load's result and the warehouse afterwards."""

    title: str
    result: LoadResult
    warehouse: pd.DataFrame
    message: str = ""


def _warehouse(conn: sqlite3.Connection) -> pd.DataFrame:
    return query(conn, f"SELECT * FROM {quote_identifier(TARGET)} "
                       f"ORDER BY {quote_identifier(CUSTOMERS.key)}")


def _row_count(conn: sqlite3.Connection) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(TARGET)}").fetchone()[0]


def lecture_story(conn: sqlite3.Connection) -> Iterator[DemoStep]:
    """Run the lecture's story on ``conn`` from a clean start, yielding each step as it happens."""
    create_lecture_source(conn, SOURCE)
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(TARGET)}")
    reset_watermark(conn, TARGET)
    options = {"key": CUSTOMERS.key, "watermark": CUSTOMERS.watermark}

    result = full_load(conn, SOURCE, TARGET, **options)
    yield DemoStep("FULL LOAD #1 → copy all rows", result, _warehouse(conn))

    rounds = list(CHANGE_ROUNDS)
    for number in rounds:
        before = _row_count(conn)
        apply_lecture_changes(conn, number)
        result = incremental_load(conn, SOURCE, TARGET, **options)
        if number != rounds[-1]:
            title = describe_round(number)
            title = f"Source changes ({title})" if number == rounds[0] else title
            yield DemoStep(f"{title} → INCREMENTAL LOAD", result, _warehouse(conn))
            continue
        # The lecture checks the row count around its last load.
        after = _row_count(conn)
        verdict = (
            f"ALERT: Row count dropped unexpectedly! {before} -> {after}" if after < before
            else f"OK: Row count non-decreasing. {before} -> {after}"
        )
        yield DemoStep(f"{describe_round(number)} → INCREMENTAL LOAD + row-count check", result,
                       _warehouse(conn), verdict)
