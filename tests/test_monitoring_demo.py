"""The monitored demo pipeline: each injected fault is caught where it should be, and the
30-day history is deterministic."""

import pytest
from builders import run_start_text
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect
from course_etl.errors import CourseEtlError, UnknownColumnError
from course_etl.facts import TABLES
from course_etl.monitoring.alerts import AlertRouter, JsonLinesChannel
from course_etl.monitoring.history import alerts_frame, loads_frame, runs_frame, task_runs_frame
from course_etl.monitoring.lecture import (
    DEFAULT_HISTORY_FAULTS,
    FAULTS,
    TARGET,
    change_source,
    create_demo_source,
    generate_history,
    run_daily_pipeline,
)
from course_etl.monitoring.runlog import RUNS_TABLE


@pytest.fixture(scope="module")
def two_weeks():
    """A warehouse after 14 clean days: enough history for the anomaly checks."""
    conn = connect()
    generate_history(conn, days=14, faults={})
    yield conn
    conn.close()


@pytest.fixture
def warehouse(two_weeks):
    copy = connect()
    two_weeks.backup(copy)
    yield copy
    copy.close()


def dw_rows(conn):
    return conn.execute(f"SELECT * FROM {TARGET} ORDER BY id").fetchall()


def run_day(conn, fault, tmp_path):
    change_source(conn, "2024-10-15", fault=fault)
    router = AlertRouter(conn, [JsonLinesChannel(tmp_path / "alerts.jsonl")])
    return run_daily_pipeline(conn, "2024-10-15", fault=fault, router=router)


def not_passed(outcome):
    return {(r.name, r.status) for r in outcome.checks.results if r.status != "pass"}


@pytest.mark.parametrize(
    ("fault", "status", "published", "flags"),
    [
        ("none", "success", True, set()),
        # a failed blocking check fails validate: the run is failed, nothing is published
        ("rows_dropped", "failed", False, {("row_count_non_decreasing", "fail")}),
        ("duplicate_keys", "failed", False, {("unique_key(id)", "fail")}),
        ("null_names", "failed", False, {("not_null(name)", "fail")}),
        # a check that only warns is a check result: the run succeeds and says why it warned
        ("stale_source", "success", True, {("freshness(updated_at)", "warn"),
                                           ("volume_anomaly(rows_to_load)", "warn")}),
        ("slow_task", "success", True, {("duration_anomaly(load_seconds)", "warn")}),
        ("volume_spike", "success", True, {("volume_anomaly(rows_to_load)", "warn")}),
        ("failing_task", "failed", False, set()),
    ],
)
def test_each_fault_is_caught_where_it_should_be(warehouse, tmp_path, fault, status,
                                                 published, flags):
    before = dw_rows(warehouse)
    outcome = run_day(warehouse, fault, tmp_path)
    assert (outcome.status, outcome.published) == (status, published)
    assert not_passed(outcome) == flags
    if not published:
        assert dw_rows(warehouse) == before, "the bad data never reached the warehouse"
    else:
        assert len(dw_rows(warehouse)) >= len(before)
    assert runs_frame(warehouse).status.iloc[-1] == status
    alerted = alerts_frame(warehouse)
    # one alert per flagged check, and one for a task that failed for another reason
    assert len(alerted) == len(flags) + (fault == "failing_task")
    assert set(alerted.status) <= {"sent"}


def test_a_failed_gate_fails_validate_and_a_failed_run_records_the_error(warehouse, tmp_path):
    outcome = run_day(warehouse, "duplicate_keys", tmp_path)
    tasks = task_runs_frame(warehouse)
    last = tasks[tasks.run_id == outcome.run_id]
    assert last[["task", "status"]].values.tolist() == [
        ["extract", "success"], ["validate", "failed"], ["load", "upstream_failed"],
        ["monitor", "upstream_failed"]]
    assert last.error.iloc[1].startswith("CheckFailedError: blocking check "
                                         "stg_customers.unique_key(id) failed: ")
    assert last.error.iloc[1].endswith("; data not published")
    assert last.error.iloc[2] == "upstream validate failed"
    run = runs_frame(warehouse).set_index("run_id").loc[outcome.run_id]
    assert (run.status, run.error.split(":")[0]) == ("failed", "validate failed")
    failed = run_day(warehouse, "failing_task", tmp_path)
    assert failed.error == ("SourceFailure: connection to the warehouse reset by peer during "
                            "the upsert")
    tasks = task_runs_frame(warehouse)
    assert tasks[tasks.run_id == failed.run_id].status.tolist() == [
        "success", "success", "failed", "upstream_failed"]
    # The day after a held-back run carries two days of changes: the volume check notices.
    assert failed.deliveries_frame().subject.tolist() == [
        "customers_daily: stg_customers.volume_anomaly(rows_to_load) warn",
        "customers_daily: task load failed"]


