"""Alerts that reach someone: one small channel interface, four channels, throttling, a record.

A channel has a ``name``, an ``enabled`` flag and ``send(alert)``, which raises
:class:`AlertDeliveryError` when the message did not get through. The channels are the console
(printed and logged), a JSON-lines file, e-mail through ``smtplib`` (off unless enabled, like the
lecture's ``email_alerts: False``) and a webhook POST through ``urllib`` (Slack, Teams and
PagerDuty all accept one). :class:`AlertRouter` sends an alert to every channel, skips a channel
that already delivered the identical alert within the throttle window (the state lives in the
run log's ``etl_alert_log``, so it survives between runs), and never lets a broken channel fail
the pipeline silently or loudly: the failure is logged, stored as a delivery with its error, and
added to the run's notes.
"""

from __future__ import annotations

import json
import logging
import smtplib
import sqlite3
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TextIO
from urllib.parse import urlsplit

from course_etl.clock import Clock, RealClock, utc_text
from course_etl.db import quote_identifier
from course_etl.errors import CourseEtlError, checked
from course_etl.monitoring.masking import MaskingFilter, cut_urls, mask_secrets, register_secret
from course_etl.monitoring.runlog import add_run_note, record_alert_delivery
from course_etl.monitoring.tables import ALERTS_TABLE, ensure_runlog_tables

__all__ = [
    "SEVERITIES",
    "Alert",
    "AlertConfigError",
    "AlertDeliveryError",
    "Channel",
    "ConsoleChannel",
    "JsonLinesChannel",
    "EmailChannel",
    "WebhookChannel",
    "Delivery",
    "AlertRouter",
    "alerts_from_checks",
    "task_failure_alert",
    "channels_from_config",
    "mask_secrets",
    "register_secret",
]

SEVERITIES = ("warning", "error")
logger = logging.getLogger("course_etl.monitoring.alerts")

logger.addFilter(MaskingFilter())  # on by default: nothing this module logs leaks a token


class AlertConfigError(CourseEtlError):
    """A channel was configured with bad settings: ``.channel`` (its name; None for the router,
    an alert or the alert config), ``.option`` (the field), ``.value`` (what it was given; a URL
    with its token masked). Unknown fields give ``.unexpected`` and ``.known`` instead."""


class AlertDeliveryError(CourseEtlError):
    """A channel could not deliver an alert (unreachable server, HTTP error, disk full):
    ``.channel`` and where it sent to, ``.path``, ``.host``/``.port`` or ``.url`` (the token cut),
    with ``.reason`` for an unreachable webhook; what failed is the ``__cause__``."""


@dataclass(frozen=True)
class Alert:
    """Something a person should know about a run. ``key`` identifies repeats for throttling."""

    severity: str
    subject: str
    body: str = ""
    pipeline: str | None = None
    run_id: int | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise AlertConfigError(f"alert severity must be one of {', '.join(SEVERITIES)}, "
                                   f"not {self.severity!r}", channel=None, option="severity",
                                   value=self.severity, known=SEVERITIES)

    @property
    def identity(self) -> str:
        """What makes two alerts 'identical' for throttling."""
        return self.key or f"{self.pipeline}|{self.severity}|{self.subject}"

    def as_dict(self) -> dict:
        return asdict(self) | {"key": self.identity}


