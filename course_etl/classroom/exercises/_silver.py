"""The conformed rows notebook 05's and 06's checks run every answer on: the lecture's customers
(from :mod:`course_etl.sample_data`), the notebook's dirty source (its orders), and generated
sets, one edge each, seeded so every verdict is the same on every run.

Rows are as silver holds them: customers ``(id, name, city, updated_at, _bronze_row)`` in a
``staged`` table, orders ``(order_id, customer_id, amount_cents, ordered_at, _bronze_row)`` in
``staged_orders``, and the silver tables themselves created by the library
(:func:`~course_etl.medallion.silver.ensure_silver`), with its columns and constraints.
"""

from __future__ import annotations

import random
import sqlite3

from course_etl.classroom.exercises._customers import UNICODE_CITIES, UNICODE_NAMES, lecture_rows
from course_etl.db import connect, quote_identifier
from course_etl.medallion import CUSTOMERS, ORDERS, DirtySource
from course_etl.medallion.silver import conform, ensure_silver, parse_timestamp
from course_etl.sample_data import CITIES, FIRST_NAMES

NOTEBOOK_SOURCE_SEED = 3  # notebook 05's DirtySource(seed=3)
#: The tables the answers read: (table, its columns with their declarations).
STAGED_TABLES = {
    "staged": (("id", "INTEGER NOT NULL"), ("name", "TEXT NOT NULL"), ("city", "TEXT NOT NULL"),
               ("updated_at", "TEXT NOT NULL"), ("_bronze_row", "INTEGER NOT NULL UNIQUE")),
    "staged_orders": (("order_id", "INTEGER NOT NULL"), ("customer_id", "INTEGER NOT NULL"),
                      ("amount_cents", "INTEGER NOT NULL"), ("ordered_at", "TEXT NOT NULL"),
                      ("_bronze_row", "INTEGER NOT NULL UNIQUE")),
}


def staged_conn(*, customers: list[tuple] = (), orders: list[tuple] = ()) -> sqlite3.Connection:
    """``staged`` (customers) and ``staged_orders`` holding the given conformed rows."""
    conn = connect(":memory:")
    for (table, columns), rows in zip(STAGED_TABLES.items(), (customers, orders), strict=True):
        # The declarations are fixed text of this module: types and constraints, no name.
        columns_sql = ", ".join(f"{quote_identifier(name)} {declaration_sql}"
                                for name, declaration_sql in columns)
        placeholders_sql = ", ".join("?" * len(columns))
        conn.execute(f"CREATE TABLE {quote_identifier(table)} ({columns_sql})")
        conn.executemany(f"INSERT INTO {quote_identifier(table)} VALUES ({placeholders_sql})",
                         rows)
    return conn


def silver_conn(customers: list[tuple], orders: list[tuple]) -> sqlite3.Connection:
    """The library's silver tables (and nothing of gold) holding the given rows:
    customers ``(id, name, city, updated_at)``, orders ``(order_id, customer_id, amount_cents,
    ordered_at)``; batch ids and bronze rows are filled in."""
    conn = connect(":memory:")
    ensure_silver(conn)
    for entity, rows, first_row in ((CUSTOMERS, customers, 1), (ORDERS, orders, 10_001)):
        # The four columns the checks vary, by name: a field a course adds later stays NULL.
        columns_sql = ", ".join(map(quote_identifier, (*entity.silver_columns[:4], "_batch_id",
                                                       "_bronze_row")))
        conn.executemany(f"INSERT INTO {quote_identifier(entity.silver_table)} ({columns_sql}) "
                         "VALUES (?, ?, ?, ?, 1, ?)",
                         [(*r[:4], n) for n, r in enumerate(rows, first_row)])
    return conn


def iso(stamp: str) -> str:
    """A source timestamp as silver stores it (the library's own parser)."""
    return parse_timestamp(stamp)


def _stamp(rng: random.Random, month: int = 3) -> str:
    return (f"2025-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:00Z")


# --- customers' versions (dedup) ------------------------------------------------------------------

