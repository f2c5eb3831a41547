"""The ``monitor`` commands, through a parser built the way course_etl.cli builds its own."""

import argparse
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=30, deadline=None)
@given(st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,4})?", fullmatch=True))
def test_a_dashboard_that_is_no_png_is_carried_with_its_option(name):
    if name.lower().endswith(".png"):
        return
    with tempfile.TemporaryDirectory() as folder:
        dashboard = Path(folder) / name
        with pytest.raises(CheckConfigError) as caught:
            run(["monitor", "history", "--db", str(Path(folder) / "wh.db"), "--days", "1",
                 "--dashboard", str(dashboard)])
        assert not (Path(folder) / "wh.db").exists()
    assert (caught.value.option, caught.value.value) == ("--dashboard", dashboard)


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.just("a: [1, 2"), st.just("{"), st.just("a: b: c"),
                 st.text(st.sampled_from("ab:[]{}-&*\n "), min_size=1, max_size=12)))
def test_a_suite_file_that_cannot_be_read_is_carried_with_the_refusal(text):
    from course_etl.config.yamltext import YamlReadError, read_yaml

    try:
        read_yaml(text)
    except YamlReadError:
        pass
    else:
        return  # readable YAML: a suite's checks judge it, not the reader
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "suite.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(CheckConfigError) as caught:
            read_suite(path)
    assert caught.value.path == path and isinstance(caught.value.cause, YamlReadError)
    assert str(caught.value) == f"cannot read {caught.value.cause}"


@settings(max_examples=20, deadline=None)
@given(st.from_regex(r"[a-z]{1,8}\.yaml", fullmatch=True))
def test_a_suite_file_that_is_not_there_is_carried_with_the_file_refusal(name):
    from course_etl.paths import FileRefusedError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        with pytest.raises(CheckConfigError) as caught:
            read_suite(path)
    assert caught.value.path == path and isinstance(caught.value.cause, FileRefusedError)
    assert caught.value.cause.path == str(path)
