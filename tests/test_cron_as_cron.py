"""Cron is judged as cron: the course's validator against the verdicts of the real cron.

``tests/cron_verdicts.json`` was recorded from Debian 12's own cron (package ``cron``
3.0pl1-162) by ``tools/record_cron_verdicts.py``: each expression, hand-picked (Quartz, Jenkins,
croniter and crontab(5) forms) or generated from a seed (500 of them), was installed as the line
``<expression> /bin/true`` in the crontab of a throwaway user with ``crontab -u cronprobe FILE``
(cron's parser runs, no job does), and for accepted lines the values cron sets in each field were
read with cron's own ``load_entry()`` compiled from the package's source
(``tools/cron_parse_harness.c``). Re-record as root on Debian 12 with
``python -m tools.record_cron_verdicts --cron-source DIR > tests/cron_verdicts.json``, where DIR
is the folder ``apt-get source cron`` unpacks.

The rule held here: cron refuses → the course refuses; the course accepts → cron accepts and
croniter (the course's expander) reads every field as cron does and fires on the same days; the
course refuses a line cron accepts only when cron would run something else than croniter and
Airflow (it ignores the rest of a field, or reads a range or a day field otherwise), never runs
it, or the line is not a five-field schedule.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.config import ConfigError, load_config
from course_etl.scheduling.cron import COURSE_CRON, InvalidCronError, runs_between, validate_cron
from course_etl.scheduling.cron_syntax import cron_fields

TABLE = json.loads((Path(__file__).with_name("cron_verdicts.json")).read_text(encoding="utf-8"))
ROWS = TABLE["rows"]
FULL = {"minute": range(60), "hour": range(24), "dom": range(1, 32), "month": range(1, 13),
        "dow": range(7)}
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2025, 12, 31)  # a leap year and a common one


def course_verdict(expression: str) -> str | None:
    """The course's normalised expression, or None when it refuses."""
    try:
        return validate_cron(expression)
    except InvalidCronError:
        return None


def cron_values(name: str, values: list[int] | None) -> set[int] | None:
    """cron's values for a field; Sunday, which cron keeps as both 0 and 7, as 0 only."""
    if values is None:
        return None
    if name == "dow" and 7 in values:
        return (set(values) - {7}) | {0}
    return set(values)


def cron_sets(reads: dict) -> dict[str, set[int]]:
    return {name: cron_values(name, reads[name]) for name in FULL}


def cron_days(reads: dict) -> set[date]:
    """The days cron runs on, by cron.c's rule: if a day field starts with '*', both must
    match, otherwise either."""
    sets = cron_sets(reads)
    both = "DOM_STAR" in reads["flags"] or "DOW_STAR" in reads["flags"]
    days, day = set(), FIRST_DAY
    while day <= LAST_DAY:
        in_dom, in_dow = day.day in sets["dom"], day.isoweekday() % 7 in sets["dow"]
        if day.month in sets["month"] and ((in_dom and in_dow) if both else (in_dom or in_dow)):
            days.add(day)
        day += timedelta(days=1)
    return days


def croniter_sets(fields: list[str]) -> dict[str, set[int]] | None:
    """How croniter reads the five fields (None when it refuses them)."""
    try:
        expanded = croniter(" ".join(fields)).expanded
    except Exception:  # noqa: BLE001 - croniter refuses in many ways
        return None
    sets = {}
    for name, values in zip(FULL, expanded, strict=True):
        sets[name] = set(FULL[name]) if "*" in values else {v for v in values
                                                              if isinstance(v, int)}
    return sets


def croniter_item(position: int, item: str) -> set[int] | None:
    """How croniter reads one comma item alone in its field."""
    fields = ["*"] * 5
    fields[position] = item
    sets = croniter_sets(fields)
    return None if sets is None else sets[list(FULL)[position]]


def course_days(expression: str) -> set[date]:
    """The days on which the course's schedule fires (minute and hour pinned to 00:00)."""
    fields = expression.split()
    daily = " ".join(["0", "0", *fields[2:]])
    start = datetime.combine(FIRST_DAY, datetime.min.time())
    end = datetime.combine(LAST_DAY, datetime.min.time())
    return {run.date() for run in runs_between(daily, start, end, limit=800)}


def croniter_days(fields: list[str]) -> set[date] | None:
    try:
        ticks = croniter(" ".join(["0", "0", *fields[2:]]), datetime(2023, 12, 31, 23, 59))
        days = set()
        while (moment := ticks.get_next(datetime)).date() <= LAST_DAY:
            days.add(moment.date())
        return days
    except Exception:  # noqa: BLE001
        return None


ACCEPTED = [r for r in ROWS if r["cron"] == "accepted"]
REFUSED = [r for r in ROWS if r["cron"] == "refused"]


