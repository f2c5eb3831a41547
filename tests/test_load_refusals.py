"""What the loads refuse, each named with its culprit and its fix, and nothing written.

Generated calls with arguments of every type (the library's API must answer with its own
errors, naming the argument), one delete guard shared by full and incremental loads, and the
cases issue 23 listed, each checked for its message: the model in ``test_engine_model`` checks
the same rules on sequences nobody wrote.
"""

import sqlite3
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from course_etl import connect, full_load, incremental_load, read_watermark, reset_watermark
from course_etl.errors import CourseEtlError
from course_etl.loads.errors import (
    KeyIntegrityError,
    LoadOptionError,
    ReconcileGuardError,
    WatermarkError,
)

OPTS = {"key": "id", "watermark": "updated_at"}


def warehouse():
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, ?, ?)",
                     [(i, f"v{i}", f"2024-10-0{i} 09:00:00") for i in range(1, 5)])
    incremental_load(conn, "src", "dw", **OPTS)
    return conn


def everything(conn):
    """Every table's rows: what a refusal must leave as it was."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}


# --- arguments of every type --------------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.sampled_from([int, float, str, bytes, bool, complex, Decimal, Fraction, list, dict,
                     tuple, set, frozenset, timedelta, datetime, date, bytearray, type(None)]
                    ).flatmap(st.from_type),
    st.integers(min_value=2**63, max_value=2**80), st.integers(max_value=-(2**63) - 1),
    st.floats(), st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1),
    st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
    st.sampled_from([object(), sqlite3, print, b"id", ["id", "id"], ("id",), "", "id",
                     10**5000, [10**5000], "x" * 100_000]),
)
ACCEPTED = {  # the types each argument takes (a value of these may still be refused by value)
    "conn": sqlite3.Connection, "source": str, "target": str, "key": (str, list, tuple),
    "watermark": str, "initial_value": (str, int, type(None)), "until": (str, int, type(None)),
    "lookback": (timedelta, int, float, type(None)), "soft_delete": (str, type(None)),
    "reconcile_deletes": bool, "batch_size": (int, type(None)),
    "max_delete_share": (int, float, type(None)), "column": (str, type(None)),
}
CALLS = {
    "incremental_load": (incremental_load, {"source": "src", "target": "dw", **OPTS}),
    "full_load": (full_load, {"source": "src", "target": "dw", **OPTS}),
    "read_watermark": (read_watermark, {"target": "dw", "column": "updated_at"}),
    "reset_watermark": (reset_watermark, {"target": "dw", "column": "updated_at"}),
}
ARGUMENTS = [(name, arg) for name, (_, defaults) in CALLS.items()
             for arg in ["conn", *defaults] + (
                 ["initial_value", "until", "lookback", "soft_delete", "reconcile_deletes",
                  "batch_size", "max_delete_share"] if name == "incremental_load" else
                 ["max_delete_share"] if name == "full_load" else [])]


def wrong_type(function, argument, value):
    accepted = ACCEPTED[argument]
    if function == "full_load" and argument in ("key", "watermark"):
        accepted = (*accepted, type(None)) if isinstance(accepted, tuple) else (accepted,
                                                                                type(None))
    if isinstance(value, bool) and argument not in ("reconcile_deletes",):
        return True
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return argument in ("initial_value", "until", "batch_size", "lookback")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
    if isinstance(value, list | tuple) and argument == "key":
        return not all(isinstance(k, str) for k in value)
    return not isinstance(value, accepted)


@pytest.mark.parametrize(("function", "argument"), ARGUMENTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=ANY_VALUE)
@example(value=10**5000)  # beyond what Python prints or SQLite binds, for every argument
@example(value="x" * 100_000)
@example(value=float("nan"))
def test_a_wrong_argument_gets_the_courses_own_error_naming_it(function, argument, value):
    call, defaults = CALLS[function]
    conn = warehouse()
    before = everything(conn)
    arguments = {"conn": conn, **defaults, argument: value}
    try:
        call(**arguments)
    except LoadOptionError as error:
        assert error.option == argument or argument in str(error), (argument, value, error)
        assert len(str(error)) < 400, "the message shows a value, not all of it"
        assert everything(conn) == before
    except CourseEtlError:
        assert not wrong_type(function, argument, value), f"{argument}: not a LoadOptionError"
        assert everything(conn) == before
    else:
        assert not wrong_type(function, argument, value), f"{argument}: a wrong type accepted"
    finally:
        conn.close()


def test_a_closed_connection_is_named():
    conn = warehouse()
    conn.close()
    with pytest.raises(LoadOptionError, match="conn is closed"):
        incremental_load(conn, "src", "dw", **OPTS)


# --- one delete guard for both loads ------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 12), gone=st.integers(0, 12), share=st.sampled_from([0.0, 0.25, 0.5,
                                                                                1.0, None]))
def test_a_full_load_deletes_no_more_than_a_reconcile_may(size, gone, share):
    gone = min(gone, size)
    outcomes = []
    for load in ("full", "incremental"):
        conn = connect(":memory:")
        conn.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TEXT)")
        conn.executemany("INSERT INTO src VALUES (?, '2024-10-01')", [(i,) for i in range(size)])
        full_load(conn, "src", "dw", **OPTS)
        conn.execute("DELETE FROM src WHERE id < ?", (gone,))
        try:
            if load == "full":
                full_load(conn, "src", "dw", **OPTS, max_delete_share=share)
            else:
                incremental_load(conn, "src", "dw", **OPTS, reconcile_deletes=True,
                                 max_delete_share=share)
            outcomes.append(conn.execute("SELECT COUNT(*) FROM dw").fetchone()[0])
        except ReconcileGuardError as error:
            assert (error.rows, error.total) == (gone, size)
            outcomes.append("refused")
    assert outcomes[0] == outcomes[1]
    refused = share is not None and gone / size > share
    assert outcomes[0] == ("refused" if refused else size - gone)


def test_an_empty_extract_is_refused_and_can_be_loaded_on_purpose():
    conn = warehouse()
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, "
                 "customer REFERENCES dw (id) ON DELETE CASCADE)")
    conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, 1 + i % 4) for i in range(20)])
    conn.execute("DELETE FROM src")
    before = everything(conn)
    with pytest.raises(ReconcileGuardError, match=r"remove 4 of 4 rows .*did the source's "
                                                  r"extract fail.*max_delete_share=None"):
        full_load(conn, "src", "dw", **OPTS)
    assert everything(conn) == before
    emptied = full_load(conn, "src", "dw", **OPTS, max_delete_share=None)
    assert (emptied.deleted, emptied.watermark_after) == (4, None)
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone() == (0,)
    assert read_watermark(conn, "dw", "updated_at") is None, "an empty target has no watermark"


def test_a_full_load_keeps_the_children_of_rows_still_in_the_source():
    conn = warehouse()
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, "
                 "customer REFERENCES dw (id) ON DELETE CASCADE)")
    conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, 1 + i % 4) for i in range(20)])
    conn.execute("DELETE FROM src WHERE id = 4")
    conn.execute("UPDATE src SET v = 'moved', updated_at = '2024-10-05 09:00:00' WHERE id = 1")
    result = full_load(conn, "src", "dw", **OPTS)
    assert (result.inserted, result.updated, result.deleted, result.unchanged) == (0, 1, 1, 2)
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT customer) FROM orders").fetchone() == (
        15, 3), "only the children of the row that left the source went with it"


# --- watermark values, both sides ----------------------------------------------------------------

@pytest.mark.parametrize("stored", [None, "abc", 1.5, "Oct 1 2024", "2999-12-31 00:00:00",
                                    b"\x00", "2024-10-05 24:00:00"])
def test_a_damaged_stored_watermark_is_refused_with_its_place_and_fix(stored):
    conn = warehouse()
    conn.execute("UPDATE etl_watermarks SET value = ?", (stored,))
    before = everything(conn)
    with pytest.raises(WatermarkError, match=r"stored watermark of dw\.updated_at \(table "
                                             r"etl_watermarks\).*Run a full load") as refused:
        incremental_load(conn, "src", "dw", **OPTS)
    assert refused.value.value == stored and everything(conn) == before
    repaired = full_load(conn, "src", "dw", **OPTS)
    assert repaired.watermark_after == "2024-10-04 09:00:00"


@pytest.mark.parametrize(("initial", "says"), [
    ("Oct 1 2024", "initial_value='Oct 1 2024' is not a timestamp"),
    ("2204-10-01", "later than tomorrow"),
    (20241001, "does not compare with the YYYY-MM-DD hh:mm:ss values"),
    ("2024-10-01T00:00:00", "does not compare"),
])
def test_an_initial_value_that_would_load_nothing_is_refused(initial, says):
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TEXT)")
    conn.execute("INSERT INTO src VALUES (1, '2024-10-03 09:00:00')")
    with pytest.raises(WatermarkError, match=says) as refused:
        incremental_load(conn, "src", "dw", initial_value=initial, **OPTS)
    assert refused.value.option == "initial_value"
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'dw'").fetchone() is None


@pytest.mark.parametrize(("stamp", "says"), [
    ("2024-10-05 24:00:00", "impossible date or time"),
    ("2024-10-05 10:00:00 ", "mixed formats|not timestamps"),
    (" 2024-10-05 10:00:00", "not timestamps"),
    ("10/05/2024 10:00", "not timestamps"),
    ("10000-01-01 00:00:00", "not timestamps"),
    (1728122400, "not timestamps"),  # the TEXT column makes it text
    ("2024-10-05", "mixed formats"),
    ("2999-12-31 00:00:00", "later than tomorrow"),
])
def test_a_source_value_a_load_cannot_compare_is_refused_naming_its_row(stamp, says):
    conn = warehouse()
    conn.execute("INSERT INTO src VALUES (7, 'new', ?)", (stamp,))
    before = everything(conn)
    with pytest.raises(WatermarkError, match=says) as refused:
        incremental_load(conn, "src", "dw", **OPTS)
    assert "id=7" in str(refused.value) and repr(stamp) in str(refused.value)
    assert everything(conn) == before
    conn.execute("UPDATE src SET updated_at = '2024-10-05 10:00:00' WHERE id = 7")
    assert incremental_load(conn, "src", "dw", **OPTS).inserted == 1, "fixed, it loads"


# --- keys as the target compares them ------------------------------------------------------------

@pytest.mark.parametrize(("target_key", "keys"), [
    ("TEXT COLLATE NOCASE", ("a", "A")),
    ("INTEGER", ("1", "01")),
    ("REAL", ("1", "1.0")),
])
def test_two_source_keys_the_target_merges_are_refused_naming_both(target_key, keys):
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (k TEXT PRIMARY KEY, updated_at TEXT)")
    conn.executemany("INSERT INTO src VALUES (?, '2024-10-01')", [(k,) for k in keys])
    conn.execute(f"CREATE TABLE dw (k {target_key} PRIMARY KEY, updated_at TEXT)")
    first, second = sorted(keys)  # in the source's key order
    for load in (incremental_load, full_load):
        with pytest.raises(KeyIntegrityError, match=f"source keys {first!r} and {second!r} "
                                                    "of 'src' would become one row of 'dw'"):
            load(conn, "src", "dw", key="k", watermark="updated_at")
        assert conn.execute("SELECT COUNT(*) FROM dw").fetchone() == (0,)


def test_a_key_an_integer_primary_key_cannot_hold_is_named():
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (k TEXT PRIMARY KEY, updated_at TEXT)")
    conn.execute("INSERT INTO src VALUES ('x', '2024-10-01')")
    conn.execute("CREATE TABLE dw (k INTEGER PRIMARY KEY, updated_at TEXT)")
    with pytest.raises(KeyIntegrityError, match="key 'x' cannot be stored in the INTEGER"):
        incremental_load(conn, "src", "dw", key="k", watermark="updated_at")


def test_a_key_landing_on_a_row_stored_under_another_spelling_is_refused():
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (k TEXT PRIMARY KEY, v TEXT, updated_at TEXT)")
    conn.execute("INSERT INTO src VALUES ('a', 'first', '2024-10-01')")
    conn.execute("CREATE TABLE dw (k TEXT COLLATE NOCASE PRIMARY KEY, v TEXT, updated_at TEXT)")
    incremental_load(conn, "src", "dw", key="k", watermark="updated_at")
    conn.execute("DELETE FROM src")
    conn.execute("INSERT INTO src VALUES ('A', 'second', '2024-10-02')")
    with pytest.raises(KeyIntegrityError, match="source key 'A' of 'src' would overwrite the "
                                                "row 'a'"):
        incremental_load(conn, "src", "dw", key="k", watermark="updated_at",
                         reconcile_deletes=True, max_delete_share=None)
    assert conn.execute("SELECT * FROM dw").fetchall() == [("a", "first", "2024-10-01")]
