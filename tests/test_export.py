"""Export: the Airflow 3 file is valid Airflow 3 and runs the same functions; crontab; Dagster.

The real Airflow and Dagster run in ``integration/`` (their own virtualenvs). Here the Airflow
file is executed against minimal stand-ins for the few Airflow names it imports, which proves it
wires the tasks, schedule and retries as the pipeline says and that its callables leave the
warehouse exactly as the local runner does.
"""

import ast
import sys
import types
from datetime import date, datetime, timedelta

import pytest

from course_etl.db import connect
from course_etl.scheduling.export import cli_command, to_airflow, to_crontab, to_dagster
from course_etl.scheduling.lecture import (
    WAREHOUSE_TABLES,
    customers_pipeline,
    prepare_lecture_warehouse,
)
from course_etl.scheduling.pipeline import Pipeline, PipelineError, Task
from course_etl.scheduling.runner import (
    LocalRunner,
    SimulatedClock,
    snapshots_equal,
    warehouse_snapshot,
)


class FakeOperator:
    def __init__(self, *, task_id, python_callable, **options):
        self.task_id, self.python_callable, self.options = task_id, python_callable, options
        self.downstream = []
        FakeDAG.current.tasks.append(self)

    def __rshift__(self, other):
        self.downstream.append(other.task_id)
        return other


class FakeDAG:
    current = None

    def __init__(self, **options):
        self.options, self.tasks = options, []

    def __enter__(self):
        FakeDAG.current = self
        return self

    def __exit__(self, *exc):
        FakeDAG.current = None


