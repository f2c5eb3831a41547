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
from course_etl.errors import KeyIntegrityError, SchemaMismatchError, WatermarkError
from course_etl.loads.watermarks import (
    Watermark,
    check_formats,
    format_sql,
    later,
    lower_bound,
    read_watermark,
    write_watermark,
)

__all__ = ["LoadResult", "full_load", "incremental_load"]

# A soft-delete flag counts as "deleted" when it holds anything but NULL, 0, '0', '' or 'false'
# (so both is_deleted INTEGER and deleted_at TEXT columns work).
_FALSY = "(0, '0', '', 'false', 'False', 'FALSE')"


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


def _cols(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_identifier(n) for n in names)


def _key_match(key: Sequence[str], left: str, right: str) -> str:
    q = quote_identifier
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in key)


def _as_key(key: str | Sequence[str]) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def _unique_column_sets(conn: sqlite3.Connection, ref: TableRef) -> list[frozenset[str]]:
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
    columns = []
    for name, declared_type, notnull, _ in info:
        # Declared types come from the database's own schema; quote them so no text can escape.
        type_sql = f" {quote_identifier(declared_type)}" if declared_type else ""
        columns.append(quote_identifier(name) + type_sql + (" NOT NULL" if notnull else ""))
    if pk:
        columns.append(f"PRIMARY KEY ({_cols(pk)})")
    conn.execute(f"CREATE TABLE {quote_identifier(target)} ({', '.join(columns)})")


def _target_for(
    conn: sqlite3.Connection, src: TableRef, target: str, key: tuple[str, ...]
) -> TableRef:
    """Resolve the target (creating it from the source when missing) and check it fits."""
    if not table_exists(conn, target):
        _create_target_like(conn, src, target, key)
    tgt = resolve_table(conn, target, role="target table")
    missing = [c for c in src.columns if c not in tgt.columns]
    if missing:
        raise SchemaMismatchError(
            f"target {tgt.label!r} lacks source column(s) {', '.join(missing)}: add them "
            f"(ALTER TABLE {tgt.name} ADD COLUMN …) or reload into a new target"
        )
    return tgt


def _check_unique_key(conn: sqlite3.Connection, tgt: TableRef, key: tuple[str, ...]) -> None:
    if frozenset(key) not in _unique_column_sets(conn, tgt):
        raise SchemaMismatchError(
            f"target {tgt.label!r} has no PRIMARY KEY or UNIQUE index on ({', '.join(key)}), "
            "which an upsert needs: CREATE UNIQUE INDEX ON "
            f"{tgt.name}({', '.join(key)}) first"
        )


def _referencing_tables(conn: sqlite3.Connection, tgt: TableRef) -> list[str]:
    rows = conn.execute(
        f"SELECT DISTINCT m.name FROM {quote_identifier(tgt.schema)}.sqlite_master AS m, "
        'pragma_foreign_key_list(m.name, ?) AS f WHERE m.type = \'table\' AND f."table" = ?',
        (tgt.schema, tgt.name),
    ).fetchall()
    return [r[0] for r in rows]


def _upsert_sql(src: TableRef, tgt: TableRef, key: tuple[str, ...], where: str) -> str:
    """INSERT … SELECT … ON CONFLICT DO UPDATE that skips rows whose values did not change."""
    cols = src.columns
    others = [c for c in cols if c not in key]
    head = (
        f"INSERT INTO {tgt.sql} AS t ({_cols(cols)}) SELECT {_cols(cols)} FROM {src.sql} "
        f"WHERE {where} ON CONFLICT ({_cols(key)}) "
    )
    if not others:
        return head + "DO NOTHING"
    q = quote_identifier
    assignments = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in others)
    changed = " OR ".join(f"t.{q(c)} IS NOT excluded.{q(c)}" for c in others)
    return head + f"DO UPDATE SET {assignments} WHERE {changed}"


def _reject_null_watermarks(conn: sqlite3.Connection, src: TableRef, column: str) -> None:
    """A NULL watermark never passes ">= bound", so such rows would silently never load.

    Checked over the whole table: an index lookup when the column is indexed.
    """
    wm = quote_identifier(column)
    nulls = conn.execute(f"SELECT COUNT(*) FROM {src.sql} WHERE {wm} IS NULL").fetchone()[0]
    if nulls:
        check_formats([("NULL", nulls, None)], column=column, table=src.label, expected=None)


