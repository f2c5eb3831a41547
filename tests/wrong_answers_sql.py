"""Wrong answers to notebooks 01, 05 and 06's SQL exercises, by exercise name.

Natural mistakes, the gamed answers of earlier reviews, and every wrong answer issue 27 lists as
accepted once (marked "issue 27"). Each is (what it tries, the answer); tests/test_exercises.py
asserts every one is refused with a message and a hint. None is matched by its text: the checks
refuse them because the generated scenarios make them behave differently from the reference
(``make mutants`` measures the same on mutants of the reference answers).
"""

from __future__ import annotations

import textwrap
import types
from pathlib import Path

from course_etl.classroom.exercises.gold import GOLD_SQL_STUB
from course_etl.classroom.exercises.gold_suite import SUITE_STUB
from course_etl.classroom.exercises.hand_written_load import step5_stub
from course_etl.facts import CUSTOMERS
from course_etl.medallion import Rule

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def solution_namespace(*files: str) -> dict:
    """The names solution files define, run in order in one namespace (their check calls
    left out), as the notebook's cells hold them."""
    namespace: dict = {}
    for name in files:
        lines = (SOLUTIONS / name).read_text(encoding="utf-8").splitlines()
        source = "\n".join(line for line in lines if not line.startswith("check_"))
        exec(compile(source, str(SOLUTIONS / name), "exec"), namespace)  # noqa: S102
    return namespace


STEPS = solution_namespace("01_a_watermark_read.py", "01_b_changed_rows_query.py",
                           "01_c_upsert_statement.py", "01_d_watermark_save.py")
GOLD_SQL = solution_namespace("06_a_gold_sql.py")["gold_sql"].strip()
GOLD_SUITE = solution_namespace("06_b_gold_suite.py")["gold_suite"]


def load(source: str):
    """A step-5 function defined in a namespace holding the right SQL of steps 1 to 4."""
    namespace = dict(STEPS)
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - test fixtures
    return namespace["my_incremental_load"]


# The upsert's columns from the facts: a column a course adds is in every answer below, so each
# stays wrong (or right) for the reason its label gives.
_COLUMNS = ", ".join(CUSTOMERS.names)
_VALUES = [c for c in CUSTOMERS.names if c != CUSTOMERS.key]
_HEAD = (f"INSERT INTO dw_customers AS t ({_COLUMNS}) "
         f"SELECT {_COLUMNS} FROM changes WHERE true ON CONFLICT (id) ")
_SET_ALL = f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _VALUES)} "

_SWALLOWS_ERRORS = load('''
def my_incremental_load(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    try:
        conn.execute("BEGIN")
        stored, fmt = conn.execute(watermark_sql, names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
        conn.execute(upsert_sql)
        newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
        conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
''')

_NO_ROLLBACK = load('''
def my_incremental_load(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    conn.execute("BEGIN")
    stored, fmt = conn.execute(watermark_sql, names).fetchone()
    conn.execute("DROP TABLE IF EXISTS temp.changes")
    conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
    conn.execute(upsert_sql)
    newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
    if newest is not None and newest > stored:
        conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
    conn.execute("COMMIT")
''')

_TWO_TRANSACTIONS = load('''
def my_incremental_load(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    stored, fmt = conn.execute(watermark_sql, names).fetchone()
    conn.execute("DROP TABLE IF EXISTS temp.changes")
    conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
    with conn:
        conn.execute("BEGIN")
        conn.execute(upsert_sql)
    newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
    if newest is not None and newest > stored:
        conn.execute("BEGIN")
        conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
        conn.execute("COMMIT")
''')

_WITH_CONN = load('''
def my_incremental_load(conn):
    with conn:  # looks transactional, but the connection is in autocommit mode
        names = {"target": "dw_customers", "column": "updated_at"}
        stored, fmt = conn.execute(watermark_sql, names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
        conn.execute(upsert_sql)
        newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
        if newest is not None and newest > stored:
            conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
''')

_MOVES_BACK = load('''
def my_incremental_load(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    conn.execute("BEGIN IMMEDIATE")
    try:
        stored, fmt = conn.execute(watermark_sql, names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
        conn.execute(upsert_sql)
        newest = conn.execute("SELECT MAX(updated_at) FROM changes WHERE updated_at > ?",
                              (stored,)).fetchone()[0]
        conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
''')

