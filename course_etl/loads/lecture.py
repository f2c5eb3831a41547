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
from unittest import mock

import pandas as pd

from course_etl.db import atomic, connect, query, quote_identifier, resolve_table
from course_etl.errors import CourseEtlError
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
    wm = quote_identifier(src.column(watermark, role="watermark column"))
    last_watermark = pd.read_sql_query(
        f"SELECT MAX({wm}) AS wm FROM {tgt.sql};", conn
    ).iloc[0]["wm"]
    changed = pd.read_sql_query(
        f"SELECT * FROM {src.sql} WHERE {wm} > ?", conn, params=[last_watermark]
    )
    placeholders = ",".join("?" * len(changed.columns))
    columns = ",".join(quote_identifier(c) for c in changed.columns)
    if not conn.in_transaction:
        # The lecture's connection opened this transaction implicitly (sqlite3's legacy mode);
        # course_etl connections are in autocommit mode, so open it explicitly to match.
        conn.execute("BEGIN")
    conn.executemany(
        f"INSERT OR REPLACE INTO {tgt.sql}({columns}) VALUES ({placeholders})",
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

OPTS = {"key": "id", "watermark": "updated_at"}
_DW = "CREATE TABLE {name} (id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT{extra})"


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


def _start(extra: str = "") -> sqlite3.Connection:
    """The lecture's source, fully loaded into dw_recipe (lecture) and dw_library (course_etl)."""
    conn = connect(":memory:")
    create_lecture_source(conn)
    for name in ("dw_recipe", "dw_library"):
        conn.execute(_DW.format(name=name, extra=extra))
    # The lecture's FULL LOAD #1, with a column list so extra warehouse columns keep defaults.
    conn.execute("INSERT INTO dw_recipe (id, name, city, updated_at) SELECT * FROM src_customers")
    full_load(conn, "src_customers", "dw_library", **OPTS)
    return conn


def _rows(conn: sqlite3.Connection, table: str, sql: str = "SELECT * FROM {t} ORDER BY id"):
    return query(conn, sql.format(t=table))


def same_day_row() -> PitfallDemo:
    """`>` skips a row written later on the day the watermark points at."""
    conn = _start()
    apply_lecture_changes(conn, 1)
    lecture_incremental_load(conn, "src_customers", "dw_recipe")
    incremental_load(conn, "src_customers", "dw_library", **OPTS)
    conn.execute("INSERT INTO src_customers VALUES (6, 'Femi', 'Frankfurt', '2024-10-05')")
    recipe = lecture_incremental_load(conn, "src_customers", "dw_recipe")
    library = incremental_load(conn, "src_customers", "dw_library", **OPTS)
    return PitfallDemo(
        "A row written later on the same day", _rows(conn, "dw_recipe"),
        _rows(conn, "dw_library"),
        f"read {recipe.rows_read} rows: Femi (2024-10-05) is not > 2024-10-05, so she is lost",
        f"read {library.rows_read} rows with >=, inserted {library.inserted}: Femi is there",
        "Compare with >= and let the upsert ignore rows already loaded (or use finer timestamps).",
    )


def hard_delete() -> PitfallDemo:
    """No watermark sees a row that was deleted at the source."""
    conn = _start()
    conn.execute("DELETE FROM src_customers WHERE id = 2")
    lecture_incremental_load(conn, "src_customers", "dw_recipe")
    library = incremental_load(conn, "src_customers", "dw_library", reconcile_deletes=True,
                               **OPTS)
    return PitfallDemo(
        "A hard delete at the source", _rows(conn, "dw_recipe"), _rows(conn, "dw_library"),
        "Ben was deleted at the source but stays in the warehouse forever",
        f"reconcile_deletes=True found {library.deleted} key gone from the source and removed it",
        "Deleted rows have no updated_at: reconcile keys (anti-join) or ask the source for "
        "soft deletes (an is_deleted flag that changes updated_at).",
    )


def insert_or_replace() -> PitfallDemo:
    """INSERT OR REPLACE resets columns it does not list and cascades the delete to children."""
    conn = _start(extra=", segment TEXT DEFAULT 'unknown'")
    for name in ("dw_recipe", "dw_library"):
        conn.execute(f"UPDATE {name} SET segment = 'gold' WHERE id = 3")
        conn.execute(f"CREATE TABLE {name}_orders (order_id INTEGER PRIMARY KEY, customer_id "
                     f"INTEGER REFERENCES {name}(id) ON DELETE CASCADE)")
        conn.execute(f"INSERT INTO {name}_orders VALUES (100, 3)")
    apply_lecture_changes(conn, 1)
    lecture_incremental_load(conn, "src_customers", "dw_recipe")
    incremental_load(conn, "src_customers", "dw_library", **OPTS)
    sql = ("SELECT c.id, c.name, c.city, c.segment, COUNT(o.order_id) AS orders "
           "FROM {t} AS c LEFT JOIN {t}_orders AS o ON o.customer_id = c.id "
           "GROUP BY c.id ORDER BY c.id")
    return PitfallDemo(
        "INSERT OR REPLACE on a warehouse table with more columns and child rows",
        _rows(conn, "dw_recipe", sql), _rows(conn, "dw_library", sql),
        "Chloe's segment fell back to 'unknown' and her order was deleted by the cascade",
        "ON CONFLICT DO UPDATE changed city and updated_at only: segment and order kept",
        "INSERT OR REPLACE is DELETE + INSERT. An upsert must be UPDATE for existing keys.",
    )


def crash_before_watermark() -> PitfallDemo:
    """A run that dies half-way: the recipe's watermark is derived from half-written data."""
    conn = _start()
    conn.execute("UPDATE src_customers SET city = 'Bonn', updated_at = '2024-10-04' WHERE id = 2")
    conn.execute("INSERT INTO src_customers VALUES (4, 'Dai', 'Denver', '2024-10-05')")
    # The recipe's run wrote Dai, then died before Ben: MAX(updated_at) already says 10-05.
    conn.execute("INSERT OR REPLACE INTO dw_recipe VALUES (4, 'Dai', 'Denver', '2024-10-05')")
    lecture_incremental_load(conn, "src_customers", "dw_recipe")  # the rerun

    def die(*args, **kwargs):
        raise OSError("power cut between the data write and the watermark update")

    with mock.patch.object(engine, "write_watermark", die):
        try:
            incremental_load(conn, "src_customers", "dw_library", **OPTS)
        except OSError:
            pass  # the transaction rolled back: data and watermark are as before
    library = incremental_load(conn, "src_customers", "dw_library", **OPTS)  # the rerun
    return PitfallDemo(
        "A crash between writing data and moving the watermark",
        _rows(conn, "dw_recipe"), _rows(conn, "dw_library"),
        "the rerun trusted MAX(updated_at) = 2024-10-05 from the half-written run: Ben's move "
        "to Bonn is lost",
        f"the crashed run rolled back whole; the rerun loaded {library.inserted} new and "
        f"{library.updated} changed rows",
        "Keep the watermark in a state table and commit it in the same transaction as the data.",
    )


def mixed_formats() -> PitfallDemo:
    """Timestamps in two formats compare wrongly as text."""
    conn = connect(":memory:")
    create_lecture_source(conn)
    conn.execute("UPDATE src_customers SET updated_at = '2024-10-05T09:00:00'")
    for name in ("dw_recipe", "dw_library"):
        conn.execute(_DW.format(name=name, extra=""))
    lecture_full_load(conn, "src_customers", "dw_recipe")
    full_load(conn, "src_customers", "dw_library", **OPTS)
    # One hour later, written by another system with a space instead of 'T'.
    conn.execute("INSERT INTO src_customers VALUES (4, 'Dai', 'Denver', '2024-10-05 10:00:00')")
    recipe = lecture_incremental_load(conn, "src_customers", "dw_recipe")
    try:
        incremental_load(conn, "src_customers", "dw_library", **OPTS)
        library_says = "loaded"
    except CourseEtlError as error:
        library_says = f"refused before writing anything: {error}"
    return PitfallDemo(
        "Two timestamp formats in one column",
        _rows(conn, "dw_recipe"), _rows(conn, "dw_library"),
        f"read {recipe.rows_read} rows: '2024-10-05 10:00:00' < '2024-10-05T09:00:00' as text "
        "(' ' sorts before 'T'), so Dai is skipped",
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
