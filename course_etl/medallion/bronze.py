"""Bronze: append-only raw ingestion of source batches, every value kept as received.

Each batch lands in ``bronze_<entity>`` with every value stored as TEXT exactly as sent (stray
spaces, odd formats and all), plus ``_batch_id``, ``_source`` and ``_ingested_at``. A batch must
send the entity's required columns; an optional one it leaves out is stored as NULL (silver fills
in the declared default), and a column added to the entity is added to an existing bronze table.
Batches are listed in ``bronze_batches`` with a SHA-256 of their content: ingesting the same batch
again is a no-op that reports the batch it duplicates. Triggers refuse UPDATE and DELETE, so bronze
can always rebuild everything downstream. The clock is the course's one clock
(:mod:`course_etl.clock`), so notebooks pass a simulated one and stay deterministic.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from course_etl.clock import RealClock, TickingClock, TimeSource
from course_etl.db import atomic, quote_identifier
from course_etl.errors import SchemaMismatchError, checked
from course_etl.medallion.dirty import DirtyBatch
from course_etl.medallion.entities import (
    CUSTOMERS,
    ENTITIES,
    ORDERS,
    Entity,
    MedallionInputError,
    entity_named,
)

__all__ = [
    "BATCHES_TABLE",
    "IngestResult",
    "ensure_bronze",
    "ingest_batch",
    "ingest_dirty_batch",
    "fixed_clock",
    "format_utc",
    "missing_columns",
]

BATCHES_TABLE = "bronze_batches"


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion did: the batch id it got (or the one it duplicates) and its rows."""

    entity: str
    batch_id: int
    rows: int
    content_hash: str
    duplicate: bool  # True: this content was ingested before as ``batch_id``; nothing written

    def __str__(self) -> str:
        if self.duplicate:
            return (f"{self.entity}: same content as batch {self.batch_id} "
                    f"({self.rows} rows) — nothing written")
        return f"{self.entity}: batch {self.batch_id} ingested, {self.rows} rows"


@checked
def fixed_clock(start: datetime | str = "2024-10-01T06:00:00Z", step: timedelta = timedelta(hours=1)
                ) -> TickingClock:
    """A clock that reads ``start``, then ``start + step``, … (one batch per reading)."""
    return TickingClock(start, step)


@checked
def format_utc(moment: datetime) -> str:
    """ISO-8601 UTC with a Z, to the second: the one timestamp form silver and bronze store."""
    if moment.tzinfo is None:
        raise MedallionInputError(
            f"timestamp {moment!r} has no time zone: pass an aware datetime (UTC)", value=moment)
    return _format_utc(moment)


def _format_utc(moment: datetime) -> str:
    # Unchecked, for an aware moment: conform() formats every timestamp of every row with it.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@checked
def ensure_bronze(conn: sqlite3.Connection) -> None:
    """Create the batches table and one append-only table per entity (idempotent)."""
    with atomic(conn):
        batch_id_sql, entity_sql, source_sql, count_sql, at_sql, hash_sql = _batch_columns_sql()
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(BATCHES_TABLE)} ("
            f" {batch_id_sql} INTEGER PRIMARY KEY AUTOINCREMENT, {entity_sql} TEXT NOT NULL,"
            f" {source_sql} TEXT NOT NULL, {count_sql} INTEGER NOT NULL,"
            f" {at_sql} TEXT NOT NULL, {hash_sql} TEXT NOT NULL UNIQUE)"
        )
        for entity in ENTITIES.values():
            table = entity.bronze_table
            columns_sql = ", ".join(f"{quote_identifier(c)} TEXT" for c in entity.raw_columns)
            row_sql, batch_sql, source_sql, at_sql = _lineage_columns_sql()
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_identifier(table)} ("
                f" {row_sql} INTEGER PRIMARY KEY AUTOINCREMENT,"
                f" {batch_sql} INTEGER NOT NULL REFERENCES {quote_identifier(BATCHES_TABLE)},"
                f" {source_sql} TEXT NOT NULL, {at_sql} TEXT NOT NULL, {columns_sql})"
            )
            # A column added to the entity since the table was made: earlier rows hold NULL.
            for column in missing_columns(conn, table, entity.raw_columns):
                conn.execute(f"ALTER TABLE {quote_identifier(table)} "
                             f"ADD COLUMN {quote_identifier(column)} TEXT")
            for action_sql in ("UPDATE", "DELETE"):  # keywords, fixed here
                verb = action_sql.lower()
                message = f"{table} is append-only: ingest a new batch instead of {verb}-ing rows"
                # RAISE takes a literal, not a parameter: SQLite's quote() spells the message
                # as one, so no character of it can end the string early.
                message_sql = conn.execute("SELECT quote(?)", (message,)).fetchone()[0]
                conn.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {quote_identifier(f'{table}_no_{verb}')} "
                    f"BEFORE {action_sql} ON {quote_identifier(table)} "
                    f"BEGIN SELECT RAISE(ABORT, {message_sql}); END"
                )


def _batch_columns_sql() -> tuple[str, ...]:
    """The batches table's columns, quoted, in declared order."""
    return tuple(quote_identifier(c) for c in (
        "batch_id", "entity", "source", "row_count", "ingested_at", "content_hash"))


def _lineage_columns_sql() -> tuple[str, ...]:
    """A bronze table's own columns, quoted: _bronze_row, _batch_id, _source, _ingested_at."""
    return tuple(quote_identifier(c) for c in (
        "_bronze_row", "_batch_id", "_source", "_ingested_at"))


