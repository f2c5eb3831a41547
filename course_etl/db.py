"""SQLite plumbing shared by every course_etl module.

One place opens connections (foreign keys on; WAL and a busy timeout for files), one place turns
table and column names into SQL (:func:`quote_identifier`, :func:`resolve_table`), one place runs a
transaction (:func:`atomic`), and one place shows students the SQL that ran (:func:`tracing`).
Values never go into SQL text: they travel as ``?`` or ``:name`` parameters.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from course_etl.errors import (
    InvalidIdentifierError,
    UnknownColumnError,
    UnknownTableError,
    checked,
)
from course_etl.paths import check_path, existing_file, new_file

__all__ = [
    "connect",
    "database_path",
    "attach",
    "quote_identifier",
    "validate_identifier",
    "TableRef",
    "resolve_table",
    "table_exists",
    "split_table_name",
    "atomic",
    "query",
    "tracing",
]

BUSY_TIMEOUT_MS = 5_000
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@checked
def connect(
    path: str | Path = ":memory:",
    *,
    attach_as: dict[str, str | Path] | None = None,
    tracer: Callable[[str], object] | None = None,
) -> sqlite3.Connection:
    """Open a SQLite database ready for loads.

    Foreign keys are enforced (SQLite leaves them off by default). A new file is created in WAL
    mode, so readers keep seeing the last committed state while a load writes; an existing
    database keeps the journal mode it has, because switching rewrites its header, and a call
    that is refused later must leave the file as it was. Every file gets a busy timeout, so a
    second writer waits instead of failing at once. The connection is in autocommit mode:
    course_etl opens its own transactions with :func:`atomic`.
    ``attach_as={"src": "source.db"}`` attaches other database files under a schema name, so a
    source table can be named ``"src.customers"``. ``tracer`` receives every SQL statement run.
    ``path`` is ``":memory:"`` or a file path, never a ``file:`` URI or a special file (see
    :func:`database_path`). Raises FileRefusedError for such a path.
    """
    target = database_path(path)
    # The driver's timeout sets SQLite's busy timeout (what PRAGMA busy_timeout reports), so the
    # number travels as an argument, not as SQL text.
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if target != MEMORY and conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            conn.execute("PRAGMA journal_mode = WAL")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            # NORMAL is crash-safe in WAL mode (a killed process loses nothing committed).
            conn.execute("PRAGMA synchronous = NORMAL")
        for alias, file in (attach_as or {}).items():
            attach(conn, file, alias)
    except BaseException:
        conn.close()
        raise
    if tracer is not None:
        conn.set_trace_callback(tracer)
    return conn


MEMORY = ":memory:"


@checked
def database_path(path: str | Path, *, what: str = "path") -> str:
    """The text to hand SQLite for ``path``: ``":memory:"``, or a checked file path.

    A file path must be plain (no ``file:`` URI, whose ``?mode=`` SQLite would obey behind every
    check here; no control character), in an existing folder, and name a regular file or
    nothing yet: a FIFO would block forever, a device never ends, a folder is not a database.
    Raises FileRefusedError (or WrongTypeError for a path that is not text).
    """
    if isinstance(path, str) and path == MEMORY:
        return MEMORY
    file = check_path(path, what=what)
    if not file.exists():
        new_file(file, what=what)  # a missing folder or a dangling symlink is refused here
        return str(file)
    return str(existing_file(file, what=what))


@checked
def attach(conn: sqlite3.Connection, path: str | Path, alias: str) -> None:
    """Attach another database file as schema ``alias`` (the path is bound as a parameter and
    checked like :func:`connect`'s)."""
    validate_identifier(alias, what="schema alias")
    conn.execute(f"ATTACH DATABASE ? AS {quote_identifier(alias)}",
                 (database_path(path, what=f"database attached as {alias!r}"),))


def quote_identifier(name: str) -> str:
    """Quote a table or column name for SQL: wrap it in double quotes, doubling inner ones."""
    return '"' + str(name).replace('"', '""') + '"'


def validate_identifier(name: object, *, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain SQL identifier (letters, digits, _), else raise.

    Raises InvalidIdentifierError naming the bad value.
    """
    if not isinstance(name, str) or not _PLAIN_IDENTIFIER.fullmatch(name):
        raise InvalidIdentifierError(
            f"invalid {what} {name!r}: use letters, digits and underscores, "
            "not starting with a digit (e.g. 'dw_customers')", value=name, what=what
        )
    return name


@dataclass(frozen=True)
class TableRef:
    """A table that exists: its schema, its name and its columns in declared order."""

    schema: str
    name: str
    columns: tuple[str, ...]

    @property
    def sql(self) -> str:
        """The quoted, schema-qualified name to put in SQL."""
        return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"

    @property
    def label(self) -> str:
        """The name as a user writes it: ``dw_customers`` or ``src.customers``."""
        return self.name if self.schema == "main" else f"{self.schema}.{self.name}"

    def column(self, name: str, *, role: str = "column") -> str:
        """Return ``name`` if it is a column of this table, else raise UnknownColumnError."""
        if name not in self.columns:
            raise UnknownColumnError(
                f"unknown {role} {name!r} in table {self.label!r} "
                f"(columns: {', '.join(self.columns)})",
                table=self.label, column=name, known=self.columns, what=role,
            )
        return name


def _schemas(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM pragma_database_list")]


def _tables_in(conn: sqlite3.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        f"SELECT name FROM {quote_identifier(schema)}.sqlite_master "
        "WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return [row[0] for row in rows]


@checked
def split_table_name(conn: sqlite3.Connection, name: str) -> tuple[str, str]:
    """``(schema, table)`` for ``table`` or ``schema.table``, with the names as stored.

    SQLite compares names without regard to ASCII case, so ``SRC.Customers`` finds
    ``src.customers``; a table that does not exist keeps the spelling given.
    """
    schema, dot, table = name.partition(".")
    schemas = {s.lower(): s for s in _schemas(conn)} if dot else {}
    if not (dot and schema.lower() in schemas):
        schema, table = "main", name
    schema = schemas.get(schema.lower(), schema)
    stored = {t.lower(): t for t in _tables_in(conn, schema)}
    return schema, stored.get(table.lower(), table)


@checked
def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    """True when ``name`` (optionally ``schema.table``) names an existing table or view."""
    schema, table = split_table_name(conn, name)
    return table in _tables_in(conn, schema)


@checked
def resolve_table(conn: sqlite3.Connection, name: str, *, role: str = "table") -> TableRef:
    """Look ``name`` up in the database and return a :class:`TableRef`.

    ``name`` is ``table`` or ``schema.table`` for an attached database. Names are checked against
    what exists, so nothing a user typed reaches SQL unless it names a real table.
    Raises InvalidIdentifierError for a non-string, UnknownTableError listing the known tables.
    """
    if not isinstance(name, str) or not name:
        raise InvalidIdentifierError(f"invalid {role} name {name!r}: expected a table name",
                                     value=name, what=role)
    schema, table = split_table_name(conn, name)
    if table not in _tables_in(conn, schema):
        known = [
            t if s == "main" else f"{s}.{t}" for s in _schemas(conn) for t in _tables_in(conn, s)
        ]
        raise UnknownTableError(
            f"unknown {role} {name!r} (known: {', '.join(known) or 'no tables yet'})",
            table=name, known=known, what=role,
        )
    info = conn.execute(
        "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid", (table, schema)
    ).fetchall()
    return TableRef(schema=schema, name=table, columns=tuple(row[0] for row in info))


@contextlib.contextmanager
@checked
def atomic(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block as one transaction: commit on success, roll back on any exception.

    Nested blocks become SAVEPOINTs, so a helper that is atomic on its own can join a larger
    transaction. The outer transaction starts with BEGIN IMMEDIATE: the write lock is taken up
    front, so two loads never interleave and fail half-way on a lock upgrade.
    SQLite itself rolls the whole transaction back on some errors (a full disk, an I/O error, a
    RAISE(ROLLBACK) trigger); cleaning up after that would fail with "no transaction is active"
    and hide the real cause, so the rollback runs only while a transaction is still open. A
    failed COMMIT (a full disk at the last moment) is rolled back too, so the connection is
    usable and nothing half-written stays pending.
    """
    if conn.in_transaction:
        # One name for every level: SQLite resolves a repeated name to the innermost savepoint.
        savepoint = quote_identifier("course_etl")
        conn.execute(f"SAVEPOINT {savepoint}")
        try:
            yield conn
        except BaseException:
            _undo(conn, f"ROLLBACK TO {savepoint}", f"RELEASE {savepoint}")
            raise
        conn.execute(f"RELEASE {savepoint}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        _undo(conn, "ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        _undo(conn, "ROLLBACK")
        raise


def _undo(conn: sqlite3.Connection, *statements: str) -> None:
    """Roll back while a transaction is still open; the error being raised is the one to show."""
    for statement in statements:
        if not conn.in_transaction:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.execute(statement)


@checked
def query(
    conn: sqlite3.Connection, sql: str, params: Sequence | dict | None = None
) -> pd.DataFrame:
    """Run a SELECT and return its rows as a DataFrame: the lecture's ``run_sql``, minus display."""
    cursor = conn.execute(sql, params if params is not None else ())
    columns = [d[0] for d in cursor.description or ()]
    return pd.DataFrame(cursor.fetchall(), columns=columns)


_SCHEMA_LOOKUP = re.compile(r"^\s*(--|SELECT name\b|SELECT .* FROM pragma_|CREATE TABLE IF NOT)")


class SqlTrace(list):
    """The statements seen by :func:`tracing`, one string each (parameters expanded by SQLite)."""

    def statements(self, *, include_schema_lookups: bool = False) -> list[str]:
        """The statements on one line each; schema look-ups (name checks) left out by default."""
        return [
            " ".join(s.split())
            for s in self
            if include_schema_lookups or not _SCHEMA_LOOKUP.match(s)
        ]

    def show(self, *, include_schema_lookups: bool = False) -> None:
        """Print the statements numbered, for reading in a notebook."""
        for number, statement in enumerate(self.statements(
            include_schema_lookups=include_schema_lookups), 1):
            print(f"{number:>2}. {statement}")


@contextlib.contextmanager
@checked
def tracing(conn: sqlite3.Connection, *, echo: bool = False) -> Iterator[SqlTrace]:
    """Record every SQL statement run on ``conn`` inside the block.

    Yields a list that fills as statements run; SQLite expands bound parameters into the text, so
    students see the values that were sent. ``echo=True`` also prints each statement.
    The previous trace callback is not restorable through sqlite3, so it is cleared afterwards.
    """
    trace = SqlTrace()

    def record(statement: str) -> None:
        trace.append(statement)
        if echo:
            print(statement)

    conn.set_trace_callback(record)
    try:
        yield trace
    finally:
        conn.set_trace_callback(None)
