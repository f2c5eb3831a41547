"""The base of every error a user can cause, and the few errors every topic shares.

Every error names the culprit and says how to fix it, so a student can act on the message alone,
and keeps what went wrong as attributes (``.table``, ``.known``, ``.value``…) so a caller, a test
or a widget can act on it without parsing the text. They all derive from :class:`CourseEtlError`,
which is deliberately *not* a ``ValueError``: catching it catches the library's diagnoses and
nothing else, so a real bug still shows its traceback. Each topic owns its own errors
(:mod:`course_etl.loads.errors`, ``scheduling.pipeline.PipelineError``, …); this module keeps only
the ones about names in SQL, which :mod:`course_etl.db` raises for every topic.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing

__all__ = [
    "CourseEtlError",
    "InvalidIdentifierError",
    "UnknownTableError",
    "UnknownColumnError",
    "SchemaMismatchError",
    "WrongTypeError",
    "check_type",
    "short_repr",
    "checked",
]


class CourseEtlError(Exception):
    """Base class of every error course_etl raises on purpose.

    Keyword arguments become attributes: ``CourseEtlError("…", table="dw", known=[…]).table``.
    """

    def __init__(self, message: str = "", /, **data: object) -> None:
        super().__init__(message)
        for name, value in data.items():
            setattr(self, name, value)


class InvalidIdentifierError(CourseEtlError):
    """A table or column name is not a plain SQL identifier (``.value``, ``.what``)."""


class UnknownTableError(CourseEtlError):
    """A table named in a call does not exist (``.table``, ``.known``, ``.what``: what the name
    was given as, ``"source table"``, ``"gold mart"``…)."""


class UnknownColumnError(CourseEtlError):
    """A column named in a call does not exist in its table (``.table``, ``.column``,
    ``.known``, ``.what``: what the name was given as, ``"key column"``…)."""


class SchemaMismatchError(CourseEtlError):
    """Source and target tables do not fit together (missing columns, no unique key): ``.table``
    names the table that does not fit; per situation ``.missing`` (the columns it lacks; the
    first also as ``.column``, where silver lacks a required one), ``.unexpected`` (columns it
    should not have) and ``.known`` (those it takes), ``.source``, ``.key`` (the key it needs a
    unique index on) and ``.hint`` (the SQL that fixes it)."""


class WrongTypeError(CourseEtlError, TypeError):
    """A library function got an argument of the wrong type (``.argument``, ``.expected``: the
    type, ``.wanted``: it in words, ``.value``, ``.function``: its name or None). Also a
    ``TypeError``, so code that guards against type errors still does. When the call does not
    even bind (an argument missing or too many), ``.argument``, ``.expected``, ``.wanted`` and
    ``.value`` are None and ``.cause`` is the binding's ``TypeError``."""


def check_type(value: object, expected: type | tuple[type, ...], *, argument: str,
               wanted: str, function: str | None = None) -> object:
    """Return ``value`` if it is an instance of ``expected``, else raise WrongTypeError.

    ``wanted`` says in words what the argument takes (``"a file path (str or Path)"``); ``bool``
    is never accepted where a number is wanted, since ``True`` is an ``int`` only by accident.
    """
    numbers = expected in (int, float) or (isinstance(expected, tuple) and bool not in expected
                                           and any(t in (int, float) for t in expected))
    if isinstance(value, expected) and not (numbers and isinstance(value, bool)):
        return value
    raise WrongTypeError(
        f"{function + '(): ' if function else ''}argument {argument!r} must be {wanted}, "
        f"not {type(value).__name__}",
        argument=argument, expected=expected, value=value, wanted=wanted, function=function)


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a one-line message, cut after ``limit`` characters with the full
    length named: a 5,000-character argument must not become a 5,000-character error."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4,300-digit limit cannot even be written out
        return f"<{type(value).__name__} too large to show>"
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes | list | tuple | dict) else len(text)
    quote = text[0] if text[0] in ("'", '"') else ""
    return f"{text[:limit - 20]}…{quote} ({size:,} characters)"


def checked(function):
    """Check a public function's arguments against its annotations when it is called.

    A wrong type raises :class:`WrongTypeError` naming the function, the argument, what it
    takes and what it got, before the function body runs: ``connect(5)`` says so, instead of
    a bare ``TypeError`` from deep inside sqlite3. Annotations the check does not understand
    (a type variable, a string it cannot resolve) accept anything.
    """
    signature = inspect.signature(function)
    hints: dict[str, object] | None = None

    @functools.wraps(function)
    def call(*args, **kwargs):
        nonlocal hints
        if hints is None:
            try:
                hints = typing.get_type_hints(function)
            except Exception:  # an annotation that cannot be resolved checks nothing
                hints = {}
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise WrongTypeError(f"{function.__name__}(): {error}", argument=None,
                                 expected=None, value=None, wanted=None,
                                 function=function.__name__, cause=error) from None
        for name, value in bound.arguments.items():
            hint = hints.get(name)
            if hint is not None and not _matches(value, hint,
                                                 signature.parameters[name].kind):
                raise WrongTypeError(
                    f"{function.__name__}(): argument {name!r} must be {_describe(hint)}, "
                    f"not {type(value).__name__}", argument=name, expected=hint, value=value,
                    wanted=_describe(hint), function=function.__name__)
        return function(*args, **kwargs)

    return call


def _matches(value: object, hint: object, kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) -> bool:
    if kind is inspect.Parameter.VAR_POSITIONAL:
        return all(_matches(v, hint) for v in value)
    if kind is inspect.Parameter.VAR_KEYWORD:
        return all(_matches(v, hint) for v in value.values())
    if hint is typing.Any or hint is object or isinstance(hint, typing.TypeVar):
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is None or hint is type(None):
        return value is None
    if origin is not None:
        hint = origin
    if hint is collections.abc.Callable:
        return callable(value)
    if not isinstance(hint, type):
        return True
    if hint in (int, float) and isinstance(value, bool):
        return False
    if hint is float and isinstance(value, int):
        return True  # an int is a number wherever a float is
    return isinstance(value, hint)


def _describe(hint: object) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(hint))
    if hint is None or hint is type(None):
        return "None"
    hint = origin or hint
    return getattr(hint, "__name__", str(hint))
