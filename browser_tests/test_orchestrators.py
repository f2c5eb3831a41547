"""The course's pipelines in a real Airflow 3 and a real Dagster, driven through their UIs.

Each server is started as ``make airflow``/``make dagster`` start it (project-local home, every
listener on 127.0.0.1), in a temporary project folder. Airflow: log in, find both DAGs, trigger
``customers_etl``, wait for success, read the load's counts in a task log, trigger a run with the
``fail_once`` param and see the retry, backfill a week (``airflow backfill create``: the UI's
backfill form has a date picker no test can type into reliably), then check the warehouse equals
the local runner's after the same runs. Dagster: materialize every asset, see the blocking check
pass, compare the warehouse. Screenshots go to ``artifacts/screenshots/``; the start time, memory
and run times go to ``artifacts/orchestrators.json``.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from orchestrators import (
    airflow_moment,
    airflow_runs,
    read_rows,
    replay_locally,
    snapshot_of,
    wait_until,
)

from course_etl.classroom.orchestrators import listening, start_airflow, start_dagster
from course_etl.classroom.orchestrators.airflow_server import course_pipelines
from course_etl.scheduling.runner import snapshots_equal

REPO = Path(__file__).resolve().parents[1]
MEASUREMENTS = REPO / "artifacts" / "orchestrators.json"
ARTIFACTS_FAILED = REPO / "artifacts" / "screenshots"
DAG = "customers_etl"


def record(key: str, values: dict) -> None:
    data = json.loads(MEASUREMENTS.read_text()) if MEASUREMENTS.exists() else {}
    data[key] = values
    MEASUREMENTS.parent.mkdir(parents=True, exist_ok=True)
    MEASUREMENTS.write_text(json.dumps(data, indent=2))


def project_copy(tmp_path: Path, venv: str) -> Path:
    """A project folder whose venv is the repository's (the server writes only in there)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / venv).symlink_to(REPO / venv)
    return project


def assert_loopback_only(server) -> None:
    sockets = listening(server.group.pids())
    assert sockets, "the server listens nowhere"
    assert {address for address, _, _ in sockets} == {"127.0.0.1"}, sockets


@pytest.fixture
def airflow(tmp_path_factory, chromium_path):  # one test each: stopped before the next starts
    if not (REPO / ".venv-airflow" / "bin" / "airflow").exists():
        pytest.skip("no .venv-airflow: make test-orchestrators builds it")
    server = start_airflow(project_copy(tmp_path_factory.mktemp("airflow"), ".venv-airflow"))
    try:
        yield server
    finally:
        left = server.stop()
        assert not left, f"processes still running after stop: {left}"


@pytest.fixture
def dagster(tmp_path_factory, chromium_path):
    if not (REPO / ".venv-dagster" / "bin" / "dagster").exists():
        pytest.skip("no .venv-dagster: make test-orchestrators builds it")
    server = start_dagster(project_copy(tmp_path_factory.mktemp("dagster"), ".venv-dagster"))
    try:
        yield server
    finally:
        left = server.stop()
        assert not left, f"processes still running after stop: {left}"


def log_in(page, server) -> None:
    page.goto(server.url)
    page.get_by_label(re.compile("username", re.I)).fill(server.user)
    page.get_by_label(re.compile("password", re.I)).fill(server.password)
    page.get_by_role("button", name=re.compile("sign in|log in|login", re.I)).click()
    page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"), timeout=30_000)


