"""Exercises for notebook 05 (medallion architecture): dedup in SQL, a rule, a gold metric.

Each check runs the answer against a small fixed scenario with the real library (the real staging
columns, the real pipeline, the real silver tables), so the feedback is what would happen in the
medallion layers, and it is the same on every run.
"""

from __future__ import annotations

import json
import sqlite3

from course_etl.classroom.exercises import Verdict, register
from course_etl.db import connect, query
from course_etl.medallion import Rule, fixed_clock, ingest_batch, process_new_batches, reconcile

__all__ = [
    "DEDUP_STAGED",
    "check_silver_dedup",
    "RULE_STUB",
    "check_rejection_rule",
    "check_gold_metric",
]

# --- 1. deduplicate a silver stage in SQL -----------------------------------------------------

#: (id, name, city, updated_at, _bronze_row): a duplicate (id 1), an older version received later
#: (id 2) and a tie on updated_at (id 3).
DEDUP_STAGED = [
    (1, "Aria", "Austin", "2024-10-01T09:00:00Z", 1),
    (1, "Aria", "Austin", "2024-10-01T09:00:00Z", 2),
    (2, "Ben", "Berlin", "2024-10-02T09:00:00Z", 3),
    (2, "Ben", "Bonn", "2024-10-01T09:00:00Z", 4),
    (3, "Chloe", "Chicago", "2024-10-01T09:00:00Z", 5),
    (3, "Chloe", "Aurora", "2024-10-01T09:00:00Z", 6),
    (4, "Dai", "Denver", "2024-10-03T09:00:00Z", 7),
]
_DEDUP_STUB = "SELECT DISTINCT id, name, city, updated_at FROM staged"


def _latest_versions(rows: list[tuple]) -> dict[int, tuple]:
    """The rule, in Python: per id the highest (updated_at, _bronze_row) wins."""
    best: dict[int, tuple] = {}
    for row in rows:
        if row[0] not in best or (row[3], row[4]) > (best[row[0]][3], best[row[0]][4]):
            best[row[0]] = row
    return {key: row[:4] for key, row in best.items()}


@register(answer_name="dedup_sql", stub=_DEDUP_STUB, solution_file="05_silver_dedup.py")
def check_silver_dedup(answer: object) -> Verdict:
    """``answer``: a SELECT over ``staged(id, name, city, updated_at, _bronze_row)`` returning
    ``id, name, city, updated_at``, one row per id: the latest by updated_at, ties to the row
    received last."""
    name = "check_silver_dedup"
    if not isinstance(answer, str) or not answer.strip():
        return Verdict(name, False, "expected a SELECT statement as text",
                       "start from: SELECT id, name, city, updated_at FROM staged")
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE staged (id INTEGER, name TEXT, city TEXT, updated_at TEXT, "
                 "_bronze_row INTEGER)")
    conn.executemany("INSERT INTO staged VALUES (?, ?, ?, ?, ?)", DEDUP_STAGED)
    try:
        cursor = conn.execute(answer)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall()
    except sqlite3.Error as error:
        return Verdict(name, False, f"the query failed: {error}",
                       "test it on the staged table first: SELECT * FROM staged")
    finally:
        conn.close()
    if columns[:4] != ["id", "name", "city", "updated_at"]:
        return Verdict(name, False, f"columns are {columns}",
                       "return exactly id, name, city, updated_at (in that order)")
    got: dict[int, list[tuple]] = {}
    for row in rows:
        got.setdefault(row[0], []).append(tuple(row[:4]))
    expected = _latest_versions(DEDUP_STAGED)
    repeated = {k: v for k, v in got.items() if len(v) > 1}
    if repeated:
        key, versions = min(repeated.items())
        cities = " and ".join(sorted(v[2] for v in versions))
        return Verdict(
            name, False, f"{len(repeated)} id(s) still appear more than once "
                         f"(e.g. id {key}: {cities})",
            "DISTINCT only removes identical rows; two versions of a customer differ. Number "
            "the versions per id: ROW_NUMBER() OVER (PARTITION BY id ORDER BY …) and keep 1")
    if set(got) != set(expected):
        return Verdict(name, False, f"ids {sorted(set(expected) - set(got))} are missing",
                       "filter on the row number, not on the data")
    for key in sorted(expected):
        if got[key][0] != expected[key]:
            tie = key == 3
            return Verdict(
                name, False, f"for id {key} you kept {got[key][0][2]}, not "
                             f"{expected[key][2]}",
                "on a tie in updated_at the row received last wins: add _bronze_row DESC"
                if tie else "order the versions by updated_at DESC: the latest version wins")
    return Verdict(name, True, "one row per id, latest updated_at, ties to the last received")


