"""Dirty source batches for the medallion layers, with one knob per kind of dirt.

A :class:`DirtySource` plays a CRM export (customers) and an orders API that send one batch a day
from the course's story start (2024-10-01). :class:`Dirt` says how often each kind of dirt appears:
stray whitespace, odd city casing, missing values, rows sent twice, re-sent newer versions of
earlier customers (some with the very same ``updated_at``: a tie), impossible dates, timestamps and
amounts in other formats, and orders whose customer never existed. Every value is text, as a file
or an API would deliver it. Same seed and same calls, same batches.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from course_etl.medallion.entities import CUSTOMERS, ORDERS, Entity, MedallionInputError
from course_etl.sample_data import CITIES, FIRST_NAMES, STORY_START

__all__ = ["Dirt", "CLEAN", "DEFAULT_DIRT", "DirtyBatch", "DirtySource", "BAD_DATES"]

#: Values a source really sends in a date column and nothing can parse.
BAD_DATES = ("2024-02-30 10:00:00", "31.13.2024 08:00", "yesterday", "0000-00-00", "2024-10-0")
ORPHAN_ID_BASE = 900_000  # orphan orders point at ids no customer has
# The columns the generator writes, in the order of its rows (any other column is optional).
_CUSTOMER_VALUES = (CUSTOMERS.key, "name", "city", CUSTOMERS.version)
_ORDER_VALUES = (ORDERS.key, "customer_id", "amount", "ordered_at")


def _frame(entity: Entity, rows: list[list], generated: tuple[str, ...]) -> pd.DataFrame:
    """The generated rows with every column of ``entity``: an optional one it does not
    generate is left empty (None), as a source that does not send it."""
    missing = [c for c in entity.required_columns if c not in generated]
    if missing:
        raise MedallionInputError(
            f"the dirty source cannot generate {entity.name}' required column(s) "
            f"{', '.join(missing)}: declare a default for them in the course's facts",
            value=missing, missing=missing, entity=entity.name)
    frame = pd.DataFrame(rows, columns=list(generated), dtype=object)
    return frame.reindex(columns=list(entity.raw_columns)).astype(object).where(
        lambda f: f.notna(), None)


@dataclass(frozen=True)
class Dirt:
    """How often each kind of dirt appears: each knob is a share of rows between 0 and 1."""

    whitespace: float = 0.0  # leading, trailing or doubled spaces in text values
    casing: float = 0.0  # cities in odd casing ('BERLIN', 'berlin', 'bErLiN')
    nulls: float = 0.0  # one value missing (None or an empty string)
    duplicates: float = 0.0  # a row sent twice, unchanged
    versions: float = 0.0  # a newer version of an earlier customer (a third of them a tie)
    bad_dates: float = 0.0  # a timestamp nothing can parse
    mixed_formats: float = 0.0  # timestamps and amounts in another (parsable) format
    orphans: float = 0.0  # orders for a customer that never existed

    def __post_init__(self) -> None:
        for knob in fields(self):
            value = getattr(self, knob.name)
            if not 0.0 <= value <= 1.0:
                raise MedallionInputError(
                    f"dirt knob {knob.name}={value!r} is not a share: use a value from 0 to 1",
                    knob=knob.name, value=value)


CLEAN = Dirt()
DEFAULT_DIRT = Dirt(whitespace=0.2, casing=0.2, nulls=0.05, duplicates=0.1, versions=0.15,
                    bad_dates=0.05, mixed_formats=0.3, orphans=0.1)


@dataclass(frozen=True)
class DirtyBatch:
    """One day's delivery: customers and orders, every value text (or None), as sent."""

    number: int
    customers: pd.DataFrame
    orders: pd.DataFrame


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


# Parsable renderings of one UTC moment, as different systems write them.
_FORMATS = (
    lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ"),
    lambda m: m.astimezone(timezone(timedelta(hours=2))).isoformat(),
    lambda m: m.strftime("%d.%m.%Y %H:%M:%S"),
    lambda m: str(int(m.timestamp())),
    lambda m: m.strftime("%Y/%m/%d %H:%M:%S"),
)


