"""The target of a load: what a load returns about it, and how it is found or created.

:class:`LoadResult` is what every load returns. :func:`target_for` resolves the target (creating
it from the source's schema when missing) and checks that it can take the source's columns;
:func:`referencing_tables` lists the tables whose foreign keys point at it, which a full load
must not empty (``ON DELETE CASCADE`` would empty them too).
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, field

from course_etl.db import (
    TableRef,
    quote_identifier,
    resolve_table,
    table_exists,
    validate_identifier,
)
from course_etl.loads.errors import SchemaMismatchError
from course_etl.loads.summary import load_summary
from course_etl.loads.upsert import column_list_sql

__all__ = ["LoadResult", "target_for", "referencing_tables"]


@dataclass
class LoadResult:
    """What one load did. ``rows_read = inserted + updated + unchanged + soft deletes``.

    The counts compare the target before and after, whichever way it was written: a row whose
    key is new is ``inserted``, a row whose values changed is ``updated``, a row whose values did
    not is ``unchanged``; ``deleted`` counts rows that became soft-deleted plus rows removed
    because their key left the source. ``inserted``/``updated``/``unchanged`` are None for the
    lecture's recipe, which cannot tell. ``rewritten`` counts the extra writes of a full load that
    rewrote the target with DELETE + INSERT (every row deleted and inserted again, changed or
    not): :attr:`rows_written` includes them, so a full load shows what it costs.
    """

    mode: str
    source: str
    target: str
    rows_read: int
    inserted: int | None
    updated: int | None
    deleted: int
    unchanged: int | None
    watermark_before: str | int | None
    watermark_after: str | int | None
    batches: int = 1
    seconds: float = field(default=0.0, repr=False, compare=False)
    rewritten: int = field(default=0, repr=False)

    @property
    def rows_written(self) -> int:
        """Row writes the load made in the target: inserts, updates, deletes and rewrites.

        When inserts and updates are unknown (INSERT OR REPLACE), every row read was written.
        """
        if self.inserted is None and self.updated is None:
            return self.rows_read + self.deleted
        return (self.inserted or 0) + (self.updated or 0) + self.deleted + self.rewritten

    def as_dict(self) -> dict:
        """The result as a plain dict (a row of a results DataFrame), timing included."""
        return asdict(self) | {"rows_written": self.rows_written}

    def __str__(self) -> str:  # one line for people; the repr and as_dict() are the data
        return load_summary(self)


def _create_target_like(
    conn: sqlite3.Connection, src: TableRef, target: str, key: tuple[str, ...]
) -> None:
    """Create ``target`` with the source's columns, declared types, NOT NULLs and primary key."""
    validate_identifier(target, what="target table name")
    info = conn.execute(
        'SELECT name, type, "notnull", pk FROM pragma_table_info(?, ?) ORDER BY cid',
        (src.name, src.schema),
    ).fetchall()
    pk = [name for name, _, _, position in sorted(info, key=lambda r: r[3]) if position > 0]
    pk = pk or list(key)
    definitions = []
    for name, declared_type, notnull, _ in info:
        # Declared types come from the database's own schema; quote them so no text can escape.
        type_sql = f" {quote_identifier(declared_type)}" if declared_type else ""
        definitions.append(quote_identifier(name) + type_sql + (" NOT NULL" if notnull else ""))
    if pk:
        definitions.append(f"PRIMARY KEY ({column_list_sql(pk)})")
    definitions_sql = ", ".join(definitions)
    conn.execute(f"CREATE TABLE {quote_identifier(target)} ({definitions_sql})")


def target_for(
    conn: sqlite3.Connection, src: TableRef, target: str, key: tuple[str, ...]
) -> TableRef:
    """Resolve the target (creating it from the source when missing) and check it fits."""
    if not table_exists(conn, target):
        _create_target_like(conn, src, target, key)
    tgt = resolve_table(conn, target, role="target table")
    missing = [c for c in src.columns if c not in tgt.columns]
    if missing:
        advice_sql = f"ALTER TABLE {quote_identifier(tgt.name)} ADD COLUMN …"
        raise SchemaMismatchError(
            f"target {tgt.label!r} lacks source column(s) {', '.join(missing)}: add them "
            f"({advice_sql}) or reload into a new target", table=tgt.label, missing=missing,
            source=src.label, hint=advice_sql)
    return tgt


def referencing_tables(conn: sqlite3.Connection, tgt: TableRef) -> list[str]:
    """Tables of the target's database whose foreign keys reference the target."""
    rows = conn.execute(
        f"SELECT DISTINCT m.name FROM {quote_identifier(tgt.schema)}.sqlite_master AS m, "
        'pragma_foreign_key_list(m.name, ?) AS f WHERE m.type = \'table\' AND f."table" = ? '
        "COLLATE NOCASE",
        (tgt.schema, tgt.name),
    ).fetchall()
    return [r[0] for r in rows]
