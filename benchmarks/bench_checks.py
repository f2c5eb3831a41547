"""How long a student waits for a verdict (``make bench``): every exercise's check, cold and warm.

For each registered exercise the benchmark times its check on the reference answer (every
scenario runs: the slowest verdict), on the stub and on each wrong answer of the test corpus.
*Cold* is the first verdict in a kernel: the scenarios are generated and the reference's outcomes
computed then (the benchmark forgets them before that call); *warm* verdicts reuse them. The
target: every verdict, cold ones included, under 1 s. Times are also given as a multiple of a
floor measured in the same run (one small in-memory SQLite scenario: connect, create, insert,
select), so a slower machine shows up in the floor, not as a regression. Written to
benchmarks/RESULTS_checks.md.
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_etl.classroom.exercises import all_exercises  # noqa: E402
from course_etl.classroom.exercises.differential import Judge  # noqa: E402
from tests.gamed_answers import GAMED  # noqa: E402
from tests.wrong_answers_sql import solution_namespace  # noqa: E402

RESULTS = Path(__file__).with_name("RESULTS_checks.md")
TARGET_SECONDS = 1.0


def floor_seconds(repeats: int = 200) -> float:
    """One small scenario's worth of SQLite work: the unit a check is made of."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(n, str(n)) for n in range(10)])
        conn.execute("SELECT * FROM t WHERE id >= 5").fetchall()
        conn.close()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def forget(exercise) -> None:
    """Drop what a check computed on earlier calls (scenarios, the reference's outcomes, cached
    warehouses), so the next verdict is a first one."""
    module = sys.modules[exercise.check.__module__]
    for value in vars(module).values():
        if isinstance(value, Judge):
            value.forget()
        if isinstance(value, functools._lru_cache_wrapper):
            value.cache_clear()


def timed(check, answer) -> float:
    started = time.perf_counter()
    check(answer)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    floor = floor_seconds()
    lines = [f"Verdicts per exercise (target: every one under {TARGET_SECONDS:.0f} s, the first "
             f"in a kernel included). Floor: one small SQLite scenario, "
             f"{floor * 1000:.2f} ms in this run.", "",
             "| exercise | cold s | warm median s | warm max s | warm max / floor | verdicts | "
             "under target |", "|---|---:|---:|---:|---:|---:|---|"]
    worst = 0.0
    for exercise in all_exercises():
        reference = solution_namespace(*exercise.requires, exercise.solution_file)[
            exercise.answer_name]
        forget(exercise)
        cold = timed(exercise.check, reference)
        answers = [reference, exercise.stub, *(a for _, a in GAMED.get(exercise.name, []))]
        warm = [timed(exercise.check, answer) for answer in answers]
        slowest = max(cold, *warm)
        worst = max(worst, slowest)
        lines.append(f"| `{exercise.name}` | {cold:.3f} | {statistics.median(warm):.3f} | "
                     f"{max(warm):.3f} | {max(warm) / floor:,.0f} | {len(warm) + 1} | "
                     f"{'yes' if slowest < TARGET_SECONDS else 'NO'} |")
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        RESULTS.write_text("# Exercise verdict timings (`make bench`)\n\n" + report + "\n",
                           encoding="utf-8")
    return 0 if worst < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
