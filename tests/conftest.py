"""Shared fixtures: fresh databases, the lecture's tables, a synthetic source."""

import pytest

from course_etl import connect
from course_etl.sample_data import create_customer_source, create_lecture_source


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
