"""Notebook 02's checks judge behaviour: wrong answers the issue names are refused by the
generated scenarios (not by matching them), field-by-field mutants of the cron answer are
refused exactly when they run at other times over three years, and natural wrong answers get
feedback, never a traceback."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.classroom.exercises.differential import first_difference
from course_etl.classroom.exercises.pipeline_task import (
    _reference_add_task,
    _run,
    check_added_task,
    given_scenarios,
    pipeline_scenarios,
)
from course_etl.classroom.exercises.scheduling import (
    REFERENCE_CRON,
    _zone,
    check_predicted_states,
    check_weekday_cron,
    cron_scenarios,
)
from course_etl.scheduling import CronSchedule, InvalidCronError, Pipeline, Task
from course_etl.scheduling.lecture import customers_pipeline, row_count_check

weekday_cron = check_weekday_cron.exercise.check
added_task = check_added_task.exercise.check
predicted = check_predicted_states.exercise.check
TABLE = json.loads((Path(__file__).with_name("cron_verdicts.json")).read_text(encoding="utf-8"))


# --- the cron line ------------------------------------------------------------------------------

def test_quartz_weekday_line_is_refused_and_the_recorded_generator_found_its_kind():
    verdict = weekday_cron("30 6 ? * 1-5")
    assert not verdict.passed and "Quartz" in verdict.message
    generated = [r for r in TABLE["rows"][-500:] if "?" in r["expression"]]
    assert generated and all(r["cron"] == "refused" for r in generated)


def three_years(expression: str) -> list[datetime]:
    return CronSchedule(expression, _zone()).runs_between(datetime(2024, 1, 1),
                                                          datetime(2026, 12, 31, 23, 59))


FIELD_POOL = [
    ["30", "0", "6", "*/30", "29-31/2", "30,31", "*"],
    ["6", "5-6", "6,18", "*/6", "18", "*"],
    ["*", "1-31", "1-5", "2-31", "*/2"],
    ["*", "1-12", "jan-dec", "1-11", "2-12", "*/2"],
    ["1-5", "mon-fri", "1,2,3,4,5", "0-4", "2-6", "1-6", "0-5", "1-7", "*", "6,0", "1-5/2"],
]
MUTANTS = sorted({" ".join(choice) for position in range(5)
                  for value in FIELD_POOL[position]
                  for choice in [REFERENCE_CRON.split()[:position] + [value]
                                 + REFERENCE_CRON.split()[position + 1:]]}
                 | {" ".join(c) for c in itertools.product(*(p[:2] for p in FIELD_POOL))})
EXPECTED_RUNS = three_years(REFERENCE_CRON)


@pytest.mark.parametrize("mutant", MUTANTS)
def test_a_cron_mutant_passes_exactly_when_it_runs_like_the_reference_for_three_years(mutant):
    try:
        same = three_years(mutant) == EXPECTED_RUNS
    except InvalidCronError:
        same = False
    assert weekday_cron(mutant).passed == same, weekday_cron(mutant)


def test_the_cron_scenarios_cover_the_zones_clock_changes_weekends_holidays_and_month_ends():
    stories = " | ".join(s.story for s in cron_scenarios(_zone()))
    for needed in ("clocks go forward", "clocks go back", "weekend", "Christmas", "end of"):
        assert needed in stories
    assert cron_scenarios(_zone()) == cron_scenarios(_zone())  # seeded: same verdict each time


def test_a_day_of_month_answer_gets_the_smallest_window_and_a_true_sentence():
    verdict = weekday_cron("30 6 1-5 * *")
    assert not verdict.passed
    assert verdict.message.startswith("on Monday 2024-10-07, yours never runs Mon 2024-10-07")


# --- the added task -----------------------------------------------------------------------------

def answer(after: str = "incremental_load", *, minimum: int = 3, target: str = "dw_customers",
           backwards: bool = False, retries: int = 0):
    def add(pipeline):
        check = Task(row_count_check, params={"target": target, "minimum": minimum},
                     retries=retries)
        if backwards:
            check >> pipeline[after]
        else:
            pipeline[after] >> check
        return dataclasses.replace(pipeline, tasks=[*pipeline, check])
    return add


GENERATED = pipeline_scenarios(hand_picked=False)


def refused_by_generated_scenarios(add) -> bool:
    return first_difference(add, _reference_add_task, GENERATED, _run) is not None


@pytest.mark.parametrize(("what", "add"), [
    ("a check hanging off full_load only", answer("full_load")),
    ("a minimum of 2", answer(minimum=2)),
    ("a minimum of 4", answer(minimum=4)),
])
def test_wrong_pipelines_are_refused_and_the_seeded_generator_alone_finds_them(what, add):
    verdict = added_task(add)
    assert not verdict.passed and verdict.hint, what
    assert refused_by_generated_scenarios(add), f"{what}: only a hand-picked scenario finds it"


def test_a_check_off_full_load_is_told_what_happens_on_a_failing_day():
    verdict = added_task(answer("full_load"))
    assert verdict.message == ("on a day incremental_load fails on every try, your "
                               "row_count_check ended success, counting 3 rows; it should end "
                               "upstream_failed.")


@pytest.mark.parametrize("after", ["full_load", "incremental_load"])
def test_the_arrow_the_wrong_way_round_gets_feedback_not_a_traceback(after):
    verdict = added_task(answer(after, backwards=True))
    assert not verdict.passed
    assert f"row_count_check >> {after}" in verdict.message and "wrong way round" in verdict.message


@pytest.mark.parametrize(("what", "given"), [
    ("retries on the check", answer(retries=2)),
    ("waits for both loads", lambda p: dataclasses.replace(p, tasks=[*p, (lambda c: (
        [p["full_load"], p["incremental_load"]] >> c, c)[1])(Task(
            row_count_check, params={"target": "dw_customers", "minimum": 3}))])),
    ("every setting passed by name", lambda p: Pipeline(
        p.name, [*p, answer()(p)["row_count_check"]], schedule=p.schedule,
        timezone=p.timezone, catchup=p.catchup, start_date=p.start_date)),
])
def test_equivalent_pipelines_pass(what, given):
    assert added_task(given).passed, what


def keeps_name_and_schedule_only(pipeline):
    """The reference of the first version of this check: the pipeline's time zone, catchup and
    start date are lost (finding 7 of the red team)."""
    check = Task(row_count_check, params={"target": "dw_customers", "minimum": 3})
    pipeline["incremental_load"] >> check
    return Pipeline(pipeline.name, [*pipeline, check], schedule=pipeline.schedule)


def check_as_lambda(pipeline):
    check = Task(lambda conn, **kw: row_count_check(conn, **kw), name="row_count_check",
                 params={"target": "dw_customers", "minimum": 3})
    pipeline["incremental_load"] >> check
    return dataclasses.replace(pipeline, tasks=[*pipeline, check])


@pytest.mark.parametrize(("what", "add", "said"), [
    ("the time zone, catchup and start date dropped", keeps_name_and_schedule_only,
     "timezone 'UTC' instead of 'Europe/Berlin'"),
    ("the input ignored", lambda p: customers_pipeline(with_check=True),
     "timezone 'UTC' instead of 'Europe/Berlin'"),
    ("catchup forced on", lambda p: dataclasses.replace(answer()(p), catchup=True),
     "catchup True instead of False"),
    ("a renamed pipeline", lambda p: dataclasses.replace(answer()(p), name=p.name + "_v2"),
     "name 'customers_etl_v2'"),
    ("a check no other process can import", check_as_lambda, "cannot be imported"),
])
def test_given_pipelines_the_answer_never_saw_find_lost_settings(what, add, said):
    """Finding 7: the check handed only the lecture's UTC pipeline to the answer; the generated
    pipelines (another zone, catchup, start date, name, retries) find each lost setting, and a
    pipeline Airflow cannot import."""
    verdict = added_task(add)
    assert not verdict.passed and said in verdict.message, (what, str(verdict))
    assert first_difference(add, _reference_add_task, given_scenarios(), _run) is not None
    assert added_task(answer()).passed  # the same task added, settings kept


def test_the_reference_keeps_the_time_zone_and_catchup_of_a_pipeline_it_is_given():
    for scenario in given_scenarios():
        given = scenario.data.build()
        built = _reference_add_task(given)
        assert (built.timezone, built.catchup, built.schedule, built.start_date) == (
            given.timezone, given.catchup, given.schedule, given.start_date), scenario.story


@pytest.mark.parametrize("given", [None, 3, "my_pipeline", lambda p: 1 / 0, lambda p: None,
                                   lambda p, q: p, lambda p: p, answer()(customers_pipeline())])
def test_natural_wrong_answers_get_a_sentence(given):
    verdict = added_task(given)
    assert not verdict.passed and verdict.message and verdict.hint


def test_the_check_on_the_source_table_is_caught_by_a_deleted_customer():
    verdict = added_task(answer(target="src_customers"))
    assert not verdict.passed and "deleted at the source" in verdict.message


# --- predicted states ---------------------------------------------------------------------------

@pytest.mark.parametrize("given", [None, [], {"full_load": None, "incremental_load": 1,
                                              "row_count_check": []}, "success"])
def test_predicted_states_never_crash(given):
    verdict = predicted(given)
    assert not verdict.passed and verdict.hint


class _AnswerRaised(Exception):
    pass


@settings(max_examples=40, deadline=None)
@given(st.one_of(
    st.tuples(st.just("backwards"), st.sampled_from(["full_load", "incremental_load"]),
              st.from_regex(r"t_[a-z]{1,8}", fullmatch=True)),
    st.tuples(st.just("raises"), st.text(max_size=20)),
    st.tuples(st.just("returns"), st.one_of(st.integers(), st.text(max_size=5), st.none(),
                                              st.lists(st.integers(), max_size=2)))))
def test_an_answer_that_builds_no_pipeline_is_carried_with_what_went_wrong(case):
    from course_etl.classroom.exercises.pipeline_task import _BuildProblem, _built

    given = customers_pipeline()
    kind, *facts = case
    if kind == "backwards":
        after, name = facts

        def add(pipeline):
            check = Task(row_count_check, name=name, params={"target": "dw_customers"})
            check >> pipeline[after]
            return dataclasses.replace(pipeline, tasks=[*pipeline, check])
    elif kind == "raises":
        def add(pipeline):
            raise _AnswerRaised(facts[0])
    else:
        def add(pipeline):
            return facts[0]
    with pytest.raises(_BuildProblem) as caught:
        _built(add, given)
    error = caught.value
    if kind == "backwards":
        assert (error.upstream, error.task) == (name, after)
        assert str(error).startswith(f"{name} >> {after} makes {after} wait")
    elif kind == "raises":
        assert isinstance(error.cause, _AnswerRaised) and error.cause.args == tuple(facts)
    else:
        assert error.value is facts[0]
