"""Bronze: raw text kept as received, ingestion metadata, idempotent batches, append-only."""

import sqlite3

import pandas as pd
import pytest
from builders import absent_optional
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect
from course_etl.errors import SchemaMismatchError, UnknownTableError
from course_etl.medallion.bronze import fixed_clock, ingest_batch
from course_etl.medallion.entities import CUSTOMERS, ENTITIES, MedallionInputError

ROWS = [
    {"id": 1, "name": "  Aria ", "city": "AUSTIN", "updated_at": "01.10.2024 08:00"},
    {"id": "2", "name": None, "city": "berlin", "updated_at": float("nan")},
]


def test_values_are_kept_as_received_as_text_with_metadata(conn):
    result = ingest_batch(conn, "customers", ROWS, clock=fixed_clock("2024-10-01T06:00:00Z"))
    assert (result.batch_id, result.rows, result.duplicate) == (1, 2, False)
    cursor = conn.execute("SELECT *, typeof(id) AS id_type FROM bronze_customers")
    names = [d[0] for d in cursor.description]
    assert [dict(zip(names, row, strict=True)) for row in cursor] == [
        {"_bronze_row": 1, "_batch_id": 1, "_source": "crm_export",
         "_ingested_at": "2024-10-01T06:00:00Z", "id": "1", "name": "  Aria ", "city": "AUSTIN",
         "updated_at": "01.10.2024 08:00", "id_type": "text", **absent_optional(CUSTOMERS)},
        {"_bronze_row": 2, "_batch_id": 1, "_source": "crm_export",
         "_ingested_at": "2024-10-01T06:00:00Z", "id": "2", "name": None, "city": "berlin",
         "updated_at": None, "id_type": "text", **absent_optional(CUSTOMERS)},
    ]


def test_the_same_batch_twice_is_a_no_op_that_names_the_first(conn):
    clock = fixed_clock()
    first = ingest_batch(conn, "customers", ROWS, clock=clock)
    again = ingest_batch(conn, "customers", pd.DataFrame(ROWS), clock=clock)
    assert again.duplicate and again.batch_id == first.batch_id
    assert "same content as batch 1" in str(again)
    assert conn.execute("SELECT COUNT(*) FROM bronze_customers").fetchone()[0] == 2
    other = ingest_batch(conn, "customers", ROWS[:1], clock=clock)
    assert (other.batch_id, other.duplicate) == (2, False)
    stamps = [r[0] for r in conn.execute("SELECT ingested_at FROM bronze_batches")]
    assert stamps == ["2024-10-01T06:00:00Z", "2024-10-01T07:00:00Z"]


def test_bronze_is_append_only(conn):
    ingest_batch(conn, "customers", ROWS, clock=fixed_clock())
    for statement in ("UPDATE bronze_customers SET city = 'x'", "DELETE FROM bronze_customers"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)


def test_bad_batches_write_nothing(conn):
    with pytest.raises(SchemaMismatchError, match="missing updated_at; unexpected town"):
        ingest_batch(conn, "customers", [{"id": 1, "name": "A", "city": "B", "town": "C"}])
    with pytest.raises(UnknownTableError, match=r"unknown medallion source 'custmers' \(known: "
                                                r"customers, orders\)") as refused:
        ingest_batch(conn, "custmers", ROWS)
    assert (refused.value.table, refused.value.known) == ("custmers", ["customers", "orders"])
    with pytest.raises(MedallionInputError, match="empty batch"):
        ingest_batch(conn, "orders", [])
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                         "AND name LIKE 'bronze_%'")]
    assert all(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == 0 for t in tables)


def test_real_clock_is_used_by_default_and_must_be_aware(conn):
    result = ingest_batch(conn, "customers", ROWS)
    stamp = conn.execute("SELECT ingested_at FROM bronze_batches").fetchone()[0]
    assert result.batch_id == 1 and stamp.endswith("Z") and stamp >= "2025"
    from datetime import datetime

    class NaiveClock:  # a clock must give aware UTC moments (course_etl.clock): refused
        def now(self):
            return datetime(2024, 10, 1)

    with pytest.raises(MedallionInputError, match="no time zone"):
        ingest_batch(conn, "customers", ROWS[:1], clock=NaiveClock())


@settings(max_examples=40, deadline=None)
@given(entity=st.sampled_from(sorted(ENTITIES)), data=st.data())
def test_a_batch_that_does_not_fit_carries_what_it_lacks_what_it_adds_and_the_columns(entity,
                                                                                      data):
    entity = ENTITIES[entity]
    dropped = data.draw(st.lists(st.sampled_from(entity.required_columns), unique=True))
    extra = data.draw(st.lists(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True).filter(
        lambda name: name not in entity.raw_columns), unique=True, max_size=3))
    if not dropped and not extra:
        extra = ["zz_" + entity.name]
    row = {**{c: "1" for c in entity.raw_columns if c not in dropped}, **{c: "x" for c in extra}}
    conn = connect(":memory:")
    with pytest.raises(SchemaMismatchError) as refused:
        ingest_batch(conn, entity.name, [row])
    error = refused.value
    assert (error.table, error.missing, error.unexpected, error.known) == (
        entity.bronze_table, [c for c in entity.required_columns if c in dropped], extra,
        list(entity.raw_columns))
    empty = pd.DataFrame(columns=list(row))  # the same columns, no rows: an empty batch
    with pytest.raises(MedallionInputError) as refused:
        ingest_batch(conn, entity.name, empty)
    assert refused.value.table == entity.bronze_table and refused.value.value is empty


@settings(max_examples=25, deadline=None)
@given(name=st.text(min_size=1, max_size=12).filter(lambda name: name not in ENTITIES))
def test_an_unknown_source_carries_its_name_and_the_sources(name):
    conn = connect(":memory:")
    with pytest.raises(UnknownTableError) as refused:
        ingest_batch(conn, name, ROWS)
    assert (refused.value.table, refused.value.known, refused.value.what) == (
        name, list(ENTITIES), "medallion source")
