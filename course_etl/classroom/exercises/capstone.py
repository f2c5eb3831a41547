"""Exercises for notebook 06 (capstone): a short self-assessment quiz with instant feedback.

Five questions about the whole pipeline: the order the scheduler runs the tasks in, the task
states on a day whose blocking check fails, what the configured retries change between dev and
prod, why re-running a day changes no data, and which schedule the Airflow export carries. Each
check works the right answer out from the library (a small simulated run or the export itself),
so the quiz stays true when the pipeline or the configs change.
"""

from __future__ import annotations

import ast
from datetime import date, datetime

from course_etl.capstone import (
    Fault,
    airflow_dag,
    build_pipeline,
    capstone_config,
)
from course_etl.classroom.exercises import Verdict, register
from course_etl.db import connect
from course_etl.errors import CourseEtlError
from course_etl.scheduling import (
    CronSchedule,
    FaultInjection,
    LocalRunner,
    SimulatedClock,
    describe_cron,
)
from course_etl.scheduling.pipeline import TaskOrder

__all__ = [
    "BACKFILL_CHOICES",
    "check_task_order",
    "check_fault_states",
    "check_retry_outcome",
    "check_rerun_choice",
    "check_export_schedule",
]


def _clean(text: object) -> str:
    return str(text).strip().lower()


# --- 1. the order of the tasks ------------------------------------------------------------------

@register(answer_name="task_order", stub=[], solution_file="06_task_order.py")
def check_task_order(answer: object) -> Verdict:
    """Quiz: the order of the capstone's tasks.

    ``answer``: the capstone's task ids in the order the local runner runs them."""
    name = "check_task_order"
    pipeline = build_pipeline(capstone_config("dev"))
    expected = pipeline.order
    if isinstance(answer, TaskOrder) or (isinstance(answer, list | tuple) and any(
            isinstance(a, str) and type(a) is not str for a in answer)):
        return Verdict(name, False, "this is the order the library computed (pipeline.order), "
                       "not your prediction: the quiz asks what you expect before you see it",
                       "type the six task ids yourself, as a list of texts, first to last")
    if type(answer) not in (list, tuple) or not answer:
        return Verdict(name, False, f"expected a list of task ids, got {answer!r}",
                       "six names, from where the data comes in to where it is published")
    given = [_clean(a) for a in answer]
    if sorted(given) != sorted(expected):
        return Verdict(name, False, f"the tasks are {', '.join(sorted(expected))}, each once",
                       "use exactly the task ids the pipeline defines")
    if given != expected:
        # Name a dependency the order breaks (what the task needs), never the right position.
        for position, task in enumerate(given):
            missing = [up for up in pipeline.graph[task] if up not in given[:position]]
            if missing:
                return Verdict(name, False, f"in your order {task} runs before {missing[0]}, "
                               f"but it needs what {missing[0]} produces",
                               "each task needs its upstream task's output: follow the data "
                               "from the source to the report")
        return Verdict(name, False, "your order keeps every dependency, but the runner breaks "
                       "ties in the order the tasks were defined",
                       "when two tasks could both run next, the one defined first runs first")
    return Verdict(name, True, " >> ".join(expected))


# --- 2. the states on the fault day -------------------------------------------------------------

FAULT_DAY = date(2024, 10, 4)


def _fault_day_states() -> dict[str, str]:
    """Run dev from 2024-10-01 to the fault day with its short orders feed; the last states."""
    config = capstone_config("dev")
    pipeline = build_pipeline(config)
    faulty = build_pipeline(config, short_feed_days=[Fault(FAULT_DAY).day.isoformat()])
    conn = connect(":memory:")
    try:
        runner = LocalRunner(conn, clock=SimulatedClock())
        for offset in range(3):
            runner.run(pipeline, date(2024, 10, 1 + offset))
        report = runner.run(faulty, FAULT_DAY)
    finally:
        conn.close()
    return {task: r.state for task, r in report.tasks.items()}


