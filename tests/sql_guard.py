"""The runtime guard for SQL identifiers: every statement course_etl sends to SQLite, parsed.

While the test suite runs, every connection that ``sqlite3.connect`` opens (course_etl's
``connect`` and every other one) is a :class:`GuardedConnection`; its ``execute``,
``executemany`` and ``executescript`` (and its cursors') hand the statement text, before
SQLite sees it, to :meth:`Guard.observe`. The guard finds who wrote the statement (the
*author*: the first frame of this repository on the stack, going further up while the text is
one of that function's own arguments, so ``db.query(conn, sql)`` and ``run_query(conn, sql)``
are authored by their callers) and checks only what course_etl authored: a test's, a notebook's
or a student's SQL is not the package's. Each distinct text is parsed once with sqlglot
(dialect ``sqlite``); every identifier in it must be quoted (``quote_identifier`` or
``TableRef.sql``), apart from:

- SQLite's own names (:data:`SQLITE_NAMES`: ``sqlite_master``, ``main``, ``temp``, ``rowid``,
  ``excluded``...), the columns of the internal tables and table-valued functions the statement
  reads (:data:`INTERNAL_COLUMNS`), collation names, and ``new``/``old`` inside a trigger;
- names the statement defines for itself: CTE names, ``AS`` aliases of tables, sub-queries and
  result columns, and references to them. They name nothing in the database, nothing outside
  the statement can reach them, and reading ``SELECT COUNT(*) AS n`` or ``t."id" = s."id"``
  unquoted is what SQLite's docs and every textbook do; a name interpolated from data lands in a
  table or column position, which must be quoted.

Code unsafe on purpose (a function holding a ``# sql-names: exempt, <reason>`` line, the
lecture's injection demo) and the helpers in :data:`FOREIGN_SQL_HELPERS` (they build a statement
around a student's SQL) are not checked. A statement sqlglot cannot parse, or parses only as an
opaque ``Command``, is an offence too, unless it is one of the few commands checked token by
token here (``SAVEPOINT``, ``RELEASE``, ``CREATE TRIGGER``, ``EXPLAIN``, ``VACUUM``).
``tests/conftest.py`` installs the guard and fails the test during which an offence happened,
naming the statement and the Python line that built it.
"""

from __future__ import annotations

import inspect
import logging
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.tokens import TokenType

import course_etl

PACKAGE_DIR = Path(course_etl.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent

#: SQLite's own names, allowed unquoted anywhere.
SQLITE_NAMES = frozenset({
    "sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema",
    "sqlite_sequence", "main", "temp", "rowid", "oid", "_rowid_", "excluded",
})
#: Allowed unquoted in a trigger's WHEN clause and body: the row before and after.
TRIGGER_NAMES = frozenset({"new", "old"})
#: The columns of SQLite's internal tables and table-valued functions, allowed unquoted in a
#: statement that reads that table or function.
INTERNAL_COLUMNS = {
    "sqlite_master": {"type", "name", "tbl_name", "rootpage", "sql"},
    "pragma_table_info": {"cid", "name", "type", "notnull", "dflt_value", "pk"},
    "pragma_table_xinfo": {"cid", "name", "type", "notnull", "dflt_value", "pk", "hidden"},
    "pragma_database_list": {"seq", "name", "file"},
    "pragma_index_list": {"seq", "name", "unique", "origin", "partial"},
    "pragma_index_info": {"seqno", "cid", "name"},
    "pragma_index_xinfo": {"seqno", "cid", "name", "desc", "coll", "key"},
    "sqlite_sequence": {"name", "seq"},
    "pragma_foreign_key_list": {"id", "seq", "table", "from", "to", "on_update", "on_delete",
                                "match"},
    "json_each": {"key", "value", "type", "atom", "id", "parent", "fullkey", "path"},
}
for _alias in ("sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"):
    INTERNAL_COLUMNS[_alias] = INTERNAL_COLUMNS["sqlite_master"]
INTERNAL_COLUMNS["json_tree"] = INTERNAL_COLUMNS["json_each"]

#: Package functions that wrap a student's SQL in a statement of their own (relative path in
#: course_etl, function name): what they run is the student's, not the package's.
FOREIGN_SQL_HELPERS = {
    ("classroom/exercises/differential.py", "tables_read"),  # "EXPLAIN " + the answer's SQL
    ("capstone/student.py", "execute_student_gold"),  # the student's gold SELECT, wrapped
}
_EXEMPT_MARK = "sql-names: exempt"

#: Modules (relative to course_etl; a trailing "/" covers a folder) whose offences are listed in
#: the summary but fail no test yet: being fixed, or being edited by someone else.
PENDING: set[str] = set()

# Words of a CREATE TRIGGER head that the tokenizer leaves as plain words (VAR tokens).
_TRIGGER_WORDS = frozenset({"AFTER", "BEFORE", "INSTEAD", "OF", "EACH", "ROW", "FOR", "IF",
                            "NOT", "EXISTS", "TEMP", "TEMPORARY"})
_TOKENIZER = SQLite().tokenizer_class()
# Pragmas whose argument names a table or an index (the others take a value or a mode).
_PRAGMA_TAKING_A_NAME = re.compile(
    r"\s*PRAGMA\s+([^\s(=]+\.)?(table_x?info|index_(list|x?info)|foreign_key_(list|check)"
    r"|integrity_check|quick_check)\b", re.IGNORECASE)
# Statements whose only name follows their keyword (a savepoint's, a schema's to vacuum).
_NAME_COMMAND = re.compile(r"\s*(SAVEPOINT|RELEASE(\s+SAVEPOINT)?|VACUUM)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Offence:
    """One statement course_etl ran with names that bypass the quoting rule."""

    statement: str
    caller: str  # "course_etl/loads/engine.py:123 in load_table"
    problems: tuple[str, ...]

    def __str__(self) -> str:
        text = " ".join(self.statement.split())
        return f"{self.caller}: {'; '.join(self.problems)}\n    {text[:400]}"


# --- the check of one statement ----------------------------------------------------------------


def check_statement(sql: str) -> tuple[str, ...]:
    """The problems of one SQL text (several statements for a script): unquoted names, or
    the statement sqlglot could not parse. Empty when every name follows the rule."""
    problems: list[str] = []
    for statement in split_statements(sql):
        problems.extend(_check_one(statement, in_trigger=False))
    return tuple(dict.fromkeys(problems))


def split_statements(script: str) -> list[str]:
    """The statements of ``script`` (a trigger's BEGIN…END kept whole), by SQLite's own
    ``complete_statement``."""
    statements, start = [], 0
    for position, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start:position + 1]):
            statements.append(script[start:position + 1])
            start = position + 1
    statements.append(script[start:])
    return [s for s in statements if _tokens(s)]


