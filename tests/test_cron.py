"""Cron: validation names the bad field, descriptions, next runs across DST, crontab entries."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.scheduling.cron import (
    PRESETS,
    CronSchedule,
    InvalidCronError,
    crontab_entry,
    describe_cron,
    next_runs,
    resolve_timezone,
    runs_between,
    validate_cron,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("expression", "field", "bad"), [
    ("61 * * * *", "field 1 (minute)", "'61'"),
    ("5 24 * * *", "field 2 (hour)", "'24'"),
    ("0 0 32 * *", "field 3 (day of month)", "'32'"),
    ("0 0 1 13 *", "field 4 (month)", "'13'"),
    ("0 0 * * 8", "field 5 (day of week)", "'8'"),
    ("0 0 * * MOX", "field 5 (day of week)", "'MOX'"),
])
def test_invalid_field_is_named(expression, field, bad):
    with pytest.raises(InvalidCronError) as error:
        validate_cron(expression)
    assert field in str(error.value) and bad in str(error.value)


def test_cron_descriptor_alone_would_accept_what_croniter_refuses():
    from cron_descriptor import get_description

    assert get_description("61 * * * *")  # describes nonsense without complaint
    with pytest.raises(InvalidCronError):
        describe_cron("61 * * * *")  # ours validates first


@pytest.mark.parametrize("expression", ["", "30 6 * *", "30 6 * * * *", "@dayly"])
def test_wrong_shape_is_refused_with_the_fix(expression):
    with pytest.raises(InvalidCronError, match="5 fields|field|nickname|empty"):
        validate_cron(expression)


def test_never_firing_combination_is_refused():
    with pytest.raises(InvalidCronError, match="never fires"):
        validate_cron("0 0 31 2 *")


def test_nicknames_and_whitespace_are_normalised():
    assert validate_cron("@daily") == "0 0 * * *"
    assert validate_cron("  30   6 * *  * ") == "30 6 * * *"


@pytest.mark.parametrize(("expression", "text"), [
    ("30 6 * * *", "At 06:30"),
    ("30 6 * * 1-5", "At 06:30, Monday through Friday"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("0 6 1 * *", "At 06:00, on day 1 of the month"),
])
def test_descriptions(expression, text):
    assert describe_cron(expression) == text


def test_every_preset_is_valid_and_described():
    for expression in PRESETS.values():
        assert describe_cron(expression)


def test_next_runs_in_a_time_zone():
    runs = next_runs("30 6 * * *", 3, after=datetime(2024, 10, 1), timezone="Europe/Berlin")
    assert runs == [datetime(2024, 10, d, 6, 30, tzinfo=BERLIN) for d in (1, 2, 3)]
    assert [r.utcoffset().total_seconds() / 3600 for r in runs] == [2, 2, 2]


def test_next_runs_across_the_autumn_dst_change_keep_wall_clock_time():
    runs = next_runs("30 6 * * *", 2, after=datetime(2024, 10, 26), timezone="Europe/Berlin")
    assert [r.hour for r in runs] == [6, 6]
    assert [r.utcoffset().total_seconds() / 3600 for r in runs] == [2, 1]  # CEST, then CET


def test_a_run_in_the_skipped_spring_hour_is_not_invented():
    runs = runs_between("30 2 * * *", datetime(2024, 3, 30), datetime(2024, 4, 1, 23, 59),
                        timezone="Europe/Berlin")
    # 31 March 02:30 does not exist in Berlin: whatever croniter does, no run is at a fake time.
    assert all(r == datetime.fromtimestamp(r.timestamp(), BERLIN) for r in runs)
    assert datetime(2024, 3, 30, 2, 30, tzinfo=BERLIN) in runs
    assert datetime(2024, 4, 1, 2, 30, tzinfo=BERLIN) in runs


def test_runs_between_includes_both_ends_and_is_guarded():
    runs = runs_between("0 * * * *", datetime(2024, 10, 1, 0), datetime(2024, 10, 1, 3))
    assert [r.hour for r in runs] == [0, 1, 2, 3]
    assert len(runs_between("* * * * *", datetime(2024, 10, 1), datetime(2024, 10, 9),
                            limit=50)) == 50
    with pytest.raises(InvalidCronError, match="before it starts"):
        runs_between("0 * * * *", datetime(2024, 10, 2), datetime(2024, 10, 1))


def test_unknown_time_zone_suggests_close_names():
    with pytest.raises(InvalidCronError, match="Europe/Berlin"):
        resolve_timezone("Europe/Berln")


def test_schedule_object_and_previous_run():
    schedule = CronSchedule("30 6 * * *", "UTC")
    assert schedule.description == "At 06:30"
    previous = schedule.previous_run(datetime(2024, 10, 2, 6, 30))
    assert previous == datetime(2024, 10, 1, 6, 30, tzinfo=ZoneInfo("UTC"))
    assert previous.fold == 0


def test_crontab_entry_has_absolute_paths_lock_log_and_escaped_percent():
    entry = crontab_entry(
        "30 6 * * *", ["/srv/etl/.venv/bin/python", "-m", "course_etl", "x", "--day", "%Y"],
        workdir="/srv/etl", log_file="/srv/etl/logs/x.log", lock_file="/tmp/x.lock",
        comment="customers",
    )
    header, line = entry.splitlines()
    assert header == "# customers: At 06:30 (server time)"
    assert line == (
        "30 6 * * * cd /srv/etl && /usr/bin/flock -n /tmp/x.lock /srv/etl/.venv/bin/python -m "
        r"course_etl x --day \%Y >> /srv/etl/logs/x.log 2>&1"
    )


@pytest.mark.parametrize("what", ["command[0]", "workdir", "log_file", "lock_file"])
def test_crontab_entry_refuses_relative_paths(what):
    options = {"workdir": "/srv", "log_file": "/srv/x.log", "lock_file": "/tmp/x.lock"}
    command = ["/usr/bin/python3"]
    if what == "command[0]":
        command = ["python3"]
    else:
        options[what] = "relative/path"
    with pytest.raises(InvalidCronError, match=rf"{what.replace('[', '.').replace(']', '.')}"):
        crontab_entry("30 6 * * *", command, **options)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(available_timezones())), st.data())
def test_an_unknown_time_zone_is_carried_with_the_names_it_suggests(zone, data):
    """A real zone's name with one character changed or dropped: mostly a name that is none."""
    at = data.draw(st.integers(0, len(zone) - 1))
    name = zone[:at] + data.draw(st.sampled_from(["", "x", "_", "/", "é"])) + zone[at + 1:]
    try:
        resolve_timezone(name)
    except InvalidCronError as error:
        assert error.value == name and str(error) == f"unknown time zone {name!r} ({error.hint})"
        suggested = error.hint.removeprefix("did you mean ").removesuffix("?").split(", ")
        assert error.hint == "e.g. UTC, Europe/Berlin" or set(suggested) <= available_timezones()
    else:
        assert name in available_timezones()


