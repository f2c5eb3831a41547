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
from course_etl.db import quote_identifier
from course_etl.errors import CourseEtlError, SchemaMismatchError
from course_etl.facts import FactsError
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
            assert (error.rows, error.total, error.share, error.max_share) == (
                gone, size, gone / size, share)
            assert (error.table, error.source) == ("dw", "src")
            assert "max_delete_share=None" in error.hint and error.hint in str(error)
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
    assert (refused.value.table, refused.value.target, refused.value.column) == (
        "etl_watermarks", "dw", "updated_at")
    assert refused.value.reason in str(refused.value)
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


# --- what a refusal carries: the facts its message names, for culprits nobody wrote -------------

STAMP_FORMAT = "YYYY-MM-DD hh:mm:ss"
STORED = "2024-10-04 09:00:00"  # the watermark warehouse() leaves, and the source's highest
KEYS = st.integers(5, 2**62)


def _is_real(parts):
    try:
        datetime(2024, *parts)
    except ValueError:
        return False
    return True


# (what the value is, the value): stamps shaped like the column's whose moment does not exist
# (read by the next load: after the watermark), text that is no timestamp, moments in the far
# future, and dates without a time (a format that does not compare with the column's).
CULPRITS = st.one_of(
    st.tuples(st.integers(1, 12), st.integers(1, 39), st.integers(0, 29), st.integers(0, 69))
    .filter(lambda parts: not _is_real(parts))
    .map(lambda p: f"2024-{p[0]:02d}-{p[1]:02d} {p[2]:02d}:{p[3]:02d}:00")
    .filter(lambda stamp: stamp > STORED).map(lambda stamp: ("invalid", stamp)),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
    .map(lambda text: ("unrecognised", "~" + text)),
    st.integers(2100, 9999).map(lambda year: ("future", f"{year}-01-01 00:00:00")),
    st.dates(date(1000, 1, 1), date(2099, 12, 31)).map(lambda day: ("date", day.isoformat())),
)


@settings(max_examples=60, deadline=None)
@given(key=KEYS, culprit=CULPRITS)
def test_a_source_watermark_refusal_carries_the_row_the_value_and_the_formats(key, culprit):
    kind, stamp = culprit
    conn = warehouse()
    conn.execute("INSERT INTO src VALUES (?, 'new', ?)", (key, stamp))
    with pytest.raises(WatermarkError) as refused:
        incremental_load(conn, "src", "dw", **OPTS)
    error = refused.value
    assert (error.table, error.column, error.key, error.value, error.row, error.rows) == (
        "src", "updated_at", ("id",), stamp, {"id": key}, 1)
    if kind == "date":
        assert (error.expected, error.found, error.reference) == (
            STAMP_FORMAT, "YYYY-MM-DD", STORED)
    elif kind != "future":
        assert error.found == kind
    assert f"id={key}" in str(error)


@settings(max_examples=25, deadline=None)
@given(keys=st.sets(KEYS, min_size=1, max_size=4))
def test_null_watermarks_are_counted_and_one_row_named(keys):
    conn = warehouse()
    conn.executemany("INSERT INTO src VALUES (?, 'new', NULL)", [(k,) for k in keys])
    with pytest.raises(WatermarkError) as refused:
        incremental_load(conn, "src", "dw", **OPTS)
    error = refused.value
    assert (error.table, error.column, error.value, error.rows) == (
        "src", "updated_at", None, len(keys))
    assert error.row["id"] in keys and list(error.row) == ["id"]


@settings(max_examples=25, deadline=None)
@given(key=KEYS, day=st.dates(date(1000, 1, 1), date(2024, 10, 1)))
def test_a_full_load_names_the_lowest_value_whose_format_differs(key, day):
    conn = warehouse()
    conn.execute("INSERT INTO src VALUES (?, 'old', ?)", (key, day.isoformat()))
    with pytest.raises(WatermarkError) as refused:
        full_load(conn, "src", "dw", **OPTS)
    error = refused.value
    assert (error.value, error.row, error.expected, error.found, error.reference) == (
        day.isoformat(), {"id": key}, STAMP_FORMAT, "YYYY-MM-DD", STORED)


