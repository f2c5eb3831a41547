"""Shared fixtures: fresh databases, the lecture's tables, a synthetic source; and the SQL
identifier guard (``tests/sql_guard.py``), which parses every statement course_etl runs during
the suite and fails the test during which one put a name into SQL unquoted."""

import os

import pytest
from sql_guard import GUARD, install

from course_etl import connect
from course_etl.sample_data import create_customer_source, create_lecture_source

# SQL_GUARD=report: no test fails for its SQL, the summary lists every offence once instead;
# SQL_GUARD=off: no guard (to measure what it costs).
REPORT_ONLY = os.environ.get("SQL_GUARD") == "report"
if os.environ.get("SQL_GUARD") != "off":
    install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    # Statements of the test's setup and of its body; one that raised already failed the test.
    offences = GUARD.take()
    if offences and not REPORT_ONLY:
        pytest.fail("course_etl ran SQL with names that bypass quote_identifier/TableRef.sql "
                    "(tests/sql_guard.py):\n" + "\n".join(map(str, offences)), pytrace=False)
    return result


def pytest_terminal_summary(terminalreporter):
    late = GUARD.take()  # statements of a teardown, after the last test's body
    for offence in GUARD.seen if REPORT_ONLY else late:
        terminalreporter.write_line(f"SQL guard: {offence}", red=True)
    terminalreporter.write_line(
        f"SQL guard: {GUARD.executed} statements run by course_etl ({len(GUARD.problems)} "
        f"distinct texts parsed), {GUARD.foreign} run by tests, notebooks or students; "
        f"{len(GUARD.seen)} offence(s), {len(GUARD.pending)} more in PENDING modules")
    if REPORT_ONLY:
        for offence in GUARD.pending:
            terminalreporter.write_line(f"SQL guard (pending): {offence}")


def pytest_sessionfinish(session):
    if GUARD.offences and session.exitstatus == 0 and not REPORT_ONLY:
        session.exitstatus = 1


@pytest.fixture
def conn():
    """A fresh in-memory warehouse."""
    connection = connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def file_conn(tmp_path):
    """A fresh file-backed warehouse (WAL), for tests that need a second connection."""
    connection = connect(tmp_path / "warehouse.db")
    yield connection
    connection.close()


@pytest.fixture
def lecture_conn(conn):
    """The lecture's three-row source in a fresh database."""
    create_lecture_source(conn)
    return conn


@pytest.fixture
def synthetic_conn(conn):
    """A 500-row synthetic customers source (with is_deleted) in a fresh database."""
    create_customer_source(conn, "src_customers", 500, seed=7, progress=False)
    return conn
