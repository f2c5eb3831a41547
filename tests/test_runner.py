"""Local runner: states, retries with backoff on a simulated clock, recorder, backfill, pictures."""

import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import run_start
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.sample_data import apply_lecture_changes
from course_etl.scheduling.lecture import (
    TARGET,
    WAREHOUSE_TABLES,
    customers_pipeline,
    prepare_lecture_warehouse,
    row_count_check,
)
from course_etl.scheduling.pictures import dag_figure, gantt_figure, to_png, week_timeline_figure
from course_etl.scheduling.pipeline import Pipeline, PipelineError, Task
from course_etl.scheduling.runner import (
    FaultInjection,
    LocalRunner,
    SimulatedClock,
    TaskSkipped,
    snapshots_equal,
    warehouse_snapshot,
)

UTC = ZoneInfo("UTC")
DURATIONS = {"full_load": 40, "incremental_load": 25, "row_count_check": 5}


@pytest.fixture
def warehouse(conn):
    prepare_lecture_warehouse(conn)
    return conn


def run(conn, pipeline, day=date(2024, 10, 1), **faults):
    runner = LocalRunner(conn, clock=SimulatedClock(DURATIONS), faults=FaultInjection(faults))
    return runner.run(pipeline, day), runner.clock


def test_the_lecture_pipeline_loads_the_warehouse(warehouse):
    report, _ = run(warehouse, customers_pipeline())
    assert report.state == "success"
    assert report.logical_date == run_start("2024-10-01")
    assert [t.state for t in report.tasks.values()] == ["success", "success"]
    assert report.tasks["full_load"].result.inserted == 3
    assert warehouse.execute(f"SELECT COUNT(*) FROM {TARGET}").fetchone()[0] == 3


def test_a_retry_that_succeeds_waits_the_retry_delay_on_the_clock_without_sleeping(warehouse):
    report, clock = run(warehouse, customers_pipeline(), incremental_load=1)
    incremental = report.tasks["incremental_load"]
    assert report.state == "success" and incremental.state == "success"
    assert [(a.try_number, a.state) for a in incremental.attempts] == [
        (1, "up_for_retry"), (2, "success")]
    assert clock.slept == [300.0]
    assert [(a.started, a.ended) for a in incremental.attempts] == [(40, 65), (365, 390)]
    assert report.seconds == 390 and incremental.seconds == 350


def test_retries_run_out_then_failed_and_downstream_upstream_failed(warehouse):
    report, _ = run(warehouse, customers_pipeline(with_check=True), incremental_load=2)
    states = {name: t.state for name, t in report.tasks.items()}
    assert states == {"full_load": "success", "incremental_load": "failed",
                      "row_count_check": "upstream_failed"}
    assert report.state == "failed"
    assert report.tasks["incremental_load"].error == "InjectedFailure: injected failure 2/2"
    injected = report.tasks["incremental_load"].exception
    assert (injected.task, injected.try_number) == ("incremental_load", 2)
    assert report.tasks["row_count_check"].attempts == []
    table = report.table()
    assert table["tries"].tolist() == [1, 2, 0]
    assert table["seconds"].tolist() == [40, 350, 0]


def test_exponential_backoff_doubles_the_wait(conn):
    def flaky(conn):
        raise RuntimeError("source not reachable")

    t = Task(flaky, retries=3, retry_delay=timedelta(seconds=10), retry_exponential_backoff=True)
    report, clock = run(conn, Pipeline("p", [t]))
    assert clock.slept == [10, 20, 40]
    assert report.tasks["flaky"].state == "failed"
    assert report.tasks["flaky"].error == "RuntimeError: source not reachable"


def test_skipped_task_skips_its_downstream(conn):
    def nothing_new(conn):
        raise TaskSkipped("no new files today")

    def publish(conn):
        raise AssertionError("must not run")

    first, second = Task(nothing_new), Task(publish)
    first >> second
    report, _ = run(conn, Pipeline("p", [first, second]))
    assert {n: t.state for n, t in report.tasks.items()} == {
        "nothing_new": "skipped", "publish": "skipped"}
    assert report.state == "success"


