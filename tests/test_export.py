"""Export: the Airflow 3 file is valid Airflow 3 and runs the same functions; crontab; Dagster.

The real Airflow and Dagster run in ``integration/`` (their own virtualenvs). Here the Airflow
file is executed against minimal stand-ins for the few ``airflow.sdk`` names it imports, which
proves it wires the tasks, timetable, params and retries as the pipeline says and that its task
functions leave the warehouse exactly as the local runner does; ruff checks both files with its
Airflow rules.
"""

import ast
import json
import os
import signal
import sqlite3
import subprocess
import sys
import types
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from builders import run_start
from hypothesis import given, settings
from hypothesis import strategies as st

from course_etl.capstone import build_pipeline, capstone_config
from course_etl.db import connect
from course_etl.errors import CourseEtlError
from course_etl.facts import SCHEDULE
from course_etl.monitoring.checks import CheckFailedError
from course_etl.retries import fails_fast, reason
from course_etl.scheduling.cron import describe_cron
from course_etl.scheduling.export import cli_command, to_airflow, to_crontab, to_dagster
from course_etl.scheduling.export.common import _RESERVED
from course_etl.scheduling.export.crontab import lock_file
from course_etl.scheduling.lecture import (
    WAREHOUSE_TABLES,
    customers_pipeline,
    prepare_lecture_warehouse,
    row_count_check,
)
from course_etl.scheduling.pipeline import Pipeline, PipelineError, RunContext, Task
from course_etl.scheduling.runner import (
    InjectedFailure,
    LocalRunner,
    SimulatedClock,
    snapshots_equal,
    warehouse_snapshot,
)


class FakeTask:
    """What a TaskFlow call returns: the task id, its options, the function and its edges."""

    def __init__(self, fn, options):
        self.fn, self.options, self.task_id = fn, options, options["task_id"]
        self.downstream = []

    def __rshift__(self, other):
        self.downstream.append(other.task_id)
        return other


class FakeDAG:
    def __init__(self, options):
        self.options, self.tasks = options, []


class FakeAirflow:
    """Stand-ins for the names the file imports from airflow.sdk; ``context`` is what
    get_current_context() returns while a task function runs."""

    def __init__(self):
        self.dags, self.current, self.context = [], None, {}

    def dag(self, **options):
        def decorate(fn):
            def build():
                self.current = FakeDAG(options)
                fn()
                self.dags.append(self.current)
            return build
        return decorate

    def task(self, **options):
        def decorate(fn):
            def call():
                created = FakeTask(fn, options)
                self.current.tasks.append(created)
                return created
            return call
        return decorate

    def module(self):
        return types.SimpleNamespace(
            dag=self.dag, task=self.task, get_current_context=lambda: self.context,
            Param=lambda default, **schema: {"default": default, **schema},
            CronDataIntervalTimetable=lambda cron, timezone: ("timetable", cron, timezone))


class AirflowFailException(Exception):  # noqa: N818  (Airflow's name)
    """Stand-in for airflow.sdk.exceptions.AirflowFailException."""


