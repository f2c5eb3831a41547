"""Notebook 06's checks suite that guards gold, judged the way the capstone's ``checks`` task runs
it: on the warehouse of a capstone day just before that task (built in
:mod:`course_etl.classroom.exercises.gold`), normal days must pass and faulty ones be blocked (a
short orders feed, gold not refreshed for the day, a gold city no customer lives in), on two
sources with the fault on different days."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from course_etl.capstone import STORY_DAY, checks
from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises.differential import Judge, Model, Scenario
from course_etl.classroom.exercises.gold import _SOURCES, _before_checks, _open
from course_etl.db import quote_identifier
from course_etl.medallion.gold import CITY_DAILY_REVENUE
from course_etl.monitoring.checks import CheckFailedError

__all__ = ["SUITE_STUB"]

#: The lecture-style suite a first try looks like: one row count, nothing about the data's shape.
SUITE_STUB = {CITY_DAILY_REVENUE: [{"check": "row_count_between", "min_rows": 1,
                                    "blocking": True}]}

# --- 2. the checks suite --------------------------------------------------------------------

def _stale(conn: sqlite3.Connection, day: date) -> None:
    conn.execute(f"DELETE FROM {quote_identifier(CITY_DAILY_REVENUE)} "
                 f"WHERE {quote_identifier('day')} = ?", (day.isoformat(),))


def _atlantis(conn: sqlite3.Connection, day: date) -> None:
    columns_sql = ", ".join(map(quote_identifier, ("city", "day", "n_orders", "revenue_cents")))
    conn.execute(f"INSERT INTO {quote_identifier(CITY_DAILY_REVENUE)} ({columns_sql}) "
                 "VALUES ('Atlantis', ?, 1, 100)", (day.isoformat(),))


_FAULTS = {"normal": ("a normal day", None, False),
           "short_feed": ("the orders API sent only 5 orders", None, True),
           "stale": ("gold not refreshed (the day's rows missing)", _stale, True),
           "atlantis": ("a gold row for a city no customer lives in ('Atlantis')", _atlantis, True)}


def _suite_scenarios() -> list[Scenario]:
    out = []
    for number, (story, seed, day) in enumerate(_SOURCES):
        for kind, (fault, _, _blocks) in _FAULTS.items():
            out.append(Scenario(f"{story}, {day}: {fault}", (seed, day, kind), 10 * number +
                                (0 if kind == "normal" else 1)))
        early = STORY_DAY + timedelta(days=1 + number)
        out.append(Scenario(f"{story}, {early}: a normal day with little history", (seed, early,
                                                                                    "normal"), 0))
    return out


def _run_suite(suite: object, scenario: Scenario) -> str:
    if not isinstance(suite, dict) or not suite:
        raise TypeError(f"expected a suite (table → list of checks), got {suite!r}")
    seed, day, kind = scenario.data
    state, context = _before_checks(seed, day, kind == "short_feed")
    conn = _open(state)
    damage = _FAULTS[kind][1]
    if damage is not None:
        damage(conn, day)
    try:
        checks(conn, suite=suite, context=context)
    except CheckFailedError:
        return "blocked"
    return "passed"


def _suite_model(scenario: Scenario) -> str:
    return "blocked" if _FAULTS[scenario.data[2]][2] else "passed"


SUITE = Judge(Model(_suite_model), _suite_scenarios, _run_suite)


@register(answer_name="gold_suite", stub=SUITE_STUB, solution_file="06_b_gold_suite.py")
def check_gold_suite(answer: object) -> Verdict:
    """Write the checks suite that guards gold: bad days blocked, good days published."""
    name = "Your checks suite"
    diff = SUITE.difference(answer)
    if diff is None:
        return Verdict(name, True, "normal days pass; the short feed, a gold table not refreshed "
                       "and a gold city no customer has are blocked, on both sources.")
    story = diff.scenario.story
    if diff.yours.raised:
        error = diff.yours.error.split(": ", 1)[-1]
        return Verdict(name, False, f"the suite cannot run ({story}): {error}",
                       "Each check is a dict with 'check', its fields and 'blocking'; the "
                       "tables are silver's and gold's.")
    if diff.yours.value == "blocked":
        return Verdict(name, False, f"with {story}, the suite blocks the day: nothing would ever "
                       "be published.", "Keep only checks that hold on a good day.")
    kind = diff.scenario.data[2]
    return Verdict(name, False, f"with {story}, the suite lets it through to the report.",
                   "Which check compares today's orders with the days before? It must be "
                   "blocking." if kind == "short_feed" else "Which checks compare gold with "
                   "time and with silver, and do they block?")

