"""Data checks: small functions that look at a table (or a run metric) and return a verdict.

Each check returns a :class:`CheckResult` (name, status ``pass``/``warn``/``fail``, observed,
expected, message), the shape Great Expectations, Soda and Dagster asset checks share. There is the
lecture's row count that must not drop, row count within bounds, dbt-style freshness with
``warn_after``/``error_after``, not-null, unique key, referential integrity, and two anomaly
checks (volume and duration) that compare today's number with the run history by a robust z-score
(median and MAD), judged only once enough history exists. Checks are declared per table as plain
dicts (YAML-ready) and run with :func:`run_suite`; a failing **blocking** check sets the report's
``blocked`` flag and ``raise_if_blocked()`` raises :class:`CheckFailedError`, which fails the task
that ran the suite, so bad data is never published. Bad configuration
raises :class:`CheckConfigError` naming the check and the field; an unexpected error while a check
runs becomes a failed result, so checks never crash the pipeline's run log.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from course_etl.db import quote_identifier, resolve_table
from course_etl.errors import CourseEtlError
from course_etl.monitoring.anomalies import (
    MAD_SCALE,
    duration_anomaly,
    robust_z_score,
    volume_anomaly,
)
from course_etl.monitoring.check_results import (
    CHECK_STATUSES,
    CheckConfigError,
    CheckFailedError,
    CheckResult,
    SuiteReport,
    _column,
    _count,
    _count_rows,
    _fail_config,
    _in_suite,
    _suite_error,
    _table,
    parse_period,
)

__all__ = [
    "CHECK_STATUSES",
    "CheckConfigError",
    "CheckFailedError",
    "CheckResult",
    "SuiteReport",
    "CHECKS",
    "row_count_non_decreasing",
    "row_count_between",
    "freshness",
    "not_null",
    "unique_key",
    "referential_integrity",
    "volume_anomaly",
    "duration_anomaly",
    "robust_z_score",
    "MAD_SCALE",
    "parse_period",
    "validate_suite",
    "run_suite",
]

# --- table checks -----------------------------------------------------------------------------

def row_count_non_decreasing(
    conn: sqlite3.Connection, table: str, *, previous: int
) -> CheckResult:
    """The lecture's check: the table has at least as many rows as before the load."""
    ref = _table(conn, table, "row_count_non_decreasing")
    previous = _count(previous, "row_count_non_decreasing", ref.label, "previous")
    after = _count_rows(conn, ref)
    if after < previous:
        status, message = "fail", f"row count dropped unexpectedly: {previous} -> {after}"
    else:
        status, message = "pass", f"row count non-decreasing: {previous} -> {after}"
    return CheckResult("row_count_non_decreasing", status, after, f">= {previous}", message,
                       ref.label)


def row_count_between(
    conn: sqlite3.Connection, table: str, *, min_rows: int | None = None,
    max_rows: int | None = None,
) -> CheckResult:
    """The row count lies within ``[min_rows, max_rows]`` (either bound may be left open)."""
    check = "row_count_between"
    ref = _table(conn, table, check)
    if min_rows is None and max_rows is None:
        raise _fail_config(check, ref.label, "give 'min_rows', 'max_rows' or both",
                           option=None, missing=["min_rows", "max_rows"])
    low = None if min_rows is None else _count(min_rows, check, ref.label, "min_rows")
    high = None if max_rows is None else _count(max_rows, check, ref.label, "max_rows")
    if low is not None and high is not None and low > high:
        raise _fail_config(check, ref.label,
                           f"field 'min_rows' ({low}) is greater than 'max_rows' ({high})",
                           option="min_rows", value=low, expected=f"<= {high}")
    n = _count_rows(conn, ref)
    expected = f"{'-inf' if low is None else low}..{'inf' if high is None else high}"
    inside = (low is None or n >= low) and (high is None or n <= high)
    message = f"{n} rows, expected {expected}" + ("" if inside else ": out of bounds")
    return CheckResult(check, "pass" if inside else "fail", n, expected, message, ref.label)


def _as_naive_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:  # compare in UTC, without zone, like the stored text
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)
    return moment


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes and not days else ""]
    return " ".join(p for p in parts if p) or "0m"


