"""Load and run the exported pipelines on a real Airflow 3, in its own virtualenv.

Run by ``make test-airflow`` with the interpreter of ``.venv-airflow`` (apache-airflow 3.x plus
this package). It checks that every state word of :mod:`course_etl.states` is one of Airflow's
own (``TaskInstanceState``, ``DagRunState``); writes the DAG files of customers_etl and the
capstone with ``to_airflow`` into a temporary DAGs folder, loads them with ``DagBag`` (no import
errors; the same task ids, edges, timetable, retries, start date, catchup and params as the
pipelines), migrates a throw-away SQLite metadata database, then:

* runs three days of customers_etl with ``dag.test()`` against one temporary SQLite warehouse
  and the local runner against another, and asserts both warehouses end exactly alike each day;
* watches Airflow's own retry rule (:data:`course_etl.retries.AIRFLOW_RULE`, quoted by notebook
  02) on a small DAG: a ``TypeError`` is retried while tries remain, ``AirflowFailException``
  fails at once, ``AirflowSkipException`` skips, the task after a failed one is
  ``upstream_failed``;
* runs the faulty day of ``integration/faulty_day.py`` (a short feed, a flaky silver) on Airflow
  and on the local runner from copies of one warehouse, and asserts identical task states,
  tries and run state, and identical warehouses.

Exits non-zero on any difference. Everything lives in a temporary directory; no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # integration/: the faulty day
import faulty_day  # noqa: E402

# Airflow's retry rule, watched on a DAG of four tasks (retries=1, no wait between tries).
RULES_DAG = """
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException


@dag(dag_id="retry_rules", schedule=None, start_date=pendulum.datetime(2024, 10, 1, tz="UTC"),
     catchup=False)
def retry_rules():
    @task(task_id="type_error", retries=1, retry_delay=timedelta(0))
    def type_error():
        raise TypeError("a bug: the same on every try")

    @task(task_id="fail_exception", retries=1, retry_delay=timedelta(0))
    def fail_exception():
        raise AirflowFailException("bad configuration")

    @task(task_id="skip_exception", retries=1, retry_delay=timedelta(0))
    def skip_exception():
        raise AirflowSkipException("nothing to do")

    @task(task_id="after_type_error", retries=0)
    def after_type_error():
        pass

    type_error() >> after_type_error()
    fail_exception()
    skip_exception()


