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

import ast
import sys
from pathlib import Path

from .cron import crontab_entry
from .pipeline import Pipeline, PipelineError, Task

__all__ = [
    "WAREHOUSE_VARIABLE",
    "to_airflow",
    "to_dagster",
    "to_crontab",
    "cli_command",
    "airflow3_problems",
]

WAREHOUSE_VARIABLE = "COURSE_ETL_WAREHOUSE"
_INDENT = "    "
# Names every generated file defines or imports: a task or module alias must not shadow them.
_RESERVED = frozenset({
    "os", "logging", "TASK_LOG", "timedelta", "datetime", "UTC", "pendulum",
    "CronDataIntervalTimetable", "Param",
    "dag", "get_current_context", "task", "connect", "run_context", "RunContext",
    "InjectedFailure", "CourseEtlError", "CronSchedule", "WAREHOUSE", "TASK_IDS", "SCHEDULE",
    "course_context", "check_fault", "conn", "result", "context", "error", "AssetCheckResult",
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
                                    f"under a free name ({alias!r} is taken): rename the task")
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
            "from another working directory, so give the full path"
        )


def _check_names(pipeline: Pipeline) -> None:
    clashes = sorted(({t.name for t in pipeline} | {pipeline.name}) & _RESERVED)
    if clashes:
        raise PipelineError(f"task or pipeline name(s) {', '.join(clashes)} would shadow a name "
                            "the generated file uses: rename them")


def _start_date(pipeline: Pipeline) -> str:
    d = pipeline.start_date
    return f"pendulum.datetime({d.year}, {d.month}, {d.day}, tz={pipeline.timezone!r})"


def _body(task: Task, call: str, indent: str, fault: str) -> list[str]:
    """A task's body: the fault hook, then the function on a connection opened for this try."""
    return [
        f"{indent}{fault}",
        f"{indent}conn = connect(WAREHOUSE)",
        f"{indent}try:",
        f"{indent}{_INDENT}result = {_call(task, call, indent + _INDENT)}",
        f"{indent}finally:",
        f"{indent}{_INDENT}conn.close()",
    ]


