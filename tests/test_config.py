"""Layered configuration: precedence, provenance, validation errors, secrets, safe identifiers."""

import logging
import tempfile
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from builders import lecture
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl import connect, query
from course_etl.config import (
    LECTURE_KEYS,
    ConfigError,
    Secret,
    SecretFilter,
    available_environments,
    check_against_database,
    describe_keys,
    get_watermark,
    incremental_arguments,
    load_config,
    open_warehouse,
    parse_env_lines,
    run_full_load,
    run_incremental_load,
    show_value,
)
from course_etl.config.lecture import (
    INJECTION_PAYLOAD,
    create_injection_demo,
    lecture_get_watermark,
)
from course_etl.config.schema import key_specs
from course_etl.db import table_exists
from course_etl.errors import CourseEtlError, UnknownColumnError, UnknownTableError
from course_etl.facts import CUSTOMERS, lecture_rows
from course_etl.sample_data import (
    create_customer_source,
    create_lecture_source,
    simulate_changes,
)

NO_ENV: dict[str, str] = {}


def write(folder, name, text):
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def config_dir(tmp_path):
    """A config folder with a base file and a 'dev' file, line numbers known."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    write(folder, "base.yaml", """\
        load:
          batch_size: 100
          lookback_hours: 1
        schedule:
          timezone: UTC
        """)
    write(folder, "dev.yaml", """\
        # dev settings
        load:
          batch_size: 200
        """)
    return folder


def problems_of(excinfo):
    return [str(p) for p in excinfo.value.problems]


# --- precedence and provenance ---------------------------------------------------------------

def test_each_layer_overrides_the_one_below_and_provenance_names_it(config_dir):
    environ = {"COURSE_ETL_LOAD__LOOKBACK_HOURS": "6", "COURSE_ETL_LOAD__SOFT_DELETE": "gone",
               "COURSE_ETL_CHECKS__MIN_ROWS": "5"}
    config = load_config("dev", config_dir, ["load.soft_delete=is_deleted"], environ=environ,
                         flags={"checks.min_rows": ("--min-rows", 7),
                                "load.key": ("--key", None)})
    assert config.load.batch_size == 200
    assert config.load.lookback_hours == 6.0
    assert config.load.soft_delete == "is_deleted"
    assert config.checks.min_rows == 7
    assert config.load.key == ("id",)
    assert config.schedule.timezone == "UTC"
    where = {key: str(config.source_of(key)) for key in (
        "load.batch_size", "load.lookback_hours", "load.soft_delete", "checks.min_rows",
        "load.key", "schedule.timezone")}
    assert where == {
        "load.batch_size": "cfg/dev.yaml:3",
        "load.lookback_hours": "environment variable COURSE_ETL_LOAD__LOOKBACK_HOURS",
        "load.soft_delete": "--set load.soft_delete",
        "checks.min_rows": "--min-rows",
        "load.key": "the defaults",
        "schedule.timezone": "cfg/base.yaml:5",
    }
    table = config.provenance_table().set_index("key")
    assert table.loc["load.batch_size"].to_dict() == {
        "value": "200", "layer": "dev", "set by": "cfg/dev.yaml:3", "replaced": "default, base"}
    assert table.loc["load.soft_delete", "replaced"] == "default, envvar"
    assert list(table.index) == list(key_specs())


def test_shipped_environments_resolve_and_differ_only_in_configuration():
    dev, prod = load_config("dev", environ=NO_ENV), load_config("prod", environ=NO_ENV)
    assert available_environments() == ["dev", "prod"]
    assert (dev.load.batch_size, prod.load.batch_size) == (50, 5000)
    assert (dev.load.lookback_hours, prod.load.lookback_hours) == (0.0, 2.0)
    assert prod.alerts.email_alerts and prod.alerts.channels == ("log", "email")
    assert dev.provenance["load.batch_size"].layer == "dev"
    assert prod.lecture_view() == {"watermark_table": "dw_customers", "batch_size": 5000,
                                   "email_alerts": True, "target_schema": "main"}
    assert set(LECTURE_KEYS.values()) <= set(key_specs())


def test_environment_comes_from_course_etl_env_then_defaults_to_dev(config_dir):
    write(config_dir, "prod.yaml", "load:\n  batch_size: 9000\n")
    assert load_config(path=config_dir, environ={"COURSE_ETL_ENV": "prod"}).env == "prod"
    assert load_config(path=config_dir, environ=NO_ENV).env == "dev"
    assert load_config("dev", config_dir, environ={"COURSE_ETL_ENV": "prod"}).env == "dev"


def test_unknown_environment_lists_the_known_ones(config_dir):
    with pytest.raises(ConfigError, match=r"no config file dve.yaml in cfg/ \(environments: "
                                          r"dev\); did you mean 'dev'\?"):
        load_config("dve", config_dir, environ=NO_ENV)


def test_a_single_file_replaces_both_files(tmp_path):
    write(tmp_path, "mine.yaml", "load:\n  batch_size: 7\n")
    config = load_config("staging", tmp_path / "mine.yaml", environ=NO_ENV)
    assert config.load.batch_size == 7 and config.load.lookback_hours == 0.0
    assert config.provenance["load.batch_size"].layer == "file"
    assert config.env == "staging"


def test_environment_values_are_read_as_yaml_scalars(config_dir):
    environ = {"COURSE_ETL_LOAD__RECONCILE_DELETES": "true", "COURSE_ETL_LOAD__KEY": "id, region",
               "COURSE_ETL_LOAD__SOFT_DELETE": "", "COURSE_ETL_LOAD__INITIAL_VALUE": "2024-10-01",
               "COURSE_ETL_ALERTS__EMAIL_TO": "[a@example.com, b@example.com]",
               "OTHER_TOOL_LOAD__BATCH_SIZE": "oops"}
    config = load_config("dev", config_dir, environ=environ)
    assert config.load.reconcile_deletes is True
    assert config.load.key == ("id", "region")
    assert config.load.soft_delete is None
    assert config.load.initial_value == "2024-10-01"
    assert config.alerts.email_to == ("a@example.com", "b@example.com")


def test_overrides_as_strings_or_dicts(config_dir):
    nested = load_config("dev", config_dir, {"load": {"batch_size": 11}}, environ=NO_ENV)
    dotted = load_config("dev", config_dir, {"load.batch_size": 11}, environ=NO_ENV)
    text = load_config("dev", config_dir, "load.batch_size=11", environ=NO_ENV)
    assert nested.load.batch_size == dotted.load.batch_size == text.load.batch_size == 11
    with pytest.raises(ConfigError, match=r"expected key=value, e.g. load.batch_size=500"):
        load_config("dev", config_dir, ["batch_size 11"], environ=NO_ENV)


# --- validation errors ------------------------------------------------------------------------

def test_unknown_keys_get_a_did_you_mean_with_file_and_line(config_dir):
    write(config_dir, "dev.yaml", "load:\n  batch_size: 200\n  bach_size: 300\nlaod:\n  key: id\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config("dev", config_dir, environ=NO_ENV)
    assert problems_of(excinfo) == [
        "load.bach_size = 300 (from cfg/dev.yaml:3): unknown key; did you mean 'load.batch_size'?",
        "laod = {'key': 'id'} (from cfg/dev.yaml:4): unknown key (keys are 'section.key'; "
        "sections: alerts, checks, database, load, schedule)",
    ]


def test_unknown_environment_variables_suggest_the_right_variable(config_dir):
    environ = {"COURSE_ETL_LOAD__BACH_SIZE": "3", "COURSE_ETL_BATCH_SIZE": "4",
               "COURSE_ETL_LOAD": "5"}
    with pytest.raises(ConfigError) as excinfo:
        load_config("dev", config_dir, environ=environ)
    assert problems_of(excinfo) == [
        "batch_size = 4 (from environment variable COURSE_ETL_BATCH_SIZE): unknown key; "
        "did you mean 'COURSE_ETL_LOAD__BATCH_SIZE'?",
        "load = 5 (from environment variable COURSE_ETL_LOAD): is a section, not a key: set "
        "one of its keys, e.g. COURSE_ETL_LOAD__…",
        "load.bach_size = 3 (from environment variable COURSE_ETL_LOAD__BACH_SIZE): unknown "
        "key; did you mean 'COURSE_ETL_LOAD__BATCH_SIZE'?",
    ]


@pytest.mark.parametrize(("override", "message"), [
    ("load.batch_size=0", "out of range: must be >= 1"),
    ("load.batch_size=2.5", "expected integer, got float"),
    ("load.batch_size=true", "expected integer, got bool"),
    ("load.batch_size=lots", "expected integer, got text"),
    ("load.lookback_hours=-1", "out of range: must be >= 0"),
    ("checks.max_null_fraction=1.5", "out of range: must be <= 1"),
    ("load.reconcile_deletes=maybe", "expected true/false, got text"),
    ("load.target_table=dw customers", "invalid name 'dw customers'"),
    ("load.source_table=a.b.c", "use 'table' or 'schema.table'"),
    ("load.key=[id, 2nd]", "invalid column name '2nd'"),
    ("alerts.channels=[log, webhok]", "'webhok' is not one of log, email, webhook; "
                                      "did you mean 'webhook'?"),
    ("alerts.email_to=[nobody]", "not an e-mail address"),
    ("schedule.cron=61 * * * *", "the minute field accepts 0-59"),
    ("schedule.timezone=Europe/Berln", "unknown time zone"),
    ("alerts.smtp_port=70000", "out of range: must be <= 65535"),
])
def test_bad_values_name_key_value_origin_and_rule(config_dir, override, message):
    key, _, raw = override.partition("=")
    with pytest.raises(ConfigError) as excinfo:
        load_config("dev", config_dir, [override], environ=NO_ENV)
    (problem,) = excinfo.value.problems
    assert problem.key == key
    assert str(problem.origin) == f"--set {key}"
    assert message in problem.message
    assert str(excinfo.value).startswith(f"invalid configuration: {key} = ")


def test_wrong_type_in_a_file_names_the_line(config_dir):
    write(config_dir, "dev.yaml", "# dev\n\nload:\n  batch_size: '200'\n")
    with pytest.raises(ConfigError, match=r"load.batch_size = '200' \(from cfg/dev.yaml:4\): "
                                          r"expected integer, got text"):
        load_config("dev", config_dir, environ=NO_ENV)


def test_every_problem_is_reported_at_once(config_dir):
    environ = {"COURSE_ETL_LOAD__BATCH_SIZE": "-5"}
    with pytest.raises(ConfigError) as excinfo:
        load_config("dev", config_dir, ["schedule.retries=99", "load.lookback_hours=x"],
                    environ=environ)
    assert [p.key for p in excinfo.value.problems] == [
        "load.batch_size", "schedule.retries", "load.lookback_hours"]
    assert str(excinfo.value).startswith("invalid configuration (3 problems):\n  - ")


def test_yaml_mistakes_name_file_and_line(config_dir):
    write(config_dir, "dev.yaml", "load:\n  batch_size: 1\n  batch_size: 2\n")
    with pytest.raises(ConfigError, match=r"cfg/dev.yaml:3\): not valid YAML: duplicate key "
                                          r"'batch_size' \(first set on line 2\)"):
        load_config("dev", config_dir, environ=NO_ENV)
    write(config_dir, "dev.yaml", "load:\n  batch_size: [1\n")
    with pytest.raises(ConfigError, match=r"cfg/dev.yaml:3\): not valid YAML"):
        load_config("dev", config_dir, environ=NO_ENV)
    write(config_dir, "dev.yaml", "- just\n- a list\n")
    with pytest.raises(ConfigError, match=r"must be a mapping of sections"):
        load_config("dev", config_dir, environ=NO_ENV)
    write(config_dir, "dev.yaml", "load: 5\n")
    with pytest.raises(ConfigError, match=r"load = 5 \(from cfg/dev.yaml:1\): is a section"):
        load_config("dev", config_dir, environ=NO_ENV)


def test_empty_files_and_sections_are_allowed(config_dir):
    write(config_dir, "dev.yaml", "# nothing yet\n")
    assert load_config("dev", config_dir, environ=NO_ENV).load.batch_size == 100
    write(config_dir, "dev.yaml", "load:\n  # batch_size: 5\nchecks:\n")
    assert load_config("dev", config_dir, environ=NO_ENV).load.batch_size == 100


def test_keys_that_must_agree(config_dir):
    with pytest.raises(ConfigError) as excinfo:
        load_config("dev", config_dir, ["alerts.email_alerts=true",
                                        "alerts.channels=[log, webhook]",
                                        "alerts.smtp_user=etl"], environ=NO_ENV)
    assert [p.message for p in excinfo.value.problems] == [
        "e-mail alerts need alerts.email_to and alerts.smtp_host",
        "add 'email' to alerts.channels ([log, webhook], set by --set alerts.channels)",
        "the 'webhook' channel needs the secret alerts.webhook_url: set environment variable "
        "COURSE_ETL_ALERTS__WEBHOOK_URL",
        "an SMTP login needs the secret alerts.smtp_password: set environment variable "
        "COURSE_ETL_ALERTS__SMTP_PASSWORD",
    ]


# --- secrets ----------------------------------------------------------------------------------

SECRET_ENV = {
    "COURSE_ETL_ALERTS__SMTP_USER": "etl",
    "COURSE_ETL_ALERTS__SMTP_PASSWORD": "0123hunter2",
    "COURSE_ETL_ALERTS__WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/tok3n",
    "COURSE_ETL_ALERTS__CHANNELS": "[log, webhook]",
}


def test_secrets_are_read_from_the_environment_and_masked_everywhere(config_dir):
    config = load_config("dev", config_dir, environ=SECRET_ENV)
    assert config.alerts.smtp_password.reveal() == "0123hunter2"
    assert config.alerts.webhook_url.reveal().endswith("tok3n")
    printed = "\n".join([repr(config), str(config), repr(config.alerts),
                         config.provenance_table().to_string(), str(config.as_dict()),
                         f"{config.alerts.smtp_password}", str(config.alerts.webhook_url)])
    assert "hunter2" not in printed and "tok3n" not in printed
    assert "https://hooks.example.com/***" in printed and "********" in printed
    assert config.as_dict()["alerts"]["smtp_password"] == "********"
    assert sorted(config.secret_values()) == sorted(
        [SECRET_ENV["COURSE_ETL_ALERTS__SMTP_PASSWORD"],
         SECRET_ENV["COURSE_ETL_ALERTS__WEBHOOK_URL"]])


@pytest.mark.parametrize("where", ["file", "override", "flag"])
def test_secrets_outside_environment_variables_are_refused_without_echoing_them(
        config_dir, where):
    kwargs = {"environ": NO_ENV}
    if where == "file":
        write(config_dir, "dev.yaml", "alerts:\n  smtp_password: hunter2\n")
    elif where == "override":
        kwargs["overrides"] = ["alerts.smtp_password=hunter2"]
    else:
        kwargs["flags"] = {"alerts.smtp_password": ("--smtp-password", "hunter2")}
    with pytest.raises(ConfigError) as excinfo:
        load_config("dev", config_dir, **kwargs)
    message = str(excinfo.value)
    assert "hunter2" not in message
    assert "alerts.smtp_password = Secret('********')" in message
    assert "set it only in environment variable COURSE_ETL_ALERTS__SMTP_PASSWORD" in message


def test_an_invalid_secret_is_reported_masked(config_dir):
    environ = {"COURSE_ETL_ALERTS__WEBHOOK_URL": "http://hooks.example.com/T0/tok3n"}
    with pytest.raises(ConfigError, match=r"must start with https://") as excinfo:
        load_config("dev", config_dir, environ=environ)
    assert "tok3n" not in str(excinfo.value)


def test_secret_filter_masks_secrets_in_log_records(config_dir, caplog):
    config = load_config("dev", config_dir, environ=SECRET_ENV)
    logger = logging.getLogger("course_etl.test_secret_filter")
    logger.addFilter(SecretFilter(config.secret_values()))
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("login with %s", config.alerts.smtp_password.reveal())
        logger.info("config %r", config.alerts)
    assert [r.getMessage() for r in caplog.records][0] == "login with ********"
    assert "hunter2" not in caplog.text and "tok3n" not in caplog.text


def test_secret_value_semantics():
    assert Secret("a") == Secret("a") != Secret("b")
    assert str(Secret("not-a-url")) == "********"
    assert show_value(("id", "region")) == "[id, region]" and show_value(None) == "null"


# --- helpers ----------------------------------------------------------------------------------

def test_describe_keys_documents_every_key():
    table = describe_keys()
    assert list(table["key"]) == list(key_specs())
    row = table.set_index("key").loc["load.batch_size"]
    assert row.to_dict() == {"type": "integer", "default": "5000",
                             "env var": "COURSE_ETL_LOAD__BATCH_SIZE",
                             "description": "rows per INSERT statement (lecture key)"}
    assert (table["description"] != "").all()


def test_parse_env_lines():
    variables, bad = parse_env_lines(
        "# comment\nCOURSE_ETL_LOAD__BATCH_SIZE = 20\n\nexport A=b=c\nnot a pair\n")
    assert variables == {"COURSE_ETL_LOAD__BATCH_SIZE": "20", "A": "b=c"}
    assert bad == ["not a pair"]


def test_config_get_rejects_unknown_keys_with_a_suggestion():
    config = load_config("dev", environ=NO_ENV)
    assert config.get("load.batch_size") == 50
    with pytest.raises(ConfigError, match=r"did you mean 'load.batch_size'\?"):
        config.get("load.batchsize")


# --- identifiers against the database ---------------------------------------------------------

@pytest.fixture
def injection_conn(conn):
    create_injection_demo(conn)
    return conn


def test_lecture_get_watermark_reads_what_a_crafted_table_name_points_at(injection_conn):
    assert lecture_get_watermark(injection_conn, "dw_customers") == "2024-10-05"
    assert lecture_get_watermark(injection_conn, INJECTION_PAYLOAD) == "sk_live_DO_NOT_LEAK_4242"


def test_safe_get_watermark_rejects_the_payload_and_names_the_tables(injection_conn):
    assert get_watermark(injection_conn, "dw_customers") == "2024-10-05"
    with pytest.raises(UnknownTableError,
                       match=r"unknown watermark table '\(SELECT api_token AS updated_at FROM "
                             r"app_secrets\)' \(known: app_secrets, dw_customers\)"):
        get_watermark(injection_conn, INJECTION_PAYLOAD)
    with pytest.raises(UnknownColumnError, match=r"unknown watermark column 'updated_at\) "):
        get_watermark(injection_conn, "dw_customers", "updated_at) FROM app_secrets --")


def test_quoted_names_are_used_as_names(conn):
    conn.execute('CREATE TABLE "odd name"("updated at" TEXT)')
    conn.execute('INSERT INTO "odd name" VALUES (?)', ("2024-10-02",))
    assert get_watermark(conn, "odd name", "updated at") == "2024-10-02"


def test_check_against_database_names_key_value_and_origin(lecture_conn):
    config = load_config("dev", environ={"COURSE_ETL_LOAD__WATERMARK_COLUMN": "changed_at"},
                         overrides=["load.source_table=src_custmers", "load.soft_delete=null"])
    with pytest.raises(ConfigError) as excinfo:
        check_against_database(lecture_conn, config)
    assert problems_of(excinfo) == [
        "load.source_table = 'src_custmers' (from --set load.source_table): unknown source "
        "table 'src_custmers' (known: src_customers)"]
    config = load_config("dev", environ={"COURSE_ETL_LOAD__WATERMARK_COLUMN": "changed_at"},
                         overrides=["load.soft_delete=null", "load.target_schema=archive"])
    with pytest.raises(ConfigError) as excinfo:
        check_against_database(lecture_conn, config)
    assert problems_of(excinfo) == [
        "load.target_schema = 'archive' (from --set load.target_schema): no such schema "
        "(attached: main)",
        "load.watermark_column = 'changed_at' (from environment variable "
        "COURSE_ETL_LOAD__WATERMARK_COLUMN): unknown watermark column 'changed_at' in table "
        f"'src_customers' (columns: {', '.join(CUSTOMERS.names)})",
    ]


def test_bad_names_write_nothing(lecture_conn):
    config = load_config("dev", environ=NO_ENV, overrides=["load.key=[customer_id]"])
    with pytest.raises(ConfigError, match=r"load.key = 'customer_id' \(from --set load.key\)"):
        run_incremental_load(lecture_conn, config)
    assert not table_exists(lecture_conn, "dw_customers")
    assert not table_exists(lecture_conn, "etl_watermarks")


def test_same_load_code_runs_for_dev_and_prod():
    results = {}
    for env in ("dev", "prod"):
        conn = connect(":memory:")
        config = load_config(env, environ=NO_ENV)
        create_customer_source(conn, config.load.source_table, 120, seed=3, progress=False)
        first = run_incremental_load(conn, config)
        simulate_changes(conn, config.load.source_table, inserts=5, updates=4, soft_deletes=2,
                         hard_deletes=3, seed=4)
        second = run_incremental_load(conn, config)
        results[env] = (first, second)
        assert get_watermark(conn, config.load.watermark_table) == second.watermark_after
        conn.close()
    dev, prod = results["dev"], results["prod"]
    assert dev[0].rows_read == prod[0].rows_read == 120
    assert (dev[0].batches, prod[0].batches) == (3, 1)  # batch_size 50 vs 5000
    # prod flags soft deletes and reconciles hard deletes (configs/prod.yaml); dev sees the
    # soft-deleted rows as updates and keeps the hard-deleted ones
    assert (dev[1].deleted, prod[1].deleted) == (0, 5)
    assert (dev[1].updated, prod[1].updated) == (6, 4)
    assert dev[1].inserted == prod[1].inserted == 5


def test_incremental_arguments_follow_the_configuration():
    arguments = incremental_arguments(load_config("prod", environ=NO_ENV))
    assert arguments["lookback"].total_seconds() == 2 * 3600
    assert arguments | {"lookback": None} == {
        "key": ["id"], "watermark": "updated_at", "initial_value": None, "lookback": None,
        "soft_delete": "is_deleted", "reconcile_deletes": True, "batch_size": 5000}


def test_full_load_and_target_schema(lecture_conn):
    lecture_conn.execute("ATTACH DATABASE ':memory:' AS mart")
    config = load_config("dev", environ=NO_ENV, overrides=[
        "load.soft_delete=null", "load.target_schema=mart",
        "load.watermark_table=mart.dw_customers"])
    with pytest.raises(ConfigError, match=r"load.target_table = 'dw_customers' \(from "
                                          r"configs/base.yaml:\d+\): no table "
                                          r"'mart.dw_customers' yet: create it"):
        run_full_load(lecture_conn, config)
    lecture_conn.execute(CUSTOMERS.ddl("dw_customers", database="mart"))
    result = run_full_load(lecture_conn, config)
    assert (result.target, result.rows_read) == ("mart.dw_customers", len(lecture()))
    assert get_watermark(lecture_conn, config.load.watermark_table) == max(
        row[CUSTOMERS.watermark] for row in lecture_rows())


def test_open_warehouse_attaches_the_configured_source(tmp_path):
    source = connect(tmp_path / "source.db")
    create_customer_source(source, "customers", 10, seed=1, progress=False)
    source.close()
    config = load_config("dev", environ=NO_ENV, overrides=[
        f"database.warehouse={tmp_path / 'wh.db'}", f"database.source={tmp_path / 'source.db'}",
        "load.source_table=src.customers"])
    conn = open_warehouse(config)
    try:
        assert run_incremental_load(conn, config).inserted == 10
        assert query(conn, "SELECT COUNT(*) AS n FROM dw_customers").n[0] == 10
    finally:
        conn.close()
    missing = load_config("dev", environ=NO_ENV,
                          overrides=[f"database.source={tmp_path / 'nope.db'}"])
    with pytest.raises(ConfigError, match=r"database.source = .*nope.db.*: no such file"):
        open_warehouse(missing)


def test_config_errors_are_course_etl_errors():
    assert issubclass(ConfigError, CourseEtlError)


def test_compare_environments_runs_the_same_loads_under_each_config():
    from course_etl.config import load_config
    from course_etl.config.lecture import compare_environments

    table = compare_environments([load_config(env, environ={}) for env in ("dev", "prod")])
    assert table[["env", "run"]].values.tolist() == [
        ["dev", "first"], ["dev", "second"], ["prod", "first"], ["prod", "second"]]
    assert (table.loc[table["run"] == "first", "inserted"] == 200).all()
    # prod propagates soft deletes and reconciles hard ones; dev does neither.
    second = table[table["run"] == "second"].set_index("env")
    assert second.loc["prod", "deleted"] == 5 and second.loc["dev", "deleted"] == 0


# --- the facts a refusal carries, on generated names ------------------------------------------

ENV_NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(ENV_NAMES, min_size=0, max_size=4, unique=True), ENV_NAMES)
def test_an_unknown_environment_is_carried_with_the_ones_there_are(environments, asked):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for environment in environments:
            write(folder, f"{environment}.yaml", "load:\n  batch_size: 7\n")
        if asked in environments or asked == "base":
            return
        with pytest.raises(ConfigError) as caught:
            load_config(asked, folder, environ=NO_ENV)
    error = caught.value
    assert error.known == sorted(e for e in environments if e != "base") and error.path == folder
    assert [(p.key, p.value) for p in error.problems] == [("env", asked)]


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_an_unknown_key_is_carried_with_the_keys_there_are(key):
    config = load_config("dev", environ=NO_ENV)
    if key in config.provenance:
        return
    with pytest.raises(ConfigError) as caught:
        config.get(key)
    assert caught.value.known == list(config.provenance)
    assert [p.key for p in caught.value.problems] == [key]


@settings(max_examples=20, deadline=None)
@given(ENV_NAMES)
def test_a_config_path_that_does_not_exist_is_carried(name):
    with tempfile.TemporaryDirectory() as folder:
        missing = Path(folder) / name
        with pytest.raises(ConfigError) as caught:
            load_config("dev", missing, environ=NO_ENV)
    assert caught.value.path == missing


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.from_regex(r"[a-z]{3,10}", fullmatch=True), st.integers(0, 10**9),
                 st.from_regex(r"[0-9]{2}/[0-9]{2}/[0-9]{4}", fullmatch=True)))
def test_an_initial_value_the_watermark_refuses_is_carried_with_the_refusal(value):
    from course_etl.loads.errors import WatermarkError

    config = load_config("dev", environ=NO_ENV, overrides={"load.initial_value": value})
    with closing(connect(":memory:")) as conn:
        create_lecture_source(conn)
        with pytest.raises(ConfigError) as caught:
            run_incremental_load(conn, config)
    error = caught.value
    assert isinstance(error.cause, WatermarkError) and error.cause.option == "initial_value"
    assert [(p.key, p.value) for p in error.problems] == [("load.initial_value", value)]
    assert str(error).endswith(error.cause.reason)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 5000), st.sampled_from("9a '"))
def test_a_value_too_long_to_read_is_carried_with_its_length(extra, character):
    from course_etl.config.layers import MAX_VALUE_CHARS, _scalar
    from course_etl.config.yamltext import YamlReadError

    raw = character * (MAX_VALUE_CHARS + extra)
    with pytest.raises(YamlReadError) as caught:
        _scalar(raw, "--set load.key")
    assert (caught.value.size, caught.value.source) == (len(raw), "--set load.key")


def test_a_config_error_survives_pickling_with_its_facts(config_dir):
    import pickle

    with pytest.raises(ConfigError) as caught:
        load_config("dve", config_dir, environ=NO_ENV)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.known == caught.value.known
    assert [str(p) for p in copy.problems] == problems_of(caught)