def customer_versions() -> list[tuple[str, list[tuple]]]:
    first, one, two = lecture_rows(), lecture_rows(1), lecture_rows(1, 2)
    versions = [(*r[:3], iso(r[3])) for r in [*first, *(r for r in one if r not in first),
                                               *(r for r in two if r not in one)]]
    moved = next(r for r in one if r not in first)
    old = next(r for r in versions if r[0] == moved[0])
    lecture = [*versions, versions[0], old]  # the first customer re-sent; an old version late
    out = [("the lecture's customers as bronze received them: each round's versions, one row "
            "re-sent and one old version sent again later",
            [(*r, n) for n, r in enumerate(lecture, 1)]), ("nothing staged", [])]
    for seed, first_row in ((0, 9), (1, 99)):
        rng = random.Random(40 + seed)
        k, name, city = rng.randint(100, 999), rng.choice(FIRST_NAMES), rng.choice(CITIES)
        other = rng.choice([c for c in CITIES if c != city])
        t0, t1 = _stamp(rng, 2), _stamp(rng, 3)
        out += [
            ("one customer", [(k, name, city, t0, first_row)]),
            ("the same row sent twice", [(k, name, city, t0, first_row),
                                         (k, name, city, t0, first_row + 1)]),
            (f"an older version ({t0}) received after the newer one ({t1})",
             [(k, name, other, t1, first_row), (k, name, city, t0, first_row + 1)]),
            (f"two versions stamped the same {t0}, received as rows {first_row} and "
             f"{first_row + 1}", [(k, name, city, t0, first_row),
                                  (k, name, other, t0, first_row + 1)]),
            (f"two versions stamped the same {t0}, the later one received first (rows "
             f"{first_row + 1} and {first_row})", [(k, name, other, t0, first_row + 1),
                                                  (k, name, city, t0, first_row)]),
            ("three versions out of order, two of them tied",
             [(k, name, city, t1, first_row + 2), (k, name, other, t0, first_row),
              (k, name, other, t1, first_row + 1)]),
        ]
    rng = random.Random(47)
    out.append(("names and cities beyond ASCII, with a tie",
                [(7, rng.choice(UNICODE_NAMES), UNICODE_CITIES[0], "2025-03-01T08:00:00Z", 8),
                 (7, rng.choice(UNICODE_NAMES), UNICODE_CITIES[1], "2025-03-01T08:00:00Z", 11),
                 (8, UNICODE_NAMES[0], UNICODE_CITIES[2], "2025-03-02T08:00:00Z", 12)]))
    for seed in range(3):
        rng = random.Random(50 + seed)
        rows, bronze = [], rng.randint(1, 8)
        for key in rng.sample(range(200, 900), 12 + 9 * seed):
            for _ in range(rng.randint(1, 5)):
                bronze += rng.randint(1, 30)
                rows.append((key, rng.choice(FIRST_NAMES), rng.choice(CITIES),
                             f"2025-0{rng.randint(2, 3)}-1{rng.randint(0, 2)}T08:00:00Z", bronze))
        rng.shuffle(rows)
        out.append((f"{len(rows)} versions of {len({r[0] for r in rows})} customers, out of "
                    "order, with ties and re-sent rows", rows))
    return out


# --- orders to reject (amounts) -------------------------------------------------------------------

def notebook_orders(days: int = 1) -> list[tuple]:
    """The conformed orders of notebook 05's dirty source (``DirtySource(seed=3)``), the ones
    that pass the built-in rules: ``(order_id, customer_id, amount_cents, ordered_at)``."""
    source, rows = DirtySource(NOTEBOOK_SOURCE_SEED), []
    for _ in range(days):
        for raw in source.next_batch(12).orders.to_dict("records"):
            typed, failures = conform(ORDERS, {k: (None if v is None else str(v))
                                               for k, v in raw.items()})
            if not failures:
                rows.append(tuple(typed[c] for c in ORDERS.silver_columns))
    return rows


def order_stages() -> list[tuple[str, list[tuple]]]:
    orders = notebook_orders()
    refunds = [(o[0], o[1], -o[2] if n % 3 == 0 else (0 if n % 3 == 1 else o[2]), o[3])
               for n, o in enumerate(orders)]
    out = [("the notebook's first day of orders, some of them refunds (negative) or zero",
            [(*o, n) for n, o in enumerate(refunds, 1)]), ("nothing staged", [])]
    for seed in range(2):
        rng = random.Random(60 + seed)

        def order(cents: int, n: int, rng: random.Random = rng) -> tuple:
            return (rng.randint(1000, 9999), rng.randint(1, 50), cents, _stamp(rng), n)

        out += [
            ("one order of 0 cents", [order(0, 7)]),
            ("a refund of -1 cent and an order of 1 cent", [order(-1, 3), order(1, 4)]),
            (f"a refund of {-(seed + 1) * 4000} cents, an order of 725", [
                order(-(seed + 1) * 4000, 10), order(725, 11)]),
            ("orders of 0, -250 and 99,999 cents", [order(0, 1), order(-250, 2),
                                                   order(99_999, 3)]),
        ]
    for seed in range(2):
        rng = random.Random(70 + seed)
        amounts = [0, -1, 1, -250, 0, 99_999] + [rng.randint(-3000, 9000 - 9000 * seed)
                                                 for _ in range(19 + 11 * seed)]
        rng.shuffle(amounts)
        out.append((f"{len(amounts)} orders, zeros, refunds and one-cent orders among them",
                    [(7000 + 3 * n, rng.randint(1, 50), cents, _stamp(rng), 40 + n)
                     for n, cents in enumerate(amounts)]))
    return out


# --- names for the Python rule ------------------------------------------------------------------

def _raw(key: int, name: str, city: str = "Cork") -> dict:
    return {"id": str(key), "name": name, "city": city, "updated_at": "2025-03-01 10:00:00"}


