"""The one retry rule: each error class through the local runner, and generated failures.

``course_etl.retries.fails_fast`` decides; the runner follows it (the exports too: see
``test_export.py``). A lock, an I/O error, a dropped connection, a timeout, an unknown error are
retried while tries remain; bad configuration, bad SQL, a failed blocking check and a bug
(``TypeError``…) fail at once. Airflow's own rule is checked against Airflow in
``integration/airflow/check_airflow.py``.
"""

import sqlite3
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect
from course_etl.config import ConfigError
from course_etl.errors import CourseEtlError, UnknownTableError
from course_etl.monitoring.checks import CheckFailedError, run_suite
from course_etl.retries import CODE_ERRORS, RULE, fails_fast, reason
from course_etl.scheduling import LocalRunner, Pipeline, SimulatedClock, Task
from course_etl.scheduling.runner import InjectedFailure
from course_etl.states import TaskState

DAY = date(2024, 10, 2)


def raising(error: BaseException):
    def task(conn):
        raise error

    return task


def run(error: BaseException, retries: int = 2):
    pipeline = Pipeline("p", [Task(raising(error), name="t", retries=retries)])
    clock = SimulatedClock()
    return LocalRunner(connect(), clock=clock).run(pipeline, DAY), clock


def real_errors() -> dict[str, BaseException]:
    """One error of each class the rule names, raised by the real thing where it can be."""
    conn = connect()
    found = {}
    for name, action in {
        "bad SQL": lambda: conn.execute("SELEC 1"),
        "missing table": lambda: conn.execute("SELECT * FROM nowhere"),
        "failed blocking check": lambda: (
            conn.execute("CREATE TABLE t (id INTEGER)"), conn.execute("INSERT INTO t VALUES (1)"),
            conn.execute("INSERT INTO t VALUES (1)"),
            run_suite(conn, {"t": [{"check": "unique_key", "key": "id", "blocking": True}]})
            .raise_if_blocked()),
        "student's bug": lambda: len(conn) + 1,  # a connection has no length: TypeError
        "misspelled name": lambda: undefined_rows,  # noqa: F821
    }.items():
        try:
            action()
        except Exception as error:  # noqa: BLE001 - collecting them is the point
            found[name] = error
    return found


@pytest.mark.parametrize(("error", "tries"), [
    (sqlite3.OperationalError("database is locked"), 3),  # a lock: another writer finishes
    (sqlite3.OperationalError("disk I/O error"), 3),  # I/O: the disk or the share comes back
    (ConnectionResetError("source reset by peer"), 3),
    (TimeoutError("source took too long"), 3),
    (InjectedFailure("injected failure 1/1"), 3),  # the demos' flaky task
    (OSError("network file system went away"), 3),
    (RuntimeError("a library's own error"), 3),  # unknown: retried, as Airflow does
    (ValueError("could be the data, could be a hiccup"), 3),
    (ConfigError(problems=[]), 1),  # bad configuration
    (UnknownTableError("unknown table 'dw'"), 1),
    (CheckFailedError("blocking check(s) failed"), 1),
    (TypeError("unsupported operand"), 1),
    (NameError("name 'rows' is not defined"), 1),
    (AttributeError("'NoneType' object has no attribute 'rows'"), 1),
    (AssertionError("a student's check as an assert"), 1),
])
def test_each_error_class_ends_as_the_rule_says(error, tries):
    report, clock = run(error)
    task = report.tasks["t"]
    assert task.tries == tries
    assert [a.state for a in task.attempts] == ["up_for_retry"] * (tries - 1) + ["failed"]
    assert clock.slept == [300.0] * (tries - 1)  # the waits happen only for what can pass
    assert task.error == reason(error) and report.reason == f"t failed: {reason(error)}"
    assert report.state == "failed"


@pytest.mark.parametrize("name", ["bad SQL", "missing table", "failed blocking check",
                                  "student's bug", "misspelled name"])
def test_real_errors_of_each_class_fail_at_once(name):
    error = real_errors()[name]
    assert fails_fast(error), f"{name}: {reason(error)}"
    report, clock = run(error)
    assert report.tasks["t"].tries == 1 and clock.slept == []


def test_a_real_lock_is_retried_and_the_retry_can_succeed(tmp_path):
    """A real 'database is locked' from SQLite: retried; the writer finishes; the retry works."""
    path = tmp_path / "w.db"
    conn = connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA busy_timeout = 0")  # no waiting inside SQLite: the runner waits
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock

    class Release(SimulatedClock):
        def sleep(self, seconds):  # while the runner waits, the other writer commits
            super().sleep(seconds)
            holder.execute("COMMIT")

    def write(conn):
        with conn:
            conn.execute("INSERT INTO t VALUES (1)")
        return 1

    pipeline = Pipeline("p", [Task(write, retries=1)])
    report = LocalRunner(conn, clock=Release()).run(pipeline, DAY)
    assert [a.state for a in report.tasks["write"].attempts] == ["up_for_retry", "success"]
    assert "locked" in report.tasks["write"].attempts[0].error
    conn.close()
    holder.close()


ERROR_CLASSES = [sqlite3.OperationalError, ConnectionError, TimeoutError, OSError, KeyError,
                 ValueError, RuntimeError, InjectedFailure, CourseEtlError, CheckFailedError,
                 *CODE_ERRORS]


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(ERROR_CLASSES), message=st.sampled_from(
           ["database is locked", "disk I/O error", "no such table: x", "boom", ""]),
       retries=st.integers(0, 4), fails_before_success=st.integers(0, 6))
def test_generated_failures_follow_the_rule(kind, message, retries, fails_before_success):
    """A task that raises ``kind(message)`` on its first tries, then succeeds: it gets another
    try exactly when tries remain and the rule says waiting can help; the states tell it."""
    error = kind(message)
    tries_left = [fails_before_success]

    def flaky(conn):
        if tries_left[0] > 0:
            tries_left[0] -= 1
            raise error
        return "done"

    report = LocalRunner(connect(), clock=SimulatedClock()).run(
        Pipeline("p", [Task(flaky, retries=retries)]), DAY)
    states = [a.state for a in report.tasks["flaky"].attempts]
    if fails_before_success == 0:
        expected = ["success"]
    elif fails_fast(error):
        expected = ["failed"]
    else:
        failures = min(fails_before_success, retries + 1)
        ends = "success" if fails_before_success <= retries else "failed"
        expected = ["up_for_retry"] * (failures - (ends == "failed")) + [ends]
    assert states == expected
    assert set(states) <= set(TaskState)


def test_the_rule_is_written_once_and_names_what_it_does():
    for named in ("bad configuration", "bad SQL", "failed blocking check", "TypeError",
                  "AirflowFailException", "A lock"):
        assert named in RULE
    assert all(fails_fast(kind("x")) for kind in CODE_ERRORS)
