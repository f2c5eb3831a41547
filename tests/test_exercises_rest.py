"""Notebooks 03, 04 and 06's quizzes: the checks judge behaviour on generated scenarios, every
feedback sentence is true, and natural wrong answers get a sentence, never a traceback.

Wrong answers are refused by the seeded generators, not by matching them: each is run against
the generated scenarios only (the hand-picked ones left out) and must still differ from the
reference there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from course_etl.capstone import Fault, build_pipeline, capstone_config
from course_etl.classroom.exercises import capstone as quiz
from course_etl.classroom.exercises import config as config_exercises
from course_etl.classroom.exercises import monitoring as monitoring_exercises
from course_etl.classroom.exercises.differential import first_difference
from course_etl.config import load_config, spec

freshness_check = monitoring_exercises.check_freshness_function.exercise.check
thresholds_check = monitoring_exercises.check_freshness_thresholds.exercise.check
volume_check = monitoring_exercises.check_volume_history.exercise.check
env_check = config_exercises.check_env_override.exercise.check
retention_check = config_exercises.check_retention_key.exercise.check


# --- 03: freshness function ---------------------------------------------------------------------

def _status(age_seconds: float | None) -> str:
    if age_seconds is None:
        return "fail"
    return "fail" if age_seconds > 3 * 86_400 else "warn" if age_seconds > 86_400 else "pass"


def _newest(conn, table, column):
    return conn.execute(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0]


def inclusive(conn, table, column, now):
    newest = _newest(conn, table, column)
    if newest is None:
        return "fail"
    age = (now - datetime.fromisoformat(newest)).total_seconds()
    return "fail" if age >= 3 * 86_400 else "warn" if age >= 86_400 else "pass"


def whole_days(conn, table, column, now):
    newest = _newest(conn, table, column)
    return _status(None if newest is None else
                   (now - datetime.fromisoformat(newest)).days * 86_400)


def last_inserted(conn, table, column, now):
    row = conn.execute(f'SELECT "{column}" FROM "{table}" ORDER BY rowid DESC LIMIT 1').fetchone()
    return _status(None if row is None or row[0] is None else
                   (now - datetime.fromisoformat(row[0])).total_seconds())


def any_column(conn, table, column, now):
    cells = [v for row in conn.execute(f'SELECT * FROM "{table}"') for v in row[1:] if v]
    return _status(None if not cells else (now - datetime.fromisoformat(max(cells)))
                   .total_seconds())


def strptime_seconds(conn, table, column, now):
    newest = _newest(conn, table, column)
    return _status(None if newest is None else
                   (now - datetime.strptime(newest, "%Y-%m-%d %H:%M:%S")).total_seconds())


GENERATED_TABLES = monitoring_exercises.freshness_scenarios(hand_picked=False)


@pytest.mark.parametrize("wrong", [inclusive, whole_days, last_inserted, any_column,
                                   strptime_seconds], ids=lambda f: f.__name__)
def test_wrong_freshness_functions_are_refused_by_generated_tables(wrong):
    assert not freshness_check(wrong).passed
    assert first_difference(wrong, monitoring_exercises._reference_freshness, GENERATED_TABLES,
                            monitoring_exercises._judge) is not None


def test_the_verdict_names_the_smallest_table_with_its_true_age():
    verdict = freshness_check(inclusive)
    now = monitoring_exercises.freshness_scenarios(generated=0)[0].data["now"]
    assert verdict.message.startswith("with a table of 1 row whose newest updated_at is "
                                      "1 day(s) old (table feed.updated_at, now "
                                      f"{now:%Y-%m-%d %H:%M})")


@pytest.mark.parametrize("given", [None, 3, "def f(): pass", lambda: "pass",
                                   lambda conn, table, column, now: 1 / 0,
                                   lambda conn, table, column, now: None])
def test_natural_wrong_freshness_answers_get_a_sentence(given):
    verdict = freshness_check(given)
    assert not verdict.passed and verdict.message and verdict.hint


# --- 03: thresholds -----------------------------------------------------------------------------

def test_threshold_stories_are_true_of_the_feed_they_describe():
    """Every story's write time lies in the feed's hours and its age is now minus that write."""
    first, last = monitoring_exercises.FEED_HOURS
    for scenario in monitoring_exercises.threshold_scenarios():
        data = scenario.data
        newest = max(datetime.fromisoformat(v) for v in data["values"])
        assert first <= newest.time() <= last
        assert f"at {newest:%H:%M} (" in scenario.story
        assert f"before the {data['now']:%H:%M} run" in scenario.story
        assert newest.date() == data["now"].date().fromordinal(
            data["now"].date().toordinal() - 1 - data["missed"])


def test_the_feed_hours_in_the_notebook_are_the_exercises():
    import json
    from pathlib import Path
    cells = json.loads((Path(__file__).parents[1] / "notebooks" / "03_monitoring.ipynb")
                       .read_text(encoding="utf-8"))["cells"]
    text = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    first, last = monitoring_exercises.FEED_HOURS
    assert f"between {first:%H:%M} and {last:%H:%M}" in text


def _threshold_windows() -> tuple[tuple[float, float], tuple[float, float]]:
    """Where a right warn and error threshold lie, in hours, from the exercise's own edge
    histories: warn after the oldest normal day and at most the youngest one-missed day, error
    after the oldest one-missed day and at most the youngest two-missed day. Derived, so a
    schedule or feed hours changed in the facts move the windows with them."""
    ages: dict[int, list[float]] = {}
    for scenario in monitoring_exercises.threshold_scenarios(generated=0):
        data = scenario.data
        newest = max(datetime.fromisoformat(v) for v in data["values"])
        ages.setdefault(data["missed"], []).append((data["now"] - newest).total_seconds() / 3600)
    return (max(ages[0]), min(ages[1])), (max(ages[1]), min(ages[2]))


_WARN, _ERROR = _threshold_windows()


def _inside(hours: float, window: tuple[float, float]) -> bool:
    return window[0] < hours <= window[1]


def _threshold_cases() -> list[tuple[tuple[int, str], tuple[int, str], bool]]:
    """Thresholds just inside and just outside each window's edges (whole hours), the lecture's
    days, and days next to them; each with the verdict the windows give."""
    warns = [math.floor(_WARN[0]), math.floor(_WARN[0]) + 1, math.floor(_WARN[1]),
             math.floor(_WARN[1]) + 1]
    errors = [math.floor(_ERROR[0]), math.floor(_ERROR[0]) + 1, math.floor(_ERROR[1]),
              math.floor(_ERROR[1]) + 1]
    right_warn = next(h for h in warns if _inside(h, _WARN))
    right_error = next(h for h in errors if _inside(h, _ERROR))
    cases = [((w, "hour"), (right_error, "hour")) for w in warns]
    cases += [((right_warn, "hour"), (e, "hour")) for e in errors]
    cases += [((1, "day"), (2, "day")), ((1, "day"), (3, "day")), ((1, "hour"), (1, "day"))]
    hours = {"hour": 1, "day": 24}
    return [(w, e, _inside(w[0] * hours[w[1]], _WARN) and _inside(e[0] * hours[e[1]], _ERROR))
            for w, e in cases]


def test_the_threshold_cases_include_passes_and_failures():
    verdicts = [passes for *_, passes in _threshold_cases()]
    assert verdicts.count(True) >= 2 and verdicts.count(False) >= 4


@pytest.mark.parametrize(("warn", "error", "passes"), _threshold_cases())
def test_thresholds_pass_exactly_between_the_kinds_of_day(warn, error, passes):
    answer = {"warn_after": {"count": warn[0], "period": warn[1]},
              "error_after": {"count": error[0], "period": error[1]}}
    assert thresholds_check(answer).passed is passes, thresholds_check(answer)


@pytest.mark.parametrize("given", [None, {}, {"warn_after": 1, "error_after": 2},
                                   {"warn_after": {"count": 2, "period": "day"},
                                    "error_after": {"count": 1, "period": "day"}},
                                   {"warn_after": {"count": 1, "period": "week"},
                                    "error_after": {"count": 2, "period": "day"}}])
def test_natural_wrong_thresholds_get_a_sentence(given):
    verdict = thresholds_check(given)
    assert not verdict.passed and verdict.message and verdict.hint


@pytest.mark.parametrize("given", ["a", "c", "d", "abcd", ["b"], None, " B "])
def test_volume_quiz_answers(given):
    assert volume_check(given).passed is (given == " B ")


# --- 04: environment variables ------------------------------------------------------------------

GENERATED_MACHINES = config_exercises.environment_scenarios(hand_picked=False)


@pytest.mark.parametrize("wrong", [
    {"COURSE_ETL_CHECKS__MIN_ROWS": "050"},
    {"COURSE_ETL_CHECKS__MIN_ROWS": "50", "COURSE_ETL_LOAD__BATCH_SIZE": "10"},
    {"COURSE_ETL_CHECKS_MIN_ROWS": "50"}, {"course_etl_checks__min_rows": "50"},
])
def test_wrong_variables_are_refused_on_generated_machines(wrong):
    assert not env_check(wrong).passed
    assert first_difference(wrong, config_exercises.REFERENCE_ENVIRON, GENERATED_MACHINES,
                            config_exercises._resolved) is not None


def test_a_leading_zero_is_explained_as_what_yaml_does():
    value = load_config("prod", environ={"COURSE_ETL_CHECKS__MIN_ROWS": "050"}).checks.min_rows
    verdict = env_check({"COURSE_ETL_CHECKS__MIN_ROWS": "050"})
    assert f"is read as checks.min_rows, but its text '050' becomes {value}" in verdict.message
    assert "octal" in verdict.message and "not read" not in verdict.message


@pytest.mark.parametrize("given", [{"COURSE_ETL_CHECKS__MIN_ROWS": " 50"},
                                   {"COURSE_ETL_CHECKS__MIN_ROWS": "0x32"}])
def test_variables_that_give_50_pass(given):
    assert env_check(given).passed


# --- 04: the new key ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ValidatesInPostInit:
    raw_days: int = 30

    def __post_init__(self):
        if not 1 <= self.raw_days <= 365:
            raise ValueError(f"raw_days {self.raw_days} out of range")


@dataclass(frozen=True)
class NoDefault:
    raw_days: int = field(metadata=spec("days", minimum=1, maximum=365))


@dataclass(frozen=True)
class PlainMetadata:
    raw_days: int = field(default=30, metadata={"minimum": 1, "maximum": 365})


@dataclass(frozen=True)
class OffByOne:
    raw_days: int = field(default=30, metadata=spec("days", minimum=1, maximum=364))


@dataclass(frozen=True)
class DefaultSeven:
    raw_days: int = field(default=7, metadata=spec("days", minimum=1, maximum=365))


@pytest.mark.parametrize(("given", "says"), [
    (ValidatesInPostInit, "instead of a configuration error naming the file"),
    (NoDefault, "has no default"), (PlainMetadata, "made by spec"),
    (OffByOne, "was refused"), (DefaultSeven, "gave raw_days = 7"),
])
def test_natural_wrong_settings_classes_get_a_true_sentence(given, says):
    verdict = retention_check(given)
    assert not verdict.passed and says in verdict.message, verdict


def test_an_off_by_one_maximum_is_found_by_a_generated_value_alone():
    generated = config_exercises.retention_scenarios(hand_picked=False)
    assert first_difference(OffByOne, config_exercises._ReferenceRetention, generated,
                            config_exercises._raw_days, same=lambda a, b: a == b) is not None


# --- 06: the quizzes ----------------------------------------------------------------------------

def test_task_order_feedback_names_a_dependency_not_a_position():
    expected = build_pipeline(capstone_config("dev")).order
    swapped = [expected[1], expected[0], *expected[2:]]
    verdict = quiz.check_task_order.exercise.check(swapped)
    assert not verdict.passed and "position" not in verdict.message
    assert f"{expected[1]} runs before {expected[0]}" in verdict.message


def test_fault_states_come_from_running_the_pipeline():
    config = capstone_config("dev")
    assert set(quiz._fault_day_states()) == set(build_pipeline(config).order)
    faulty = build_pipeline(config, short_feed_days=[Fault(quiz.FAULT_DAY).day.isoformat()])
    assert faulty.order == build_pipeline(config).order
    assert quiz.check_fault_states.exercise.check(quiz._fault_day_states()).passed


def test_the_export_schedule_is_read_from_the_export_and_equivalents_pass():
    expected = quiz._exported_cron(quiz.airflow_dag(capstone_config("prod")))
    assert expected == capstone_config("prod").schedule.cron
    hour, minute = expected.split()[1], expected.split()[0]
    assert quiz.check_export_schedule.exercise.check(f"{int(minute):02d} {int(hour):02d} * * *"
                                                     ).passed
    assert not quiz.check_export_schedule.exercise.check(f"{minute} {int(hour) + 1} * * *").passed


@pytest.mark.parametrize(("check", "given"), [
    (quiz.check_task_order, "extract"), (quiz.check_task_order, [1, 2]),
    (quiz.check_fault_states, None), (quiz.check_fault_states, {"extract": 1}),
    (quiz.check_retry_outcome, []), (quiz.check_rerun_choice, None),
    (quiz.check_export_schedule, None), (quiz.check_export_schedule, "0 2 * * * Europe/Berlin"),
])
def test_natural_wrong_quiz_answers_get_a_sentence(check, given):
    verdict = check.exercise.check(given)
    assert not verdict.passed and verdict.message and verdict.hint
