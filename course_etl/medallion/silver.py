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
import re
import sqlite3
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from course_etl.db import atomic, quote_identifier
from course_etl.errors import CourseEtlError
from course_etl.loads.watermarks import read_watermark
from course_etl.medallion.bronze import BATCHES_TABLE, ensure_bronze, format_utc
from course_etl.medallion.entities import ENTITIES, SILVER_TYPES, Entity, Field

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
_INTEGER = re.compile(r"[+-]?\d+")
_MONEY = re.compile(r"-?\d+(?:[.,]\d{1,2})?")
_EPOCH = re.compile(r"\d{9,10}")
# Formats seen in the sources besides ISO-8601 (which datetime.fromisoformat reads, 'Z' included).
# Day-first with dots only: '01/02/2024' could be either order, so slashes are accepted year-first.
_OTHER_TIMESTAMP_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S")


class RuleError(CourseEtlError):
    """A business rule raised instead of returning a reason or None."""


@dataclass(frozen=True)
class Rule:
    """A business rule: ``check(row)`` gets a conformed row (silver column names, typed values,
    every required value present) and returns the reason it fails, or None when it passes."""

    name: str
    entity: str
    check: Callable[[dict], str | None]


def _amount_positive(row: dict) -> str | None:
    cents = row["amount_cents"]
    return f"amount {cents / 100:.2f} is not positive" if cents <= 0 else None


#: Business rules beyond "present and parsable", applied on every run.
DEFAULT_RULES = (Rule("amount_not_positive", "orders", _amount_positive),)


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


def _column_defs(entity: Entity, *, key_is_primary: bool) -> str:
    defs = []
    for field in entity.fields:
        sql_type = SILVER_TYPES[field.kind]
        constraint = " NOT NULL" if field.required else ""
        if key_is_primary and field.name == entity.key:
            constraint = " PRIMARY KEY NOT NULL"
        defs.append(f"{quote_identifier(field.silver_name)} {sql_type}{constraint}")
    return ", ".join(defs)


def ensure_silver(conn: sqlite3.Connection) -> None:
    """Create the silver, superseded and rejects tables if missing (idempotent)."""
    ensure_bronze(conn)
    with atomic(conn):
        for entity in ENTITIES.values():
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_identifier(entity.silver_table)} ("
                f"{_column_defs(entity, key_is_primary=True)}, "
                "_batch_id INTEGER NOT NULL, _bronze_row INTEGER NOT NULL UNIQUE)"
            )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_identifier(entity.superseded_table)} ("
                f"{_column_defs(entity, key_is_primary=False)}, _batch_id INTEGER NOT NULL, "
                "_bronze_row INTEGER PRIMARY KEY, superseded_by INTEGER NOT NULL, "
                "reason TEXT NOT NULL)"
            )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(REJECTS_TABLE)} ("
            " entity TEXT NOT NULL, _bronze_row INTEGER NOT NULL, _batch_id INTEGER NOT NULL,"
            " rule TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL,"
            " PRIMARY KEY (entity, _bronze_row))"
        )


def drop_silver(conn: sqlite3.Connection) -> None:
    """Drop every silver table (bronze is untouched): the first step of a rebuild."""
    with atomic(conn):
        for entity in ENTITIES.values():
            for table in (entity.silver_table, entity.superseded_table):
                conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(REJECTS_TABLE)}")


# --- Conforming one row -----------------------------------------------------------------------