_LIBRARY_ALIASED = load('''
from course_etl.loads import engine as e

def my_incremental_load(conn):
    load = getattr(e, "incremental_" + "load")
    load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")
''')

_MAX_OF_THE_SOURCE = load("""
def my_incremental_load(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    conn.execute("BEGIN")
    try:
        stored, fmt = conn.execute(watermark_sql, names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
        conn.execute(upsert_sql)
        newest = conn.execute("SELECT MAX(updated_at) FROM src_customers").fetchone()[0]
        conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
        conn.commit()
    except Exception:
        conn.rollback()
        raise
""")

_COMMIT_METHODS = load("""
def my_incremental_load(conn):
    names = {"target": "dw_customers", "column": "updated_at"}
    conn.execute("BEGIN")
    try:
        stored, fmt = conn.execute(watermark_sql, names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
        conn.execute(upsert_sql)
        newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
        if newest is not None:
            conn.execute(save_watermark_sql, {**names, "value": max(newest, stored),
                                              "format": fmt})
        conn.commit()
    except Exception:
        conn.rollback()
        raise
""")

_STUB_WITH_STEPS = types.FunctionType(step5_stub.__code__, dict(STEPS))


def _rule(function) -> Rule:
    return Rule("name_has_digits", "customers", function)


WRONG_SQL_ANSWERS: dict[str, list[tuple[str, object]]] = {
    "check_watermark_read": [
        ("the lecture's re-derivation from the data (stub)",
         "SELECT MAX(updated_at) FROM dw_customers"),
        ("a pasted date", "SELECT '2024-10-01', 'YYYY-MM-DD'"),
        ("filters on the target only", "SELECT value, format FROM etl_watermarks "
                                       "WHERE target = :target"),
        ("the highest of all stored values", "SELECT MAX(value), format FROM etl_watermarks"),
        ("LIKE instead of =", "SELECT value, format FROM etl_watermarks WHERE target LIKE "
                              ":target AND watermark_column LIKE :column"),
        ("format and value swapped", "SELECT format, value FROM etl_watermarks WHERE "
                                     "target = :target AND watermark_column = :column"),
        ("the newest row, whatever the target", "SELECT value, format FROM etl_watermarks "
                                                "ORDER BY value DESC LIMIT 1"),
        ("MAX over the target's row (a row of NULLs before the first load)",
         "SELECT MAX(value), format FROM etl_watermarks WHERE target = :target "
         "AND watermark_column = :column"),
    ],
    "check_changed_rows_query": [
        ("the stub with a cosmetic change",
         "select *  from src_customers where updated_at > :watermark -- fixed"),
        ("a pasted date instead of :watermark",
         "SELECT * FROM src_customers WHERE updated_at >= '2024-10-05'"),
        ("hard-coded ids", "SELECT * FROM src_customers WHERE id IN (3, 4, 6)"),
        ("only the keys", "SELECT id FROM src_customers WHERE updated_at >= :watermark"),
        ("every row", "SELECT * FROM src_customers WHERE :watermark IS NOT NULL"),
        ("issue 27: LIMIT 20", "SELECT * FROM src_customers WHERE updated_at >= :watermark "
                               "LIMIT 20"),
        ("rows without a timestamp read too", "SELECT * FROM src_customers WHERE updated_at >= "
                                              ":watermark OR updated_at IS NULL"),
        ("compares the day only", "SELECT * FROM src_customers "
                                  "WHERE date(updated_at) >= date(:watermark)"),
        ("a day of lookback", "SELECT * FROM src_customers "
                              "WHERE updated_at > date(:watermark, '-1 day')"),
        ("every row twice", "SELECT * FROM src_customers WHERE updated_at >= :watermark "
                            "UNION ALL SELECT * FROM src_customers WHERE updated_at >= :watermark"),
    ],
    "check_upsert_statement": [
        ("the stub with a cosmetic change",
         "REPLACE INTO dw_customers (id, name, city, updated_at) "
         "SELECT id, name, city, updated_at FROM changes"),
        ("issue 27: rewrites only when the timestamp differs",
         _HEAD + _SET_ALL + "WHERE t.updated_at IS NOT excluded.updated_at"),
        ("issue 27: NULL-unsafe <>",
         _HEAD + _SET_ALL + "WHERE t.name <> excluded.name OR t.city <> excluded.city "
                            "OR t.updated_at <> excluded.updated_at"),
        ("only newer versions", _HEAD + _SET_ALL + "WHERE excluded.updated_at > t.updated_at"),
        ("updates only city, leaving updated_at stale",
         _HEAD + "DO UPDATE SET city = excluded.city WHERE t.city IS NOT excluded.city"),
        ("rewrites every row read (no change condition)", _HEAD + _SET_ALL.strip()),
        ("hard-coded ids", "INSERT INTO dw_customers AS t (id, name, city, updated_at) "
                           "SELECT id, name, city, updated_at FROM changes WHERE id IN (3, 4) "
                           "ON CONFLICT (id) " + _SET_ALL + "WHERE t.city IS NOT excluded.city"),
        ("inserts only", "INSERT OR IGNORE INTO dw_customers (id, name, city, updated_at) "
                         "SELECT id, name, city, updated_at FROM changes"),
        ("change condition on city only (a rename is lost)",
         _HEAD + _SET_ALL + "WHERE t.city IS NOT excluded.city"),
        ("DO NOTHING", _HEAD + "DO NOTHING"),
        ("COALESCE on both sides (a NULL corrected to empty text is no change to it; once "
         "listed here as right)", _HEAD + _SET_ALL + "WHERE COALESCE(t.name, '') <> COALESCE("
         "excluded.name, '') OR COALESCE(t.city, '') <> COALESCE(excluded.city, '') OR "
         "COALESCE(t.updated_at, '') <> COALESCE(excluded.updated_at, '')"),
    ],
    "check_watermark_save": [
        ("the stub (insert only)", "INSERT INTO etl_watermarks (target, watermark_column, value, "
                                   "format) VALUES (:target, :column, :value, :format)"),
        ("update only (a new target is never stored)",
         "UPDATE etl_watermarks SET value = :value, format = :format "
         "WHERE target = :target AND watermark_column = :column"),
        ("no WHERE: every target moves", "UPDATE etl_watermarks SET value = :value"),
        ("a pasted value", "UPDATE etl_watermarks SET value = '2024-10-06' "
                           "WHERE target = :target AND watermark_column = :column"),
        ("filters on the target only", "UPDATE etl_watermarks SET value = :value "
                                       "WHERE target = :target"),
        ("the format is never updated", "INSERT INTO etl_watermarks VALUES (:target, :column, "
                                        ":value, :format) ON CONFLICT (target, watermark_column) "
                                        "DO UPDATE SET value = excluded.value"),
        ("DO NOTHING on conflict", "INSERT INTO etl_watermarks VALUES (:target, :column, :value, "
                                   ":format) ON CONFLICT DO NOTHING"),
    ],
    "check_hand_written_load": [
        ("the stub: every step in autocommit (a NULL watermark on a quiet day)",
         _STUB_WITH_STEPS),
        ("issue 27: swallows errors, leaves a NULL watermark for the library",
         _SWALLOWS_ERRORS),
        ("`with conn:` on an autocommit connection", _WITH_CONN),
        ("no rollback on an error (the transaction stays open)", _NO_ROLLBACK),
        ("data and watermark in two transactions", _TWO_TRANSACTIONS),
        ("calls the library, under another name", _LIBRARY_ALIASED),
        ("moves the watermark to NULL on a quiet day", _MOVES_BACK),
        ("the watermark from the whole source (moves back after a delete)", _MAX_OF_THE_SOURCE),
        ("not a function", "my_incremental_load"),
    ],
    "check_hard_delete_query": [
        ("the stub", "SELECT id FROM src_customers WHERE updated_at >= :watermark"),
        ("hard-coded ids", "SELECT 2 UNION SELECT 4"),
        ("the wrong direction of the anti-join",
         "SELECT s.id FROM src_customers AS s WHERE NOT EXISTS "
         "(SELECT 1 FROM dw_customers AS d WHERE d.id = s.id)"),
        ("compares with the recent source rows only",
         "SELECT id FROM dw_customers WHERE id NOT IN "
         "(SELECT id FROM src_customers WHERE updated_at >= :watermark)"),
        ("a join on <> (every pair)", "SELECT d.id FROM dw_customers AS d JOIN src_customers AS "
                                      "s ON s.id <> d.id"),
        ("every column of the deleted rows", "SELECT d.* FROM dw_customers AS d LEFT JOIN "
                                             "src_customers AS s ON s.id = d.id "
                                             "WHERE s.id IS NULL"),
    ],
    "check_predicted_counts": [
        ("the > belief (Eva not read again)",
         {"rows_read": 2, "inserted": 1, "updated": 1, "unchanged": 0, "deleted": 0}),
        ("Ben's delete counted", {"rows_read": 3, "inserted": 1, "updated": 1, "unchanged": 1,
                                  "deleted": 1}),
        ("every row read is rewritten", {"rows_read": 3, "inserted": 1, "updated": 2,
                                         "unchanged": 0, "deleted": 0}),
        ("counts as text", {"rows_read": "3", "inserted": "1", "updated": "1",
                            "unchanged": "1", "deleted": "0"}),
    ],
    "check_silver_dedup": [
        ("DISTINCT with a cosmetic change", "SELECT DISTINCT id, name, city, updated_at "
                                            "FROM staged ORDER BY id"),
        ("hard-coded bronze rows", "SELECT id, name, city, updated_at FROM staged "
                                   "WHERE _bronze_row IN (2, 3, 6, 7)"),
        ("MAX(updated_at) per id (ties not broken)",
         "SELECT id, name, city, MAX(updated_at) AS updated_at FROM staged GROUP BY id"),
        ("oldest version wins", "SELECT id, name, city, updated_at FROM (SELECT *, ROW_NUMBER() "
                                "OVER (PARTITION BY id ORDER BY updated_at, _bronze_row) AS r "
                                "FROM staged) WHERE r = 1"),
        ("ties to the first received", "SELECT id, name, city, updated_at FROM (SELECT *, "
                                       "ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at "
                                       "DESC, _bronze_row) AS r FROM staged) WHERE r = 1"),
        ("issue 27: MAX(updated_at || '|' || _bronze_row)",
         "SELECT s.id, s.name, s.city, s.updated_at FROM staged AS s JOIN (SELECT id, "
         "MAX(updated_at || '|' || _bronze_row) AS latest FROM staged GROUP BY id) AS m "
         "ON m.id = s.id AND m.latest = s.updated_at || '|' || s._bronze_row"),
        ("the last received row, whatever its updated_at",
         "SELECT id, name, city, updated_at FROM staged AS s WHERE _bronze_row = "
         "(SELECT MAX(_bronze_row) FROM staged AS t WHERE t.id = s.id)"),
        ("RANK instead of ROW_NUMBER, no tie-break", "SELECT id, name, city, updated_at FROM "
                                                     "(SELECT *, RANK() OVER (PARTITION BY id "
                                                     "ORDER BY updated_at DESC) AS r FROM "
                                                     "staged) WHERE r = 1"),
    ],
    "check_reject_rule_sql": [
        ("the stub", "SELECT _bronze_row, 'amount is missing' AS reason FROM staged_orders "
                     "WHERE amount_cents IS NULL"),
        ("negative only (zero slips through)", "SELECT _bronze_row, 'negative ' || amount_cents "
                                               "AS reason FROM staged_orders "
                                               "WHERE amount_cents < 0"),
        ("hard-coded rows", "SELECT _bronze_row, 'bad' AS reason FROM staged_orders "
                            "WHERE _bronze_row IN (2, 3)"),
        ("no reason", "SELECT _bronze_row, NULL AS reason FROM staged_orders "
                      "WHERE amount_cents <= 0"),
        ("a reason that does not name the amount", "SELECT _bronze_row, 'not positive' AS "
                                                   "reason FROM staged_orders "
                                                   "WHERE amount_cents <= 0"),
        ("issue 27: DELETE … RETURNING", "DELETE FROM staged_orders WHERE amount_cents <= 0 "
                                         "RETURNING _bronze_row, 'amount ' || amount_cents "
                                         "|| ' cents' AS reason"),
    ],
    "check_rejection_rule": [
        ("hard-coded names", _rule(lambda row: "digit" if row["name"] in ("B3n", "Dai 2")
                                   else None)),
        ("only the last character", _rule(lambda row: "digit" if row["name"][-1].isdigit()
                                          else None)),
        ("a space taken for a digit", _rule(lambda row: "odd" if " " in row["name"]
                                            or any(c.isdigit() for c in row["name"]) else None)),
        ("no reason given", _rule(lambda row: " " if any(c.isdigit() for c in row["name"])
                                  else None)),
        ("letters only", _rule(lambda row: None if row["name"].isalpha() else "not letters")),
    ],
    "check_gold_metric": [
        ("cents, not currency units", "SELECT c.city, ROUND(AVG(o.amount_cents), 2) AS "
                                      "avg_order_value FROM silver_orders AS o JOIN "
                                      "silver_customers AS c ON c.id = o.customer_id "
                                      "GROUP BY c.city"),
        ("integer division", "SELECT c.city, SUM(o.amount_cents) / COUNT(*) / 100 AS "
                             "avg_order_value FROM silver_orders AS o JOIN silver_customers "
                             "AS c ON c.id = o.customer_id GROUP BY c.city"),
        ("orphans kept", "SELECT c.city, ROUND(AVG(o.amount_cents) / 100.0, 2) AS "
                         "avg_order_value FROM silver_orders AS o LEFT JOIN silver_customers "
                         "AS c ON c.id = o.customer_id GROUP BY c.city"),
        ("pasted values", "SELECT 'Austin' AS city, 17.75 AS avg_order_value UNION ALL "
                          "SELECT 'Berlin', 23.63"),
        ("issue 27: AVG(DISTINCT amount_cents)",
         "SELECT c.city, ROUND(AVG(DISTINCT o.amount_cents) / 100.0, 2) AS avg_order_value "
         "FROM silver_orders AS o JOIN silver_customers AS c ON c.id = o.customer_id "
         "GROUP BY c.city"),
        ("not rounded", "SELECT c.city, AVG(o.amount_cents) / 100.0 AS avg_order_value FROM "
                        "silver_orders AS o JOIN silver_customers AS c ON c.id = o.customer_id "
                        "GROUP BY c.city"),
        ("formatted as text", "SELECT c.city, printf('%.2f', AVG(o.amount_cents) / 100.0) AS "
                              "avg_order_value FROM silver_orders AS o JOIN silver_customers AS "
                              "c ON c.id = o.customer_id GROUP BY c.city"),
        ("truncated, not rounded", "SELECT c.city, CAST(AVG(o.amount_cents) AS INTEGER) / 100.0 "
                                   "AS avg_order_value FROM silver_orders AS o JOIN "
                                   "silver_customers AS c ON c.id = o.customer_id "
                                   "GROUP BY c.city"),
    ],
    "check_gold_sql": [
        ("the stub (orphans, one row per order time)", GOLD_SQL_STUB),
        ("revenue in currency units", GOLD_SQL.replace("SUM(o.amount_cents)",
                                                       "SUM(o.amount_cents) / 100")),
        ("customers counted, not orders", GOLD_SQL.replace("COUNT(*)",
                                                           "COUNT(DISTINCT o.customer_id)")),
        ("issue 27: the library's mart copied", "SELECT city, day, n_orders, revenue_cents "
                                                "FROM gold_city_daily_revenue"),
        ("issue 27: the solution with HAVING COUNT(*) > 1", GOLD_SQL + "\nHAVING COUNT(*) > 1"),
        ("equal amounts counted once", GOLD_SQL.replace("SUM(o.amount_cents)",
                                                        "SUM(DISTINCT o.amount_cents)")),
        ("the day in the machine's time zone", GOLD_SQL.replace(
            "substr(o.ordered_at, 1, 10)", "date(o.ordered_at, 'localtime')")),
        ("the served table copied", "SELECT city, day, n_orders, revenue_cents FROM "
                                    "served_city_daily_revenue"),
    ],
    "check_gold_suite": [
        ("the stub: one row count", SUITE_STUB),
        ("the right checks, warn only", {
            table: [{**check, "blocking": False} for check in checks]
            for table, checks in GOLD_SUITE.items()}),
        ("a minimum no day reaches", {"gold_city_daily_revenue": [
            {"check": "row_count_between", "min_rows": 10_000, "blocking": True}]}),
        ("volume only (gold itself unchecked)", {"silver_orders": [
            {"check": "volume_anomaly", "metric": "orders_received", "min_history": 3,
             "fail_score": 3.5, "blocking": True}]}),
        ("a misspelt check", {"gold_city_daily_revenue": [{"check": "uniqe_key",
                                                           "key": "city"}]}),
        ("freshness on silver, not on gold", {
            **GOLD_SUITE, "gold_city_daily_revenue": GOLD_SUITE["gold_city_daily_revenue"][1:],
            "silver_orders": [*GOLD_SUITE["silver_orders"], {
                "check": "freshness", "column": "ordered_at", "blocking": True,
                "error_after": {"count": 12, "period": "hour"}}]}),
        ("volume with no history required (blocks the second day)", {
            **GOLD_SUITE, "silver_orders": [{"check": "volume_anomaly",
                                             "metric": "orders_received", "min_history": 1,
                                             "fail_score": 0.5, "blocking": True}]}),
    ],
}

