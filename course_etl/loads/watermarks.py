"""Watermark state, and the checks that make comparing watermarks safe on both sides.

The watermark of a target is the highest ``updated_at`` (or version number) it has loaded. It is
kept in its own table, ``etl_watermarks``, one row per target and column, written in the same
transaction as the data: it is never re-derived from the target, which a failed run may have
half-written (the lecture's ``MAX(updated_at)`` does exactly that).

A load trusts neither side. The stored value, an ``initial_value`` and an ``until`` bound must
each be a real moment (or integer) of the column's format (:mod:`.formats`). Every value of the
source column must have that format, wherever it sorts: a value of another shape can sort
*below* the watermark ('10/05/2024', ' 2024-…', an epoch number) and would never be read, so the
check is one pass over the whole column, not only over the rows a load reads. The rows it reads
must be real moments, and no value may lie beyond now + :data:`.formats.FUTURE_TOLERANCE`: one
row stamped 2999-12-31 would move the watermark past every row written until then. Each refusal
names the row (key and value) or the state row, and the fix.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from course_etl.db import TableRef, atomic, quote_identifier, table_exists
from course_etl.loads import formats
from course_etl.loads.errors import WatermarkError
from course_etl.loads.guards import check_connection, check_name, shown

__all__ = [
    "STATE_TABLE",
    "Watermark",
    "ensure_state_table",
    "read_watermark",
    "write_watermark",
    "reset_watermark",
    "delete_watermark",
    "checked_stored",
    "check_bound",
    "check_column",
    "check_read_values",
    "checked_highest",
    "lower_bound",
    "later",
    "moment_in_format",
]

STATE_TABLE = "etl_watermarks"


@dataclass(frozen=True)
class Watermark:
    """A stored watermark: the highest value loaded and the format every value must share."""

    value: str | int
    format: str


def ensure_state_table(conn: sqlite3.Connection) -> None:
    """Create the watermark state table if it is missing (idempotent)."""
    # "value" has no declared type, so SQLite keeps integers as integers and text as text.
    target_sql, column_sql, value_sql, format_sql = _state_columns_sql()
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(STATE_TABLE)} ("
        f" {target_sql} TEXT NOT NULL, {column_sql} TEXT NOT NULL, {value_sql},"
        f" {format_sql} TEXT NOT NULL, PRIMARY KEY ({target_sql}, {column_sql}))"
    )


def _state_columns_sql() -> tuple[str, str, str, str]:
    """The state table's columns, quoted: target, watermark_column, value, format."""
    return tuple(quote_identifier(c) for c in ("target", "watermark_column", "value", "format"))


def read_watermark(conn: sqlite3.Connection, target: str, column: str) -> Watermark | None:
    """The stored watermark of ``target.column`` as stored, or None before the first load.

    The value is returned as found (a load checks it with :func:`checked_stored`); the format is
    recomputed from the value, so a hand-edited ``format`` column cannot mislead a load.
    Raises LoadOptionError for a ``conn``, ``target`` or ``column`` of the wrong type.
    """
    check_connection(conn)
    check_name(target, "target")
    check_name(column, "column")
    if not table_exists(conn, STATE_TABLE):  # reading never writes, not even the state table
        return None
    target_sql, column_sql, value_sql, _ = _state_columns_sql()
    row = conn.execute(
        f"SELECT {value_sql} FROM {quote_identifier(STATE_TABLE)} "
        f"WHERE {target_sql} = ? AND {column_sql} = ?",
        (target, column),
    ).fetchone()
    return Watermark(row[0], formats.classify(row[0])) if row else None


def write_watermark(
    conn: sqlite3.Connection, target: str, column: str, watermark: Watermark
) -> None:
    """Store the watermark; call it inside the load's transaction so both commit together."""
    ensure_state_table(conn)
    target_sql, column_sql, value_sql, format_sql = _state_columns_sql()
    conn.execute(
        f"INSERT INTO {quote_identifier(STATE_TABLE)} "
        f"({target_sql}, {column_sql}, {value_sql}, {format_sql}) "
        f"VALUES (?, ?, ?, ?) ON CONFLICT ({target_sql}, {column_sql}) "
        f"DO UPDATE SET {value_sql} = excluded.{value_sql}, {format_sql} = excluded.{format_sql}",
        (target, column, watermark.value, watermark.format),
    )


