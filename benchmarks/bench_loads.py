"""Benchmark the loads against floors measured in the same run (``make bench``).

At N source rows (default 1,000,000) with 1% changed (0.8% updates, 0.2% inserts):
- ``full_load`` against the floor ``BEGIN; DELETE; INSERT INTO … SELECT; COMMIT``;
- ``incremental_load`` against the floor "one set-based upsert of the changed rows";
- the lecture's recipe (pandas read + ``INSERT OR REPLACE`` executemany) and sqlite-utils'
  ``upsert_all``, the library a user might pick instead.
Each case runs on a fresh copy of the same database file; a round runs every case once, and
ratios are the median over ``--repeat`` rounds of the per-round ratio, so drift in disk speed
during the run hits both sides of a ratio alike. The headline is each case end to end: the load
to its COMMIT plus the WAL checkpoint that writes its pages into the database file, which is
work the load caused whichever commit ends up paying for it. A load and its floor must stay
within 1.15× of each other end to end.
Peak memory of an incremental load is measured in child processes at two source sizes with the
same number of changed rows. Results are printed as a table and written to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
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

from course_etl import connect, full_load, incremental_load, lecture_incremental_load
from course_etl.loads.watermarks import read_watermark
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


def run_sqlite_utils(conn: sqlite3.Connection) -> None:
    watermark = read_watermark(conn, "dw", "updated_at").value
    db = sqlite_utils.Database(conn)
    changed = list(db.query("SELECT * FROM src WHERE updated_at >= ?", [watermark]))
    db["dw"].upsert_all(changed, pk="id")


CASES = {
    "full floor (DELETE + INSERT…SELECT)": floor_full,
    "full_load": lambda c: full_load(c, "src", "dw", **OPTS),
    "incremental floor (one upsert)": floor_incremental,
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


FLOOR_LIMIT = 1.15


MEMORY_PROBE = textwrap.dedent("""
    import json, os, sys, threading, tracemalloc
    from course_etl import connect, incremental_load
    PAGE = os.sysconf("SC_PAGE_SIZE")
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
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


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = f"{names[0]} × {len(names)}" if names else cpu
    return (f"{cpu}; Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; "
            f"{platform.system()} {platform.release()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed-fraction", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    changed = int(args.rows * args.changed_fraction)

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

    full_ratio = ratio("full_load", "full floor (DELETE + INSERT…SELECT)")
    incr_ratio = ratio("incremental_load", "incremental floor (one upsert)")
    # The speed-ups compare the loads' own work: the checkpoint is the same for every case that
    # changes the same rows, so it would only dilute them.
    speedup_full = ratio("full_load", "incremental_load", timings)
    speedup_recipe = ratio("lecture recipe", "incremental_load", timings)
    floor_vs_recipe = ratio("lecture recipe", "incremental floor (one upsert)", timings)
    limit = f"≤ {FLOOR_LIMIT}"
    checks = [
        ("full_load / its floor (end to end)", full_ratio, limit, full_ratio <= FLOOR_LIMIT),
        ("incremental_load / its floor (end to end)", incr_ratio, limit,
         incr_ratio <= FLOOR_LIMIT),
        ("full_load / incremental_load (load only)", speedup_full, "≥ 4", speedup_full >= 4),
        ("lecture recipe / incremental_load (load only)", speedup_recipe, "≥ 2",
         speedup_recipe >= 2),
        ("lecture recipe / incremental floor (the best any upsert can do; load only)",
         floor_vs_recipe, "(context)", True),
        ("sqlite-utils upsert_all / incremental_load (load only)",
         ratio("sqlite-utils upsert_all", "incremental_load", timings), "(compared)", True),
    ]
    lines = [
        f"Machine: {machine()}",
        f"Source: {args.rows:,} rows, {changed:,} changed; best of {args.repeat} runs.",
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
    lines += ["", "Ratios are medians of per-round ratios (each round runs every case once).", "",
              "| ratio | value | wanted | met |", "|---|---:|---|---|"]
    lines += [f"| {label} | {ratio:.2f}× | {wanted} | {'yes' if ok else 'NO'} |"
              for label, ratio, wanted, ok in checks]
    lines += ["", f"Peak memory of one incremental load ({changed:,} changed rows):", "",
              "| source rows | Python heap peak (tracemalloc) | process RSS growth |",
              "|---:|---:|---:|"]
    lines += [f"| {rows:,} | {m['python_peak_kib']:.0f} KiB | {m['rss_growth_kib']:.0f} KiB |"
              for rows, m in memory.items()]
    report = "\n".join(lines)
    print("\n" + report)
    if not args.no_write:
        RESULTS.write_text("# Benchmark results (`make bench`)\n\n" + report + "\n")
        print(f"\nwritten to {RESULTS.name}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
