"""course_etl: the helper package of the "Pipelines & Orchestration" session.

Full and incremental loads on SQLite done right (watermark state, boundary-safe filters, true
upserts, deletes), the lecture's recipe kept beside them to show its pitfalls, and demo data.
"""

from course_etl.db import atomic, attach, connect, query, quote_identifier, resolve_table, tracing
from course_etl.errors import (
    CourseEtlError,
    InvalidIdentifierError,
    SchemaMismatchError,
    UnknownColumnError,
    UnknownTableError,
)
from course_etl.loads import (
    LoadResult,
    full_load,
    incremental_load,
    lecture_full_load,
    lecture_incremental_load,
    read_watermark,
    reset_watermark,
)
from course_etl.loads.errors import KeyIntegrityError, WatermarkError

__all__ = [
    "connect",
    "attach",
    "query",
    "atomic",
    "tracing",
    "quote_identifier",
    "resolve_table",
    "LoadResult",
    "full_load",
    "incremental_load",
    "lecture_full_load",
    "lecture_incremental_load",
    "read_watermark",
    "reset_watermark",
    "CourseEtlError",
    "InvalidIdentifierError",
    "UnknownTableError",
    "UnknownColumnError",
    "SchemaMismatchError",
    "KeyIntegrityError",
    "WatermarkError",
]

__version__ = "0.1.0"
