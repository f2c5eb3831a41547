"""The faulty day that every runner must tell the same way, in Airflow's words.

``make test-airflow`` and ``make test-dagster`` run it on the real orchestrator and on the local
runner and compare: the capstone pipeline (prod's configuration, no wait between retries) runs
2024-10-01 to 2024-10-03 clean on the local runner, so the blocking volume check has its three
days of history; that warehouse is copied, and 2024-10-04 runs on each runner from its own copy.
On that day the orders API sends 5 rows instead of about 200 (a short feed) and ``silver`` fails
on its first try (``fail_once``). The course's rule (:mod:`course_etl.retries`) and states
(:mod:`course_etl.states`) say: extract and bronze ``success``; silver ``up_for_retry`` then
``success`` (2 tries); checks ``failed`` at once (a failed blocking check is not retried);
gold and publish ``upstream_failed``; the run ``failed``. Each check asserts the local runner
says exactly that, and the orchestrator says what the local runner says.

:func:`rule_pipeline` is the retry rule's own small case: a task with a bug (``TypeError``) and a
flaky one (``fail_once``), both with two retries. The course fails the bug at once and retries
the flaky task; the exports must make the orchestrators do the same (``AirflowFailException``,
Dagster's ``Failure(allow_retries=False)``), where Airflow and Dagster alone would retry both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

FAULT_DAY = date(2024, 10, 4)
CLEAN_DAYS = [date(2024, 10, 1), date(2024, 10, 2), date(2024, 10, 3)]
FAIL_ONCE = "silver"
#: The story above, as (final state, tries) per task and the run's state.
EXPECTED = {
    "run": "failed",
    "tasks": {"extract": ("success", 1), "bronze": ("success", 1), "silver": ("success", 2),
              "checks": ("failed", 1), "gold": ("upstream_failed", 0),
              "publish": ("upstream_failed", 0)},
}


RULE_EXPECTED = {"run": "failed", "tasks": {"student_bug": ("failed", 1),
                                            "flaky_source": ("success", 2)}}


def student_bug(conn: sqlite3.Connection) -> int:
    """A task with a bug: the same TypeError on every try."""
    return len(conn) + 1


def flaky_source(conn: sqlite3.Connection) -> int:
    """A task that works (its first try fails when run with fail_once=flaky_source)."""
    return conn.execute("SELECT 1").fetchone()[0]


def rule_pipeline():
    """Two independent tasks with two retries each and no wait: the retry rule's case."""
    from course_etl.facts import SCHEDULE
    from course_etl.scheduling import Pipeline, Task

    tasks = [Task(fn, retries=2, retry_delay=timedelta(0)) for fn in (student_bug, flaky_source)]
    return Pipeline("retry_rule", tasks, schedule=SCHEDULE.cron)


def rule_locally() -> dict:
    """The rule's case on the local runner, flaky_source failing its first try."""
    from course_etl.db import connect
    from course_etl.scheduling import FaultInjection, LocalRunner, SimulatedClock

    runner = LocalRunner(connect(), clock=SimulatedClock(),
                         faults=FaultInjection({"flaky_source": 1}))
    found = outcome(runner.run(rule_pipeline(), FAULT_DAY))
    assert found == RULE_EXPECTED, found
    return found


def pipeline():
    """The capstone with prod's schedule and retries, no wait between tries, and the short
    feed on the fault day (the ``extract`` task's parameter: other days get the full feed);
    named apart from the capstone's own DAG, which the Airflow check loads beside it."""
    from dataclasses import replace

    from course_etl.capstone import build_pipeline, capstone_config

    config = capstone_config("prod", ["schedule.retry_delay_minutes=0"])
    capstone = build_pipeline(config, short_feed_days=[FAULT_DAY.isoformat()])
    return replace(capstone, name="faulty_day")


def tick(day: date) -> datetime:
    """The scheduled moment of ``day``'s run (02:00 Europe/Berlin in prod)."""
    return pipeline().run_on(day)


def prepare(conn: sqlite3.Connection) -> None:
    """Run the clean days on the local runner: the history the volume check judges against."""
    from course_etl.scheduling import LocalRunner, SimulatedClock

    runner = LocalRunner(conn, clock=SimulatedClock())
    for day in CLEAN_DAYS:
        report = runner.run(pipeline(), day)
        assert report.state == "success", report.table()


def run_locally(conn: sqlite3.Connection):
    """The fault day on the local runner, ``silver`` failing once; returns its RunReport."""
    from course_etl.scheduling import FaultInjection, LocalRunner, SimulatedClock

    runner = LocalRunner(conn, clock=SimulatedClock(), faults=FaultInjection({FAIL_ONCE: 1}))
    return runner.run(pipeline(), FAULT_DAY)


def outcome(report) -> dict:
    """A RunReport as the comparison sees it: the run's state, each task's (state, tries)."""
    return {"run": str(report.state),
            "tasks": {name: (str(t.state), t.tries) for name, t in report.tasks.items()}}


def data_tables() -> list[str]:
    """The tables a run changes (the run log aside): equal snapshots, equal work."""
    from course_etl.capstone.constants import DATA_TABLES

    return list(DATA_TABLES)


def warehouse_for(tmp_path: Path, orchestrator: str) -> Path:
    """Where ``orchestrator`` ("airflow", "dagster") runs the fault day."""
    return tmp_path / f"faulty_{orchestrator}.db"


def compare(tmp_path: Path, orchestrator: str, run_there: Callable[[Path], dict]) -> dict:
    """The fault day on the local runner and, from a copy of the same warehouse, through
    ``run_there(warehouse)`` (which returns the orchestrator's :func:`outcome`): asserts the
    local runner tells :data:`EXPECTED`, the orchestrator tells the same, and both warehouses
    end alike. Returns the outcome."""
    from course_etl.db import connect
    from course_etl.scheduling.runner import snapshots_equal, warehouse_snapshot

    local = connect(tmp_path / "faulty_local.db")
    prepare(local)
    there = connect(warehouse_for(tmp_path, orchestrator))
    local.backup(there)
    ours = outcome(run_locally(local))
    assert ours == EXPECTED, ours
    theirs = run_there(warehouse_for(tmp_path, orchestrator))
    assert theirs == ours, (theirs, ours)
    assert snapshots_equal(warehouse_snapshot(local, data_tables()),
                           warehouse_snapshot(there, data_tables()))
    local.close()
    there.close()
    print(f"faulty day {FAULT_DAY}: {orchestrator} and the local runner agree: {ours}")
    return ours
