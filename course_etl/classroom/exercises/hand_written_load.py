"""Notebook 01's step 5: the hand-written incremental load, in one transaction.

Step 5 runs the student's ``my_incremental_load(conn)`` round after round on warehouses with one
edge each (a quiet day, a row stamped exactly the watermark, a same-time correction, a write that
fails half-way, …) beside a plain-Python model of a correct incremental load, and compares after
every round the whole warehouse, the child rows, which rows were rewritten, the state table,
whether the load raised and whether it left a transaction open. The library's
``incremental_load`` agrees with the same model (the tests hold it to it); calling it is the one
thing the exercise forbids, noticed by watching the calls the answer makes, however it is named.
"""

from __future__ import annotations

import functools
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._budget import AnswerTimeout, time_budget, watch_connection
from course_etl.classroom.exercises._customers import (
    FAILURES,
    KEY,
    STAMP,
    Draw,
    Round,
    Warehouse,
    apply_round,
    cell,
    customer,
    lecture_warehouse,
    loaded,
    random_warehouse,
    restamped,
)
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Outcome,
    Scenario,
    describe_error,
    function_problem,
    show_rows,
    sorted_rows,
)
from course_etl.db import quote_identifier
from course_etl.errors import CourseEtlError
from course_etl.facts import CUSTOMERS, TABLES, WAREHOUSE_ONLY
from course_etl.loads.engine import full_load, incremental_load

__all__: list[str] = []

# The notebook's starting point for step 5: the four statements in a row, each committed alone.
# The same text as the notebook's cell (a test compares them): the names it reads are the
# notebook's, defined by the cells of steps 1 to 4.
def step5_stub(conn):
    # sql-names: exempt, the notebook's step-5 cell as students read and edit it (their SQL)
    names = {"target": "dw_customers", "column": "updated_at"}
    stored, fmt = conn.execute(watermark_sql, names).fetchone()  # noqa: F821
    conn.execute("DROP TABLE IF EXISTS temp.changes")
    conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})  # noqa: F821
    conn.execute(upsert_sql)  # noqa: F821
    newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
    conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})  # noqa: F821


class LibraryCallError(CourseEtlError, RuntimeError):
    """The answer called the library's load, which does the whole exercise; ``.function``
    (also the message) names it."""


_LIBRARY_LOADS = {incremental_load.__code__: "incremental_load", full_load.__code__: "full_load"}


@contextmanager
def _watch_library_loads(calls: list[str]) -> Iterator[None]:
    """Note in ``calls`` every start of the library's loads, however the answer reached them."""
    previous = sys.getprofile()

    def watch(frame, event, _arg):
        if event == "call" and frame.f_code in _LIBRARY_LOADS:
            calls.append(_LIBRARY_LOADS[frame.f_code])

    sys.setprofile(watch)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _refuse_write() -> None:
    raise OSError("disk I/O error (simulated)")


def _fail_triggers(conn: sqlite3.Connection, change: Round, create: bool) -> None:
    """Make every write to ``change.failing`` fail the way ``change.error`` says (a trigger that
    raises a constraint error, or calls a function that fails: SQLite's OperationalError)."""
    table = change.failing or TABLES.warehouse
    for event_sql in ("INSERT", "UPDATE"):  # keywords, fixed here
        name_sql = quote_identifier(f"fail_{event_sql.lower()}")
        if not create:
            conn.execute(f"DROP TRIGGER IF EXISTS temp.{name_sql}")
            continue
        action_sql = ("SELECT RAISE(ABORT, 'constraint failed (simulated)')"
                      if change.error == "integrity" else "SELECT refuse_write()")
        conn.execute(f"CREATE TEMP TRIGGER {name_sql} BEFORE {event_sql} ON main."
                     f"{quote_identifier(table)} BEGIN {action_sql}; END")


_REWRITTEN = "rewritten"  # the temp table where a trigger notes the keys a round rewrote


def _state(conn: sqlite3.Connection) -> tuple:
    return tuple(sorted_rows(conn.execute(f"SELECT * FROM {quote_identifier(table)}"))
                 for table in (TABLES.warehouse, TABLES.orders, TABLES.watermarks))


