"""Faults a warehouse meets in real life, through the command line: each gives the right one-line
diagnosis and leaves the data as it was.

A corrupt file needs nothing special. A read-only file or folder, and a full disk, need a small
filesystem of their own: the tests mount a tmpfs (and read-only bind mounts) when they run as
root with mount rights, and are skipped with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from course_etl import connect, full_load, incremental_load, query
from course_etl.cli import main
from course_etl.dbfile import cause_of, explain
from course_etl.loads.watermarks import read_watermark
from course_etl.sample_data import create_customer_source, simulate_changes

OPTS = {"key": "id", "watermark": "updated_at"}
LOAD = ["load", "incremental", "--source", "src_customers", "--target", "dw_customers"]


def make_warehouse(path: Path, rows: int = 3000, *, changed: bool = True) -> None:
    conn = connect(path)
    create_customer_source(conn, "src_customers", rows, seed=1, progress=False)
    full_load(conn, "src_customers", "dw_customers", **OPTS)
    if changed:
        simulate_changes(conn, "src_customers", updates=rows // 2, inserts=rows // 6, seed=2)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def state(path: Path) -> tuple:
    """The warehouse's loaded data and watermark, read without changing anything."""
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    mode = "mode=rw" if writable else "mode=ro&immutable=1"  # no -wal/-shm left behind
    conn = sqlite3.connect(f"file:{path}?{mode}", uri=True)
    try:
        rows = query(conn, "SELECT * FROM dw_customers ORDER BY id")
        mark = read_watermark(conn, "dw_customers", "updated_at")
    finally:
        conn.close()
    return hashlib.sha256(rows.to_csv().encode()).hexdigest(), mark


def files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def run(argv, capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in out + err, err
    return code, lines[0]


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def small_fs(tmp_path):
    """A tmpfs of 2 MiB at ``tmp_path/fs`` (unmounted afterwards), or skip with the reason."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root (run the tests as root to cover "
                    "read-only media and a full disk)")
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mount_point))
    except (OSError, subprocess.CalledProcessError) as error:
        reason = getattr(error, "stderr", "") or error
        pytest.skip(f"cannot mount a tmpfs here ({str(reason).strip()})")
    mounts = [mount_point]
    yield mount_point, mounts
    for point in reversed(mounts):
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(["umount", str(point)], check=True, capture_output=True)


# --- corrupt file ---------------------------------------------------------------------------

def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data) - 4096, 4096):
        data[offset:offset + 64] = b"\xde\xad\xbe\xef" * 16
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("argv", [
    LOAD, ["load", "full", "--source", "src_customers", "--target", "dw_customers"],
    ["monitor", "runs"], ["medallion", "status"], ["medallion", "run"],
    ["pipeline", "run", "customers_etl", "--date", "2024-10-02"],
])
def test_a_corrupt_warehouse_is_refused_and_left_as_it_is(argv, tmp_path, capsys,
                                                          monkeypatch):
    make_warehouse(tmp_path / "dw.db")
    corrupt(tmp_path / "dw.db")
    monkeypatch.chdir(tmp_path)
    before = files(tmp_path)
    code, line = run([*argv, "--db", "dw.db"], capsys)
    assert code == 2
    assert "dw.db: corrupt database" in line and "restore it from a backup" in line
    assert files(tmp_path) == before


def test_corruption_found_mid_load_is_named_as_such(tmp_path):
    make_warehouse(tmp_path / "dw.db")
    corrupt(tmp_path / "dw.db")
    conn = connect(tmp_path / "dw.db")
    with pytest.raises(sqlite3.DatabaseError) as error:
        incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    conn.close()
    assert cause_of(error.value) == "corrupt or not a SQLite database"
    assert explain(error.value, "dw.db").startswith("dw.db: corrupt or not a SQLite database")


# --- read-only file and folder ---------------------------------------------------------------

def test_a_read_only_warehouse_file(small_fs, capsys, monkeypatch):
    folder, mounts = small_fs
    db = folder / "dw.db"
    make_warehouse(db, 300)
    _mount("--bind", str(db), str(db))
    mounts.append(db)
    _mount("-o", "remount,ro,bind", str(db))
    monkeypatch.chdir(folder)
    before, data = files(folder), state(db)
    code, line = run([*LOAD, "--db", "dw.db"], capsys)
    assert code == 2 and line.endswith(
        "dw.db: read-only: make the file and its folder writable (SQLite writes -wal/-shm "
        "files beside it), or copy the warehouse somewhere writable")
    assert main(["monitor", "runs", "--db", "dw.db"]) == 0  # reading still works
    assert capsys.readouterr().out == "no runs recorded\n"
    assert files(folder) == before and state(db) == data


def test_a_read_only_folder(small_fs, capsys, monkeypatch):
    folder, _ = small_fs
    make_warehouse(folder / "dw.db", 300)
    _mount("-o", "remount,ro", str(folder))
    monkeypatch.chdir(folder)
    before, data = files(folder), state(folder / "dw.db")
    for argv in (LOAD, ["medallion", "run"], ["medallion", "dirty"]):
        code, line = run([*argv, "--db", "dw.db"], capsys)
        assert code == 2 and "dw.db: read-only" in line, line
    code, line = run(["monitor", "history", "--db", "dw.db", "--days", "1"], capsys)
    assert code == 2 and "cannot be written" in line
    assert files(folder) == before and state(folder / "dw.db") == data


# --- locked database -------------------------------------------------------------------------

def test_a_locked_warehouse_fails_the_run_with_the_cause(tmp_path, capsys, monkeypatch):
    make_warehouse(tmp_path / "dw.db", 300)
    data = state(tmp_path / "dw.db")
    monkeypatch.setattr("course_etl.db.BUSY_TIMEOUT_MS", 100)
    blocker = connect(tmp_path / "dw.db")
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("UPDATE src_customers SET name = 'held' WHERE id = 1")
    try:
        code, line = run([*LOAD, "--db", str(tmp_path / "dw.db")], capsys)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert code == 1
    assert "dw.db: locked by another process (database is locked): wait for the other " \
           "writer to finish" in line
    assert state(tmp_path / "dw.db") == data


# --- full disk -------------------------------------------------------------------------------

def fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of ``folder`` until ``leave`` bytes are free."""
    stats = os.statvfs(folder)
    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(stats.f_bavail * stats.f_frsize - leave, 0))
    return filler


