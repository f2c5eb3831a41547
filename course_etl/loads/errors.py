"""The errors a load raises on purpose: every check on the input runs before the first write.

All are :class:`course_etl.errors.CourseEtlError` subclasses that carry their data as attributes.
"""

from __future__ import annotations

from course_etl.errors import CourseEtlError, SchemaMismatchError

__all__ = [
    "LoadError",
    "KeyIntegrityError",
    "WatermarkError",
    "LoadOptionError",
    "TargetIsSourceError",
    "ReconcileGuardError",
    "SchemaMismatchError",
]


class LoadError(CourseEtlError):
    """Base class of the loads topic's errors."""


class KeyIntegrityError(LoadError):
    """Key values that cannot be loaded: NULL or duplicate keys, keys the target's key would
    merge or cannot store (``.table``, ``.key``, ``.values``)."""


class WatermarkError(LoadError):
    """Watermark values that cannot be compared safely: NULL, unparsable, impossible, in the
    future or of mixed formats, in the source (``.table``, ``.column``, ``.value``), in the state
    table, or given as ``initial_value``/``until`` (``.option``, ``.value``, ``.reason``)."""


class LoadOptionError(LoadError):
    """An argument of a load has the wrong type or is out of range: ``.option`` names it and
    ``.value`` holds it (conn, names, key, batch size, lookback, max_delete_share…)."""


class TargetIsSourceError(LoadError):
    """The target resolves to the source table, or into the attached source database."""


class ReconcileGuardError(LoadError):
    """A load would delete more of the target than allowed: a full load, or an incremental load
    reconciling deletes (``.rows``, ``.total``, ``.share``, ``.max_share``)."""
