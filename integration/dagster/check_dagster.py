"""Load and run the exported pipelines on a real Dagster, in its own virtualenv.

Run by ``make test-dagster`` with the interpreter of ``.venv-dagster`` (dagster plus this
package). It writes the definitions file with ``to_dagster``, imports it,
checks it with ``Definitions.validate_loadable`` (assets, dependencies, retry policies, job and
schedule as the pipeline says), then materializes the assets in process for three days of the
lecture's story against one temporary SQLite warehouse while the local runner loads another, and
asserts both warehouses end exactly alike each day. Then it runs the faulty day of
``integration/faulty_day.py`` (a short feed, a flaky silver) on Dagster and on the local runner
from copies of one warehouse: Dagster's step events, told in Airflow's words (a step retried is
``up_for_retry``, a step never started because its upstream failed or a blocking check held it
back is ``upstream_failed``), must give the same task states, tries and run state, and the
warehouses must end alike. Exits non-zero on any difference.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # integration/: the faulty day
import faulty_day  # noqa: E402


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
    checks = {spec.name: (spec, c) for c in module.CHECKS for spec in c.check_specs}
    assert sorted(by_name) == sorted(t.name for t in pipeline if not t.is_check), sorted(by_name)
    assert sorted(checks) == sorted(t.name for t in pipeline if t.is_check), sorted(checks)
    for task in pipeline:
        if task.is_check:  # a blocking asset check on the asset upstream of it
            spec, definition = checks[task.name]
            assert spec.asset_key == AssetKey(task.upstream[0].name), (task.name, spec)
            assert spec.blocking, spec
            continue
        asset = by_name[task.name]
        deps = sorted(k.to_user_string() for k in asset.asset_deps[AssetKey(task.name)])
        assert deps == sorted(u.name for u in task.upstream), (task.name, deps)
        policy = asset.op.retry_policy
        assert policy.max_retries == task.retries, (task.name, policy)
        assert policy.delay == task.retry_delay.total_seconds(), (task.name, policy)
    schedule = module.defs.resolve_schedule_def(f"{pipeline.name}_schedule")
    assert schedule.cron_schedule == pipeline.schedule, schedule.cron_schedule
    assert schedule.execution_timezone == pipeline.timezone, schedule.execution_timezone
    print(f"validate_loadable: assets {sorted(by_name)}, blocking checks {sorted(checks)}, "
          f"edges {pipeline.edges}, "
          f"schedule {schedule.cron_schedule!r} ({schedule.execution_timezone})")


def step_key(task) -> str:
    """The Dagster step that runs ``task``: the asset's name, or ``<asset>_<check>``."""
    return f"{task.upstream[0].name}_{task.name}" if task.is_check else task.name


