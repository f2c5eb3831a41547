"""``make dagster``: the course's assets and their checks in a real Dagster, on 127.0.0.1.

Everything lives under ``<project>/.dagster`` (git-ignored): ``DAGSTER_HOME`` with a
``dagster.yaml`` that turns telemetry off (the classroom is offline), the definitions files
exported from ``customers_etl`` and the capstone (one code location each), and their SQLite
warehouses prepared as for Airflow. ``dagster dev`` from ``.venv-dagster`` runs the webserver on
127.0.0.1, the daemon and one code server per file (gRPC, on localhost). Ctrl-C or SIGTERM stops
the whole process group.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_etl.classroom.orchestrators.airflow_server import course_pipelines, prepare_warehouse
from course_etl.classroom.orchestrators.processes import (
    ProcessGroup,
    free_port,
    port_in_use,
    rss_bytes,
    wait_for_url,
)
from course_etl.scheduling.export import to_dagster

__all__ = ["DagsterServer", "prepare_dagster_home", "start_dagster"]

DAGSTER_YAML = "telemetry:\n  enabled: false\n"


@dataclass
class DagsterHome:
    root: Path
    definitions: list[Path] = field(default_factory=list)
    warehouses: dict[str, Path] = field(default_factory=dict)


def prepare_dagster_home(project_dir: Path, *, fresh: bool = True) -> DagsterHome:
    """Write ``dagster.yaml``, the definitions files and the warehouses under ``.dagster``."""
    root = Path(project_dir).resolve() / ".dagster"
    home = DagsterHome(root)
    if fresh:  # dagster's own SQLite storage: runs, event logs, schedules, compute logs
        for folder in ("history", "storage", "schedules", "logs"):
            shutil.rmtree(root / folder, ignore_errors=True)
    for folder in (root / "definitions", root / "warehouse", root / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    (root / "dagster.yaml").write_text(DAGSTER_YAML)
    for pipeline in course_pipelines():
        warehouse = root / "warehouse" / f"{pipeline.name}.db"
        if fresh or not warehouse.exists():
            prepare_warehouse(warehouse, pipeline)
        path = root / "definitions" / f"{pipeline.name}.py"
        path.write_text(to_dagster(pipeline, warehouse=warehouse))
        home.definitions.append(path)
        home.warehouses[pipeline.name] = warehouse
    return home


@dataclass
class DagsterServer:
    """A running classroom Dagster: its URL, home, warehouses and processes."""

    url: str
    home: DagsterHome
    group: ProcessGroup
    seconds_to_ready: float = 0.0
    user: str = ""
    password: str = ""  # dagster dev has no login

    def rss_bytes(self) -> int:
        return rss_bytes(self.group.pids())

    def stop(self) -> set[int]:
        return self.group.stop()

    def __enter__(self) -> DagsterServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_dagster(project_dir: str | Path, *, port: int | None = None,
                  venv: str | Path | None = None, fresh: bool = True,
                  timeout: float = 240) -> DagsterServer:
    """Start ``dagster dev`` for the course; returns once the UI answers.

    Raises FileNotFoundError without ``.venv-dagster`` (``make dagster`` builds it),
    RuntimeError when it exits while starting, TimeoutError after ``timeout`` seconds.
    """
    started = time.monotonic()
    project = Path(project_dir).resolve()
    venv = Path(venv) if venv else project / ".venv-dagster"
    if not (venv / "bin" / "dagster").exists():
        raise FileNotFoundError(f"no Dagster at {venv / 'bin' / 'dagster'}: run `make dagster` "
                                "(it builds .venv-dagster) or pass venv=")
    if port is None or port_in_use(port):
        port = free_port()
    home = prepare_dagster_home(project, fresh=fresh)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    env |= {"DAGSTER_HOME": str(home.root), "TMPDIR": str(home.root / "tmp"),
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}
    env.pop("COURSE_ETL_WAREHOUSE", None)  # each definitions file names its own warehouse
    # Not .dagster/logs: dagster keeps its compute logs there.
    group = ProcessGroup(env=env, cwd=home.root, log_dir=home.root / "service-logs")
    command = [str(venv / "bin" / "dagster"), "dev", "--host", "127.0.0.1", "--port", str(port)]
    for path in home.definitions:
        command += ["--python-file", str(path)]
    server = DagsterServer(f"http://127.0.0.1:{port}", home, group)
    try:
        group.start("dagster-dev", command)
        wait_for_url(f"{server.url}/server_info", timeout=timeout,
                     alive=lambda: not group.exited())
    except BaseException:
        group.stop()
        raise
    server.seconds_to_ready = time.monotonic() - started
    return server
