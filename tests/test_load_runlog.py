"""One run log, written by every way a load starts; output for people and for machines.

The command line's ``load`` (what a crontab line runs) records a run for a success and for a
failure (with the error); ``pipeline run`` from the crontab entry says ``cron``; ``monitor runs``
lists them all with who started them. A run log written by the previous version (runs "blocked"
or "warning", no ``started_by``) is migrated by the first writer, or refused when it is not a run
log at all.
"""

import json
import sqlite3
import subprocess
import sys
from datetime import date

import pytest
from builders import run_start_text

from course_etl import connect
from course_etl.clock import shown
from course_etl.loads import incremental_load
from course_etl.monitoring.history import loads_frame, runs_frame, task_runs_frame
from course_etl.monitoring.loadlog import recorded_load
from course_etl.monitoring.tables import RunLogError, ensure_runlog_tables
from course_etl.sample_data import apply_lecture_changes, create_lecture_source
from course_etl.scheduling.export import cli_command
from course_etl.scheduling.lecture import customers_pipeline, prepare_lecture_warehouse
from course_etl.scheduling.runner import SimulatedClock


def course_etl(*argv: str) -> subprocess.CompletedProcess:
    """``python -m course_etl …`` as a user (or cron) runs it."""
    return subprocess.run([sys.executable, "-m", "course_etl", *argv], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "dw.db"
    conn = connect(path)
    create_lecture_source(conn, "src_customers")
    conn.close()
    return path


def test_a_successful_and_a_failed_cli_load_are_both_in_monitor_runs(warehouse):
    done = course_etl("load", "full", "--db", str(warehouse))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("full load src_customers → dw_customers: read 3, inserted 3, "
                                  "updated 0, deleted 0; watermark none → ")
    assert "LoadResult(" not in done.stdout
    bad_input = course_etl("load", "incremental", "--db", str(warehouse), "--watermark", "nope")
    assert bad_input.returncode == 2 and "nope" in bad_input.stderr  # refused: not a run
    conn = connect(warehouse)
    conn.execute("DELETE FROM src_customers WHERE id > 1")  # tonight's export is truncated
    conn.close()
    failed = course_etl("load", "incremental", "--db", str(warehouse), "--reconcile-deletes")
    assert failed.returncode == 1 and "--force-deletes" in failed.stderr  # a run that failed
    listed = course_etl("monitor", "runs", "--db", str(warehouse))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["run_id", "pipeline", "logical_date", "started_by", "started",
                                "status", "seconds", "error"]
    rows = [line.split() for line in lines[1:]]  # "started" is three words: date, time, zone
    assert [(r[1], r[2], r[3], r[6], r[7]) for r in rows] == [
        ("full_load", "-", "cli", "UTC", "success"),
        ("incremental_load", "-", "cli", "UTC", "failed")]
    assert "ReconcileGuardError" in lines[2]
    in_kolkata = course_etl("monitor", "runs", "--db", str(warehouse), "--tz", "Asia/Kolkata")
    started = [line.split()[4:7] for line in in_kolkata.stdout.splitlines()[1:]]
    utc = runs_frame(connect(warehouse)).started_at.tolist()
    assert [" ".join(s) for s in started] == [
        shown(u, "Asia/Kolkata") for u in utc]  # the stored UTC, shown at +05:30
    assert all(s[2] == "IST" for s in started)
    conn = connect(warehouse)
    runs = runs_frame(conn)
    assert runs[["pipeline", "started_by", "status"]].values.tolist() == [
        ["full_load", "cli", "success"], ["incremental_load", "cli", "failed"]]
    assert "--force-deletes" in runs.error[1]
    assert loads_frame(conn)[["mode", "status"]].values.tolist() == [
        ["full", "success"], ["incremental", "failed"]]
    assert conn.execute("SELECT COUNT(*) FROM dw_customers").fetchone()[0] == 3  # untouched


def test_json_for_scripts_and_cron_says_who_started_it(warehouse):
    course_etl("load", "full", "--db", str(warehouse))
    conn = connect(warehouse)
    apply_lecture_changes(conn, 1)
    conn.close()
    done = course_etl("load", "incremental", "--db", str(warehouse), "--json",
                      "--started-by", "cron")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["mode"], result["inserted"], result["updated"]) == ("incremental", 1, 1)
    assert result["rows_written"] == 2
    assert runs_frame(connect(warehouse)).started_by.tolist() == ["cli", "cron"]


