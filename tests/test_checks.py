"""Data checks: each verdict, the suite runner, the blocking gate and bad input."""

from datetime import datetime, timedelta

import pytest
from builders import run_start_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl import incremental_load
from course_etl.facts import CUSTOMERS
from course_etl.monitoring.checks import (
    CHECKS,
    CheckConfigError,
    CheckFailedError,
    CheckResult,
    SuiteReport,
    duration_anomaly,
    freshness,
    not_null,
    parse_period,
    referential_integrity,
    robust_z_score,
    row_count_between,
    row_count_non_decreasing,
    run_suite,
    unique_key,
    validate_suite,
    volume_anomaly,
)
from course_etl.sample_data import apply_lecture_changes

NOW = "2024-10-06 12:00:00"
HISTORY = [100, 104, 98, 101, 97, 103, 99, 102]


@pytest.fixture
def dw(lecture_conn):
    """The lecture's warehouse after its first incremental load, plus an orders table."""
    conn = lecture_conn
    incremental_load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")
    conn.execute("CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, amount REAL)")
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                     [(1, 1, 9.5), (2, 2, 3.0), (3, None, 1.0)])
    return conn


def verdict(result):
    return result.status, result.observed, result.expected


def test_lecture_row_count_check(dw):
    before = 3
    apply_lecture_changes(dw, 1)
    incremental_load(dw, "src_customers", "dw_customers", key="id", watermark="updated_at")
    result = row_count_non_decreasing(dw, "dw_customers", previous=before)
    assert verdict(result) == ("pass", 4, ">= 3")
    assert result.message == "row count non-decreasing: 3 -> 4"
    dw.execute("DELETE FROM dw_customers WHERE id > 1")
    assert verdict(row_count_non_decreasing(dw, "dw_customers", previous=4)) == (
        "fail", 1, ">= 4")


@pytest.mark.parametrize(
    ("bounds", "status", "expected"),
    [({"min_rows": 1}, "pass", "1..inf"), ({"min_rows": 4}, "fail", "4..inf"),
     ({"max_rows": 2}, "fail", "-inf..2"), ({"min_rows": 3, "max_rows": 3}, "pass", "3..3")],
)
def test_row_count_between(dw, bounds, status, expected):
    assert verdict(row_count_between(dw, "dw_customers", **bounds)) == (status, 3, expected)


@pytest.mark.parametrize(
    ("now", "status", "age"),
    [("2024-10-01 12:00:00", "pass", "12h"), ("2024-10-02 06:00:00", "warn", "1d 6h"),
     ("2024-10-05 00:00:01", "fail", "4d"), ("2024-09-30", "pass", "0m")],
)
def test_freshness_warn_then_error(dw, now, status, age):
    result = freshness(dw, "dw_customers", "updated_at", now=now,
                       warn_after={"count": 1, "period": "day"},
                       error_after={"count": 3, "period": "day"})
    assert verdict(result) == (status, age, "warn after 1d, error after 3d")
    assert result.name == "freshness(updated_at)"


def test_freshness_of_an_empty_table_fails(conn):
    conn.execute("CREATE TABLE t (updated_at TEXT)")
    result = freshness(conn, "t", "updated_at", now=NOW, error_after=timedelta(hours=2))
    assert verdict(result) == ("fail", None, "error after 2h")


def test_freshness_with_zones_compares_in_utc(conn):
    conn.execute("CREATE TABLE t (ts TEXT)")
    conn.execute("INSERT INTO t VALUES ('2024-10-06T10:00:00+02:00')")
    result = freshness(conn, "t", "ts", now=datetime(2024, 10, 6, 12), warn_after=timedelta(
        hours=3))
    assert result.observed == "4h" and result.status == "warn"


def test_not_null_unique_and_referential_integrity(dw):
    assert verdict(not_null(dw, "orders", "amount")) == ("pass", 0, 0)
    assert verdict(not_null(dw, "orders", "customer_id")) == ("fail", 1, 0)
    assert verdict(unique_key(dw, "orders", "order_id")) == ("pass", 0, 0)
    dw.execute("INSERT INTO orders VALUES (2, 9, 1.0), (2, 9, 1.0)")
    duplicated = unique_key(dw, "orders", ["order_id"])
    assert verdict(duplicated) == ("fail", 1, 0)
    assert duplicated.message == "1 order_id value(s) appear more than once (e.g. order_id = 2)"
    assert verdict(unique_key(dw, "orders", ["order_id", "customer_id"])) == ("fail", 1, 0)
    orphans = referential_integrity(dw, "orders", "customer_id", parent="dw_customers",
                                    parent_column="id")
    assert verdict(orphans) == ("fail", 2, 0)
    assert orphans.message == "2 customer_id value(s) missing from dw_customers.id"
    dw.execute("DELETE FROM orders WHERE customer_id = 9")
    assert referential_integrity(dw, "orders", "customer_id", parent="dw_customers",
                                 parent_column="id").status == "pass"