def clean_text(value: str | None) -> str | None:
    """Trim, collapse runs of whitespace to one space; an empty result is a missing value."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def parse_timestamp(text: str) -> str:
    """Parse a timestamp in any format the sources send to ISO-8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``.

    Reads ISO-8601 (``T`` or space, optional seconds, ``Z`` or an offset, or a bare date),
    ``DD.MM.YYYY HH:MM[:SS]``, ``YYYY/MM/DD HH:MM:SS`` and Unix seconds. Values without a zone
    are taken as UTC. Raises ValueError for anything else, including impossible dates.
    """
    if _EPOCH.fullmatch(text):
        return format_utc(datetime.fromtimestamp(int(text), UTC))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _OTHER_TIMESTAMP_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{text!r} is not a timestamp in any known format") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_utc(moment)


def parse_money(text: str) -> int:
    """Parse an amount ('12.50', '12,50', '12') to cents; raises ValueError otherwise."""
    if not _MONEY.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount (expected e.g. 12.50 or 12,50)")
    try:
        return int(Decimal(text.replace(",", ".")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern above already excludes these
        raise ValueError(f"{text!r} is not an amount") from None


def _conform_value(field: Field, text: str) -> object:
    if field.kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(f"{text!r} is not an integer")
        return int(text)
    if field.kind == "city":
        return string.capwords(text)
    if field.kind == "timestamp":
        return parse_timestamp(text)
    if field.kind == "money":
        return parse_money(text)
    return text


def conform(
    entity: Entity, raw: dict, rules: Sequence[Rule] = ()
) -> tuple[dict, list[tuple[str, str]]]:
    """Conform one raw bronze row: ``(typed row, [(rule, reason), …])``; no failures = valid.

    Built-in rules per field: ``<field>_missing`` (a required value is NULL or blank) and
    ``<field>_unparsable`` (it cannot be read as its kind). ``rules`` for this entity run only on
    rows that pass the built-in ones, so they may rely on every required value being there.
    Raises RuleError when a rule itself fails.
    """
    typed: dict = {}
    failures: list[tuple[str, str]] = []
    for field in entity.fields:
        text = clean_text(raw.get(field.name))
        if text is None:
            typed[field.silver_name] = None
            if field.required:
                failures.append((f"{field.name}_missing", f"{field.name} is missing"))
            continue
        try:
            typed[field.silver_name] = _conform_value(field, text)
        except ValueError as error:
            typed[field.silver_name] = None
            failures.append((f"{field.name}_unparsable", f"{field.name}: {error}"))
    if not failures:
        for rule in rules:
            if rule.entity != entity.name:
                continue
            try:
                reason = rule.check(dict(typed))  # a copy: a rule cannot change the row
            except Exception as error:
                raise RuleError(
                    f"rule {rule.name!r} raised {type(error).__name__}: {error} on {typed}; "
                    "fix the rule (it gets typed values, every required one present) and run "
                    "again: nothing was written"
                ) from error
            if reason:
                failures.append((rule.name, str(reason)))
    return typed, failures


# --- Staging and merging ----------------------------------------------------------------------


def _stage_table(entity: Entity) -> str:
    return quote_identifier(f"_stage_{entity.name}")


def stage(
    conn: sqlite3.Connection, entity: Entity, *, after_batch: int, rules: Iterable[Rule] = ()
) -> StageResult:
    """Conform the bronze rows of batches after ``after_batch`` into a temp stage table.

    Rejected rows are written to ``silver_rejects``; the rest to ``temp._stage_<entity>``, which
    :func:`merge` consumes. ``rules`` run after :data:`DEFAULT_RULES`. Call inside the run's
    transaction.
    """
    rules = DEFAULT_RULES + tuple(rules)
    raw_columns = ", ".join(quote_identifier(c) for c in entity.raw_columns)
    cursor = conn.execute(
        f"SELECT _bronze_row, _batch_id, {raw_columns} FROM "
        f"{quote_identifier(entity.bronze_table)} WHERE _batch_id > ? ORDER BY _bronze_row",
        (after_batch,),
    )
    staged, rejects = [], []
    bronze_rows = 0
    for bronze_row, batch_id, *values in cursor.fetchall():
        bronze_rows += 1
        raw = dict(zip(entity.raw_columns, values, strict=True))
        typed, failures = conform(entity, raw, rules)
        if failures:
            rejects.append((
                entity.name, bronze_row, batch_id, failures[0][0],
                "; ".join(reason for _, reason in failures),
                json.dumps(raw, ensure_ascii=False),
            ))
        else:
            staged.append((*(typed[c] for c in entity.silver_columns), batch_id, bronze_row))
    table = _stage_table(entity)
    columns = ", ".join(quote_identifier(c) for c in entity.silver_columns)
    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
    conn.execute(
        f"CREATE TEMP TABLE {table} ({columns}, _batch_id INTEGER, _bronze_row INTEGER)"
    )
    placeholders = ", ".join("?" * (len(entity.silver_columns) + 2))
    conn.executemany(f"INSERT INTO temp.{table} VALUES ({placeholders})", staged)
    conn.executemany(
        f"INSERT INTO {quote_identifier(REJECTS_TABLE)} "
        "(entity, _bronze_row, _batch_id, rule, reason, raw) VALUES (?, ?, ?, ?, ?, ?)",
        rejects,
    )
    return StageResult(entity.name, bronze_rows, len(staged), len(rejects))


def staged_keys_sql(entity: Entity) -> str:
    """A subquery listing the business keys in the entity's stage table."""
    return f"SELECT {quote_identifier(entity.key)} FROM temp.{_stage_table(entity)}"


