"""Exercises for notebook 06 (capstone): a short self-assessment quiz with instant feedback.

Five questions about the whole pipeline: the order the scheduler runs the tasks in, the task
states on a day whose blocking check fails, what the configured retries change between dev and
prod, why re-running a day changes no data, and which schedule the Airflow export carries. Each
check works the right answer out from the library (a small simulated run or the export itself),
so the quiz stays true when the pipeline or the configs change.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from course_etl.capstone import (
    SERVED_TABLE,
    SOURCE_SEED,
    Fault,
    airflow_dag,
    build_pipeline,
    capstone_config,
    checks,
)
from course_etl.classroom.exercises import Verdict, register
from course_etl.db import connect, quote_identifier
from course_etl.monitoring.checks import CheckConfigError, CheckFailedError
from course_etl.scheduling import FaultInjection, LocalRunner, SimulatedClock, describe_cron

__all__ = [
    "BACKFILL_CHOICES",
    "check_task_order",
    "check_fault_states",
    "check_retry_outcome",
    "check_rerun_choice",
    "check_export_schedule",
    "SUITE_STUB",
    "GOLD_SQL_STUB",
    "check_gold_sql",
    "check_gold_suite",
]


def _clean(text: object) -> str:
    return str(text).strip().lower()


# --- 1. the order of the tasks ------------------------------------------------------------------

@register(answer_name="task_order", stub=[], solution_file="06_task_order.py")
def check_task_order(answer: object) -> Verdict:
    """Quiz: the order of the capstone's tasks.

    ``answer``: the capstone's task ids in the order the local runner runs them."""
    name = "check_task_order"
    expected = build_pipeline(capstone_config("dev")).order
    if not isinstance(answer, list | tuple) or not answer:
        return Verdict(name, False, f"expected a list of task ids, got {answer!r}",
                       "six names, from where the data comes in to where it is published")
    given = [_clean(a) for a in answer]
    if sorted(given) != sorted(expected):
        return Verdict(name, False, f"the tasks are {', '.join(sorted(expected))}",
                       "pipeline.order lists them; use exactly those names")
    if given != expected:
        first = next(i for i, (a, b) in enumerate(zip(given, expected, strict=True)) if a != b)
        return Verdict(name, False, f"position {first + 1} should be {expected[first]!r}",
                       "each task needs its upstream task's output: raw before cleaned before "
                       "checked before promoted")
    return Verdict(name, True, " >> ".join(expected))


# --- 2. the states on the fault day -------------------------------------------------------------

FAULT_DAY = date(2024, 10, 4)


def _fault_day_states() -> dict[str, str]:
    """Run dev from 2024-10-01 to the fault day with its short orders feed; the last states."""
    config = capstone_config("dev")
    pipeline = build_pipeline(config)
    faulty = build_pipeline(config, short_feed_days=[Fault(FAULT_DAY).day.isoformat()])
    conn = connect(":memory:")
    try:
        runner = LocalRunner(conn, clock=SimulatedClock())
        for offset in range(3):
            runner.run(pipeline, date(2024, 10, 1 + offset))
        report = runner.run(faulty, FAULT_DAY)
    finally:
        conn.close()
    return {task: r.state for task, r in report.tasks.items()}


@register(answer_name="fault_states", stub={}, solution_file="06_fault_states.py")
def check_fault_states(answer: object) -> Verdict:
    """Quiz: the task states on the fault day.

    ``answer``: task id → state on 2024-10-04 in dev, when the orders feed is short."""
    name = "check_fault_states"
    expected = _fault_day_states()
    if not isinstance(answer, dict) or set(answer) != set(expected):
        return Verdict(name, False, f"expected a dict with the keys {', '.join(expected)}",
                       "states: success, failed, upstream_failed, skipped")
    wrong = [task for task in expected if _clean(answer[task]) != expected[task]]
    if wrong:
        return Verdict(name, False, f"{len(expected) - len(wrong)} of {len(expected)} right; "
                                    f"check {', '.join(wrong)}",
                       "the short feed gets through bronze and silver; the blocking check "
                       "stops it, and what runs after a failed task never starts")
    return Verdict(name, True, "the blocking check failed and held gold and publish back")


# --- 3. what retries change -------------------------------------------------------------------

def _retry_outcome(env: str) -> str:
    pipeline = build_pipeline(capstone_config(env))
    conn = connect(":memory:")
    try:
        runner = LocalRunner(conn, clock=SimulatedClock(), faults=FaultInjection({"silver": 1}))
        return runner.run(pipeline, date(2024, 10, 1)).state
    finally:
        conn.close()


@register(answer_name="run_states", stub={"dev": "?", "prod": "?"},
          solution_file="06_retry_outcome.py")
def check_retry_outcome(answer: object) -> Verdict:
    """Quiz: what retries change between dev and prod.

    ``answer``: env → run state on 2024-10-01 when silver fails on its first try."""
    name = "check_retry_outcome"
    expected = {env: _retry_outcome(env) for env in ("dev", "prod")}
    if not isinstance(answer, dict) or set(answer) != set(expected):
        return Verdict(name, False, "expected a dict with the keys dev and prod",
                       "a run ends 'success' or 'failed'")
    wrong = [env for env in expected if _clean(answer[env]) != expected[env]]
    if wrong:
        return Verdict(name, False, f"check {', '.join(wrong)}",
                       "look at schedule.retries in configs/dev.yaml and configs/prod.yaml")
    return Verdict(name, True, "dev has no retries and fails; prod retries silver and succeeds")