def delete_watermark(conn: sqlite3.Connection, target: str, column: str | None = None) -> int:
    """Forget the watermark(s) of ``target`` inside the caller's transaction; returns the count."""
    if not table_exists(conn, STATE_TABLE):
        return 0
    target_sql, column_sql, _, _ = _state_columns_sql()
    sql = f"DELETE FROM {quote_identifier(STATE_TABLE)} WHERE {target_sql} = ?"
    params: tuple = (target,)
    if column is not None:
        sql += f" AND {column_sql} = ?"
        params += (column,)
    return conn.execute(sql, params).rowcount


def reset_watermark(conn: sqlite3.Connection, target: str, column: str | None = None) -> int:
    """Forget the watermark(s) of ``target`` so the next incremental load is a backfill.

    Returns how many were forgotten. Raises LoadOptionError for arguments of the wrong type.
    """
    check_connection(conn)
    check_name(target, "target")
    check_name(column, "column", required=False)
    with atomic(conn):
        return delete_watermark(conn, target, column)


def checked_stored(stored: Watermark, target: str, column: str) -> Watermark:
    """The stored watermark if it is a real moment or integer not in the future, else refuse.

    A NULL, 'abc', 1.5 or 2999-12-31 in ``etl_watermarks`` would make every later run read
    nothing (or fail), so it is refused with where it lives and how to repair it.
    """
    fmt = stored.format
    problem = None
    if not formats.is_format(fmt):
        problem = f"is {shown(stored.value)}, which is not a timestamp or an integer"
    elif _in_future(stored.value, fmt):
        problem = f"is {shown(stored.value)}, later than tomorrow"
    if problem:
        raise WatermarkError(
            f"the stored watermark of {target}.{column} (table {STATE_TABLE}) {problem}: the "
            "state table was edited or damaged, and every load from it would skip rows. Run a "
            f"full load (it rewrites the watermark), or reset it with reset_watermark(conn, "
            f"{target!r}, {column!r}) and load again", table=STATE_TABLE, target=target,
            column=column, value=stored.value, reason=problem)
    return stored


def check_bound(value: object, option: str, column: str, column_format: str | None) -> str:
    """Check ``initial_value`` or ``until`` (``option``) against the column's format.

    Returns the bound's format. Raises WatermarkError naming the option, the value and the fix.
    """
    fmt = formats.classify(value)
    example = "'2024-10-01', '2024-10-01 00:00:00' or an integer version"
    reason = None
    if not formats.is_format(fmt):
        reason = (f"is not a timestamp or an integer ({fmt}): write it like the values of "
                  f"{column!r}, e.g. {example}")
    elif option == "initial_value" and _in_future(value, fmt):
        reason = "is later than tomorrow, so no row would load: check the date"
    elif column_format is not None and not formats.compares_with(fmt, column_format):
        reason = (f"({fmt}) does not compare with the {column_format} values of watermark "
                  f"column {column!r}: write it in the same format "
                  "(course_etl.loads.watermarks.moment_in_format does)")
    if reason:
        raise WatermarkError(f"{option}={shown(value)} {reason}", option=option, value=value,
                             reason=reason)
    return fmt


def _in_future(value: object, fmt: str) -> bool:
    limit = formats.future_limit(fmt)
    return limit is not None and isinstance(value, str) and value > limit


def _row_sql(key: tuple[str, ...]) -> str:
    """The key columns of source row ``s`` (its rowid when there is no key), to name a row."""
    return ", ".join(f"s.{quote_identifier(k)}" for k in key) if key else "s.rowid"


def _row(key: tuple[str, ...], values: tuple) -> dict:
    """A source row named by its key (its rowid when there is no key): ``{"id": 7}``."""
    return dict(zip(key or ("rowid",), values, strict=True))


def _row_label(row: dict) -> str:
    return ", ".join(f"{name}={shown(value)}" for name, value in row.items())


def _where(column: str, src: TableRef) -> str:
    return f"watermark column {column!r} of {src.label!r}"


