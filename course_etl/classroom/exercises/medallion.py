"""Exercises for notebook 05 (medallion architecture): dedup in SQL, a rule, a gold metric.

Each check runs the answer against a small fixed scenario with the real library (the real staging
columns, the real pipeline, the real silver tables), so the feedback is what would happen in the
medallion layers, and it is the same on every run.
"""

from __future__ import annotations

import json
import random
import sqlite3

from course_etl.classroom.exercises import Verdict, register
from course_etl.db import connect, query
from course_etl.medallion import Rule, fixed_clock, ingest_batch, process_new_batches
from course_etl.medallion.silver import DEFAULT_RULES

__all__ = [
    "DEDUP_STAGED",
    "check_silver_dedup",
    "RULE_STUB",
    "check_rejection_rule",
    "check_gold_metric",
    "REJECT_STAGED",
    "check_reject_rule_sql",
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


def generated_staged(seed: int = 55) -> list[tuple]:
    """A second staged set: other ids, other dates, 40 rows, versions out of order, ties."""
    rng = random.Random(seed)
    ids = rng.sample(range(200, 900), 14)
    rows, bronze_row = [], 100
    for key in ids:
        for _ in range(rng.randint(1, 5)):
            bronze_row += rng.randint(1, 3)
            stamp = f"2025-0{rng.randint(2, 3)}-{rng.randint(10, 12)}T08:00:00Z"
            rows.append((key, rng.choice(["Ola", "Per", "Rin", "Sol"]),
                         rng.choice(["Cork", "Graz", "Hilo", "Jena"]), stamp, bronze_row))
    rng.shuffle(rows)
    return rows


def _latest_versions(rows: list[tuple]) -> dict[int, tuple]:
    """The rule, in Python: per id the highest (updated_at, _bronze_row) wins."""
    best: dict[int, tuple] = {}
    for row in rows:
        if row[0] not in best or (row[3], row[4]) > (best[row[0]][3], best[row[0]][4]):
            best[row[0]] = row
    return {key: row[:4] for key, row in best.items()}


@register(answer_name="dedup_sql", stub=_DEDUP_STUB, solution_file="05_a_silver_dedup.py")
def check_silver_dedup(answer: object) -> Verdict:
    """Deduplicate a silver stage in SQL.

    ``answer``: a SELECT over ``staged(id, name, city, updated_at, _bronze_row)`` returning
    ``id, name, city, updated_at``, one row per id: the latest by updated_at, ties to the row
    received last."""
    name = "check_silver_dedup"
    if not isinstance(answer, str) or not answer.strip():
        return Verdict(name, False, "expected a SELECT statement as text",
                       "start from: SELECT id, name, city, updated_at FROM staged")
    for label, staged in (("the lecture's rows", DEDUP_STAGED),
                          ("a second, generated set", generated_staged())):
        problem = _dedup_problem(answer, staged)
        if problem:
            return Verdict(name, False, f"on {label}: {problem[0]}", problem[1])
    return Verdict(name, True, "one row per id, latest updated_at, ties to the last received")


def _dedup_problem(answer: str, staged: list[tuple]) -> tuple[str, str] | None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE staged (id INTEGER, name TEXT, city TEXT, updated_at TEXT, "
                 "_bronze_row INTEGER)")
    conn.executemany("INSERT INTO staged VALUES (?, ?, ?, ?, ?)", staged)
    try:
        cursor = conn.execute(answer)
        columns = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchall()
    except sqlite3.Error as error:
        return (f"the query failed: {error}",
                "test it on the staged table first: SELECT * FROM staged")
    finally:
        conn.close()
    if columns[:4] != ["id", "name", "city", "updated_at"]:
        return f"columns are {columns}", "return exactly id, name, city, updated_at (in that order)"
    got: dict[int, list[tuple]] = {}
    for row in rows:
        got.setdefault(row[0], []).append(tuple(row[:4]))
    expected = _latest_versions(staged)
    repeated = {k: v for k, v in got.items() if len(v) > 1}
    if repeated:
        key, versions = min(repeated.items())
        cities = " and ".join(sorted(v[2] for v in versions))
        return (f"{len(repeated)} id(s) still appear more than once (e.g. id {key}: {cities}): "
                "gold would count those customers twice",
                "DISTINCT only removes identical rows; two versions of a customer differ. "
                "Rank the versions within each id and keep the first.")
    if set(got) != set(expected):
        return (f"ids {sorted(set(expected) - set(got))[:6]} are missing: those customers "
                "vanish from silver", "Filter on the rank, not on ids or values.")
    for key in sorted(expected):
        if got[key][0] != expected[key]:
            tied = sum(1 for r in staged if r[0] == key and r[3] == expected[key][3]) > 1
            return (f"for id {key} you kept {got[key][0][2]} ({got[key][0][3]}), not "
                    f"{expected[key][2]} ({expected[key][3]}): silver serves an old version",
                    "on a tie in updated_at the row received last wins: what column says "
                    "which came last?" if tied else
                    "the newest version wins: in which direction do you sort?")
    return None


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
    """Add a rejection rule in Python.

    ``answer``: a :class:`~course_etl.medallion.Rule` named ``name_has_digits`` that rejects
    customers whose name contains a digit ('B3n', 'Dai 2') and nobody else."""
    name = "check_rejection_rule"
    if not isinstance(answer, Rule):
        return Verdict(name, False, f"expected a Rule, got {type(answer).__name__}",
                       'Rule("name_has_digits", "customers", your_function)')
    if (answer.name, answer.entity) != ("name_has_digits", "customers"):
        return Verdict(name, False, f"the rule is {answer.name!r} on {answer.entity!r}",
                       'name it "name_has_digits" and apply it to "customers"')
    for label, batch in (("the lecture's batch", _RULE_BATCH),
                         ("a second, generated batch", generated_rule_batch())):
        wanted = sorted(r["name"].strip() for r in batch
                        if r["name"] and any(ch.isdigit() for ch in r["name"]))
        conn = connect(":memory:")
        try:
            ingest_batch(conn, "customers", batch, clock=fixed_clock())
            try:
                process_new_batches(conn, rules=[answer])
            except Exception as error:  # noqa: BLE001 - the student's function raised: say so
                return Verdict(name, False, f"on {label} the rule raised "
                                            f"{type(error).__name__}: {error}",
                               "row['name'] is a str here (missing names are rejected before)")
            rejected = query(conn, "SELECT raw, rule, reason FROM silver_rejects "
                                   "WHERE rule = 'name_has_digits'")
            names = sorted(json.loads(raw)["name"].strip() for raw in rejected["raw"])
            reasons = [r for r in rejected["reason"] if isinstance(r, str) and r.strip()]
        finally:
            conn.close()
        if names != wanted:
            missed, extra = sorted(set(wanted) - set(names)), sorted(set(names) - set(wanted))
            what = "; ".join([*([f"let {missed} through to silver"] if missed else []),
                              *([f"rejected {extra}, real customers"] if extra else [])])
            return Verdict(name, False, f"on {label} name_has_digits {what}",
                           "Look at every character of the name: a digit can be anywhere, and "
                           "str has a method that tells whether a character is one.")
        if len(reasons) != len(names):
            return Verdict(name, False, "some rejects have no reason: nobody can tell why they "
                           "were dropped", "return a sentence naming the value, not None or ''")
    return Verdict(name, True, "rejects exactly the names with a digit, on both batches, each "
                               f"with a reason ({reasons[0]})")


def generated_rule_batch(seed: int = 8) -> list[dict]:
    """Other names and ids: digits at the start, middle and end, and names that only look odd."""
    rng = random.Random(seed)
    names = ["R2D2", "7eve", "Mia", "Zoë", "O'Neil", "Anne-Marie", "Lu 4", "Jo", "Kai9",
             "Ümit", "Bo3 Li", "Jo Ann"]
    rng.shuffle(names)
    return [{"id": str(300 + 7 * n), "name": name, "city": rng.choice(["Cork", "Graz"]),
             "updated_at": f"2025-03-0{1 + n % 9} 10:00:00"} for n, name in enumerate(names)]


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
    """Build a gold metric: average order value per city.

    ``answer``: a SELECT over the silver tables giving ``city, avg_order_value``: the mean
    order amount (in currency units, rounded to 2 decimals) per customer city, orphans left out."""
    name = "check_gold_metric"
    if not isinstance(answer, str) or not answer.strip():
        return Verdict(name, False, "expected a SELECT statement as text",
                       "SELECT c.city, … FROM silver_orders AS o JOIN silver_customers AS c …")
    for label, customers_batch, orders_batch in (
            ("the lecture's rows", _METRIC_CUSTOMERS, _METRIC_ORDERS),
            ("a second, generated set", *generated_metric_batches())):
        problem = _metric_problem(answer, customers_batch, orders_batch)
        if isinstance(problem, tuple):
            return Verdict(name, False, f"on {label}: {problem[0]}", problem[1])
    return Verdict(name, True, "average order value per city on both data sets: " + problem)


def generated_metric_batches(seed: int = 21) -> tuple[list[dict], list[dict]]:
    """Other customers, cities and amounts, with orphans and a re-sent order."""
    rng = random.Random(seed)
    ids = rng.sample(range(40, 400), 9)
    customers = [{"id": str(k), "name": f"C{k}", "city": rng.choice(["Cork", "graz", "Hilo"]),
                  "updated_at": "2025-03-01 08:00:00"} for k in ids]
    orders = [{"order_id": str(1000 + n), "customer_id": str(rng.choice(ids + [7, 8])),
               "amount": f"{rng.randint(1, 9000) / 100:.2f}",
               "ordered_at": f"2025-03-0{rng.randint(1, 9)} 1{rng.randint(0, 9)}:00"}
              for n in range(30)]
    return customers, orders + orders[:2]


def _metric_problem(answer: str, customers_batch: list, orders_batch: list
                    ) -> tuple[str, str] | str:
    conn = connect(":memory:")
    try:
        clock = fixed_clock()
        ingest_batch(conn, "customers", customers_batch, clock=clock)
        ingest_batch(conn, "orders", orders_batch, clock=clock)
        process_new_batches(conn)
        orders = query(conn, "SELECT customer_id, amount_cents FROM silver_orders")
        customers = query(conn, "SELECT id, city FROM silver_customers")
        try:
            got = query(conn, answer)
        except sqlite3.Error as error:
            return (f"the query failed: {error}",
                    "the tables are silver_orders and silver_customers")
    finally:
        conn.close()
    joined = orders.merge(customers, left_on="customer_id", right_on="id")
    expected = (joined.groupby("city")["amount_cents"].mean() / 100).to_dict()
    if list(got.columns) != ["city", "avg_order_value"]:
        return (f"columns are {list(got.columns)}",
                "return exactly two columns: city, avg_order_value")
    answer_values = {row.city: row.avg_order_value for row in got.itertuples(index=False)}
    if set(answer_values) != set(expected):
        return (f"cities {sorted(map(str, answer_values))}, expected {sorted(expected)}",
                "orders have no city of their own: it comes from their customer, and an order "
                "without one is left out")
    # Rounded to cents either way is right (SQLite rounds halves up, Python to even).
    wrong = {c: v for c, v in answer_values.items()
             if v is None or abs(v - expected[c]) > 0.005 + 1e-9}
    if wrong:
        city = min(wrong)
        return (f"{city}: {wrong[city]} instead of {expected[city]:.2f}: the dashboard would "
                "show a wrong average", "amounts are stored in cents; the answer is in "
                "currency units, rounded to 2 decimals (and integer division drops decimals)")
    return ", ".join(f"{c} {answer_values[c]:.2f}" for c in sorted(expected))


# --- 4. a rejection rule in SQL, before the library's ------------------------------------------

#: (order_id, customer_id, amount_cents, ordered_at, _bronze_row) after conforming.
REJECT_STAGED = [
    (1, 1, 1000, "2024-10-01T10:00:00Z", 1),
    (2, 3, 0, "2024-10-01T11:00:00Z", 2),
    (3, 2, -4000, "2024-10-02T10:00:00Z", 3),
    (4, 2, 725, "2024-10-03T09:00:00Z", 4),
    (5, 1, 1, "2024-10-03T12:00:00Z", 5),
]
_REJECT_STUB = ("SELECT _bronze_row, 'amount is missing' AS reason FROM staged_orders "
                "WHERE amount_cents IS NULL")


def generated_reject_staged(seed: int = 13) -> list[tuple]:
    """Other ids and amounts: refunds (negative), zeros, one-cent orders, 25 rows."""
    rng = random.Random(seed)
    amounts = [0, -1, 1, -250, 0, 99_999] + [rng.randint(-3000, 9000) for _ in range(19)]
    rng.shuffle(amounts)
    return [(7000 + 3 * n, rng.randint(1, 50), cents, f"2025-03-{10 + n % 9}T08:00:00Z", 40 + n)
            for n, cents in enumerate(amounts)]


def _reject_rule_verdict(answer: object) -> Verdict:
    """The verdict of :func:`check_reject_rule_sql`: prose messages, kept out of a ``*_sql`` def."""
    name = "check_reject_rule_sql"
    if not isinstance(answer, str) or not answer.strip():
        return Verdict(name, False, "expected a SELECT statement as text",
                       "start from: SELECT _bronze_row, … AS reason FROM staged_orders")
    for label, staged in (("the lecture's orders", REJECT_STAGED),
                          ("a second, generated set", generated_reject_staged())):
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE staged_orders (order_id INTEGER, customer_id INTEGER, "
                     "amount_cents INTEGER, ordered_at TEXT, _bronze_row INTEGER)")
        conn.executemany("INSERT INTO staged_orders VALUES (?, ?, ?, ?, ?)", staged)
        try:
            rows = conn.execute(answer).fetchall()
        except sqlite3.Error as error:
            return Verdict(name, False, f"the query failed: {error}",
                           "the table is staged_orders; return _bronze_row and reason")
        finally:
            conn.close()
        wanted = {r[4] for r in staged if DEFAULT_RULES[0].check({"amount_cents": r[2]})}
        got = {r[0] for r in rows}
        if got != wanted:
            cents = {r[4]: r[2] for r in staged}
            missed, extra = sorted(wanted - got), sorted(got - wanted)
            parts = [*([f"lets amounts {[cents[b] for b in missed][:4]} (cents) into silver, "
                        "where revenue would count them"] if missed else []),
                     *([f"rejects valid amounts {[cents.get(b) for b in extra][:4]}"]
                       if extra else [])]
            return Verdict(name, False, f"on {label} it " + " and ".join(parts) + ".",
                           "An order is valid only when it brings money in: where does zero "
                           "belong? Decide from the amount, not from ids or rows.")
        if any(len(r) < 2 or not isinstance(r[1], str) or not r[1].strip() for r in rows):
            return Verdict(name, False, "some rejects have no reason: nobody can say later why "
                           "an order is missing from silver",
                           "the second column, reason, is a sentence naming the amount")
    return Verdict(name, True, "rejects every order whose amount is not positive, on both sets, "
                               "each with a reason: the library's rule amount_not_positive does "
                               "the same")


@register(answer_name="reject_sql", stub=_REJECT_STUB, solution_file="05_b_reject_rule_sql.py")
def check_reject_rule_sql(answer: object) -> Verdict:
    """Write the amount rule as SQL: the staged orders to reject, each with a reason."""
    # The name ends in _sql because the answer is SQL; the messages are prose, built in
    # _reject_rule_verdict so the SQL-names rule does not read them as SQL fragments.
    return _reject_rule_verdict(answer)
