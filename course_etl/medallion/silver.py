"""Silver: typed, conformed, deduplicated, and nothing silently dropped.

Each bronze row is conformed in Python (text trimmed and inner spaces collapsed, cities in one
casing, timestamps in any of the formats sources send parsed to ISO-8601 UTC ``…Z``, integers and
money parsed; money in cents). A row that fails a rule goes to ``silver_rejects`` with the rule, a
readable reason, its bronze batch and its raw values. Valid rows are deduplicated in SQL by
business key: the latest version by the entity's version column wins; ties go to the batch
stamped latest (its ``ingested_at``, which a scheduled pipeline sets to the run's logical date, so
a day backfilled after later days does not win over them), then to the row received last (higher
``_bronze_row``). Every losing version is kept in ``silver_<entity>_superseded`` with
the row that beat it and why. So :func:`reconcile` can prove, per entity, that
bronze rows = silver rows + superseded versions + rejects.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from course_etl.db import atomic, quote_identifier
from course_etl.errors import SchemaMismatchError, checked
from course_etl.loads.watermarks import read_watermark
from course_etl.medallion.bronze import BATCHES_TABLE, ensure_bronze, missing_columns
from course_etl.medallion.conform import (
    DEFAULT_RULES,
    Rule,
    RuleError,
    _conform,
    clean_text,
    conform,
    parse_money,
    parse_timestamp,
)
from course_etl.medallion.entities import ENTITIES, SILVER_TYPES, Entity

__all__ = [
    "REJECTS_TABLE",
    "RuleError",
    "Rule",
    "DEFAULT_RULES",
    "StageResult",
    "MergeResult",
    "Reconciliation",
    "ensure_silver",
    "drop_silver",
    "clean_text",
    "parse_timestamp",
    "parse_money",
    "conform",
    "stage",
    "merge",
    "clear_stage",
    "staged_keys_sql",
    "processed_batch",
    "reconcile",
]

REJECTS_TABLE = "silver_rejects"
BATCH_WATERMARK = "_batch_id"  # the watermark column: bronze batch ids grow with every ingestion
#: The rejects table's columns, in the order stage() writes them.
REJECT_COLUMNS = ("entity", "_bronze_row", "_batch_id", "rule", "reason", "raw")
_RANKED = "_ranked"  # the temp table merge() ranks the versions of the touched keys in


@dataclass(frozen=True)
class StageResult:
    """One entity's new bronze rows after conforming: how many were staged and rejected."""

    entity: str
    bronze_rows: int
    staged: int
    rejected: int


@dataclass(frozen=True)
class MergeResult:
    """What merging the staged rows into silver did."""

    entity: str
    inserted: int  # keys new to silver
    replaced: int  # keys whose kept version changed
    superseded: int  # versions moved to (or added to) the superseded table


@dataclass(frozen=True)
class Reconciliation:
    """Row accounting of one entity: bronze rows = silver + superseded + rejected."""

    entity: str
    bronze: int
    silver: int
    superseded: int
    rejected: int

    @property
    def balanced(self) -> bool:
        return self.bronze == self.silver + self.superseded + self.rejected

    def __str__(self) -> str:
        sign, mark = ("=", "✓") if self.balanced else ("≠", "✗ rows lost or invented")
        return (f"{self.entity}: {self.bronze} bronze {sign} {self.silver} silver + "
                f"{self.superseded} superseded + {self.rejected} rejected {mark}")


# --- Tables -----------------------------------------------------------------------------------


def _lineage_sql() -> tuple[str, str]:
    """The lineage columns silver keeps from bronze, quoted: _batch_id, _bronze_row."""
    return quote_identifier("_batch_id"), quote_identifier("_bronze_row")


def _column_defs_sql(entity: Entity, *, key_is_primary: bool) -> str:
    defs = []
    for field in entity.fields:
        type_sql = SILVER_TYPES[field.kind]
        constraint_sql = " NOT NULL" if field.required else ""
        if key_is_primary and field.name == entity.key:
            constraint_sql = " PRIMARY KEY NOT NULL"
        defs.append(f"{quote_identifier(field.silver_name)} {type_sql}{constraint_sql}")
    return ", ".join(defs)