def unicode_batch() -> list[tuple[str, list[dict]]]:
    names = [r[1] for r in lecture_rows(1, 2)]
    typos = [names[1][0] + "3" + names[1][2:], f"{names[3]} 2"]
    out = [("the lecture's customers, two names with a typo digit",
            [_raw(n, name) for n, name in enumerate([*names, *typos], 1)])]
    singles = [("a digit at the start", "7eve"), ("a digit at the end", "Kai9"),
               ("digits in the middle", "R2D2"), ("a name of digits only", "42"),
               ("a digit after a space", "Lu 4"), ("a name with an apostrophe", "O'Neil"),
               ("a hyphenated name", "Anne-Marie"), ("names beyond ASCII", UNICODE_NAMES[0]),
               ("a name padded with spaces", "  Mia  "), ("two words, no digit", "Jo Ann"),
               ("a zero typed for an o", "Sim0n"),
               ("a typographic apostrophe", "O\u2019Brien"),
               # 三 (three) is a numeral in Unicode but not a digit: Zhang San is a real name
               ("a Chinese name with a numeral character", "张三")]
    out += [(f"{story} ({name.strip()!r})", [_raw(300 + n, name)])
            for n, (story, name) in enumerate(singles)]
    rng = random.Random(8)
    pool = [name for _, name in singles] + UNICODE_NAMES + ["Bo3 Li", "Zoë1", "1Ümit"]
    rng.shuffle(pool)
    out.append((f"a batch of {len(pool)} names", [_raw(500 + 7 * n, name)
                                                  for n, name in enumerate(pool)]))
    return out


# --- silver sets (gold metric) --------------------------------------------------------------------

def silver_sets() -> list[tuple[str, tuple[list[tuple], list[tuple]]]]:
    customers = [(*r[:3], iso(r[3])) for r in lecture_rows(1, 2)]
    rng = random.Random(21)
    orders = [(1000 + n, rng.choice([c[0] for c in customers] + [99]),
               rng.randint(100, 9000), _stamp(rng, 10)) for n in range(14)]
    out = [("the lecture's customers with a day of orders, one of them an orphan",
            (customers, orders)), ("an empty silver", ([], []))]
    for seed in range(2):
        rng = random.Random(80 + seed)
        c1 = (rng.randint(1, 99), rng.choice(FIRST_NAMES), rng.choice(CITIES), _stamp(rng))
        c2 = (c1[0] + 1, rng.choice(FIRST_NAMES), rng.choice([c for c in CITIES if c != c1[2]]),
              _stamp(rng))
        same = (c2[0] + 1, rng.choice(FIRST_NAMES), c1[2], _stamp(rng))

        def order(customer: tuple, cents: int, n: int, rng: random.Random = rng,
                  seed: int = seed) -> tuple:
            return (500 + 10 * seed + n, customer[0], cents, _stamp(rng))

        cents = rng.randint(101, 999)
        out += [
            ("one order", ([c1], [order(c1, cents, 1)])),
            (f"two orders of the same {cents} cents in {c1[2]}, and one of {cents + 250}",
             ([c1], [order(c1, cents, 1), order(c1, cents, 2), order(c1, cents + 250, 3)])),
            ("an orphan order (its customer is not in silver) next to a known one",
             ([c1], [order(c1, cents, 1), order((c1[0] + 500,), 5000, 2)])),
            (f"a customer in {c2[2]} without orders", ([c1, c2], [order(c1, cents, 1)])),
            (f"two customers in {c1[2]}", ([c1, same], [order(c1, cents, 1),
                                                        order(same, cents + 3, 2)])),
            ("an average that ends in half a cent (1 and 2 cents)",
             ([c1], [order(c1, 1, 1), order(c1, 2, 2)])),
            ("an average with more than two decimals (1000, 2001 and 3001 cents)",
             ([c1], [order(c1, 1000, 1), order(c1, 2001, 2), order(c1, 3001, 3)])),
        ]
    out.append(("cities beyond ASCII", (
        [(1, UNICODE_NAMES[0], UNICODE_CITIES[0], "2025-03-01T08:00:00Z"),
         (2, UNICODE_NAMES[1], UNICODE_CITIES[1], "2025-03-01T08:00:00Z")],
        [(1, 1, 1999, "2025-03-02T08:00:00Z"), (2, 2, 2500, "2025-03-02T09:00:00Z"),
         (3, 1, 1999, "2025-03-03T08:00:00Z")])))
    for seed in range(2):
        rng = random.Random(90 + seed)
        ids = rng.sample(range(40, 400), 9 + 21 * seed)
        towns = CITIES[:4] if seed == 0 else [*CITIES, *UNICODE_CITIES,
                                              *(f"{c}-Nord" for c in CITIES)]
        people = [(k, rng.choice(FIRST_NAMES), towns[n % len(towns)], _stamp(rng))
                  for n, k in enumerate(ids)]
        buyers = ids + rng.choices(ids + [7, 8], k=30)  # everyone orders; some again, orphans
        orders = [(1000 + n, buyer, rng.choice([rng.randint(1, 9000), 1250]), _stamp(rng))
                  for n, buyer in enumerate(buyers)]
        out.append((f"{len(people)} customers in {len({p[2] for p in people})} cities, "
                    f"{len(orders)} orders, orphans and equal amounts among them",
                    (people, orders)))
    return out