def _as_text(value: object) -> str | None:
    """A received value as bronze keeps it: text, or NULL for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


@checked
def missing_columns(conn: sqlite3.Connection, table: str, columns: Iterable[str]) -> list[str]:
    """The ``columns`` that ``table`` (which exists) does not have yet, in order."""
    have = {row[0] for row in conn.execute("SELECT name FROM pragma_table_info(?)", (table,))}
    return [c for c in columns if c not in have]


def _columns_text(entity: Entity) -> str:
    """An entity's raw columns for a message: ``id, name; optional: segment``."""
    optional = [c for c in entity.raw_columns if c not in entity.required_columns]
    return ", ".join(entity.required_columns) + (
        f"; optional: {', '.join(optional)}" if optional else "")


def _differences(missing: list[str], extra: list[str]) -> str:
    """``missing a, b; unexpected c``, leaving out an empty side."""
    return "; ".join(part for part in (f"missing {', '.join(missing)}" if missing else "",
                                       f"unexpected {', '.join(extra)}" if extra else "")
                     if part)


def _raw_rows(entity: Entity, records: pd.DataFrame | Iterable[Mapping]) -> list[tuple]:
    """The batch's rows as text tuples in the entity's column order; an optional column the
    batch leaves out is None. Raises SchemaMismatchError for missing or unexpected columns."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    received = [str(c) for c in frame.columns]
    missing = [c for c in entity.required_columns if c not in received]
    extra = [c for c in received if c not in entity.raw_columns]
    if (missing or extra) and len(frame):
        raise SchemaMismatchError(
            f"batch for {entity.bronze_table!r} does not match its columns "
            f"({_columns_text(entity)}): {_differences(missing, extra)}. Rename or drop columns "
            "before ingesting (bronze keeps one schema per source).",
            table=entity.bronze_table, missing=missing, unexpected=extra,
            known=list(entity.raw_columns))
    if not len(frame):
        return []
    frame = frame.reindex(columns=list(entity.raw_columns))  # absent optional columns: NaN
    ordered = frame.astype(object)
    return [tuple(_as_text(v) for v in row) for row in ordered.itertuples(index=False)]


def _content_hash(entity: Entity, source: str, rows: list[tuple]) -> str:
    """SHA-256 of the batch's content. An optional column the batch left out (or sent empty)
    does not count, so a column added to the entity later does not change an old batch's hash
    and re-sending it is still recognised."""
    sent = [i for i, field in enumerate(entity.fields)
            if field.required or any(row[i] is not None for row in rows)]
    payload = json.dumps(
        {"entity": entity.name, "source": source,
         "columns": tuple(entity.raw_columns[i] for i in sent),
         "rows": [tuple(row[i] for i in sent) for row in rows]},
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@checked
def ingest_batch(
    conn: sqlite3.Connection,
    entity: str,
    records: pd.DataFrame | Iterable[Mapping],
    *,
    source: str | None = None,
    clock: TimeSource | None = None,
) -> IngestResult:
    """Append one batch of ``entity`` records to bronze, values kept as text, in one transaction.

    ``records`` must have the entity's required columns and may have its optional ones (any
    order); an optional column left out is stored as NULL. A batch whose content (source,
    columns, rows in order) was ingested before writes nothing and returns that batch's id with
    ``duplicate=True``. Raises UnknownTableError for an unknown entity, SchemaMismatchError for
    missing or unexpected columns, MedallionInputError for an empty batch; nothing is written
    then.
    """
    spec = entity_named(entity)
    source = source or spec.source
    rows = _raw_rows(spec, records)
    if not rows:
        raise MedallionInputError(
            f"empty batch for {spec.bronze_table!r}: there is nothing to ingest",
            table=spec.bronze_table, value=records)
    digest = _content_hash(spec, source, rows)
    ensure_bronze(conn)
    with atomic(conn):
        batch_id_sql, entity_sql, source_sql, count_sql, at_sql, hash_sql = _batch_columns_sql()
        seen = conn.execute(
            f"SELECT {batch_id_sql} FROM {quote_identifier(BATCHES_TABLE)} WHERE {hash_sql} = ?",
            (digest,),
        ).fetchone()
        if seen:
            return IngestResult(spec.name, seen[0], len(rows), digest, duplicate=True)
        ingested_at = format_utc((clock or RealClock()).now())
        batch_id = conn.execute(
            f"INSERT INTO {quote_identifier(BATCHES_TABLE)} "
            f"({entity_sql}, {source_sql}, {count_sql}, {at_sql}, {hash_sql}) "
            f"VALUES (?, ?, ?, ?, ?) RETURNING {batch_id_sql}",
            (spec.name, source, len(rows), ingested_at, digest),
        ).fetchone()[0]
        columns_sql = ", ".join(quote_identifier(c) for c in spec.raw_columns)
        placeholders_sql = ", ".join("?" * len(spec.raw_columns))
        _, lineage_batch_sql, lineage_source_sql, lineage_at_sql = _lineage_columns_sql()
        conn.executemany(
            f"INSERT INTO {quote_identifier(spec.bronze_table)} "
            f"({lineage_batch_sql}, {lineage_source_sql}, {lineage_at_sql}, {columns_sql}) "
            f"VALUES (?, ?, ?, {placeholders_sql})",
            [(batch_id, source, ingested_at, *row) for row in rows],
        )
    return IngestResult(spec.name, batch_id, len(rows), digest, duplicate=False)


@checked
def ingest_dirty_batch(
    conn: sqlite3.Connection, batch: DirtyBatch, *, clock: TimeSource | None = None
) -> list[IngestResult]:
    """Ingest a :class:`DirtyBatch`: its customers, then its orders (one bronze batch each)."""
    return [
        ingest_batch(conn, CUSTOMERS.name, batch.customers, clock=clock),
        ingest_batch(conn, ORDERS.name, batch.orders, clock=clock),
    ]