@settings(max_examples=25, deadline=None)
@given(lookback=st.one_of(st.integers(1, 10**6),
                          st.timedeltas(timedelta(seconds=1), timedelta(days=3650))),
       version=st.integers(1, 10**9))
def test_a_lookback_that_does_not_fit_the_watermark_carries_the_stored_value(lookback, version):
    conn = warehouse()
    conn.execute("CREATE TABLE versions (id INTEGER PRIMARY KEY, version INTEGER)")
    conn.execute("INSERT INTO versions VALUES (1, ?)", (version,))
    incremental_load(conn, "versions", "dw_versions", key="id", watermark="version")
    source, target, watermark, stored = (
        ("src", "dw", "updated_at", STORED) if isinstance(lookback, int)
        else ("versions", "dw_versions", "version", version))
    with pytest.raises(WatermarkError) as refused:
        incremental_load(conn, source, target, key="id", watermark=watermark, lookback=lookback)
    assert (refused.value.option, refused.value.value, refused.value.reference) == (
        "lookback", lookback, stored)


LETTERS = st.text(st.sampled_from("abcxyzABCXYZ"), min_size=1, max_size=6)


@settings(max_examples=30, deadline=None)
@given(word=LETTERS.filter(lambda w: w.lower() != w.upper()), other=LETTERS)
def test_keys_the_target_would_merge_are_carried_with_the_key_as_the_target_compares_it(
        word, other):
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (k TEXT PRIMARY KEY, updated_at TEXT)")
    spellings = {word.lower(), word.upper()}
    conn.executemany("INSERT INTO src VALUES (?, '2024-10-01')",
                     [(k,) for k in sorted(spellings)])
    conn.execute("CREATE TABLE dw (k TEXT COLLATE NOCASE PRIMARY KEY, updated_at TEXT)")
    with pytest.raises(KeyIntegrityError) as refused:
        full_load(conn, "src", "dw", key="k", watermark="updated_at")
    error = refused.value
    assert (error.table, error.target, error.key, error.rows) == ("src", "dw", ("k",), 2)
    assert sorted(error.values) == sorted((s,) for s in spellings)
    assert [(c.name, c.collation) for c in error.columns] == [("k", "NOCASE")]
    # A key the target takes for one it holds under another spelling, once that one has left.
    conn.execute("DELETE FROM src")
    conn.execute("INSERT INTO src VALUES (?, '2024-10-01')", (word.lower(),))
    full_load(conn, "src", "dw", key="k", watermark="updated_at")
    conn.execute("DELETE FROM src")
    conn.execute("INSERT INTO src VALUES (?, '2024-10-02')", (word.upper(),))
    with pytest.raises(KeyIntegrityError) as refused:
        incremental_load(conn, "src", "dw", key="k", watermark="updated_at",
                         reconcile_deletes=True, max_delete_share=None)
    error = refused.value
    assert (error.table, error.source, error.values) == (
        "dw", "src", ((word.upper(),), (word.lower(),)))
    # A key an INTEGER PRIMARY KEY cannot hold.
    conn.execute("CREATE TABLE dw_int (k INTEGER PRIMARY KEY, updated_at TEXT)")
    conn.execute("DELETE FROM src")
    conn.execute("INSERT INTO src VALUES (?, '2024-10-01')", (other,))
    with pytest.raises(KeyIntegrityError) as refused:
        incremental_load(conn, "src", "dw_int", key="k", watermark="updated_at")
    assert (refused.value.table, refused.value.key, refused.value.values) == (
        "dw_int", ("k",), (other,))


@settings(max_examples=30, deadline=None)
@given(nulls=st.integers(0, 5), copies=st.integers(2, 5), key=st.integers(-10**9, 10**9),
       others=st.sets(st.integers(-10**9, 10**9), max_size=5))
