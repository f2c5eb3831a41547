"""The customers warehouses notebook 01's checks run every answer on: the lecture's, then
generated ones, each built around one edge the lesson is about.

A :class:`Warehouse` is a source (``src_customers``), a warehouse loaded from it
(``dw_customers`` with a ``segment`` column and child rows in ``dw_orders`` that the source knows
nothing about), the stored watermark, and rounds of later changes at the source. The lecture's
comes from :mod:`course_etl.sample_data` (its customers and its change rounds); the generated ones
draw ids, names, cities and timestamps from a seed, so an answer tuned to the lecture's ids or
dates fails them, and every verdict is the same on every run.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field, replace

from course_etl.db import connect
from course_etl.loads.formats import classify
from course_etl.sample_data import (
    CITIES,
    FIRST_NAMES,
    apply_lecture_changes,
    create_lecture_source,
)

SEED = 2025
COLUMNS = ("id", "name", "city", "updated_at")
WAREHOUSE_COLUMNS = (*COLUMNS, "segment")
#: Names and cities beyond ASCII: a comparison or a quote must not trip over them.
UNICODE_NAMES = ["Zoë", "Ümit", "Łucja", "O'Brien", "Søren", "Nguyễn", "Анна"]
UNICODE_CITIES = ["Zürich", "São Paulo", "Kraków", "Reykjavík", "Île-de-Ré"]

WAREHOUSE_DDL = """
CREATE TABLE src_customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT);
CREATE TABLE dw_customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT,
                           segment TEXT DEFAULT 'unknown');
CREATE TABLE dw_orders (order_id INTEGER PRIMARY KEY,
                        customer_id INTEGER REFERENCES dw_customers(id) ON DELETE CASCADE);
CREATE TABLE etl_watermarks (target TEXT NOT NULL, watermark_column TEXT NOT NULL, value,
                             format TEXT NOT NULL, PRIMARY KEY (target, watermark_column));
"""


@dataclass(frozen=True)
class Round:
    """One round of changes at the source: rows (re)written, ids deleted, and whether a write
    of the load fails this time (``failing`` names the table a trigger refuses to change)."""

    rows: tuple[tuple, ...] = ()
    deleted: tuple[int, ...] = ()
    failing: str | None = None
    story: str = ""


@dataclass(frozen=True)
class Warehouse:
    """A source, the warehouse loaded from it, the stored watermark, and rounds of changes."""

    source: tuple[tuple, ...]
    warehouse: tuple[tuple, ...]  # (id, name, city, updated_at, segment)
    orders: tuple[tuple[int, int], ...] = ()
    watermark: str | None = None
    watermark_format: str = "YYYY-MM-DD"
    rounds: tuple[Round, ...] = field(default_factory=tuple)

    def build(self) -> sqlite3.Connection:
        """A fresh in-memory warehouse in this state (no round applied yet)."""
        conn = connect(":memory:")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(WAREHOUSE_DDL)
        conn.executemany("INSERT INTO src_customers VALUES (?, ?, ?, ?)", self.source)
        conn.executemany("INSERT INTO dw_customers VALUES (?, ?, ?, ?, ?)", self.warehouse)
        conn.executemany("INSERT INTO dw_orders VALUES (?, ?)", self.orders)
        if self.watermark is not None:
            conn.execute("INSERT INTO etl_watermarks VALUES ('dw_customers', 'updated_at', ?, ?)",
                         (self.watermark, self.watermark_format))
        return conn

    @property
    def size(self) -> int:
        return len(self.source) + sum(len(r.rows) + len(r.deleted) for r in self.rounds)


def apply_round(conn: sqlite3.Connection, change: Round) -> None:
    """Write a round's rows at the source (new ids are inserts, known ids are updates) and
    delete its ids."""
    conn.executemany("INSERT INTO src_customers VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                     "SET name = excluded.name, city = excluded.city, "
                     "updated_at = excluded.updated_at", change.rows)
    conn.executemany("DELETE FROM src_customers WHERE id = ?", [(k,) for k in change.deleted])


def loaded(source: list[tuple], segments: dict[int, str] | None = None) -> tuple[tuple, ...]:
    """The warehouse rows a full load of ``source`` gives (segment 'unknown' unless given)."""
    segments = segments or {}
    return tuple((*row, segments.get(row[0], "unknown")) for row in source)


def lecture_rows(*rounds: int) -> list[tuple]:
    """The lecture's source after its change ``rounds`` (from sample_data, not typed here)."""
    conn = connect(":memory:")
    create_lecture_source(conn)
    for number in rounds:
        apply_lecture_changes(conn, number)
    rows = [tuple(r) for r in conn.execute("SELECT * FROM src_customers ORDER BY id")]
    conn.close()
    return rows


def changed_rows(before: list[tuple], after: list[tuple]) -> tuple[tuple, ...]:
    """The rows of ``after`` that are new or differ from ``before`` (a round of changes)."""
    old = {r[0]: r for r in before}
    return tuple(r for r in after if old.get(r[0]) != r)