def _tokens(sql: str) -> list:
    return [t for t in _TOKENIZER.tokenize(sql) if t.token_type != TokenType.SEMICOLON]


def _check_one(sql: str, *, in_trigger: bool) -> list[str]:
    command = _NAME_COMMAND.match(sql)
    if command:  # the tokenizer keeps what follows these words as one string: tokenize it
        return _unquoted_words(_tokens(sql[command.end():]), skip={"INTO"})
    tokens = _tokens(sql)
    first = tokens[0].text.upper()
    if first == "EXPLAIN":
        rest = sql[tokens[1].start:]
        if rest.upper().startswith("QUERY PLAN"):
            rest = rest[len("QUERY PLAN"):]
        return _check_one(rest, in_trigger=in_trigger)
    if first == "CREATE" and any(t.token_type == TokenType.TRIGGER for t in tokens[1:3]):
        return _check_trigger(sql, tokens)
    logger = logging.getLogger("sqlglot")
    level, logger.level = logger.level, logging.ERROR  # the Command fallback is reported below
    try:
        trees = sqlglot.parse(sql, read="sqlite")
    except sqlglot.errors.SqlglotError as error:
        return [f"sqlglot cannot parse it ({str(error).splitlines()[0]})"]
    finally:
        logger.level = level
    problems = []
    for tree in trees:
        if tree is None:
            continue
        if isinstance(tree, exp.Command):
            problems.append(f"sqlglot does not understand {tree.name.upper()!r} statements")
            continue
        if isinstance(tree, exp.Pragma) and not _PRAGMA_TAKING_A_NAME.match(sql):
            continue  # PRAGMA journal_mode = WAL, wal_checkpoint(TRUNCATE): a value, no name
        problems.extend(unquoted_names(tree, in_trigger=in_trigger))
    return problems


def _unquoted_words(tokens, *, skip=frozenset()) -> list[str]:
    return [f"unquoted name {t.text}" for t in tokens
            if t.token_type == TokenType.VAR and t.text.upper() not in skip
            and t.text.lower() not in SQLITE_NAMES]


