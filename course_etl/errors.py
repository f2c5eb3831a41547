"""The exceptions course_etl raises.

Every error names the culprit and says how to fix it, so a student can act on the message alone.
They all derive from :class:`CourseEtlError` (a ``ValueError``: bad input is the usual cause),
which lets the CLI and notebooks catch the library's errors without hiding real bugs.
"""

from __future__ import annotations

__all__ = [
    "CourseEtlError",
    "InvalidIdentifierError",
    "UnknownTableError",
    "UnknownColumnError",
    "SchemaMismatchError",
    "KeyIntegrityError",
    "WatermarkError",
]


class CourseEtlError(ValueError):
    """Base class of every error course_etl raises on purpose."""


class InvalidIdentifierError(CourseEtlError):
    """A table or column name is not a plain SQL identifier."""


class UnknownTableError(CourseEtlError):
    """A table named in a call does not exist."""


class UnknownColumnError(CourseEtlError):
    """A column named in a call does not exist in its table."""


class SchemaMismatchError(CourseEtlError):
    """Source and target tables do not fit together (missing columns, no unique key)."""


class KeyIntegrityError(CourseEtlError):
    """Key values that cannot be loaded: NULL keys or duplicate keys in one load."""


class WatermarkError(CourseEtlError):
    """Watermark values that cannot be compared safely: NULL, unparsable or mixed formats."""
