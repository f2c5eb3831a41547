"""Alert channels against real local servers: SMTP (aiosmtpd) and a webhook (http.server)."""

import email
import http.server
import io
import json
import socket
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.monitoring.alerts import (
    SEVERITIES,
    Alert,
    AlertConfigError,
    AlertDeliveryError,
    AlertRouter,
    ConsoleChannel,
    EmailChannel,
    JsonLinesChannel,
    WebhookChannel,
    alerts_from_checks,
    channels_from_config,
    task_failure_alert,
)
from course_etl.monitoring.checks import CheckResult, SuiteReport
from course_etl.monitoring.history import alerts_frame, runs_frame
from course_etl.monitoring.runlog import RunLog
from course_etl.scheduling.runner import SimulatedClock

ALERT = Alert("error", "customers_daily: dw_customers.not_null(name) fail",
              "2 row(s) with NULL name", "customers_daily", None)


def free_port():
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, envelope.rcpt_tos,
                              email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


class Hook(http.server.BaseHTTPRequestHandler):
    received: list

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(500 if self.path == "/broken" else 200)
        self.end_headers()

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def webhook_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def email_channel(port, **options):
    return EmailChannel("127.0.0.1", port, sender="etl@example.org",
                        recipients=["oncall@example.org", "lead@example.org"], **options)


def test_email_reaches_a_real_smtp_server(smtp_server):
    controller, inbox = smtp_server
    email_channel(controller.port, enabled=True).send(ALERT)
    [(sender, recipients, message)] = inbox.messages
    assert (sender, recipients) == ("etl@example.org", ["oncall@example.org", "lead@example.org"])
    assert message["Subject"] == "[ERROR] customers_daily: dw_customers.not_null(name) fail"
    assert message.get_payload().strip() == "2 row(s) with NULL name"


def test_unreachable_smtp_host_gives_a_clear_error():
    port = free_port()
    with pytest.raises(AlertDeliveryError,
                       match=rf"email channel: cannot deliver through SMTP server "
                             rf"127.0.0.1:{port} \(ConnectionRefusedError.*check the 'host'"):
        email_channel(port, enabled=True, timeout=2).send(ALERT)


def test_webhook_posts_json_to_a_real_http_server(webhook_server):
    url = f"http://127.0.0.1:{webhook_server.server_port}/hooks/etl"
    WebhookChannel(url).send(ALERT)
    [(path, content_type, payload)] = webhook_server.received
    assert (path, content_type) == ("/hooks/etl", "application/json")
    assert payload["text"] == "[error] customers_daily: dw_customers.not_null(name) fail"
    assert payload["severity"] == "error" and payload["body"] == "2 row(s) with NULL name"


def test_webhook_http_error_is_reported(webhook_server):
    url = f"http://127.0.0.1:{webhook_server.server_port}/broken"
    # the URL's path (where a webhook keeps its token) is masked in the error
    with pytest.raises(AlertDeliveryError,
                       match=r"POST to http://127\.0\.0\.1:\d+/\*\*\* answered HTTP 500"):
        WebhookChannel(url).send(ALERT)
    with pytest.raises(AlertDeliveryError, match=r"cannot reach .* check the 'url'"):
        WebhookChannel(f"http://127.0.0.1:{free_port()}/x", timeout=2).send(ALERT)


def test_jsonl_and_console_channels(tmp_path, caplog):
    path = tmp_path / "alerts.jsonl"
    channel = JsonLinesChannel(path)
    channel.send(ALERT)
    channel.send(Alert("warning", "late", pipeline="p"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(x["severity"], x["subject"], x["key"]) for x in lines] == [
        ("error", ALERT.subject, f"customers_daily|error|{ALERT.subject}"),
        ("warning", "late", "p|warning|late")]
    stream = io.StringIO()
    with caplog.at_level("WARNING", logger="course_etl.monitoring.alerts"):
        ConsoleChannel(stream).send(ALERT)
        assert caplog.records == [], "printing and logging are two choices, not both"
        ConsoleChannel(use_logging=True).send(Alert("warning", "late"))
    assert stream.getvalue() == f"ALERT [ERROR] {ALERT.subject}\n"
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "ALERT [WARNING] late")]
    with pytest.raises(AlertDeliveryError, match="jsonl channel: cannot append to 'missing'"):
        JsonLinesChannel(tmp_path / "no_dir" / "missing").send(ALERT)


