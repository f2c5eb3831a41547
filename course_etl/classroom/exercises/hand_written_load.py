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

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import (
    Draw,
    Round,
    Warehouse,
    apply_round,
    lecture_warehouse,
    loaded,
    random_warehouse,
)
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Outcome,
    Scenario,
    show_rows,
    sorted_rows,
)
from course_etl.db import quote_identifier
from course_etl.loads.engine import full_load, incremental_load

__all__: list[str] = []

# The notebook's starting point for step 5: the four statements in a row, each committed alone.
# The same text as the notebook's cell (a test compares them): the names it reads are the
# notebook's, defined by the cells of steps 1 to 4.
def step5_stub(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    stored, fmt = conn.execute(watermark_sql, names).fetchone()  # noqa: F821
    conn.execute("DROP TABLE IF EXISTS temp.changes")
    conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})  # noqa: F821
    conn.execute(upsert_sql)  # noqa: F821
    newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
    conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})  # noqa: F821


class LibraryCallError(RuntimeError):
    """The answer called the library's load, which does the whole exercise."""


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


def _fail_triggers(conn: sqlite3.Connection, table: str, create: bool) -> None:
    for event_sql in ("INSERT", "UPDATE"):  # keywords, fixed here
        name_sql = quote_identifier(f"fail_{event_sql.lower()}")
        if create:
            conn.execute(f"CREATE TEMP TRIGGER {name_sql} BEFORE {event_sql} ON main."
                         f"{quote_identifier(table)} BEGIN SELECT RAISE(ABORT, 'disk I/O error "
                         "(simulated)'); END")
        else:
            conn.execute(f"DROP TRIGGER IF EXISTS temp.{name_sql}")


def _state(conn: sqlite3.Connection) -> tuple:
    return (sorted_rows(conn.execute("SELECT * FROM dw_customers")),
            sorted_rows(conn.execute("SELECT * FROM dw_orders")),
            sorted_rows(conn.execute("SELECT * FROM etl_watermarks")))


def _run_load(load: object, scenario: Scenario, *, library_allowed: bool = False
              ) -> list[tuple]:
    if not callable(load):
        raise TypeError(f"expected a function of the connection, got {type(load).__name__}")
    warehouse: Warehouse = scenario.data
    conn = warehouse.build()
    conn.execute("CREATE TEMP TABLE rewritten (id INTEGER)")
    conn.execute("CREATE TEMP TRIGGER watch AFTER UPDATE ON main.dw_customers "
                 "BEGIN INSERT INTO rewritten VALUES (old.id); END")
    rounds = []
    for change in warehouse.rounds:
        apply_round(conn, change)
        conn.execute("DELETE FROM temp.rewritten")
        if change.failing:
            _fail_triggers(conn, change.failing, create=True)
        raised, calls = None, []
        try:
            with _watch_library_loads(calls):
                load(conn)
        except Exception as error:  # noqa: BLE001 - the student's load may raise anything
            raised = f"{type(error).__name__}: {error}"
        if calls and not library_allowed:
            raise LibraryCallError(calls[0])
        left_open = conn.in_transaction
        if left_open:
            conn.execute("ROLLBACK")
        _fail_triggers(conn, change.failing or "dw_customers", create=False)
        rewritten = sorted(r[0] for r in conn.execute("SELECT id FROM temp.rewritten"))
        rounds.append((*_state(conn), rewritten, raised, left_open))
    return rounds


def _load_model(scenario: Scenario) -> list[tuple]:
    """A correct incremental load, in plain Python: read the rows at or after the stored
    watermark, insert the new ones, rewrite only those that differ (keeping segment), move the
    watermark to the highest value read (never back); a failed write changes nothing and is
    raised."""
    warehouse: Warehouse = scenario.data
    source = {r[0]: r for r in warehouse.source}
    target = {r[0]: r for r in warehouse.warehouse}
    mark = warehouse.watermark
    rounds = []
    for change in warehouse.rounds:
        source.update({r[0]: r for r in change.rows})
        for key in change.deleted:
            source.pop(key, None)
        rewritten: list[int] = []
        if not change.failing:
            read = [r for r in source.values() if r[3] is not None and r[3] >= mark]
            for row in read:
                old = target.get(row[0])
                if old is None:
                    target[row[0]] = (*row, "unknown")
                elif old[:4] != row:
                    target[row[0]] = (*row, old[4])
                    rewritten.append(row[0])
            mark = max([mark, *(r[3] for r in read)])
        state = [("dw_customers", "updated_at", mark, warehouse.watermark_format)]
        rounds.append((sorted_rows(target.values()), sorted_rows(warehouse.orders),
                       sorted_rows(state), sorted(rewritten),
                       "an error" if change.failing else None, False))
    return rounds


