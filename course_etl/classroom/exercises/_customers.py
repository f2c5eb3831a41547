"""The customers data sets notebook 01's checks run every answer on.

Two of each: the lecture's customers (Aria, Ben, Chloe, then Chloe moves and Dai arrives) and a
second, generated set with other ids, other dates (timestamps in March 2025, not dates in
October 2024) and another size, from a fixed seed so every verdict is the same on every run. An
answer that only fits the lecture's ids or dates passes the first and fails the second.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field

from course_etl.db import connect
from course_etl.sample_data import FIRST_NAMES, LECTURE_CUSTOMERS

SEED = 2025
COLUMNS = ("id", "name", "city", "updated_at")
OTHER_CITIES = ["Bergen", "Cork", "Dakar", "Esbjerg", "Fes", "Graz", "Hilo", "Izmir", "Jena"]

WAREHOUSE_DDL = """
CREATE TABLE src_customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT);
CREATE TABLE dw_customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT,
                           segment TEXT DEFAULT 'unknown');
CREATE TABLE dw_orders (order_id INTEGER PRIMARY KEY,
                        customer_id INTEGER REFERENCES dw_customers(id) ON DELETE CASCADE);
CREATE TABLE etl_watermarks (target TEXT NOT NULL, watermark_column TEXT NOT NULL, value,
                             format TEXT NOT NULL, PRIMARY KEY (target, watermark_column));
"""


@dataclass
class Scenario:
    """A source, a warehouse loaded from it (with a ``segment`` column and child orders the
    source knows nothing about), the stored watermark, and rounds of changes at the source."""

    label: str
    initial: list[tuple]
    segments: dict[int, str]
    orders: list[tuple[int, int]]
    watermark: str
    watermark_format: str
    rounds: list[list[tuple]] = field(default_factory=list)  # rows (re)written per round

    def build(self) -> sqlite3.Connection:
        """A fresh in-memory warehouse as after the full load (no round applied yet)."""
        conn = connect(":memory:")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(WAREHOUSE_DDL)
        conn.executemany("INSERT INTO src_customers VALUES (?, ?, ?, ?)", self.initial)
        conn.executemany("INSERT INTO dw_customers (id, name, city, updated_at) "
                         "VALUES (?, ?, ?, ?)", self.initial)
        conn.executemany("UPDATE dw_customers SET segment = ? WHERE id = ?",
                         [(s, i) for i, s in self.segments.items()])
        conn.executemany("INSERT INTO dw_orders VALUES (?, ?)", self.orders)
        conn.execute("INSERT INTO etl_watermarks VALUES ('dw_customers', 'updated_at', ?, ?)",
                     (self.watermark, self.watermark_format))
        return conn

    def name_of(self, key: int) -> str:
        """How a message names a row: by name in the lecture's data, by id in the other."""
        rows = {r[0]: r for rounds in ([self.initial], self.rounds) for rs in rounds for r in rs}
        return rows[key][1] if self.label == "the lecture's data" else f"id {key}"


def apply_round(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Write a round's rows at the source (new ids are inserts, known ids are updates)."""
    conn.executemany("INSERT INTO src_customers VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                     "SET name = excluded.name, city = excluded.city, "
                     "updated_at = excluded.updated_at", rows)


def lecture_scenario() -> Scenario:
    """The lecture: Chloe moves and Dai arrives on 10-05; Femi is written later on 10-05, after
    that load (the boundary); a quiet day; then Eva on 10-06."""
    return Scenario(
        "the lecture's data", list(LECTURE_CUSTOMERS), {3: "gold"}, [(100, 3)],
        "2024-10-01", "YYYY-MM-DD",
        [[(3, "Chloe", "Aurora", "2024-10-05"), (4, "Dai", "Denver", "2024-10-05")],
         [(6, "Femi", "Frankfurt", "2024-10-05")],
         [],
         [(5, "Eva", "El Paso", "2024-10-06")]],
    )


def _stamp(day: int, minute: int) -> str:
    return f"2025-03-{day:02d} {minute // 60:02d}:{minute % 60:02d}:00"


def generated_scenario(seed: int = SEED) -> Scenario:
    """Other ids, timestamps and sizes: 17 customers, rounds with updates of every column
    (one only renames, one changes only the timestamp), inserts, and rows that share the
    stored watermark's exact timestamp."""
    rng = random.Random(seed)
    ids = sorted(rng.sample(range(1000, 9999), 24))
    initial = [(i, rng.choice(FIRST_NAMES), rng.choice(OTHER_CITIES),
                _stamp(rng.randint(1, 3), rng.randrange(0, 1440, 15))) for i in ids[:17]]
    newest = max(r[3] for r in initial)
    initial[5] = (*initial[5][:3], newest)  # two rows share the newest timestamp
    by_id = {r[0]: r for r in initial}
    moved, renamed, touched = ids[2], ids[7], ids[11]
    day4 = _stamp(4, 600)
    round_one = [
        (moved, by_id[moved][1], "Quito", day4),
        (renamed, by_id[renamed][1] + "-Lee", by_id[renamed][2], day4),
        (touched, *by_id[touched][1:3], day4),  # same values, new timestamp
        (ids[17], "Nadia", "Graz", day4),
        (ids[18], "Omar", "Fes", _stamp(4, 480)),
    ]
    boundary = [(ids[19], "Pia", "Cork", day4), (ids[4], by_id[ids[4]][1], "Jena", day4)]
    round_three = [(ids[20], "Rui", "Hilo", _stamp(5, 30)), (moved, by_id[moved][1], "Lima",
                                                             _stamp(5, 45))]
    return Scenario(
        "a second, generated data set", initial, {moved: "vip", ids[4]: "gold", ids[9]: "b2b"},
        [(500 + n, key) for n, key in enumerate((moved, ids[4], renamed, ids[4]))],
        newest, "YYYY-MM-DD hh:mm", [round_one, boundary, [], round_three],
    )


def scenarios() -> list[Scenario]:
    return [lecture_scenario(), generated_scenario()]


def expected_after(warehouse: dict[int, tuple], source: dict[int, tuple], watermark: str
                   ) -> tuple[dict[int, tuple], set[int], str]:
    """What a correct incremental load does, in plain Python: read rows with
    ``updated_at >= watermark``, insert the new ones, rewrite only those that differ (keeping
    ``segment``), and move the watermark to the highest value read (never back)."""
    after, rewritten = dict(warehouse), set()
    read = [row for row in source.values() if row[3] >= watermark]
    for row in read:
        old = after.get(row[0])
        if old is None:
            after[row[0]] = (*row, "unknown")
        elif old[:4] != row:
            after[row[0]] = (*row, old[4])
            rewritten.add(row[0])
    return after, rewritten, max([watermark, *(r[3] for r in read)])
