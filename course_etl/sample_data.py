"""Data for demos, notebooks, tests and benchmarks.

The lecture's customers (Aria, Ben, Chloe; then Chloe moves to Aurora and Dai arrives; then Eva)
and a deterministic synthetic source of any size with a change simulator that produces each kind
of change a watermark has to cope with: inserts, updates, soft and hard deletes, late-arriving rows
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

from course_etl.db import atomic, quote_identifier, resolve_table, validate_identifier
from course_etl.errors import CourseEtlError, UnknownColumnError

__all__ = [
    "SampleDataError",
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
    """A request the demo data cannot meet (an unknown change round, more rows than exist)."""


STORY_START = "2024-10-01"

LECTURE_CUSTOMERS = [
    (1, "Aria", "Austin", "2024-10-01"),
    (2, "Ben", "Berlin", "2024-10-01"),
    (3, "Chloe", "Chicago", "2024-10-01"),
]

# The lecture's two rounds of source changes: (SQL, parameters) pairs.
LECTURE_CHANGES = {
    1: [  # "Simulate changes at source (1 update, 1 insert)"
        ("UPDATE src_customers SET city = ?, updated_at = ? WHERE id = ?",
         ("Aurora", "2024-10-05", 3)),
        ("INSERT INTO src_customers VALUES (?, ?, ?, ?)", (4, "Dai", "Denver", "2024-10-05")),
    ],
    2: [  # the monitoring section's "simulate another change"
        ("INSERT INTO src_customers VALUES (?, ?, ?, ?)", (5, "Eva", "El Paso", "2024-10-06")),
    ],
}

FIRST_NAMES = [
    "Aria", "Ben", "Chloe", "Dai", "Eva", "Farid", "Gita", "Hugo", "Ines", "Jonas", "Kemi",
    "Lars", "Mei", "Nuno", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera",
]
CITIES = [
    "Austin", "Berlin", "Chicago", "Denver", "El Paso", "Aurora", "Lisbon", "Nairobi", "Osaka",
    "Quito", "Toronto", "Warsaw",
]
CUSTOMER_COLUMNS = ("id", "name", "city", "updated_at", "is_deleted")
_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def create_lecture_source(conn: sqlite3.Connection, table: str = "src_customers") -> None:
    """(Re)create the lecture's three-row source table, exactly as the lecture does."""
    validate_identifier(table, what="source table name")
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(
            f"CREATE TABLE {quote_identifier(table)} "
            "(id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT)"
        )
        conn.executemany(f"INSERT INTO {quote_identifier(table)} VALUES (?, ?, ?, ?)",
                         LECTURE_CUSTOMERS)


def apply_lecture_changes(conn: sqlite3.Connection, round_: int) -> None:
    """Apply the lecture's change round 1 (Chloe → Aurora, Dai) or 2 (Eva) to ``src_customers``."""
    if round_ not in LECTURE_CHANGES:
        raise SampleDataError(f"unknown change round {round_!r}: the lecture has rounds 1 and 2",
                              value=round_)
    with atomic(conn):
        for sql, params in LECTURE_CHANGES[round_]:
            conn.execute(sql, params)


def generate_customers(n: int, *, seed: int = 0, start: str = STORY_START) -> pd.DataFrame:
    """``n`` synthetic customers with ids 1..n and ``updated_at`` spread over 30 days from start."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 30 * 24 * 3600, size=n).astype("timedelta64[s]")
    stamps = np.datetime64(start, "s") + offsets
    return pd.DataFrame({
        "id": np.arange(1, n + 1, dtype=np.int64),
        "name": np.asarray(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)],
        "city": np.asarray(CITIES, dtype=object)[rng.integers(0, len(CITIES), n)],
        "updated_at": [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit="s")],
        "is_deleted": np.zeros(n, dtype=np.int64),
    })


def create_customer_source(
    conn: sqlite3.Connection, table: str, n: int, *, seed: int = 0,
    chunk_rows: int = 100_000, progress: bool = True,
) -> int:
    """(Re)create ``table`` holding ``n`` synthetic customers; returns the row count.

    The table has an AUTOINCREMENT primary key on ``id`` (ids are never reused after a delete)
    and an index on ``updated_at``, as a source built for incremental extraction would.
    Rows are generated and written in chunks under a progress bar, in one transaction.
    """
    validate_identifier(table, what="source table name")
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        conn.execute(
            f"CREATE TABLE {quote_identifier(table)} "
            "(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "city TEXT, updated_at TEXT NOT NULL, is_deleted INTEGER NOT NULL DEFAULT 0)"
        )
        frame = generate_customers(n, seed=seed)
        with tqdm(total=n, desc=f"writing {table}", unit="rows", disable=not progress) as bar:
            for first in range(0, n, chunk_rows):
                part = frame.iloc[first:first + chunk_rows]
                conn.executemany(
                    f"INSERT INTO {quote_identifier(table)} VALUES (?, ?, ?, ?, ?)",
                    part.itertuples(index=False, name=None),
                )
                bar.update(len(part))
        conn.execute(f"CREATE INDEX {quote_identifier(f'{table}_updated_at')} "
                     f"ON {quote_identifier(table)} (updated_at)")
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
    for column in ("id", "name", "city", "updated_at"):
        ref.column(column)
    has_flag = "is_deleted" in ref.columns
    if soft_deletes and not has_flag:
        raise UnknownColumnError(
            f"soft deletes need an 'is_deleted' column, which {ref.label!r} lacks "
            f"(columns: {', '.join(ref.columns)})"
        )
    rng = np.random.default_rng(seed)
    live_filter_sql = "WHERE is_deleted = 0" if has_flag else ""
    with atomic(conn):
        highest, max_id = conn.execute(
            f"SELECT MAX(updated_at), COALESCE(MAX(id), 0) FROM {ref.sql}"
        ).fetchone()
        highest = highest or f"{STORY_START} 00:00:00"
        max_id = max(max_id, _autoincrement_high_water(conn, ref.name))
        changes = ChangeSet(at=_shift(highest, hours=1))
        live = np.array([r[0] for r in conn.execute(f"SELECT id FROM {ref.sql} {live_filter_sql}")])
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
        columns = ("id", "name", "city", "updated_at")
        new_rows = []
        for kind, count, stamp in (
            ("inserted", inserts, changes.at),
            ("late", late, _shift(highest, days=-2)),
            ("same_timestamp", same_timestamp, highest),
        ):
            ids = [next(next_id) for _ in range(count)]
            getattr(changes, kind).extend(ids)
            new_rows += [(i, _pick(rng, FIRST_NAMES), _pick(rng, CITIES), stamp) for i in ids]
        columns_sql = ", ".join(map(quote_identifier, columns))
        conn.executemany(
            f"INSERT INTO {ref.sql} ({columns_sql}) "
            "VALUES (?, ?, ?, ?)",
            new_rows,
        )
        conn.executemany(
            f"UPDATE {ref.sql} SET city = ?, updated_at = ? WHERE id = ?",
            [(_pick(rng, CITIES), changes.at, i) for i in changes.updated],
        )
        if changes.soft_deleted:
            conn.executemany(
                f"UPDATE {ref.sql} SET is_deleted = 1, updated_at = ? WHERE id = ?",
                [(changes.at, i) for i in changes.soft_deleted],
            )
        conn.executemany(
            f"DELETE FROM {ref.sql} WHERE id = ?", [(i,) for i in changes.hard_deleted]
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
