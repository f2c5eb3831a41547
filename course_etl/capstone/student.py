"""The student's pieces in the capstone: their gold SQL is what the run audits and publishes.

Write, audit, publish: with a student's ``gold_sql`` the ``checks`` task builds the candidate gold
from silver with that SELECT and runs the suite (the student's, when given) on it, under the name
the suite uses, ``gold_city_daily_revenue``; ``gold`` then promotes the same SELECT to the served
table, and ``publish`` says in the run log how far the published rows are from the library's own
mart. So a wrong gold SQL, or a suite too weak to notice it, shows in the run and on the
dashboard, not only in the exercise's verdict.

:func:`audited_gold` swaps the candidate in for the duration of the audit inside a SAVEPOINT and
rolls it back afterwards: the library's mart, which silver merges incrementally, is never
changed. The candidate is a plain table (no constraints), so the suite sees whatever the SQL
makes, NULL cities and repeated city-days included.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from course_etl.capstone.constants import SERVED_TABLE, CapstoneError
from course_etl.db import quote_identifier
from course_etl.errors import checked
from course_etl.medallion.gold import CITY_DAILY_REVENUE

__all__ = ["GOLD_COLUMNS", "StudentGoldError", "gold_select_sql", "execute_student_gold",
           "audited_gold", "served_differences"]

#: The columns a gold SELECT gives, by name: the served table reads them so.
GOLD_COLUMNS = ("city", "day", "n_orders", "revenue_cents")
_SAVEPOINT = quote_identifier("student_gold")


class StudentGoldError(CapstoneError):
    """The student's gold SQL could not build the candidate gold (the SQLite error, in words):
    ``.value`` is the SQL, ``.cause`` the SQLite error it failed with (None when it is empty)."""


@checked
def gold_select_sql(gold_sql: str) -> str:
    """The student's SELECT, read by column name (the one place their text enters SQL)."""
    if not isinstance(gold_sql, str) or not gold_sql.strip():
        raise StudentGoldError("the gold SQL is empty: write a query giving "
                               + ", ".join(GOLD_COLUMNS) + " from the silver tables",
                               value=gold_sql, cause=None)
    student_sql = gold_sql.strip().rstrip(";")
    columns_sql = ", ".join(quote_identifier(c) for c in GOLD_COLUMNS)
    # The student's SELECT arrives as SQL on purpose (the exercise is writing it).
    return f"SELECT {columns_sql} FROM ({student_sql})"


@checked
def execute_student_gold(conn: sqlite3.Connection, head_sql: str, gold_sql: str) -> None:
    """Run ``head_sql`` (``CREATE TABLE … AS``, ``INSERT INTO … (…)``) over the student's
    SELECT read by column name: the one statement whose text is partly the student's (their
    names are theirs to write; tests/sql_guard.py lists this function as foreign SQL)."""
    conn.execute(f"{head_sql} {gold_select_sql(gold_sql)}")


@checked
@contextmanager
def audited_gold(conn: sqlite3.Connection, gold_sql: str | None) -> Iterator[None]:
    """While the block runs, ``gold_city_daily_revenue`` holds what ``gold_sql`` builds from
    silver (None: the library's mart, untouched); afterwards the mart is as it was.
    Raises StudentGoldError when the SQL fails (it reads a table that does not exist, such as
    the mart it replaces)."""
    if gold_sql is None:
        yield
        return
    gold_select_sql(gold_sql)  # an empty one is refused before the savepoint
    mart_sql = quote_identifier(CITY_DAILY_REVENUE)
    conn.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        conn.execute(f"DROP TABLE IF EXISTS {mart_sql}")
        try:
            execute_student_gold(conn, f"CREATE TABLE {mart_sql} AS", gold_sql)
        except sqlite3.Error as error:
            raise StudentGoldError(f"your gold SQL failed while building the gold to audit: "
                                   f"{error}", value=gold_sql, cause=error) from None
        yield
    finally:
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO {_SAVEPOINT}")
            conn.execute(f"RELEASE {_SAVEPOINT}")


@checked
def served_differences(conn: sqlite3.Connection) -> tuple[int, str]:
    """How many city-days the served table has differently from the library's mart (missing,
    extra, or other counts), and the first of them in words."""
    served_sql, mart_sql = quote_identifier(SERVED_TABLE), quote_identifier(CITY_DAILY_REVENUE)
    city_sql, day_sql, n_sql, cents_sql = map(quote_identifier, GOLD_COLUMNS)
    rows = conn.execute(
        f"WITH keys AS (SELECT {city_sql}, {day_sql} FROM {served_sql} "
        f"UNION SELECT {city_sql}, {day_sql} FROM {mart_sql}) "
        f"SELECT k.{city_sql}, k.{day_sql}, s.{n_sql}, s.{cents_sql}, m.{n_sql}, m.{cents_sql} "
        f"FROM keys AS k LEFT JOIN {served_sql} AS s "
        f"ON s.{city_sql} = k.{city_sql} AND s.{day_sql} = k.{day_sql} "
        f"LEFT JOIN {mart_sql} AS m ON m.{city_sql} = k.{city_sql} AND m.{day_sql} = k.{day_sql} "
        f"WHERE s.{n_sql} IS NOT m.{n_sql} OR s.{cents_sql} IS NOT m.{cents_sql} "
        f"ORDER BY k.{city_sql}, k.{day_sql}").fetchall()
    if not rows:
        return 0, ""
    city, day, *counts = rows[0]

    def said(n_orders, cents):
        return "no row" if n_orders is None else f"{n_orders} orders, {cents} cents"

    return len(rows), (f"{city} {day}: published {said(*counts[:2])}, the library's gold "
                       f"{said(*counts[2:])}")
