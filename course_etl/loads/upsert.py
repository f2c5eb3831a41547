"""The upsert a load runs: one set-based ``INSERT … SELECT … ON CONFLICT DO UPDATE``.

Rows whose values did not change are not rewritten (the ``WHERE`` of the ``DO UPDATE``), and a
large load can move its rows in keyset batches of ``batch_size`` (all in the caller's one
transaction). Names go through :func:`course_etl.db.quote_identifier`, values as parameters.
"""

from __future__ import annotations

import sqlite3
import typing
from collections.abc import Sequence

from course_etl.db import TableRef, quote_identifier

__all__ = ["column_list_sql", "key_match_sql", "upsert_sql", "upsert_in_batches"]


def column_list_sql(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(prefix + quote_identifier(n) for n in names)


def key_match_sql(key: Sequence[str], left_sql: str, right_sql: str) -> str:
    """``left.k = right.k AND …`` over ``key``; ``left_sql``/``right_sql`` are aliases or refs."""
    return " AND ".join(
        f"{left_sql}.{quote_identifier(k)} = {right_sql}.{quote_identifier(k)}" for k in key
    )


def balanced_sql(operator: typing.Literal["AND", "OR"], terms: list[str]) -> str:
    """``a OR b OR …`` (or AND) as a balanced tree: SQLite parses a flat chain of N terms into
    an expression N deep and refuses one over 1,000 (a wide table's change test would be)."""
    joint_sql = {"AND": " AND ", "OR": " OR "}[operator]
    if len(terms) <= 2:
        return joint_sql.join(terms)
    middle = len(terms) // 2
    return (f"({balanced_sql(operator, terms[:middle])}){joint_sql}"
            f"({balanced_sql(operator, terms[middle:])})")


def upsert_sql(src: TableRef, tgt: TableRef, key: tuple[str, ...], where_sql: str) -> str:
    """INSERT … SELECT … ON CONFLICT DO UPDATE that skips rows whose values did not change."""
    cols = src.columns
    others = [c for c in cols if c not in key]
    head = (
        f"INSERT INTO {tgt.sql} AS t ({column_list_sql(cols)}) "
        f"SELECT {column_list_sql(cols)} FROM {src.sql} "
        f"WHERE {where_sql} ON CONFLICT ({column_list_sql(key)}) "
    )
    if not others:
        return head + "DO NOTHING"
    assignments_sql = ", ".join(f"{quote_identifier(c)} = excluded.{quote_identifier(c)}"
                                for c in others)
    changed_sql = balanced_sql(
        "OR", [f"t.{quote_identifier(c)} IS NOT excluded.{quote_identifier(c)}" for c in others])
    return head + f"DO UPDATE SET {assignments_sql} WHERE {changed_sql}"


def upsert_in_batches(
    conn: sqlite3.Connection, src: TableRef, tgt: TableRef, key: tuple[str, ...],
    watermark: str, where_sql: str, params: dict, batch_size: int | None, rows_read: int,
) -> tuple[int, int]:
    """Run the upsert, in one statement or in keyset batches of ``batch_size`` rows.

    Batches walk the candidates in (watermark, key) order; each batch is bounded by the last row
    of the previous one and by its own last row, found with LIMIT 1 OFFSET batch_size - 1.
    """
    if batch_size is None or rows_read <= batch_size:
        return conn.execute(upsert_sql(src, tgt, key, where_sql), params).rowcount, 1
    order = (watermark, *key)
    order_sql = column_list_sql(order)
    wm_sql = quote_identifier(watermark)
    names = [f"o{i}" for i in range(len(order))]
    batches = -(-rows_read // batch_size)
    written = 0
    last: tuple | None = None
    for number in range(batches):
        scope_sql = where_sql
        bound_params = dict(params)
        if last is not None:
            # The plain comparison on the watermark lets SQLite start from its index.
            scope_sql += (f" AND {wm_sql} >= :last_o0 "
                          f"AND ({order_sql}) > ({placeholders_sql('last_', names)})")
            bound_params |= {f"last_{n}": v for n, v in zip(names, last, strict=True)}
        if number < batches - 1:
            last = conn.execute(
                f"SELECT {order_sql} FROM {src.sql} WHERE {scope_sql} ORDER BY {order_sql} "
                "LIMIT 1 OFFSET :offset",
                bound_params | {"offset": batch_size - 1},
            ).fetchone()
            scope_sql += (f" AND {wm_sql} <= :upper_o0 "
                          f"AND ({order_sql}) <= ({placeholders_sql('upper_', names)})")
            bound_params |= {f"upper_{n}": v for n, v in zip(names, last, strict=True)}
        written += conn.execute(upsert_sql(src, tgt, key, scope_sql), bound_params).rowcount
    return written, batches


def placeholders_sql(prefix: str, names: list[str]) -> str:
    """``:prefix_o0, :prefix_o1, …``: named placeholders only, their names fixed here."""
    return ", ".join(":" + prefix + n for n in names)