# --- 2. add a rejection rule ------------------------------------------------------------------

_RULE_BATCH = [
    {"id": "1", "name": "Aria", "city": "Austin", "updated_at": "2024-10-01 09:00:00"},
    {"id": "2", "name": "B3n", "city": "Berlin", "updated_at": "2024-10-01 09:00:00"},
    {"id": "3", "name": "Chloe", "city": "Chicago", "updated_at": "2024-10-01 09:00:00"},
    {"id": "4", "name": "Dai 2", "city": "Denver", "updated_at": "2024-10-01 09:00:00"},
    {"id": "5", "name": "Eva", "city": None, "updated_at": "2024-10-01 09:00:00"},
]


def _name_has_digits_stub(row: dict) -> str | None:
    return None  # your rule: return a reason when row["name"] contains a digit


RULE_STUB = Rule("name_has_digits", "customers", _name_has_digits_stub)


@register(answer_name="rule", stub=RULE_STUB, solution_file="05_rejection_rule.py")
def check_rejection_rule(answer: object) -> Verdict:
    """``answer``: a :class:`~course_etl.medallion.Rule` named ``name_has_digits`` that rejects
    customers whose name contains a digit ('B3n', 'Dai 2') and nobody else."""
    name = "check_rejection_rule"
    if not isinstance(answer, Rule):
        return Verdict(name, False, f"expected a Rule, got {type(answer).__name__}",
                       'Rule("name_has_digits", "customers", your_function)')
    if (answer.name, answer.entity) != ("name_has_digits", "customers"):
        return Verdict(name, False, f"the rule is {answer.name!r} on {answer.entity!r}",
                       'name it "name_has_digits" and apply it to "customers"')
    conn = connect(":memory:")
    try:
        ingest_batch(conn, "customers", _RULE_BATCH, clock=fixed_clock())
        try:
            process_new_batches(conn, rules=[answer])
        except Exception as error:  # noqa: BLE001 - the student's function raised: say so
            return Verdict(name, False, f"the rule raised {type(error).__name__}: {error}",
                           "row['name'] is a str here (missing names are rejected before)")
        rejected = query(conn, "SELECT raw, rule, reason FROM silver_rejects "
                               "WHERE rule = 'name_has_digits'")
        names = sorted(json.loads(raw)["name"] for raw in rejected["raw"])
        balanced = all(r.balanced for r in reconcile(conn))
    finally:
        conn.close()
    if names != ["B3n", "Dai 2"]:
        return Verdict(name, False, f"name_has_digits rejected {names or 'nobody'}; "
                                    "expected B3n and Dai 2",
                       "return a reason such as f\"name {row['name']!r} contains a digit\" when "
                       "any(ch.isdigit() for ch in row['name']), else None")
    if not balanced:  # pragma: no cover - the library guarantees this; kept as a safety net
        return Verdict(name, False, "rows went missing", "")
    return Verdict(name, True, "B3n and Dai 2 rejected with a reason; reconciliation holds "
                               f"({rejected['reason'].iloc[0]})")


# --- 3. build a gold metric -------------------------------------------------------------------