@pytest.fixture
def fake_airflow(monkeypatch):
    airflow = FakeAirflow()
    modules = {
        "airflow": types.ModuleType("airflow"),
        "airflow.sdk": airflow.module(),
        "airflow.sdk.exceptions": types.SimpleNamespace(
            AirflowFailException=AirflowFailException),
        "pendulum": types.SimpleNamespace(
            datetime=lambda y, m, d, tz: ("pendulum", y, m, d, tz)),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return airflow


def load_dag(text, airflow):
    namespace = {"__name__": "generated_dag"}
    exec(compile(text, "customers_etl.py", "exec"), namespace)  # noqa: S102
    return airflow.dags[-1]


def run_task(airflow, operator, *, start, end, try_number=1, fail_once="", run_after=None):
    """Call a task's function as Airflow would, with the run's interval and params."""
    airflow.context = {
        "ti": types.SimpleNamespace(task_id=operator.task_id, try_number=try_number),
        "params": {"full_refresh": False, "fail_once": fail_once},
        "dag_run": types.SimpleNamespace(run_after=run_after),
    }
    if end is not None:  # a run triggered without a logical date has no interval in its context
        airflow.context |= {"data_interval_start": start, "data_interval_end": end}
    return operator.fn()


def test_airflow_file_is_taskflow_with_an_explicit_timetable():
    text = to_airflow(customers_pipeline(), warehouse="/srv/etl/warehouse.db")
    ast.parse(text)
    assert "from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, " \
           "task" in text
    assert "PythonOperator" not in text and "schedule_interval" not in text
    assert (f"schedule=CronDataIntervalTimetable({SCHEDULE.cron!r}, "
            f"timezone={SCHEDULE.timezone!r}),") in text
    assert "catchup=False" in text
    assert "WAREHOUSE = os.environ.get('COURSE_ETL_WAREHOUSE', '/srv/etl/warehouse.db')" in text
    assert "    full_load = run_full_load()\n" in text
    assert "    full_load >> incremental_load\n" in text
    assert max(len(line) for line in text.splitlines()) <= 100


@pytest.mark.parametrize("to", [to_airflow, to_dagster])
def test_generated_files_pass_ruff_with_the_airflow_rules(to, tmp_path):
    pipelines = [customers_pipeline(with_check=True), build_pipeline(capstone_config("prod"))]
    for pipeline in pipelines:
        (tmp_path / f"{pipeline.name}.py").write_text(
            to(pipeline, warehouse=tmp_path / "warehouse" / "a_rather_long_file_name_for_a.db"))
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--preview",
         "--select", "AIR,E,F,W,B,UP", "--line-length", "100", str(tmp_path)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_airflow_dag_matches_the_pipeline(fake_airflow):
    pipeline = customers_pipeline(with_check=True)
    dag = load_dag(to_airflow(pipeline, warehouse="/srv/etl/warehouse.db"), fake_airflow)
    assert dag.options["dag_id"] == "customers_etl"
    assert dag.options["schedule"] == ("timetable", SCHEDULE.cron, SCHEDULE.timezone)
    assert dag.options["catchup"] is False
    assert dag.options["start_date"] == ("pendulum", 2024, 10, 1, "UTC")
    assert dag.options["params"]["full_refresh"]["default"] is False
    assert dag.options["params"]["fail_once"]["enum"] == ["", *pipeline.order]
    assert [t.task_id for t in dag.tasks] == pipeline.order
    edges = [(t.task_id, d) for t in dag.tasks for d in t.downstream]
    assert edges == pipeline.edges
    for operator in dag.tasks:
        assert operator.options["retries"] == pipeline[operator.task_id].retries
        assert operator.options["retry_delay"] == timedelta(minutes=5)


def test_airflow_tasks_leave_the_warehouse_as_the_local_runner(fake_airflow, tmp_path):
    pipeline = customers_pipeline(with_check=True)
    ours, theirs = tmp_path / "local.db", tmp_path / "airflow.db"
    local, exported = connect(ours), connect(theirs)
    for conn in (local, exported):
        prepare_lecture_warehouse(conn)
    report = LocalRunner(local, clock=SimulatedClock()).run(pipeline, date(2024, 10, 2))

    dag = load_dag(to_airflow(pipeline, warehouse=theirs), fake_airflow)
    interval = {"start": run_start("2024-10-01"), "end": run_start("2024-10-02")}
    for operator in dag.tasks:  # in dependency order, as Airflow would run them
        run_task(fake_airflow, operator, **interval)
    assert snapshots_equal(warehouse_snapshot(local, WAREHOUSE_TABLES),
                           warehouse_snapshot(exported, WAREHOUSE_TABLES))
    local.close()
    exported.close()
    assert (report.context.data_interval_start, report.context.data_interval_end) == (
        interval["start"], interval["end"])


def test_airflow_tasks_get_the_run_context_and_the_fault_param(fake_airflow, monkeypatch):
    pipeline = customers_pipeline(with_check=True)
    dag = load_dag(to_airflow(pipeline, warehouse="/tmp/unused.db"), fake_airflow)
    seen = []  # the file calls examples.row_count_check at run time: replace it to watch
    monkeypatch.setattr("course_etl.scheduling.lecture.row_count_check",
                        lambda conn, *, context, **params: seen.append(context))
    check = dag.tasks[-1]
    start, end = run_start("2024-10-01"), run_start("2024-10-02")
    with pytest.raises(InjectedFailure, match="fail_once='row_count_check'"):
        run_task(fake_airflow, check, start=start, end=end, fail_once="row_count_check")
    run_task(fake_airflow, check, start=start, end=end, try_number=2,
             fail_once="row_count_check")
    run_task(fake_airflow, check, start=None, end=None,
             run_after=datetime(2024, 10, 2, 13, 0, tzinfo=UTC))
    assert seen == [RunContext("customers_etl", end, start, end, 2, False),
                    RunContext("customers_etl", end, start, end, 1, False)]


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
    assert "from course_etl.loads import engine\n" in text and "import test_export\n" in text
    assert "result = test_export.full_load(conn)" in text
    # a task named like a module: the module gets its full dotted name as alias
    clash = Task(real_full_load, name="engine", params={"source": "s", "target": "t"})
    assert "from course_etl.loads import engine as course_etl_loads_engine\n" in to_airflow(
        Pipeline("p", [clash]), warehouse="/w.db")
    with pytest.raises(PipelineError, match="shadow"):
        to_airflow(Pipeline("p", [Task(full_load, name="connect")]), warehouse="/w.db")


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
    lock = lock_file(customers_pipeline(), "/srv/etl/warehouse.db")
    assert entry.splitlines() == [
        f"# course_etl pipeline customers_etl: {describe_cron(SCHEDULE.cron)} (server time)",
        f"{SCHEDULE.cron} cd /srv/etl && /usr/bin/flock -n {lock} "
        "/srv/etl/.venv/bin/python -m course_etl pipeline run customers_etl "
        "--db /srv/etl/warehouse.db --started-by cron >> /srv/etl/logs/customers_etl.log 2>&1",
    ]
    assert str(lock).startswith("/tmp/course_etl_customers_etl_warehouse_")
    assert cli_command(customers_pipeline(), warehouse="/w.db")[0] == sys.executable


@given(st.lists(st.text(st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters="/"),
                        min_size=1, max_size=12), min_size=2, max_size=5, unique=True))
