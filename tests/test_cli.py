"""python -m course_etl: help, the lecture demo, and single-table loads."""

import subprocess
import sys

from course_etl.cli import main
from course_etl.db import connect
from course_etl.sample_data import create_customer_source, create_lecture_source


def test_help_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "course_etl", "--help"],
                          capture_output=True, text=True, check=True)
    assert "demo" in done.stdout and "load" in done.stdout


def test_demo_tells_the_lecture_story(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "course_etl_demo.db").exists(), "default file under the working dir"
    assert "FULL LOAD #1" in out and "  4   Dai  Denver 2024-10-05" in out
    assert out.rstrip().endswith("OK: Row count non-decreasing. 4 -> 5")
    assert main(["demo"]) == 0, "re-running starts from a clean state"
    assert capsys.readouterr().out == out


def test_load_commands_with_an_attached_source(tmp_path, capsys):
    source = connect(tmp_path / "source.db")
    create_customer_source(source, "customers", 50, progress=False)
    source.close()
    common = ["--db", str(tmp_path / "dw.db"), "--source-db", str(tmp_path / "source.db"),
              "--source", "src.customers", "--target", "dw_customers"]
    assert main(["load", "full", *common]) == 0
    assert "full load src.customers → dw_customers: read 50, inserted 50," in \
        capsys.readouterr().out
    assert main(["load", "incremental", *common, "--batch-size", "20",
                 "--lookback-hours", "2", "--reconcile-deletes"]) == 0
    assert "inserted 0, updated 0" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys):
    conn = connect(tmp_path / "dw.db")
    create_lecture_source(conn)
    conn.close()
    code = main(["load", "incremental", "--db", str(tmp_path / "dw.db"),
                 "--source", "src_customers", "--target", "dw", "--key", "customer_id"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("course_etl: error: invalid configuration: load.key = 'customer_id' (from "
                   "--key): unknown key column 'customer_id' in table "
                   "'src_customers' (columns: id, name, city, updated_at)\n")
    assert main(["load", "full", "--db", str(tmp_path / "dw.db"), "--source-db",
                 str(tmp_path / "missing.db"), "--source", "src.x", "--target", "y"]) == 2


def test_images_command_draws_every_diagram(tmp_path, capsys):
    assert main(["images", "--out", str(tmp_path / "pictures")]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(p.rsplit("/", 1)[-1] for p in printed) == sorted(
        p.name for p in (tmp_path / "pictures").iterdir())
    assert len(printed) == 5
