"""Notebook 01's build-it-yourself steps: an incremental load written by hand, one check per step.

1. read the stored watermark (``:target``, ``:column``) from ``etl_watermarks``;
2. select the changed rows (``>= :watermark``);
3. upsert them (``INSERT … SELECT … WHERE true ON CONFLICT (id) DO UPDATE … WHERE …``);
4. store the new watermark (``:target``, ``:column``, ``:value``, ``:format``);
5. put the four together in one transaction: ``my_incremental_load(conn)``.

Every check runs the answer on the lecture's data and on a generated data set (other ids, dates
and sizes), with more than one parameter value, and compares every column. Step 5 is held to
what :func:`course_etl.loads.engine.incremental_load` does: the tests run the library through the
same check.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import (
    Scenario,
    apply_round,
    expected_after,
    scenarios,
)
from course_etl.db import quote_identifier

__all__ = [
    "check_watermark_read",
    "check_changed_rows_query",
    "check_upsert_statement",
    "check_watermark_save",
    "check_hand_written_load",
    "load_problem",
]

_PASTE_HINT = ("The query must follow the value it is given: where the value goes, write the "
               "parameter's name with a colon in front.")


def _rows(conn: sqlite3.Connection, sql: str, params: dict) -> list[tuple] | str:
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    except sqlite3.Error as error:
        return f"SQLite says: {error}"


# --- step 1: read the stored watermark ----------------------------------------------------------

_STATE = [  # (target, column, value, format): several targets and columns, as in a real warehouse
    ("dw_customers", "updated_at", "2024-10-05", "YYYY-MM-DD"),
    ("dw_customers", "created_at", "2024-10-01", "YYYY-MM-DD"),
    ("dw_orders", "ordered_at", "2024-10-06 09:30", "YYYY-MM-DD hh:mm"),
    ("dw_accounts", "modified_at", "2025-03-04 10:00:00", "YYYY-MM-DD hh:mm"),
    ("dw_accounts", "updated_at", "2025-02-28 23:45:00", "YYYY-MM-DD hh:mm"),
]


@register(answer_name="watermark_sql",
          stub="SELECT MAX(updated_at) FROM dw_customers",
          solution_file="01_a_watermark_read.py")
def check_watermark_read(watermark_sql: str) -> Verdict:
    """Step 1: read the stored watermark (value, format) of :target and :column."""
    name = "Step 1 (read the watermark)"
    conn = sqlite3.connect(":memory:")
    conn.executescript("CREATE TABLE etl_watermarks (target TEXT NOT NULL, watermark_column TEXT "
                       "NOT NULL, value, format TEXT NOT NULL, PRIMARY KEY (target, "
                       "watermark_column));"
                       "CREATE TABLE dw_customers (id INTEGER PRIMARY KEY, updated_at TEXT);")
    conn.executemany("INSERT INTO etl_watermarks VALUES (?, ?, ?, ?)", _STATE)
    # A failed run half-wrote a row stamped 10-07: the data says more than the last success.
    conn.executemany("INSERT INTO dw_customers VALUES (?, ?)", [(1, "2024-10-01"),
                                                                (9, "2024-10-07")])
    for target, column, value, fmt in (_STATE[0], _STATE[3], _STATE[2]):
        got = _rows(conn, watermark_sql, {"target": target, "column": column})
        if isinstance(got, str):
            return Verdict(name, False, got, "Read the state table etl_watermarks, with the "
                           "parameters :target and :column.")
        if got and got[0][:1] == ("2024-10-07",):
            return Verdict(name, False, "returns 2024-10-07, re-derived from dw_customers: a "
                           "failed run left that row behind, so the next load would skip "
                           "everything the failed run did not finish.",
                           "The last successful load wrote its watermark to a state table.")
        if len(got) != 1 or got[0][:2] != (value, fmt):
            shown = got[0][:2] if len(got) == 1 else f"{len(got)} rows"
            return Verdict(name, False, f"for target {target!r}, column {column!r} it returns "
                           f"{shown}; the stored watermark is ({value!r}, {fmt!r}). A load "
                           "starting from the wrong value skips rows or reloads old ones.",
                           "One row per (target, watermark_column): filter on both "
                           "parameters, and return value then format.")
    return Verdict(name, True, "reads (value, format) for any target and column it is given.")


# --- step 2: the changed rows ----------------------------------------------------------------

@register(answer_name="changed_rows_sql",
          stub="SELECT * FROM src_customers WHERE updated_at > :watermark",
          solution_file="01_b_changed_rows_query.py")
def check_changed_rows_query(changed_rows_sql: str) -> Verdict:
    """Step 2: select the rows to load, given the stored :watermark."""
    name = "Step 2 (the changed rows)"
    for scenario in scenarios():
        conn = scenario.build()
        apply_round(conn, scenario.rounds[0])
        apply_round(conn, scenario.rounds[1])  # written after the first load, same timestamp
        source = {r[0]: r for r in conn.execute("SELECT * FROM src_customers")}
        stamps = sorted({r[3] for r in source.values()})
        boundary = scenario.rounds[1][0][3]
        results = {}
        for watermark in (boundary, stamps[0]):
            got = _rows(conn, changed_rows_sql, {"watermark": watermark})
            if isinstance(got, str):
                return Verdict(name, False, got, _PASTE_HINT)
            results[watermark] = got
            wanted = {r for r in source.values() if r[3] >= watermark}
            if set(got) == wanted and len(got) == len(wanted):
                continue
            if watermark != boundary and set(results[boundary]) == set(got):
                return Verdict(name, False, f"on {scenario.label} it returns the same rows for "
                               f":watermark = {boundary!r} and {watermark!r}: the value is "
                               "written into the query, so every later load reads the same "
                               "rows again.", _PASTE_HINT)
            if got and len(got[0]) != 4:
                return Verdict(name, False, f"returns {len(got[0])} columns; the upsert needs "
                               "all four of the source (id, name, city, updated_at).",
                               "Keep every column of src_customers.")
            missed = sorted({r[0] for r in wanted} - {r[0] for r in got})
            if missed and all(source[k][3] == watermark for k in missed):
                who = ", ".join(scenario.name_of(k) for k in missed)
                verb = "is" if len(missed) == 1 else "are"
                return Verdict(name, False, f"on {scenario.label}, with :watermark = "
                               f"{watermark!r}, {who} (stamped exactly {watermark}) {verb} "
                               "never read: written after the last load, lost for good.",
                               "A row can carry the watermark's own value and still be new: "
                               "which comparison lets it through?")
            extra = len({r[0] for r in got} - {r[0] for r in wanted})
            return Verdict(name, False, f"on {scenario.label}, with :watermark = {watermark!r}, "
                           f"it returns {len(got)} rows (ids {sorted(r[0] for r in got)[:6]}…); "
                           f"{len(wanted)} are at or after the watermark"
                           + (f" and {extra} are older rows loaded long ago." if extra else "."),
                           "Filter on updated_at against the parameter, nothing else.")
    return Verdict(name, True, "reads every row at or after :watermark, the rows that share it "
                   "included, on both data sets and for any value.")


# --- step 3: the upsert ---------------------------------------------------------------------

def _watch_rewrites(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TEMP TABLE rewritten (id INTEGER)")
    conn.execute("CREATE TEMP TRIGGER watch AFTER UPDATE ON main.dw_customers "
                 "BEGIN INSERT INTO rewritten VALUES (old.id); END")


def _warehouse(conn: sqlite3.Connection) -> dict[int, tuple]:
    return {r[0]: tuple(r) for r in conn.execute("SELECT * FROM dw_customers")}


def _upsert_problems(scenario: Scenario, after: dict, rewritten: set,
                     want: dict, want_rewritten: set, orders: tuple[int, int]) -> str | None:
    """What the answer got wrong on one data set, in the words of its consequences."""
    lost = orders[0] - orders[1]
    if lost:
        segments = [k for k, r in want.items() if r[4] != "unknown" and after.get(k, r)[4] != r[4]]
        who = ", ".join(scenario.name_of(k) for k in segments[:2]) or "a customer"
        # "+": the f-string is prose with values; only the fixed tail names SQL words.
        return (f"{lost} order(s) were deleted and {who} lost the segment: the old row was "
                "deleted before the new one went in " + "(ON DELETE CASCADE fired)")
    missing = [k for k in want if k not in after]
    if missing:
        return f"{', '.join(scenario.name_of(k) for k in missing)} never arrived"
    for key, row in sorted(want.items()):
        if after[key] != row:
            cols = [c for c, a, b in zip(("id", "name", "city", "updated_at", "segment"),
                                         after[key], row, strict=True) if a != b]
            stale = " (the next watermark is computed from a version that is gone)" \
                if "updated_at" in cols else ""
            return (f"{scenario.name_of(key)} has the wrong {', '.join(cols)}: "
                    f"{after[key][1:]} instead of {row[1:]}{stale}")
    extra = sorted(rewritten - want_rewritten)
    if extra:
        return (f"{len(extra)} row(s) that did not change were rewritten anyway (e.g. "
                f"{scenario.name_of(extra[0])}): every re-read row costs a write and looks "
                "like a change to anything that watches the table")
    return None


@register(answer_name="upsert_sql",
          stub=("INSERT OR REPLACE INTO dw_customers (id, name, city, updated_at) "
                "SELECT id, name, city, updated_at FROM changes"),
          solution_file="01_c_upsert_statement.py")
def check_upsert_statement(upsert_sql: str) -> Verdict:
    """Step 3: upsert the rows of `changes` into dw_customers, rewriting only real changes."""
    name = "Step 3 (the upsert)"
    for scenario in scenarios():
        conn = scenario.build()
        for rows in scenario.rounds[:2]:
            apply_round(conn, rows)
        conn.execute("CREATE TEMP TABLE changes AS SELECT * FROM src_customers "
                     "WHERE updated_at >= :watermark", {"watermark": scenario.watermark})
        before = _warehouse(conn)
        want, want_rewritten, _ = expected_after(
            {k: r for k, r in before.items()},
            {r[0]: tuple(r) for r in conn.execute("SELECT * FROM src_customers")},
            scenario.watermark)
        _watch_rewrites(conn)
        orders = conn.execute("SELECT COUNT(*) FROM dw_orders").fetchone()[0]
        try:
            conn.execute(upsert_sql)
        except sqlite3.Error as error:
            hint = ("In INSERT … SELECT … FROM changes ON CONFLICT, SQLite reads the ON as a "
                    "join condition of FROM changes: see the WHERE true above."
                    if "near \"DO\"" in str(error) else
                    "Start from the statement shown above and rename its table and columns.")
            return Verdict(name, False, f"SQLite says: {error}", hint)
        problem = _upsert_problems(
            scenario, _warehouse(conn),
            {r[0] for r in conn.execute("SELECT id FROM temp.rewritten")}, want,
            want_rewritten,
            (orders, conn.execute("SELECT COUNT(*) FROM dw_orders").fetchone()[0]))
        if problem:
            hints = {"deleted": "Change the row in place instead of replacing it: that is "
                                "what ON CONFLICT … DO UPDATE does.",
                     "never arrived": "Rows with a new id must be inserted: read every row "
                                      "of changes, no ids written in.",
                     "wrong": "Every column the source sends is set in DO UPDATE, the "
                              "timestamp included; segment is not the source's.",
                     "rewritten": "DO UPDATE can have its own WHERE: rewrite only when some "
                                  "column differs from the excluded row."}
            hint = next(h for word, h in hints.items() if word in problem)
            return Verdict(name, False, f"on {scenario.label}: {problem}.", hint)
    return Verdict(name, True, "inserts the new rows, updates every column of the changed ones "
                   "in place (segment and orders kept), and leaves unchanged rows alone.")


# --- step 4: store the new watermark ------------------------------------------------------------

@register(answer_name="save_watermark_sql",
          stub=("INSERT INTO etl_watermarks (target, watermark_column, value, format) "
                "VALUES (:target, :column, :value, :format)"),
          solution_file="01_d_watermark_save.py")
def check_watermark_save(save_watermark_sql: str) -> Verdict:
    """Step 4: store :value (and :format) as the watermark of :target and :column."""
    name = "Step 4 (store the watermark)"
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE etl_watermarks (target TEXT NOT NULL, watermark_column TEXT NOT "
                 "NULL, value, format TEXT NOT NULL, PRIMARY KEY (target, watermark_column))")
    conn.executemany("INSERT INTO etl_watermarks VALUES (?, ?, ?, ?)", _STATE)
    state = {(t, c): (v, f) for t, c, v, f in _STATE}
    writes = [("dw_customers", "updated_at", "2024-10-06", "YYYY-MM-DD"),
              ("dw_accounts", "modified_at", "2025-03-05 08:15:00", "YYYY-MM-DD hh:mm"),
              ("dw_invoices", "issued_at", "2025-03-02 17:00:00", "YYYY-MM-DD hh:mm")]
    for target, column, value, fmt in writes:
        params = {"target": target, "column": column, "value": value, "format": fmt}
        try:
            conn.execute(save_watermark_sql, params)
        except sqlite3.Error as error:
            return Verdict(name, False, f"storing {value!r} for {target}.{column}: SQLite says: "
                           f"{error}.", "The row exists after the first load; a new target has "
                           "none yet: the statement must handle both.")
        state[(target, column)] = (value, fmt)
        got = {(t, c): (v, f) for t, c, v, f in conn.execute("SELECT * FROM etl_watermarks")}
        if got != state:
            wrong = sorted(k for k in state.keys() | got.keys() if got.get(k) != state.get(k))
            t, c = wrong[0]
            return Verdict(name, False, f"after storing {value!r} for {target}.{column}, "
                           f"{t}.{c} holds {got.get((t, c))} instead of {state.get((t, c))}: "
                           "the next load of that table starts from the wrong place.",
                           "Touch exactly one row, the one of :target and :column, and "
                           "create it when it is missing.")
    return Verdict(name, True, "updates the watermark of the target it is given, creates it for "
                   "a new target, and leaves every other row alone.")


# --- step 5: one transaction ------------------------------------------------------------------

def _stub_load(conn: sqlite3.Connection) -> None:
    """The steps one after the other, each committed on its own (autocommit)."""
    names = {"target": "dw_customers", "column": "updated_at"}
    value, fmt = conn.execute("SELECT value, format FROM etl_watermarks WHERE target = :target "
                              "AND watermark_column = :column", names).fetchone()
    conn.execute("DROP TABLE IF EXISTS temp.changes")
    conn.execute("CREATE TEMP TABLE changes AS SELECT * FROM src_customers "
                 "WHERE updated_at >= :watermark", {"watermark": value})
    conn.execute("INSERT INTO dw_customers AS t (id, name, city, updated_at) SELECT id, name, "
                 "city, updated_at FROM changes WHERE true ON CONFLICT (id) DO UPDATE SET name = "
                 "excluded.name, city = excluded.city, updated_at = excluded.updated_at WHERE "
                 "t.name IS NOT excluded.name OR t.city IS NOT excluded.city OR t.updated_at IS "
                 "NOT excluded.updated_at")
    new = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
    conn.execute("UPDATE etl_watermarks SET value = :value, format = :format WHERE target = "
                 ":target AND watermark_column = :column", {**names, "value": new, "format": fmt})


def _state(conn: sqlite3.Connection) -> tuple:
    return (_warehouse(conn), conn.execute("SELECT value FROM etl_watermarks WHERE target = "
                                           "'dw_customers' AND watermark_column = 'updated_at'"
                                           ).fetchone()[0],
            conn.execute("SELECT COUNT(*) FROM dw_orders").fetchone()[0])


def _failure_problem(load: Callable, conn: sqlite3.Connection, failing: str) -> str | None:
    """Make one write fail half-way and see what the load leaves behind."""
    stored = _state(conn)[1]
    later = "2024-10-09" if len(stored) == 10 else "2025-03-09 12:00:00"  # the stored format
    apply_round(conn, [(77777, "Zoe", "Zagreb", later)])
    before = _state(conn)
    for event_sql in ("INSERT", "UPDATE"):  # keywords, fixed here
        conn.execute(f"CREATE TEMP TRIGGER {quote_identifier(f'fail_{event_sql}')} "
                     f"BEFORE {event_sql} ON main.{quote_identifier(failing)} "
                     "BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END")
    try:
        load(conn)
    except Exception:  # noqa: BLE001 - the failure is the point; what it leaves is checked below
        pass
    finally:
        for event_sql in ("INSERT", "UPDATE"):
            conn.execute(f"DROP TRIGGER temp.{quote_identifier(f'fail_{event_sql}')}")
    if conn.in_transaction:
        conn.execute("ROLLBACK")
        return (f"when writing {failing} failed, the transaction was left open: the next "
                "statement on this connection would run inside it")
    if _state(conn) != before:
        what = "the data was committed without its watermark" if failing == "etl_watermarks" \
            else "the watermark moved although the data was not written"
        return (f"when writing {failing} failed, {what}: warehouse and state disagree, so the "
                "next load starts from the wrong place (rows read twice, or never)")
    return None


@register(answer_name="my_incremental_load", stub=_stub_load,
          solution_file="01_e_hand_written_load.py",
          requires=("01_a_watermark_read.py", "01_b_changed_rows_query.py",
                    "01_c_upsert_statement.py", "01_d_watermark_save.py"))
def check_hand_written_load(my_incremental_load: Callable) -> Verdict:
    """Step 5: the four steps in one transaction, as my_incremental_load(conn)."""
    name = "Step 5 (your incremental load)"
    if not callable(my_incremental_load):
        kind = type(my_incremental_load).__name__
        return Verdict(name, False, f"expected a function, got {kind}",
                       "Define a function that takes the connection.")
    used = set(getattr(getattr(my_incremental_load, "__code__", None), "co_names", ()))
    if used & {"incremental_load", "full_load"}:
        return Verdict(name, False, "it calls the library's load: this step is yours to write.",
                       "Use your watermark_sql, changed_rows_sql, upsert_sql and "
                       "save_watermark_sql.")
    problem = load_problem(my_incremental_load)
    if problem:
        return Verdict(name, False, problem[0], problem[1])
    return Verdict(name, True, "same rows, same rewrites and same watermark as incremental_load "
                   "on both data sets, the boundary rows included; a failure leaves nothing "
                   "half-written.")


def load_problem(load: Callable) -> tuple[str, str] | None:
    """Run ``load(conn)`` through the boundary, upsert, watermark and failure scenarios of step
    5; None when it does what a correct incremental load does, else (what went wrong, hint).
    The tests hold :func:`~course_etl.loads.engine.incremental_load` to the same function."""
    for scenario in scenarios():
        conn = scenario.build()
        for number, rows in enumerate(scenario.rounds, 1):
            apply_round(conn, rows)
            before, stored, orders = _state(conn)
            source = {r[0]: tuple(r) for r in conn.execute("SELECT * FROM src_customers")}
            want, want_rewritten, want_mark = expected_after(before, source, stored)
            conn.execute("DROP TABLE IF EXISTS temp.rewritten")
            conn.execute("DROP TRIGGER IF EXISTS temp.watch")
            _watch_rewrites(conn)
            try:
                load(conn)
            except Exception as error:  # noqa: BLE001 - the student's code may raise anything
                return (f"on {scenario.label}, load {number} raised {type(error).__name__}: "
                        f"{error}", "Run each step's cell first: the load uses their SQL.")
            after, mark, orders_after = _state(conn)
            rewritten = {r[0] for r in conn.execute("SELECT id FROM temp.rewritten")}
            problem = _upsert_problems(scenario, after, rewritten, want,
                                       want_rewritten, (orders, orders_after))
            if problem is None and mark != want_mark:
                problem = (f"the stored watermark is {mark!r}, not {want_mark!r}"
                           + (": a load that read nothing must not move it" if not rows
                              else ""))
            if problem:
                return (f"on {scenario.label}, load {number}: {problem}.",
                        "Compare each step's SQL with what its own check accepted, and compute "
                        "the new watermark from the rows you read.")
        for failing in ("etl_watermarks", "dw_customers"):
            problem = _failure_problem(load, conn, failing)
            if problem:
                return (f"on {scenario.label}: {problem}.",
                        "This connection is in autocommit mode, so `with conn:` opens nothing: "
                        "begin and end the transaction yourself, and roll back on any error.")
    return None
