"""Gold: the business marts, merged incrementally from silver.

``gold_customer_stats`` is the lecture's customers-per-city. ``gold_city_daily_revenue`` needs a
join: orders per customer's current city and UTC day, with their count and revenue (in cents, so
sums are exact; ``revenue`` is derived from it). Orders whose customer is not in silver are not
guessed into a city: the view ``gold_orphan_orders`` lists them.

A run does not rebuild gold. It notes the groups (cities, city-days) that the staged keys touch,
once before silver changes and once after, and recomputes only those groups from silver: a group
can only change if one of its orders changed or one of its customers moved, appeared or left.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from course_etl.db import atomic, quote_identifier
from course_etl.errors import checked
from course_etl.facts import TABLES
from course_etl.medallion.entities import CUSTOMERS, ORDERS
from course_etl.medallion.silver import staged_keys_sql

__all__ = [
    "CUSTOMER_STATS",
    "CITY_DAILY_REVENUE",
    "ORPHAN_ORDERS",
    "GOLD_TABLES",
    "GoldResult",
    "ensure_gold",
    "drop_gold",
    "note_touched_groups",
    "refresh_touched_groups",
]

CUSTOMER_STATS = TABLES.lecture_gold  # the lecture's gold table, kept by the course's gold
CITY_DAILY_REVENUE = "gold_city_daily_revenue"
ORPHAN_ORDERS = "gold_orphan_orders"
GOLD_TABLES = (CUSTOMER_STATS, CITY_DAILY_REVENUE)

_order_day_sql = f"substr(o.{quote_identifier('ordered_at')}, 1, 10)"  # 'YYYY-MM-DDTHH:MM:SSZ'
_customer_of_order_sql = (
    f"c.{quote_identifier(CUSTOMERS.key)} = o.{quote_identifier('customer_id')}"
)
_orders_by_city_day_sql = (
    f"FROM {quote_identifier(ORDERS.silver_table)} AS o "
    f"JOIN {quote_identifier(CUSTOMERS.silver_table)} AS c ON {_customer_of_order_sql}"
)
#: The temp tables a run lists the gold groups it touched in.
TOUCHED_CITIES, TOUCHED_CITY_DAYS = "_touched_cities", "_touched_city_days"


@dataclass(frozen=True)
class GoldResult:
    """How many groups a run recomputed, and the rows of each mart afterwards."""

    groups: int
    rows: dict[str, int]


@checked
def ensure_gold(conn: sqlite3.Connection) -> None:
    """Create the marts and the orphan-orders view if missing (idempotent)."""
    city_sql, day_sql, cents_sql = map(quote_identifier, ("city", "day", "revenue_cents"))
    with atomic(conn):
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(CUSTOMER_STATS)} ("
            f" {city_sql} TEXT PRIMARY KEY, {quote_identifier('n_customers')} INTEGER NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(CITY_DAILY_REVENUE)} ("
            f" {city_sql} TEXT NOT NULL, {day_sql} TEXT NOT NULL,"
            f" {quote_identifier('n_orders')} INTEGER NOT NULL, {cents_sql} INTEGER NOT NULL,"
            f" {quote_identifier('revenue')} REAL"
            f" GENERATED ALWAYS AS ({cents_sql} / 100.0) VIRTUAL,"
            f" PRIMARY KEY ({city_sql}, {day_sql}))"
        )
        conn.execute(
            f"CREATE VIEW IF NOT EXISTS {quote_identifier(ORPHAN_ORDERS)} AS "
            f"SELECT o.* FROM {quote_identifier(ORDERS.silver_table)} AS o "
            f"LEFT JOIN {quote_identifier(CUSTOMERS.silver_table)} AS c "
            f"ON {_customer_of_order_sql} "
            f"WHERE c.{quote_identifier(CUSTOMERS.key)} IS NULL"
        )


@checked
def drop_gold(conn: sqlite3.Connection) -> None:
    """Drop the marts and the view (silver and bronze untouched)."""
    with atomic(conn):
        conn.execute(f"DROP VIEW IF EXISTS {quote_identifier(ORPHAN_ORDERS)}")
        for table in GOLD_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")


@checked
def note_touched_groups(conn: sqlite3.Connection) -> None:
    """Add the gold groups that the staged customers and orders belong to *now* to the run's
    list of touched groups. Called before the silver merge and again after it."""
    cities_sql, city_days_sql = map(quote_identifier, (TOUCHED_CITIES, TOUCHED_CITY_DAYS))
    city_sql, day_sql = quote_identifier("city"), quote_identifier("day")
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {cities_sql} ({city_sql} TEXT PRIMARY KEY)")
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {city_days_sql} "
        f"({city_sql} TEXT, {day_sql} TEXT, PRIMARY KEY ({city_sql}, {day_sql}))"
    )
    customers_sql, orders_sql = staged_keys_sql(CUSTOMERS), staged_keys_sql(ORDERS)
    conn.execute(
        f"INSERT OR IGNORE INTO temp.{cities_sql} SELECT {city_sql} FROM "
        f"{quote_identifier(CUSTOMERS.silver_table)} "
        f"WHERE {quote_identifier(CUSTOMERS.key)} IN ({customers_sql})"
    )
    conn.execute(
        f"INSERT OR IGNORE INTO temp.{city_days_sql} "
        f"SELECT DISTINCT c.{city_sql}, {_order_day_sql} {_orders_by_city_day_sql} "
        f"WHERE o.{quote_identifier(ORDERS.key)} IN ({orders_sql}) "
        f"OR o.{quote_identifier('customer_id')} IN ({customers_sql})"
    )


@checked
def refresh_touched_groups(conn: sqlite3.Connection) -> GoldResult:
    """Recompute the touched groups of both marts from silver; groups left empty disappear."""
    stats_sql = quote_identifier(CUSTOMER_STATS)
    revenue_sql = quote_identifier(CITY_DAILY_REVENUE)
    cities_sql, city_days_sql = map(quote_identifier, (TOUCHED_CITIES, TOUCHED_CITY_DAYS))
    city_sql, day_sql = quote_identifier("city"), quote_identifier("day")
    conn.execute(f"DELETE FROM {stats_sql} "
                 f"WHERE {city_sql} IN (SELECT {city_sql} FROM temp.{cities_sql})")
    conn.execute(
        f"INSERT INTO {stats_sql} ({city_sql}, {quote_identifier('n_customers')}) "
        f"SELECT {city_sql}, COUNT(*) FROM {quote_identifier(CUSTOMERS.silver_table)} "
        f"WHERE {city_sql} IN (SELECT {city_sql} FROM temp.{cities_sql}) GROUP BY {city_sql}"
    )
    conn.execute(
        f"DELETE FROM {revenue_sql} WHERE ({city_sql}, {day_sql}) IN "
        f"(SELECT {city_sql}, {day_sql} FROM temp.{city_days_sql})"
    )
    conn.execute(
        f"INSERT INTO {revenue_sql} ({city_sql}, {day_sql}, {quote_identifier('n_orders')}, "
        f"{quote_identifier('revenue_cents')}) "
        f"SELECT c.{city_sql}, {_order_day_sql}, COUNT(*), "
        f"SUM(o.{quote_identifier('amount_cents')}) {_orders_by_city_day_sql} "
        f"WHERE (c.{city_sql}, {_order_day_sql}) IN "
        f"(SELECT {city_sql}, {day_sql} FROM temp.{city_days_sql}) "
        "GROUP BY 1, 2"
    )
    groups = sum(
        conn.execute(f"SELECT COUNT(*) FROM temp.{quote_identifier(t)}").fetchone()[0]
        for t in (TOUCHED_CITIES, TOUCHED_CITY_DAYS)
    )
    conn.execute(f"DROP TABLE temp.{cities_sql}")
    conn.execute(f"DROP TABLE temp.{city_days_sql}")
    rows = {
        t: conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(t)}").fetchone()[0]
        for t in GOLD_TABLES
    }
    return GoldResult(groups=groups, rows=rows)
