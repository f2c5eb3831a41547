"""The lecture's load recipe, kept exactly as taught, and its five pitfalls run live.

:func:`lecture_incremental_load` and :func:`lecture_full_load` are the lecture's code. Do not use
them for real loads: the recipe derives the watermark from ``MAX(updated_at)`` of the target (so a
half-written run moves it), filters with ``>`` (rows sharing the last timestamp are skipped),
upserts with ``INSERT OR REPLACE`` (a delete + insert: unlisted columns fall back to defaults,
rowids change, ``ON DELETE CASCADE`` children vanish), never sees hard deletes, and commits the
data with nothing to tie it to the watermark. :func:`course_etl.incremental_load` is the
corrected version.

Every pitfall demo builds its own in-memory database from the lecture's customers, provokes one
pitfall, and returns a :class:`PitfallDemo` with what the recipe left in the warehouse, what the
library left, and the lesson. Notebook 01 shows them side by side; the tests assert the outcomes.
"""

from __future__ import annotations

import html
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from unittest import mock

import pandas as pd

from course_etl.db import atomic, connect, query, quote_identifier, resolve_table
from course_etl.errors import CourseEtlError
from course_etl.facts import (
    CHANGE_ROUNDS,
    CUSTOMERS,
    LATER_SAME_DAY,
    LECTURE_ORDERS,
    LECTURE_ROWS,
    LECTURE_SEGMENTS,
    ORDERS,
    TABLES,
    WAREHOUSE_ONLY,
    Change,
    Column,
    Delete,
    FactsError,
    Insert,
    Update,
    change_statement,
)
from course_etl.loads import engine
from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.sample_data import apply_lecture_changes, create_lecture_source

__all__ = ["lecture_incremental_load", "lecture_full_load", "PitfallDemo", "PITFALLS", "run_all"]


def lecture_full_load(conn: sqlite3.Connection, source: str, target: str) -> LoadResult:
    """The lecture's "FULL LOAD #1": ``INSERT INTO target SELECT * FROM source`` (no delete)."""
    started = time.perf_counter()
    src = resolve_table(conn, source, role="source table")
    tgt = resolve_table(conn, target, role="target table")
    with atomic(conn):
        inserted = conn.execute(f"INSERT INTO {tgt.sql} SELECT * FROM {src.sql}").rowcount
    return LoadResult(
        mode="lecture full", source=src.label, target=tgt.label, rows_read=inserted,
        inserted=inserted, updated=0, deleted=0, unchanged=0,
        watermark_before=None, watermark_after=None, seconds=time.perf_counter() - started,
    )


def lecture_incremental_load(
    conn: sqlite3.Connection, source: str, target: str, *, watermark: str = "updated_at"
) -> LoadResult:
    """The lecture's incremental load, statement for statement (names validated, nothing else).

    Returns a LoadResult whose ``inserted``/``updated``/``unchanged`` are None: INSERT OR REPLACE
    cannot tell an insert from an update.
    """
    started = time.perf_counter()
    src = resolve_table(conn, source, role="source table")
    tgt = resolve_table(conn, target, role="target table")
    wm_sql = quote_identifier(src.column(watermark, role="watermark column"))
    last_watermark = pd.read_sql_query(
        f"SELECT MAX({wm_sql}) AS wm FROM {tgt.sql};", conn
    ).iloc[0]["wm"]
    changed = pd.read_sql_query(
        f"SELECT * FROM {src.sql} WHERE {wm_sql} > ?", conn, params=[last_watermark]
    )
    placeholders_sql = ",".join("?" * len(changed.columns))
    columns_sql = ",".join(quote_identifier(c) for c in changed.columns)
    if not conn.in_transaction:
        # The lecture's connection opened this transaction implicitly (sqlite3's legacy mode);
        # course_etl connections are in autocommit mode, so open it explicitly to match.
        conn.execute("BEGIN")
    conn.executemany(
        f"INSERT OR REPLACE INTO {tgt.sql}({columns_sql}) VALUES ({placeholders_sql})",
        changed.values.tolist(),
    )
    conn.commit()
    loaded = [v for v in (last_watermark, changed[watermark].max()) if _plain(v) is not None]
    after = max(loaded, default=None)
    return LoadResult(
        mode="lecture", source=src.label, target=tgt.label, rows_read=len(changed),
        inserted=None, updated=None, deleted=0, unchanged=None,
        watermark_before=_plain(last_watermark), watermark_after=_plain(after),
        seconds=time.perf_counter() - started,
    )