def freshness(
    conn: sqlite3.Connection, table: str, column: str, *, now: datetime | str,
    warn_after: object = None, error_after: object = None,
) -> CheckResult:
    """The newest ``column`` value is recent enough, dbt-style: warn, then error, after a period.

    ``now`` is passed in (the run's logical time), never read from the wall clock, so a replay
    judges a past run the way it was judged then.
    """
    check = "freshness"
    ref = _table(conn, table, check)
    _column(ref, column, check, "column")
    if warn_after is None and error_after is None:
        raise _fail_config(check, ref.label, "give 'warn_after', 'error_after' or both",
                           option=None, missing=["warn_after", "error_after"])
    warn = None if warn_after is None else parse_period(warn_after, field_name="warn_after")
    error = None if error_after is None else parse_period(error_after, field_name="error_after")
    if warn is not None and error is not None and warn > error:
        raise _fail_config(check, ref.label, "field 'warn_after' is longer than 'error_after': "
                                             "a warning must come first", option="warn_after",
                           value=warn_after, expected=f"<= {error}")
    moment_now = _as_naive_datetime(now)
    if moment_now is None:
        raise _fail_config(check, ref.label, f"field 'now' must be a datetime or ISO text, "
                                             f"not {now!r}", option="now", value=now)
    expected = ", ".join(p for p in (
        f"warn after {_human(warn)}" if warn else "", f"error after {_human(error)}" if error
        else "") if p)
    newest = conn.execute(f"SELECT MAX({quote_identifier(column)}) FROM {ref.sql}").fetchone()[0]
    if newest is None:
        return CheckResult(f"freshness({column})", "fail", None, expected,
                           f"no {column} values: the table is empty", ref.label)
    newest_moment = _as_naive_datetime(newest)
    if newest_moment is None:
        raise _fail_config(check, ref.label, f"field 'column': {column!r} holds {newest!r}, "
                                             "not a timestamp", option="column", value=newest,
                           column=column)
    age = max(moment_now - newest_moment, timedelta(0))
    if error is not None and age > error:
        status = "fail"
    elif warn is not None and age > warn:
        status = "warn"
    else:
        status = "pass"
    message = f"newest {column} is {newest} ({_human(age)} old)"
    return CheckResult(f"freshness({column})", status, _human(age), expected, message, ref.label)


def not_null(conn: sqlite3.Connection, table: str, column: str) -> CheckResult:
    """No row has NULL in ``column``."""
    ref = _table(conn, table, "not_null")
    _column(ref, column, "not_null", "column")
    nulls = conn.execute(
        f"SELECT COUNT(*) FROM {ref.sql} WHERE {quote_identifier(column)} IS NULL").fetchone()[0]
    message = f"{nulls} row(s) with NULL {column}" if nulls else f"no NULL {column}"
    return CheckResult(f"not_null({column})", "fail" if nulls else "pass", nulls, 0, message,
                       ref.label)


def unique_key(conn: sqlite3.Connection, table: str, key: str | Sequence[str]) -> CheckResult:
    """No two rows share a value of ``key`` (one column or several)."""
    ref = _table(conn, table, "unique_key")
    columns = (key,) if isinstance(key, str) else tuple(key) if isinstance(key, Sequence) else ()
    if not columns:
        raise _fail_config("unique_key", ref.label,
                           f"field 'key' must be a column or a list of columns, not {key!r}",
                           option="key", value=key)
    for column in columns:
        _column(ref, column, "unique_key", "key")
    columns_sql = ", ".join(quote_identifier(c) for c in columns)
    duplicated, example = conn.execute(
        f"SELECT COUNT(*), MIN(example) FROM (SELECT {columns_sql}, "
        f"CAST({quote_identifier(columns[0])} AS TEXT) AS example FROM {ref.sql} "
        f"GROUP BY {columns_sql} HAVING COUNT(*) > 1)").fetchone()
    label = ", ".join(columns)
    name = f"unique_key({label})"
    if duplicated:
        return CheckResult(name, "fail", duplicated, 0,
                           f"{duplicated} {label} value(s) appear more than once "
                           f"(e.g. {columns[0]} = {example})", ref.label)
    return CheckResult(name, "pass", 0, 0, f"every {label} is unique", ref.label)


