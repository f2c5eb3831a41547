"""Watermark state and the rules that make watermark comparisons safe.

The watermark of a target is the highest ``updated_at`` (or version number) it has loaded. It is
kept in its own table, ``etl_watermarks``, one row per target and column, written in the same
transaction as the data: it is never re-derived from the target, which a failed run may have
half-written (the lecture's ``MAX(updated_at)`` does exactly that).

Comparing watermarks as text is only right when every value has the same shape: '2024-10-05 13:00'
sorts before '2024-10-05T09:00' because ' ' < 'T'. So every value a load compares is classified by
its *format* in SQL (one pass, no Python row loop) and a load refuses mixed, unparsable or NULL
values before it writes anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from course_etl.db import atomic, quote_identifier
from course_etl.errors import WatermarkError

__all__ = [
    "STATE_TABLE",
    "Watermark",
    "ensure_state_table",
    "read_watermark",
    "write_watermark",
    "reset_watermark",
    "format_sql",
    "lower_bound",
    "check_formats",
    "later",
    "moment_in_format",
]

STATE_TABLE = "etl_watermarks"

def format_sql(column_sql: str) -> str:
    """SQL expression naming the format of the value in column expression ``column_sql``.

    Formats: ``integer``, ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm[:ss]`` (or with ``T``), each datetime
    followed by its zone suffix (``Z``, ``+02:00`` or none); ``invalid`` for a value SQLite cannot
    read as a date (e.g. '2024-02-30', '2024-10-05 25:00'); ``unrecognised`` for anything else.
    Values of one format compare correctly as text; values of different formats do not.
    """
    zone_sql = (
        f"CASE WHEN {column_sql} GLOB '*Z' THEN 'Z' "
        f"WHEN substr({column_sql}, -6) GLOB '[+-][0-9][0-9]:[0-9][0-9]' "
        f"THEN substr({column_sql}, -6) "
        "ELSE '' END"
    )
    # date(v, '+0 days') normalises impossible days (Feb 30 -> Mar 1), so it must round-trip.
    valid_date_sql = f"date(substr({column_sql}, 1, 10), '+0 days') = substr({column_sql}, 1, 10)"
    return (
        f"CASE WHEN {column_sql} IS NULL THEN 'NULL' "
        f"WHEN typeof({column_sql}) = 'integer' THEN 'integer' "
        f"WHEN typeof({column_sql}) <> 'text' THEN 'unrecognised' "
        f"WHEN {column_sql} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' THEN "
        f"  CASE WHEN {valid_date_sql} THEN 'YYYY-MM-DD' ELSE 'invalid' END "
        f"WHEN {column_sql} GLOB "
        "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]*' THEN "
        f"  CASE WHEN {valid_date_sql} AND julianday({column_sql}) IS NOT NULL "
        f"    THEN 'YYYY-MM-DD' || substr({column_sql}, 11, 1) || 'hh:mm' || ({zone_sql}) "
        "    ELSE 'invalid' END "
        "ELSE 'unrecognised' END"
    )


@dataclass(frozen=True)
class Watermark:
    """A stored watermark: the highest value loaded and the format every value must share."""

    value: str | int
    format: str


def ensure_state_table(conn: sqlite3.Connection) -> None:
    """Create the watermark state table if it is missing (idempotent)."""
    # "value" has no declared type, so SQLite keeps integers as integers and text as text.
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(STATE_TABLE)} ("
        " target TEXT NOT NULL, watermark_column TEXT NOT NULL, value, format TEXT NOT NULL,"
        " PRIMARY KEY (target, watermark_column))"
    )


def read_watermark(conn: sqlite3.Connection, target: str, column: str) -> Watermark | None:
    """The stored watermark of ``target.column``, or None before the first load."""
    ensure_state_table(conn)
    row = conn.execute(
        f"SELECT value, format FROM {quote_identifier(STATE_TABLE)} "
        "WHERE target = ? AND watermark_column = ?",
        (target, column),
    ).fetchone()
    return Watermark(row[0], row[1]) if row else None


def write_watermark(
    conn: sqlite3.Connection, target: str, column: str, watermark: Watermark
) -> None:
    """Store the watermark; call it inside the load's transaction so both commit together."""
    ensure_state_table(conn)
    conn.execute(
        f"INSERT INTO {quote_identifier(STATE_TABLE)} (target, watermark_column, value, format) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (target, watermark_column) "
        "DO UPDATE SET value = excluded.value, format = excluded.format",
        (target, column, watermark.value, watermark.format),
    )


def reset_watermark(conn: sqlite3.Connection, target: str, column: str | None = None) -> int:
    """Forget the watermark(s) of ``target`` so the next incremental load is a backfill."""
    ensure_state_table(conn)
    sql = f"DELETE FROM {quote_identifier(STATE_TABLE)} WHERE target = ?"
    params: tuple = (target,)
    if column is not None:
        sql += " AND watermark_column = ?"
        params += (column,)
    with atomic(conn):
        return conn.execute(sql, params).rowcount