def _plain(value: object) -> object:
    """numpy scalars and NaN from pandas → plain Python values for printing."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


_SIDE = ('<div style="display:flex;gap:24px;align-items:flex-start">'
         '<div><b>Lecture recipe</b>{recipe}<p>{recipe_says}</p></div>'
         '<div><b>course_etl</b>{library}<p>{library_says}</p></div></div>')

SOURCE = TABLES.source
KEY, WATERMARK = CUSTOMERS.key, CUSTOMERS.watermark
OPTS = {"key": KEY, "watermark": WATERMARK}


def _first(kind: type, changes: tuple[Change, ...], what: str) -> Change:
    found = [c for c in changes if isinstance(c, kind)]
    if not found:
        raise FactsError(f"the pitfall demos need {what}: add one to the facts' CHANGE_ROUNDS",
                         fact="CHANGE_ROUNDS", value=changes, what=what)
    return found[0]


# The facts the demos play with: the first round's new customer (Dai) and moved one (Chloe),
# and the second of the lecture's customers (Ben), whom the hard delete and the crash touch.
_ROUND_ONE = CHANGE_ROUNDS[min(CHANGE_ROUNDS)]
_NEW = _first(Insert, _ROUND_ONE, "a first round that inserts a customer").values
_MOVED = _first(Update, _ROUND_ONE, "a first round that updates a customer")
_OTHER = LECTURE_ROWS[1]


def _change(conn: sqlite3.Connection, table: str, change: Change) -> None:
    conn.execute(*change_statement(CUSTOMERS, table, change))


def _create_warehouse_sql(name: str, extra: tuple[Column, ...] = ()) -> str:
    return CUSTOMERS.ddl(name, extra=extra)


@dataclass(repr=False)
class PitfallDemo:
    """One pitfall: the recipe's outcome, the library's outcome, and what to learn."""

    title: str
    recipe: pd.DataFrame
    library: pd.DataFrame
    recipe_says: str
    library_says: str
    lesson: str

    def __repr__(self) -> str:
        return f"PitfallDemo({self.title!r})"

    def _repr_html_(self) -> str:
        """Both warehouses side by side, each with what happened, then the lesson."""
        return (f"<h4>{html.escape(self.title)}</h4>" + _SIDE.format(
            recipe=self.recipe.to_html(index=False), library=self.library.to_html(index=False),
            recipe_says="❌ " + html.escape(self.recipe_says),
            library_says="✅ " + html.escape(self.library_says),
        ) + f"<p><b>Lesson:</b> {html.escape(self.lesson)}</p>")


def _start(extra: tuple[Column, ...] = ()) -> sqlite3.Connection:
    """The lecture's source, fully loaded into dw_recipe (lecture) and dw_library (course_etl)."""
    conn = connect(":memory:")
    create_lecture_source(conn)
    for name in ("dw_recipe", "dw_library"):
        conn.execute(_create_warehouse_sql(name, extra))
    # The lecture's FULL LOAD #1, with a column list so extra warehouse columns keep defaults.
    columns_sql = ", ".join(map(quote_identifier, CUSTOMERS.names))
    conn.execute(f"INSERT INTO {quote_identifier('dw_recipe')} ({columns_sql}) "
                 f"SELECT * FROM {quote_identifier(SOURCE)}")
    full_load(conn, SOURCE, "dw_library", **OPTS)
    return conn


def _all_rows_sql(table: str) -> str:
    return f"SELECT * FROM {quote_identifier(table)} ORDER BY {quote_identifier(KEY)}"


def _rows(
    conn: sqlite3.Connection, table: str, rows_sql: Callable[[str], str] = _all_rows_sql
) -> pd.DataFrame:
    """What the SQL built by ``rows_sql(table)`` reads (default: every row by id)."""
    return query(conn, rows_sql(table))


