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
    """Base class of the loads topic's errors. Raised itself when SQLite refuses a row of the
    load (a constraint of the target): ``.table`` (the target), ``.source``, ``.error`` (SQLite's
    message; the ``sqlite3.Error`` is the ``__cause__``)."""


class KeyIntegrityError(LoadError):
    """Key values that cannot be loaded: NULL or duplicate keys, keys the target's key would
    merge or cannot store. ``.table`` holds the culprit keys, ``.key`` names the key columns;
    per situation: ``.rows`` (how many NULL keys, copies of a duplicate, or keys merged into
    one), ``.value`` (the duplicate key, ``{column: value}``), ``.values`` (the keys that clash
    or cannot be stored), ``.target``/``.source`` (the other table, where two are involved) and
    ``.columns`` (the target's key columns as it compares them: name, affinity, collation)."""


class WatermarkError(LoadError):
    """Watermark values that cannot be compared safely: NULL, unparsable, impossible, in the
    future or of mixed formats. Every site sets ``.value`` (the culprit value; None for NULL).

    - in the source: ``.table``, ``.column``, ``.rows`` (how many), ``.key`` (the key columns)
      and ``.row`` (one culprit row named by its key, ``{"id": 7}``, or ``{"rowid": 7}``);
      ``.found``, the format the value has, where it is not a timestamp or does not match
      ``.expected``, the column's format, measured against ``.reference`` (the stored
      watermark's value or the column's latest/highest);
    - in the state table: ``.table`` (the state table), ``.target``, ``.column``, ``.reason``;
    - given as ``initial_value``, ``until`` or ``lookback``: ``.option`` and ``.reason``, or, for
      a lookback that does not fit the watermark's format, ``.reference``: the stored value."""


class LoadOptionError(LoadError):
    """An argument of a load has the wrong type or is out of range: ``.option`` names it and
    ``.value`` holds it (conn, names, key, batch size, lookback, max_delete_share…)."""


class TargetIsSourceError(LoadError):
    """The target resolves to the source table, or into the attached source database."""


class ReconcileGuardError(LoadError):
    """A load would delete more of the target than allowed: a full load, or an incremental load
    reconciling deletes (``.table``: the target, ``.source``, ``.rows``: the rows it would delete,
    ``.total``, ``.share``, ``.max_share``, ``.hint``: how to allow it)."""
