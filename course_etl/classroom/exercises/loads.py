"""Notebook 01's exercises: the watermark boundary, the upsert, predicting a load, hard deletes.

Each check builds the same small scenario from the lecture's customers in memory, runs the
student's answer against it, and says what was right or wrong with a hint.
"""

from __future__ import annotations

import sqlite3

from course_etl.classroom.exercises import Verdict, register
from course_etl.db import connect
from course_etl.loads.engine import full_load, incremental_load
from course_etl.sample_data import apply_lecture_changes, create_lecture_source

__all__ = [
    "check_changed_rows_query",
    "check_upsert_statement",
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


@register(
    answer_name="changed_rows_sql",
    stub="SELECT * FROM src_customers WHERE updated_at > :watermark",
    solution_file="01_changed_rows_query.py",
)
def check_changed_rows_query(changed_rows_sql: str) -> Verdict:
    """The query that reads the rows to load, given the stored ``:watermark`` ('2024-10-05')."""
    name = "Exercise 1 (watermark boundary)"
    got = _ids(_lecture_after_round_one(), changed_rows_sql, {"watermark": WATERMARK})
    if isinstance(got, str):
        return Verdict(name, False, got, "Use the parameter :watermark, never paste a value.")
    if got == {3, 4, 6}:
        return Verdict(name, True, "reads Chloe, Dai and Femi, who was written later on 10-05.")
    if 6 not in got:
        return Verdict(name, False, f"reads ids {sorted(got)}: Femi (updated_at = 2024-10-05, "
                       "written after the last load) is missed.",
                       "Rows equal to the watermark may be new: compare with >=.")
    return Verdict(name, False, f"reads ids {sorted(got)}: rows loaded long ago come back.",
                   "Only rows at or after :watermark are needed.")


_UPSERT_SETUP = """
CREATE TABLE dw_customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT, updated_at TEXT,
                           segment TEXT DEFAULT 'unknown');
CREATE TABLE dw_orders (order_id INTEGER PRIMARY KEY,
                        customer_id INTEGER REFERENCES dw_customers(id) ON DELETE CASCADE);
INSERT INTO dw_customers (id, name, city, updated_at) SELECT * FROM src_customers;
UPDATE dw_customers SET segment = 'gold' WHERE id = 3;
INSERT INTO dw_orders VALUES (100, 3);
"""


@register(
    answer_name="upsert_sql",
    stub=("INSERT OR REPLACE INTO dw_customers (id, name, city, updated_at) "
          "SELECT id, name, city, updated_at FROM changes"),
    solution_file="01_upsert_statement.py",
)
def check_upsert_statement(upsert_sql: str) -> Verdict:
    """An upsert from ``changes`` into ``dw_customers`` that keeps ``segment`` and child orders."""
    name = "Exercise 2 (upsert)"
    conn = connect(":memory:")
    create_lecture_source(conn)
    conn.executescript(_UPSERT_SETUP)
    apply_lecture_changes(conn, 1)
    conn.execute("CREATE TABLE changes AS SELECT * FROM src_customers WHERE updated_at >= ?",
                 (WATERMARK,))
    try:
        conn.execute(upsert_sql)
    except sqlite3.Error as error:
        return Verdict(name, False, f"SQLite says: {error}",
                       "INSERT INTO … SELECT … FROM changes WHERE true ON CONFLICT (id) "
                       "DO UPDATE SET …")
    rows = conn.execute("SELECT id, city, segment FROM dw_customers ORDER BY id").fetchall()
    orders = conn.execute("SELECT COUNT(*) FROM dw_orders").fetchone()[0]
    problems = []
    if (3, "Aurora", "gold") not in rows:
        chloe = next((r for r in rows if r[0] == 3), None)
        problems.append(f"Chloe is {chloe}, expected (3, 'Aurora', 'gold')")
    if not any(r[0] == 4 for r in rows):
        problems.append("Dai was not inserted")
    if orders != 1:
        problems.append("Chloe's order was deleted (ON DELETE CASCADE fired)")
    if problems:
        return Verdict(name, False, "; ".join(problems) + ".",
                       "INSERT OR REPLACE deletes the old row first. Use INSERT … ON CONFLICT "
                       "(id) DO UPDATE SET name = excluded.name, … to update in place.")
    return Verdict(name, True, "Chloe moved to Aurora, kept her segment and her order; "
                   "Dai arrived.")


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
        "rows_read": "The bound is >= the stored watermark 2024-10-06: Eva is read again.",
        "inserted": "Gus is new.",
        "updated": "Aria changed; Eva did not.",
        "unchanged": "Rows read but identical in the warehouse are left alone.",
        "deleted": "Ben's delete leaves no row to read, and reconcile_deletes is off.",
    }
    return Verdict(name, False, f"{len(wrong)} of {len(PREDICTED_FIELDS)} counts are off "
                   f"({', '.join(wrong)}).", hints[wrong[0]])


@register(
    answer_name="hard_delete_sql",
    stub="SELECT id FROM src_customers WHERE updated_at >= :watermark",
    solution_file="01_hard_delete_query.py",
)
def check_hard_delete_query(hard_delete_sql: str) -> Verdict:
    """A query listing the ids still in ``dw_customers`` but gone from ``src_customers``."""
    name = "Exercise 4 (hard deletes)"
    conn = _lecture_after_round_one()
    full_load(conn, "src_customers", "dw_customers", key="id")
    conn.execute("DELETE FROM src_customers WHERE id IN (2, 4)")
    got = _ids(conn, hard_delete_sql, {"watermark": WATERMARK})
    if isinstance(got, str):
        return Verdict(name, False, got, "SELECT d.id FROM dw_customers AS d WHERE NOT EXISTS …")
    if got == {2, 4}:
        return Verdict(name, True, "finds Ben and Dai, deleted at the source.")
    return Verdict(name, False, f"returns ids {sorted(got)}, but the deleted ones are 2 and 4.",
                   "A deleted row has no updated_at to compare: look for warehouse keys with "
                   "no matching source key (an anti-join: NOT EXISTS or LEFT JOIN … IS NULL).")
