"""The crontab entry of a pipeline: the command line a cron tick runs.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from course_etl.errors import checked
from course_etl.scheduling.cron import crontab_entry
from course_etl.scheduling.export.common import _check_warehouse
from course_etl.scheduling.pipeline import Pipeline, PipelineError

__all__ = ["cli_command", "lock_file", "to_crontab"]


@checked
def cli_command(pipeline: Pipeline, *, warehouse: str | Path, python: str | Path | None = None
                ) -> list[str]:
    """The argv that runs ``pipeline`` once through this project's command line, recorded in the
    run log as started by ``cron``."""
    _check_warehouse(warehouse)
    return [str(python or sys.executable), "-m", "course_etl", "pipeline", "run", pipeline.name,
            "--db", str(warehouse), "--started-by", "cron"]


@checked
def lock_file(pipeline: Pipeline, warehouse: str | Path) -> Path:
    """The lock of one pipeline on one warehouse: ``/tmp/course_etl_<pipeline>_<file>_<hash>.lock``.

    Runs of the same pipeline on the same warehouse must never overlap (they share its
    watermarks); the same pipeline in dev and prod writes two warehouses and must not wait for
    the other, so the warehouse's full path is part of the name (its stem to read, a hash of the
    path to tell two ``warehouse.db`` in different folders apart).
    """
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(str(warehouse)).stem)[:40] or "warehouse"
    digest = hashlib.sha256(str(warehouse).encode("utf-8")).hexdigest()[:8]
    return Path("/tmp") / f"course_etl_{pipeline.name}_{stem}_{digest}.lock"


@checked
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
    ``log_dir/<pipeline>.log`` (default ``project_dir/logs``) and the lock is
    :func:`lock_file` (one per pipeline and warehouse: dev and prod never wait for each other).
    cron uses the server's time zone, so a pipeline in another zone is refused rather than
    silently shifted. Every path is shell-quoted; a path holding a newline or another control
    character is refused (it would end the cron line and start a new one); the template
    escapes ``%``, which cron turns into a newline.
    """
    for what, path in (("warehouse", warehouse), ("project_dir", project_dir),
                       ("python", python), ("log_dir", log_dir)):
        text = "" if path is None else str(path)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise PipelineError(f"{what} {str(path)!r} holds a control character (e.g. a "
                                "newline), which would break the crontab line: give a plain "
                                "path", value=path, what=what, path=path)
    if pipeline.timezone != "UTC":
        raise PipelineError(
            f"pipeline {pipeline.name!r} is scheduled in {pipeline.timezone}; cron uses the "
            "server's zone: convert the schedule or run the server in that zone",
            value=pipeline.timezone, pipeline=pipeline.name)
    logs = Path(str(log_dir)) if log_dir else Path(str(project_dir)) / "logs"
    return crontab_entry(
        pipeline.schedule,
        cli_command(pipeline, warehouse=warehouse, python=python),
        workdir=project_dir,
        log_file=logs / f"{pipeline.name}.log",
        lock_file=lock_file(pipeline, warehouse),
        comment=f"course_etl pipeline {pipeline.name}",
    )
