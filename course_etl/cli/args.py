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
import re
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from course_etl.dbfile import create_database, is_sqlite_file, open_database
from course_etl.errors import short_repr
from course_etl.paths import (
    FileRefusedError,
    check_path,
    existing_file,
    existing_folder,
    new_file,
    new_folder,
)

__all__ = [
    "OneLineParser",
    "integer",
    "number",
    "PORT",
    "timezone_name",
    "moment",
    "env_name",
    "plain_path",
    "input_file",
    "output_file",
    "output_folder",
    "database_path",
    "file_path",
    "folder_path",
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


def timezone_name(text: str) -> str:
    """An IANA time zone name that exists (``UTC``, ``Europe/Berlin``)."""
    from course_etl.scheduling.cron import InvalidCronError, resolve_timezone

    try:
        resolve_timezone(text)
    except InvalidCronError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    except OSError:  # a name longer than a path may be, or with a NUL
        raise argparse.ArgumentTypeError(f"unknown time zone {_short(text)} (e.g. UTC, "
                                         "Europe/Berlin)") from None
    return text


def moment(text: str) -> str:
    """A date or an ISO date and time (``2024-10-15``, ``2024-10-15T12:00``), kept as text."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_short(text)} is not a date or time: write "
                                         "2024-10-15 or 2024-10-15T12:00") from None
    return text


_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def env_name(text: str) -> str:
    """An environment's name (``dev``, ``prod``): the stem of a YAML file in the config
    folder."""
    if not _ENV_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{_short(text)} is not an environment name: use "
                                         "letters, digits, '-', '_' or '.', e.g. dev or prod")
    return text


def _short(text: str) -> str:
    return short_repr(text, 60)


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


def _file_path(text: str, *, what: str = "") -> Path:
    path = check_path(text, what=what)
    # Whether it must exist is the command's decision; what is there must be a regular file.
    return existing_file(path, what=what) if os.path.lexists(path) else path


def _database_path(text: str, *, what: str = "") -> Path:
    path = _file_path(text, what=what)
    if os.path.lexists(path) and not is_sqlite_file(path):
        raise FileRefusedError(f"{what} {str(path)!r}: not a SQLite database: point it at the "
                               "warehouse file".strip(), path=str(path),
                               reason="not a SQLite database", what=what,
                               fix="point it at the warehouse file")
    return path


def _folder_path(text: str, *, what: str = "") -> Path:
    path = check_path(text, what=what)
    return existing_folder(path, what=what) if os.path.lexists(path) else path


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
# A file for later (an interpreter a crontab line names): a regular file or nothing yet.
file_path = _path_type(_file_path, "file_path")
# A folder for later (a job's working or log folder): a folder or nothing yet.
folder_path = _path_type(_folder_path, "folder_path")


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
