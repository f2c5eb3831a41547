"""Notebook 01's deep-dive exercises: predict what a load reports, find the hard deletes.

Predicting is a question about one scenario (the notebook's): the check compares the prediction
with what :func:`~course_etl.loads.engine.incremental_load` reports there. Finding the hard deletes
runs the student's query beside a plain-Python model on the lecture's warehouse and generated ones
(nothing deleted, everything deleted, a row never changed since loading, a new row not loaded
yet, …) and names the smallest on which they differ.
"""

from __future__ import annotations

import numbers
import sqlite3
from datetime import date, timedelta

from course_etl import facts
from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import (
    STAMP,
    Draw,
    Warehouse,
    lecture_warehouse,
    loaded,
    random_warehouse,
    restamped,
)
from course_etl.classroom.exercises.differential import (
    Judge,
    Model,
    Scenario,
    run_query,
    safe_repr,
    show_rows,
    sorted_rows,
)
from course_etl.classroom.exercises.incremental import sql_problem
from course_etl.db import connect
from course_etl.facts import CUSTOMERS, TABLES
from course_etl.loads.engine import full_load, incremental_load
from course_etl.loads.watermarks import read_watermark
from course_etl.sample_data import apply_lecture_changes, create_lecture_source

__all__: list[str] = []


# --- deep dive: predict the load ----------------------------------------------------------------

PREDICTED_FIELDS = ("rows_read", "inserted", "updated", "unchanged", "deleted")


def _next_day(stamp: str) -> str:
    return (date.fromisoformat(stamp[:10]) + timedelta(days=1)).isoformat()


def prediction_changes() -> tuple[facts.Change, ...]:
    """What happens at the source after the lecture's story, in the notebook's exercise: the
    first customer moves, stamped the stored watermark itself; a new customer arrives the next
    day; the second customer is deleted."""
    story = facts.lecture_rows(max(facts.CHANGE_ROUNDS))
    first, second = story[0], story[1]
    mark = max(str(r[CUSTOMERS.watermark]) for r in story)
    return (facts.Update(first[CUSTOMERS.key], city="Amsterdam", **{CUSTOMERS.watermark: mark}),
            facts.Insert(**{CUSTOMERS.key: max(r[CUSTOMERS.key] for r in story) + 2,
                            "name": "Gus", "city": "Geneva",
                            CUSTOMERS.watermark: _next_day(mark)}),
            facts.Delete(second[CUSTOMERS.key]))


def _prediction_scenario() -> sqlite3.Connection:
    conn = connect(":memory:")
    create_lecture_source(conn)
    full_load(conn, TABLES.source, TABLES.warehouse, key=CUSTOMERS.key,
              watermark=CUSTOMERS.watermark)
    for number in sorted(facts.CHANGE_ROUNDS):
        apply_lecture_changes(conn, number)
    incremental_load(conn, TABLES.source, TABLES.warehouse, key=CUSTOMERS.key,
                     watermark=CUSTOMERS.watermark)
    for change in prediction_changes():
        conn.execute(*facts.change_statement(CUSTOMERS, TABLES.source, change))
    return conn


def _count_problem(prediction: dict) -> str | None:
    """What makes ``prediction`` not a dict of whole counts under the five names, or None."""
    missing = [f for f in PREDICTED_FIELDS if f not in prediction]
    extra = [str(k) for k in prediction if k not in PREDICTED_FIELDS]
    if missing:
        return (f"missing key(s) {', '.join(missing)}"
                + (f" (found {', '.join(map(repr, extra))})" if extra else "")
                + f": the dict needs exactly {', '.join(PREDICTED_FIELDS)}")
    if extra:
        return f"unknown key(s) {', '.join(map(repr, extra))}: keep exactly the five of the stub"
    odd = [f for f in PREDICTED_FIELDS if not isinstance(prediction[f], numbers.Integral)
           or isinstance(prediction[f], bool)]
    if odd:
        return (f"{odd[0]} is {safe_repr(prediction[odd[0]])}, not a whole number: a count is "
                "an int such as 2")
    return None


@register(
    answer_name="prediction",
    stub=dict.fromkeys(PREDICTED_FIELDS, 0),
    solution_file="01_predicted_counts.py",
)
def check_predicted_counts(prediction: object) -> Verdict:
    """Predict the LoadResult counts of the notebook's scenario before running it."""
    name = "Exercise (predict the load)"
    conn = _prediction_scenario()
    mark = read_watermark(conn, TABLES.warehouse, CUSTOMERS.watermark).value
    result = incremental_load(conn, TABLES.source, TABLES.warehouse, key=CUSTOMERS.key,
                              watermark=CUSTOMERS.watermark)
    actual = {f: getattr(result, f) for f in PREDICTED_FIELDS}
    if not isinstance(prediction, dict):
        return Verdict(name, False, f"expected a dict with keys {', '.join(PREDICTED_FIELDS)}",
                       "Fill in the dict in the cell.")
    problem = _count_problem(prediction)
    if problem:
        return Verdict(name, False, problem, "Start from the stub's dict and replace each 0 "
                       "with your prediction.")
    wrong = [f for f in PREDICTED_FIELDS if prediction.get(f) != actual[f]]
    if not wrong:
        return Verdict(name, True, f"exactly what the load reports: "
                       f"{ {f: int(actual[f]) for f in PREDICTED_FIELDS} }.")
    hints = {
        "rows_read": f"Count the source rows at or after the stored watermark, {mark}, "
                     "the ones stamped with it included.",
        "inserted": "Of the rows read, which has a key the warehouse does not know yet?",
        "updated": "Of the rows read, which differ from their warehouse copy?",
        "unchanged": "Rows read but identical in the warehouse are left alone: how many?",
        "deleted": "What does the load read of a row that is no longer in the source?",
    }
    return Verdict(name, False, f"{len(wrong)} of {len(PREDICTED_FIELDS)} counts are off "
                   f"({', '.join(wrong)}).", hints[wrong[0]])


