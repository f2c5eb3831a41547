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
# A second window: another month and year, starting on another weekday.
_OTHER_MONTH = (datetime(2025, 2, 1), datetime(2025, 3, 2, 23, 59))


@register(answer_name="weekday_cron", stub="30 6 * * *", solution_file="02_weekday_cron.py")
def check_weekday_cron(weekday_cron: str) -> Verdict:
    """Write the cron line for weekdays at 06:30.

    A cron expression for "every weekday (Monday to Friday) at 06:30"."""
    name = "Exercise 1 (weekday cron)"
    try:
        schedule = CronSchedule(weekday_cron)
    except CourseEtlError as error:
        return Verdict(name, False, str(error), "Five fields: minute hour day month weekday.")
    for window in (_FORTNIGHT, _OTHER_MONTH):
        got = schedule.runs_between(*window)
        wanted = [r for r in CronSchedule("30 6 * * *").runs_between(*window) if r.weekday() < 5]
        if got == wanted:
            continue
        days = f"{window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}"
        extra = sorted({f"{r:%A}" for r in got} - {f"{r:%A}" for r in wanted})
        missed = sorted({f"{r:%A}" for r in wanted} - {f"{r:%A}" for r in got})
        if extra or missed:
            what = ", ".join([*(f"also fires on {d}" for d in extra),
                              *(f"never fires on {d}" for d in missed)])
            return Verdict(name, False, f"from {days} it {what} ('{schedule.description}'): "
                           "the report is late or computed on days nobody works",
                           "The fifth field is the day of the week, counted from Sunday = 0.")
        times = sorted({f"{r:%H:%M}" for r in got})
        return Verdict(name, False, f"from {days} it fires {len(got)} times at "
                       f"{', '.join(times)}; weekdays at 06:30 are {len(wanted)} runs",
                       "Read the fields in order: minute, hour, day of month, month, day of "
                       "week.")
    return Verdict(name, True, f"{schedule.expression!r} reads '{schedule.description}'.")


@register(answer_name="my_pipeline", stub=customers_pipeline(), solution_file="02_add_task.py")
def check_added_task(my_pipeline: Pipeline) -> Verdict:
    """Add a row_count_check task after incremental_load.

    The lecture's pipeline plus a ``row_count_check`` task that runs after incremental_load."""
    name = "Exercise 2 (add a task)"
    if not isinstance(my_pipeline, Pipeline):
        return Verdict(name, False, f"got {type(my_pipeline).__name__}, not a Pipeline",
                       "Build it with Pipeline(name, tasks, schedule=...).")
    if "row_count_check" not in my_pipeline.graph:
        return Verdict(name, False, f"no task named 'row_count_check' (tasks: "
                       f"{', '.join(my_pipeline.order)})",
                       "Wrap the function row_count_check in a Task with its params.")
    params = dict(my_pipeline["row_count_check"].params)
    if params != {"target": "dw_customers", "minimum": 3}:
        return Verdict(name, False, f"the check runs with params {params}: it counts another "
                       "table or another minimum than asked, so a short load slips through",
                       "The exercise text gives both parameters.")
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
                       "Read the error: it names the table and the count it saw.")
    # A second warehouse whose source has only two customers: the check must stop that run.
    small = connect(":memory:")
    prepare_lecture_warehouse(small)
    small.execute("DELETE FROM src_customers WHERE id = 3")
    short = LocalRunner(small, clock=SimulatedClock()).run(my_pipeline, datetime(2024, 10, 3))
    if short.tasks["row_count_check"].state != "failed":
        return Verdict(name, False, "on a source with only 2 customers the check ended "
                       f"{short.tasks['row_count_check'].state}: it cannot catch a short load",
                       "The check must fail when fewer rows than its minimum arrive.")
    return Verdict(name, True, f"order {' >> '.join(my_pipeline.order)}; the check counted "
                   f"{check.result} rows, and stopped a run with only 2.")


@register(
    answer_name="predicted_states",
    stub={"full_load": "", "incremental_load": "", "row_count_check": ""},
    solution_file="02_predict_states.py",
)
def check_predicted_states(predicted_states: dict) -> Verdict:
    """Predict the task states when retries run out.

    Predict each task's state when incremental_load fails 3 times and retries=2."""
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
        "full_load": "Which task does the injected failure touch, and what runs before it?",
        "incremental_load": "Count the tries a task gets with retries=2, and the failures.",
        "row_count_check": "A task whose upstream failed does not run: which state says so?",
    }
    return Verdict(name, False, f"{len(wrong)} of 3 wrong, e.g. {first}", hints[first])
