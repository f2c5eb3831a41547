"""The config explorer: controls follow the layers, changes become overrides, errors show in place,
and the button runs the load with the shown configuration."""

from contextlib import closing

import pytest
from html_tables import visible_text
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.classroom.widgets.config import config_explorer
from course_etl.db import connect, table_exists
from course_etl.sample_data import create_customer_source


@pytest.fixture
def source_conn(conn):
    create_customer_source(conn, "src_customers", 120, seed=5, progress=False)
    return conn


def layer_of(panel, key):
    table = panel.config.provenance_table().set_index("key")
    return table.loc[key, "layer"], table.loc[key, "set by"]


def test_controls_start_at_the_environment_values_and_follow_the_picker(source_conn):
    panel = config_explorer(source_conn)
    assert panel.env.options == ("dev", "prod")
    assert panel.controls["load.batch_size"].value == 50
    assert panel.controls["load.reconcile_deletes"].value is False
    assert panel.overrides() == {} and not panel.run_button.disabled
    panel.env.value = "prod"
    assert panel.controls["load.batch_size"].value == 5000
    assert panel.controls["load.lookback_hours"].value == 2.0
    assert panel.controls["load.reconcile_deletes"].value is True
    assert layer_of(panel, "load.batch_size") == ("prod", "configs/prod.yaml:9")
    assert "<b>prod</b>" in panel.config_view.value


def test_a_changed_control_becomes_an_override_that_survives_an_environment_change(source_conn):
    panel = config_explorer(source_conn)
    panel.controls["load.batch_size"].value = 30
    assert panel.overrides() == {"load.batch_size": 30}
    assert layer_of(panel, "load.batch_size") == ("override", "override load.batch_size")
    panel.env.value = "prod"
    assert panel.config.load.batch_size == 30
    assert panel.config.load.lookback_hours == 2.0


def test_typed_environment_variables_are_a_layer_and_secrets_stay_masked(source_conn):
    panel = config_explorer(source_conn)
    panel.environ_box.value = ("# staging values\nCOURSE_ETL_LOAD__LOOKBACK_HOURS=3\n"
                               "COURSE_ETL_ALERTS__SMTP_PASSWORD=hunter2")
    assert panel.controls["load.lookback_hours"].value == 3.0
    assert layer_of(panel, "load.lookback_hours") == (
        "envvar", "environment variable COURSE_ETL_LOAD__LOOKBACK_HOURS")
    assert "hunter2" not in panel.config_view.value and "********" in panel.config_view.value


def test_defaults_can_be_shown_or_hidden(source_conn):
    panel = config_explorer(source_conn)
    assert "alerts.smtp_user" not in panel.config_view.value
    panel.hide_defaults.value = False
    assert "alerts.smtp_user" in panel.config_view.value


@pytest.mark.parametrize(("change", "message"), [
    (("load.batch_size", 0), "load.batch_size = 0 (from override load.batch_size): out of range"),
    (("load.source_table", "src customers"), "invalid table name part 'src customers'"),
    (("environ", "COURSE_ETL_LOAD__BACH_SIZE=5"), "did you mean 'COURSE_ETL_LOAD__BATCH_SIZE'?"),
    (("environ", "just words"), "cannot read 'just words': write NAME=value"),
])
def test_invalid_values_show_the_error_in_place_and_block_the_load(source_conn, change, message):
    panel = config_explorer(source_conn)
    key, value = change
    if key == "environ":
        panel.environ_box.value = value
    else:
        panel.controls[key].value = value
    assert panel.config is None and message in panel.error
    assert visible_text(panel.config_view.value).startswith("Error:")
    assert panel.run_button.disabled
    panel.run()
    assert visible_text(panel.result_view.value).startswith("Error:")
    assert not table_exists(source_conn, "dw_customers")


def test_fixing_the_value_clears_the_error(source_conn):
    panel = config_explorer(source_conn)
    panel.controls["load.batch_size"].value = 0
    panel.controls["load.batch_size"].value = 40
    assert panel.error == "" and panel.config.load.batch_size == 40
    assert not panel.run_button.disabled


def test_run_button_loads_with_the_shown_configuration(source_conn):
    panel = config_explorer(source_conn)
    panel.controls["load.batch_size"].value = 25
    panel.run_button.click()
    result = panel.last_result
    assert (result.rows_read, result.inserted, result.batches) == (120, 120, 5)
    assert visible_text(panel.result_view.value).startswith(
        "success: loaded with the dev configuration")
    panel.run_button.click()
    assert panel.last_result.inserted == 0


def test_database_errors_show_in_the_result_area(source_conn):
    panel = config_explorer(source_conn)
    panel.controls["load.source_table"].value = "src_custmers"
    panel.run_button.click()
    assert panel.last_result is None
    assert "unknown source table &#x27;src_custmers&#x27; (known: src_customers)" in (
        panel.result_view.value)


def test_the_process_environment_is_not_read(source_conn, monkeypatch):
    monkeypatch.setenv("COURSE_ETL_LOAD__BATCH_SIZE", "999")
    assert config_explorer(source_conn).config.load.batch_size == 50
    passed = config_explorer(source_conn, environ={"COURSE_ETL_LOAD__BATCH_SIZE": "77"})
    assert passed.config.load.batch_size == 77


@settings(max_examples=15, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z_ ]{1,12}", fullmatch=True).filter(str.strip),
                min_size=1, max_size=3),
       st.lists(st.just("COURSE_ETL_LOAD__BATCH_SIZE=40"), max_size=1))
def test_lines_that_are_not_variables_are_carried_by_the_refusal(lines, good):
    with closing(connect(":memory:")) as conn:
        panel = config_explorer(conn)
        panel.environ_box.value = "\n".join([*good, *lines])
        assert panel.config is None and panel.refusal.value == [line.strip() for line in lines]
        assert str(panel.refusal) == panel.error
        panel.environ_box.value = "\n".join(good)
        assert panel.refusal is None and panel.error == ""
