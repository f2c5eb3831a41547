"""Notebook 02's exercises: write a cron line, add a task with its dependency, predict states.

The first two are judged by what the answer does, beside a reference, on scenarios the student
has not seen (:mod:`~course_etl.classroom.exercises.differential`): the cron line's runs in the
configured time zone over weekends, holidays, the nights its clocks change, month ends and seeded
random windows; the pipeline's task states on the lecture's day and on faulty days (a load that
fails every try, a short, empty or shrunk source, seeded random ones), run by the local runner on
a simulated clock. The verdict names the smallest scenario where the two differ. The third
exercise's answer is what the runner does in the case it describes, worked out by running it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises.differential import Scenario, first_difference
from course_etl.config import load_config
from course_etl.db import atomic, connect, quote_identifier
from course_etl.errors import CourseEtlError
from course_etl.scheduling.cron import COURSE_CRON, CronSchedule, resolve_timezone
from course_etl.scheduling.lecture import (
    SOURCE,
    TARGET,
    customers_pipeline,
    prepare_lecture_warehouse,
    row_count_check,
    simulate_run,
)
from course_etl.scheduling.pipeline import Pipeline, Task
from course_etl.scheduling.runner import FaultInjection, LocalRunner, SimulatedClock

__all__ = ["check_weekday_cron", "check_added_task", "check_predicted_states",
           "cron_scenarios", "pipeline_scenarios"]

SEED = 2024_10_01

# --- 1. the weekday cron line -------------------------------------------------------------------

REFERENCE_CRON = "30 6 * * 1-5"


@cache
def _zone() -> str:
    """The time zone the course's production schedule runs in (configs/prod.yaml)."""
    return load_config("prod", environ={}).schedule.timezone


def _window(story: str, first: date, days: int) -> Scenario:
    return Scenario(story, (first, first + timedelta(days=days - 1)), size=days)


def _clock_changes(zone: str, year: int) -> list[tuple[date, str]]:
    """The days in ``year`` when ``zone``'s clocks change, read from the zone itself."""
    tz, changes = resolve_timezone(zone), []
    day = date(year, 1, 1)
    while day.year == year:
        before = datetime.combine(day, time(0), tzinfo=tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).utcoffset()
        if before != after:
            changes.append((day, "forward" if after > before else "back"))
        day += timedelta(days=1)
    return changes


def cron_scenarios(zone: str, *, seed: int = SEED, generated: int = 12,
                   hand_picked: bool = True) -> list[Scenario]:
    """Windows of days a weekday schedule must get right, smallest first: single days, a
    weekend, a week, the nights ``zone``'s clocks change, Christmas, month ends, then seeded
    random windows of 1 to 10 days in 2024-2026."""
    scenarios = [
        _window("on Monday 2024-10-07", date(2024, 10, 7), 1),
        _window("on Saturday 2024-10-05", date(2024, 10, 5), 1),
        _window("on Sunday 2024-10-06", date(2024, 10, 6), 1),
        _window("over the weekend of 5-6 October 2024", date(2024, 10, 5), 2),
        _window("in the week of Monday 2024-10-07", date(2024, 10, 7), 7),
        _window("over Christmas 2024 (cron knows no holidays: Wednesday the 25th is a weekday)",
                date(2024, 12, 23), 7),
        _window("at the end of February in a leap year (2024-02-28 to 03-01)",
                date(2024, 2, 28), 3),
        _window("at the end of May 2025, a month that ends on a Saturday", date(2025, 5, 29), 5),
    ] if hand_picked else []
    for day, direction in _clock_changes(zone, 2024) if hand_picked else []:
        scenarios.append(_window(f"around {day} (a Sunday), when {zone}'s clocks go "
                                 f"{direction}", day - timedelta(days=2), 4))
    rng = random.Random(seed)
    for _ in range(generated):
        first = date(2024, 1, 1) + timedelta(days=rng.randrange(3 * 365))
        days = rng.randint(1, 10)
        last = first + timedelta(days=days - 1)
        scenarios.append(_window(f"from {first:%a %Y-%m-%d} to {last:%a %Y-%m-%d}", first, days))
    return scenarios