# --- 4. why a re-run changes nothing ------------------------------------------------------------

# Distractors from what students really believe (docs/instructor_guide.md, common errors).
BACKFILL_CHOICES = {
    "a": "the runner remembers which days succeeded and skips them when they are run again",
    "b": "bronze ignores a batch it already holds (content hash), silver only reads batches "
         "after its watermark, and publish replaces its row for that logical date",
    "c": "every layer writes with INSERT OR REPLACE, so rows written twice simply overwrite "
         "themselves",
    "d": "silver re-derives its watermark from MAX(updated_at) of its own rows, so nothing "
         "older than what it holds is read again",
}


@register(answer_name="rerun_choice", stub="?", solution_file="06_rerun_choice.py")
def check_rerun_choice(answer: object) -> Verdict:
    """Quiz: why running a day again changes no data.

    ``answer``: the letter of :data:`BACKFILL_CHOICES` that explains idempotent re-runs."""
    name = "check_rerun_choice"
    choice = _clean(answer)
    if choice not in BACKFILL_CHOICES:
        return Verdict(name, False, f"{answer!r} is not one of {', '.join(BACKFILL_CHOICES)}",
                       "answer with one letter")
    if choice != "b":
        wrong = {"a": "the runner runs whatever it is asked to: the run log shows every task "
                      "ran again",
                 "c": "bronze is append-only (triggers refuse UPDATE and DELETE), and INSERT OR "
                      "REPLACE would delete children and lose columns",
                 "d": "silver's watermark is the bronze batch id, stored in a state table, "
                      "never re-derived from data"}[choice]
        return Verdict(name, False, wrong, "which layer would otherwise get the rows twice?")
    return Verdict(name, True, "each layer recognises what it has already done")


# --- 5. the schedule the orchestrator gets -----------------------------------------------------

@register(answer_name="prod_schedule", stub="", solution_file="06_export_schedule.py")
def check_export_schedule(answer: object) -> Verdict:
    """Quiz: the schedule in prod's Airflow export.

    ``answer``: the cron text after ``schedule=`` in the Airflow export for prod."""
    name = "check_export_schedule"
    config = capstone_config("prod")
    dag = airflow_dag(config)
    line = next(x for x in dag.splitlines() if x.strip().startswith("schedule="))
    # schedule=CronTriggerTimetable('0 2 * * *', timezone=...): the first quoted text is the cron.
    expected = line.split("'")[1]
    given = " ".join(str(answer).split())
    if given != expected:
        return Verdict(name, False, f"{answer!r} is not the exported schedule",
                       "the export copies schedule.cron from the config: look in "
                       "configs/prod.yaml (the time zone goes into start_date)")
    return Verdict(name, True, f"schedule={expected!r}: {describe_cron(expected)} "
                               f"({config.schedule.timezone})")


# --- 6. the pieces the student builds: the gold SQL and the checks suite -----------------------

#: The lecture-style suite a first try looks like: one row count, nothing about the data's shape.
SUITE_STUB = {"gold_city_daily_revenue": [{"check": "row_count_between", "min_rows": 1,
                                           "blocking": True}]}
GOLD_SQL_STUB = ("SELECT c.city, o.ordered_at AS day, COUNT(*) AS n_orders, "
                 "SUM(o.amount_cents) AS revenue_cents FROM silver_orders AS o "
                 "LEFT JOIN silver_customers AS c ON c.id = o.customer_id GROUP BY 1, 2")
#: (label, source seed, the day the fault comes): the course's source, then another one.
_DATA_SETS = (("the course's source", SOURCE_SEED, date(2024, 10, 4)),
              ("a second source (other seed, fault on another day)", SOURCE_SEED + 101,
               date(2024, 10, 5)))


def _warehouse_before(seed: int, fault_day: date) -> sqlite3.Connection:
    """A warehouse after every normal day up to the fault day (library pieces only)."""
    pipeline = build_pipeline(capstone_config("dev"), source_seed=seed)
    conn = connect(":memory:")
    runner = LocalRunner(conn, clock=SimulatedClock())
    day = date(2024, 10, 1)
    while day < fault_day:
        runner.run(pipeline, day)
        day += timedelta(days=1)
    return conn


def _copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    copy = connect(":memory:")
    conn.backup(copy)
    return copy


def _served(conn: sqlite3.Connection) -> set[tuple]:
    return set(conn.execute("SELECT city, day, n_orders, revenue_cents "
                            f"FROM {quote_identifier(SERVED_TABLE)}"))


