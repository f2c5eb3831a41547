"""Load and run the exported customers pipeline on a real Airflow 3, in its own virtualenv.

Run by ``make test-airflow`` with the interpreter of ``.venv-airflow`` (apache-airflow 3.x plus
this package). It writes the DAG file with ``to_airflow`` into a temporary DAGs folder, loads it
with ``DagBag`` (no import errors; the same task ids, edges, schedule, retries, start date and
catchup as the pipeline), migrates a throw-away SQLite metadata database, then runs two days with
``dag.test()`` against one temporary SQLite warehouse and the local runner against another, and
asserts both warehouses end exactly alike after each day. Exits non-zero on any difference.
Everything lives in a temporary directory; no network, no server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


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
    assert type(dag.timetable).__name__ == "CronTriggerTimetable", dag.timetable
    assert dag.timetable.expression == pipeline.schedule, dag.timetable.expression
    assert dag.catchup is pipeline.catchup, dag.catchup
    assert dag.start_date.date() == pipeline.start_date, dag.start_date
    for task in pipeline:
        operator = dag.get_task(task.name)
        assert operator.retries == task.retries, (task.name, operator.retries)
        assert operator.retry_delay == task.retry_delay, (task.name, operator.retry_delay)
    print(f"DagBag: {dag.dag_id} loaded, tasks {pipeline.order}, edges {pipeline.edges}, "
          f"schedule {type(dag.timetable).__name__}({dag.timetable.expression!r}), "
          f"catchup={dag.catchup}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="course_etl_airflow_") as tmp:
        tmp_path = Path(tmp)
        dags = configure_airflow(tmp_path / "airflow_home")

        from course_etl.sample_data import apply_lecture_changes
        from course_etl.db import connect
        from course_etl.scheduling import LocalRunner, SimulatedClock
        from course_etl.scheduling.lecture import (
            WAREHOUSE_TABLES,
            customers_pipeline,
            prepare_lecture_warehouse,
        )
        from course_etl.scheduling.export import to_airflow
        from course_etl.scheduling.runner import snapshots_equal, warehouse_snapshot

        pipeline = customers_pipeline(with_check=True)
        local_db, airflow_db = tmp_path / "local.db", tmp_path / "airflow_warehouse.db"
        (dags / f"{pipeline.name}.py").write_text(to_airflow(pipeline, warehouse=airflow_db))

        started = time.perf_counter()
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(dags))
        assert not bag.import_errors, bag.import_errors
        dag = bag.dags[pipeline.name]  # not bag.get_dag(): that one queries the metadata DB
        check_structure(dag, pipeline)

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
            dag_run = dag.test(logical_date=logical_date)
            assert str(dag_run.state) in ("success", "DagRunState.SUCCESS"), dag_run.state
            ours = warehouse_snapshot(local, WAREHOUSE_TABLES)
            theirs = warehouse_snapshot(on_airflow, WAREHOUSE_TABLES)
            assert snapshots_equal(ours, theirs), (ours, theirs)
            rows = len(theirs["dw_customers"])
            print(f"{logical_date:%Y-%m-%d %H:%M} dag.test(): {dag_run.state}, warehouse equal to "
                  f"the local runner's ({rows} customers)")
        local.close()
        on_airflow.close()
        print(f"Airflow check passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
