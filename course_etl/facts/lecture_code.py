"""The lecture's own code, as written, rendered from the course's facts.

The lecture types its data into its code: ``INSERT INTO src_customers VALUES (1,'Aria',…)``, a
cron line, a ``dag_id``. The notebooks show that code as written, and
the library keeps a copy of some of it (:data:`course_etl.medallion.lecture.LECTURE_MEDALLION_SQL`,
:data:`course_etl.scheduling.lecture.LECTURE_AIRFLOW_DAG`). Both come from the Jinja2 templates in
``course_etl/facts/templates/``, which read like the code they produce, with the facts filled in;
so a changed fact changes the lecture's code everywhere (``make notebooks`` rewrites the cells,
``tests/test_lecture_cells.py`` fails while one is stale). Rendered with the course's facts, the
templates give the lecture's text character for character.
"""

from __future__ import annotations

from functools import cache

from cron_descriptor import Options, get_description
from jinja2 import Environment, PackageLoader, StrictUndefined

from course_etl import facts
from course_etl.errors import checked
from course_etl.facts.model import Delete, Insert, sql_literal

__all__ = ["render", "lecture_context", "templates"]

def _row_sql(values: tuple | dict) -> str:
    """``(1,'Aria','Austin','2024-10-01')``: a row of SQL literals, as the lecture spells them
    (a dict is a customers row: completed with defaults, in column order)."""
    if isinstance(values, dict):
        values = facts.CUSTOMERS.as_tuple(values)
    return "(" + ",".join(sql_literal(v) for v in values) + ")"


def _py_string(text: str) -> str:
    """Text safe inside a double-quoted Python string literal."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r"))


def _py_triple(text: str) -> str:
    """Text safe inside a ``'''…'''`` Python string literal (where the lecture keeps SQL)."""
    return text.replace("\\", "\\\\").replace("'''", "\\'\\'\\'").replace("\r", "\\r")


def _py_comment(text: str) -> str:
    """Text that stays on its comment line."""
    return " ".join(str(text).splitlines())


def _counted(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _schedule_phrase(schedule: facts.Schedule) -> str:
    """``at 6:30 AM daily`` for a once-a-day cron, else cron-descriptor's words."""
    if schedule.once_a_day:
        minute, hour = (int(field) for field in schedule.cron.split()[:2])
        return f"at {hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'} daily"
    options = Options()
    options.use_24hour_time_format = False
    description = get_description(schedule.cron, options)
    return description[:1].lower() + description[1:]


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve")


def lecture_context() -> dict:
    """What the templates may use: the facts, and the lecture's data spelled as its code does."""
    customers, schedule = facts.CUSTOMERS, facts.SCHEDULE
    rounds = []
    for number, changes in facts.CHANGE_ROUNDS.items():
        updates = sum(1 for c in changes if not isinstance(c, (Insert, Delete)))
        inserts = sum(1 for c in changes if isinstance(c, Insert))
        rounds.append({
            "number": number, "changes": changes, "story": facts.describe_round(number),
            "counts": ", ".join(_counted(n, w) for n, w in ((updates, "update"),
                                                             (inserts, "insert")) if n),
        })
    final = facts.lecture_rows(max(facts.CHANGE_ROUNDS, default=0))
    last_insert = next((c for r in reversed(rounds) for c in reversed(r["changes"])
                        if isinstance(c, Insert)), None)
    initial = facts.lecture_tuples()
    return {
        "tables": facts.TABLES, "key": customers.key, "wm": customers.watermark,
        "columns": customers.names,
        "column_types": ", ".join(
            f"{c.name} {c.sql_type}" + (" PRIMARY KEY" if c.name == customers.key else "")
            for c in customers.columns),
        "initial_rows": [_row_sql(row) for row in initial],
        "initial_names": [row["name"] for row in facts.lecture_rows()],
        "initial_watermark": max(str(row[customers.watermark]) for row in facts.lecture_rows()),
        "rounds": rounds,
        "final_count": len(final),
        "final_count_words": (_NUMBER_WORDS[len(final)] if len(final) < len(_NUMBER_WORDS)
                              else str(len(final))),
        "last_insert": last_insert.values if last_insert else None,
        "schedule": schedule, "schedule_phrase": _schedule_phrase(schedule),
        "start": schedule.start_date,
    }


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("course_etl.facts", "templates"),
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["sql_row"] = _row_sql
    env.filters["sql_literal"] = sql_literal
    env.filters["py_string"] = _py_string
    env.filters["py_triple"] = _py_triple
    env.filters["py_comment"] = _py_comment
    env.tests["insert"] = lambda change: isinstance(change, Insert)
    env.tests["delete"] = lambda change: isinstance(change, Delete)
    return env


def templates() -> list[str]:
    """The names of the lecture-code templates."""
    return sorted(t for t in _environment().list_templates() if not t.startswith("_"))


@checked
def render(template: str, **extra: object) -> str:
    """Render one template with :func:`lecture_context` (plus ``extra``)."""
    return _environment().get_template(template).render(**lecture_context(), **extra)