@given(st.integers(max_value=-1))
def test_a_negative_count_of_runs_is_carried(n):
    with pytest.raises(InvalidCronError) as error:
        next_runs("30 6 * * *", n, after=datetime(2024, 10, 1))
    assert (error.value.value, error.value.argument) == (n, "n")


@settings(max_examples=50, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3000)),
       st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
def test_a_range_that_ends_before_it_starts_carries_both_ends(start, length, timezone):
    end = start - length
    with pytest.raises(InvalidCronError) as caught:
        runs_between("30 6 * * *", start, end, timezone=timezone)
    error, zone = caught.value, ZoneInfo(timezone)
    assert (error.start, error.end) == (start.replace(tzinfo=zone), end.replace(tzinfo=zone))
    assert error.value == (error.start, error.end)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["command[0]", "workdir", "log_file", "lock_file"]),
       st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\0"),
               min_size=1, max_size=20))
def test_a_relative_path_in_a_crontab_entry_is_carried_with_what_it_is(what, path):
    options = {"workdir": "/srv", "log_file": "/srv/x.log", "lock_file": "/tmp/x.lock"}
    command = [path] if what == "command[0]" else ["/usr/bin/python3"]
    if what != "command[0]":
        options[what] = path
    with pytest.raises(InvalidCronError) as caught:
        crontab_entry("30 6 * * *", command, **options)
    assert (caught.value.what, caught.value.path, caught.value.value) == (what, path, path)
