"""The capstone pipeline: order, clean days, a fault day, backfill, idempotence, export, envs."""

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl.capstone import (
    PUBLISHED_RUNS,
    SERVED_TABLE,
    TASK_IDS,
    Capstone,
    CapstoneError,
    Fault,
    airflow_dag,
    build_pipeline,
    capstone_config,
    runs_table,
)
from course_etl.db import connect, query
from course_etl.medallion import compare_with_rebuild
from course_etl.medallion.gold import GOLD_TABLES
from course_etl.medallion.pipeline import snapshot as medallion_snapshot
from course_etl.monitoring.history import alerts_frame, check_results_frame, runs_frame
from course_etl.scheduling.export import airflow3_problems

DAY = date(2024, 10, 1)


def days(n, start=DAY):
    return [start + timedelta(days=i) for i in range(n)]


@pytest.fixture
def make(tmp_path):
    opened = []

    def factory(env="dev"):
        conn = connect(":memory:")
        opened.append(conn)
        return Capstone(conn, capstone_config(env), alerts_path=tmp_path / f"{env}.jsonl")

    yield factory
    for conn in opened:
        conn.close()


def alerts_written(capstone):
    path = capstone.router.channels[1].path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_pipeline_runs_the_six_tasks_in_a_chain_with_the_configured_retries():
    dev, prod = build_pipeline(capstone_config("dev")), build_pipeline(capstone_config("prod"))
    assert dev.order == list(TASK_IDS)
    assert dev.edges == list(zip(TASK_IDS, TASK_IDS[1:], strict=False))
    assert {t.retries for t in dev} == {0} and {t.retries for t in prod} == {3}
    assert prod["silver"].retry_delay == timedelta(minutes=10)
    assert (dev.schedule, prod.schedule) == ("*/15 * * * *", "0 2 * * *")
    assert prod["checks"].params["min_rows"] == 100 and dev["checks"].params["min_rows"] == 1


def test_clean_days_succeed_publish_and_match_a_rebuild(make):
    capstone = make()
    reports = capstone.run_days(DAY, 3)
    assert [r.state for r in reports] == ["success"] * 3
    assert all(t.state == "success" for r in reports for t in r.tasks.values())
    published = query(capstone.conn, f"SELECT * FROM {PUBLISHED_RUNS} ORDER BY logical_date")
    assert list(published.logical_date) == [f"{d} 00:00:00" for d in days(3)]
    assert published.served_rows.is_monotonic_increasing and published.served_rows.iloc[0] > 0
    assert compare_with_rebuild(capstone.conn).identical
    runs = runs_frame(capstone.conn)
    assert list(runs.status) == ["success"] * 3
    assert runs.notes.str.startswith("published ").all()
    assert alerts_written(capstone) == []
    assert list(runs_table(reports).columns) == ["logical_date", "run", *TASK_IDS, "reason"]
    assert set(runs.started_by) == {"notebook"}


def test_short_feed_day_is_held_back_by_the_blocking_check_and_alerted(make, capsys):
    capstone = make()
    *clean, faulty = capstone.run_days(DAY, 4, fault=Fault(date(2024, 10, 4)))
    assert faulty.state == "failed"
    assert {n: r.state for n, r in faulty.tasks.items()} == {
        "extract": "success", "bronze": "success", "silver": "success", "checks": "failed",
        "gold": "upstream_failed", "publish": "upstream_failed"}
    assert "volume_anomaly(orders_received)" in faulty.tasks["checks"].error
    served_before = clean[-1].tasks["gold"].result
    assert query(capstone.conn, f"SELECT COUNT(*) AS n FROM {SERVED_TABLE}").n[0] == served_before
    assert "2024-10-04 00:00:00" not in set(
        query(capstone.conn, f"SELECT logical_date FROM {PUBLISHED_RUNS}").logical_date)
    [alert] = alerts_written(capstone)
    assert alert["subject"] == "course_capstone: task checks failed"
    assert "5 rows vs median 200" in alert["body"]
    assert "ALERT [ERROR] course_capstone: task checks failed" in capsys.readouterr().out
    checks = check_results_frame(capstone.conn)
    failed = checks[checks.status == "fail"]
    assert list(failed.check_name) == ["volume_anomaly(orders_received)"]
    runs = runs_frame(capstone.conn)
    assert list(runs.status) == ["success"] * 3 + ["failed"]
    assert runs.error.iloc[-1] == (
        "checks failed: CheckFailedError: blocking check silver_orders.volume_anomaly"
        "(orders_received) failed: 5 rows vs median 200 (robust z = inf); data not published")
    assert list(runs_table([faulty])[["gold", "publish", "run"]].iloc[0]) == [
        "upstream_failed", "upstream_failed", "failed"]
    assert runs_table([faulty]).reason[0] == "checks failed: CheckFailedError"
    assert faulty.tasks["gold"].error == faulty.tasks["publish"].error == "upstream checks failed"
    # the next day's full feed is judged normal again and everything is published
    assert capstone.run_day(date(2024, 10, 5)).state == "success"


