"""The engine against a model: a hypothesis state machine that interleaves source changes with
full and incremental loads in every mode, and after every step holds the engine to
:mod:`engine_model`: target == model, watermark == model, counts == the rows that really changed,
no source row both unread and below the watermark, and a refusal that leaves every byte of the
database (and of the files, when file-backed) as it was.

What it draws: keys that a target merges ('a'/'A' into a COLLATE NOCASE key, '1'/'01' into an
INTEGER key, 'x' into an INTEGER PRIMARY KEY) and NULL keys; inserts, updates, same-timestamp
corrections (no clock tick between writes), late rows, soft and hard deletes, an extract that
came back empty (and its restore); watermark values in other formats or impossible or far in the
future (``10/05/2024 10:00``, a leading or trailing space, ``10000-01-01 …``, an epoch number,
``2024-10-05 24:00:00``, ``2999-12-31``), NULL, and a stored watermark damaged by hand; loads with
lookback, soft_delete, reconcile_deletes, max_delete_share, batch_size, ``until=``,
``initial_value`` (a typo'd one too), into an in-memory database, a file, or a file with the
source in another attached file, with or without a table that references the target with
``ON DELETE CASCADE``.

Run from the code before this machine existed (commit f0c3626: copy these two files into a
checkout and run pytest on them), this profile reports each of issue 23's engine loss classes as
its own bug, because each kind of damage fails at its own function below; shrunk, they read:
1. write, full load, hard delete of the only row, full load: ``deleted_past_the_delete_guard``
   (an emptied source wipes the target, and with it the children of a referenced target);
3. write, incremental, a row restamped '10/05/2024 10:00', incremental:
   ``left_rows_unread_below_the_watermark`` (it sorts below the watermark and is never read);
4. write, incremental with ``initial_value='Oct 1 2024'``: ``read_nothing_from_a_bad_watermark``
   (a damaged stored watermark lands there too, or in a ValueError/IndexError traceback);
5. write 'a', write 'A' (or '1', '01'), full load: ``merged_source_keys``.
Class 2 (``monitor history --db`` writing over a warehouse) is the command line's, not the
engine's; the CLI sweep covers it. On the fixed code the same profile finds nothing, in about
six seconds per kind of key (measured on 2 shared, busy cores).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from engine_model import (
    GARBAGE_WATERMARKS,
    KEY_KINDS,
    ODD_STAMPS,
    STAMP,
    Model,
    Row,
    in_future,
    moment,
    shape,
    stored_key,
)
from hypothesis import HealthCheck, event, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from course_etl import connect, full_load, incremental_load, reset_watermark
from course_etl.errors import CourseEtlError
from course_etl.loads.errors import KeyIntegrityError, ReconcileGuardError, WatermarkError
from course_etl.loads.watermarks import ensure_state_table

START = datetime(2024, 10, 1, 9, 0, 0)
ERRORS = {"delete guard": ReconcileGuardError, "source watermark": WatermarkError,
          "stored watermark": WatermarkError, "bound": WatermarkError, "keys": KeyIntegrityError}
SOURCE_DDL = ("CREATE TABLE {name} (k {key} PRIMARY KEY, v TEXT, updated_at, "
              "is_deleted INTEGER NOT NULL DEFAULT 0)")


# When the engine loads where the model refuses, the damage is named by the first of these
# that sees it; each fails at its own line, so hypothesis reports (and shrinks) each kind of
# loss as its own bug. A missed refusal that did no visible damage yet fails at the last one.
def deleted_past_the_delete_guard(rows, children):
    raise AssertionError(f"the load deleted {len(rows)} target rows and {len(children)} child "
                         f"rows past the delete guard: {rows}")


def left_rows_unread_below_the_watermark(rows, watermark):
    raise AssertionError(f"rows no load will read again (below the stored watermark "
                         f"{watermark!r}, not in the target): {rows}")


def read_nothing_from_a_bad_watermark(rows, bound):
    raise AssertionError(f"loaded from the unusable bound {bound!r}: rows below it are never "
                         f"read: {rows}")


def merged_source_keys(rows, result):
    raise AssertionError(f"source rows lost to a key the target merged: {rows} ({result})")


def should_have_refused(reasons, result):
    raise AssertionError(f"the engine loaded, the model refuses for {reasons}: {result}")


class EngineMachine(RuleBasedStateMachine):
    """Source changes and loads, checked against :class:`engine_model.Model` after each step.

    ``KIND`` is the kind of key (:data:`engine_model.KEY_KINDS`); each kind runs as its own test.
    """

    KIND = "integer"

    @initialize(storage=st.sampled_from(["memory", "file", "attached"]),
                children=st.booleans(), indexed=st.booleans())
    def setup(self, storage, children, indexed):
        kind = self.KIND
        self.kind, self.storage, self.referenced = kind, storage, children
        # Files in memory when the machine has a RAM disk: the machine writes after every step.
        ram = Path("/dev/shm")
        self.folder = Path(tempfile.mkdtemp(prefix="engine_model_",
                                            dir=ram if ram.is_dir() else None))
        self.files = []
        source_key, target_key, self.keys, self.twins = KEY_KINDS[kind]
        if storage == "memory":
            self.conn = connect(":memory:")
            self.source = "src"
        else:
            self.files = [self.folder / "dw.db"]
            attach = None
            if storage == "attached":
                self.files.append(self.folder / "source.db")
                attach = {"src": self.files[1]}
            self.conn = connect(self.files[0], attach_as=attach)
            self.source = "src.customers" if attach else "src"
        self.conn.execute(SOURCE_DDL.format(name=self.source, key=source_key))
        if indexed:  # as a source built for incremental extraction has
            self.execute("CREATE INDEX {src}_by_stamp ON " + self.source.split(".")[-1]
                         + " (updated_at)")
        if kind != "integer" or children:
            self.conn.execute(SOURCE_DDL.format(name="dw", key=target_key))
        if children:
            self.conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, "
                              "k REFERENCES dw (k) ON DELETE CASCADE)")
        self.model = Model(kind)
        self.clock = START
        self.emptied: list[Row] = []
        self.next_child = 1

    def teardown(self):
        if hasattr(self, "conn"):
            self.conn.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # --- the database as it is ----------------------------------------------------------------
    def stamp(self, hours_back: int = 0) -> str:
        return (self.clock - timedelta(hours=hours_back)).strftime(STAMP)

    def target_rows(self) -> dict:
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'dw'").fetchone():
            return {}
        return {r[0]: tuple(r) for r in self.conn.execute(
            "SELECT k, v, updated_at, is_deleted FROM dw")}

    def children_rows(self) -> dict:
        if not self.referenced:
            return {}
        return dict(self.conn.execute("SELECT id, k FROM orders"))

    def stored_watermark(self) -> tuple[bool, object]:
        if not self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'etl_watermarks'").fetchone():
            return False, None
        row = self.conn.execute("SELECT value FROM etl_watermarks WHERE target = 'dw' AND "
                                "watermark_column = 'updated_at'").fetchone()
        return (True, row[0]) if row else (False, None)

    def snapshot(self) -> tuple:
        """Every table of every schema, and the files' bytes: what a refusal must not touch."""
        tables = []
        for schema in [r[0] for r in self.conn.execute("SELECT name FROM pragma_database_list")]:
            for name, sql in self.conn.execute(
                    f'SELECT name, sql FROM "{schema}".sqlite_master ORDER BY name'):
                rows = None
                if sql and sql.startswith("CREATE TABLE"):
                    rows = sorted(map(repr, self.conn.execute(
                        f'SELECT * FROM "{schema}"."{name}"')))
                tables.append((schema, name, sql, rows))
        files = [Path(f"{f}{suffix}").read_bytes() if Path(f"{f}{suffix}").exists() else None
                 for f in self.files for suffix in ("", "-wal")]
        return tables, files

    def key(self, index: int) -> object:
        return self.keys[index % len(self.keys)]

    def existing(self, index: int) -> object:
        """A key the source holds (twins and the NULL key included), or a plain one."""
        keys = sorted(self.model.source, key=repr)
        return keys[index % len(keys)] if keys else self.key(index)

    def execute(self, sql: str, params: tuple = ()) -> None:
        self.conn.execute(sql.replace("{src}", self.source), params)

    # --- source changes -----------------------------------------------------------------------
    @rule(index=st.integers(0, 3), value=st.sampled_from("pqrs"))
    def write(self, index, value):
        """An insert or an update stamped now; two writes between ticks share a timestamp."""
        self.write_key(self.key(index), value)

    def write_key(self, key, value, stamp=None):
        row = self.model.source.get(key)
        deleted = row.deleted if row else 0
        stamp = self.stamp() if stamp is None else stamp
        self.execute("INSERT INTO {src} VALUES (?, ?, ?, ?) ON CONFLICT (k) DO UPDATE SET "
                     "v = excluded.v, updated_at = excluded.updated_at",
                     (key, value, stamp, deleted))
        self.model.write(Row(key, value, stamp, deleted))

    @rule(hours=st.integers(1, 30))
    def tick(self, hours):
        self.clock += timedelta(hours=hours)

    @rule(index=st.integers(0, 3), value=st.sampled_from("pqrs"), hours=st.integers(1, 72))
    def write_late(self, index, value, hours):
        """A row that reaches the source with a stamp from the past."""
        self.write_key(self.key(index), value, self.stamp(hours))

    @rule(index=st.integers(0, 6))
    def soft_delete(self, index):
        key = self.existing(index)
        if key in self.model.source:
            row = self.model.source[key]
            self.execute("UPDATE {src} SET is_deleted = 1, updated_at = ? WHERE k IS ?",
                         (self.stamp(), key))
            self.model.write(Row(key, row.v, self.stamp(), 1))

    @rule(index=st.integers(0, 6))
    def hard_delete(self, index):
        key = self.existing(index)
        self.execute("DELETE FROM {src} WHERE k IS ?", (key,))
        self.model.delete(key)

    @precondition(lambda self: self.referenced)
    @rule(index=st.integers(0, 6))
    def add_child(self, index):
        targets = sorted(self.target_rows(), key=repr)
        if targets:
            key = targets[index % len(targets)]
            self.conn.execute("INSERT INTO orders VALUES (?, ?)", (self.next_child, key))
            self.model.children[self.next_child] = key
            self.next_child += 1

    # --- what goes wrong in real sources and state tables, and its repair ----------------------
    # One rule each, so the ordinary changes above keep most of the steps.
    @rule(what=st.sampled_from(["odd stamp", "twin key", "emptied extract", "damaged state",
                                "NULL key", "forgotten state"]),
          index=st.integers(0, 6), stamp=st.sampled_from([*ODD_STAMPS, None]),
          garbage=st.sampled_from(GARBAGE_WATERMARKS))
    def something_goes_wrong(self, what, index, stamp, garbage):
        if what == "twin key":  # 'A' for 'a', '01' for '1', or 'x' for an INTEGER PRIMARY KEY
            self.write_key(self.twins[index % len(self.twins)], "t")
        elif what == "odd stamp":  # another system's format, a typo, far future, or NULL
            key = self.key(index)
            row = self.model.source.get(key)
            self.write_key(key, row.v if row else "o", stamp)
        elif what == "NULL key" and self.kind != "integer" and None not in self.model.source:
            self.execute("INSERT INTO {src} VALUES (NULL, 'n', ?, 0)", (self.stamp(),))
            self.model.write(Row(None, "n", self.stamp()))
        elif what == "emptied extract":
            self.emptied = list(self.model.source.values())
            self.execute("DELETE FROM {src}")
            for key in list(self.model.source):
                self.model.delete(key)
        elif what == "damaged state":  # etl_watermarks edited by hand or by a broken tool
            ensure_state_table(self.conn)
            self.conn.execute("INSERT OR REPLACE INTO etl_watermarks VALUES "
                              "('dw', 'updated_at', ?, 'edited')", (garbage,))
            self.model.watermark, self.model.stored = garbage, True
        elif what == "forgotten state":
            reset_watermark(self.conn, "dw", "updated_at")
            self.model.watermark, self.model.stored = None, False

    @rule()
    def repair_the_source(self):
        """Someone fixes the source: odd stamps become now, twins and NULL keys go, and an
        emptied extract comes back."""
        for row in self.emptied:
            if row.key not in self.model.source:
                self.execute("INSERT INTO {src} VALUES (?, ?, ?, ?)",
                             (row.key, row.v, row.stamp, row.deleted))
                self.model.write(row)
        self.emptied = []
        for row in list(self.model.source.values()):
            if row.key is None or row.key in self.twins:
                self.execute("DELETE FROM {src} WHERE k IS ?", (row.key,))
                self.model.delete(row.key)
            elif shape(row.stamp) != "seconds" or moment(row.stamp) is None or in_future(
                    row.stamp, self.model.now):
                self.write_key(row.key, row.v)

    # --- loads --------------------------------------------------------------------------------
    @rule(lookback=st.sampled_from([None, 2, 30]), soft=st.booleans(), reconcile=st.booleans(),
          batch=st.sampled_from([None, 1, 2]), share=st.sampled_from([0.5, None]),
          until=st.sampled_from([None, "now", "earlier", "T", "day"]),
          initial=st.sampled_from([None, None, "2024-10-02", "2024-10-02 00:00:00",
                                   "Oct 1 2024"]))
    def incremental(self, lookback, soft, reconcile, batch, share, until, initial):
        until_value = {None: None, "now": self.stamp(), "earlier": self.stamp(5),
                       "T": self.stamp().replace(" ", "T"), "day": self.stamp()[:10]}[until]
        delta = timedelta(hours=lookback) if lookback else None
        expected = self.model.incremental(lookback=delta, soft=soft, reconcile=reconcile,
                                          share=share, until=until_value, initial=initial)
        self.run(expected, lambda: incremental_load(
            self.conn, self.source, "dw", key="k", watermark="updated_at",
            initial_value=initial, lookback=delta, soft_delete="is_deleted" if soft else None,
            reconcile_deletes=reconcile, batch_size=batch, max_delete_share=share,
            until=until_value), soft=soft, bound=initial)

    @rule(with_watermark=st.booleans(), share=st.sampled_from([0.5, None]))
    def full(self, with_watermark, share):
        expected = self.model.full(with_watermark=with_watermark, share=share,
                                   referenced=self.referenced)
        options = {"watermark": "updated_at"} if with_watermark else {}
        if share is None:
            options["max_delete_share"] = None  # the explicit "empty it on purpose"
        self.run(expected, lambda: full_load(self.conn, self.source, "dw", key="k", **options),
                 soft=False)

    def run(self, expected, load, *, soft, bound=None):
        before, rows_before = self.snapshot(), self.target_rows()
        children_before = self.children_rows()
        try:
            result = load()
        except CourseEtlError as error:
            refused = error
        else:
            refused = None
        if expected.refusals:
            if refused is None:
                self.name_the_damage(expected.refusals, result, rows_before, children_before,
                                     bound)
            event(f"refused for {' and '.join(sorted(expected.refusals))}")
            allowed = tuple(ERRORS[r] for r in expected.refusals)
            assert isinstance(refused, allowed), (
                f"refused with {refused!r}, the model refuses for {expected.refusals}")
            assert self.snapshot() == before, f"a refusal changed the database: {refused}"
            return
        assert refused is None, f"the engine refused {refused!r}; the model loads"
        event(f"{result.mode} load read {min(result.rows_read, 3)}{'+' * (result.rows_read > 2)}"
              f" rows" + (", deleted" if result.deleted else ""))
        rows_after = self.target_rows()
        assert rows_after == expected.target, "the target differs from the model"
        assert self.children_rows() == expected.children, "children differ from the model"
        stored = self.stored_watermark()
        assert stored == expected.watermark, (
            f"stored watermark {stored}, the model says {expected.watermark!r}")
        counts = {name: getattr(result, name) for name in expected.counts}
        assert counts == expected.counts, f"counts {counts}, the model says {expected.counts}"
        assert self.changed(rows_before, rows_after, soft, result) == (
            result.inserted, result.updated, result.deleted), "counts differ from the rows"
        self.model.accept(expected)
        lost = self.model.unread_below(rows_after, stored[1])
        assert not lost, f"rows below the watermark that no load will read: {lost}"

    def name_the_damage(self, reasons, result, rows_before, children_before, bound):
        """The engine loaded where the model refuses: say what that load broke."""
        rows, children = self.target_rows(), self.children_rows()
        watermark = self.stored_watermark()[1]
        if "delete guard" in reasons and (rows_before.keys() - rows.keys()
                                          or children_before.keys() - children.keys()):
            deleted_past_the_delete_guard(sorted(rows_before.keys() - rows.keys(), key=repr),
                                          sorted(children_before.keys() - children.keys()))
        if "source watermark" in reasons and self.model.unread_below(rows, watermark):
            left_rows_unread_below_the_watermark(self.model.unread_below(rows, watermark),
                                                 watermark)
        bound = watermark if watermark is not None else bound
        if reasons & {"stored watermark", "bound"} and self.model.unread_below(rows, bound):
            read_nothing_from_a_bad_watermark(self.model.unread_below(rows, bound), bound)
        if "keys" in reasons and self.model.merged(rows):
            merged_source_keys(self.model.merged(rows), result)
        should_have_refused(reasons, result)

    def changed(self, before: dict, after: dict, soft: bool, result) -> tuple[int, int, int]:
        """(inserted, updated, deleted) as the target's rows before and after show them."""
        if result.mode == "full":
            old = {stored_key(self.kind, k): v for k, v in before.items()}
            new = {stored_key(self.kind, k): v for k, v in after.items()}
        else:
            old, new = before, after
        inserted = len(new.keys() - old.keys())
        gone = len(old.keys() - new.keys())
        flagged = sum(1 for k in new.keys() & old.keys()
                      if soft and new[k][3] and not old[k][3])
        updated = sum(1 for k in new.keys() & old.keys() if new[k][1:] != old[k][1:]) - flagged
        return inserted, updated, gone + flagged

    @invariant()
    def target_and_state_are_the_models(self):
        """After every step, loads and source changes alike, not only after a load."""
        if not hasattr(self, "conn"):
            return
        assert self.target_rows() == self.model.target, "the target differs from the model"
        assert self.children_rows() == self.model.children, "children differ from the model"
        assert self.stored_watermark() == (self.model.stored, self.model.watermark)
        if self.referenced:
            assert not self.conn.execute("PRAGMA foreign_key_check").fetchall()


# The profile `make test` runs: fixed seed, no example database, a few seconds per kind of key.
# Run from the code before the model existed, it finds each loss class (module docstring).
PROFILE = settings(max_examples=60, stateful_step_count=40, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def machine_test(kind: str) -> type:
    """The machine with keys of ``kind``, as a unittest TestCase pytest collects."""
    machine = seed(20241005)(type(f"EngineMachine_{kind}", (EngineMachine,), {"KIND": kind}))
    machine.TestCase.settings = PROFILE
    return machine.TestCase


TestIntegerKeys = machine_test("integer")
TestNocaseKeys = machine_test("nocase")
TestAffinityKeys = machine_test("affinity")
