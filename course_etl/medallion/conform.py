"""Conforming one raw bronze row: trimmed text, parsed timestamps and money, business rules.

Text is trimmed and inner spaces collapsed, timestamps in any of the formats sources send are
parsed to ISO-8601 UTC ``…Z``, integers and money parsed (money in cents). :func:`conform` returns
the typed row and the rules it fails (``<field>_missing``, ``<field>_unparsable``, then the
business :class:`Rule`s); silver sends a failing row to ``silver_rejects`` with those reasons.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from course_etl.errors import CourseEtlError, checked
from course_etl.medallion.bronze import _format_utc
from course_etl.medallion.entities import Entity, Field

__all__ = [
    "RuleError",
    "Rule",
    "DEFAULT_RULES",
    "clean_text",
    "parse_timestamp",
    "parse_money",
    "conform",
]

_INTEGER = re.compile(r"[+-]?\d+")
_MONEY = re.compile(r"-?\d+(?:[.,]\d{1,2})?")
_EPOCH = re.compile(r"\d{9,10}")
# Formats seen in the sources besides ISO-8601 (which datetime.fromisoformat reads, 'Z' included).
# Day-first with dots only: '01/02/2024' could be either order, so slashes are accepted year-first.
_OTHER_TIMESTAMP_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y/%m/%d %H:%M:%S")


class RuleError(CourseEtlError):
    """A business rule raised instead of returning a reason or None (``.rule``: its name,
    ``.row``: the typed row it was given; what it raised is the ``__cause__``)."""


@dataclass(frozen=True)
class Rule:
    """A business rule: ``check(row)`` gets a conformed row (silver column names, typed values,
    every required value present) and returns the reason it fails, or None when it passes."""

    name: str
    entity: str
    check: Callable[[dict], str | None]


def _amount_positive(row: dict) -> str | None:
    cents = row["amount_cents"]
    return f"amount {cents / 100:.2f} is not positive" if cents <= 0 else None


#: Business rules beyond "present and parsable", applied on every run.
DEFAULT_RULES = (Rule("amount_not_positive", "orders", _amount_positive),)



@checked
def clean_text(value: str | None) -> str | None:
    """Trim, collapse runs of whitespace to one space; an empty result is a missing value."""
    return _clean_text(value)


def _clean_text(value: str | None) -> str | None:
    # Unchecked: conform() calls it for every value of every row.
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


@checked
def parse_timestamp(text: str) -> str:
    """Parse a timestamp in any format the sources send to ISO-8601 UTC ``YYYY-MM-DDTHH:MM:SSZ``.

    Reads ISO-8601 (``T`` or space, optional seconds, ``Z`` or an offset, or a bare date),
    ``DD.MM.YYYY HH:MM[:SS]``, ``YYYY/MM/DD HH:MM:SS`` and Unix seconds. Values without a zone
    are taken as UTC. Raises ValueError for anything else, including impossible dates.
    """
    return _parse_timestamp(text)


def _parse_timestamp(text: str) -> str:
    if _EPOCH.fullmatch(text):
        return _format_utc(datetime.fromtimestamp(int(text), UTC))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _OTHER_TIMESTAMP_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{text!r} is not a timestamp in any known format") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _format_utc(moment)  # aware: a naive moment was made UTC above


@checked
def parse_money(text: str) -> int:
    """Parse an amount ('12.50', '12,50', '12') to cents; raises ValueError otherwise."""
    return _parse_money(text)


def _parse_money(text: str) -> int:
    if not _MONEY.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount (expected e.g. 12.50 or 12,50)")
    try:
        return int(Decimal(text.replace(",", ".")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern above already excludes these
        raise ValueError(f"{text!r} is not an amount") from None


def _conform_value(field: Field, text: str) -> object:
    if field.kind == "integer":
        if not _INTEGER.fullmatch(text):
            raise ValueError(f"{text!r} is not an integer")
        return int(text)
    if field.kind == "city":
        return string.capwords(text)
    if field.kind == "timestamp":
        return _parse_timestamp(text)
    if field.kind == "money":
        return _parse_money(text)
    return text


@checked
def conform(
    entity: Entity, raw: dict, rules: Sequence[Rule] = ()
) -> tuple[dict, list[tuple[str, str]]]:
    """Conform one raw bronze row: ``(typed row, [(rule, reason), …])``; no failures = valid.

    Built-in rules per field: ``<field>_missing`` (a required value is NULL or blank; an
    optional one takes its declared default instead) and
    ``<field>_unparsable`` (it cannot be read as its kind). ``rules`` for this entity run only on
    rows that pass the built-in ones, so they may rely on every required value being there.
    Raises RuleError when a rule itself fails.
    """
    return _conform(entity, raw, rules)


def _conform(entity: Entity, raw: dict, rules: Sequence[Rule]
             ) -> tuple[dict, list[tuple[str, str]]]:
    # Unchecked: silver's staging calls it once per bronze row.
    typed: dict = {}
    failures: list[tuple[str, str]] = []
    for field in entity.fields:
        text = _clean_text(raw.get(field.name))
        if text is None:
            typed[field.silver_name] = None if field.required else field.default
            if field.required:
                failures.append((f"{field.name}_missing", f"{field.name} is missing"))
            continue
        try:
            typed[field.silver_name] = _conform_value(field, text)
        except ValueError as error:
            typed[field.silver_name] = None
            failures.append((f"{field.name}_unparsable", f"{field.name}: {error}"))
    if not failures:
        for rule in rules:
            if rule.entity != entity.name:
                continue
            try:
                reason = rule.check(dict(typed))  # a copy: a rule cannot change the row
            except Exception as error:
                raise RuleError(
                    f"rule {rule.name!r} raised {type(error).__name__}: {error} on {typed}; "
                    "fix the rule (it gets typed values, every required one present) and run "
                    "again: nothing was written", rule=rule.name, row=typed
                ) from error
            if reason:
                failures.append((rule.name, str(reason)))
    return typed, failures
