"""The capstone runs the student's pieces: the suite audits the gold the student's SQL builds,
that gold is what gets published, and a wrong one shows in the run and its log."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect
from course_etl.capstone import STORY_DAY, Capstone, Fault, capstone_config
from course_etl.capstone.student import StudentGoldError, audited_gold, served_differences
from course_etl.medallion import compare_with_rebuild
from course_etl.medallion.gold import CITY_DAILY_REVENUE
from course_etl.monitoring.history import runs_frame
from tests.wrong_answers_sql import GOLD_SQL, GOLD_SUITE

FAULT_DAY = date(2024, 10, 4)


def run(tmp_path, *, gold_sql=None, suite=None, days=4, fault=None):
    conn = connect(":memory:")
    capstone = Capstone(conn, capstone_config("dev"), alerts_path=tmp_path / "alerts.jsonl",
                        suite=suite, gold_sql=gold_sql)
    reports = capstone.run_days(STORY_DAY, days, fault=fault)
    return conn, reports


def test_the_students_right_pieces_publish_good_days_and_hold_the_fault_back(tmp_path):
    conn, reports = run(tmp_path, gold_sql=GOLD_SQL, suite=GOLD_SUITE,
                        fault=Fault(FAULT_DAY, kind="short_feed"))
    assert [r.state for r in reports] == ["success", "success", "success", "failed"]
    assert reports[-1].tasks["checks"].state == "failed"
    notes = runs_frame(conn)["notes"].dropna().tolist()
    assert len(notes) == 3 and not any("differ" in n for n in notes), notes
    # Held back on the fault day: served keeps the day before while silver's mart moved on.
    assert served_differences(conn)[0] > 0


def test_the_suite_audits_the_students_gold_not_the_librarys(tmp_path):
    """A gold with a city no customer lives in: the suite's referential check sees it (on the
    library's mart it would pass) and blocks every day."""
    atlantis = GOLD_SQL + "\nUNION ALL SELECT 'Atlantis', '2024-10-01', 1, 100"
    conn, reports = run(tmp_path, gold_sql=atlantis, suite=GOLD_SUITE, days=2)
    assert all(r.tasks["checks"].state == "failed" for r in reports)
    assert "referential_integrity(city)" in reports[-1].tasks["checks"].error
    _, library = run(tmp_path, suite=GOLD_SUITE, days=2)
    assert all(r.state == "success" for r in library)


def test_a_wrong_gold_is_published_and_the_log_says_how_far_it_is(tmp_path):
    """Revenue divided by 100 passes a suite that cannot see amounts: it is published, and the
    run log's note names how many city-days differ from the library's gold, with one of them."""
    wrong = GOLD_SQL.replace("SUM(o.amount_cents)", "SUM(o.amount_cents) / 100")
    conn, reports = run(tmp_path, gold_sql=wrong, suite=GOLD_SUITE, days=2)
    assert [r.state for r in reports] == ["success", "success"]
    note = runs_frame(conn)["notes"].iloc[-1]
    assert "city-days differ from the library's gold" in note
    served = conn.execute("SELECT SUM(revenue_cents) FROM served_city_daily_revenue").fetchone()[0]
    mart = conn.execute(f"SELECT SUM(revenue_cents) FROM {CITY_DAILY_REVENUE}").fetchone()[0]
    assert served < mart / 50


def test_a_gold_that_copies_the_librarys_mart_cannot_run(tmp_path):
    _, reports = run(tmp_path, gold_sql="SELECT * FROM gold_city_daily_revenue", days=1)
    checks = reports[-1].tasks["checks"]
    assert checks.state == "failed" and "StudentGoldError" in checks.error
    assert "no such table: gold_city_daily_revenue" in checks.error


def test_a_gold_with_orders_of_unknown_customers_fails_where_the_table_refuses_it(tmp_path):
    """A NULL city passes a suite without not_null (the gold task then fails on the served
    table's constraint); a suite with not_null(city) on gold blocks it at checks."""
    left_join = GOLD_SQL.replace("JOIN silver_customers", "LEFT JOIN silver_customers")
    _, weak = run(tmp_path, gold_sql=left_join, suite=GOLD_SUITE, days=1)
    assert weak[-1].tasks["gold"].state == "failed"
    assert "NOT NULL" in weak[-1].tasks["gold"].error
    strict = {**GOLD_SUITE, CITY_DAILY_REVENUE: [*GOLD_SUITE[CITY_DAILY_REVENUE], {
        "check": "not_null", "column": "city", "blocking": True}]}
    _, blocked = run(tmp_path, gold_sql=left_join, suite=strict, days=1)
    assert blocked[-1].tasks["checks"].state == "failed"
    assert "not_null(city)" in blocked[-1].tasks["checks"].error


def test_auditing_leaves_the_librarys_mart_as_silver_merged_it(tmp_path):
    wrong = GOLD_SQL.replace("COUNT(*)", "COUNT(*) + 1")
    conn, _ = run(tmp_path, gold_sql=wrong, suite=GOLD_SUITE, days=3)
    assert compare_with_rebuild(conn).identical


def test_audited_gold_swaps_the_candidate_in_and_back():
    conn = connect(":memory:")
    conn.execute(f"CREATE TABLE {CITY_DAILY_REVENUE} (city TEXT NOT NULL, day TEXT, "
                 "n_orders INTEGER, revenue_cents INTEGER)")
    conn.execute(f"INSERT INTO {CITY_DAILY_REVENUE} VALUES ('Austin', '2024-10-01', 2, 500)")
    conn.execute("CREATE TABLE silver_orders (x)")
    with audited_gold(conn, "SELECT NULL AS city, 'd' AS day, 1 AS n_orders, "
                            "7 AS revenue_cents FROM silver_orders UNION ALL SELECT 'Oslo', "
                            "'d', 1, 7"):
        assert conn.execute(f"SELECT * FROM {CITY_DAILY_REVENUE}").fetchall() == [
            ("Oslo", "d", 1, 7)]
    assert conn.execute(f"SELECT * FROM {CITY_DAILY_REVENUE}").fetchall() == [
        ("Austin", "2024-10-01", 2, 500)]
    assert not conn.in_transaction
    with pytest.raises(StudentGoldError, match="no such table: nowhere"), \
            audited_gold(conn, "SELECT * FROM nowhere"):
        pass
    assert not conn.in_transaction
    assert conn.execute(f"SELECT COUNT(*) FROM {CITY_DAILY_REVENUE}").fetchone() == (1,)


@settings(max_examples=25, deadline=None)
@given(blank=st.text(" \t\n;", max_size=4).filter(lambda t: not t.strip()),
       table=st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True).filter(
           lambda name: name != "silver_orders"))
def test_a_gold_sql_that_fails_carries_the_sql_and_the_sqlite_error(blank, table):
    conn = connect(":memory:")
    conn.execute(f"CREATE TABLE {CITY_DAILY_REVENUE} (city, day, n_orders, revenue_cents)")
    conn.execute("CREATE TABLE silver_orders (x)")
    with pytest.raises(StudentGoldError) as refused, audited_gold(conn, blank):
        pass
    assert (refused.value.value, refused.value.cause) == (blank, None)
    sql = f'SELECT * FROM "{table}"'
    with pytest.raises(StudentGoldError) as refused, audited_gold(conn, sql):
        pass
    assert refused.value.value == sql and f"no such table: {table}" in str(refused.value.cause)
