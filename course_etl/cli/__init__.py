"""Command line: ``python -m course_etl …`` (also installed as ``course-etl``).

One module per topic adds its subcommands (:mod:`.load`, :mod:`.config`, :mod:`.scheduling`,
:mod:`.monitoring`, :mod:`.medallion`); this module joins them and turns the library's errors
into one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from course_etl.cli import config, load, medallion, monitoring, scheduling
from course_etl.errors import CourseEtlError

__all__ = ["main", "build_parser"]

# The order of the commands in --help: the lecture's order.
_COMMAND_MODULES = (load, config, scheduling, monitoring, medallion)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="course_etl",
        description="Teaching toolkit for Pipelines & Orchestration: loads on SQLite.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CourseEtlError as error:
        print(f"course_etl: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
