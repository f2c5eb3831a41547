"""``python -m course_etl``: the command line."""

from course_etl.cli import main

raise SystemExit(main())