def merge(conn: sqlite3.Connection, entity: Entity) -> MergeResult:
    """Merge the staged rows into silver: per key the latest version wins, the rest are kept
    in the superseded table with the row that beat them and why. Call inside the transaction."""
    silver = quote_identifier(entity.silver_table)
    superseded = quote_identifier(entity.superseded_table)
    key = quote_identifier(entity.key)
    columns = [quote_identifier(c) for c in entity.silver_columns]
    all_columns = ", ".join([*columns, "_batch_id", "_bronze_row"])
    # A total order that does not depend on the order batches arrived in: a rebuild, a backfill
    # and a clean run keep the same version of every key.
    order = "_stamped DESC, _bronze_row DESC"
    if entity.version:
        order = f"{quote_identifier(entity.version)} DESC, {order}"
    keys = staged_keys_sql(entity)
    stamped = (f"(SELECT b.ingested_at FROM {quote_identifier(BATCHES_TABLE)} AS b "
               "WHERE b.batch_id = u._batch_id)")
    conn.execute("DROP TABLE IF EXISTS temp._ranked")
    conn.execute(
        f"CREATE TEMP TABLE _ranked AS SELECT {all_columns}, "
        f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {order}) AS version_rank FROM ("
        f"SELECT u.*, {stamped} AS _stamped FROM ("
        f"SELECT {all_columns} FROM temp.{_stage_table(entity)} UNION ALL "
        f"SELECT {all_columns} FROM {silver} WHERE {key} IN ({keys})) AS u)"
    )
    # Losing versions: staged rows, and silver rows that a newer staged version now beats.
    moved = conn.execute(
        f"INSERT INTO {superseded} ({all_columns}, superseded_by, reason) "
        f"SELECT {all_columns}, 0, '' FROM temp._ranked WHERE version_rank > 1"
    ).rowcount
    replaced = conn.execute(
        f"DELETE FROM {silver} WHERE _bronze_row IN "
        "(SELECT _bronze_row FROM temp._ranked WHERE version_rank > 1)"
    ).rowcount
    inserted = conn.execute(
        f"INSERT INTO {silver} ({all_columns}) SELECT {all_columns} FROM temp._ranked "
        f"WHERE version_rank = 1 AND _bronze_row NOT IN (SELECT _bronze_row FROM {silver})"
    ).rowcount
    _explain_superseded(conn, entity)
    conn.execute("DROP TABLE temp._ranked")
    # Every replaced key got its new winner inserted too: the rest are keys new to silver.
    return MergeResult(entity.name, inserted=inserted - replaced, replaced=replaced,
                       superseded=moved)


def clear_stage(conn: sqlite3.Connection, entity: Entity) -> None:
    """Drop the entity's stage table once the run no longer needs its keys."""
    conn.execute(f"DROP TABLE IF EXISTS temp.{_stage_table(entity)}")


def _explain_superseded(conn: sqlite3.Connection, entity: Entity) -> None:
    """Point every superseded version of the touched keys at the kept row, and say why it lost.

    Recomputed for all versions of those keys, so a version superseded twice points at the
    final winner, exactly as a rebuild from bronze would record it.
    """
    superseded = quote_identifier(entity.superseded_table)
    silver = quote_identifier(entity.silver_table)
    key = quote_identifier(entity.key)
    same = " AND ".join(
        f"{superseded}.{quote_identifier(c)} IS kept.{quote_identifier(c)}"
        for c in entity.silver_columns
    )
    cases = [f"WHEN {same} THEN 'duplicate: same values as the kept row'"]
    if entity.version:
        version = quote_identifier(entity.version)
        cases.append(
            f"WHEN {superseded}.{version} < kept.{version} "
            f"THEN 'older version: earlier {entity.version}'"
        )
        cases.append(f"ELSE 'tie on {entity.version}: the kept row came later "
                     "(batch stamp, then arrival)'")
    else:
        cases.append("ELSE 're-sent with other values: the kept row came later "
                     "(batch stamp, then arrival)'")
    conn.execute(
        f"UPDATE {superseded} SET superseded_by = kept._bronze_row, "
        f"reason = CASE {' '.join(cases)} END "
        f"FROM {silver} AS kept WHERE kept.{key} = {superseded}.{key} "
        f"AND {superseded}.{key} IN ({staged_keys_sql(entity)})"
    )


# --- Reconciliation ---------------------------------------------------------------------------


def processed_batch(conn: sqlite3.Connection, entity: Entity) -> int:
    """The last bronze batch id silver has processed for ``entity`` (0 before the first run)."""
    mark = read_watermark(conn, entity.silver_table, BATCH_WATERMARK)
    return int(mark.value) if mark else 0


def reconcile(conn: sqlite3.Connection) -> list[Reconciliation]:
    """Per entity, bronze rows of processed batches vs silver + superseded + rejected rows."""
    ensure_silver(conn)
    results = []
    for entity in ENTITIES.values():
        upto = processed_batch(conn, entity)
        results.append(Reconciliation(
            entity=entity.name,
            bronze=_count(conn, entity.bronze_table, "WHERE _batch_id <= ?", (upto,)),
            silver=_count(conn, entity.silver_table),
            superseded=_count(conn, entity.superseded_table),
            rejected=_count(conn, REJECTS_TABLE, "WHERE entity = ?", (entity.name,)),
        ))
    return results


def _count(conn: sqlite3.Connection, table: str, where: str = "", params: tuple = ()) -> int:
    return conn.execute(
        f"SELECT COUNT(*) FROM {quote_identifier(table)} {where}", params).fetchone()[0]
