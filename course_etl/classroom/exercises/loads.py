"""Notebook 01's later exercises: predicting a load and finding hard deletes.

The build-it-yourself steps (watermark, changed rows, upsert, one transaction) are in
:mod:`course_etl.classroom.exercises.incremental`, re-exported here. The hard-delete check runs
the answer on the lecture's customers and on a generated set with other ids.
"""

from __future__ import annotations

import sqlite3

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import apply_round, generated_scenario
from course_etl.classroom.exercises.incremental import (
    check_changed_rows_query,
    check_hand_written_load,
    check_upsert_statement,
    check_watermark_read,
    check_watermark_save,
)
from course_etl.db import connect
from course_etl.loads.engine import full_load, incremental_load
from course_etl.sample_data import apply_lecture_changes, create_lecture_source

__all__ = [
    "check_watermark_read",
    "check_changed_rows_query",
    "check_upsert_statement",
    "check_watermark_save",
    "check_hand_written_load",
    "check_predicted_counts",
    "check_hard_delete_query",
]

WATERMARK = "2024-10-05"


def _lecture_after_round_one() -> sqlite3.Connection:
    """The lecture's source after Chloe's move and Dai, plus Femi written later on 10-05."""
    conn = connect(":memory:")
    create_lecture_source(conn)
    apply_lecture_changes(conn, 1)
    conn.execute("INSERT INTO src_customers VALUES (6, 'Femi', 'Frankfurt', '2024-10-05')")
    return conn


def _ids(conn: sqlite3.Connection, sql: str, params: dict) -> set | str:
    """The first column of the answer's rows, or the SQLite error as text."""
    try:
        return {row[0] for row in conn.execute(sql, params).fetchall()}
    except sqlite3.Error as error:
        return f"SQLite says: {error}"


def _prediction_scenario() -> sqlite3.Connection:
    conn = connect(":memory:")
    create_lecture_source(conn)
    full_load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")
    apply_lecture_changes(conn, 1)
    apply_lecture_changes(conn, 2)
    incremental_load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")
    conn.execute("UPDATE src_customers SET city = 'Amsterdam', updated_at = '2024-10-06' "
                 "WHERE id = 1")
    conn.execute("INSERT INTO src_customers VALUES (7, 'Gus', 'Geneva', '2024-10-07')")
    conn.execute("DELETE FROM src_customers WHERE id = 2")
    return conn


PREDICTED_FIELDS = ("rows_read", "inserted", "updated", "unchanged", "deleted")


@register(
    answer_name="prediction",
    stub={"rows_read": 0, "inserted": 0, "updated": 0, "unchanged": 0, "deleted": 0},
    solution_file="01_predicted_counts.py",
)
def check_predicted_counts(prediction: dict) -> Verdict:
    """Predict the LoadResult counts of the notebook's scenario before running it."""
    name = "Exercise 3 (predict the load)"
    result = incremental_load(_prediction_scenario(), "src_customers", "dw_customers",
                              key="id", watermark="updated_at")
    actual = {f: getattr(result, f) for f in PREDICTED_FIELDS}
    if not isinstance(prediction, dict):
        return Verdict(name, False, f"expected a dict with keys {', '.join(PREDICTED_FIELDS)}",
                       "Fill in the dict in the cell.")
    wrong = [f for f in PREDICTED_FIELDS if prediction.get(f) != actual[f]]
    if not wrong:
        return Verdict(name, True, f"exactly right: {actual}.")
    hints = {
        "rows_read": "Count the source rows at or after the stored watermark, 2024-10-06, "
                     "the ones stamped with it included.",
        "inserted": "Of the rows read, which has a key the warehouse does not know yet?",
        "updated": "Of the rows read, which differ from their warehouse copy?",
        "unchanged": "Rows read but identical in the warehouse are left alone: how many?",
        "deleted": "What does the load read of a row that is no longer in the source?",
    }
    if any(not isinstance(prediction.get(f), int) for f in PREDICTED_FIELDS):
        return Verdict(name, False, "every count must be a whole number",
                       "Replace each 0 with your prediction, as a number.")
    return Verdict(name, False, f"{len(wrong)} of {len(PREDICTED_FIELDS)} counts are off "
                   f"({', '.join(wrong)}).", hints[wrong[0]])


def _deleted_at_source() -> list[tuple[str, sqlite3.Connection, set[int]]]:
    """The lecture's warehouse with Ben and Dai deleted at the source, and a generated one
    (other ids, more rows) with three deletes, one of them a row never changed since loading."""
    lecture = _lecture_after_round_one()
    full_load(lecture, "src_customers", "dw_customers", key="id")
    lecture.execute("DELETE FROM src_customers WHERE id IN (2, 4)")
    scenario = generated_scenario()
    other = scenario.build()
    for rows in scenario.rounds:
        apply_round(other, rows)
    full_load(other, "src_customers", "dw_customers", key="id")
    gone = {scenario.initial[0][0], scenario.initial[9][0], scenario.rounds[0][3][0]}
    other.executemany("DELETE FROM src_customers WHERE id = ?", [(k,) for k in sorted(gone)])
    return [("the lecture's data", lecture, {2, 4}), (scenario.label, other, gone)]


@register(
    answer_name="hard_delete_sql",
    stub="SELECT id FROM src_customers WHERE updated_at >= :watermark",
    solution_file="01_hard_delete_query.py",
)
def check_hard_delete_query(hard_delete_sql: str) -> Verdict:
    """Find the ids still in dw_customers but gone from src_customers."""
    name = "Exercise (hard deletes)"
    for label, conn, deleted in _deleted_at_source():
        got = _ids(conn, hard_delete_sql, {"watermark": WATERMARK})
        if isinstance(got, str):
            return Verdict(name, False, got, "Both tables are in the same database: a query "
                           "can read dw_customers and src_customers together.")
        if got != deleted:
            missed, extra = sorted(deleted - got), sorted(got - deleted)
            caused = []
            if missed:
                caused.append(f"misses {missed}, which stay in the warehouse for good")
            if extra:
                caused.append(f"lists {extra[:5]}, which are still in the source (deleting "
                              "them would lose live customers)")
            return Verdict(name, False, f"on {label} it " + " and ".join(caused) + ".",
                           "A deleted row has no updated_at left to compare: look for warehouse "
                           "keys that have no partner in the source.")
    return Verdict(name, True, "finds exactly the deleted keys on both data sets.")
