"""connect, identifier validation, atomic transactions, query and tracing."""

import sqlite3

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import (
    InvalidIdentifierError,
    UnknownColumnError,
    UnknownTableError,
    atomic,
    connect,
    query,
    quote_identifier,
    resolve_table,
    tracing,
)
from course_etl.db import BUSY_TIMEOUT_MS, validate_identifier
from course_etl.facts import CUSTOMERS


def test_connect_memory_enforces_foreign_keys(conn):
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.isolation_level is None


def test_connect_file_uses_wal_and_busy_timeout(file_conn):
    assert file_conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert file_conn.execute("PRAGMA busy_timeout").fetchone() == (BUSY_TIMEOUT_MS,) == (5000,)
    assert file_conn.execute("PRAGMA foreign_keys").fetchone() == (1,)



def test_connect_takes_its_busy_timeout_from_the_constant(tmp_path, monkeypatch):
    monkeypatch.setattr("course_etl.db.BUSY_TIMEOUT_MS", 123)
    conn = connect(tmp_path / "t.db")
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (123,)
    conn.close()

@pytest.mark.parametrize(
    ("name", "quoted"),
    [("customers", '"customers"'), ('we"ird', '"we""ird"'), ("a b", '"a b"')],
)
def test_quote_identifier(name, quoted):
    assert quote_identifier(name) == quoted


@pytest.mark.parametrize(
    "bad", ["", "1table", "dw; DROP TABLE x", 'x" --', "a.b", None, 3, "naïve"]
)
def test_validate_identifier_rejects(bad):
    with pytest.raises(InvalidIdentifierError, match="invalid target"):
        validate_identifier(bad, what="target")


def test_resolve_table_lists_known_tables(lecture_conn):
    with pytest.raises(UnknownTableError) as info:
        resolve_table(lecture_conn, "src_custmers", role="source table")
    assert str(info.value) == "unknown source table 'src_custmers' (known: src_customers)"


def test_resolve_table_rejects_injection_shaped_names(lecture_conn):
    with pytest.raises(UnknownTableError, match="known: src_customers"):
        resolve_table(lecture_conn, "src_customers; DROP TABLE src_customers")
    assert resolve_table(lecture_conn, "src_customers").columns == CUSTOMERS.names


def test_table_ref_column_lists_columns(lecture_conn):
    ref = resolve_table(lecture_conn, "src_customers")
    assert ref.column("city") == "city"
    with pytest.raises(UnknownColumnError) as info:
        ref.column("updatedat", role="watermark column")
    assert f"columns: {', '.join(CUSTOMERS.names)}" in str(info.value)


_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda name: not name.startswith("sqlite"))


@settings(max_examples=40, deadline=None)
@given(tables=st.sets(_NAMES, min_size=0, max_size=5), asked=_NAMES,
       role=st.sampled_from(["table", "source table", "target table"]))
def test_an_unknown_table_carries_the_name_the_tables_there_are_and_the_role(tables, asked,
                                                                              role):
    conn = connect(":memory:")
    for table in tables - {asked}:
        conn.execute(f"CREATE TABLE {quote_identifier(table)} (x)")
    with pytest.raises(UnknownTableError) as info:
        resolve_table(conn, asked, role=role)
    assert (info.value.table, sorted(info.value.known), info.value.what) == (
        asked, sorted(tables - {asked}), role)


@settings(max_examples=40, deadline=None)
@given(columns=st.lists(_NAMES, min_size=1, max_size=6, unique=True), asked=_NAMES,
       table=_NAMES, role=st.sampled_from(["column", "key column", "watermark column"]))
def test_an_unknown_column_carries_the_table_the_column_its_columns_and_the_role(
        columns, asked, table, role):
    columns = [c for c in columns if c != asked] or [asked + "_other"]
    conn = connect(":memory:")
    conn.execute(f"CREATE TABLE {quote_identifier(table)} "
                 f"({', '.join(map(quote_identifier, columns))})")
    with pytest.raises(UnknownColumnError) as info:
        resolve_table(conn, table).column(asked, role=role)
    assert (info.value.table, info.value.column, list(info.value.known), info.value.what) == (
        table, asked, columns, role)


def test_attached_schema(tmp_path):
    source = connect(tmp_path / "source.db")
    source.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    source.close()
    warehouse = connect(tmp_path / "dw.db", attach_as={"src": tmp_path / "source.db"})
    ref = resolve_table(warehouse, "src.customers")
    assert (ref.schema, ref.name, ref.label, ref.sql) == (
        "src", "customers", "src.customers", '"src"."customers"')
    with pytest.raises(UnknownTableError, match="known: src.customers"):
        resolve_table(warehouse, "src.orders")


def test_atomic_commits_and_rolls_back(conn):
    conn.execute("CREATE TABLE t (x INTEGER)")
    with atomic(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), atomic(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert not conn.in_transaction


def test_atomic_nests_with_savepoints(conn):
    conn.execute("CREATE TABLE t (x INTEGER)")
    with atomic(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError), atomic(conn):
            conn.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("inner fails")
        conn.execute("INSERT INTO t VALUES (3)")
    assert conn.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (3,)]


def test_query_returns_dataframe_with_bound_params(lecture_conn):
    frame = query(lecture_conn, "SELECT id, name FROM src_customers WHERE id >= ?", (2,))
    expected = pd.DataFrame({"id": [2, 3], "name": ["Ben", "Chloe"]})
    pd.testing.assert_frame_equal(frame, expected)
    empty = query(lecture_conn, "SELECT id FROM src_customers WHERE id > :n", {"n": 9})
    assert list(empty.columns) == ["id"] and empty.empty


def test_tracing_records_statements_with_values(lecture_conn):
    with tracing(lecture_conn) as trace:
        lecture_conn.execute("SELECT name FROM src_customers WHERE id = ?", (2,))
    assert trace == ["SELECT name FROM src_customers WHERE id = 2"]
    lecture_conn.execute("SELECT 1")
    assert len(trace) == 1, "tracing stops when the block ends"


def test_trace_show_hides_schema_lookups(lecture_conn, capsys):
    with tracing(lecture_conn) as trace:
        resolve_table(lecture_conn, "src_customers")
        lecture_conn.execute("SELECT COUNT(*) FROM src_customers")
    trace.show()
    assert capsys.readouterr().out == " 1. SELECT COUNT(*) FROM src_customers\n"
    assert len(trace.statements(include_schema_lookups=True)) > 1


def test_connect_tracer_argument():
    seen = []
    conn = connect(":memory:", tracer=seen.append)
    conn.execute("SELECT 42")
    assert "SELECT 42" in seen


def test_readers_see_old_snapshot_during_a_write(tmp_path):
    writer = connect(tmp_path / "w.db")
    writer.execute("CREATE TABLE t (x INTEGER)")
    writer.execute("INSERT INTO t VALUES (1)")
    reader = sqlite3.connect(tmp_path / "w.db")
    with atomic(writer):
        writer.execute("DELETE FROM t")
        assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (1,)
    assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


def test_file_connections_sync_normally_in_wal(file_conn):
    # NORMAL in WAL mode: a killed process loses nothing committed, and commits need no fsync.
    assert file_conn.execute("PRAGMA synchronous").fetchone() == (1,)
