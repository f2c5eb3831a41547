"""Notebook 02's exercise "add a task and its dependency", judged by what the pipeline does.

The answer is a function of a pipeline. It gets the lecture's pipeline and runs, beside the
reference's, on the lecture's day and on faulty days (a load that fails every try, a short, empty
or shrunk source, seeded multi-day histories), run by the local runner on a simulated clock; and it
gets pipelines it has never seen (another name, cron line, time zone far from UTC, catchup on,
another start date, tasks with more retries), whose settings the result must
keep: a pipeline that drops to UTC runs its check at another hour, one that turns catchup on
backfills months of runs. Every result must also export to Airflow, as notebook 02 exports it (a
``lambda`` cannot be imported by another process). The verdict names the smallest scenario
where yours and the reference differ.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._budget import time_budget
from course_etl.classroom.exercises.differential import (
    Judge,
    Scenario,
    describe_error,
    function_problem,
    safe_repr,
)
from course_etl.db import atomic, connect, quote_identifier
from course_etl.errors import CourseEtlError
from course_etl.facts import CUSTOMERS, LECTURE_ROWS, STORY_START, TABLES
from course_etl.scheduling.export import to_airflow
from course_etl.scheduling.lecture import (
    customers_pipeline,
    prepare_lecture_warehouse,
    row_count_check,
)
from course_etl.scheduling.pipeline import Pipeline, Task
from course_etl.scheduling.runner import FaultInjection, LocalRunner, SimulatedClock

__all__: list[str] = []

SEED = 2024_10_02
CHECK_PARAMS = {"target": TABLES.warehouse, "minimum": len(LECTURE_ROWS)}
_WAREHOUSE_FILE = "/srv/course/warehouse.db"  # where an exported DAG would find its warehouse


def _stub_add_task(pipeline: Pipeline) -> Pipeline:
    """The pipeline's tasks plus a row_count_check task that runs after incremental_load."""
    return pipeline  # replace: build the task, declare the order, return a new Pipeline


def _reference_add_task(pipeline: Pipeline) -> Pipeline:
    check = Task(row_count_check, params=CHECK_PARAMS)
    pipeline["incremental_load"] >> check
    return dataclasses.replace(pipeline, tasks=[*pipeline, check])


# --- scenarios: days the lecture's pipeline runs -----------------------------------------------

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
    start = date.fromisoformat(STORY_START) + timedelta(days=1)
    keys = tuple(row[CUSTOMERS.key] for row in LECTURE_ROWS)
    scenarios = [
        Scenario(f"on the first run ({start}) with the lecture's {len(keys)} customers",
                 (Day(start),), 1),
        Scenario("on a day incremental_load fails on every try",
                 (Day(start, faults={"incremental_load": every_try}),), 2),
        Scenario("on a day full_load fails on every try",
                 (Day(start, faults={"full_load": every_try}),), 2),
        Scenario(f"when the source has only {len(keys) - 1} customers",
                 (Day(start, delete_ids=keys[-1:]),), 3),
        Scenario("when the source is empty", (Day(start, delete_ids=keys),), 3),
        Scenario(f"when a customer is deleted at the source after the first run (the warehouse "
                 f"keeps its {len(keys)} rows)", (Day(start),
                                                  Day(start + timedelta(days=1),
                                                      delete_ids=keys[-1:])), 4),
    ] if hand_picked else []
    rng = random.Random(seed)
    for _ in range(generated):
        days, next_id = [], max(keys) + 1
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
    source_sql, key_sql = quote_identifier(TABLES.source), quote_identifier(CUSTOMERS.key)
    with atomic(conn):
        conn.executemany(f"DELETE FROM {source_sql} WHERE {key_sql} = ?",
                         [(i,) for i in day.delete_ids])
        conn.executemany(f"DELETE FROM {source_sql} WHERE {key_sql} = ?",
                         [(i,) for i, _ in day.add_customers])
        conn.executemany(CUSTOMERS.insert_sql(TABLES.source),
                         [CUSTOMERS.as_tuple({CUSTOMERS.key: i, "name": f"Customer {i}",
                                              "city": "Lisbon", CUSTOMERS.watermark: stamp})
                          for i, stamp in day.add_customers])


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
            with time_budget():  # the tasks are the student's functions
                outcomes.append((day.day, _outcome(runner.run(pipeline, day.day))))
        return tuple(outcomes)
    finally:
        conn.close()


# --- scenarios: pipelines the answer has not seen ----------------------------------------------

@dataclass(frozen=True)
class Given:
    """A pipeline handed to the answer: the lecture's tasks with these settings."""

    name: str
    schedule: str
    timezone: str
    catchup: bool
    start_date: date
    description: str
    retries: int
    source_check: bool = False  # a first task that depends on nothing: the source's row count

    def build(self) -> Pipeline:
        lecture = customers_pipeline(retries=self.retries)
        tasks = list(lecture.tasks)
        if self.source_check:  # defined first, needed by nothing: the loads do not lead to it
            tasks.insert(0, Task(row_count_check, name="source_row_count",
                                 params={"target": TABLES.source, "minimum": 1}))
        return dataclasses.replace(lecture, tasks=tasks, name=self.name, schedule=self.schedule,
                                   timezone=self.timezone, catchup=self.catchup,
                                   start_date=self.start_date, description=self.description)

    def __str__(self) -> str:
        extra = (", with a first task source_row_count that nothing depends on"
                 if self.source_check else "")
        return (f"given a pipeline {self.name!r} scheduled {self.schedule!r} in {self.timezone}, "
                f"catchup {'on' if self.catchup else 'off'}, from {self.start_date}, its loads "
                f"retried {self.retries} time(s){extra}")


