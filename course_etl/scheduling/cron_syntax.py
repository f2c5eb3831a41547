"""Cron as Debian runs it: the rules croniter does not enforce, and sentences that teach them.

The course teaches the cron most Linux servers run: Vixie cron 3.0pl1 as Debian packages it
(``cron`` 3.0pl1-162 on Debian 12). ``croniter``, the course's expander, reads a larger language:
Quartz's ``?``, ``L``, ``W`` and ``#``, Jenkins' ``H``, a step from a single value (``1/20``),
a seconds field. A config written in it would give a crontab line that cron refuses, or reads
differently. :func:`cron_fields` checks an expression against cron's own grammar (the one in
``entry.c``: lists of ``*``, numbers, ``a-b`` ranges, ``*/n`` and ``a-b/n`` steps, three-letter
names for months and days) and says where a foreign token comes from; croniter then checks the
ranges and does the expanding (:mod:`course_etl.scheduling.cron`).

It also refuses the few lines that Debian's cron installs but would run otherwise than written,
so that a schedule means the same in cron, croniter and Airflow:

* cron stops reading a field at a character it does not know and ignores the rest of it:
  ``0 12 * * 1#2`` installs as ``0 12 * * 1``, every Monday (cronie refuses such lines);
* a backwards range (``5-1``) sets no value at all in cron; croniter wraps it round the week;
* a day field that starts with ``*`` (``*/2``) counts as "every day" when cron combines the two
  day fields (both must then match), while croniter and Airflow run when either matches;
* ``@reboot`` runs when the daemon starts: there is no next run to compute.

``tests/test_cron_as_cron.py`` holds the validator to a table of verdicts recorded from the real
``crontab`` (``tools/record_cron_verdicts.py``).
"""

from __future__ import annotations

import re

from course_etl.errors import CourseEtlError, checked
from course_etl.facts import SCHEDULE

__all__ = ["COURSE_CRON", "InvalidCronError", "NICKNAMES", "CRON_FIELDS", "cron_fields",
           "check_day_fields"]

COURSE_CRON = "Vixie cron 3.0pl1 as Debian runs it (package cron 3.0pl1-162, Debian 12)"


class InvalidCronError(CourseEtlError):
    """A cron expression or time zone that cannot be scheduled.

    Every refusal sets ``.value``: what the message names as wrong (the expression's text
    without surrounding blanks, one field's text, a time zone's name, an argument). A refused
    expression also sets ``.expression``, the argument exactly as given; a refused field adds
    ``.field`` (its name, e.g. ``"minute"``), ``.position`` (0 for the minute … 4 for the day of
    week) and ``.hint`` (why, and the fix). Per situation: ``.known`` (an unknown nickname),
    ``.fields`` (a wrong number of fields), ``.hint`` (a nickname's case, close time-zone names),
    ``.argument`` (``n``), ``.start`` and ``.end`` (a range that ends before it starts, whose
    ``.value`` is the pair), ``.what`` and ``.path`` (a relative path in a crontab entry).
    """


# Debian cron's nicknames (entry.c compares them case-sensitively). @reboot has no time.
NICKNAMES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
# (name, what it accepts, names it knows or ()) for the five fields, in cron's order.
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
CRON_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day of week", "0-7 or SUN-SAT (0 and 7 are Sunday)"),
)
_LOW = (0, 0, 1, 1, 0)
_HIGH = (59, 23, 31, 12, 7)
_SHAPES = "a number, a range a-b, a step */n or a-b/n, or a list of those (a,b)"


def _item(value: str) -> str:
    return rf"(?:\*(?:/[0-9]+)?|{value}-{value}(?:/[0-9]+)?|{value})"


_NUMBER, _NAMED = r"[0-9]+", r"(?:[0-9]+|[A-Za-z]{3})"
_GRAMMAR = [re.compile(rf"{_item(v)}(?:,{_item(v)})*", re.ASCII)
            for v in (_NUMBER, _NUMBER, _NUMBER, _NAMED, _NAMED)]

