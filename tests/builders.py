"""Test builders over the course's facts: rows keyed by the columns the facts declare.

Tests write the values they care about, in the order of the entity's required columns, and get
dicts; a column added to the facts (optional, with a default) does not break them, and a required
one fails here, at one place, with the columns it expects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from course_etl import facts
from course_etl.medallion.entities import CUSTOMERS, ORDERS, Entity

__all__ = ["records", "customers", "orders", "absent_optional", "optional_defaults", "lecture",
           "lecture_row", "add_customers", "customer", "insert_customer", "customers_ddl",
           "declared_columns",
           "lecture_gold", "run_start", "run_start_text"]


def records(entity: Entity, rows: Iterable[tuple]) -> list[dict]:
    """``rows`` (values in the order of the entity's required columns) as dicts."""
    columns = entity.required_columns
    built = []
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"{row!r} has {len(row)} values; {entity.name} needs "
                             f"{len(columns)}: {', '.join(columns)}")
        built.append(dict(zip(columns, row, strict=True)))
    return built


def customers(*rows: tuple) -> list[dict]:
    """Customers records: ``customers(("1", "Aria", "Austin", "2024-10-01 09:00:00"))``."""
    return records(CUSTOMERS, rows)


def orders(*rows: tuple) -> list[dict]:
    """Orders records: ``orders(("10", "1", "12.50", "2024-10-01 10:00:00"))``."""
    return records(ORDERS, rows)


def absent_optional(entity: Entity) -> dict:
    """What bronze holds for the optional columns a batch did not send: NULL each."""
    return {f.name: None for f in entity.fields if not f.required}


def optional_defaults(entity: Entity) -> dict:
    """What silver holds for the optional columns a row did not give: each one's default."""
    return {f.silver_name: f.default for f in entity.fields if not f.required}


def lecture(after_round: int = 0) -> list[tuple]:
    """The lecture's source as ``SELECT *`` returns it after the rounds up to ``after_round``."""
    return facts.lecture_tuples(after_round)


def lecture_row(name: str, after_round: int = 0) -> tuple:
    """One of the lecture's customers, by name, after the rounds up to ``after_round``."""
    for row in facts.lecture_rows(after_round):
        if row.get("name") == name:
            return tuple(row.values())
    raise KeyError(f"no customer {name!r} in the lecture after round {after_round}")


def add_customers(conn, table: str, *rows: tuple) -> None:
    """Insert customers given as tuples of the required columns (optional ones: defaults)."""
    columns = CUSTOMERS.required_columns
    with conn:
        conn.executemany(facts.CUSTOMERS.insert_sql(table, columns), rows)


def customer(**values: object) -> tuple:
    """A source customers row as ``SELECT *`` returns it: the values given by column name, every
    optional column the facts declare at its default."""
    return facts.CUSTOMERS.as_tuple(values)


def insert_customer(conn, table: str = facts.TABLES.source, **values: object) -> tuple:
    """Insert :func:`customer` ``(**values)`` into ``table``; the row inserted."""
    row = customer(**values)
    conn.execute(facts.CUSTOMERS.insert_sql(table), row)
    return row


def customers_ddl(table: str, *, primary_key: bool = True, warehouse: bool = False) -> str:
    """The customers table as the facts declare it (``warehouse``: with its warehouse-only
    column), the key the primary key unless ``primary_key=False``."""
    extra = (facts.WAREHOUSE_ONLY,) if warehouse else ()
    return facts.CUSTOMERS.ddl(table, primary_key=primary_key, extra=extra)


def declared_columns() -> list[tuple[str, str, int]]:
    """The customers columns as ``pragma_table_info`` lists them: (name, type, is the key)."""
    return [(c.name, c.sql_type, int(c.name == facts.CUSTOMERS.key))
            for c in facts.CUSTOMERS.columns]


def lecture_gold() -> list[dict]:
    """The lecture's gold table (customers per city) for its final source, by city."""
    cities: dict = {}
    for row in facts.lecture_rows(max(facts.CHANGE_ROUNDS, default=0)):
        cities[row["city"]] = cities.get(row["city"], 0) + 1
    return [{"city": c, "n_customers": n} for c, n in sorted(cities.items())]


def run_start(day: str) -> datetime:
    """When the lecture's daily run on ``day`` starts (once-a-day schedules), aware, in the
    schedule's time zone."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(
        facts.SCHEDULE.time_of_day), tzinfo=ZoneInfo(facts.SCHEDULE.timezone))


def run_start_text(day: str, *, seconds: float = 0) -> str:
    """How the run log writes the start of the lecture's daily run on ``day`` (once-a-day
    schedules), or ``seconds`` after it, as ``YYYY-MM-DD HH:MM:SS``."""
    return f"{run_start(day) + timedelta(seconds=seconds):%Y-%m-%d %H:%M:%S}"
