"""What every data check returns, and the input validation every check shares.

A check returns a :class:`CheckResult` (name, status ``pass``/``warn``/``fail``, observed,
expected, message), the shape Great Expectations, Soda and Dagster asset checks share; a suite
returns a :class:`SuiteReport`. A blocking check that failed raises :class:`CheckFailedError`
(the task running the suite then ends ``failed``, at once: waiting does not change the data).
Bad configuration raises :class:`CheckConfigError` naming the check and the field, through the
small validators here.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta

import pandas as pd

from course_etl.db import TableRef, resolve_table
from course_etl.errors import CourseEtlError, checked

__all__ = [
    "CHECK_STATUSES",
    "CheckConfigError",
    "CheckFailedError",
    "CheckResult",
    "SuiteReport",
    "parse_period",
    "readable",
]

CHECK_STATUSES = ("pass", "warn", "fail")
_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class CheckConfigError(CourseEtlError):
    """A check was declared or called with bad input (unknown field, wrong type or sign).

    Every site sets ``.check`` (the check's name; None for a suite that is not a mapping),
    ``.table`` (None where no table is concerned) and ``.option`` (the field; None where the
    whole declaration is wrong) with ``.value`` (what it was given); per situation ``.known``
    (the valid choices), ``.expected`` (the bound a value breaks), ``.unexpected`` or
    ``.missing`` (fields), ``.cause`` (the error a bad table quotes). Raised for a suite's entry
    it also has ``.position``: the check's place in its table's list, from 1."""


class CheckFailedError(CourseEtlError):
    """A blocking check failed: the data must not go further. ``.failed`` holds the failed
    blocking :class:`CheckResult` objects. Not retried: a retry fixes a flaky task, not bad
    data (:func:`course_etl.retries.fails_fast`)."""


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one table (or metric)."""

    name: str
    status: str
    observed: object
    expected: object
    message: str
    table: str | None = None
    blocking: bool = False

    def __post_init__(self) -> None:
        if self.status not in CHECK_STATUSES:
            raise CheckConfigError(f"check {self.name!r}: status must be one of "
                                   f"{', '.join(CHECK_STATUSES)}, not {self.status!r}",
                                   check=self.name, table=self.table, option="status",
                                   value=self.status, known=CHECK_STATUSES)

    @property
    def blocks(self) -> bool:
        """True when this result must stop publication (a blocking check that failed)."""
        return self.blocking and self.status == "fail"


@dataclass(frozen=True)
class SuiteReport:
    """The results of a suite run, and whether a blocking check held the data back."""

    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def blocked(self) -> bool:
        return any(r.blocks for r in self.results)

    @property
    def status(self) -> str:
        """The worst status of all results ('pass' for an empty suite)."""
        statuses = {r.status for r in self.results}
        return next((s for s in ("fail", "warn") if s in statuses), "pass")

    def failures(self, *, blocking_only: bool = False) -> list[CheckResult]:
        return [r for r in self.results
                if r.status == "fail" and (r.blocking or not blocking_only)]

    def frame(self) -> pd.DataFrame:
        """One row per result, for display: measured numbers rounded for reading."""
        columns = ["table", "name", "status", "blocking", "observed", "expected", "message"]
        rows = [asdict(r) | {"observed": readable(r.observed)} for r in self.results]
        return pd.DataFrame(rows, columns=columns)

    def raise_if_blocked(self) -> None:
        """Raise CheckFailedError naming every failed blocking check."""
        blockers = [r for r in self.results if r.blocks]
        if blockers:  # "check x failed": the check first, then why, then what it means
            raise CheckFailedError(f"{_blocked_text(blockers)}; data not published",
                                   failed=blockers)


def _blocked_text(blockers: list[CheckResult]) -> str:
    checks = "blocking check" if len(blockers) == 1 else "blocking checks"
    return f"{checks} " + "; ".join(f"{r.table}.{r.name} failed: {r.message}" for r in blockers)


@checked
def readable(value: object) -> object:
    """A measured number as a person reads it: whole numbers as they are, others to one
    decimal (26.288994 s → 26.3); anything else unchanged."""
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return round(value, 1)
    return value


# --- input validation: every message names the check and the field ---------------------------

def _fail_config(check: str, table: str | None, message: str, *, option: str | None,
                 value: object = None, **facts: object) -> CheckConfigError:
    where = f"{check} check on {table!r}" if table else f"{check} check"
    return CheckConfigError(f"{where}: {message}", check=check, table=table, option=option,
                            value=value, **facts)


def _suite_error(table: str, number: int, name: str | None, problem: str, /,
                 **facts: object) -> CheckConfigError:
    """A problem of a suite's entry, said of its place: ``suite for 'dw', check #2 (not_null): …``,
    with the entry's table, position and check among its facts."""
    where = f"suite for {table!r}, check #{number}" + (f" ({name})" if name else "")
    return CheckConfigError(f"{where}: {problem}",
                            **facts | {"check": name, "table": table, "position": number})


def _in_suite(error: CheckConfigError, table: str, number: int, name: str
              ) -> CheckConfigError:
    """``error`` of one check, said of its entry in the suite (its facts kept)."""
    facts = {k: v for k, v in vars(error).items() if not k.startswith("__")}
    return _suite_error(table, number, name, str(error), **facts)


def _table(conn: sqlite3.Connection, table: object, check: str) -> TableRef:
    try:
        return resolve_table(conn, table, role="table")
    except CourseEtlError as error:
        raise _fail_config(check, None, f"field 'table': {error}", option="table", value=table,
                           cause=error) from None


def _column(ref: TableRef, column: object, check: str, field_name: str) -> str:
    if not isinstance(column, str) or column not in ref.columns:
        raise _fail_config(
            check, ref.label, f"field {field_name!r}: unknown column {column!r} "
            f"(columns: {', '.join(ref.columns)})", option=field_name, value=column,
            known=ref.columns)
    return column


def _count(value: object, check: str, table: str | None, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail_config(check, table, f"field {field_name!r} must be an int >= 0, "
                           f"not {value!r}", option=field_name, value=value)
    return value


def _positive_number(value: object, check: str, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise _fail_config(check, None, f"field {field_name!r} must be a number > 0, "
                           f"not {value!r}", option=field_name, value=value)
    return float(value)


@checked
def parse_period(value: object, *, check: str = "freshness", field_name: str = "warn_after"
                 ) -> timedelta:
    """A dbt-style period (``{"count": 12, "period": "hour"}``) or a timedelta, as a timedelta.

    Raises CheckConfigError naming ``check`` and ``field_name`` for anything else, zero or less.
    """
    example = "{'count': 12, 'period': 'hour'} or a timedelta"
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise _fail_config(check, None, f"field {field_name!r} must be positive, "
                                            f"not {value!r}", option=field_name, value=value)
        return value
    if isinstance(value, Mapping) and set(value) == {"count", "period"}:
        count, period = value["count"], value["period"]
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise _fail_config(check, None, f"field {field_name!r}: 'count' must be an int > 0, "
                                            f"not {count!r}", option=field_name, value=value)
        if period not in _PERIODS:
            raise _fail_config(check, None, f"field {field_name!r}: 'period' must be one of "
                                            f"{', '.join(_PERIODS)}, not {period!r}",
                                            option=field_name, value=value, known=list(_PERIODS))
        return count * _PERIODS[period]
    raise _fail_config(check, None, f"field {field_name!r} must be {example}, not {value!r}",
                       option=field_name, value=value)


def _count_rows(conn: sqlite3.Connection, ref: TableRef) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {ref.sql}").fetchone()[0]


