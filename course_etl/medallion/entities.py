"""The two sources the medallion layers carry: customers (the lecture's) and their orders.

An :class:`Entity` says which columns a source sends, which column is its business key, which one
orders its versions, and how each column is typed in silver. Bronze, silver, gold and the gates all
read these specs, so table and column names come from one place and never from user input. The
columns themselves are the course's facts (:data:`course_etl.facts.CUSTOMERS` and ``ORDERS``): a
column added there is carried through every layer, and an optional one (with a declared default)
may be left out of a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_etl import facts
from course_etl.errors import CourseEtlError, UnknownTableError, checked

__all__ = ["Field", "Entity", "CUSTOMERS", "ORDERS", "ENTITIES", "entity_named",
           "MedallionInputError"]


class MedallionInputError(CourseEtlError):
    """Bad input to a medallion layer, ``.value`` the input refused: an empty batch (``.table``,
    the bronze table), a naive timestamp, a dirt share (``.knob``), a batch size, or required
    columns the dirty source cannot generate (``.missing``, ``.entity``: the entity's name)."""

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
    """One source column: its name as sent, its kind, and whether silver requires a value.

    An optional field (``required=False``) may be missing from a batch or empty in a row; silver
    then stores its ``default``."""

    name: str
    kind: str
    required: bool = True
    default: object = None

    @classmethod
    def from_column(cls, column: facts.Column) -> Field:
        """The field a column of the course's facts becomes."""
        if column.optional:
            return cls(column.name, column.kind, required=False, default=column.default)
        return cls(column.name, column.kind)

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
    def required_columns(self) -> tuple[str, ...]:
        """The columns every batch must send (the others are optional)."""
        return tuple(f.name for f in self.fields if f.required)

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


def _entity(schema: facts.Schema, source: str, version: str | None) -> Entity:
    return Entity(name=schema.name, source=source, key=schema.key,
                  fields=tuple(Field.from_column(c) for c in schema.columns), version=version)


CUSTOMERS = _entity(facts.CUSTOMERS, "crm_export", version=facts.CUSTOMERS.watermark)
# Orders are never edited at the source: a re-sent order is the same order, last receipt wins.
ORDERS = _entity(facts.ORDERS, "orders_api", version=None)

ENTITIES: dict[str, Entity] = {e.name: e for e in (CUSTOMERS, ORDERS)}


@checked
def entity_named(name: str) -> Entity:
    """The entity called ``name``; raises UnknownTableError listing the known ones."""
    if name not in ENTITIES:
        raise UnknownTableError(
            f"unknown medallion source {name!r} (known: {', '.join(ENTITIES)})",
            table=name, known=list(ENTITIES), what="medallion source")
    return ENTITIES[name]