@register(answer_name="fault_states", stub={}, solution_file="06_fault_states.py")
def check_fault_states(answer: object) -> Verdict:
    """Quiz: the task states on the fault day.

    ``answer``: task id → state on 2024-10-04 in dev, when the orders feed is short."""
    name = "check_fault_states"
    expected = _fault_day_states()
    if not isinstance(answer, dict) or set(answer) != set(expected):
        return Verdict(name, False, f"expected a dict with the keys {', '.join(expected)}",
                       "states: success, failed, upstream_failed, skipped")
    wrong = [task for task in expected if _clean(answer[task]) != expected[task]]
    if wrong:
        return Verdict(name, False, f"{len(expected) - len(wrong)} of {len(expected)} right; "
                                    f"check {', '.join(wrong)}",
                       "the short feed gets through bronze and silver; the blocking check "
                       "stops it, and what runs after a failed task never starts")
    return Verdict(name, True, "the blocking check failed and held gold and publish back")


# --- 3. what retries change -------------------------------------------------------------------

def _retry_outcome(env: str) -> str:
    pipeline = build_pipeline(capstone_config(env))
    conn = connect(":memory:")
    try:
        runner = LocalRunner(conn, clock=SimulatedClock(), faults=FaultInjection({"silver": 1}))
        return runner.run(pipeline, date(2024, 10, 1)).state
    finally:
        conn.close()


@register(answer_name="run_states", stub={"dev": "?", "prod": "?"},
          solution_file="06_retry_outcome.py")
def check_retry_outcome(answer: object) -> Verdict:
    """Quiz: what retries change between dev and prod.

    ``answer``: env → run state on 2024-10-01 when silver fails on its first try."""
    name = "check_retry_outcome"
    expected = {env: _retry_outcome(env) for env in ("dev", "prod")}
    if not isinstance(answer, dict) or set(answer) != set(expected):
        return Verdict(name, False, "expected a dict with the keys dev and prod",
                       "a run ends 'success' or 'failed'")
    wrong = [env for env in expected if _clean(answer[env]) != expected[env]]
    if wrong:
        return Verdict(name, False, f"check {', '.join(wrong)}",
                       "look at schedule.retries in configs/dev.yaml and configs/prod.yaml")
    return Verdict(name, True, "dev has no retries and fails; prod retries silver and succeeds")


# --- 4. why a re-run changes nothing ------------------------------------------------------------

# Distractors from what students really believe (docs/instructor_guide.md, common errors).
BACKFILL_CHOICES = {
    "a": "the runner remembers which days succeeded and skips them when they are run again",
    "b": "bronze ignores a batch it already holds (content hash), silver only reads batches "
         "after its watermark, and publish replaces its row for that logical date",
    "c": "every layer writes with INSERT OR REPLACE, so rows written twice simply overwrite "
         "themselves",
    "d": "silver re-derives its watermark from MAX(updated_at) of its own rows, so nothing "
         "older than what it holds is read again",
}


@register(answer_name="rerun_choice", stub="?", solution_file="06_rerun_choice.py")
def check_rerun_choice(answer: object) -> Verdict:
    """Quiz: why running a day again changes no data.

    ``answer``: the letter of :data:`BACKFILL_CHOICES` that explains idempotent re-runs."""
    name = "check_rerun_choice"
    choice = _clean(answer)
    if choice not in BACKFILL_CHOICES:
        return Verdict(name, False, f"{answer!r} is not one of {', '.join(BACKFILL_CHOICES)}",
                       "answer with one letter")
    if choice != "b":
        wrong = {"a": "the runner runs whatever it is asked to: the run log shows every task "
                      "ran again",
                 "c": "bronze is append-only (triggers refuse UPDATE and DELETE), and INSERT OR "
                      "REPLACE would delete children and lose columns",
                 "d": "silver's watermark is the bronze batch id, stored in a state table, "
                      "never re-derived from data"}[choice]
        return Verdict(name, False, wrong, "which layer would otherwise get the rows twice?")
    return Verdict(name, True, "each layer recognises what it has already done")


# --- 5. the schedule the orchestrator gets -----------------------------------------------------

def _exported_schedule(dag_file: str) -> ast.expr:
    """The expression the Airflow file passes as ``schedule=``."""
    for node in ast.walk(ast.parse(dag_file)):
        if isinstance(node, ast.keyword) and node.arg == "schedule":
            return node.value
    raise AssertionError("the Airflow export has no schedule=")


