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
    """Key values that cannot be loaded: NULL keys or duplicate keys (``.table``, ``.key``)."""


class WatermarkError(LoadError):
    """Watermark values that cannot be compared safely: NULL, unparsable or mixed formats."""


class LoadOptionError(LoadError):
    """An option of a load is out of range: ``.option`` and ``.value`` (batch size, lookback)."""


class TargetIsSourceError(LoadError):
    """The target resolves to the source table, or into the attached source database."""


class ReconcileGuardError(LoadError):
    """Reconciling deletes would remove more of the target than allowed (``.rows``, ``.share``)."""
