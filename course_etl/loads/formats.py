"""Watermark formats: what shape a value has, and SQL that checks a whole column for one shape.

Comparing watermarks as text is only right when every value has the same shape:
'2024-10-05 13:00' sorts before '2024-10-05T09:00' because ' ' < 'T', an epoch number sorts
before all text, and '10/05/2024', ' 2024-10-05' or '10000-01-01' sort before '2024-…' whatever
moment they mean. So a load names the *format* of its values and refuses any other.

A format is exact: ``integer``; ``YYYY-MM-DD``; or ``YYYY-MM-DD`` + ``' '`` or ``T`` + ``hh:mm``,
optionally ``:ss`` and ``.f`` to ``.ffffff``, then the zone as written (``Z``, ``+02:00`` or
none). Two values of one format compare as text exactly as the moments they name.
:func:`classify` names the format of one value (``invalid`` for the right shape but an
impossible date or time, ``unrecognised`` for anything else); :func:`shape_sql` and
:func:`valid_sql` are the same rule as a SQL predicate over a column, so one indexed pass checks
every row (a test keeps the Python and the SQL side in agreement on generated values).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "NOT_A_FORMAT",
    "FUTURE_TOLERANCE",
    "classify",
    "is_format",
    "compares_with",
    "shape_sql",
    "valid_sql",
    "parse",
    "render",
    "future_limit",
    "now",
]

# What classify() says about a value that has no format; every other answer is a format.
NOT_A_FORMAT = ("NULL", "invalid", "unrecognised")
# A source value later than now + this is refused: one row stamped 2999-12-31 would move the
# watermark past every row written until then. A day covers any time zone of naive stamps.
FUTURE_TOLERANCE = timedelta(days=1)

_STAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:(?P<sep>[ T])(?P<hm>\d{2}:\d{2})(?P<s>:\d{2}(?P<f>\.\d{1,6})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?"
)
_INT64 = range(-(2**63), 2**63)


def classify(value: object) -> str:
    """The format of one value: a format name, or ``NULL``, ``invalid`` or ``unrecognised``."""
    if value is None:
        return "NULL"
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer" if value in _INT64 else "unrecognised"
    if not isinstance(value, str):
        return "unrecognised"
    match = _STAMP.fullmatch(value)
    if match is None or (match["sep"] is None and len(value) != 10):
        return "unrecognised"
    if match["sep"] is None:
        fmt = "YYYY-MM-DD"
    else:
        fraction = "." + "f" * (len(match["f"]) - 1) if match["f"] else ""
        seconds = ":ss" + fraction if match["s"] else ""
        fmt = f"YYYY-MM-DD{match['sep']}hh:mm{seconds}{match['zone'] or ''}"
    return fmt if _is_real_moment(value, match) else "invalid"


def _is_real_moment(value: str, match: re.Match) -> bool:
    try:
        if match["sep"] is None:
            date.fromisoformat(value)
        else:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # month 13, 30 February, 24:00, an offset beyond ±24 h…
        return False
    zone = match["zone"]
    return zone in (None, "Z") or (int(zone[1:3]) <= 14 and int(zone[4:6]) < 60)


def is_format(fmt: object) -> bool:
    return isinstance(fmt, str) and fmt not in NOT_A_FORMAT


def compares_with(bound_format: str, column_format: str) -> bool:
    """True when a bound of ``bound_format`` compares correctly as text with the column's values.

    The same format always does; a bare date also bounds any timestamp format (as a text prefix
    it means "from the start of that day", in the values' own zone).
    """
    return bound_format == column_format or (
        bound_format == "YYYY-MM-DD" and column_format.startswith("YYYY-MM-DD"))


_FORMAT_TAIL = re.compile(r"(?P<s>:ss(?P<f>\.f{1,6})?)?(?P<zone>.*)")


def _parts(fmt: str) -> tuple[str, int, str, int]:
    """(strftime pattern of the core, core length, zone suffix, fraction digits) of ``fmt``."""
    if fmt == "YYYY-MM-DD":
        return "%Y-%m-%d", 10, "", 0
    tail = _FORMAT_TAIL.fullmatch(fmt[len("YYYY-MM-DD hh:mm"):])
    seconds = tail["s"] is not None
    digits = len(tail["f"]) - 1 if tail["f"] else 0
    pattern = f"%Y-%m-%d{fmt[10]}%H:%M" + (":%S" if seconds else "")
    return pattern, 19 if seconds else 16, tail["zone"], digits


def shape_sql(fmt: str, column_sql: str) -> str:
    """SQL that is true when the value of ``column_sql`` has exactly the shape of ``fmt``.

    Cheap enough for every row: SQLite's date parser writes the value back, and only a value of
    that exact shape comes back unchanged ('2024-10-05 10:00:00 ' loses its space, ' 2024…' and
    '10000-…' do not parse, an epoch number is not text). Loose days or hours of the right shape
    (30 February, 24:00) pass: they sort where their text says, and :func:`valid_sql` refuses
    them where a load reads them.
    """
    return _predicate(fmt, column_sql, normalise=False)


def valid_sql(fmt: str, column_sql: str) -> str:
    """SQL that is true when the value of ``column_sql`` is a real moment in format ``fmt``.

    The shape of :func:`shape_sql`, with the date normalised by a ``+0`` modifier first, so an
    impossible day or hour (2024-02-30, 24:00) no longer comes back unchanged.
    """
    return _predicate(fmt, column_sql, normalise=True)


def _predicate(fmt: str, v: str, *, normalise: bool) -> str:
    # Every comparison is NULL-safe (IS, coalesce): a date function gives NULL for what it cannot
    # parse, and NOT NULL would be NULL, which a WHERE treats as false, hiding the very value.
    if fmt == "integer":
        return f"(typeof({v}) = 'integer')"
    modifier = ", '+0 seconds'" if normalise else ""
    # The common formats in their fastest form: the date function writes exactly that shape.
    if fmt in ("YYYY-MM-DD hh:mm:ss", "YYYY-MM-DD"):
        function = "datetime" if len(fmt) > 10 else "date"
        return f"({function}({v}{modifier}) IS {v} AND coalesce({v} >= '0001', 0))"
    pattern, length, zone, digits = _parts(fmt)
    core = f"substr({v}, 1, {length})"
    tail_at = length + 1
    checks = [f"strftime('{pattern}', {core}{modifier}) IS {core}",
              f"coalesce({v} >= '0001', 0)"]
    if digits:
        fraction = f"substr({v}, {length + 2}, {digits})"
        checks += [f"substr({v}, {tail_at}, 1) IS '.'", f"length({fraction}) IS {digits}",
                   f"{fraction} NOT GLOB '*[^0-9]*'"]
        tail_at += digits + 1
    # The zone is part of the format, quoted like any constant: it is not a value of the row.
    zone_sql = "'" + zone.replace("'", "''") + "'"
    checks.append(f"substr({v}, {tail_at}) IS {zone_sql}")
    checks.append(f"typeof({v}) = 'text'")
    return "coalesce(" + " AND ".join(checks) + ", 0)"


def parse(value: str | int, fmt: str) -> datetime | date | int:
    """The moment (or number) a value of format ``fmt`` names; naive stamps stay naive."""
    if fmt == "integer":
        return int(value)
    if fmt == "YYYY-MM-DD":
        return date.fromisoformat(str(value))
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def render(moment: datetime | date | int, fmt: str) -> str | int:
    """``moment`` written in format ``fmt``, so it compares with the column's values as text.

    A timestamp is cut (never rounded up) to the format's precision: a lower bound moves down,
    so a load reads a little more, never less.
    """
    if fmt == "integer":
        return int(moment)
    if fmt == "YYYY-MM-DD":
        return (moment.date() if isinstance(moment, datetime) else moment).isoformat()
    _, length, zone, digits = _parts(fmt)
    naive = moment.replace(tzinfo=None) if isinstance(moment, datetime) else datetime.combine(
        moment, datetime.min.time())
    text = naive.isoformat(sep=fmt[10], timespec="microseconds")
    return text[:length + (digits + 1 if digits else 0)] + zone


def now() -> datetime:
    """The current time (UTC); the future check reads it here, so a test can move it."""
    return datetime.now(UTC)


def future_limit(fmt: str, *, clock: datetime | None = None) -> str | None:
    """The latest value of format ``fmt`` a source may hold now (None: integers have no time).

    Naive stamps are compared as if UTC; the tolerance covers any zone they were written in.
    """
    if fmt == "integer":
        return None
    limit = (clock or now()) + FUTURE_TOLERANCE
    zone = _parts(fmt)[2]
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        limit += sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return render(limit, fmt)

