"""Table and column names from configuration, checked against the database before they reach SQL.

A value can travel as a ``?`` parameter; a table or column name cannot, so a name that comes from
a config file or an environment variable must be checked against what really exists and then
quoted. The lecture's ``get_watermark`` pastes the name into an f-string; it is kept as written
(:func:`lecture_get_watermark`) next to the safe version (:func:`get_watermark`), and
:func:`create_injection_demo` builds the throwaway database that shows the difference.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from course_etl.config.layers import Problem
from course_etl.config.resolve import Config, ConfigError
from course_etl.db import TableRef, query, quote_identifier, resolve_table, table_exists
from course_etl.errors import CourseEtlError, checked

__all__ = [
    "get_watermark",
    "ConfiguredTables",
    "check_against_database",
    "target_name",
]

@checked
def get_watermark(conn: sqlite3.Connection, table: str, col: str = "updated_at") -> object:
    """The highest value of ``col`` in ``table``, with both names checked and quoted.

    The names must be a real table (``table`` or ``schema.table``) and one of its columns; only
    then are they quoted into the statement. Raises UnknownTableError (listing the tables) or
    UnknownColumnError (listing the columns).
    """
    ref = resolve_table(conn, table, role="watermark table")
    column = ref.column(col, role="watermark column")
    return query(conn, f"SELECT MAX({quote_identifier(column)}) AS wm FROM {ref.sql}").iloc[0, 0]


@dataclass(frozen=True)
class ConfiguredTables:
    """The configured tables, resolved: the source, and the target and watermark table when
    they exist already (the first incremental load creates the target)."""

    source: TableRef
    target: TableRef | None
    watermark_table: TableRef | None


@checked
def target_name(config: Config) -> str:
    """The target as the load functions take it: ``table`` or ``schema.table``."""
    load = config.load
    return load.target_table if load.target_schema == "main" else (
        f"{load.target_schema}.{load.target_table}")


def _problem(config: Config, key: str, error: Exception) -> Problem:
    return Problem(key, config.get(key), config.source_of(key), str(error))


@checked
def check_against_database(conn: sqlite3.Connection, config: Config) -> ConfiguredTables:
    """Check every table and column name in ``config.load`` against the database.

    The source table must exist with the key, watermark and soft-delete columns; the target
    schema must be attached (and a target outside ``main`` must exist). The watermark table is
    resolved when it exists; the load does not read it, so it is checked where it is read
    (:func:`get_watermark`). Raises ConfigError naming each bad key, its value, where it was set
    and what exists.
    """
    load = config.load
    problems: list[Problem] = []
    schemas = [row[1] for row in conn.execute("PRAGMA database_list")]
    if load.target_schema not in schemas:
        problems.append(Problem("load.target_schema", load.target_schema,
                                config.source_of("load.target_schema"),
                                f"no such schema (attached: {', '.join(schemas)})"))
    source = None
    try:
        source = resolve_table(conn, load.source_table, role="source table")
    except CourseEtlError as error:
        problems.append(_problem(config, "load.source_table", error))
    if source is not None:
        columns = [("load.watermark_column", load.watermark_column, "watermark column"),
                   ("load.soft_delete", load.soft_delete, "soft-delete column")]
        columns += [("load.key", k, "key column") for k in load.key]
        for key, column, role in columns:
            if column is None:
                continue
            try:
                source.column(column, role=role)
            except CourseEtlError as error:
                problems.append(Problem(key, column, config.source_of(key), str(error)))
    target = watermark_table = None
    if not problems:
        name = target_name(config)
        target = resolve_table(conn, name, role="target table") if table_exists(
            conn, name) else None
        if target is None and load.target_schema != "main":
            # The load engine creates missing targets only in the warehouse's own schema.
            problems.append(Problem("load.target_table", load.target_table,
                                    config.source_of("load.target_table"),
                                    f"no table {name!r} yet: create it in schema "
                                    f"{load.target_schema!r} first (new targets are created "
                                    "only in 'main')"))
        # The loads keep their watermark in etl_watermarks; load.watermark_table is the table
        # the lecture's get_watermark reads, which a load never uses, so it cannot refuse one
        # (a first load into another target would be refused for the lecture's table).
        if table_exists(conn, load.watermark_table):
            watermark_table = resolve_table(conn, load.watermark_table, role="watermark table")
    if problems:
        raise ConfigError(problems=problems)
    return ConfiguredTables(source=source, target=target, watermark_table=watermark_table)
