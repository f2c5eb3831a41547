"""Data for demos, notebooks, tests and benchmarks, built from the course's facts.

The lecture's customers (Aria, Ben, Chloe; then Chloe moves to Aurora and Dai arrives; then Eva)
are defined once, in :mod:`course_etl.facts.lecture`; this module builds tables from them, and a
deterministic synthetic source of any size with a change simulator that produces each kind of
change a watermark has to cope with: inserts, updates, soft and hard deletes, late-arriving rows
(an old ``updated_at`` written now) and rows that share the current highest ``updated_at``.
Same seed, same data: the notebooks' outputs depend on it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from course_etl import facts
from course_etl.db import atomic, quote_identifier, resolve_table, validate_identifier
from course_etl.errors import CourseEtlError, UnknownColumnError, checked
from course_etl.facts import CUSTOMERS, FACTS_FILE, SOFT_DELETE, TABLES, rounds_text

__all__ = [
    "SampleDataError",
    "STORY_START",
    "LECTURE_CUSTOMERS",
    "LECTURE_CHANGES",
    "create_lecture_source",
    "apply_lecture_changes",
    "generate_customers",
    "create_customer_source",
    "ChangeSet",
    "simulate_changes",
]

class SampleDataError(CourseEtlError):
    """A request the demo data cannot meet, its ``.value`` what was asked for: an unknown change
    round (``.known``: the rounds there are), a required column with no values to draw from
    (``.column``), more rows to change than ``.table`` has (``.rows``: its live rows)."""


STORY_START = facts.STORY_START

#: The lecture's customers as ``SELECT *`` returns them (derived from the facts).
LECTURE_CUSTOMERS = facts.lecture_tuples()

#: The lecture's rounds of source changes as (SQL, parameters) pairs on the source table.
LECTURE_CHANGES = {
    number: [facts.change_statement(CUSTOMERS, TABLES.source, change) for change in changes]
    for number, changes in facts.CHANGE_ROUNDS.items()
}

FIRST_NAMES = list(facts.FIRST_NAMES)
CITIES = list(facts.CITIES)
#: The generated sources' columns: the customers' and the soft-delete flag.
CUSTOMER_COLUMNS = (*CUSTOMERS.names, SOFT_DELETE.name)
_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


@checked
def create_lecture_source(conn: sqlite3.Connection, table: str = TABLES.source) -> None:
    """(Re)create the lecture's source table, exactly as the lecture does (its bare types)."""
    validate_identifier(table, what="source table name")
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(CUSTOMERS.ddl(table))
        conn.executemany(CUSTOMERS.insert_sql(table), facts.lecture_tuples())


@checked
def apply_lecture_changes(conn: sqlite3.Connection, round_: int, *,
                          table: str = TABLES.source) -> None:
    """Apply the lecture's change round ``round_`` (1: Chloe → Aurora, Dai; 2: Eva) to
    ``table``, in one transaction. Raises SampleDataError naming the rounds there are."""
    if round_ not in facts.CHANGE_ROUNDS:
        raise SampleDataError(f"unknown change round {round_!r}: the lecture has "
                              f"{rounds_text()}", value=round_, known=list(facts.CHANGE_ROUNDS))
    changes = facts.CHANGE_ROUNDS[round_]
    validate_identifier(table, what="source table name")
    with atomic(conn):
        for change in changes:
            conn.execute(*facts.change_statement(CUSTOMERS, table, change))


#: Where generated values of a column come from; other columns take their declared default.
_POOLS = {"name": FIRST_NAMES, "city": CITIES}
_KEY, _WATERMARK = CUSTOMERS.key, CUSTOMERS.watermark


