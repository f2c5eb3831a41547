"""Benchmark the loads against floors measured in the same run (``make bench``).

At N source rows (default 1,000,000) with 1% changed (0.8% updates, 0.2% inserts):
- ``full_load`` against the floor ``BEGIN; DELETE; INSERT INTO … SELECT; COMMIT`` after the one
  comparison pass a full load must make before it deletes anything (the delete guard's rows the
  target would lose, the result's counts);
- ``incremental_load`` against the floor "one set-based upsert of the changed rows" after the
  one pass over the watermark column that finds a value of another format wherever it sorts
  (the only way a mis-stamped row is not skipped for good);
- both also against the bare floors, reported: what those passes cost;
- the lecture's recipe (pandas read + ``INSERT OR REPLACE`` executemany) and sqlite-utils'
  ``upsert_all``, the library a user might pick instead.
Each case runs on a fresh copy of the same database file; a round runs every case once, and
ratios are the median over ``--repeat`` rounds of the per-round ratio, so drift in disk speed
during the run hits both sides of a ratio alike. The headline is each case end to end: the load
to its COMMIT plus the WAL checkpoint that writes its pages into the database file, which is
work the load caused whichever commit ends up paying for it. A load and its floor must stay
within 1.15× of each other end to end, and a full load must cost at least 3× an incremental one
(the stamp check is a pass over the whole column, so the speed-up of reading 1% of the rows is
smaller than the bare floors' and is reported beside it).
Peak memory of an incremental load is measured in child processes at two source sizes with the
same number of changed rows: it must stay flat (the Python heap at 10× the source within 2× of
the smaller one). The recipe and sqlite-utils are comparisons, reported and not judged.
Results are printed and written to benchmarks/RESULTS.md, whose "Targets" table the README's
bench block is rendered from (benchmarks/report.py). Exits 1 when a target is missed
(``--no-judge``: 0).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import sqlite_utils

from benchmarks.report import Figure, load_average, machine, target_table
from course_etl import connect, full_load, incremental_load, lecture_incremental_load
from course_etl.db import resolve_table
from course_etl.loads.engine import _compare  # the full load's own pass, timed on its own
from course_etl.loads.watermarks import check_column, read_watermark
from course_etl.sample_data import create_customer_source, simulate_changes

COLUMNS = ("id", "name", "city", "updated_at", "is_deleted")
OPTS = {"key": "id", "watermark": "updated_at"}
RESULTS = Path(__file__).with_name("RESULTS.md")


def build_base(path: Path, rows: int, changed: int) -> None:
    """A source of ``rows`` customers, loaded once into dw, then ``changed`` rows changed."""
    conn = connect(path)
    create_customer_source(conn, "src", rows, seed=42, progress=True)
    full_load(conn, "src", "dw", **OPTS)
    updates = int(changed * 0.8)
    simulate_changes(conn, "src", updates=updates, inserts=changed - updates, seed=43)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def fresh_copy(base: Path, workdir: Path) -> Path:
    target = workdir / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base, target)
    return target


def floor_full(conn: sqlite3.Connection) -> None:
    cols = ", ".join(COLUMNS)
    conn.execute("BEGIN")
    conn.execute("DELETE FROM dw")
    conn.execute(f"INSERT INTO dw ({cols}) SELECT {cols} FROM src")
    conn.execute("COMMIT")


def floor_incremental(conn: sqlite3.Connection) -> None:
    watermark = read_watermark(conn, "dw", "updated_at").value
    cols = ", ".join(COLUMNS)
    sets = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
    conn.execute("BEGIN")
    conn.execute(
        f"INSERT INTO dw ({cols}) SELECT {cols} FROM src WHERE updated_at >= ? "
        f"ON CONFLICT (id) DO UPDATE SET {sets}",
        (watermark,),
    )
    conn.execute("COMMIT")


def floor_full_compared(conn: sqlite3.Connection) -> None:
    """The full floor after the one pass a full load must make first: comparing source and
    target by key gives the delete guard the rows the target would lose (an emptied source must
    not wipe the warehouse) and the result its inserted/updated/unchanged counts."""
    src, tgt = resolve_table(conn, "src"), resolve_table(conn, "dw")
    _compare(conn, src, tgt, ("id",))
    floor_full(conn)


def floor_incremental_checked(conn: sqlite3.Connection) -> None:
    """The incremental floor after the one pass over the watermark column an incremental load
    must make first: a row stamped in another format ('10/05/2024', an epoch number, a stray
    space) sorts below the watermark wherever it was written, and only a look at every value
    finds it before it is skipped for good."""
    src = resolve_table(conn, "src")
    check_column(conn, src, "updated_at", ("id",), expected=read_watermark(conn, "dw",
                                                                          "updated_at"))
    floor_incremental(conn)


def run_sqlite_utils(conn: sqlite3.Connection) -> None:
    watermark = read_watermark(conn, "dw", "updated_at").value
    db = sqlite_utils.Database(conn)
    changed = list(db.query("SELECT * FROM src WHERE updated_at >= ?", [watermark]))
    db["dw"].upsert_all(changed, pk="id")


CASES = {
    "full floor (DELETE + INSERT…SELECT)": floor_full,
    "full floor after its comparison pass": floor_full_compared,
    "full_load": lambda c: full_load(c, "src", "dw", **OPTS),
    "incremental floor (one upsert)": floor_incremental,
    "incremental floor after its stamp check": floor_incremental_checked,
    "incremental_load": lambda c: incremental_load(c, "src", "dw", **OPTS),
    "lecture recipe": lambda c: lecture_incremental_load(c, "src", "dw"),
    "sqlite-utils upsert_all": run_sqlite_utils,
}


def time_case(name: str, base: Path, workdir: Path) -> tuple[float, float]:
    """Seconds for the load (to its COMMIT) and for the WAL checkpoint that follows it.

    SQLite checkpoints whenever a commit crosses 1,000 WAL pages, copying every dirtied page
    into the database file and syncing it. That cost depends only on how many pages a load
    dirtied, is the same for every case that changes the same rows, and lands on whichever
    commit crosses the threshold; so it is switched off during the load and timed on its own.
    """
    path = fresh_copy(base, workdir)
    conn = connect(path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    started = time.perf_counter()
    CASES[name](conn)
    loaded = time.perf_counter()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpointed = time.perf_counter()
    conn.close()
    return loaded - started, checkpointed - loaded


FLOOR_LIMIT = "≤ 1.15"
FULL_OVER_INCREMENTAL = "≥ 3"
MEMORY_GROWTH = "≤ 2"


MEMORY_PROBE = textwrap.dedent("""
    import json, sys, threading, tracemalloc
    import psutil
    from course_etl import connect, incremental_load
    def rss():
        return psutil.Process().memory_info().rss
    conn = connect(sys.argv[1])
    conn.execute("SELECT COUNT(*) FROM src").fetchone()
    before, peak, done = rss(), [0], threading.Event()
    def sample():  # RSS high-water mark during the load only
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            done.wait(0.002)
    sampler = threading.Thread(target=sample)
    sampler.start()
    tracemalloc.start()
    incremental_load(conn, "src", "dw", key="id", watermark="updated_at")
    heap = tracemalloc.get_traced_memory()[1]
    done.set()
    sampler.join()
    print(json.dumps({"python_peak_kib": heap / 1024,
                      "rss_growth_kib": max(peak[0], rss()) / 1024 - before / 1024}))