def test_tasks_receive_the_logical_date_and_data_interval(warehouse):
    seen = []

    def spy(conn, *, context):
        seen.append(context)

    report, _ = run(warehouse, Pipeline("p", [Task(spy, retries=1)]), day=date(2024, 10, 3),
                    spy=1)
    assert report.state == "success"
    assert [c.try_number for c in seen] == [2]  # try 1 was the injected failure
    assert seen[0].data_interval_start == datetime(2024, 10, 2, 0, 0, tzinfo=UTC)
    assert seen[0].data_interval_end == seen[0].logical_date == datetime(2024, 10, 3, tzinfo=UTC)


def test_a_day_without_a_scheduled_run_and_unknown_faults_are_refused(warehouse):
    weekdays = Pipeline("p", [Task(row_count_check, params={"target": TARGET})],
                        schedule="0 6 * * 1-5")
    with pytest.raises(PipelineError, match="no scheduled run on 2024-10-05"):
        run(warehouse, weekdays, day=date(2024, 10, 5))
    with pytest.raises(PipelineError, match=r"unknown task\(s\) typo .*known: row_count_check"):
        run(warehouse, weekdays, day=date(2024, 10, 4), typo=1)


def test_the_recorder_hears_every_run_and_task(warehouse):
    class Recorder:
        def __init__(self):
            self.events = []

        def start_run(self, pipeline, context, started_at):
            self.events.append(("start", pipeline, context.logical_date.day, started_at))

        def finish_task(self, pipeline, context, report):
            self.events.append(("task", report.task, report.state, report.tries))

        def finish_run(self, report):
            self.events.append(("end", report.state))

    recorder = Recorder()
    clock = SimulatedClock(start=run_start("2024-10-02"))
    runner = LocalRunner(warehouse, clock=clock, recorder=recorder,
                         faults=FaultInjection({"incremental_load": 2}))
    runner.run(customers_pipeline(), date(2024, 10, 2))
    assert recorder.events == [
        ("start", "customers_etl", 2, run_start("2024-10-02")),
        ("task", "full_load", "success", 1),
        ("task", "incremental_load", "failed", 2),
        ("end", "failed"),
    ]


def test_backfill_runs_each_scheduled_day_and_a_rerun_is_idempotent(warehouse):
    pipeline = customers_pipeline()
    runner = LocalRunner(warehouse, clock=SimulatedClock())
    apply_lecture_changes(warehouse, 1)
    reports = runner.backfill(pipeline, date(2024, 10, 1), date(2024, 10, 3))
    assert [r.logical_date.day for r in reports] == [1, 2, 3]
    assert all(r.state == "success" for r in reports)
    before = warehouse_snapshot(warehouse, WAREHOUSE_TABLES)
    assert len(before[TARGET]) == 4
    runner.run(pipeline, date(2024, 10, 2))
    assert snapshots_equal(before, warehouse_snapshot(warehouse, WAREHOUSE_TABLES))
    apply_lecture_changes(warehouse, 2)  # a real change is seen as one
    runner.run(pipeline, date(2024, 10, 2))
    assert not snapshots_equal(before, warehouse_snapshot(warehouse, WAREHOUSE_TABLES))


def test_backfill_outside_the_schedule_says_so(warehouse):
    with pytest.raises(PipelineError, match="widen the range"):
        LocalRunner(warehouse).backfill(customers_pipeline(), date(2024, 9, 1),
                                        date(2024, 9, 30))


