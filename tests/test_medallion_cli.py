"""The medallion command line, through an argparse parser built like course_etl's."""

import argparse

import pytest

from course_etl.cli.medallion import add_commands


def run(argv):
    parser = argparse.ArgumentParser(prog="course_etl")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_dirty_run_status_rebuild(tmp_path, capsys):
    db = str(tmp_path / "warehouse.db")
    assert run(["medallion", "dirty", "--db", db, "--days", "2", "--size", "10"]) == 0
    assert "customers: batch 3 ingested, 10 rows" in capsys.readouterr().out
    assert run(["medallion", "dirty", "--db", db, "--days", "2", "--size", "10"]) == 0
    assert "same content as batch 3" in capsys.readouterr().out
    assert run(["medallion", "run", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("incremental: bronze batches 1, 2, 3, 4")
    assert run(["medallion", "status", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "bronze_customers                      20" in out and "20 bronze = " in out
    assert run(["medallion", "rebuild", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("rebuild: bronze batches 1, 2, 3, 4")


def test_ingest_a_csv_as_text_and_status_fails_when_silver_was_tampered(tmp_path, capsys):
    db, csv_file = str(tmp_path / "w.db"), tmp_path / "customers.csv"
    csv_file.write_text("id,name,city,updated_at\n1, Aria ,AUSTIN,2024-10-01\n2,Ben,,x\n")
    assert run(["medallion", "ingest", "customers", str(csv_file), "--db", db]) == 0
    assert capsys.readouterr().out == "customers: batch 1 ingested, 2 rows\n"
    assert run(["medallion", "run", "--db", db]) == 0
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name, city FROM silver_customers").fetchall() == [
            ("Aria", "Austin")]
        assert conn.execute("SELECT rule FROM silver_rejects").fetchall() == [("city_missing",)]
        conn.execute("DELETE FROM silver_customers")
    assert run(["medallion", "status", "--db", db]) == 1
    assert "2 bronze ≠ 0 silver" in capsys.readouterr().out
    assert run(["medallion", "run", "--db", db]) == 0  # nothing new: nothing to block
    with pytest.raises(SystemExit) as refused:
        run(["medallion", "ingest", "orders", "nope.csv", "--db", db])
    assert refused.value.code == 2
    assert "argument csv: 'nope.csv': no such file" in capsys.readouterr().err