class Channel(Protocol):
    """The interface every channel offers."""

    name: str
    enabled: bool

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` or raise AlertDeliveryError."""


class ConsoleChannel:
    """One line per alert: printed to ``stream`` (stdout by default), or, with
    ``use_logging=True``, emitted on the ``course_etl.monitoring.alerts`` logger (ERROR or WARNING
    level)
    so the application's logging setup routes it."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True,
                 use_logging: bool = False) -> None:
        self.stream, self.enabled, self.use_logging = stream, enabled, use_logging

    def send(self, alert: Alert) -> None:
        line = f"ALERT [{alert.severity.upper()}] {alert.subject}"
        if self.use_logging:
            logger.log(logging.ERROR if alert.severity == "error" else logging.WARNING, line)
        else:
            print(line, file=self.stream or sys.stdout)


class JsonLinesChannel:
    """Appends each alert as one JSON object per line: easy to tail, grep and load."""

    name = "jsonl"

    def __init__(self, path: str | Path, *, enabled: bool = True) -> None:
        if not isinstance(path, str | Path) or not str(path):
            raise AlertConfigError(f"jsonl channel: field 'path' must be a file path, "
                                   f"not {path!r}", channel=self.name, option="path", value=path)
        self.path, self.enabled = Path(path), enabled

    def send(self, alert: Alert) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as file:
                file.write(mask_secrets(json.dumps(alert.as_dict(), sort_keys=True)) + "\n")
        except OSError as error:
            raise AlertDeliveryError(
                f"jsonl channel: cannot append to {self.path.name!r} ({error.strerror or error})"
                ": check the 'path' setting", channel=self.name, path=str(self.path)) from error


class EmailChannel:
    """Sends a plain-text e-mail through an SMTP server. Off unless ``enabled=True``."""

    name = "email"

    def __init__(
        self, host: str, port: int = 25, *, sender: str, recipients: Sequence[str],
        enabled: bool = False, timeout: float = 5.0,
    ) -> None:
        if not isinstance(host, str) or not host:
            raise AlertConfigError(f"email channel: field 'host' must be a host name, "
                                   f"not {host!r}", channel=self.name, option="host",
                                   value=host)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65_536:
            raise AlertConfigError(f"email channel: field 'port' must be an int in 1..65535, "
                                   f"not {port!r}", channel=self.name, option="port",
                                   value=port)
        if isinstance(recipients, str) or not recipients or not all(
                isinstance(r, str) and "@" in r for r in recipients):
            raise AlertConfigError(f"email channel: field 'recipients' must be a list of "
                                   f"e-mail addresses, not {recipients!r}", channel=self.name,
                                   option="recipients", value=recipients)
        if not isinstance(sender, str) or "@" not in sender:
            raise AlertConfigError(f"email channel: field 'sender' must be an e-mail address, "
                                   f"not {sender!r}", channel=self.name, option="sender",
                                   value=sender)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise AlertConfigError(f"email channel: field 'timeout' must be a number > 0, "
                                   f"not {timeout!r}", channel=self.name, option="timeout",
                                   value=timeout)
        self.host, self.port, self.sender = host, port, sender
        self.recipients, self.enabled, self.timeout = list(recipients), enabled, timeout

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail that ``send`` delivers."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = f"[{alert.severity.upper()}] {alert.subject}"
        message.set_content(alert.body or alert.subject)
        return message

    def send(self, alert: Alert) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(self.message(alert))
        except (OSError, smtplib.SMTPException) as error:
            raise AlertDeliveryError(
                f"email channel: cannot deliver through SMTP server {self.host}:{self.port} "
                f"({type(error).__name__}: {error}): check the 'host' and 'port' settings",
                channel=self.name, host=self.host, port=self.port) from error


class WebhookChannel:
    """POSTs the alert as JSON to a URL (Slack, Teams or PagerDuty style incoming webhook)."""

    name = "webhook"

    def __init__(
        self, url: str, *, enabled: bool = True, timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        url = url.reveal() if hasattr(url, "reveal") else url  # a config Secret
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            shown = mask_secrets(url) if isinstance(url, str) else url
            raise AlertConfigError(f"webhook channel: field 'url' must be an http(s) URL, "
                                   f"not {shown!r}", channel=self.name, option="url",
                                   value=shown)  # masked: a token never travels in an error
        register_secret(url)
        self.url, self.enabled, self.timeout = url, enabled, timeout
        # What messages show: the host tells which service failed, the token stays out.
        self.shown_url = cut_urls(url)
        self.headers = {"Content-Type": "application/json"} | dict(headers or {})

    def send(self, alert: Alert) -> None:
        body = json.dumps(alert.as_dict() | {"text": f"[{alert.severity}] {alert.subject}"})
        request = urllib.request.Request(self.url, data=body.encode("utf-8"),
                                         headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            raise AlertDeliveryError(
                f"webhook channel: POST to {self.shown_url} answered HTTP {error.code} "
                f"{error.reason}", channel=self.name, url=self.shown_url) from error
        except (OSError, urllib.error.URLError) as error:
            reason = mask_secrets(str(getattr(error, "reason", error)))
            raise AlertDeliveryError(
                f"webhook channel: cannot reach {self.shown_url} ({reason}): check the 'url' "
                "setting", channel=self.name, url=self.shown_url, reason=reason) from error


@dataclass(frozen=True)
class Delivery:
    """What happened to one alert on one channel: sent, throttled, failed or disabled."""

    channel: str
    status: str
    subject: str
    error: str | None = None


class AlertRouter:
    """Sends alerts to every channel, throttles repeats, records every delivery in the run log.

    ``throttle``: an identical alert (same ``Alert.identity``) already sent on a channel within
    this window is not sent again on that channel. ``clock`` is the one clock of
    :mod:`course_etl.clock` (a simulated one for deterministic replays); the window is measured
    in UTC, so the machine's time zone and its daylight-saving changes never move it.
    """

    def __init__(
        self, conn: sqlite3.Connection, channels: Iterable[Channel], *,
        throttle: timedelta = timedelta(hours=1), clock: Clock | None = None,
    ) -> None:
        if not isinstance(throttle, timedelta) or throttle < timedelta(0):
            raise AlertConfigError(f"alert router: field 'throttle' must be a timedelta >= 0, "
                                   f"not {throttle!r}", channel=None, option="throttle",
                                   value=throttle)
        self.conn, self.channels, self.throttle = conn, list(channels), throttle
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise AlertConfigError(f"alert router: channel names must be unique, got {names}",
                                   channel=None, option="channels", value=names)
        self.clock = clock or RealClock()
        self._tables_ready = False  # created by the first send, not by the constructor

    def _recently_sent(self, alert: Alert, channel: str, now) -> bool:
        since = utc_text(now - self.throttle)
        row = self.conn.execute(
            f"SELECT 1 FROM {quote_identifier(ALERTS_TABLE)} "
            f"WHERE {quote_identifier('alert_key')} = ? AND {quote_identifier('channel')} = ? "
            f"AND {quote_identifier('status')} = 'sent' AND {quote_identifier('sent_at')} > ? "
            "LIMIT 1",
            (alert.identity, channel, since),
        ).fetchone()
        return row is not None

    def send(self, alert: Alert) -> list[Delivery]:
        """Deliver ``alert`` on every channel; returns one Delivery per channel."""
        if not self._tables_ready:
            ensure_runlog_tables(self.conn)
            self._tables_ready = True
        now = self.clock.now()
        deliveries = []
        for channel in self.channels:
            error = None
            if not channel.enabled:
                status = "disabled"
            elif self.throttle and self._recently_sent(alert, channel.name, now):
                status = "throttled"
            else:
                try:
                    channel.send(alert)
                    status = "sent"
                except Exception as failure:  # noqa: BLE001 - any broken channel is reported
                    status, error = "failed", mask_secrets(str(failure))
                    logger.warning("alert channel %r failed: %s", channel.name, error)
                    add_run_note(self.conn, alert.run_id,
                                 f"alert channel {channel.name!r} failed: {error}")
            record_alert_delivery(
                self.conn, run_id=alert.run_id, alert_key=alert.identity,
                severity=alert.severity, channel=channel.name, status=status, sent_at=now,
                subject=alert.subject, error=error)
            deliveries.append(Delivery(channel.name, status, alert.subject, error))
        return deliveries

    def send_all(self, alerts: Iterable[Alert]) -> list[Delivery]:
        """Send several alerts; all deliveries in order."""
        return [d for alert in alerts for d in self.send(alert)]


@checked
def alerts_from_checks(report, *, pipeline: str, run_id: int | None = None) -> list[Alert]:
    """One alert per check that warned or failed in a SuiteReport (course_etl.monitoring.checks).

    A failed blocking check is an ``error`` (the data was held back); anything else a
    ``warning``. The key leaves the observed value out, so the same problem run after run is
    'identical' and gets throttled.
    """
    alerts = []
    for result in report.results:
        if result.status == "pass":
            continue
        severity = "error" if result.status == "fail" else "warning"
        held = " (blocking: data held back)" if result.blocks else ""
        alerts.append(Alert(
            severity=severity,
            subject=f"{pipeline}: {result.table}.{result.name} {result.status}{held}",
            body=result.message, pipeline=pipeline, run_id=run_id,
            key=f"{pipeline}|{result.table}|{result.name}|{result.status}"))
    return alerts


@checked
def task_failure_alert(pipeline: str, task: str, error: BaseException | str, *,
                       run_id: int | None = None) -> Alert:
    """The alert for a task that raised: Airflow's ``on_failure_callback``, as data."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Alert("error", f"{pipeline}: task {task} failed", text, pipeline, run_id,
                 key=f"{pipeline}|task|{task}|failed")


@checked
def channels_from_config(config: Mapping) -> list[Channel]:
    """Channels from a config dict (YAML-ready), e.g. the lecture's ``{"email_alerts": False}``.

    Keys: ``console`` (bool, default True), ``jsonl_path``, ``email_alerts`` (bool, default
    False) with ``email`` ({host, port, sender, recipients}), ``webhook_url``.
    Raises AlertConfigError for unknown keys or bad settings.
    """
    known = sorted({"console", "jsonl_path", "email_alerts", "email", "webhook_url"})
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise AlertConfigError(f"alert config: unknown key(s) {', '.join(unknown)} "
                               f"(known: {', '.join(known)})", channel=None, unexpected=unknown,
                               known=known)
    channels: list[Channel] = []
    if config.get("console", True):
        channels.append(ConsoleChannel())
    if config.get("jsonl_path"):
        channels.append(JsonLinesChannel(config["jsonl_path"]))
    email_on = config.get("email_alerts", False)
    if not isinstance(email_on, bool):
        raise AlertConfigError(f"alert config: 'email_alerts' must be true or false, "
                               f"not {email_on!r}", channel=None, option="email_alerts",
                               value=email_on)
    if email_on or "email" in config:
        settings = config.get("email")
        if not isinstance(settings, Mapping):
            raise AlertConfigError("alert config: 'email_alerts' is on but 'email' settings "
                                   "({host, port, sender, recipients}) are missing",
                                   channel=None, option="email", value=settings)
        fields = ["host", "port", "sender", "recipients", "timeout"]
        unknown = sorted(set(settings) - set(fields))
        if unknown:
            raise AlertConfigError(f"alert config: unknown 'email' field(s) {', '.join(unknown)}",
                                   channel=None, option="email", unexpected=unknown, known=fields)
        channels.append(EmailChannel(**settings, enabled=email_on))
    if config.get("webhook_url"):
        channels.append(WebhookChannel(config["webhook_url"]))
    return channels
