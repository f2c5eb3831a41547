"""A load's result in one line for people; its repr and ``as_dict()`` stay the data for machines.

``print(result)`` of a :class:`~course_etl.loads.engine.LoadResult` reads ``incremental load
src_customers → dw_customers: read 5, inserted 1, updated 0, deleted 0; watermark 2024-10-05 … →
2024-10-06 …``: the command line, the notebooks and the exported DAGs' task logs print it.
"""

from __future__ import annotations

__all__ = ["load_summary"]


def load_summary(result) -> str:
    """The one-line summary of a LoadResult-like object (mode, source, target, counts, marks)."""
    if result.inserted is None and result.updated is None:  # INSERT OR REPLACE cannot tell
        counts = (f"read {result.rows_read}, written {result.rows_read} (new and changed not "
                  f"told apart), deleted {result.deleted}")
    else:
        counts = (f"read {result.rows_read}, inserted {result.inserted}, "
                  f"updated {result.updated}, deleted {result.deleted}")
        if result.unchanged:
            counts += f" ({result.unchanged} unchanged)"
    if result.batches > 1:
        counts += f" in {result.batches} batches"
    before, after = result.watermark_before, result.watermark_after
    if before == after and before is not None:
        mark = f"watermark {after} (unchanged)"
    else:
        mark = f"watermark {'none' if before is None else before} → {after}"
    return f"{result.mode} load {result.source} → {result.target}: {counts}; {mark}"