@checked
def ensure_silver(conn: sqlite3.Connection) -> None:
    """Create the silver, superseded and rejects tables if missing (idempotent).

    An optional field added to an entity since its tables were made is added to them (earlier
    rows hold NULL); a required one cannot be: :func:`stage` refuses to run until silver is
    rebuilt from bronze.
    """
    ensure_bronze(conn)
    batch_sql, row_sql = _lineage_sql()
    reason_sql = quote_identifier("reason")
    with atomic(conn):
        for entity in ENTITIES.values():
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_identifier(entity.silver_table)} ("
                f"{_column_defs_sql(entity, key_is_primary=True)}, "
                f"{batch_sql} INTEGER NOT NULL, {row_sql} INTEGER NOT NULL UNIQUE)"
            )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_identifier(entity.superseded_table)} ("
                f"{_column_defs_sql(entity, key_is_primary=False)}, {batch_sql} INTEGER NOT NULL, "
                f"{row_sql} INTEGER PRIMARY KEY, {quote_identifier('superseded_by')} INTEGER "
                f"NOT NULL, {reason_sql} TEXT NOT NULL)"
            )
            for table in (entity.silver_table, entity.superseded_table):
                _add_new_fields(conn, entity, table)
        entity_sql = quote_identifier("entity")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(REJECTS_TABLE)} ("
            f" {entity_sql} TEXT NOT NULL, {row_sql} INTEGER NOT NULL,"
            f" {batch_sql} INTEGER NOT NULL, {quote_identifier('rule')} TEXT NOT NULL,"
            f" {reason_sql} TEXT NOT NULL,"
            f" {quote_identifier('raw')} TEXT NOT NULL, PRIMARY KEY ({entity_sql}, {row_sql}))"
        )


def _add_new_fields(conn: sqlite3.Connection, entity: Entity, table: str) -> None:
    """Add the optional fields ``table`` lacks (earlier rows hold NULL). A missing required
    field is left for :func:`stage` to refuse: only a rebuild can give old rows a value."""
    by_name = {f.silver_name: f for f in entity.fields}
    for column in missing_columns(conn, table, entity.silver_columns):
        field = by_name[column]
        if field.required:
            continue
        type_sql = SILVER_TYPES[field.kind]
        conn.execute(f"ALTER TABLE {quote_identifier(table)} ADD COLUMN "
                     f"{quote_identifier(column)} {type_sql}")


def _refuse_missing_required(conn: sqlite3.Connection, entity: Entity) -> None:
    missing = missing_columns(conn, entity.silver_table, entity.silver_columns)
    if missing:
        raise SchemaMismatchError(
            f"{entity.silver_table!r} has no column {', '.join(map(repr, missing))}, which "
            f"{entity.name} now requires: rebuild silver from bronze (rebuild_from_bronze), or "
            "declare a default for it in the course's facts to make it optional",
            table=entity.silver_table, column=missing[0], missing=missing)


@checked
def drop_silver(conn: sqlite3.Connection) -> None:
    """Drop every silver table (bronze is untouched): the first step of a rebuild."""
    with atomic(conn):
        for entity in ENTITIES.values():
            for table in (entity.silver_table, entity.superseded_table):
                conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(REJECTS_TABLE)}")


# --- Staging and merging ----------------------------------------------------------------------


def _stage_table_sql(entity: Entity) -> str:
    return quote_identifier(f"_stage_{entity.name}")


