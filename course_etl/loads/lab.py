"""The load lab behind notebook 01's control panel: one source, three warehouses, every run kept.

A :class:`LoadLab` owns a synthetic customers source and one warehouse table per strategy
(``full``, ``incremental`` and the lecture's ``recipe``), all loaded once at the start so they
begin in sync, as after the lecture's "FULL LOAD #1". Students change the source, run a strategy,
and get a :class:`LabRun`: the load's result, the warehouse rows marked new / changed /
soft-deleted / deleted, and the differences left between source and warehouse — a row a strategy
missed shows up there. :func:`compare_at_scale` measures full against incremental at growing sizes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd

from course_etl.db import atomic, connect, query, quote_identifier
from course_etl.facts import CUSTOMERS, SOFT_DELETE, TABLES
from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.loads.errors import LoadOptionError
from course_etl.loads.lecture import lecture_incremental_load
from course_etl.loads.watermarks import reset_watermark
from course_etl.sample_data import ChangeSet, create_customer_source, simulate_changes

__all__ = [
    "STRATEGIES",
    "LabRun",
    "LoadLab",
    "mark_changes",
    "diff_tables",
    "compare_at_scale",
]

SOURCE = TABLES.source
KEY = CUSTOMERS.key
WATERMARK = CUSTOMERS.watermark
STRATEGIES = {
    "full": "dw_full",
    "incremental": "dw_incremental",
    "recipe": "dw_recipe",
}


def _table(conn: sqlite3.Connection, table: str) -> pd.DataFrame:
    return query(conn, f"SELECT * FROM {quote_identifier(table)} ORDER BY {quote_identifier(KEY)}")


def _rows_differ(merged: pd.DataFrame, columns: list[str], suffix: str) -> pd.Series:
    """Per row of an outer merge: does any column differ from its suffixed twin (NULL = NULL)?"""
    differs = pd.Series(False, index=merged.index)
    for column in columns:
        a, b = merged[column], merged[f"{column}{suffix}"]
        differs |= ~((a == b) | (a.isna() & b.isna()))
    return differs


def mark_changes(before: pd.DataFrame, after: pd.DataFrame, key: str = KEY) -> pd.DataFrame:
    """``after`` plus the rows that disappeared, with a ``status`` column.

    Status is ``new``, ``changed``, ``soft-deleted`` (``is_deleted`` turned on), ``deleted``
    (gone from the table) or ``unchanged``; changed rows come first, then by key.
    """
    merged = after.merge(before, on=key, how="outer", suffixes=("", "_before"), indicator=True)
    value_columns = [c for c in after.columns if c != key]
    differs = _rows_differ(merged, value_columns, "_before")
    status = pd.Series("unchanged", index=merged.index)
    status[differs] = "changed"
    flag = SOFT_DELETE.name
    if flag in after.columns:
        status[differs & (merged[flag] == 1) & (merged[f"{flag}_before"] != 1)] = (
            "soft-deleted"
        )
    status[merged["_merge"] == "left_only"] = "new"
    gone = merged["_merge"] == "right_only"
    status[gone] = "deleted"
    for column in value_columns:  # show what a deleted row held
        merged.loc[gone, column] = merged.loc[gone, f"{column}_before"]
    marked = merged[[key, *value_columns]].assign(status=status.to_numpy())
    # The outer merge turns integer columns into floats (NaN for missing rows); restore them.
    for column in value_columns:
        if pd.api.types.is_integer_dtype(after[column]):
            marked[column] = marked[column].astype("Int64")
    order = marked["status"].map({"new": 0, "changed": 1, "soft-deleted": 2, "deleted": 3,
                                  "unchanged": 4})
    marked = marked.assign(_order=order).sort_values(["_order", key]).drop(columns="_order")
    return marked.reset_index(drop=True).astype({key: "int64"})


def diff_tables(source: pd.DataFrame, warehouse: pd.DataFrame, key: str = KEY) -> pd.DataFrame:
    """Rows where the warehouse disagrees with the source, with the ``problem`` named.

    ``missing in warehouse`` (a row the load never copied), ``stale in warehouse`` (values differ)
    or ``deleted at source`` (the source no longer has the key). Empty when they agree.
    """
    merged = source.merge(warehouse, on=key, how="outer", suffixes=("", "_warehouse"),
                          indicator=True)
    columns = [c for c in source.columns if c != key]
    stale = _rows_differ(merged, columns, "_warehouse")
    problem = pd.Series("", index=merged.index)
    problem[(merged["_merge"] == "both") & stale] = "stale in warehouse"
    problem[merged["_merge"] == "left_only"] = "missing in warehouse"
    problem[merged["_merge"] == "right_only"] = "deleted at source"
    rows = merged[problem != ""]
    shown = [key, *columns, *(f"{c}_warehouse" for c in columns)]
    return (rows[shown].assign(problem=problem[problem != ""].to_numpy())
            .sort_values(key).reset_index(drop=True).astype({key: "int64"}))


@dataclass
class LabRun:
    """One load in the lab: which strategy, what it did, and what the warehouse looks like."""

    number: int
    strategy: str
    result: LoadResult
    marked: pd.DataFrame
    diff: pd.DataFrame

    def summary(self) -> dict:
        """One row of the lab's results table."""
        r = self.result
        return {
            "run": self.number, "strategy": self.strategy, "rows_read": r.rows_read,
            "inserted": r.inserted, "updated": r.updated, "deleted": r.deleted,
            "unchanged": r.unchanged, "rows_written": r.rows_written,
            "watermark_after": r.watermark_after, "missed": len(self.diff),
            "seconds": r.seconds,
        }


