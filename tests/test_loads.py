"""full_load and incremental_load: the lecture's story, boundaries, upserts, deletes, bad input."""

from datetime import timedelta

import pandas as pd
import pytest
from builders import customers_ddl, declared_columns, insert_customer, lecture

from course_etl import (
    InvalidIdentifierError,
    KeyIntegrityError,
    SchemaMismatchError,
    UnknownColumnError,
    UnknownTableError,
    WatermarkError,
    connect,
    full_load,
    incremental_load,
    query,
    read_watermark,
    tracing,
)
from course_etl.loads.errors import LoadOptionError
from course_etl.sample_data import apply_lecture_changes, simulate_changes

OPTS = {"key": "id", "watermark": "updated_at"}


def rows(conn, table="dw_customers"):
    return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def snapshot(conn):
    """Everything a failed load must leave untouched: target rows and watermark state."""
    state = conn.execute("SELECT * FROM etl_watermarks ORDER BY 1, 2").fetchall()
    return rows(conn), state


# --- the lecture's story -------------------------------------------------------------------

def test_lecture_story_full_then_incremental(lecture_conn):
    conn = lecture_conn
    first = full_load(conn, "src_customers", "dw_customers", **OPTS)
    assert rows(conn) == lecture()
    assert (first.mode, first.rows_read, first.inserted, first.watermark_after) == (
        "full", 3, 3, "2024-10-01")

    apply_lecture_changes(conn, 1)
    second = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert rows(conn) == lecture(1)
    # The closed lower bound re-reads the two rows at the old watermark; they stay unchanged.
    assert (second.rows_read, second.inserted, second.updated, second.unchanged) == (4, 1, 1, 2)
    assert (second.watermark_before, second.watermark_after) == ("2024-10-01", "2024-10-05")

    before = len(rows(conn))
    apply_lecture_changes(conn, 2)
    third = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert (before, len(rows(conn))) == (4, 5)
    assert rows(conn)[-1] == lecture(2)[-1]
    assert (third.inserted, third.updated, third.watermark_after) == (1, 0, "2024-10-06")


# --- full_load -----------------------------------------------------------------------------

def test_full_load_creates_target_with_source_schema(lecture_conn):
    full_load(lecture_conn, "src_customers", "dw_customers")
    info = lecture_conn.execute("SELECT name, type, pk FROM pragma_table_info('dw_customers')")
    assert info.fetchall() == declared_columns()


def test_full_load_replaces_content_and_stores_watermark(lecture_conn):
    conn = lecture_conn
    full_load(conn, "src_customers", "dw_customers", **OPTS)
    conn.execute("DELETE FROM src_customers WHERE id = 2")
    apply_lecture_changes(conn, 1)
    result = full_load(conn, "src_customers", "dw_customers", **OPTS)
    assert [r[0] for r in rows(conn)] == [1, 3, 4]
    # Counted by key, whichever way the rows were written: Dai new, Chloe moved, Ben gone.
    assert (result.inserted, result.updated, result.deleted, result.unchanged) == (1, 1, 1, 1)
    assert result.watermark_before == "2024-10-01"
    assert read_watermark(conn, "dw_customers", "updated_at").value == "2024-10-05"
    after_full = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert after_full.rows_read == 2, "the next incremental continues from the full load"
    assert after_full.inserted == after_full.updated == 0


def test_full_load_readers_never_see_an_empty_table(tmp_path):
    conn = connect(tmp_path / "dw.db")
    conn.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, ?)", [(i, f"v{i}") for i in range(50)])
    full_load(conn, "src", "dw")
    reader = connect(tmp_path / "dw.db")
    seen = []

    def look(statement):
        if statement.startswith("INSERT INTO"):  # the DELETE has run, the INSERT is next
            seen.append(reader.execute("SELECT COUNT(*) FROM dw").fetchone()[0])

    conn.set_trace_callback(look)
    full_load(conn, "src", "dw")
    assert seen == [50]


def test_full_load_keeps_children_of_a_referenced_target(lecture_conn):
    conn = lecture_conn
    full_load(conn, "src_customers", "dw_customers", **OPTS)
    conn.execute(
        "CREATE TABLE dw_orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER "
        "REFERENCES dw_customers(id) ON DELETE CASCADE)"
    )
    conn.executemany("INSERT INTO dw_orders VALUES (?, ?)", [(10, 1), (11, 3)])
    conn.execute("DELETE FROM src_customers WHERE id = 3")
    apply_lecture_changes(conn, 2)
    result = full_load(conn, "src_customers", "dw_customers", **OPTS)
    assert conn.execute("SELECT * FROM dw_orders").fetchall() == [(10, 1)]
    assert (result.inserted, result.updated, result.deleted, result.unchanged) == (1, 0, 1, 2)


