"""Exercises for notebook 03 (monitoring): write a freshness check, choose its thresholds, and
say why a volume check needs history. Each check runs the answer on fixed data and compares it
with :mod:`course_etl.monitoring.checks`, so the feedback is instant and the same on every run."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from course_etl.classroom.exercises import Verdict, register
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


def _table_with_newest(newest: str | None) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE feed (id INTEGER, updated_at TEXT)")
    if newest is not None:
        conn.executemany("INSERT INTO feed VALUES (?, ?)", [(1, "2024-10-01 00:00:00"),
                                                           (2, newest)])
    return conn


def _stub_freshness_status(conn, table, column, now):
    return "pass"


@register(answer_name="freshness_status", stub=_stub_freshness_status,
          solution_file="03_freshness_function.py")
def check_freshness_function(answer) -> Verdict:
    """Answer: ``freshness_status(conn, table, column, now)`` returning 'pass', 'warn' or 'fail'
    for warn after 1 day and error after 3 days (strictly older than the threshold)."""
    name = "Write a freshness check"
    if not callable(answer):
        return Verdict(name, False, f"expected a function, got {type(answer).__name__}",
                       "define def freshness_status(conn, table, column, now): ...")
    for description, newest in FRESHNESS_CASES:
        conn = _table_with_newest(newest)
        expected = freshness(conn, "feed", "updated_at", now=_NOW,
                             warn_after=timedelta(days=1), error_after=timedelta(days=3)).status
        try:
            got = answer(conn, "feed", "updated_at", _NOW)
        except Exception as error:  # noqa: BLE001 - the student's code may raise anything
            return Verdict(name, False, f"{description}: your function raised "
                                        f"{type(error).__name__}: {error}",
                           "SELECT MAX(column) FROM table, parse it with datetime.fromisoformat, "
                           "compare now - newest with the thresholds")
        finally:
            conn.close()
        if got != expected:
            hint = ("an empty table has no fresh data: MAX() returns None, report 'fail'"
                    if newest is None else
                    "age = now - datetime.fromisoformat(newest); 'fail' if age > 3 days, "
                    "'warn' if age > 1 day, else 'pass'")
            return Verdict(name, False, f"{description}: expected {expected!r}, got {got!r}",
                           hint)
    return Verdict(name, True, f"all {len(FRESHNESS_CASES)} cases agree with "
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
    """Answer: ``{"warn_after": …, "error_after": …}`` for the daily customers feed."""
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
            hint = ("a normal day can be 20 hours old at 02:05: warning earlier cries wolf"
                    if expected == "pass" else
                    "one missed day (up to 44 h) is worth a warning, two missed days "
                    "(more than 48 h) an error")
            hours = age.total_seconds() / 3600
            return Verdict(name, False, f"{description}, {hours:g} h old, gives {got!r}; "
                                        f"expected {expected!r}", hint)
    return Verdict(name, True, "quiet days pass, one missed day warns, two missed days fail")


VOLUME_HISTORY_CHOICES = {
    "a": "SQLite cannot compute a median of fewer than 7 values.",
    "b": "With only a few runs, the median and MAD are themselves noise: one unusual day moves "
         "them so much that normal days get flagged, or a real spike looks normal.",
    "c": "Volume checks may only run once a week.",
    "d": "A z-score is only defined for exactly seven values.",
}


@register(answer_name="volume_answer", stub="", solution_file="03_volume_history.py")
def check_volume_history(answer) -> Verdict:
    """Answer: the letter of the right explanation in VOLUME_HISTORY_CHOICES."""
    name = "Why a volume check needs history"
    if answer not in VOLUME_HISTORY_CHOICES:
        return Verdict(name, False, f"answer with one letter of {', '.join(VOLUME_HISTORY_CHOICES)}"
                                    f", not {answer!r}",
                       "compare volume_anomaly(40, [30, 31, 90], min_history=3) with "
                       "volume_anomaly(40, [30, 31, 90, 29, 32, 30, 31, 28])")
    if answer != "b":
        return Verdict(name, False, f"({answer}) is not it",
                       "try volume_anomaly(40, [30, 31, 90], min_history=3): what do three "
                       "runs tell you about a normal day?")
    return Verdict(name, True, "(b): with three runs one odd day is a third of the evidence; "
                               "seven or more make the median and MAD stable")