def _runs(expression: str, scenario: Scenario) -> list[str]:
    first, last = scenario.data
    schedule = CronSchedule(expression, _zone())
    runs = schedule.runs_between(datetime.combine(first, time.min),
                                 datetime.combine(last, time(23, 59)))
    return [f"{moment:%a %Y-%m-%d %H:%M %Z}" for moment in runs]


def _listed(moments: list[str]) -> str:
    shown = ", ".join(moments[:2])
    return f"{shown} and {len(moments) - 2} more" if len(moments) > 2 else shown


def _cron_hint(extra: list[str], missing: list[str]) -> str:
    """What to look at, from the runs yours adds or misses (e.g. 'Sat 2024-10-05 06:30 CEST')."""
    weekend = ("Sat", "Sun")
    if extra and all(m.startswith(weekend) for m in extra):
        return "The fifth field is the day of the week, counted from Sunday = 0 (7 is Sunday too)."
    if {m[:14] for m in extra} == {m[:14] for m in missing}:  # the same days, other times
        return "Read the fields in order: minute, hour, day of month, month, day of week."
    if missing and not extra:
        return ("Some weekdays are left out: the day-of-month and month fields must allow every "
                "day ('*'); the fifth field alone picks the weekdays.")
    return "Read the fields in order: minute, hour, day of month, month, day of week."


@register(answer_name="weekday_cron", stub="30 6 * * *", solution_file="02_weekday_cron.py")
def check_weekday_cron(weekday_cron: str) -> Verdict:
    """Write the cron line for weekdays at 06:30.

    A cron expression (as Debian's cron reads it) for "every weekday, Monday to Friday, at
    06:30", judged by when it runs in the production time zone."""
    name = "Exercise 1 (weekday cron)"
    try:
        schedule = CronSchedule(weekday_cron, _zone())
    except CourseEtlError as error:
        return Verdict(name, False, str(error), "Five fields, minute first, as crontab(5) "
                                                "describes them: the course's cron is "
                                                f"{COURSE_CRON}.")
    difference = first_difference(schedule.expression, REFERENCE_CRON,
                                  cron_scenarios(_zone()), _runs)
    if difference is None:
        return Verdict(name, True, f"{schedule.expression!r} reads '{schedule.description}' and "
                                   "runs exactly on weekdays at 06:30, holidays, clock changes "
                                   "and month ends included.")
    yours, wanted = difference.yours.value, difference.expected.value
    extra = [m for m in yours if m not in wanted]
    missing = [m for m in wanted if m not in yours]
    parts = ([f"yours also runs {_listed(extra)}"] if extra else []) + (
        [f"yours never runs {_listed(missing)}"] if missing else [])
    hint = _cron_hint(extra, missing)
    return Verdict(name, False, f"{difference.scenario.story}, {' and '.join(parts)} "
                                f"('{schedule.description}').", hint)


# --- 2. a task and its dependency ---------------------------------------------------------------

CHECK_PARAMS = {"target": TARGET, "minimum": 3}


def _stub_add_task(pipeline: Pipeline) -> Pipeline:
    """The pipeline's tasks plus a row_count_check task that runs after incremental_load."""
    return pipeline  # replace: build the task, declare the order, return a new Pipeline


def _reference_add_task(pipeline: Pipeline) -> Pipeline:
    check = Task(row_count_check, params=CHECK_PARAMS)
    pipeline["incremental_load"] >> check
    return Pipeline(pipeline.name, [*pipeline, check], schedule=pipeline.schedule)


@dataclass(frozen=True)
class Day:
    """One run of a scenario: the source changes made before it, the faults, the day."""

    day: date
    delete_ids: tuple[int, ...] = ()
    add_customers: tuple[tuple[int, str], ...] = ()  # (id, updated_at)
    faults: dict[str, int] = field(default_factory=dict)


def _fault_text(faults: dict[str, int]) -> str:
    return ", ".join(f"{task} fails {n} time(s)" for task, n in faults.items()) or "no faults"