def to_airflow(pipeline: Pipeline, *, warehouse: str | Path) -> str:
    """The text of an Airflow 3 TaskFlow DAG file running ``pipeline`` on the SQLite ``warehouse``.

    The timetable is explicit (``CronDataIntervalTimetable``: each run covers one data interval,
    Airflow's logical date is its start); the task functions receive the course's RunContext
    (interval, try number, ``full_refresh`` param). Raises PipelineError for a relative warehouse
    path, a task function another process cannot import, or a name the file needs.
    """
    _check_warehouse(warehouse)
    _check_names(pipeline)
    imports, calls = _modules(pipeline)
    task_ids = [t.name for t in pipeline]
    out = [
        f'"""Airflow 3 DAG {pipeline.name!r}, generated by '
        "course_etl.scheduling.export.to_airflow.",
        "",
        "Each task opens the warehouse, calls the same course_etl function with the same "
        "parameters",
        "as the notebook's local runner, and closes it. The timetable gives every run a data "
        "interval;",
        "Airflow's logical_date is its start, the course's RunContext names the run by the tick "
        "it fires",
        "at (the interval's end), as the local runner does. Params: full_refresh reloads "
        "everything,",
        "fail_once makes one task fail on its first try (to watch a retry). Regenerate instead "
        "of editing.",
        '"""',
        "",
        "import logging",
        "import os",
        "from datetime import timedelta",
        "",
        "import pendulum",
        "from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task",
        "",
        *sorted(imports + ["from course_etl.db import connect",
                           "from course_etl.scheduling.cron import CronSchedule",
                           "from course_etl.scheduling.pipeline import RunContext, run_context",
                           "from course_etl.scheduling.runner import InjectedFailure"]),
        "",
        _warehouse_line(warehouse),
        f"SCHEDULE = CronSchedule({pipeline.schedule!r}, {pipeline.timezone!r})",
        f"TASK_IDS = {task_ids!r}",
        "# Airflow's task logger: its records reach the task log reliably (a print() may not).",
        'TASK_LOG = logging.getLogger("airflow.task")',
        "",
        "",
        "def check_fault() -> None:",
        f'{_INDENT}"""Raise InjectedFailure on the first try of the task the fail_once param '
        'names."""',
        f"{_INDENT}airflow = get_current_context()",
        f'{_INDENT}ti = airflow["ti"]',
        f'{_INDENT}if airflow["params"]["fail_once"] == ti.task_id and ti.try_number == 1:',
        f'{_INDENT * 2}raise InjectedFailure(f"fail_once={{ti.task_id!r}}: try 1 fails, '
        'the retry runs the task")',
        "",
        "",
        "def course_context() -> RunContext:",
        f'{_INDENT}"""This try\'s RunContext: the run\'s data interval, try number, '
        'full_refresh param."""',
        f"{_INDENT}airflow = get_current_context()",
        f'{_INDENT}end, start = airflow.get("data_interval_end"), '
        'airflow.get("data_interval_start")',
        f"{_INDENT}if end is None:  # triggered without a logical date: the last interval before",
        f'{_INDENT * 2}end = SCHEDULE.previous_run(airflow["dag_run"].run_after)',
        f"{_INDENT}return run_context(",
        f"{_INDENT * 2}{pipeline.name!r}, {pipeline.schedule!r}, {pipeline.timezone!r}, end,",
        f'{_INDENT * 2}airflow["ti"].try_number, data_interval_start=start,',
        f'{_INDENT * 2}full_refresh=airflow["params"]["full_refresh"],',
        f"{_INDENT})",
        "",
        "",
        "@dag(",
        f"{_INDENT}dag_id={pipeline.name!r},",
        f"{_INDENT}schedule=CronDataIntervalTimetable({pipeline.schedule!r}, "
        f"timezone={pipeline.timezone!r}),",
        f"{_INDENT}start_date={_start_date(pipeline)},",
        f"{_INDENT}catchup={pipeline.catchup!r},",
        f"{_INDENT}max_active_runs=1,  # runs share the warehouse and its watermarks",
        f"{_INDENT}description={pipeline.description!r},",
        f'{_INDENT}tags=["course_etl"],',
        f"{_INDENT}params={{",
        f'{_INDENT * 2}"full_refresh": Param(False, type="boolean", '
        'description="Reload everything."),',
        f'{_INDENT * 2}"fail_once": Param("", enum=["", *TASK_IDS], '
        'description="Task to fail once."),',
        f"{_INDENT}}},",
        ")",
        f"def {pipeline.name}():",
    ]
    for task in pipeline:
        options = [f"task_id={task.name!r}", f"retries={task.retries}",
                   f"retry_delay=timedelta(seconds={task.retry_delay.total_seconds():g})"]
        if task.retry_exponential_backoff:
            options.append("retry_exponential_backoff=2.0")
        out += [
            f"{_INDENT}@task({', '.join(options)})",
            f"{_INDENT}def run_{task.name}() -> None:",
            *_body(task, calls[task.name], _INDENT * 2, "check_fault()"),
            f'{_INDENT * 2}TASK_LOG.info("%s", result)  # the task log shows what the function did',
            "",
        ]
    out += [f"{_INDENT}{t.name} = run_{t.name}()" for t in pipeline]
    out += [f"{_INDENT}{upstream} >> {downstream}" for upstream, downstream in pipeline.edges]
    out += ["", "", f"{pipeline.name}()"]
    return "\n".join(out) + "\n"


def _asset_of(pipeline: Pipeline, task: Task) -> str:
    """The asset a check guards: its one upstream task, which must not be a check itself."""
    if len(task.upstream) != 1 or task.upstream[0].is_check:
        raise PipelineError(f"check {task.name!r} needs exactly one upstream task that is not a "
                            "check: Dagster attaches a check to the asset it checks")
    return task.upstream[0].name