def _check_trigger(sql: str, tokens) -> list[str]:
    """CREATE TRIGGER, which sqlglot does not parse: its head token by token, its WHEN clause
    and each statement of its body parsed like any other."""
    begin = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.BEGIN), None)
    end = max((i for i, t in enumerate(tokens) if t.token_type == TokenType.END), default=None)
    if begin is None or end is None or end < begin:
        return ["a CREATE TRIGGER without BEGIN … END"]
    when = next((i for i, t in enumerate(tokens[:begin]) if t.token_type == TokenType.WHEN),
                begin)
    problems = _unquoted_words(tokens[:when], skip=_TRIGGER_WORDS)
    if when < begin:
        condition = sql[tokens[when + 1].start:tokens[begin].start]
        problems += _check_one(f"SELECT 1 WHERE {condition}", in_trigger=True)
    for statement in split_statements(sql[tokens[begin].end + 1:tokens[end].start]):
        problems += _check_one(statement, in_trigger=True)
    return problems


def unquoted_names(tree: exp.Expression, *, in_trigger: bool = False) -> list[str]:
    """Every unquoted identifier of a parsed statement outside the allowed ones, described by
    its position (``unquoted table name dw_customers``)."""
    defined = _local_names(tree)
    allowed = set(SQLITE_NAMES) | (TRIGGER_NAMES if in_trigger else set())
    internal = set()
    for source in _sources(tree):
        internal |= INTERNAL_COLUMNS.get(source, set())
    problems = []
    for identifier in tree.find_all(exp.Identifier):
        if identifier.quoted:
            continue
        name = identifier.name.lower()
        parent = identifier.parent
        if isinstance(parent, exp.Table) and identifier.arg_key == "this" and (
                name in INTERNAL_COLUMNS or name.startswith("pragma_")):
            continue  # FROM pragma_database_list: SQLite's table-valued function
        if name in allowed or isinstance(parent, exp.TableAlias | exp.Alias):
            continue  # SQLite's own name, or an alias this statement defines
        if isinstance(parent, exp.Column) and isinstance(
                parent.parent, exp.Collate | exp.CollateColumnConstraint):
            continue  # COLLATE NOCASE
        if (isinstance(parent, exp.Column) and isinstance(parent.parent, exp.Anonymous)
                and parent.parent.name.upper() == "RAISE"):
            continue  # RAISE(ABORT, 'message') in a trigger
        if name in defined and _may_be_local(identifier):
            continue
        if isinstance(parent, exp.Column) and identifier.arg_key == "this" and name in internal:
            continue
        problems.append(f"unquoted {_position(identifier)} {identifier.name}")
    return problems


def _local_names(tree: exp.Expression) -> set[str]:
    """Names the statement defines: CTE names, table and column aliases."""
    names = set()
    for node in tree.find_all(exp.TableAlias, exp.Alias):
        alias = node.args.get("this") if isinstance(node, exp.TableAlias) else node.args.get(
            "alias")
        if isinstance(alias, exp.Identifier):
            names.add(alias.name.lower())
        if isinstance(node, exp.TableAlias):
            names.update(c.name.lower() for c in node.args.get("columns") or ())
    return names


def _may_be_local(identifier: exp.Identifier) -> bool:
    """True where a local name may be used: a table (a CTE), a column's qualifier, or a
    column standing for a result alias (``ORDER BY n``)."""
    parent = identifier.parent
    if isinstance(parent, exp.Table):
        return identifier.arg_key == "this"
    return isinstance(parent, exp.Column)