@pytest.fixture
def fake_airflow(monkeypatch):
    modules = {
        "airflow": types.ModuleType("airflow"),
        "airflow.sdk": types.SimpleNamespace(
            DAG=FakeDAG, CronTriggerTimetable=lambda expression, timezone: (
                "CronTriggerTimetable", expression, timezone)),
        "airflow.providers.standard.operators.python":
            types.SimpleNamespace(PythonOperator=FakeOperator),
        "pendulum": types.SimpleNamespace(
            datetime=lambda y, m, d, tz: ("pendulum", y, m, d, tz)),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def load_dag(text):
    namespace = {"__name__": "generated_dag"}
    exec(compile(text, "customers_etl.py", "exec"), namespace)  # noqa: S102
    return namespace["dag"]


def test_airflow_file_uses_airflow_3_names_only():
    text = to_airflow(customers_pipeline(), warehouse="/srv/etl/warehouse.db")
    ast.parse(text)
    assert "from airflow.sdk import DAG" in text
    assert "from airflow.providers.standard.operators.python import PythonOperator" in text
    assert "schedule_interval" not in text and "airflow.operators.python" not in text
    assert "schedule=CronTriggerTimetable('5 2 * * *', timezone='UTC')" in text
    assert "catchup=False" in text
    assert "WAREHOUSE = os.environ.get('COURSE_ETL_WAREHOUSE', '/srv/etl/warehouse.db')" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_airflow_dag_matches_the_pipeline(fake_airflow):
    pipeline = customers_pipeline(with_check=True)
    dag = load_dag(to_airflow(pipeline, warehouse="/srv/etl/warehouse.db"))
    assert dag.options["dag_id"] == "customers_etl"
    assert dag.options["schedule"] == ("CronTriggerTimetable", "5 2 * * *", "UTC")
    assert dag.options["catchup"] is False
    assert dag.options["start_date"] == ("pendulum", 2024, 10, 1, "UTC")
    assert [t.task_id for t in dag.tasks] == pipeline.order
    edges = [(t.task_id, d) for t in dag.tasks for d in t.downstream]
    assert edges == pipeline.edges
    for operator in dag.tasks:
        assert operator.options["retries"] == pipeline[operator.task_id].retries
        assert operator.options["retry_delay"] == timedelta(minutes=5)


def test_airflow_callables_leave_the_warehouse_as_the_local_runner(fake_airflow, tmp_path,
                                                                  monkeypatch):
    pipeline = customers_pipeline(with_check=True)
    ours, theirs = tmp_path / "local.db", tmp_path / "airflow.db"
    local, exported = connect(ours), connect(theirs)
    for conn in (local, exported):
        prepare_lecture_warehouse(conn)
    LocalRunner(local, clock=SimulatedClock()).run(pipeline, date(2024, 10, 1))

    dag = load_dag(to_airflow(pipeline, warehouse=theirs))
    ti = types.SimpleNamespace(try_number=1)
    for operator in dag.tasks:  # in dependency order, as Airflow would run them
        operator.python_callable(logical_date=datetime(2024, 10, 1, 2, 5), ti=ti)
    assert snapshots_equal(warehouse_snapshot(local, WAREHOUSE_TABLES),
                           warehouse_snapshot(exported, WAREHOUSE_TABLES))
    local.close()
    exported.close()


def full_load(conn):
    """Same name as course_etl.loads.engine.full_load, other module: the export must alias one."""


def test_exponential_backoff_and_aliases_for_clashing_function_names():
    from course_etl.loads.engine import full_load as real_full_load

    first = Task(real_full_load, name="first", retries=2, retry_exponential_backoff=True,
                 params={"source": "s", "target": "t"})
    second = Task(full_load, name="second")
    first >> second
    text = to_airflow(Pipeline("p", [first, second]), warehouse="/w.db")
    assert "retry_exponential_backoff=2.0" in text
    assert "from course_etl.loads.engine import full_load\n" in text
    assert "from test_export import full_load as full_load_1\n" in text
    assert "result = full_load_1(conn)" in text


def test_relative_warehouse_and_unimportable_tasks_are_refused():
    with pytest.raises(PipelineError, match="absolute path"):
        to_airflow(customers_pipeline(), warehouse="warehouse.db")

    def local(conn):
        return None

    with pytest.raises(PipelineError, match="cannot be imported"):
        to_airflow(Pipeline("p", [Task(local)]), warehouse="/w.db")


def test_crontab_calls_the_cli_with_the_venv_python_lock_and_log():
    entry = to_crontab(customers_pipeline(), warehouse="/srv/etl/warehouse.db",
                       project_dir="/srv/etl", python="/srv/etl/.venv/bin/python")
    assert entry.splitlines() == [
        "# course_etl pipeline customers_etl: At 02:05 (server time)",
        "5 2 * * * cd /srv/etl && /usr/bin/flock -n /tmp/course_etl_customers_etl.lock "
        "/srv/etl/.venv/bin/python -m course_etl pipeline run customers_etl "
        "--db /srv/etl/warehouse.db >> /srv/etl/logs/customers_etl.log 2>&1",
    ]
    assert cli_command(customers_pipeline(), warehouse="/w.db")[0] == sys.executable


def test_crontab_refuses_a_pipeline_in_another_time_zone():
    a = Task(Pipeline.__init__, name="a")  # any importable function will do for the check
    with pytest.raises(PipelineError, match="server's zone"):
        to_crontab(Pipeline("p", [a], timezone="Europe/Berlin"), warehouse="/w.db",
                   project_dir="/srv")


def test_dagster_file_has_assets_retry_policies_job_and_schedule():
    text = to_dagster(customers_pipeline(with_check=True), warehouse="/srv/etl/warehouse.db")
    tree = ast.parse(text)
    assets = [node for node in tree.body if isinstance(node, ast.FunctionDef)
              and any("asset" in ast.unparse(d) for d in node.decorator_list)]
    assert [a.name for a in assets] == ["full_load_asset", "incremental_load_asset",
                                        "row_count_check_asset"]
    decorators = [ast.unparse(a.decorator_list[0]) for a in assets]
    assert "deps=['full_load']" in decorators[1]
    assert "RetryPolicy(max_retries=1, delay=300)" in decorators[0]
    assert "cron_schedule='5 2 * * *'" in text and "execution_timezone='UTC'" in text
    assert "defs = Definitions(" in text


@pytest.fixture
def cli(monkeypatch):
    """course_etl's real command line."""
    from course_etl import cli as main_cli

    return main_cli.main


def test_cli_describe_and_next(cli, capsys):
    assert cli(["schedule", "describe", "30 6 * * 1-5", "--tz", "Europe/Berlin", "-n", "2",
                "--after", "2024-10-04"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "At 06:30, Monday through Friday",
        "Fri 2024-10-04 06:30 CEST",
        "Mon 2024-10-07 06:30 CEST",
    ]
    assert cli(["schedule", "next", "61 * * * *"]) == 2
    assert "field 1 (minute)" in capsys.readouterr().err


def test_cli_run_backfill_and_export(cli, capsys, tmp_path):
    db = tmp_path / "warehouse.db"
    conn = connect(db)
    prepare_lecture_warehouse(conn)
    conn.close()
    assert cli(["pipeline", "run", "customers_etl", "--db", str(db), "--date",
                "2024-10-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("customers_etl @ 2024-10-01 02:05 UTC: success")
    assert cli(["pipeline", "backfill", "customers_etl", "--db", str(db), "--start",
                "2024-10-01", "--end", "2024-10-03"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    out_file = tmp_path / "dag.py"
    assert cli(["pipeline", "export", "customers_etl", "--db", str(db), "--to", "airflow",
                "--out", str(out_file)]) == 0
    assert "from airflow.sdk import DAG" in out_file.read_text()
    assert cli(["schedule", "crontab", "customers_etl", "--db", str(db), "--project-dir",
                str(tmp_path)]) == 0
    assert "flock -n" in capsys.readouterr().out.splitlines()[-1]
    assert cli(["pipeline", "run", "nope", "--db", str(db)]) == 2
    assert "unknown pipeline 'nope' (known: customers_etl" in capsys.readouterr().err


def no_retry_pipeline():
    """The lecture's pipeline without retries: the CLI really waits between retries."""
    return customers_pipeline(retries=0)


def test_cli_run_of_a_failing_pipeline_exits_1(cli, capsys, tmp_path):
    db = tmp_path / "empty.db"  # no source table: full_load fails
    assert cli(["pipeline", "run", "test_export:no_retry_pipeline",
                "--db", str(db), "--date", "2024-10-01"]) == 1
    assert "UnknownTableError" in capsys.readouterr().out


LECTURE_DAG = '''from airflow import DAG
from airflow.operators.python import PythonOperator
from datetime import datetime

with DAG(
    dag_id="customers_etl",
    start_date=datetime(2024,10,1),
    schedule_interval="@daily",
    catchup=False,
    default_args={"retries": 1},
) as dag:
    t1 = PythonOperator(task_id="full_load", python_callable=print)
'''


def test_the_lecture_dag_has_exactly_the_airflow_3_problems():
    from course_etl.scheduling.export import airflow3_problems

    problems = airflow3_problems(LECTURE_DAG)
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 2", "line 5"]
    assert "from airflow.sdk import DAG" in problems[0]
    assert "airflow.providers.standard.operators.python" in problems[1]
    assert "schedule_interval= was removed" in problems[2]
    no_catchup = LECTURE_DAG.replace("    catchup=False,\n", "")
    assert "no catchup=" in airflow3_problems(no_catchup)[-1]
    assert airflow3_problems(to_airflow(customers_pipeline(), warehouse="/w.db")) == []