def test_null_and_duplicate_keys_are_counted_and_the_duplicate_named(nulls, copies, key,
                                                                     others):
    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (k INTEGER, updated_at TEXT)")
    rows = [None] * nulls + [key] * copies + sorted(others - {key})
    conn.executemany("INSERT INTO src VALUES (?, '2024-10-01')", [(k,) for k in rows])
    with pytest.raises(KeyIntegrityError) as refused:
        incremental_load(conn, "src", "dw", key="k", watermark="updated_at")
    error = refused.value
    assert (error.table, error.key) == ("src", ("k",))
    if nulls:
        assert error.rows == nulls
    else:
        assert (error.value, error.rows) == ({"k": key}, copies)


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda name: not name.startswith("sqlite"))


@settings(max_examples=30, deadline=None)
@given(key=NAMES, lacking=st.lists(NAMES, min_size=1, max_size=3, unique=True))
def test_a_target_that_does_not_fit_carries_what_it_lacks_and_a_fix_that_works(key, lacking):
    lacking = [c for c in lacking if c != key] or [key + "_x"]
    conn = connect(":memory:")
    columns = [key, *lacking]
    conn.execute(f"CREATE TABLE src ({', '.join(map(quote_identifier, columns))})")
    conn.execute(f"INSERT INTO src VALUES ({', '.join('?' * len(columns))})",
                 list(range(len(columns))))
    conn.execute(f"CREATE TABLE dw ({quote_identifier(key)})")
    with pytest.raises(SchemaMismatchError) as refused:
        full_load(conn, "src", "dw", key=key)
    error = refused.value
    assert (error.table, error.source, error.missing) == ("dw", "src", lacking)
    assert error.hint in str(error)
    for column in lacking:
        conn.execute(f"ALTER TABLE dw ADD COLUMN {quote_identifier(column)}")
    load = {"key": key, "watermark": lacking[0]}  # an upsert needs the key unique
    with pytest.raises(SchemaMismatchError) as refused:
        incremental_load(conn, "src", "dw", **load)
    error = refused.value
    assert (error.table, error.key) == ("dw", (key,))
    conn.execute(error.hint)  # the fix the message gives is SQL that runs
    assert incremental_load(conn, "src", "dw", **load).inserted == 1


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(["Insert", "Update", "Delete"]), data=st.data())
def test_a_demo_fact_that_is_missing_names_what_the_demos_need(kind, data):
    from course_etl.facts import Delete, Insert, Update
    from course_etl.loads.lecture import _first

    kinds = {"Insert": Insert, "Update": Update, "Delete": Delete}
    others = [k for name, k in kinds.items() if name != kind]
    changes = tuple(data.draw(st.lists(st.sampled_from([
        Insert(id=9, name="x", city="y", updated_at="2024-10-09"),
        Update(1, city="z", updated_at="2024-10-09"), Delete(2)]).filter(
            lambda change: isinstance(change, tuple(others))), max_size=3)))
    what = data.draw(st.text(min_size=1, max_size=20))
    with pytest.raises(FactsError) as refused:
        _first(kinds[kind], changes, what)
    assert (refused.value.fact, refused.value.value, refused.value.what) == (
        "CHANGE_ROUNDS", changes, what)


@settings(max_examples=20, deadline=None)
@given(bad=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1,
                   max_size=8), key=KEYS)
def test_a_row_the_targets_constraint_refuses_carries_both_tables_and_sqlites_words(bad, key):
    from course_etl.loads.errors import LoadError

    conn = connect(":memory:")
    conn.execute("CREATE TABLE src (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT)")
    conn.execute("INSERT INTO src VALUES (?, ?, '2024-10-01')", (key, bad))
    conn.execute("CREATE TABLE dw (id INTEGER PRIMARY KEY, v TEXT CHECK (v <> ?), "
                 "updated_at TEXT)".replace("?", "'" + bad.replace("'", "''") + "'"))
    for load in (incremental_load, full_load):
        with pytest.raises(LoadError) as refused:
            load(conn, "src", "dw", **OPTS)
        error = refused.value
        assert (type(error), error.table, error.source) == (LoadError, "dw", "src")
        assert isinstance(error.__cause__, sqlite3.IntegrityError)
        assert error.error == str(error.__cause__) and error.error in str(error)
        assert conn.execute("SELECT COUNT(*) FROM dw").fetchone() == (0,)
