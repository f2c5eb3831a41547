"""The crontab entry of a pipeline: the command line a cron tick runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from course_etl.scheduling.cron import crontab_entry
from course_etl.scheduling.export.common import (
    _check_warehouse,
)
from course_etl.scheduling.pipeline import Pipeline, PipelineError

__all__ = ["cli_command", "to_crontab"]


def cli_command(pipeline: Pipeline, *, warehouse: str | Path, python: str | Path | None = None
                ) -> list[str]:
    """The argv that runs ``pipeline`` once through this project's command line."""
    _check_warehouse(warehouse)
    return [str(python or sys.executable), "-m", "course_etl", "pipeline", "run", pipeline.name,
            "--db", str(warehouse)]


def to_crontab(
    pipeline: Pipeline,
    *,
    warehouse: str | Path,
    project_dir: str | Path,
    python: str | Path | None = None,
    log_dir: str | Path | None = None,
) -> str:
    """The crontab entry that runs ``pipeline`` on schedule through the command line.

    ``python`` defaults to the running interpreter (the virtualenv's); the log goes to
    ``log_dir/<pipeline>.log`` (default ``project_dir/logs``) and the lock to
    ``/tmp/course_etl_<pipeline>.lock``. cron uses the server's time zone, so a pipeline in
    another zone is refused rather than silently shifted. Every path is shell-quoted; a path
    holding a newline or another control character is refused (it would end the cron line and
    start a new one); :func:`crontab_entry` escapes ``%``, which cron turns into a newline.
    """
    for what, path in (("warehouse", warehouse), ("project_dir", project_dir),
                       ("python", python), ("log_dir", log_dir)):
        text = "" if path is None else str(path)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise PipelineError(f"{what} {text!r} holds a control character (e.g. a newline), "
                                "which would break the crontab line: give a plain path")
    if pipeline.timezone != "UTC":
        raise PipelineError(
            f"pipeline {pipeline.name!r} is scheduled in {pipeline.timezone}; cron uses the "
            "server's zone: convert the schedule or run the server in that zone"
        )
    logs = Path(str(log_dir)) if log_dir else Path(str(project_dir)) / "logs"
    return crontab_entry(
        pipeline.schedule,
        cli_command(pipeline, warehouse=warehouse, python=python),
        workdir=project_dir,
        log_file=logs / f"{pipeline.name}.log",
        lock_file=f"/tmp/course_etl_{pipeline.name}.lock",
        comment=f"course_etl pipeline {pipeline.name}",
    )