def _parse(value: str | int, fmt: str) -> datetime | date | int:
    if fmt == "integer":
        return int(value)
    if fmt == "YYYY-MM-DD":
        return date.fromisoformat(str(value))
    return datetime.fromisoformat(str(value))


def _render(moment: datetime | date | int, like: str, fmt: str) -> str | int:
    """Write ``moment`` in the same shape as ``like`` so it compares with it as text."""
    if fmt == "integer":
        return int(moment)
    if fmt == "YYYY-MM-DD":
        return moment.isoformat() if isinstance(moment, date) else str(moment)
    separator = fmt[10]
    text = moment.isoformat(sep=separator)
    if like.endswith("Z") and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def lower_bound(
    watermark: Watermark, lookback: timedelta | int | None
) -> str | int:
    """The lowest value the next load reads: the stored watermark minus ``lookback``.

    The bound is inclusive (``>=``): rows that share the stored value, written after the last load
    in the same second or on the same day, are read again and the upsert makes that harmless.
    ``lookback`` is a timedelta for timestamps (days for a date-only format) or an int for
    integer watermarks. Raises WatermarkError when the lookback does not fit the format.
    """
    if not lookback:
        return watermark.value
    moment = _parse(watermark.value, watermark.format)
    if watermark.format == "integer":
        if not isinstance(lookback, int):
            raise WatermarkError(
                f"lookback {lookback!r} does not fit the integer watermark "
                f"{watermark.value!r}: pass an int (e.g. lookback=100)"
            )
        return moment - lookback
    if not isinstance(lookback, timedelta):
        raise WatermarkError(
            f"lookback {lookback!r} does not fit the timestamp watermark "
            f"{watermark.value!r}: pass a timedelta (e.g. lookback=timedelta(hours=2))"
        )
    if isinstance(moment, datetime):
        return _render(moment - lookback, str(watermark.value), watermark.format)
    # Date-only watermarks move in whole days: round the lookback up so nothing is skipped.
    days = lookback.days + (1 if lookback % timedelta(days=1) else 0)
    return (moment - timedelta(days=days)).isoformat()


def check_formats(
    profile: list[tuple[str, int, object]], *, column: str, table: str,
    expected: str | None,
) -> str | None:
    """Validate the formats found among the values a load is about to read.

    ``profile`` holds ``(format, count, example)`` rows from a GROUP BY over :func:`format_sql`.
    Returns the one format they share (None when there are no values), else raises
    WatermarkError naming the column, the formats, an example of each and the fix.
    """
    found = {fmt: (count, example) for fmt, count, example in profile}
    where = f"watermark column {column!r} of {table!r}"
    if "NULL" in found:
        count, _ = found["NULL"]
        raise WatermarkError(
            f"{count} row(s) have a NULL {where}: a NULL is never greater than a watermark, so "
            "those rows would never load. Fix the source (fill the column) before loading."
        )
    for bad in ("invalid", "unrecognised"):
        if bad in found:
            count, example = found[bad]
            raise WatermarkError(
                f"{count} value(s) in {where} are not timestamps or integers (e.g. {example!r}): "
                "use ISO-8601 text like '2024-10-05' or '2024-10-05 13:00:00', or integers."
            )
    formats = sorted(found)
    if expected is not None and formats and formats != [expected]:
        formats = sorted(set(formats) | {expected})
    if len(formats) > 1:
        examples = ", ".join(
            f"{fmt} (e.g. {found[fmt][1]!r})" if fmt in found else f"{fmt} (stored watermark)"
            for fmt in formats
        )
        raise WatermarkError(
            f"mixed formats in {where}: {examples}. Text comparison orders them wrongly, so rows "
            "would be skipped. Normalise the source to one format (or reset the watermark)."
        )
    return formats[0] if formats else None


def later(a: Watermark | None, b: Watermark | None) -> Watermark | None:
    """The later of two watermarks of one format (None counts as 'no watermark yet')."""
    if a is None or b is None:
        return a or b
    return a if _parse(a.value, a.format) >= _parse(b.value, b.format) else b


def moment_in_format(moment: datetime, watermark: Watermark) -> str | None:
    """``moment`` written like the values of ``watermark``, to bound a load by time.

    A date-only watermark gets ``moment``'s date (``< that date`` keeps only days that ended
    before ``moment``); a timestamp gets the same separator, precision and zone suffix, and a
    naive timestamp is read as UTC. An integer watermark (a version number) cannot be bounded
    by a time: None.
    """
    if watermark.format == "integer":
        return None
    if watermark.format == "YYYY-MM-DD":
        return moment.date().isoformat()
    suffix = watermark.format[len("YYYY-MM-DD hh:mm"):]
    if suffix in ("", "Z"):
        zone = UTC
    else:
        sign = -1 if suffix[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(suffix[1:3]), minutes=int(suffix[4:6])))
    local = moment.astimezone(zone)
    like = str(watermark.value)
    has_seconds = len(like) > 16 and like[16] == ":"
    text = local.replace(tzinfo=None).isoformat(sep=watermark.format[10],
                                               timespec="seconds" if has_seconds else "minutes")
    return text + ("Z" if suffix == "Z" else suffix)
