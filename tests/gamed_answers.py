"""Wrong answers a student could plausibly game each exercise with, by exercise name.

Each is (what it tries, the answer). tests/test_exercises.py asserts every one is refused:
hard-coded ids or values that fit the lecture's data only, literals where the lesson is about
parameters, partial updates, the stub with a cosmetic change, and the distractors of each quiz.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from course_etl.config import spec
from course_etl.facts import SCHEDULE
from course_etl.scheduling import Pipeline, Task
from course_etl.scheduling.lecture import customers_pipeline, row_count_check
from tests.wrong_answers_sql import WRONG_SQL_ANSWERS


def _pipeline_with_check(params: dict, after: str = "incremental_load") -> Pipeline:
    lecture = customers_pipeline()
    check = Task(row_count_check, params=params)
    lecture[after] >> check
    return Pipeline("customers_etl", [*lecture, check], schedule=lecture.schedule)








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




_OTHER_NOTEBOOKS: dict[str, list[tuple[str, object]]] = {
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
        ("the lecture's cron", SCHEDULE.cron),
        ("with the time zone", "0 2 * * * Europe/Berlin"),
    ],
}

#: Every exercise's wrong answers, by the name it is registered under (notebooks 01, 05 and 06's
#: SQL exercises in tests/wrong_answers_sql.py).
GAMED: dict[str, list[tuple[str, object]]] = {**_OTHER_NOTEBOOKS, **WRONG_SQL_ANSWERS}
