"""What ``make bench`` measured, judged and written down: the results files and the README block.

Each benchmark writes its results file (``RESULTS.md``, ``RESULTS_panels.md``) ending in a
``## Targets`` table: one row per figure, its target and whether it was met. A row without a
target is a comparison (the lecture's recipe, sqlite-utils): reported, never judged. The README's
bench block is rendered from those two files only (:func:`render_block`), so it cannot say
anything the last run did not measure; ``tests/test_bench_docs.py`` checks that it is the
rendering of the committed files.

    python -m benchmarks.report --write    # rewrite README.md's block from the results files
    python -m benchmarks.report --check    # exit 1 when README.md's block is not that rendering
"""

from __future__ import annotations

import argparse
import operator
import os
import platform
import re
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Figure", "judge", "target_table", "load_average", "machine", "render_block",
           "readme_with_block",
           "main"]

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = Path(__file__).with_name("RESULTS.md")
RESULTS_PANELS = Path(__file__).with_name("RESULTS_panels.md")
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TARGETS_HEADING = "## Targets"
COMPARISON = "comparison"
_COMPARE = {"≤": operator.le, "<": operator.lt, "≥": operator.ge, ">": operator.gt}
_TARGET = re.compile(r"^([≤<≥>]) ([\d.]+)$")
DECIMALS = {"×": 2, "ms": 1}  # how each unit is printed, and so judged


@dataclass(frozen=True)
class Figure:
    """One measured figure: ``value`` in ``unit`` against ``target`` ("≤ 1.15", "< 150"; None
    for a comparison), with ``detail`` shown after the value."""

    what: str
    value: float
    unit: str
    target: str | None = None
    detail: str = ""

    @property
    def decimals(self) -> int:
        return DECIMALS.get(self.unit, 0)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else judge(self.value, self.target, self.decimals)

    def row(self) -> str:
        space = "" if self.unit == "×" else " "
        measured = f"{self.value:.{self.decimals}f}{space}{self.unit}"
        if self.detail:
            measured += f" ({self.detail})"
        target = COMPARISON if self.target is None else f"{self.target}{space}{self.unit}"
        met = "—" if self.met is None else "yes" if self.met else "NO"
        return f"| {self.what} | {measured} | {target} | {met} |"


def judge(value: float, target: str, decimals: int = 2) -> bool:
    """Is ``value``, rounded to ``decimals`` as the table prints it, within ``target``
    ("≤ 1.15", "≥ 4", "< 150")? A reader can check every verdict against the figure shown."""
    match = _TARGET.match(target.strip())
    if not match:
        raise ValueError(f"target {target!r} is not of the form '≤ 1.15' (≤ < ≥ >)")
    return _COMPARE[match[1]](round(value, decimals), float(match[2]))


def target_table(figures: list[Figure]) -> list[str]:
    return [TARGETS_HEADING, "", "| what | measured | target | met |", "|---|---|---|---|",
            *(f.row() for f in figures)]


def load_average() -> float | None:
    """The 1-minute load average (None where the OS has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def machine(load_at_start: float | None = None) -> str:
    """CPU, cores, Python, SQLite, OS and the load average while it ran (a shared machine's
    other jobs show in the figures)."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    load, now = "", load_average()
    if now is not None:
        load = f"; load average {now:.1f}" if load_at_start is None else \
            f"; load average {load_at_start:.1f} at the start, {now:.1f} at the end"
    return (f"{cpu} × {os.cpu_count()}; Python {platform.python_version()}; SQLite "
            f"{sqlite3.sqlite_version}; {platform.system()}{load}")


def _line(text: str, prefix: str, source: str) -> str:
    for line in text.splitlines():
        if line.startswith(prefix):
            return line.removeprefix(prefix).strip()
    raise ValueError(f"{source} has no line starting {prefix!r}: run make bench")


def _targets(text: str, source: str) -> list[str]:
    if TARGETS_HEADING not in text:
        raise ValueError(f"{source} has no {TARGETS_HEADING!r} table: run make bench")
    section = text.split(TARGETS_HEADING, 1)[1]
    return [line for line in section.splitlines()[1:] if line.startswith("| ")][1:]


def render_block(results: str, panels: str) -> str:
    """The README's bench block from the two results files' text."""
    rows = _targets(results, RESULTS.name) + _targets(panels, RESULTS_PANELS.name)
    return "\n".join([
        START,
        "Written by `make bench` from what it measured (`benchmarks/RESULTS.md`,",
        "`benchmarks/RESULTS_panels.md`; do not edit by hand).",
        f"Loads: {_line(results, 'Source:', RESULTS.name)}",
        f"Machine: {_line(results, 'Machine:', RESULTS.name)}.",
        "",
        "| what | measured | target | met |",
        "|---|---|---|---|",
        *rows,
        END,
    ])


def readme_with_block(readme: str, block: str) -> str:
    if START not in readme or END not in readme:
        raise ValueError(f"README.md has no {START} … {END} block")
    before, rest = readme.split(START, 1)
    return before + block + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The README's bench block from the results.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true")
    action.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    try:
        block = render_block(RESULTS.read_text(encoding="utf-8"),
                             RESULTS_PANELS.read_text(encoding="utf-8"))
        readme = README.read_text(encoding="utf-8")
        wanted = readme_with_block(readme, block)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        if wanted != readme:
            print("error: README.md's bench block is not what benchmarks/RESULTS*.md say: "
                  "run  python -m benchmarks.report --write", file=sys.stderr)
            return 1
        return 0
    if wanted != readme:
        README.write_text(wanted, encoding="utf-8")
        print("README.md: bench block rewritten from benchmarks/RESULTS*.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
