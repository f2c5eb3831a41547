"""Regressions for the data-loss, secret and injection reproductions, and the guards behind them."""

from __future__ import annotations

import logging
import socket
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from course_etl import connect, full_load, incremental_load, query
from course_etl.cli import main
from course_etl.clock import TickingClock
from course_etl.db import atomic
from course_etl.errors import CourseEtlError
from course_etl.loads.errors import (
    KeyIntegrityError,
    LoadOptionError,
    ReconcileGuardError,
    TargetIsSourceError,
)
from course_etl.loads.watermarks import read_watermark
from course_etl.monitoring.alerts import Alert, AlertRouter, WebhookChannel, mask_secrets
from course_etl.monitoring.history import runs_frame, task_runs_frame
from course_etl.monitoring.runlog import RunLog
from course_etl.monitoring.stale import CRASHED, close_stale_runs
from course_etl.retries import fails_fast
from course_etl.sample_data import create_customer_source, create_lecture_source
from course_etl.scheduling.export import to_crontab
from course_etl.scheduling.lecture import PIPELINES
from course_etl.scheduling.pipeline import Pipeline, PipelineError, Task
from course_etl.scheduling.runner import LocalRunner, SimulatedClock

OPTS = {"key": "id", "watermark": "updated_at"}


def count(conn, table):
    return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# --- 1. a load into its own source ---------------------------------------------------------

@pytest.mark.parametrize("target", ["src_customers", "SRC_CUSTOMERS", "main.src_customers"])
def test_a_full_load_into_its_own_source_is_refused_and_the_source_kept(lecture_conn, target):
    with pytest.raises(TargetIsSourceError, match="is the source table") as refused:
        full_load(lecture_conn, "src_customers", target, key="id")
    assert refused.value.source == "src_customers"
    assert count(lecture_conn, "src_customers") == 3


def test_a_load_never_writes_into_the_attached_source(tmp_path):
    source = connect(tmp_path / "source.db")
    create_customer_source(source, "customers", 20, progress=False)
    source.close()
    conn = connect(tmp_path / "dw.db", attach_as={"src": tmp_path / "source.db"})
    with pytest.raises(TargetIsSourceError, match="is the source table"):
        full_load(conn, "src.customers", "src.customers", key="id")
    conn.execute("CREATE TABLE src.other (id INTEGER PRIMARY KEY)")
    with pytest.raises(TargetIsSourceError, match="in the source database 'src'"):
        incremental_load(conn, "src.customers", "src.other", **OPTS)
    assert count(conn, "src.customers") == 20
    conn.close()


def test_the_same_file_attached_twice_is_still_the_source(tmp_path):
    conn = connect(tmp_path / "dw.db")
    create_lecture_source(conn)
    conn.execute("ATTACH DATABASE ? AS again", (str(tmp_path / "dw.db"),))
    with pytest.raises(TargetIsSourceError):
        full_load(conn, "again.src_customers", "src_customers", key="id")
    assert count(conn, "src_customers") == 3
    conn.close()


def test_cli_full_load_onto_its_source_exits_2_and_keeps_the_rows(tmp_path, capsys):
    conn = connect(tmp_path / "dw.db")
    create_lecture_source(conn)
    conn.close()
    assert main(["load", "full", "--db", str(tmp_path / "dw.db"), "--source", "src_customers",
                 "--target", "src_customers", "--set", "load.watermark_table=src_customers"]) == 2
    assert "is the source table" in capsys.readouterr().err
    conn = connect(tmp_path / "dw.db")
    assert count(conn, "src_customers") == 3
    conn.close()


# --- 2. lookback ----------------------------------------------------------------------------

@pytest.mark.parametrize("lookback", [timedelta(hours=-48), -5, float("nan"), float("inf"),
                                      "2h", True])
