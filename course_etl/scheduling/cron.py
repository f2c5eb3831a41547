"""Cron expressions that explain themselves: validated, described, expanded and put in a crontab.

The course's cron is :data:`COURSE_CRON`, Vixie cron as Debian runs it: an expression is accepted
when that cron accepts it and runs it as written (:mod:`~course_etl.scheduling.cron_syntax` holds
its grammar and says where a Quartz or Jenkins token comes from), ``croniter`` checks the ranges
and computes when a schedule fires (``cron-descriptor`` alone would happily describe
``61 * * * *``), ``cron-descriptor`` says it in English, and :mod:`zoneinfo` gives the time zone.
Across daylight-saving changes a schedule fires as cron fires it: once on the night an hour
repeats, once (at 03:00) on the night an hour is skipped. :func:`crontab_entry` writes the line a
server needs: absolute paths to the virtualenv's Python, the output appended to a log file and
``flock`` so two runs never overlap.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cron_descriptor import Options
from cron_descriptor import get_description as _describe
from croniter import CroniterError, croniter

from course_etl.errors import checked
from course_etl.facts import SCHEDULE
from course_etl.scheduling.cron_syntax import (
    COURSE_CRON,
    CRON_FIELDS,
    NICKNAMES,
    InvalidCronError,
    check_day_fields,
    cron_fields,
)

__all__ = [
    "COURSE_CRON",
    "CRON_FIELDS",
    "NICKNAMES",
    "PRESETS",
    "LECTURE_PRESET",
    "InvalidCronError",
    "CronSchedule",
    "validate_cron",
    "resolve_timezone",
    "describe_cron",
    "next_runs",
    "runs_between",
    "crontab_entry",
]

#: The cron explorer's preset for the lecture's own schedule (from the facts).
LECTURE_PRESET = (f"daily at {SCHEDULE.time_of_day} (the lecture)" if SCHEDULE.once_a_day
                  else "the lecture's schedule")
PRESETS = {  # the cron explorer's presets: label -> expression
    "hourly": "0 * * * *",
    LECTURE_PRESET: SCHEDULE.cron,
    "weekdays at 06:30": "30 6 * * 1-5",
    "first of the month at 06:00": "0 6 1 * *",
    "every 15 minutes": "*/15 * * * *",
}


def _fires(expression: str) -> bool:
    try:
        croniter(expression, datetime(2024, 10, 1)).get_next(datetime)
    except (CroniterError, ValueError, KeyError):
        return False
    return True


@checked
def validate_cron(expression: str) -> str:
    """The expression as five space-separated fields (nicknames expanded), as cron reads it.

    Cron's grammar first (:func:`~course_etl.scheduling.cron_syntax.cron_fields`: Quartz, Jenkins
    and croniter-only forms are refused with where they come from), then croniter's ranges.
    Raises InvalidCronError naming the bad field, what it holds and what it accepts.
    """
    if not isinstance(expression, str):
        cron_fields(expression)  # raises: only text is an expression
    return _validated(expression)


@cache
def _validated(expression: str) -> str:
    fields = cron_fields(expression)
    for position, (name, accepts) in enumerate(CRON_FIELDS):
        alone = ["*"] * 5
        alone[position] = fields[position]
        if not _fires(" ".join(alone)):
            raise InvalidCronError(
                f"cron field {position + 1} ({name}) is {fields[position]!r} in "
                f"{expression.strip()!r}: the {name} field accepts {accepts}",
                value=fields[position], expression=expression, field=name, position=position,
                hint=f"the {name} field accepts {accepts}")
    normalised = " ".join(fields)
    check_day_fields(fields, croniter(normalised).expanded, expression)
    if not _fires(normalised):  # every field fine alone, but not together (e.g. 31 in February)
        raise InvalidCronError(f"cron expression {expression.strip()!r} never fires: check day "
                               "and month (cron would install it and never run it)",
                               value=expression.strip(), expression=expression)
    return normalised


@cache
def _all_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@checked
def resolve_timezone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; raises InvalidCronError with close matches when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a name too long
        close = difflib.get_close_matches(str(name), _all_timezones(), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "e.g. UTC, Europe/Berlin"
        raise InvalidCronError(f"unknown time zone {name!r} ({hint})", value=name,
                               hint=hint) from None


@checked
def describe_cron(expression: str) -> str:
    """The expression in English, 24-hour clock, e.g. '30 6 * * *' → 'At 06:30'."""
    options = Options()
    options.use_24hour_time_format = True
    return _describe(validate_cron(expression), options)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    # A naive datetime is read as wall-clock time in the schedule's zone, as a scheduler would.
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _tidy(moment: datetime, zone: ZoneInfo) -> datetime:
    # croniter can hand back fold=1 on unambiguous times; re-deriving from the instant fixes it.
    return datetime.fromtimestamp(moment.timestamp(), zone)


def _repeats(expression: str, moment: datetime) -> bool:
    """True for the second pass of a fixed-time schedule through a repeated wall-clock hour.

    When clocks go back (Europe/Berlin, last Sunday of October) 02:00-02:59 happens twice and
    croniter fires a ``30 2 * * *`` at 02:30 CEST *and* 02:30 CET. cron runs a job with a fixed
    hour only once then (jobs with ``*`` in the hour field follow the real clock, so they keep
    both), so the second pass (``fold=1``) is dropped. The skipped hour in March needs nothing:
    croniter already fires once, at 03:00, as cron does.
    """
    return moment.fold == 1 and "*" not in expression.split()[1]


def _ticks(expression: str, zone: ZoneInfo, origin: datetime, *, forward: bool = True):
    """Fire times after (or before) ``origin``, aware in ``zone``, each once."""
    iterator = croniter(expression, origin)
    step = iterator.get_next if forward else iterator.get_prev
    while True:
        moment = _tidy(step(datetime), zone)
        if not _repeats(expression, moment):
            yield moment


@checked
def next_runs(
    expression: str, n: int = 5, *, after: datetime, timezone: str = "UTC"
) -> list[datetime]:
    """The next ``n`` times the schedule fires strictly after ``after``, aware in ``timezone``."""
    if n < 0:
        raise InvalidCronError(f"n={n} runs asked for: ask for 0 or more", value=n,
                               argument="n")
    zone = resolve_timezone(timezone)
    ticks = _ticks(validate_cron(expression), zone, _aware(after, zone))
    return [next(ticks) for _ in range(n)]


@checked
def runs_between(
    expression: str, start: datetime, end: datetime, *, timezone: str = "UTC", limit: int = 10_000
) -> list[datetime]:
    """Every fire time in ``[start, end]``, at most ``limit`` of them (a guard for '* * * * *')."""
    zone = resolve_timezone(timezone)
    start, end = _aware(start, zone), _aware(end, zone)
    if end < start:
        raise InvalidCronError(f"range ends ({end}) before it starts ({start}): swap them",
                               value=(start, end), start=start, end=end)
    # Start one second early so a tick exactly at ``start`` is included.
    ticks = _ticks(validate_cron(expression), zone, start - timedelta(seconds=1))
    runs: list[datetime] = []
    while len(runs) < limit:
        moment = next(ticks)
        if moment > end:
            break
        runs.append(moment)
    return runs


@dataclass(frozen=True)
class CronSchedule:
    """A validated cron expression in a time zone."""

    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "expression", validate_cron(self.expression))
        resolve_timezone(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return resolve_timezone(self.timezone)

    @property
    def description(self) -> str:
        return describe_cron(self.expression)

    def next_runs(self, n: int = 5, *, after: datetime) -> list[datetime]:
        return next_runs(self.expression, n, after=after, timezone=self.timezone)

    def runs_between(self, start: datetime, end: datetime) -> list[datetime]:
        return runs_between(self.expression, start, end, timezone=self.timezone)

    def previous_run(self, before: datetime) -> datetime:
        """The last fire time strictly before ``before``."""
        return next(_ticks(self.expression, self.zone, _aware(before, self.zone), forward=False))


@checked
def crontab_entry(
    expression: str,
    command: Sequence[str],
    *,
    workdir: str | Path,
    log_file: str | Path,
    lock_file: str | Path,
    comment: str = "",
) -> str:
    """A crontab entry (comment line + schedule line) that runs ``command`` safely.

    ``command`` is an argv list whose first item must be an absolute path (cron's PATH is tiny);
    the entry changes into ``workdir``, takes ``flock -n`` on ``lock_file`` (a run still going
    makes the next one exit instead of overlapping) and appends stdout and stderr to ``log_file``.
    Every part is shell-quoted and ``%`` escaped (cron turns it into a newline). The text comes
    from the template ``course_etl/scheduling/export/templates/crontab.jinja``.
    Raises InvalidCronError for a bad expression or relative paths.
    """
    fields = validate_cron(expression)
    paths = {"command[0]": command[0] if command else "", "workdir": workdir,
             "log_file": log_file, "lock_file": lock_file}
    for what, path in paths.items():
        if not Path(str(path)).is_absolute():
            raise InvalidCronError(
                f"{what} {str(path)!r} is not an absolute path: cron runs with a minimal "
                "environment and another working directory, so give the full path",
                value=path, what=what, path=path)
    from course_etl.scheduling.export.render import render  # Jinja2: only when writing one

    return render("crontab.jinja", fields=fields, command=list(command), workdir=workdir,
                  log_file=log_file, lock_file=lock_file, comment=comment,
                  when=describe_cron(fields)).rstrip("\n")
