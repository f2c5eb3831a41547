"""Run a live orchestrator: ``python -m course_etl.orchestrators airflow|dagster [--port N]``."""

from __future__ import annotations

import argparse
import sys

from . import serve_airflow, serve_dagster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_etl.orchestrators",
                                     description="Run a real orchestrator with the course's "
                                                 "pipelines on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("orchestrator", choices=["airflow", "dagster"])
    parser.add_argument("--port", type=int, default=None,
                        help="port on 127.0.0.1 (default 8280 for Airflow, 3300 for Dagster; a "
                             "free one when taken)")
    parser.add_argument("--project-dir", default=".", help="where .airflow/ or .dagster/ go")
    parser.add_argument("--keep", action="store_true",
                        help="keep the metadata and warehouses of the last session")
    args = parser.parse_args(argv)
    serve = serve_airflow if args.orchestrator == "airflow" else serve_dagster
    options = {"fresh": not args.keep}
    if args.port is not None:
        options["port"] = args.port
    return serve(args.project_dir, **options)


if __name__ == "__main__":
    sys.exit(main())