def test_a_task_error_fails_dev_but_prod_retries_it(make):
    fault = Fault(DAY, kind="task_error", task="silver", failures=1)
    dev, prod = make("dev"), make("prod")
    dev_run, prod_run = dev.run_day(DAY, fault=fault), prod.run_day(DAY, fault=fault)
    assert dev_run.state == "failed" and dev_run.tasks["silver"].tries == 1
    assert dev_run.tasks["checks"].state == "upstream_failed"
    assert prod_run.state == "success" and prod_run.tasks["silver"].tries == 2
    assert [a["subject"] for a in alerts_written(dev)] == ["course_capstone: task silver failed"]
    assert alerts_written(prod) == []


def test_backfilling_a_missed_day_and_rerunning_it_changes_nothing(make):
    capstone = make()
    ran = capstone.run_days(DAY, 4, skip=["2024-10-02"])
    assert [r.logical_date.date() for r in ran] == [days(4)[0], *days(4)[2:]]
    [filled] = capstone.backfill("2024-10-02")
    assert filled.state == "success" and filled.logical_date.date() == date(2024, 10, 2)
    assert compare_with_rebuild(capstone.conn).identical
    batches = capstone.conn.execute("SELECT COUNT(*) FROM bronze_batches").fetchone()[0]
    assert batches == 8  # customers and orders for each of the four days, none twice
    assert capstone.rerun_is_idempotent("2024-10-02")
    assert capstone.conn.execute("SELECT COUNT(*) FROM bronze_batches").fetchone()[0] == batches
    assert len(runs_frame(capstone.conn)) == 5  # the re-run is logged like any run


def gold_and_silver(capstone):
    """Gold, the served table and silver's business columns (bookkeeping ids left out: they
    number rows in the order they arrived, which a backfill changes by design)."""
    tables = {name: query(capstone.conn, f"SELECT * FROM {name}")
              for name in (*GOLD_TABLES, SERVED_TABLE, "silver_customers", "silver_orders")}
    return {name: frame.drop(columns=["_batch_id", "_bronze_row"], errors="ignore")
            .sort_values(list(frame.columns.drop(["_batch_id", "_bronze_row"], errors="ignore")))
            .reset_index(drop=True) for name, frame in tables.items()}


@pytest.mark.parametrize("missed, backfill_order", [
    (["2024-10-02"], ["2024-10-02"]),
    (["2024-10-01", "2024-10-03"], ["2024-10-03", "2024-10-01"]),
    (["2024-10-01", "2024-10-03"], ["2024-10-01", "2024-10-03"]),
    (["2024-10-02", "2024-10-03", "2024-10-04"], ["2024-10-04", "2024-10-02", "2024-10-03"]),
])
def test_backfilling_missed_days_in_any_order_gives_the_clean_runs_gold_exactly(
        make, missed, backfill_order):
    clean = make()
    clean.run_days(DAY, 5)
    late = make()
    late.run_days(DAY, 5, skip=missed)
    for day in backfill_order:
        [filled] = late.backfill(day)
        assert filled.state == "success"
    ours, theirs = gold_and_silver(late), gold_and_silver(clean)
    # Ties on updated_at exist in this data, so the test would catch a tie broken by arrival.
    versions = query(clean.conn, "SELECT id, updated_at, COUNT(*) AS n FROM ("
                                 "SELECT id, updated_at FROM silver_customers UNION ALL "
                                 "SELECT id, updated_at FROM silver_customers_superseded) "
                                 "GROUP BY id, updated_at HAVING n > 1")
    assert len(versions) > 0
    for name in theirs:
        assert ours[name].equals(theirs[name]), name


def test_backfill_range_is_checked(make):
    with pytest.raises(CapstoneError, match="swap them"):
        make().backfill("2024-10-03", "2024-10-01")
    with pytest.raises(CapstoneError, match="unknown"):
        Fault(DAY, kind="power_cut")
    with pytest.raises(CapstoneError, match="known: extract"):
        Fault(DAY, kind="task_error", task="load")


def test_a_day_before_the_story_fails_in_extract_with_the_reason(make):
    report = make().run_day(date(2024, 9, 30))
    assert report.tasks["extract"].state == "failed"
    assert "before the story starts" in report.tasks["extract"].error


