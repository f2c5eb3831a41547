"""The course's facts: one definition, checked on import, and the SQL built from them.

A wrong edit of ``course_etl/facts/lecture.py`` fails with one line naming the fact and the file;
the SQL the facts build (``CREATE TABLE``, ``INSERT``, each change) does in SQLite what the plain
Python model (:func:`course_etl.facts.apply_changes`) says, for generated schemas and rows that
nobody wrote (quotes in names, optional columns with defaults, any order of changes).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect, facts
from course_etl.errors import InvalidIdentifierError
from course_etl.facts import (
    FACTS_FILE,
    Column,
    Delete,
    FactsError,
    Insert,
    Schedule,
    Schema,
    Tables,
    Update,
    apply_changes,
    change_statement,
)
from course_etl.sample_data import (
    LECTURE_CHANGES,
    LECTURE_CUSTOMERS,
    apply_lecture_changes,
    create_lecture_source,
)
from course_etl.scheduling.cron import describe_cron, validate_cron


def test_the_lecture_facts_fit_together():
    facts.check_facts()
    validate_cron(facts.SCHEDULE.cron)  # the course's cron rules, not only croniter's
    assert describe_cron(facts.SCHEDULE.cron) == f"At {facts.SCHEDULE.time_of_day}"


def test_the_source_after_each_round_is_what_the_database_holds(conn):
    create_lecture_source(conn)
    select = f"SELECT * FROM {facts.TABLES.source} ORDER BY {facts.CUSTOMERS.key}"
    assert conn.execute(select).fetchall() == facts.lecture_tuples(0) == LECTURE_CUSTOMERS
    for number in facts.CHANGE_ROUNDS:
        apply_lecture_changes(conn, number)
        assert conn.execute(select).fetchall() == facts.lecture_tuples(number)


def test_the_public_names_of_sample_data_derive_from_the_facts():
    assert list(LECTURE_CHANGES) == list(facts.CHANGE_ROUNDS)
    statements = [sql for changes in LECTURE_CHANGES.values() for sql, _ in changes]
    assert all(facts.TABLES.source in sql for sql in statements)


def test_rounds_are_told_in_words():
    assert facts.describe_round(1) == "Chloe moves to Aurora, Dai arrives"
    assert facts.describe_round(2) == "Eva arrives"
    assert facts.round_day(1) == date(2024, 10, 5)
    with pytest.raises(FactsError, match="unknown change round 9: the lecture has rounds 1 and 2"):
        facts.lecture_rows(9)


# --- A wrong edit fails at once, naming the fact and the file ---------------------------------

_ROW = {"id": 9, "name": "Ines", "city": "Izmir", "updated_at": "2024-10-01"}
_ROWS = len(facts.LECTURE_ROWS)


@pytest.mark.parametrize(("patch", "message"), [
    ({"LECTURE_ROWS": (*facts.LECTURE_ROWS, {"id": 9, "name": "Ines"})},
     rf"LECTURE_ROWS\[{_ROWS}\] lacks 'city', 'updated_at': give a value or declare a default"),
    ({"LECTURE_ROWS": (*facts.LECTURE_ROWS, {**_ROW, "no_such_column": "x"})},
     rf"LECTURE_ROWS\[{_ROWS}\] has column\(s\) 'no_such_column' that customers does not"),
    ({"CHANGE_ROUNDS": {1: (Insert(**{**_ROW, "id": 1}),)}},
     r"CHANGE_ROUNDS\[1\] inserts id=1, which exists"),
    ({"CHANGE_ROUNDS": {1: (Update(42, city="Oslo", updated_at="2024-10-05"),)}},
     r"CHANGE_ROUNDS\[1\] changes id=42, which does not exist \(known: 1, 2, 3\)"),
    ({"CHANGE_ROUNDS": {1: (Update(3, town="Oslo"),)}},
     r"CHANGE_ROUNDS\[1\] updates 'town': not a non-key column"),
    ({"CHANGE_ROUNDS": {1: (Update(3, name="Cleo"),)}},
     r"CHANGE_ROUNDS\[1\] sets no updated_at"),
    ({"LECTURE_ORDERS": ({"order_id": 1, "customer_id": 77, "amount": "1.00",
                          "ordered_at": "2024-10-02"},)},
     r"LECTURE_ORDERS\[0\] belongs to customer 77, who is not in the story"),
    ({"LECTURE_SEGMENTS": {12: "gold"}}, r"LECTURE_SEGMENTS names customers \[12\]"),
    ({"LATER_SAME_DAY": Insert(**{**_ROW, "id": 4})}, r"LATER_SAME_DAY inserts id=4"),
])
def test_a_fact_that_does_not_fit_is_named_with_the_file(patch, message):
    with mock.patch.multiple(facts, **patch), pytest.raises(FactsError, match=message) as error:
        facts.check_facts()
    assert str(error.value).startswith(FACTS_FILE)


_STORY_KEYS = sorted(row["id"] for row in facts.lecture_rows(max(facts.CHANGE_ROUNDS)))
_NOT_A_KEY = st.integers(-10**6, 10**6).filter(lambda key: key not in _STORY_KEYS)


@settings(max_examples=30, deadline=None)
@given(customer=_NOT_A_KEY, data=st.data())
def test_an_order_of_nobody_carries_its_place_the_customer_and_the_customers(customer, data):
    bad = {"order_id": 1, "customer_id": customer, "amount": "1.00", "ordered_at": "2024-10-02"}
    at = data.draw(st.integers(0, len(facts.LECTURE_ORDERS)))
    orders = (*facts.LECTURE_ORDERS[:at], bad, *facts.LECTURE_ORDERS[at:])
    with mock.patch.object(facts, "LECTURE_ORDERS", orders), pytest.raises(FactsError) as error:
        facts.check_facts()
    assert (error.value.fact, error.value.value, error.value.known) == (
        f"LECTURE_ORDERS[{at}]", customer, _STORY_KEYS)


@settings(max_examples=30, deadline=None)
@given(customers=st.sets(_NOT_A_KEY, min_size=1, max_size=4))
def test_segments_of_nobody_carry_the_customers_and_those_there_are(customers):
    segments = {**facts.LECTURE_SEGMENTS, **{c: "gold" for c in customers}}
    with mock.patch.object(facts, "LECTURE_SEGMENTS", segments), \
            pytest.raises(FactsError) as error:
        facts.check_facts()
    assert (error.value.fact, error.value.value, error.value.known) == (
        "LECTURE_SEGMENTS", sorted(customers), _STORY_KEYS)


@settings(max_examples=30, deadline=None)
@given(round_=st.integers(-10**6, 10**6).filter(lambda n: n not in facts.CHANGE_ROUNDS))
def test_an_unknown_round_carries_the_round_and_the_rounds(round_):
    with pytest.raises(FactsError) as error:
        facts.describe_round(round_)
    assert (error.value.fact, error.value.value, error.value.known) == (
        "CHANGE_ROUNDS", round_, list(facts.CHANGE_ROUNDS))


_SCHEMA = Schema("c", (Column("id", "INTEGER"), Column("name"), Column("city", default=None)),
                 key="id")


@settings(max_examples=40, deadline=None)
@given(key=st.integers(-50, 50), column=st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_a_change_that_does_not_fit_carries_the_key_or_column_and_the_choices(key, column):
    rows = [{"id": 1, "name": "Aria"}, {"id": 7, "name": "Ben"}]
    keys = [1, 7]
    if key not in keys:
        with pytest.raises(FactsError) as error:
            apply_changes(_SCHEMA, rows, [Update(key, name="x")], fact="ROUND")
        assert (error.value.fact, error.value.value, error.value.known) == ("ROUND", key, keys)
    if column not in _SCHEMA.names:
        with pytest.raises(FactsError) as error:
            apply_changes(_SCHEMA, rows, [Update(1, **{column: "x"})], fact="ROUND")
        assert (error.value.value, error.value.known) == ([column], ["name", "city"])
        with pytest.raises(FactsError) as error:
            _SCHEMA.row({"id": 2, "name": "Cy", column: "x"}, fact="ROW")
        assert (error.value.fact, error.value.value, error.value.known) == (
            "ROW", [column], ["id", "name", "city"])
        with pytest.raises(FactsError) as error:
            _SCHEMA.column(column)
        assert (error.value.value, error.value.known) == (column, ["id", "name", "city"])
        with pytest.raises(FactsError) as error:
            Schema("c", _SCHEMA.columns, key=column)
        assert (error.value.value, error.value.known) == (column, ["id", "name", "city"])
    if column not in facts.model.KINDS:
        with pytest.raises(FactsError) as error:
            Column("x", kind=column)
        assert (error.value.value, error.value.known) == (column, list(facts.model.KINDS))
    if column.upper() not in ("TEXT", "INTEGER", "REAL"):
        with pytest.raises(FactsError) as error:
            Column("x", column.upper())
        assert (error.value.value, error.value.known) == (
            column.upper(), ["TEXT", "INTEGER", "REAL"])


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Schedule("customers_etl", "30 6 * *", "UTC", date(2024, 10, 1)),
     "SCHEDULE.cron '30 6 \\* \\*' has 4 fields: write five fields"),
    (lambda: Schedule("customers_etl", "30 6 * * * *", "UTC", date(2024, 10, 1)),
     "has 6 fields"),
    (lambda: Schedule("customers_etl", "5 25 * * *", "UTC", date(2024, 10, 1)),
     "'5 25 \\* \\* \\*' has a value out of range"),
    (lambda: Schedule("customers_etl", "30 6 * * *", "Mars/Base", date(2024, 10, 1)),
     "SCHEDULE.timezone 'Mars/Base' is not an IANA time zone"),
    (lambda: Schema("c", (Column("id", "INTEGER"), Column("id")), key="id"),
     "c columns name id twice"),
    (lambda: Schema("c", (Column("id", "INTEGER"),), key="uid"),
     "c key 'uid' is not one of its columns"),
    (lambda: Schema("c", (Column("id", "INTEGER", default=0),), key="id"),
     "c key 'id' cannot be optional"),
    (lambda: Column("id", "VARCHAR"), "has type 'VARCHAR'"),
    (lambda: Column("id", kind="date"), "has kind 'date'"),
    (lambda: Column("email", nullable=False, default=None), "defaults to NULL but may not be"),
])
def test_a_malformed_fact_fails_on_construction(make, message):
    with pytest.raises(FactsError, match=message):
        make()


def test_names_must_be_plain_identifiers():
    with pytest.raises(InvalidIdentifierError, match="TABLES.warehouse"):
        Tables("src", "dw; DROP TABLE x", "stg", "etl_watermarks", "dw_orders", "gold")
    with pytest.raises(InvalidIdentifierError, match="column name"):
        Column('na"me')


def test_once_a_day_schedules_have_a_time_of_day():
    minute, hour = facts.SCHEDULE.cron.split()[:2]
    assert not facts.SCHEDULE.once_a_day or facts.SCHEDULE.time_of_day == (
        f"{int(hour):02d}:{int(minute):02d}")
    weekly = Schedule("x", "30 6 * * 1", "UTC", date(2024, 10, 1))
    assert not weekly.once_a_day and weekly.time_of_day is None
    assert Schedule("x", "0 18 * * *", "UTC", date(2024, 10, 1)).time_of_day == "18:00"


# --- The SQL the facts build does what the model says ----------------------------------------

_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=8)


@st.composite
def schemas_rows_and_changes(draw):
    names = draw(st.lists(_NAME.filter(lambda n: n not in ("id", "ts")), min_size=1, max_size=4,
                          unique=True))
    columns = [Column("id", "INTEGER", kind="integer", nullable=False),
               Column("ts", "TEXT", kind="timestamp", nullable=False)]
    for name in names:
        optional = draw(st.booleans())
        default = draw(st.one_of(st.none(), _TEXT)) if optional else facts.REQUIRED
        nullable = default is None or draw(st.booleans())
        columns.append(Column(name, "TEXT", nullable=nullable, default=default))
    schema = Schema("things", tuple(columns), key="id", watermark="ts")
    keys = draw(st.lists(st.integers(-5, 40), min_size=1, max_size=6, unique=True))

    def values(key):
        row = {"id": key, "ts": draw(_TEXT)}
        for column in columns[2:]:
            if not column.optional or draw(st.booleans()):
                row[column.name] = draw(_TEXT)
        return row

    rows = [values(k) for k in keys]
    live, fresh, changes = list(keys), iter(range(100, 200)), []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["insert", "update", "delete"] if live else ["insert"]))
        if kind == "insert":
            key = next(fresh)
            changes.append(Insert(**values(key)))
            live.append(key)
        elif kind == "update":
            key = draw(st.sampled_from(live))
            picked = draw(st.lists(st.sampled_from([c.name for c in columns[1:]]), min_size=1,
                                   unique=True))
            changes.append(Update(key, **{c: draw(_TEXT) for c in picked}))
        else:
            key = draw(st.sampled_from(live))
            changes.append(Delete(key))
            live.remove(key)
    return schema, rows, changes


@settings(max_examples=80, deadline=None)
@given(schemas_rows_and_changes(), st.booleans())
def test_the_built_sql_does_what_the_model_says(generated, constraints):
    schema, rows, changes = generated
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(schema.ddl("things", constraints=constraints))
    conn.executemany(schema.insert_sql("things"), [schema.as_tuple(r) for r in rows])
    for change in changes:
        conn.execute(*change_statement(schema, "things", change))
    expected = [tuple(r.values()) for r in apply_changes(schema, rows, changes)]
    assert conn.execute("SELECT * FROM things ORDER BY id").fetchall() == expected


@settings(max_examples=40, deadline=None)
@given(schemas_rows_and_changes())
def test_a_row_left_out_of_an_insert_gets_the_declared_default_from_the_table(generated):
    schema, rows, _ = generated
    conn = connect(":memory:")
    conn.execute(schema.ddl("things", constraints=True))
    for row in rows:
        given_columns = list(row)
        conn.execute(schema.insert_sql("things", given_columns), [row[c] for c in given_columns])
    expected = [schema.as_tuple(r) for r in sorted(rows, key=lambda r: r["id"])]
    assert conn.execute("SELECT * FROM things ORDER BY id").fetchall() == expected


# --- Where a fact must still be written out, it must agree -------------------------------------

@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_shipped_configurations_name_the_courses_tables_and_columns(env):
    """configs/*.yaml spell the tables a deployment loads (a config file is plain data): they
    must be the facts' until an instructor deliberately points an environment elsewhere."""
    from course_etl.config import load_config

    load = load_config(env, environ={}).load
    expected = (facts.TABLES.source, facts.TABLES.warehouse, facts.TABLES.warehouse,
                (facts.CUSTOMERS.key,), facts.CUSTOMERS.watermark)
    got = (load.source_table, load.target_table, load.watermark_table, tuple(load.key),
           load.watermark_column)
    assert got == expected, (
        f"course_etl/configs/base.yaml names {got}, the facts {expected}: edit the yaml's "
        "load section (and the defaults in course_etl/config/schema.py)")


def test_the_configuration_defaults_are_the_facts():
    from course_etl.config.schema import LoadSettings

    defaults = LoadSettings()
    assert (defaults.source_table, defaults.target_table, defaults.watermark_table,
            defaults.watermark_column) == (facts.TABLES.source, facts.TABLES.warehouse,
                                           facts.TABLES.warehouse, facts.CUSTOMERS.watermark), (
        "edit the defaults of LoadSettings in course_etl/config/schema.py to the facts'")


def test_the_engines_state_table_is_the_facts():
    from course_etl.loads.watermarks import STATE_TABLE

    assert STATE_TABLE == facts.TABLES.watermarks, (
        "course_etl/loads/watermarks.py names the state table STATE_TABLE itself: make it "
        "TABLES.watermarks from course_etl.facts")
