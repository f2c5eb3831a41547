"""The run log: runs, task runs and loads are recorded, and a failure never loses its record."""

from datetime import datetime, timedelta

import pytest
from builders import insert_customer, run_start, run_start_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl import incremental_load
from course_etl.loads.errors import KeyIntegrityError
from course_etl.monitoring.checks import CheckResult
from course_etl.monitoring.history import (
    alerts_frame,
    check_results_frame,
    loads_frame,
    metric_history,
    runs_frame,
    task_runs_frame,
)
from course_etl.monitoring.loadlog import logged, record_load
from course_etl.monitoring.runlog import (
    RunLog,
    RunLogError,
    record_check_results,
)
from course_etl.scheduling.runner import SimulatedClock

OPTS = {"key": "id", "watermark": "updated_at"}


@pytest.fixture
def clock():
    return SimulatedClock(start=run_start_text("2024-10-01"))


@pytest.fixture
def recorder(lecture_conn, clock):
    return RunLog(lecture_conn, clock=clock)


def task_rows(conn):
    frame = task_runs_frame(conn)
    return frame[["task", "attempt", "status", "seconds", "rows_in", "rows_out", "error"]] \
        .astype(object).where(frame.notna(), None).values.tolist()


def test_successful_run_records_runs_tasks_and_durations(recorder, clock):
    conn = recorder.conn
    with recorder.run("customers_daily", "2024-10-01") as run_id:
        with recorder.task(run_id, "extract") as task:
            clock.advance(30)
            task.set_rows(rows_in=3, rows_out=3)
        with recorder.task(run_id, "load") as task:
            clock.advance(12)
            result = logged(incremental_load, task)(conn, "src_customers", "dw_customers",
                                                    **OPTS)
            task.use_load(result)
    assert task_rows(conn) == [
        ["extract", 1, "success", 30.0, 3, 3, None],
        ["load", 1, "success", 12.0, 3, 3, None],
    ]
    runs = runs_frame(conn)
    assert runs[["pipeline", "logical_date", "status", "seconds"]].values.tolist() == [
        ["customers_daily", "2024-10-01", "success", 42.0]]
    assert (runs.started_at[0], runs.finished_at[0]) == (
        run_start_text("2024-10-01"), run_start_text("2024-10-01", seconds=42))
    loads = loads_frame(conn)
    assert loads[["status", "mode", "target", "rows_read", "inserted"]].values.tolist() == [
        ["success", "incremental", "dw_customers", 3, 3]]
    assert loads.task_run_id[0] == task_runs_frame(conn).task_run_id[1], "linked to its task"


def test_failing_task_keeps_its_record_and_rolls_its_work_back(recorder, clock):
    conn = recorder.conn
    run_id = recorder.start_run("customers_daily", "2024-10-01")
    with pytest.raises(KeyIntegrityError):
        with recorder.task(run_id, "load", attempt=2) as task:
            conn.execute("CREATE TABLE side_effect (x)")
            task.set_rows(rows_in=3)
            clock.advance(5)
            raise KeyIntegrityError("key {'id': 1} appears 2 times")
    assert task.status == "failed" and task.seconds == 5.0
    assert task_rows(conn) == [["load", 2, "failed", 5.0, 3, None,
                                "KeyIntegrityError: key {'id': 1} appears 2 times"]]
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'side_effect'"
                        ).fetchone() is None, "the task's own writes rolled back"
    assert recorder.finish_run(run_id) == "failed"
    assert not conn.in_transaction


def test_retry_that_succeeds_makes_the_run_succeed(recorder):
    run_id = recorder.start_run("p")
    with pytest.raises(OSError):
        with recorder.task(run_id, "load", attempt=1):
            raise OSError("network blip")
    with recorder.task(run_id, "load", attempt=2):
        pass
    assert recorder.finish_run(run_id) == "success"


def test_run_context_records_an_exception_outside_tasks(recorder):
    with pytest.raises(RuntimeError), recorder.run("p", "2024-10-02"):
        raise RuntimeError("config missing")
    assert runs_frame(recorder.conn)[["status", "error"]].values.tolist() == [
        ["failed", "RuntimeError: config missing"]]


