"""Load and run the exported customers pipeline on a real Dagster, in its own virtualenv.

Run by ``make test-dagster`` with the interpreter of ``.venv-dagster`` (dagster plus this
package). It writes the definitions file with ``to_dagster``, imports it,
checks it with ``Definitions.validate_loadable`` (assets, dependencies, retry policies, job and
schedule as the pipeline says), then materializes the assets in process for three days of the
lecture's story against one temporary SQLite warehouse while the local runner loads another, and
asserts both warehouses end exactly alike each day. Exits non-zero on any difference.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_structure(module, pipeline) -> None:
    """Assets, their deps and retry policies, the job and the schedule match the pipeline."""
    from dagster import AssetKey, Definitions

    Definitions.validate_loadable(module.defs)
    by_name = {a.key.to_user_string(): a for a in module.ASSETS}
    assert sorted(by_name) == sorted(pipeline.order), sorted(by_name)
    for task in pipeline:
        asset = by_name[task.name]
        deps = sorted(k.to_user_string() for k in asset.asset_deps[AssetKey(task.name)])
        assert deps == sorted(u.name for u in task.upstream), (task.name, deps)
        policy = asset.op.retry_policy
        assert policy.max_retries == task.retries, (task.name, policy)
        assert policy.delay == task.retry_delay.total_seconds(), (task.name, policy)
    schedule = module.defs.resolve_schedule_def(f"{pipeline.name}_schedule")
    assert schedule.cron_schedule == pipeline.schedule, schedule.cron_schedule
    assert schedule.execution_timezone == pipeline.timezone, schedule.execution_timezone
    print(f"validate_loadable: assets {sorted(by_name)}, edges {pipeline.edges}, "
          f"schedule {schedule.cron_schedule!r} ({schedule.execution_timezone})")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="course_etl_dagster_") as tmp:
        tmp_path = Path(tmp)
        os.environ["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
        (tmp_path / "dagster_home").mkdir()

        from dagster import DagsterInstance, materialize

        from course_etl.sample_data import apply_lecture_changes
        from course_etl.db import connect
        from course_etl.scheduling import LocalRunner, SimulatedClock
        from course_etl.scheduling.lecture import (
            WAREHOUSE_TABLES,
            customers_pipeline,
            prepare_lecture_warehouse,
        )
        from course_etl.scheduling.export import to_dagster
        from course_etl.scheduling.runner import snapshots_equal, warehouse_snapshot

        started = time.perf_counter()
        pipeline = customers_pipeline(with_check=True)
        local_db, dagster_db = tmp_path / "local.db", tmp_path / "dagster_warehouse.db"
        definitions = tmp_path / f"{pipeline.name}_dagster.py"
        definitions.write_text(to_dagster(pipeline, warehouse=dagster_db))
        module = load_module(definitions)
        check_structure(module, pipeline)

        local, on_dagster = connect(local_db), connect(dagster_db)
        for conn in (local, on_dagster):
            prepare_lecture_warehouse(conn)
        runner = LocalRunner(local, clock=SimulatedClock())
        instance = DagsterInstance.ephemeral()
        # The lecture's changes are stamped 10-05 and 10-06: the runs of 10-06 and 10-07 load them.
        for day, changes in ((5, None), (6, 1), (7, 2)):
            if changes:
                for conn in (local, on_dagster):
                    apply_lecture_changes(conn, changes)
            tick = f"2024-10-{day:02d}T02:05:00+00:00"
            runner_date = datetime.fromisoformat(tick)
            report = runner.run(pipeline, runner_date)
            assert report.state == "success", report.table()
            result = materialize(module.ASSETS, instance=instance,
                                 tags={"dagster/scheduled_execution_time": tick})
            assert result.success, result
            ours = warehouse_snapshot(local, WAREHOUSE_TABLES)
            theirs = warehouse_snapshot(on_dagster, WAREHOUSE_TABLES)
            assert snapshots_equal(ours, theirs), (ours, theirs)
            print(f"{runner_date:%Y-%m-%d %H:%M} materialize(): success, warehouse equal to the "
                  f"local runner's ({len(theirs['dw_customers'])} customers)")
        local.close()
        on_dagster.close()
        print(f"Dagster check passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
