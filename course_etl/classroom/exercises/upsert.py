"""Notebook 01's build-it-yourself steps 3 and 4: the upsert, and storing the new watermark.

Step 3 runs the student's statement on warehouses with a ``segment`` column the source does not
have and child orders (``ON DELETE CASCADE``), with one kind of change each (a new row, a re-read
unchanged row, a correction stamped the same time as the row it corrects, a value set to or from
NULL, …), and compares the whole warehouse, the child rows and which rows were rewritten with a
plain-Python model. Step 4 stores watermarks one after another into a state table of several
targets and compares the whole table after each write.
"""

from __future__ import annotations

import random

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import (
    COLUMNS,
    KEY,
    STAMP,
    WAREHOUSE_COLUMNS,
    Draw,
    Warehouse,
    cell,
    changed,
    corrections,
    customer,
    lecture_warehouse,
    random_warehouse,
)
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Scenario,
    run_query,
    show_rows,
    show_value,
    sorted_rows,
)
from course_etl.classroom.exercises.incremental import source_after, sql_problem
from course_etl.db import quote_identifier
from course_etl.facts import CUSTOMERS, TABLES, WAREHOUSE_ONLY

__all__: list[str] = []

# --- step 3: the upsert -------------------------------------------------------------------------

def _upsert_scenario(story: str, warehouse: list[tuple], changes: list[tuple],
                     orders: tuple = ()) -> Scenario:
    return Scenario(story, {"warehouse": Warehouse((), tuple(warehouse), tuple(orders)),
                            "changes": changes}, len(warehouse) + len(changes))


def _correction_scenarios(d: Draw, segment: str) -> list[Scenario]:
    """One warehouse row corrected at the source with the same timestamp, for each way a value
    can change that a change test comparing too little misses (case, length, spaces, NULL and
    empty text), in the name and in the city, with the other column NULL or not."""
    out = []
    for column, other, pool in (("name", "city", d.names), ("city", "name", d.cities)):
        for other_null in (False, True):
            k, t0 = d.key(), d.stamp(0)
            base = customer(k, d.name(), d.city(), t0)
            if other_null:
                base = changed(base, **{other: None})
            start = base[COLUMNS.index(column)]
            for value in (start, None, "", f"{start} "):
                old = changed(base, **{column: value})
                for how, new_value in corrections(value, pool):
                    new = changed(old, **{column: new_value})
                    beside = f", its {other} NULL" if other_null else ""
                    out.append(_upsert_scenario(
                        f"a correction of the {column} from {show_value(value)} to "
                        f"{show_value(new_value)} ({how}), stamped the same {t0}{beside}",
                        [(*old, segment)], [new]))
    moved = customer(d.key(), "ab", "c", d.stamp(0))
    out.append(_upsert_scenario("a letter that moves from the name to the city ('ab', 'c' "
                                "becomes 'a', 'bc'), stamped the same time",
                                [(*moved, segment)], [changed(moved, name="a", city="bc")]))
    return out


