"""Pipeline API: tasks stay plain functions, >> wires dependencies, graphlib orders, cycles fail."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.errors import CourseEtlError
from course_etl.scheduling.cron import InvalidCronError
from course_etl.scheduling.pipeline import (
    Pipeline,
    PipelineCycleError,
    PipelineError,
    RunContext,
    Task,
    run_context,
    task,
)

UTC = ZoneInfo("UTC")


def add_rows(conn, *, table, n=1):
    return f"{table}+{n}"


def tasks(*names):
    return [Task(add_rows, name=n, params={"table": n}) for n in names]


def test_a_task_is_callable_alone_with_its_params_and_overrides():
    t = Task(add_rows, name="load", params={"table": "dw", "n": 2}, retries=3)
    assert t("conn") == "dw+2"
    assert t("conn", n=5) == "dw+5"
    assert t.fn is add_rows and t.retries == 3 and not t.wants_context


def test_decorator_attaches_metadata_and_keeps_the_function():
    @task(retries=2, retry_delay=timedelta(seconds=30), target="dw")
    def check(conn, *, target, context=None):
        return (target, context.logical_date if context else None)

    assert check.name == "check" and check.retries == 2
    assert check.retry_delay == timedelta(seconds=30) and check.wants_context
    assert check("conn") == ("dw", None)

    @task
    def bare(conn):
        return "ok"

    assert bare.name == "bare" and bare.retries == 0 and bare("conn") == "ok"


def test_rshift_wires_upstream_like_airflow_and_accepts_lists():
    a, b, c, d = tasks("a", "b", "c", "d")
    assert (a >> [b, c]) == [b, c]
    [b, c] >> d
    pipe = Pipeline("p", [a, b, c, d])
    assert pipe.graph == {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    assert pipe.order == ["a", "b", "c", "d"]
    assert sorted(pipe.edges) == [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]


def test_order_is_topological_not_the_listing_order():
    a, b, c = tasks("a", "b", "c")
    c >> b >> a
    assert Pipeline("p", [a, b, c]).order == ["c", "b", "a"]


def test_upstream_tasks_are_collected_even_if_not_listed():
    a, b = tasks("a", "b")
    a >> b
    assert Pipeline("p", [b]).order == ["a", "b"]


def test_a_cycle_is_refused_and_named():
    a, b, c = tasks("a", "b", "c")
    a >> b >> c >> a
    with pytest.raises(PipelineCycleError) as error:
        Pipeline("p", [a, b, c])
    message = str(error.value)
    assert "cycle" in message and "remove one" in message
    assert set(error.value.cycle) == {"a", "b", "c"}
    assert error.value.cycle[0] == error.value.cycle[-1]


def test_same_name_twice_is_refused():
    with pytest.raises(PipelineError, match="two different tasks are named 'a'"):
        Pipeline("p", tasks("a", "a"))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"retries": -1}, "retries=-1"),
    ({"retry_delay": 5}, "retry_delay=5"),
    ({"name": "bad name"}, "task name"),
    ({"params": {"when": datetime(2024, 10, 1)}}, "not a plain literal"),
])
def test_bad_task_definitions_name_the_culprit(kwargs, match):
    with pytest.raises(CourseEtlError, match=match):
        Task(add_rows, **kwargs)


def test_bad_schedule_or_start_date_is_refused():
    with pytest.raises(InvalidCronError, match="minute"):
        Pipeline("p", tasks("a"), schedule="99 * * * *")
    with pytest.raises(PipelineError, match="should be a date"):
        Pipeline("p", tasks("a"), start_date=datetime(2024, 10, 1))


def test_unknown_task_lookup_lists_known_ones():
    with pytest.raises(PipelineError, match=r"unknown task 'x' .*known: a"):
        Pipeline("p", tasks("a"))["x"]


def test_logical_dates_follow_the_schedule_from_the_start_date():
    pipe = Pipeline("p", tasks("a"), schedule="30 6 * * *", start_date=date(2024, 10, 2))
    dates = pipe.logical_dates(date(2024, 9, 30), date(2024, 10, 4))
    assert dates == [datetime(2024, 10, d, 6, 30, tzinfo=UTC) for d in (2, 3, 4)]


def test_run_context_interval_runs_from_the_previous_tick():
    ctx = run_context("p", "30 6 * * *", "UTC", datetime(2024, 10, 3, 6, 30))
    assert ctx == RunContext("p", datetime(2024, 10, 3, 6, 30, tzinfo=UTC),
                             datetime(2024, 10, 2, 6, 30, tzinfo=UTC),
                             datetime(2024, 10, 3, 6, 30, tzinfo=UTC), 1)


def test_import_path_refuses_local_functions():
    def local(conn):
        return None

    with pytest.raises(PipelineError, match="cannot be imported"):
        Task(local).import_path  # noqa: B018
    assert Task(add_rows).import_path == ("test_pipeline", "add_rows")


def test_a_dependency_on_a_task_outside_the_pipeline_is_named_not_a_bare_error():
    from course_etl.scheduling.lecture import customers_pipeline

    lecture = customers_pipeline()
    outsider = Task(_outsider)
    outsider >> lecture["full_load"]  # declared after the pipeline was built
    with pytest.raises(PipelineError, match="depends on '_outsider', which is not one of"):
        list(lecture)


def _outsider(conn=None):
    return None


# Generated definitions: each refusal carries the culprit it names, equal to what was given.
NAMES = st.from_regex(r"t_[a-z0-9_]{0,8}", fullmatch=True)
NOT_LITERALS = st.one_of(st.datetimes(), st.dates(), st.timedeltas(), st.just(float("nan")),
                         st.builds(object), st.lists(st.datetimes(), min_size=1, max_size=2))


@settings(max_examples=60, deadline=None)
@given(NAMES, st.one_of(
    st.tuples(st.just("retries"), st.one_of(st.integers(max_value=-1), st.floats(),
                                             st.text(max_size=3), st.none())),
    st.tuples(st.just("retry_delay"), st.one_of(
        st.timedeltas(max_value=timedelta(microseconds=-1)), st.integers(), st.text(max_size=3)))))
def test_a_bad_retry_setting_is_carried_with_its_task(name, case):
    argument, value = case
    with pytest.raises(PipelineError) as caught:
        Task(add_rows, name=name, **{argument: value})
    error = caught.value
    assert (error.task, error.argument) == (name, argument)
    assert error.value is value


@settings(max_examples=60, deadline=None)
@given(NAMES, st.dictionaries(NAMES, st.integers(), max_size=3), NAMES, NOT_LITERALS)
def test_a_parameter_that_is_not_a_literal_is_carried_with_its_key(name, plain, key, value):
    params = {**plain, key: value}
    with pytest.raises(PipelineError) as caught:
        Task(add_rows, name=name, params=params)
    assert (caught.value.task, caught.value.key) == (name, key)
    assert caught.value.value is value


@settings(max_examples=60, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=6, unique=True), NAMES, NAMES)
def test_an_unknown_task_is_carried_with_the_names_there_are(names, asked, pipeline_name):
    pipeline = Pipeline(pipeline_name, tasks(*names))
    if asked in names:
        assert pipeline[asked].name == asked
        return
    with pytest.raises(PipelineError) as caught:
        pipeline[asked]  # noqa: B018
    error = caught.value
    assert (error.value, error.task, error.pipeline) == (asked, asked, pipeline_name)
    assert error.known == names


@settings(max_examples=60, deadline=None)
@given(st.lists(NAMES, min_size=2, max_size=7, unique=True), st.data())
def test_a_cycle_is_carried_as_a_path_of_real_dependencies(names, data):
    made = tasks(*names)
    for upstream, downstream in zip(made, made[1:], strict=False):  # a chain…
        upstream >> downstream
    back = data.draw(st.integers(0, len(made) - 2))
    made[-1] >> made[back]  # …closed into a loop from the last task back to one before it
    edges = {(u.name, t.name) for t in made for u in t.upstream}
    with pytest.raises(PipelineCycleError) as caught:
        Pipeline("p", made)
    cycle = caught.value.cycle
    assert caught.value.value == cycle and caught.value.pipeline == "p"
    assert cycle[0] == cycle[-1] and set(cycle) == set(names[back:])
    pairs = set(zip(cycle, cycle[1:], strict=False))
    assert pairs <= edges or {(b, a) for a, b in pairs} <= edges


@settings(max_examples=30, deadline=None)
@given(NAMES, st.one_of(st.integers(), st.text(max_size=3), st.none(), st.builds(object)))
def test_what_is_not_a_task_is_carried_where_a_task_was_needed(name, thing):
    (made,) = tasks(name)
    with pytest.raises(PipelineError) as follows:
        made >> thing
    assert (follows.value.value, follows.value.task) == (thing, name)
    with pytest.raises(PipelineError) as listed:
        Pipeline("p", [made, thing])
    assert listed.value.value is thing


@settings(max_examples=30, deadline=None)
@given(NAMES)
def test_two_tasks_with_one_name_carry_it(name):
    with pytest.raises(PipelineError) as caught:
        Pipeline("p", tasks(name, name))
    assert caught.value.task == caught.value.value == name


@settings(max_examples=30, deadline=None)
@given(st.datetimes(), NAMES)
def test_a_start_date_with_a_time_is_carried(moment, name):
    with pytest.raises(PipelineError) as caught:
        Pipeline(name, tasks("a"), start_date=moment)
    error = caught.value
    assert (error.value, error.argument, error.pipeline) == (moment, "start_date", name)


@settings(max_examples=30, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(1, 400))
def test_a_backwards_range_of_logical_dates_carries_both_ends(end, days):
    start = end + timedelta(days=days)
    with pytest.raises(PipelineError) as caught:
        Pipeline("p", tasks("a")).logical_dates(start, end)
    error = caught.value
    assert (error.start, error.end, error.value, error.pipeline) == (start, end, (start, end), "p")


@settings(max_examples=30, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_a_day_without_a_scheduled_run_is_carried(day):
    weekdays = Pipeline("p", tasks("a"), schedule="0 6 * * 1-5")
    if day.weekday() < 5:
        assert weekdays.run_on(day).date() == day
        return
    with pytest.raises(PipelineError) as caught:
        weekdays.run_on(day)
    assert (caught.value.value, caught.value.pipeline) == (day, "p")


def test_an_unimportable_function_is_carried_with_its_module_and_name():
    def local(conn):
        return None

    with pytest.raises(PipelineError) as caught:
        Task(local, name="t_local").import_path  # noqa: B018
    error = caught.value
    assert (error.value, error.task) == (local, "t_local")
    assert (error.module, error.qualname) == (local.__module__, local.__qualname__)


def test_a_dependency_outside_the_pipeline_is_carried_with_both_tasks():
    from course_etl.scheduling.lecture import customers_pipeline

    lecture = customers_pipeline()
    for name in lecture.order:
        outsider = Task(_outsider)
        outsider >> lecture[name]
        with pytest.raises(PipelineError) as caught:
            list(lecture)
        error = caught.value
        assert (error.upstream, error.task, error.pipeline) == ("_outsider", name, lecture.name)
        lecture[name].upstream.remove(outsider)