def test_task_inside_an_open_transaction_is_refused(recorder):
    conn = recorder.conn
    conn.execute("BEGIN")
    with pytest.raises(RunLogError, match="inside an open transaction"):
        with recorder.task(None, "load"):
            pass
    conn.execute("ROLLBACK")


def test_decorator_records_a_load_result(recorder):
    conn = recorder.conn

    @recorder.recorded("load")
    def load():
        return incremental_load(conn, "src_customers", "dw_customers", **OPTS)

    run_id = recorder.start_run("p")
    result = load(run_id)
    assert result.inserted == 3
    assert task_rows(conn) == [["load", 1, "success", 0.0, 3, 3, None]]


def test_record_load_error_after_rollback(lecture_conn):
    conn = lecture_conn
    insert_customer(conn, id=9, name="Zed", city="Zagreb", updated_at="yesterday")
    with pytest.raises(Exception) as caught:
        incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    record_load(conn, caught.value, mode="incremental", source="src_customers",
                target="dw_customers")
    loads = loads_frame(conn)
    assert loads[["status", "mode", "source", "rows_read"]].astype(object).values.tolist()[0][:3] \
        == ["failed", "incremental", "src_customers"]
    assert "WatermarkError" in loads.error[0] and "yesterday" in loads.error[0]


def test_record_load_rejects_other_things(conn):
    with pytest.raises(RunLogError, match="LoadResult or an exception, not dict"):
        record_load(conn, {"rows_read": 3})


def test_metric_history_reads_successful_earlier_runs(conn, clock):
    recorder = RunLog(conn, clock=clock)
    for day, rows in enumerate([10, 12, 11, 99], start=1):
        run_id = recorder.start_run("p", f"2024-10-0{day}")
        task_id = recorder.start_task(run_id, "load")
        clock.advance(day)
        recorder.finish_task(task_id, "failed" if rows == 99 else "success", rows_out=rows)
        recorder.finish_run(run_id)
    assert metric_history(conn, "p", "load", "rows_out") == [10, 12, 11]
    assert metric_history(conn, "p", "load", "seconds", before_run_id=3) == [1.0, 2.0]
    with pytest.raises(RunLogError, match="unknown metric 'rows'"):
        metric_history(conn, "p", "load", "rows")


def test_check_results_and_notes_are_stored(recorder):
    conn = recorder.conn
    run_id = recorder.start_run("p", "2024-10-01")
    record_check_results(conn, run_id, [
        CheckResult("not_null(name)", "fail", 2, 0, "2 row(s) with NULL name", "dw", True)])
    recorder.note(run_id, "alert channel 'email' failed")
    recorder.note(run_id, "second line")
    frame = check_results_frame(conn)
    assert frame[["table_name", "check_name", "status", "blocking", "observed", "logical_date"]
                 ].values.tolist() == [["dw", "not_null(name)", "fail", 1, "2", "2024-10-01"]]
    assert runs_frame(conn).notes[0] == "alert channel 'email' failed\nsecond line"
    assert alerts_frame(conn).empty


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.start_run(""), "pipeline name"),
        (lambda r: r.start_task(None, "t", attempt=0), "attempt of task 't'"),
        (lambda r: r.finish_task(999, "success"), "unknown task run id 999"),
        (lambda r: r.finish_task(1, "done"), "unknown task status 'done'"),
        (lambda r: r.finish_run(999, "success"), "unknown run id 999"),
        (lambda r: r.finish_run(1, "ok"), "unknown run status 'ok'"),
        (lambda r: r.record_task_run(None, "t", attempt=1, status="success",
                                     started_at=datetime(2024, 10, 2),
                                     finished_at=datetime(2024, 10, 1)),
         "task 't' finished before it started"),
        (lambda r: r.record_task_run(None, "t", attempt=1, status="retry",
                                     started_at=datetime(2024, 10, 2),
                                     finished_at=datetime(2024, 10, 2)),
         "unknown task status 'retry'"),
    ],
)
def test_bad_input_is_named(recorder, call, message):
    with pytest.raises(RunLogError, match=message):
        call(recorder)


def test_bad_row_counts_are_named(recorder):
    with pytest.raises(RunLogError, match="rows_out of task 'load' must be an int"):
        with recorder.task(None, "load") as task:
            task.set_rows(rows_out=-1)
    assert task_runs_frame(recorder.conn).status.tolist() == ["failed"]


