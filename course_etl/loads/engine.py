"""Full and incremental loads between SQLite tables, done the way production pipelines need.

``full_load`` replaces a target's content in one transaction. ``incremental_load`` reads only rows
at or past the stored watermark, upserts them with ``INSERT … ON CONFLICT DO UPDATE`` (unchanged
rows are not rewritten, columns the source does not have are kept), propagates soft deletes,
optionally reconciles hard deletes, and writes data and watermark in one transaction. Every check
on the input runs before the first write, and all the work is set-based SQL: no Python row loops.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from course_etl.db import (
    TableRef,
    atomic,
    quote_identifier,
    resolve_table,
    table_exists,
    validate_identifier,
)
from course_etl.loads.errors import SchemaMismatchError
from course_etl.loads.guards import (
    DEFAULT_MAX_DELETE_SHARE,
    as_key,
    check_batch_size,
    check_delete_share,
    check_keys,
    check_lookback,
    check_target,
    check_unique_key,
    check_until,
    null_key_error,
    unique_column_sets,
)
from course_etl.loads.summary import load_summary
from course_etl.loads.upsert import (
    column_list_sql,
    key_match_sql,
    upsert_in_batches,
    upsert_sql,
)
from course_etl.loads.watermarks import (
    Watermark,
    check_formats,
    format_sql,
    highest_watermark,
    later,
    lower_bound,
    read_watermark,
    reject_hidden_formats,
    reject_null_watermarks,
    write_watermark,
)

__all__ = ["LoadResult", "full_load", "incremental_load"]

# A soft-delete flag counts as "deleted" when it holds anything but NULL, 0, '0', '' or 'false'
# (so both is_deleted INTEGER and deleted_at TEXT columns work): see _is_deleted_sql.


@dataclass
class LoadResult:
    """What one load did. ``rows_read = inserted + updated + unchanged + soft deletes``.

    ``deleted`` counts rows that became soft-deleted plus rows removed from the target.
    ``inserted``/``updated``/``unchanged`` are None for the lecture's recipe, which cannot tell.
    """

    mode: str
    source: str
    target: str
    rows_read: int
    inserted: int | None
    updated: int | None
    deleted: int
    unchanged: int | None
    watermark_before: str | int | None
    watermark_after: str | int | None
    batches: int = 1
    seconds: float = field(default=0.0, repr=False, compare=False)

    @property
    def rows_written(self) -> int:
        """Rows the load inserted, rewrote or deleted in the target.

        When inserts and updates are unknown (INSERT OR REPLACE), every row read was written.
        """
        if self.inserted is None and self.updated is None:
            return self.rows_read + self.deleted
        return (self.inserted or 0) + (self.updated or 0) + self.deleted

    def as_dict(self) -> dict:
        """The result as a plain dict (a row of a results DataFrame), timing included."""
        return asdict(self) | {"rows_written": self.rows_written}

    def __str__(self) -> str:  # one line for people; the repr and as_dict() are the data
        return load_summary(self)


def _create_target_like(
    conn: sqlite3.Connection, src: TableRef, target: str, key: tuple[str, ...]
) -> None:
    """Create ``target`` with the source's columns, declared types, NOT NULLs and primary key."""
    validate_identifier(target, what="target table name")
    info = conn.execute(
        'SELECT name, type, "notnull", pk FROM pragma_table_info(?, ?) ORDER BY cid',
        (src.name, src.schema),
    ).fetchall()
    pk = [name for name, _, _, position in sorted(info, key=lambda r: r[3]) if position > 0]
    pk = pk or list(key)
    definitions = []
    for name, declared_type, notnull, _ in info:
        # Declared types come from the database's own schema; quote them so no text can escape.
        type_sql = f" {quote_identifier(declared_type)}" if declared_type else ""
        definitions.append(quote_identifier(name) + type_sql + (" NOT NULL" if notnull else ""))
    if pk:
        definitions.append(f"PRIMARY KEY ({column_list_sql(pk)})")
    definitions_sql = ", ".join(definitions)
    conn.execute(f"CREATE TABLE {quote_identifier(target)} ({definitions_sql})")


def _target_for(
    conn: sqlite3.Connection, src: TableRef, target: str, key: tuple[str, ...]
) -> TableRef:
    """Resolve the target (creating it from the source when missing) and check it fits."""
    if not table_exists(conn, target):
        _create_target_like(conn, src, target, key)
    tgt = resolve_table(conn, target, role="target table")
    missing = [c for c in src.columns if c not in tgt.columns]
    if missing:
        advice_sql = f"ALTER TABLE {quote_identifier(tgt.name)} ADD COLUMN …"
        raise SchemaMismatchError(
            f"target {tgt.label!r} lacks source column(s) {', '.join(missing)}: add them "
            f"({advice_sql}) or reload into a new target"
        )
    return tgt


