"""Wrong answers a student could plausibly game each exercise with, by exercise name.

Each is (what it tries, the answer). tests/test_exercises.py asserts every one is refused:
hard-coded ids or values that fit the lecture's data only, literals where the lesson is about
parameters, partial updates, the stub with a cosmetic change, and the distractors of each quiz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from course_etl.classroom.exercises.capstone import GOLD_SQL_STUB, SUITE_STUB
from course_etl.classroom.exercises.incremental import _stub_load
from course_etl.config import spec
from course_etl.medallion import Rule
from course_etl.scheduling import Pipeline, Task
from course_etl.scheduling.lecture import customers_pipeline, row_count_check

_UPSERT_HEAD = ("INSERT INTO dw_customers AS t (id, name, city, updated_at) "
                "SELECT id, name, city, updated_at FROM changes WHERE true ON CONFLICT (id) ")


def _pipeline_with_check(params: dict, after: str = "incremental_load") -> Pipeline:
    lecture = customers_pipeline()
    check = Task(row_count_check, params=params)
    lecture[after] >> check
    return Pipeline("customers_etl", [*lecture, check], schedule=lecture.schedule)


def _library_load(conn):
    from course_etl.loads.engine import incremental_load
    incremental_load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")


def _load_with_conn_block(conn):
    with conn:  # looks transactional, but the connection is in autocommit mode
        _stub_load(conn)


def _load_that_moves_back(conn):
    """One transaction, but the watermark is set from the rows read, even when none were."""
    conn.execute("BEGIN")
    try:
        names = {"target": "dw_customers", "column": "updated_at"}
        value, fmt = conn.execute("SELECT value, format FROM etl_watermarks WHERE target = "
                                  ":target AND watermark_column = :column", names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute("CREATE TEMP TABLE changes AS SELECT * FROM src_customers "
                     "WHERE updated_at >= :watermark", {"watermark": value})
        conn.execute(_UPSERT_HEAD + "DO UPDATE SET name = excluded.name, city = excluded.city, "
                     "updated_at = excluded.updated_at WHERE t.name IS NOT excluded.name OR "
                     "t.city IS NOT excluded.city OR t.updated_at IS NOT excluded.updated_at")
        newest = conn.execute("SELECT MAX(updated_at) FROM changes WHERE updated_at > "
                              ":watermark", {"watermark": value}).fetchone()[0]
        conn.execute("UPDATE etl_watermarks SET value = :value WHERE target = :target AND "
                     "watermark_column = :column", {**names, "value": newest})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _freshness_fixed_table(conn, table, column, now):
    newest = conn.execute("SELECT MAX(updated_at) FROM feed").fetchone()[0]
    return _grade(newest, now)


def _freshness_wall_clock(conn, table, column, now):
    from datetime import datetime
    newest = conn.execute(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0]
    return _grade(newest, datetime.now())


def _freshness_inclusive(conn, table, column, now):
    from datetime import datetime
    newest = conn.execute(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0]
    if newest is None:
        return "fail"
    age = (now - datetime.fromisoformat(newest)).total_seconds()
    return "fail" if age >= 3 * 86_400 else "warn" if age >= 86_400 else "pass"


def _grade(newest, now):
    from datetime import datetime
    if newest is None:
        return "pass"
    age = (now - datetime.fromisoformat(newest)).total_seconds()
    return "fail" if age > 3 * 86_400 else "warn" if age > 86_400 else "pass"


@dataclass(frozen=True)
class _RetentionNoLimit:
    raw_days: int = 30


@dataclass(frozen=True)
class _RetentionOffByOne:
    raw_days: int = field(default=30, metadata=spec("days", minimum=0, maximum=365))


@dataclass(frozen=True)
class _RetentionWideOpen:
    raw_days: int = field(default=30, metadata=spec("days", minimum=1, maximum=1000))


def _rule(function) -> Rule:
    return Rule("name_has_digits", "customers", function)


GAMED: dict[str, list[tuple[str, object]]] = {
    "check_watermark_read": [
        ("the lecture's re-derivation from the data (stub)",
         "SELECT MAX(updated_at) FROM dw_customers"),
        ("a pasted date", "SELECT '2024-10-05', 'YYYY-MM-DD'"),
        ("filters on the target only", "SELECT value, format FROM etl_watermarks "
                                       "WHERE target = :target"),
        ("the highest of all stored values", "SELECT MAX(value), format FROM etl_watermarks"),
    ],
    "check_changed_rows_query": [
        ("the stub with a cosmetic change",
         "select *  from src_customers where updated_at > :watermark -- fixed"),
        ("a pasted date instead of :watermark",
         "SELECT * FROM src_customers WHERE updated_at >= '2024-10-05'"),
        ("hard-coded ids", "SELECT * FROM src_customers WHERE id IN (3, 4, 6)"),
        ("only the keys", "SELECT id FROM src_customers WHERE updated_at >= :watermark"),
        ("every row", "SELECT * FROM src_customers WHERE :watermark IS NOT NULL"),
    ],
    "check_upsert_statement": [
        ("the stub with a cosmetic change",
         "REPLACE INTO dw_customers (id, name, city, updated_at) "
         "SELECT id, name, city, updated_at FROM changes"),
        ("updates only city, leaving updated_at stale",
         _UPSERT_HEAD + "DO UPDATE SET city = excluded.city WHERE t.city IS NOT excluded.city"),
        ("rewrites every row read (no change condition)",
         _UPSERT_HEAD + "DO UPDATE SET name = excluded.name, city = excluded.city, "
                        "updated_at = excluded.updated_at"),
        ("hard-coded ids", "INSERT INTO dw_customers AS t (id, name, city, updated_at) "
                           "SELECT id, name, city, updated_at FROM changes WHERE id IN (3, 4) "
                           "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                           "city = excluded.city, updated_at = excluded.updated_at "
                           "WHERE t.city IS NOT excluded.city"),
        ("inserts only", "INSERT OR IGNORE INTO dw_customers (id, name, city, updated_at) "
                         "SELECT id, name, city, updated_at FROM changes"),
        ("change condition on city only (a rename is lost)",
         _UPSERT_HEAD + "DO UPDATE SET name = excluded.name, city = excluded.city, "
                        "updated_at = excluded.updated_at WHERE t.city IS NOT excluded.city"),
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
    ],
    "check_hand_written_load": [
        ("the stub: every step in autocommit", _stub_load),
        ("`with conn:` on an autocommit connection", _load_with_conn_block),
        ("calls the library instead", _library_load),
        ("moves the watermark to NULL on a quiet day", _load_that_moves_back),
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
    "check_weekday_cron": [
        ("Sunday to Thursday", "30 6 * * 0-4"),
        ("minute and hour swapped", "6 30 * * 1-5"),
        ("days of the month instead of the week", "30 6 1-5 * *"),
        ("the stub with a cosmetic change", "30 6 * * */1"),
        ("Monday to Saturday", "30 6 * * 1-6"),
    ],
    "check_added_task": [
        ("the stub (no check)", customers_pipeline()),
        ("a check that can never fail", _pipeline_with_check({"target": "dw_customers",
                                                              "minimum": 0})),
        ("checks the source, not the warehouse",
         _pipeline_with_check({"target": "src_customers", "minimum": 3})),
        ("waits for full_load only", _pipeline_with_check(
            {"target": "dw_customers", "minimum": 3}, after="full_load")),
    ],
    "check_predicted_states": [
        ("all success", {"full_load": "success", "incremental_load": "success",
                         "row_count_check": "success"}),
        ("the downstream task skipped", {"full_load": "success", "incremental_load": "failed",
                                         "row_count_check": "skipped"}),
        ("the downstream task failed too", {"full_load": "success",
                                            "incremental_load": "failed",
                                            "row_count_check": "failed"}),
        ("retries save it", {"full_load": "success", "incremental_load": "success",
                             "row_count_check": "success"}),
    ],
    "check_freshness_function": [
        ("reads a fixed table", _freshness_fixed_table),
        ("uses the wall clock instead of now", _freshness_wall_clock),
        ("inclusive thresholds", _freshness_inclusive),
        ("always pass (stub)", lambda conn, table, column, now: "pass"),
    ],
    "check_freshness_thresholds": [
        ("one day / three days", {"warn_after": {"count": 1, "period": "day"},
                                  "error_after": {"count": 3, "period": "day"}}),
        ("hours: 12 / 48", {"warn_after": {"count": 12, "period": "hour"},
                            "error_after": {"count": 48, "period": "hour"}}),
        ("warn and error the same", {"warn_after": {"count": 1, "period": "day"},
                                     "error_after": {"count": 1, "period": "day"}}),
        ("the stub", {"warn_after": {"count": 1, "period": "hour"},
                      "error_after": {"count": 1, "period": "day"}}),
    ],
    "check_volume_history": [
        ("distractor a", "a"), ("distractor c", "c"), ("distractor d", "d"),
        ("every letter at once", "abcd"), ("a list of letters", ["a", "b", "c", "d"]),
    ],
    "check_env_override": [
        ("one underscore between section and key", {"COURSE_ETL_CHECKS_MIN_ROWS": "50"}),
        ("no section", {"COURSE_ETL_MIN_ROWS": "50"}),
        ("lower case", {"course_etl_checks__min_rows": "50"}),
        ("also changes another key", {"COURSE_ETL_CHECKS__MIN_ROWS": "50",
                                      "COURSE_ETL_LOAD__BATCH_SIZE": "10"}),
        ("a number instead of text", {"COURSE_ETL_CHECKS__MIN_ROWS": 50}),
    ],
    "check_layer_quiz": [
        ("all prod", {k: "prod" for k in ("load.batch_size", "load.lookback_hours",
                                          "load.reconcile_deletes", "load.watermark_column",
                                          "alerts.smtp_user")}),
        ("envvar and override swapped", {"load.batch_size": "envvar",
                                         "load.lookback_hours": "override",
                                         "load.reconcile_deletes": "prod",
                                         "load.watermark_column": "base",
                                         "alerts.smtp_user": "default"}),
        ("unchanged keys credited to prod", {"load.batch_size": "override",
                                             "load.lookback_hours": "envvar",
                                             "load.reconcile_deletes": "prod",
                                             "load.watermark_column": "prod",
                                             "alerts.smtp_user": "prod"}),
    ],
    "check_retention_key": [
        ("no limits (stub)", _RetentionNoLimit),
        ("minimum 0", _RetentionOffByOne),
        ("maximum too high", _RetentionWideOpen),
        ("an instance, not the class", _RetentionNoLimit()),
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
    ],
    "check_reject_rule_sql": [
        ("the stub", "SELECT _bronze_row, 'amount is missing' AS reason FROM staged_orders "
                     "WHERE amount_cents IS NULL"),
        ("negative only (zero slips through)", "SELECT _bronze_row, 'negative' AS reason "
                                               "FROM staged_orders WHERE amount_cents < 0"),
        ("hard-coded rows", "SELECT _bronze_row, 'bad' AS reason FROM staged_orders "
                            "WHERE _bronze_row IN (2, 3)"),
        ("no reason", "SELECT _bronze_row, NULL AS reason FROM staged_orders "
                      "WHERE amount_cents <= 0"),
    ],
    "check_rejection_rule": [
        ("hard-coded names", _rule(lambda row: "digit" if row["name"] in ("B3n", "Dai 2")
                                   else None)),
        ("only the last character", _rule(lambda row: "digit" if row["name"][-1].isdigit()
                                          else None)),
        ("a space taken for a digit", _rule(lambda row: "odd" if " " in row["name"]
                                            or any(c.isdigit() for c in row["name"]) else None)),
        ("no reason given", _rule(lambda row: "" if any(c.isdigit() for c in row["name"])
                                  else None)),
    ],
    "check_gold_metric": [
        ("cents, not currency units", "SELECT c.city, ROUND(AVG(o.amount_cents), 2) AS "
                                      "avg_order_value FROM silver_orders AS o JOIN "
                                      "silver_customers AS c ON c.id = o.customer_id "
                                      "GROUP BY c.city"),
        ("integer division", "SELECT c.city, SUM(o.amount_cents) / COUNT(*) / 100 AS "
                             "avg_order_value "
                             "FROM silver_orders AS o JOIN silver_customers AS c "
                             "ON c.id = o.customer_id GROUP BY c.city"),
        ("orphans kept", "SELECT c.city, ROUND(AVG(o.amount_cents) / 100.0, 2) AS "
                         "avg_order_value FROM silver_orders AS o LEFT JOIN silver_customers "
                         "AS c ON c.id = o.customer_id GROUP BY c.city"),
        ("pasted values", "SELECT 'Austin' AS city, 17.75 AS avg_order_value UNION ALL "
                          "SELECT 'Berlin', 23.63"),
    ],
    "check_gold_sql": [
        ("the stub (orphans, one row per order time)", GOLD_SQL_STUB),
        ("revenue in currency units", "SELECT c.city, substr(o.ordered_at, 1, 10) AS day, "
                                      "COUNT(*) AS n_orders, SUM(o.amount_cents) / 100 AS "
                                      "revenue_cents FROM silver_orders AS o JOIN "
                                      "silver_customers AS c ON c.id = o.customer_id "
                                      "GROUP BY 1, 2"),
        ("customers counted, not orders", "SELECT c.city, substr(o.ordered_at, 1, 10) AS day, "
                                          "COUNT(DISTINCT o.customer_id) AS n_orders, "
                                          "SUM(o.amount_cents) AS revenue_cents FROM "
                                          "silver_orders AS o JOIN silver_customers AS c "
                                          "ON c.id = o.customer_id GROUP BY 1, 2"),
        ("the library's mart copied", "SELECT city, day, n_orders, revenue_cents FROM "
                                      "gold_city_daily_revenue WHERE day <= '2024-10-04'"),
    ],
    "check_gold_suite": [
        ("the stub: one row count", SUITE_STUB),
        ("the right checks, warn only", {
            "silver_orders": [{"check": "volume_anomaly", "metric": "orders_received",
                               "min_history": 3, "fail_score": 3.5, "blocking": False}],
            "gold_city_daily_revenue": [
                {"check": "freshness", "column": "day", "blocking": False,
                 "error_after": {"count": 12, "period": "hour"}},
                {"check": "referential_integrity", "column": "city",
                 "parent": "silver_customers", "parent_column": "city", "blocking": False}]}),
        ("a minimum no day reaches", {"gold_city_daily_revenue": [
            {"check": "row_count_between", "min_rows": 10_000, "blocking": True}]}),
        ("volume only (gold itself unchecked)", {"silver_orders": [
            {"check": "volume_anomaly", "metric": "orders_received", "min_history": 3,
             "fail_score": 3.5, "blocking": True}]}),
        ("a misspelt check", {"gold_city_daily_revenue": [{"check": "uniqe_key",
                                                           "key": "city"}]}),
    ],
    "check_task_order": [
        ("checks after gold", ["extract", "bronze", "silver", "gold", "checks", "publish"]),
        ("alphabetical", ["bronze", "checks", "extract", "gold", "publish", "silver"]),
        ("reversed", ["publish", "gold", "checks", "silver", "bronze", "extract"]),
    ],
    "check_fault_states": [
        ("all success", dict.fromkeys(("extract", "bronze", "silver", "checks", "gold",
                                       "publish"), "success")),
        ("silver takes the blame", {"extract": "success", "bronze": "success",
                                    "silver": "failed", "checks": "upstream_failed",
                                    "gold": "upstream_failed", "publish": "upstream_failed"}),
        ("downstream skipped", {"extract": "success", "bronze": "success", "silver": "success",
                                "checks": "failed", "gold": "skipped", "publish": "skipped"}),
    ],
    "check_retry_outcome": [
        ("both succeed", {"dev": "success", "prod": "success"}),
        ("both fail", {"dev": "failed", "prod": "failed"}),
        ("swapped", {"dev": "success", "prod": "failed"}),
    ],
    "check_rerun_choice": [
        ("distractor a", "a"), ("distractor c", "c"), ("distractor d", "d"),
        ("two letters", "b, c"),
    ],
    "check_export_schedule": [
        ("dev's cron", "*/15 * * * *"),
        ("the lecture's cron", "5 2 * * *"),
        ("with the time zone", "0 2 * * * Europe/Berlin"),
    ],
}
