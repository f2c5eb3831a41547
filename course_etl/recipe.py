"""The lecture's incremental-load recipe, kept exactly as taught so its pitfalls can be shown.

Do not use it for real loads. It derives the watermark from ``MAX(updated_at)`` of the target
(so a half-written run moves it), filters with ``>`` (rows sharing the last timestamp are skipped),
upserts with ``INSERT OR REPLACE`` (a delete + insert: unlisted columns fall back to defaults,
rowids change, ``ON DELETE CASCADE`` children vanish), never sees hard deletes, and commits the
data with nothing to tie it to the watermark. :func:`course_etl.incremental_load` is the
corrected version.
"""

from __future__ import annotations

import sqlite3
import time

import pandas as pd

from .db import atomic, quote_identifier, resolve_table
from .loads import LoadResult

__all__ = ["lecture_incremental_load", "lecture_full_load"]


def lecture_full_load(conn: sqlite3.Connection, source: str, target: str) -> LoadResult:
    """The lecture's "FULL LOAD #1": ``INSERT INTO target SELECT * FROM source`` (no delete)."""
    started = time.perf_counter()
    src = resolve_table(conn, source, role="source table")
    tgt = resolve_table(conn, target, role="target table")
    with atomic(conn):
        inserted = conn.execute(f"INSERT INTO {tgt.sql} SELECT * FROM {src.sql}").rowcount
    return LoadResult(
        mode="lecture full", source=src.label, target=tgt.label, rows_read=inserted,
        inserted=inserted, updated=0, deleted=0, unchanged=0,
        watermark_before=None, watermark_after=None, seconds=time.perf_counter() - started,
    )


def lecture_incremental_load(
    conn: sqlite3.Connection, source: str, target: str, *, watermark: str = "updated_at"
) -> LoadResult:
    """The lecture's incremental load, statement for statement (names validated, nothing else).

    Returns a LoadResult whose ``inserted``/``updated``/``unchanged`` are None: INSERT OR REPLACE
    cannot tell an insert from an update.
    """
    started = time.perf_counter()
    src = resolve_table(conn, source, role="source table")
    tgt = resolve_table(conn, target, role="target table")
    wm = quote_identifier(src.column(watermark, role="watermark column"))
    last_watermark = pd.read_sql_query(
        f"SELECT MAX({wm}) AS wm FROM {tgt.sql};", conn
    ).iloc[0]["wm"]
    changed = pd.read_sql_query(
        f"SELECT * FROM {src.sql} WHERE {wm} > ?", conn, params=[last_watermark]
    )
    placeholders = ",".join("?" * len(changed.columns))
    columns = ",".join(quote_identifier(c) for c in changed.columns)
    if not conn.in_transaction:
        # The lecture's connection opened this transaction implicitly (sqlite3's legacy mode);
        # course_etl connections are in autocommit mode, so open it explicitly to match.
        conn.execute("BEGIN")
    conn.executemany(
        f"INSERT OR REPLACE INTO {tgt.sql}({columns}) VALUES ({placeholders})",
        changed.values.tolist(),
    )
    conn.commit()
    loaded = [v for v in (last_watermark, changed[watermark].max()) if _plain(v) is not None]
    after = max(loaded, default=None)
    return LoadResult(
        mode="lecture", source=src.label, target=tgt.label, rows_read=len(changed),
        inserted=None, updated=None, deleted=0, unchanged=None,
        watermark_before=_plain(last_watermark), watermark_after=_plain(after),
        seconds=time.perf_counter() - started,
    )


def _plain(value: object) -> object:
    """numpy scalars and NaN from pandas → plain Python values for printing."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value
