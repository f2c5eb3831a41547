"""Exercises for notebook 03 (monitoring): write a freshness check, choose its thresholds, and
say why a volume check needs history. Each check runs the answer on fixed data and compares it
with :mod:`course_etl.monitoring.checks`, so the feedback is instant and the same on every run."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from course_etl.classroom.exercises import Verdict, register
from course_etl.db import quote_identifier
from course_etl.monitoring.checks import CheckConfigError, freshness

__all__ = [
    "FRESHNESS_CASES",
    "VOLUME_HISTORY_CHOICES",
    "check_freshness_function",
    "check_freshness_thresholds",
    "check_volume_history",
]

_NOW = datetime(2024, 10, 15, 2, 5)
# (description, newest value in the table or None for an empty table)
FRESHNESS_CASES = [
    ("loaded 2 hours ago", "2024-10-15 00:05:00"),
    ("loaded exactly 1 day ago", "2024-10-14 02:05:00"),
    ("loaded 30 hours ago", "2024-10-13 20:05:00"),
    ("a date-only value 2 days old", "2024-10-13"),
    ("loaded 80 hours ago", "2024-10-11 18:05:00"),
    ("an empty table", None),
]


# A second data set: another table and column, another "now", ISO values with a T.
_OTHER_NOW = datetime(2025, 3, 5, 12, 0)
OTHER_CASES = [
    ("an event 23 hours old", "2025-03-04T13:00:00"),
    ("an event 25 hours old", "2025-03-04T11:00:00"),
    ("an event just over 3 days old", "2025-03-02T11:59:00"),
    ("an event exactly 3 days old", "2025-03-02T12:00:00"),
]


def _table_with_newest(newest: str | None, table: str = "feed",
                       column: str = "updated_at") -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE {quote_identifier(table)} (id INTEGER, "
                 f"{quote_identifier(column)} TEXT)")
    if newest is not None:
        conn.executemany(f"INSERT INTO {quote_identifier(table)} VALUES (?, ?)",
                         [(1, "2024-10-01 00:00:00"), (2, newest), (3, "2024-09-30 00:00:00")])
    return conn


def _stub_freshness_status(conn, table, column, now):
    return "pass"


@register(answer_name="freshness_status", stub=_stub_freshness_status,
          solution_file="03_freshness_function.py")
def check_freshness_function(answer) -> Verdict:
    """Write a freshness check function.

    Answer: ``freshness_status(conn, table, column, now)`` returning 'pass', 'warn' or 'fail'
    for warn after 1 day and error after 3 days (strictly older than the threshold)."""
    name = "Write a freshness check"
    if not callable(answer):
        return Verdict(name, False, f"expected a function, got {type(answer).__name__}",
                       "define def freshness_status(conn, table, column, now): ...")
    cases = [(d, n, "feed", "updated_at", _NOW) for d, n in FRESHNESS_CASES]
    cases += [(d, n, "events", "seen_at", _OTHER_NOW) for d, n in OTHER_CASES]
    for description, newest, table, column, now in cases:
        conn = _table_with_newest(newest, table, column)
        expected = freshness(conn, table, column, now=now,
                             warn_after=timedelta(days=1), error_after=timedelta(days=3)).status
        try:
            got = answer(conn, table, column, now)
        except Exception as error:  # noqa: BLE001 - the student's code may raise anything
            return Verdict(name, False, f"{description} (table {table}.{column}): your function "
                                        f"raised {type(error).__name__}: {error}",
                           "Read the newest value of the column you are given and turn the "
                           "text into a datetime before comparing.")
        finally:
            conn.close()
        if got != expected:
            hint = ("What is the newest value of an empty table, and is that fresh?"
                    if newest is None else
                    "Measure the age from the `now` you are given (not the clock), in the table "
                    "and column you are given; 'older than' is strict.")
            return Verdict(name, False, f"{description} (table {table}.{column}, now {now}): "
                                        f"expected {expected!r}, got {got!r}", hint)
    return Verdict(name, True, f"all {len(cases)} cases on two tables agree with "
                               "course_etl.monitoring.checks.freshness")


# Ages of the newest customers row when the 02:05 run starts, and what they should give.
_THRESHOLD_CASES = [
    (timedelta(hours=3), "pass", "a normal day (last change at 23:05)"),
    (timedelta(hours=20), "pass", "a quiet normal day (last change at 06:05)"),
    (timedelta(hours=28), "warn", "one missed day"),
    (timedelta(hours=44), "warn", "one missed day, early last change"),
    (timedelta(hours=52), "fail", "two missed days"),
    (timedelta(hours=70), "fail", "three missed days"),
]


@register(answer_name="thresholds",
          stub={"warn_after": {"count": 1, "period": "hour"},
                "error_after": {"count": 1, "period": "day"}},
          solution_file="03_freshness_thresholds.py")
def check_freshness_thresholds(answer) -> Verdict:
    """Choose warn and error thresholds for a daily feed.

    Answer: ``{"warn_after": …, "error_after": …}`` for the daily customers feed."""
    name = "Choose warn and error thresholds"
    if not isinstance(answer, dict) or set(answer) != {"warn_after", "error_after"}:
        return Verdict(name, False, f"expected a dict with warn_after and error_after, "
                                    f"got {answer!r}",
                       "e.g. {'warn_after': {'count': 1, 'period': 'day'}, 'error_after': …}")
    for age, expected, description in _THRESHOLD_CASES:
        conn = _table_with_newest((_NOW - age).isoformat(sep=" "))
        try:
            got = freshness(conn, "feed", "updated_at", now=_NOW, **answer).status
        except CheckConfigError as error:
            return Verdict(name, False, str(error), "periods are {'count': N, 'period': "
                                                    "'minute' | 'hour' | 'day'}")
        finally:
            conn.close()
        if got != expected:
            hint = ("a normal day can be quite old by 02:05: warning earlier cries wolf"
                    if expected == "pass" else
                    "put each threshold between two of the cases: after the oldest normal day, "
                    "and after the oldest day with one delivery missed")
            hours = age.total_seconds() / 3600
            return Verdict(name, False, f"{description}, {hours:g} h old, gives {got!r}; "
                                        f"expected {expected!r}", hint)
    return Verdict(name, True, "quiet days pass, one missed day warns, two missed days fail")


# Distractors from what students really believe (docs/instructor_guide.md, common errors).
VOLUME_HISTORY_CHOICES = {
    "a": "The run log keeps only the last seven runs, so the check has nothing older to "
         "compare with.",
    "b": "With only a few runs, the median and MAD are themselves noise: one unusual day moves "
         "them so much that normal days get flagged, or a real spike looks normal.",
    "c": "A median needs an odd number of values, and seven is the smallest count that keeps "
         "it stable.",
    "d": "The first runs are full loads: their row counts are not comparable, so they must be "
         "waited out.",
}


@register(answer_name="volume_answer", stub="", solution_file="03_volume_history.py")
def check_volume_history(answer) -> Verdict:
    """Quiz: why a volume check needs history.

    Answer: the letter of the right explanation in VOLUME_HISTORY_CHOICES."""
    name = "Why a volume check needs history"
    answer = answer.strip().lower() if isinstance(answer, str) else answer
    if not isinstance(answer, str) or answer not in VOLUME_HISTORY_CHOICES:
        return Verdict(name, False, f"answer with one letter of {', '.join(VOLUME_HISTORY_CHOICES)}"
                                    f", not {answer!r}",
                       "compare volume_anomaly(40, [30, 31, 90], min_history=3) with "
                       "volume_anomaly(40, [30, 31, 90, 29, 32, 30, 31, 28])")
    if answer != "b":
        why = {"a": "the run log keeps every run; the check chooses how many it reads",
               "c": "a median exists for any number of values, odd or even",
               "d": "a volume check counts the rows a run received, whatever the load mode"}
        return Verdict(name, False, f"({answer}) is not it: {why[answer]}",
                       "try volume_anomaly(40, [30, 31, 90], min_history=3): what do three "
                       "runs tell you about a normal day?")
    return Verdict(name, True, "(b): with three runs one odd day is a third of the evidence; "
                               "seven or more make the median and MAD stable")