def given_scenarios(*, seed: int = SEED, generated: int = 8) -> list[Scenario]:
    """Pipelines to add the task to: one setting away from the lecture's, then seeded mixes."""
    lecture = customers_pipeline()
    base = Given(lecture.name, lecture.schedule, lecture.timezone, lecture.catchup,
                 lecture.start_date, lecture.description, 1)
    # Most telling first: a lost time zone or catchup changes when and how often it runs.
    choices = {"timezone": ["Europe/Berlin", "America/New_York", "Asia/Tokyo"],
               "catchup": [not lecture.catchup],
               "schedule": ["30 6 * * 1-5", "0 */6 * * *", "15 3 1 * *"],
               "start_date": [date(2024, 9, 15), date(2025, 1, 1)],
               "retries": [3, 0],
               "name": ["orders_etl", "kunden_etl"],
               "source_check": [True, False]}
    out = [Scenario(str(dataclasses.replace(base, **{key: values[0]})),
                    dataclasses.replace(base, **{key: values[0]}), 20 + n)
           for n, (key, values) in enumerate(choices.items())]
    rng = random.Random(seed)
    for n in range(generated):
        given = dataclasses.replace(base, **{k: rng.choice(v) for k, v in choices.items()})
        out.append(Scenario(str(given), given, 40 + n))
    return out


def _settings(pipeline: Pipeline) -> dict[str, object]:
    # The description is left out: a label, not how or when the pipeline runs.
    return {"name": pipeline.name, "schedule": pipeline.schedule, "timezone": pipeline.timezone,
            "catchup": pipeline.catchup, "start_date": pipeline.start_date}


def _exported(pipeline: Pipeline) -> str:
    try:
        to_airflow(pipeline, warehouse=_WAREHOUSE_FILE)
    except CourseEtlError as error:
        return f"not exported: {error}"
    return "exported"


def _shape(pipeline: Pipeline, given: Pipeline) -> dict[str, object]:
    """What a pipeline is, apart from its runs (they judge the dependencies): its settings,
    the retries of the tasks it was given, whether it exports."""
    return {**_settings(pipeline), "airflow": _exported(pipeline),
            "retries": {t.name: t.retries for t in pipeline if t.name in given.graph},
            "order": [name for name in pipeline.order if name in given.graph]}


class _BuildProblem(CourseEtlError):
    """The answer did not give a pipeline; the message is the verdict. Per situation:
    ``.cause`` (what building it raised), ``.upstream`` and ``.task`` (a dependency declared the
    wrong way round), ``.value`` (what the function returned instead)."""


def _built(answer: object, given: Pipeline) -> Pipeline:
    """What the answer returns for ``given``."""
    before = {task.name: list(task.upstream) for task in given.tasks}
    try:
        with time_budget():
            built = answer(given)
    except BaseException as error:  # noqa: BLE001 - the student's code may raise anything
        backwards = [(up.name, task.name) for task in given.tasks
                     for up in task.upstream if up not in before[task.name]]
        if backwards:
            (up, down), *_ = backwards
            raise _BuildProblem(
                f"{up} >> {down} makes {down} wait for your check, the wrong way round (a >> b: "
                f"b runs after a), and the pipeline cannot be built ({describe_error(error)})",
                upstream=up, task=down, cause=error) from None
        raise _BuildProblem(f"building your pipeline raised {describe_error(error)}",
                            cause=error) from None
    if not isinstance(built, Pipeline):
        raise _BuildProblem(f"your function returned {safe_repr(built, 60)}, a "
                            f"{type(built).__name__}, not a Pipeline", value=built)
    return built


def _run(answer: object, scenario: Scenario) -> object:
    if isinstance(scenario.data, Given):
        given = scenario.data.build()
        return _shape(_built(answer, given), given)
    return _run_days(_built(answer, customers_pipeline()), scenario)


ADDED_TASK = Judge(_reference_add_task, lambda: [*pipeline_scenarios(), *given_scenarios()],
                   _run)


