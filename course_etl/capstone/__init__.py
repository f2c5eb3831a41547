"""The course's pipeline end to end: config → scheduled DAG → medallion layers → checks → publish.

:func:`build_pipeline` turns a resolved configuration (``configs/<env>.yaml``) into the scheduled
:class:`~course_etl.scheduling.Pipeline` ``extract >> bronze >> silver >> checks >> gold >>
publish``, with the configured cron, time zone, retries and retry delay. Each task is a plain
function of the warehouse connection and the run's context: ``extract`` lands the day's dirty
source batch (replayed from a fixed seed, so the logical date alone decides it), ``bronze``
ingests it append-only, ``silver`` processes the new bronze batches incrementally (watermarks on
the batch id, the medallion gates inside), ``checks`` runs a blocking suite with the configured
thresholds, ``gold`` promotes the audited mart to the served table and ``publish`` refreshes the
report view and notes the run in the run log. :class:`Capstone` runs simulated days on a
:class:`~course_etl.scheduling.SimulatedClock`, with a :class:`Fault` on one day, records every run
with :class:`~course_etl.monitoring.recorder.SchedulerRecorder`,
routes failure alerts to the console and a
JSON-lines file, backfills missed days, and :func:`airflow_dag` exports the same pipeline.

A package, one module per idea: ``constants`` (names and sizes), ``tasks``, ``pipeline``
(config to schedule, alerts, Airflow export), ``simulation`` (simulated days) and ``reports``
(dashboard, runs table); every public name is importable from ``course_etl.capstone``.
"""

from __future__ import annotations

from course_etl.capstone.constants import (
    AIRFLOW_WAREHOUSE,
    DAILY_ROWS,
    DATA_TABLES,
    PIPELINE_NAME,
    PUBLISHED_RUNS,
    PUBLISHED_VIEW,
    SERVED_TABLE,
    SHORT_FEED_ROWS,
    STORY_DAY,
    TASK_IDS,
    CapstoneError,
)
from course_etl.capstone.constants import (
    SOURCE_SEED as SOURCE_SEED,  # not public, but the exercises import it from here
)
from course_etl.capstone.pipeline import (
    airflow_dag,
    alert_channels,
    build_pipeline,
    capstone_config,
)
from course_etl.capstone.reports import dashboard_figure, runs_table
from course_etl.capstone.simulation import Capstone, Fault
from course_etl.capstone.tasks import (
    Rows,
    bronze,
    check_suite,
    checks,
    extract,
    gold,
    publish,
    silver,
)

__all__ = [
    "PIPELINE_NAME",
    "TASK_IDS",
    "STORY_DAY",
    "DAILY_ROWS",
    "SHORT_FEED_ROWS",
    "SERVED_TABLE",
    "PUBLISHED_VIEW",
    "PUBLISHED_RUNS",
    "DATA_TABLES",
    "AIRFLOW_WAREHOUSE",
    "CapstoneError",
    "Fault",
    "capstone_config",
    "build_pipeline",
    "extract",
    "bronze",
    "silver",
    "checks",
    "gold",
    "publish",
    "check_suite",
    "alert_channels",
    "Capstone",
    "Rows",
    "dashboard_figure",
    "runs_table",
    "airflow_dag",
]

# Exported DAG files import each task by its function's module: keep that the public
# ``course_etl.capstone`` (as before the split), not the internal ``course_etl.capstone.tasks``.
for _task in (extract, bronze, silver, checks, gold, publish):
    _task.__module__ = __name__
del _task
