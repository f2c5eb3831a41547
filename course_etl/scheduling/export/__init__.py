"""Export a pipeline to real orchestrators: an Airflow 3 DAG file, a crontab entry, a Dagster file.

Every exported task calls the same ``course_etl`` function with the same parameters as the local
runner, on a SQLite warehouse named at export time (and overridable on the server through the
``COURSE_ETL_WAREHOUSE`` environment variable). The Airflow file is Airflow 3's TaskFlow idiom
(``@dag``/``@task`` from ``airflow.sdk``) with an explicit ``CronDataIntervalTimetable`` (each run
covers one data interval), ``params`` for a full refresh and an injected fault, and task
variables named like their task ids (ruff's AIR001). Task functions that take a ``context`` get
the course's :class:`~course_etl.scheduling.pipeline.RunContext` built from the orchestrator's
run, so every runner hands them the same data interval. The Dagster file defines one asset per
task, a blocking asset check per :func:`~course_etl.scheduling.pipeline.blocking_check` task, a
job and a schedule. The files are text: this module needs neither Airflow nor Dagster
installed; ``integration/`` loads and runs them for real.
"""

from __future__ import annotations

from course_etl.scheduling.export.airflow import airflow3_problems, to_airflow
from course_etl.scheduling.export.common import WAREHOUSE_VARIABLE
from course_etl.scheduling.export.crontab import cli_command, to_crontab
from course_etl.scheduling.export.dagster import to_dagster

__all__ = [
    "WAREHOUSE_VARIABLE",
    "airflow3_problems",
    "cli_command",
    "to_airflow",
    "to_crontab",
    "to_dagster",
]