def test_robust_z_score_ignores_an_outlier_in_the_history():
    # median 100.5, absolute deviations 0.5 0.5 1.5 1.5 2.5 2.5 3.5 3.5 -> MAD 2.0
    assert robust_z_score(100, HISTORY) == pytest.approx(0.6745 * -0.5 / 2.0)
    spiked = [*HISTORY[:-1], 5_000]
    assert abs(robust_z_score(160, spiked)) > 3.5, "one old spike does not mask a new one"
    assert robust_z_score(7, [5, 5, 5, 5, 9]) == pytest.approx(2 / (1.253314 * 0.8))
    assert robust_z_score(5, [5, 5, 5]) == 0.0
    assert robust_z_score(6, [5, 5, 5]) == float("inf")


def test_volume_anomaly_needs_history_then_flags_both_directions():
    assert volume_anomaly(1_000, HISTORY[:3]).message == (
        "only 3 of 7 runs of history: not judged yet")
    assert volume_anomaly(1_000, HISTORY[:3]).status == "pass"
    assert volume_anomaly(101, HISTORY).status == "pass"
    spike = volume_anomaly(1_000, HISTORY, fail_score=10)
    assert (spike.status, spike.message) == ("fail", "1000 rows vs median 100.5 (robust z = 303.4)")
    assert volume_anomaly(60, HISTORY).status == "warn"


def test_duration_anomaly_flags_only_slow_runs():
    history = [30.0, 31.0, 29.0, 30.5, 29.5, 30.0, 31.5]
    assert duration_anomaly(300.0, history).status == "warn"
    assert duration_anomaly(3.0, history).status == "pass", "fast is fine"
    assert duration_anomaly(300.0, history).name == "duration_anomaly(seconds)"


SUITE = {
    "dw_customers": [
        {"check": "row_count_non_decreasing", "blocking": True},
        {"check": "row_count_between", "min_rows": 1, "max_rows": 1000},
        {"check": "freshness", "column": "updated_at",
         "warn_after": {"count": 1, "period": "day"},
         "error_after": {"count": 10, "period": "day"}},
        {"check": "not_null", "column": "name", "blocking": True},
        {"check": "unique_key", "key": "id", "blocking": True},
        {"check": "volume_anomaly", "metric": "rows_loaded"},
    ],
    "orders": [
        {"check": "not_null", "column": "customer_id", "severity": "warn"},
    ],
}
RUNTIME = {"now": NOW, "previous_row_counts": {"dw_customers": 3},
           "metrics": {"rows_loaded": (3, [3, 2, 3, 4, 3, 3, 2])}}


def test_suite_runs_every_check_and_reports(dw):
    report = run_suite(dw, SUITE, **RUNTIME)
    frame = report.frame()
    assert frame[["table", "name", "status", "blocking"]].values.tolist() == [
        ["dw_customers", "row_count_non_decreasing", "pass", True],
        ["dw_customers", "row_count_between", "pass", False],
        ["dw_customers", "freshness(updated_at)", "warn", False],
        ["dw_customers", "not_null(name)", "pass", True],
        ["dw_customers", "unique_key(id)", "pass", True],
        ["dw_customers", "volume_anomaly(rows_loaded)", "pass", False],
        ["orders", "not_null(customer_id)", "warn", False],
    ]
    assert (report.status, report.blocked) == ("warn", False)
    report.raise_if_blocked()


def test_blocking_failure_blocks_and_warning_does_not(dw):
    dw.execute("UPDATE dw_customers SET name = NULL WHERE id = 2")
    report = run_suite(dw, SUITE, **RUNTIME)
    assert report.blocked and report.status == "fail"
    assert [r.name for r in report.failures(blocking_only=True)] == ["not_null(name)"]
    with pytest.raises(CheckFailedError,
                       match=r"^blocking check dw_customers.not_null\(name\) failed: 1 row\(s\) "
                             r"with NULL name; data not published$") as raised:
        report.raise_if_blocked()
    assert [r.name for r in raised.value.failed] == ["not_null(name)"]
    warn_only = {"dw_customers": [{"check": "not_null", "column": "name"}]}
    assert not run_suite(dw, warn_only).blocked


