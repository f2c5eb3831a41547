"""The medallion run: new bronze batches → silver → gates → gold, in one transaction.

:func:`process_new_batches` reads the last processed bronze batch id from the load engine's
watermark state (``etl_watermarks``, column ``_batch_id``), conforms and merges only the batches
after it, runs the quality gates, merges gold for the groups those rows touch and moves the
watermarks — all in one transaction, so a crash or a failing blocking gate leaves every layer and
every watermark as it was. A failed blocking gate is a failed check, in Airflow's words: the gate
``failed``, gold was not promoted, the run ``failed`` (:attr:`RunResult.state`), and
``raise_if_blocked()`` raises :class:`~course_etl.monitoring.checks.CheckFailedError`, which
a task fails on at once. :func:`rebuild_from_bronze` drops silver and gold and replays all of
bronze through the same code path; :func:`compare_with_rebuild` proves that the incremental result
equals that rebuild, on a copy, without touching the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from course_etl.db import atomic, connect, query, quote_identifier
from course_etl.errors import CourseEtlError, checked
from course_etl.loads.watermarks import Watermark, reset_watermark, write_watermark
from course_etl.medallion.bronze import BATCHES_TABLE, ensure_bronze
from course_etl.medallion.entities import ENTITIES
from course_etl.medallion.gates import silver_gates
from course_etl.medallion.gold import (
    GOLD_TABLES,
    GoldResult,
    drop_gold,
    ensure_gold,
    note_touched_groups,
    refresh_touched_groups,
)
from course_etl.medallion.silver import (
    BATCH_WATERMARK,
    REJECTS_TABLE,
    MergeResult,
    Rule,
    StageResult,
    clear_stage,
    drop_silver,
    ensure_silver,
    merge,
    processed_batch,
    stage,
)
from course_etl.monitoring.checks import CheckFailedError, SuiteReport
from course_etl.states import RunState

__all__ = [
    "RunResult",
    "Comparison",
    "WATERMARK_TARGETS",
    "process_new_batches",
    "rebuild_from_bronze",
    "snapshot",
    "compare_snapshots",
    "compare_with_rebuild",
]

#: Every table whose progress is a watermark on the bronze batch id.
WATERMARK_TARGETS = tuple(e.silver_table for e in ENTITIES.values()) + GOLD_TABLES


@dataclass(frozen=True)
class RunResult:
    """What one run did: the batches it processed, per-layer counts, gates, and whether gold
    was promoted (False: a blocking gate failed and the whole run was rolled back); ``state``
    is the run's state in Airflow's words."""

    mode: str
    batches: tuple[int, ...]
    staged: dict[str, StageResult] = field(default_factory=dict)
    merged: dict[str, MergeResult] = field(default_factory=dict)
    gold: GoldResult | None = None
    gates: SuiteReport = field(default_factory=SuiteReport)
    promoted: bool = True

    @property
    def failed_gates(self) -> list[str]:
        """``name(table)`` of every blocking gate that failed."""
        return [f"{r.name}({r.table})" for r in self.gates.results if r.blocks]

    @property
    def state(self) -> RunState:
        """``success``, or ``failed`` when a blocking gate failed (the run was rolled back)."""
        return RunState.SUCCESS if self.promoted else RunState.FAILED

    def raise_if_blocked(self) -> None:
        """Raise CheckFailedError naming every failed blocking gate (nothing when promoted)."""
        if not self.promoted:
            failed = [r for r in self.gates.results if r.blocks]
            raise CheckFailedError(
                f"gate(s) {', '.join(self.failed_gates)} failed, run rolled back, gold not "
                f"promoted: {_messages(failed)}. Fix silver (or rebuild it from bronze with "
                "rebuild_from_bronze) and run again.", failed=failed,
            )

    def __str__(self) -> str:
        if not self.batches:
            return f"{self.mode}: no new bronze batches"
        lines = [f"{self.mode}: bronze batches {', '.join(map(str, self.batches))}"]
        for name, staged in self.staged.items():
            merged = self.merged.get(name)
            kept = (f", {merged.inserted} new keys, {merged.replaced} replaced, "
                    f"{merged.superseded} superseded" if merged else "")
            lines.append(f"  {name}: {staged.bronze_rows} bronze rows → {staged.staged} valid, "
                         f"{staged.rejected} rejected{kept}")
        if self.promoted and self.gold:
            rows = ", ".join(f"{t} {n} rows" for t, n in self.gold.rows.items())
            lines.append(f"  gold: {self.gold.groups} groups recomputed → {rows}")
        else:
            lines.append(f"  failed: gate {', '.join(self.failed_gates)} failed, so gold was not "
                         "promoted and the run rolled back")
        return "\n".join(lines)


def _messages(results: list) -> str:
    """What each failed check says, for one line."""
    return "; ".join(r.message for r in results)


class _RollBack(CourseEtlError):  # noqa: N818  (an instruction to atomic(), not an error)
    """Internal: unwinds the run's transaction after a blocking gate failed, carrying the
    result to return (``.result``; a control-flow signal, never seen outside this module)."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("roll back", result=result)


def _ensure_layers(conn: sqlite3.Connection) -> None:
    ensure_bronze(conn)
    ensure_silver(conn)
    ensure_gold(conn)


