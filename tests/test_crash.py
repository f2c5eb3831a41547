"""A load that fails or is killed half-way leaves data and watermark exactly as they were,
and the rerun converges to what an uninterrupted run gives."""

import signal
import subprocess
import sys
import textwrap

import pytest

import course_etl.loads.engine
from course_etl import connect, incremental_load
from course_etl.sample_data import create_customer_source, simulate_changes

OPTS = {"key": "id", "watermark": "updated_at", "soft_delete": "is_deleted",
        "reconcile_deletes": True}


def state(conn):
    """Everything a load may touch: the target's rows and the watermark table."""
    return (conn.execute("SELECT * FROM dw ORDER BY id").fetchall(),
            conn.execute("SELECT * FROM etl_watermarks").fetchall())


def prepare(path):
    """A source loaded once, then changed: the next load has real work to do."""
    conn = connect(path)
    create_customer_source(conn, "src", 300, seed=11, progress=False)
    incremental_load(conn, "src", "dw", **OPTS)
    simulate_changes(conn, "src", inserts=20, updates=30, soft_deletes=5, hard_deletes=5, seed=4)
    return conn


@pytest.fixture
def reference(tmp_path):
    """The state an uninterrupted load reaches."""
    conn = prepare(tmp_path / "reference.db")
    incremental_load(conn, "src", "dw", **OPTS)
    yield state(conn)
    conn.close()


def test_failure_between_data_and_watermark_rolls_back(tmp_path, monkeypatch, reference):
    conn = prepare(tmp_path / "dw.db")
    before = state(conn)

    def crash(*args, **kwargs):
        raise OSError("disk full while writing the watermark")

    monkeypatch.setattr(course_etl.loads.engine, "write_watermark", crash)
    with pytest.raises(OSError, match="disk full"):
        incremental_load(conn, "src", "dw", **OPTS)
    assert state(conn) == before
    monkeypatch.undo()
    incremental_load(conn, "src", "dw", **OPTS)
    assert state(conn) == reference


KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from course_etl import connect, incremental_load
    path, marker, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    conn = connect(path)
    seen = []
    def kill_at(statement):
        if statement.startswith(marker):
            seen.append(statement)
            if len(seen) == nth:
                os.kill(os.getpid(), signal.SIGKILL)
    conn.set_trace_callback(kill_at)
    incremental_load(conn, "src", "dw", key="id", watermark="updated_at",
                     soft_delete="is_deleted", reconcile_deletes=True, batch_size=10)
    print("finished without being killed")
""")


@pytest.mark.parametrize(
    ("marker", "nth"),
    [
        ('INSERT INTO "main"."dw"', 3),  # in the middle of the batched upsert
        ('DELETE FROM "main"."dw"', 1),  # after the upsert, reconciling hard deletes
        ('INSERT INTO "etl_watermarks"', 1),  # data written, watermark not yet
    ],
)
def test_process_killed_mid_load(tmp_path, reference, marker, nth):
    path = tmp_path / "dw.db"
    conn = prepare(path)
    before = state(conn)
    conn.close()
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(path), marker, str(nth)],
        capture_output=True, text=True, timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    conn = connect(path)
    assert state(conn) == before
    incremental_load(conn, "src", "dw", **OPTS)
    assert state(conn) == reference
