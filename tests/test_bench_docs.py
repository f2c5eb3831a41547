"""The README's bench block says what the last `make bench` measured, and nothing else.

`make bench` writes benchmarks/RESULTS.md and RESULTS_panels.md, each ending in a "Targets"
table, and renders the README's block from those two files (benchmarks/report.py). Here: the
README's block is that rendering of the committed files; every verdict in a results file follows
from the figure and the target printed next to it; changing any figure of a results file, or
leaving one without its targets (the stale panels file had none), is caught.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.report import (
    COMPARISON,
    README,
    RESULTS,
    RESULTS_PANELS,
    TARGETS_HEADING,
    Figure,
    judge,
    readme_with_block,
    render_block,
)

ROW = re.compile(r"^\| (?P<what>.+?) \| (?P<measured>[\d.]+)(?:×| (?P<unit>\w+))(?: \(.*?\))? "
                 r"\| (?P<target>.+?) \| (?P<met>yes|NO|—) \|$")


def _read(path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_readme_block_is_what_the_results_files_say():
    readme = _read(README)
    block = render_block(_read(RESULTS), _read(RESULTS_PANELS))
    assert readme_with_block(readme, block) == readme, (
        "README.md's bench block is not what benchmarks/RESULTS.md and RESULTS_panels.md say: "
        "run  python -m benchmarks.report --write  (make bench does it after measuring)")


@pytest.mark.parametrize("path", [RESULTS, RESULTS_PANELS], ids=lambda p: p.name)
def test_every_verdict_follows_from_the_figure_and_target_printed_beside_it(path):
    section = _read(path).split(TARGETS_HEADING, 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]
    assert rows, f"{path.name} judges nothing"
    for row in rows:
        match = ROW.match(row)
        assert match, f"{path.name}: a row the report does not write: {row}"
        if match["target"] == COMPARISON:
            assert match["met"] == "—", row
            continue
        target = match["target"].removesuffix("×").removesuffix(f" {match['unit']}")
        decimals = len(match["measured"].partition(".")[2])
        expected = judge(float(match["measured"]), target, decimals)
        assert match["met"] == ("yes" if expected else "NO"), row


def test_any_changed_figure_changes_the_block_so_the_readme_test_fails():
    """Mutants of the results: each number of each Targets table, one at a time, plus one."""
    results, panels = _read(RESULTS), _read(RESULTS_PANELS)
    block = render_block(results, panels)
    mutants = 0
    for name, text in (("results", results), ("panels", panels)):
        head, targets = text.split(TARGETS_HEADING, 1)
        for number in re.finditer(r"\d+\.\d+", targets):
            changed = targets[:number.start()] + f"{float(number[0]) + 1:.2f}" + \
                targets[number.end():]
            mutant = head + TARGETS_HEADING + changed
            pair = (mutant, panels) if name == "results" else (results, mutant)
            assert render_block(*pair) != block, f"changing {number[0]} in {name} went unseen"
            mutants += 1
    assert mutants >= 10


def test_a_results_file_without_targets_is_refused_with_the_fix():
    stale = "# Panel callback timings (`make bench`)\n\n| button | median ms |\n|---|---:|\n"
    with pytest.raises(ValueError, match="make bench"):
        render_block(_read(RESULTS), stale)


@pytest.mark.parametrize("value, target, decimals, met", [
    (1.154, "≤ 1.15", 2, True),    # printed 1.15: within
    (1.156, "≤ 1.15", 2, False),   # printed 1.16
    (4.0, "≥ 4", 2, True),
    (3.996, "≥ 4", 2, True),       # printed 4.00
    (149.94, "< 150", 1, True),
    (149.96, "< 150", 1, False),   # printed 150.0
])
def test_judge_rounds_as_the_table_prints(value, target, decimals, met):
    assert judge(value, target, decimals) is met


def test_a_comparison_is_never_judged_and_a_bad_target_is_refused():
    assert Figure("recipe / incremental_load", 1.5, "×").row().endswith("| comparison | — |")
    with pytest.raises(ValueError, match="1.15"):
        judge(1.0, "at most 1.15")