def _upsert_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    source = source_after(lecture, 1)
    first = lecture.warehouse[0]
    out = [_upsert_scenario("the lecture's warehouse (its customers with their segments and "
                            "orders) and the rows read after its first change round",
                            list(lecture.warehouse), sorted(source.values()), lecture.orders),
           _upsert_scenario("no rows in changes", [first], [])]
    for seed in range(2):
        d = Draw(500 + seed, unicode=seed == 1)
        k, name, city, t0, t1 = d.key(), d.name(), d.city(), d.stamp(0), d.stamp(1)
        other = d.city(city)
        row = customer(k, name, city, t0)
        out += [
            _upsert_scenario("a new customer", [], [d.row(1)]),
            _upsert_scenario("new customers whose name and city start and end with spaces",
                             [], [customer(d.key(), f" {d.name()}", f"{d.city()}  ", t1),
                                  customer(d.key(), f"{d.name()} ", f" {d.city()}", t1)]),
            _upsert_scenario("a row read again, unchanged", [(*row, "vip")], [row]),
            _upsert_scenario(f"a correction stamped the same {t0} as the row it corrects "
                             f"({city} becomes {other})", [(*row, "gold")],
                             [customer(k, name, other, t0)]),
            _upsert_scenario("a rename at a new timestamp", [(*row, "b2b")],
                             [customer(k, "Dr " + name, city, t1)]),
            _upsert_scenario("a row whose only change is its timestamp", [(*row, "vip")],
                             [customer(k, name, city, t1)]),
            _upsert_scenario("a row whose updated_at was NULL in the warehouse",
                             [(*customer(k, name, city, None), "vip")], [row]),
            _upsert_scenario("a row with a NULL name, read again unchanged",
                             [(*customer(k, None, city, t0), "b2b")],
                             [customer(k, None, city, t0)]),
            _upsert_scenario(f"a 'gold' customer with two orders who moves to {other}",
                             [(*row, "gold")], [customer(k, name, other, t1)],
                             ((800 + seed, k), (900 + seed, k))),
            *_correction_scenarios(d, ("gold", "vip")[seed]),
        ]
    for seed in range(3):
        wide = random_warehouse(600 + seed, rows=5 + 8 * seed, rounds=1, unicode=seed == 1)
        changes = [r for r in wide.source if r[STAMP] >= wide.watermark]
        changes = list({r[KEY]: r for r in [*changes, *wide.rounds[0].rows]}.values())
        out.append(_upsert_scenario(f"{len(wide.warehouse)} customers with segments and orders, "
                                    f"and {len(changes)} rows read (new, changed, unchanged)",
                                    list(wide.warehouse), changes, wide.orders))
    many = Draw(700)
    rows = [(*many.row(0), WAREHOUSE_ONLY.default) for _ in range(24)]
    out.append(_upsert_scenario(f"{len(rows)} customers, every one moved",
                                rows, [customer(r[KEY], cell(r, "name"),
                                                many.city(cell(r, "city")), many.stamp(1))
                                       for r in rows]))
    return out


def _run_upsert(sql: object, scenario: Scenario) -> tuple:
    conn = scenario.data["warehouse"].build()
    conn.execute("PRAGMA recursive_triggers = ON")  # else REPLACE deletes without telling
    conn.execute(CUSTOMERS.ddl("changes", primary_key=False, database="temp"))
    conn.executemany(CUSTOMERS.insert_sql("changes"),  # the temp table: no other is named so
                     scenario.data["changes"])
    # Note every key the statement rewrote or deleted (REPLACE deletes, then inserts).
    warehouse_sql, key_sql = quote_identifier(TABLES.warehouse), quote_identifier(CUSTOMERS.key)
    noted = {"UPDATE": "rewritten", "DELETE": "deleted"}  # event (a keyword) -> temp table
    for event_sql, table in noted.items():
        table_sql = quote_identifier(table)
        conn.execute(f"CREATE TEMP TABLE {table_sql} ({key_sql})")
        conn.execute(f"CREATE TEMP TRIGGER {quote_identifier(f'watch_{table}')} "
                     f"AFTER {event_sql} ON main.{warehouse_sql} "
                     f"BEGIN INSERT INTO {table_sql} VALUES (old.{key_sql}); END")
    run_query(conn, sql)
    return (sorted_rows(conn.execute(f"SELECT * FROM {quote_identifier(TABLES.warehouse)}")),
            sorted_rows(conn.execute(f"SELECT * FROM {quote_identifier(TABLES.orders)}")),
            *(sorted(r[0] for r in conn.execute(
                f"SELECT {key_sql} FROM temp.{quote_identifier(table)}"))
              for table in noted.values()))


def _upsert_model(scenario: Scenario) -> tuple:
    warehouse: Warehouse = scenario.data["warehouse"]
    after = {r[KEY]: r for r in warehouse.warehouse}
    rewritten = []
    for new in scenario.data["changes"]:
        old = after.get(new[KEY])
        if old is None:
            after[new[KEY]] = (*new, WAREHOUSE_ONLY.default)
        elif old[:-1] != tuple(new):
            after[new[KEY]] = (*new, old[-1])
            rewritten.append(new[KEY])
    return (sorted_rows(after.values()), sorted_rows(warehouse.orders), sorted(rewritten), [])


