"""The lecture's recipe gives the lecture's results, and each of its pitfalls is real."""

import pytest
from builders import customers_ddl, insert_customer, lecture_row
from builders import lecture as lecture_rows

from course_etl import WatermarkError, full_load, incremental_load, lecture_incremental_load
from course_etl.facts import CUSTOMERS
from course_etl.loads.lecture import lecture_full_load
from course_etl.sample_data import apply_lecture_changes

OPTS = {"key": "id", "watermark": "updated_at"}
DW_SCHEMA = customers_ddl("dw_customers")


@pytest.fixture
def lecture(lecture_conn):
    lecture_conn.execute(DW_SCHEMA)
    return lecture_conn


def dw(conn):
    return conn.execute("SELECT * FROM dw_customers ORDER BY id").fetchall()


def test_recipe_reproduces_the_lecture(lecture):
    conn = lecture
    lecture_full_load(conn, "src_customers", "dw_customers")
    apply_lecture_changes(conn, 1)
    result = lecture_incremental_load(conn, "src_customers", "dw_customers")
    assert (result.watermark_before, result.rows_read, result.watermark_after) == (
        "2024-10-01", 2, "2024-10-05")
    assert result.inserted is None and result.updated is None
    assert dw(conn) == lecture_rows(1)
    apply_lecture_changes(conn, 2)
    lecture_incremental_load(conn, "src_customers", "dw_customers")
    assert len(dw(conn)) == 5


def test_pitfall_greater_than_skips_a_same_day_row(lecture):
    conn = lecture
    lecture_full_load(conn, "src_customers", "dw_customers")
    conn.execute("CREATE TABLE dw_lib AS SELECT * FROM dw_customers WHERE 0")
    conn.execute("CREATE UNIQUE INDEX dw_lib_id ON dw_lib (id)")
    incremental_load(conn, "src_customers", "dw_lib", **OPTS)
    apply_lecture_changes(conn, 1)
    lecture_incremental_load(conn, "src_customers", "dw_customers")
    incremental_load(conn, "src_customers", "dw_lib", **OPTS)
    # Later the same day another row is written with the day's timestamp.
    insert_customer(conn, id=6, name="Femi", city="Frankfurt", updated_at="2024-10-05")
    lecture_incremental_load(conn, "src_customers", "dw_customers")
    incremental_load(conn, "src_customers", "dw_lib", **OPTS)
    assert 6 not in [r[0] for r in dw(conn)], "the recipe's '>' skipped it"
    assert 6 in [r[0] for r in conn.execute("SELECT id FROM dw_lib")], "'>=' + upsert keeps it"


def test_pitfall_insert_or_replace_wipes_columns_and_cascades(lecture_conn):
    conn = lecture_conn
    conn.execute(customers_ddl("dw_customers", warehouse=True))
    conn.execute("CREATE TABLE dw_orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER "
                 "REFERENCES dw_customers(id) ON DELETE CASCADE)")
    conn.execute(f"INSERT INTO dw_customers ({', '.join(CUSTOMERS.names)}) "
                 "SELECT * FROM src_customers")
    conn.execute("UPDATE dw_customers SET segment = 'gold' WHERE id = 3")
    conn.execute("INSERT INTO dw_orders VALUES (100, 3)")
    apply_lecture_changes(conn, 1)
    lecture_incremental_load(conn, "src_customers", "dw_customers")
    assert conn.execute("SELECT segment FROM dw_customers WHERE id = 3").fetchone() == (
        "unknown",)
    assert conn.execute("SELECT COUNT(*) FROM dw_orders").fetchone() == (0,)


def test_pitfall_hard_delete_is_never_seen(lecture):
    conn = lecture
    lecture_full_load(conn, "src_customers", "dw_customers")
    conn.execute("DELETE FROM src_customers WHERE id = 2")
    lecture_incremental_load(conn, "src_customers", "dw_customers")
    assert 2 in [r[0] for r in dw(conn)]
    result = incremental_load(conn, "src_customers", "dw_customers", reconcile_deletes=True,
                              **OPTS)
    assert result.deleted == 1 and 2 not in [r[0] for r in dw(conn)]


def test_pitfall_half_written_run_moves_the_derived_watermark(lecture):
    conn = lecture
    lecture_full_load(conn, "src_customers", "dw_customers")
    conn.execute("UPDATE src_customers SET city = 'Bonn', updated_at = '2024-10-04' WHERE id = 2")
    dai = insert_customer(conn, id=4, name="Dai", city="Denver", updated_at="2024-10-05")
    # A crashed run managed to write only its last row before dying.
    conn.execute(f"INSERT OR REPLACE INTO dw_customers VALUES ({', '.join('?' * len(dai))})", dai)
    lecture_incremental_load(conn, "src_customers", "dw_customers")
    assert dw(conn)[1] == lecture_row("Ben"), "Ben's move is lost for good"


def test_pitfall_mixed_formats_compare_wrongly_as_text(lecture_conn):
    conn = lecture_conn
    conn.execute("UPDATE src_customers SET updated_at = '2024-10-05T09:00:00'")
    conn.execute(DW_SCHEMA)
    lecture_full_load(conn, "src_customers", "dw_customers")
    # One hour later, but written with a space: ' ' sorts before 'T'.
    insert_customer(conn, id=4, name="Dai", city="Denver", updated_at="2024-10-05 10:00:00")
    result = lecture_incremental_load(conn, "src_customers", "dw_customers")
    assert result.rows_read == 0 and len(dw(conn)) == 3
    with pytest.raises(WatermarkError, match="mixed formats"):
        full_load(conn, "src_customers", "dw_lib", **OPTS)
