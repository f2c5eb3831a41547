"""Scheduling and orchestration: cron that explains itself, a pipeline API and a local runner.

``cron`` validates, describes and expands cron expressions and writes crontab entries;
``pipeline`` defines tasks (plain functions with retry metadata, ``a >> b``) and pipelines ordered
with :mod:`graphlib`; ``runner`` runs a pipeline in process with retries, task states, a logical
date and backfills; ``pictures`` draws a run; ``export`` turns a pipeline into an Airflow 3 DAG
file, a crontab entry or a Dagster definitions file; ``examples`` holds the lecture's pipeline.
"""

from course_etl.scheduling.cron import (
    CronSchedule,
    InvalidCronError,
    crontab_entry,
    describe_cron,
    next_runs,
)
from course_etl.scheduling.pipeline import Pipeline, PipelineError, RunContext, Task, task
from course_etl.scheduling.runner import (
    FaultInjection,
    LocalRunner,
    RealClock,
    RunReport,
    SimulatedClock,
    TaskReport,
    TaskSkipped,
)

__all__ = [
    "CronSchedule",
    "InvalidCronError",
    "crontab_entry",
    "describe_cron",
    "next_runs",
    "Pipeline",
    "PipelineError",
    "RunContext",
    "Task",
    "task",
    "FaultInjection",
    "LocalRunner",
    "RealClock",
    "RunReport",
    "SimulatedClock",
    "TaskReport",
    "TaskSkipped",
]
