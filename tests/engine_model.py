"""A plain-Python model of what a load must leave: the reference ``test_engine_model`` checks
the engine against after every step.

The model keeps the source rows by key, the target rows by the key the target stores, the child
rows that reference the target, the stored watermark, and the rows written *late* (stamped below
the watermark when they were written: the contract a watermark relies on was broken, and only a
lookback or a full load can bring them). For a load it predicts either the set of reasons the
engine must refuse for, or exactly what the load leaves: target, children, watermark and counts.

It is written without the engine's code: its own parser for the few timestamp shapes the machine
writes, its own picture of how SQLite compares keys (by kind of target key), and its own rules,
stated as simply as the README states them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

# --- values: the shapes the machine writes, and what each one means ----------------------------

STAMP = "%Y-%m-%d %H:%M:%S"
_SHAPES = {
    "seconds": re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    "T-seconds": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
}
# Values a source really ends up holding: other formats, stray spaces, typos, far future.
ODD_STAMPS = ["10/05/2024 10:00", " 2024-10-05 10:00:00", "2024-10-05 10:00:00 ",
              "10000-01-01 00:00:00", 1728122400, "2024-10-05 24:00:00", "2999-12-31 00:00:00",
              "2999-12-31", "2024-10-05T10:00:00", "2024-10-05", "2024-02-30 10:00:00", 1.5]
GARBAGE_WATERMARKS = [None, "abc", 1.5, "Oct 1 2024", "2999-12-31 00:00:00", "2024-10-05 24:00:00",
                      b"\x00"]
FUTURE = timedelta(days=1)


def shape(value: object) -> str:
    """'integer', 'seconds', 'T-seconds', 'date', or 'odd' (no format a load can compare)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return "integer"
    if isinstance(value, str):
        for name, pattern in _SHAPES.items():
            if pattern.fullmatch(value):
                return name
    return "odd"


def moment(value: object) -> datetime | int | None:
    """The moment a value of a known shape names, or None when it names none (30 February)."""
    kind = shape(value)
    try:
        if kind == "integer":
            return value
        if kind == "date":
            return datetime.combine(date.fromisoformat(value), datetime.min.time())
        if kind in ("seconds", "T-seconds"):
            return datetime.strptime(value.replace("T", " "), STAMP)
    except ValueError:
        return None
    return None


def in_future(value: object, now: datetime) -> bool:
    when = moment(value)
    return isinstance(when, datetime) and when.replace(tzinfo=UTC) > now + FUTURE


def sqlite_order(value: object) -> tuple:
    """How SQLite orders values of one column: NULL, numbers, text, blobs."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, str):
        return (2, value.encode())
    return (3, bytes(value))


def minus(value: object, kind: str, lookback: timedelta) -> object:
    """``value - lookback`` written in ``kind`` (a date bound moves in whole days, rounded up)."""
    when = moment(value)
    if kind == "date":
        days = lookback.days + (1 if lookback % timedelta(days=1) else 0)
        return (when - timedelta(days=days)).date().isoformat()
    text = (when - lookback).strftime(STAMP)
    return text.replace(" ", "T") if kind == "T-seconds" else text


# --- keys: how each kind of target compares the source's keys --------------------------------

KEY_KINDS = {
    # source key type, target key type, the keys, and the twins the target takes for one of
    # them (or cannot store at all: 'x' in an INTEGER PRIMARY KEY)
    "integer": ("INTEGER", "INTEGER", [1, 2, 3, 4], [5, 6]),
    "nocase": ("TEXT", "TEXT COLLATE NOCASE", ["a", "b", "c", "d"], ["A", "B"]),
    "affinity": ("TEXT", "INTEGER", ["1", "2", "3", "4"], ["01", "02", "x"]),
}


def stored_key(kind: str, key: object) -> object:
    """The key as the target stores it (an INTEGER key turns '01' into 1)."""
    if kind == "affinity" and isinstance(key, str) and key.isdigit():
        return int(key)
    return key


def target_identity(kind: str, key: object) -> object:
    """What the target's key compares: case folded for NOCASE, the number for INTEGER."""
    key = stored_key(kind, key)
    return key.lower() if kind == "nocase" and isinstance(key, str) else key


def source_matches(kind: str, source_key: object, stored: object) -> bool:
    """``source.k = target.k`` as SQLite evaluates it with the source on the left (reconcile,
    counting): binary text for NOCASE targets, numbers for an INTEGER target."""
    return stored_key(kind, source_key) == stored


# --- the model ---------------------------------------------------------------------------------

@dataclass
class Row:
    key: object
    v: str
    stamp: object
    deleted: int = 0

    def values(self, kind: str) -> tuple:
        return (stored_key(kind, self.key), self.v, self.stamp, self.deleted)