def _run_load(load: object, scenario: Scenario, *, library_allowed: bool = False
              ) -> list[tuple]:
    if not callable(load):
        raise TypeError(f"expected a function of the connection, got {type(load).__name__}")
    warehouse: Warehouse = scenario.data
    conn = watch_connection(warehouse.build())
    conn.create_function("refuse_write", 0, _refuse_write)
    rewritten_sql, key_sql = quote_identifier(_REWRITTEN), quote_identifier(CUSTOMERS.key)
    conn.execute(f"CREATE TEMP TABLE {rewritten_sql} ({key_sql} INTEGER)")
    conn.execute(f"CREATE TEMP TRIGGER {quote_identifier('watch')} AFTER UPDATE "
                 f"ON main.{quote_identifier(TABLES.warehouse)} "
                 f"BEGIN INSERT INTO {rewritten_sql} VALUES (old.{key_sql}); END")
    rounds = []
    for change in warehouse.rounds:
        apply_round(conn, change)
        conn.execute(f"DELETE FROM temp.{rewritten_sql}")
        if change.failing:
            _fail_triggers(conn, change, create=True)
        raised, calls = None, []
        try:
            with time_budget(), _watch_library_loads(calls):
                load(conn)
        except AnswerTimeout:
            raise  # not a behaviour of one round: the verdict says so
        except BaseException as error:  # noqa: BLE001 - the student's load may raise anything
            raised = describe_error(error)
        if calls and not library_allowed:
            raise LibraryCallError(calls[0], function=calls[0])
        left_open = conn.in_transaction
        if left_open:
            conn.execute("ROLLBACK")
        _fail_triggers(conn, change, create=False)
        rewritten = sorted(r[0] for r in conn.execute(
            f"SELECT {key_sql} FROM temp.{rewritten_sql}"))
        rounds.append((*_state(conn), rewritten, raised, left_open))
    return rounds


def _load_model(scenario: Scenario) -> list[tuple]:
    """A correct incremental load, in plain Python: read the rows at or after the stored
    watermark, insert the new ones, rewrite only those that differ (keeping segment), move the
    watermark to the highest value read (never back); a failed write changes nothing and is
    raised."""
    warehouse: Warehouse = scenario.data
    source = {r[KEY]: r for r in warehouse.source}
    target = {r[KEY]: r for r in warehouse.warehouse}
    mark = warehouse.watermark
    rounds = []
    for change in warehouse.rounds:
        source.update({r[KEY]: r for r in change.rows})
        for key in change.deleted:
            source.pop(key, None)
        rewritten: list[int] = []
        if not change.failing:
            read = [r for r in source.values() if r[STAMP] is not None and r[STAMP] >= mark]
            for new in read:
                old = target.get(new[KEY])
                if old is None:
                    target[new[KEY]] = (*new, WAREHOUSE_ONLY.default)
                elif old[:-1] != new:
                    target[new[KEY]] = (*new, old[-1])
                    rewritten.append(new[KEY])
            mark = max([mark, *(r[STAMP] for r in read)])
        state = [(TABLES.warehouse, CUSTOMERS.watermark, mark, warehouse.watermark_format)]
        rounds.append((sorted_rows(target.values()), sorted_rows(warehouse.orders),
                       sorted_rows(state), sorted(rewritten),
                       "an error" if change.failing else None, False))
    return rounds