def _sources(tree: exp.Expression) -> set[str]:
    names = {t.name.lower() for t in tree.find_all(exp.Table) if t.name}
    names |= {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    return names


def _position(identifier: exp.Identifier) -> str:
    parent = identifier.parent
    if isinstance(parent, exp.Table):
        return {"this": "table name", "db": "schema name"}.get(identifier.arg_key, "name")
    if isinstance(parent, exp.Column):
        return "column name" if identifier.arg_key == "this" else "table name"
    if isinstance(parent, exp.ColumnDef | exp.Schema):
        return "column name"
    if isinstance(parent, exp.Index):
        return "index name"
    return "name"


# --- who wrote a statement ---------------------------------------------------------------------


def author_of(sql: str, frame) -> object | None:
    """The frame that built ``sql``: the first one of this repository, going further up while
    ``sql`` is one of its function's arguments (library frames, pandas', are passed over)."""
    while frame is not None:
        file = frame.f_code.co_filename
        if file.startswith("<"):
            return frame  # code compiled from text: a notebook cell or a student's answer
        if not file.startswith(_REPO_PREFIX):
            frame = frame.f_back
            continue
        if _is_argument(sql, frame):
            frame = frame.f_back
            continue
        return frame
    return None


def _is_argument(sql: str, frame) -> bool:
    """True when ``sql`` came into the frame's function as an argument (``*args`` and
    ``**kwargs`` included: a decorator's wrapper passes it on)."""
    code = frame.f_code
    count = code.co_argcount + code.co_kwonlyargcount
    starred = bool(code.co_flags & inspect.CO_VARARGS) + bool(
        code.co_flags & inspect.CO_VARKEYWORDS)
    if not count + starred:
        return False
    values = frame.f_locals
    for name in code.co_varnames[:count + starred]:
        value = values.get(name)
        if value is sql:
            return True
        if isinstance(value, tuple) and any(v is sql for v in value):
            return True
        if isinstance(value, dict) and any(v is sql for v in value.values()):
            return True
    return False


_REPO_PREFIX = str(REPO_DIR) + "/"
_PACKAGE_PREFIX = str(PACKAGE_DIR) + "/"


def _relative(file: str) -> str:
    return file[len(_PACKAGE_PREFIX):] if file.startswith(_PACKAGE_PREFIX) else file


def _is_pending(module: str) -> bool:
    return any(module == p or (p.endswith("/") and module.startswith(p)) for p in PENDING)


_exempt_codes: dict[object, bool] = {}


def _is_exempt(code) -> bool:
    """A function holding an ``# sql-names: exempt, <reason>`` line, or one of
    :data:`FOREIGN_SQL_HELPERS`."""
    if code not in _exempt_codes:
        if (_relative(code.co_filename), code.co_name) in FOREIGN_SQL_HELPERS:
            _exempt_codes[code] = True
        else:
            try:
                lines, _ = inspect.getsourcelines(code)
            except OSError:
                lines = []
            _exempt_codes[code] = any(_EXEMPT_MARK in line for line in lines)
    return _exempt_codes[code]


# --- the guard ---------------------------------------------------------------------------------


@dataclass
class Guard:
    """What the suite ran: counts, problems per distinct text, offences not yet reported."""

    problems: dict[str, tuple[str, ...]] = field(default_factory=dict)
    offences: list[Offence] = field(default_factory=list)
    pending: dict[Offence, None] = field(default_factory=dict)  # in a PENDING module
    seen: dict[Offence, None] = field(default_factory=dict)  # every offence, in order
    executed: int = 0  # runs of a text course_etl wrote (a test may run the same text too)
    foreign: int = 0  # runs of a text written elsewhere: tests, notebooks, students, exempt code

    def observe(self, sql: object, frame) -> None:
        if not isinstance(sql, str):
            return
        problems = self.problems.get(sql)
        if problems == ():
            self.executed += 1  # a clean text course_etl ran before: nothing left to learn
            return
        author = author_of(sql, frame)
        if not self._authored_by_package(author):
            self.foreign += 1
            return
        if problems is None:
            problems = self.problems[sql] = check_statement(sql)
        self.executed += 1
        if problems:
            code = author.f_code
            caller = f"course_etl/{_relative(code.co_filename)}:{author.f_lineno} in {code.co_name}"
            offence = Offence(sql, caller, problems)
            if _is_pending(_relative(code.co_filename)):
                self.pending[offence] = None
                return
            self.offences.append(offence)
            self.seen[offence] = None

    @staticmethod
    def _authored_by_package(author) -> bool:
        return (author is not None and author.f_code.co_filename.startswith(_PACKAGE_PREFIX)
                and not _is_exempt(author.f_code))

    def take(self) -> list[Offence]:
        """The offences since the last call (each distinct one once)."""
        taken, self.offences = list(dict.fromkeys(self.offences)), []
        return taken


GUARD = Guard()


def _observe(sql: object) -> None:
    GUARD.observe(sql, sys._getframe(2))


class _Observed:
    """execute, executemany and executescript hand their SQL to the guard first."""

    def execute(self, sql, *args, **kwargs):
        _observe(sql)
        return super().execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        _observe(sql)
        return super().executemany(sql, *args, **kwargs)

    def executescript(self, sql, *args, **kwargs):
        _observe(sql)
        return super().executescript(sql, *args, **kwargs)


class GuardedCursor(_Observed, sqlite3.Cursor):
    pass


class GuardedConnection(_Observed, sqlite3.Connection):
    def cursor(self, factory=GuardedCursor):
        return super().cursor(factory)


_unguarded_connect = sqlite3.connect


def _guarded_connect(database, *args, **kwargs):
    if len(args) < 5 and "factory" not in kwargs:
        kwargs["factory"] = GuardedConnection
    return _unguarded_connect(database, *args, **kwargs)


def install() -> None:
    """Make every later ``sqlite3.connect`` return a :class:`GuardedConnection`."""
    sqlite3.connect = _guarded_connect
