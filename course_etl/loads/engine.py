"""Full and incremental loads between SQLite tables, done the way production pipelines need.

:func:`full_load` makes the target a copy of the source in one transaction. Before anything is
written the target is compared with the source by key in one pass, so the result counts what
really changed, and one delete guard (:func:`.guards.guard_deletes`) applies: a full load never
deletes more of the target than an incremental load reconciling deletes may (half, by default),
and a source that came back empty is refused unless the caller asks for it
(``max_delete_share=None``; CLI: ``--force-deletes``). A target no other table references is
rewritten with ``DELETE`` + ``INSERT … SELECT``; a target that other tables reference by foreign
key is merged instead (an upsert of every source row, then a delete of the rows whose key left),
so ``ON DELETE CASCADE`` fires only for rows that left the source, never for one still there.

:func:`incremental_load` reads only rows at or past the stored watermark, upserts them with
``INSERT … ON CONFLICT DO UPDATE`` (unchanged rows are not rewritten, columns the source does not
have are kept), propagates soft deletes, optionally reconciles hard deletes, and writes data and
watermark in one transaction. Every check on the input runs before the first write (arguments,
names, watermark values on both sides, keys as the target compares them, the delete guard), and
all the work is set-based SQL: no Python row loops.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from course_etl.db import TableRef, atomic, quote_identifier, resolve_table
from course_etl.loads.errors import LoadError
from course_etl.loads.guards import (
    DEFAULT_MAX_DELETE_SHARE,
    as_key,
    check_batch_size,
    check_bound_type,
    check_connection,
    check_flag,
    check_keys,
    check_lookback,
    check_name,
    check_share,
    check_target,
    check_unique_key,
    count_gone,
    guard_deletes,
    null_key_error,
    unique_column_sets,
)
from course_etl.loads.keys import check_key_semantics
from course_etl.loads.target import LoadResult, referencing_tables, target_for
from course_etl.loads.upsert import (
    balanced_sql,
    column_list_sql,
    key_match_sql,
    upsert_in_batches,
    upsert_sql,
)
from course_etl.loads.watermarks import (
    Watermark,
    check_bound,
    check_column,
    check_read_values,
    checked_highest,
    checked_stored,
    delete_watermark,
    later,
    lower_bound,
    read_watermark,
    write_watermark,
)

__all__ = ["LoadResult", "full_load", "incremental_load"]

FORCE = "max_delete_share=None (CLI: --force-deletes)"

# A soft-delete flag counts as "deleted" when it holds anything but NULL, 0, '0', '' or 'false'
# (so both is_deleted INTEGER and deleted_at TEXT columns work): see _is_deleted_sql.


def full_load(
    conn: sqlite3.Connection,
    source: str,
    target: str,
    *,
    key: str | Sequence[str] | None = None,
    watermark: str | None = None,
    max_delete_share: float | None = DEFAULT_MAX_DELETE_SHARE,
) -> LoadResult:
    """Make ``target`` hold exactly the rows of ``source``, in one transaction.

    The target is created from the source's schema when missing (``key`` becomes its primary key
    if the source has none). Readers see the old rows until the commit, never an empty table.
    Given ``watermark``, its highest value must be a real moment (or integer) not in the future,
    of the lowest value's format, and is stored in the same transaction, so the next
    :func:`~course_etl.loads.engine.incremental_load` continues from there (a load that empties
    the target forgets the watermark, so the next one reads everything).
    Deleting more than ``max_delete_share`` of the target (rows whose key left the source) is
    refused; None allows any deletion, an empty source included. A target other tables
    reference is merged, so ``ON DELETE CASCADE`` removes only children of rows that left.
    Raises LoadOptionError, UnknownTableError, UnknownColumnError, SchemaMismatchError,
    TargetIsSourceError, KeyIntegrityError, WatermarkError, ReconcileGuardError or LoadError
    before anything is written.
    """
    started = time.perf_counter()
    check_connection(conn)
    check_name(source, "source")
    check_name(target, "target")
    key_cols = as_key(key) if key is not None else ()
    check_name(watermark, "watermark", required=False)
    share = check_share(max_delete_share)
    src = resolve_table(conn, source, role="source table")
    for k in key_cols:
        src.column(k, role="key column")
    if watermark is not None:
        src.column(watermark, role="watermark column")
    check_target(conn, src, target)
    with atomic(conn):
        tgt = target_for(conn, src, target, key_cols)
        # Without a key, the target's own unique key matches rows, if the source has its columns.
        key_cols = key_cols or tuple(sorted(next(
            (cols for cols in unique_column_sets(conn, tgt) if cols <= set(src.columns)), ())))
        if key_cols:
            check_keys(conn, src, key_cols)
        before = read_watermark(conn, tgt.label, watermark) if watermark else None
        after = checked_highest(conn, src, watermark, key_cols) if watermark else None
        referenced = referencing_tables(conn, tgt)
        if key_cols:
            check_key_semantics(conn, src, tgt, key_cols, against_target=bool(referenced))
        counts, total, gone = _compare(conn, src, tgt, key_cols)
        guard_deletes(src, tgt, total=total, gone=gone, max_share=share, flag=FORCE)
        try:
            if referenced:
                check_unique_key(conn, tgt, key_cols)
                _merge_all(conn, src, tgt, key_cols)
                rewritten = 0
            else:
                _replace_all(conn, src, tgt)
                # DELETE + INSERT wrote every row, changed or not: the cost a full load pays.
                rewritten = counts["rows_read"] + total - counts["inserted"] - counts[
                    "updated"] - counts["deleted"]
        except sqlite3.IntegrityError as error:
            raise _refused_by_sqlite(src, tgt, error) from error
        if after is not None:
            write_watermark(conn, tgt.label, watermark, after)
        elif watermark is not None and before is not None:
            delete_watermark(conn, tgt.label, watermark)  # nothing loaded: start from scratch
    return LoadResult(
        mode="full", source=src.label, target=tgt.label, **counts, rewritten=rewritten,
        watermark_before=before.value if before else None,
        watermark_after=after.value if after else None,
        seconds=time.perf_counter() - started,
    )


def _compare(conn: sqlite3.Connection, src: TableRef, tgt: TableRef,
             key: tuple[str, ...]) -> tuple[dict, int, int]:
    """The result's counts, the target's row count and the rows it loses, from one pass.

    Without a key rows cannot be matched: every target row counts as deleted and every source
    row as inserted, and the guard sees how many rows the target would lose in number.
    """
    rows_read = conn.execute(f"SELECT COUNT(*) FROM {src.sql}").fetchone()[0]
    if not key:
        total = conn.execute(f"SELECT COUNT(*) FROM {tgt.sql}").fetchone()[0]
        counts = dict(rows_read=rows_read, inserted=rows_read, updated=0, deleted=total,
                      unchanged=0)
        return counts, total, max(0, total - rows_read)
    matched_sql = f"s.{quote_identifier(key[0])} IS NOT NULL"
    same_sql = balanced_sql("AND", [f"t.{quote_identifier(c)} IS s.{quote_identifier(c)}"
                                    for c in src.columns])
    # Each pair is judged in the inner query: an aggregate over every column of both tables
    # would pass SQLite's limit of 2,000 terms per aggregate query on a wide table.
    total, gone, same = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(NOT matched), 0), COALESCE(SUM(matched AND same), 0) "
        f"FROM (SELECT {matched_sql} AS matched, {same_sql} AS same "
        f"FROM {tgt.sql} AS t LEFT JOIN {src.sql} AS s ON {key_match_sql(key, 's', 't')} "
        "LIMIT -1)"  # a LIMIT keeps SQLite from flattening the pairs into the aggregate
    ).fetchone()
    matched = total - gone
    counts = dict(rows_read=rows_read, inserted=rows_read - matched, updated=matched - same,
                  deleted=gone, unchanged=same)
    return counts, total, gone


def _replace_all(conn: sqlite3.Connection, src: TableRef, tgt: TableRef) -> None:
    conn.execute(f"DELETE FROM {tgt.sql}")
    conn.execute(f"INSERT INTO {tgt.sql} ({column_list_sql(src.columns)}) "
                 f"SELECT {column_list_sql(src.columns)} FROM {src.sql}")


def _merge_all(conn: sqlite3.Connection, src: TableRef, tgt: TableRef,
               key: tuple[str, ...]) -> None:
    conn.execute(upsert_sql(src, tgt, key, "1"))
    conn.execute(
        f"DELETE FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {key_match_sql(key, 's', tgt.sql)})"
    )


def incremental_load(
    conn: sqlite3.Connection,
    source: str,
    target: str,
    *,
    key: str | Sequence[str],
    watermark: str,
    initial_value: str | int | None = None,
    lookback: timedelta | int | None = None,
    soft_delete: str | None = None,
    reconcile_deletes: bool = False,
    batch_size: int | None = None,
    max_delete_share: float | None = DEFAULT_MAX_DELETE_SHARE,
    until: str | int | None = None,
) -> LoadResult:
    """Load the rows of ``source`` changed since the stored watermark into ``target``.

    The lower bound is inclusive (``watermark >= stored - lookback``): rows that share the stored
    value are read again and the upsert leaves them untouched, so a row written later in the same
    second (or day) is not lost. Without stored state the first run reads from ``initial_value``,
    or everything (a backfill). ``soft_delete`` names the source's delete flag, copied like any
    column and counted in ``deleted``; ``reconcile_deletes=True`` also removes target rows whose
    key is gone from the source (hard deletes, found by anti-join), refusing to remove more than
    ``max_delete_share`` of the target (None: no limit) in case the source was emptied by
    mistake. ``lookback`` must be zero or more. ``batch_size`` caps the rows
    each INSERT statement moves (all batches still commit in one transaction with the watermark).
    ``until`` is an exclusive upper bound (``watermark < until``, in the column's format): a
    scheduled run passes the end of its data interval, so rows stamped later wait for the next
    run and the stored watermark never passes the interval's end.
    Refused before any write: a stored watermark, ``initial_value`` or ``until`` that is not a
    real moment of the column's format; any source value of another format (wherever it sorts),
    NULL, impossible among the rows read, or later than tomorrow; NULL or duplicate keys among
    the rows read, and source keys the target's key would merge.
    A run with no source change writes nothing.
    Raises LoadOptionError, UnknownTableError, UnknownColumnError, SchemaMismatchError,
    KeyIntegrityError, WatermarkError, TargetIsSourceError, ReconcileGuardError or LoadError
    before anything is written.
    """
    started = time.perf_counter()
    check_connection(conn)
    check_name(source, "source")
    check_name(target, "target")
    key_cols = as_key(key)
    check_name(watermark, "watermark")
    check_name(soft_delete, "soft_delete", required=False)
    check_bound_type(initial_value, "initial_value")
    check_bound_type(until, "until")
    check_lookback(lookback)
    check_batch_size(batch_size)
    check_flag(reconcile_deletes, "reconcile_deletes")
    share = check_share(max_delete_share)
    src = resolve_table(conn, source, role="source table")
    for k in key_cols:
        src.column(k, role="key column")
    src.column(watermark, role="watermark column")
    if soft_delete is not None:
        src.column(soft_delete, role="soft-delete column")
    check_target(conn, src, target)
    with atomic(conn):
        tgt = target_for(conn, src, target, key_cols)
        check_unique_key(conn, tgt, key_cols)
        stored = read_watermark(conn, tgt.label, watermark)
        if stored is not None:
            stored = checked_stored(stored, tgt.label, watermark)
        elif initial_value is not None:
            check_bound(initial_value, "initial_value", watermark, None)
        fmt = check_column(conn, src, watermark, key_cols, expected=stored)
        if stored is None and initial_value is not None:
            check_bound(initial_value, "initial_value", watermark, fmt)
        bound = lower_bound(stored, lookback) if stored is not None else initial_value
        where_sql, params = _candidate_filter_sql(watermark, bound)
        if until is not None:
            check_bound(until, "until", watermark, fmt)
            where_sql += f" AND {quote_identifier(watermark)} < :upper_bound"
            params = params | {"upper_bound": until}
        if fmt is not None:
            check_read_values(conn, src, watermark, key_cols, fmt, where_sql, params)
        scan = _scan_candidates(conn, src, tgt, key_cols, watermark, soft_delete, where_sql,
                                params)
        check_keys(conn, src, key_cols, where_sql=where_sql, params=params, nulls=0)
        check_key_semantics(conn, src, tgt, key_cols, read_sql=where_sql, params=params)
        if reconcile_deletes:
            total, gone = count_gone(conn, src, tgt, key_match_sql(key_cols, "s", tgt.sql))
            guard_deletes(src, tgt, total=total, gone=gone, max_share=share, flag=FORCE)
        try:
            written, batches = upsert_in_batches(
                conn, src, tgt, key_cols, watermark, where_sql, params, batch_size, scan.rows)
            hard_deleted = _delete_missing(conn, src, tgt, key_cols) if reconcile_deletes else 0
        except sqlite3.IntegrityError as error:
            raise _refused_by_sqlite(src, tgt, error) from error
        after = later(stored, Watermark(scan.highest, fmt) if scan.rows else None)
        if after is not None and after != stored:
            write_watermark(conn, tgt.label, watermark, after)
    return LoadResult(
        mode="incremental", source=src.label, target=tgt.label, rows_read=scan.rows,
        inserted=scan.inserted, updated=written - scan.inserted - scan.soft_deleted,
        deleted=scan.soft_deleted + hard_deleted,
        unchanged=scan.rows - written,
        watermark_before=stored.value if stored else None,
        watermark_after=after.value if after else None,
        batches=batches, seconds=time.perf_counter() - started,
    )


def _candidate_filter_sql(column: str, bound: object) -> tuple[str, dict]:
    if bound is None:
        return "1", {}
    return f"{quote_identifier(column)} >= :lower_bound", {"lower_bound": bound}


def _is_deleted_sql(flag_sql: str) -> str:
    return f"({flag_sql} IS NOT NULL AND {flag_sql} NOT IN (0, '0', '', 'false', 'False', 'FALSE'))"


@dataclass(frozen=True)
class _Scan:
    """What one pass over the candidate rows found, before anything is written."""

    rows: int
    highest: object
    inserted: int
    soft_deleted: int


def _scan_candidates(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...],
    watermark: str, soft_delete: str | None, where_sql: str, params: dict,
) -> _Scan:
    """One pass over the rows the load will read: how many, their highest watermark, NULL keys,
    rows new to the target and rows that become soft-deleted. Raises KeyIntegrityError on a
    NULL key."""
    in_target_sql = f"SELECT 1 FROM {tgt.sql} AS t WHERE {key_match_sql(key, 't', 's')}"
    null_key_sql = " OR ".join(f"s.{quote_identifier(k)} IS NULL" for k in key)
    soft_sql = "0"
    if soft_delete is not None:
        flag = quote_identifier(soft_delete)
        soft_sql = (
            f"{_is_deleted_sql('s.' + flag)} AND EXISTS ({in_target_sql} "
            f"AND NOT {_is_deleted_sql('t.' + flag)})"
        )
    rows, highest, nulls, inserted, soft_deleted = conn.execute(
        f"SELECT COUNT(*), MAX(s.{quote_identifier(watermark)}), "
        f"COALESCE(SUM({null_key_sql}), 0), COALESCE(SUM(NOT EXISTS ({in_target_sql})), 0), "
        f"COALESCE(SUM({soft_sql}), 0) FROM {src.sql} AS s WHERE {where_sql}",
        params,
    ).fetchone()
    if nulls:
        raise null_key_error(src, key, nulls)
    return _Scan(rows=rows, highest=highest, inserted=inserted, soft_deleted=soft_deleted)


def _delete_missing(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...]
) -> int:
    """Delete target rows whose key no longer exists in the source (anti-join)."""
    return conn.execute(
        f"DELETE FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {key_match_sql(key, 's', tgt.sql)})"
    ).rowcount


# What refuses a row SQLite will not write; the keywords stay out of an f-string with a table's
# name in it: this is a message, not SQL.
_REFUSED_BY = ("a constraint of the target (UNIQUE, CHECK, NOT NULL) or a table that references "
               "it without ON DELETE CASCADE")


def _refused_by_sqlite(src: TableRef, tgt: TableRef, error: sqlite3.Error) -> LoadError:
    """A constraint of the target (a UNIQUE or CHECK, a NOT NULL, a table that references it
    without a cascade) refused a row: the transaction rolls back, and the message says so."""
    return LoadError(f"SQLite refused the load of {tgt.label!r} from {src.label!r}: {error}. "
                     f"It is {_REFUSED_BY}: nothing was written", table=tgt.label, error=str(error),
                     source=src.label)