def test_file_database_keeps_the_failure_after_reconnect(tmp_path, clock):
    from course_etl import connect

    path = tmp_path / "wh.db"
    conn = connect(path)
    recorder = RunLog(conn, clock=clock)
    with pytest.raises(ZeroDivisionError):
        with recorder.task(None, "transform"):
            conn.execute("CREATE TABLE half_done (x)")
            _ = 1 / 0
    conn.close()
    again = connect(path)
    assert task_runs_frame(again)[["task", "status", "error"]].values.tolist() == [
        ["transform", "failed", "ZeroDivisionError: division by zero"]]
    again.close()


# --- the scheduling runner's recorder ----------------------------------------------------------

def test_scheduler_recorder_logs_every_try_of_a_real_local_run(conn):
    examples = pytest.importorskip("course_etl.scheduling.lecture")
    runner_module = pytest.importorskip("course_etl.scheduling.runner")
    from datetime import date

    from course_etl.monitoring.recorder import SchedulerRecorder

    examples.prepare_lecture_warehouse(conn)
    pipeline = examples.customers_pipeline(with_check=True, retries=1)
    # The run log's times are the runner's clock: here it stands at the day's tick.
    clock = runner_module.SimulatedClock(examples.DEMO_DURATIONS,
                                         start=run_start_text("2024-10-02"))
    runner = runner_module.LocalRunner(
        conn, clock=clock, faults=runner_module.FaultInjection({"incremental_load": 2}),
        recorder=SchedulerRecorder(conn))
    report = runner.run(pipeline, date(2024, 10, 2))
    assert report.state == "failed"
    tasks = task_runs_frame(conn)
    assert tasks[["task", "attempt", "status", "error"]].fillna("").values.tolist() == [
        ["full_load", 1, "success", ""],
        ["incremental_load", 1, "up_for_retry", "InjectedFailure: injected failure 1/2"],
        ["incremental_load", 2, "failed", "InjectedFailure: injected failure 2/2"],
        ["row_count_check", 1, "upstream_failed", "upstream incremental_load failed"]]
    assert tasks.started_at[0] == run_start_text("2024-10-02")
    assert tasks.seconds[0] == 40.0 and tasks.rows_out[0] == 3
    runs = runs_frame(conn)
    assert runs[["pipeline", "logical_date", "status", "started_by"]].values.tolist() == [
        ["customers_etl", run_start_text("2024-10-02"), "failed", "pipeline"]]
    assert runs.error[0] == "incremental_load failed: InjectedFailure: injected failure 2/2"


def test_scheduler_recorder_with_duck_typed_reports(conn, clock):
    from types import SimpleNamespace as NS

    from course_etl.monitoring.recorder import SchedulerRecorder

    recorder = SchedulerRecorder(conn)
    context = NS(logical_date=run_start("2024-10-03").replace(tzinfo=None))
    recorder.start_run("p", context, clock.now())
    tries = [NS(try_number=1, started=0.0, ended=5.0, state="up_for_retry", error="Boom: x"),
             NS(try_number=2, started=65.0, ended=70.0, state="success", error="")]
    recorder.finish_task("p", context, NS(task="t", state="success", attempts=tries,
                                          result=7, error=""))
    recorder.finish_task("p", context, NS(task="u", state="skipped", attempts=[],
                                          result=None, error=""))
    assert recorder.finish_run(NS(pipeline="p", context=context, state="success",
                                  seconds=70.0, tasks={}, reason="")) == "success"
    tasks = task_runs_frame(conn)
    assert tasks[["task", "attempt", "status", "started_at", "seconds", "rows_out", "error"]
                 ].astype(object).where(tasks.notna(), None).values.tolist() == [
        ["t", 1, "up_for_retry", run_start_text("2024-10-01"), 5.0, None, "Boom: x"],
        ["t", 2, "success", run_start_text("2024-10-01", seconds=65), 5.0, 7, None],
        ["u", 1, "skipped", run_start_text("2024-10-01"), 0.0, None, None]]
    assert runs_frame(conn).seconds.tolist() == [70.0]


