"""The customers warehouses notebook 01's checks run every answer on: the lecture's, then
generated ones, each built around one edge the lesson is about.

A :class:`Warehouse` is a source (``src_customers``), a warehouse loaded from it
(``dw_customers`` with a ``segment`` column and child rows in ``dw_orders`` that the source knows
nothing about), the stored watermark, and rounds of later changes at the source. Tables, their
columns and the lecture's rows come from :mod:`course_etl.facts` (its customers, change rounds,
the row written later the same day, segments and orders); the state table is the library's own.
Generated warehouses draw ids, names, cities and timestamps from a seed, so an answer tuned to
the lecture's ids or dates fails them, and every verdict is the same on every run. A warehouse is
what a history of correct loads leaves: the *old* versions of rows that changed since, the rows
stamped exactly the watermark, and rows the source no longer has (deleted there, or written by a
run that failed), some of them newer than the watermark.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field, replace

from course_etl import facts
from course_etl.db import connect, quote_identifier
from course_etl.facts import CUSTOMERS, LECTURE_ORDERS, ORDERS, TABLES, WAREHOUSE_ONLY
from course_etl.loads.formats import classify
from course_etl.loads.watermarks import ensure_state_table

SEED = 2025
COLUMNS = CUSTOMERS.names
WAREHOUSE_COLUMNS = (*COLUMNS, WAREHOUSE_ONLY.name)
#: Where the key and the watermark sit in a row tuple (the facts' column order).
KEY, STAMP = COLUMNS.index(CUSTOMERS.key), COLUMNS.index(CUSTOMERS.watermark)
#: Columns a course added to the customers beyond the four every generator varies by name (an
#: instructor's ``email``): generated rows give them drawn values, so an answer that leaves one
#: out differs from the reference instead of matching it on NULLs.
ADDED_COLUMNS = tuple(c for c in CUSTOMERS.columns
                      if c.name not in (CUSTOMERS.key, "name", "city", CUSTOMERS.watermark))
#: Names and cities beyond ASCII: a comparison or a quote must not trip over them.
UNICODE_NAMES = ["Zoë", "Ümit", "Łucja", "O'Brien", "Søren", "Nguyễn", "Анна"]
UNICODE_CITIES = ["Zürich", "São Paulo", "Kraków", "Reykjavík", "Île-de-Ré"]


def create_tables(conn: sqlite3.Connection) -> None:
    """The source, the warehouse (with its warehouse-only column), its child orders (``ON DELETE
    CASCADE``: what INSERT OR REPLACE destroys) and the library's watermark state table."""
    conn.execute(CUSTOMERS.ddl(TABLES.source))
    conn.execute(CUSTOMERS.ddl(TABLES.warehouse, extra=(WAREHOUSE_ONLY,)))
    conn.execute(f"CREATE TABLE {quote_identifier(TABLES.orders)} ("
                 f"{quote_identifier(ORDERS.key)} INTEGER PRIMARY KEY, "
                 f"{quote_identifier('customer_id')} INTEGER "
                 f"REFERENCES {quote_identifier(TABLES.warehouse)}"
                 f"({quote_identifier(CUSTOMERS.key)}) ON DELETE CASCADE)")
    ensure_state_table(conn)


@dataclass(frozen=True)
class Round:
    """One round of changes at the source: rows (re)written, ids deleted, and whether a write
    of the load fails this time (``failing``: the table a trigger refuses to change; ``error``:
    how, as :data:`FAILURES` names it)."""

    rows: tuple[tuple, ...] = ()
    deleted: tuple[int, ...] = ()
    failing: str | None = None
    story: str = ""
    error: str = "integrity"


#: How a write can fail, as SQLite reports it: a constraint (IntegrityError), and the disk, a
#: lock or a function giving out (OperationalError). A load must roll back on every one.
FAILURES = {"integrity": "a constraint refuses the row (IntegrityError)",
            "operational": "the disk gives out (OperationalError)"}