def trigger_single_run(page, server, artifacts, *, fail_once: str = "") -> None:
    """The Trigger dialog, single run at the default logical date (now), optional fault."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/dags/{DAG}")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Single Run", exact=True).click()
    page.wait_for_load_state("networkidle")  # the form loads the DAG's params
    if fail_once:
        dialog.get_by_role("combobox").last.click()
        page.get_by_role("option", name=fail_once, exact=True).click()
    button = dialog.get_by_role("button", name="Trigger", exact=True)
    expect(button).to_be_enabled(timeout=30_000)
    button.click()
    try:
        dialog.wait_for(state="hidden", timeout=30_000)
    except Exception:
        page.screenshot(path=artifacts / "airflow_trigger_failed.png")
        raise


def open_task_log(page, url: str, text: re.Pattern) -> None:
    """Open a task instance page and wait for ``text`` in its log (reloading: the log viewer
    sometimes stays empty on a first load while the API server is busy)."""
    for attempt in range(4):
        page.goto(url)
        try:
            page.get_by_text(text).first.wait_for(timeout=45_000)
            return
        except Exception:
            if attempt == 3:
                page.screenshot(path=ARTIFACTS_FAILED / "airflow_task_log_failed.png")
                print(page.inner_text("body"))
                raise


def finished_runs(server, count: int):
    runs = airflow_runs(server.home.database, DAG)
    done = [r for r in runs if r["state"] in ("success", "failed")]
    return runs if len(done) >= count and len(done) == len(runs) else None


def task_tries(server, run_id: str) -> dict[str, int]:
    rows = read_rows(server.home.database, "SELECT task_id, try_number FROM task_instance "
                                           "WHERE dag_id = ? AND run_id = ?", (DAG, run_id))
    return {r["task_id"]: r["try_number"] for r in rows}


def test_airflow_runs_retries_and_backfills_like_the_local_runner(airflow, page, artifacts,
                                                                   tmp_path):
    assert_loopback_only(airflow)
    log_in(page, airflow)
    page.goto(f"{airflow.url}/dags")
    for dag_id in (DAG, "course_capstone"):
        page.get_by_text(dag_id, exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "airflow_dags.png")

    # 1. one run from the UI: success, and the load's counts in the task log
    started = time.monotonic()
    trigger_single_run(page, airflow, artifacts)
    runs = wait_until(lambda: finished_runs(airflow, 1), timeout=300, what="the first run")
    run_seconds = time.monotonic() - started
    manual = [r for r in runs if r["run_type"] == "manual"][0]
    assert all(r["state"] == "success" for r in runs), [dict(r) for r in runs]
    # incremental_load always returns its LoadResult (Airflow logs its one-line summary);
    # full_load only on a warehouse without a watermark (the scheduled run that unpausing
    # starts may have loaded it first).
    open_task_log(page, f"{airflow.url}/dags/{DAG}/runs/{manual['run_id']}/tasks/incremental_load",
                  re.compile(r"incremental load src_customers → dw_customers: read \d+"))
    page.screenshot(path=artifacts / "airflow_task_log.png")

    # 2. the injected fault: incremental_load fails on try 1, the retry succeeds
    trigger_single_run(page, airflow, artifacts, fail_once="incremental_load")
    runs = wait_until(lambda: finished_runs(airflow, len(runs) + 1), timeout=300,
                      what="the run with the injected fault")
    faulty = [r for r in runs if json.loads(r["conf"] or "{}").get("fail_once")]
    assert len(faulty) == 1 and faulty[0]["state"] == "success", [dict(r) for r in runs]
    assert task_tries(airflow, faulty[0]["run_id"])["incremental_load"] == 2
    open_task_log(page, f"{airflow.url}/dags/{DAG}/runs/{faulty[0]['run_id']}/tasks/"
                        "incremental_load", re.compile(r"incremental load src_customers"))
    page.get_by_text("Task Tries").wait_for()
    page.screenshot(path=artifacts / "airflow_retry.png")

    # 3. a week's backfill (the CLI: the UI's date pickers resist automation). Logical dates
    # 10-01 ... 10-07 at the schedule's time (the end date is inclusive, at midnight): 7 daily
    # intervals.
    started = time.monotonic()
    for _ in range(5):  # the CLI writes to SQLite next to a busy scheduler: it may be locked
        result = airflow.airflow("backfill", "create", "--dag-id", DAG, "--from-date",
                                 "2024-10-01", "--to-date", "2024-10-08", "--max-active-runs",
                                 "1", check=False)
        if result.returncode == 0 or read_rows(airflow.home.database,
                                               "SELECT COUNT(*) FROM backfill")[0][0]:
            break
        time.sleep(5)
    else:
        pytest.fail(f"airflow backfill create failed: {result.stdout[-2000:]}"
                    f"{result.stderr[-2000:]}")

    def backfill_done():
        rows = finished_runs(airflow, len(runs) + 7)
        return rows if rows and sum(r["run_type"] == "backfill" for r in rows) == 7 else None

    runs = wait_until(backfill_done, timeout=900, what="the backfill's 7 runs")
    backfill_seconds = time.monotonic() - started
    assert all(r["state"] == "success" for r in runs), [dict(r) for r in runs]
    page.goto(f"{airflow.url}/dags/{DAG}")
    page.get_by_text("full_load").first.wait_for()
    page.wait_for_timeout(3000)  # the grid polls for runs
    page.screenshot(path=artifacts / "airflow_grid.png")
    page.goto(f"{airflow.url}/dags/{DAG}/backfills")
    page.wait_for_timeout(3000)
    page.screenshot(path=artifacts / "airflow_backfills.png")

    # 4. the local runner, given the same runs in the same order, leaves the same warehouse
    ticks = [airflow_moment(r["data_interval_end"]) for r in runs]
    assert None not in ticks, [dict(r) for r in runs]
    pipeline = next(p for p in course_pipelines() if p.name == DAG)
    ours = replay_locally(pipeline, ticks, tmp_path)
    assert snapshots_equal(ours, snapshot_of(airflow.home.warehouses[DAG]))
    record("airflow", {"seconds_to_ready": round(airflow.seconds_to_ready, 1),
                       "rss_mib": round(airflow.rss_bytes() / 2**20),
                       "seconds_first_run": round(run_seconds, 1),
                       "seconds_week_backfill": round(backfill_seconds, 1),
                       "runs": len(runs), "measured_at": datetime.now(UTC).isoformat()})


def dagster_runs(server) -> list:
    database = server.home.root / "history" / "runs.db"
    if not database.exists():
        return []
    return read_rows(database, "SELECT run_id, status FROM runs ORDER BY create_timestamp")


def test_dagster_materializes_the_assets_and_passes_the_blocking_check(dagster, page, artifacts,
                                                                     tmp_path):
    assert_loopback_only(dagster)
    page.goto(f"{dagster.url}/locations/{DAG}.py/asset-groups/default")  # location: the file
    # Dagster's community-newsletter pop-up may cover the page at any moment: dismiss it.
    page.add_locator_handler(page.get_by_role("button", name="Skip"),
                             lambda skip: skip.click())
    page.get_by_text("incremental_load").first.wait_for(timeout=120_000)
    started = time.monotonic()
    page.get_by_role("button", name=re.compile("Materialize all")).first.click()
    runs = wait_until(lambda: (lambda rs: rs if rs and rs[-1]["status"] in (
        "SUCCESS", "FAILURE", "CANCELED") else None)(dagster_runs(dagster)), timeout=600,
        what="the materialization")
    run_seconds = time.monotonic() - started
    assert [r["status"] for r in runs] == ["SUCCESS"], [dict(r) for r in runs]
    tick = next(p for p in course_pipelines() if p.name == DAG).cron.previous_run(
        datetime.now(UTC))
    page.get_by_text(re.compile(r"1 / 1 Passed")).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "dagster_assets.png")
    page.goto(f"{dagster.url}/assets/incremental_load?view=checks")
    page.get_by_text("This is a blocking asset check.").first.wait_for(timeout=60_000)
    page.get_by_text(re.compile("^Passed$|^Succeeded$")).first.wait_for(timeout=60_000)
    page.screenshot(path=artifacts / "dagster_checks.png")

    pipeline = next(p for p in course_pipelines() if p.name == DAG)
    ours = replay_locally(pipeline, [tick], tmp_path)
    assert snapshots_equal(ours, snapshot_of(dagster.home.warehouses[DAG]))
    record("dagster", {"seconds_to_ready": round(dagster.seconds_to_ready, 1),
                       "rss_mib": round(dagster.rss_bytes() / 2**20),
                       "seconds_materialize_all": round(run_seconds, 1),
                       "measured_at": datetime.now(UTC).isoformat()})
