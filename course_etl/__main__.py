"""``python -m course_etl``: the command line."""

from .cli import main

raise SystemExit(main())