@dataclass(frozen=True)
class Warehouse:
    """A source, the warehouse loaded from it, the stored watermark, and rounds of changes."""

    source: tuple[tuple, ...]
    warehouse: tuple[tuple, ...]  # the source's columns, then segment
    orders: tuple[tuple[int, int], ...] = ()
    watermark: str | int | None = None
    watermark_format: str = "YYYY-MM-DD"
    rounds: tuple[Round, ...] = field(default_factory=tuple)

    def build(self) -> sqlite3.Connection:
        """A fresh in-memory warehouse in this state (no round applied yet)."""
        conn = connect(":memory:")
        conn.execute("PRAGMA foreign_keys = ON")
        create_tables(conn)
        conn.executemany(CUSTOMERS.insert_sql(TABLES.source), self.source)
        conn.executemany(CUSTOMERS.insert_sql(TABLES.warehouse, WAREHOUSE_COLUMNS),
                         self.warehouse)
        conn.executemany(f"INSERT INTO {quote_identifier(TABLES.orders)} VALUES (?, ?)",
                         self.orders)
        if self.watermark is not None:
            conn.execute(f"INSERT INTO {quote_identifier(TABLES.watermarks)} VALUES (?, ?, ?, ?)",
                         (TABLES.warehouse, CUSTOMERS.watermark, self.watermark,
                          self.watermark_format))
        return conn

    @property
    def size(self) -> int:
        return len(self.source) + sum(len(r.rows) + len(r.deleted) for r in self.rounds)


def apply_round(conn: sqlite3.Connection, change: Round) -> None:
    """Write a round's rows at the source (new ids are inserts, known ids are updates) and
    delete its ids."""
    for row in change.rows:
        conn.execute(f"DELETE FROM {quote_identifier(TABLES.source)} "
                     f"WHERE {quote_identifier(CUSTOMERS.key)} = ?", (row[KEY],))
        conn.execute(CUSTOMERS.insert_sql(TABLES.source), row)
    conn.executemany(f"DELETE FROM {quote_identifier(TABLES.source)} "
                     f"WHERE {quote_identifier(CUSTOMERS.key)} = ?",
                     [(k,) for k in change.deleted])


def apply_rounds(source: list[tuple] | tuple[tuple, ...], rounds) -> list[tuple]:
    """The source rows after ``rounds``, computed in Python (key order)."""
    current = {r[KEY]: tuple(r) for r in source}
    for change in rounds:
        current.update({r[KEY]: tuple(r) for r in change.rows})
        for key in change.deleted:
            current.pop(key, None)
    return [current[k] for k in sorted(current)]


def loaded(source, segments: dict[int, str] | None = None) -> tuple[tuple, ...]:
    """The warehouse rows a full load of ``source`` gives (segment its default unless given)."""
    segments = segments or {}
    return tuple((*row, segments.get(row[KEY], WAREHOUSE_ONLY.default)) for row in source)


def lecture_rows(*rounds: int) -> list[tuple]:
    """The lecture's source after its change ``rounds`` (the facts', in key order)."""
    return facts.lecture_tuples(max(rounds, default=0))


def changed_rows(before: list[tuple], after: list[tuple]) -> tuple[tuple, ...]:
    """The rows of ``after`` that are new or differ from ``before`` (a round of changes)."""
    old = {r[KEY]: r for r in before}
    return tuple(r for r in after if old.get(r[KEY]) != r)


def row(**values: object) -> tuple:
    """A customers row from its values by column name, optional columns defaulted."""
    return CUSTOMERS.as_tuple(values)


def customer(key: object, name: object, city: object, stamp: object) -> tuple:
    """A customers row from the four values every generator varies (the key, name, city and
    watermark columns), any other column the course declares at its default."""
    return row(**{CUSTOMERS.key: key, "name": name, "city": city, CUSTOMERS.watermark: stamp})


def restamped(old: tuple, stamp: object, **values: object) -> tuple:
    """``old`` stamped ``stamp`` (and with the named columns set to ``values``)."""
    return changed(old, **values, **{CUSTOMERS.watermark: stamp})


def cell(of: tuple, column: str) -> object:
    """One column's value of a row tuple, by the column's name."""
    return of[COLUMNS.index(column)]