def _exported_cron(dag_file: str) -> str:
    """The cron text the Airflow file passes as ``schedule=`` (its first string argument)."""
    for value in ast.walk(_exported_schedule(dag_file)):
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    raise AssertionError("the Airflow export has no schedule= with a cron text")


def _year_of_runs(expression: str, timezone: str) -> list:
    return CronSchedule(expression, timezone).runs_between(datetime(2024, 1, 1),
                                                           datetime(2024, 12, 31, 23, 59))


def _call_parts(node: ast.Call) -> tuple[str, list, dict] | None:
    """A call's function name (its last part) and its arguments' literal values, or None when
    an argument is not a literal."""
    try:
        args = [ast.literal_eval(a) for a in node.args]
        keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if None in keywords:  # **kwargs
        return None
    return ast.unparse(node.func).rsplit(".", 1)[-1], args, keywords


def _timetable_problem(answer: str, exported: ast.expr, zone: str) -> str | None:
    """Whether ``answer``, written as the call the export holds (``Timetable('cron', timezone=
    …)``), schedules what the export schedules: the same timetable class, the cron text running
    at the same times, the same other arguments. None when it does; else what differs."""
    try:
        node = ast.parse(answer.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return f"{answer!r} is neither a cron line nor a Python call"
    if not isinstance(node, ast.Call) or not isinstance(exported, ast.Call):
        return f"{answer!r} is not what the export passes as schedule="
    yours, theirs = _call_parts(node), _call_parts(exported)
    if yours is None or theirs is None:
        return f"{answer!r} has arguments that are not plain values"
    (func, args, keywords), (want_func, want_args, want_keywords) = yours, theirs
    if func != want_func:
        return (f"the export passes a {want_func}, not a {func}: the two decide differently "
                "which data interval a run covers")
    if len(args) != len(want_args) or not args or not isinstance(args[0], str):
        return f"{func} in the export takes the cron text as its one positional argument"
    try:
        runs = _year_of_runs(args[0], zone)
    except CourseEtlError as error:
        return f"{args[0]!r} is not a cron line cron accepts: {error}"
    if runs != _year_of_runs(want_args[0], zone) or args[1:] != want_args[1:]:
        return f"{args[0]!r} runs at other times than the exported schedule"
    if keywords != want_keywords:
        shown = ", ".join(f"{k}={v!r}" for k, v in want_keywords.items()) or "none"
        given = ", ".join(f"{k}={v!r}" for k, v in keywords.items()) or "none"
        return (f"the export's {func} has the keyword arguments {shown}; yours has {given}: "
                "the same cron text in another time zone runs at other hours")
    return None


@register(answer_name="prod_schedule", stub="", solution_file="06_export_schedule.py")
def check_export_schedule(answer: object) -> Verdict:
    """Quiz: the schedule in prod's Airflow export.

    ``answer``: the cron text after ``schedule=`` in the Airflow export for prod (or the whole
    timetable call written there)."""
    name = "check_export_schedule"
    config = capstone_config("prod")
    dag_file = airflow_dag(config)
    expected = _exported_cron(dag_file)
    zone = config.schedule.timezone
    hint = ("the export copies schedule.cron from the config: look in configs/prod.yaml (the "
            "time zone goes into the timetable's timezone=)")
    if isinstance(answer, str) and "(" in answer:
        problem = _timetable_problem(answer, _exported_schedule(dag_file), zone)
        if problem:
            return Verdict(name, False, problem, hint)
        return Verdict(name, True, f"schedule={ast.unparse(_exported_schedule(dag_file))}: "
                                   f"{describe_cron(expected)} ({zone})")
    try:
        schedule = CronSchedule(str(answer), zone)
    except CourseEtlError as error:
        return Verdict(name, False, f"{answer!r} is not a cron line cron accepts: {error}", hint)
    if _year_of_runs(schedule.expression, zone) != _year_of_runs(expected, zone):
        return Verdict(name, False, f"{answer!r} ('{schedule.description}') runs at other "
                                    "times than the exported schedule", hint)
    return Verdict(name, True, f"schedule={expected!r}: {describe_cron(expected)} ({zone})")
