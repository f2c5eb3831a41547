"""The shapes the course's facts take: columns, table schemas, source changes, a schedule.

:mod:`course_etl.facts.lecture` fills these in (the lecture's data, schedule and names); this
module only says what a well-formed fact is and builds what code needs from one (a ``CREATE
TABLE``, an ``INSERT`` with placeholders, a row as a tuple in column order). Every check raises
:class:`FactsError` with the place to edit, so a wrong edit fails at import with one line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from course_etl.db import quote_identifier, validate_identifier
from course_etl.errors import CourseEtlError

__all__ = [
    "FactsError", "FACTS_FILE", "REQUIRED", "KINDS", "Column", "Schema", "Insert", "Update",
    "Delete", "Change", "Schedule", "Tables",
]

#: Where an instructor edits the facts; every error below names it.
FACTS_FILE = "course_etl/facts/lecture.py"
#: What silver does with a column's text (see :mod:`course_etl.medallion.conform`).
KINDS = ("integer", "text", "city", "timestamp", "money")


class FactsError(CourseEtlError):
    """A fact that does not fit the others (``.fact``: which one, ``LECTURE_ORDERS[0]``,
    ``.value``; ``.known``: the values it may take, where it must name one of them)."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a column every row must give a value for.
REQUIRED = _Required()


def _fail(fact: str, problem: str, value: object = None, **facts: object) -> FactsError:
    return FactsError(f"{FACTS_FILE}: {fact} {problem}", fact=fact, value=value, **facts)


@dataclass(frozen=True)
class Column:
    """One column: its SQL type, what kind of value it holds, whether the source may leave it
    NULL, and its default. A column with a default is optional: a row, a change or a batch may
    leave it out and gets the default (``None``: NULL); without one (:data:`REQUIRED`) every row
    must give it and silver rejects a row where it is missing."""

    name: str
    sql_type: str = "TEXT"
    kind: str = "text"
    nullable: bool = True
    default: object = REQUIRED

    def __post_init__(self) -> None:
        validate_identifier(self.name, what=f"column name in {FACTS_FILE}")
        if self.sql_type not in ("TEXT", "INTEGER", "REAL"):
            raise _fail(f"column {self.name!r}", f"has type {self.sql_type!r}: use TEXT, "
                        "INTEGER or REAL", self.sql_type, known=["TEXT", "INTEGER", "REAL"])
        if self.kind not in KINDS:
            raise _fail(f"column {self.name!r}", f"has kind {self.kind!r}: use one of "
                        f"{', '.join(KINDS)}", self.kind, known=list(KINDS))
        if self.default is None and not self.nullable:
            raise _fail(f"column {self.name!r}", "defaults to NULL but may not be NULL: give it "
                        "another default or drop nullable=False", self.default)

    @property
    def optional(self) -> bool:
        return self.default is not REQUIRED