def _run(conn: sqlite3.Connection, mode: str, rules: tuple[Rule, ...]) -> RunResult:
    after = {name: processed_batch(conn, entity) for name, entity in ENTITIES.items()}
    batch_id_sql = quote_identifier("batch_id")
    batches = tuple(row[0] for row in conn.execute(
        f"SELECT {batch_id_sql} FROM {quote_identifier(BATCHES_TABLE)} WHERE {batch_id_sql} > ? "
        f"ORDER BY {batch_id_sql}", (min(after.values()),)))
    if not batches:
        return RunResult(mode, ())
    staged = {
        name: stage(conn, entity, after_batch=after[name], rules=rules)
        for name, entity in ENTITIES.items()
    }
    note_touched_groups(conn)  # the gold groups these keys belong to before the merge …
    merged = {name: merge(conn, entity) for name, entity in ENTITIES.items()}
    note_touched_groups(conn)  # … and after it
    for entity in ENTITIES.values():
        clear_stage(conn, entity)
    latest = Watermark(batches[-1], "integer")
    for entity in ENTITIES.values():
        write_watermark(conn, entity.silver_table, BATCH_WATERMARK, latest)
    gates = silver_gates(conn)
    if gates.blocked:
        raise _RollBack(result=RunResult(mode, batches, staged, merged, None, gates,
                                         promoted=False))
    gold = refresh_touched_groups(conn)
    for table in GOLD_TABLES:
        write_watermark(conn, table, BATCH_WATERMARK, latest)
    return RunResult(mode, batches, staged, merged, gold, gates)


@checked
def process_new_batches(conn: sqlite3.Connection, *, rules: Iterable[Rule] = ()) -> RunResult:
    """Process the bronze batches silver has not seen yet, through silver and gold, atomically.

    ``rules`` adds business rules to the built-in ones (missing and unparsable values); use the
    same rules on every run, or rebuild from bronze after changing them. A failing blocking gate
    rolls the run back and returns ``promoted=False``, state ``failed`` (call
    ``raise_if_blocked()`` to raise CheckFailedError).
    """
    _ensure_layers(conn)
    try:
        with atomic(conn):
            return _run(conn, "incremental", tuple(rules))
    except _RollBack as rolled_back:  # the rollback also removed the run's temp tables
        return rolled_back.result


@checked
def rebuild_from_bronze(conn: sqlite3.Connection, *, rules: Iterable[Rule] = ()) -> RunResult:
    """Drop silver and gold, forget their watermarks and replay every bronze batch, atomically.

    Bronze is never touched. If a blocking gate fails, the old silver and gold are kept.
    """
    _ensure_layers(conn)
    try:
        with atomic(conn):
            drop_gold(conn)
            drop_silver(conn)
            for target in WATERMARK_TARGETS:
                reset_watermark(conn, target, BATCH_WATERMARK)
            _ensure_layers(conn)
            return _run(conn, "rebuild", tuple(rules))
    except _RollBack as rolled_back:  # the rollback also removed the run's temp tables
        return rolled_back.result


# --- Comparing an incremental result with a rebuild --------------------------------------------

_SNAPSHOT_ORDER = {  # table -> ORDER BY columns: a total order, so equal tables give equal frames
    **{e.silver_table: (e.key,) for e in ENTITIES.values()},
    **{e.superseded_table: ("_bronze_row",) for e in ENTITIES.values()},
    REJECTS_TABLE: ("entity", "_bronze_row"),
    GOLD_TABLES[0]: ("city",),
    GOLD_TABLES[1]: ("city", "day"),
}


@checked
def snapshot(conn: sqlite3.Connection) -> dict[str, pd.DataFrame]:
    """Every silver and gold table (rejects and superseded included), in a fixed row order."""
    _ensure_layers(conn)
    frames = {}
    for table, order in _SNAPSHOT_ORDER.items():
        order_sql = ", ".join(map(quote_identifier, order))
        frames[table] = query(conn, f"SELECT * FROM {quote_identifier(table)} ORDER BY {order_sql}")
    return frames


@dataclass(frozen=True)
class Comparison:
    """Whether two snapshots hold the same rows, and which tables differ and how."""

    differences: dict[str, str]

    @property
    def identical(self) -> bool:
        return not self.differences

    def __str__(self) -> str:
        if self.identical:
            return "identical: every silver and gold table matches the rebuild from bronze"
        return "DIFFERENT:\n" + "\n".join(f"  {t}: {d}" for t, d in self.differences.items())


@checked
def compare_snapshots(
    left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]
) -> Comparison:
    """Compare two :func:`snapshot` results table by table."""
    differences = {}
    for table in left:
        a, b = left[table], right[table]
        if len(a) != len(b):
            differences[table] = f"{len(a)} rows vs {len(b)} rows"
        elif not a.equals(b):
            changed = (a != b) & ~(a.isna() & b.isna())
            first = changed.any(axis=1).to_numpy().nonzero()[0][0]
            differences[table] = f"row {first} differs: {a.iloc[first].to_dict()} vs " \
                                 f"{b.iloc[first].to_dict()}"
    return Comparison(differences)


@checked
def compare_with_rebuild(
    conn: sqlite3.Connection, *, rules: Iterable[Rule] = ()
) -> Comparison:
    """Rebuild silver and gold from bronze on an in-memory copy and compare with ``conn``."""
    current = snapshot(conn)
    copy = connect(":memory:")
    try:
        conn.backup(copy)
        rebuild_from_bronze(copy, rules=rules)
        return compare_snapshots(current, snapshot(copy))
    finally:
        copy.close()