@checked
def generate_customers(n: int, *, seed: int = 0, start: str = STORY_START) -> pd.DataFrame:
    """``n`` synthetic customers with ids 1..n and ``updated_at`` spread over 30 days from start.

    One column per customers column of the facts, plus the soft-delete flag (all 0). Raises
    SampleDataError for a required column with no values to draw from (declare a default).
    """
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 30 * 24 * 3600, size=n).astype("timedelta64[s]")
    stamps = np.datetime64(start, "s") + offsets
    data: dict[str, object] = {}
    for column in CUSTOMERS.columns:
        if column.name == _KEY:
            data[column.name] = np.arange(1, n + 1, dtype=np.int64)
        elif column.name == _WATERMARK:
            data[column.name] = [s.replace("T", " ")
                                 for s in np.datetime_as_string(stamps, unit="s")]
        elif column.name in _POOLS:
            pool = _POOLS[column.name]
            data[column.name] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)]
        elif column.optional:
            data[column.name] = [column.default] * n
        else:
            raise SampleDataError(
                f"no values to generate for the required column {column.name!r}: declare a "
                f"default for it in {FACTS_FILE}", value=column.name, column=column.name)
    data[SOFT_DELETE.name] = np.zeros(n, dtype=np.int64)
    return pd.DataFrame(data)


@checked
def create_customer_source(
    conn: sqlite3.Connection, table: str, n: int, *, seed: int = 0,
    chunk_rows: int = 100_000, progress: bool = True,
) -> int:
    """(Re)create ``table`` holding ``n`` synthetic customers; returns the row count.

    The table has an AUTOINCREMENT primary key on ``id`` (ids are never reused after a delete),
    the columns' NOT NULL and DEFAULT constraints, the soft-delete flag and an index on
    ``updated_at``, as a source built for incremental extraction would.
    Rows are generated and written in chunks under a progress bar, in one transaction.
    """
    validate_identifier(table, what="source table name")
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(CUSTOMERS.ddl(table, constraints=True, autoincrement=True,
                                   extra=[SOFT_DELETE]))
        frame = generate_customers(n, seed=seed)
        insert_sql = CUSTOMERS.insert_sql(table, CUSTOMER_COLUMNS)
        with tqdm(total=n, desc=f"writing {table}", unit="rows", disable=not progress) as bar:
            for first in range(0, n, chunk_rows):
                part = frame.iloc[first:first + chunk_rows]
                conn.executemany(insert_sql, part.itertuples(index=False, name=None))
                bar.update(len(part))
        conn.execute(f"CREATE INDEX {quote_identifier(f'{table}_{_WATERMARK}')} "
                     f"ON {quote_identifier(table)} ({quote_identifier(_WATERMARK)})")
    return n