""")


def memory_at(rows: int, changed: int, workdir: Path) -> dict:
    base = workdir / f"memory_{rows}.db"
    build_base(base, rows, changed)
    path = fresh_copy(base, workdir)
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)],
                         capture_output=True, text=True, check=True).stdout
    base.unlink()
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed-fraction", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--no-judge", action="store_true",
                        help="exit 0 even when a target is missed (report only)")
    args = parser.parse_args()
    changed = int(args.rows * args.changed_fraction)
    load_at_start = load_average()

    with tempfile.TemporaryDirectory(prefix="course_etl_bench_") as tmp:
        workdir = Path(tmp)
        base = workdir / "base.db"
        print(f"building {args.rows:,} rows, {changed:,} changed …")
        build_base(base, args.rows, changed)
        timings: dict[str, list[float]] = {name: [] for name in CASES}
        checkpoints: dict[str, list[float]] = {name: [] for name in CASES}
        for round_ in range(args.repeat):
            for name in CASES:  # interleaved, so drift hits every case alike
                load_s, checkpoint_s = time_case(name, base, workdir)
                timings[name].append(load_s)
                checkpoints[name].append(checkpoint_s)
            print(f"round {round_ + 1}/{args.repeat} done")
        small_rows = max(args.rows // 10, changed * 2)
        memory = {n: memory_at(n, changed, workdir) for n in (small_rows, args.rows)}

    totals = {name: [load + checkpoint for load, checkpoint
                     in zip(timings[name], checkpoints[name], strict=True)] for name in CASES}
    best = {name: min(values) for name, values in totals.items()}

    def ratio(slow: str, fast: str, series: dict[str, list[float]] = totals) -> float:
        """Median over rounds of slow/fast: each round ran both back to back, so drift cancels."""
        return statistics.median(s / f for s, f in zip(series[slow], series[fast], strict=True))

    def seconds(name: str, series: dict[str, list[float]] = totals) -> str:
        return f"{statistics.median(series[name]):.2f} s"

    full, incr = "full_load", "incremental_load"
    full_floor, incr_floor = "full floor (DELETE + INSERT…SELECT)", "incremental floor (one upsert)"
    small, large = (memory[n] for n in sorted(memory))
    full_guarded = "full floor after its comparison pass"
    incr_guarded = "incremental floor after its stamp check"
    figures = [
        Figure("`full_load` / its floor after the comparison pass every guarded full load makes, "
               "end to end", ratio(full, full_guarded), "×", FLOOR_LIMIT,
               f"{seconds(full)} vs {seconds(full_guarded)} median"),
        Figure("`incremental_load` / its floor after the check of every stamp, end to end",
               ratio(incr, incr_guarded), "×", FLOOR_LIMIT,
               f"{seconds(incr)} vs {seconds(incr_guarded)} median"),
        Figure("`full_load` / the bare floor (`DELETE` + `INSERT … SELECT`): what the comparison "
               "pass costs, end to end", ratio(full, full_floor), "×", None,
               f"{seconds(full)} vs {seconds(full_floor)} median"),
        Figure("`incremental_load` / the bare floor (one set-based upsert): what checking every "
               "stamp costs, end to end", ratio(incr, incr_floor), "×", None,
               f"{seconds(incr)} vs {seconds(incr_floor)} median"),
        # The speed-ups compare the loads' own work: the checkpoint is the same for every case
        # that changes the same rows, so it would only dilute them.
        Figure("`full_load` / `incremental_load`, load only", ratio(full, incr, timings), "×",
               FULL_OVER_INCREMENTAL),
        Figure("bare floors: full / incremental, load only (the speed-up without any check)",
               ratio(full_floor, incr_floor, timings), "×"),
        Figure(f"Python heap peak of an incremental load, {max(memory):,} / {min(memory):,} "
               "source rows", large["python_peak_kib"] / small["python_peak_kib"], "×",
               MEMORY_GROWTH, f"{large['python_peak_kib']:.0f} KiB vs "
               f"{small['python_peak_kib']:.0f} KiB"),
        Figure("lecture recipe / `incremental_load`, load only",
               ratio("lecture recipe", incr, timings), "×", None,
               f"{seconds('lecture recipe', timings)} vs {seconds(incr, timings)}"),
        Figure("lecture recipe / the incremental floor (the best any upsert does), load only",
               ratio("lecture recipe", incr_floor, timings), "×"),
        Figure("sqlite-utils `upsert_all` / `incremental_load`, load only",
               ratio("sqlite-utils upsert_all", incr, timings), "×"),
    ]
    lines = [
        f"Machine: {machine(load_at_start)}",
        f"Source: {args.rows:,} rows, {changed:,} changed (80% of them updates, 20% inserts); "
        f"{args.repeat} rounds, ratios are medians of per-round ratios.",
        "",
        "End to end = the load to its COMMIT + the WAL checkpoint of the pages it wrote.",
        "",
        "| case | end to end, best s | end to end, median s | load, median s "
        "| checkpoint, median s |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {name} | {best[name]:.3f} | {statistics.median(totals[name]):.3f} | "
              f"{statistics.median(timings[name]):.3f} | "
              f"{statistics.median(checkpoints[name]):.3f} |" for name in CASES]
    lines += ["", f"Peak memory of one incremental load ({changed:,} changed rows):", "",
              "| source rows | Python heap peak (tracemalloc) | process RSS growth |",
              "|---:|---:|---:|"]
    lines += [f"| {rows:,} | {m['python_peak_kib']:.0f} KiB | {m['rss_growth_kib']:.0f} KiB |"
              for rows, m in sorted(memory.items())]
    lines += ["", *target_table(figures)]
    report = "\n".join(lines)
    print("\n" + report)
    if not args.no_write:
        RESULTS.write_text("# Benchmark results (`make bench`)\n\n" + report + "\n",
                           encoding="utf-8")
        print(f"\nwritten to {RESULTS.name}")
    missed = [f.what for f in figures if f.met is False]
    if missed:
        print(f"targets missed: {'; '.join(missed)}", file=sys.stderr)
    return 1 if missed and not args.no_judge else 0


if __name__ == "__main__":
    raise SystemExit(main())