@pytest.fixture
def clock():
    return SimulatedClock(start="2024-10-01 02:10:00")


def test_router_throttles_identical_alerts_per_channel(conn, clock, smtp_server, tmp_path):
    controller, inbox = smtp_server
    router = AlertRouter(conn, [JsonLinesChannel(tmp_path / "a.jsonl"),
                                email_channel(controller.port, enabled=True)],
                         throttle=timedelta(hours=1), clock=clock)
    first = router.send(ALERT)
    clock.advance(30 * 60)
    second = router.send(ALERT)
    other = router.send(Alert("warning", "something else"))
    clock.advance(31 * 60)
    third = router.send(ALERT)
    assert [d.status for d in first + second + other + third] == [
        "sent", "sent", "throttled", "throttled", "sent", "sent", "sent", "sent"]
    assert len(inbox.messages) == 3
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 3
    assert alerts_frame(conn).status.tolist() == [
        "sent", "sent", "throttled", "throttled", "sent", "sent", "sent", "sent"]


def test_a_failing_channel_is_recorded_on_the_run_and_others_still_send(
        conn, clock, tmp_path, caplog):
    recorder = RunLog(conn, clock=clock)
    run_id = recorder.start_run("customers_daily", "2024-10-01")
    port = free_port()
    router = AlertRouter(conn, [email_channel(port, enabled=True, timeout=2),
                                JsonLinesChannel(tmp_path / "a.jsonl")], clock=clock)
    alert = task_failure_alert("customers_daily", "load", OSError("disk full"), run_id=run_id)
    with caplog.at_level("WARNING", logger="course_etl.monitoring.alerts"):
        deliveries = router.send(alert)
    assert [(d.channel, d.status) for d in deliveries] == [("email", "failed"), ("jsonl", "sent")]
    assert f"127.0.0.1:{port}" in deliveries[0].error
    assert "alert channel 'email' failed" in caplog.text
    note = runs_frame(conn).notes[0]
    assert note.startswith(f"alert channel 'email' failed: email channel: cannot deliver "
                           f"through SMTP server 127.0.0.1:{port}")
    log = alerts_frame(conn)
    assert log[["run_id", "channel", "status"]].values.tolist() == [
        [run_id, "email", "failed"], [run_id, "jsonl", "sent"]]
    assert "ConnectionRefusedError" in log.error[0]


def test_email_is_off_by_default_like_the_lecture(conn, clock, smtp_server):
    controller, inbox = smtp_server
    channels = channels_from_config({
        "console": False, "email_alerts": False,
        "email": {"host": "127.0.0.1", "port": controller.port, "sender": "etl@example.org",
                  "recipients": ["oncall@example.org"]}})
    deliveries = AlertRouter(conn, channels, clock=clock).send(ALERT)
    assert [(d.channel, d.status) for d in deliveries] == [("email", "disabled")]
    assert inbox.messages == []