def to_dagster(pipeline: Pipeline, *, warehouse: str | Path) -> str:
    """The text of a Dagster file: one asset per task, a blocking asset check per check task
    (:func:`~course_etl.scheduling.pipeline.blocking_check`), a job, a schedule, ``defs``.

    Raises PipelineError like :func:`to_airflow`, or for a check without one upstream asset.
    """
    _check_warehouse(warehouse)
    _check_names(pipeline)
    imports, calls = _modules(pipeline)
    assets = [t for t in pipeline if not t.is_check]
    checks = [t for t in pipeline if t.is_check]
    dagster_names = ["AssetExecutionContext", "Definitions", "RetryPolicy", "ScheduleDefinition",
                     "asset", "define_asset_job"]
    if checks:
        dagster_names += ["AssetCheckExecutionContext", "AssetCheckResult", "asset_check"]
    if any(t.retry_exponential_backoff for t in pipeline):
        dagster_names.append("Backoff")
    out = [
        f'"""Dagster definitions for {pipeline.name!r}, generated by '
        "course_etl.scheduling.export.to_dagster.",
        "",
        "One asset per task, in the pipeline's dependency order, each calling the same course_etl",
        "function with the same parameters as the notebook's local runner; each blocking check "
        "is a",
        "blocking asset check on the asset it guards. A run stands for its schedule tick, the "
        "tag",
        "course_etl/logical_date, or (run by hand) the last tick before now, as in Airflow. Tags",
        "course_etl/full_refresh=true and course_etl/fail_once=<task> work like the Airflow "
        "params.",
        '"""',
        "",
        "import os",
        "from datetime import UTC, datetime",
        "",
        "from dagster import (",
        *[f"{_INDENT}{name}," for name in sorted(dagster_names, key=lambda n: (n[0].islower(), n))],
        ")",
        "",
        *sorted(imports + ["from course_etl.db import connect",
                           "from course_etl.scheduling.cron import CronSchedule",
                           "from course_etl.scheduling.pipeline import RunContext, run_context",
                           "from course_etl.scheduling.runner import InjectedFailure"]
                + (["from course_etl.errors import CourseEtlError"] if checks else [])),
        "",
        _warehouse_line(warehouse),
        f"SCHEDULE = CronSchedule({pipeline.schedule!r}, {pipeline.timezone!r})",
        "",
        "",
        "def check_fault(context: AssetExecutionContext, name: str) -> None:",
        f'{_INDENT}"""Raise InjectedFailure on the first try of the task the fail_once tag '
        'names."""',
        f'{_INDENT}if context.run.tags.get("course_etl/fail_once") == name and '
        "context.retry_number == 0:",
        f'{_INDENT * 2}raise InjectedFailure(f"fail_once={{name!r}}: try 1 fails, the retry '
        'runs the task")',
        "",
        "",
        "def course_context(context: AssetExecutionContext) -> RunContext:",
        f'{_INDENT}"""This try\'s RunContext: the run\'s tick, data interval, try number, '
        'full refresh."""',
        f"{_INDENT}tags = context.run.tags",
        f'{_INDENT}tick = tags.get("course_etl/logical_date") or '
        'tags.get("dagster/scheduled_execution_time")',
        f"{_INDENT}moment = datetime.fromisoformat(tick) if tick else "
        "SCHEDULE.previous_run(datetime.now(UTC))",
        f"{_INDENT}return run_context(",
        f"{_INDENT * 2}{pipeline.name!r}, {pipeline.schedule!r}, {pipeline.timezone!r}, moment,",
        f"{_INDENT * 2}context.retry_number + 1,",
        f'{_INDENT * 2}full_refresh=tags.get("course_etl/full_refresh") == "true",',
        f"{_INDENT})",
        "",
    ]
    guarded = {t.name: _asset_of(pipeline, t) for t in checks}
    for task in pipeline:
        policy = (f"RetryPolicy(max_retries={task.retries}, "
                  f"delay={task.retry_delay.total_seconds():g}")
        policy += ", backoff=Backoff.EXPONENTIAL)" if task.retry_exponential_backoff else ")"
        call = _call(task, calls[task.name], _INDENT * 2, "course_context(context)")
        fault = f"check_fault(context, {task.name!r})"
        if task.is_check:
            out += [
                "",
                f"@asset_check(asset={guarded[task.name]!r}, name={task.name!r}, blocking=True,",
                f"{_INDENT * 3}retry_policy={policy})",
                f"def {task.name}_check(context: AssetCheckExecutionContext) -> "
                "AssetCheckResult:",
                f"{_INDENT}{fault}",
                f"{_INDENT}conn = connect(WAREHOUSE)",
                f"{_INDENT}try:",
                f"{_INDENT * 2}result = {call}",
                f"{_INDENT}except CourseEtlError as error:  # the check's verdict, not a crash",
                f"{_INDENT * 2}return AssetCheckResult(passed=False, description=str(error))",
                f"{_INDENT}finally:",
                f"{_INDENT * 2}conn.close()",
                f"{_INDENT}context.log.info(str(result))",
                f'{_INDENT}return AssetCheckResult(passed=True, metadata={{"result": '
                "str(result)})",
                "",
            ]
            continue
        deps = sorted({guarded.get(u.name, u.name) for u in task.upstream})
        out += [
            "",
            f"@asset(name={task.name!r}, deps={deps!r},",
            f"{_INDENT * 2}retry_policy={policy})",
            f"def {task.name}_asset(context: AssetExecutionContext) -> None:",
            f"{_INDENT}{fault}",
            f"{_INDENT}conn = connect(WAREHOUSE)",
            f"{_INDENT}try:",
            f"{_INDENT * 2}result = {call}",
            f"{_INDENT}finally:",
            f"{_INDENT * 2}conn.close()",
            f"{_INDENT}context.log.info(str(result))",
            "",
        ]
    out += [
        "",
        f"ASSETS = [{', '.join(f'{t.name}_asset' for t in assets)}]",
        f"CHECKS = [{', '.join(f'{t.name}_check' for t in checks)}]",
        f"{pipeline.name}_job = define_asset_job({pipeline.name!r}, selection=ASSETS)",
        f"{pipeline.name}_schedule = ScheduleDefinition(",
        f"{_INDENT}job={pipeline.name}_job,",
        f"{_INDENT}cron_schedule={pipeline.schedule!r},",
        f"{_INDENT}execution_timezone={pipeline.timezone!r},",
        ")",
        "defs = Definitions(",
        f"{_INDENT}assets=ASSETS,",
        f"{_INDENT}asset_checks=CHECKS,",
        f"{_INDENT}jobs=[{pipeline.name}_job],",
        f"{_INDENT}schedules=[{pipeline.name}_schedule],",
        ")",
    ]
    return "\n".join(out) + "\n"


