"""Differential checking: judge an answer by what it does, beside a reference, on unseen data.

A check runs the student's answer and the exercise's reference on the same scenarios (the lecture's
data, then generated ones, seeded so a verdict is always the same) and compares what matters:
resulting tables, returned values, side effects, raised errors. The verdict names the *smallest*
scenario on which the two differ, told in the course's voice ("with two rows stamped 10:00, …"),
as PrairieLearn's randomized questions and hypothesis' shrinking do: the student cannot tune an
answer to the one example shown, and the counter-example is as small as it gets.

Each exercise brings its scenarios (``Scenario``: a story, the data, a size), a
``run(answer, scenario)`` that returns a comparable observation (plain values: lists of row
tuples, numbers, strings) and, optionally, ``same`` when equality of observations is not the
right comparison. The reference is an answer like the student's, or a :class:`Model`: plain
Python over the scenario's data, independent of the SQL a solution file shows. A :class:`Judge`
holds the three and computes the reference's outcomes once per kernel.

The SQL helpers run a student's statement the way a notebook cell would (:func:`run_query`), list
the tables it reads (:func:`tables_read`, through SQLite's authorizer, so aliases and sub-queries
cannot hide one) and print rows as a message shows them (:func:`show_rows`).
"""

from __future__ import annotations

import inspect
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from course_etl.db import quote_identifier
from course_etl.errors import CourseEtlError, checked

__all__ = ["Scenario", "Outcome", "Difference", "Model", "Judge", "observe", "describe_error",
           "function_problem", "first_difference", "same_outcome", "table_rows", "SqlResult",
           "run_query", "tables_read", "show_rows", "show_value", "safe_repr", "letter_of",
           "sorted_rows"]


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


@dataclass(frozen=True)
class Model:
    """A reference written as plain Python: ``compute(scenario)`` is the observation a right
    answer gives. Independent of any solution's SQL, so the solution is checked against it too."""

    compute: Callable[[Scenario], object]


def observe(run: Callable[[object, Scenario], object], answer: object,
            scenario: Scenario) -> Outcome:
    """Run ``answer`` on ``scenario`` through ``run`` (a :class:`Model` computes instead); an
    exception becomes part of the outcome (a student's answer may raise anything: that is a
    behaviour to compare, not a crash). So do ``SystemExit``, ``KeyboardInterrupt``,
    ``GeneratorExit`` and a run out of time (:class:`~._budget.AnswerTimeout`): in a notebook
    they would end the cell without a verdict, or the kernel."""
    try:
        if isinstance(answer, Model):
            return Outcome(value=answer.compute(scenario))
        return Outcome(value=run(answer, scenario))
    except BaseException as exc:  # noqa: BLE001 - whatever an answer raises is an observation
        return Outcome(error=describe_error(exc))


def function_problem(answer: object) -> str | None:
    """Why ``answer`` cannot be called like a plain function that does its work when called
    (async def and generators return an object and run nothing), or None."""
    if inspect.iscoroutinefunction(answer):
        return ("it is an async def: calling it returns a coroutine and runs none of its "
                "body, so nothing is loaded")
    if inspect.isgeneratorfunction(answer):
        return ("it is a generator (it uses yield): calling it returns a generator and runs "
                "none of its body until something iterates over it")
    return None


def describe_error(error: BaseException) -> str:
    """``"ValueError: bad"``, safe for errors whose message itself fails to print."""
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - a student's exception class may break __str__
        text = "(its message cannot be printed)"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def same_outcome(yours: Outcome, expected: Outcome) -> bool:
    """Equal observations, or both raised (the same behaviour, whatever the words)."""
    if yours.raised or expected.raised:
        return yours.raised and expected.raised
    return yours.value == expected.value


_same_outcome = same_outcome  # the name the first version of this module used


def first_difference(
    answer: object, reference: object, scenarios: Iterable[Scenario],
    run: Callable[[object, Scenario], object], *,
    same: Callable[[Outcome, Outcome], bool] = same_outcome,
) -> Difference | None:
    """The smallest scenario (by ``size``, then given order) on which ``answer`` and
    ``reference`` behave differently, or None when they agree on every one."""
    for scenario in sorted(scenarios, key=lambda s: s.size):
        yours, expected = observe(run, answer, scenario), observe(run, reference, scenario)
        if not same(yours, expected):
            return Difference(scenario, yours, expected)
    return None


class Judge:
    """An exercise's reference, scenarios and comparison. The scenarios are generated on first
    use and the reference's outcome on each scenario the first time a verdict reaches it, then
    kept for the kernel's life: a wrong answer told apart on a small scenario costs only what it
    takes to get there. ``scenarios`` is a function so importing a module generates nothing."""

    def __init__(self, reference: object, scenarios: Callable[[], Iterable[Scenario]],
                 run: Callable[[object, Scenario], object], *,
                 same: Callable[[Outcome, Outcome], bool] = same_outcome):
        self.reference, self._make_scenarios, self.run, self.same = (
            reference, scenarios, run, same)
        self._expected: dict[int, Outcome] = {}

    @cached_property
    def scenarios(self) -> list[Scenario]:
        return sorted(self._make_scenarios(), key=lambda s: s.size)

    def expected_on(self, index: int) -> Outcome:
        """The reference's outcome on scenario ``index`` (computed once)."""
        if index not in self._expected:
            self._expected[index] = observe(self.run, self.reference, self.scenarios[index])
        return self._expected[index]

    @property
    def expected(self) -> list[Outcome]:
        """The reference's outcome on every scenario."""
        return [self.expected_on(i) for i in range(len(self.scenarios))]

    def forget(self) -> None:
        """Drop the scenarios and outcomes (a benchmark's cold start)."""
        self.__dict__.pop("scenarios", None)
        self._expected.clear()

    def difference(self, answer: object) -> Difference | None:
        """The smallest scenario where ``answer`` and the reference disagree, or None."""
        for index, scenario in enumerate(self.scenarios):
            yours = observe(self.run, answer, scenario)
            expected = self.expected_on(index)
            if not self.same(yours, expected):
                return Difference(scenario, yours, expected)
        return None


