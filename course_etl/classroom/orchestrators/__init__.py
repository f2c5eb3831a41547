"""The course's pipelines live in a real Airflow 3 or Dagster UI, offline, on 127.0.0.1.

:func:`serve_airflow` and :func:`serve_dagster` prepare a home under the project (``.airflow/``,
``.dagster/``: DAG or definitions files exported from the course's pipelines, warehouses from
the lecture's data), start the orchestrator from its own virtualenv, print the URL, the login
and how long the start took, and keep it running until Ctrl-C or SIGTERM, which stop every
process they started. :func:`~.airflow_server.start_airflow` and
:func:`~.dagster_server.start_dagster` do the same without blocking (for tests). Run
``python -m course_etl.classroom.orchestrators airflow|dagster``.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from course_etl.classroom.orchestrators.airflow_server import AirflowServer, start_airflow
from course_etl.classroom.orchestrators.dagster_server import DagsterServer, start_dagster
from course_etl.classroom.orchestrators.processes import listening

__all__ = ["serve_airflow", "serve_dagster", "start_airflow", "start_dagster", "AirflowServer",
           "DagsterServer", "serve"]


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the servers the same way Ctrl-C does


def serve(start, project_dir: str | Path = ".", *, port: int | None = None,
          print_fn=print, **options) -> int:
    """Start a server with ``start(project_dir, port=..., **options)``, print how to use it and
    wait for Ctrl-C or SIGTERM; then stop every process it started. Returns an exit code."""
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    server = None
    try:
        print_fn(f"starting {start.__name__.removeprefix('start_')} (this takes a minute on a "
                 "small machine)...")
        server = start(project_dir, port=port, **options)
        print_fn(f"ready in {server.seconds_to_ready:.0f} s: {server.url}")
        if server.password:
            print_fn(f"login: {server.user} / {server.password}")
        for name, path in server.home.warehouses.items():
            print_fn(f"warehouse of {name}: {path}")
        print_fn(f"memory of its processes: {server.rss_bytes() / 2**20:.0f} MiB (RSS sum)")
        sockets = listening(server.group.pids())
        print_fn("listening on " + ", ".join(sorted({f"{a}:{p}" for a, p, _ in sockets})))
        print_fn("Ctrl-C stops it.")
        while not server.group.exited():
            time.sleep(1)
        print_fn(f"a server process ended: {server.group.exited()} (logs: "
                 f"{server.group.log_dir})")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            left = server.stop()
            print_fn("stopped" + (f", still running: {sorted(left)}" if left else
                                  ": no process left running"))
        signal.signal(signal.SIGTERM, previous)


def serve_airflow(project_dir: str | Path = ".", *, port: int | None = 8280, **options) -> int:
    """``make airflow``: Airflow 3 with the course's DAGs on 127.0.0.1 until Ctrl-C."""
    return serve(start_airflow, project_dir, port=port, **options)


def serve_dagster(project_dir: str | Path = ".", *, port: int | None = 3300, **options) -> int:
    """``make dagster``: Dagster with the course's assets and checks on 127.0.0.1 until Ctrl-C."""
    return serve(start_dagster, project_dir, port=port, **options)