# --- incremental_load: boundaries and state --------------------------------------------------

def test_first_incremental_run_is_a_backfill(lecture_conn):
    result = incremental_load(lecture_conn, "src_customers", "dw_customers", **OPTS)
    assert (result.watermark_before, result.inserted, result.watermark_after) == (
        None, 3, "2024-10-01")


def test_initial_value_skips_older_rows(lecture_conn):
    conn = lecture_conn
    apply_lecture_changes(conn, 1)
    result = incremental_load(
        conn, "src_customers", "dw_customers", initial_value="2024-10-05", **OPTS)
    assert [r[0] for r in rows(conn)] == [3, 4]
    assert result.rows_read == 2


def test_same_timestamp_row_written_after_the_load_is_not_lost(lecture_conn):
    conn = lecture_conn
    incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    # Written later on the same day, with the very timestamp the watermark stored.
    late = insert_customer(conn, id=9, name="Zoe", city="Zagreb", updated_at="2024-10-01")
    result = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert late in rows(conn)
    assert (result.inserted, result.unchanged) == (1, 3)


def test_lookback_catches_late_arriving_rows(synthetic_conn):
    conn = synthetic_conn
    incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    changes = simulate_changes(conn, "src_customers", late=3, inserts=2, seed=1)
    without = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert without.inserted == 2
    missing = {r[0] for r in rows(conn)}.isdisjoint(changes.late)
    assert missing, "without a lookback the late rows are skipped"
    with_lookback = incremental_load(
        conn, "src_customers", "dw_customers", lookback=timedelta(days=3), **OPTS)
    assert with_lookback.inserted == 3
    assert set(changes.late) <= {r[0] for r in rows(conn)}


def test_second_run_without_changes_writes_nothing(synthetic_conn):
    conn = synthetic_conn
    incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    before = conn.total_changes
    result = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert (result.inserted, result.updated, result.deleted) == (0, 0, 0)
    assert result.unchanged == result.rows_read
    assert conn.total_changes == before, "no row, not even the watermark, was rewritten"


def test_counts_match_simulated_changes(synthetic_conn):
    conn = synthetic_conn
    incremental_load(conn, "src_customers", "dw_customers", soft_delete="is_deleted", **OPTS)
    changes = simulate_changes(
        conn, "src_customers", inserts=7, updates=5, soft_deletes=3, hard_deletes=2, seed=3)
    result = incremental_load(
        conn, "src_customers", "dw_customers", soft_delete="is_deleted",
        reconcile_deletes=True, **OPTS)
    assert (result.inserted, result.updated, result.deleted) == (7, 5, 3 + 2)
    assert result.rows_read == result.inserted + result.updated + 3 + result.unchanged
    source = query(conn, "SELECT * FROM src_customers ORDER BY id")
    target = query(conn, "SELECT * FROM dw_customers ORDER BY id")
    pd.testing.assert_frame_equal(source, target)
    flagged = conn.execute("SELECT id FROM dw_customers WHERE is_deleted = 1").fetchall()
    assert sorted(r[0] for r in flagged) == changes.soft_deleted


def test_hard_deletes_are_only_removed_when_reconciling(synthetic_conn):
    conn = synthetic_conn
    incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    changes = simulate_changes(conn, "src_customers", hard_deletes=4, seed=2)
    kept = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert kept.deleted == 0 and len(rows(conn)) == 500
    removed = incremental_load(
        conn, "src_customers", "dw_customers", reconcile_deletes=True, **OPTS)
    assert removed.deleted == 4
    assert not {r[0] for r in rows(conn)} & set(changes.hard_deleted)


# --- incremental_load: the upsert -----------------------------------------------------------

@pytest.fixture
def warehouse_with_extras(lecture_conn):
    """dw_customers with a warehouse-only column and a child table, loaded once."""
    conn = lecture_conn
    conn.execute(customers_ddl("dw_customers", warehouse=True))
    conn.execute(
        "CREATE TABLE dw_orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER "
        "REFERENCES dw_customers(id) ON DELETE CASCADE)"
    )
    incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    conn.execute("UPDATE dw_customers SET segment = 'gold' WHERE id = 3")
    conn.execute("INSERT INTO dw_orders VALUES (100, 3)")
    return conn


