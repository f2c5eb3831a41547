"""The checks a load runs on its input before the first write, so a bad call changes nothing.

Arguments of the right type (:func:`check_connection`, :func:`check_name`, :func:`as_key`,
:func:`check_bound_type`, :func:`check_flag`, :func:`check_share`, the batch size and lookback),
a target that is neither the source nor inside the attached source database, keys that an upsert
can match (unique, never NULL), and one ceiling on how much of the target a load may delete,
shared by a full load and an incremental load that reconciles deletes. Each raises a
:mod:`course_etl.loads.errors` error carrying the offending value and naming the argument.
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
)

__all__ = [
    "DEFAULT_MAX_DELETE_SHARE",
    "shown",
    "check_connection",
    "check_name",
    "as_key",
    "check_bound_type",
    "check_flag",
    "check_share",
    "check_batch_size",
    "check_lookback",
    "check_target",
    "unique_column_sets",
    "check_unique_key",
    "check_keys",
    "count_gone",
    "guard_deletes",
]

# A load may delete at most this share of the target's rows unless told otherwise: a source
# emptied or truncated by mistake looks exactly like "every customer left". One ceiling for a
# full load and for an incremental load that reconciles deletes.
DEFAULT_MAX_DELETE_SHARE = 0.5
_INT64 = range(-(2**63), 2**63)


def _kind(value: object) -> str:
    return type(value).__name__


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters; an integer too long for
    Python to print (over 4,300 digits) is described by its size instead."""
    try:
        text = repr(value)
    except ValueError:
        return f"an integer of {value.bit_length()} bits" if isinstance(value, int) else (
            f"a {_kind(value)} too large to print")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_connection(conn: object) -> sqlite3.Connection:
    """Raise LoadOptionError unless ``conn`` is an open sqlite3 connection."""
    if not isinstance(conn, sqlite3.Connection):
        raise LoadOptionError(
            f"conn must be a sqlite3.Connection (course_etl.connect(...)), not {_kind(conn)}",
            option="conn", value=conn)
    try:
        conn.in_transaction  # noqa: B018 - raises on a closed connection, runs no SQL
    except sqlite3.ProgrammingError:
        raise LoadOptionError("conn is closed: open it again with course_etl.connect(...)",
                              option="conn", value=conn) from None
    return conn


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: SQLite could not even receive it
        return False
    return True


def check_name(value: object, option: str, *, required: bool = True) -> str | None:
    """A table or column name given as ``option``: a non-empty str (None when not required)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or not _encodable(value):
        raise LoadOptionError(
            f"{option} must be a {'table' if option in ('source', 'target') else 'column'} name "
            f"(a non-empty str), not {shown(value)} ({_kind(value)})", option=option, value=value)
    return value


def as_key(key: object) -> tuple[str, ...]:
    """``key`` as a tuple of column names: one name, or a list or tuple of distinct names."""
    names = (key,) if isinstance(key, str) else key
    if not isinstance(names, list | tuple) or not names or not all(
            isinstance(n, str) and n and _encodable(n) for n in names):
        raise LoadOptionError(
            "key must be a column name or a list of column names, "
            f"not {shown(key)} ({_kind(key)})", option="key", value=key)
    if len(set(names)) != len(names):
        raise LoadOptionError(f"key {shown(key)} names a column twice", option="key", value=key)
    return tuple(names)


def check_bound_type(value: object, option: str) -> None:
    """``initial_value``/``until``: None, a str or a 64-bit int (what a watermark can hold)."""
    if value is None or (isinstance(value, str) and _encodable(value)) or (
            isinstance(value, int) and not isinstance(value, bool) and value in _INT64):
        return
    raise LoadOptionError(
        f"{option} must be a timestamp written as text ('2024-10-01 00:00:00') or an integer "
        f"version, not {shown(value)} ({_kind(value)})", option=option, value=value)


def check_flag(value: object, option: str) -> bool:
    if not isinstance(value, bool):
        raise LoadOptionError(
            f"{option} must be True or False, not {shown(value)} ({_kind(value)})",
            option=option, value=value)
    return value


def check_share(value: object) -> float | None:
    """``max_delete_share``: None (no limit) or a number from 0 to 1."""
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not 0 <= value <= 1):
        raise LoadOptionError(
            "max_delete_share must be a share from 0 to 1 (e.g. 0.5), or None to allow any "
            f"deletion, not {shown(value)} ({_kind(value)})", option="max_delete_share",
            value=value)
    return float(value)


def _columns_sql(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_identifier(n) for n in names)


def check_batch_size(batch_size: object) -> None:
    """Raise LoadOptionError unless ``batch_size`` is None or an int ≥ 1."""
    if batch_size is not None and (
        not isinstance(batch_size, int) or isinstance(batch_size, bool)
        or not 1 <= batch_size < 2**63
    ):
        raise LoadOptionError(
            f"batch_size must be a positive int or None, not {shown(batch_size)} (e.g. 5000)",
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
    else:  # the range first: a huge int cannot become a float for isfinite()
        bad = not 0 <= lookback < 2**63 or not math.isfinite(lookback)
    if bad:
        raise LoadOptionError(
            f"lookback {shown(lookback)} must be zero or more and finite (e.g. timedelta(hours=2), "
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
        # SQLite needs the index's name (and its schema, for a table in an attached database).
        index_sql = quote_identifier(f"{tgt.name}_{'_'.join(key)}_key")
        if tgt.schema != "main":
            index_sql = f"{quote_identifier(tgt.schema)}.{index_sql}"
        advice_sql = (f"CREATE UNIQUE INDEX {index_sql} ON {quote_identifier(tgt.name)}"
                      f"({_columns_sql(key)})")
        raise SchemaMismatchError(
            f"target {tgt.label!r} has no PRIMARY KEY or UNIQUE index on ({', '.join(key)}), "
            f"which an upsert needs: {advice_sql} first", table=tgt.label, key=key,
            hint=advice_sql)


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


def count_gone(conn: sqlite3.Connection, src: TableRef, tgt: TableRef, match_sql: str
               ) -> tuple[int, int]:
    """(target rows, target rows whose key is missing from the source); ``match_sql`` is the
    condition between source ``s`` and the target's rows."""
    total = conn.execute(f"SELECT COUNT(*) FROM {tgt.sql}").fetchone()[0]
    if not total:
        return 0, 0
    gone = conn.execute(
        f"SELECT COUNT(*) FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {match_sql})"
    ).fetchone()[0]
    return total, gone


_NO_KEY_LEFT = " (none of its keys is left: did the source's extract fail?)"


def guard_deletes(src: TableRef, tgt: TableRef, *, total: int, gone: int,
                  max_share: float | None, flag: str) -> None:
    """Refuse to delete more than ``max_share`` of the target's ``total`` rows (None: no limit).

    The one rule for every load that deletes: a full load and an incremental load reconciling
    deletes. A source that came back empty would remove everything, so it is always refused
    unless the caller said so (``flag`` names how).
    """
    if max_share is None or not total or gone / total <= max_share:
        return
    raise ReconcileGuardError(
        f"the load would remove {gone} of {total} rows of {tgt.label!r} ({gone / total:.0%}, more "
        f"than the allowed {max_share:.0%}) because their key is missing from {src.label!r}"
        f"{_NO_KEY_LEFT if gone == total else ''}: check the source, or pass {flag} to delete "
        "them", table=tgt.label, rows=gone, total=total, share=gone / total,
        max_share=max_share, source=src.label, hint=flag)