def _reject_hidden_formats(
    conn: sqlite3.Connection, src: TableRef, column: str, bound: object
) -> None:
    """Find values of another format that sort *below* the bound and so would never be read.

    Numbers sort before all text in SQLite, a bare date before any time on that day, and
    '2024-10-05 10:00' before '2024-10-05T09:00'. Only these can hide under a text bound (later
    days sort above it whatever their format, and the candidate scan classifies them), so three
    index range probes suffice: numbers, the bound's bare date, and that day with a space.
    """
    fmt = conn.execute(f"SELECT {format_sql('v')} FROM (SELECT ? AS v)", (bound,)).fetchone()[0]
    if not isinstance(bound, str) or not fmt.startswith("YYYY-MM-DD"):
        return
    wm = quote_identifier(column)
    day = bound[:10]
    probes = [f"{wm} < ''"]
    params: dict[str, str] = {}
    if len(bound) > 10:
        probes.append(f"{wm} = :day")
        params["day"] = day
    if fmt[10:11] == "T":
        probes.append(f"({wm} >= :spaced AND {wm} < :spaced_end)")
        params |= {"spaced": day + " ", "spaced_end": day + "!"}
    hidden = conn.execute(
        f"SELECT {wm} FROM {src.sql} WHERE {' OR '.join(probes)} LIMIT 1", params
    ).fetchone()
    if hidden is not None:
        other = conn.execute(
            f"SELECT {format_sql('v')} FROM (SELECT ? AS v)", hidden
        ).fetchone()[0]
        check_formats([(fmt, 1, bound), (other, 1, hidden[0])], column=column,
                      table=src.label, expected=None)