@dataclass
class Outcome:
    """A prediction: refusal reasons, or what the target, children and watermark become."""

    refusals: set[str] = field(default_factory=set)
    target: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    watermark: tuple = (False, None)  # (a state row exists, its value)
    counts: dict = field(default_factory=dict)
    exempt: set = field(default_factory=set)


@dataclass
class Model:
    kind: str
    source: dict = field(default_factory=dict)
    target: dict = field(default_factory=dict)  # stored key -> (key, v, stamp, deleted)
    children: dict = field(default_factory=dict)  # child id -> stored key
    watermark: object = None
    stored: bool = False  # a state row exists (its value may be NULL)
    exempt: set = field(default_factory=set)  # keys written late, or skipped by initial_value
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    # source changes ----------------------------------------------------------------------
    def write(self, row: Row) -> None:
        self.source[row.key] = row
        if self.below_watermark(row.stamp):
            self.exempt.add(row.key)
        else:
            self.exempt.discard(row.key)

    def below_watermark(self, stamp: object) -> bool:
        """Below the stored watermark, in its own format: a load will not look there again."""
        wm = self.watermark
        return (self.stored and shape(stamp) == shape(wm) != "odd" and moment(wm) is not None
                and sqlite_order(stamp) < sqlite_order(wm))

    def delete(self, key: object) -> None:
        self.source.pop(key, None)
        self.exempt.discard(key)

    # the rules a load follows --------------------------------------------------------------
    def column_format(self, expected: object) -> tuple[str | None, set[str]]:
        """The one format of the source's watermark column, and refusals it calls for."""
        stamps = [r.stamp for r in self.source.values()]
        if any(s is None for s in stamps):
            return None, {"source watermark"}
        if not stamps:
            return None, set()
        highest = max(stamps, key=sqlite_order)
        kind = shape(expected) if expected is not None else shape(highest)
        if kind == "odd" or any(shape(s) != kind for s in stamps):
            return None, {"source watermark"}
        if kind != "integer" and (moment(highest) is None and shape(highest) == kind
                                  and expected is None):
            return None, {"source watermark"}
        if in_future(highest, self.now):
            return kind, {"source watermark"}
        return kind, set()

    def key_refusals(self, read: list[Row], *, against_target: bool) -> set[str]:
        keys = [r.key for r in self.source.values() if r.key is not None]
        identities = [target_identity(self.kind, k) for k in keys]
        if len(set(identities)) < len(identities):
            return {"keys"}
        for row in read:
            if row.key is None:
                return {"keys"}
            if self.kind == "affinity" and not isinstance(stored_key(self.kind, row.key), int):
                return {"keys"}  # an INTEGER PRIMARY KEY takes integers only
            if against_target and self.kind == "nocase":
                clash = [k for k in self.target if target_identity(self.kind, k)
                         == target_identity(self.kind, row.key) and k != row.key]
                if clash:
                    return {"keys"}
        return set()

    def gone(self) -> list:
        return [k for k in self.target
                if not any(source_matches(self.kind, s, k) for s in self.source if s is not None)]

    def guard(self, share: float | None) -> set[str]:
        total, gone = len(self.target), len(self.gone())
        if share is not None and total and gone / total > share:
            return {"delete guard"}
        return set()

    def incremental(self, *, lookback: timedelta | None, soft: bool, reconcile: bool,
                    share: float | None, until: object, initial: object) -> Outcome:
        refusals: set[str] = set()
        stored = self.watermark if self.stored else None
        if self.stored and (moment(stored) is None or in_future(stored, self.now)):
            refusals.add("stored watermark")
            stored_ok = None
        else:
            stored_ok = stored
        if not self.stored and initial is not None and (
                moment(initial) is None or in_future(initial, self.now)):
            refusals.add("bound")
        fmt, column = self.column_format(stored_ok)
        refusals |= column
        if not self.stored and initial is not None and fmt and moment(initial) is not None:
            if not (shape(initial) == fmt or (shape(initial) == "date" and fmt != "integer")):
                refusals.add("bound")
        if until is not None and (moment(until) is None or fmt and not (
                shape(until) == fmt or (shape(until) == "date" and fmt != "integer"))):
            refusals.add("bound")
        if stored_ok is not None and lookback and fmt == "integer":
            refusals.add("bound")
        refusals |= self.key_refusals([], against_target=False)
        if refusals & {"stored watermark", "source watermark", "bound"}:
            return Outcome(refusals)
        bound = stored_ok if stored_ok is not None else initial
        if bound is not None and lookback and stored_ok is not None:
            bound = minus(bound, fmt, lookback)
        read = [r for r in self.source.values()
                if (bound is None or sqlite_order(r.stamp) >= sqlite_order(bound))
                and (until is None or sqlite_order(r.stamp) < sqlite_order(until))]
        if any(moment(r.stamp) is None for r in read):
            refusals.add("source watermark")
        refusals |= self.key_refusals(read, against_target=True)
        if reconcile:
            refusals |= self.guard(share)
        if refusals:
            return Outcome(refusals)
        outcome = self._apply_incremental(read, soft=soft, reconcile=reconcile, stored=stored_ok)
        if stored_ok is None and initial is not None:  # skipped on purpose by initial_value
            outcome.exempt = {r.key for r in self.source.values()
                              if sqlite_order(r.stamp) < sqlite_order(initial)}
        return outcome

    def _apply_incremental(self, read: list[Row], *, soft: bool, reconcile: bool,
                           stored: object) -> Outcome:
        target, children = dict(self.target), dict(self.children)
        counts = dict(rows_read=len(read), inserted=0, updated=0, deleted=0, unchanged=0)
        for row in read:
            new = row.values(self.kind)
            here = next((k for k in target if target_identity(self.kind, k)
                         == target_identity(self.kind, row.key)), None)
            if here is None:
                target[new[0]] = new
                counts["inserted"] += 1
                continue
            old = target[here]
            if old[1:] == new[1:]:
                counts["unchanged"] += 1
                continue
            target[here] = (old[0], *new[1:])  # an upsert keeps the stored key
            if soft and new[3] and not old[3]:
                counts["deleted"] += 1
            else:
                counts["updated"] += 1
        if reconcile:
            for key in [k for k in target if not any(
                    source_matches(self.kind, s, k) for s in self.source if s is not None)]:
                del target[key]
                counts["deleted"] += 1
                children = {c: k for c, k in children.items() if k != key}
        watermark = (self.stored, stored)
        if read:
            highest = max((r.stamp for r in read), key=sqlite_order)
            if stored is None or sqlite_order(highest) > sqlite_order(stored):
                watermark = (True, highest)
        return Outcome(set(), target, children, watermark, counts)

    def full(self, *, with_watermark: bool, share: float | None, referenced: bool) -> Outcome:
        refusals: set[str] = set()
        stamps = [r.stamp for r in self.source.values() if r.stamp is not None]
        if with_watermark and stamps:  # what it stores must be sound; the rest it just copies
            highest, lowest = (end(stamps, key=sqlite_order) for end in (max, min))
            if (moment(highest) is None or moment(lowest) is None or in_future(highest, self.now)
                    or shape(lowest) != shape(highest)):
                refusals.add("source watermark")
        rows = list(self.source.values())
        refusals |= self.key_refusals(rows, against_target=referenced)
        refusals |= self.guard(share)
        if refusals:
            return Outcome(refusals)
        gone = set(self.gone())
        target: dict = {}
        counts = dict(rows_read=len(rows), inserted=0, updated=0, deleted=len(gone),
                      unchanged=0)
        for row in rows:
            new = row.values(self.kind)
            here = next((k for k in self.target if source_matches(self.kind, row.key, k)), None)
            if here is None:
                counts["inserted"] += 1
            elif self.target[here][1:] == new[1:]:
                counts["unchanged"] += 1
            else:
                counts["updated"] += 1
            target[new[0] if here is None or not referenced else here] = new
        children = {c: k for c, k in self.children.items() if k not in gone}
        watermark = (self.stored, self.watermark)
        if with_watermark:
            watermark = (True, max(stamps, key=sqlite_order)) if stamps else (False, None)
        return Outcome(set(), target, children, watermark, counts)

    def accept(self, outcome: Outcome) -> None:
        self.target, self.children = outcome.target, outcome.children
        self.stored, self.watermark = outcome.watermark
        self.exempt = {k for k in self.exempt | outcome.exempt if k in self.source
                       and self.below_watermark(self.source[k].stamp)}

    def unread_below(self, target: dict, bound: object) -> list[Row]:
        """Source rows below ``bound`` (in SQLite's order, what ``>=`` compares) whose current
        version ``target`` (the engine's rows by stored key) lacks, the rows written late or
        skipped on purpose aside. With the stored watermark as ``bound``: rows no incremental
        load will read again, each one lost."""
        lost = []
        for key, row in self.source.items():
            if key is None or key in self.exempt or bound is None:
                continue
            if sqlite_order(row.stamp) < sqlite_order(bound) and not self.holds(target, row):
                lost.append(row)
        return lost

    def holds(self, target: dict, row: Row) -> bool:
        here = next((k for k in target if target_identity(self.kind, k)
                     == target_identity(self.kind, row.key)), None)
        return here is not None and target[here][1:] == row.values(self.kind)[1:]

    def merged(self, target: dict) -> list[Row]:
        """Source rows lost to a twin key the target took for the same one ('a'/'A')."""
        return [row for row in self.source.values() if row.key is not None
                and not self.holds(target, row) and any(
                    other != row.key and other is not None and target_identity(self.kind, other)
                    == target_identity(self.kind, row.key) for other in self.source)]
