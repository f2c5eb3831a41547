"""Notebook 06's pieces the student builds: the gold SQL here, the checks suite that guards it in
:mod:`course_etl.classroom.exercises.gold_suite` (on the capstone days built here).

The gold SQL runs beside a plain-Python model of the mart (orders per customer city and UTC day,
orphans left out) on the silver of the capstone's own source and on generated silvers, one edge
each (a city-day of a single order, two orders of one amount, orders either side of midnight, an
orphan, …). The scenarios hold silver and nothing of gold: an answer that copies the library's
mart reads a table that is not there, and is told so.

The capstone days the suite is judged on (a day's warehouse just before the ``checks`` task)
are built here, once per kernel, on a smaller daily volume than the notebook's (the same code;
only the extract's row count differs).
"""

from __future__ import annotations

import functools
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from course_etl.capstone import STORY_DAY, build_pipeline, capstone_config
from course_etl.capstone.constants import SOURCE_SEED
from course_etl.capstone.student import GOLD_COLUMNS
from course_etl.capstone.tasks import extract
from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import UNICODE_CITIES
from course_etl.classroom.exercises._silver import silver_conn
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Scenario,
    run_query,
    show_rows,
    sorted_rows,
    tables_read,
)
from course_etl.classroom.exercises.incremental import query_problem
from course_etl.db import connect, quote_identifier
from course_etl.medallion import CUSTOMERS, ORDERS
from course_etl.sample_data import CITIES, FIRST_NAMES
from course_etl.scheduling import LocalRunner, Pipeline, RunContext, SimulatedClock, Task

__all__ = ["GOLD_SQL_STUB"]

GOLD_SQL_STUB = ("SELECT c.city, o.ordered_at AS day, COUNT(*) AS n_orders, "
                 "SUM(o.amount_cents) AS revenue_cents FROM silver_orders AS o "
                 "LEFT JOIN silver_customers AS c ON c.id = o.customer_id GROUP BY 1, 2")
_DAILY_ROWS = 40  # per day in the checks' warehouses (the notebook's source sends 200)
#: (story, source seed, fault day): the capstone's own source, then another one.
_SOURCES = (("the capstone's source", SOURCE_SEED, STORY_DAY + timedelta(days=3)),
            ("a second source (another seed)", SOURCE_SEED + 101, STORY_DAY + timedelta(days=3)))
# A suite that always blocks: the runner stops before gold, leaving the warehouse as the checks
# task sees it, and the run's context for running a suite there.
_STOP_AT_CHECKS = {ORDERS.silver_table: [{"check": "row_count_between", "max_rows": 0,
                                          "blocking": True}]}


#: Rows the extract sends on top of ``_DAILY_ROWS``, by day of the story (then again): a real
#: feed varies, so the volume check's history has a spread and a short feed scores a finite
#: robust z (about 12 on the fault day) while the normal day scores about 2.4. A constant feed
#: would make any change score infinity, and a check that can never fail (fail_score 1e308)
#: would look as good as a sane one.
_DAILY_SWING = (0, 3, -2, 7, 1, -1)


def _varying_extract(conn: sqlite3.Connection, *, rows: int = _DAILY_ROWS,
                     seed: int = SOURCE_SEED, short_feed_days: tuple[str, ...] = (),
                     context: RunContext) -> int:
    """The capstone's extract, sending ``rows`` plus the day's swing."""
    day = context.logical_date.date()
    swing = _DAILY_SWING[(day - STORY_DAY).days % len(_DAILY_SWING)]
    return extract(conn, rows=rows + swing, seed=seed, short_feed_days=short_feed_days,
                   context=context)


def _smaller(pipeline: Pipeline, keep: tuple[str, ...] | None = None) -> Pipeline:
    """The same tasks (those in ``keep``, all when None) with the extract sending about
    ``_DAILY_ROWS`` rows a day (:data:`_DAILY_SWING`), scheduled once a day at the same first
    tick (the checks see the same run time: only fewer ticks are listed)."""
    kept = [t for t in pipeline.tasks if keep is None or t.name in keep]
    tasks = {t.name: Task(_varying_extract if t.name == "extract" else t.fn, name=t.name,
                          params={**t.params, **({"rows": _DAILY_ROWS}
                                                 if t.name == "extract" else {})})
             for t in kept}
    for task in kept:
        for upstream in task.upstream:
            tasks[upstream.name] >> tasks[task.name]
    return Pipeline(pipeline.name, list(tasks.values()), schedule="0 0 * * *",
                    timezone=pipeline.timezone, start_date=pipeline.start_date)


@functools.cache
def _pipeline(seed: int, stage: str, short_feed_day: date | None = None) -> Pipeline:
    """``land``: the days before, landed and ingested into bronze (their batch sizes are the
    volume check's history; silver takes every batch at once on the day itself, as a rebuild
    would). ``audit``: the day itself, stopped at the checks task."""
    pipeline = build_pipeline(_config(), source_seed=seed, suite=_STOP_AT_CHECKS,
                              short_feed_days=[short_feed_day.isoformat()]
                              if short_feed_day else [])
    return _smaller(pipeline, ("extract", "bronze") if stage == "land" else None)