UPSERT = Judge(Model(_upsert_model), _upsert_scenarios, _run_upsert)


def _describe_upsert(diff: Difference) -> tuple[str, str]:
    story = diff.scenario.story
    if diff.yours.raised:
        near_do = 'near "DO"' in diff.yours.error
        return (f"with {story}, {sql_problem(diff.yours.error)}",
                "In INSERT … SELECT … FROM changes ON CONFLICT, SQLite reads ON as a join "
                "condition of FROM changes: see the WHERE true above." if near_do else
                "Start from the statement shown above and rename its table and columns.")
    (rows, orders, rewritten, deleted), (want, want_orders, want_rewritten, _) = (
        diff.yours.value, diff.expected.value)
    right = {w[KEY]: w for w in want}
    if deleted:
        lost = len(want_orders) - len(orders)
        reset = [r for r in rows if r[KEY] in right and r[-1] != right[r[KEY]][-1]]
        what = [f"{lost} order(s) were deleted by the foreign key's cascade" if lost else "",
                f"{len(reset)} {WAREHOUSE_ONLY.name}(s) fell back to "
                f"{WAREHOUSE_ONLY.default!r}" if reset else ""]
        return (f"with {story}, it deleted {len(deleted)} row(s) of {TABLES.warehouse} (id "
                f"{deleted[0]}) and inserted them anew"
                + (f": {' and '.join(w for w in what if w)}" if any(what) else "") + ".",
                "Change the row in place instead of replacing it.")
    unknown = [r for r in rows if r[KEY] not in right]
    if unknown:
        return (f"with {story}, {TABLES.warehouse} holds {show_rows(unknown, 2)}, which is not in "
                "changes: the statement writes rows of its own instead of the ones it is given.",
                "Read the rows to write from the table changes (SELECT … FROM changes).")
    if orders != want_orders:
        return (f"with {story}, {len(want_orders) - len(orders)} order(s) of {TABLES.orders} "
                "are gone: the upsert must not touch other tables.",
                f"One statement that writes {TABLES.warehouse} only.")
    if rows != want:
        wrong = [r for r in rows if r not in want]
        missing = [w for w in want if w[KEY] not in {r[KEY] for r in rows}]
        if missing:
            return (f"with {story}, {show_rows(missing, 2)} never arrived in {TABLES.warehouse}.",
                    "Rows with a new id must be inserted: read every row of changes.")
        first = wrong[0]
        columns = [c for c, a, b in zip(WAREHOUSE_COLUMNS, first, right[first[KEY]],
                                        strict=True) if a != b]
        if columns == [WAREHOUSE_ONLY.name]:
            return (f"with {story}, it sets {WAREHOUSE_ONLY.name} of {show_rows([first])}, a "
                    "column the source does not send: the warehouse's own value is lost.",
                    "Set only the columns that come from changes.")
        return (f"with {story}, {TABLES.warehouse} holds {show_rows([first])}; it should hold "
                f"{show_rows([right[first[KEY]]])} (wrong {', '.join(columns)})"
                + (": the next watermark is computed from a version that is gone"
                   if CUSTOMERS.watermark in columns else "") + ".",
                "Whatever the change, every column the source sends is set as sent; and 'did it "
                "change?' must compare each column exactly, true when a value goes to or from "
                "NULL (a plain <> says NULL, not true).")
    extra = sorted(set(rewritten) - set(want_rewritten))
    return (f"with {story}, {len(extra)} row(s) that did not change were rewritten anyway (id "
            f"{extra[0]}): every re-read row costs a write and looks like a change to anything "
            "that watches the table.",
            "DO UPDATE can have its own WHERE: rewrite only when some column differs.")


@register(answer_name="upsert_sql",
          stub=("INSERT OR REPLACE INTO dw_customers (id, name, city, updated_at) "
                "SELECT id, name, city, updated_at FROM changes"),
          solution_file="01_c_upsert_statement.py")