def pipeline_scenarios(*, seed: int = SEED, generated: int = 10,
                       hand_picked: bool = True) -> list[Scenario]:
    """Days the pipeline must get right, smallest first: the lecture's first run, a load that
    fails every try, a short, empty or shrunk source, then seeded random multi-day histories."""
    every_try = 9
    scenarios = [
        Scenario("on the first run (2024-10-02) with the lecture's 3 customers",
                 (Day(date(2024, 10, 2)),), 1),
        Scenario("on a day incremental_load fails on every try",
                 (Day(date(2024, 10, 2), faults={"incremental_load": every_try}),), 2),
        Scenario("on a day full_load fails on every try",
                 (Day(date(2024, 10, 2), faults={"full_load": every_try}),), 2),
        Scenario("when the source has only 2 customers", (Day(date(2024, 10, 2),
                                                             delete_ids=(3,)),), 3),
        Scenario("when the source is empty", (Day(date(2024, 10, 2), delete_ids=(1, 2, 3)),), 3),
        Scenario("when a customer is deleted at the source after the first run (the warehouse "
                 "keeps its 3 rows)", (Day(date(2024, 10, 2)),
                                       Day(date(2024, 10, 3), delete_ids=(3,))), 4),
    ] if hand_picked else []
    rng = random.Random(seed)
    for _ in range(generated):
        days, start = [], date(2024, 10, 2)
        next_id = 4
        for offset in range(rng.randint(1, 3)):
            deletes = tuple(rng.sample(range(1, next_id), rng.randint(0, 2)))
            adds = []
            for _ in range(rng.randint(0, 2)):
                adds.append((next_id, f"{start + timedelta(days=offset - rng.randint(0, 1))}"))
                next_id += 1
            task = rng.choice(["full_load", "incremental_load", None])
            faults = {task: rng.choice([1, every_try])} if task else {}
            days.append(Day(start + timedelta(days=offset), deletes, tuple(adds), faults))
        story = "; then ".join(
            f"{d.day}: {len(d.delete_ids)} deleted, {len(d.add_customers)} added, "
            f"{_fault_text(d.faults)}" for d in days)
        scenarios.append(Scenario(f"over {len(days)} day(s) ({story})", tuple(days),
                                  4 + len(days)))
    return scenarios


def _apply(conn, day: Day) -> None:
    with atomic(conn):
        conn.executemany(f"DELETE FROM {quote_identifier(SOURCE)} WHERE id = ?",
                         [(i,) for i in day.delete_ids])
        conn.executemany(f"INSERT OR REPLACE INTO {quote_identifier(SOURCE)} "
                         "(id, name, city, updated_at) "
                         "VALUES (?, ?, ?, ?)",
                         [(i, f"Customer {i}", "Lisbon", stamp) for i, stamp in day.add_customers])


def _outcome(report) -> tuple:
    def result(task):
        if task.state == "success":
            return task.result if isinstance(task.result, int) else None
        return task.error.split(":")[0] if task.error else None
    return tuple(sorted((name, task.state, result(task)) for name, task in report.tasks.items()))


def _run_days(pipeline: Pipeline, scenario: Scenario) -> tuple:
    conn = connect(":memory:")
    try:
        prepare_lecture_warehouse(conn)
        outcomes = []
        for day in scenario.data:
            _apply(conn, day)
            runner = LocalRunner(conn, clock=SimulatedClock(), faults=FaultInjection(day.faults))
            outcomes.append((day.day, _outcome(runner.run(pipeline, day.day))))
        return tuple(outcomes)
    finally:
        conn.close()


class _BuildProblem(Exception):
    """The answer did not give a pipeline; the message is the verdict."""


def _built(answer: object) -> Pipeline:
    """The answer's pipeline: the answer itself, or what it returns for a fresh lecture one."""
    if isinstance(answer, Pipeline):
        return answer
    if not callable(answer):
        raise _BuildProblem(f"got {type(answer).__name__}, not a function that returns a "
                            "Pipeline")
    lecture = customers_pipeline()
    before = {task.name: list(task.upstream) for task in lecture.tasks}
    try:
        built = answer(lecture)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        backwards = [f"{up.name} >> {task.name}" for task in lecture.tasks
                     for up in task.upstream if up not in before[task.name]]
        if backwards:
            raise _BuildProblem(
                f"{backwards[0]} makes {backwards[0].split(' >> ')[1]} wait for your check, the "
                "wrong way round (a >> b: b runs after a), and the pipeline cannot be built "
                f"({type(error).__name__}: {error})") from None
        raise _BuildProblem(f"building your pipeline raised {type(error).__name__}: "
                            f"{error}") from None
    if not isinstance(built, Pipeline):
        raise _BuildProblem(f"your function returned {type(built).__name__}, not a Pipeline")
    return built