@functools.cache
def _config():
    return capstone_config("dev")


@functools.cache
def _before_checks(seed: int, day: date, short_feed: bool) -> tuple[bytes, object]:
    """The warehouse of ``day`` just before its checks task, serialized, and that run's
    context."""
    conn = connect(":memory:")
    if day > STORY_DAY:
        conn.deserialize(_landed(seed, day - timedelta(days=1)))
    report = LocalRunner(conn, clock=SimulatedClock()).run(
        _pipeline(seed, "audit", day if short_feed else None), day)
    return conn.serialize(), report.context


@functools.cache
def _landed(seed: int, day: date) -> bytes:
    """Bronze after every day up to ``day`` landed, serialized."""
    conn = connect(":memory:")
    if day > STORY_DAY:
        conn.deserialize(_landed(seed, day - timedelta(days=1)))
    LocalRunner(conn, clock=SimulatedClock()).run(_pipeline(seed, "land"), day)
    return conn.serialize()


def _open(state: bytes) -> sqlite3.Connection:
    conn = connect(":memory:")
    conn.deserialize(state)
    return conn


# --- 1. the gold SQL ------------------------------------------------------------------------

@functools.cache
def _course_silver(seed: int, day: date) -> tuple[list[tuple], list[tuple]]:
    conn = _open(_before_checks(seed, day, False)[0])
    return tuple([tuple(r[:4]) for r in conn.execute(
        f"SELECT * FROM {quote_identifier(table)} ORDER BY 1")]
                 for table in (CUSTOMERS.silver_table, ORDERS.silver_table))


@dataclass(frozen=True)
class CourseDay:
    """The capstone's silver on ``day`` of the source ``seed``: built when a verdict first
    reaches it (the small scenarios come first)."""

    seed: int
    day: date


@dataclass(frozen=True)
class FarZone:
    """Silver rows judged with the process's local time zone set far from UTC: a day that
    follows the machine's clock ('localtime') instead of the data's UTC shows."""

    rows: tuple


_FAR_ZONE = "Pacific/Kiritimati"  # UTC+14: every UTC day boundary moves


def _silver_rows(data: object) -> tuple[list[tuple], list[tuple]]:
    if isinstance(data, FarZone):
        return data.rows
    return _course_silver(data.seed, data.day) if isinstance(data, CourseDay) else data


@contextmanager
def _local_zone(data: object) -> Iterator[None]:
    """Run the block with TZ set to ``_FAR_ZONE`` when ``data`` asks for it (where the platform
    can change it: time.tzset), the previous zone restored after."""
    if not isinstance(data, FarZone) or not hasattr(time, "tzset"):
        yield
        return
    previous = os.environ.get("TZ")
    os.environ["TZ"] = _FAR_ZONE
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = previous
        time.tzset()


def _gold_scenarios() -> list[Scenario]:
    story, seed, day = _SOURCES[0]
    out = [Scenario(f"the silver of {story} after {day}", CourseDay(seed, day), 10**6)]
    for seed in range(2):
        rng = random.Random(120 + seed)
        day = f"2025-03-{rng.randint(10, 27)}"
        c1 = (rng.randint(1, 99), rng.choice(FIRST_NAMES), rng.choice(CITIES), f"{day}T08:00:00Z")
        c2 = (c1[0] + 1, rng.choice(FIRST_NAMES), c1[2], c1[3])
        c3 = (c1[0] + 2, rng.choice(FIRST_NAMES), rng.choice([c for c in CITIES if c != c1[2]]),
              c1[3])
        cents = rng.randint(100, 9999)

        def order(customer: tuple, amount: int, at: str, n: int, seed: int = seed) -> tuple:
            return (900 + 10 * seed + n, customer[0], amount, at)

        out += [
            Scenario("an empty silver", ([], []), 0),
            Scenario(f"one order in {c1[2]}", ([c1], [order(c1, cents, f"{day}T09:00:00Z", 1)]), 2),
            Scenario(f"two orders in {c1[2]} on {day}, at 09:00 and at 17:30",
                     ([c1], [order(c1, cents, f"{day}T09:00:00Z", 1),
                             order(c1, cents + 1, f"{day}T17:30:00Z", 2)]), 3),
            Scenario(f"two orders of the same {cents} cents in {c1[2]} on {day}",
                     ([c1], [order(c1, cents, f"{day}T09:00:00Z", 1),
                             order(c1, cents, f"{day}T10:00:00Z", 2)]), 3),
            Scenario("orders at 23:59:59 and at 00:00:00 the next day (UTC), on a machine "
                     f"whose clock runs in {_FAR_ZONE}",
                     FarZone(([c1], [order(c1, cents, f"{day}T23:59:59Z", 1),
                                     order(c1, cents,
                                           f"2025-03-{int(day[-2:]) + 1:02d}T00:00:00Z", 2)])),
                     3),
            Scenario("an order whose customer is not in silver (an orphan) and a known one",
                     ([c1], [order(c1, cents, f"{day}T09:00:00Z", 1),
                             order((c1[0] + 500,), 4000, f"{day}T09:30:00Z", 2)]), 3),
            Scenario(f"two customers of {c1[2]} ordering on the same day, one of {c3[2]}",
                     ([c1, c2, c3], [order(c1, cents, f"{day}T09:00:00Z", 1),
                                     order(c2, 250, f"{day}T11:00:00Z", 2),
                                     order(c3, 999, f"{day}T12:00:00Z", 3)]), 6),
        ]
    out.append(Scenario("cities beyond ASCII", (
        [(1, "Zoë", UNICODE_CITIES[0], "2025-03-01T08:00:00Z"),
         (2, "Ümit", UNICODE_CITIES[1], "2025-03-01T08:00:00Z")],
        [(1, 1, 1999, "2025-03-02T08:00:00Z"), (2, 2, 2500, "2025-03-02T09:00:00Z"),
         (3, 1, 700, "2025-03-03T08:00:00Z")]), 5))
    return out