def test_history_is_deterministic_and_contains_every_fault():
    first, second = connect(), connect()
    runs_a = generate_history(first, days=30)
    runs_b = generate_history(second, days=30)
    assert runs_a.drop(columns=["notes"]).equals(runs_b.drop(columns=["notes"]))
    assert task_runs_frame(first).equals(task_runs_frame(second))
    assert len(runs_a) == 30 and set(DEFAULT_HISTORY_FAULTS.values()) == set(FAULTS) - {"none"}
    statuses = dict(zip(runs_a.logical_date, runs_a.status, strict=True))
    assert statuses["2024-10-23"] == "failed"
    assert [statuses[d] for d in ("2024-10-17", "2024-10-26", "2024-10-28")] == ["failed"] * 3
    assert runs_a.started_at.iloc[0] == run_start_text("2024-10-02")
    loads = loads_frame(first)  # the recorder logged every published load, with its mode
    assert len(loads) == (runs_a.status == "success").sum()
    assert set(loads["mode"]) == {"incremental"} and loads.task_run_id.notna().all()


def test_unknown_fault_and_bad_days_are_named(conn):
    with pytest.raises(CourseEtlError, match=r"unknown fault 'fire' \(known: none, rows_dropped"):
        run_daily_pipeline(conn, "2024-10-01", fault="fire")
    with pytest.raises(CourseEtlError, match="days must be an int >= 1, not 0"):
        generate_history(conn, days=0)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = ?",
                        (RUNS_TABLE,)).fetchone() is None, "bad input wrote nothing"


def test_an_unexpected_error_closes_the_run_and_surfaces(conn):
    create_demo_source(conn)
    conn.execute(f"DROP TABLE {TABLES.source}")
    conn.execute(f"CREATE TABLE {TABLES.source} (id INTEGER)")
    with pytest.raises(UnknownColumnError, match="unknown column 'name'"):
        run_daily_pipeline(conn, "2024-10-01")
    runs = runs_frame(conn)
    assert runs.status.tolist() == ["failed"]
    assert runs.error[0].startswith("extract failed: UnknownColumnError")


def test_side_by_side_with_the_lecture_check(two_weeks, tmp_path):
    from course_etl.monitoring.lecture import fault_matrix, lecture_check_on

    assert lecture_check_on(two_weeks, "duplicate_keys").startswith(
        "OK: Row count non-decreasing."), "the lecture's check is blind to duplicates"
    matrix = fault_matrix(two_weeks, alerts_path=tmp_path / "a.jsonl")
    assert matrix.fault.tolist() == list(FAULTS)
    rows = matrix.set_index("fault")
    assert rows.loc["null_names", "published"] == "no (held back)"
    assert rows.loc["none", "alerted on"] == "-"
    assert rows.loc["failing_task", "flagged"] == "task load failed"
    lecture_ok = rows["lecture's check"].str.startswith("OK")
    assert lecture_ok.sum() == 7, "the lecture's check says OK to every fault but the crash"


@settings(max_examples=30, deadline=None)
@given(fault=st.text(max_size=15), days=st.one_of(st.integers(max_value=0), st.booleans(),
                                                   st.text(max_size=3), st.floats()))
def test_an_unknown_fault_and_bad_days_carry_what_was_given_and_the_faults(fault, days):
    from course_etl.monitoring.demo import FAULTS, DemoInputError, check_fault

    if fault not in FAULTS:
        with pytest.raises(DemoInputError) as refused:
            check_fault(fault)
        assert (refused.value.option, refused.value.value, refused.value.known) == (
            "fault", fault, list(FAULTS))
    conn = connect()
    with pytest.raises(CourseEtlError) as refused:
        generate_history(conn, days=days)
    if isinstance(refused.value, DemoInputError):
        assert (refused.value.option, refused.value.value) == ("days", days)
    else:  # a wrong type is the type check's, before the body runs
        assert refused.value.argument == "days" and refused.value.value is days