def _referencing_tables(conn: sqlite3.Connection, tgt: TableRef) -> list[str]:
    rows = conn.execute(
        f"SELECT DISTINCT m.name FROM {quote_identifier(tgt.schema)}.sqlite_master AS m, "
        'pragma_foreign_key_list(m.name, ?) AS f WHERE m.type = \'table\' AND f."table" = ?',
        (tgt.schema, tgt.name),
    ).fetchall()
    return [r[0] for r in rows]


def full_load(
    conn: sqlite3.Connection,
    source: str,
    target: str,
    *,
    key: str | Sequence[str] | None = None,
    watermark: str | None = None,
) -> LoadResult:
    """Replace the content of ``target`` with the rows of ``source``, in one transaction.

    The target is created from the source's schema when missing (``key`` becomes its primary key
    if the source has none). Readers see the old rows until the commit, never an empty table.
    Given ``watermark``, the highest value loaded is stored in the same transaction, so the next
    :func:`incremental_load` continues from there. A target that other tables reference by
    foreign key is merged (upsert + delete missing rows) instead of emptied, so ON DELETE CASCADE
    does not wipe children of rows that are still in the source.
    A target that is the source itself, lies in the source's attached database or is a view is
    refused, and NULL or duplicate keys give the same KeyIntegrityError as an incremental load.
    Raises UnknownTableError, UnknownColumnError, SchemaMismatchError, TargetIsSourceError,
    KeyIntegrityError or WatermarkError before anything is written.
    """
    started = time.perf_counter()
    key_cols = as_key(key) if key else ()
    src = resolve_table(conn, source, role="source table")
    for k in key_cols:
        src.column(k, role="key column")
    if watermark is not None:
        src.column(watermark, role="watermark column")
    check_target(conn, src, target)
    if key_cols:
        check_keys(conn, src, key_cols)
    with atomic(conn):
        tgt = _target_for(conn, src, target, key_cols)
        before = read_watermark(conn, tgt.label, watermark) if watermark else None
        after = highest_watermark(conn, src, watermark) if watermark else None
        referenced = _referencing_tables(conn, tgt)
        try:
            if referenced:
                counts = _merge_all(conn, src, tgt, key_cols)
            else:
                counts = _replace_all(conn, src, tgt)
        except sqlite3.IntegrityError:
            # The target's own key caught what the source has: say which key, like an
            # incremental load does, instead of SQLite's "UNIQUE constraint failed".
            pk = key_cols or tuple(sorted(next(iter(unique_column_sets(conn, tgt)), ())))
            if pk:
                check_keys(conn, src, pk)
            raise
        if after is not None:
            write_watermark(conn, tgt.label, watermark, after)
    return LoadResult(
        mode="full", source=src.label, target=tgt.label, **counts,
        watermark_before=before.value if before else None,
        watermark_after=after.value if after else None,
        seconds=time.perf_counter() - started,
    )


def _replace_all(conn: sqlite3.Connection, src: TableRef, tgt: TableRef) -> dict:
    deleted = conn.execute(f"DELETE FROM {tgt.sql}").rowcount
    inserted = conn.execute(
        f"INSERT INTO {tgt.sql} ({column_list_sql(src.columns)}) "
        f"SELECT {column_list_sql(src.columns)} FROM {src.sql}"
    ).rowcount
    return dict(rows_read=inserted, inserted=inserted, updated=0, deleted=deleted, unchanged=0)