def test_each_warehouse_of_a_pipeline_gets_its_own_lock(folders):
    """dev and prod (any two warehouses) never share a lock; one warehouse always has the same;
    the lock is a plain file name whatever the folders are called."""
    pipeline = customers_pipeline()
    paths = [f"/srv/{folder}/warehouse.db" for folder in folders]
    locks = [lock_file(pipeline, path) for path in paths]
    assert len(set(locks)) == len(paths)
    assert locks == [lock_file(pipeline, path) for path in paths]
    assert all(lock.parent.as_posix() == "/tmp" and " " not in lock.name for lock in locks)


def test_dev_and_prod_crontab_entries_run_side_by_side(tmp_path):
    """The two entries' locks differ: while dev's run holds its lock, prod's flock still runs."""
    import shutil
    import time

    flock = shutil.which("flock")
    if flock is None:
        pytest.skip("util-linux flock is not installed")
    pipeline = customers_pipeline()
    dev, prod = (lock_file(pipeline, tmp_path / env / "warehouse.db") for env in ("dev", "prod"))
    held = tmp_path / "held"
    holding = subprocess.Popen([flock, "-n", str(dev), "sh", "-c", f"touch {held}; sleep 60"],
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a busy machine may be slow to start it
        while not held.exists():  # dev's run now holds its lock
            assert holding.poll() is None and time.monotonic() < deadline, "flock never ran"
            time.sleep(0.05)
        assert subprocess.run([flock, "-n", str(dev), "true"]).returncode == 1
        assert subprocess.run([flock, "-n", str(prod), "true"]).returncode == 0
    finally:
        os.killpg(holding.pid, signal.SIGKILL)  # flock and the run it holds the lock for
        holding.wait()
        for lock in (dev, prod):
            lock.unlink(missing_ok=True)


def test_crontab_refuses_a_pipeline_in_another_time_zone():
    a = Task(Pipeline.__init__, name="a")  # any importable function will do for the check
    with pytest.raises(PipelineError, match="server's zone"):
        to_crontab(Pipeline("p", [a], timezone="Europe/Berlin"), warehouse="/w.db",
                   project_dir="/srv")


def test_dagster_file_has_assets_checks_retry_policies_job_and_schedule():
    text = to_dagster(customers_pipeline(with_check=True), warehouse="/srv/etl/warehouse.db")
    tree = ast.parse(text)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)
                 and node.decorator_list and node.name != "warehouse"]
    assert [f.name for f in functions] == ["full_load_asset", "incremental_load_asset",
                                           "row_count_check_check"]
    decorators = [ast.unparse(f.decorator_list[0]) for f in functions]
    assert "deps=['full_load']" in decorators[1]
    assert "RetryPolicy(max_retries=1, delay=300)" in decorators[0]
    assert decorators[2].startswith("asset_check(asset='incremental_load', "
                                    "name='row_count_check', blocking=True")
    assert f"cron_schedule={SCHEDULE.cron!r}" in text
    assert f"execution_timezone={SCHEDULE.timezone!r}" in text
    assert "Backoff" not in text and "defs = Definitions(" in text


