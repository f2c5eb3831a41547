"""One clock for every component: aware UTC moments, shown in a configured time zone.

Runners, the run log, the alert router, bronze ingestion and the capstone take a clock and ask it
``clock.now()``, which is always a time-zone aware datetime in UTC, never the machine's local
time: the same run gives the same records on a laptop in Denver and a server in Kolkata.
:class:`RealClock` reads the system clock and really waits; :class:`SimulatedClock` moves only
when told (a retry wait, a task's simulated duration, ``advance``), so a notebook replays a day
to the second without waiting; :class:`TickingClock` steps forward each time it is read (bronze
batches arriving every 12 hours). Time zones matter only where a moment is shown to a person:
:func:`shown` converts to the configured zone, and the run log stores naive UTC text
(:func:`utc_text`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from course_etl.errors import CourseEtlError, checked
from course_etl.facts import SCHEDULE, STORY_START

__all__ = [
    "Clock",
    "TimeSource",
    "ClockError",
    "RealClock",
    "SimulatedClock",
    "scheduled_start",
    "TickingClock",
    "as_utc",
    "utc_text",
    "shown",
]


class ClockError(CourseEtlError):
    """A clock was asked to go back in time, or given a moment it cannot read."""


@runtime_checkable
class Clock(Protocol):
    """What every component reads time from.

    ``now()`` is the current moment (aware, UTC); ``sleep(seconds)`` waits between retries;
    ``spend(task_name)`` is called after each try of a task (a simulated clock advances by the
    task's duration, a real one has already spent it); ``advance(seconds)`` lets work that
    simulates itself move simulated time.
    """

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def spend(self, task_name: str) -> None: ...

    def advance(self, seconds: float) -> datetime: ...


@runtime_checkable
class TimeSource(Protocol):
    """Anything with ``now()``: all a component that only stamps a moment needs (bronze
    ingestion), so a test's one-method clock is accepted there and judged by what it returns."""

    def now(self) -> datetime: ...


def as_utc(moment: datetime | str) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one (or ISO text without an offset) is read
    as UTC, the zone the run log stores. Raises ClockError for text that is not ISO 8601."""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise ClockError(f"{moment!r} is not an ISO 8601 moment: write "
                             "2024-10-01T12:00:00Z", value=moment) from None
    if not isinstance(moment, datetime):
        raise ClockError(f"a moment must be a datetime, not {type(moment).__name__}",
                         value=moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    # A plain datetime even from a subclass (pendulum's prints differently).
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def utc_text(moment: datetime) -> str:
    """How the run log stores a moment: naive UTC to the second, ``2024-10-02 12:00:00``."""
    return as_utc(moment).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


@checked
def shown(moment: datetime | str, timezone: str = "UTC", *,
          fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """``moment`` (aware, naive UTC, or run-log text) as a person in ``timezone`` reads it."""
    return as_utc(moment).astimezone(ZoneInfo(timezone)).strftime(fmt)


class RealClock:
    """Wall-clock time in UTC, real waits. Not for notebooks: their outputs would vary."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def spend(self, task_name: str) -> None:
        """Real work already took real time."""

    def advance(self, seconds: float) -> datetime:
        """Real work already took real time: only the current moment is returned."""
        return self.now()


def scheduled_start(day: str) -> str:
    """When the lecture's pipeline starts on ``day`` (``YYYY-MM-DD``), as a
    :class:`SimulatedClock` reads it: the schedule's time of day (midnight for a schedule that
    is not once a day), e.g. ``2024-10-02 06:30:00`` for ``30 6 * * *``."""
    return f"{day} {SCHEDULE.time_of_day or '00:00'}:00"


#: The lecture pipeline's first scheduled run (the story's first day at the schedule's time).
LECTURE_RUN_START = scheduled_start(STORY_START)


class SimulatedClock:
    """A clock that only moves when told: replays runs deterministically, to the second.

    ``SimulatedClock(durations, default=60, start=LECTURE_RUN_START)``: each try of a task
    takes ``durations[task]`` seconds (``default`` for others), a retry wait advances the clock
    instead of sleeping (``slept`` lists the waits), and work that simulates itself calls
    ``advance(seconds)``. A naive ``start`` is read as UTC. Raises ClockError for a step back.
    """

    def __init__(self, durations: dict[str, float] | None = None, *, default: float = 60.0,
                 start: datetime | str = LECTURE_RUN_START):
        self.durations = dict(durations or {})
        self.default = default
        self.start = as_utc(start)
        self.seconds = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._moment()

    def _moment(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def spend(self, task_name: str) -> None:
        self.advance(self.durations.get(task_name, self.default))

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` forward; returns the new moment."""
        if seconds < 0:
            raise ClockError(f"a clock cannot go back: advance({seconds!r}) needs seconds >= 0",
                             value=seconds)
        self.seconds += seconds
        return self._moment()

    def advance_to(self, moment: datetime | str) -> datetime:
        """Move the clock forward to ``moment`` (no change if it is already later)."""
        return self.advance(max(0.0, (as_utc(moment) - self._moment()).total_seconds()))


class TickingClock(SimulatedClock):
    """A simulated clock that reads ``start``, then ``start + step``, … on successive ``now()``
    calls: each reading is a new event (a batch arriving every ``step``)."""

    def __init__(self, start: datetime | str = "2024-10-01T06:00:00Z",
                 step: timedelta = timedelta(hours=1)):
        super().__init__(default=0.0, start=start)
        self.step = step
        self._readings = 0

    def now(self) -> datetime:
        moment = self._moment() + self._readings * self.step
        self._readings += 1
        return moment
