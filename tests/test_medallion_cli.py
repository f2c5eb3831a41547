"""The medallion command line, through an argparse parser built like course_etl's."""

import argparse
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# A CSV file the ingest refuses: each refusal carries the file and what in it is wrong.
COLUMNS = st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), min_size=1, max_size=5)
DISTINCT = COLUMNS.filter(lambda header: len(set(header)) == len(header))


def _refusal(text: str):
    from course_etl.cli.medallion import read_csv_records
    from course_etl.errors import CourseEtlError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch.csv"
        path.write_text(text, encoding="utf-8", newline="")
        with pytest.raises(CourseEtlError) as caught:
            read_csv_records(path)
    assert caught.value.path == str(path)
    return caught.value


@settings(max_examples=40, deadline=None)
@given(COLUMNS, st.data())
def test_a_header_naming_a_column_twice_is_carried(header, data):
    twice = data.draw(st.sampled_from(header))
    header = [*header, twice]
    error = _refusal(",".join(header) + "\n" + ",".join("v" * len(header)) + "\n")
    assert error.header == header
    assert error.repeated == sorted({name for name in header if header.count(name) > 1})


@settings(max_examples=40, deadline=None)
@given(DISTINCT, st.integers(0, 4), st.integers(1, 3))
def test_a_row_longer_than_the_header_is_carried_with_its_line(header, before, extra):
    good = [",".join(f"v{n}" for n in range(len(header)))] * before
    long = [f"x{n}" for n in range(len(header) + extra)]
    error = _refusal("\n".join([",".join(header), *good, ",".join(long)]) + "\n")
    assert (error.header, error.row, error.line) == (header, long, before + 2)


@settings(max_examples=40, deadline=None)
@given(DISTINCT, st.from_regex(r'[a-z]{0,5}"', fullmatch=True))
def test_a_quote_left_open_is_carried_with_csv_s_error(header, value):
    import csv

    error = _refusal(",".join(header) + "\n" + '"' + value + "x" + "\n")
    assert isinstance(error.cause, csv.Error) and f"({error.cause})" in str(error)
