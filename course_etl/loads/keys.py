"""Keys compared the way the target compares them, before anything is written.

An upsert matches rows by the target's unique key, which has the target's *collation* and *type
affinity*: a ``COLLATE NOCASE`` key makes 'a' and 'A' one row, an INTEGER key stores '1' and '01'
as the same 1. The source may hold both, and an upsert would then merge two source rows into one
target row while counting two inserts. So when the target's key compares differently from the
source's, every source key is copied once into a scratch TEMP table declared like the target's
key (SQLite itself applies the affinity and collation there: no imitation in Python) and
grouped: two keys that become one are refused, naming both. Keys a load is about to write must
also fit an INTEGER PRIMARY KEY, and must not land on a target row stored under another spelling
('A' onto a row 'a' that left the source), which reconciling deletes would then remove.
When both keys have the same affinity and the target's is binary, none of this can happen and
nothing runs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from course_etl.db import TableRef, quote_identifier
from course_etl.loads.errors import KeyIntegrityError

__all__ = ["affinity", "KeyColumn", "target_key", "check_key_semantics"]



def _scratch_sql() -> str:
    """The scratch table of key checks, in TEMP: never in a database a load writes."""
    return "temp." + quote_identifier("course_etl_keys")


def affinity(declared: str | None) -> str:
    """The type affinity SQLite gives a column declared ``declared`` (its documented rules)."""
    text = (declared or "").upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


@dataclass(frozen=True)
class KeyColumn:
    """One key column as a table compares it."""

    name: str
    affinity: str
    collation: str


def _declared(conn: sqlite3.Connection, ref: TableRef) -> dict[str, tuple[str, int]]:
    return {name: (declared, pk) for name, declared, pk in conn.execute(
        "SELECT name, type, pk FROM pragma_table_info(?, ?)", (ref.name, ref.schema))}


def target_key(conn: sqlite3.Connection, tgt: TableRef,
               key: tuple[str, ...]) -> tuple[tuple[KeyColumn, ...], bool]:
    """The target's key columns as its unique index compares them, and whether the key is the
    rowid itself (an INTEGER PRIMARY KEY, which takes integers only)."""
    declared = _declared(conn, tgt)
    if len(key) == 1 and declared[key[0]][1] == 1 and declared[key[0]][0].upper() == "INTEGER":
        return (KeyColumn(key[0], "INTEGER", "BINARY"),), True
    for index, unique, partial in conn.execute(
            'SELECT name, "unique", partial FROM pragma_index_list(?, ?)', (tgt.name, tgt.schema)):
        if not unique or partial:
            continue
        columns = {name: collation for name, collation in conn.execute(
            "SELECT name, coll FROM pragma_index_xinfo(?, ?) WHERE key = 1",
            (index, tgt.schema))}
        if set(columns) == set(key) and len(columns) == len(key):
            return tuple(KeyColumn(k, affinity(declared[k][0]), columns[k]) for k in key), False
    return tuple(KeyColumn(k, affinity(declared[k][0]), "BINARY") for k in key), False


def _label(values: tuple, key: tuple[str, ...]) -> str:
    return repr(values[0]) if len(key) == 1 else repr(dict(zip(key, values, strict=True)))


def check_key_semantics(conn: sqlite3.Connection, src: TableRef, tgt: TableRef,
                        key: tuple[str, ...], *, read_sql: str = "1", params: dict | None = None,
                        against_target: bool = True) -> None:
    """Refuse source keys the target would merge or cannot store, before the write.

    ``read_sql`` picks the rows the load writes (the others are checked for merges only);
    ``against_target`` also refuses a key that would overwrite a target row stored under another
    spelling (not needed when the target is emptied first). Raises KeyIntegrityError naming the
    keys. Runs inside the load's transaction; its scratch table lives in TEMP and is dropped.
    """
    params = params or {}
    columns, rowid = target_key(conn, tgt, key)
    declared = _declared(conn, src)
    same = all(c.collation.upper() == "BINARY" and c.affinity == affinity(declared[c.name][0])
               for c in columns)
    source_is_rowid = len(key) == 1 and declared[key[0]][1] == 1 and (
        declared[key[0]][0].upper() == "INTEGER")
    if same and (not rowid or source_is_rowid):
        return
    n = len(key)
    stored = [f"t{i}" for i in range(n)]
    given = [f"s{i}" for i in range(n)]
    definitions = [
        f"{quote_identifier(stored[i])} {'' if c.affinity == 'BLOB' else c.affinity} "
        f"COLLATE {quote_identifier(c.collation)}" for i, c in enumerate(columns)]
    definitions += [quote_identifier(g) for g in given] + ['"written"']
    keys_sql = ", ".join(f"s.{quote_identifier(k)}" for k in key)
    not_null_sql = " AND ".join(f"s.{quote_identifier(k)} IS NOT NULL" for k in key)
    definitions_sql = ", ".join(definitions)
    conn.execute(f"CREATE TABLE {_scratch_sql()} ({definitions_sql})")
    try:
        conn.execute(f"INSERT INTO {_scratch_sql()} SELECT {keys_sql}, {keys_sql}, ({read_sql}) "
                     f"FROM {src.sql} AS s WHERE {not_null_sql}", params)
        _refuse_merges(conn, src, tgt, key, columns, stored, given)
        if rowid:
            _refuse_non_integers(conn, tgt, key, given)
        if against_target:
            _refuse_other_spellings(conn, src, tgt, key, columns, stored, given)
    finally:
        if conn.in_transaction:
            conn.execute(f"DROP TABLE IF EXISTS {_scratch_sql()}")


def _how(columns: tuple[KeyColumn, ...]) -> str:
    return "; ".join(f"{c.name} has {c.affinity} affinity and COLLATE {c.collation}"
                     for c in columns)


def _refuse_merges(conn, src, tgt, key, columns, stored, given) -> None:
    stored_sql = ", ".join(quote_identifier(s) for s in stored)
    pair = conn.execute(
        f"SELECT MIN(rowid), MAX(rowid), COUNT(*) FROM {_scratch_sql()} GROUP BY {stored_sql} "
        "HAVING COUNT(*) > 1 LIMIT 1").fetchone()
    if pair is None:
        return
    given_sql = ", ".join(quote_identifier(g) for g in given)
    first, second = (conn.execute(f"SELECT {given_sql} FROM {_scratch_sql()} WHERE rowid = ?",
                                  (rowid,)).fetchone() for rowid in pair[:2])
    raise KeyIntegrityError(
        f"source keys {_label(first, key)} and {_label(second, key)} of {src.label!r} would "
        f"become one row of {tgt.label!r}, whose key compares them as equal ({_how(columns)}): "
        "an upsert would merge them and lose one. Make the keys distinct at the source, or "
        "declare the target's key like the source's.", table=src.label, key=key,
        values=(first, second), rows=pair[2], target=tgt.label, columns=columns)


def _refuse_non_integers(conn, tgt, key, given) -> None:
    bad = conn.execute(
        f"SELECT {quote_identifier(given[0])} FROM {_scratch_sql()} "
        'WHERE "written" AND typeof("t0") <> \'integer\' LIMIT 1').fetchone()
    if bad:
        raise KeyIntegrityError(
            f"key {bad[0]!r} cannot be stored in the INTEGER PRIMARY KEY {key[0]} of "
            f"{tgt.label!r}, which holds integers only: fix the key at the source or give the "
            "target a key of the source's type", table=tgt.label, key=key, values=(bad[0],))


def _refuse_other_spellings(conn, src, tgt, key, columns, stored, given) -> None:
    match_sql = " AND ".join(f"t.{quote_identifier(k)} = k.{quote_identifier(s)}"
                             for k, s in zip(key, stored, strict=True))
    same_sql = " AND ".join(
        f"t.{quote_identifier(k)} = k.{quote_identifier(s)} COLLATE BINARY AND "
        f"typeof(t.{quote_identifier(k)}) = typeof(k.{quote_identifier(s)})"
        for k, s in zip(key, stored, strict=True))
    given_sql = ", ".join(f"k.{quote_identifier(g)}" for g in given)
    target_sql = ", ".join(f"t.{quote_identifier(k)}" for k in key)
    clash = conn.execute(
        f"SELECT {given_sql}, {target_sql} FROM {_scratch_sql()} AS k JOIN {tgt.sql} AS t "
        f"ON {match_sql} WHERE k.\"written\" AND NOT ({same_sql}) LIMIT 1").fetchone()
    if clash:
        n = len(key)
        raise KeyIntegrityError(
            f"source key {_label(clash[:n], key)} of {src.label!r} would overwrite the row "
            f"{_label(clash[n:], key)} of {tgt.label!r}, which its key takes for the same one "
            f"({_how(columns)}); that row's own key has left the source. Delete it from the "
            "target first, or make the keys distinct at the source.", table=tgt.label, key=key,
            values=(clash[:n], clash[n:]), source=src.label, columns=columns)