def referential_integrity(
    conn: sqlite3.Connection, table: str, column: str, *, parent: str,
    parent_column: str | None = None,
) -> CheckResult:
    """Every non-NULL ``column`` value exists in ``parent.parent_column`` (no orphans)."""
    check = "referential_integrity"
    ref = _table(conn, table, check)
    _column(ref, column, check, "column")
    try:
        parent_ref = resolve_table(conn, parent, role="parent table")
    except CourseEtlError as error:
        raise _fail_config(check, ref.label, f"field 'parent': {error}", option="parent",
                           value=parent, cause=error) from None
    parent_column = parent_column or column
    _column(parent_ref, parent_column, check, "parent_column")
    child_sql, parent_sql = quote_identifier(column), quote_identifier(parent_column)
    orphans = conn.execute(
        f"SELECT COUNT(*) FROM {ref.sql} AS c WHERE c.{child_sql} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {parent_ref.sql} AS p WHERE p.{parent_sql} = c.{child_sql})"
    ).fetchone()[0]
    target = f"{parent_ref.label}.{parent_column}"
    message = (f"{orphans} {column} value(s) missing from {target}" if orphans
               else f"every {column} exists in {target}")
    return CheckResult(f"referential_integrity({column})", "fail" if orphans else "pass",
                       orphans, 0, message, ref.label)


# --- suites -----------------------------------------------------------------------------------

CHECKS = {
    "row_count_non_decreasing": row_count_non_decreasing,
    "row_count_between": row_count_between,
    "freshness": freshness,
    "not_null": not_null,
    "unique_key": unique_key,
    "referential_integrity": referential_integrity,
    "volume_anomaly": volume_anomaly,
    "duration_anomaly": duration_anomaly,
}
# Fields a suite entry may carry besides the check's own options.
_ENTRY_FIELDS = {"check", "blocking", "severity"}
# Values supplied at run time, not in the declaration.
_RUNTIME_FIELDS = {"now", "previous", "observed", "history", "observed_seconds",
                   "history_seconds"}
_TABLE_LESS = {"volume_anomaly", "duration_anomaly"}


def _entries(suite: object) -> list[tuple[str, int, dict]]:
    if not isinstance(suite, Mapping):
        raise CheckConfigError(f"a suite must map table names to lists of checks, "
                               f"not {type(suite).__name__}", check=None, table=None,
                               option=None, value=suite)
    entries = []
    for table, checks in suite.items():
        if not isinstance(checks, Sequence) or isinstance(checks, str):
            raise CheckConfigError(f"suite for {table!r} must be a list of checks, "
                                   f"not {checks!r}", check=None, table=table, option=None,
                                   value=checks)
        for number, entry in enumerate(checks, 1):
            entries.append((table, number, entry))
    return entries