def test_upsert_keeps_warehouse_columns_and_children(warehouse_with_extras):
    conn = warehouse_with_extras
    apply_lecture_changes(conn, 1)
    result = incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert (result.inserted, result.updated) == (1, 1)
    assert conn.execute("SELECT city, segment FROM dw_customers WHERE id = 3").fetchone() == (
        "Aurora", "gold")
    assert conn.execute("SELECT * FROM dw_orders").fetchall() == [(100, 3)]


def test_unchanged_rows_are_not_rewritten(warehouse_with_extras):
    conn = warehouse_with_extras
    apply_lecture_changes(conn, 1)
    with tracing(conn) as trace:
        incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    upsert = next(s for s in trace if s.startswith("INSERT INTO \"main\".\"dw_customers\""))
    assert "ON CONFLICT (\"id\") DO UPDATE" in upsert and "IS NOT excluded" in upsert
    assert "INSERT OR REPLACE" not in " ".join(trace)


def test_batches_give_the_same_result_as_one_statement(synthetic_conn, conn):
    src = synthetic_conn
    incremental_load(src, "src_customers", "dw_one", **OPTS)
    incremental_load(src, "src_customers", "dw_batched", **OPTS)
    simulate_changes(src, "src_customers", inserts=30, updates=40, same_timestamp=5, seed=5)
    one = incremental_load(src, "src_customers", "dw_one", **OPTS)
    batched = incremental_load(src, "src_customers", "dw_batched", batch_size=7, **OPTS)
    assert rows(src, "dw_one") == rows(src, "dw_batched") == rows(src, "src_customers")
    assert batched.batches == -(-batched.rows_read // 7) and one.batches == 1
    assert (batched.inserted, batched.updated, batched.unchanged) == (
        one.inserted, one.updated, one.unchanged)


def test_batches_cap_rows_per_statement(synthetic_conn):
    conn = synthetic_conn
    with tracing(conn) as trace:
        incremental_load(conn, "src_customers", "dw_customers", batch_size=120, **OPTS)
    upserts = [s for s in trace if s.startswith('INSERT INTO "main"."dw_customers"')]
    assert len(upserts) == 5  # 500 rows / 120 per batch
    assert len(rows(conn)) == 500


def test_integer_watermark_and_composite_key(conn):
    conn.execute(
        "CREATE TABLE src (region TEXT, id INTEGER, amount REAL, version INTEGER, "
        "PRIMARY KEY (region, id))"
    )
    conn.executemany("INSERT INTO src VALUES (?, ?, ?, ?)",
                     [("eu", 1, 10.0, 1), ("us", 1, 20.0, 2), ("eu", 2, 5.0, 3)])
    first = incremental_load(conn, "src", "dw", key=("region", "id"), watermark="version")
    conn.execute("UPDATE src SET amount = 11.0, version = 4 WHERE region = 'eu' AND id = 1")
    second = incremental_load(
        conn, "src", "dw", key=("region", "id"), watermark="version", batch_size=1)
    assert (first.watermark_after, second.watermark_after) == (3, 4)
    assert (second.rows_read, second.updated, second.unchanged) == (2, 1, 1)
    assert rows(conn, "dw") == rows(conn, "src")


def test_source_in_an_attached_database(tmp_path):
    source = connect(tmp_path / "source.db")
    source.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT)")
    source.execute("INSERT INTO customers VALUES (1, 'Aria', '2024-10-01 09:00:00')")
    source.close()
    dw = connect(tmp_path / "dw.db", attach_as={"src": tmp_path / "source.db"})
    result = incremental_load(dw, "src.customers", "dw_customers", **OPTS)
    assert (result.source, result.target, result.inserted) == ("src.customers", "dw_customers", 1)
    assert rows(dw) == [(1, "Aria", "2024-10-01 09:00:00")]


# --- bad input: a clear error and nothing written --------------------------------------------

@pytest.fixture
def loaded(lecture_conn):
    incremental_load(lecture_conn, "src_customers", "dw_customers", **OPTS)
    return lecture_conn


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"source": "src_customers; DROP TABLE dw_customers"}, UnknownTableError,
         "unknown source table"),
        ({"target": 'dw" (x); DROP TABLE src_customers; --'}, InvalidIdentifierError,
         "invalid target table name"),
        ({"key": "customer_id"}, UnknownColumnError, "unknown key column 'customer_id'"),
        ({"watermark": "modified"}, UnknownColumnError, "unknown watermark column 'modified'"),
        ({"soft_delete": "deleted"}, UnknownColumnError, "unknown soft-delete column"),
        ({"key": 'id" = 1 OR 1=1 --'}, UnknownColumnError, "unknown key column"),
    ],
)
def test_bad_names_are_rejected(loaded, kwargs, error, message):
    before = snapshot(loaded)
    arguments = {"source": "src_customers", "target": "dw_customers", **OPTS, **kwargs}
    with pytest.raises(error, match=message):
        incremental_load(loaded, **arguments)
    assert snapshot(loaded) == before
    assert loaded.execute("SELECT COUNT(*) FROM src_customers").fetchone() == (3,)