def check_column(conn: sqlite3.Connection, src: TableRef, column: str, key: tuple[str, ...], *,
                 expected: Watermark | None) -> str | None:
    """Check every value of the source column; returns its one format (None: no values).

    Every value must be non-NULL and have the format of the stored watermark (or, before the
    first load, of the column's highest value), and the highest must not be in the future.
    One pass over the column (an index scan when it is indexed), however few rows a load reads.
    Raises WatermarkError naming a culprit row (key and value) and how many there are.
    """
    wm_sql = f"s.{quote_identifier(column)}"
    nulls = conn.execute(
        f"SELECT COUNT(*), {_row_sql(key)} FROM {src.sql} AS s WHERE {wm_sql} IS NULL"
    ).fetchone()
    if nulls[0]:
        row = _row(key, nulls[1:])
        raise WatermarkError(
            f"{nulls[0]} row(s) have a NULL {_where(column, src)} (e.g. row {_row_label(row)}): "
            "a NULL is never at or after a watermark, so those rows would never load. Fill the "
            "column at the source before loading.", table=src.label, column=column,
            rows=nulls[0], value=None, key=key, row=row)
    high = conn.execute(
        f"SELECT {wm_sql}, {_row_sql(key)} FROM {src.sql} AS s "
        f"WHERE {wm_sql} = (SELECT MAX({quote_identifier(column)}) FROM {src.sql}) LIMIT 1"
    ).fetchone()
    if high is None:
        return None
    fmt = expected.format if expected else formats.classify(high[0])
    if not formats.is_format(fmt):
        _refuse_values(1, key, high[1:], high[0], fmt, src, column)
    bad = conn.execute(
        f"SELECT COUNT(*), {wm_sql}, {_row_sql(key)} FROM {src.sql} AS s "
        f"WHERE NOT {formats.shape_sql(fmt, wm_sql)}"
    ).fetchone()
    if bad[0]:
        found = formats.classify(bad[1])
        if formats.is_format(found) or found == "invalid":
            row = _row(key, bad[2:])
            raise WatermarkError(
                f"mixed formats in {_where(column, src)}: {bad[0]} value(s) are not {fmt} like "
                f"the {_reference(expected, key, high)}, e.g. row {_row_label(row)}: "
                f"{shown(bad[1])} ({found}). Text comparison orders them wrongly, so rows would "
                "be skipped. Normalise the source to one format (or reset the watermark).",
                table=src.label, column=column, value=bad[1], rows=bad[0], key=key, row=row,
                expected=fmt, found=found, reference=expected.value if expected else high[0])
        _refuse_values(bad[0], key, bad[2:], bad[1], found, src, column)
    if _in_future(high[0], fmt):
        _refuse_future(key, high, src, column)
    return fmt


def _reference(expected: Watermark | None, key: tuple[str, ...], high: tuple) -> str:
    """What the source's values are compared with: the stored watermark, else the latest."""
    if expected:
        return f"stored watermark {shown(expected.value)}"
    return f"latest value {shown(high[0])}, row {_row_label(_row(key, high[1:]))}"


def _refuse_future(key: tuple[str, ...], high: tuple, src: TableRef, column: str) -> None:
    row = _row(key, high[1:])
    raise WatermarkError(
        f"row {_row_label(row)} has {_where(column, src)} = {shown(high[0])}, later than "
        "tomorrow: loading it would move the watermark past every row written until then, so "
        "they would never load. Fix the value at the source.", table=src.label, column=column,
        value=high[0], rows=1, key=key, row=row)


def _refuse_values(count: int, key: tuple[str, ...], values: tuple, value: object, found: str,
                   src: TableRef, column: str) -> None:
    row = _row(key, values)
    raise WatermarkError(
        f"{count} value(s) in {_where(column, src)} are not timestamps or integers (e.g. row "
        f"{_row_label(row)}: {shown(value)}, "
        f"{'an impossible date or time' if found == 'invalid' else 'not a timestamp'}): use "
        "ISO-8601 text like '2024-10-05' or '2024-10-05 13:00:00', or integers.",
        table=src.label, column=column, value=value, rows=count, key=key, row=row, found=found)


def checked_highest(conn: sqlite3.Connection, src: TableRef, column: str,
                    key: tuple[str, ...]) -> Watermark | None:
    """The watermark a full load stores: the column's highest value, if it is a real moment (or
    integer) not in the future and the lowest value has its format; else refuse naming the row.
    None for a column with no values.

    A full load copies every row whatever its value, so it checks what it stores and, as a cheap
    sign of a format that changed over time, the other end of the column: two index look-ups.
    The next incremental load checks every value before it compares any.
    """
    wm_sql = f"s.{quote_identifier(column)}"
    ends = [conn.execute(
        f"SELECT {wm_sql}, {_row_sql(key)} FROM {src.sql} AS s WHERE {wm_sql} = "
        f"(SELECT {end_sql}({quote_identifier(column)}) FROM {src.sql}) LIMIT 1").fetchone()
        for end_sql in ("MAX", "MIN")]
    high, low = ends
    if high is None:
        return None
    fmt = formats.classify(high[0])
    for end in (high, low):
        found = formats.classify(end[0])
        if not formats.is_format(found):
            _refuse_values(1, key, end[1:], end[0], found, src, column)
    low_format = formats.classify(low[0])
    if low_format != fmt:
        row = _row(key, low[1:])
        raise WatermarkError(
            f"mixed formats in {_where(column, src)}: the highest value {shown(high[0])} ({fmt}, "
            f"row {_row_label(_row(key, high[1:]))}) and the lowest {shown(low[0])} "
            f"({low_format}, row {_row_label(row)}). Text comparison orders them wrongly, so rows "
            "would be skipped. Normalise the source to one format.", table=src.label,
            column=column, value=low[0], key=key, row=row, expected=fmt, found=low_format,
            reference=high[0])
    if _in_future(high[0], fmt):
        _refuse_future(key, high, src, column)
    return Watermark(high[0], fmt)


