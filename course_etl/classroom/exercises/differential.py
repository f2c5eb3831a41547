"""Differential checking: judge an answer by what it does, beside a reference, on unseen data.

A check runs the student's answer and the exercise's reference on the same scenarios (the lecture's
data first, then generated ones, seeded so a verdict is always the same) and compares what matters:
resulting tables, returned values, side effects, raised errors. The verdict names the *smallest*
scenario on which the two differ, told in the course's voice ("with two rows stamped 10:00, …"),
as PrairieLearn's randomized questions and hypothesis' shrinking do: the student cannot tune an
answer to the one example shown, and the counter-example is as small as it gets.

Each exercise brings three things: its scenarios (``Scenario``: a story, the data, a size), a
``run(answer, scenario)`` that returns a comparable observation (plain values: lists of row
tuples, numbers, strings), and, optionally, ``same`` when equality of observations is not the
right comparison.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from course_etl.db import quote_identifier

__all__ = ["Scenario", "Outcome", "Difference", "observe", "first_difference", "table_rows"]


@dataclass(frozen=True)
class Scenario:
    """One situation an answer must handle. ``story`` says it in the course's voice ("two rows
    share the watermark's timestamp"); ``size`` orders scenarios, smallest first, so the verdict
    names the simplest one that tells the answers apart."""

    story: str
    data: object
    size: int = 0


@dataclass(frozen=True)
class Outcome:
    """What running an answer on a scenario gave: an observation, or the error it raised
    (``"ZeroDivisionError: division by zero"``)."""

    value: object = None
    error: str | None = None

    @property
    def raised(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Difference:
    """The smallest scenario where the answer and the reference disagree, and what each gave."""

    scenario: Scenario
    yours: Outcome
    expected: Outcome


def observe(run: Callable[[object, Scenario], object], answer: object,
            scenario: Scenario) -> Outcome:
    """Run ``answer`` on ``scenario`` through ``run``; an exception becomes part of the outcome
    (a student's answer may raise anything: that is a behaviour to compare, not a crash)."""
    try:
        return Outcome(value=run(answer, scenario))
    except Exception as exc:  # noqa: BLE001 - any error an answer raises is an observation
        return Outcome(error=f"{type(exc).__name__}: {exc}")


def _same_outcome(yours: Outcome, expected: Outcome) -> bool:
    if yours.raised or expected.raised:  # both refused: the same behaviour, whatever the words
        return yours.raised and expected.raised
    return yours.value == expected.value


def first_difference(
    answer: object, reference: object, scenarios: Iterable[Scenario],
    run: Callable[[object, Scenario], object], *,
    same: Callable[[Outcome, Outcome], bool] = _same_outcome,
) -> Difference | None:
    """The smallest scenario (by ``size``, then given order) on which ``answer`` and
    ``reference`` behave differently, or None when they agree on every one."""
    for scenario in sorted(scenarios, key=lambda s: s.size):
        yours, expected = observe(run, answer, scenario), observe(run, reference, scenario)
        if not same(yours, expected):
            return Difference(scenario, yours, expected)
    return None


def table_rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    """Every row and column of ``table``, sorted: the comparable form of a resulting table.
    Values sort by their SQLite type first, so mixed columns compare without errors."""
    rows = conn.execute(f"SELECT * FROM {quote_identifier(table)}").fetchall()
    return sorted(rows, key=lambda row: [(type(v).__name__, v) if v is not None else ("", 0)
                                         for v in row])
