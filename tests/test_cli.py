"""python -m course_etl: help, the lecture demo, and single-table loads."""

import argparse
import subprocess
import sys
import types
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.cli import main
from course_etl.db import connect
from course_etl.facts import CUSTOMERS
from course_etl.sample_data import create_customer_source, create_lecture_source
from course_etl.scheduling.pipeline import PipelineError


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
                   f"'src_customers' (columns: {', '.join(CUSTOMERS.names)})\n")
    assert main(["load", "full", "--db", str(tmp_path / "dw.db"), "--source-db",
                 str(tmp_path / "missing.db"), "--source", "src.x", "--target", "y"]) == 2


def test_images_command_draws_every_diagram(tmp_path, capsys):
    assert main(["images", "--out", str(tmp_path / "pictures")]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(p.rsplit("/", 1)[-1] for p in printed) == sorted(
        p.name for p in (tmp_path / "pictures").iterdir())
    assert len(printed) == 5


def test_a_csv_with_a_byte_order_mark_is_ingested(tmp_path, capsys):
    csv_file = tmp_path / "excel.csv"
    csv_file.write_bytes(b"\xef\xbb\xbfid,name,city,updated_at\r\n1,Ada,Austin,2024-10-01\r\n")
    assert main(["medallion", "ingest", "customers", str(csv_file), "--db",
                 str(tmp_path / "lake.db")]) == 0
    assert capsys.readouterr().out == "customers: batch 1 ingested, 1 rows\n"
    conn = connect(tmp_path / "lake.db")
    assert conn.execute("SELECT id, name FROM bronze_customers").fetchall() == [("1", "Ada")]
    conn.close()


def test_a_first_load_into_a_new_target_needs_no_lecture_table(tmp_path, capsys):
    source = connect(tmp_path / "source.db")
    create_customer_source(source, "customers", 10, progress=False)
    source.close()
    for mode in ("incremental", "full"):
        db = tmp_path / f"{mode}.db"
        assert main(["load", mode, "--db", str(db), "--source-db", str(tmp_path / "source.db"),
                     "--source", "src.customers", "--target", "customers"]) == 0, \
            capsys.readouterr().err
        assert "inserted 10," in capsys.readouterr().out


def test_a_pipeline_factory_must_be_a_function_of_the_project(tmp_path, capsys, monkeypatch):
    (tmp_path / "my_pipes.py").write_text(
        "from course_etl.scheduling.lecture import customers_pipeline\n"
        "def nightly():\n    return customers_pipeline()\n"
        "def needs(x):\n    return customers_pipeline()\n"
        "def broken():\n    raise RuntimeError('no config')\n"
        "number = 5\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    db = ["--db", str(tmp_path / "dw.db")]
    assert main(["schedule", "crontab", "my_pipes:nightly", *db]) == 0
    assert "customers_etl" in capsys.readouterr().out
    for reference, culprit in (("my_pipes:needs", "needs argument(s) x"),
                               ("my_pipes:broken", "RuntimeError: no config"),
                               ("my_pipes:number", "(it is of type int)"),
                               ("my_pipes:missing", "AttributeError"),
                               ("os:system", "standard library"),
                               ("builtins:input", "standard library"),
                               ("no such thing", "unknown pipeline")):
        assert main(["schedule", "crontab", reference, *db]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and culprit in err, err


def test_a_first_load_that_fails_keeps_the_warehouse_with_its_failed_run(tmp_path, capsys):
    source = connect(tmp_path / "source.db")
    create_customer_source(source, "customers", 20, progress=False)
    source.execute("UPDATE customers SET updated_at = '10/05/2024 10:00' WHERE id = 3")
    source.commit()
    source.close()
    warehouse = tmp_path / "dw.db"
    common = ["--db", str(warehouse), "--source-db", str(tmp_path / "source.db"),
              "--source", "src.customers", "--target", "dw_customers"]
    assert main(["load", "incremental", *common]) == 1  # the run started, then refused the data
    assert "10/05/2024" in capsys.readouterr().err
    assert warehouse.exists(), "the failed run is recorded in the warehouse it created"
    assert main(["monitor", "runs", "--db", str(warehouse)]) == 0
    assert "failed" in capsys.readouterr().out
    refused = tmp_path / "refused.db"
    assert main(["load", "incremental", "--db", str(refused), "--source-db",
                 str(tmp_path / "source.db"), "--source", "src.customers", "--target", "x",
                 "--key", "nope"]) == 2  # bad input: nothing created
    assert not refused.exists()


# A pipeline named on the command line: each refusal carries the reference and its culprit.
IDENTIFIERS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30))
def test_an_unknown_pipeline_name_is_carried_with_the_known_ones(reference):
    from course_etl.cli.scheduling import PIPELINES, load_pipeline

    if reference in PIPELINES or ":" in reference:
        return
    with pytest.raises(PipelineError) as caught:
        load_pipeline(reference)
    assert (caught.value.value, caught.value.known) == (reference, list(PIPELINES))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(n for n in sys.stdlib_module_names if n.isidentifier())),
       IDENTIFIERS)
