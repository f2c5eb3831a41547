"""The capstone's fixed names and sizes: pipeline, tasks, tables, source volume, simulated time.

Everything the other capstone modules agree on lives here: the pipeline's name and task order,
the story's first day, how many rows the replayed source sends a day (and how few a broken orders
feed sends), the landing, served and published tables, the tables a run changes (compared for
idempotence), the simulated seconds each task takes, where the exported Airflow DAG expects the
warehouse, and :class:`CapstoneError` for requests the capstone cannot honour.
"""

from __future__ import annotations

from datetime import date

from course_etl.errors import CourseEtlError
from course_etl.medallion import CUSTOMERS, ORDERS
from course_etl.medallion.bronze import BATCHES_TABLE
from course_etl.medallion.gold import CITY_DAILY_REVENUE, CUSTOMER_STATS
from course_etl.sample_data import STORY_START

PIPELINE_NAME = "course_capstone"
TASK_IDS = ("extract", "bronze", "silver", "checks", "gold", "publish")
STORY_DAY = date.fromisoformat(STORY_START)
DAILY_ROWS = 200  # customer rows (and about as many orders) the source sends per day
SOURCE_SEED = 6
SHORT_FEED_ROWS = 5  # a broken orders API: only the first rows of the day arrive
SERVED_TABLE = "served_city_daily_revenue"
PUBLISHED_VIEW = "published_city_revenue"
PUBLISHED_RUNS = "published_runs"
LANDING = {CUSTOMERS.name: "landing_customers", ORDERS.name: "landing_orders"}
#: The tables a run changes (the run log aside): equal snapshots mean an idempotent re-run.
DATA_TABLES = (*LANDING.values(), BATCHES_TABLE, CUSTOMERS.bronze_table, ORDERS.bronze_table,
               CUSTOMERS.silver_table, ORDERS.silver_table, CUSTOMER_STATS, CITY_DAILY_REVENUE,
               SERVED_TABLE, PUBLISHED_RUNS)
# Simulated seconds per try: the run log and its dashboard get stable, plausible durations.
TASK_SECONDS = {"extract": 30, "bronze": 45, "silver": 120, "checks": 20, "gold": 60,
                "publish": 15}
#: Where the exported DAG expects the warehouse (override with $COURSE_ETL_WAREHOUSE).
AIRFLOW_WAREHOUSE = "/opt/airflow/data/course_capstone.db"

class CapstoneError(CourseEtlError):
    """The capstone pipeline was asked for something it cannot do (e.g. a day before the story).

    ``.value`` is what was asked for: a fault's kind or task (``.option`` names which, ``.known``
    the choices), a backfill's end (``.start``: its first day), a logical date before the story
    (``.expected``: from its first day on), or the day a landing table is missing or empty for
    (``.table``, ``.entity``)."""