def _bind(table: str, number: int, entry: object) -> tuple[str, dict]:
    if not isinstance(entry, Mapping) or "check" not in entry:
        raise _suite_error(table, number, None, "each check is a dict with a 'check' field, "
                           f"not {entry!r}", option="check", value=entry)
    name = entry["check"]
    if name not in CHECKS:
        raise _suite_error(table, number, None, f"unknown check {name!r} (known: "
                           f"{', '.join(CHECKS)})", option="check", value=name,
                           known=list(CHECKS))
    parameters = inspect.signature(CHECKS[name]).parameters
    options = {k: v for k, v in entry.items() if k not in _ENTRY_FIELDS}
    allowed = set(parameters) - {"conn", "table"} - _RUNTIME_FIELDS
    if name in _TABLE_LESS:
        allowed |= {"metric"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise _suite_error(table, number, name, f"unknown field(s) {', '.join(unknown)} "
                           f"(allowed: {', '.join(sorted(allowed))})", option=None,
                           unexpected=unknown, known=sorted(allowed))
    required = [p.name for p in parameters.values() if p.default is inspect.Parameter.empty
                and p.name in allowed]
    missing = [p for p in required if p not in options]
    if missing:
        raise _suite_error(table, number, name, f"missing field(s) {', '.join(missing)}",
                           option=None, missing=missing)
    if not isinstance(entry.get("blocking", False), bool):
        raise _suite_error(table, number, name, "field 'blocking' must be true or false, "
                           f"not {entry['blocking']!r}", option="blocking",
                           value=entry["blocking"])
    if entry.get("severity", "error") not in ("warn", "error"):
        raise _suite_error(table, number, name, "field 'severity' must be 'warn' or 'error', "
                           f"not {entry['severity']!r}", option="severity",
                           value=entry["severity"], known=["warn", "error"])
    return name, options


def validate_suite(conn: sqlite3.Connection, suite: Mapping[str, Sequence[Mapping]]) -> None:
    """Check a suite's declaration before any check runs: names, fields, tables, columns.

    Raises CheckConfigError naming the table, the check and the field.
    """
    for table, number, entry in _entries(suite):
        name, options = _bind(table, number, entry)
        if name in _TABLE_LESS:
            continue
        try:
            ref = _table(conn, table, name)
            for field_name in ("column", "key"):
                if field_name in options:
                    values = options[field_name]
                    for column in [values] if isinstance(values, str) else values:
                        _column(ref, column, name, field_name)
        except CheckConfigError as error:
            raise _in_suite(error, table, number, name) from None


def run_suite(
    conn: sqlite3.Connection, suite: Mapping[str, Sequence[Mapping]], *,
    now: datetime | str | None = None, previous_row_counts: Mapping[str, int] | None = None,
    metrics: Mapping[str, tuple[float, Sequence[float]]] | None = None,
) -> SuiteReport:
    """Run every check of ``suite`` ({table: [check, …]}) and report, blocking ones marked.

    Run-time inputs: ``now`` for freshness, ``previous_row_counts[table]`` for
    row_count_non_decreasing, ``metrics[name] = (observed, history)`` for the anomaly checks
    (whose ``metric`` field names the entry). A check declared ``severity: warn`` reports a
    failure as a warning. The whole declaration is validated first (CheckConfigError); an
    unexpected error inside one check becomes a failed result naming it, and the others still run.
    """
    validate_suite(conn, suite)
    previous_row_counts = previous_row_counts or {}
    metrics = metrics or {}
    results = []
    for table, number, entry in _entries(suite):
        name, options = _bind(table, number, entry)
        blocking = bool(entry.get("blocking", False))
        try:
            result = _run_one(conn, table, name, options, now, previous_row_counts, metrics)
        except CheckConfigError as error:
            raise _in_suite(error, table, number, name) from None
        except Exception as error:  # noqa: BLE001 - a broken check must not stop the others
            result = CheckResult(name, "fail", None, None,
                                 f"check raised {type(error).__name__}: {error}", table)
        if entry.get("severity") == "warn" and result.status == "fail":
            result = CheckResult(result.name, "warn", result.observed, result.expected,
                                 result.message, result.table)
        results.append(CheckResult(result.name, result.status, result.observed,
                                   result.expected, result.message, table, blocking))
    return SuiteReport(tuple(results))


def _run_one(
    conn: sqlite3.Connection, table: str, name: str, options: dict, now: object,
    previous_row_counts: Mapping[str, int], metrics: Mapping[str, tuple],
) -> CheckResult:
    function = CHECKS[name]
    if name in _TABLE_LESS:
        metric = options.get("metric", "rows" if name == "volume_anomaly" else "seconds")
        if metric not in metrics:
            raise CheckConfigError(f"field 'metric': no run-time value for {metric!r} "
                                   f"(given: {', '.join(metrics) or 'none'})", check=name,
                                   table=None, option="metric", value=metric, known=list(metrics))
        observed, history = metrics[metric]
        return function(observed, history, **options)
    if name == "freshness":
        if now is None:
            raise CheckConfigError("field 'now': freshness needs the run's time", check=name,
                                   table=table, option="now", value=None)
        return function(conn, table, now=now, **options)
    if name == "row_count_non_decreasing":
        if table not in previous_row_counts:
            raise CheckConfigError(f"field 'previous': no earlier row count for {table!r}",
                                   check=name, table=table, option="previous", value=None,
                                   known=list(previous_row_counts))
        return function(conn, table, previous=previous_row_counts[table], **options)
    return function(conn, table, **options)