# Tokens of other schedulers, found item by item: (pattern, where it comes from and the fix).
_FOREIGN = (
    (re.compile(r".*\?.*"), "'?' (no specific value) is Quartz syntax (Java's Quartz scheduler, "
                        "Spring, AWS EventBridge): cron has no '?'; write '*'"),
    (re.compile(r"(?i)H(\([0-9]+-[0-9]+\))?(/[0-9]+)?"),
     "'H' (a value hashed from the job's name) is Jenkins syntax: cron needs a number, e.g. 17"),
    (re.compile(r"(?i)(?:[0-9]+|[a-z]{3})?LW?|L-[0-9]+"),
     "'L' (the month's last day, or its last such weekday) is Quartz syntax: cron has no 'L'; "
     "run on the days it can fall on (28-31, or 22-31 for a weekday) and let the command test "
     "the date"),
    (re.compile(r"(?i)[0-9]+W"), "'W' (the nearest weekday) is Quartz syntax: cron has no 'W'"),
    (re.compile(r"[0-9A-Za-z]+#[0-9]+"),
     "'#' (the n-th weekday of the month) is Quartz syntax: Debian's cron ignores '#' and what "
     "follows and would run on every such weekday; use days 8-14 for the second one, and let "
     "the command test the weekday"),
    (re.compile(r"[0-9]*~[0-9]*"), "'~' (a random value) is cronie's extension: Debian's cron "
                                   "has none (it reads '1~5' as 1); write a number"),
    (re.compile(r"(?P<start>[0-9A-Za-z]+)/[0-9]+"),
     "a step needs a range or '*': '{item}' is croniter's and Quartz's shorthand for a range "
     "from {start} to the end, which Debian's cron refuses; write {start}-{high}/{step}"),
)


def _trimmed(expression: str) -> str:
    """The expression as a message shows it: without the blanks around it."""
    return expression.strip(" \t")


def _error(position: int, field: str, expression: str, why: str) -> InvalidCronError:
    """The refusal of one field of ``expression`` (as given; the message shows it trimmed)."""
    name = CRON_FIELDS[position][0]
    return InvalidCronError(f"cron field {position + 1} ({name}) is {field!r} in "
                            f"{_trimmed(expression)!r}: {why}",
                            value=field, expression=expression, field=name, position=position,
                            hint=why)


def _value(position: int, token: str) -> int | None:
    """The number cron reads for ``token`` (a number, or a name of the month or day field)."""
    names = _MONTHS if position == 3 else _DAYS if position == 4 else ()
    if token.lower() in names:
        return names.index(token.lower()) + (1 if position == 3 else 0)
    return int(token) if token.isascii() and token.isdigit() else None


def _check_items(position: int, field: str, expression: str) -> None:
    for item in field.split(","):
        for pattern, why in _FOREIGN:
            match = pattern.fullmatch(item)
            start = match and match.groupdict().get("start")
            if match and (start is None or _value(position, start) is not None):
                raise _error(position, field, expression, why.format(
                    item=item, start=_value(position, start or "0"), step=item.partition("/")[2],
                    high=6 if position == 4 else _HIGH[position]))
        bounds = item.split("/")[0].split("-")
        if len(bounds) == 2 and "*" not in item:
            low, high = (_value(position, b) for b in bounds)
            if low is None or high is None:
                continue
            if low > high:
                top, bottom = (6, 0) if position == 4 else (_HIGH[position], _LOW[position])
                raise _error(position, field, expression, (
                    f"the range {item} runs backwards: cron reads it as no value at all, "
                    f"croniter wraps it round; write {low}-{top},{bottom}-{high}"))
            if low == high:
                raise _error(position, field, expression, (
                    f"the range {item} goes from {bounds[0]} to itself, which is just {low}: "
                    f"write {low} (croniter, which expands cron for the course and for Airflow, "
                    "reads such a range as every value, or with a step as steps from the "
                    "field's first value)"))