def _merge_all(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...]
) -> dict:
    key = key or tuple(sorted(next(iter(unique_column_sets(conn, tgt)), ())))
    check_unique_key(conn, tgt, key)
    rows_read = conn.execute(f"SELECT COUNT(*) FROM {src.sql}").fetchone()[0]
    inserted = conn.execute(
        f"SELECT COUNT(*) FROM {src.sql} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {tgt.sql} AS t WHERE {key_match_sql(key, 't', 's')})"
    ).fetchone()[0]
    written = conn.execute(upsert_sql(src, tgt, key, "1")).rowcount
    deleted = conn.execute(
        f"DELETE FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {key_match_sql(key, 's', tgt.sql)})"
    ).rowcount
    updated = written - inserted
    return dict(
        rows_read=rows_read, inserted=inserted, updated=updated, deleted=deleted,
        unchanged=rows_read - inserted - updated,
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
    A run with no source change writes nothing.
    Raises UnknownTableError, UnknownColumnError, SchemaMismatchError, KeyIntegrityError,
    WatermarkError, LoadOptionError, TargetIsSourceError or ReconcileGuardError before anything
    is written.
    """
    started = time.perf_counter()
    key_cols = as_key(key)
    check_batch_size(batch_size)
    check_lookback(lookback)
    src = resolve_table(conn, source, role="source table")
    for k in key_cols:
        src.column(k, role="key column")
    src.column(watermark, role="watermark column")
    if soft_delete is not None:
        src.column(soft_delete, role="soft-delete column")
    check_target(conn, src, target)
    with atomic(conn):
        tgt = _target_for(conn, src, target, key_cols)
        check_unique_key(conn, tgt, key_cols)
        stored = read_watermark(conn, tgt.label, watermark)
        if stored is not None:
            bound = lower_bound(stored, lookback)
        else:
            bound = initial_value
        where_sql, params = _candidate_filter_sql(watermark, bound)
        if until is not None:
            check_until(conn, src, watermark, until, stored)
            where_sql += f" AND {quote_identifier(watermark)} < :upper_bound"
            params = params | {"upper_bound": until}
        scan = _scan_candidates(
            conn, src, tgt, key_cols, watermark, soft_delete, where_sql, params,
            expected=stored.format if stored else None,
        )
        if bound is not None:
            reject_hidden_formats(conn, src, watermark, bound)
        check_keys(conn, src, key_cols, where_sql=where_sql, params=params, nulls=0)
        if reconcile_deletes:
            check_delete_share(conn, src, tgt, key_cols, key_match_sql(key_cols, "s", tgt.sql),
                               max_share=max_delete_share)
        written, batches = upsert_in_batches(
            conn, src, tgt, key_cols, watermark, where_sql, params, batch_size, scan.rows
        )
        hard_deleted = _delete_missing(conn, src, tgt, key_cols) if reconcile_deletes else 0
        after = later(stored, Watermark(scan.highest, scan.format) if scan.format else None)
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

    format: str | None
    rows: int
    highest: object
    inserted: int
    soft_deleted: int


def _scan_candidates(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...],
    watermark: str, soft_delete: str | None, where_sql: str, params: dict, *, expected: str | None,
) -> _Scan:
    """One pass over the rows the load will read, grouped by watermark value, then format.

    Counts them, finds their highest watermark, and counts NULL keys, rows new to the target
    and rows that become soft-deleted. Raises WatermarkError or KeyIntegrityError on bad values.
    """
    reject_null_watermarks(conn, src, watermark)
    wm_sql = f"s.{quote_identifier(watermark)}"
    in_target_sql = f"SELECT 1 FROM {tgt.sql} AS t WHERE {key_match_sql(key, 't', 's')}"
    null_key_sql = " OR ".join(f"s.{quote_identifier(k)} IS NULL" for k in key)
    soft_sql = "0"
    if soft_delete is not None:
        flag = quote_identifier(soft_delete)
        soft_sql = (
            f"{_is_deleted_sql('s.' + flag)} AND EXISTS ({in_target_sql} "
            f"AND NOT {_is_deleted_sql('t.' + flag)})"
        )
    # Group by watermark value first: rows stream in index order without a sort, and the format
    # expression (the costly part) then runs once per distinct value, not once per row.
    groups = conn.execute(
        f"SELECT {format_sql('w')} AS f, SUM(n), MIN(w), MAX(w), SUM(nk), SUM(ins), SUM(sd) "
        f"FROM (SELECT {wm_sql} AS w, COUNT(*) AS n, SUM({null_key_sql}) AS nk, "
        f"SUM(NOT EXISTS ({in_target_sql})) AS ins, SUM({soft_sql}) AS sd "
        f"FROM {src.sql} AS s WHERE {where_sql} GROUP BY {wm_sql}) GROUP BY f",
        params,
    ).fetchall()
    fmt = check_formats([g[:3] for g in groups], column=watermark, table=src.label,
                        expected=expected)
    nulls = sum(g[4] for g in groups)
    if nulls:
        raise null_key_error(src, key, nulls)
    return _Scan(
        format=fmt, rows=sum(g[1] for g in groups), highest=groups[0][3] if groups else None,
        inserted=sum(g[5] for g in groups), soft_deleted=sum(g[6] for g in groups),
    )


def _delete_missing(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...]
) -> int:
    """Delete target rows whose key no longer exists in the source (anti-join)."""
    return conn.execute(
        f"DELETE FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {key_match_sql(key, 's', tgt.sql)})"
    ).rowcount