def test_a_check_that_breaks_at_run_time_becomes_a_failed_result(dw, monkeypatch):
    import course_etl.monitoring.checks as checks

    def broken(conn, table, column):
        raise RuntimeError("disk I/O error")

    monkeypatch.setitem(checks.CHECKS, "not_null", broken)
    report = run_suite(dw, {"dw_customers": [{"check": "not_null", "column": "name",
                                              "blocking": True},
                                             {"check": "unique_key", "key": "id"}]})
    assert [(r.name, r.status, r.message) for r in report.results] == [
        ("not_null", "fail", "check raised RuntimeError: disk I/O error"),
        ("unique_key(id)", "pass", "every id is unique")]
    assert report.blocked, "a blocking check that could not run holds the data back"


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        ({"dw_custmers": [{"check": "not_null", "column": "name"}]},
         r"suite for 'dw_custmers', check #1 \(not_null\): not_null check: field 'table': "
         r"unknown table 'dw_custmers' "
         r"\(known: dw_customers, etl_watermarks, orders, src_customers\)"),
        ({"dw_customers": [{"check": "not_null", "column": "nmae"}]},
         r"check #1 \(not_null\): not_null check on 'dw_customers': field 'column': "
         rf"unknown column 'nmae' \(columns: {', '.join(CUSTOMERS.names)}\)"),
        ({"dw_customers": [{"check": "unique_key", "key": ["id", "nope"]}]},
         r"field 'key': unknown column 'nope'"),
        ({"dw_customers": [{"check": "not_nul", "column": "name"}]},
         r"check #1: unknown check 'not_nul' \(known: row_count_non_decreasing"),
        ({"dw_customers": [{"check": "not_null", "column": "name", "colour": "red"}]},
         r"unknown field\(s\) colour \(allowed: column\)"),
        ({"dw_customers": [{"check": "not_null"}]}, r"missing field\(s\) column"),
        ({"dw_customers": [{"check": "not_null", "column": "name", "blocking": "yes"}]},
         r"field 'blocking' must be true or false, not 'yes'"),
        ({"dw_customers": [{"check": "not_null", "column": "name", "severity": "info"}]},
         r"field 'severity' must be 'warn' or 'error'"),
        ({"dw_customers": "not_null"}, r"suite for 'dw_customers' must be a list"),
        ({"dw_customers": [{"column": "name"}]}, r"each check is a dict with a 'check' field"),
    ],
)
def test_bad_declarations_name_table_check_and_field(dw, suite, message):
    with pytest.raises(CheckConfigError, match=message):
        validate_suite(dw, suite)
    with pytest.raises(CheckConfigError, match=message):
        run_suite(dw, suite, **RUNTIME)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"check": "row_count_between", "min_rows": -1},
         r"row_count_between check on 'dw_customers': field 'min_rows' must be an int >= 0, "
         r"not -1"),
        ({"check": "row_count_between", "min_rows": "10"}, r"field 'min_rows' must be an int"),
        ({"check": "row_count_between", "min_rows": 5, "max_rows": 2},
         r"'min_rows' \(5\) is greater than 'max_rows' \(2\)"),
        ({"check": "freshness", "column": "updated_at", "warn_after": -5},
         r"freshness check: field 'warn_after' must be \{'count': 12, 'period': 'hour'\}"),
        ({"check": "freshness", "column": "updated_at",
          "error_after": {"count": 0, "period": "day"}}, r"'count' must be an int > 0, not 0"),
        ({"check": "freshness", "column": "updated_at",
          "error_after": {"count": 2, "period": "fortnight"}}, r"'period' must be one of"),
        ({"check": "freshness", "column": "updated_at", "warn_after": timedelta(days=3),
          "error_after": timedelta(days=1)}, r"'warn_after' is longer than 'error_after'"),
        ({"check": "freshness", "column": "city", "warn_after": timedelta(days=3)},
         r"field 'column': 'city' holds 'Chicago', not a timestamp"),
        ({"check": "volume_anomaly", "metric": "rows_loaded", "warn_score": -1},
         r"volume_anomaly check: field 'warn_score' must be a number > 0, not -1"),
        ({"check": "volume_anomaly", "metric": "rows_loaded", "min_history": 2},
         r"field 'min_history' must be at least 3"),
        ({"check": "volume_anomaly", "metric": "rows_read"},
         r"field 'metric': no run-time value for 'rows_read' \(given: rows_loaded\)"),
    ],
)
def test_bad_thresholds_name_the_check_and_field(dw, entry, message):
    with pytest.raises(CheckConfigError, match=message):
        run_suite(dw, {"dw_customers": [entry]}, **RUNTIME)


