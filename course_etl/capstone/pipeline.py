"""The capstone as a scheduled pipeline, built from a resolved configuration.

:func:`capstone_config` loads ``configs/<env>.yaml`` without the process's environment;
:func:`build_pipeline` wires the tasks ``extract >> bronze >> silver >> checks >> gold >>
publish`` with the configured cron, time zone, retries, retry delay and check thresholds (a
student's suite or gold SQL plugged in when given); :func:`alert_channels` picks the alert
channels the config asks for; :func:`airflow_dag` exports the same pipeline as an Airflow DAG file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path

from course_etl.capstone.constants import (
    AIRFLOW_WAREHOUSE,
    DAILY_ROWS,
    PIPELINE_NAME,
    SOURCE_SEED,
    STORY_DAY,
)
from course_etl.capstone.tasks import bronze, checks, extract, gold, publish, silver
from course_etl.config import Config, load_config
from course_etl.monitoring.alerts import Channel, channels_from_config
from course_etl.scheduling import Pipeline, Task


def capstone_config(env: str = "dev", overrides: Iterable[str] = (),
                    config_path: str | Path | None = None) -> Config:
    """The configuration for ``env``, ignoring the process's ``COURSE_ETL_*`` variables so a
    notebook gives the same result on every machine (pass overrides explicitly instead)."""
    return load_config(env, config_path, list(overrides), environ={})


def build_pipeline(config: Config, *, short_feed_days: Sequence[str] = (),
                   suite: dict | None = None, gold_sql: str | None = None,
                   source_seed: int = SOURCE_SEED) -> Pipeline:
    """The capstone pipeline with the schedule, retries and check thresholds of ``config``.

    ``short_feed_days`` (ISO dates) makes the source deliver a short orders feed on those days;
    ``suite`` and ``gold_sql`` replace the checks task's suite and the gold task's mart (the
    suite then audits the gold that SQL builds: :mod:`course_etl.capstone.student`);
    ``source_seed`` makes the source send other data (the exercises' second data set).
    """
    schedule = config.schedule
    options = {"retries": schedule.retries,
               "retry_delay": timedelta(minutes=schedule.retry_delay_minutes)}
    extract_task = Task(extract, params={"rows": DAILY_ROWS, "seed": source_seed,
                                         "short_feed_days": list(short_feed_days)}, **options)
    check_params = {"min_rows": config.checks.min_rows,
                    "max_staleness_hours": config.checks.max_staleness_hours}
    student = {k: v for k, v in (("suite", suite), ("gold_sql", gold_sql)) if v is not None}
    check_task = Task(checks, params={**check_params, **student}, **options)
    bronze_task, silver_task, publish_task = (Task(fn, **options)
                                              for fn in (bronze, silver, publish))
    gold_task = Task(gold, params={} if gold_sql is None else {"gold_sql": gold_sql}, **options)
    extract_task >> bronze_task >> silver_task >> check_task >> gold_task >> publish_task
    return Pipeline(PIPELINE_NAME, [extract_task, bronze_task, silver_task, check_task,
                                    gold_task, publish_task], schedule=schedule.cron,
                    timezone=schedule.timezone, start_date=STORY_DAY,
                    description=f"course capstone ({config.env}): source to published report")


def alert_channels(config: Config, jsonl_path: str | Path) -> list[Channel]:
    """Console and JSON-lines channels, plus e-mail when the config lists it. E-mail stays
    disabled here (deliveries are recorded as 'disabled'): a classroom sends no real mail."""
    settings: dict = {"console": True, "jsonl_path": jsonl_path}
    alerts = config.alerts
    if "email" in alerts.channels and alerts.smtp_host and alerts.email_to:
        settings["email"] = {"host": alerts.smtp_host, "port": alerts.smtp_port,
                             "sender": "course-etl@example.com",
                             "recipients": list(alerts.email_to)}
    return channels_from_config(settings)



def airflow_dag(config: Config, *, warehouse: str | Path = AIRFLOW_WAREHOUSE) -> str:
    """The Airflow 3 DAG file of the capstone pipeline for ``config``."""
    # Imported here: the exporter renders with Jinja2, which the DAG itself never needs when
    # Airflow imports this package to run a task.
    from course_etl.scheduling.export import to_airflow

    return to_airflow(build_pipeline(config), warehouse=warehouse)