def test_the_table_was_recorded_from_the_cron_the_course_teaches():
    assert TABLE["cron"].startswith("Debian cron 3.0pl1-162") and "3.0pl1-162" in COURSE_CRON
    assert len(ROWS) > 500 and len(ACCEPTED) > 100 and len(REFUSED) > 100


@pytest.mark.parametrize("row", REFUSED, ids=lambda r: repr(r["expression"]))
def test_what_cron_refuses_the_course_refuses(row):
    assert course_verdict(row["expression"]) is None, f"cron: {row.get('message')}"


@pytest.mark.parametrize("row", ACCEPTED, ids=lambda r: repr(r["expression"]))
def test_what_cron_accepts_the_course_reads_as_cron_does_or_refuses_with_a_reason(row):
    expression, reads = row["expression"], row["reads"]
    normalised = course_verdict(expression)
    if normalised is not None:
        assert croniter_sets(normalised.split()) == cron_sets(reads), "a field read otherwise"
        assert course_days(normalised) == cron_days(reads), "runs on other days than cron"
        return
    # Refused although cron installs it: only when cron would not run what the text says.
    fields = expression.split()
    if "REBOOT" in reads["flags"] or len(fields) != 5:
        return  # no time to run at; or a sixth field cron took for the command
    if not cron_days(reads) or not reads["minute"] or not reads["hour"]:
        return  # cron installs it and never runs it
    theirs = croniter_sets(fields)
    if theirs is None or theirs != cron_sets(reads) or croniter_days(fields) != cron_days(reads):
        return  # croniter (and so Airflow) would run it otherwise than cron
    misread = [item for name, items in row["items"].items() for item, values in items.items()
               if croniter_item(list(FULL).index(name), item) != cron_values(name, values)]
    assert misread, f"refused, yet cron and croniter read {expression!r} and its items alike"


FOREIGN = [
    ("30 6 ? * 1-5", "Quartz"), ("0 12 * * 1#2", "Quartz"), ("0 23 L * *", "Quartz"),
    ("0 0 15W * *", "Quartz"), ("0 0 * * 5L", "Quartz"), ("H * * * *", "Jenkins"),
    ("H/15 * * * *", "Jenkins"), ("0 30 6 ? * MON-FRI", "seconds field"),
    ("0 30 6 * * 1-5", "seconds field"), ("~ * * * *", "cronie"),
    ("1/20 * * * *", "1-59/20"), ("0 0 * * 5-1", "backwards"), ("0 0 */2 * 1", "both day"),
]


@pytest.mark.parametrize(("expression", "named"), FOREIGN)
def test_a_foreign_token_is_refused_with_where_it_comes_from(expression, named):
    with pytest.raises(InvalidCronError, match=named):
        validate_cron(expression)


def test_reboot_explains_why_a_schedule_has_no_next_run():
    with pytest.raises(InvalidCronError, match="no next run"):
        validate_cron("@reboot")


def test_the_second_monday_is_not_silently_every_monday():
    """Debian's cron installs '0 12 * * 1#2' and runs it every Monday (it stops at '#')."""
    [row] = [r for r in ROWS if r["expression"] == "0 12 * * 1#2"]
    assert row["cron"] == "accepted" and row["reads"]["dow"] == [1]
    with pytest.raises(InvalidCronError, match="every such weekday"):
        validate_cron("0 12 * * 1#2")


@pytest.mark.parametrize("expression", ["30 6 ? * 1-5", "0 12 * * 1#2"])
def test_config_and_the_command_line_refuse_what_cron_refuses(expression):
    with pytest.raises(ConfigError, match="Quartz"):
        load_config("prod", environ={}, overrides=[f"schedule.cron={expression}"])
    done = subprocess.run([sys.executable, "-m", "course_etl", "schedule", "describe",
                           expression], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Quartz" in done.stderr and not done.stdout


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(
    ["*", "*/5", "1-5", "mon", "7", "0", "?", "L", "#", ",", "-", "/", "H", "31", "2"]),
    min_size=1, max_size=7).map(" ".join)))
def test_any_text_gets_five_fields_or_one_sentence(text):
    try:
        fields = validate_cron(text).split(" ")
    except InvalidCronError as error:
        assert "\n" not in str(error) and len(str(error)) < 400
    else:
        assert len(fields) == 5


def _refusal(expression: str) -> str:
    try:
        validate_cron(expression)
    except InvalidCronError as error:
        return str(error)
    return ""


_NAMES = {"minute": "minute", "hour": "hour", "day of month": "dom", "month": "month",
          "day of week": "dow"}


@pytest.mark.parametrize("row", [r for r in ACCEPTED if _refusal(r["expression"])],
                         ids=lambda r: repr(r["expression"]))