_METRIC_CUSTOMERS = [
    {"id": "1", "name": "Aria", "city": "Austin", "updated_at": "2024-10-01 09:00:00"},
    {"id": "2", "name": "Ben", "city": "berlin", "updated_at": "2024-10-01 09:00:00"},
    {"id": "3", "name": "Chloe", "city": "Austin", "updated_at": "2024-10-01 09:00:00"},
]
_METRIC_ORDERS = [
    {"order_id": "1", "customer_id": "1", "amount": "10.00", "ordered_at": "2024-10-01 10:00"},
    {"order_id": "2", "customer_id": "3", "amount": "25,50", "ordered_at": "2024-10-01 11:00"},
    {"order_id": "3", "customer_id": "2", "amount": "40.00", "ordered_at": "2024-10-02 10:00"},
    {"order_id": "3", "customer_id": "2", "amount": "40.00", "ordered_at": "2024-10-02 10:00"},
    {"order_id": "4", "customer_id": "99", "amount": "500.00", "ordered_at": "2024-10-02 12:00"},
    {"order_id": "5", "customer_id": "2", "amount": "7.25", "ordered_at": "2024-10-03 09:00"},
]
_METRIC_STUB = ("SELECT customer_id AS city, AVG(amount_cents) AS avg_order_value "
                "FROM silver_orders GROUP BY customer_id")


@register(answer_name="metric_sql", stub=_METRIC_STUB, solution_file="05_gold_metric.py")
def check_gold_metric(answer: object) -> Verdict:
    """``answer``: a SELECT over the silver tables giving ``city, avg_order_value``: the mean
    order amount (in currency units, rounded to 2 decimals) per customer city, orphans left out."""
    name = "check_gold_metric"
    if not isinstance(answer, str) or not answer.strip():
        return Verdict(name, False, "expected a SELECT statement as text",
                       "SELECT c.city, … FROM silver_orders AS o JOIN silver_customers AS c …")
    conn = connect(":memory:")
    try:
        clock = fixed_clock()
        ingest_batch(conn, "customers", _METRIC_CUSTOMERS, clock=clock)
        ingest_batch(conn, "orders", _METRIC_ORDERS, clock=clock)
        process_new_batches(conn)
        orders = query(conn, "SELECT customer_id, amount_cents FROM silver_orders")
        customers = query(conn, "SELECT id, city FROM silver_customers")
        try:
            got = query(conn, answer)
        except sqlite3.Error as error:
            return Verdict(name, False, f"the query failed: {error}",
                           "the tables are silver_orders and silver_customers")
    finally:
        conn.close()
    joined = orders.merge(customers, left_on="customer_id", right_on="id")
    expected = (joined.groupby("city")["amount_cents"].mean() / 100).to_dict()
    if list(got.columns) != ["city", "avg_order_value"]:
        return Verdict(name, False, f"columns are {list(got.columns)}",
                       "return exactly two columns: city, avg_order_value")
    answer_values = {row.city: row.avg_order_value for row in got.itertuples(index=False)}
    if set(answer_values) != set(expected):
        return Verdict(name, False, f"cities {sorted(map(str, answer_values))}, expected "
                                    f"{sorted(expected)}",
                       "orders have no city: JOIN silver_customers ON c.id = o.customer_id "
                       "(an inner join also leaves out the orphan order) and GROUP BY c.city")
    # Rounded to cents either way is right (SQLite rounds halves up, Python to even).
    wrong = {c: v for c, v in answer_values.items()
             if v is None or abs(v - expected[c]) > 0.005 + 1e-9}
    if wrong:
        city = min(wrong)
        return Verdict(name, False, f"{city}: {wrong[city]} instead of {expected[city]:.2f}",
                       "amounts are stored in cents: ROUND(AVG(o.amount_cents) / 100.0, 2)")
    return Verdict(name, True, "average order value per city: " + ", ".join(
        f"{c} {answer_values[c]:.2f}" for c in sorted(expected)))