@pytest.mark.parametrize(
    ("stamp", "error", "message"),
    [
        (None, WatermarkError, "NULL watermark column"),
        ("2024-10-06T08:00:00", WatermarkError, "mixed formats"),
        ("2024-11-31", WatermarkError, "not timestamps or integers .*2024-11-31"),
        ("yesterday", WatermarkError, "yesterday"),
    ],
)
def test_bad_values_are_rejected_before_any_write(loaded, stamp, error, message):
    conn = loaded
    apply_lecture_changes(conn, 1)
    insert_customer(conn, id=7, name="Ted", city="Tokyo", updated_at=stamp)
    before = snapshot(conn)
    with pytest.raises(error, match=message):
        incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert snapshot(conn) == before


def test_null_keys_are_rejected(conn):
    conn.execute("CREATE TABLE src (id INTEGER, v TEXT, updated_at TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, ?, ?)",
                     [(1, "a", "2024-10-01"), (None, "b", "2024-10-02")])
    conn.execute("CREATE TABLE dw (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT)")
    with pytest.raises(KeyIntegrityError, match=r"1 row\(s\) of 'src' have a NULL key \(id\)"):
        incremental_load(conn, "src", "dw", **OPTS)
    assert rows(conn, "dw") == []


def test_duplicate_keys_in_a_keyless_source_are_rejected(conn):
    conn.execute("CREATE TABLE src (id INTEGER, v TEXT, updated_at TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, ?, ?)",
                     [(1, "a", "2024-10-01"), (1, "b", "2024-10-02")])
    with pytest.raises(KeyIntegrityError, match=r"key \{'id': 1\} appears 2 times"):
        incremental_load(conn, "src", "dw", **OPTS)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'dw'").fetchone() is None


def test_target_without_unique_key_is_rejected(lecture_conn):
    lecture_conn.execute(customers_ddl("dw_customers", primary_key=False))
    with pytest.raises(SchemaMismatchError, match=r'CREATE UNIQUE INDEX "dw_customers_id_key" '
                                                  r'ON "dw_customers"\("id"\) first'):
        incremental_load(lecture_conn, "src_customers", "dw_customers", **OPTS)


def test_target_missing_a_source_column_is_rejected(lecture_conn):
    lecture_conn.execute("CREATE TABLE dw_customers (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(SchemaMismatchError, match="lacks source column.*city, updated_at"):
        full_load(lecture_conn, "src_customers", "dw_customers")


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, "100", True])
def test_bad_batch_size(lecture_conn, batch_size):
    with pytest.raises(LoadOptionError, match="batch_size must be a positive int"):
        incremental_load(lecture_conn, "src_customers", "dw", batch_size=batch_size, **OPTS)


def test_lookback_of_the_wrong_kind(loaded):
    with pytest.raises(WatermarkError, match="pass a timedelta"):
        incremental_load(loaded, "src_customers", "dw_customers", lookback=3, **OPTS)


@pytest.mark.parametrize(
    ("stored", "hidden"),
    [
        ("2024-10-05T09:00:00", "2024-10-05 10:00:00"),  # ' ' sorts before 'T'
        ("2024-10-05 09:00:00", "2024-10-05"),  # a bare date sorts before any time that day
        ("2024-10-05", 20241006),  # numbers sort before all text
    ],
)
def test_values_of_another_format_hiding_below_the_watermark_are_found(conn, stored, hidden):
    conn.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at)")
    conn.execute("CREATE INDEX src_wm ON src (updated_at)")
    conn.execute("INSERT INTO src VALUES (1, ?)", (stored,))
    incremental_load(conn, "src", "dw", **OPTS)
    conn.execute("INSERT INTO src VALUES (2, ?)", (hidden,))
    before = rows(conn, "dw")
    with pytest.raises(WatermarkError, match=f"mixed formats.*{hidden}"):
        incremental_load(conn, "src", "dw", **OPTS)
    assert rows(conn, "dw") == before