def _load_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    out = [Scenario("the lecture's warehouse, loaded after each change at its source", lecture,
                    lecture.size)]
    for seed in range(2):
        d = Draw(900 + seed)
        first = d.row(0)
        k, name, city, t0 = (cell(first, c) for c in (CUSTOMERS.key, "name", "city",
                                                        CUSTOMERS.watermark))
        older = restamped(d.row(0), d.stamp(-1))
        source = [first]
        base = Warehouse(tuple(source), loaded(source, {k: "gold"}), ((990, k),), t0,
                         d.watermark_format)

        def more(*rounds: Round, base: Warehouse = base, **changes) -> Warehouse:
            return replace(base, rounds=rounds, **changes)

        other = d.city(city)
        out += [
            Scenario("a quiet day: nothing changed at the source", more(Round(story="a quiet "
                                                                        "day")), 1),
            Scenario(f"a customer written after the last load but stamped exactly its "
                     f"watermark {t0}", more(Round((d.row(0),), story=f"a row stamped {t0}")),
                     2),
            Scenario(f"a correction stamped the same {t0} as the row it corrects",
                     more(Round((customer(k, name, other, t0),), story=f"{name} moves to "
                                f"{other}")), 2),
            Scenario(f"a city set to NULL at {d.stamp(1)}",
                     more(Round((customer(k, name, None, d.stamp(1)),), story=f"{name}'s city "
                                "is cleared")), 2),
            Scenario("a customer deleted at the source", more(Round((d.row(1),), (k,),
                                                                   story="a delete")), 3),
            Scenario(f"the only customer stamped {t0} (the watermark) deleted at the source: "
                     "nothing left to read", more(Round((), (k,), story="nothing to read")), 2),
            Scenario(f"the customer stamped {t0} (the watermark) deleted at the source, an older "
                     "one still there", more(Round((), (k,), story="nothing new to read"),
                                             source=(first, older),
                                             warehouse=loaded([first, older], {k: "gold"})), 3),
            Scenario(f"a warehouse that also holds a row stamped {d.stamp(5)}, newer than the "
                     "watermark, that the source no longer has (deleted there, or written by a "
                     "run that failed), then a new customer",
                     more(Round((d.row(2),), story="a new customer"),
                          warehouse=(*base.warehouse, (*d.row(5), "vip"))), 3),
            *(Scenario(f"a write to {table} that fails half-way ({FAILURES[error]}), then the "
                       "next load", more(Round((d.row(1),), failing=table, error=error,
                                               story="the write fails"),
                                         Round((d.row(2),), story="the next load")), 3)
              for table in (TABLES.warehouse, TABLES.watermarks) for error in FAILURES),
            Scenario("two quiet days, then a new customer", more(
                Round(story="a quiet day"), Round(story="another quiet day"),
                Round((d.row(3),), story="a new customer")), 3),
        ]
    for seed in range(4):
        wide = random_warehouse(950 + seed, rows=3 + 6 * seed, rounds=2 + seed % 2,
                                unicode=seed == 1, leftovers=seed != 0)
        out.append(Scenario(f"{len(wide.source)} customers (segments, orders, NULLs), then "
                            f"{len(wide.rounds)} rounds of inserts and updates", wide, wide.size))
    many = Draw(990)
    big = [many.row(0) for _ in range(5)]
    rows = tuple(many.row(many.rng.randint(1, 2)) for _ in range(23))
    out.append(Scenario(f"{len(rows)} new customers in one round",
                        Warehouse(tuple(big), loaded(big), (), max(r[STAMP] for r in big),
                                  many.watermark_format,
                                  (Round(rows, story=f"{len(rows)} arrive"),)),
                        len(big) + len(rows)))
    return out


def _same_load(yours: Outcome, expected: Outcome) -> bool:
    """Round by round the same state, rewrites and open transaction, and an error raised where
    the model raises one (whatever its words)."""
    if yours.raised or expected.raised:
        return yours.raised and expected.raised

    def plain(rounds: list[tuple]) -> list[tuple]:
        return [(*r[:4], r[4] is not None, r[5]) for r in rounds]

    return plain(yours.value) == plain(expected.value)


LOAD = Judge(Model(_load_model), _load_scenarios, _run_load, same=_same_load)


def _describe_load(diff: Difference) -> tuple[str, str]:
    warehouse: Warehouse = diff.scenario.data
    story = diff.scenario.story
    if diff.yours.raised:
        error = diff.yours.error
        if error.startswith("LibraryCallError"):
            return (f"it calls the library's {error.split(': ')[-1]}: this step is yours to "
                    "write.", "Use your watermark_sql, changed_rows_sql, upsert_sql and "
                    "save_watermark_sql.")
        if error.startswith("AnswerTimeout"):
            return (f"with {story}, your load {error.split(': ', 1)[-1]}: a loop that never "
                    "ends?", "Run it yourself on the lecture's warehouse, with a print() in "
                    "the loop.")
        return f"with {story}, it stops with {error}.", "Define a function of the connection."
    for number, (yours, want) in enumerate(zip(diff.yours.value, diff.expected.value,
                                               strict=True), 1):
        if yours == want:
            continue
        change = warehouse.rounds[number - 1]
        at = f"with {story}, load {number} ({change.story or 'after a round of changes'})"
        (rows, orders, state, rewritten, raised, left_open) = yours
        if left_open:
            return (f"{at} left its transaction open: the next statement on this connection "
                    "would run inside it, and nothing it wrote is committed.",
                    "Every way out of the function ends the transaction: COMMIT, or ROLLBACK on "
                    "an error.")
        if change.failing and not raised:
            return (f"{at}: writing {change.failing} failed and the load returned as if all went "
                    "well, so a scheduler records a success and nobody looks.",
                    "Roll back, then let the error go on (raise it again).")
        if change.failing:
            return (f"{at}: writing {change.failing} failed, and the load left "
                    + ("the data committed without its watermark" if change.failing ==
                       "etl_watermarks" else "the watermark moved although the data was not "
                       "written")
                    + ": warehouse and state disagree, so the next load starts from the wrong "
                    "place.", "connect() is in autocommit mode, so `with conn:` opens nothing: "
                    "begin and end the transaction yourself.")
        if raised and "is not defined" in raised:
            return (f"{at} stopped with {raised}.", "Run the cells of steps 1 to 4 first: "
                    "the load uses their SQL.")
        if raised:
            return (f"{at} stopped with {raised}, where a correct load does not.",
                    "Run the load on this data yourself and read the error.")
        if state != want[2]:
            return (f"{at} stored the watermark {_stored(state, want[2])}.",
                    "Compute the new watermark from the rows you read, and never move it back "
                    "(a load that read nothing leaves it as it was).")
        if orders != want[1]:
            return (f"{at}: {len(want[1]) - len(orders)} order(s) of {TABLES.orders} are gone "
                    f"(a row of {TABLES.warehouse} was deleted and inserted again, and the cascade "
                    "took its orders).", "Compare each step's SQL with what its own check "
                    "accepted: the upsert changes rows in place.")
        if rows != want[0]:
            keys = {r[KEY] for r in rows}
            missing = [r for r in want[0] if r[KEY] not in keys]
            if missing:
                return (f"{at}: {show_rows(missing[:1])} never reached {TABLES.warehouse}.",
                        "Compare each step's SQL with what its own check accepted.")
            wrong = [r for r in rows if r not in want[0]]
            right = {r[KEY]: r for r in want[0]}
            return (f"{at}: {TABLES.warehouse} holds {show_rows(wrong[:1])} where a correct load "
                    f"holds {show_rows([right.get(wrong[0][KEY], ())])}.",
                    "Compare each step's SQL with what its own check accepted.")
        return (f"{at} rewrote {len(rewritten)} rows; {len(want[3])} changed.",
                "Compare each step's SQL with what its own check accepted.")
    return f"with {story}, it does something else.", "Compare with the library's SQL trace."