def test_a_negative_or_non_finite_lookback_is_refused_before_reading(lecture_conn, lookback):
    full_load(lecture_conn, "src_customers", "dw", **OPTS)
    before = read_watermark(lecture_conn, "dw", "updated_at")
    with pytest.raises(LoadOptionError, match="lookback") as refused:
        incremental_load(lecture_conn, "src_customers", "dw", lookback=lookback, **OPTS)
    assert refused.value.option == "lookback"
    assert read_watermark(lecture_conn, "dw", "updated_at") == before


# --- 3. monitor history must not replace the warehouse before it can succeed ---------------

def test_history_that_fails_late_leaves_the_old_warehouse(tmp_path, capsys, monkeypatch):
    db = tmp_path / "wh.db"
    assert main(["monitor", "history", "--db", str(db), "--days", "1"]) == 0
    capsys.readouterr()
    before = db.read_bytes()

    def broken(_conn):
        raise OSError(28, "No space left on device", str(tmp_path / "d.png"))

    monkeypatch.setattr("course_etl.monitoring.dashboards.dashboard_figure", broken)
    assert main(["monitor", "history", "--db", str(db), "--days", "2",
                 "--dashboard", str(tmp_path / "d.png")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "disk full" in err[0] and "d.png" in err[0]
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.db"]


# --- 15. keys and reconciled deletes --------------------------------------------------------

def test_full_and_incremental_loads_give_the_same_error_for_duplicate_keys(conn):
    conn.execute("CREATE TABLE src (id INTEGER, name TEXT, updated_at TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, ?, ?)",
                     [(1, "a", "2024-10-01"), (1, "b", "2024-10-02"), (2, "c", "2024-10-01")])
    messages = []
    for load in (full_load, incremental_load):
        with pytest.raises(KeyIntegrityError) as refused:
            load(conn, "src", f"dw_{load.__name__}", **OPTS)
        messages.append(str(refused.value))
        assert refused.value.value == {"id": 1}
    assert messages[0] == messages[1]
    assert "appears 2 times" in messages[0]


def test_full_and_incremental_loads_give_the_same_error_for_null_keys(conn):
    conn.execute("CREATE TABLE src (id TEXT, name TEXT, updated_at TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, ?, ?)",
                     [(None, "a", "2024-10-01"), ("x", "b", "2024-10-02")])
    messages = []
    for load in (full_load, incremental_load):
        with pytest.raises(KeyIntegrityError) as refused:
            load(conn, "src", f"dw_{load.__name__}", **OPTS)
        messages.append(str(refused.value))
    assert messages[0] == messages[1] and "1 row(s) of 'src' have a NULL key" in messages[0]
    assert not [t for t in ("dw_full_load", "dw_incremental_load")
                if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone()]


def test_reconciling_deletes_against_an_emptied_source_is_refused(synthetic_conn):
    full_load(synthetic_conn, "src_customers", "dw", **OPTS)
    synthetic_conn.execute("DELETE FROM src_customers WHERE id > 10")
    with pytest.raises(ReconcileGuardError, match=r"would remove 490 of 500 rows .*98%") as no:
        incremental_load(synthetic_conn, "src_customers", "dw", reconcile_deletes=True, **OPTS)
    assert (no.value.rows, no.value.total) == (490, 500)
    assert count(synthetic_conn, "dw") == 500
    result = incremental_load(synthetic_conn, "src_customers", "dw", reconcile_deletes=True,
                              max_delete_share=None, **OPTS)
    assert result.deleted == 490 and count(synthetic_conn, "dw") == 10


def test_cli_force_deletes_lets_a_large_reconcile_through(tmp_path, capsys):
    conn = connect(tmp_path / "dw.db")
    create_customer_source(conn, "src_customers", 40, progress=False)
    full_load(conn, "src_customers", "dw_customers", **OPTS)
    conn.execute("DELETE FROM src_customers WHERE id > 4")
    conn.close()
    argv = ["load", "incremental", "--db", str(tmp_path / "dw.db"), "--reconcile-deletes"]
    assert main(argv) == 1  # the run started and is recorded failed
    assert "--force-deletes" in capsys.readouterr().err
    assert main([*argv, "--force-deletes"]) == 0


# --- 4. and 7. secrets ----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failing_webhook_never_writes_its_token(conn, caplog):
    token = "T0KEN-s3cr3t-XYZ"
    url = f"http://127.0.0.1:{_free_port()}/services/T000/{token}"
    recorder = RunLog(conn)
    run_id = recorder.start_run("customers_daily")
    router = AlertRouter(conn, [WebhookChannel(url, timeout=2)])
    with caplog.at_level(logging.WARNING, logger="course_etl.monitoring.alerts"):
        [delivery] = router.send(Alert("error", "load failed", f"see {url}", run_id=run_id))
    assert delivery.status == "failed"
    stored = " ".join(str(v) for v in query(conn, "SELECT * FROM etl_alert_log").iloc[0])
    notes = str(runs_frame(conn).notes.iloc[0])
    for text in (delivery.error, stored, notes, caplog.text):
        assert token not in text and "/services" not in text
    assert f"http://127.0.0.1:{url.split(':')[2].split('/')[0]}/***" in delivery.error


def test_mask_secrets_keeps_scheme_and_host():
    assert mask_secrets("POST https://hooks.example.com/services/T/B/X failed") == (
        "POST https://hooks.example.com/*** failed")


def test_a_misspelled_secret_variable_is_never_echoed(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_ETL_ALERTS__SMTP_PASWORD", "hunter2-very-secret")
    assert main(["config", "show"]) == 2
    monkeypatch.delenv("COURSE_ETL_ALERTS__SMTP_PASWORD")
    monkeypatch.setenv("COURSE_ETL_SMTP_PASSWORD", "hunter2-very-secret")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and err.count("unknown key") == 2


# --- 5. crontab injection -------------------------------------------------------------------

@pytest.mark.parametrize("field", ["warehouse", "project_dir", "python", "log_dir"])
def test_crontab_refuses_paths_with_control_characters(field, tmp_path):
    paths = {"warehouse": tmp_path / "dw.db", "project_dir": tmp_path, "python": None,
             "log_dir": None}
    paths[field] = f"{tmp_path}/x.db\n* * * * * touch /tmp/PWNED #"
    with pytest.raises(PipelineError, match="control character"):
        to_crontab(PIPELINES["customers_etl"](), **paths)


def test_crontab_line_quotes_what_it_holds(tmp_path):
    entry = to_crontab(PIPELINES["customers_etl"](), warehouse=tmp_path / "my dw;rm -rf ~.db",
                       project_dir=tmp_path)
    assert len(entry.splitlines()) == 2
    assert f"'{tmp_path}/my dw;rm -rf ~.db'" in entry


# --- 8. atomic() and the real error ---------------------------------------------------------

def test_atomic_keeps_the_error_when_sqlite_already_rolled_back(conn):
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("CREATE TRIGGER stop BEFORE INSERT ON t WHEN NEW.x < 0 "
                 "BEGIN SELECT RAISE(ROLLBACK, 'negative x'); END")
    for nested in (False, True):
        with pytest.raises(sqlite3.IntegrityError, match="negative x"):
            with atomic(conn):
                conn.execute("INSERT INTO t VALUES (1)")
                if nested:
                    with atomic(conn):
                        conn.execute("INSERT INTO t VALUES (-1)")
                else:
                    conn.execute("INSERT INTO t VALUES (-1)")
        assert not conn.in_transaction
        assert count(conn, "t") == 0


def test_atomic_rolls_back_when_commit_fails(conn):
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE child (id INTEGER, parent_id INTEGER REFERENCES parent(id) "
                 "DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        with atomic(conn):
            conn.execute("INSERT INTO child VALUES (1, 42)")  # checked only at COMMIT
    assert not conn.in_transaction
    assert count(conn, "child") == 0
    with atomic(conn):  # the connection is usable again
        conn.execute("INSERT INTO parent VALUES (42)")
    assert count(conn, "parent") == 1


# --- 10. retries only for what a retry can fix ----------------------------------------------

def _failing(error):
    def task_fn(conn, context=None):
        raise error
    return task_fn


@pytest.mark.parametrize(("error", "tries"), [
    (sqlite3.OperationalError("no such table: src_customers"), 1),
    (sqlite3.OperationalError('near "SELEC": syntax error'), 1),
    (CourseEtlError("bad config"), 1),
    (sqlite3.OperationalError("database is locked"), 3),
    (ConnectionError("source unreachable"), 3),
])
def test_only_transient_errors_are_retried(conn, error, tries):
    pipeline = Pipeline("p", [Task(_failing(error), name="t", retries=2)], schedule="0 2 * * *")
    notices = []
    runner = LocalRunner(conn, clock=SimulatedClock(), retry_delay=7, retry_notice=notices.append)
    report = runner.run(pipeline, date(2024, 10, 2))
    assert report.tasks["t"].tries == tries
    assert len(notices) == tries - 1
    assert all("retrying in 7 s…" in n for n in notices)
    assert fails_fast(error) is (tries == 1)


# --- 14. crashed runs -----------------------------------------------------------------------

def test_a_run_left_running_is_closed_as_crashed_when_the_next_one_starts(conn):
    clock = TickingClock("2024-10-01T02:00:00Z", timedelta(minutes=1))  # 02:00, 02:01, …
    recorder = RunLog(conn, clock=clock)
    killed = recorder.start_run("capstone", "2024-10-01")
    recorder.start_task(killed, "ingest")  # 02:01, then the process was killed
    assert close_stale_runs(conn, now=datetime(2024, 10, 1, 3, tzinfo=UTC),
                            pipeline="other") == []
    recorder.start_run("capstone", "2024-10-02")  # 02:02
    runs = runs_frame(conn)
    crashed = runs.iloc[0]
    assert (crashed.status, crashed.finished_at) == ("failed", "2024-10-01 02:01:00")
    assert crashed.error.startswith(CRASHED) and "last seen 2024-10-01 02:01" in crashed.error
    assert list(runs.status) == ["failed", "running"]
    assert list(task_runs_frame(conn).status) == ["failed"]


# --- 3. and 9. read-only commands change nothing --------------------------------------------

def test_monitor_runs_reads_without_creating_tables_or_files(tmp_path, capsys):
    db = tmp_path / "wh.db"
    conn = connect(db)
    create_lecture_source(conn)
    conn.close()
    before = db.read_bytes()
    assert main(["monitor", "runs", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "no runs recorded\n"
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wh.db"]


def test_medallion_status_leaves_a_bronze_only_lake_as_it_was(tmp_path, capsys):
    db = tmp_path / "lake.db"
    assert main(["medallion", "dirty", "--db", str(db), "--days", "1"]) == 0
    before = db.read_bytes()
    assert main(["medallion", "status", "--db", str(db)]) == 0
    assert "customers: 0 bronze = 0 silver" in capsys.readouterr().out
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake.db"]


def test_no_error_of_the_library_is_a_value_error_by_inheritance():
    import importlib
    import pkgutil

    import course_etl

    for module in pkgutil.walk_packages(course_etl.__path__, "course_etl."):
        if not module.name.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    errors = {e.__name__: e for e in subclasses(CourseEtlError)}
    assert {"CheckFailedError", "SourceFailure", "LoadOptionError", "MedallionInputError",
            "DiagramError", "SampleDataError", "DatabaseFileError"} <= set(errors)
    assert [name for name, e in errors.items() if issubclass(e, ValueError)] == []
    assert CourseEtlError("x", table="t").table == "t"
