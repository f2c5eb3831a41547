"""The ``monitor`` commands, through a parser built the way course_etl.cli builds its own."""

import argparse

import pytest

from course_etl import connect
from course_etl.cli import monitoring as cli_monitoring
from course_etl.cli.monitoring import read_suite
from course_etl.dbfile import DatabaseFileError
from course_etl.facts import SCHEDULE
from course_etl.monitoring.checks import CheckConfigError


def run(argv):
    parser = argparse.ArgumentParser(prog="course_etl")
    commands = parser.add_subparsers(dest="command", required=True)
    cli_monitoring.add_commands(commands)
    args = parser.parse_args(argv)
    return args.handler(args)


def test_history_runs_and_checks(tmp_path, capsys):
    db = tmp_path / "wh.db"
    png = tmp_path / "dash.png"
    assert run(["monitor", "history", "--db", str(db), "--days", "18",
                "--dashboard", str(png)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("18 runs replayed into wh.db: 17 success, 1 failed")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert run(["monitor", "runs", "--db", str(db), "--last", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "2024-10-18" in lines[-1]

    suite = tmp_path / "suite.yaml"
    suite.write_text("dw_customers:\n  - check: unique_key\n    key: id\n    blocking: true\n"
                     "  - check: freshness\n    column: updated_at\n"
                     "    warn_after: {count: 12, period: hour}\n")
    assert run(["monitor", "checks", "--db", str(db), "--suite", str(suite),
                "--now", f"2024-10-19T{SCHEDULE.time_of_day}"]) == 0
    assert "unique_key(id)   pass" in capsys.readouterr().out


def test_checks_exit_1_when_blocked(tmp_path, capsys):
    db = tmp_path / "wh.db"
    conn = connect(db)
    conn.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (1, None)])
    conn.close()
    suite = tmp_path / "suite.yaml"
    suite.write_text("t:\n  - {check: unique_key, key: id, blocking: true}\n"
                     "  - {check: not_null, column: name}\n")
    assert run(["monitor", "checks", "--db", str(db), "--suite", str(suite)]) == 1
    out = capsys.readouterr().out
    assert "BLOCKED: a blocking check failed" in out and "1 row(s) with NULL name" in out


def test_bad_files_are_named(tmp_path):
    with pytest.raises(DatabaseFileError, match="missing.db: no such file: check --db"):
        run(["monitor", "runs", "--db", str(tmp_path / "missing.db")])
    suite = tmp_path / "suite.yaml"
    suite.write_text("t: [{check: not_null, column: nope}]\n")
    connect(tmp_path / "wh.db").execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CheckConfigError, match="unknown column 'nope'"):
        run(["monitor", "checks", "--db", str(tmp_path / "wh.db"), "--suite", str(suite)])
    with pytest.raises(SystemExit):  # refused while parsing: --suite must be a file
        run(["monitor", "checks", "--db", str(tmp_path / "wh.db"),
             "--suite", str(tmp_path / "nope.yaml")])
    with pytest.raises(CheckConfigError, match="cannot read suite file .*: no such file"):
        read_suite(tmp_path / "nope.yaml")


def test_runs_on_a_warehouse_without_a_run_log_changes_nothing(tmp_path, capsys):
    db = tmp_path / "plain.db"
    conn = connect(db)
    conn.execute("CREATE TABLE dw_customers (id INTEGER PRIMARY KEY)")
    conn.close()
    before = db.read_bytes()
    assert run(["monitor", "runs", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip() == "no runs recorded"
    assert db.read_bytes() == before, "a read-only command wrote to the database"