def _gold_query_verdict(answer: object) -> Verdict:
    """The verdict of :func:`check_gold_sql`: prose messages, kept out of a ``*_sql`` def."""
    name = "check_gold_sql"
    if not isinstance(answer, str) or not answer.strip():
        return Verdict(name, False, "expected a SELECT statement as text",
                       "SELECT … FROM silver_orders AS o … GROUP BY …")
    for label, seed, day in _DATA_SETS:
        conn = _warehouse_before(seed, day + timedelta(days=1))
        expected = set(conn.execute(
            "SELECT city, day, n_orders, revenue_cents FROM gold_city_daily_revenue"))
        try:
            cursor = conn.execute(answer)
            columns = [d[0] for d in cursor.description or ()]
            got_rows = [tuple(r) for r in cursor.fetchall()]
        except sqlite3.Error as error:
            return Verdict(name, False, f"the query failed: {error}",
                           "the tables are silver_orders and silver_customers")
        if columns != ["city", "day", "n_orders", "revenue_cents"]:
            return Verdict(name, False, f"columns are {columns}: the served table needs city, "
                           "day, n_orders, revenue_cents", "name each column with AS")
        got = set(got_rows)
        if any(r[0] is None for r in got):
            return Verdict(name, False, f"on {label}, orders without a customer become a city "
                           "None: the served table refuses it (NOT NULL) and gold fails every "
                           "day", "Which join keeps only orders whose customer is known?")
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected, key=str)
            first = missing[0] if missing else extra[0]
            alike = [r for r in got if r[:2] == first[:2]] if missing else []
            seen = f"you have {alike[0]}" if alike else "you have no such row"
            return Verdict(name, False, f"on {label}: {len(got)} rows, {len(expected)} expected; "
                           f"e.g. {first} is expected, {seen}" if missing else
                           f"on {label}: {len(extra)} rows too many, e.g. {first}",
                           "One row per city and calendar day (the date part of ordered_at), "
                           "orders counted once, revenue in cents.")
    return Verdict(name, True, "the same city-day revenue as the library's mart, on both sources")


@register(answer_name="gold_sql", stub=GOLD_SQL_STUB, solution_file="06_a_gold_sql.py")
def check_gold_sql(answer: object) -> Verdict:
    """Write the gold SQL: revenue per city and day from the silver tables."""
    # The name ends in _sql because the answer is SQL; the messages are prose, built in
    # _gold_query_verdict so the SQL-names rule does not read them as SQL fragments.
    return _gold_query_verdict(answer)


def _suite_problem(suite: dict, label: str, seed: int, day: date) -> tuple[str, str] | None:
    base = _warehouse_before(seed, day)
    config = capstone_config("dev")
    for kind in ("normal", "short_feed"):
        conn = _copy(base)
        pipeline = build_pipeline(config, suite=suite, source_seed=seed,
                                  short_feed_days=[day.isoformat()] if kind != "normal" else [])
        report = LocalRunner(conn, clock=SimulatedClock()).run(pipeline, day)
        task = report.tasks["checks"]
        if kind == "normal" and task.state != "success":
            return (f"on {label}, a normal day {day} is blocked ({task.error}): nothing would "
                    "ever be published", "Keep only checks that hold on a good day.")
        if kind == "short_feed" and task.state != "failed":
            cities = len(_served(conn))
            return (f"on {label}, the short orders feed on {day} got through: {cities} city-day "
                    "rows were published from 5 orders", "Which check compares today's "
                    "orders with the days before? It must be blocking.")
    normal = _copy(base)
    report = LocalRunner(normal, clock=SimulatedClock()).run(
        build_pipeline(config, source_seed=seed), day)
    faults = {  # faults the gold table's own constraints let through
        "gold was not refreshed (today's rows are missing)":
            ("DELETE FROM gold_city_daily_revenue WHERE day = ?", (day.isoformat(),)),
        "a gold row for a city no customer lives in ('Atlantis')":
            ("INSERT INTO gold_city_daily_revenue (city, day, n_orders, revenue_cents) "
             "VALUES ('Atlantis', ?, 1, 100)", (day.isoformat(),)),
    }
    for fault, (sql, params) in faults.items():
        conn = _copy(normal)
        conn.execute(sql, params)
        try:
            checks(conn, suite=suite, context=report.context)
        except CheckFailedError:
            continue
        return (f"on {label}, {fault}: the suite let it through to the report",
                "Which checks compare gold with time and with silver, and do they block?")
    return None


@register(answer_name="gold_suite", stub=SUITE_STUB, solution_file="06_b_gold_suite.py")
def check_gold_suite(answer: object) -> Verdict:
    """Write the checks suite that guards gold: bad days blocked, good days published."""
    name = "check_gold_suite"
    if not isinstance(answer, dict) or not answer:
        return Verdict(name, False, f"expected a suite (table → list of checks), got {answer!r}",
                       "the suite in section 2 has the same shape")
    try:
        for label, seed, day in _DATA_SETS:
            problem = _suite_problem(answer, label, seed, day)
            if problem:
                return Verdict(name, False, problem[0], problem[1])
    except CheckConfigError as error:
        return Verdict(name, False, f"the suite cannot run: {error}",
                       "each check is a dict with 'check', its fields and 'blocking'")
    return Verdict(name, True, "normal days pass; the short feed, a gold table not refreshed and "
                               "a gold city no customer has are blocked, on both sources")
