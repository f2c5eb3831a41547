"""``python -m course_etl airflow|dagster``: the course's pipelines in a real orchestrator's UI.

Each command starts the orchestrator from its own virtualenv (``.venv-airflow``,
``.venv-dagster``: ``make airflow`` and ``make dagster`` build them) on 127.0.0.1, with its home
under the project (``.airflow/``, ``.dagster/``), prints the address and the login, and runs
until Ctrl-C, which stops every process it started (:mod:`course_etl.classroom.orchestrators`).
"""

from __future__ import annotations

import argparse

from course_etl.cli.args import PORT, folder_path
from course_etl.errors import checked

__all__ = ["add_commands"]


@checked
def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``airflow`` and ``dagster`` to the command line."""
    for name, port in (("airflow", 8280), ("dagster", 3300)):
        command = commands.add_parser(
            name, help=f"the course's pipelines in a real {name.title()} UI on 127.0.0.1")
        command.add_argument("--port", type=PORT, default=port,
                             help=f"port on 127.0.0.1 (default {port}; a free one when taken)")
        command.add_argument("--project-dir", type=folder_path, default=".",
                             help=f"where .{name}/ (metadata, DAGs, warehouses, logs) goes")
        command.add_argument("--keep", action="store_true",
                             help="keep the metadata and warehouses of the last session")
        command.set_defaults(handler=_serve, orchestrator=name)


def _serve(args: argparse.Namespace) -> int:
    from course_etl.classroom.orchestrators import serve_airflow, serve_dagster

    serve = serve_airflow if args.orchestrator == "airflow" else serve_dagster
    return serve(args.project_dir, port=args.port, fresh=not args.keep)