def test_a_full_disk_fails_the_load_and_keeps_data_and_watermark(small_fs, capsys,
                                                                   monkeypatch):
    folder, _ = small_fs
    db = folder / "dw.db"
    make_warehouse(db)
    data = state(db)
    filler = fill(folder, 64 * 1024)
    monkeypatch.chdir(folder)
    code, line = run([*LOAD, "--db", "dw.db"], capsys)
    assert code == 1
    assert line.startswith("course_etl: error: dw.db: disk full (database or disk is full): "
                           "free space on its disk and run again; nothing was committed"), line
    assert "cannot rollback" not in line
    filler.unlink()
    assert state(db) == data
    assert main([*LOAD, "--db", "dw.db"]) == 0  # with space again, the same load goes through
    assert state(db)[1] != data[1]


def test_a_full_disk_in_the_library_raises_the_real_cause(small_fs):
    folder, _ = small_fs
    db = folder / "dw.db"
    make_warehouse(db)
    data = state(db)
    conn = connect(db)
    fill(folder, 16 * 1024)
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        incremental_load(conn, "src_customers", "dw_customers", **OPTS)
    assert not conn.in_transaction
    conn.close()
    (folder / "filler").unlink()
    assert state(db) == data


# --- refusals leave every byte, the header included -----------------------------------------

def make_journal_warehouse(path: Path, rows: int = 300) -> None:
    """A warehouse in rollback-journal mode, as sqlite3 or another tool makes it: switching it
    to WAL would rewrite bytes 18-19 of its header."""
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE placeholder (x)")  # a file with pages: connect() keeps its mode
    plain.commit()
    plain.close()
    make_warehouse(path, rows)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


@pytest.mark.parametrize("argv", [
    [*LOAD, "--key", "nope"],
    [*LOAD, "--target", "sqlite_master"],
    [*LOAD, "--lookback-hours", "-1"],
    [*LOAD, "--set", "load.batch_size=0"],
    [*LOAD, "--set", "load.initial_value=2024-02-30"],
    [*LOAD, "--source", "missing"],
    ["load", "full", "--source", "src_customers", "--target", "src_customers"],
    ["pipeline", "run", "customers_etl", "--date", "9999-01-01"],
    ["pipeline", "run", "os:system"],
    ["monitor", "runs", "--last", "0"],
    "corrupt",
])
def test_a_journal_mode_warehouse_refused_for_any_reason_keeps_every_byte(argv, tmp_path,
                                                                         capsys, monkeypatch):
    make_journal_warehouse(tmp_path / "dw.db")
    if argv == "corrupt":
        corrupt(tmp_path / "dw.db")
        argv = LOAD
    monkeypatch.chdir(tmp_path)
    before = files(tmp_path)
    code, line = run([*argv, "--db", "dw.db"], capsys)
    assert code == 2, line
    assert files(tmp_path) == before


