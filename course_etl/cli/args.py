"""Argument types and checks shared by every subcommand: bad input is refused while parsing.

Each type turns the text of one option into a value or raises ``argparse.ArgumentTypeError`` with
a sentence saying what is allowed, so a bad value is reported before any file is opened. The
parser prints that as one line (``course_etl: error: argument --days: …``) and exits with 2.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from course_etl.dbfile import create_database, open_database
from course_etl.paths import FileRefusedError, check_path, existing_file, new_file, new_folder

__all__ = [
    "OneLineParser",
    "integer",
    "number",
    "PORT",
    "plain_path",
    "input_file",
    "output_file",
    "output_folder",
    "database_path",
    "warehouse",
    "fail",
]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block): culprit, then ``--help``."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"course_etl: error: {text} (see: {self.prog} --help)\n")


def integer(minimum: int, maximum: int):
    """An argparse type for whole numbers from ``minimum`` to ``maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_short(text)} is not a whole number (use "
                                             f"{minimum} to {maximum})") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"{_short(text)} is out of range: use {minimum} to {maximum}")
        return value

    parse.__name__ = "integer"
    return parse


def number(minimum: float, maximum: float):
    """An argparse type for finite numbers from ``minimum`` to ``maximum`` (no nan, no inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_short(text)} is not a number") from None
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"{_short(text)} is out of range: use a number from {minimum:g} to "
                f"{maximum:g}")
        return value

    parse.__name__ = "number"
    return parse


PORT = integer(1, 65535)


def _short(text: str) -> str:
    """``text`` quoted for a message, cut short: a 5,000-digit argument stays readable."""
    shown = repr(text)
    return shown if len(shown) <= 60 else f"{shown[:40]}…' ({len(text):,} characters)"


def _path_type(check, name: str):
    """An argparse type from a check of :mod:`course_etl.paths` (its refusal becomes the
    parser's one-line error)."""

    def parse(text: str) -> Path:
        try:
            return check(text, what="")
        except FileRefusedError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = name
    return parse


def _database_path(text: str, *, what: str = "") -> Path:
    path = check_path(text, what=what)
    # Whether it must exist is the command's decision; what is there must be a regular file.
    return existing_file(path, what=what) if os.path.lexists(path) else path


# A plain path: no control character (it would break a crontab line), no file: URI.
plain_path = _path_type(check_path, "plain_path")
# An existing, readable regular file (not a folder, FIFO or device).
input_file = _path_type(existing_file, "input_file")
# A file to write: not a folder or special file, in a folder that exists and can be written.
output_file = _path_type(new_file, "output_file")
# A folder to write into (created if missing): not an existing file.
output_folder = _path_type(new_folder, "output_folder")
# A warehouse path: a plain path naming a regular file or nothing yet.
database_path = _path_type(_database_path, "database_path")


def fail(message: str, code: int = 2) -> int:
    """Print ``message`` as the one stderr line of a failed command; returns ``code``."""
    print(f"course_etl: error: {' '.join(str(message).split())}", file=sys.stderr)
    return code


@contextlib.contextmanager
def warehouse(path: str | os.PathLike, *, create: str | None = None, readonly: bool = False
              ) -> Iterator[sqlite3.Connection]:
    """The warehouse at ``path`` as a connection, closed at the end of the block.

    A missing file is refused unless ``create`` names the command that may start one (see
    :data:`course_etl.dbfile.MAKERS`); a file this block created is removed again when the
    block fails, so a refused command leaves nothing behind. ``readonly=True`` is for commands
    that only read (see :func:`course_etl.dbfile.open_database`). Raises DatabaseFileError.
    """
    created = create is not None and not os.path.lexists(path)
    if created:
        conn = create_database(path, maker=create)
    else:
        conn = open_database(path, mode="read" if readonly else "write")
    try:
        yield conn
    except BaseException:
        conn.close()
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        conn.close()