def test_direct_calls_validate_too(dw):
    with pytest.raises(CheckConfigError, match="row_count_non_decreasing check on "
                                               "'dw_customers': field 'previous'"):
        row_count_non_decreasing(dw, "dw_customers", previous=None)
    with pytest.raises(CheckConfigError, match="field 'history' must be a list of numbers"):
        volume_anomaly(5, "1,2,3")
    with pytest.raises(CheckConfigError, match="field 'observed' must be a number"):
        duration_anomaly("slow", [1, 2, 3])
    with pytest.raises(CheckConfigError, match="status must be one of pass, warn, fail"):
        CheckResult("x", "error", 1, 0, "")
    assert parse_period({"count": 90, "period": "minute"}) == timedelta(minutes=90)


def test_a_bad_suite_inside_a_recorded_task_is_recorded_not_lost(dw):
    from course_etl.monitoring.history import task_runs_frame
    from course_etl.monitoring.runlog import RunLog
    from course_etl.scheduling.runner import SimulatedClock

    recorder = RunLog(dw, clock=SimulatedClock(start=run_start_text("2024-10-06")))
    run_id = recorder.start_run("customers_daily", "2024-10-05")
    with pytest.raises(CheckConfigError):
        with recorder.task(run_id, "validate"):
            run_suite(dw, {"dw_customers": [{"check": "not_null", "column": "nmae"}]})
    assert recorder.finish_run(run_id) == "failed"
    [error] = task_runs_frame(dw).error.tolist()
    assert error.startswith("CheckConfigError: suite for 'dw_customers', check #1 (not_null)")


def test_measured_numbers_are_rounded_for_reading_and_kept_exact_as_data():
    from course_etl.monitoring.checks import SuiteReport

    result = duration_anomaly(26.288994, [10.0] * 7)
    report = SuiteReport((result,))
    assert result.observed == 26.288994  # the data, for machines
    assert report.frame().observed.tolist() == [26.3]  # what a person reads
    assert "26.3 s vs median 10" in result.message
    whole = SuiteReport((volume_anomaly(200, [200] * 7),)).frame().observed.tolist()
    assert whole == [200]


# --- what a refusal carries: the entry's table, place, check, field and value ------------------

GOOD = {"check": "not_null", "column": "name"}
NAMES = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)
# (what is wrong, the entry, the check it names, the field, the value, what the error knows)
BAD_ENTRIES = st.one_of(
    NAMES.filter(lambda n: n not in CHECKS).map(lambda n: (
        "check", {"check": n}, None, "check", n, list(CHECKS))),
    NAMES.filter(lambda n: n not in CUSTOMERS.names).map(lambda n: (
        "column", {"check": "not_null", "column": n}, "not_null", "column", n, CUSTOMERS.names)),
    st.one_of(st.text(max_size=4), st.integers(), st.none()).map(lambda v: (
        "blocking", {**GOOD, "blocking": v}, "not_null", "blocking", v, None)),
    st.text(max_size=6).filter(lambda v: v not in ("warn", "error")).map(lambda v: (
        "severity", {**GOOD, "severity": v}, "not_null", "severity", v, ["warn", "error"])),
    st.integers(max_value=-1).map(lambda v: (
        "min_rows", {"check": "row_count_between", "min_rows": v}, "row_count_between",
        "min_rows", v, None)),
)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=BAD_ENTRIES, before=st.integers(0, 3), after=st.integers(0, 2))
def test_a_bad_suite_entry_carries_its_table_place_check_field_and_value(dw, bad, before,
                                                                        after):
    kind, entry, check, option, value, known = bad
    suite = {"dw_customers": [GOOD] * before + [entry] + [GOOD] * after}
    # A threshold's value is checked when the check runs; names and fields when it is declared.
    for run in (run_suite,) if kind == "min_rows" else (validate_suite, run_suite):
        with pytest.raises(CheckConfigError) as refused:
            run(dw, suite, **({} if run is validate_suite else RUNTIME))
        error = refused.value
        assert (error.table, error.position, error.check, error.option, error.value) == (
            "dw_customers", before + 1, check, option, value), kind
        if known is not None:
            assert list(error.known) == list(known)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.sets(NAMES.filter(lambda n: n != "column"), min_size=1, max_size=3),
       metric=NAMES.filter(lambda n: n != "rows_loaded"), table=NAMES)