def _describe_days(story: str, yours: tuple, wanted: tuple, days: int) -> tuple[str, str]:
    for (day, mine), (_, theirs) in zip(yours, wanted, strict=True):
        mine, theirs = ({name: (s, r) for name, s, r in run} for run in (mine, theirs))
        for task in sorted(set(mine) | set(theirs)):
            if mine.get(task) == theirs.get(task):
                continue
            got, expected = mine.get(task, ("absent", None)), theirs.get(task, ("absent", None))
            counted = f", counting {got[1]} rows" if isinstance(got[1], int) else ""
            if task != "row_count_check":
                return (f"{story}{', on ' + str(day) if days > 1 else ''}, your {task} ended "
                        f"{got[0]}; the one you were given ends {expected[0]}: it lost its "
                        "retries or its dependencies.", "Keep the tasks of the pipeline you are "
                        "given as they are, and add yours.")
            if expected[0] == "upstream_failed" and got[0] in ("success", "failed"):
                hint = "Declare the dependency: incremental_load >> your check task."
            elif got[0] == "success" and expected[0] == "failed":
                hint = "The check's params: which table it counts, and the minimum."
            else:
                hint = "The check counts the warehouse table after the day's load."
            when = f", on {day}" if days > 1 else ""
            return (f"{story}{when}, your {task} ended {got[0]}{counted}; it should end "
                    f"{expected[0]}.", hint)
    return f"{story}, your pipeline runs differently.", "Compare the task states day by day."


_WHY = {"timezone": "its cron line is read in another time zone, so it runs at another "
        "hour", "catchup": "catchup decides whether a scheduler backfills every missed interval "
        "since the start date", "schedule": "it would run at other times",
        "start_date": "the first interval it runs for moves", "name": "a scheduler knows the "
        "pipeline by its name: its run history stays under the old one"}


def _describe_shape(story: str, yours: dict, wanted: dict) -> tuple[str, str]:
    lost = [k for k in _WHY if yours[k] != wanted[k]]
    if lost:
        key = lost[0]
        return (f"{story}, yours returns one with {key} {yours[key]!r} instead of "
                f"{wanted[key]!r}: {_WHY[key]}.", "Keep every setting of the pipeline you are "
                "given: only its tasks change (dataclasses.replace copies the rest).")
    if yours["airflow"] != wanted["airflow"]:
        return (f"{story}, yours cannot be exported to Airflow as notebook 02 does: "
                f"{yours['airflow'].removeprefix('not exported: ')}",
                "Give the Task a function defined with def in a module or the notebook, such "
                "as row_count_check itself, not a lambda.")
    if yours["order"] != wanted["order"]:
        lost = [t for t in wanted["order"] if t not in yours["order"]]
        if lost:
            return (f"{story}, yours has no task {lost[0]}: a task of the pipeline you are given "
                    "that your check does not depend on is lost.", "Keep every task of the "
                    "pipeline you are given (iterate over it), and add yours.")
        return (f"{story}, yours runs the tasks you are given in the order "
                f"{' >> '.join(yours['order'])} instead of {' >> '.join(wanted['order'])}: "
                "the runner breaks ties in the order the tasks are listed, and your list "
                "puts your task's upstream tasks ahead of the others.", "List the tasks you "
                "are given first, as they are, then yours.")
    changed = sorted(t for t in wanted["retries"] if yours["retries"].get(t) !=
                     wanted["retries"][t])
    return (f"{story}, yours changes the retries of {', '.join(changed) or 'its tasks'}: the "
            "tasks you are given keep theirs.", "Reuse the tasks of the pipeline you are given.")


@register(answer_name="add_row_count_check", stub=_stub_add_task,
          solution_file="02_add_task.py")
def check_added_task(answer: object) -> Verdict:
    """Add a row_count_check task after incremental_load.

    A function that takes a pipeline and returns a new Pipeline with its tasks, its settings
    and a ``row_count_check`` task that runs after incremental_load."""
    name = "Exercise 2 (add a task)"
    if not callable(answer) or isinstance(answer, Pipeline):
        return Verdict(name, False, f"got {safe_repr(answer, 60)}, not a function that takes a "
                       "pipeline and returns a new one", "Keep the name the cell gives you and "
                       "define it with def: it takes the pipeline and returns a new one.")
    problem = function_problem(answer)
    if problem:
        return Verdict(name, False, problem, "Define it with a plain def that returns the "
                       "pipeline.")
    try:
        lecture = _built(answer, customers_pipeline())
    except _BuildProblem as problem:
        return Verdict(name, False, str(problem), "Build the task, declare incremental_load >> "
                       "task, then return a Pipeline with the pipeline's tasks and yours.")
    if "row_count_check" not in lecture.graph:
        return Verdict(name, False, f"your pipeline has no task named 'row_count_check' (its "
                       f"tasks: {', '.join(lecture.order)})",
                       "A Task takes its name from the function it wraps.")
    diff = ADDED_TASK.difference(answer)
    if diff is None:
        return Verdict(name, True, f"order {' >> '.join(lecture.order)}: the check waits for "
                       "the incremental load and stops a short or empty load on every day "
                       "tried, and the pipeline keeps the settings it was given and exports "
                       "to Airflow.")
    story = diff.scenario.story
    if diff.yours.raised:
        error = diff.yours.error.removeprefix("_BuildProblem: ")
        return Verdict(name, False, f"{story}, {error}", "Read the error: it names the task.")
    if isinstance(diff.scenario.data, Given):
        return Verdict(name, False, *_describe_shape(story, diff.yours.value,
                                                      diff.expected.value))
    return Verdict(name, False, *_describe_days(story, diff.yours.value, diff.expected.value,
                                                len(diff.scenario.data)))