def test_alerts_from_checks_mark_blocking_failures_as_errors():
    report = SuiteReport((
        CheckResult("not_null(name)", "fail", 1, 0, "1 row(s) with NULL name", "dw", True),
        CheckResult("freshness(updated_at)", "warn", "2d", "warn after 1d", "old", "dw"),
        CheckResult("unique_key(id)", "pass", 0, 0, "ok", "dw", True),
    ))
    alerts = alerts_from_checks(report, pipeline="p", run_id=7)
    assert [(a.severity, a.subject, a.key) for a in alerts] == [
        ("error", "p: dw.not_null(name) fail (blocking: data held back)",
         "p|dw|not_null(name)|fail"),
        ("warning", "p: dw.freshness(updated_at) warn", "p|dw|freshness(updated_at)|warn")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: EmailChannel("", sender="a@b", recipients=["c@d"]), "field 'host'"),
        (lambda: EmailChannel("h", 70000, sender="a@b", recipients=["c@d"]),
         "field 'port' must be an int in 1..65535, not 70000"),
        (lambda: EmailChannel("h", sender="a@b", recipients="c@d"), "field 'recipients'"),
        (lambda: EmailChannel("h", sender="nobody", recipients=["c@d"]), "field 'sender'"),
        (lambda: EmailChannel("h", sender="a@b", recipients=["c@d"], timeout=-1),
         "field 'timeout'"),
        (lambda: WebhookChannel("ftp://example.org/x"), "webhook channel: field 'url'"),
        (lambda: JsonLinesChannel(""), "jsonl channel: field 'path'"),
        (lambda: Alert("critical", "x"), "severity must be one of warning, error"),
        (lambda: channels_from_config({"email_alerts": True}), "'email' settings .* missing"),
        (lambda: channels_from_config({"email_alerts": "no"}), "'email_alerts' must be true"),
        (lambda: channels_from_config({"slack": "x"}), r"unknown key\(s\) slack"),
        (lambda: channels_from_config({"email": {"hots": "x"}}), r"unknown 'email' field"),
    ],
)
def test_bad_channel_settings_name_the_field(make, message):
    with pytest.raises(AlertConfigError, match=message):
        make()


def test_router_rejects_bad_settings(conn):
    with pytest.raises(AlertConfigError, match="field 'throttle'"):
        AlertRouter(conn, [], throttle=3600)
    with pytest.raises(AlertConfigError, match="channel names must be unique"):
        AlertRouter(conn, [ConsoleChannel(), ConsoleChannel()])


# --- what a refusal carries: the channel, the field and the value, for values nobody wrote ------

NOT_A_HOST = st.one_of(st.just(""), st.integers(), st.none(), st.lists(st.text(max_size=3)))
NOT_A_PORT = st.one_of(st.integers().filter(lambda p: not 0 < p < 65_536), st.booleans(),
                       st.text(max_size=5), st.floats())
NOT_AN_ADDRESS = st.text(max_size=12).filter(lambda text: "@" not in text)
NOT_A_TIMEOUT = st.one_of(st.floats(max_value=0), st.integers(max_value=0), st.booleans(),
                          st.text(max_size=4))
GOOD = {"host": "h", "port": 25, "sender": "a@b", "recipients": ["c@d"], "timeout": 5.0}


@settings(max_examples=40, deadline=None)
@given(option=st.sampled_from(["host", "port", "sender", "recipients", "timeout"]), data=st.data())
def test_a_bad_email_setting_carries_the_channel_the_field_and_the_value(option, data):
    bad = data.draw({"host": NOT_A_HOST, "port": NOT_A_PORT, "sender": NOT_AN_ADDRESS,
                     "timeout": NOT_A_TIMEOUT,
                     "recipients": st.one_of(st.text(max_size=6), st.just([]),
                                             st.lists(NOT_AN_ADDRESS, min_size=1, max_size=3))
                     }[option], label=option)
    settings = {**GOOD, option: bad}
    with pytest.raises(AlertConfigError) as refused:
        EmailChannel(settings.pop("host"), settings.pop("port"), **settings)
    assert (refused.value.channel, refused.value.option, refused.value.value) == (
        "email", option, bad)


@settings(max_examples=30, deadline=None)
@given(scheme=st.sampled_from(["ftp", "file", "smtp", "ws", "htp"]),
       token=st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=12, max_size=24),
       path=st.one_of(st.just(""), st.integers(), st.none()),
       severity=st.text(max_size=10).filter(lambda s: s not in SEVERITIES),
       throttle=st.one_of(st.timedeltas(max_value=timedelta(microseconds=-1)),
                          st.integers(), st.floats(allow_nan=False)))
