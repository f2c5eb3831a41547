"""Exercises for notebook 03 (monitoring): write a freshness check, choose its thresholds, and
say why a volume check needs history.

The first two are judged by behaviour (:mod:`~course_etl.classroom.exercises.differential`): the
student's function and :func:`course_etl.monitoring.checks.freshness` run on the same tables, and
the student's thresholds and a reference pair judge the same multi-day histories of a feed that
writes between :data:`FEED_HOURS` and is checked when the lecture's pipeline runs. Tables and
histories are generated from a seed (empty ones, NULLs, date-only and ``T`` timestamps, values
exactly at a threshold, decoy tables and columns), so a verdict is the same on every run; it
names the smallest table or history on which the answers differ.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, time, timedelta

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._budget import time_budget, watch_connection
from course_etl.classroom.exercises.differential import (
    Scenario,
    first_difference,
    function_problem,
    letter_of,
    safe_repr,
)
from course_etl.db import quote_identifier
from course_etl.errors import checked
from course_etl.monitoring.checks import freshness
from course_etl.scheduling.lecture import customers_pipeline

__all__ = [
    "FEED_HOURS",
    "VOLUME_HISTORY_CHOICES",
    "check_freshness_function",
    "check_freshness_thresholds",
    "check_volume_history",
    "freshness_scenarios",
    "threshold_scenarios",
]

SEED = 2024_10_15
_DAY = timedelta(days=1)
_FORMATS = {"date and time": "%Y-%m-%d %H:%M:%S", "ISO with a T": "%Y-%m-%dT%H:%M:%S",
            "date only": "%Y-%m-%d"}

# --- 1. a freshness function --------------------------------------------------------------------


def _human(age: timedelta) -> str:
    sign, age = ("-", -age) if age < timedelta(0) else ("", age)
    days, rest = divmod(int(age.total_seconds()), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} day(s)" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else "", f"{seconds} s" if seconds else ""]
    return sign + (" ".join(p for p in parts if p) or "0 s")


def _table(table: str, column: str, now: datetime, ages: list[timedelta | None], fmt: str,
           *, decoy: str = "", garbage: str = "") -> dict:
    """A table whose ``column`` holds ``now - age`` for each age (None: NULL; a negative age is
    a row from the future, a clock running ahead), in ``fmt``; ``decoy`` adds a fresher column
    or table the answer must not read; ``garbage`` a value that is no timestamp (sorting after
    every date: the newest value)."""
    values = [None if age is None else (now - age).strftime(_FORMATS[fmt]) for age in ages]
    return {"table": table, "column": column, "now": now, "values": values + (
        [garbage] if garbage else []), "decoy": decoy}


def _parsed(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _story(data: dict) -> str:
    known = [_parsed(v) for v in data["values"] if v is not None]
    garbage = [v for v in data["values"] if v is not None and _parsed(v) is None]
    known = [k for k in known if k is not None]
    if garbage:
        what = (f"a table whose newest {data['column']} is {garbage[0]!r}, not a timestamp"
                + (f", beside {len(known)} real one(s)" if known else ""))
    elif not known:
        what = "an empty table" if not data["values"] else "a table whose values are all NULL"
    else:
        newest = max(known)
        age = data["now"] - newest
        nulls = sum(v is None for v in data["values"])
        rows = len(data["values"])
        when = (f"{_human(-age)} in the future (a clock running ahead)" if age < timedelta(0)
                else f"{_human(age)} old")
        shown = (f" ({max(v for v in data['values'] if v)!r}, a date without a time)"
                 if len(max(v for v in data["values"] if v)) == 10 else "")
        what = (f"a table of {rows} row{'s' if rows > 1 else ''} whose newest {data['column']} is "
                f"{when}{shown}" + (f" ({nulls} NULL)" if nulls else ""))
    decoy = {"column": f", and a fresher column beside {data['column']}",
             "table": ", and a fresher table beside it"}.get(data["decoy"], "")
    return (f"{what}{decoy} (table {data['table']}.{data['column']}, "
            f"now {data['now']:%Y-%m-%d %H:%M})")


@checked
def freshness_scenarios(*, seed: int = SEED, generated: int = 24,
                        hand_picked: bool = True) -> list[Scenario]:
    """Tables a freshness function must judge, smallest first: empty, one row at and around each
    threshold, date-only and ``T`` values, NULLs, decoys; then seeded multi-day histories."""
    now = datetime.combine(datetime(2024, 10, 15), _run_time())  # checked when the run starts
    minute, second = timedelta(minutes=1), timedelta(seconds=1)
    since_midnight = now - now.replace(hour=0, minute=0)
    fixed = [
        _table("feed", "updated_at", now, [], "date and time"),
        _table("feed", "updated_at", now, [timedelta(hours=2)], "date and time"),
        _table("feed", "updated_at", now, [_DAY], "date and time"),
        _table("feed", "updated_at", now, [_DAY + second], "date and time"),
        _table("feed", "updated_at", now, [3 * _DAY], "date and time"),
        _table("feed", "updated_at", now, [3 * _DAY + second], "date and time"),
        _table("feed", "updated_at", datetime(2024, 10, 15), [2 * _DAY], "date only"),
        _table("events", "seen_at", datetime(2025, 3, 5, 12), [23 * 60 * minute],
               "ISO with a T"),
        _table("feed", "updated_at", now, [None, None], "date and time"),
        _table("feed", "updated_at", now, [None, 4 * _DAY, 30 * 60 * minute], "date and time"),
        _table("events", "seen_at", now, [2 * _DAY], "date and time", decoy="column"),
        _table("events", "seen_at", now, [4 * _DAY], "date and time", decoy="table"),
        _table("feed", "updated_at", now, [-2 * _DAY], "date and time"),
        _table("feed", "updated_at", now, [-timedelta(minutes=5), 2 * _DAY], "date and time"),
        _table("feed", "updated_at", now, [_DAY + since_midnight], "date only"),  # 00:00
        _table("feed", "updated_at", now, [3 * _DAY + 5 * minute], "date only"),
        _table("feed", "updated_at", now, [timedelta(hours=3)], "date and time",
               garbage="yesterday"),
        _table("feed", "updated_at", now, [], "date and time", garbage="n/a"),
    ]
    fixed = fixed if hand_picked else []
    chosen = len(fixed)
    rng = random.Random(seed)
    for _ in range(generated):
        moment = datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(3 * 365 * 1440))
        newest = rng.choice([_DAY, 3 * _DAY, _DAY + minute, 3 * _DAY + second, _DAY - second,
                             _DAY + second, timedelta(seconds=rng.randrange(5 * 86_400))])
        ages = [newest] + [newest + timedelta(hours=rng.randrange(1, 96))
                           for _ in range(rng.randrange(0, 6))]
        ages += [None] * rng.choice([0, 0, 1])
        fmt = rng.choice(["date and time", "ISO with a T"])
        fixed.append(_table(rng.choice(["feed", "events", "orders"]),
                            rng.choice(["updated_at", "seen_at", "loaded_at"]), moment,
                            rng.sample(ages, len(ages)), fmt,
                            decoy=rng.choice(["", "", "column", "table"])))
    return [Scenario(_story(d), d, size=len(d["values"]) + bool(d["decoy"])
                     + (10 if number >= chosen else 0))
            for number, d in enumerate(fixed)]


def _connection(data: dict) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    table, column = data["table"], data["column"]
    fresh = data["now"].strftime("%Y-%m-%d %H:%M:%S")
    other = "other_at" if column != "other_at" else "changed_at"  # the decoy column
    id_sql = quote_identifier("id")
    conn.execute(f"CREATE TABLE {quote_identifier(table)} ({id_sql} INTEGER, "
                 f"{quote_identifier(column)} TEXT, {quote_identifier(other)} TEXT)")
    conn.executemany(f"INSERT INTO {quote_identifier(table)} VALUES (?, ?, ?)",
                     [(i, v, fresh if data["decoy"] == "column" else None)
                      for i, v in enumerate(data["values"], 1)])
    if data["decoy"] == "table":
        decoy = "recent_feed" if table != "recent_feed" else "other_feed"
        conn.execute(f"CREATE TABLE {quote_identifier(decoy)} ({id_sql} INTEGER, "
                     f"{quote_identifier(column)} TEXT)")
        conn.execute(f"INSERT INTO {quote_identifier(decoy)} VALUES (1, ?)", (fresh,))
    return conn


def _reference_freshness(conn, table, column, now):
    return freshness(conn, table, column, now=now, warn_after={"count": 1, "period": "day"},
                     error_after={"count": 3, "period": "day"}).status


#: What a freshness check does on a value that is no timestamp, when it does not hide it.
LOUD = "an error, or 'fail'"


def _judge(answer, scenario: Scenario) -> object:
    conn = watch_connection(_connection(scenario.data))
    garbage = any(v is not None and _parsed(v) is None for v in scenario.data["values"])
    try:
        with time_budget():
            verdict = answer(conn, scenario.data["table"], scenario.data["column"],
                             scenario.data["now"])
    except Exception:
        if not garbage:
            raise
        return LOUD  # refusing to judge garbage is right: the library raises
    finally:
        conn.close()
    if garbage and verdict == "fail" and type(verdict) is str:
        return LOUD  # so is failing the check: a red light is noticed
    # A verdict is text: its characters, whatever a subclass of str says about equality.
    return str.__str__(verdict) if isinstance(verdict, str) else (
        "not text", type(verdict).__name__, safe_repr(verdict, 60))


def _stub_freshness_status(conn, table, column, now):
    return "pass"


@register(answer_name="freshness_status", stub=_stub_freshness_status,
          solution_file="03_freshness_function.py")
def check_freshness_function(answer) -> Verdict:
    """Write a freshness check function.

    Answer: ``freshness_status(conn, table, column, now)`` (a sqlite3 connection, two names, a
    ``datetime``) returning 'pass', 'warn' after 1 day or 'fail' after 3 days (strictly older)
    or when the column has no value."""
    name = "Write a freshness check"
    if not callable(answer):
        return Verdict(name, False, f"expected a function, got {type(answer).__name__}",
                       "define def freshness_status(conn, table, column, now): ...")
    problem = function_problem(answer)
    if problem:
        return Verdict(name, False, problem, "Define it with a plain def that returns the text.")
    scenarios = freshness_scenarios()
    difference = first_difference(answer, _reference_freshness, scenarios, _judge)
    if difference is None:
        return Verdict(name, True, f"the same verdict as course_etl.monitoring.checks.freshness "
                                   f"on all {len(scenarios)} tables, empty and NULL ones included")
    story, data = difference.scenario.story, difference.scenario.data
    if difference.yours.raised and difference.yours.error.startswith("AnswerTimeout"):
        return Verdict(name, False, f"with {story}, your function "
                       f"{difference.yours.error.split(': ', 1)[-1]}: a loop that never ends?",
                       "Run it yourself on a small table, with a print() in the loop.")
    if difference.yours.raised:
        return Verdict(name, False, f"with {story}, your function raised "
                                    f"{difference.yours.error}",
                       "Read the newest value of the column you are given (MAX ignores NULL) and "
                       "turn the text into a datetime before comparing.")
    if difference.expected.value == LOUD:
        return Verdict(name, False, f"with {story}, yours returned "
                       f"{safe_repr(difference.yours.value, 60)}, where the library stops with "
                       "an error (a 'fail' would do too): a monitor that says all is well about "
                       "a value it cannot read hides a broken feed.", "Let the error out (do "
                       "not catch it): a failing check is noticed, a wrong 'pass' is not.")
    expected = difference.expected.value
    hint = ("What is the newest value of a table without values, and is that fresh?"
            if not any(v is not None for v in data["values"]) else
            "Measure the age from the `now` you are given (not the clock), in the table and "
            "column you are given; 'older than' is strict.")
    if isinstance(difference.yours.value, tuple):
        return Verdict(name, False, f"with {story}, yours returned {difference.yours.value[2]}, "
                       f"a {difference.yours.value[1]}, not the text {expected!r}.",
                       "Return one of the texts 'pass', 'warn' or 'fail'.")
    if any(len(v or "") == 10 for v in data["values"]):
        hint = ("A date without a time is midnight of that day (datetime.fromisoformat reads "
                "it so), not its end.")
    elif any(v and _parsed(v) and _parsed(v) > data["now"] for v in data["values"]):
        hint = "A value from the future is not old: its age counts as 0, not as its distance."
    return Verdict(name, False, f"with {story}, yours returned "
                                f"{safe_repr(difference.yours.value, 60)}; expected {expected!r}",
                   hint)


# --- 2. thresholds for a daily feed -------------------------------------------------------------

#: The customers feed writes between these hours (notebook 03's Exercise 2 says so).
FEED_HOURS = (time(6, 0), time(22, 0))
REFERENCE_THRESHOLDS = {"warn_after": {"count": 1, "period": "day"},
                        "error_after": {"count": 2, "period": "day"}}


def _run_time() -> time:
    """When the lecture's pipeline runs (its cron line's first time of day)."""
    first = customers_pipeline().cron.next_runs(1, after=datetime(2024, 10, 1))[0]
    return first.time().replace(tzinfo=None)


def _history(missed: int, last_write: time, days: int, rng: random.Random) -> dict:
    """A feed that wrote on ``days`` days (random times within FEED_HOURS, the last delivered
    day's last write at ``last_write``), then missed ``missed`` days; checked at the run."""
    run_day = datetime(2024, 10, 15)
    last_day = run_day - timedelta(days=1 + missed)
    low, high = (t.hour * 60 + t.minute for t in FEED_HOURS)
    writes = [datetime.combine(last_day, last_write)]
    for back in range(days):
        day = last_day - timedelta(days=back)
        ceiling = last_write.hour * 60 + last_write.minute if back == 0 else high
        writes += [day + timedelta(minutes=rng.randint(low, ceiling)) for _ in range(2)]
    return {"now": datetime.combine(run_day, _run_time()), "missed": missed,
            "last_write": last_write, "values": [w.strftime("%Y-%m-%d %H:%M:%S") for w in writes]}


@checked
def threshold_scenarios(*, seed: int = SEED, generated: int = 16,
                        hand_picked: bool = True) -> list[Scenario]:
    """Multi-day histories of the feed, smallest first: the edges of a normal day and of one and
    two missed days (last write at the first and last hour the feed writes), then seeded ones
    with 0 to 3 missed days at random write times."""
    rng = random.Random(seed)
    first, last = FEED_HOURS
    cases = [(0, last), (0, first), (1, last), (1, first), (2, last), (2, first),
             (3, last)] if hand_picked else []
    for _ in range(generated):
        minutes = rng.randint(first.hour * 60 + first.minute, last.hour * 60 + last.minute)
        cases.append((rng.randint(0, 3), time(minutes // 60, minutes % 60)))
    scenarios = []
    for number, (missed, write) in enumerate(cases):
        data = _history(missed, write, rng.randint(1, 5), rng)
        age = data["now"] - datetime.combine(data["now"].date() - timedelta(days=1 + missed),
                                             write)
        what = "a normal day" if not missed else f"{missed} missed day(s)"
        scenarios.append(Scenario(f"{what} whose last write was at {write:%H:%M} "
                                  f"({_human(age)} before the {data['now']:%H:%M} run)",
                                  data, size=number))
    return scenarios


def _judge_thresholds(thresholds: dict, scenario: Scenario) -> str:
    conn = _connection({"table": "feed", "column": "updated_at", "decoy": "",
                        "values": scenario.data["values"], "now": scenario.data["now"]})
    try:
        return freshness(conn, "feed", "updated_at", now=scenario.data["now"],
                         **thresholds).status
    finally:
        conn.close()


@register(answer_name="thresholds",
          stub={"warn_after": {"count": 1, "period": "hour"},
                "error_after": {"count": 1, "period": "day"}},
          solution_file="03_freshness_thresholds.py")
def check_freshness_thresholds(answer) -> Verdict:
    """Choose warn and error thresholds for a daily feed.

    Answer: ``{"warn_after": …, "error_after": …}`` for the daily customers feed."""
    name = "Choose warn and error thresholds"
    if not isinstance(answer, dict) or set(answer) != {"warn_after", "error_after"}:
        return Verdict(name, False, f"expected a dict with warn_after and error_after, "
                                    f"got {answer!r}",
                       "e.g. {'warn_after': {'count': 1, 'period': 'day'}, 'error_after': …}")
    difference = first_difference(answer, REFERENCE_THRESHOLDS, threshold_scenarios(),
                                  _judge_thresholds,
                                  same=lambda a, b: a.value == b.value and not a.raised)
    if difference is None:
        return Verdict(name, True, "normal days pass, one missed day warns, two missed days "
                                   "fail, whenever the last write came")
    if difference.yours.raised:
        return Verdict(name, False, difference.yours.error.split(": ", 1)[-1],
                       "periods are {'count': N, 'period': 'minute' | 'hour' | 'day'}, and the "
                       "warning comes first")
    got, expected = difference.yours.value, difference.expected.value
    hint = ("a normal day can be quite old by the time the run starts: warning earlier cries wolf"
            if expected == "pass" else
            "put each threshold between two kinds of day: after the oldest normal day, and "
            "after the oldest day with one delivery missed")
    return Verdict(name, False, f"{difference.scenario.story} gives {got!r}; expected "
                                f"{expected!r}", hint)


# --- 3. why a volume check needs history --------------------------------------------------------

# Distractors from what students really believe (docs/instructor_guide.md, common errors).
VOLUME_HISTORY_CHOICES = {
    "a": "The run log keeps only the last seven runs, so the check has nothing older to "
         "compare with.",
    "b": "With only a few runs, the median and MAD are themselves noise: one unusual day moves "
         "them so much that normal days get flagged, or a real spike looks normal.",
    "c": "A median needs an odd number of values, and seven is the smallest count that keeps "
         "it stable.",
    "d": "The first runs are full loads: their row counts are not comparable, so they must be "
         "waited out.",
}


@register(answer_name="volume_answer", stub="", solution_file="03_volume_history.py")
def check_volume_history(answer) -> Verdict:
    """Quiz: why a volume check needs history.

    Answer: the letter of the right explanation in VOLUME_HISTORY_CHOICES."""
    name = "Why a volume check needs history"
    answer = letter_of(answer)
    if not isinstance(answer, str) or answer not in VOLUME_HISTORY_CHOICES:
        return Verdict(name, False, f"answer with one letter of {', '.join(VOLUME_HISTORY_CHOICES)}"
                                    f", not {answer!r}",
                       "compare the two verdicts above: the same day, judged against 3 and "
                       "against 8 days")
    if answer != "b":
        why = {"a": "the run log keeps every run; the check is given as many as the pipeline "
                    "reads",
               "c": "a median exists for any number of values, odd or even",
               "d": "the check would wait just the same if every run loaded the same way"}
        return Verdict(name, False, f"({answer}) is not it: {why[answer]}",
                       "look at the two verdicts above again: what do three runs tell you "
                       "about a normal day?")
    return Verdict(name, True, "(b): with three runs one odd day is a third of the evidence; "
                               "seven or more make the median and MAD stable")
