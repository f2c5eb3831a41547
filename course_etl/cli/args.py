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

from course_etl.db import connect
from course_etl.dbfile import DatabaseFileError, open_existing

__all__ = [
    "OneLineParser",
    "integer",
    "number",
    "PORT",
    "plain_path",
    "input_file",
    "output_file",
    "output_folder",
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
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: use {minimum} to {maximum}")
        return value

    parse.__name__ = "integer"
    return parse


def number(minimum: float, maximum: float):
    """An argparse type for finite numbers from ``minimum`` to ``maximum`` (no nan, no inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                f"{text!r} is out of range: use a number from {minimum:g} to {maximum:g}")
        return value

    parse.__name__ = "number"
    return parse


PORT = integer(1, 65535)


def plain_path(text: str) -> Path:
    """A path without newlines or other control characters (they would break a crontab line)."""
    if not text.strip() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is empty or holds a control character (e.g. a newline): give a plain path")
    return Path(text)


def input_file(text: str) -> Path:
    """An existing, readable file."""
    path = plain_path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"{text!r} is {'a folder' if path.is_dir() else 'not an existing file'}: "
            "check the path")
    return path


def output_file(text: str) -> Path:
    """A file to write: not a folder, in a folder that exists and can be written."""
    path = plain_path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder: give a file name inside it")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"folder {str(parent)!r} does not exist: create it first or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists()
                                                    and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be written: check its permissions")
    return path


def output_folder(text: str) -> Path:
    """A folder to write into (created if missing): not an existing file."""
    path = plain_path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder: give a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be created or written: check the "
                                         "path and its permissions")
    return path


def fail(message: str, code: int = 2) -> int:
    """Print ``message`` as the one stderr line of a failed command; returns ``code``."""
    print(f"course_etl: error: {' '.join(str(message).split())}", file=sys.stderr)
    return code


@contextlib.contextmanager
def warehouse(path: str | os.PathLike, *, create: bool = False, readonly: bool = False
              ) -> Iterator[sqlite3.Connection]:
    """The warehouse at ``path`` as a connection, closed at the end of the block.

    A missing file is refused unless ``create=True`` (a command that starts a warehouse); a file
    this block created is removed again when the block fails, so a refused command leaves
    nothing behind. ``readonly=True`` is for commands that only read (see
    :func:`course_etl.dbfile.open_existing`). Raises DatabaseFileError.
    """
    file = Path(path)
    created = create and not file.exists()
    if created:
        if not (file.parent if str(file.parent) else Path(".")).is_dir():
            raise DatabaseFileError(f"{file}: folder {str(file.parent)!r} does not exist: "
                                    "create it or check --db", path=str(file),
                                    cause="no such folder")
        conn = connect(file)
    else:
        conn = open_existing(file, readonly=readonly)
    try:
        yield conn
    except BaseException:
        conn.close()
        if created:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{file}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        conn.close()
