"""The exporters' one renderer: Jinja2 templates (package data) that read like the files they make.

``templates/airflow_dag.py.jinja``, ``templates/dagster_definitions.py.jinja`` and
``templates/crontab.jinja`` are the files a student finds on the server, with ``{{ … }}`` where a
pipeline's facts go; the Python around them only decides those facts (names, literals, one call
per task). Values reach Python code through the ``py`` filter (``repr``, a valid literal) and a
shell line through ``shell`` (quoted, ``%`` escaped for cron). Jinja2 is needed to export, never to
run an exported file: nothing a DAG imports at run time imports this module.
"""

from __future__ import annotations

import shlex
from functools import cache

import jinja2

from course_etl.errors import checked

__all__ = ["render"]


def _shell(value: object) -> str:
    # cron turns an unescaped % into a newline and feeds the rest to stdin: a classic silent bug.
    return shlex.quote(str(value)).replace("%", r"\%")


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("course_etl.scheduling.export", "templates"),
        autoescape=False,  # Python and shell text, not HTML  # noqa: S701
        undefined=jinja2.StrictUndefined,  # a missing fact is an error, not an empty string
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["py"] = repr
    environment.filters["shell"] = _shell
    return environment


@checked
def render(template: str, **facts: object) -> str:
    """The text of ``templates/<template>`` with ``facts`` filled in."""
    return _environment().get_template(template).render(**facts)
