"""The daily customers pipeline: a full load only without a watermark, incremental loads bounded
by the run's data interval, idempotent re-runs, recorded CLI runs, daylight-saving nights."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import add_customers, lecture, run_start_text

from course_etl.cli import main
from course_etl.db import connect, query
from course_etl.facts import CUSTOMERS, LECTURE_ROWS, SCHEDULE, round_day
from course_etl.loads.engine import full_load, incremental_load
from course_etl.loads.errors import WatermarkError
from course_etl.loads.watermarks import Watermark, moment_in_format, read_watermark
from course_etl.sample_data import apply_lecture_changes
from course_etl.scheduling.cron import CronSchedule, next_runs, runs_between
from course_etl.scheduling.lecture import (
    SOURCE,
    TARGET,
    WAREHOUSE_TABLES,
    backfill_table,
    customers_pipeline,
    prepare_lecture_warehouse,
)
from course_etl.scheduling.pipeline import Pipeline, Task
from course_etl.scheduling.runner import (
    LocalRunner,
    SimulatedClock,
    snapshots_equal,
    warehouse_snapshot,
)

BERLIN = ZoneInfo("Europe/Berlin")
OPTS = {"key": CUSTOMERS.key, "watermark": CUSTOMERS.watermark}
WEEK = (date(2024, 10, 1), date(2024, 10, 7))


def add(conn, *rows):
    add_customers(conn, SOURCE, *rows)


@pytest.fixture
def loaded(conn):
    """The lecture's warehouse after its first full load, then both rounds of changes."""
    prepare_lecture_warehouse(conn)
    full_load(conn, SOURCE, TARGET, **OPTS)
    apply_lecture_changes(conn, 1)
    apply_lecture_changes(conn, 2)
    return conn


def runner(conn):
    return LocalRunner(conn, clock=SimulatedClock())


def test_a_week_of_backfill_on_a_loaded_warehouse_runs_no_full_load(loaded):
    reports = runner(loaded).backfill(customers_pipeline(), *WEEK)
    assert len(reports) == 7 and all(r.state == "success" for r in reports)
    assert [r.tasks["full_load"].result for r in reports] == [None] * 7
    assert {r.tasks["incremental_load"].result.mode for r in reports} == {"incremental"}
    start = max(row[CUSTOMERS.watermark] for row in LECTURE_ROWS)
    first, second = (str(round_day(n)) for n in (1, 2))
    assert list(backfill_table(reports).watermark) == [start] * 5 + [first, second]
    assert loaded.execute(f"SELECT * FROM {TARGET} ORDER BY id").fetchall() == lecture(2)


def test_re_running_any_day_of_the_week_leaves_the_warehouse_identical(loaded):
    pipeline = customers_pipeline()
    run = runner(loaded)
    run.backfill(pipeline, *WEEK)
    before = warehouse_snapshot(loaded, WAREHOUSE_TABLES)
    for day in pipeline.logical_dates(*WEEK):
        assert run.run(pipeline, day).state == "success"
        assert snapshots_equal(before, warehouse_snapshot(loaded, WAREHOUSE_TABLES)), day


def test_a_backfilled_day_loads_its_own_changes_and_nothing_stamped_later(loaded):
    add(loaded, (6, "Fay", "Fresno", "2024-10-07"), (7, "Gus", "Graz", "2024-10-09"))
    report = runner(loaded).run(customers_pipeline(), date(2024, 10, 6))
    result = report.tasks["incremental_load"].result
    # The run of 10-06 reads whole days before 10-06: the 10-05 changes, not Eva (10-06)
    # nor the rows stamped later, and its watermark stops at what it read.
    assert (result.inserted, result.updated, result.watermark_after) == (1, 1, str(round_day(1)))
    assert query(loaded, f"SELECT id FROM {TARGET} ORDER BY id").id.tolist() == [1, 2, 3, 4]
    report = runner(loaded).run(customers_pipeline(), date(2024, 10, 8))
    assert report.tasks["incremental_load"].result.watermark_after == "2024-10-07"
    assert query(loaded, f"SELECT id FROM {TARGET} ORDER BY id").id.tolist() == [1, 2, 3, 4, 5, 6]


def test_first_run_full_loads_and_full_refresh_forces_it(conn):
    prepare_lecture_warehouse(conn)
    pipeline, run = customers_pipeline(), runner(conn)
    first = run.run(pipeline, date(2024, 10, 1))
    assert first.tasks["full_load"].result.mode == "full"
    assert run.run(pipeline, date(2024, 10, 2)).tasks["full_load"].result is None
    refreshed = run.run(pipeline, date(2024, 10, 3), full_refresh=True)
    assert refreshed.tasks["full_load"].result.rows_read == len(LECTURE_ROWS)
    backfill = run.backfill(pipeline, date(2024, 10, 4), date(2024, 10, 6), full_refresh=True)
    assert [r.tasks["full_load"].result is not None for r in backfill] == [True, False, False]