class Draw:
    """Seeded draws of ids, names, cities and timestamps for one generated scenario.
    ``daily=True`` stamps dates (the lecture's format), else timestamps to the second."""

    def __init__(self, seed: int, *, daily: bool | None = None, unicode: bool = False):
        self.rng = random.Random(seed)
        self.daily = self.rng.random() < 0.4 if daily is None else daily
        self.names = UNICODE_NAMES if unicode else FIRST_NAMES
        self.cities = UNICODE_CITIES if unicode else CITIES
        self.base_day = self.rng.randint(1, 20)
        self._used: set[int] = set()

    @property
    def watermark_format(self) -> str:
        """The format the library names these stamps by (one classifier for both)."""
        return classify(self.stamp(0))

    def key(self) -> int:
        while True:
            key = self.rng.randint(1, 9999)
            if key not in self._used:
                self._used.add(key)
                return key

    def name(self) -> str:
        return self.rng.choice(self.names)

    def city(self, other_than: str | None = None) -> str:
        return self.rng.choice([c for c in self.cities if c != other_than])

    def stamp(self, step: int) -> str:
        """The ``step``-th moment after the scenario's start (days, or minutes and seconds)."""
        if self.daily:
            return f"2025-03-{self.base_day + step:02d}"
        seconds = 9 * 3600 + step * 3607
        return (f"2025-03-{self.base_day:02d} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
                f"{seconds % 60:02d}")

    def row(self, step: int, key: int | None = None) -> tuple:
        return (self.key() if key is None else key, self.name(), self.city(), self.stamp(step))


def random_warehouse(seed: int, *, rows: int, rounds: int = 2, unicode: bool = False,
                     nulls: bool = True) -> Warehouse:
    """A warehouse of ``rows`` customers loaded up to a watermark, then ``rounds`` rounds of
    inserts, updates of every kind (move, rename, timestamp only, to and from NULL), rows
    stamped exactly the watermark, and (with ``nulls``) NULL names and cities."""
    draw = Draw(seed, unicode=unicode)
    source = [draw.row(draw.rng.randint(0, 3)) for _ in range(rows)]
    watermark = max(r[3] for r in source)
    source.append((draw.key(), draw.name(), draw.city(), watermark))  # shares the watermark
    if nulls and source:
        victim = draw.rng.randrange(len(source))
        source[victim] = (source[victim][0], None, *source[victim][2:])
    segments = {r[0]: draw.rng.choice(["gold", "vip", "b2b"]) for r in source[::3]}
    orders = tuple((700 + n, r[0]) for n, r in enumerate(source[::2]))
    current = {r[0]: r for r in source}
    changes: list[Round] = []
    for number in range(rounds):
        step = 4 + number
        stamp = draw.stamp(step)
        written = [draw.row(step) for _ in range(draw.rng.randint(0, 3))]
        for key in draw.rng.sample(sorted(current), min(len(current), draw.rng.randint(1, 4))):
            old = current[key]
            kind = draw.rng.choice(["move", "rename", "touch", "null_city", "unnull"])
            new = {"move": (key, old[1], draw.city(old[2]), stamp),
                   "rename": (key, (old[1] or "X") + "-Lee", old[2], stamp),
                   "touch": (key, old[1], old[2], stamp),
                   "null_city": (key, old[1], None, stamp) if nulls else (key, *old[1:3], stamp),
                   "unnull": (key, old[1] or draw.name(), old[2] or draw.city(), stamp)}[kind]
            written.append(new)
        written.append((draw.key(), draw.name(), draw.city(), stamp))  # a second row at `stamp`
        for row in written:
            current[row[0]] = row
        changes.append(Round(tuple(written), story=f"{len(written)} rows written at the source"))
    return Warehouse(tuple(source), loaded(source, segments), orders, watermark,
                     draw.watermark_format, tuple(changes))


def with_rounds(warehouse: Warehouse, *rounds: Round) -> Warehouse:
    return replace(warehouse, rounds=tuple(rounds))


def tell(before: list[tuple], rows: tuple[tuple, ...]) -> str:
    """A round of changes in words: "Chloe moves to Aurora and Dai arrives"."""
    old = {r[0]: r for r in before}
    said = [f"{r[1]} arrives" if r[0] not in old else
            f"{r[1]} moves to {r[2]}" if old[r[0]][2] != r[2] else f"{r[1]} changes"
            for r in rows]
    return " and ".join(said) or "nothing changes"


def lecture_warehouse() -> Warehouse:
    """The lecture: its three customers loaded (the one who moves in round 1 a 'gold' customer
    with an order); sample_data's round 1; a customer written later the same day as round 1
    (after that load ran: the boundary); a quiet day; sample_data's round 2."""
    first, one, two = lecture_rows(), lecture_rows(1), lecture_rows(1, 2)
    round_one = changed_rows(first, one)
    chloe = next(r for r in first if r[0] in {c[0] for c in round_one})
    day = max(r[3] for r in round_one)
    used = {r[1] for r in two}
    late_name = next(n for n in FIRST_NAMES if n not in used)
    late = (max(r[0] for r in two) + 1, late_name, CITIES[-1], day)
    return Warehouse(tuple(first), loaded(first, {chloe[0]: "gold"}),
                     ((100, chloe[0]),), max(r[3] for r in first), "YYYY-MM-DD",
                     (Round(round_one, story=tell(first, round_one)),
                      Round((late,), story=f"{late_name} is written later on {day}, after that "
                            "load ran"),
                      Round(story="a quiet day: nothing changes"),
                      Round(changed_rows(one, two), story=tell(one, changed_rows(one, two)))))