def run_states(result, pipeline) -> dict:
    """A materialize() result in Airflow's words: each task's (final state, tries), the run's.

    STEP_UP_FOR_RETRY counts a try that will be retried, STEP_SUCCESS and STEP_FAILURE end a
    task; a step without events never started, which Airflow calls ``upstream_failed`` when an
    upstream task failed (Dagster simply does not start what a failed step or a failed
    blocking check holds back).
    """
    events: dict[str, list[str]] = {}
    for event in result.all_events:
        if event.step_key and event.event_type_value in (
                "STEP_UP_FOR_RETRY", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            events.setdefault(event.step_key, []).append(event.event_type_value)
    ended = {"STEP_SUCCESS": "success", "STEP_FAILURE": "failed", "STEP_SKIPPED": "skipped"}
    tasks: dict[str, tuple[str, int]] = {}
    for task in pipeline:  # dependency order: a task's upstream states are known
        seen = events.get(step_key(task), [])
        if seen:
            assert all(e == "STEP_UP_FOR_RETRY" for e in seen[:-1]), (task.name, seen)
            tasks[task.name] = (ended[seen[-1]], len(seen))
        else:
            upstream = {tasks[u.name][0] for u in task.upstream}
            assert upstream & {"failed", "upstream_failed"}, (task.name, upstream)
            tasks[task.name] = ("upstream_failed", 0)
    return {"run": "success" if result.success else "failed", "tasks": tasks}


def check_faulty_day(tmp_path: Path) -> None:
    """The faulty day on Dagster and on the local runner: the same states, the same data."""
    from dagster import DagsterInstance, materialize

    from course_etl.scheduling.export import to_dagster

    def on_dagster(warehouse: Path) -> dict:
        pipeline = faulty_day.pipeline()
        definitions = tmp_path / "faulty_day_dagster.py"
        definitions.write_text(to_dagster(pipeline, warehouse=warehouse))
        module = load_module(definitions)
        tick = faulty_day.tick(faulty_day.FAULT_DAY).isoformat()
        result = materialize([*module.ASSETS, *module.CHECKS],
                             instance=DagsterInstance.ephemeral(), raise_on_error=False,
                             tags={"dagster/scheduled_execution_time": tick,
                                   "course_etl/fail_once": faulty_day.FAIL_ONCE})
        return run_states(result, pipeline)

    faulty_day.compare(tmp_path, "dagster", on_dagster)


def check_retry_rule(tmp_path: Path) -> None:
    """A bug fails at once on Dagster too (the export's Failure(allow_retries=False)), a flaky
    task is retried: the same states and tries as the local runner."""
    from dagster import DagsterInstance, materialize

    from course_etl.scheduling.export import to_dagster

    pipeline = faulty_day.rule_pipeline()
    definitions = tmp_path / "retry_rule_dagster.py"
    definitions.write_text(to_dagster(pipeline, warehouse=tmp_path / "retry_rule.db"))
    module = load_module(definitions)
    result = materialize(module.ASSETS, instance=DagsterInstance.ephemeral(),
                         raise_on_error=False, tags={"course_etl/fail_once": "flaky_source"})
    theirs, ours = run_states(result, pipeline), faulty_day.rule_locally()
    assert theirs == ours, (theirs, ours)
    print(f"retry rule on Dagster: {theirs['tasks']}, as on the local runner")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="course_etl_dagster_") as tmp:
        tmp_path = Path(tmp)
        os.environ["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
        (tmp_path / "dagster_home").mkdir()

        from dagster import DagsterInstance, materialize

        from course_etl.db import connect
        from course_etl.facts import SCHEDULE
        from course_etl.sample_data import apply_lecture_changes
        from course_etl.scheduling import LocalRunner, SimulatedClock
        from course_etl.scheduling.export import to_dagster
        from course_etl.scheduling.lecture import (
            WAREHOUSE_TABLES,
            customers_pipeline,
            prepare_lecture_warehouse,
        )
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
            tick = datetime.fromisoformat(f"2024-10-{day:02d}T{SCHEDULE.time_of_day}").replace(
                tzinfo=ZoneInfo(SCHEDULE.timezone)).isoformat()
            runner_date = datetime.fromisoformat(tick)
            report = runner.run(pipeline, runner_date)
            assert report.state == "success", report.table()
            result = materialize([*module.ASSETS, *module.CHECKS], instance=instance,
                                 tags={"dagster/scheduled_execution_time": tick})
            assert result.success, result
            verdicts = [e.passed for e in result.get_asset_check_evaluations()]
            assert verdicts == [True] * len(module.CHECKS), verdicts
            ours = warehouse_snapshot(local, WAREHOUSE_TABLES)
            theirs = warehouse_snapshot(on_dagster, WAREHOUSE_TABLES)
            assert snapshots_equal(ours, theirs), (ours, theirs)
            print(f"{runner_date:%Y-%m-%d %H:%M} materialize(): success, warehouse equal to the "
                  f"local runner's ({len(theirs['dw_customers'])} customers)")
        local.close()
        on_dagster.close()
        check_faulty_day(tmp_path)
        check_retry_rule(tmp_path)
        print(f"Dagster check passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