def check_upsert_statement(upsert_sql: object) -> Verdict:
    """Step 3: upsert the rows of `changes` into dw_customers, rewriting only real changes."""
    name = "Step 3 (the upsert)"
    diff = UPSERT.difference(upsert_sql)
    if diff is None:
        return Verdict(name, True, "inserts the new rows, updates every column of the changed "
                       "ones in place (segment and orders kept), and leaves unchanged rows "
                       f"alone, on {len(UPSERT.scenarios)} warehouses.")
    return Verdict(name, False, *_describe_upsert(diff))


# --- step 4: store the new watermark ------------------------------------------------------------

def _save_scenario(story: str, state: list[tuple], writes: list[tuple]) -> Scenario:
    return Scenario(story, {"state": state, "writes": writes}, len(state) + len(writes))


def _save_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    day = max(r[STAMP] for r in source_after(lecture, 1).values())
    state = (TABLES.warehouse, CUSTOMERS.watermark)
    out = [_save_scenario("the lecture's state after its first load, then the watermark of the "
                          "next one", [(*state, lecture.watermark, "YYYY-MM-DD")],
                          [(*state, day, "YYYY-MM-DD")])]
    for seed in range(2):
        d = Draw(800 + seed)
        fmt, t0, t1 = d.watermark_format, d.stamp(0), d.stamp(1)
        table, other = f"dw_{d.name().lower()}", f"dw_{d.name().lower()}_log"
        out += [
            _save_scenario(f"no state yet: {table}'s first watermark", [],
                           [(table, "updated_at", t0, fmt)]),
            _save_scenario(f"a stored watermark of {table} that moves on",
                           [(table, "updated_at", t0, fmt)], [(table, "updated_at", t1, fmt)]),
            _save_scenario(f"{table} and {other} both with a watermark on updated_at; {table}'s "
                           "moves on", [(table, "updated_at", t0, fmt),
                                        (other, "updated_at", t0, fmt)],
                           [(table, "updated_at", t1, fmt)]),
            _save_scenario(f"{table} with a watermark on created_at; one on updated_at is "
                           "stored next to it", [(table, "created_at", t0, fmt)],
                           [(table, "updated_at", t1, fmt)]),
            _save_scenario(f"a stored watermark of {table} whose format changes",
                           [(table, "updated_at", "2025-03-01", "YYYY-MM-DD")],
                           [(table, "updated_at", t1, "YYYY-MM-DD hh:mm")]),
        ]
    out += [_save_scenario("the medallion's watermark, an integer batch id, moving from 9 to 10",
                           [("silver_orders", "_batch_id", 9, "integer")],
                           [("silver_orders", "_batch_id", 10, "integer")]),
            _save_scenario("a value earlier than the stored one (step 4 stores what it is given;"
                           " step 5 decides whether to call it)",
                           [("dw_orders", "updated_at", "2025-02-10", "YYYY-MM-DD")],
                           [("dw_orders", "updated_at", "2025-02-01", "YYYY-MM-DD")])]
    out.append(_save_scenario("targets named with non-ASCII letters and a quote",
                              [("dw_kunden_ü", "geändert_am", "2025-01-01", "YYYY-MM-DD")],
                              [("dw_o'brien", "updated_at", "2025-02-02", "YYYY-MM-DD"),
                               ("dw_kunden_ü", "geändert_am", "2025-02-03", "YYYY-MM-DD")]))
    rng = random.Random(11)
    for size in (4, 9):
        targets = [f"dw_t{n}" for n in rng.sample(range(10, 99), size)]
        state = [(t, "updated_at", f"2025-01-{rng.randint(10, 28)}", "YYYY-MM-DD")
                 for t in targets[: size - 2]]
        writes = [(rng.choice(targets), "updated_at", f"2025-02-{rng.randint(10, 28)}",
                   "YYYY-MM-DD") for _ in range(size)]
        out.append(_save_scenario(f"{len(state)} stored watermarks, then {len(writes)} loads "
                                  "storing theirs one after the other", state, writes))
    return out


