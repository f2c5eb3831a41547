"""Pipeline API: tasks stay plain functions, >> wires dependencies, graphlib orders, cycles fail."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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