def test_unknown_and_missing_fields_and_run_time_values_are_carried(dw, fields, metric, table):
    with pytest.raises(CheckConfigError) as refused:
        validate_suite(dw, {"dw_customers": [{**GOOD, **{f: 1 for f in fields}}]})
    assert (refused.value.unexpected, refused.value.known) == (sorted(fields), ["column"])
    with pytest.raises(CheckConfigError) as refused:
        validate_suite(dw, {"dw_customers": [{"check": "not_null"}]})
    assert refused.value.missing == ["column"]
    with pytest.raises(CheckConfigError) as refused:
        run_suite(dw, {"dw_customers": [{"check": "volume_anomaly", "metric": metric}]},
                  **RUNTIME)
    assert (refused.value.option, refused.value.value, refused.value.known) == (
        "metric", metric, ["rows_loaded"])
    tables = {"dw_customers", "etl_watermarks", "orders", "src_customers"}
    if table not in tables:
        with pytest.raises(CheckConfigError) as refused:
            not_null(dw, table, "name")
        error = refused.value
        assert (error.check, error.option, error.value, error.cause.table) == (
            "not_null", "table", table, table)
        assert sorted(error.cause.known) == sorted(tables)


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.integers(max_value=0), st.text(max_size=5), st.none(),
                       st.timedeltas(max_value=timedelta(0))),
       period=NAMES.filter(lambda n: n not in ("minute", "hour", "day")),
       field=st.sampled_from(["warn_after", "error_after"]))
def test_a_bad_period_carries_the_check_the_field_and_the_value(value, period, field):
    for bad in (value, {"count": 2, "period": period}):
        with pytest.raises(CheckConfigError) as refused:
            parse_period(bad, field_name=field)
        assert (refused.value.check, refused.value.option, refused.value.value) == (
            "freshness", field, bad)
    assert refused.value.known == ["minute", "hour", "day"]


def test_a_blocked_report_carries_the_failed_checks_whatever_their_number():
    for blocking in range(1, 5):
        results = [CheckResult(f"c{i}", "fail", 1, 0, f"m{i}", "t", blocking=i < blocking)
                   for i in range(5)]
        with pytest.raises(CheckFailedError) as refused:
            SuiteReport(tuple(results)).raise_if_blocked()
        assert refused.value.failed == results[:blocking]
        assert all(f"t.c{i} failed: m{i}" in str(refused.value) for i in range(blocking))


NOT_A_NUMBER = st.one_of(st.text(max_size=4), st.none(), st.booleans(), st.lists(st.integers()))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(observed=NOT_A_NUMBER, history=st.one_of(st.text(max_size=4), st.lists(NOT_A_NUMBER,
                                                                             min_size=1)),
       few=st.integers(0, 2), warn=st.floats(0.1, 10), below=st.floats(0.01, 0.99),
       low=st.integers(1, 100), gap=st.integers(1, 100), now=st.text(max_size=6))
def test_bad_thresholds_and_inputs_carry_the_field_the_value_and_the_bound(
        dw, observed, history, few, warn, below, low, gap, now):
    for check in (volume_anomaly, duration_anomaly):
        with pytest.raises(CheckConfigError) as refused:
            check(observed, HISTORY)
        assert (refused.value.option, refused.value.value) == ("observed", observed)
        with pytest.raises(CheckConfigError) as refused:
            check(5, history)
        assert (refused.value.option, refused.value.value) == ("history", history)
        with pytest.raises(CheckConfigError) as refused:
            check(5, HISTORY, min_history=few)
        assert (refused.value.option, refused.value.value) == ("min_history", few)
        with pytest.raises(CheckConfigError) as refused:
            check(5, HISTORY, warn_score=warn, fail_score=warn * below)
        assert (refused.value.option, refused.value.value, refused.value.expected) == (
            "fail_score", warn * below, f">= {warn:g}")
    with pytest.raises(CheckConfigError) as refused:
        row_count_between(dw, "dw_customers", min_rows=low + gap, max_rows=low)
    assert (refused.value.table, refused.value.option, refused.value.value,
            refused.value.expected) == ("dw_customers", "min_rows", low + gap, f"<= {low}")
    if not now[:4].isdigit():
        with pytest.raises(CheckConfigError) as refused:
            freshness(dw, "dw_customers", "updated_at", now=now, warn_after=timedelta(days=1))
        assert (refused.value.option, refused.value.value) == ("now", now)
    with pytest.raises(CheckConfigError) as refused:
        freshness(dw, "dw_customers", "name", now=NOW, warn_after=timedelta(days=1))
    assert (refused.value.option, refused.value.column) == ("column", "name")
    assert refused.value.value in {row[0] for row in dw.execute("SELECT name FROM dw_customers")}