def _run_save(sql: object, scenario: Scenario) -> list:
    conn = Warehouse((), ()).build()
    state_sql = quote_identifier(TABLES.watermarks)
    conn.execute(f"DELETE FROM {state_sql}")
    conn.executemany(f"INSERT INTO {state_sql} VALUES (?, ?, ?, ?)", scenario.data["state"])
    states = []
    for target, column, value, fmt in scenario.data["writes"]:
        run_query(conn, sql, {"target": target, "column": column, "value": value, "format": fmt})
        states.append(sorted_rows(conn.execute(f"SELECT * FROM {state_sql}")))
    return states


def _save_model(scenario: Scenario) -> list:
    state = {(t, c): (v, f) for t, c, v, f in scenario.data["state"]}
    states = []
    for target, column, value, fmt in scenario.data["writes"]:
        state[(target, column)] = (value, fmt)
        states.append(sorted_rows((*k, *v) for k, v in state.items()))
    return states


WATERMARK_SAVE = Judge(Model(_save_model), _save_scenarios, _run_save)


def _describe_save(diff: Difference) -> tuple[str, str]:
    story = diff.scenario.story
    if diff.yours.raised:
        return (f"with {story}, {sql_problem(diff.yours.error)}",
                "The row exists after the first load; a new target has none yet: the statement "
                "must handle both.")
    for number, (yours, want) in enumerate(zip(diff.yours.value, diff.expected.value,
                                               strict=True), 1):
        if yours != want:
            target, column, value, _ = diff.scenario.data["writes"][number - 1]
            wrong = [r for r in yours if r not in want] or [r for r in want if r not in yours]
            kept = [r for r in yours if r[:2] == (target, column)]
            if kept and kept[0][2] != value and str(kept[0][2]) == str(value):
                return (f"with {story}: after storing {value!r} for {target}.{column}, the state "
                        f"table holds {show_rows(kept)}: the value changed type on the way, so "
                        "the next load compares it wrongly (as text, '10' < '9').",
                        "Store :value as it is given, without converting it.")
            before = (diff.expected.value[number - 2] if number > 1 else
                      sorted_rows(diff.scenario.data["state"]))
            if kept and kept[0] in before and isinstance(value, str) and \
                    isinstance(kept[0][2], str) and kept[0][2] > value:
                return (f"with {story}: after storing {value!r} for {target}.{column}, the state "
                        f"table still holds {show_rows(kept)}. Step 4 stores the value it is "
                        "given; keeping the larger one is step 5's guard (it knows whether the "
                        "load read anything), and a reset to an earlier value must be possible.",
                        "Store :value and :format as given: keep the 'never move back' guard "
                        "in step 5.")
            return (f"with {story}: after storing {value!r} for {target}.{column}, the state "
                    f"table holds {show_rows(yours, 3)}; it should hold {show_rows(want, 3)} "
                    f"(look at {show_rows(wrong[:1])}): the next load of that table starts from "
                    "the wrong place.",
                    "Touch exactly one row, the one of :target and :column, with both the value "
                    "and the format; create it when it is missing.")
    return f"with {story}, it stores something else.", "Compare the state table before and after."


@register(answer_name="save_watermark_sql",
          stub=("INSERT INTO etl_watermarks (target, watermark_column, value, format) "
                "VALUES (:target, :column, :value, :format)"),
          solution_file="01_d_watermark_save.py")
def check_watermark_save(save_watermark_sql: object) -> Verdict:
    """Step 4: store :value (and :format) as the watermark of :target and :column."""
    name = "Step 4 (store the watermark)"
    diff = WATERMARK_SAVE.difference(save_watermark_sql)
    if diff is None:
        return Verdict(name, True, "updates the watermark of the target it is given, creates it "
                       "for a new target, and leaves every other row alone, on "
                       f"{len(WATERMARK_SAVE.scenarios)} state tables.")
    return Verdict(name, False, *_describe_save(diff))