@checked
def stage(
    conn: sqlite3.Connection, entity: Entity, *, after_batch: int, rules: Iterable[Rule] = ()
) -> StageResult:
    """Conform the bronze rows of batches after ``after_batch`` into a temp stage table.

    Rejected rows are written to ``silver_rejects``; the rest to ``temp._stage_<entity>``, which
    :func:`merge` consumes. ``rules`` run after :data:`DEFAULT_RULES`. Call inside the run's
    transaction. Raises SchemaMismatchError when silver lacks a field the entity now requires.
    """
    _refuse_missing_required(conn, entity)
    rules = DEFAULT_RULES + tuple(rules)
    raw_columns_sql = ", ".join(quote_identifier(c) for c in entity.raw_columns)
    batch_sql, row_sql = _lineage_sql()
    cursor = conn.execute(
        f"SELECT {row_sql}, {batch_sql}, {raw_columns_sql} FROM "
        f"{quote_identifier(entity.bronze_table)} WHERE {batch_sql} > ? ORDER BY {row_sql}",
        (after_batch,),
    )
    staged, rejects = [], []
    bronze_rows = 0
    for bronze_row, batch_id, *values in cursor.fetchall():
        bronze_rows += 1
        raw = dict(zip(entity.raw_columns, values, strict=True))
        typed, failures = _conform(entity, raw, rules)  # unchecked: once per row
        if failures:
            # The values as received: an optional column the source did not send is left out.
            sent = {f.name: raw[f.name] for f in entity.fields
                    if f.required or raw[f.name] is not None}
            rejects.append((
                entity.name, bronze_row, batch_id, failures[0][0],
                "; ".join(reason for _, reason in failures),
                json.dumps(sent, ensure_ascii=False),
            ))
        else:
            staged.append((*(typed[c] for c in entity.silver_columns), batch_id, bronze_row))
    table_sql = _stage_table_sql(entity)
    columns_sql = ", ".join(quote_identifier(c) for c in entity.silver_columns)
    conn.execute(f"DROP TABLE IF EXISTS temp.{table_sql}")
    conn.execute(
        f"CREATE TEMP TABLE {table_sql} ({columns_sql}, {batch_sql} INTEGER, {row_sql} INTEGER)"
    )
    placeholders_sql = ", ".join("?" * (len(entity.silver_columns) + 2))
    conn.executemany(f"INSERT INTO temp.{table_sql} VALUES ({placeholders_sql})", staged)
    reject_columns_sql = ", ".join(map(quote_identifier, REJECT_COLUMNS))
    conn.executemany(
        f"INSERT INTO {quote_identifier(REJECTS_TABLE)} "
        f"({reject_columns_sql}) VALUES (?, ?, ?, ?, ?, ?)",
        rejects,
    )
    return StageResult(entity.name, bronze_rows, len(staged), len(rejects))


@checked
def staged_keys_sql(entity: Entity) -> str:
    """A subquery listing the business keys in the entity's stage table."""
    return f"SELECT {quote_identifier(entity.key)} FROM temp.{_stage_table_sql(entity)}"


@checked
def merge(conn: sqlite3.Connection, entity: Entity) -> MergeResult:
    """Merge the staged rows into silver: per key the latest version wins, the rest are kept
    in the superseded table with the row that beat them and why. Call inside the transaction."""
    silver_sql = quote_identifier(entity.silver_table)
    superseded_sql = quote_identifier(entity.superseded_table)
    key_sql = quote_identifier(entity.key)
    batch_sql, row_sql = _lineage_sql()
    all_columns_sql = ", ".join(
        quote_identifier(c) for c in (*entity.silver_columns, "_batch_id", "_bronze_row")
    )
    # A total order that does not depend on the order batches arrived in: a rebuild, a backfill
    # and a clean run keep the same version of every key.
    order_sql = f"{quote_identifier('_stamped')} DESC, {row_sql} DESC"
    if entity.version:
        order_sql = f"{quote_identifier(entity.version)} DESC, {order_sql}"
    keys_sql = staged_keys_sql(entity)
    stamped_sql = (f"(SELECT b.{quote_identifier('ingested_at')} "
                   f"FROM {quote_identifier(BATCHES_TABLE)} AS b "
                   f"WHERE b.{quote_identifier('batch_id')} = u.{batch_sql})")
    ranked_sql, rank_sql = quote_identifier(_RANKED), quote_identifier("version_rank")
    conn.execute(f"DROP TABLE IF EXISTS temp.{ranked_sql}")
    conn.execute(
        f"CREATE TEMP TABLE {ranked_sql} AS SELECT {all_columns_sql}, "
        f"ROW_NUMBER() OVER (PARTITION BY {key_sql} ORDER BY {order_sql}) AS {rank_sql} FROM ("
        f"SELECT u.*, {stamped_sql} AS {quote_identifier('_stamped')} FROM ("
        f"SELECT {all_columns_sql} FROM temp.{_stage_table_sql(entity)} UNION ALL "
        f"SELECT {all_columns_sql} FROM {silver_sql} WHERE {key_sql} IN ({keys_sql})) AS u)"
    )
    # Losing versions: staged rows, and silver rows that a newer staged version now beats.
    moved = conn.execute(
        f"INSERT INTO {superseded_sql} ({all_columns_sql}, "
        f"{quote_identifier('superseded_by')}, {quote_identifier('reason')}) "
        f"SELECT {all_columns_sql}, 0, '' FROM temp.{ranked_sql} WHERE {rank_sql} > 1"
    ).rowcount
    replaced = conn.execute(
        f"DELETE FROM {silver_sql} WHERE {row_sql} IN "
        f"(SELECT {row_sql} FROM temp.{ranked_sql} WHERE {rank_sql} > 1)"
    ).rowcount
    inserted = conn.execute(
        f"INSERT INTO {silver_sql} ({all_columns_sql}) SELECT {all_columns_sql} "
        f"FROM temp.{ranked_sql} WHERE {rank_sql} = 1 "
        f"AND {row_sql} NOT IN (SELECT {row_sql} FROM {silver_sql})"
    ).rowcount
    _explain_superseded(conn, entity)
    conn.execute(f"DROP TABLE temp.{ranked_sql}")
    # Every replaced key got its new winner inserted too: the rest are keys new to silver.
    return MergeResult(entity.name, inserted=inserted - replaced, replaced=replaced,
                       superseded=moved)


