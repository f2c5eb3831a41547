"""The runtime SQL identifier guard (``tests/sql_guard.py``) itself: what it accepts, what it
reports, and whom it holds responsible."""

import sqlite3

import pytest
from sql_guard import GUARD, PACKAGE_DIR, PENDING, GuardedConnection, check_statement

from course_etl import connect, query
from course_etl.config.lecture import lecture_get_watermark


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "a", COUNT(*) AS n FROM "main"."t" GROUP BY "a" ORDER BY n',
        'WITH recent AS (SELECT "id" FROM "t") SELECT r."id" FROM recent AS r',
        'INSERT INTO "t" ("a") VALUES (?) ON CONFLICT ("a") DO UPDATE SET "b" = excluded."b"',
        'CREATE TABLE IF NOT EXISTS "t" ("a" TEXT NOT NULL COLLATE NOCASE, "b" INTEGER)',
        'CREATE UNIQUE INDEX IF NOT EXISTS "i" ON "t" ("a")',
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid",
        'DELETE FROM temp."stage" WHERE rowid IN (SELECT rowid FROM temp."stage")',
        "PRAGMA journal_mode = WAL",
        'PRAGMA table_info("t")',
        "PRAGMA wal_checkpoint(TRUNCATE)",
        'SAVEPOINT "course_etl"',
        'RELEASE "course_etl"',
        "BEGIN IMMEDIATE",
        'CREATE TEMP TRIGGER IF NOT EXISTS "w" AFTER UPDATE OF "a" ON main."t" '
        'WHEN NEW."a" <> OLD."a" BEGIN SELECT RAISE(ABORT, \'no\'); '
        'UPDATE "t" SET "b" = 1 WHERE rowid = NEW.rowid; END',
        'EXPLAIN QUERY PLAN SELECT "a" FROM "t"',
        'CREATE TABLE "a" ("x"); CREATE TABLE "b" ("y");',
    ],
)
def test_quoted_names_and_sqlite_s_own_pass(sql):
    assert check_statement(sql) == ()


@pytest.mark.parametrize(
    ("sql", "problems"),
    [
        ("SELECT a FROM t", ("unquoted column name a", "unquoted table name t")),
        ('select "a" from t where "b" > ?', ("unquoted table name t",)),
        ('CREATE TABLE "t" (a TEXT)', ("unquoted column name a",)),
        ('CREATE INDEX i ON "t" ("a")', ("unquoted index name i",)),
        ('SELECT "x" FROM src."t"', ("unquoted schema name src",)),
        ('SELECT t.a FROM "t" AS t', ("unquoted column name a",)),
        ('SAVEPOINT sp', ("unquoted name sp",)),
        ("PRAGMA main.index_list(t)", ("unquoted column name t",)),
        ('CREATE TEMP TRIGGER w AFTER DELETE ON main.t BEGIN SELECT 1; END',
         ("unquoted name w", "unquoted name t")),
        ('CREATE TRIGGER "w" AFTER INSERT ON "t" BEGIN UPDATE "t" SET a = NEW."a"; END',
         ("unquoted column name a",)),
        ('SELECT NEW."a" FROM "t"', ("unquoted table name NEW",)),  # new/old: triggers only
        ('CREATE TABLE "a" ("x"); CREATE TABLE b ("y");', ("unquoted table name b",)),
    ],
)
def test_unquoted_names_are_reported_by_position(sql, problems):
    assert check_statement(sql) == problems


@pytest.mark.parametrize(("sql", "problem"), [
    ('SELECT "a" FROM "t" WHERE (', "sqlglot cannot parse it"),
    ('REINDEX "t"', "sqlglot does not understand 'REINDEX' statements"),
])
def test_statements_sqlglot_cannot_read_are_reported(sql, problem):
    assert check_statement(sql)[0].startswith(problem)


@pytest.fixture(autouse=True)
def _offences_made_here_stay_here():
    """The offences these tests provoke on purpose are not the suite's."""
    seen = dict(GUARD.seen)
    yield
    GUARD.take()
    GUARD.seen = seen


def _package_function(source: str, name: str):
    """A function compiled as if it were a module of course_etl."""
    namespace: dict = {}
    exec(compile(source, str(PACKAGE_DIR / "not_a_module.py"), "exec"), namespace)
    return namespace[name]


def test_package_sql_is_checked_and_its_line_named():
    conn = connect(":memory:")
    assert isinstance(conn, GuardedConnection)
    conn.execute('CREATE TABLE "t" ("a")')
    GUARD.take()
    count_rows = _package_function(
        "def count_rows(conn, table):\n"
        "    return conn.execute(f'SELECT COUNT(*) FROM {table}').fetchone()[0]\n",
        "count_rows",
    )
    assert count_rows(conn, "t") == 0
    [offence] = GUARD.take()
    assert offence.caller == "course_etl/not_a_module.py:2 in count_rows"
    assert offence.problems == ("unquoted table name t",)
    assert offence.statement == "SELECT COUNT(*) FROM t"


def test_sql_passed_in_belongs_to_whoever_wrote_it():
    conn = connect(":memory:")
    conn.execute('CREATE TABLE "t" ("a")')
    run = _package_function("def run(conn, sql):\n    return conn.execute(sql).fetchall()\n",
                            "run")
    GUARD.take()
    assert run(conn, "SELECT a FROM t") == []  # written here, in a test: not the package's
    assert query(conn, "SELECT a FROM t").empty  # db.query, through its @checked wrapper
    cursor = sqlite3.connect(":memory:").cursor()
    cursor.execute("SELECT 1 AS x")
    assert GUARD.take() == []


def test_the_lecture_s_injection_demo_is_exempt():
    conn = connect(":memory:")
    conn.execute('CREATE TABLE "t" ("updated_at")')
    GUARD.take()
    lecture_get_watermark(conn, "t")
    assert GUARD.take() == []


def test_pending_entries_name_real_modules():
    for entry in PENDING:
        assert (PACKAGE_DIR / entry).exists(), f"PENDING names {entry!r}, which is gone"