def test_pictures_draw_states_and_tries(warehouse):
    pipeline = customers_pipeline(with_check=True)
    report, _ = run(warehouse, pipeline, incremental_load=2)
    dag = dag_figure(pipeline, report)
    texts = [t.get_text() for t in dag.axes[0].texts]
    assert "incremental_load\nfailed (tries: 2)" in texts
    assert "row_count_check\nupstream_failed" in texts
    gantt = gantt_figure(report)
    bars = [p for p in gantt.axes[0].patches]
    assert [(b.get_x(), b.get_width()) for b in bars] == [(0, 40), (40, 25), (365, 25)]
    assert to_png(gantt).startswith(b"\x89PNG")
    from course_etl.scheduling.cron import CronSchedule

    week = week_timeline_figure(CronSchedule("30 6 * * 1-5"), datetime(2024, 10, 1))
    assert len(week.axes[0].lines) == 5  # Tue..Fri and Mon: five weekday runs


def test_a_failed_row_count_check_keeps_its_facts(warehouse):
    from course_etl.scheduling.lecture import RowCountError

    run(warehouse, customers_pipeline())
    with pytest.raises(RowCountError, match="expected at least 1000000") as refused:
        row_count_check(warehouse, target=TARGET, minimum=1_000_000)
    rows = warehouse.execute(f"SELECT COUNT(*) FROM {TARGET}").fetchone()[0]
    assert (refused.value.table, refused.value.rows, refused.value.minimum) == (
        TARGET, rows, 1_000_000)


FAULT_NAMES = st.from_regex(r"[a-z_]{1,16}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(FAULT_NAMES, st.integers(0, 3), min_size=1, max_size=4))
def test_faults_on_tasks_the_pipeline_lacks_are_carried_with_the_tasks_there_are(faults):
    pipeline = customers_pipeline(with_check=True)
    unknown = sorted(set(faults) - set(pipeline.order))
    if not unknown:
        return
    with closing(sqlite3.connect(":memory:")) as conn, pytest.raises(PipelineError) as caught:
        LocalRunner(conn, faults=FaultInjection(faults)).run(pipeline, date(2024, 10, 1))
    error = caught.value
    assert (error.value, error.known, error.pipeline) == (unknown, pipeline.order, pipeline.name)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(FAULT_NAMES, st.one_of(st.integers(max_value=-1), st.floats(),
                                                st.text(max_size=2)), min_size=1, max_size=3))
def test_fault_counts_that_are_not_counts_are_carried(failures):
    with closing(sqlite3.connect(":memory:")) as conn, pytest.raises(PipelineError) as caught:
        LocalRunner(conn, faults=FaultInjection(failures))
    assert caught.value.value == failures


@settings(max_examples=30, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2024, 9, 30)), st.integers(0, 30))
def test_a_backfill_with_no_run_carries_its_range(start, days):
    """The lecture's pipeline starts on 2024-10-01: a range before it has no run."""
    end = min(start + timedelta(days=days), date(2024, 9, 30))
    with closing(sqlite3.connect(":memory:")) as conn, pytest.raises(PipelineError) as caught:
        LocalRunner(conn).backfill(customers_pipeline(), start, end)
    error = caught.value
    assert (error.start, error.end, error.value) == (start, end, (start, end))
    assert error.pipeline == customers_pipeline().name


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 20), st.integers(1, 30), st.one_of(st.none(), st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))))
def test_a_short_table_is_carried_with_its_count_the_minimum_and_the_run(rows, more, moment):
    from course_etl import connect
    from course_etl.scheduling.lecture import RowCountError
    from course_etl.scheduling.pipeline import run_context

    context = None if moment is None else run_context("p", "* * * * *", "UTC", moment)
    with closing(connect(":memory:")) as conn:
        conn.execute('CREATE TABLE "t" ("id" INTEGER)')
        conn.executemany('INSERT INTO "t" VALUES (?)', [(n,) for n in range(rows)])
        with pytest.raises(RowCountError) as caught:
            row_count_check(conn, target="t", minimum=rows + more, context=context)
    error = caught.value
    assert (error.table, error.rows, error.minimum) == ("t", rows, rows + more)
    assert error.logical_date == (context and context.logical_date)
    said = f" row(s) for {moment:%Y-%m-%d}, " if moment else " row(s), "
    assert said in str(error)