def test_airflow_export_has_the_six_tasks_and_the_configured_schedule():
    dag = airflow_dag(capstone_config("prod"))
    for task_id in TASK_IDS:
        assert f"task_id={task_id!r}" in dag
    assert "schedule=CronDataIntervalTimetable('0 2 * * *', timezone='Europe/Berlin')," in dag
    assert "tz='Europe/Berlin'" in dag and "retries=3," in dag
    assert "    extract >> bronze\n" in dag and "    gold >> publish\n" in dag
    assert airflow3_problems(dag) == []
    assert "CronDataIntervalTimetable('*/15 * * * *'" in airflow_dag(capstone_config("dev"))


def test_prod_differs_from_dev_only_where_the_config_says(make):
    dev, prod = make("dev"), make("prod")
    fault = Fault(date(2024, 10, 4))
    dev_runs = dev.run_days(DAY, 4, fault=fault)
    prod_runs = prod.run_days(DAY, 4, fault=fault)
    # same data in, same data out: silver, gold and the served table are identical
    for table, frame in medallion_snapshot(dev.conn).items():
        assert frame.equals(medallion_snapshot(prod.conn)[table]), table
    served = f"SELECT * FROM {SERVED_TABLE} ORDER BY city, day"
    assert query(dev.conn, served).equals(query(prod.conn, served))
    # the schedule (02:00 instead of midnight), the retries and the alert channels differ
    assert [f"{r.logical_date:%H:%M}" for r in dev_runs] == ["00:00"] * 4
    assert [f"{r.logical_date:%H:%M}" for r in prod_runs] == ["02:00"] * 4
    # A failed blocking check is not retried, not even with prod's retries: waiting does not
    # change the data (course_etl.retries.RULE); the retries differ for what waiting can fix.
    assert dev_runs[-1].tasks["checks"].tries == 1 == prod_runs[-1].tasks["checks"].tries
    assert [t.retries for t in dev.pipeline] == [0] * 6
    assert [t.retries for t in prod.pipeline] == [3] * 6
    assert set(alerts_frame(dev.conn).channel) == {"console", "jsonl"}
    prod_alerts = alerts_frame(prod.conn)
    assert set(prod_alerts.channel) == {"console", "jsonl", "email"}
    assert set(prod_alerts[prod_alerts.channel == "email"].status) == {"disabled"}
    assert [r.state for r in dev_runs] == [r.state for r in prod_runs]


# --- what a refusal carries: the day, kind or task asked for, and the choices -----------------

@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.text(max_size=10).filter(lambda k: k not in ("short_feed", "task_error")),
       task=st.text(max_size=10).filter(lambda t: t not in TASK_IDS),
       start=st.dates(date(2024, 10, 1), date(2025, 12, 31)), back=st.integers(1, 400))
def test_a_bad_fault_or_backfill_carries_what_was_asked_and_the_choices(make, kind, task,
                                                                        start, back):
    with pytest.raises(CapstoneError) as refused:
        Fault(DAY, kind=kind)
    assert (refused.value.option, refused.value.value, refused.value.known) == (
        "kind", kind, ["short_feed", "task_error"])
    with pytest.raises(CapstoneError) as refused:
        Fault(DAY, kind="task_error", task=task)
    assert (refused.value.option, refused.value.value, refused.value.known) == (
        "task", task, list(TASK_IDS))
    end = start - timedelta(days=back)
    with pytest.raises(CapstoneError) as refused:
        make().backfill(start.isoformat(), end.isoformat())
    assert (refused.value.option, refused.value.value, refused.value.start) == ("end", end, start)


def test_a_task_before_the_story_or_before_extract_names_the_day_table_and_entity():
    from datetime import UTC, datetime

    from course_etl.capstone.constants import LANDING, STORY_DAY
    from course_etl.capstone.tasks import bronze, extract
    from course_etl.scheduling.pipeline import RunContext

    def context(day):
        moment = datetime(day.year, day.month, day.day, 2, 5, tzinfo=UTC)
        return RunContext("capstone", moment, moment - timedelta(days=1), moment)

    conn = connect(":memory:")
    for back in (1, 2, 30, 400):
        day = STORY_DAY - timedelta(days=back)
        with pytest.raises(CapstoneError) as refused:
            extract(conn, context=context(day))
        assert (refused.value.option, refused.value.value, refused.value.expected) == (
            "logical_date", day, f">= {STORY_DAY}")

    def bronze_is_refused_for(later):
        day = STORY_DAY + timedelta(days=later)
        with pytest.raises(CapstoneError) as refused:
            bronze(conn, context=context(day))
        assert (refused.value.table, refused.value.entity, refused.value.value) == (
            LANDING["customers"], "customers", day)

    for later in (0, 3, 17):  # no landing table yet
        bronze_is_refused_for(later)
    extract(conn, context=context(STORY_DAY))
    for later in (1, 5, 40):  # a landing table, nothing landed for that day
        bronze_is_refused_for(later)
