"""One clock: aware UTC moments everywhere, local time only on display, whatever the machine's TZ.

The alert router's throttle window is where a naive local ``datetime.now()`` used to hide: on a
machine in Denver it measured the window against the wrong hour. These tests move the process's
own time zone (``TZ`` + ``time.tzset``) and cross offset boundaries (UTC-7, UTC+5:30, the night
Denver's clocks go back) and demand the same records as in UTC.
"""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from course_etl import connect
from course_etl.clock import (
    ClockError,
    RealClock,
    SimulatedClock,
    TickingClock,
    as_utc,
    shown,
    utc_text,
)
from course_etl.monitoring.alerts import Alert, AlertRouter, JsonLinesChannel
from course_etl.monitoring.history import alerts_frame

ZONES = ["UTC", "America/Denver", "Asia/Kolkata"]  # a half-hour offset, a negative one


@pytest.fixture(params=ZONES[1:])
def machine_zone(request, monkeypatch):
    """The process runs in another zone for the test (as ``TZ=… make test-unit`` does)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_every_clock_gives_aware_utc():
    for clock in (RealClock(), SimulatedClock(), TickingClock()):
        moment = clock.now()
        assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert SimulatedClock(start="2024-10-01T04:05:00+02:00").now() == datetime(
        2024, 10, 1, 2, 5, tzinfo=UTC)
    ticking = TickingClock("2024-10-01T06:00:00Z", timedelta(hours=12))
    assert [ticking.now() for _ in range(3)] == [
        datetime(2024, 10, 1, 6, tzinfo=UTC), datetime(2024, 10, 1, 18, tzinfo=UTC),
        datetime(2024, 10, 2, 6, tzinfo=UTC)]
    with pytest.raises(ClockError, match="not an ISO 8601 moment"):
        as_utc("yesterday")


def test_the_real_clock_ignores_the_machines_zone(machine_zone):
    assert time.strftime("%Z") != "UTC"  # the process really is elsewhere
    now = RealClock().now()
    assert abs((now - datetime.fromtimestamp(time.time(), UTC)).total_seconds()) < 5
    assert utc_text(now) == now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_display_converts_to_the_configured_zone():
    moment = "2024-11-03 07:30:00"  # the run log's naive UTC text
    assert shown(moment, "America/Denver") == "2024-11-03 01:30 MDT"
    assert shown(as_utc(moment) + timedelta(minutes=40), "America/Denver") == \
        "2024-11-03 01:10 MST"  # forty minutes later, the wall clock went back
    assert shown(moment, "Asia/Kolkata") == "2024-11-03 13:00 IST"
    assert shown(moment) == "2024-11-03 07:30 UTC"


ALERT = Alert("error", "customers_etl: task load failed", pipeline="customers_etl")


def router(conn, tmp_path, clock=None):
    return AlertRouter(conn, [JsonLinesChannel(tmp_path / "alerts.jsonl")], clock=clock,
                       throttle=timedelta(hours=1))


@pytest.mark.parametrize(("minutes_ago", "expected"), [(30, "throttled"), (120, "sent")])
def test_the_throttle_window_is_the_same_in_every_zone(machine_zone, tmp_path, minutes_ago,
                                                       expected):
    """An alert sent ``minutes_ago`` (recorded in UTC), then the same alert on the real clock.

    With the machine's naive local time, Denver (UTC-7) throttled an alert sent two hours ago
    and Kolkata (UTC+5:30) resent one sent thirty minutes ago.
    """
    conn = connect()
    earlier = SimulatedClock(start=datetime.now(UTC) - timedelta(minutes=minutes_ago))
    assert router(conn, tmp_path, earlier).send(ALERT)[0].status == "sent"
    assert router(conn, tmp_path).send(ALERT)[0].status == expected


def test_throttling_across_the_night_clocks_go_back(tmp_path):
    """Denver, 2024-11-03: 01:30 MDT, then 01:10 MST (40 minutes later), then 02:05 MST."""
    conn = connect()
    first = datetime(2024, 11, 3, 7, 30, tzinfo=UTC)
    statuses = []
    for minutes in (0, 40, 95):
        clock = SimulatedClock(start=first + timedelta(minutes=minutes))
        statuses.append(router(conn, tmp_path, clock).send(ALERT)[0].status)
    assert statuses == ["sent", "throttled", "sent"]
    sent_at = alerts_frame(conn).sent_at.tolist()
    assert [shown(s, "America/Denver", fmt="%H:%M %Z") for s in sent_at] == [
        "01:30 MDT", "01:10 MST", "02:05 MST"]
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["subject"] == ALERT.subject


REPLAY = """
from course_etl import connect
from course_etl.capstone import Capstone, Fault, capstone_config
from course_etl.monitoring.history import alerts_frame, runs_frame, task_runs_frame
import sys
capstone = Capstone(connect(), capstone_config("prod"), alerts_path=sys.argv[1])
day = __import__("datetime").date(2024, 10, 2)
capstone.run_days("2024-10-01", 2, fault=Fault(day, "task_error", "silver", failures=4))
for frame in (runs_frame, task_runs_frame, alerts_frame):
    print(frame(capstone.conn).to_csv(index=False))
"""


def test_a_replay_writes_the_same_records_on_a_machine_in_any_zone(tmp_path):
    """Two capstone days (Europe/Berlin schedule; silver fails for good on the second, which
    alerts), run in three process zones: the run log and the alert log are the same text."""
    outputs = {}
    for zone in ZONES:
        environment = dict(os.environ, TZ=zone)
        done = subprocess.run([sys.executable, "-c", REPLAY, str(tmp_path / f"{zone[:4]}.jsonl")],
                              capture_output=True, text=True, env=environment, check=True)
        outputs[zone] = done.stdout
    assert outputs["America/Denver"] == outputs["UTC"] == outputs["Asia/Kolkata"]
    assert "2024-10-02 00:00:00" in outputs["UTC"]  # 02:00 in Berlin is midnight UTC
    assert "task silver failed" in outputs["UTC"]
