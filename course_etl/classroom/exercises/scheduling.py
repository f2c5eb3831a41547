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
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from croniter import CroniterError, croniter

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises.differential import Scenario, first_difference
from course_etl.config import load_config
from course_etl.db import connect
from course_etl.errors import CourseEtlError
from course_etl.scheduling.cron import (
    COURSE_CRON,
    CronSchedule,
    InvalidCronError,
    describe_cron,
    resolve_timezone,
)
from course_etl.scheduling.cron_syntax import check_day_fields, cron_fields
from course_etl.scheduling.lecture import (
    simulate_run,
)

__all__: list[str] = []

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


@dataclass(frozen=True)
class CronReading:
    """A cron line as Debian's cron reads it: its five fields, and how its two day fields
    combine (cron: both must match when either starts with '*', else either may)."""

    fields: str
    day_or: bool | None  # None: croniter reads it as cron does


def cron_reading(text: str) -> CronReading:
    """How Debian's cron reads ``text``. The course's validator refuses lines whose day fields
    croniter and Airflow would combine otherwise (``*/1`` beside a weekday range); cron itself
    runs them, and so they are judged here, by cron's rule. Raises InvalidCronError for the
    rest of what the validator refuses."""
    try:
        return CronReading(CronSchedule(text, _zone()).expression, day_or=None)
    except InvalidCronError as refused:
        fields = cron_fields(text)
        normalised = " ".join(fields)
        try:
            expanded = croniter(normalised).expanded
        except (CroniterError, ValueError, KeyError):
            raise refused from None
        try:
            check_day_fields(fields, expanded, text)
        except InvalidCronError:
            return CronReading(normalised, day_or=not (fields[2].startswith("*")
                                                      or fields[4].startswith("*")))
        raise


def _runs(reading: CronReading, scenario: Scenario) -> list[str]:
    first, last = scenario.data
    start, end = datetime.combine(first, time.min), datetime.combine(last, time(23, 59))
    if reading.day_or is None:
        runs = CronSchedule(reading.fields, _zone()).runs_between(start, end)
    else:  # as cron combines the day fields; once per wall-clock time, as cron fires
        zone, runs = resolve_timezone(_zone()), []
        ticks = croniter(reading.fields, start.replace(tzinfo=zone) - timedelta(seconds=1),
                         day_or=reading.day_or)
        while (moment := datetime.fromtimestamp(ticks.get_next(datetime).timestamp(),
                                                 zone)) <= end.replace(tzinfo=zone):
            if not (moment.fold == 1 and "*" not in reading.fields.split()[1]):
                runs.append(moment)
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
    text = weekday_cron.strip() if isinstance(weekday_cron, str) else weekday_cron
    try:
        reading = cron_reading(text)
    except CourseEtlError as error:
        return Verdict(name, False, str(error), "Five fields, minute first, as crontab(5) "
                                                "describes them: the course's cron is "
                                                f"{COURSE_CRON}.")
    difference = first_difference(reading, cron_reading(REFERENCE_CRON),
                                  cron_scenarios(_zone()), _runs)
    rule = ("a day field starts with '*', so both day fields must match" if reading.day_or
            is False else "both day fields are restricted, so either may match")
    said = (f"reads '{describe_cron(reading.fields)}' and" if reading.day_or is None else
            f"as Debian's cron reads it ({rule})")
    if difference is None:
        said = said.replace(")", "),")
        return Verdict(name, True, f"{reading.fields!r} {said} runs exactly on weekdays at "
                       "06:30, holidays, clock changes and month ends included."
                       + ("" if reading.day_or is None else " croniter and Airflow combine "
                          "its day fields the other way (either one), so the course's configs "
                          "refuse it: write '*' there to be read alike everywhere."))
    yours, wanted = difference.yours.value, difference.expected.value
    extra = [m for m in yours if m not in wanted]
    missing = [m for m in wanted if m not in yours]
    parts = ([f"yours also runs {_listed(extra)}"] if extra else []) + (
        [f"yours never runs {_listed(missing)}"] if missing else [])
    hint = _cron_hint(extra, missing)
    return Verdict(name, False, f"{difference.scenario.story}, {' and '.join(parts)} "
                                f"({reading.fields!r} {said.removesuffix(' and')}).", hint)


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