@dataclass
class ChangeSet:
    """The ids each kind of simulated change touched, and the timestamp they were written at."""

    at: str
    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    soft_deleted: list[int] = field(default_factory=list)
    hard_deleted: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)
    same_timestamp: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many rows each kind of change touched."""
        return {k: len(v) for k, v in vars(self).items() if isinstance(v, list)}


def _shift(stamp: str, *, days: int = 0, hours: int = 0) -> str:
    """Move a stored timestamp, keeping its format (date-only values move in whole days)."""
    if len(stamp) == 10:
        step = timedelta(days=days or (1 if hours > 0 else 0))
        return (date.fromisoformat(stamp) + step).isoformat()
    moment = datetime.fromisoformat(stamp) + timedelta(days=days, hours=hours)
    return moment.strftime(_TIMESTAMP)


@checked
def simulate_changes(
    conn: sqlite3.Connection,
    table: str,
    *,
    inserts: int = 0,
    updates: int = 0,
    soft_deletes: int = 0,
    hard_deletes: int = 0,
    late: int = 0,
    same_timestamp: int = 0,
    seed: int = 0,
) -> ChangeSet:
    """Change a customers source table the way a busy OLTP system would, in one transaction.

    New and changed rows get ``updated_at`` one step (an hour; a day for date-only data) past the
    table's current highest value. ``late`` inserts rows stamped two days *before* it (they arrive
    now with an old timestamp); ``same_timestamp`` inserts rows stamped exactly at it, the value the
    last load stored as its watermark. Updated, soft- and hard-deleted rows are distinct live rows.
    Raises UnknownColumnError when ``soft_deletes`` is asked of a table without ``is_deleted``.
    """
    ref = resolve_table(conn, table, role="source table")
    for column in CUSTOMERS.columns:
        if not column.optional:
            ref.column(column.name)
    has_flag = SOFT_DELETE.name in ref.columns
    if soft_deletes and not has_flag:
        raise UnknownColumnError(
            f"soft deletes need an {SOFT_DELETE.name!r} column, which {ref.label!r} lacks "
            f"(columns: {', '.join(ref.columns)})",
            table=ref.label, column=SOFT_DELETE.name, known=list(ref.columns),
            what="soft-delete flag column")
    rng = np.random.default_rng(seed)
    key_sql, watermark_sql = quote_identifier(_KEY), quote_identifier(_WATERMARK)
    flag_sql = quote_identifier(SOFT_DELETE.name)
    live_filter_sql = f"WHERE {flag_sql} = 0" if has_flag else ""
    with atomic(conn):
        highest, max_id = conn.execute(
            f"SELECT MAX({watermark_sql}), COALESCE(MAX({key_sql}), 0) FROM {ref.sql}"
        ).fetchone()
        highest = highest or f"{STORY_START} 00:00:00"
        max_id = max(max_id, _autoincrement_high_water(conn, ref.name))
        changes = ChangeSet(at=_shift(highest, hours=1))
        live = np.array([r[0] for r in conn.execute(
            f"SELECT {key_sql} FROM {ref.sql} {live_filter_sql}")])
        wanted = updates + soft_deletes + hard_deletes
        if wanted > len(live):
            raise SampleDataError(
                f"asked to change {wanted} existing rows but {ref.label!r} has "
                f"{len(live)} live rows", table=ref.label, value=wanted, rows=len(live)
            )
        picked = [int(i) for i in rng.choice(live, size=wanted, replace=False)] if wanted else []
        changes.updated = sorted(picked[:updates])
        changes.soft_deleted = sorted(picked[updates:updates + soft_deletes])
        changes.hard_deleted = sorted(picked[updates + soft_deletes:])
        next_id = iter(range(max_id + 1, max_id + 1 + inserts + late + same_timestamp))
        # New rows name the key, the drawn columns and the watermark; the rest take the table's
        # defaults (the optional columns').
        pooled = [c for c in CUSTOMERS.names if c in _POOLS]
        new_rows = []
        for kind, count, stamp in (
            ("inserted", inserts, changes.at),
            ("late", late, _shift(highest, days=-2)),
            ("same_timestamp", same_timestamp, highest),
        ):
            ids = [next(next_id) for _ in range(count)]
            getattr(changes, kind).extend(ids)
            new_rows += [(i, *(_pick(rng, _POOLS[c]) for c in pooled), stamp) for i in ids]
        columns_sql = ", ".join(map(quote_identifier, (_KEY, *pooled, _WATERMARK)))
        placeholders_sql = ", ".join("?" * (len(pooled) + 2))
        conn.executemany(f"INSERT INTO {ref.sql} ({columns_sql}) VALUES ({placeholders_sql})",
                         new_rows)
        moved_sql = quote_identifier("city")  # what an update changes: the customer moves
        conn.executemany(
            f"UPDATE {ref.sql} SET {moved_sql} = ?, {watermark_sql} = ? WHERE {key_sql} = ?",
            [(_pick(rng, CITIES), changes.at, i) for i in changes.updated],
        )
        if changes.soft_deleted:
            conn.executemany(
                f"UPDATE {ref.sql} SET {flag_sql} = 1, {watermark_sql} = ? WHERE {key_sql} = ?",
                [(changes.at, i) for i in changes.soft_deleted],
            )
        conn.executemany(
            f"DELETE FROM {ref.sql} WHERE {key_sql} = ?", [(i,) for i in changes.hard_deleted]
        )
    return changes


def _autoincrement_high_water(conn: sqlite3.Connection, table: str) -> int:
    """The highest id an AUTOINCREMENT table ever used (0 for other tables)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        return 0
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return row[0] if row else 0


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(0, len(options)))]
