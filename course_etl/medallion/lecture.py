"""The lecture's medallion code, kept exactly as taught, and an account of what it loses.

:data:`LECTURE_MEDALLION_SQL` is the lecture's three ``CREATE TABLE … AS SELECT`` statements,
verbatim (rendered from ``course_etl/facts/templates/medallion.sql.j2`` with the course's names).
On the lecture's clean three-to-five-row table they work. :func:`create_dirty_source`
lands a dirty export in ``src_customers`` (all text, no key: an export holds every version it
sent), and :func:`lecture_losses` counts, after the statements ran, each promise of the medallion
layers that they broke: versions left side by side, rows dropped without a trace, one city split
into several gold groups, timestamps left unparsed.
"""

from __future__ import annotations

import re
import sqlite3

import pandas as pd

from course_etl.db import atomic, query, quote_identifier
from course_etl.errors import checked
from course_etl.facts import TABLES
from course_etl.facts.lecture_code import render
from course_etl.medallion.entities import CUSTOMERS
from course_etl.medallion.silver import clean_text, parse_timestamp

_SOURCE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")

__all__ = ["LECTURE_MEDALLION_SQL", "run_lecture_medallion", "create_dirty_source",
           "lecture_losses"]

_BRONZE, _SILVER, _GOLD = CUSTOMERS.bronze_table, CUSTOMERS.silver_table, TABLES.lecture_gold
# The lecture's statements as written, with the course's table names filled in.
LECTURE_MEDALLION_SQL = render("medallion.sql.j2", bronze=_BRONZE, silver=_SILVER)


@checked
def run_lecture_medallion(conn: sqlite3.Connection) -> None:
    """Run the lecture's three statements on ``conn`` (which must hold ``src_customers``)."""
    # sql-names: exempt, the lecture's medallion SQL run as written, to show what it loses
    conn.executescript(LECTURE_MEDALLION_SQL)


@checked
def create_dirty_source(conn: sqlite3.Connection, customers: pd.DataFrame) -> int:
    """(Re)create the source table as a raw export: all columns text, every row as sent (an
    optional column the frame lacks is NULL)."""
    table_sql = quote_identifier(TABLES.source)
    names = CUSTOMERS.raw_columns
    columns_sql = ", ".join(f"{quote_identifier(c)} TEXT" for c in names)
    placeholders_sql = ", ".join("?" * len(names))
    with atomic(conn):
        conn.execute(f"DROP TABLE IF EXISTS {table_sql}")
        conn.execute(f"CREATE TABLE {table_sql} ({columns_sql})")
        rows = customers.reindex(columns=list(names)).astype(object)
        conn.executemany(f"INSERT INTO {table_sql} VALUES ({placeholders_sql})",
                         [tuple(None if pd.isna(v) else v for v in row)
                          for row in rows.itertuples(index=False)])
    return len(customers)


def _in_the_sources_format(value: object) -> bool:
    """True for 'YYYY-MM-DD HH:MM:SS' text that is a real moment: the one format that sorts
    and compares correctly next to the others the lecture's rows use."""
    if not isinstance(value, str) or not _SOURCE_FORMAT.fullmatch(value):
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


@checked
def lecture_losses(conn: sqlite3.Connection) -> pd.DataFrame:
    """After :func:`run_lecture_medallion`: one row per broken promise, with how many rows."""
    bronze, silver, gold = (query(conn, f"SELECT * FROM {quote_identifier(table)}")
                            for table in (_BRONZE, _SILVER, _GOLD))
    per_id = silver.groupby("id", dropna=False).size()
    cities = gold["city"].map(lambda c: None if c is None or pd.isna(c) or clean_text(c) is None
                              else clean_text(c).title())
    blank_names = silver["name"].map(lambda n: clean_text(n) is None).sum()
    return pd.DataFrame([
        ("silver: one row per customer",
         f"{int((per_id > 1).sum())} ids have several rows (DISTINCT keeps every version)",
         int((per_id[per_id > 1] - 1).sum())),
        ("silver: nothing dropped silently",
         "rows with a NULL name vanished: no rejects table, no count",
         int(bronze["name"].isna().sum())),
        ("silver: missing values rejected",
         "blank names ('' or spaces) passed WHERE name IS NOT NULL",
         int(blank_names)),
        ("silver: typed timestamps",
         "updated_at kept as sent: other formats, impossible dates",
         int((~silver["updated_at"].map(_in_the_sources_format)).sum())),
        ("gold: one group per city",
         "extra groups: casing, inner spaces, blank or NULL cities",
         int(len(gold) - cities.dropna().nunique())),
    ], columns=["promise", "what the lecture's SQL did", "rows affected"])