retry_rules()
"""


def configure_airflow(home: Path) -> Path:
    """Point Airflow at a private home, DAGs folder and SQLite metadata DB (before importing it)."""
    dags = home / "dags"
    dags.mkdir(parents=True)
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    })
    return dags


def check_structure(dag, pipeline) -> None:
    """The loaded DAG has the pipeline's tasks, edges, schedule, retries, start and catchup."""
    assert sorted(dag.task_ids) == sorted(pipeline.order), (dag.task_ids, pipeline.order)
    edges = sorted((t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids)
    assert edges == sorted(pipeline.edges), (edges, pipeline.edges)
    from airflow.sdk import CronDataIntervalTimetable

    # An explicit timetable: every run covers one data interval, Airflow's logical date its start.
    assert isinstance(dag.timetable, CronDataIntervalTimetable), dag.timetable
    assert dag.timetable.expression == pipeline.schedule, dag.timetable.expression
    assert str(dag.timetable.timezone) == pipeline.timezone, dag.timetable.timezone
    assert set(dag.params) == {"full_refresh", "fail_once"}, dict(dag.params)
    assert dag.catchup is pipeline.catchup, dag.catchup
    start = dag.start_date.astimezone(ZoneInfo(pipeline.timezone))
    assert start.date() == pipeline.start_date, dag.start_date
    assert dag.max_active_runs == 1, dag.max_active_runs
    for task in pipeline:
        operator = dag.get_task(task.name)
        assert operator.retries == task.retries, (task.name, operator.retries)
        assert operator.retry_delay == task.retry_delay, (task.name, operator.retry_delay)
    print(f"DagBag: {dag.dag_id} loaded, tasks {pipeline.order}, edges {pipeline.edges}, "
          f"timetable {dag.timetable.expression!r} ({dag.timetable.timezone}), "
          f"catchup={dag.catchup}, params {sorted(dag.params)}")


def check_states() -> None:
    """Every word of course_etl.states is Airflow's own."""
    from airflow.utils.state import DagRunState, TaskInstanceState

    from course_etl.states import RUN_STATES, TASK_STATES

    airflow_task_states = {s.value for s in TaskInstanceState}
    airflow_run_states = {s.value for s in DagRunState}
    assert set(TASK_STATES) <= airflow_task_states, set(TASK_STATES) - airflow_task_states
    assert set(RUN_STATES) <= airflow_run_states, set(RUN_STATES) - airflow_run_states
    print(f"states: task {list(TASK_STATES)} and run {list(RUN_STATES)} are Airflow's "
          f"TaskInstanceState and DagRunState values")


def run_states(dag_run) -> dict:
    """A finished DagRun as the comparison sees it: its state, each task's (state, tries)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = session.query(TaskInstance).filter_by(dag_id=dag_run.dag_id,
                                                          run_id=dag_run.run_id).all()
        tasks = {ti.task_id: (str(ti.state.value if hasattr(ti.state, "value") else ti.state),
                              ti.try_number) for ti in instances}
    state = dag_run.state.value if hasattr(dag_run.state, "value") else str(dag_run.state)
    return {"run": state, "tasks": tasks}


def check_retry_rule(dag) -> None:
    """What AIRFLOW_RULE says, observed: retried while tries remain unless AirflowFailException."""
    from course_etl.retries import AIRFLOW_RULE

    seen = run_states(dag.test())
    assert seen == {"run": "failed", "tasks": {
        "type_error": ("failed", 2), "after_type_error": ("upstream_failed", 0),
        "fail_exception": ("failed", 1), "skip_exception": ("skipped", 1)}}, seen
    print(f"retry rule observed ({seen['tasks']}): {AIRFLOW_RULE}")


def check_course_rule(dag) -> None:
    """The exported DAG makes Airflow follow the course's rule: the bug fails at once
    (AirflowFailException), the flaky task is retried, as on the local runner."""
    tick = faulty_day.rule_pipeline().run_on(faulty_day.FAULT_DAY)
    theirs = run_states(dag.test(logical_date=tick, run_conf={"fail_once": "flaky_source"}))
    ours = faulty_day.rule_locally()
    assert theirs == ours, (theirs, ours)
    print(f"course rule on Airflow: {theirs['tasks']}, as on the local runner")


def check_faulty_day(dag, tmp_path: Path) -> None:
    """The faulty day on Airflow and on the local runner: the same states, the same data."""
    faulty_day.compare(tmp_path, "airflow", lambda warehouse: run_states(dag.test(
        logical_date=faulty_day.tick(faulty_day.FAULT_DAY),
        run_conf={"fail_once": faulty_day.FAIL_ONCE})))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="course_etl_airflow_") as tmp:
        tmp_path = Path(tmp)
        dags = configure_airflow(tmp_path / "airflow_home")

        from course_etl.capstone import build_pipeline, capstone_config
        from course_etl.db import connect
        from course_etl.sample_data import apply_lecture_changes
        from course_etl.scheduling import LocalRunner, SimulatedClock
        from course_etl.scheduling.export import to_airflow
        from course_etl.scheduling.lecture import (
            WAREHOUSE_TABLES,
            customers_pipeline,
            prepare_lecture_warehouse,
        )
        from course_etl.scheduling.runner import snapshots_equal, warehouse_snapshot

        pipeline = customers_pipeline(with_check=True)
        local_db, airflow_db = tmp_path / "local.db", tmp_path / "airflow_warehouse.db"
        (dags / f"{pipeline.name}.py").write_text(to_airflow(pipeline, warehouse=airflow_db))
        capstone = build_pipeline(capstone_config("prod"))
        (dags / f"{capstone.name}.py").write_text(
            to_airflow(capstone, warehouse=tmp_path / "capstone.db"))
        (dags / "retry_rules.py").write_text(RULES_DAG)
        faulty, rule = faulty_day.pipeline(), faulty_day.rule_pipeline()
        (dags / "capstone_faulty_day.py").write_text(  # not faulty_day.py: that is the helper
            to_airflow(faulty, warehouse=faulty_day.warehouse_for(tmp_path, "airflow")))
        (dags / f"{rule.name}.py").write_text(
            to_airflow(rule, warehouse=tmp_path / "retry_rule.db"))
        check_states()

        started = time.perf_counter()
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(dags))
        assert not bag.import_errors, bag.import_errors
        dag = bag.dags[pipeline.name]  # not bag.get_dag(): that one queries the metadata DB
        check_structure(dag, pipeline)
        check_structure(bag.dags[capstone.name], capstone)

        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                       stdout=subprocess.DEVNULL)

        local, on_airflow = connect(local_db), connect(airflow_db)
        for conn in (local, on_airflow):
            prepare_lecture_warehouse(conn)
        runner = LocalRunner(local, clock=SimulatedClock())
        # The lecture's changes are stamped 10-05 and 10-06: the runs of 10-06 and 10-07 load them.
        for day, changes in ((5, None), (6, 1), (7, 2)):
            if changes:
                for conn in (local, on_airflow):
                    apply_lecture_changes(conn, changes)
            logical_date = datetime(2024, 10, day, 2, 5, tzinfo=UTC)
            report = runner.run(pipeline, logical_date)
            assert report.state == "success", report.table()
            # dag.test() runs "by hand": the interval is the last complete one before the date.
            dag_run = dag.test(logical_date=logical_date)
            assert str(dag_run.state) in ("success", "DagRunState.SUCCESS"), dag_run.state
            interval = (dag_run.data_interval_start, dag_run.data_interval_end)
            assert interval == (report.context.data_interval_start,
                                report.context.data_interval_end), (interval, report.context)
            ours = warehouse_snapshot(local, WAREHOUSE_TABLES)
            theirs = warehouse_snapshot(on_airflow, WAREHOUSE_TABLES)
            assert snapshots_equal(ours, theirs), (ours, theirs)
            rows = len(theirs["dw_customers"])
            print(f"{logical_date:%Y-%m-%d %H:%M} dag.test(): {dag_run.state}, warehouse equal to "
                  f"the local runner's ({rows} customers)")
        local.close()
        on_airflow.close()
        check_retry_rule(bag.dags["retry_rules"])
        check_faulty_day(bag.dags[faulty.name], tmp_path)
        check_course_rule(bag.dags[rule.name])
        print(f"Airflow check passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