@dataclass
class LoadLab:
    """A source and three warehouses for trying load strategies (see the module docstring)."""

    conn: sqlite3.Connection
    rows: int = 200
    seed: int = 7
    lookback_hours: int = 0
    reconcile_deletes: bool = False
    runs: list[LabRun] = field(default_factory=list)
    changes: list[ChangeSet] = field(default_factory=list)
    #: How a full or incremental run is recorded: ``record(load, mode, target)`` runs ``load()``
    #: and returns its result (a notebook panel passes the run log's ``recorded_load``); None
    #: runs it as is, and so is the lecture's recipe (its code commits by itself, as written).
    record: Callable[[Callable[[], LoadResult], str, str], LoadResult] | None = None

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the start: a fresh source, every warehouse fully loaded once, no runs."""
        create_customer_source(self.conn, SOURCE, self.rows, seed=self.seed, progress=False)
        with atomic(self.conn):
            for target in STRATEGIES.values():
                self.conn.execute(f"DROP TABLE IF EXISTS {quote_identifier(target)}")
        for target in STRATEGIES.values():
            reset_watermark(self.conn, target)
            full_load(self.conn, SOURCE, target, key=KEY, watermark=WATERMARK)
        self.runs, self.changes = [], []

    def apply_changes(self, **counts: int) -> ChangeSet:
        """Change the source (:func:`course_etl.sample_data.simulate_changes`); seeded per call."""
        changes = simulate_changes(self.conn, SOURCE, seed=self.seed + len(self.changes) + 1,
                                   **counts)
        self.changes.append(changes)
        return changes

    def run(self, strategy: str) -> LabRun:
        """Load with one strategy into its own warehouse and record what happened."""
        if strategy not in STRATEGIES:
            raise LoadOptionError(f"unknown strategy {strategy!r} (known: "
                                  f"{', '.join(STRATEGIES)})", option="strategy",
                                  value=strategy, known=tuple(STRATEGIES))
        target = STRATEGIES[strategy]
        before = _table(self.conn, target)
        result = self._load(strategy, target)
        after = _table(self.conn, target)
        run = LabRun(len(self.runs) + 1, strategy, result, mark_changes(before, after),
                     diff_tables(_table(self.conn, SOURCE), after))
        self.runs.append(run)
        return run

    def _load(self, strategy: str, target: str) -> LoadResult:
        if self.record is None or strategy == "recipe":  # the lecture's code commits itself
            return self._run_strategy(strategy, target)
        return self.record(lambda: self._run_strategy(strategy, target), strategy, target)

    def _run_strategy(self, strategy: str, target: str) -> LoadResult:
        if strategy == "full":
            return full_load(self.conn, SOURCE, target, key=KEY, watermark=WATERMARK)
        if strategy == "recipe":
            return lecture_incremental_load(self.conn, SOURCE, target, watermark=WATERMARK)
        lookback = timedelta(hours=self.lookback_hours) if self.lookback_hours else None
        return incremental_load(
            self.conn, SOURCE, target, key=KEY, watermark=WATERMARK, lookback=lookback,
            soft_delete=SOFT_DELETE.name, reconcile_deletes=self.reconcile_deletes,
        )

    def results(self) -> pd.DataFrame:
        """Every run so far, one row each (the panel's running table)."""
        return pd.DataFrame([r.summary() for r in self.runs])


def compare_at_scale(
    sizes: Iterable[int],
    *,
    changed_fraction: float = 0.01,
    seed: int = 42,
    progress: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Full vs incremental load at each source size, with 1% (by default) of rows changed.

    For each size: build the source (with a progress bar), full-load it, change a fraction of
    it, then time a full load and an incremental load of the same change on copies of the same
    state. Returns one row per size: rows each strategy read and wrote, seconds, and the ratio.
    """
    rows = []
    for size in sizes:
        if on_step:
            on_step(f"building {size:,} rows")
        results = {}
        for strategy in ("full", "incremental"):
            conn = connect(":memory:")
            create_customer_source(conn, SOURCE, size, seed=seed, progress=progress)
            full_load(conn, SOURCE, "dw", key=KEY, watermark=WATERMARK)
            changed = max(1, int(size * changed_fraction))
            simulate_changes(conn, SOURCE, updates=changed - changed // 5,
                             inserts=changed // 5, seed=seed)
            if on_step:
                on_step(f"{strategy} load of {size:,} rows")
            started = time.perf_counter()
            if strategy == "full":
                result = full_load(conn, SOURCE, "dw", key=KEY, watermark=WATERMARK)
            else:
                result = incremental_load(conn, SOURCE, "dw", key=KEY, watermark=WATERMARK)
            results[strategy] = (result, time.perf_counter() - started)
            conn.close()
        (full, full_s), (incr, incr_s) = results["full"], results["incremental"]
        rows.append({
            "source_rows": size,
            "full_rows_read": full.rows_read, "full_rows_written": full.rows_written,
            "incremental_rows_read": incr.rows_read,
            "incremental_rows_written": incr.rows_written,
            "full_seconds": full_s, "incremental_seconds": incr_s,
            "speedup": full_s / incr_s if incr_s else float("nan"),
        })
    return pd.DataFrame(rows)