def _highest_watermark(conn: sqlite3.Connection, src: TableRef, column: str) -> Watermark | None:
    """The highest value of ``column`` in ``src``, for a full load to store.

    A full load copies every row whatever its format, so it classifies only the lowest and the
    highest value (index look-ups): a source whose format changed over time has a different one
    at each end. Every value an incremental load reads is classified before it is loaded.
    """
    _reject_null_watermarks(conn, src, column)
    wm = quote_identifier(column)
    low, high = conn.execute(f"SELECT MIN({wm}), MAX({wm}) FROM {src.sql}").fetchone()
    if high is None:
        return None
    profile = conn.execute(
        f"SELECT {format_sql('v')} AS f, COUNT(*), MIN(v) FROM "
        "(SELECT :low AS v UNION ALL SELECT :high) GROUP BY f",
        {"low": low, "high": high},
    ).fetchall()
    fmt = check_formats(profile, column=column, table=src.label, expected=None)
    return Watermark(high, fmt)


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
    Raises UnknownTableError, UnknownColumnError, SchemaMismatchError or WatermarkError before
    anything is written.
    """
    started = time.perf_counter()
    key_cols = _as_key(key) if key else ()
    src = resolve_table(conn, source, role="source table")
    for k in key_cols:
        src.column(k, role="key column")
    if watermark is not None:
        src.column(watermark, role="watermark column")
    with atomic(conn):
        tgt = _target_for(conn, src, target, key_cols)
        before = read_watermark(conn, tgt.label, watermark) if watermark else None
        after = _highest_watermark(conn, src, watermark) if watermark else None
        referenced = _referencing_tables(conn, tgt)
        if referenced:
            counts = _merge_all(conn, src, tgt, key_cols)
        else:
            counts = _replace_all(conn, src, tgt)
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
        f"INSERT INTO {tgt.sql} ({_cols(src.columns)}) SELECT {_cols(src.columns)} FROM {src.sql}"
    ).rowcount
    return dict(rows_read=inserted, inserted=inserted, updated=0, deleted=deleted, unchanged=0)


def _merge_all(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...]
) -> dict:
    key = key or tuple(sorted(next(iter(_unique_column_sets(conn, tgt)), ())))
    _check_unique_key(conn, tgt, key)
    rows_read = conn.execute(f"SELECT COUNT(*) FROM {src.sql}").fetchone()[0]
    inserted = conn.execute(
        f"SELECT COUNT(*) FROM {src.sql} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {tgt.sql} AS t WHERE {_key_match(key, 't', 's')})"
    ).fetchone()[0]
    written = conn.execute(_upsert_sql(src, tgt, key, "1")).rowcount
    deleted = conn.execute(
        f"DELETE FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {_key_match(key, 's', tgt.sql)})"
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
    until: str | int | None = None,
) -> LoadResult:
    """Load the rows of ``source`` changed since the stored watermark into ``target``.

    The lower bound is inclusive (``watermark >= stored - lookback``): rows that share the stored
    value are read again and the upsert leaves them untouched, so a row written later in the same
    second (or day) is not lost. Without stored state the first run reads from ``initial_value``,
    or everything (a backfill). ``soft_delete`` names the source's delete flag, copied like any
    column and counted in ``deleted``; ``reconcile_deletes=True`` also removes target rows whose
    key is gone from the source (hard deletes, found by anti-join). ``batch_size`` caps the rows
    each INSERT statement moves (all batches still commit in one transaction with the watermark).
    ``until`` is an exclusive upper bound (``watermark < until``, in the column's format): a
    scheduled run passes the end of its data interval, so rows stamped later wait for the next
    run and the stored watermark never passes the interval's end.
    A run with no source change writes nothing.
    Raises UnknownTableError, UnknownColumnError, SchemaMismatchError, KeyIntegrityError or
    WatermarkError before anything is written.
    """
    started = time.perf_counter()
    key_cols = _as_key(key)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, not {batch_size!r}")
    src = resolve_table(conn, source, role="source table")
    for k in key_cols:
        src.column(k, role="key column")
    src.column(watermark, role="watermark column")
    if soft_delete is not None:
        src.column(soft_delete, role="soft-delete column")
    with atomic(conn):
        tgt = _target_for(conn, src, target, key_cols)
        _check_unique_key(conn, tgt, key_cols)
        stored = read_watermark(conn, tgt.label, watermark)
        if stored is not None:
            bound = lower_bound(stored, lookback)
        else:
            bound = initial_value
        where, params = _candidate_filter(watermark, bound)
        if until is not None:
            _check_until(conn, src, watermark, until, stored)
            where += f" AND {quote_identifier(watermark)} < :upper_bound"
            params = params | {"upper_bound": until}
        scan = _scan_candidates(
            conn, src, tgt, key_cols, watermark, soft_delete, where, params,
            expected=stored.format if stored else None,
        )
        if bound is not None:
            _reject_hidden_formats(conn, src, watermark, bound)
        if not _source_key_is_unique(conn, src, key_cols):
            _check_duplicate_keys(conn, src, key_cols, where, params)
        written, batches = _upsert_in_batches(
            conn, src, tgt, key_cols, watermark, where, params, batch_size, scan.rows
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


def _candidate_filter(column: str, bound: object) -> tuple[str, dict]:
    if bound is None:
        return "1", {}
    return f"{quote_identifier(column)} >= :lower_bound", {"lower_bound": bound}


def _check_until(conn: sqlite3.Connection, src: TableRef, column: str, until: object,
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


def _is_deleted(expr: str) -> str:
    return f"({expr} IS NOT NULL AND {expr} NOT IN {_FALSY})"


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
    watermark: str, soft_delete: str | None, where: str, params: dict, *, expected: str | None,
) -> _Scan:
    """One pass over the rows the load will read, grouped by watermark value, then format.

    Counts them, finds their highest watermark, and counts NULL keys, rows new to the target
    and rows that become soft-deleted. Raises WatermarkError or KeyIntegrityError on bad values.
    """
    _reject_null_watermarks(conn, src, watermark)
    wm = f"s.{quote_identifier(watermark)}"
    in_target = f"SELECT 1 FROM {tgt.sql} AS t WHERE {_key_match(key, 't', 's')}"
    null_key = " OR ".join(f"s.{quote_identifier(k)} IS NULL" for k in key)
    soft = "0"
    if soft_delete is not None:
        flag = quote_identifier(soft_delete)
        soft = (
            f"{_is_deleted('s.' + flag)} AND EXISTS ({in_target} "
            f"AND NOT {_is_deleted('t.' + flag)})"
        )
    # Group by watermark value first: rows stream in index order without a sort, and the format
    # expression (the costly part) then runs once per distinct value, not once per row.
    groups = conn.execute(
        f"SELECT {format_sql('w')} AS f, SUM(n), MIN(w), MAX(w), SUM(nk), SUM(ins), SUM(sd) "
        f"FROM (SELECT {wm} AS w, COUNT(*) AS n, SUM({null_key}) AS nk, "
        f"SUM(NOT EXISTS ({in_target})) AS ins, SUM({soft}) AS sd "
        f"FROM {src.sql} AS s WHERE {where} GROUP BY {wm}) GROUP BY f",
        params,
    ).fetchall()
    fmt = check_formats([g[:3] for g in groups], column=watermark, table=src.label,
                        expected=expected)
    nulls = sum(g[4] for g in groups)
    if nulls:
        raise KeyIntegrityError(
            f"{nulls} row(s) of {src.label!r} have a NULL key ({', '.join(key)}): a NULL key "
            "cannot be matched to a target row. Fix or filter them at the source."
        )
    return _Scan(
        format=fmt, rows=sum(g[1] for g in groups), highest=groups[0][3] if groups else None,
        inserted=sum(g[5] for g in groups), soft_deleted=sum(g[6] for g in groups),
    )


def _source_key_is_unique(conn: sqlite3.Connection, src: TableRef, key: tuple[str, ...]) -> bool:
    return frozenset(key) in _unique_column_sets(conn, src)


def _check_duplicate_keys(
    conn: sqlite3.Connection, src: TableRef, key: tuple[str, ...], where: str, params: dict
) -> None:
    duplicate = conn.execute(
        f"SELECT {_cols(key)}, COUNT(*) FROM {src.sql} WHERE {where} "
        f"GROUP BY {_cols(key)} HAVING COUNT(*) > 1 LIMIT 1",
        params,
    ).fetchone()
    if duplicate:
        raise KeyIntegrityError(
            f"key {dict(zip(key, duplicate[:-1], strict=True))} appears {duplicate[-1]} times "
            f"in {src.label!r}: an upsert would keep an arbitrary one. Deduplicate the source "
            "(keep the latest version per key) before loading."
        )


def _upsert_in_batches(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...],
    watermark: str, where: str, params: dict, batch_size: int | None, rows_read: int,
) -> tuple[int, int]:
    """Run the upsert, in one statement or in keyset batches of ``batch_size`` rows.

    Batches walk the candidates in (watermark, key) order; each batch is bounded by the last row
    of the previous one and by its own last row, found with LIMIT 1 OFFSET batch_size - 1.
    """
    if batch_size is None or rows_read <= batch_size:
        return conn.execute(_upsert_sql(src, tgt, key, where), params).rowcount, 1
    order = (watermark, *key)
    order_sql = _cols(order)
    wm = quote_identifier(watermark)
    names = [f"o{i}" for i in range(len(order))]
    batches = -(-rows_read // batch_size)
    written = 0
    last: tuple | None = None
    for number in range(batches):
        scope = where
        bound_params = dict(params)
        if last is not None:
            # The plain comparison on the watermark lets SQLite start from its index.
            scope += f" AND {wm} >= :last_o0 AND ({order_sql}) > ({_params('last_', names)})"
            bound_params |= {f"last_{n}": v for n, v in zip(names, last, strict=True)}
        if number < batches - 1:
            last = conn.execute(
                f"SELECT {order_sql} FROM {src.sql} WHERE {scope} ORDER BY {order_sql} "
                "LIMIT 1 OFFSET :offset",
                bound_params | {"offset": batch_size - 1},
            ).fetchone()
            scope += f" AND {wm} <= :upper_o0 AND ({order_sql}) <= ({_params('upper_', names)})"
            bound_params |= {f"upper_{n}": v for n, v in zip(names, last, strict=True)}
        written += conn.execute(_upsert_sql(src, tgt, key, scope), bound_params).rowcount
    return written, batches


def _params(prefix: str, names: list[str]) -> str:
    return ", ".join(f":{prefix}{n}" for n in names)


def _delete_missing(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...]
) -> int:
    """Delete target rows whose key no longer exists in the source (anti-join)."""
    return conn.execute(
        f"DELETE FROM {tgt.sql} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {src.sql} AS s WHERE {_key_match(key, 's', tgt.sql)})"
    ).rowcount
