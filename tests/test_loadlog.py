"""Logging is opt-in: the engine never looks at the run log, readers never write, and loads are
logged by the scheduling recorder or by an explicit helper."""

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from builders import insert_customer, run_start_text

from course_etl import connect, full_load, incremental_load, tracing
from course_etl.monitoring.history import (
    alerts_frame,
    check_results_frame,
    loads_frame,
    metric_history,
    runs_frame,
    task_runs_frame,
)
from course_etl.monitoring.loadlog import logged, record_load
from course_etl.monitoring.recorder import SchedulerRecorder
from course_etl.monitoring.runlog import LOADS_TABLE, RunLog, RunLogError, ensure_runlog_tables
from course_etl.scheduling.lecture import customers_pipeline, prepare_lecture_warehouse
from course_etl.scheduling.pipeline import Pipeline, Task
from course_etl.scheduling.runner import (
    ClockError,
    LocalRunner,
    RealClock,
    RunRecorder,
    SimulatedClock,
)

OPTS = {"key": "id", "watermark": "updated_at"}
READERS = (runs_frame, task_runs_frame, loads_frame, check_results_frame, alerts_frame)


def tables(conn):
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]


def traced_loads(conn):
    """Three loads (full, then incremental twice), their SQL and their results.

    SQLite's own sub-statements (``-- PRAGMA …`` lines of a foreign-key scan over every table
    in the file) and schema lookups are left out: they list tables, they do not decide."""
    with tracing(conn) as trace:
        results = [full_load(conn, "src_customers", "dw_full", key="id"),
                   incremental_load(conn, "src_customers", "dw_customers", **OPTS),
                   incremental_load(conn, "src_customers", "dw_customers", **OPTS)]
    return trace.statements(), [r.as_dict() | {"seconds": 0} for r in results]


def test_loads_behave_identically_with_and_without_a_run_log(lecture_conn):
    plain = lecture_conn
    logged_warehouse = connect()
    plain.backup(logged_warehouse)
    ensure_runlog_tables(logged_warehouse)
    RunLog(logged_warehouse).finish_run(RunLog(logged_warehouse).start_run("p"))
    assert traced_loads(plain) == traced_loads(logged_warehouse)
    assert loads_frame(logged_warehouse).empty, "the engine logged nothing by itself"
    logged_warehouse.close()


def test_reading_a_fresh_warehouse_creates_nothing(tmp_path):
    path = tmp_path / "fresh.db"
    conn = connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = path.read_bytes()
    conn = connect(path)
    frames = [reader(conn) for reader in READERS]
    assert metric_history(conn, "p", "load", "seconds") == []
    assert tables(conn) == ["t"]
    conn.close()
    assert path.read_bytes() == before, "not a byte changed"
    assert all(frame.empty for frame in frames)
    assert list(frames[1].columns[-2:]) == ["pipeline", "logical_date"]
    assert "mode" in frames[2].columns and str(frames[2].rows_read.dtype) == "Int64"


def test_readers_give_the_same_columns_with_and_without_a_run_log(conn):
    empty = [list(reader(conn).columns) for reader in READERS]
    ensure_runlog_tables(conn)
    assert empty == [list(reader(conn).columns) for reader in READERS]


def test_the_scheduler_recorder_logs_a_tasks_load_result_with_its_mode(conn):
    prepare_lecture_warehouse(conn)
    runner = LocalRunner(conn, clock=SimulatedClock(), recorder=SchedulerRecorder(conn))
    report = runner.run(customers_pipeline(), date(2024, 10, 1))
    assert report.state == "success"
    log = loads_frame(conn)
    tasks = task_runs_frame(conn).set_index("task")
    assert log[["mode", "source", "target", "rows_read", "inserted"]].values.tolist() == [
        ["full", "src_customers", "dw_customers", 3, 3],
        # the first run full-loads; its incremental load then reads nothing past the interval
        ["incremental", "src_customers", "dw_customers", 0, 0]]
    assert log.task_run_id.tolist() == [tasks.task_run_id["full_load"],
                                        tasks.task_run_id["incremental_load"]]


def test_tasks_see_the_run_id_the_recorder_gave(conn):
    seen = []

    def note(conn, *, context):
        seen.append(context.run_id)

    pipeline = Pipeline("p", [Task(note)])
    LocalRunner(conn, clock=SimulatedClock()).run(pipeline, date(2024, 10, 1))
    recorder = SchedulerRecorder(conn)
    assert RunRecorder in type(recorder).__mro__, "implements the protocol explicitly"
    report = LocalRunner(conn, clock=SimulatedClock(), recorder=recorder).run(
        pipeline, date(2024, 10, 2))
    assert seen == [None, 1] and report.context.run_id == 1
    assert runs_frame(conn).logical_date.tolist() == ["2024-10-02"]