@dataclass(frozen=True)
class Schema:
    """A table's columns, its key and its watermark column (None: no incremental loads)."""

    name: str
    columns: tuple[Column, ...]
    key: str
    watermark: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise _fail(f"{self.name} columns", f"name {', '.join(twice)} twice", twice)
        for role in ("key", "watermark"):
            value = getattr(self, role)
            if value is not None and value not in names:
                raise _fail(f"{self.name} {role}", f"{value!r} is not one of its columns "
                            f"({', '.join(names)})", value, known=names)
            if value is not None and self.column(value).optional:
                raise _fail(f"{self.name} {role}", f"{value!r} cannot be optional: drop its "
                            "default", value)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise _fail(f"{self.name} column {name!r}", f"does not exist (columns: "
                    f"{', '.join(self.names)})", name, known=list(self.names))

    def ddl(self, table: str, *, constraints: bool = False, autoincrement: bool = False,
            primary_key: bool = True, extra: Sequence[Column] = (),
            database: str | None = None) -> str:
        """``CREATE TABLE "table" (…)`` with the key as INTEGER PRIMARY KEY (none with
        ``primary_key=False``: a staging table that holds whatever arrived). ``constraints``
        adds NOT NULL to the columns the source never leaves empty and each optional column's
        DEFAULT, as a source built for extraction declares them; without it, the bare types
        the lecture wrote. ``extra`` columns (e.g. ``is_deleted``) come last, always with
        their constraints. ``database`` names an attached database (``mart``) to create it in."""
        defs_sql = []
        for column in (*self.columns, *extra):
            strict = constraints or column in extra
            type_sql = column.sql_type  # one of three keywords: checked on construction
            if column.name == self.key and primary_key:
                type_sql += " PRIMARY KEY" + (" AUTOINCREMENT" if autoincrement else "")
            elif strict and not column.nullable:
                type_sql += " NOT NULL"
            if strict and column.optional and column.default is not None:
                type_sql += " DEFAULT " + sql_literal(column.default)
            defs_sql.append(f"{quote_identifier(column.name)} {type_sql}")
        columns_sql = ", ".join(defs_sql)
        table_sql = quote_identifier(validate_identifier(table))
        if database is not None:
            table_sql = f"{quote_identifier(validate_identifier(database))}.{table_sql}"
        return f"CREATE TABLE {table_sql} ({columns_sql})"

    def insert_sql(self, table: str, columns: Sequence[str] | None = None) -> str:
        """``INSERT INTO "table" ("c1", …) VALUES (?, …)`` for ``columns`` (default: all)."""
        names = self.names if columns is None else tuple(columns)
        columns_sql = ", ".join(quote_identifier(c) for c in names)
        placeholders_sql = ", ".join("?" * len(names))
        return (f"INSERT INTO {quote_identifier(validate_identifier(table))} ({columns_sql}) "
                f"VALUES ({placeholders_sql})")

    def row(self, values: Mapping[str, object], *, fact: str = "a row") -> dict[str, object]:
        """``values`` completed with each optional column's default, in column order.

        Raises FactsError naming ``fact`` for a missing required column or an unknown one."""
        unknown = [k for k in values if k not in self.names]
        if unknown:
            raise _fail(fact, f"has column(s) {', '.join(map(repr, unknown))} that "
                        f"{self.name} does not (columns: {', '.join(self.names)}): add them to "
                        "its schema or drop them", unknown, known=list(self.names))
        missing = [c.name for c in self.columns if c.name not in values and not c.optional]
        if missing:
            raise _fail(fact, f"lacks {', '.join(map(repr, missing))}: give a value or declare "
                        f"a default in the {self.name} schema", missing)
        return {c.name: values.get(c.name, c.default) for c in self.columns}

    def as_tuple(self, values: Mapping[str, object], *, fact: str = "a row") -> tuple:
        """The row's values in column order, defaults filled in (see :meth:`row`)."""
        return tuple(self.row(values, fact=fact).values())


def sql_literal(value: object) -> str:
    """A constant for a DEFAULT clause, spelled by SQLite itself (no hand-made quoting)."""
    with closing(sqlite3.connect(":memory:")) as conn:
        return conn.execute("SELECT quote(?)", (value,)).fetchone()[0]


@dataclass(frozen=True)
class Insert:
    """A new row arrives at the source."""

    values: Mapping[str, object]

    def __init__(self, **values: object) -> None:
        object.__setattr__(self, "values", dict(values))


@dataclass(frozen=True)
class Update:
    """The row with key ``key`` changes ``values``."""

    key: object
    values: Mapping[str, object]

    def __init__(self, key: object, **values: object) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "values", dict(values))


@dataclass(frozen=True)
class Delete:
    """The row with key ``key`` is deleted at the source (a hard delete)."""

    key: object


Change = Insert | Update | Delete


