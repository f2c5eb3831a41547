"""``python -m course_etl medallion …``: the medallion layers from the command line.

``ingest`` appends a CSV file to bronze (every value as text, exactly as in the file);
``dirty`` ingests a few days of generated dirty data; ``run`` processes the new bronze batches
(what a scheduler calls; exit 1 when a blocking gate stopped the run); ``rebuild`` replays all of
bronze; ``status`` prints the row accounting and exits 1 when it does not balance.
"""

from __future__ import annotations

import argparse
import csv
import io
import sqlite3
from datetime import timedelta
from pathlib import Path

from course_etl.cli.args import database_path, input_file, integer, warehouse
from course_etl.errors import CourseEtlError, checked
from course_etl.medallion.bronze import fixed_clock, ingest_batch, ingest_dirty_batch
from course_etl.medallion.dirty import DirtySource
from course_etl.medallion.entities import ENTITIES
from course_etl.medallion.lineage import layer_counts
from course_etl.medallion.pipeline import process_new_batches, rebuild_from_bronze
from course_etl.medallion.silver import reconcile
from course_etl.paths import read_text

__all__ = ["add_commands", "read_csv_records"]


@checked
def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the ``medallion`` command and its subcommands to the course_etl parser."""
    medallion = commands.add_parser("medallion", help="bronze → silver → gold on a SQLite file")
    steps = medallion.add_subparsers(dest="medallion_command", required=True, metavar="STEP")

    ingest = steps.add_parser("ingest", help="append a CSV file to bronze as one batch")
    ingest.add_argument("entity", choices=sorted(ENTITIES))
    ingest.add_argument("csv", type=input_file,
                        help="CSV file with a header row naming the entity's columns")
    ingest.set_defaults(handler=_ingest)

    dirty = steps.add_parser("dirty", help="ingest generated dirty batches (one per day)")
    dirty.add_argument("--days", type=integer(1, 366), default=3,
                       help="days of data, 1 to 366 (default: 3)")
    dirty.add_argument("--size", type=integer(1, 100_000), default=20,
                       help="customer rows a day, 1 to 100000 (default: 20)")
    dirty.add_argument("--seed", type=integer(0, 2**32 - 1), default=0,
                       help="generator seed, 0 or more (default: 0)")
    dirty.set_defaults(handler=_dirty)

    for name, handler, text in (
        ("run", _run, "process the bronze batches silver has not seen yet"),
        ("rebuild", _rebuild, "drop silver and gold and replay every bronze batch"),
        ("status", _status, "row counts per layer and the reconciliation"),
    ):
        step = steps.add_parser(name, help=text)
        step.set_defaults(handler=handler)
    for step in steps.choices.values():
        step.add_argument("--db", required=True, type=database_path,
                          help="the warehouse SQLite file")


# A CSV batch for bronze; anything larger is the wrong file (or needs a real loader).
MAX_CSV_BYTES = 100_000_000


@checked
def read_csv_records(path: str | Path) -> list[dict[str, str]]:
    """The rows of the CSV file ``path`` as dicts keyed by its header, every value as text.

    The file is read through the course's opener (a regular file, at most MAX_CSV_BYTES), as
    UTF-8 with or without a byte-order mark (Excel writes one). csv's own limit of 128 KiB a
    field is kept: a bigger field is a broken file, not data. Refused, since each would lose
    data without a word: a header naming a column twice (the second value would replace the
    first), and a row with more fields than the header. Raises CourseEtlError naming the file
    and the line (``.path``; per situation ``.line``, ``.header``, ``.row``, ``.repeated``,
    ``.cause``: csv's error).
    """
    text = read_text(path, what="CSV file", limit=MAX_CSV_BYTES)
    try:
        # strict: a quote left open or stray text after a closing quote is an error, not data.
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
        if header is None:
            raise CourseEtlError(f"CSV file {str(path)!r} is empty: it needs a header row, then "
                                 "one row per record", path=str(path))
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise CourseEtlError(f"CSV file {str(path)!r} names column(s) "
                                 f"{', '.join(map(repr, repeated))} twice in its header: "
                                 "rename or remove the copy", path=str(path), header=header,
                                 repeated=repeated)
        records = []
        for row in reader:
            if len(row) > len(header):
                raise CourseEtlError(
                    f"CSV file {str(path)!r}, line {reader.line_num}: {len(row)} fields, but "
                    f"the header names {len(header)}: quote values that hold a comma",
                    path=str(path), line=reader.line_num, header=header, row=row)
            if row:
                records.append(dict(zip(header, row + [None] * (len(header) - len(row)),
                                        strict=True)))
    except csv.Error as error:
        raise CourseEtlError(f"CSV file {str(path)!r} cannot be read ({error}): check the "
                             "quoting and field sizes", path=str(path), cause=error) from None
    if not records:
        raise CourseEtlError(f"CSV file {str(path)!r} has no data rows (a header row, then one "
                             "row per record)", path=str(path))
    return records


def _ingest(args: argparse.Namespace) -> int:
    records = read_csv_records(args.csv)
    with warehouse(args.db, create="medallion") as conn:
        print(ingest_batch(conn, args.entity, records))
    return 0


def _dirty(args: argparse.Namespace) -> int:
    source = DirtySource(args.seed)
    # Ingestion times follow the data's story days, so the same call always writes the same rows.
    clock = fixed_clock("2024-10-01T06:00:00Z", timedelta(hours=12))
    with warehouse(args.db, create="medallion") as conn:
        for _ in range(args.days):
            for result in ingest_dirty_batch(conn, source.next_batch(args.size), clock=clock):
                print(result)
    return 0


def _processing(step):
    """A command that runs ``step(conn)`` on ``--db`` and exits 1 when a gate blocked it."""

    def command(args: argparse.Namespace) -> int:
        with warehouse(args.db) as conn:
            result = step(conn)
        print(result)
        return 0 if result.promoted else 1

    return command


_run = _processing(process_new_batches)
_rebuild = _processing(rebuild_from_bronze)


def _status(args: argparse.Namespace) -> int:
    # The layers' readers create missing silver and gold tables. A status check must neither
    # change the file nor wait for a writer's lock, so it reads a snapshot: the file is copied
    # into memory on a connection that cannot write (SQLite's backup needs only a read lock).
    with warehouse(args.db, readonly=True) as conn:
        snapshot = sqlite3.connect(":memory:", isolation_level=None)
        conn.backup(snapshot)
    try:
        counts = layer_counts(snapshot)
        books = reconcile(snapshot)
    finally:
        snapshot.close()
    for table, rows in counts.items():
        print(f"{table:<32} {rows:>7}")
    for line in books:
        print(line)
    return 0 if all(r.balanced for r in books) else 1