def test_logged_records_success_and_failure(lecture_conn):
    conn = lecture_conn
    load = logged(incremental_load)
    load(conn, "src_customers", "dw_customers", **OPTS)
    logged(full_load)(conn, "src_customers", "dw_full")
    insert_customer(conn, id=9, name="Zed", city="Zagreb", updated_at="yesterday")
    before = conn.execute("SELECT * FROM dw_customers").fetchall()
    with pytest.raises(Exception, match="yesterday"):
        load(conn, "src_customers", "dw_customers", **OPTS)
    assert conn.execute("SELECT * FROM dw_customers").fetchall() == before
    log = loads_frame(conn)
    assert log[["status", "mode", "target", "rows_read"]].astype(object).values.tolist() == [
        ["success", "incremental", "dw_customers", 3], ["success", "full", "dw_full", 3],
        ["failed", "incremental", "dw_customers", pd.NA]]
    assert log.error[2].startswith("WatermarkError")
    assert not conn.in_transaction


def test_a_failed_load_inside_a_task_keeps_its_load_record(lecture_conn):
    conn = lecture_conn
    run_log = RunLog(conn, clock=SimulatedClock())
    insert_customer(conn, id=9, name="Zed", city="Zagreb", updated_at="yesterday")
    run_id = run_log.start_run("p")
    with pytest.raises(Exception, match="yesterday"):
        with run_log.task(run_id, "load") as task:
            logged(incremental_load, task)(conn, "src_customers", "dw_customers", **OPTS)
    with run_log.task(run_id, "load", attempt=2) as task:
        try:
            logged(incremental_load, task)(conn, "src_customers", "dw_customers", **OPTS)
        except Exception:  # noqa: BLE001 - this task decides to carry on
            pass
    log = loads_frame(conn)
    tasks = task_runs_frame(conn)
    assert log[["status", "task_run_id"]].values.tolist() == [
        ["failed", tasks.task_run_id[0]], ["failed", tasks.task_run_id[1]]]
    assert tasks.status.tolist() == ["failed", "success"]


def test_inside_a_task_a_load_does_not_commit_without_its_record(lecture_conn, caplog):
    conn = lecture_conn
    run_log = RunLog(conn)
    ensure_runlog_tables(conn)  # the constructor writes nothing: the tables, then broken
    conn.execute(f"DROP TABLE {LOADS_TABLE}")  # a broken run log: no column fits the record
    conn.execute(f"CREATE TABLE {LOADS_TABLE} (load_id INTEGER PRIMARY KEY)")
    with pytest.raises(Exception, match="has no column named"):
        with run_log.task(None, "load") as task:
            logged(incremental_load, task)(conn, "src_customers", "dw_customers", **OPTS)
    assert "dw_customers" not in tables(conn), "data and record commit together or not at all"
    assert task_runs_frame(conn).status.tolist() == ["failed"]


def test_record_load_links_to_a_task_run_and_refuses_other_things(lecture_conn):
    result = incremental_load(lecture_conn, "src_customers", "dw_customers", **OPTS)
    assert record_load(lecture_conn, result, task_run_id=None) == 1
    with pytest.raises(RunLogError, match="LoadResult or an exception, not dict"):
        record_load(lecture_conn, {"rows_read": 3})


def test_one_clock_for_runners_and_run_logs():
    clock = SimulatedClock({"t": 30}, start=run_start_text("2024-10-02"))  # naive text: UTC
    clock.spend("t")
    clock.sleep(60)
    assert (clock.now(), clock.slept) == (datetime(2024, 10, 2, 2, 6, 30, tzinfo=UTC), [60])
    assert clock.advance(30) == datetime(2024, 10, 2, 2, 7, tzinfo=UTC)
    assert clock.advance_to(datetime(2024, 10, 2, 2, 0)) == datetime(2024, 10, 2, 2, 7,
                                                                     tzinfo=UTC)
    assert clock.advance_to(datetime(2024, 10, 3)) == datetime(2024, 10, 3, tzinfo=UTC)
    with pytest.raises(ClockError, match=r"cannot go back: advance\(-1\)"):
        clock.advance(-1)
    assert RealClock().now().tzinfo is UTC


def test_a_run_log_on_the_real_clock_stores_utc(conn):
    run_log = RunLog(conn, clock=RealClock())
    run_id = run_log.start_run("p")
    assert run_log.finish_run(run_id) == "success"
    started = datetime.fromisoformat(runs_frame(conn).started_at[0])
    assert abs((datetime.now(UTC).replace(tzinfo=None) - started).total_seconds()) < 3600
