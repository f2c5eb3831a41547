"""The lecture's facts, defined once: edit them here and the rest of the course follows.

Everything else derives from this file: the source tables the demos, exercises, benchmarks and
tests build (:mod:`course_etl.sample_data`), the medallion's customers and orders
(:mod:`course_etl.medallion.entities`), the lecture's pipeline and its exports, the monitored
demo's run times, the diagrams, and the notebooks' "as written" cells (``make notebooks``
regenerates them; ``tests/test_lecture_cells.py`` fails when they are stale). A fact that does not
fit the others fails at import with one line naming it. ``docs/adapting.md`` walks the usual
edits: a column, the schedule, an exercise, a notebook.
"""

from __future__ import annotations

from datetime import date

from course_etl.facts.model import Column, Insert, Schedule, Schema, Tables, Update

__all__ = [
    "STORY_START", "TABLES", "CUSTOMERS", "SOFT_DELETE", "WAREHOUSE_ONLY", "LECTURE_ROWS",
    "CHANGE_ROUNDS", "LATER_SAME_DAY", "LECTURE_SEGMENTS", "ORDERS", "LECTURE_ORDERS",
    "SCHEDULE", "FIRST_NAMES", "CITIES",
]

#: The story's first day: the full load, the schedule's start, the generated histories.
STORY_START = "2024-10-01"

#: The course's table names.
TABLES = Tables(
    source="src_customers",  # the operational source the lecture loads from
    warehouse="dw_customers",  # the lecture's warehouse table
    staging="stg_customers",  # the monitored pipeline's snapshot of the source
    watermarks="etl_watermarks",  # the load state: one stored watermark per target and column
    orders="dw_orders",  # orders in the warehouse: children of dw_customers rows
    lecture_gold="gold_customer_stats",  # the lecture's gold table (bronze/silver: per entity)
)

#: The customers source: its columns, key and watermark. A column with a ``default`` is
#: optional (rows, changes and bronze batches may leave it out); ``kind`` says how silver reads
#: it; ``nullable=False`` marks what a source built for extraction never leaves empty.
CUSTOMERS = Schema(
    name="customers",
    columns=(
        Column("id", "INTEGER", kind="integer", nullable=False),
        Column("name", "TEXT", kind="text", nullable=False),
        Column("city", "TEXT", kind="city"),
        Column("updated_at", "TEXT", kind="timestamp", nullable=False),
    ),
    key="id",
    watermark="updated_at",
)

#: The soft-delete flag of the generated sources (the lecture's three rows have none).
SOFT_DELETE = Column("is_deleted", "INTEGER", kind="integer", nullable=False, default=0)
#: A warehouse column the source knows nothing about (what INSERT OR REPLACE resets).
WAREHOUSE_ONLY = Column("segment", "TEXT", default="unknown")

#: The lecture's three customers.
LECTURE_ROWS = (
    {"id": 1, "name": "Aria", "city": "Austin", "updated_at": "2024-10-01"},
    {"id": 2, "name": "Ben", "city": "Berlin", "updated_at": "2024-10-01"},
    {"id": 3, "name": "Chloe", "city": "Chicago", "updated_at": "2024-10-01"},
)

#: The lecture's rounds of source changes, in order.
CHANGE_ROUNDS = {
    1: (  # "Simulate changes at source (1 update, 1 insert)"
        Update(3, city="Aurora", updated_at="2024-10-05"),
        Insert(id=4, name="Dai", city="Denver", updated_at="2024-10-05"),
    ),
    2: (  # the monitoring section's "simulate another change"
        Insert(id=5, name="Eva", city="El Paso", updated_at="2024-10-06"),
    ),
}

#: A row written later on round 1's day, after that day's load: the ``>`` pitfall.
LATER_SAME_DAY = Insert(id=6, name="Femi", city="Frankfurt", updated_at="2024-10-05")
#: Warehouse-only values of the lecture's customers (key -> segment).
LECTURE_SEGMENTS = {3: "gold"}

#: The orders source: what the medallion layers carry next to customers.
ORDERS = Schema(
    name="orders",
    columns=(
        Column("order_id", "INTEGER", kind="integer", nullable=False),
        Column("customer_id", "INTEGER", kind="integer", nullable=False),
        Column("amount", "TEXT", kind="money", nullable=False),
        Column("ordered_at", "TEXT", kind="timestamp", nullable=False),
    ),
    key="order_id",
)
#: The lecture's one order: Chloe's, the child row INSERT OR REPLACE's cascade deletes.
LECTURE_ORDERS = (
    {"order_id": 100, "customer_id": 3, "amount": "42.00", "ordered_at": "2024-10-03"},
)

#: The lecture's pipeline: its DAG id, its cron line read in one time zone, from the story's start.
SCHEDULE = Schedule(
    dag_id="customers_etl",
    cron="5 2 * * *",
    timezone="UTC",
    start_date=date.fromisoformat(STORY_START),
    catchup=False,
    retries=1,
)

#: What generated customers are called and where they live (seeded draws from these lists).
FIRST_NAMES = (
    "Aria", "Ben", "Chloe", "Dai", "Eva", "Farid", "Gita", "Hugo", "Ines", "Jonas", "Kemi",
    "Lars", "Mei", "Nuno", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera",
)
CITIES = (
    "Austin", "Berlin", "Chicago", "Denver", "El Paso", "Aurora", "Lisbon", "Nairobi", "Osaka",
    "Quito", "Toronto", "Warsaw",
)