def test_a_standard_library_module_is_carried(module, attribute):
    from course_etl.cli.scheduling import load_pipeline

    with pytest.raises(PipelineError) as caught:
        load_pipeline(f"{module}:{attribute}")
    assert (caught.value.value, caught.value.module) == (f"{module}:{attribute}", module)


class _Refusal(Exception):
    pass


@settings(max_examples=60, deadline=None)
@given(st.one_of(
    st.tuples(st.just("needs"), st.lists(IDENTIFIERS, min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("raises"), st.text(max_size=20)),
    st.tuples(st.just("returns"), st.one_of(st.integers(), st.text(max_size=5), st.none())),
    st.tuples(st.just("is"), st.one_of(st.integers(), st.text(max_size=5), st.none()))))
def test_a_factory_that_gives_no_pipeline_is_carried_with_what_it_did(case):
    from course_etl.cli.scheduling import load_pipeline

    kind, fact = case
    namespace: dict = {}
    if kind == "needs":
        exec(f"def factory({', '.join(fact)}):\n    return None", namespace)  # noqa: S102
        factory = namespace["factory"]
    elif kind == "raises":
        def factory():
            raise _Refusal(fact)
    else:
        factory = (lambda: fact) if kind == "returns" else fact
    module = types.ModuleType("t_generated_pipes")
    module.factory = factory
    sys.modules[module.__name__] = module
    try:
        with pytest.raises(PipelineError) as caught:
            load_pipeline("t_generated_pipes:factory")
    finally:
        del sys.modules[module.__name__]
    error = caught.value
    assert error.value == "t_generated_pipes:factory"
    if kind == "needs":
        assert (error.factory, error.missing) == (factory, fact)
    elif kind == "raises":
        assert isinstance(error.cause, _Refusal) and error.cause.args == (fact,)
    elif kind == "returns":
        assert error.result is fact
    else:
        assert error.factory is fact


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.integers(1, 1969), st.integers(2200, 9999)), st.integers(1, 12),
       st.integers(1, 28))
def test_a_date_out_of_the_schedule_s_years_is_carried(year, month, day):
    from course_etl.cli.scheduling import _moment

    text = f"{year:04d}-{month:02d}-{day:02d}"
    with pytest.raises(PipelineError) as caught:
        _moment(text)
    assert caught.value.value == text


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2199, 1, 1)),
       st.one_of(st.integers(-3000, -1), st.integers(3661, 60000)))
def test_a_backfill_range_backwards_or_too_long_is_carried(start, days):
    from course_etl.cli.scheduling import _backfill

    end = start + timedelta(days=days)
    if not date(1970, 1, 1) <= end <= date(2199, 12, 31):
        return
    args = argparse.Namespace(pipeline="customers_etl", start=start.isoformat(),
                              end=end.isoformat())
    with pytest.raises(PipelineError) as caught:
        _backfill(args)
    error = caught.value
    assert (error.start, error.end, error.value) == (args.start, args.end, (args.start, args.end))