def changed(old: tuple, **values: object) -> tuple:
    """``old`` with the named columns set to ``values`` (the rest, and any column a course adds
    later, kept): a generator never depends on how many columns a row has."""
    return CUSTOMERS.as_tuple({**dict(zip(COLUMNS, old, strict=True)), **values})


class Draw:
    """Seeded draws of ids, names, cities and timestamps for one generated scenario.
    ``daily=True`` stamps dates (the lecture's format), else timestamps to the second;
    ``year`` moves the story (a source whose history starts in 1999); ``keys`` is the range
    ids come from (keys of 0 and below are keys too)."""

    def __init__(self, seed: int, *, daily: bool | None = None, unicode: bool = False,
                 year: int = 2025, keys: tuple[int, int] = (1, 9999)):
        self.rng = random.Random(seed)
        self.daily = self.rng.random() < 0.4 if daily is None else daily
        self.names = UNICODE_NAMES if unicode else list(facts.FIRST_NAMES)
        self.cities = UNICODE_CITIES if unicode else list(facts.CITIES)
        self.base_day = self.rng.randint(1, 20)
        self.year, self.keys = year, keys
        self._used: set[int] = set()

    @property
    def watermark_format(self) -> str:
        """The format the library names these stamps by (one classifier for both)."""
        return classify(self.stamp(0))

    def key(self) -> int:
        while True:
            key = self.rng.randint(*self.keys)
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
            return f"{self.year}-03-{self.base_day + step:02d}"
        seconds = 9 * 3600 + step * 3607
        return (f"{self.year}-03-{self.base_day:02d} {seconds // 3600:02d}:"
                f"{seconds // 60 % 60:02d}:{seconds % 60:02d}")

    def row(self, step: int, key: int | None = None) -> tuple:
        drawn = customer(self.key() if key is None else key, self.name(), self.city(),
                         self.stamp(step))
        return changed(drawn, **{c.name: self.added(c, step) for c in ADDED_COLUMNS})

    def added(self, column, step: int) -> object:
        """A value for a column the course added, drawn by its kind (none draws without one)."""
        if column.kind in ("integer", "money"):
            return self.rng.randint(1, 9999)
        if column.kind == "timestamp":
            return self.stamp(step)
        if column.kind == "city":
            return self.city()
        return f"{column.name}-{self.rng.randint(1, 9999)}"


# --- corrections a careless "did it change?" misses --------------------------------------------

def _same_length(value: str, pool: list[str]) -> str:
    others = [p for p in pool if len(p) == len(value) and p != value]
    return others[0] if others else value[:-1] + ("x" if value[-1:] != "x" else "y")


def corrections(value: str | None, pool: list[str]) -> list[tuple[str, str | None]]:
    """Ways a text ``value`` is corrected that a change test comparing too little misses, as
    (how, the new value): its case only, another value of the same length, a space added or
    removed at either end, NULL to empty text and back, set to NULL, or from NULL."""
    if value is None:
        return [("NULL to empty text", ""), ("from NULL", pool[0])]
    if value == "":
        return [("empty text to NULL", None)]
    swapped = value.upper() if value != value.upper() else value.lower()
    out = [("its case only", swapped), ("the same length", _same_length(value, pool)),
           ("a space added at its end", value + " "), ("a space added in front", " " + value),
           ("to NULL", None)]
    if value != value.strip():
        out.append(("its spaces removed", value.strip()))
    return out