# --- deep dive: find the hard deletes -----------------------------------------------------------

def _deletes_scenario(story: str, source: list[tuple], warehouse: list[tuple],
                      watermark: str = "2024-10-05") -> Scenario:
    return Scenario(story, Warehouse(tuple(source), loaded(warehouse), (), watermark),
                    len(source) + len(warehouse))


def _deletes_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    now = {r[0]: r for r in lecture.source}
    for change in lecture.rounds:
        now.update({r[0]: r for r in change.rows})
    gone = sorted(now)[1::3]
    out = [_deletes_scenario(f"the lecture's warehouse, {len(gone)} of its customers deleted at "
                             "the source", [r for k, r in now.items() if k not in gone],
                             list(now.values()))]
    for seed in range(2):
        d = Draw(1000 + seed, unicode=seed == 1)
        a, b, c = d.row(0), d.row(1), d.row(2)
        out += [
            _deletes_scenario("nothing deleted", [a, b], [a, b]),
            _deletes_scenario("every customer deleted: the source is empty", [], [a, b]),
            _deletes_scenario("a customer deleted who never changed since the first load",
                              [b], [a, b], watermark=b[STAMP]),
            _deletes_scenario("a new customer at the source, not loaded yet, and one deleted",
                              [a, c], [a, b]),
            _deletes_scenario("a live customer whose updated_at is NULL at the source (and whose "
                              "name is NULL), and one deleted",
                              [a, restamped(c, None, name=None)], [a, b, c]),
            _deletes_scenario("a live customer re-stamped at the source earlier than anything "
                              "loaded, and one deleted", [a, restamped(c, "2001-01-01")],
                              [a, b, c]),
        ]
    for seed in range(4):
        wide = random_warehouse(1100 + seed, rows=8 + 15 * seed + 20 * (seed == 3), rounds=0)
        keys = [r[0] for r in wide.source]
        deleted = set(keys[seed::4] if seed % 2 == 0 else keys[::5] + keys[1::5] + keys[2::5])
        out.append(_deletes_scenario(f"{len(keys)} customers, {len(deleted)} deleted at the "
                                     "source", [r for r in wide.source if r[0] not in deleted],
                                     list(wide.source), wide.watermark))
    return out


def _run_deletes(sql: object, scenario: Scenario) -> list[tuple]:
    warehouse: Warehouse = scenario.data
    return sorted_rows(run_query(warehouse.build(), sql, {"watermark": warehouse.watermark}).rows)


def _deletes_model(scenario: Scenario) -> list[tuple]:
    warehouse: Warehouse = scenario.data
    live = {r[0] for r in warehouse.source}
    return sorted_rows((r[0],) for r in warehouse.warehouse if r[0] not in live)


HARD_DELETES = Judge(Model(_deletes_model), _deletes_scenarios, _run_deletes)


@register(
    answer_name="hard_delete_sql",
    stub="SELECT id FROM src_customers WHERE updated_at >= :watermark",
    solution_file="01_hard_delete_query.py",
)
def check_hard_delete_query(hard_delete_sql: object) -> Verdict:
    """Find the ids still in dw_customers but gone from src_customers."""
    name = "Exercise (hard deletes)"
    diff = HARD_DELETES.difference(hard_delete_sql)
    if diff is None:
        return Verdict(name, True, "finds exactly the deleted keys on "
                       f"{len(HARD_DELETES.scenarios)} warehouses, the empty source included.")
    story = diff.scenario.story
    if diff.yours.raised:
        return Verdict(name, False, f"with {story}, {sql_problem(diff.yours.error)}",
                       "Both tables are in the same database: a query can read "
                       f"{TABLES.warehouse} and {TABLES.source} together.")
    yours, want = diff.yours.value, diff.expected.value
    if yours and len(yours[0]) != 1:
        return Verdict(name, False, f"it returns {len(yours[0])} columns; a list of ids has one.",
                       "Return the id only.")
    missed = [r for r in want if r not in yours]
    extra = [r for r in yours if r not in want or yours.count(r) > want.count(r)]
    said = [f"misses {show_rows(missed, 3)}, which stay in the warehouse for good"] if missed \
        else []
    said += [f"lists {show_rows(extra, 3)}, still in the source (deleting them would lose live "
             "customers)"] if extra else []
    return Verdict(name, False, f"with {story}, it " + " and ".join(said) + ".",
                   "A deleted row has no updated_at left to compare: look for warehouse keys "
                   "that have no partner in the source.")