def test_a_check_needs_one_upstream_asset():
    check = Task(row_count_check, params={"target": "t"})
    with pytest.raises(PipelineError, match="exactly one upstream"):
        to_dagster(Pipeline("p", [check]), warehouse="/w.db")


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
    assert out.startswith(f"customers_etl @ 2024-10-01 {SCHEDULE.time_of_day} UTC: success")
    assert cli(["pipeline", "backfill", "customers_etl", "--db", str(db), "--start",
                "2024-10-01", "--end", "2024-10-03"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    out_file = tmp_path / "dag.py"
    assert cli(["pipeline", "export", "customers_etl", "--db", str(db), "--to", "airflow",
                "--out", str(out_file)]) == 0
    assert "from airflow.sdk import CronDataIntervalTimetable" in out_file.read_text()
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
    connect(db).close()
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


# --- the retry rule in the exported files, and what they need at run time --------------------

ERRORS = [  # one of each class the rule names, and a few it does not
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("disk I/O error"),
    sqlite3.OperationalError('near "SELEC": syntax error'),
    ConnectionResetError("peer reset"),
    TimeoutError("slow"),
    OSError("NFS went away"),
    CourseEtlError("bad configuration"),
    CheckFailedError("blocking check(s) failed"),
    TypeError("unsupported operand"),
    NameError("name 'rows' is not defined"),
    ValueError("bad date"),
    KeyError("id"),
    InjectedFailure("injected failure 1/1"),
]


def raiser(conn, *, error_index: int):
    """A task function that raises ERRORS[error_index]."""
    raise ERRORS[error_index]


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=lambda i: type(ERRORS[i]).__name__)
def test_airflow_fails_at_once_exactly_where_the_local_runner_does(fake_airflow, index, tmp_path):
    error = ERRORS[index]
    pipeline = Pipeline("p", [Task(raiser, name="t", params={"error_index": index}, retries=2)])
    dag = load_dag(to_airflow(pipeline, warehouse=tmp_path / "w.db"), fake_airflow)
    with pytest.raises(Exception) as raised:  # noqa: PT011 - which one is the point
        run_task(fake_airflow, dag.tasks[0], start=None, end=None,
                 run_after=datetime(2024, 10, 2, 13, 0, tzinfo=UTC))
    runner = LocalRunner(connect(":memory:"), clock=SimulatedClock())
    report = runner.run(pipeline, date(2024, 10, 2))
    if fails_fast(error):
        assert isinstance(raised.value, AirflowFailException)
        assert raised.value.__cause__ is error and str(raised.value) == reason(error)
        assert report.tasks["t"].tries == 1
    else:  # Airflow's own rule retries it while tries remain, as the local runner does
        assert raised.value is error
        assert [a.state for a in report.tasks["t"].attempts] == [
            "up_for_retry", "up_for_retry", "failed"]


def test_the_task_log_says_what_happened_never_none(fake_airflow, tmp_path, caplog):
    pipeline = customers_pipeline()
    db = tmp_path / "w.db"
    conn = connect(db)
    prepare_lecture_warehouse(conn)
    conn.close()
    dag = load_dag(to_airflow(pipeline, warehouse=db), fake_airflow)
    interval = {"start": run_start("2024-10-01"), "end": run_start("2024-10-02")}
    with caplog.at_level("INFO"):
        returned = [run_task(fake_airflow, operator, **interval)  # Airflow logs and keeps them
                    for _ in range(2) for operator in dag.tasks]  # day 2: no full load to do
    assert returned[0].startswith("full load src_customers → dw_customers: read 3")
    assert returned[2] == "nothing to do (the task's log says why)"
    assert returned[3].startswith("incremental load src_customers → dw_customers: read ")
    assert "None" not in returned
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("no full load: dw_customers already has watermark") for m in messages)