def test_the_upper_bound_is_exclusive_and_must_share_the_watermark_format(conn):
    prepare_lecture_warehouse(conn)
    full_load(conn, SOURCE, TARGET, **OPTS)
    add(conn, (6, "Fay", "Fresno", "2024-10-03"), (7, "Gus", "Graz", "2024-10-04"))
    result = incremental_load(conn, SOURCE, TARGET, **OPTS, until="2024-10-04")
    assert (result.inserted, result.watermark_after) == (1, "2024-10-03")
    with pytest.raises(WatermarkError, match="write it in the same format"):
        incremental_load(conn, SOURCE, TARGET, **OPTS, until="2024-10-04 00:00:00")
    assert read_watermark(conn, TARGET, "updated_at").value == "2024-10-03"


@pytest.mark.parametrize("fmt, like, expected", [
    ("YYYY-MM-DD", "2024-10-05", "2024-10-06"),
    ("YYYY-MM-DD hh:mm", "2024-10-05 10:00:00", "2024-10-06 00:30:00"),
    ("YYYY-MM-DD hh:mm", "2024-10-05 10:00", "2024-10-06 00:30"),
    ("YYYY-MM-DDThh:mmZ", "2024-10-05T10:00:00Z", "2024-10-06T00:30:00Z"),
    ("YYYY-MM-DD hh:mm+02:00", "2024-10-05 10:00+02:00", "2024-10-06 02:30+02:00"),
    ("integer", 17, None),
])
def test_an_interval_end_is_written_in_the_watermark_format(fmt, like, expected):
    moment = datetime(2024, 10, 6, 2, 30, tzinfo=BERLIN)
    assert moment_in_format(moment, Watermark(like, fmt)) == expected


def test_pipeline_cli_runs_are_recorded_with_each_load_and_its_mode(tmp_path, capsys):
    db = tmp_path / "dw.db"
    conn = connect(db)
    prepare_lecture_warehouse(conn)
    conn.close()
    assert main(["pipeline", "run", SCHEDULE.dag_id, "--db", str(db), "--date",
                 "2024-10-01"]) == 0
    assert main(["pipeline", "backfill", SCHEDULE.dag_id, "--db", str(db), "--start",
                 "2024-10-02", "--end", "2024-10-04"]) == 0
    capsys.readouterr()
    conn = connect(db)
    runs = query(conn, "SELECT logical_date, status FROM etl_pipeline_runs ORDER BY run_id")
    assert runs.values.tolist() == [[run_start_text(f"2024-10-0{d}"), "success"]
                                    for d in (1, 2, 3, 4)]
    tasks = query(conn, "SELECT task, COUNT(*) AS n FROM etl_task_runs GROUP BY task")
    assert dict(tasks.values.tolist()) == {"full_load": 4, "incremental_load": 4}
    loads = query(conn, "SELECT mode, status FROM etl_load_log ORDER BY load_id")
    assert loads.values.tolist() == [["full", "success"]] + [["incremental", "success"]] * 4
    conn.close()


# --- daylight saving ---------------------------------------------------------------------------

def test_the_repeated_hour_fires_a_fixed_time_job_once_as_cron_does():
    runs = next_runs("30 2 * * *", 3, after=datetime(2024, 10, 26, 12), timezone="Europe/Berlin")
    assert [f"{r:%m-%d %H:%M %Z}" for r in runs] == [
        "10-27 02:30 CEST", "10-28 02:30 CET", "10-29 02:30 CET"]
    schedule = CronSchedule("0 2 * * *", "Europe/Berlin")
    assert schedule.previous_run(datetime(2024, 10, 28, 1, tzinfo=BERLIN)) == datetime(
        2024, 10, 27, 2, tzinfo=BERLIN)
    # A job with '*' in the hour field follows the real clock: 02:00 happens twice.
    hourly = runs_between("0 * * * *", datetime(2024, 10, 27, 1), datetime(2024, 10, 27, 3),
                          timezone="Europe/Berlin")
    assert [f"{r:%H:%M %Z}" for r in hourly] == [
        "01:00 CEST", "02:00 CEST", "02:00 CET", "03:00 CET"]


def test_the_skipped_hour_fires_once_right_after_the_jump():
    runs = runs_between("30 2 * * *", datetime(2024, 3, 30), datetime(2024, 4, 1, 23, 59),
                        timezone="Europe/Berlin")
    assert [f"{r:%m-%d %H:%M %Z}" for r in runs] == [
        "03-30 02:30 CET", "03-31 03:00 CEST", "04-01 02:30 CEST"]


@pytest.mark.parametrize("start, end", [(date(2024, 10, 25), date(2024, 10, 29)),
                                        (date(2024, 3, 29), date(2024, 4, 2))])
def test_a_backfill_across_a_dst_night_runs_once_per_day(conn, start, end):
    pipeline = Pipeline("daily_berlin", [Task(lambda conn: None, name="noop")],
                        schedule="30 2 * * *", timezone="Europe/Berlin",
                        start_date=date(2024, 1, 1))
    reports = runner(conn).backfill(pipeline, start, end)
    assert [r.logical_date.date() for r in reports] == [
        start + timedelta(days=n) for n in range(5)]


def test_the_cli_lists_one_0230_on_the_night_clocks_go_back(capsys):
    assert main(["schedule", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--after",
                 "2024-10-26T12:00", "-n", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Sun 2024-10-27 02:30 CEST", "Mon 2024-10-28 02:30 CET"]
