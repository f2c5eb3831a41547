"""The configuration schema: what every key means, its type, its default and its allowed values.

Each section is a frozen dataclass; each field carries a :func:`spec` in its metadata (a one-line
description, a range, a set of choices, a format check, whether it is a secret). The loader reads
types from the annotations and rules from the specs, so adding a key is adding one field. The
lecture's four keys (``watermark_table``, ``batch_size``, ``email_alerts``, ``target_schema``) live
in the sections where they belong; :data:`LECTURE_KEYS` maps each to its dotted path.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from course_etl.db import validate_identifier
from course_etl.errors import checked
from course_etl.facts import CUSTOMERS, TABLES
from course_etl.scheduling.cron import validate_cron

__all__ = [
    "Secret",
    "spec",
    "KeySpec",
    "DatabaseSettings",
    "LoadSettings",
    "CheckSettings",
    "AlertSettings",
    "ScheduleSettings",
    "Settings",
    "LECTURE_KEYS",
    "key_specs",
    "section_names",
]


class Secret:
    """A value that must not be printed: repr, str and f-strings show a mask; ``reveal()`` tells.

    URLs keep scheme and host visible (``https://hooks.example.com/***``) so a reader can tell
    which service is configured without learning the token in the path.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def reveal(self) -> str:
        """The real value, for the one place that sends it (an SMTP login, an HTTP call)."""
        return self._value

    @property
    def masked(self) -> str:
        parts = urlsplit(self._value)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.hostname}/***"
        return "********"

    def __repr__(self) -> str:
        return f"Secret('{self.masked}')"

    def __str__(self) -> str:
        return self.masked

    def __format__(self, format_spec: str) -> str:
        return format(self.masked, format_spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def spec(
    doc: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
    check: Callable[[object], None] | None = None,
    secret: bool = False,
    min_items: int = 0,
) -> dict:
    """Field metadata for a config key: description, range, choices, a format check, secrecy.

    ``check(value)`` raises ValueError with a sentence saying what is wrong; for a tuple field
    ``choices`` and ``check`` apply to each item, and ``min_items`` is the fewest items it takes.
    """
    return {"doc": doc, "minimum": minimum, "maximum": maximum, "choices": choices,
            "check": check, "secret": secret, "min_items": min_items}


def _table_name(value: object) -> None:
    parts = str(value).split(".")
    if len(parts) > 2:
        raise ValueError("use 'table' or 'schema.table'")
    for part in parts:
        validate_identifier(part, what="table name part")


def _column_name(value: object) -> None:
    validate_identifier(value, what="column name")


def _plain_name(value: object) -> None:
    validate_identifier(value, what="name")


def _cron(value: object) -> None:
    # The scheduler's own rules (exactly five fields), so what passes here also builds a
    # pipeline: croniter alone would accept a sixth (seconds) field.
    validate_cron(str(value))
    if not croniter.is_valid(str(value)):
        raise ValueError("not a cron expression: five fields 'minute hour day month weekday', "
                         "e.g. '0 2 * * *' (02:00 every day)")


def _timezone(value: object) -> None:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError("unknown time zone: use an IANA name such as 'UTC' or "
                         "'Europe/Berlin'") from None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


def _email(value: object) -> None:
    if not _EMAIL.fullmatch(str(value)):
        raise ValueError("not an e-mail address (expected name@example.com)")


def _https_url(value: object) -> None:
    parts = urlsplit(str(value))
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError("a webhook URL must start with https:// and name a host")


def _path(value: object) -> None:
    if not str(value).strip():
        raise ValueError("empty path: give a file name or ':memory:'")


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the warehouse and the source live."""

    warehouse: str = field(default=":memory:", metadata=spec(
        "warehouse SQLite file (relative to the working directory) or ':memory:'", check=_path))
    source: str | None = field(default=None, metadata=spec(
        "source SQLite file attached under source_alias (null: the source is in the warehouse)",
        check=_path))
    source_alias: str = field(default="src", metadata=spec(
        "schema name the source file is attached as", check=_plain_name))


@dataclass(frozen=True)
class LoadSettings:
    """What to load and how (the arguments of ``incremental_load``)."""

    source_table: str = field(default=TABLES.source, metadata=spec(
        "source table ('table' or 'schema.table')", check=_table_name))
    target_table: str = field(default=TABLES.warehouse, metadata=spec(
        "target table in target_schema", check=_plain_name))
    target_schema: str = field(default="main", metadata=spec(
        "schema of the target table (lecture key; 'main' is the warehouse file itself)",
        check=_plain_name))
    watermark_table: str = field(default=TABLES.warehouse, metadata=spec(
        "table the lecture's get_watermark reads MAX(watermark_column) from (lecture key)",
        check=_table_name))
    key: tuple[str, ...] = field(default=(CUSTOMERS.key,), metadata=spec(
        "key column(s) of the source", check=_column_name, min_items=1))
    watermark_column: str = field(default=CUSTOMERS.watermark, metadata=spec(
        "column whose highest value marks how far a load got", check=_column_name))
    initial_value: str | int | None = field(default=None, metadata=spec(
        "watermark for the very first run (null: read everything)"))
    lookback_hours: float = field(default=0.0, metadata=spec(
        "re-read this many hours before the stored watermark (late rows)",
        minimum=0, maximum=24 * 30))
    batch_size: int = field(default=5000, metadata=spec(
        "rows per INSERT statement (lecture key)", minimum=1, maximum=1_000_000))
    soft_delete: str | None = field(default=None, metadata=spec(
        "source column flagging deleted rows (null: none)", check=_column_name))
    reconcile_deletes: bool = field(default=False, metadata=spec(
        "also remove target rows whose key left the source"))


@dataclass(frozen=True)
class CheckSettings:
    """Thresholds of the data-quality checks run after a load."""

    min_rows: int = field(default=1, metadata=spec(
        "fewest rows the target may hold", minimum=0))
    max_null_fraction: float = field(default=0.0, metadata=spec(
        "largest share of NULLs allowed in a checked column", minimum=0, maximum=1))
    max_staleness_hours: float = field(default=24.0, metadata=spec(
        "oldest the newest watermark may be before the data counts as stale",
        minimum=0.1, maximum=24 * 365))
    max_row_count_drop: float = field(default=0.1, metadata=spec(
        "largest relative drop in row count between two runs", minimum=0, maximum=1))


@dataclass(frozen=True)
class AlertSettings:
    """Where failures are reported. Secrets come only from environment variables."""

    email_alerts: bool = field(default=False, metadata=spec(
        "send failure e-mails (lecture key; needs email_to and smtp_host)"))
    channels: tuple[str, ...] = field(default=("log",), metadata=spec(
        "alert channels", choices=("log", "email", "webhook")))
    email_to: tuple[str, ...] = field(default=(), metadata=spec(
        "recipients of failure e-mails", check=_email))
    smtp_host: str | None = field(default=None, metadata=spec("SMTP server host name"))
    smtp_port: int = field(default=587, metadata=spec("SMTP port", minimum=1, maximum=65535))
    smtp_user: str | None = field(default=None, metadata=spec(
        "SMTP login (null: no login; if set, smtp_password is required)"))
    smtp_password: Secret | None = field(default=None, metadata=spec(
        "SMTP password (secret: environment variable only)", secret=True))
    webhook_url: Secret | None = field(default=None, metadata=spec(
        "chat webhook URL with its token (secret: environment variable only)",
        check=_https_url, secret=True))


@dataclass(frozen=True)
class ScheduleSettings:
    """When the pipeline runs."""

    cron: str = field(default="0 2 * * *", metadata=spec(
        "cron expression for the run schedule", check=_cron))
    timezone: str = field(default="UTC", metadata=spec(
        "IANA time zone the cron expression is read in", check=_timezone))
    retries: int = field(default=2, metadata=spec(
        "retries of a failed run", minimum=0, maximum=10))
    retry_delay_minutes: float = field(default=5.0, metadata=spec(
        "wait between retries", minimum=0, maximum=24 * 60))


@dataclass(frozen=True)
class Settings:
    """Every section of the configuration."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    load: LoadSettings = field(default_factory=LoadSettings)
    checks: CheckSettings = field(default_factory=CheckSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)


# The lecture's flat CONFIG keys and where they live now.
LECTURE_KEYS = {
    "watermark_table": "load.watermark_table",
    "batch_size": "load.batch_size",
    "email_alerts": "alerts.email_alerts",
    "target_schema": "load.target_schema",
}


@dataclass(frozen=True)
class KeySpec:
    """One leaf key of a schema: dotted path, type annotation, default and rules."""

    path: str
    hint: object
    default: object
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    check: Callable[[object], None] | None = None
    secret: bool = False
    min_items: int = 0

    @property
    def type_name(self) -> str:
        return _type_name(self.hint)


def _type_name(hint: object) -> str:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " | ".join("null" if a is type(None) else _type_name(a) for a in args)
    if typing.get_origin(hint) is tuple:
        return f"list of {_type_name(args[0])}"
    return {bool: "true/false", int: "integer", float: "number", str: "text",
            Secret: "secret text"}.get(hint, str(hint))


@checked
def section_names(schema: type = Settings) -> list[str]:
    """The section names of a schema (``database``, ``load``, …) in declared order."""
    return [f.name for f in dataclasses.fields(schema)]


@checked
def key_specs(schema: type = Settings) -> dict[str, KeySpec]:
    """Every leaf key of ``schema`` (a dataclass of section dataclasses) by dotted path."""
    specs: dict[str, KeySpec] = {}
    for section in dataclasses.fields(schema):
        section_type = typing.get_type_hints(schema)[section.name]
        hints = typing.get_type_hints(section_type)
        for f in dataclasses.fields(section_type):
            meta = dict(f.metadata) or spec("")
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            specs[f"{section.name}.{f.name}"] = KeySpec(
                path=f"{section.name}.{f.name}", hint=hints[f.name], default=default, **meta)
    return specs
