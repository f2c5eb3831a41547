"""Medallion architecture on SQLite: bronze, silver and gold that lose nothing.

``bronze`` keeps every source batch as received (text, append-only, with ingestion metadata);
``silver`` types, conforms and deduplicates it, sending every row that fails a rule to a rejects
table so a reconciliation proves nothing was dropped; ``gold`` builds the marts; ``gates`` holds
the quality gates between silver and gold; ``pipeline`` processes only new bronze batches
(watermark state, one transaction) and can rebuild everything from bronze; ``lineage`` traces a
gold row back to its silver rows and bronze batches; ``dirty`` generates the dirty data.
"""

from course_etl.medallion.bronze import IngestResult, fixed_clock, ingest_batch, ingest_dirty_batch
from course_etl.medallion.dirty import CLEAN, DEFAULT_DIRT, Dirt, DirtyBatch, DirtySource
from course_etl.medallion.entities import CUSTOMERS, ENTITIES, ORDERS, Entity, Field
from course_etl.medallion.gates import silver_gates
from course_etl.medallion.gold import CITY_DAILY_REVENUE, CUSTOMER_STATS, GOLD_TABLES, ORPHAN_ORDERS
from course_etl.medallion.lineage import (
    Lineage,
    LineageKeyError,
    layer_counts,
    layer_flow_figure,
    trace_gold_row,
)
from course_etl.medallion.pipeline import (
    Comparison,
    RunResult,
    compare_with_rebuild,
    process_new_batches,
    rebuild_from_bronze,
    snapshot,
)
from course_etl.medallion.silver import REJECTS_TABLE, Reconciliation, Rule, reconcile
from course_etl.monitoring.checks import CheckFailedError  # what a failed blocking gate raises

__all__ = [
    "CITY_DAILY_REVENUE",
    "CLEAN",
    "CUSTOMERS",
    "CUSTOMER_STATS",
    "DEFAULT_DIRT",
    "ENTITIES",
    "GOLD_TABLES",
    "ORDERS",
    "ORPHAN_ORDERS",
    "REJECTS_TABLE",
    "Comparison",
    "Dirt",
    "DirtyBatch",
    "DirtySource",
    "Entity",
    "Field",
    "CheckFailedError",
    "IngestResult",
    "Lineage",
    "Reconciliation",
    "Rule",
    "RunResult",
    "compare_with_rebuild",
    "fixed_clock",
    "ingest_batch",
    "ingest_dirty_batch",
    "layer_counts",
    "layer_flow_figure",
    "process_new_batches",
    "rebuild_from_bronze",
    "reconcile",
    "silver_gates",
    "snapshot",
    "trace_gold_row",
    "LineageKeyError",
]
