"""The Airflow 3 DAG file of a pipeline (TaskFlow), and what the lecture's Airflow 2 file needs.
"""

from __future__ import annotations

import ast
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
from course_etl.scheduling.pipeline import Pipeline

__all__ = ["to_airflow", "airflow3_problems"]


@checked
def to_airflow(pipeline: Pipeline, *, warehouse: str | Path) -> str:
    """The text of an Airflow 3 TaskFlow DAG file running ``pipeline`` on the SQLite ``warehouse``.

    Rendered from ``templates/airflow_dag.py.jinja``. The timetable is explicit
    (``CronDataIntervalTimetable``: each run covers one data interval, Airflow's logical date is
    its start); the task functions receive the course's RunContext (interval, try number,
    ``full_refresh`` param); an error :func:`course_etl.retries.fails_fast` names raises
    ``AirflowFailException``. Raises PipelineError for a relative warehouse path, a task
    function another process cannot import, or a name the file needs.
    """
    _check_warehouse(warehouse)
    _check_names(pipeline)
    imports, calls = _modules(pipeline)
    tasks = []
    for task in pipeline:
        options = [f"task_id={task.name!r}", f"retries={task.retries}",
                   f"retry_delay=timedelta(seconds={task.retry_delay.total_seconds():g})"]
        if task.retry_exponential_backoff:
            options.append("retry_exponential_backoff=2.0")
        joined = ", ".join(options)
        if len(f"{_INDENT}@task({joined})") > 100:  # one option a line, as ruff would format it
            joined = "".join(f"\n{_INDENT * 2}{option}," for option in options) + f"\n{_INDENT}"
        tasks.append({"name": task.name, "options": joined,
                      "call": _call(task, calls[task.name], _INDENT * 3),
                      "linked": any(task.name in edge for edge in pipeline.edges)})
    return render(
        "airflow_dag.py.jinja", name=pipeline.name, schedule=pipeline.schedule,
        timezone=pipeline.timezone, start=pipeline.start_date, catchup=pipeline.catchup,
        description=pipeline.description, task_ids=[t.name for t in pipeline],
        task_imports=imports, warehouse_line=_warehouse_line(warehouse), tasks=tasks,
        edges=pipeline.edges,
    )


# Airflow 2 spellings that Airflow 3 rejects or moved, and what to write instead.
_MOVED_IMPORTS = {
    ("airflow", "DAG"): "from airflow.sdk import DAG",
    ("airflow.models", "DAG"): "from airflow.sdk import DAG",
    ("airflow.operators.python", "PythonOperator"):
        "from airflow.providers.standard.operators.python import PythonOperator",
    ("airflow.operators.bash", "BashOperator"):
        "from airflow.providers.standard.operators.bash import BashOperator",
}


@checked
def airflow3_problems(dag_source: str) -> list[str]:
    """What in an Airflow 2 style DAG file breaks or changes meaning on Airflow 3, line by line.

    Reads the code with :mod:`ast` (nothing is imported or run): moved imports, the removed
    ``schedule_interval`` argument (a ``TypeError`` on Airflow 3) and a DAG without an explicit
    ``catchup`` (whose default became False). Raises SyntaxError for code that does not parse.
    """
    problems = []
    for node in ast.walk(ast.parse(dag_source)):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                fix = _MOVED_IMPORTS.get((node.module, alias.name))
                if fix:
                    problems.append(f"line {node.lineno}: 'from {node.module} import "
                                    f"{alias.name}' moved in Airflow 3: {fix}")
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DAG":
            keywords = {k.arg for k in node.keywords}
            if "schedule_interval" in keywords:
                problems.append(f"line {node.lineno}: schedule_interval= was removed in Airflow 3 "
                                "(TypeError: unexpected keyword argument): use schedule=")
            if "catchup" not in keywords:
                problems.append(f"line {node.lineno}: no catchup=: Airflow 3's default is False, "
                                "Airflow 2's was True; say which you mean")
    return problems
