"""What the exporters share: the warehouse variable, the names a generated file reserves, and
the helpers that write a task's import and call (the templates in ``templates/`` do the rest)."""

from __future__ import annotations

from pathlib import Path

from course_etl.scheduling.pipeline import Pipeline, PipelineError, Task

__all__ = ["WAREHOUSE_VARIABLE"]

WAREHOUSE_VARIABLE = "COURSE_ETL_WAREHOUSE"
_INDENT = "    "
# Names every generated file defines or imports: a task or module alias must not shadow them.
_RESERVED = frozenset({
    "os", "logging", "contextlib", "sqlite3", "Iterator", "TASK_LOG", "timedelta", "datetime",
    "UTC", "pendulum", "CronDataIntervalTimetable", "Param", "AirflowFailException", "Failure",
    "dag", "get_current_context", "task", "connect", "run_context", "RunContext",
    "InjectedFailure", "CourseEtlError", "CronSchedule", "WAREHOUSE", "TASK_IDS", "SCHEDULE",
    "course_context", "check_fault", "warehouse", "log_result", "summary", "fails_fast", "reason",
    "conn",
    "result", "context", "error", "AssetCheckResult",
    "AssetCheckExecutionContext", "AssetExecutionContext", "Definitions", "RetryPolicy",
    "Backoff", "ScheduleDefinition", "asset", "asset_check", "define_asset_job", "ASSETS",
    "CHECKS",
})


def _import_line(module: str, alias: str) -> str:
    package, _, last = module.rpartition(".")
    if not package:
        return f"import {module}" + ("" if alias == module else f" as {alias}")
    return f"from {package} import {last}" + ("" if alias == last else f" as {alias}")


def _modules(pipeline: Pipeline) -> tuple[list[str], dict[str, str]]:
    """Import lines for the task functions' modules, and task name -> ``alias.function``.

    Calls go through the module (``loads.full_load(...)``) so a task variable named like its
    task_id never shadows the function it calls.
    """
    taken = set(_RESERVED) | {t.name for t in pipeline} | {pipeline.name}
    aliases: dict[str, str] = {}
    calls: dict[str, str] = {}
    for task in pipeline:
        module, name = task.import_path
        if module not in aliases:
            last = module.rpartition(".")[2]
            alias = last if last not in taken else module.replace(".", "_")
            if alias in taken:
                raise PipelineError(f"module {module!r} of task {task.name!r} cannot be imported "
                                    f"under a free name ({alias!r} is taken): rename the task",
                                    value=alias, module=module, task=task.name)
            aliases[module] = alias
            taken.add(alias)
        calls[task.name] = f"{aliases[module]}.{name}"
    lines = [_import_line(module, alias) for module, alias in aliases.items()]
    return sorted(lines), calls


def _call(task: Task, function: str, indent: str, context: str = "course_context()") -> str:
    """``function(conn, key=value, ...)``, one argument a line when one line would be long."""
    arguments = ["conn"] + [f"{key}={value!r}" for key, value in task.params.items()]
    if task.wants_context:
        arguments.append(f"context={context}")
    one_line = f"{function}({', '.join(arguments)})"
    if len(indent) + len("result = ") + len(one_line) <= 99:
        return one_line
    inner = indent + _INDENT
    return f"{function}(\n" + "".join(f"{inner}{a},\n" for a in arguments) + f"{indent})"


def _warehouse_line(warehouse: str | Path) -> str:
    line = f"WAREHOUSE = os.environ.get({WAREHOUSE_VARIABLE!r}, {str(warehouse)!r})"
    if len(line) <= 99:
        return line
    return f"WAREHOUSE = os.environ.get(\n{_INDENT}{WAREHOUSE_VARIABLE!r},\n" \
           f"{_INDENT}{str(warehouse)!r},\n)"


def _check_warehouse(warehouse: str | Path) -> None:
    if not Path(str(warehouse)).is_absolute():
        raise PipelineError(
            f"warehouse {str(warehouse)!r} is not an absolute path: the orchestrator runs tasks "
            "from another working directory, so give the full path",
            value=warehouse, what="warehouse", path=warehouse)


def _check_names(pipeline: Pipeline) -> None:
    clashes = sorted(({t.name for t in pipeline} | {pipeline.name}) & _RESERVED)
    if clashes:
        raise PipelineError(f"task or pipeline name(s) {', '.join(clashes)} would shadow a name "
                            "the generated file uses: rename them", value=clashes)
