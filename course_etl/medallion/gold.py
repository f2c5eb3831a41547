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

_order_day_sql = "substr(o.ordered_at, 1, 10)"  # silver timestamps are 'YYYY-MM-DDTHH:MM:SSZ'
_orders_by_city_day_sql = (
    f"FROM {quote_identifier(ORDERS.silver_table)} AS o "
    f"JOIN {quote_identifier(CUSTOMERS.silver_table)} AS c ON c.id = o.customer_id"
)


@dataclass(frozen=True)
class GoldResult:
    """How many groups a run recomputed, and the rows of each mart afterwards."""

    groups: int
    rows: dict[str, int]


@checked
def ensure_gold(conn: sqlite3.Connection) -> None:
    """Create the marts and the orphan-orders view if missing (idempotent)."""
    with atomic(conn):
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(CUSTOMER_STATS)} ("
            " city TEXT PRIMARY KEY, n_customers INTEGER NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(CITY_DAILY_REVENUE)} ("
            " city TEXT NOT NULL, day TEXT NOT NULL, n_orders INTEGER NOT NULL,"
            " revenue_cents INTEGER NOT NULL,"
            " revenue REAL GENERATED ALWAYS AS (revenue_cents / 100.0) VIRTUAL,"
            " PRIMARY KEY (city, day))"
        )
        conn.execute(
            f"CREATE VIEW IF NOT EXISTS {quote_identifier(ORPHAN_ORDERS)} AS "
            f"SELECT o.* FROM {quote_identifier(ORDERS.silver_table)} AS o "
            f"LEFT JOIN {quote_identifier(CUSTOMERS.silver_table)} AS c ON c.id = o.customer_id "
            "WHERE c.id IS NULL"
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
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _touched_cities (city TEXT PRIMARY KEY)")
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _touched_city_days "
        "(city TEXT, day TEXT, PRIMARY KEY (city, day))"
    )
    customers_sql, orders_sql = staged_keys_sql(CUSTOMERS), staged_keys_sql(ORDERS)
    conn.execute(
        "INSERT OR IGNORE INTO temp._touched_cities SELECT city FROM "
        f"{quote_identifier(CUSTOMERS.silver_table)} WHERE id IN ({customers_sql})"
    )
    conn.execute(
        "INSERT OR IGNORE INTO temp._touched_city_days "
        f"SELECT DISTINCT c.city, {_order_day_sql} {_orders_by_city_day_sql} "
        f"WHERE o.order_id IN ({orders_sql}) OR o.customer_id IN ({customers_sql})"
    )


@checked
def refresh_touched_groups(conn: sqlite3.Connection) -> GoldResult:
    """Recompute the touched groups of both marts from silver; groups left empty disappear."""
    stats_sql = quote_identifier(CUSTOMER_STATS)
    revenue_sql = quote_identifier(CITY_DAILY_REVENUE)
    conn.execute(f"DELETE FROM {stats_sql} WHERE city IN (SELECT city FROM temp._touched_cities)")
    conn.execute(
        f"INSERT INTO {stats_sql} (city, n_customers) SELECT city, COUNT(*) "
        f"FROM {quote_identifier(CUSTOMERS.silver_table)} "
        "WHERE city IN (SELECT city FROM temp._touched_cities) GROUP BY city"
    )
    conn.execute(
        f"DELETE FROM {revenue_sql} WHERE (city, day) IN "
        "(SELECT city, day FROM temp._touched_city_days)"
    )
    conn.execute(
        f"INSERT INTO {revenue_sql} (city, day, n_orders, revenue_cents) "
        f"SELECT c.city, {_order_day_sql}, COUNT(*), SUM(o.amount_cents) {_orders_by_city_day_sql} "
        f"WHERE (c.city, {_order_day_sql}) IN (SELECT city, day FROM temp._touched_city_days) "
        "GROUP BY 1, 2"
    )
    groups = sum(
        conn.execute(f"SELECT COUNT(*) FROM temp.{quote_identifier(t)}").fetchone()[0]
        for t in ("_touched_cities", "_touched_city_days")
    )
    conn.execute("DROP TABLE temp._touched_cities")
    conn.execute("DROP TABLE temp._touched_city_days")
    rows = {
        t: conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(t)}").fetchone()[0]
        for t in GOLD_TABLES
    }
    return GoldResult(groups=groups, rows=rows)
