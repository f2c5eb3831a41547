"""The checks a load runs on its input before the first write, so a bad call changes nothing.

Options in range (batch size, lookback), a target that is neither the source nor inside the
attached source database, keys that an upsert can match (unique, never NULL), and a ceiling on
how much of the target reconciling deletes may remove. Each raises a
:mod:`course_etl.loads.errors` error carrying the offending value.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import timedelta

from course_etl.db import TableRef, quote_identifier, split_table_name
from course_etl.loads.errors import (
    KeyIntegrityError,
    LoadOptionError,
    ReconcileGuardError,
    SchemaMismatchError,
    TargetIsSourceError,
    WatermarkError,
)
from course_etl.loads.watermarks import Watermark, format_sql

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "as_key",
    "check_batch_size",
    "check_lookback",
    "check_target",
    "unique_column_sets",
    "check_unique_key",
    "check_keys",
    "check_delete_share",
    "check_until",
]

# Reconciling deletes against a source that was emptied by mistake would wipe the target.
DEFAULT_MAX_DELETE_SHARE = 0.5


def as_key(key: str | Sequence[str]) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def _columns_sql(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_identifier(n) for n in names)


def check_batch_size(batch_size: object) -> None:
    """Raise LoadOptionError unless ``batch_size`` is None or an int ≥ 1."""
    if batch_size is not None and (
        not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1
    ):
        raise LoadOptionError(
            f"batch_size must be a positive int or None, not {batch_size!r} (e.g. 5000)",
            option="batch_size", value=batch_size)


def check_lookback(lookback: object) -> None:
    """Raise LoadOptionError for a negative, NaN or infinite lookback.

    A negative lookback would move the lower bound past the watermark and skip rows for good.
    """
    if lookback is None:
        return
    bad = False
    if isinstance(lookback, timedelta):
        bad = lookback < timedelta(0)
    elif isinstance(lookback, bool) or not isinstance(lookback, int | float):
        bad = True
    else:
        bad = not math.isfinite(lookback) or lookback < 0
    if bad:
        raise LoadOptionError(
            f"lookback {lookback!r} must be zero or more and finite (e.g. timedelta(hours=2), "
            "or an int for an integer watermark)", option="lookback", value=lookback)


def check_target(conn: sqlite3.Connection, src: TableRef, target: str) -> None:
    """Refuse a target that is the source (any spelling or case, or the same file attached
    twice), lies in the source's attached database, is a view, or is one of SQLite's own tables.
    Raises TargetIsSourceError."""
    if not isinstance(target, str) or not target:
        return  # the name check that follows reports it
    schema, name = split_table_name(conn, target)
    if name.lower().startswith("sqlite_"):
        raise TargetIsSourceError(
            f"target {target!r} is a name SQLite reserves for itself: choose another target",
            target=target, source=src.label)
    files = {name.lower(): file for name, file in conn.execute(
        "SELECT name, file FROM pragma_database_list")}
    target_file, source_file = files.get(schema.lower()), files.get(src.schema.lower())
    same_database = schema.lower() == src.schema.lower() or bool(
        target_file and target_file == source_file)
    if same_database and name.lower() == src.name.lower():
        raise TargetIsSourceError(
            f"target {target!r} is the source table {src.label!r} itself: a load into its own "
            f"source would empty it; choose another target (e.g. 'dw_{src.name}')",
            target=target, source=src.label)
    if same_database and src.schema.lower() != "main":
        raise TargetIsSourceError(
            f"target {target!r} is in the source database {src.schema!r}: a load never writes "
            "into its source; name a table in the warehouse", target=target, source=src.label)
    kind = conn.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name = ? "
        "COLLATE NOCASE", (name,)).fetchone()
    if kind and kind[1] == "view":
        raise TargetIsSourceError(
            f"target {target!r} is a view, which cannot be written: load into a table",
            target=target, source=src.label)


def unique_column_sets(conn: sqlite3.Connection, ref: TableRef) -> list[frozenset[str]]:
    """Column sets that are unique in ``ref``: its primary key and every unique index."""
    pk = conn.execute(
        "SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0", (ref.name, ref.schema)
    ).fetchall()
    sets = [frozenset(r[0] for r in pk)] if pk else []
    for index_name, unique, partial in conn.execute(
        'SELECT name, "unique", partial FROM pragma_index_list(?, ?)', (ref.name, ref.schema)
    ).fetchall():
        if unique and not partial:
            cols = conn.execute(
                "SELECT name FROM pragma_index_info(?, ?)", (index_name, ref.schema)
            ).fetchall()
            sets.append(frozenset(r[0] for r in cols))
    return sets


def check_unique_key(conn: sqlite3.Connection, tgt: TableRef, key: tuple[str, ...]) -> None:
    if frozenset(key) not in unique_column_sets(conn, tgt):
        advice_sql = f"CREATE UNIQUE INDEX ON {quote_identifier(tgt.name)}({_columns_sql(key)})"
        raise SchemaMismatchError(
            f"target {tgt.label!r} has no PRIMARY KEY or UNIQUE index on ({', '.join(key)}), "
            f"which an upsert needs: {advice_sql} first", table=tgt.label, key=key
        )


def null_key_error(src: TableRef, key: tuple[str, ...], count: int) -> KeyIntegrityError:
    return KeyIntegrityError(
        f"{count} row(s) of {src.label!r} have a NULL key ({', '.join(key)}): a NULL key "
        "cannot be matched to a target row. Fix or filter them at the source.",
        table=src.label, key=key, rows=count)


def _never_null(conn: sqlite3.Connection, src: TableRef, key: tuple[str, ...]) -> bool:
    info = {name: (declared, notnull, pk) for name, declared, notnull, pk in conn.execute(
        'SELECT name, type, "notnull", pk FROM pragma_table_info(?, ?)', (src.name, src.schema))}
    rowid_alias = len(key) == 1 and info[key[0]][2] == 1 and info[key[0]][0].upper() == "INTEGER"
    return rowid_alias or all(info[k][1] for k in key)


def check_keys(conn: sqlite3.Connection, src: TableRef, key: tuple[str, ...], *,
               where_sql: str = "1", params: dict | None = None,
               nulls: int | None = None) -> None:
    """Raise KeyIntegrityError for NULL or duplicate key values among the rows ``where_sql`` picks.

    ``nulls`` is a NULL count already made by the caller's scan; the source's own constraints
    (a NOT NULL or INTEGER PRIMARY KEY, a unique index) skip the scans they make unnecessary.
    """
    params = params or {}
    if nulls is None and not _never_null(conn, src, key):
        null_key_sql = " OR ".join(f"{quote_identifier(k)} IS NULL" for k in key)
        nulls = conn.execute(
            f"SELECT COUNT(*) FROM {src.sql} WHERE ({where_sql}) AND ({null_key_sql})", params
        ).fetchone()[0]
    if nulls:
        raise null_key_error(src, key, nulls)
    if frozenset(key) in unique_column_sets(conn, src):
        return
    duplicate = conn.execute(
        f"SELECT {_columns_sql(key)}, COUNT(*) FROM {src.sql} WHERE {where_sql} "
        f"GROUP BY {_columns_sql(key)} HAVING COUNT(*) > 1 LIMIT 1",
        params,
    ).fetchone()
    if duplicate:
        value = dict(zip(key, duplicate[:-1], strict=True))
        raise KeyIntegrityError(
            f"key {value} appears {duplicate[-1]} times "
            f"in {src.label!r}: an upsert would keep an arbitrary one. Deduplicate the source "
            "(keep the latest version per key) before loading.",
            table=src.label, key=key, value=value, rows=duplicate[-1])


def check_delete_share(conn: sqlite3.Connection, src: TableRef, tgt: TableRef,
                       key: tuple[str, ...], match_sql: str, *, max_share: float | None) -> None:
    """Refuse to reconcile away more than ``max_share`` of the target's rows (None: no limit).

    ``match_sql`` is the anti-join condition between source ``s`` and the target. A source emptied
    or truncated by mistake looks exactly like "every customer left"; the count tells which.
    """
    if max_share is None:
        return
    total = conn.execute(f"SELECT COUNT(*) FROM {tgt.sql}").fetchone()[0]
    if not total:
        return
    gone = conn.execute(
        f"SELECT COUNT(*) FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {match_sql})"
    ).fetchone()[0]
    if gone / total > max_share:
        raise ReconcileGuardError(
            f"reconciling deletes would remove {gone} of {total} rows of {tgt.label!r} "
            f"({gone / total:.0%}, more than the allowed {max_share:.0%}) because their key is "
            f"missing from {src.label!r}: check the source, or pass max_delete_share=None "
            "(CLI: --force-deletes) to delete them", table=tgt.label, rows=gone, total=total,
            share=gone / total, max_share=max_share)


def check_until(conn: sqlite3.Connection, src: TableRef, column: str, until: object,
                stored: Watermark | None) -> None:
    """An upper bound of another format than the watermark would compare wrongly as text."""
    fmt = conn.execute(f"SELECT {format_sql('v')} FROM (SELECT ? AS v)", (until,)).fetchone()[0]
    expected = stored.format if stored else None
    if expected is None:  # no state yet: compare with the source's own highest value
        high = conn.execute(
            f"SELECT MAX({quote_identifier(column)}) FROM {src.sql}").fetchone()[0]
        if high is not None:
            expected = conn.execute(
                f"SELECT {format_sql('v')} FROM (SELECT ? AS v)", (high,)).fetchone()[0]
    if fmt != expected and (expected is not None or fmt in ("invalid", "unrecognised", "NULL")):
        raise WatermarkError(
            f"upper bound until={until!r} ({fmt}) does not compare with the {expected or 'values'} "
            f"of watermark column {column!r} in {src.label!r}: write it in the same format "
            "(course_etl.loads.watermarks.moment_in_format does)"
        )