def test_exported_files_import_only_what_the_orchestrator_locks_pin():
    """The orchestrators' venvs install course_etl from their own locks (requirements/airflow.txt,
    dagster.txt): every distribution that the modules a generated file imports pull in at run
    time must be pinned in both locks, or the DAG fails to import in Airflow or Dagster."""
    texts = [to(build_pipeline(capstone_config("prod")), warehouse="/w.db")
             for to in (to_airflow, to_dagster)]
    texts.append(to_airflow(customers_pipeline(with_check=True), warehouse="/w.db"))
    modules = sorted({node.module if isinstance(node, ast.ImportFrom) else alias.name
                      for text in texts for node in ast.walk(ast.parse(text))
                      if isinstance(node, ast.Import | ast.ImportFrom)
                      for alias in node.names
                      if (getattr(node, "module", None) or alias.name).startswith("course_etl")}
                     | {f"{node.module}.{alias.name}" for text in texts
                        for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ImportFrom)
                        and node.module and node.module.startswith("course_etl")
                        for alias in node.names if alias.name.islower()})
    # What course_etl's own loaded modules import at their top level (an optional import inside
    # a third-party library, such as seaborn's ipywidgets, is that library's business).
    script = ("import ast, importlib, importlib.metadata as m, json, sys\n"
              f"for name in {modules!r}:\n"
              "    try:\n        importlib.import_module(name)\n"
              "    except ModuleNotFoundError:\n        pass  # an attribute, not a module\n"
              "tops = set()\n"
              "for name, module in list(sys.modules.items()):\n"
              "    if name.startswith('course_etl') and getattr(module, '__file__', None):\n"
              "        tree = ast.parse(open(module.__file__, encoding='utf-8').read())\n"
              "        for node in tree.body:\n"
              "            if isinstance(node, ast.Import):\n"
              "                tops |= {a.name.split('.')[0] for a in node.names}\n"
              "            elif (isinstance(node, ast.ImportFrom) and node.module\n"
              "                  and not node.level):\n"
              "                tops.add(node.module.split('.')[0])\n"
              "owners = m.packages_distributions()\n"
              "tops -= set(sys.stdlib_module_names) | {'course_etl', '__future__'}\n"
              "print(json.dumps(sorted({d for t in tops for d in owners.get(t, [])})))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    needed = {name.lower().replace("_", "-") for name in json.loads(done.stdout)} - {"course-etl"}
    assert "pandas" in needed  # the probe sees third-party imports at all
    root = Path(__file__).resolve().parents[1]
    for lock in ("airflow.txt", "dagster.txt"):
        text = (root / "requirements" / lock).read_text(encoding="utf-8")
        pinned = {line.split("==")[0].split("[")[0].strip().lower().replace("_", "-")
                  for line in text.splitlines() if "==" in line and not line.startswith(" ")}
        assert not needed - pinned, f"requirements/{lock} lacks {sorted(needed - pinned)}"


# Each exporter's refusal carries what it refused, equal to what was given.
RELATIVE = st.text(st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters="/"),
                   min_size=1, max_size=20)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([to_airflow, to_dagster]), RELATIVE)