def _stored(state: list[tuple], want: list[tuple]) -> str:
    """What a wrong stored watermark is, against the right one, and what it causes."""
    yours = [r[2:] for r in state if r[:2] == want[0][:2]]
    right = want[0][2:]
    if not yours:
        return f"nowhere: the state table has no row for it (it should be {show_rows([right])})"
    value, shown = yours[0][0], show_rows(yours[:1])
    if value is None:
        return (f"{shown}, not {show_rows([right])}: with NULL stored, `updated_at >= NULL` is "
                "never true, so every later load reads nothing")
    if value == right[0]:
        return f"{shown}, not {show_rows([right])}: the value is right, its format is not"
    if isinstance(value, str) and isinstance(right[0], str) and value > right[0]:
        return (f"{shown}, not {show_rows([right])}: ahead of every row this load read, so rows "
                "stamped in between, not loaded yet, are skipped for good")
    return (f"{shown}, not {show_rows([right])}: behind what was already loaded, so the "
            "watermark moved back and the next loads read old rows again")


@register(answer_name="my_incremental_load", stub=step5_stub,
          solution_file="01_e_hand_written_load.py",
          requires=("01_a_watermark_read.py", "01_b_changed_rows_query.py",
                    "01_c_upsert_statement.py", "01_d_watermark_save.py"))
def check_hand_written_load(my_incremental_load: object) -> Verdict:
    """Step 5: the four steps in one transaction, as my_incremental_load(conn)."""
    name = "Step 5 (your incremental load)"
    if not callable(my_incremental_load):
        return Verdict(name, False, f"expected a function, got "
                       f"{type(my_incremental_load).__name__}",
                       "Define a function that takes the connection.")
    problem = function_problem(my_incremental_load)
    if problem:
        return Verdict(name, False, problem, "Define it with a plain def that runs the load and "
                       "returns.")
    diff = LOAD.difference(my_incremental_load)
    if diff is None:
        return Verdict(name, True, "same rows, rewrites and watermark as a correct incremental "
                       f"load after every round on {len(LOAD.scenarios)} warehouses; a failed "
                       "write leaves nothing half-written and is raised.")
    return Verdict(name, False, *_describe_load(diff))


_LIBRARY_LOAD = Judge(Model(_load_model), _load_scenarios,
                     functools.partial(_run_load, library_allowed=True), same=_same_load)


def load_problem(load: Callable) -> str | None:
    """What ``load(conn)`` does differently from a correct incremental load on step 5's
    scenarios, or None; calling the library is allowed here (the tests hold the library's
    incremental_load to the same model: "what you wrote, plus the guards")."""
    diff = _LIBRARY_LOAD.difference(load)
    return None if diff is None else _describe_load(diff)[0]
