"""Notebook 02's exercises: write a cron line, add a task with its dependency, predict states.

Each check runs the answer against the real scheduling code (croniter's fire times, the local
runner on a fresh lecture warehouse with a simulated clock), so feedback is instant and the same
on every run.
"""

from __future__ import annotations

from datetime import datetime

from course_etl.classroom.exercises import Verdict, register
from course_etl.db import connect
from course_etl.errors import CourseEtlError
from course_etl.scheduling.cron import CronSchedule
from course_etl.scheduling.lecture import (
    customers_pipeline,
    prepare_lecture_warehouse,
    simulate_run,
)
from course_etl.scheduling.pipeline import Pipeline
from course_etl.scheduling.runner import LocalRunner, SimulatedClock

__all__ = ["check_weekday_cron", "check_added_task", "check_predicted_states"]

_FORTNIGHT = (datetime(2024, 10, 1), datetime(2024, 10, 14, 23, 59))


@register(answer_name="weekday_cron", stub="30 6 * * *", solution_file="02_weekday_cron.py")
def check_weekday_cron(weekday_cron: str) -> Verdict:
    """A cron expression for "every weekday (Monday to Friday) at 06:30"."""
    name = "Exercise 1 (weekday cron)"
    try:
        schedule = CronSchedule(weekday_cron)
    except CourseEtlError as error:
        return Verdict(name, False, str(error), "Five fields: minute hour day month weekday.")
    got = schedule.runs_between(*_FORTNIGHT)
    wanted = CronSchedule("30 6 * * 1-5").runs_between(*_FORTNIGHT)
    if got == wanted:
        return Verdict(name, True, f"{schedule.expression!r} reads '{schedule.description}'.")
    extra = sorted({f"{r:%A}" for r in got} - {f"{r:%A}" for r in wanted})
    if extra:
        message = f"it also fires on {', '.join(extra)} ('{schedule.description}')"
        return Verdict(name, False, message,
                       "The fifth field is the day of week: 1-5 is Monday to Friday.")
    times = sorted({f"{r:%H:%M}" for r in got})
    return Verdict(name, False, f"it fires {len(got)} times in two weeks at {', '.join(times)}, "
                   "expected 10 times at 06:30",
                   "Minute comes first, then hour: '30 6' is 06:30.")


@register(answer_name="my_pipeline", stub=customers_pipeline(), solution_file="02_add_task.py")
def check_added_task(my_pipeline: Pipeline) -> Verdict:
    """The lecture's pipeline plus a ``row_count_check`` task that runs after incremental_load."""
    name = "Exercise 2 (add a task)"
    if not isinstance(my_pipeline, Pipeline):
        return Verdict(name, False, f"got {type(my_pipeline).__name__}, not a Pipeline",
                       "Build it with Pipeline(name, tasks, schedule=...).")
    if "row_count_check" not in my_pipeline.graph:
        return Verdict(name, False, f"no task named 'row_count_check' (tasks: "
                       f"{', '.join(my_pipeline.order)})",
                       "Task(row_count_check, params={'target': 'dw_customers', 'minimum': 3})")
    conn = connect(":memory:")
    prepare_lecture_warehouse(conn)
    report = LocalRunner(conn, clock=SimulatedClock()).run(my_pipeline, datetime(2024, 10, 2))
    check = report.tasks["row_count_check"]
    if "incremental_load" not in my_pipeline.graph["row_count_check"]:
        return Verdict(name, False, "row_count_check does not wait for incremental_load (here it "
                       f"ran as task {my_pipeline.order.index('row_count_check') + 1} and ended "
                       f"{check.state}; a parallel scheduler could start it first)",
                       "Declare the dependency: incremental_load >> row_count_check.")
    if report.state != "success":
        return Verdict(name, False, f"the run ended {report.state}: {check.error}",
                       "Check the task's parameters: target='dw_customers', minimum=3.")
    return Verdict(name, True, f"order {' >> '.join(my_pipeline.order)}; the check counted "
                   f"{check.result} rows.")


@register(
    answer_name="predicted_states",
    stub={"full_load": "", "incremental_load": "", "row_count_check": ""},
    solution_file="02_predict_states.py",
)
def check_predicted_states(predicted_states: dict) -> Verdict:
    """Predict each task's state when incremental_load fails 3 times and retries=2."""
    name = "Exercise 3 (predict the states)"
    _, report = simulate_run(connect(":memory:"), failing_task="incremental_load", failures=3,
                             retries=2)
    actual = {task: r.state for task, r in report.tasks.items()}
    if not isinstance(predicted_states, dict) or set(predicted_states) != set(actual):
        return Verdict(name, False, f"give a state for each of {', '.join(actual)}",
                       "A dict like {'full_load': 'success', ...}.")
    wrong = [task for task in actual if predicted_states[task] != actual[task]]
    if not wrong:
        tries = report.tasks["incremental_load"].tries
        return Verdict(name, True, f"{tries} tries (1 + 2 retries) all failed, so its "
                       "downstream task never started.")
    first = wrong[0]
    hints = {
        "full_load": "full_load has no upstream and no injected failure.",
        "incremental_load": "3 failures against 1 + 2 tries: does any try succeed?",
        "row_count_check": "A task whose upstream failed does not run: which state says so?",
    }
    return Verdict(name, False, f"{len(wrong)} of 3 wrong, e.g. {first}", hints[first])