def test_what_a_refusal_says_cron_does_is_what_the_recorded_cron_did(row):
    """Sentences about Debian's cron are checked against the values it set for the item named."""
    message = _refusal(row["expression"])
    assert "Debian's cron refuses" not in message, "cron accepted it"
    name = _NAMES[re.search(r"cron field \d \(([a-z ]+)\)", message).group(1)] \
        if message.startswith("cron field") else ""
    ranged = re.search(r"the range (\S+) (runs backwards|goes from)", message)
    if ranged:
        item = ranged.group(1)
        reads = cron_values(name, row["items"][name][item])
        if ranged.group(2) == "runs backwards":
            assert reads == set(), "cron reads a backwards range as no value"
        else:
            assert len(reads) == 1, "cron reads a range from a value to itself as that value"
            theirs = croniter_item(list(FULL).index(name), item)
            step = int(item.partition("/")[2] or 1)
            assert theirs == set(FULL[name][::step]), "croniter: every value, or steps from 0"
    elif "ignores '#'" in message:
        field = re.search(r"is '([^']+)'", message).group(1)
        item = next(i for i in field.split(",") if "#" in i)
        assert cron_values(name, row["items"][name][item]) == croniter_item(
            list(FULL).index(name), item.split("#")[0]), "cron stops reading at '#'"


# Each field's values, as cron's grammar and croniter read them (day of week 7 is Sunday).
_LOWS, _HIGHS = (0, 0, 1, 1, 0), (59, 23, 31, 12, 7)


@st.composite
def _one_bad_field(draw):
    """(expression as given, position of the bad field, its text): the other four fields are
    values cron reads as written, joined by random runs of blanks, blanks around the whole."""
    position = draw(st.integers(0, 4))
    low, top = sorted(draw(st.lists(st.integers(_LOWS[position], _HIGHS[position] - 1),
                                    min_size=2, max_size=2, unique=True)))
    bad = draw(st.sampled_from([
        str(draw(st.integers(_HIGHS[position] + 1, 999))),  # out of range: croniter refuses it
        f"{top}-{low}",  # backwards
        f"{low}-{low}",  # a range to itself
        "?", "L", f"{low}W", f"{low}#{draw(st.integers(1, 5))}", "H", f"~{low}",
        f"{low}/{draw(st.integers(2, 9))}",  # a step without a range
        draw(st.sampled_from(["jan", "mon"])) if position < 3 else "x" * 4,  # not a value here
    ]))
    fields = [draw(st.one_of(st.just("*"), st.integers(_LOWS[i], _HIGHS[i]).map(str)))
              for i in range(5)]
    fields[position] = bad
    blanks = st.text(alphabet=" \t", min_size=1, max_size=3)
    text = "".join(f"{field}{draw(blanks)}" for field in fields[:-1]) + fields[-1]
    return draw(st.text(" \t", max_size=2)) + text + draw(st.text(" \t", max_size=2)), \
        position, bad


@settings(max_examples=300, deadline=None)
@given(_one_bad_field())
def test_a_refused_field_is_carried_with_its_position_name_and_fix(case):
    expression, position, bad = case
    with pytest.raises(InvalidCronError) as caught:
        validate_cron(expression)
    error = caught.value
    assert (error.value, error.position, error.expression) == (bad, position, expression)
    assert error.field == ("minute", "hour", "day of month", "month", "day of week")[position]
    assert str(error).startswith(f"cron field {position + 1} ({error.field}) is {bad!r} in "
                                 f"{expression.strip()!r}: ")
    assert str(error).endswith(error.hint)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(
    ["*", "*/5", "1-5", "mon", "7", "0", "?", "L", "#", ",", "-", "/", "H", "31", "2", "@daily",
     "@Daily", "@reboot", "@often"]), min_size=0, max_size=8).map(" ".join),
    st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=5)))
def test_any_refusal_carries_the_expression_and_names_its_value(expression):
    check = validate_cron if isinstance(expression, str) else cron_fields  # only one takes any
    try:
        check(expression)
    except InvalidCronError as error:
        assert error.expression is expression
        assert repr(error.value) in str(error)
        if hasattr(error, "position"):
            fields = re.split(r"[ \t]+", expression.strip(" \t"))
            assert error.value == fields[error.position]
        elif isinstance(expression, str) and expression.strip():
            assert error.value == expression.strip(" \t")
        else:  # not text, or only blanks: shown as given
            assert error.value is expression
        if hasattr(error, "fields"):  # a wrong number of fields
            assert error.fields == re.split(r"[ \t]+", expression.strip(" \t"))
            assert len(error.fields) != 5
        if hasattr(error, "known"):  # the nicknames: each one a schedule
            assert error.known and all(validate_cron(name) for name in error.known)