def test_constructors_do_not_write_the_first_write_creates_the_tables():
    import sqlite3

    from course_etl.monitoring.alerts import AlertRouter

    conn = sqlite3.connect(":memory:")
    log, _ = RunLog(conn), AlertRouter(conn, [])
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)
    log.start_run("p", "2024-10-01")
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0


# --- what a refusal carries: the argument, its value and the choices, for values nobody wrote ---

NOT_A_NAME = st.one_of(st.just(""), st.integers(), st.none(), st.lists(st.text(max_size=2)))
TEXT = st.text(max_size=8)
FIXTURES = [HealthCheck.function_scoped_fixture]


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(pipeline=NOT_A_NAME, task=NOT_A_NAME, attempt=st.integers(max_value=0),
       started_by=TEXT, status=TEXT, metric=TEXT, rows=st.integers(max_value=-1),
       run_id=st.integers(10**6, 10**9),
       early=st.timedeltas(timedelta(seconds=1), timedelta(days=3650)))
def test_a_bad_argument_carries_its_name_its_value_and_the_choices(
        recorder, pipeline, task, attempt, started_by, status, metric, rows, run_id, early):
    from course_etl.monitoring.runlog import STARTED_BY, TASK_STATUSES

    def refused(call):
        with pytest.raises(RunLogError) as error:
            call()
        return error.value

    error = refused(lambda: recorder.start_run(pipeline))
    assert (error.option, error.value) == ("pipeline", pipeline)
    if started_by not in STARTED_BY:
        error = refused(lambda: recorder.start_run("p", started_by=started_by))
        assert (error.option, error.value, error.known) == ("started_by", started_by,
                                                            STARTED_BY)
    error = refused(lambda: recorder.start_task(None, task))
    assert (error.option, error.value) == ("task", task)
    error = refused(lambda: recorder.start_task(None, "load", attempt=attempt))
    assert (error.option, error.value, error.task) == ("attempt", attempt, "load")
    for option, value in (("task_run_id", run_id), ("run_id", run_id)):
        call = (lambda: recorder.finish_task(run_id, "success")) if option == "task_run_id" \
            else (lambda: recorder.finish_run(run_id, "success"))
        error = refused(call)
        assert (error.option, error.value) == (option, value)
    if status not in ("success", "failed"):
        error = refused(lambda: recorder.finish_run(1, status))
        assert (error.option, error.value, error.known) == ("status", status,
                                                            ["success", "failed"])
    ended = [s for s in TASK_STATUSES if s not in ("queued", "running")]
    if status not in ended:
        error = refused(lambda: recorder.finish_task(1, status))
        assert (error.option, error.value, error.known) == ("status", status, ended)
    start = datetime(2024, 10, 2)
    error = refused(lambda: recorder.record_task_run(
        None, "t", attempt=1, status="success", started_at=start, finished_at=start - early))
    assert (error.option, error.value, error.started_at, error.task) == (
        "finished_at", start - early, start, "t")
    if metric not in ("rows_in", "rows_out", "seconds"):
        error = refused(lambda: metric_history(recorder.conn, "p", "t", metric))
        assert (error.option, error.value, error.known) == (
            "metric", metric, ["rows_in", "rows_out", "seconds"])
    with pytest.raises(RunLogError) as raised, recorder.task(None, "load") as handle:
        handle.set_rows(rows_in=rows)
    assert (raised.value.option, raised.value.value, raised.value.task) == (
        "rows_in", rows, "load")


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURES)
@given(task=st.text(min_size=1, max_size=8), run_id=st.one_of(st.none(), st.integers(1, 99)),
       given=st.one_of(st.integers(), st.text(max_size=4), st.dictionaries(TEXT, TEXT)))
def test_a_task_in_a_transaction_and_a_load_record_of_nothing_carry_what_was_given(
        recorder, task, run_id, given):
    from course_etl.db import atomic

    with pytest.raises(RunLogError) as raised, atomic(recorder.conn), \
            recorder.task(run_id, task):
        pass
    assert (raised.value.task, raised.value.run_id) == (task, run_id)
    with pytest.raises(RunLogError) as raised:
        record_load(recorder.conn, given, mode="full", source="s", target="t")
    assert (raised.value.option, raised.value.value) == ("result_or_error", given)