def same_day_row() -> PitfallDemo:
    """`>` skips a row written later on the day the watermark points at."""
    conn = _start()
    apply_lecture_changes(conn, 1)
    lecture_incremental_load(conn, SOURCE, "dw_recipe")
    incremental_load(conn, SOURCE, "dw_library", **OPTS)
    _change(conn, SOURCE, LATER_SAME_DAY)
    late = LATER_SAME_DAY.values
    recipe = lecture_incremental_load(conn, SOURCE, "dw_recipe")
    library = incremental_load(conn, SOURCE, "dw_library", **OPTS)
    return PitfallDemo(
        "A row written later on the same day", _rows(conn, "dw_recipe"),
        _rows(conn, "dw_library"),
        f"read {recipe.rows_read} rows: {late['name']} ({late[WATERMARK]}) is not > "
        f"{recipe.watermark_before}, so she is lost",
        f"read {library.rows_read} rows with >=, inserted {library.inserted}: "
        f"{late['name']} is there",
        "Compare with >= and let the upsert ignore rows already loaded (or use finer timestamps).",
    )


def hard_delete() -> PitfallDemo:
    """No watermark sees a row that was deleted at the source."""
    conn = _start()
    _change(conn, SOURCE, Delete(_OTHER[KEY]))
    lecture_incremental_load(conn, SOURCE, "dw_recipe")
    library = incremental_load(conn, SOURCE, "dw_library", reconcile_deletes=True,
                               **OPTS)
    return PitfallDemo(
        "A hard delete at the source", _rows(conn, "dw_recipe"), _rows(conn, "dw_library"),
        f"{_OTHER['name']} was deleted at the source but stays in the warehouse forever",
        f"reconcile_deletes=True found {library.deleted} key gone from the source and removed it",
        "Deleted rows have no updated_at: reconcile keys (anti-join) or ask the source for "
        "soft deletes (an is_deleted flag that changes updated_at).",
    )


def insert_or_replace() -> PitfallDemo:
    """INSERT OR REPLACE resets columns it does not list and cascades the delete to children."""
    conn = _start(extra=(WAREHOUSE_ONLY,))
    segment_sql, order_key_sql = quote_identifier(WAREHOUSE_ONLY.name), quote_identifier(ORDERS.key)
    for name in ("dw_recipe", "dw_library"):
        orders = name + "_orders"
        conn.executemany(f"UPDATE {quote_identifier(name)} SET {segment_sql} = ? "
                         f"WHERE {quote_identifier(KEY)} = ?",
                         [(segment, key) for key, segment in LECTURE_SEGMENTS.items()])
        conn.execute(f"CREATE TABLE {quote_identifier(orders)} ({order_key_sql} INTEGER PRIMARY "
                     f"KEY, {quote_identifier('customer_id')} INTEGER REFERENCES "
                     f"{quote_identifier(name)}"
                     f"({quote_identifier(KEY)}) ON DELETE CASCADE)")
        conn.executemany(f"INSERT INTO {quote_identifier(orders)} VALUES (?, ?)",
                         [(o[ORDERS.key], o["customer_id"]) for o in LECTURE_ORDERS])
    apply_lecture_changes(conn, 1)
    lecture_incremental_load(conn, SOURCE, "dw_recipe")
    incremental_load(conn, SOURCE, "dw_library", **OPTS)
    moved = next(r["name"] for r in LECTURE_ROWS if r[KEY] == _MOVED.key)
    return PitfallDemo(
        "INSERT OR REPLACE on a warehouse table with more columns and child rows",
        _rows(conn, "dw_recipe", _rows_with_orders_sql),
        _rows(conn, "dw_library", _rows_with_orders_sql),
        f"{moved}'s {WAREHOUSE_ONLY.name} fell back to {WAREHOUSE_ONLY.default!r} and her order "
        "was deleted by the cascade",
        "ON CONFLICT DO UPDATE "  # a message: the columns named are the facts'
        + f"changed {' and '.join(_MOVED.values)} only: {WAREHOUSE_ONLY.name} and order kept",
        "INSERT OR REPLACE is DELETE + INSERT. An upsert must be UPDATE for existing keys.",
    )


def _rows_with_orders_sql(table: str) -> str:
    key_sql, order_key_sql = quote_identifier(KEY), quote_identifier(ORDERS.key)
    columns_sql = ", ".join(
        f"c.{quote_identifier(c)}" for c in (KEY, "name", "city", WAREHOUSE_ONLY.name))
    return (f"SELECT {columns_sql}, COUNT(o.{order_key_sql}) AS orders "
            f"FROM {quote_identifier(table)} AS c "
            f"LEFT JOIN {quote_identifier(table + '_orders')} AS o "
            f"ON o.{quote_identifier('customer_id')} = c.{key_sql} "
            f"GROUP BY c.{key_sql} ORDER BY c.{key_sql}")