@checked
def check_day_fields(fields: list[str], expanded: list[list], text: str) -> None:
    """Refuse day fields that cron and croniter combine differently.

    cron (``cron.c``) runs when *both* day fields match if either of them *starts with* ``*``,
    else when either matches; croniter (and Airflow, which uses it) when both match if either
    field *reads as every value* (``expanded``, croniter's own reading, starts with ``"*"``).
    ``text`` is the expression as given (the error's ``.expression``).
    """
    cron_both = fields[2].startswith("*") or fields[4].startswith("*")
    croniter_both = expanded[2][0] == "*" or expanded[4][0] == "*"
    if cron_both == croniter_both:
        return
    if cron_both:  # a restricted field that starts with '*', e.g. */2
        position = 2 if fields[2].startswith("*") else 4
        field = fields[position]
        step = field.partition("/")[2] or "1"
        rewrite = f"{_LOW[position]}-{_HIGH[position] if position == 2 else 6}/{step}"
        raise _error(position, field, text, (
            "a day field that starts with '*' makes cron run only when both day fields match, "
            f"while croniter and Airflow run when either does; write {rewrite} to mean 'or', or "
            "test the other day in the command to mean 'and'"))
    position = 2 if expanded[2][0] == "*" else 4  # covers every value without starting with '*'
    raise _error(position, fields[position], text, (
        "this covers every day, and with the other day field given cron runs on either (every "
        "day), while croniter and Airflow run only when the other one matches; write '*' to mean "
        "that"))


@checked
def cron_fields(expression: object) -> list[str]:
    """The five fields of ``expression`` (a nickname replaced by its fields), checked against
    Debian cron's grammar. Raises InvalidCronError naming the field, where a foreign token comes
    from and the fix. Ranges and names are left to croniter (the caller), and so is
    :func:`check_day_fields`, which needs croniter's reading."""
    if not isinstance(expression, str):
        raise InvalidCronError(f"a cron expression is text, not {type(expression).__name__} "
                               f"{expression!r}: e.g. {SCHEDULE.cron!r}",
                               value=expression, expression=expression)
    if not expression.strip():
        raise InvalidCronError(
            f"empty cron expression {expression!r}: write five fields, e.g. {SCHEDULE.cron!r} "
            "(minute hour day-of-month month day-of-week)", value=expression,
            expression=expression)
    text = expression.strip(" \t")
    if text.startswith("@"):
        if text == "@reboot":
            raise InvalidCronError(
                "'@reboot' runs a job once when the cron daemon starts, not at a time: a "
                "schedule has no next run for it, so nothing can be planned, backfilled or "
                f"exported; give a time ('@daily', {SCHEDULE.cron!r})", value=text,
                expression=expression)
        if text.lower() in NICKNAMES:
            if text != text.lower():
                raise InvalidCronError(f"cron's nicknames are lower case: write "
                                       f"{text.lower()!r}, not {text!r}", value=text,
                                       expression=expression, hint=text.lower())
            return NICKNAMES[text].split()
        raise InvalidCronError(
            f"unknown cron nickname {text!r} (known: {', '.join(NICKNAMES)}, and @reboot)",
            value=text, expression=expression, known=list(NICKNAMES))
    fields = re.split(r"[ \t]+", text)
    if len(fields) in (6, 7):
        raise InvalidCronError(
            f"cron expression {text!r} has {len(fields)} field(s): cron has five, minute first; "
            "a seconds field in front (Quartz, Spring), a year or a time zone behind are not "
            "cron's: drop them, e.g. '0 30 6 * * 1-5' becomes '30 6 * * 1-5' (the time zone is "
            "set apart, as schedule.timezone)", value=text, expression=expression, fields=fields)
    if len(fields) != 5:
        raise InvalidCronError(
            f"cron expression {text!r} has {len(fields)} field(s), needs exactly 5: "
            f"minute hour day-of-month month day-of-week, e.g. {SCHEDULE.cron!r}",
            value=text, expression=expression, fields=fields)
    for position, field in enumerate(fields):
        _check_items(position, field, expression)
        if not _GRAMMAR[position].fullmatch(field):
            name, accepts = CRON_FIELDS[position]
            raise _error(position, field, expression,
                         f"the {name} field accepts {accepts}: {_SHAPES}")
    return fields
