"""The Dagster definitions file of a pipeline: one asset per task, blocking asset checks.
"""

from __future__ import annotations

from pathlib import Path

from course_etl.errors import checked
from course_etl.scheduling.export.common import (
    _INDENT,
    _call,
    _check_names,
    _check_warehouse,
    _modules,
    _warehouse_line,
)
from course_etl.scheduling.export.render import render
from course_etl.scheduling.pipeline import Pipeline, PipelineError, Task

__all__ = ["to_dagster"]


def _asset_of(pipeline: Pipeline, task: Task) -> str:
    """The asset a check guards: its one upstream task, which must not be a check itself."""
    if len(task.upstream) != 1 or task.upstream[0].is_check:
        raise PipelineError(f"check {task.name!r} needs exactly one upstream task that is not a "
                            "check: Dagster attaches a check to the asset it checks",
                            value=task.name, task=task.name, pipeline=pipeline.name)
    return task.upstream[0].name


@checked
def to_dagster(pipeline: Pipeline, *, warehouse: str | Path) -> str:
    """The text of a Dagster file: one asset per task, a blocking asset check per check task
    (:func:`~course_etl.scheduling.pipeline.blocking_check`), a job, a schedule, ``defs``;
    rendered from ``templates/dagster_definitions.py.jinja``.

    Raises PipelineError like :func:`to_airflow`, or for a check without one upstream asset.
    """
    _check_warehouse(warehouse)
    _check_names(pipeline)
    imports, calls = _modules(pipeline)
    checks = [t for t in pipeline if t.is_check]
    dagster_names = ["AssetExecutionContext", "Definitions", "Failure", "RetryPolicy",
                     "ScheduleDefinition", "asset", "define_asset_job"]
    if checks:
        dagster_names += ["AssetCheckExecutionContext", "AssetCheckResult", "asset_check"]
    if any(t.retry_exponential_backoff for t in pipeline):
        dagster_names.append("Backoff")
    guarded = {t.name: _asset_of(pipeline, t) for t in checks}
    tasks = []
    for task in pipeline:
        policy = (f"RetryPolicy(max_retries={task.retries}, "
                  f"delay={task.retry_delay.total_seconds():g}")
        policy += ", backoff=Backoff.EXPONENTIAL)" if task.retry_exponential_backoff else ")"
        indent = _INDENT * (3 if task.is_check else 2)
        tasks.append({
            "name": task.name, "check": task.is_check, "guards": guarded.get(task.name),
            "deps": sorted({guarded.get(u.name, u.name) for u in task.upstream}),
            "policy": policy, "call": _call(task, calls[task.name], indent,
                                            "course_context(context)"),
        })
    return render(
        "dagster_definitions.py.jinja", name=pipeline.name, schedule=pipeline.schedule,
        timezone=pipeline.timezone, task_imports=imports,
        dagster_names=sorted(dagster_names, key=lambda n: (n[0].islower(), n)),
        warehouse_line=_warehouse_line(warehouse), tasks=tasks,
        assets=[f"{t.name}_asset" for t in pipeline if not t.is_check],
        checks=[f"{t.name}_check" for t in checks],
    )
