"""Command line: ``python -m course_etl …`` (also installed as ``course-etl``).

One module per topic adds its subcommands (:mod:`.load`, :mod:`.config`, :mod:`.scheduling`,
:mod:`.monitoring`, :mod:`.medallion`, and :mod:`.orchestrators` for the live UIs); this module
joins them and turns every error a user can cause into one line on stderr: the library's own
errors and bad files exit with 2, faults that stop a run that had started (a full disk, a lock
held too long, an I/O error) with 1.
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
from collections.abc import Sequence

from course_etl.cli import config, load, medallion, monitoring, orchestrators, scheduling
from course_etl.cli.args import OneLineParser, fail
from course_etl.dbfile import cause_of, explain
from course_etl.errors import CourseEtlError, checked

__all__ = ["main", "build_parser"]

# The order of the commands in --help: the lecture's order.
_COMMAND_MODULES = (load, config, scheduling, monitoring, medallion, orchestrators)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = OneLineParser(
        prog="course_etl",
        description="Teaching toolkit for Pipelines & Orchestration: loads on SQLite.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.add_commands(commands)
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    # Built once per process: argparse looks every message up in gettext's catalogues, which
    # costs tens of milliseconds, and a parser is not changed by parsing.
    return build_parser()


@checked
def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    database = getattr(args, "db", None)
    try:
        return args.handler(args)
    except CourseEtlError as error:
        # A fault (a full disk while writing) stopped a command that had started: exit 1.
        code = 1 if getattr(error, "fault", False) else 2
        return fail(str(error).replace("\n  - ", "; "), code)
    except sqlite3.Error as error:
        started = cause_of(error) in ("disk full", "locked by another process", "disk I/O error")
        return fail(explain(error, database), 1 if started else 2)
    except UnicodeDecodeError as error:
        return fail(f"input is not UTF-8 text (byte {error.start}): save the file as UTF-8")
    except OSError as error:
        return fail(explain(error, database), 1)
    except KeyboardInterrupt:
        return fail("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