def _describe(run: tuple) -> dict[str, tuple]:
    return {name: (state, result) for name, state, result in run}


@register(answer_name="add_row_count_check", stub=_stub_add_task,
          solution_file="02_add_task.py")
def check_added_task(answer: object) -> Verdict:
    """Add a row_count_check task after incremental_load.

    A function that takes the lecture's pipeline and returns a new Pipeline with its tasks
    plus a ``row_count_check`` task that runs after incremental_load."""
    name = "Exercise 2 (add a task)"
    try:
        pipeline = _built(answer)
    except _BuildProblem as problem:
        return Verdict(name, False, str(problem),
                       "Build the task, declare incremental_load >> task, then "
                       "Pipeline(name, [*pipeline, task], schedule=...).")
    if "row_count_check" not in pipeline.graph:
        return Verdict(name, False, f"your pipeline has no task named 'row_count_check' (its "
                       f"tasks: {', '.join(pipeline.order)})",
                       "A Task takes its name from the function it wraps.")
    difference = first_difference(pipeline, _reference_add_task(customers_pipeline()),
                                  pipeline_scenarios(), _run_days)
    if difference is None:
        return Verdict(name, True, f"order {' >> '.join(pipeline.order)}: the check waits for "
                       "the incremental load and stops a short or empty load, on every day "
                       "tried.")
    story = difference.scenario.story
    if difference.yours.raised:
        return Verdict(name, False, f"{story}, your pipeline could not run: "
                       f"{difference.yours.error}", "Read the error: it names the task.")
    for (day, yours), (_, wanted) in zip(difference.yours.value, difference.expected.value,
                                         strict=True):
        mine, theirs = _describe(yours), _describe(wanted)
        for task in sorted(set(mine) | set(theirs)):
            if mine.get(task) == theirs.get(task):
                continue
            got, expected = mine.get(task, ("absent", None)), theirs.get(task, ("absent", None))
            counted = f", counting {got[1]} rows" if isinstance(got[1], int) else ""
            if expected[0] == "upstream_failed" and got[0] in ("success", "failed"):
                hint = "Declare the dependency: incremental_load >> your check task."
            elif got[0] == "success" and expected[0] == "failed":
                hint = "The check's params: which table it counts, and the minimum."
            else:
                hint = "The check counts the warehouse table after the day's load."
            when = f", on {day}" if len(difference.scenario.data) > 1 else ""
            return Verdict(name, False, f"{story}{when}, your {task} ended {got[0]}{counted}; it "
                           f"should end {expected[0]}.", hint)
    raise AssertionError("a difference without a differing task")  # pragma: no cover


# --- 3. predict the states --------------------------------------------------------------------

@register(
    answer_name="predicted_states",
    stub={"full_load": "", "incremental_load": "", "row_count_check": ""},
    solution_file="02_predict_states.py",
)
def check_predicted_states(predicted_states: dict) -> Verdict:
    """Quiz: the task states when retries run out.

    Predict each task's state when incremental_load fails 3 times and retries=2."""
    name = "Exercise 3 (predict the states)"
    _, report = simulate_run(connect(":memory:"), failing_task="incremental_load", failures=3,
                             retries=2)
    actual = {task: r.state for task, r in report.tasks.items()}
    if not isinstance(predicted_states, dict) or set(predicted_states) != set(actual):
        return Verdict(name, False, f"give a state for each of {', '.join(actual)}",
                       "A dict like {'full_load': 'success', ...}.")
    wrong = [task for task in actual
             if str(predicted_states[task]).strip().lower() != actual[task]]
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
    return Verdict(name, False, f"{len(wrong)} of {len(actual)} wrong, e.g. {first}",
                   hints.get(first, "Run the case in your head task by task."))