def test_bad_webhook_jsonl_router_and_alert_settings_carry_the_field_and_the_value(
        scheme, token, path, severity, throttle):
    url = f"{scheme}://hooks.example.org/services/{token}"
    with pytest.raises(AlertConfigError) as refused:
        WebhookChannel(url)
    assert (refused.value.channel, refused.value.option) == ("webhook", "url")
    assert refused.value.value == f"{scheme}://hooks.example.org/***"
    assert token not in repr(vars(refused.value)), "the token stays out of the error"
    with pytest.raises(AlertConfigError) as refused:
        JsonLinesChannel(path)
    assert (refused.value.channel, refused.value.option, refused.value.value) == (
        "jsonl", "path", path)
    with pytest.raises(AlertConfigError) as refused:
        Alert(severity, "x")
    assert (refused.value.option, refused.value.value, refused.value.known) == (
        "severity", severity, SEVERITIES)
    with pytest.raises(AlertConfigError) as refused:
        AlertRouter(None, [], throttle=throttle)
    assert (refused.value.channel, refused.value.option, refused.value.value) == (
        None, "throttle", throttle)


@settings(max_examples=30, deadline=None)
@given(keys=st.sets(st.text(min_size=1, max_size=8), min_size=1, max_size=3),
       switch=st.one_of(st.text(max_size=4), st.integers(), st.none()))
def test_unknown_alert_config_keys_and_fields_are_carried_with_the_known_ones(keys, switch):
    known = ["console", "email", "email_alerts", "jsonl_path", "webhook_url"]
    unknown = sorted(keys - set(known))
    if unknown:
        with pytest.raises(AlertConfigError) as refused:
            channels_from_config({k: None for k in keys})
        assert (refused.value.unexpected, refused.value.known) == (unknown, known)
    fields = ["host", "port", "sender", "recipients", "timeout"]
    unknown = sorted(keys - set(fields))
    if unknown:
        with pytest.raises(AlertConfigError) as refused:
            channels_from_config({"email": {k: None for k in keys}})
        assert (refused.value.option, refused.value.unexpected, refused.value.known) == (
            "email", unknown, fields)
    with pytest.raises(AlertConfigError) as refused:
        channels_from_config({"email_alerts": switch})
    assert (refused.value.option, refused.value.value) == ("email_alerts", switch)
    with pytest.raises(AlertConfigError) as refused:
        channels_from_config({"email_alerts": True, "email": switch})
    assert (refused.value.option, refused.value.value) == ("email", switch)


def test_router_names_its_duplicate_channels(conn):
    with pytest.raises(AlertConfigError) as refused:
        AlertRouter(conn, [ConsoleChannel(), JsonLinesChannel("a.jsonl"), ConsoleChannel()])
    assert (refused.value.option, refused.value.value) == (
        "channels", ["console", "jsonl", "console"])


@settings(max_examples=10, deadline=None)
@given(name=st.text("abcdefgh", min_size=1, max_size=10))
def test_a_failed_delivery_carries_the_channel_and_where_it_sent(name, tmp_path_factory):
    folder = tmp_path_factory.mktemp("alerts")
    target = folder / "no_dir" / f"{name}.jsonl"
    with pytest.raises(AlertDeliveryError) as refused:
        JsonLinesChannel(target).send(ALERT)
    assert (refused.value.channel, refused.value.path) == ("jsonl", str(target))
    assert isinstance(refused.value.__cause__, OSError)
    port = free_port()
    with pytest.raises(AlertDeliveryError) as refused:
        email_channel(port, enabled=True, timeout=2).send(ALERT)
    assert (refused.value.channel, refused.value.host, refused.value.port) == (
        "email", "127.0.0.1", port)
    url = f"http://127.0.0.1:{free_port()}/hooks/{name}"
    with pytest.raises(AlertDeliveryError) as refused:
        WebhookChannel(url, timeout=2).send(ALERT)
    assert (refused.value.channel, refused.value.url) == (
        "webhook", f"http://127.0.0.1:{url.split(':')[2].split('/')[0]}/***")
    assert refused.value.reason in str(refused.value)