class DirtySource:
    """A CRM and an orders API delivering a batch a day; remembers what it sent before.

    ``next_batch(size, dirt)`` returns the next :class:`DirtyBatch` with ``size`` customer rows
    and about as many orders. Batch ``n`` is stamped on day ``n`` of the story. Deterministic by
    ``seed`` and the sequence of calls.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.batches_sent = 0
        self._next_customer_id = 1
        self._next_order_id = 1
        self._latest: dict[int, tuple[str, str, datetime]] = {}  # id -> name, city, updated_at

    def next_batch(self, size: int, dirt: Dirt = DEFAULT_DIRT) -> DirtyBatch:
        if not isinstance(size, int) or size < 1:
            raise MedallionInputError(f"batch size {size!r} must be a positive integer (e.g. 20)",
                                      value=size)
        number = self.batches_sent
        rng = np.random.default_rng([self.seed, number])
        day = _utc(datetime.fromisoformat(STORY_START)) + timedelta(days=number)
        customers = self._customers(rng, size, dirt, day)
        orders = self._orders(rng, size, dirt, day)
        self.batches_sent += 1
        return DirtyBatch(
            number=number,
            customers=_frame(CUSTOMERS, customers, _CUSTOMER_VALUES),
            orders=_frame(ORDERS, orders, _ORDER_VALUES),
        )

    # --- customers ------------------------------------------------------------------------

    def _customers(self, rng, size: int, dirt: Dirt, day: datetime) -> list[list]:
        rows: list[list] = []
        while len(rows) < size:
            if rows and rng.random() < dirt.duplicates:
                rows.append(list(rows[int(rng.integers(0, len(rows)))]))
                continue
            customer_id, name, city, stamp = self._next_customer(rng, dirt, day)
            rows.append(self._render_customer(rng, dirt, customer_id, name, city, stamp))
        return rows

    def _next_customer(self, rng, dirt: Dirt, day: datetime):
        if self._latest and rng.random() < dirt.versions:
            known = sorted(self._latest)
            customer_id = known[int(rng.integers(0, len(known)))]
            name, old_city, old_stamp = self._latest[customer_id]
            city = _pick(rng, [c for c in CITIES if c != old_city])
            # A third of the re-sent versions keep the old updated_at: a tie to break.
            stamp = old_stamp if rng.random() < 1 / 3 else max(old_stamp, day) + _minutes(rng)
        else:
            customer_id = self._next_customer_id
            self._next_customer_id += 1
            name, city, stamp = _pick(rng, FIRST_NAMES), _pick(rng, CITIES), day + _minutes(rng)
        self._latest[customer_id] = (name, city, stamp)
        return customer_id, name, city, stamp

    def _render_customer(self, rng, dirt, customer_id, name, city, stamp) -> list:
        if rng.random() < dirt.casing:
            city = [str.upper, str.lower, _alternate][int(rng.integers(0, 3))](city)
        row = [str(customer_id), name, city, self._render_stamp(rng, dirt, stamp)]
        _add_whitespace(rng, dirt, row, (1, 2))
        _add_null(rng, dirt, row)
        return row

    # --- orders ---------------------------------------------------------------------------

    def _orders(self, rng, size: int, dirt: Dirt, day: datetime) -> list[list]:
        rows: list[list] = []
        known = sorted(self._latest)
        while len(rows) < size:
            if rows and rng.random() < dirt.duplicates:
                rows.append(list(rows[int(rng.integers(0, len(rows)))]))
                continue
            order_id = self._next_order_id
            self._next_order_id += 1
            if rng.random() < dirt.orphans or not known:
                customer_id = ORPHAN_ID_BASE + order_id
            else:
                customer_id = known[int(rng.integers(0, len(known)))]
            cents = int(rng.integers(500, 50_000))
            amount = f"{cents // 100}.{cents % 100:02d}"
            if rng.random() < dirt.mixed_formats:
                amount = amount.replace(".", ",")  # a European export: decimal comma
            # Orders arrive up to a day late: some belong to the previous day (none before the
            # story starts).
            late = min(int(rng.integers(0, 2)), self.batches_sent)
            ordered = day - timedelta(days=late) + _minutes(rng)
            row = [str(order_id), str(customer_id), amount, self._render_stamp(rng, dirt, ordered)]
            _add_whitespace(rng, dirt, row, (2,))
            _add_null(rng, dirt, row)
            rows.append(row)
        return rows

    @staticmethod
    def _render_stamp(rng, dirt: Dirt, moment: datetime) -> str:
        if rng.random() < dirt.bad_dates:
            return BAD_DATES[int(rng.integers(0, len(BAD_DATES)))]
        if rng.random() < dirt.mixed_formats:
            return _FORMATS[int(rng.integers(0, len(_FORMATS)))](moment)
        return moment.strftime("%Y-%m-%d %H:%M:%S")


def _minutes(rng) -> timedelta:
    return timedelta(minutes=int(rng.integers(0, 24 * 60 - 1)))


def _pick(rng, options: list[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _alternate(text: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(text))


def _add_whitespace(rng, dirt: Dirt, row: list, columns: tuple[int, ...]) -> None:
    for column in columns:
        if row[column] is not None and rng.random() < dirt.whitespace:
            row[column] = ["  {}", "{} ", " {}  ", "{}"][int(rng.integers(0, 4))].format(
                row[column]).replace(" ", "  ", int(rng.integers(0, 2)))


def _add_null(rng, dirt: Dirt, row: list) -> None:
    if rng.random() < dirt.nulls:
        row[int(rng.integers(0, len(row)))] = [None, ""][int(rng.integers(0, 2))]