def random_warehouse(seed: int, *, rows: int, rounds: int = 2, unicode: bool = False,
                     nulls: bool = True, leftovers: bool = True, year: int = 2025) -> Warehouse:
    """A warehouse of ``rows`` customers loaded up to a watermark, then ``rounds`` rounds of
    inserts, updates of every kind (move, rename, timestamp only, to and from NULL, a
    correction stamped the watermark itself), rows stamped exactly the watermark, and (with
    ``nulls``) NULL names and cities. With ``leftovers``, the warehouse also holds rows the
    source no longer has: one deleted there, and one a failed run wrote, newer than the
    watermark."""
    draw = Draw(seed, unicode=unicode, year=year)
    source = [draw.row(draw.rng.randint(0, 3)) for _ in range(rows)]
    watermark = max(r[STAMP] for r in source)
    source.append(row(**{**dict(zip(COLUMNS, draw.row(0), strict=True)),
                         CUSTOMERS.watermark: watermark}))  # shares the watermark
    if nulls and source:
        victim = draw.rng.randrange(len(source))
        source[victim] = changed(source[victim], name=None)
    segments = {r[KEY]: draw.rng.choice(["gold", "vip", "b2b"]) for r in source[::3]}
    warehouse = list(loaded(source, segments))
    if leftovers:
        gone, ghost = draw.row(1), draw.row(9)  # deleted at the source; a failed run's row
        warehouse += [(*gone, WAREHOUSE_ONLY.default), (*ghost, WAREHOUSE_ONLY.default)]
    orders = tuple((700 + n, r[KEY]) for n, r in enumerate(source[::2]))
    current = {r[KEY]: r for r in source}
    changes: list[Round] = []
    for number in range(rounds):
        step = 4 + number
        stamp = draw.stamp(step)
        written = [draw.row(step) for _ in range(draw.rng.randint(0, 3))]
        for key in draw.rng.sample(sorted(current), min(len(current), draw.rng.randint(1, 4))):
            old = current[key]
            name, city = cell(old, "name"), cell(old, "city")
            kind = draw.rng.choice(["move", "rename", "touch", "null_city", "unnull",
                                    "same_time"])
            at = {CUSTOMERS.watermark: watermark if kind == "same_time" else stamp}
            new = {"move": changed(old, city=draw.city(city), **at),
                   "rename": changed(old, name=(name or "X") + "-Lee", **at),
                   "touch": changed(old, **at),
                   "null_city": changed(old, city=None, **at) if nulls else changed(old, **at),
                   "unnull": changed(old, name=name or draw.name(), city=city or draw.city(),
                                     **at),
                   "same_time": changed(old, city=draw.city(city), **at)}[kind]
            written.append(new)
        written.append(customer(draw.key(), draw.name(), draw.city(), stamp))  # also at `stamp`
        for new in written:
            current[new[KEY]] = new
        changes.append(Round(tuple(written), story=f"{len(written)} rows written at the source"))
    return Warehouse(tuple(source), tuple(warehouse), orders, watermark,
                     draw.watermark_format, tuple(changes))


def with_rounds(warehouse: Warehouse, *rounds: Round) -> Warehouse:
    return replace(warehouse, rounds=tuple(rounds))


def tell(before: list[tuple], rows: tuple[tuple, ...]) -> str:
    """A round of changes in words: "Chloe moves to Aurora and Dai arrives"."""
    old = {r[KEY]: r for r in before}
    said = [f"{cell(r, 'name')} arrives" if r[KEY] not in old else
            f"{cell(r, 'name')} moves to {cell(r, 'city')}"
            if cell(old[r[KEY]], "city") != cell(r, "city") else f"{cell(r, 'name')} changes"
            for r in rows]
    return " and ".join(said) or "nothing changes"


def lecture_warehouse() -> Warehouse:
    """The lecture: its customers loaded (with their segments and orders, from the facts); its
    first change round; the row written later on that round's day, after that load ran (the
    boundary); a quiet day; the other rounds."""
    numbers = sorted(facts.CHANGE_ROUNDS)
    first = lecture_rows()
    rounds, before = [], first
    for position, number in enumerate(numbers):
        after = lecture_rows(number)
        delta = changed_rows(before, after)
        rounds.append(Round(delta, story=tell(before, delta)))
        if position == 0:
            late = CUSTOMERS.as_tuple(facts.LATER_SAME_DAY.values)
            rounds += [Round((late,), story=f"{cell(late, 'name')} is written later on "
                                            f"{late[STAMP]}, after that load ran"),
                       Round(story="a quiet day: nothing changes")]
        before = after
    orders = tuple((o[ORDERS.key], o["customer_id"]) for o in LECTURE_ORDERS)
    return Warehouse(tuple(first), loaded(first, dict(facts.LECTURE_SEGMENTS)), orders,
                     max(r[STAMP] for r in first), "YYYY-MM-DD", tuple(rounds))