def test_a_relative_warehouse_is_carried(export, warehouse):
    with pytest.raises(PipelineError) as caught:
        export(customers_pipeline(), warehouse=warehouse)
    error = caught.value
    assert (error.value, error.path, error.what) == (warehouse, warehouse, "warehouse")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([to_airflow, to_dagster]),
       st.lists(st.sampled_from(sorted(_RESERVED)), min_size=1, max_size=3, unique=True),
       st.booleans())
def test_names_that_would_shadow_the_generated_file_s_are_carried(export, names, as_pipeline):
    valid = [name for name in names if name.isidentifier() and name.isascii()]
    pipeline_name = valid[0] if as_pipeline else "p"
    made = [Task(full_load, name=name) for name in (valid[1:] if as_pipeline else valid)]
    with pytest.raises(PipelineError) as caught:
        export(Pipeline(pipeline_name, made or [Task(full_load, name="t_free")]),
               warehouse="/w.db")
    assert caught.value.value == sorted(valid)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["warehouse", "project_dir", "python", "log_dir"]), RELATIVE, st.data())
def test_a_path_with_a_control_character_is_carried_with_what_it_is(what, text, data):
    at = data.draw(st.integers(0, len(text)))
    control = data.draw(st.sampled_from(["\n", "\r", "\t", "\x00", "\x1b", "\x7f"]))
    path = "/srv/" + text[:at] + control + text[at:]
    paths = {"warehouse": "/w.db", "project_dir": "/srv", what: path}
    with pytest.raises(PipelineError) as caught:
        to_crontab(customers_pipeline(), **paths)
    assert (caught.value.value, caught.value.path, caught.value.what) == (path, path, what)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(zoneinfo.available_timezones() - {"UTC"})))
def test_a_pipeline_outside_utc_is_carried_with_its_zone(timezone):
    pipeline = Pipeline("p", [Task(full_load, name="a")], timezone=timezone)
    with pytest.raises(PipelineError) as caught:
        to_crontab(pipeline, warehouse="/w.db", project_dir="/srv")
    assert (caught.value.value, caught.value.pipeline) == (timezone, "p")


@pytest.mark.parametrize("upstream", [0, 2, 3])
def test_a_check_without_one_upstream_asset_is_carried(upstream):
    check = Task(row_count_check, name="t_check", params={"target": "t"})
    for n in range(upstream):
        Task(full_load, name=f"t_{n}") >> check
    with pytest.raises(PipelineError) as caught:
        to_dagster(Pipeline("p", [check]), warehouse="/w.db")
    assert (caught.value.value, caught.value.task, caught.value.pipeline) == (
        "t_check", "t_check", "p")


@pytest.mark.parametrize("function", [row_count_check, warehouse_snapshot, reason,
                                      build_pipeline, connect, fails_fast])
def test_a_module_without_a_free_alias_is_carried(function):
    """Both names a module may be imported under are taken by tasks of the pipeline."""
    module = function.__module__
    last, dotted = module.rpartition(".")[2], module.replace(".", "_")
    user = Task(function, name="t_user")
    taken = [Task(full_load, name=name) for name in (last, dotted)]
    with pytest.raises(PipelineError) as caught:
        to_airflow(Pipeline("p", [user, *taken]), warehouse="/w.db")
    assert (caught.value.value, caught.value.module, caught.value.task) == (
        dotted, module, "t_user")