def test_a_journal_mode_warehouse_keeps_its_mode_when_loaded(tmp_path, capsys, monkeypatch):
    make_journal_warehouse(tmp_path / "dw.db")
    monkeypatch.chdir(tmp_path)
    assert main([*LOAD, "--db", "dw.db"]) == 0
    assert sqlite3.connect("dw.db").execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dw.db"]


# --- readers never wait for a writer ---------------------------------------------------------

@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_medallion_status_reads_while_a_writer_holds_the_lock(journal, tmp_path, capsys,
                                                              monkeypatch):
    from course_etl.medallion.bronze import fixed_clock, ingest_dirty_batch
    from course_etl.medallion.dirty import DirtySource

    lake = tmp_path / "lake.db"
    if journal == "delete":
        plain = sqlite3.connect(lake)
        plain.execute("CREATE TABLE placeholder (x)")
        plain.commit()
        plain.close()
    conn = connect(lake)
    ingest_dirty_batch(conn, DirtySource(0).next_batch(5),
                       clock=fixed_clock("2024-10-01T06:00:00Z"))
    conn.close()
    before = files(tmp_path)
    monkeypatch.setattr("course_etl.db.BUSY_TIMEOUT_MS", 0)  # any wait for a lock fails at once
    writer = sqlite3.connect(lake, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE scratch (x)")
    try:
        code = main(["medallion", "status", "--db", str(lake)])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    out, err = capsys.readouterr()
    assert code in (0, 1) and err == "", err
    assert "bronze_customers" in out
    assert files(tmp_path) == before


# --- full disk and file-size limits while writing an output -----------------------------------

def test_a_full_disk_during_export_names_the_file_and_keeps_the_old_one(small_fs, capsys,
                                                                       monkeypatch):
    folder, _ = small_fs
    make_warehouse(folder / "dw.db", 50)
    monkeypatch.chdir(folder)
    assert main(["pipeline", "export", "customers_etl", "--db", "dw.db", "--to", "crontab",
                 "--out", "dag.py"]) == 0
    capsys.readouterr()
    old = (folder / "dag.py").read_bytes()
    filler = fill(folder, 0)
    code, line = run(["pipeline", "export", "customers_etl", "--db", "dw.db", "--to", "airflow",
                      "--out", "dag.py"], capsys)
    assert code == 1
    assert "--out 'dag.py': disk full" in line and "dw.db" not in line, line
    assert (folder / "dag.py").read_bytes() == old
    filler.unlink()
    assert sorted(p.name for p in folder.iterdir()) == ["dag.py", "dw.db"]


def test_images_over_the_file_size_limit_name_the_picture(tmp_path):
    script = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
              "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000)); "
              "from course_etl.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", script, "images", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert ".png" in lines[0] and "file too large" in lines[0] and "None" not in lines[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "scratch file left"


def test_a_demo_that_fails_half_way_leaves_no_file(tmp_path, capsys, monkeypatch):
    import course_etl.loads.story as story

    real = story.lecture_story

    def failing(conn):
        steps = real(conn)
        yield next(steps)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(story, "lecture_story", failing)
    monkeypatch.chdir(tmp_path)
    code, line = run(["demo", "--db", "demo.db"], capsys)
    assert code == 1 and "demo.db: disk full" in line
    assert list(tmp_path.iterdir()) == []


def test_a_table_too_wide_for_one_statement_names_sqlites_limit(tmp_path, capsys):
    conn = connect(tmp_path / "wide.db")
    columns = ", ".join(f"c{i} TEXT" for i in range(1000))
    conn.execute(f"CREATE TABLE src (id INTEGER PRIMARY KEY, updated_at TEXT, {columns})")
    conn.execute("INSERT INTO src (id, updated_at) VALUES (1, '2024-10-01')")
    conn.close()
    common = ["--db", str(tmp_path / "wide.db"), "--source", "src", "--target", "t"]
    assert main(["load", "full", *common]) == 0
    capsys.readouterr()
    before = files(tmp_path)
    code = main(["load", "incremental", *common])
    out, err = capsys.readouterr()
    if code != 0:  # the engine may load it in pieces; if it cannot, the cause is named
        assert code == 2 and len(err.splitlines()) == 1
        assert "beyond a SQLite limit" in err and "column names" not in err, err
        assert files(tmp_path) == before


def test_explain_names_each_sqlite_limit():
    for message in ("Expression tree is too large (maximum depth 1000)", "too many columns on t",
                    "more than 2000 aggregate terms",
                    "too many SQL variables", "string or blob too big"):
        line = explain(sqlite3.OperationalError(message), "dw.db")
        assert line.startswith(f"dw.db: beyond a SQLite limit ({message})"), line
