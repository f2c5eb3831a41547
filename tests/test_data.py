"""The lecture's data, the synthetic generator and the change simulator."""

import dataclasses
from unittest import mock

import pandas as pd
import pytest
from builders import lecture
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import UnknownColumnError, connect, query
from course_etl.facts import CHANGE_ROUNDS, CUSTOMERS, SOFT_DELETE, Column
from course_etl.sample_data import (
    LECTURE_CUSTOMERS,
    SampleDataError,
    apply_lecture_changes,
    create_customer_source,
    create_lecture_source,
    generate_customers,
    simulate_changes,
)


def test_lecture_source_and_changes(lecture_conn):
    conn = lecture_conn
    assert conn.execute("SELECT * FROM src_customers").fetchall() == LECTURE_CUSTOMERS
    apply_lecture_changes(conn, 1)
    apply_lecture_changes(conn, 2)
    assert conn.execute("SELECT * FROM src_customers ORDER BY id").fetchall() == lecture(2)
    with pytest.raises(SampleDataError, match="rounds 1 and 2"):
        apply_lecture_changes(conn, 3)
    assert conn.execute("SELECT * FROM src_customers ORDER BY id").fetchall() == lecture(2)


def test_generator_is_deterministic_and_shaped():
    first, again, other = (generate_customers(1000, seed=s) for s in (1, 1, 2))
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert list(first.columns) == [*CUSTOMERS.names, SOFT_DELETE.name]
    assert first["id"].tolist() == list(range(1, 1001))
    assert first["updated_at"].str.fullmatch(r"2024-1[01]-\d\d \d\d:\d\d:\d\d").all()
    assert first["updated_at"].min() >= "2024-10-01" and first["updated_at"].max() < "2024-10-31"
    assert generate_customers(0).empty


def test_create_customer_source_writes_an_indexed_table(conn, capsys):
    assert create_customer_source(conn, "src", 2500, seed=3, chunk_rows=1000, progress=True) == 2500
    assert conn.execute("SELECT COUNT(*), MIN(id), MAX(id) FROM src").fetchone() == (2500, 1, 2500)
    indexes = conn.execute("SELECT name FROM pragma_index_list('src')").fetchall()
    assert ("src_updated_at",) in indexes
    assert "2500/2500" in capsys.readouterr().err, "a progress bar was shown"


def test_simulate_changes_does_what_it_reports(synthetic_conn):
    conn = synthetic_conn
    before = query(conn, "SELECT * FROM src_customers").set_index("id")
    highest = before["updated_at"].max()
    changes = simulate_changes(conn, "src_customers", inserts=4, updates=3, soft_deletes=2,
                               hard_deletes=2, late=2, same_timestamp=1, seed=9)
    after = query(conn, "SELECT * FROM src_customers").set_index("id")
    assert changes.counts() == {"inserted": 4, "updated": 3, "soft_deleted": 2,
                                "hard_deleted": 2, "late": 2, "same_timestamp": 1}
    assert changes.at > highest
    assert set(after.index) - set(before.index) == set(
        changes.inserted + changes.late + changes.same_timestamp)
    assert set(before.index) - set(after.index) == set(changes.hard_deleted)
    assert (after.loc[changes.updated, "updated_at"] == changes.at).all()
    assert (after.loc[changes.soft_deleted, "is_deleted"] == 1).all()
    assert (after.loc[changes.late, "updated_at"] < highest).all()
    assert (after.loc[changes.same_timestamp, "updated_at"] == highest).all()
    touched = changes.updated + changes.soft_deleted + changes.hard_deleted
    assert len(set(touched)) == len(touched), "each existing row gets one change"


def test_simulate_changes_never_reuses_deleted_ids(synthetic_conn):
    conn = synthetic_conn
    conn.execute("DELETE FROM src_customers WHERE id = 500")
    changes = simulate_changes(conn, "src_customers", inserts=1)
    assert changes.inserted == [501]


def test_simulate_changes_on_the_lecture_table(lecture_conn):
    changes = simulate_changes(lecture_conn, "src_customers", inserts=1, same_timestamp=1)
    assert changes.at == "2024-10-02"
    with pytest.raises(UnknownColumnError, match="is_deleted") as refused:
        simulate_changes(lecture_conn, "src_customers", soft_deletes=1)
    assert (refused.value.table, refused.value.column, refused.value.known,
            refused.value.what) == ("src_customers", SOFT_DELETE.name, list(CUSTOMERS.names),
                                    "soft-delete flag column")
    with pytest.raises(SampleDataError, match="has 5 live rows"):
        simulate_changes(lecture_conn, "src_customers", updates=9)


@settings(max_examples=30, deadline=None)
@given(round_=st.integers(-10**6, 10**6).filter(lambda n: n not in CHANGE_ROUNDS))
def test_an_unknown_round_carries_the_round_and_the_rounds_there_are(round_):
    conn = connect(":memory:")
    create_lecture_source(conn)
    with pytest.raises(SampleDataError) as refused:
        apply_lecture_changes(conn, round_)
    assert (refused.value.value, refused.value.known) == (round_, list(CHANGE_ROUNDS))
    assert conn.execute("SELECT * FROM src_customers").fetchall() == LECTURE_CUSTOMERS


@settings(max_examples=25, deadline=None)
@given(live=st.integers(0, 30), data=st.data())
def test_asking_for_more_changes_than_rows_carries_the_request_and_the_rows(live, data):
    conn = connect(":memory:")
    create_customer_source(conn, "src", live, progress=False)
    updates, soft, hard = data.draw(st.tuples(*[st.integers(0, 20)] * 3).filter(
        lambda counts: sum(counts) > live))
    before = conn.execute("SELECT * FROM src ORDER BY id").fetchall()
    with pytest.raises(SampleDataError) as refused:
        simulate_changes(conn, "src", updates=updates, soft_deletes=soft, hard_deletes=hard)
    assert (refused.value.value, refused.value.rows, refused.value.table) == (
        updates + soft + hard, live, "src")
    assert conn.execute("SELECT * FROM src ORDER BY id").fetchall() == before


@settings(max_examples=20, deadline=None)
@given(name=st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(
    lambda name: name not in (*CUSTOMERS.names, SOFT_DELETE.name)))
def test_a_required_column_with_nothing_to_draw_from_is_named(name):
    extended = dataclasses.replace(CUSTOMERS, columns=(*CUSTOMERS.columns, Column(name)))
    with mock.patch("course_etl.sample_data.CUSTOMERS", extended), \
            pytest.raises(SampleDataError) as refused:
        generate_customers(3)
    assert (refused.value.value, refused.value.column) == (name, name)