def check_read_values(conn: sqlite3.Connection, src: TableRef, column: str,
                      key: tuple[str, ...], fmt: str, where_sql: str, params: dict) -> None:
    """The rows a load reads must hold real moments: 2024-02-30 or 24:00 are refused by row."""
    wm_sql = f"s.{quote_identifier(column)}"
    bad = conn.execute(
        f"SELECT COUNT(*), {wm_sql}, {_row_sql(key)} FROM {src.sql} AS s "
        f"WHERE ({where_sql}) AND NOT {formats.valid_sql(fmt, wm_sql)}", params
    ).fetchone()
    if bad[0]:
        _refuse_values(bad[0], key, bad[2:], bad[1], "invalid", src, column)


def lower_bound(watermark: Watermark, lookback: timedelta | int | None) -> str | int:
    """The lowest value the next load reads: the stored watermark minus ``lookback``.

    The bound is inclusive (``>=``): rows that share the stored value, written after the last load
    in the same second or on the same day, are read again and the upsert makes that harmless.
    ``lookback`` is a timedelta for timestamps (days for a date-only format) or an int for
    integer watermarks. Raises WatermarkError when the lookback does not fit the format.
    """
    if not lookback:
        return watermark.value
    moment = formats.parse(watermark.value, watermark.format)
    if watermark.format == "integer":
        if isinstance(lookback, bool) or not isinstance(lookback, int):
            raise WatermarkError(
                f"lookback {shown(lookback)} does not fit the integer watermark "
                f"{watermark.value!r}: pass an int (e.g. lookback=100)",
                option="lookback", value=lookback, reference=watermark.value)
        return max(moment - lookback, -(2**63))
    if not isinstance(lookback, timedelta):
        raise WatermarkError(
            f"lookback {shown(lookback)} does not fit the timestamp watermark "
            f"{watermark.value!r}: pass a timedelta (e.g. lookback=timedelta(hours=2))",
            option="lookback", value=lookback, reference=watermark.value)
    if not isinstance(moment, datetime):
        # Date-only watermarks move in whole days: round the lookback up so nothing is skipped.
        lookback = timedelta(days=lookback.days + (1 if lookback % timedelta(days=1) else 0))
    try:
        return formats.render(moment - lookback, watermark.format)
    except OverflowError:  # back beyond year 1: every row is at or after that bound
        return formats.render(date.min if watermark.format == "YYYY-MM-DD"
                              else datetime.min, watermark.format)


def later(a: Watermark | None, b: Watermark | None) -> Watermark | None:
    """The later of two watermarks of one format (None counts as 'no watermark yet')."""
    if a is None or b is None:
        return a or b
    return a if formats.parse(a.value, a.format) >= formats.parse(b.value, b.format) else b


def moment_in_format(moment: datetime, watermark: Watermark) -> str | None:
    """``moment`` written like the values of ``watermark``, to bound a load by time.

    A date-only watermark gets ``moment``'s date (``< that date`` keeps only days that ended
    before ``moment``); a timestamp gets the same separator, precision and zone suffix, and a
    naive timestamp is read as UTC. An integer watermark (a version number) cannot be bounded
    by a time: None.
    """
    # The value itself says the precision: a format stored by an older version may be vaguer.
    fmt = formats.classify(watermark.value)
    fmt = fmt if formats.is_format(fmt) else watermark.format
    if fmt == "integer":
        return None
    if fmt == "YYYY-MM-DD":
        return moment.date().isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    like = formats.parse(watermark.value, fmt)
    zone = like.tzinfo if isinstance(like, datetime) and like.tzinfo else UTC
    return formats.render(moment.astimezone(zone), fmt)