def crash_before_watermark() -> PitfallDemo:
    """A run that dies half-way: the recipe's watermark is derived from half-written data."""
    conn = _start()
    # The other customer moves the day before the new one arrives.
    stamp = _NEW[WATERMARK]
    day_before = (date.fromisoformat(stamp[:10]) - timedelta(days=1)).isoformat()
    _change(conn, SOURCE, Update(_OTHER[KEY], city="Bonn", **{WATERMARK: day_before}))
    _change(conn, SOURCE, Insert(**_NEW))
    # The recipe's run wrote the new row, then died before the move: MAX(updated_at) already
    # says the new row's day.
    columns_sql = ", ".join(map(quote_identifier, CUSTOMERS.names))
    placeholders_sql = ", ".join("?" * len(CUSTOMERS.names))
    conn.execute(f"INSERT OR REPLACE INTO {quote_identifier('dw_recipe')} ({columns_sql}) "
                 f"VALUES ({placeholders_sql})", CUSTOMERS.as_tuple(_NEW))
    lecture_incremental_load(conn, SOURCE, "dw_recipe")  # the rerun

    def die(*args, **kwargs):
        raise OSError("power cut between the data write and the watermark update")

    with mock.patch.object(engine, "write_watermark", die):
        try:
            incremental_load(conn, SOURCE, "dw_library", **OPTS)
        except OSError:
            pass  # the transaction rolled back: data and watermark are as before
    library = incremental_load(conn, SOURCE, "dw_library", **OPTS)  # the rerun
    return PitfallDemo(
        "A crash between writing data and moving the watermark",
        _rows(conn, "dw_recipe"), _rows(conn, "dw_library"),
        f"the rerun trusted MAX({WATERMARK}) = {stamp} from the half-written run: "
        f"{_OTHER['name']}'s move to Bonn is lost",
        f"the crashed run rolled back whole; the rerun loaded {library.inserted} new and "
        f"{library.updated} changed rows",
        "Keep the watermark in a state table and commit it in the same transaction as the data.",
    )


def mixed_formats() -> PitfallDemo:
    """Timestamps in two formats compare wrongly as text."""
    conn = connect(":memory:")
    create_lecture_source(conn)
    day = _NEW[WATERMARK][:10]
    early, late = f"{day}T09:00:00", f"{day} 10:00:00"
    conn.execute(f"UPDATE {quote_identifier(SOURCE)} SET {quote_identifier(WATERMARK)} = ?",
                 (early,))
    for name in ("dw_recipe", "dw_library"):
        conn.execute(_create_warehouse_sql(name))
    lecture_full_load(conn, SOURCE, "dw_recipe")
    full_load(conn, SOURCE, "dw_library", **OPTS)
    # One hour later, written by another system with a space instead of 'T'.
    _change(conn, SOURCE, Insert(**{**_NEW, WATERMARK: late}))
    recipe = lecture_incremental_load(conn, SOURCE, "dw_recipe")
    try:
        incremental_load(conn, SOURCE, "dw_library", **OPTS)
        library_says = "loaded"
    except CourseEtlError as error:
        library_says = f"refused before writing anything: {error}"
    return PitfallDemo(
        "Two timestamp formats in one column",
        _rows(conn, "dw_recipe"), _rows(conn, "dw_library"),
        f"read {recipe.rows_read} rows: {late!r} < {early!r} as text "
        f"(' ' sorts before 'T'), so {_NEW['name']} is skipped",
        library_says,
        "Store one timestamp format (ISO-8601, one separator, one zone) and check it on load.",
    )


PITFALLS: dict[str, Callable[[], PitfallDemo]] = {
    "same_day_row": same_day_row,
    "hard_delete": hard_delete,
    "insert_or_replace": insert_or_replace,
    "crash_before_watermark": crash_before_watermark,
    "mixed_formats": mixed_formats,
}


def run_all() -> list[PitfallDemo]:
    """Every pitfall demo, in teaching order."""
    return [demo() for demo in PITFALLS.values()]