def test_the_crontab_entrys_command_records_a_cron_run(tmp_path):
    db = tmp_path / "dw.db"
    conn = connect(db)
    prepare_lecture_warehouse(conn)
    conn.close()
    argv = cli_command(customers_pipeline(), warehouse=db) + ["--date", "2024-10-02"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    runs = runs_frame(connect(db))
    assert runs[["pipeline", "started_by", "status"]].values.tolist() == [
        ["customers_etl", "cron", "success"]]


def test_a_failed_recorded_load_rolls_its_work_back_and_keeps_its_record():
    conn = connect()
    create_lecture_source(conn, "src_customers")
    clock = SimulatedClock(start=run_start_text("2024-10-06"))
    result = recorded_load(conn, lambda: incremental_load(conn, "src_customers", "dw",
                                                          key="id", watermark="updated_at"),
                           mode="incremental", source="src_customers", target="dw",
                           started_by="notebook", clock=clock)
    assert str(result).startswith("incremental load src_customers → dw: read 3, inserted 3")
    conn.execute("UPDATE src_customers SET updated_at = 'not a date' WHERE id = 1")

    def breaks():
        incremental_load(conn, "src_customers", "dw", key="id", watermark="updated_at")
        raise AssertionError("unreachable: the load refuses the bad value")

    with pytest.raises(Exception, match="not a date"):  # noqa: PT011 - the load's own error
        recorded_load(conn, breaks, mode="incremental", source="src_customers", target="dw",
                      started_by="notebook", clock=clock)
    assert conn.execute("SELECT COUNT(*) FROM dw").fetchone()[0] == 3
    runs = runs_frame(conn)
    assert runs[["started_by", "status"]].values.tolist() == [["notebook", "success"],
                                                              ["notebook", "failed"]]
    assert "not a date" in runs.error[1]
    assert task_runs_frame(conn).status.tolist() == ["success", "failed"]
    assert runs.started_at.tolist() == [run_start_text("2024-10-06")] * 2
    with pytest.raises(RunLogError, match="started_by 'someone'"):
        recorded_load(conn, lambda: None, mode="full", source="s", target="t",
                      started_by="someone")


# --- run logs written by the previous version ---------------------------------------------

PREVIOUS_SCHEMA = """
CREATE TABLE "etl_pipeline_runs" (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, logical_date TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'success', 'warning', 'blocked', 'failed')),
    started_at TEXT NOT NULL, finished_at TEXT, seconds REAL, error TEXT, notes TEXT);
CREATE TABLE "etl_task_runs" (
    task_run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER REFERENCES "etl_pipeline_runs"(run_id), task TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    status TEXT NOT NULL
        CHECK (status IN ('running', 'success', 'failed', 'skipped', 'upstream_failed')),
    started_at TEXT NOT NULL, finished_at TEXT, seconds REAL, rows_in INTEGER, rows_out INTEGER,
    error TEXT);
CREATE INDEX "etl_task_runs_run" ON "etl_task_runs" (run_id);
CREATE TABLE "etl_load_log" (
    load_id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_run_id INTEGER REFERENCES "etl_task_runs"(task_run_id),
    status TEXT NOT NULL CHECK (status IN ('success', 'failed')), mode TEXT, source TEXT,
    target TEXT, rows_read INTEGER, inserted INTEGER, updated INTEGER, deleted INTEGER,
    unchanged INTEGER, watermark_before TEXT, watermark_after TEXT, batches INTEGER,
    seconds REAL, error TEXT);
INSERT INTO etl_pipeline_runs VALUES
    (1, 'capstone', '2024-10-01', 'success', '2024-10-01 02:00:00', NULL, 60, NULL, NULL),
    (2, 'capstone', '2024-10-02', 'blocked', '2024-10-02 02:00:00', NULL, 60, NULL, NULL),
    (3, 'capstone', '2024-10-03', 'warning', '2024-10-03 02:00:00', NULL, 60, NULL, 'late');
INSERT INTO etl_task_runs (run_id, task, attempt, status, started_at) VALUES
    (1, 'load', 1, 'success', '2024-10-01 02:00:00'),
    (2, 'load', 1, 'failed', '2024-10-02 02:00:00'),
    (2, 'load', 2, 'success', '2024-10-02 02:01:00'),
    (2, 'publish', 1, 'skipped', '2024-10-02 02:06:00');
INSERT INTO etl_load_log (task_run_id, status, mode) VALUES (1, 'success', 'full');
"""


def previous_warehouse(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(PREVIOUS_SCHEMA)
    conn.close()


def test_a_previous_run_log_is_read_as_it_is_and_migrated_by_the_next_load(tmp_path):
    db = tmp_path / "old.db"
    previous_warehouse(db)
    create_lecture_source(connect(db), "src_customers")
    before = course_etl("monitor", "runs", "--db", str(db))  # reading never writes
    assert before.returncode == 0 and "started_by" not in before.stdout
    assert "blocked" in before.stdout
    assert course_etl("load", "full", "--db", str(db)).returncode == 0
    conn = connect(db)
    runs = runs_frame(conn)
    assert runs[["status", "started_by"]].values.tolist() == [
        ["success", "pipeline"], ["failed", "pipeline"], ["success", "pipeline"],
        ["success", "cli"]]
    assert 'recorded as "blocked"' in runs.error[1]
    assert runs.notes[2].startswith('late\na check warned (recorded as "warning"')
    assert task_runs_frame(conn).status.tolist() == ["success", "up_for_retry", "success",
                                                     "skipped", "success"]
    assert loads_frame(conn)["mode"].tolist() == ["full", "full"]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert not [n for (n,) in conn.execute("SELECT name FROM sqlite_master")
                if n.startswith("_legacy_")]
    after = course_etl("monitor", "runs", "--db", str(db))
    statuses = [line.split()[7] for line in after.stdout.splitlines()[1:]]
    assert statuses == ["success", "failed", "success", "success"]


def test_a_table_that_is_not_a_run_log_is_refused_and_left_alone():
    conn = connect()
    conn.execute("CREATE TABLE etl_pipeline_runs (id INTEGER, what TEXT)")
    conn.execute("INSERT INTO etl_pipeline_runs VALUES (1, 'mine')")
    with pytest.raises(RunLogError, match="'etl_pipeline_runs' is not a course_etl run log "
                                          r"\(no column pipeline, run_id, started_at, status\)"
                       ) as refused:
        ensure_runlog_tables(conn)
    assert (refused.value.table, refused.value.missing) == (
        "etl_pipeline_runs", ["pipeline", "run_id", "started_at", "status"])
    assert conn.execute("SELECT * FROM etl_pipeline_runs").fetchall() == [(1, "mine")]
    assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master")] == [
        "etl_pipeline_runs"]


def test_a_migrated_log_takes_new_runs_from_the_runner():
    from course_etl.monitoring.recorder import SchedulerRecorder
    from course_etl.scheduling import LocalRunner

    conn = connect()
    conn.executescript(PREVIOUS_SCHEMA)
    prepare_lecture_warehouse(conn)
    report = LocalRunner(conn, clock=SimulatedClock(), recorder=SchedulerRecorder(conn)).run(
        customers_pipeline(), date(2024, 10, 2))
    assert report.state == "success"
    assert runs_frame(conn).status.tolist() == ["success", "failed", "success", "success"]


def test_the_notebook_panels_load_is_a_notebook_run_and_bad_input_is_not_a_run(conn):
    from course_etl.classroom.widgets.config import config_explorer
    from course_etl.sample_data import create_customer_source

    create_customer_source(conn, "src_customers", 40, seed=5, progress=False)
    panel = config_explorer(conn)
    panel.controls["load.source_table"].value = "src_custmers"
    panel.run_button.click()  # a typo: refused in the panel, no run recorded
    assert "unknown source table" in panel.result_view.value
    assert runs_frame(conn).empty
    panel.controls["load.source_table"].value = "src_customers"
    panel.run_button.click()
    runs = runs_frame(conn)
    assert runs[["pipeline", "started_by", "status"]].values.tolist() == [
        ["incremental_load", "notebook", "success"]]
    assert loads_frame(conn).rows_read.tolist() == [40]


def test_notebook_01_panel_loads_are_runs_of_the_run_log_started_by_the_notebook():
    import sqlite3

    from course_etl.classroom.widgets.loads import source_control_panel

    conn = sqlite3.connect(":memory:")
    panel = source_control_panel(conn)
    for strategy in ("full", "incremental", "recipe"):
        panel.controls[strategy].click()
    runs = runs_frame(conn)
    # The lecture's recipe runs as written (it commits by itself): not a run of the log.
    assert runs[["pipeline", "started_by", "status"]].values.tolist() == [
        ["full_load", "notebook", "success"], ["incremental_load", "notebook", "success"]]