def _tiny(draw: Draw, *rounds: Round, customers: int = 1) -> Warehouse:
    source = [draw.row(0) for _ in range(customers)]
    mark = max(r[3] for r in source)
    return Warehouse(tuple(source), loaded(source, {source[0][0]: "gold"}),
                     ((990, source[0][0]),), mark, draw.watermark_format, rounds)


def _load_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    out = [Scenario("the lecture's warehouse, loaded after each change at its source", lecture,
                    lecture.size)]
    for seed in range(2):
        d = Draw(900 + seed)
        first = d.row(0)
        k, name, city, t0 = first
        source = [first]
        base = Warehouse(tuple(source), loaded(source, {k: "gold"}), ((990, k),), t0,
                         d.watermark_format)

        def more(*rounds: Round, base: Warehouse = base) -> Warehouse:
            return Warehouse(base.source, base.warehouse, base.orders, base.watermark,
                             base.watermark_format, rounds)

        other = d.city(city)
        out += [
            Scenario("a quiet day: nothing changed at the source", more(Round(story="a quiet "
                                                                        "day")), 1),
            Scenario(f"a customer written after the last load but stamped exactly its "
                     f"watermark {t0}", more(Round((d.row(0),), story=f"a row stamped {t0}")),
                     2),
            Scenario(f"a correction stamped the same {t0} as the row it corrects",
                     more(Round(((k, name, other, t0),), story=f"{name} moves to {other}")), 2),
            Scenario(f"a city set to NULL at {d.stamp(1)}",
                     more(Round(((k, name, None, d.stamp(1)),), story=f"{name}'s city is "
                                "cleared")), 2),
            Scenario("a customer deleted at the source", more(Round((d.row(1),), (k,),
                                                                   story="a delete")), 3),
            Scenario(f"the only customer stamped {t0} (the watermark) deleted at the source: "
                     "nothing left to read", more(Round((), (k,), story="nothing to read")), 2),
            Scenario("a write to dw_customers that fails half-way, then the next load",
                     more(Round((d.row(1),), failing="dw_customers", story="the write fails"),
                          Round((d.row(2),), story="the next load")), 3),
            Scenario("a write to etl_watermarks that fails half-way, then the next load",
                     more(Round((d.row(1),), failing="etl_watermarks", story="the write "
                                "fails"), Round((d.row(2),), story="the next load")), 3),
            Scenario("two quiet days, then a new customer", more(
                Round(story="a quiet day"), Round(story="another quiet day"),
                Round((d.row(3),), story="a new customer")), 3),
        ]
    for seed in range(4):
        wide = random_warehouse(950 + seed, rows=3 + 6 * seed, rounds=2 + seed % 2,
                                unicode=seed == 1)
        out.append(Scenario(f"{len(wide.source)} customers (segments, orders, NULLs), then "
                            f"{len(wide.rounds)} rounds of inserts and updates", wide, wide.size))
    many = Draw(990)
    big = [many.row(0) for _ in range(5)]
    rows = tuple(many.row(many.rng.randint(1, 2)) for _ in range(23))
    out.append(Scenario(f"{len(rows)} new customers in one round",
                        Warehouse(tuple(big), loaded(big), (), max(r[3] for r in big),
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
            stored = [r[2] for r in state]
            return (f"{at} stored the watermark {show_rows([stored])}, not "
                    f"{show_rows([[r[2] for r in want[2]]])}"
                    + (": with NULL stored, `updated_at >= NULL` is never true, so every later "
                       "load reads nothing" if None in stored else "") + ".",
                    "Compute the new watermark from the rows you read, and never move it back "
                    "(a load that read nothing leaves it as it was).")
        if (rows, orders) != want[:2]:
            wrong = [r for r in rows if r not in want[0]] or [r for r in want[0] if r not in rows]
            return (f"{at}: dw_customers differs from a correct load's at "
                    f"{show_rows(wrong[:1])} ({len(orders)} orders, {len(want[1])} expected).",
                    "Compare each step's SQL with what its own check accepted.")
        return (f"{at} rewrote {len(rewritten)} rows; {len(want[3])} changed.",
                "Compare each step's SQL with what its own check accepted.")
    return f"with {story}, it does something else.", "Compare with the library's SQL trace."


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