_UPSERT_SET = _HEAD + _SET_ALL

#: Right answers written differently from the solutions: every check must accept them.
OTHER_RIGHT_ANSWERS: dict[str, list[tuple[str, object]]] = {
    "check_watermark_read": [
        ("row values", "SELECT value, format FROM etl_watermarks "
                       "WHERE (target, watermark_column) = (:target, :column)")],
    "check_changed_rows_query": [
        ("columns named, in another order", f"SELECT {', '.join(reversed(CUSTOMERS.names))} "
                                            "FROM src_customers WHERE updated_at >= :watermark"),
        ("> or =", "SELECT * FROM src_customers WHERE updated_at > :watermark "
                   "OR updated_at = :watermark")],
    "check_upsert_statement": [
        ("NOT (… IS … AND …)", _UPSERT_SET + "WHERE NOT ("
         + " AND ".join(f"t.{c} IS excluded.{c}" for c in _VALUES) + ")")],
    "check_watermark_save": [
        ("INSERT OR REPLACE (the state table has nothing else to lose)",
         "INSERT OR REPLACE INTO etl_watermarks VALUES (:target, :column, :value, :format)")],
    "check_hand_written_load": [("commit() and rollback(), max() in Python", _COMMIT_METHODS)],
    "check_silver_dedup": [
        ("no newer version exists", "SELECT id, name, city, updated_at FROM staged AS s WHERE "
                                    "NOT EXISTS (SELECT 1 FROM staged AS t WHERE t.id = s.id AND "
                                    "(t.updated_at > s.updated_at OR (t.updated_at = "
                                    "s.updated_at AND t._bronze_row > s._bronze_row)))")],
    "check_reject_rule_sql": [
        ("NOT … > 0", "SELECT _bronze_row, 'amount ' || amount_cents || ' cents is not "
                      "positive' AS reason FROM staged_orders WHERE NOT amount_cents > 0")],
    "check_gold_metric": [
        ("SUM / COUNT", "SELECT c.city, ROUND(SUM(o.amount_cents) * 1.0 / COUNT(*) / 100, 2) "
                        "AS avg_order_value FROM silver_orders AS o JOIN silver_customers AS c "
                        "ON c.id = o.customer_id GROUP BY c.city")],
    "check_gold_sql": [
        ("date() for the day", GOLD_SQL.replace("substr(o.ordered_at, 1, 10)",
                                                "date(o.ordered_at)")),
        ("GROUP BY 1, 2", GOLD_SQL.replace("GROUP BY c.city, substr(o.ordered_at, 1, 10)",
                                           "GROUP BY 1, 2"))],
    "check_gold_suite": [
        ("stricter, still right", {**GOLD_SUITE, "gold_city_daily_revenue": [
            *GOLD_SUITE["gold_city_daily_revenue"],
            {"check": "unique_key", "key": ["city", "day"], "blocking": True},
            {"check": "not_null", "column": "city", "blocking": True}]})],
}
