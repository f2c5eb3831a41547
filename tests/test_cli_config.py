"""The configuration commands, the --env/--config/--set options with explicit flags on top, and
a papermill run of notebook 04."""

import argparse
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import cli, connect, query
from course_etl.cli.config import (
    add_commands,
    config_from_args,
    find_notebook,
    run_notebook,
)
from course_etl.cli.load import LOAD_FLAGS, load_from_args
from course_etl.config import ConfigError, load_config
from course_etl.sample_data import create_customer_source


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No COURSE_ETL_* variable of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith("COURSE_ETL_"):
            monkeypatch.delenv(name)


def parse(argv):
    parser = argparse.ArgumentParser(prog="course_etl")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def run(argv):
    args = parse(argv)
    return args.handler(args)


def rows(out):
    """The printed table's rows by key, each split on whitespace."""
    return {line.split()[0]: line.split() for line in out.splitlines()[2:]}


def test_config_show_prints_provenance_with_secrets_masked(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_ETL_ALERTS__SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("COURSE_ETL_LOAD__LOOKBACK_HOURS", "5")
    assert run(["config", "show", "--env", "prod", "--set", "load.batch_size=10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("environment: prod\n")
    lines = rows(out)
    assert lines["load.batch_size"][:5] == ["load.batch_size", "10", "override", "--set",
                                            "load.batch_size"]
    assert lines["load.lookback_hours"][:3] == ["load.lookback_hours", "5.0", "envvar"]
    assert lines["load.reconcile_deletes"][:4] == ["load.reconcile_deletes", "true", "prod",
                                                   "configs/prod.yaml:11"]
    assert lines["alerts.smtp_password"][1] == "********" and "hunter2" not in out


def test_config_show_reads_course_etl_env_and_a_config_file(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_ETL_ENV", "prod")
    run(["config", "show"])
    assert capsys.readouterr().out.startswith("environment: prod\n")
    (tmp_path / "mine.yaml").write_text("load:\n  batch_size: 7\n")
    run(["config", "show", "--config", str(tmp_path / "mine.yaml")])
    assert rows(capsys.readouterr().out)["load.batch_size"][:4] == [
        "load.batch_size", "7", "file", f"{tmp_path.name}/mine.yaml:2"]


def test_config_keys_lists_every_key(capsys):
    assert run(["config", "keys"]) == 0
    out = capsys.readouterr().out
    assert "COURSE_ETL_LOAD__BATCH_SIZE" in out and "schedule.timezone" in out


def test_bad_settings_exit_2_with_one_message_through_the_main_cli(capsys, monkeypatch):
    code = cli.main(["config", "show", "--env", "prod", "--set", "load.bach_size=10"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("course_etl: error: invalid configuration: load.bach_size = 10 (from --set "
                   "load.bach_size): unknown key; did you mean 'load.batch_size'?\n")


# --- load: explicit flags on top of the configuration ----------------------------------------

class load_parser:  # noqa: N801 - reads like the parser it stands for
    """The real `course_etl load` parser: parse_args(argv) parses ``load`` + argv."""

    def parse_args(self, argv):
        return cli.build_parser().parse_args(["load", *argv])


def test_explicit_flags_win_over_files_and_variables_but_not_over_set():
    args = load_parser().parse_args(
        ["incremental", "--env", "prod", "--batch-size", "7", "--key", "id",
         "--lookback-hours", "1", "--set", "load.lookback_hours=3"])
    config = config_from_args(args, flags=LOAD_FLAGS,
                              environ={"COURSE_ETL_LOAD__BATCH_SIZE": "900"})
    assert config.load.batch_size == 7
    assert str(config.source_of("load.batch_size")) == "--batch-size"
    assert config.load.lookback_hours == 3.0
    assert config.provenance["load.lookback_hours"].replaced[-1].where == "--lookback-hours"
    # options not given leave the configuration alone; --no-… turns a configured true off
    assert config.load.reconcile_deletes is True
    assert config.source_of("load.reconcile_deletes").layer == "prod"
    args = load_parser().parse_args(["incremental", "--env", "prod", "--no-reconcile-deletes"])
    assert config_from_args(args, flags=LOAD_FLAGS, environ={}).load.reconcile_deletes is False


def test_a_bad_flag_value_names_the_flag():
    args = load_parser().parse_args(["incremental", "--batch-size", "0"])
    with pytest.raises(ConfigError, match=r"load.batch_size = 0 \(from --batch-size\): "
                                          r"out of range"):
        config_from_args(args, flags=LOAD_FLAGS, environ={})


def test_load_from_args_runs_the_configured_load(tmp_path):
    source = connect(tmp_path / "source.db")
    create_customer_source(source, "customers", 60, seed=2, progress=False)
    source.close()
    warehouse = tmp_path / "wh.db"
    args = load_parser().parse_args(
        ["incremental", "--env", "dev", "--db", str(warehouse),
         "--source-db", str(tmp_path / "source.db"), "--source", "src.customers",
         "--batch-size", "25"])
    result = load_from_args(args, environ={})
    assert (result.inserted, result.batches, result.target) == (60, 3, "dw_customers")
    args = load_parser().parse_args(
        ["full", "--db", str(warehouse), "--set", f"database.source={tmp_path / 'source.db'}",
         "--set", "load.source_table=src.customers"])
    assert load_from_args(args, environ={}).rows_read == 60
    conn = connect(warehouse)
    assert query(conn, "SELECT COUNT(*) AS n FROM dw_customers").n[0] == 60
    conn.close()


# --- run-notebook -----------------------------------------------------------------------------

def test_find_notebook_by_number_name_or_path():
    assert find_notebook("04").name == "04_parameterization.ipynb"
    assert find_notebook("04_parameterization.ipynb").name == "04_parameterization.ipynb"
    with pytest.raises(ConfigError, match=r"no such notebook \(notebooks: .*04_param"):
        find_notebook("99")


def test_run_notebook_refuses_to_write_into_the_notebooks_folder():
    notebook = find_notebook("04")
    with pytest.raises(ConfigError, match=r"--out = .*: is inside the notebooks folder"):
        run_notebook(notebook, load_config("prod", environ={}),
                     out_dir=notebook.parent / "runs")
    assert not (notebook.parent / "runs").exists()


def test_a_bad_setting_fails_before_any_kernel_starts(tmp_path):
    with pytest.raises(ConfigError, match=r"schedule.retries = 99"):
        run(["run-notebook", "04", "--env", "prod", "--set", "schedule.retries=99",
             "--out", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_run_notebook_executes_notebook_04_for_prod(tmp_path, capsys):
    pytest.importorskip("papermill")
    assert run(["run-notebook", "04", "--env", "prod", "--set", "load.batch_size=80",
                "--out", str(tmp_path)]) == 0
    assert "with env=prod ->" in capsys.readouterr().out
    executed = tmp_path / "04_parameterization-prod.ipynb"
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and 'env = "prod"' in "".join(injected[0]["source"])
    printed = "".join(
        "".join(output.get("text", "")) for cell in cells if cell["cell_type"] == "code"
        for output in cell.get("outputs", []))
    assert "env = prod" in printed
    # 200 rows in batches of 80 (--set) under prod's configuration
    assert "env=prod batch_size=80 batches=3 rows_read=200" in printed


def test_every_integer_key_refuses_what_sqlite_cannot_store():
    import typing

    from course_etl.config import ConfigError, load_config
    from course_etl.config.schema import key_specs

    integer_keys = [k for k, s in key_specs().items()
                    if s.hint is int or int in typing.get_args(s.hint)]
    assert integer_keys
    for key in integer_keys:
        for value in (2**63, -(2**63) - 1, 10**5000):
            try:
                load_config("dev", overrides={key: value}, environ={})
            except ConfigError as error:
                assert key in str(error) and len(str(error)) < 300, str(error)[:300]
            else:
                raise AssertionError(f"{key} accepted {str(value)[:30]}…")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.from_regex(r"[0-9]{2}_[a-z]{1,6}", fullmatch=True), max_size=5, unique=True),
       st.from_regex(r"[0-9]{1,2}(_[a-z]{0,3})?", fullmatch=True))
def test_a_notebook_name_that_fits_none_or_several_is_carried_with_them(stems, asked):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for stem in stems:
            (folder / f"{stem}.ipynb").write_text("{}", encoding="utf-8")
        fits = sorted(f"{stem}.ipynb" for stem in stems if stem.startswith(asked))
        if len(fits) == 1:
            assert find_notebook(asked, folder).name == fits[0]
            return
        with pytest.raises(ConfigError) as caught:
            find_notebook(asked, folder)
    error = caught.value
    assert (error.known, error.matches) == (sorted(f"{stem}.ipynb" for stem in stems), fits)
    assert [(p.key, p.value) for p in error.problems] == [("NB", asked)]


@pytest.mark.parametrize("locked", ["warehouse", "source"])
@pytest.mark.parametrize("names", [("wh.db", "source.db"), ("a b.db", "ü.sqlite"),
                                   ("x.db", "nested/src.db")])
def test_a_load_locked_out_carries_both_files_and_the_sqlite_error(tmp_path, monkeypatch,
                                                                   locked, names):
    import sqlite3

    from course_etl.dbfile import DatabaseFileError

    warehouse, source_path = (tmp_path / name for name in names)
    source_path.parent.mkdir(exist_ok=True)
    source = connect(source_path)
    create_customer_source(source, "customers", 10, seed=3, progress=False)
    source.close()
    argv = ["incremental", "--db", str(warehouse), "--source-db", str(source_path),
            "--source", "src.customers"]
    load_from_args(load_parser().parse_args(argv), environ={})  # the warehouse exists now
    monkeypatch.setattr("course_etl.db.BUSY_TIMEOUT_MS", 100)
    blocker = connect(warehouse if locked == "warehouse" else source_path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseFileError) as caught:
            load_from_args(load_parser().parse_args(argv), environ={})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    error = caught.value
    assert (error.path, error.source) == (str(warehouse), str(source_path))
    assert error.reason == "locked by another process" and error.fault
    assert isinstance(error.__cause__, sqlite3.OperationalError)
    assert f"({error.__cause__})" in str(error)
