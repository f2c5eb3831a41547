"""The two sources the medallion layers carry: customers (the lecture's) and their orders.

An :class:`Entity` says which columns a source sends, which column is its business key, which one
orders its versions, and how each column is typed in silver. Bronze, silver, gold and the gates all
read these specs, so table and column names come from one place and never from user input.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_etl.errors import CourseEtlError, UnknownTableError

__all__ = ["Field", "Entity", "CUSTOMERS", "ORDERS", "ENTITIES", "entity_named",
           "MedallionInputError"]


class MedallionInputError(CourseEtlError):
    """Bad input to a medallion layer: an empty batch, a naive timestamp, a dirt share."""

#: Field kinds and the SQLite type each one has in silver.
SILVER_TYPES = {
    "integer": "INTEGER",
    "text": "TEXT",
    "city": "TEXT",
    "timestamp": "TEXT",  # ISO-8601 UTC, 'YYYY-MM-DDTHH:MM:SSZ': sorts correctly as text
    "money": "INTEGER",  # cents: sums are exact, so incremental and rebuilt gold agree to the cent
}


@dataclass(frozen=True)
class Field:
    """One source column: its name as sent, its kind, and whether silver requires a value."""

    name: str
    kind: str
    required: bool = True

    @property
    def silver_name(self) -> str:
        """The column's name in silver (money is stored in cents, and says so)."""
        return f"{self.name}_cents" if self.kind == "money" else self.name


@dataclass(frozen=True)
class Entity:
    """A source: its fields, business key, version column (None: last received wins)."""

    name: str
    source: str
    key: str
    fields: tuple[Field, ...]
    version: str | None

    @property
    def raw_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def silver_columns(self) -> tuple[str, ...]:
        return tuple(f.silver_name for f in self.fields)

    @property
    def bronze_table(self) -> str:
        return f"bronze_{self.name}"

    @property
    def silver_table(self) -> str:
        return f"silver_{self.name}"

    @property
    def superseded_table(self) -> str:
        return f"silver_{self.name}_superseded"


CUSTOMERS = Entity(
    name="customers",
    source="crm_export",
    key="id",
    fields=(
        Field("id", "integer"),
        Field("name", "text"),
        Field("city", "city"),
        Field("updated_at", "timestamp"),
    ),
    version="updated_at",
)

ORDERS = Entity(
    name="orders",
    source="orders_api",
    key="order_id",
    fields=(
        Field("order_id", "integer"),
        Field("customer_id", "integer"),
        Field("amount", "money"),
        Field("ordered_at", "timestamp"),
    ),
    # Orders are never edited at the source: a re-sent order is the same order, last receipt wins.
    version=None,
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (CUSTOMERS, ORDERS)}


def entity_named(name: str) -> Entity:
    """The entity called ``name``; raises UnknownTableError listing the known ones."""
    if name not in ENTITIES:
        raise UnknownTableError(
            f"unknown medallion source {name!r} (known: {', '.join(ENTITIES)})"
        )
    return ENTITIES[name]
