"""Optional columns: a field with a declared default may be left out of a batch.

The customers entity gets two fields the facts do not have (as an instructor would add them):
``email`` (optional, default NULL) and ``tier`` (optional, default 'standard'). Hand-written
batches without them still ingest; silver stores the default; a warehouse built before the fields
existed gains the columns and keeps its rows and batch identities; a new *required* field asks for
a rebuild and leaves silver as it was.
"""

from __future__ import annotations

import dataclasses

import pytest
from builders import customers
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect
from course_etl.errors import SchemaMismatchError
from course_etl.medallion import (
    CUSTOMERS,
    ENTITIES,
    Field,
    compare_with_rebuild,
    fixed_clock,
    ingest_batch,
    process_new_batches,
    rebuild_from_bronze,
    reconcile,
)


def _unused(name: str) -> str:
    """``name``, or a variant of it, that the customers entity does not have yet."""
    taken = set(CUSTOMERS.raw_columns)
    return next(n for n in (name, *(f"{name}_{i}" for i in range(2, 99))) if n not in taken)


EMAIL = Field(_unused("email"), "text", required=False)
TIER = Field(_unused("tier"), "text", required=False, default="standard")
E, T = EMAIL.name, TIER.name
WITH_OPTIONAL = dataclasses.replace(CUSTOMERS, fields=(*CUSTOMERS.fields, EMAIL, TIER))


@pytest.fixture
def optional_fields(monkeypatch):
    """The customers entity with ``email`` and ``tier`` added, as if declared in the facts."""
    monkeypatch.setitem(ENTITIES, CUSTOMERS.name, WITH_OPTIONAL)
    return WITH_OPTIONAL


def _rows(conn, sql):
    return [list(row) for row in conn.execute(sql)]


def _silver(conn, *columns):
    names = ", ".join(("id", *columns))
    return _rows(conn, f"SELECT {names} FROM silver_customers ORDER BY id")


def test_a_batch_may_leave_optional_fields_out(conn, optional_fields):
    clock = fixed_clock()
    ingest_batch(conn, "customers", customers(("1", "Aria", "Austin", "2024-10-01 09:00")),
                 clock=clock)
    ingest_batch(conn, "customers", [{**customers(("2", "Ben", "Berlin", "2024-10-01"))[0],
                                      E: " ben@example.org ", T: "gold"},
                                     {**customers(("3", "Chloe", "Chicago", "2024-10-01"))[0],
                                      E: "  "}], clock=clock)
    result = process_new_batches(conn)
    assert result.promoted
    assert _rows(conn, f"SELECT id, {E}, {T} FROM bronze_customers") == [
        ["1", None, None], ["2", " ben@example.org ", "gold"], ["3", "  ", None]]
    assert _silver(conn, E, T) == [
        [1, None, "standard"], [2, "ben@example.org", "gold"], [3, None, "standard"]]
    assert all(r.balanced for r in reconcile(conn))


def test_a_missing_required_column_names_required_and_optional_ones(conn, optional_fields):
    required = ", ".join(CUSTOMERS.required_columns)
    optional = ", ".join(c for c in WITH_OPTIONAL.raw_columns
                         if c not in WITH_OPTIONAL.required_columns)
    with pytest.raises(SchemaMismatchError,
                       match=rf"\({required}; optional: {optional}\): missing city") as error:
        ingest_batch(conn, "customers", [{"id": 1, "name": "A", "updated_at": "2024-10-01"}])
    assert error.value.missing == ["city"]
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_an_existing_warehouse_gains_an_optional_field(conn, monkeypatch):
    clock = fixed_clock()
    first = customers(("1", "Aria", "Austin", "2024-10-01 09:00"),
                      ("2", "Ben", "Berlin", "2024-10-01 09:00"))
    before = ingest_batch(conn, "customers", first, clock=clock)
    process_new_batches(conn)
    monkeypatch.setitem(ENTITIES, CUSTOMERS.name, WITH_OPTIONAL)  # the facts gain two fields
    again = ingest_batch(conn, "customers", first, clock=clock)
    assert again.duplicate and again.content_hash == before.content_hash, (
        "a batch without the new fields is the batch it was")
    ingest_batch(conn, "customers", [{**first[0], "updated_at": "2024-10-02 09:00",
                                      E: "aria@example.org"}], clock=clock)
    result = process_new_batches(conn)
    assert result.promoted
    assert _silver(conn, "city", E, T) == [
        [1, "Austin", "aria@example.org", "standard"], [2, "Berlin", None, None]]
    # Ben's row was merged before tier existed: NULL, as after an ALTER TABLE; a rebuild from
    # bronze conforms it again and gives it the default.
    rebuilt = connect(":memory:")
    conn.backup(rebuilt)
    rebuild_from_bronze(rebuilt)
    assert _silver(rebuilt, T) == [[1, "standard"], [2, "standard"]]
    assert all(r.balanced for r in reconcile(conn))


def test_a_new_required_field_asks_for_a_rebuild_and_leaves_silver_alone(conn, monkeypatch):
    ingest_batch(conn, "customers", customers(("1", "Aria", "Austin", "2024-10-01")),
                 clock=fixed_clock())
    process_new_batches(conn)
    silver_sql = "SELECT sql FROM sqlite_master WHERE name NOT LIKE 'bronze%' ORDER BY name"
    schema_before = conn.execute(silver_sql).fetchall()
    required = dataclasses.replace(CUSTOMERS, fields=(*CUSTOMERS.fields, Field(E, "text")))
    monkeypatch.setitem(ENTITIES, CUSTOMERS.name, required)
    ingest_batch(conn, "customers", [{**customers(("2", "Ben", "Berlin", "2024-10-02"))[0],
                                      E: "ben@example.org"}], clock=fixed_clock())
    with pytest.raises(SchemaMismatchError, match=(
            rf"'silver_customers' has no column '{E}', which customers now requires: rebuild "
            r"silver from bronze \(rebuild_from_bronze\), or declare a default")):
        process_new_batches(conn)
    assert conn.execute(silver_sql).fetchall() == schema_before
    # Bronze keeps every column a source may send: the new one is there, empty, for the rebuild.
    assert _rows(conn, f"SELECT id, {E} FROM bronze_customers") == [
        ["1", None], ["2", "ben@example.org"]]
    rebuild_from_bronze(conn)  # the row sent before email existed cannot have one
    assert _rows(conn, "SELECT rule FROM silver_rejects") == [[f"{E}_missing"]]
    assert _silver(conn, E) == [[2, "ben@example.org"]]


_VALUE = st.one_of(st.none(), st.just(""), st.just("  "), st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={E: _VALUE, T: _VALUE}),
                min_size=1, max_size=6))
def test_silver_holds_the_value_sent_or_the_declared_default(extras):
    conn = connect(":memory:")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ENTITIES, CUSTOMERS.name, WITH_OPTIONAL)
        batch = [{**customers((str(n), "Name", "City", "2024-10-01"))[0], **extra}
                 for n, extra in enumerate(extras, start=1)]
        ingest_batch(conn, "customers", batch, clock=fixed_clock())
        assert process_new_batches(conn).promoted
        expected = []
        for n, extra in enumerate(extras, start=1):
            sent = {k: " ".join(str(v).split()) or None for k, v in extra.items() if v is not None}
            expected.append([n, sent.get(E) or EMAIL.default, sent.get(T) or TIER.default])
        assert _silver(conn, E, T) == expected
        assert compare_with_rebuild(conn).identical