def _run_gold(sql: object, scenario: Scenario) -> tuple[str, object]:
    with _local_zone(scenario.data):
        result = run_query(silver_conn(*_silver_rows(scenario.data)), sql)
    rows = result.by_name(GOLD_COLUMNS)
    return ("columns", result.columns) if rows is None else ("rows", sorted_rows(rows))


def _gold_model(scenario: Scenario) -> tuple[str, list[tuple]]:
    customers, orders = _silver_rows(scenario.data)
    city = {c[0]: c[2] for c in customers}
    groups: dict[tuple, list[int]] = {}
    for order in orders:
        if order[1] in city:
            groups.setdefault((city[order[1]], order[3][:10]), []).append(order[2])
    return ("rows", sorted_rows((*k, len(v), sum(v)) for k, v in groups.items()))


GOLD = Judge(Model(_gold_model), _gold_scenarios, _run_gold)


def _gold_verdict(answer: object) -> tuple[str, str] | None:
    """What is wrong with a gold SQL answer (message, hint), or None."""
    if isinstance(answer, str):
        conn = _open(_before_checks(*_SOURCES[0][1:], False)[0])
        gold_read = sorted(t for t in tables_read(conn, answer) if not t.startswith("silver_"))
        if gold_read:
            return (f"it reads {', '.join(gold_read)}: the library's gold, which is what this "
                    "SQL is compared with. Your gold is built from silver.",
                    "Only silver_orders and silver_customers.")
    diff = GOLD.difference(answer)
    if diff is None:
        return None
    return _describe_gold(diff)


def _describe_gold(diff: Difference) -> tuple[str, str]:
    story = diff.scenario.story
    problem = query_problem(diff, error_hint="The tables are silver_orders and silver_customers.",
                            columns_said=f": the served table reads {', '.join(GOLD_COLUMNS)} "
                            "by name.", columns_hint="Name each column with AS.")
    if problem:
        return problem
    yours = diff.yours.value[1]
    want = diff.expected.value[1]
    if any(r[0] is None for r in yours):
        return (f"with {story}, orders without a customer become a city NULL: the served table "
                "refuses it (NOT NULL), so gold fails every day.",
                "Which join keeps only orders whose customer is known?")
    missing = [w for w in want if w not in yours]
    extra = [r for r in yours if r not in want]
    if missing:
        alike = ([r for r in yours if r[:2] == missing[0][:2]]
                 or [r for r in yours if r[0] == missing[0][0]])
        return (f"with {story}, gold should hold {show_rows(missing[:1])}"
                + (f"; yours has {show_rows(alike[:1])}" if alike else "; yours has no such row")
                + f" ({len(yours)} rows, {len(want)} expected): the dashboard publishes the "
                "wrong revenue.", "One row per city and calendar day (the date part of "
                "ordered_at), every order counted, revenue in cents.")
    return (f"with {story}, gold has {show_rows(extra[:2])} too many.",
            "One row per city and calendar day (the date part of ordered_at).")


def _gold_query_verdict(answer: object) -> Verdict:
    """The verdict of :func:`check_gold_sql` (prose, kept out of a ``*_sql`` function)."""
    name = "Your gold SQL"
    problem = _gold_verdict(answer)
    if problem is None:
        return Verdict(name, True, "the same city-day revenue as a correct mart on "
                       f"{len(GOLD.scenarios)} silvers, the capstone's source included.")
    return Verdict(name, False, *problem)


@register(answer_name="gold_sql", stub=GOLD_SQL_STUB, solution_file="06_a_gold_sql.py")
def check_gold_sql(answer: object) -> Verdict:
    """Write the gold SQL: revenue per city and day from the silver tables."""
    return _gold_query_verdict(answer)