def cli_command(pipeline: Pipeline, *, warehouse: str | Path, python: str | Path | None = None
                ) -> list[str]:
    """The argv that runs ``pipeline`` once through this project's command line."""
    _check_warehouse(warehouse)
    return [str(python or sys.executable), "-m", "course_etl", "pipeline", "run", pipeline.name,
            "--db", str(warehouse)]


def to_crontab(
    pipeline: Pipeline,
    *,
    warehouse: str | Path,
    project_dir: str | Path,
    python: str | Path | None = None,
    log_dir: str | Path | None = None,
) -> str:
    """The crontab entry that runs ``pipeline`` on schedule through the command line.

    ``python`` defaults to the running interpreter (the virtualenv's); the log goes to
    ``log_dir/<pipeline>.log`` (default ``project_dir/logs``) and the lock to
    ``/tmp/course_etl_<pipeline>.lock``. cron uses the server's time zone, so a pipeline in
    another zone is refused rather than silently shifted.
    """
    if pipeline.timezone != "UTC":
        raise PipelineError(
            f"pipeline {pipeline.name!r} is scheduled in {pipeline.timezone}; cron uses the "
            "server's zone: convert the schedule or run the server in that zone"
        )
    logs = Path(str(log_dir)) if log_dir else Path(str(project_dir)) / "logs"
    return crontab_entry(
        pipeline.schedule,
        cli_command(pipeline, warehouse=warehouse, python=python),
        workdir=project_dir,
        log_file=logs / f"{pipeline.name}.log",
        lock_file=f"/tmp/course_etl_{pipeline.name}.lock",
        comment=f"course_etl pipeline {pipeline.name}",
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
