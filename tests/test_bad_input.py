"""Every subcommand under bad input: one line naming the culprit, exit 2, nothing changed.

These are the cases written by hand, each with the culprit its message must name; the generated
sweep over every option is ``tests/test_cli_sweep.py``.

Each case runs ``main`` in a fresh copy of a small project folder (a warehouse with the lecture's
source and a loaded target, a source file, a medallion lake, a corrupt file, a text file, a
folder named like a database, and hostile config, suite and CSV files), then compares every
file's bytes and the folder's listing with what they were before.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.cli import main
from course_etl.db import connect
from course_etl.loads import full_load
from course_etl.medallion.bronze import fixed_clock, ingest_dirty_batch
from course_etl.medallion.dirty import DirtySource
from course_etl.sample_data import create_customer_source, create_lecture_source

# A YAML "billion laughs": nine levels of nine aliases, 9**9 values once expanded.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def _corrupt(path: Path) -> None:
    """Overwrite the middle pages of a database with garbage (the header stays valid)."""
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data) - 4096, 4096):
        data[offset:offset + 64] = b"\xde\xad\xbe\xef" * 16
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    conn = connect(root / "dw.db")
    create_lecture_source(conn)
    full_load(conn, "src_customers", "dw_customers", key="id", watermark="updated_at")
    conn.execute("CREATE VIEW v_customers AS SELECT * FROM src_customers")
    conn.close()
    source = connect(root / "src.db")
    create_customer_source(source, "customers", 30, progress=False)
    source.close()
    lake = connect(root / "lake.db")
    clock = fixed_clock("2024-10-01T06:00:00Z")
    ingest_dirty_batch(lake, DirtySource(0).next_batch(5), clock=clock)
    lake.close()
    broken = connect(root / "corrupt.db")
    create_customer_source(broken, "src_customers", 3000, progress=False)
    broken.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    broken.close()
    _corrupt(root / "corrupt.db")
    (root / "notadb.db").write_text("id,name\n1,Ada\n" * 50)
    (root / "dir.db").mkdir()
    (root / "afile.txt").write_text("not a folder\n")
    (root / "bomb.yaml").write_text(BOMB)
    (root / "deep.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    (root / "complex.yaml").write_text("load:\n  ? [a, b]\n  : 1\n")
    (root / "latin.yaml").write_bytes(b"load:\n  source_table: caf\xe9\n")
    (root / "six.yaml").write_text("schedule:\n  cron: '0 0 2 * * *'\n")
    (root / "nan.yaml").write_text("checks:\n  max_null_fraction: .nan\n")
    (root / "suite.yaml").write_text("dw_customers: [{check: not_null, column: id}]\n")
    (root / "latin.csv").write_bytes(b"customer_id,name\n1,Jos\xe9\n")
    (root / "header.csv").write_text("customer_id,name,email,city,signup_date,updated_at\n")
    (root / "huge.csv").write_text("customer_id,name\n1," + "x" * 140_000 + "\n")
    (root / "twice.csv").write_text("id,name,city,name,updated_at\n1,Ada,Austin,Eve,2024-10-01\n")
    (root / "open.csv").write_text('id,name,city,updated_at\n1,"Ada,Austin,2024-10-01\n')
    (root / "ragged.csv").write_text("id,name,city,updated_at\n1,Ada,Austin,2024-10-01,extra\n")
    return root


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(root.rglob("*"))}


CONTROL = "x.db\n* * * * * touch /tmp/PWNED #"
LOAD = ["load", "incremental", "--db", "dw.db", "--source", "src_customers",
        "--target", "dw_customers"]
FULL = ["load", "full", "--db", "dw.db", "--source", "src_customers"]
REMOTE = ["load", "full", "--db", "dw.db", "--source-db", "src.db"]
ETL = ["pipeline", "run", "customers_etl", "--date", "2024-10-01", "--db"]
BACKFILL = ["pipeline", "backfill", "customers_etl", "--db", "dw.db"]
CHECKS = ["monitor", "checks", "--suite", "suite.yaml", "--db"]

# (argv, a fragment the one stderr line must hold: the culprit or the cause)
CASES: list[tuple[list[str], str]] = [
    (["--bogus"], "required: COMMAND"),
    (["nope"], "invalid choice"),
    # demo
    (["demo", "--db", "dir.db"], "is a folder"),
    (["demo", "--db", "missing/x.db"], "'missing' does not exist"),
    (["demo", "--db", CONTROL], "control character"),
    # load: data loss first
    ([*FULL, "--target", "src_customers"], "is the source table"),
    ([*FULL, "--target", "SRC_Customers"], "is the source table"),
    ([*REMOTE, "--source", "src.customers", "--target", "src.customers"], "src.customers"),
    ([*REMOTE, "--source", "src.customers", "--target", "customers",
      "--set", "load.target_schema=src"], "source"),
    ([*LOAD, "--lookback-hours", "-48"], "lookback_hours"),
    ([*LOAD, "--lookback-hours", "nan"], "lookback_hours"),
    ([*LOAD, "--lookback-hours", "inf"], "lookback_hours"),
    ([*LOAD, "--lookback-hours", "1e9"], "lookback_hours"),
    ([*LOAD, "--lookback-hours", "two"], "--lookback-hours"),
    ([*LOAD, "--batch-size", "0"], "batch_size"),
    ([*LOAD, "--batch-size", "-1"], "batch_size"),
    ([*LOAD, "--batch-size", "1.5"], "--batch-size"),
    ([*LOAD, "--set", "load.batch_size=0"], "batch_size"),
    ([*LOAD, "--set", "load.lookback_hours=.nan"], "lookback_hours"),
    ([*LOAD, "--key", "customer_id"], "customer_id"),
    ([*LOAD, "--watermark", "changed"], "changed"),
    ([*LOAD, "--soft-delete", "gone"], "gone"),
    ([*LOAD, "--env", "staging"], "staging"),
    ([*LOAD, "--config", "missing"], "missing"),
    ([*LOAD, "--config", "bomb.yaml"], "expands to more than"),
    ([*LOAD, "--config", "deep.yaml"], "nested"),
    ([*LOAD, "--config", "latin.yaml"], "not UTF-8"),
    ([*LOAD, "--config", "complex.yaml"], "plain name"),
    ([*LOAD, "--config", "six.yaml"], "6 field(s)"),
    ([*LOAD, "--set", "load.batch_size"], "key=value"),
    ([*FULL, "--target", "sqlite_master"], "sqlite_master"),
    ([*FULL, "--target", "v_customers"], "is a view"),
    ([*FULL, "--target", "bad-name"], "bad-name"),
    (["load", "full", "--db", "dw.db", "--source", "sqlite_master", "--target", "t"],
     "sqlite_master"),
    (["load", "incremental", "--db", "typo.db", "--source", "src_customers"],
     "typo.db: no such file"),
    (["load", "incremental", "--db", "dir.db"], "not a file"),
    (["load", "incremental", "--db", "corrupt.db"], "corrupt"),
    (["load", "incremental", "--db", "notadb.db"], "not a SQLite database"),
    (["load", "incremental", "--db", CONTROL], "control character"),
    ([*REMOTE, "--source", "src.customers", "--target", "t", "--source-db", "gone.db"],
     "gone.db: no such file"),
    (["load", "full", "--db", "new.db", "--source-db", "notadb.db", "--source", "src.x",
      "--target", "t"], "not a SQLite database"),
    (["load", "full", "--db", "new.db", "--source-db", "src.db", "--source", "src.nope",
      "--target", "t"], "nope"),
    (["load", "sideways"], "invalid choice"),
    # images, present
    (["images", "--out", "afile.txt"], "is a file"),
    (["images", "--out", CONTROL], "control character"),
    (["present", "--port", "99999"], "--port"),
    (["airflow", "--port", "99999"], "--port"),
    (["airflow", "--project-dir", "a\nb"], "--project-dir"),
    (["dagster", "--port", "-1"], "--port"),
    (["dagster", "--port", "ui"], "--port"),
    (["present", "--port", "0"], "--port"),
    (["present", "--port", "http"], "--port"),
    # config, run-notebook
    (["config", "show", "--env", "staging"], "staging"),
    (["config", "show", "--config", "missing"], "missing"),
    (["config", "show", "--config", "bomb.yaml"], "expands"),
    (["config", "show", "--config", "deep.yaml"], "nested"),
    (["config", "show", "--config", "latin.yaml"], "not UTF-8"),
    (["config", "show", "--config", "complex.yaml"], "plain name"),
    (["config", "show", "--config", "six.yaml"], "6 field(s)"),
    (["config", "show", "--config", "nan.yaml"], "max_null_fraction"),
    (["config", "show", "--set", "schedule.cron=0 0 2 * * *"], "6 field(s)"),
    (["config", "show", "--set", "schedule.timezone=Mars/Olympus"], "Mars/Olympus"),
    (["config", "show", "--set", "load.nope=1"], "load.nope"),
    (["config", "show", "--set", "nonsense"], "key=value"),
    (["config", "keys", "--env", "dev"], "unrecognized arguments"),
    (["run-notebook", "99"], "no such notebook"),
    (["run-notebook", "99", "--env", "staging"], "staging"),
    (["run-notebook", "04", "--out", "afile.txt"], "is a file"),
    # schedule
    (["schedule", "describe", "61 * * * *"], "minute"),
    (["schedule", "describe", "0 0 2 * * *"], "6 field(s)"),
    (["schedule", "describe", ""], "empty cron expression"),
    (["schedule", "next", "30 6 * * *", "-n", "0"], "-n"),
    (["schedule", "next", "30 6 * * *", "-n", "100000"], "-n"),
    (["schedule", "next", "30 6 * * *", "-n", "many"], "-n"),
    (["schedule", "next", "30 6 * * *", "--tz", "Nowhere/City"], "Nowhere/City"),
    (["schedule", "next", "30 6 * * *", "--after", "9999-12-31"], "9999-12-31"),
    (["schedule", "next", "30 6 * * *", "--after", "0001-01-01"], "0001-01-01"),
    (["schedule", "next", "30 6 * * *", "--after", "yesterday"], "yesterday"),
    (["schedule", "crontab", "customers_etl", "--db", CONTROL], "control character"),
    (["schedule", "crontab", "customers_etl", "--db", "dw.db", "--project-dir", "a\nb"],
     "control character"),
    (["schedule", "crontab", "customers_etl", "--db", "dw.db", "--log-dir", "a\rb"],
     "control character"),
    (["schedule", "crontab", "customers_etl", "--db", "dw.db", "--python", "py\x1b"],
     "control character"),
    (["schedule", "crontab", "nope", "--db", "dw.db"], "unknown pipeline 'nope'"),
    # pipeline
    ([*ETL, "typo.db"], "typo.db: no such file"),
    ([*ETL, "dir.db"], "not a file"),
    ([*ETL, "corrupt.db"], "corrupt"),
    ([*ETL, "notadb.db"], "not a SQLite database"),
    (["pipeline", "run", "customers_etl", "--db", "dw.db", "--date", "0001-01-01"],
     "0001-01-01"),
    (["pipeline", "run", "customers_etl", "--db", "dw.db", "--date", "9999-12-31"],
     "9999-12-31"),
    (["pipeline", "run", "customers_etl", "--db", "dw.db", "--date", "tomorrow"], "tomorrow"),
    (["pipeline", "run", "nope", "--db", "dw.db"], "unknown pipeline 'nope'"),
    (["pipeline", "run", "no_such_module:factory", "--db", "dw.db"], "no_such_module"),
    ([*ETL, "dw.db", "--retry-delay", "-1"], "--retry-delay"),
    ([*ETL, "dw.db", "--retry-delay", "nan"], "--retry-delay"),
    ([*BACKFILL, "--start", "2024-10-07", "--end", "2024-10-01"], "--end"),
    ([*BACKFILL, "--start", "1970-01-01", "--end", "2199-12-31"], "split it"),
    ([*BACKFILL, "--start", "soon", "--end", "2024-10-01"], "soon"),
    (["pipeline", "backfill", "customers_etl", "--db", "typo.db", "--start", "2024-10-01",
      "--end", "2024-10-02"], "typo.db: no such file"),
    (["pipeline", "export", "customers_etl", "--db", "dw.db", "--to", "airflow", "--out",
      "dir.db"], "is a folder"),
    (["pipeline", "export", "customers_etl", "--db", "dw.db", "--to", "airflow", "--out",
      "missing/dag.py"], "'missing' does not exist"),
    (["pipeline", "export", "customers_etl", "--db", "dw.db", "--to", "luigi"],
     "invalid choice"),
    # monitor
    (["monitor", "history", "--db", "dw.db", "--days", "0"], "--days"),
    (["monitor", "history", "--db", "dw.db", "--days", "-3"], "--days"),
    (["monitor", "history", "--db", "dw.db", "--days", "99999"], "--days"),
    (["monitor", "history", "--db", "dw.db", "--dashboard", "missing/d.png"],
     "'missing' does not exist"),
    (["monitor", "history", "--db", "dw.db", "--dashboard", "dir.db"], "is a folder"),
    (["monitor", "history", "--db", "dw.db", "--dashboard", "afile.txt"], ".png"),
    (["monitor", "history", "--db", "dir.db"], "is a folder"),
    (["monitor", "runs", "--db", "typo.db"], "typo.db: no such file"),
    (["monitor", "runs", "--db", "corrupt.db"], "corrupt"),
    (["monitor", "runs", "--db", "notadb.db"], "not a SQLite database"),
    (["monitor", "runs", "--db", "dir.db"], "not a file"),
    (["monitor", "runs", "--db", "dw.db", "--last", "0"], "--last"),
    ([*CHECKS, "typo.db"], "typo.db: no such file"),
    ([*CHECKS, "corrupt.db"], "corrupt"),
    (["monitor", "checks", "--db", "dw.db", "--suite", "missing.yaml"], "missing.yaml"),
    (["monitor", "checks", "--db", "dw.db", "--suite", "bomb.yaml"], "expands"),
    (["monitor", "checks", "--db", "dw.db", "--suite", "latin.yaml"], "latin.yaml"),
    (["monitor", "checks", "--db", "dw.db", "--suite", "deep.yaml"], "nested"),
    (["monitor", "checks", "--db", "dw.db", "--suite", "six.yaml"], "suite for 'schedule'"),
    # medallion
    (["medallion", "ingest", "customers", "latin.csv", "--db", "lake.db"], "not UTF-8"),
    (["medallion", "ingest", "customers", "header.csv", "--db", "lake.db"], "no data rows"),
    (["medallion", "ingest", "customers", "huge.csv", "--db", "lake.db"], "field larger"),
    (["medallion", "ingest", "customers", "missing.csv", "--db", "lake.db"], "missing.csv"),
    (["medallion", "ingest", "customers", "twice.csv", "--db", "lake.db"], "'name' twice"),
    (["medallion", "ingest", "customers", "ragged.csv", "--db", "lake.db"], "line 2: 5 fields"),
    (["medallion", "ingest", "customers", "open.csv", "--db", "lake.db"], "unexpected end of data"),
    (["medallion", "ingest", "customers", "/dev/zero", "--db", "lake.db"], "character device"),
    (["monitor", "history", "--db", "dw.db"], "replaces only a file it made"),
    (["monitor", "history", "--db", "afile.txt"], "not a database"),
    (["demo", "--db", "dw.db"], "replaces only a file it made"),
    (["demo", "--db", "lake.db"], "replaces only a file it made"),
    (["load", "incremental", "--db", "file:dw.db?mode=rwc"], "is a URI"),
    (["load", "full", "--db", "file:new.db?mode=rwc", "--source-db", "src.db", "--source",
      "src.customers", "--target", "t"], "is a URI"),
    (["load", "full", "--db", "new.db", "--source-db", "file:src.db", "--source",
      "src.customers", "--target", "t"], "is a URI"),
    ([*LOAD, "--set", "database.warehouse=file:dw.db?mode=ro"], "is a URI"),
    ([*LOAD, "--set", "load.initial_value=2024-02-30"], "is not a real date"),
    ([*LOAD, "--set", "load.batch_size=" + "9" * 4400], "too large"),
    ([*LOAD, "--set", "load.key=" + BOMB.replace("\n", " ")], "key"),
    (["schedule", "crontab", "os:system", "--db", "dw.db"], "standard library"),
    (["pipeline", "run", "shutil:rmtree", "--db", "dw.db"], "standard library"),
    (["medallion", "ingest", "customers", "dir.db", "--db", "lake.db"], "is a folder"),
    (["medallion", "ingest", "planets", "latin.csv", "--db", "lake.db"], "invalid choice"),
    (["medallion", "ingest", "customers", "header.csv", "--db", "new.db"], "no data rows"),
    (["medallion", "dirty", "--db", "lake.db", "--size", "0"], "--size"),
    (["medallion", "dirty", "--db", "lake.db", "--seed", "-1"], "--seed"),
    (["medallion", "dirty", "--db", "lake.db", "--days", "0"], "--days"),
    (["medallion", "dirty", "--db", "dir.db"], "not a file"),
    (["medallion", "dirty", "--db", "corrupt.db"], "corrupt"),
    (["medallion", "dirty", "--db", "missing/lake.db"], "'missing' does not exist"),
    *[(["medallion", step, "--db", db], cause)
      for step in ("run", "rebuild", "status")
      for db, cause in (("typo.db", "typo.db: no such file"), ("corrupt.db", "corrupt"),
                        ("notadb.db", "not a SQLite database"), ("dir.db", "not a file"),
                        (CONTROL, "control character"))],
]


@pytest.mark.parametrize(("argv", "culprit"), CASES,
                         ids=[" ".join(a)[:60].replace("\n", "⏎") for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
        argv, culprit, template, tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    shutil.copytree(template, project)
    monkeypatch.chdir(project)
    before = _snapshot(project)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse refuses while parsing
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("course_etl: error: "), err
    assert culprit in lines[0], err
    assert "Traceback" not in out + err
    assert _snapshot(project) == before
    assert not Path("/tmp/PWNED").exists()


def test_the_sweep_covers_every_subcommand():
    from course_etl.cli import build_parser

    def leaves(parser, prefix=()):
        sub = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not sub:
            return {prefix}
        return {leaf for name, child in sub[0].choices.items()
                for leaf in leaves(child, (*prefix, name))}

    covered = set()
    for argv, _ in CASES:
        for size in (1, 2):
            covered.add(tuple(argv[:size]))
    missing = sorted(" ".join(leaf) for leaf in leaves(build_parser()) if leaf not in covered)
    assert missing == []


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=1, max_size=200).filter(lambda b: not b.startswith(b"SQLite")),
       st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True), st.sampled_from(["", "--db"]))
def test_a_file_that_is_no_database_is_carried_with_what_it_was_given_as(content, name, what):
    from course_etl.cli.args import _database_path
    from course_etl.paths import FileRefusedError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        with pytest.raises(FileRefusedError) as caught:
            _database_path(str(path), what=what)
    error = caught.value
    assert (error.path, error.what, error.reason) == (str(path), what, "not a SQLite database")
    assert str(error).endswith(error.fix)
