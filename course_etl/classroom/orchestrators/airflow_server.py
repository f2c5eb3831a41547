"""``make airflow``: the course's DAGs in a real Airflow 3, on 127.0.0.1, from the project folder.

Everything lives under ``<project>/.airflow`` (git-ignored): the metadata database, the DAGs
folder holding the exported ``customers_etl`` and ``course_capstone`` DAGs, their SQLite
warehouses (prepared from the lecture's data), task logs, and the simple auth manager's passwords
file with a password generated here and printed. Airflow comes from ``.venv-airflow``.

Why not ``airflow standalone``: it starts the scheduler and the triggerer with their log servers,
which listen on port 8793/8794 of *every* interface (``host=""`` is hard-coded in
``airflow/utils/serve_logs/core.py``; no option moves it). So this module starts what standalone
starts, each as ``airflow <component>`` from the venv: ``db migrate``, then the scheduler (with
``--skip-serve-logs``; the LocalExecutor writes task logs to local files that the API server reads
itself), the DAG processor and the API server on 127.0.0.1. The triggerer is left out: the
course's DAGs defer nothing. Ctrl-C or SIGTERM stops the whole process group.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from course_etl.capstone import build_pipeline, capstone_config
from course_etl.classroom.orchestrators.processes import (
    ProcessGroup,
    free_port,
    port_in_use,
    rss_bytes,
    wait_for_url,
)
from course_etl.db import connect
from course_etl.sample_data import apply_lecture_changes
from course_etl.scheduling.export import to_airflow
from course_etl.scheduling.lecture import customers_pipeline, prepare_lecture_warehouse
from course_etl.scheduling.pipeline import Pipeline

__all__ = ["CLASSROOM_RETRY_DELAY", "AirflowServer", "course_pipelines", "prepare_airflow_home",
           "start_airflow"]

#: Retry delay of the served DAGs: a retry the class can watch, not the production 5-10 minutes.
CLASSROOM_RETRY_DELAY = timedelta(seconds=10)
USER = "admin"


def course_pipelines(*, retry_delay: timedelta = CLASSROOM_RETRY_DELAY) -> list[Pipeline]:
    """The lecture's ``customers_etl`` (with its row-count check) and the capstone (prod config),
    every task retrying after ``retry_delay``."""
    pipelines = [customers_pipeline(with_check=True), build_pipeline(capstone_config("prod"))]
    for pipeline in pipelines:
        for task in pipeline:
            task.retry_delay = retry_delay
    return pipelines


def prepare_warehouse(path: Path, pipeline: Pipeline) -> None:
    """customers_etl: the lecture's source with both change rounds (rows updated 2024-10-05 and
    -06), no target yet. The capstone creates its own tables on its first run."""
    path.unlink(missing_ok=True)
    conn = connect(path)
    try:
        if pipeline.name == "customers_etl":
            prepare_lecture_warehouse(conn)
            for round_ in (1, 2):
                apply_lecture_changes(conn, round_)
    finally:
        conn.close()


@dataclass
class AirflowHome:
    """The files of one classroom Airflow under ``root`` (``<project>/.airflow``)."""

    root: Path
    password: str
    warehouses: dict[str, Path] = field(default_factory=dict)

    @property
    def dags(self) -> Path:
        return self.root / "dags"

    @property
    def database(self) -> Path:
        return self.root / "airflow.db"

    @property
    def passwords_file(self) -> Path:
        return self.root / "simple_auth_manager_passwords.json"


def prepare_airflow_home(project_dir: Path, *, fresh: bool = True) -> AirflowHome:
    """Write the DAG files, warehouses and passwords file under ``project_dir/.airflow``.

    ``fresh`` starts from an empty metadata database and new warehouses (the default: a class
    starts from the lecture's data); otherwise an existing home is kept.
    """
    root = Path(project_dir).resolve() / ".airflow"
    if fresh:
        for name in ("airflow.db", "airflow.db-wal", "airflow.db-shm"):
            (root / name).unlink(missing_ok=True)
    home = AirflowHome(root, secrets.token_urlsafe(12))
    for folder in (home.dags, root / "warehouse", root / "logs", root / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    for pipeline in course_pipelines():
        warehouse = root / "warehouse" / f"{pipeline.name}.db"
        if fresh or not warehouse.exists():
            prepare_warehouse(warehouse, pipeline)
        (home.dags / f"{pipeline.name}.py").write_text(to_airflow(pipeline, warehouse=warehouse))
        home.warehouses[pipeline.name] = warehouse
    home.passwords_file.write_text(json.dumps({USER: home.password}))
    home.passwords_file.chmod(0o600)
    return home


def airflow_environment(home: AirflowHome, *, venv: Path, port: int) -> dict[str, str]:
    """The environment of every Airflow process: its home, SQLite, LocalExecutor, the simple auth
    manager with our passwords file, examples off, the API on 127.0.0.1:``port``, one shared JWT
    secret (scheduler and API server must agree), temporary files under the home."""
    url = f"http://127.0.0.1:{port}"
    settings = {
        "CORE__DAGS_FOLDER": home.dags,
        "CORE__LOAD_EXAMPLES": "False",
        "CORE__EXECUTOR": "LocalExecutor",
        "CORE__PARALLELISM": "4",
        "CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": home.passwords_file,
        "CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home.database}",
        "LOGGING__BASE_LOG_FOLDER": home.root / "logs",
        "API__HOST": "127.0.0.1",
        "API__PORT": str(port),
        "API__BASE_URL": url,
        "API__WORKERS": "1",
        "API__SECRET_KEY": secrets.token_urlsafe(32),
        "API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        # Pick up a regenerated DAG file within half a minute instead of five.
        "DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env |= {f"AIRFLOW__{key}": str(value) for key, value in settings.items()}
    env |= {
        "AIRFLOW_HOME": str(home.root),
        # Airflow starts its own components as `airflow` from PATH: the venv's must come first.
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "TMPDIR": str(home.root / "tmp"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("COURSE_ETL_WAREHOUSE", None)  # each DAG file names its own warehouse
    return env


def dags_parsed(database: Path, dag_ids: list[str]) -> bool:
    """True when the DAG processor has stored every one of ``dag_ids`` in the metadata DB."""
    if not database.exists():
        return False
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as conn:
            marks_sql = ", ".join("?" * len(dag_ids))
            found = conn.execute(f"SELECT COUNT(*) FROM dag WHERE dag_id IN ({marks_sql})",
                                 dag_ids).fetchone()[0]
    except sqlite3.Error:  # tables not created yet, or busy
        return False
    return found == len(dag_ids)


@dataclass
class AirflowServer:
    """A running classroom Airflow: its URL, login, home, warehouses and processes."""

    url: str
    user: str
    password: str
    home: AirflowHome
    group: ProcessGroup
    seconds_to_ready: float = 0.0

    def rss_bytes(self) -> int:
        return rss_bytes(self.group.pids())

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``airflow <args>`` (the venv's) against this server's home; returns its output."""
        return subprocess.run(["airflow", *args], env=self.group.env, cwd=self.group.cwd,
                              capture_output=True, text=True, check=check)

    def stop(self) -> set[int]:
        return self.group.stop()

    def __enter__(self) -> AirflowServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_airflow(project_dir: str | Path, *, port: int | None = None,
                  venv: str | Path | None = None, fresh: bool = True,
                  timeout: float = 240) -> AirflowServer:
    """Start Airflow for the course and return once the UI answers and both DAGs are parsed.

    Raises FileNotFoundError without ``.venv-airflow`` (``make airflow`` builds it),
    RuntimeError when a component exits while starting, TimeoutError after ``timeout`` seconds;
    every started process is stopped before raising.
    """
    started = time.monotonic()
    project = Path(project_dir).resolve()
    venv = Path(venv) if venv else project / ".venv-airflow"
    if not (venv / "bin" / "airflow").exists():
        raise FileNotFoundError(f"no Airflow at {venv / 'bin' / 'airflow'}: run `make airflow` "
                                "(it builds .venv-airflow) or pass venv=")
    if port is None or port_in_use(port):
        port = free_port()
    home = prepare_airflow_home(project, fresh=fresh)
    env = airflow_environment(home, venv=venv, port=port)
    group = ProcessGroup(env=env, cwd=project, log_dir=home.root / "logs" / "services")
    server = AirflowServer(f"http://127.0.0.1:{port}", USER, home.password, home, group)
    try:
        if group.run("db-migrate", ["airflow", "db", "migrate"], timeout=timeout) != 0:
            raise RuntimeError(f"airflow db migrate failed: see {group.log_dir / 'db-migrate.log'}")
        group.start("scheduler", ["airflow", "scheduler", "--skip-serve-logs"])
        group.start("dag-processor", ["airflow", "dag-processor"])
        group.start("api-server", ["airflow", "api-server", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", "1"])
        def alive() -> bool:
            return not group.exited()

        wait_for_url(f"{server.url}/api/v2/monitor/health", timeout=timeout, alive=alive)
        dag_ids = list(home.warehouses)
        while not dags_parsed(home.database, dag_ids):
            if not alive():
                raise RuntimeError(f"an Airflow component exited: see {group.log_dir}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"DAGs {dag_ids} not parsed within {timeout:.0f} s")
            time.sleep(0.5)
    except BaseException:
        group.stop()
        raise
    server.seconds_to_ready = time.monotonic() - started
    return server