@checked
def clear_stage(conn: sqlite3.Connection, entity: Entity) -> None:
    """Drop the entity's stage table once the run no longer needs its keys."""
    conn.execute(f"DROP TABLE IF EXISTS temp.{_stage_table_sql(entity)}")


def _explain_superseded(conn: sqlite3.Connection, entity: Entity) -> None:
    """Point every superseded version of the touched keys at the kept row, and say why it lost.

    Recomputed for all versions of those keys, so a version superseded twice points at the
    final winner, exactly as a rebuild from bronze would record it.
    """
    superseded_sql = quote_identifier(entity.superseded_table)
    silver_sql = quote_identifier(entity.silver_table)
    key_sql = quote_identifier(entity.key)
    same_sql = " AND ".join(
        f"{superseded_sql}.{quote_identifier(c)} IS kept.{quote_identifier(c)}"
        for c in entity.silver_columns
    )
    # The reasons are SQL text with the version column's name in them: a value, so a parameter.
    cases_sql = f"WHEN {same_sql} THEN 'duplicate: same values as the kept row' "
    params: tuple[str, ...] = ()
    if entity.version:
        version_sql = quote_identifier(entity.version)
        cases_sql += (
            f"WHEN {superseded_sql}.{version_sql} < kept.{version_sql} "
            "THEN 'older version: earlier ' || ? "
            "ELSE 'tie on ' || ? || ': the kept row came later (batch stamp, then arrival)'"
        )
        params = (entity.version, entity.version)
    else:
        cases_sql += ("ELSE 're-sent with other values: the kept row came later "
                      "(batch stamp, then arrival)'")
    _, row_sql = _lineage_sql()
    conn.execute(
        f"UPDATE {superseded_sql} SET {quote_identifier('superseded_by')} = kept.{row_sql}, "
        f"{quote_identifier('reason')} = CASE {cases_sql} END "
        f"FROM {silver_sql} AS kept WHERE kept.{key_sql} = {superseded_sql}.{key_sql} "
        f"AND {superseded_sql}.{key_sql} IN ({staged_keys_sql(entity)})",
        params,
    )


# --- Reconciliation ---------------------------------------------------------------------------


@checked
def processed_batch(conn: sqlite3.Connection, entity: Entity) -> int:
    """The last bronze batch id silver has processed for ``entity`` (0 before the first run)."""
    mark = read_watermark(conn, entity.silver_table, BATCH_WATERMARK)
    return int(mark.value) if mark else 0


@checked
def reconcile(conn: sqlite3.Connection) -> list[Reconciliation]:
    """Per entity, bronze rows of processed batches vs silver + superseded + rejected rows."""
    ensure_silver(conn)
    batch_sql, _ = _lineage_sql()
    entity_sql = quote_identifier("entity")
    results = []
    for entity in ENTITIES.values():
        upto = processed_batch(conn, entity)
        results.append(Reconciliation(
            entity=entity.name,
            bronze=_count(conn, entity.bronze_table, f"WHERE {batch_sql} <= ?", (upto,)),
            silver=_count(conn, entity.silver_table),
            superseded=_count(conn, entity.superseded_table),
            rejected=_count(conn, REJECTS_TABLE, f"WHERE {entity_sql} = ?", (entity.name,)),
        ))
    return results


def _count(
    conn: sqlite3.Connection, table: str, where_sql: str = "", params: tuple = ()
) -> int:
    return conn.execute(
        f"SELECT COUNT(*) FROM {quote_identifier(table)} {where_sql}", params).fetchone()[0]
