"""Lineage: where a gold row came from, and a picture of the layers with row counts.

:func:`trace_gold_row` takes one row of a mart (by its key) and returns the silver rows that were
aggregated into it, the earlier versions of those rows, and the bronze batches they arrived in.
:func:`layer_flow_figure` draws bronze → silver → gold with the number of rows on every arrow,
including the rows that went to superseded and rejects, in the lecture style' visual language.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from course_etl import style
from course_etl.db import query, quote_identifier
from course_etl.errors import CourseEtlError, UnknownTableError, checked
from course_etl.medallion.bronze import BATCHES_TABLE
from course_etl.medallion.entities import CUSTOMERS, ORDERS
from course_etl.medallion.gold import (
    CITY_DAILY_REVENUE,
    CUSTOMER_STATS,
    GOLD_TABLES,
    ORPHAN_ORDERS,
    ensure_gold,
)
from course_etl.medallion.silver import REJECTS_TABLE, ensure_silver

__all__ = ["Lineage", "LineageKeyError", "trace_gold_row", "layer_counts", "layer_flow_figure"]

_MART_KEYS = {CUSTOMER_STATS: ("city",), CITY_DAILY_REVENUE: ("city", "day")}


class LineageKeyError(CourseEtlError):
    """A gold row asked for by a key that does not name one: ``.table`` (the mart), ``.key``
    (the columns that identify its rows); per situation ``.given`` (the columns given instead),
    or ``.value`` (the key given, ``{column: value}``, which no row has) and ``.examples`` (up to
    three keys the mart holds, empty for an empty mart)."""


@dataclass(frozen=True)
class Lineage:
    """A gold row, the silver rows it aggregates, their older versions and bronze batches."""

    mart: str
    key: dict
    gold_row: dict
    silver: dict[str, pd.DataFrame]
    superseded: pd.DataFrame
    batches: pd.DataFrame

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.key.items())
        values = ", ".join(f"{k}={v}" for k, v in self.gold_row.items() if k not in self.key)
        lines = [f"{self.mart}[{key}] ({values})"]
        for table, rows in self.silver.items():
            lines.append(f"  ← {len(rows)} row(s) of {table}")
        lines.append(f"  ← {len(self.superseded)} earlier version(s) of those customers")
        batches = ", ".join(
            f"{b.batch_id} ({b.source})" for b in self.batches.itertuples(index=False))
        lines.append(f"  ← bronze batches {batches}")
        return "\n".join(lines)


def _gold_row(conn: sqlite3.Connection, mart: str, key: dict) -> dict:
    if mart not in _MART_KEYS:
        raise UnknownTableError(f"unknown gold mart {mart!r} (known: {', '.join(GOLD_TABLES)})",
                                table=mart, known=list(GOLD_TABLES), what="gold mart")
    wanted = _MART_KEYS[mart]
    if set(key) != set(wanted):
        raise LineageKeyError(
            f"{mart} rows are identified by {', '.join(wanted)}, not {', '.join(key) or 'nothing'}"
            f" (e.g. trace_gold_row(conn, {mart!r}, {'=..., '.join(wanted)}=...))",
            table=mart, key=list(wanted), given=list(key))
    where_sql = " AND ".join(f"{quote_identifier(k)} = ?" for k in wanted)
    found = query(conn, f"SELECT * FROM {quote_identifier(mart)} WHERE {where_sql}",
                  [key[k] for k in wanted])
    if found.empty:
        columns_sql = ", ".join(map(quote_identifier, wanted))
        examples = query(conn, f"SELECT {columns_sql} "
                               f"FROM {quote_identifier(mart)} ORDER BY 1 LIMIT 3")
        raise LineageKeyError(
            f"no row in {mart} with {key} (e.g. "
            f"{_keys_text(examples.to_dict('records')) or 'the mart is empty'})",
            table=mart, key=list(wanted), value=key, examples=examples.to_dict("records"))
    return found.iloc[0].to_dict()


def _keys_text(keys: list[dict]) -> str:
    """Keys for a message: ``city='Austin'; city='Berlin'``."""
    return "; ".join(", ".join(f"{k}={v!r}" for k, v in row.items()) for row in keys)


@checked
def trace_gold_row(conn: sqlite3.Connection, mart: str, **key: str) -> Lineage:
    """The lineage of one gold row: ``trace_gold_row(conn, "gold_customer_stats", city="Berlin")``.

    Raises UnknownTableError for an unknown mart, LineageKeyError for a wrong or unknown key.
    """
    gold_row = _gold_row(conn, mart, key)
    customers_sql = quote_identifier(CUSTOMERS.silver_table)
    id_sql, city_sql = quote_identifier(CUSTOMERS.key), quote_identifier("city")
    if mart == CUSTOMER_STATS:
        silver = {CUSTOMERS.silver_table: query(
            conn, f"SELECT * FROM {customers_sql} WHERE {city_sql} = ? ORDER BY {id_sql}",
            [key["city"]])}
    else:
        orders = query(
            conn,
            f"SELECT o.* FROM {quote_identifier(ORDERS.silver_table)} AS o "
            f"JOIN {customers_sql} AS c ON c.{id_sql} = o.{quote_identifier('customer_id')} "
            f"WHERE c.{city_sql} = ? AND substr(o.{quote_identifier('ordered_at')}, 1, 10) = ? "
            f"ORDER BY o.{quote_identifier(ORDERS.key)}",
            [key["city"], key["day"]],
        )
        ids = sorted({int(i) for i in orders["customer_id"]})
        marks_sql = ", ".join("?" * len(ids))
        silver = {
            ORDERS.silver_table: orders,
            CUSTOMERS.silver_table: query(
                conn, f"SELECT * FROM {customers_sql} WHERE {id_sql} IN ({marks_sql}) "
                      f"ORDER BY {id_sql}", ids),
        }
    ids = [int(i) for i in silver[CUSTOMERS.silver_table]["id"]]
    marks_sql = ", ".join("?" * len(ids))
    superseded = query(
        conn, f"SELECT * FROM {quote_identifier(CUSTOMERS.superseded_table)} "
              f"WHERE {id_sql} IN ({marks_sql}) "
              f"ORDER BY {id_sql}, {quote_identifier('_bronze_row')}", ids)
    used = pd.concat([frame[["_batch_id"]] for frame in silver.values()])
    counts = used.groupby("_batch_id").size()
    batch_ids = [int(b) for b in counts.index]
    marks_sql = ", ".join("?" * len(batch_ids))
    batch_id_sql = quote_identifier("batch_id")
    columns_sql = ", ".join(map(quote_identifier, (
        "batch_id", "entity", "source", "ingested_at", "row_count")))
    batches = query(
        conn, f"SELECT {columns_sql} FROM {quote_identifier(BATCHES_TABLE)} "
              f"WHERE {batch_id_sql} IN ({marks_sql}) ORDER BY {batch_id_sql}",
        batch_ids)
    batches["rows_used"] = [int(counts[b]) for b in batches["batch_id"]]
    return Lineage(mart, dict(key), gold_row, silver, superseded, batches)


@checked
def layer_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Row counts of every medallion table (bronze, silver, superseded, rejects, gold, orphans)."""
    ensure_silver(conn)
    ensure_gold(conn)
    counts = {}
    for entity in (CUSTOMERS, ORDERS):
        for table in (entity.bronze_table, entity.silver_table, entity.superseded_table):
            counts[table] = _count(conn, table)
        counts[f"{REJECTS_TABLE}.{entity.name}"] = conn.execute(
            f"SELECT COUNT(*) FROM {quote_identifier(REJECTS_TABLE)} "
            f"WHERE {quote_identifier('entity')} = ?",
            (entity.name,)).fetchone()[0]
    for table in (*GOLD_TABLES, ORPHAN_ORDERS):
        counts[table] = _count(conn, table)
    counts["matched_orders"] = conn.execute(
        f"SELECT COALESCE(SUM({quote_identifier('n_orders')}), 0) "
        f"FROM {quote_identifier(CITY_DAILY_REVENUE)}"
    ).fetchone()[0]
    return counts


