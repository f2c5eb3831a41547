"""The course's facts in one place: the lecture's data, its schedule and its table names.

The values live in :mod:`course_etl.facts.lecture` (the one file an instructor edits); their
shapes and the SQL built from them in :mod:`course_etl.facts.model`. This package adds what is
derived from several facts at once (the source after a round of changes, a round told in words)
and checks on import that the facts fit together: every row has its required columns, every
change touches a customer that exists at that point of the story, every order belongs to one.

Why a Python module and not a YAML file: the facts sit at the bottom of the package (the sample
data, the load demos and the medallion's entities are built from them on import, below the config
layer that owns the YAML loader); their shapes are typed (a ``Column``, an ``Update(3, city=…)``),
so a typo is a name error or a ``FactsError`` with the fact and the file, not a silently ignored
key; and the lecture's code is rendered from them with no parsing step in between.
"""

from __future__ import annotations

from datetime import date

from course_etl.errors import checked
from course_etl.facts.lecture import (
    CHANGE_ROUNDS,
    CITIES,
    CUSTOMERS,
    FIRST_NAMES,
    LATER_SAME_DAY,
    LECTURE_ORDERS,
    LECTURE_ROWS,
    LECTURE_SEGMENTS,
    ORDERS,
    SCHEDULE,
    SOFT_DELETE,
    STORY_START,
    TABLES,
    WAREHOUSE_ONLY,
)
from course_etl.facts.model import (
    FACTS_FILE,
    REQUIRED,
    Change,
    Column,
    Delete,
    FactsError,
    Insert,
    Schedule,
    Schema,
    Tables,
    Update,
    apply_changes,
    change_statement,
)

__all__ = [
    "STORY_START", "TABLES", "CUSTOMERS", "SOFT_DELETE", "WAREHOUSE_ONLY", "LECTURE_ROWS",
    "CHANGE_ROUNDS", "LATER_SAME_DAY", "LECTURE_SEGMENTS", "ORDERS", "LECTURE_ORDERS",
    "SCHEDULE", "FIRST_NAMES", "CITIES",
    "FACTS_FILE", "REQUIRED", "FactsError", "Column", "Schema", "Insert", "Update", "Delete",
    "Change", "Schedule", "Tables", "apply_changes", "change_statement",
    "lecture_rows", "lecture_tuples", "round_changes", "rounds_text", "round_day",
    "describe_change", "describe_round", "check_facts",
]


def rounds_text() -> str:
    """The lecture's change rounds for a message: ``rounds 1 and 2``."""
    numbers = [str(n) for n in CHANGE_ROUNDS]
    if len(numbers) < 2:
        return f"round {''.join(numbers)}" if numbers else "no change rounds"
    return f"rounds {', '.join(numbers[:-1])} and {numbers[-1]}"


def round_changes(round_: int) -> tuple[Change, ...]:
    """The changes of the lecture's round ``round_``; FactsError names the rounds there are."""
    if round_ not in CHANGE_ROUNDS:
        raise FactsError(f"unknown change round {round_!r}: the lecture has {rounds_text()}",
                         fact="CHANGE_ROUNDS", value=round_, known=list(CHANGE_ROUNDS))
    return CHANGE_ROUNDS[round_]


def lecture_rows(after_round: int = 0) -> list[dict]:
    """The lecture's source as complete rows (defaults filled in, key order), after the change
    rounds up to and including ``after_round`` (0: as first loaded)."""
    if after_round != 0:
        round_changes(after_round)  # raises for a round the lecture does not have
    rows = apply_changes(CUSTOMERS, LECTURE_ROWS, (), fact="LECTURE_ROWS")
    for number, changes in CHANGE_ROUNDS.items():
        if number <= after_round:
            rows = apply_changes(CUSTOMERS, rows, changes, fact=f"CHANGE_ROUNDS[{number}]")
    return rows


def lecture_tuples(after_round: int = 0) -> list[tuple]:
    """:func:`lecture_rows` as tuples in column order: what ``SELECT *`` gives back."""
    return [tuple(row.values()) for row in lecture_rows(after_round)]


def _name(key: object, rows: list[dict]) -> str:
    for row in rows:
        if row[CUSTOMERS.key] == key:
            return str(row.get("name", f"{CUSTOMERS.key} {key}"))
    return f"{CUSTOMERS.key} {key}"


def round_day(round_: int) -> date:
    """The day round ``round_`` reaches the source: the date of its latest watermark value."""
    stamps = [str(c.values[CUSTOMERS.watermark]) for c in round_changes(round_)
              if not isinstance(c, Delete) and CUSTOMERS.watermark in c.values]
    if not stamps:
        raise FactsError(f"{FACTS_FILE}: CHANGE_ROUNDS[{round_}] sets no "
                         f"{CUSTOMERS.watermark}: give its changes a timestamp",
                         fact="CHANGE_ROUNDS", value=round_)
    return date.fromisoformat(max(stamps)[:10])


@checked
def describe_change(change: Change, before: list[dict]) -> str:
    """One change in words, as the story tells it: ``Chloe moves to Aurora``, ``Dai arrives``."""
    if isinstance(change, Insert):
        return f"{change.values.get('name', change.values[CUSTOMERS.key])} arrives"
    who = _name(change.key, before)
    if isinstance(change, Delete):
        return f"{who} leaves"
    changed = [c for c in change.values if c != CUSTOMERS.watermark]
    if "city" in changed:
        return f"{who} moves to {change.values['city']}"
    return f"{who} changes {', '.join(changed) or CUSTOMERS.watermark}"


def describe_round(round_: int) -> str:
    """A round in words: ``Chloe moves to Aurora, Dai arrives``."""
    changes = round_changes(round_)
    before = lecture_rows(max((n for n in CHANGE_ROUNDS if n < round_), default=0))
    return ", ".join(describe_change(c, before) for c in changes)


def check_facts() -> None:
    """Raise FactsError, naming the fact and the file, for facts that do not fit together."""
    for number, row in enumerate(LECTURE_ROWS):
        CUSTOMERS.row(row, fact=f"LECTURE_ROWS[{number}]")
    rows = lecture_rows(max(CHANGE_ROUNDS, default=0))
    for number in CHANGE_ROUNDS:
        round_day(number)
    after_first = lecture_rows(min(CHANGE_ROUNDS, default=0))
    apply_changes(CUSTOMERS, after_first, [LATER_SAME_DAY], fact="LATER_SAME_DAY")
    keys = {row[CUSTOMERS.key] for row in rows}
    for number, order in enumerate(LECTURE_ORDERS):
        row = ORDERS.row(order, fact=f"LECTURE_ORDERS[{number}]")
        if row["customer_id"] not in keys:
            raise FactsError(f"{FACTS_FILE}: LECTURE_ORDERS[{number}] belongs to customer "
                             f"{row['customer_id']!r}, who is not in the story (known: "
                             f"{', '.join(map(str, sorted(keys)))})",
                             fact=f"LECTURE_ORDERS[{number}]", value=row["customer_id"],
                             known=sorted(keys))
    unknown = sorted(set(LECTURE_SEGMENTS) - keys)
    if unknown:
        raise FactsError(f"{FACTS_FILE}: LECTURE_SEGMENTS names customers {unknown} who are "
                         "not in the story", fact="LECTURE_SEGMENTS", value=unknown,
                         known=sorted(keys))


check_facts()