def apply_changes(schema: Schema, rows: Iterable[Mapping], changes: Iterable[Change], *,
                  fact: str = "a change") -> list[dict]:
    """What the source holds after ``changes``, computed in Python (rows as complete dicts, in
    key order). Raises FactsError for an insert of a key that exists, an update or delete of
    one that does not, or a column the schema lacks."""
    by_key = {r[schema.key]: schema.row(r, fact=fact) for r in rows}
    for change in changes:
        if isinstance(change, Insert):
            row = schema.row(change.values, fact=fact)
            if row[schema.key] in by_key:
                raise _fail(fact, f"inserts {schema.key}={row[schema.key]!r}, which exists: "
                            "use Update or another key", row[schema.key])
            by_key[row[schema.key]] = row
            continue
        if change.key not in by_key:
            raise _fail(fact, f"changes {schema.key}={change.key!r}, which does not exist "
                        f"(known: {', '.join(map(str, sorted(by_key)))})", change.key,
                        known=sorted(by_key))
        if isinstance(change, Delete):
            del by_key[change.key]
            continue
        unknown = [k for k in change.values if k not in schema.names or k == schema.key]
        if unknown:
            raise _fail(fact, f"updates {', '.join(map(repr, unknown))}: not a non-key column "
                        f"of {schema.name} ({', '.join(schema.names)})", unknown,
                        known=[n for n in schema.names if n != schema.key])
        by_key[change.key] = {**by_key[change.key], **change.values}
    return [by_key[k] for k in sorted(by_key)]


def change_statement(schema: Schema, table: str, change: Change) -> tuple[str, tuple]:
    """``(sql, parameters)`` that make ``change`` at ``table``: names quoted, values bound."""
    table_sql = quote_identifier(validate_identifier(table))
    key_sql = quote_identifier(schema.key)
    if isinstance(change, Insert):
        row = schema.row(change.values)
        return schema.insert_sql(table), tuple(row.values())
    if isinstance(change, Delete):
        return f"DELETE FROM {table_sql} WHERE {key_sql} = ?", (change.key,)
    assignments_sql = ", ".join(f"{quote_identifier(c)} = ?" for c in change.values)
    return (f"UPDATE {table_sql} SET {assignments_sql} WHERE {key_sql} = ?",
            (*change.values.values(), change.key))


@dataclass(frozen=True)
class Schedule:
    """When the lecture's pipeline runs: one cron expression read in one time zone, from the
    story's first day, with the lecture's DAG settings."""

    dag_id: str
    cron: str
    timezone: str
    start_date: date
    catchup: bool = False
    retries: int = 1

    def __post_init__(self) -> None:
        fields = len(self.cron.split())
        if fields != 5 or not croniter.is_valid(self.cron):
            problem = (f"has {fields} fields" if fields != 5 else
                       "has a value out of range (minute 0-59, hour 0-23, day 1-31, month 1-12, "
                       "weekday 0-6)")
            raise _fail("SCHEDULE.cron", f"{self.cron!r} {problem}: write five fields, minute "
                        "hour day month weekday, e.g. '30 6 * * *'", self.cron)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail("SCHEDULE.timezone", f"{self.timezone!r} is not an IANA time zone "
                        "(e.g. 'UTC', 'Europe/Berlin')", self.timezone) from None

    @property
    def once_a_day(self) -> bool:
        """True for a cron that fires every day at one minute (``30 6 * * *``)."""
        minute, hour, *days = self.cron.split()
        return days == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()

    @property
    def time_of_day(self) -> str | None:
        """``HH:MM`` of a once-a-day schedule (``06:30`` for ``30 6 * * *``), else None.
        When exactly a cron fires (daylight saving included) is
        :mod:`course_etl.scheduling.cron`'s to say."""
        if not self.once_a_day:
            return None
        minute, hour = (int(field) for field in self.cron.split()[:2])
        return f"{hour:02d}:{minute:02d}"


@dataclass(frozen=True)
class Tables:
    """The course's table names: one place, so a rename is one edit."""

    source: str
    warehouse: str
    staging: str
    watermarks: str
    orders: str
    lecture_gold: str

    def __post_init__(self) -> None:
        for role, name in vars(self).items():
            validate_identifier(name, what=f"TABLES.{role} in {FACTS_FILE}")