def _count(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {quote_identifier(table)}").fetchone()[0]


def _flow(counts: dict[str, int]) -> Figure:
    d = style
    fig, ax = d.new_canvas(
        "Rows through the medallion layers",
        "Every bronze row ends up kept in silver, superseded by a newer version, or rejected "
        "with a reason.",
    )
    colors = d.MEDALLION_COLORS
    for x, layer in ((2, "bronze"), (36, "silver"), (73, "gold")):
        d.draw_text(ax, (x + 12.5, 49.5), layer, ha="center", weight="bold", size=d.FONT_HEADING,
                color=d.INK)
    lanes = {}
    for entity, y in ((CUSTOMERS, 37), (ORDERS, 15)):
        bronze = d.draw_box(ax, (2, y), 25, 8,
                            f"{entity.bronze_table}\n{counts[entity.bronze_table]} rows",
                            colors["bronze"], size=d.FONT_SMALL, family=d.MONO)
        silver = d.draw_box(ax, (40, y), 22, 8, f"{entity.silver_table}\n"
                        f"{counts[entity.silver_table]} rows", colors["silver"],
                        size=d.FONT_SMALL, family=d.MONO)
        d.draw_arrow(ax, bronze.right, silver.left)
        _label(ax, bronze.right, silver.left, f"{counts[entity.silver_table]} kept", dy=1.4)
        # The two ways out of bronze other than silver hang right below it, one arrow each.
        for x, label, count in (
            (2, "superseded\n(other versions)", counts[entity.superseded_table]),
            (15, "rejects\n(rule + reason)", counts[f"{REJECTS_TABLE}.{entity.name}"]),
        ):
            side = d.draw_box(ax, (x, y - 11), 12, 6, label, "white", size=d.FONT_SMALL,
                          linestyle="--")
            d.draw_arrow(ax, (side.top[0], bronze.y), side.top)
            d.draw_text(ax, (side.top[0] + 0.8, bronze.y - 2.5), f"{count}", size=d.FONT_SMALL)
        lanes[entity.name] = silver
    stats = d.draw_box(ax, (73, 37), 25, 8, f"{CUSTOMER_STATS}\n{counts[CUSTOMER_STATS]} cities",
                   colors["gold"], size=d.FONT_SMALL, family=d.MONO)
    revenue = d.draw_box(ax, (73, 15), 25, 8, f"{CITY_DAILY_REVENUE}\n"
                     f"{counts[CITY_DAILY_REVENUE]} city-days", colors["gold"],
                     size=d.FONT_SMALL, family=d.MONO)
    customers, orders = lanes["customers"], lanes["orders"]
    orphans = d.draw_box(ax, (orders.x, 4), orders.w, 6, "orphan orders\n(no such customer)",
                     "white", size=d.FONT_SMALL, linestyle="--")
    d.draw_arrow(ax, orders.bottom, orphans.top)
    d.draw_text(ax, (orders.bottom[0] + 0.8, orders.y - 2.5), f"{counts[ORPHAN_ORDERS]}",
            size=d.FONT_SMALL)
    d.draw_arrow(ax, customers.right, stats.left)
    _label(ax, customers.right, stats.left, f"{counts[CUSTOMERS.silver_table]} customers",
           dy=1.4)
    d.draw_arrow(ax, orders.right, revenue.left)
    _label(ax, orders.right, revenue.left, f"{counts['matched_orders']} orders", dy=1.4)
    d.draw_arrow(ax, (customers.x + customers.w - 3, customers.y), (revenue.x + 3, revenue.top[1]),
             linestyle="--")
    d.draw_text(ax, (70, 30.5), "city of each order", size=d.FONT_SMALL, color=d.MUTED_INK)
    return style.set_alt_text(fig, _flow_alt(counts))


def _flow_alt(counts: dict[str, int]) -> str:
    """What the flow picture shows, from the same counts."""
    lanes = "; ".join(
        f"{e.bronze_table} {counts[e.bronze_table]} rows: {counts[e.silver_table]} kept in "
        f"{e.silver_table}, {counts[e.superseded_table]} superseded, "
        f"{counts[f'{REJECTS_TABLE}.{e.name}']} rejected" for e in (CUSTOMERS, ORDERS))
    return (f"Rows through the medallion layers. {lanes}. Gold: {CUSTOMER_STATS} has "
            f"{counts[CUSTOMER_STATS]} cities from {counts[CUSTOMERS.silver_table]} customers; "
            f"{CITY_DAILY_REVENUE} has {counts[CITY_DAILY_REVENUE]} city-days from "
            f"{counts['matched_orders']} orders; {counts[ORPHAN_ORDERS]} orphan orders (no such "
            "customer).")


def _label(ax, start: tuple[float, float], end: tuple[float, float], text: str, *,
           dy: float) -> None:
    style.draw_text(ax, ((start[0] + end[0]) / 2, start[1] + dy), text, ha="center",
                   size=style.FONT_SMALL, color=style.INK)


@checked
def layer_flow_figure(conn: sqlite3.Connection) -> Figure:
    """Draw bronze → silver → gold with the row counts of ``conn`` on every arrow."""
    counts = layer_counts(conn)
    with style.pinned_style():
        return _flow(counts)