@checked
def table_rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    """Every row and column of ``table``, sorted: the comparable form of a resulting table.
    Values sort by their SQLite type first, so mixed columns compare without errors."""
    rows = conn.execute(f"SELECT * FROM {quote_identifier(table)}").fetchall()
    return sorted_rows(rows)


def _sort_key(row: Sequence) -> list:
    return [("", 0) if v is None else (type(v).__name__, v) for v in row]


@checked
def sorted_rows(rows: Iterable[Sequence]) -> list[tuple]:
    """Rows as tuples in a stable order (NULLs first, values grouped by type): a multiset."""
    return sorted((tuple(r) for r in rows), key=_sort_key)


# --- SQL answers --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SqlResult:
    """What one statement gave: its column names and rows (as tuples, in the order returned)."""

    columns: tuple[str, ...]
    rows: list[tuple]

    def by_name(self, wanted: Sequence[str]) -> list[tuple] | None:
        """The rows with their columns in ``wanted``'s order, or None when the statement's
        columns are not exactly those names (a consumer that reads by name, such as
        ``CREATE TABLE … AS`` or ``INSERT … SELECT name, …``, would break)."""
        if sorted(self.columns) != sorted(wanted) or len(set(self.columns)) != len(wanted):
            return None
        index = [self.columns.index(name) for name in wanted]
        return [tuple(row[i] for i in index) for row in self.rows]


#: How long one statement of an answer may run on a scenario (they hold a few rows).
SECONDS_PER_STATEMENT = 2


class AnswerShapeError(CourseEtlError, TypeError):
    """The answer is not the kind of thing the exercise takes (e.g. not SQL text); ``.value``
    is what was given."""


def run_query(conn: sqlite3.Connection, sql: object, params: dict | None = None) -> SqlResult:
    """Run one statement of a student's SQL with named parameters; its columns and rows.

    Raises AnswerShapeError when ``sql`` is not text, sqlite3.Error as SQLite does (more than
    one statement included)."""
    if not isinstance(sql, str):
        raise AnswerShapeError(_not_text(sql), value=sql)
    deadline = time.monotonic() + SECONDS_PER_STATEMENT
    # A runaway statement (a recursive CTE without end, a join of everything with everything)
    # is stopped, and judged like any error, instead of hanging the student's kernel.
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        cursor = conn.execute(sql, params or {})
        rows = [tuple(r) for r in cursor.fetchall()]
    except sqlite3.OperationalError as error:
        if str(error) == "interrupted":
            raise sqlite3.OperationalError(
                f"stopped after {SECONDS_PER_STATEMENT} s on a few rows: the statement does "
                "not finish") from None
        raise
    finally:
        conn.set_progress_handler(None, 0)
    columns = tuple(d[0] for d in cursor.description or ())
    return SqlResult(columns, rows)


def _not_text(answer: object) -> str:
    return f"expected SQL as text (a str), got {type(answer).__name__}"


def tables_read(conn: sqlite3.Connection, sql: object, params: dict | None = None) -> set[str]:
    """The tables (and views) ``sql`` reads, as SQLite's authorizer reports them while it
    prepares the statement; nothing is executed. An unparsable statement reads nothing."""
    if not isinstance(sql, str):
        return set()
    seen: set[str] = set()

    def authorize(action: int, arg1, arg2, _db, _trigger) -> int:
        if action == sqlite3.SQLITE_READ and arg1 and not arg1.startswith("sqlite_"):
            seen.add(arg1)
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorize)
    try:
        # EXPLAIN prepares the statement (the authorizer runs) without executing it.
        conn.execute("EXPLAIN " + sql, params or {}).fetchall()
    except sqlite3.Error:
        pass
    finally:
        conn.set_authorizer(None)
    return seen


def safe_repr(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters, for any value a student may hand in (one
    whose ``__repr__`` fails or never ends is named by its type)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's class may break __repr__
        return f"<a {type(value).__name__} that cannot be printed>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def letter_of(answer: object) -> object:
    """A quiz answer as its letter: ``'b'`` for ``'b'``, ``' B '``, ``'(b)'``, ``'b)'`` or
    ``'b.'`` (the notebooks print the choices as ``(b) …``); anything else as given."""
    if not isinstance(answer, str):
        return answer
    text = answer.strip().lower()
    match = re.fullmatch(r"\(?([a-z])[).]?", text)
    return match.group(1) if match else text


def show_value(value: object) -> str:
    """A value as a message shows it: text quoted, NULL as NULL, floats short."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:g}"
    return safe_repr(value)


@checked
def show_rows(rows: Sequence[Sequence], limit: int = 4) -> str:
    """Rows as a message shows them: ``(3, 'Chloe', 'Aurora')``, a few, then how many more."""
    shown = ", ".join("(" + ", ".join(show_value(v) for v in row) + ")" for row in rows[:limit])
    more = len(rows) - limit
    if not rows:
        return "no rows"
    return shown + (f" and {more} more" if more > 0 else "")
