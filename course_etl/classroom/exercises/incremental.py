"""Notebook 01's build-it-yourself steps 1 and 2: read the stored watermark, select changed rows.

Each check runs the student's SQL beside a plain-Python model on the lecture's warehouse and on
generated ones, one edge each (:mod:`._customers`), and names the smallest on which they differ.
Steps 3 and 4 (the upsert, storing the watermark) are in :mod:`.upsert`, step 5 (the whole load in
one transaction) and the two deep-dive exercises in :mod:`.loads`.
"""

from __future__ import annotations

import random
import re

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._customers import (
    COLUMNS,
    UNICODE_NAMES,
    Draw,
    Warehouse,
    apply_round,
    lecture_warehouse,
    loaded,
    random_warehouse,
)
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Scenario,
    run_query,
    show_rows,
    sorted_rows,
)

__all__: list[str] = []

STATE_DDL = ("CREATE TABLE etl_watermarks (target TEXT NOT NULL, watermark_column TEXT NOT NULL,"
             " value, format TEXT NOT NULL, PRIMARY KEY (target, watermark_column))")


def sql_problem(error: str) -> str:
    """A SQLite error, as the first sentence of a verdict."""
    return f"SQLite refused it: {error.split(': ', 1)[-1]}"


def binds(sql: object, name: str) -> bool:
    """Does ``sql`` use the named parameter ``:name`` (outside quoted text)?"""
    if not isinstance(sql, str):
        return False
    unquoted = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return re.search(rf":{name}\b", unquoted) is not None


# --- step 1: read the stored watermark ----------------------------------------------------------

def _state_scenario(story: str, state: list[tuple], target: str, column: str,
                    newest_data: str = "2031-01-01") -> Scenario:
    return Scenario(story, {"state": state, "params": {"target": target, "column": column},
                            "newest_data": newest_data}, len(state))


def _watermark_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    out = [_state_scenario(
        "the lecture's warehouse after its first load (watermark 2024-10-01), where a failed run "
        "left a newer row in dw_customers", [("dw_customers", "updated_at", lecture.watermark,
                                              "YYYY-MM-DD")],
        "dw_customers", "updated_at", newest_data="2024-10-07")]
    for seed in range(2):
        draw = Draw(100 + seed)
        one, two = draw.stamp(1), draw.stamp(2)
        fmt = draw.watermark_format
        table, other = f"dw_{draw.name().lower()}s", f"dw_{draw.name().lower()}_log"
        out += [
            _state_scenario(f"two targets, {table} and {other}, each with a watermark on "
                            "updated_at", [(table, "updated_at", one, fmt),
                                           (other, "updated_at", two, fmt)],
                            table if seed else other, "updated_at"),
            _state_scenario(f"one target, {table}, with watermarks on two columns, created_at "
                            "and updated_at", [(table, "created_at", two, fmt),
                                               (table, "updated_at", one, fmt)],
                            table, "created_at" if seed else "updated_at"),
            _state_scenario(f"no watermark stored yet for {table} (its first load: no row "
                            "expected)", [(other, "updated_at", one, fmt)], table,
                            "updated_at"),
            _state_scenario("a watermark stored as NULL (a load once saved nothing)",
                            [(table, "updated_at", None, fmt)], table, "updated_at"),
        ]
    out += [
        _state_scenario("targets 'dw_a_b' and 'dwXaXb' (names LIKE would mix up: _ matches any "
                        "character)", [("dw_a_b", "updated_at", "2025-01-02", "YYYY-MM-DD"),
                                       ("dwXaXb", "updated_at", "2025-02-03", "YYYY-MM-DD")],
                        "dw_a_b", "updated_at"),
        _state_scenario("targets 'dw_orders' and 'DW_ORDERS' (names that differ only in case)",
                        [("DW_ORDERS", "updated_at", "2025-01-02", "YYYY-MM-DD"),
                         ("dw_orders", "updated_at", "2025-02-03", "YYYY-MM-DD")],
                        "DW_ORDERS", "updated_at"),
        _state_scenario("a target named with non-ASCII letters, 'dw_kunden_ü'",
                        [("dw_kunden_ü", "geändert_am", "2025-03-04 10:00:00",
                          "YYYY-MM-DD hh:mm"), ("dw_kunden", "geändert_am", "2025-03-05",
                                                "YYYY-MM-DD")], "dw_kunden_ü", "geändert_am"),
    ]
    rng = random.Random(7)
    for seed in range(3):
        targets = [f"dw_t{rng.randint(10, 99)}" for _ in range(4)]
        state = sorted({(t, c, f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "YYYY-MM-DD")
                        for t in targets for c in ("updated_at", "modified_at")
                        if rng.random() < 0.6}, key=lambda r: r[:2])
        state = list({r[:2]: r for r in state}.values())
        pick = rng.choice(state) if state and seed < 2 else ("dw_none", "updated_at")
        out.append(_state_scenario(f"{len(state)} stored watermarks over several targets and "
                                   "columns", state, pick[0], pick[1]))
    return out


def _run_watermark_read(sql: object, scenario: Scenario) -> list[tuple]:
    conn = Warehouse((), ()).build()
    conn.execute("INSERT INTO dw_customers (id, updated_at) VALUES (1, ?)",
                 (scenario.data["newest_data"],))
    conn.execute("DELETE FROM etl_watermarks")
    conn.executemany("INSERT INTO etl_watermarks VALUES (?, ?, ?, ?)", scenario.data["state"])
    return sorted_rows(run_query(conn, sql, scenario.data["params"]).rows)


def _stored(scenario: Scenario) -> list[tuple]:
    params = scenario.data["params"]
    return [(v, f) for t, c, v, f in scenario.data["state"]
            if (t, c) == (params["target"], params["column"])]


WATERMARK_READ = Judge(Model(_stored), _watermark_scenarios, _run_watermark_read)


def _describe_read(sql: object, diff: Difference) -> tuple[str, str]:
    params, story = diff.scenario.data["params"], diff.scenario.story
    asked = f":target = {params['target']!r}, :column = {params['column']!r}"
    if diff.yours.raised:
        return (f"with {story}, {sql_problem(diff.yours.error)}",
                "Read the state table etl_watermarks with the parameters :target and :column.")
    yours, expected = diff.yours.value, diff.expected.value
    if any(row[:1] == (diff.scenario.data["newest_data"],) for row in yours):
        return (f"with {story}, it returns {show_rows(yours)}: that value is re-derived from "
                "the data, which a failed run may have half-written; the next load would skip "
                "every row that run did not finish.",
                "The last successful load wrote its watermark down: where?")
    if yours and any(len(row) != 2 for row in yours):
        return (f"with {story}, it returns rows of {len(yours[0])} columns; step 5 unpacks "
                "two: the value, then the format.", "Select exactly value, then format.")
    return (f"with {story} and {asked}, it returns {show_rows(yours)}; the stored watermark is "
            f"{show_rows(expected)}. A load starting from the wrong value skips rows or "
            "reloads old ones.",
            "One row per (target, watermark_column): compare each with its own parameter, "
            "exactly (= is case-sensitive; LIKE is neither exact nor case-sensitive).")


@register(answer_name="watermark_sql",
          stub="SELECT MAX(updated_at) FROM dw_customers",
          solution_file="01_a_watermark_read.py")
def check_watermark_read(watermark_sql: object) -> Verdict:
    """Step 1: read the stored watermark (value, format) of :target and :column."""
    name = "Step 1 (read the watermark)"
    diff = WATERMARK_READ.difference(watermark_sql)
    if diff is None:
        return Verdict(name, True, f"reads (value, format) for any target and column it is "
                       f"given, on {len(WATERMARK_READ.scenarios)} warehouses (none stored: "
                       "no row).")
    return Verdict(name, False, *_describe_read(watermark_sql, diff))


# --- step 2: the changed rows ----------------------------------------------------------------

def _changed_scenario(story: str, source: list[tuple], watermark: str) -> Scenario:
    warehouse = Warehouse(tuple(source), loaded([r for r in source if r[3] and r[3] < watermark]),
                          watermark=watermark)
    return Scenario(story, warehouse, len(source))


def _changed_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    source = {r[0]: r for r in lecture.source}
    for change in lecture.rounds[:2]:
        source.update({r[0]: r for r in change.rows})
    after_round = sorted(source.values())
    day = lecture.rounds[1].rows[0][3]
    out = [_changed_scenario(f"the lecture's source, where a row stamped {day} was written after "
                             f"the load of {day} (:watermark = {day!r})", after_round, day),
           _changed_scenario(f"the lecture's source and the first load's watermark "
                             f"{lecture.watermark!r}", after_round, lecture.watermark),
           _changed_scenario("an empty source", [], "2025-03-01")]
    for seed in range(3):
        draw = Draw(200 + seed, daily=seed == 0)
        mark = draw.stamp(2)
        before, at, later = draw.row(1), draw.row(2), draw.row(3)
        out += [
            _changed_scenario(f"one row stamped exactly the watermark {mark!r} and one "
                              "before it", [before, at], mark),
            _changed_scenario(f"two rows older than the watermark {mark!r} (nothing to read)",
                              [before, draw.row(0)], mark),
            _changed_scenario(f"a row whose updated_at is NULL and one after the watermark "
                              f"{mark!r}", [(draw.key(), draw.name(), draw.city(), None), later],
                              mark),
            _changed_scenario(f"rows after the watermark {mark!r} with a NULL name and a NULL "
                              "city", [(draw.key(), None, draw.city(), later[3]),
                                       (draw.key(), draw.name(), None, at[3]), before], mark),
        ]
        many = Draw(300 + seed, unicode=seed == 1)
        mark = many.stamp(1)
        rows = [many.row(many.rng.choice([1, 2, 3])) for _ in range(21 + 4 * seed)]
        out.append(_changed_scenario(f"{len(rows) + 2} rows, {len(rows)} of them at or after "
                                     f"the watermark {mark!r}",
                                     [*rows, many.row(0), many.row(0)], mark))
        wide = random_warehouse(400 + seed, rows=6 + 5 * seed, rounds=1, unicode=seed == 2)
        current = {r[0]: r for r in wide.source}
        current.update({r[0]: r for r in wide.rounds[0].rows})
        out.append(_changed_scenario(f"{len(current)} customers, some changed after the "
                                     f"watermark {wide.watermark!r}, some stamped exactly it",
                                     sorted(current.values()), wide.watermark))
    unicode = Draw(9, unicode=True)
    mark = unicode.stamp(1)
    out.append(_changed_scenario("names and cities beyond ASCII (" + ", ".join(UNICODE_NAMES[:3])
                                 + ")", [unicode.row(1), unicode.row(2), unicode.row(0)], mark))
    return out


def _changed_rows(scenario: Scenario) -> tuple[str, list[tuple]]:
    warehouse: Warehouse = scenario.data
    return ("rows", sorted_rows(r for r in warehouse.source
                                if r[3] is not None and r[3] >= warehouse.watermark))


def _run_changed_rows(sql: object, scenario: Scenario) -> tuple[str, object]:
    warehouse: Warehouse = scenario.data
    result = run_query(warehouse.build(), sql, {"watermark": warehouse.watermark})
    rows = result.by_name(COLUMNS)
    return ("columns", result.columns) if rows is None else ("rows", sorted_rows(rows))


CHANGED_ROWS = Judge(Model(_changed_rows), _changed_scenarios, _run_changed_rows)
_PARAMETER_HINT = ("The query must follow the value it is given: where the value goes, write the "
                   "parameter's name with a colon in front.")


def _describe_changed(sql: object, diff: Difference) -> tuple[str, str]:
    story, mark = diff.scenario.story, diff.scenario.data.watermark
    if diff.yours.raised:
        return f"with {story}, {sql_problem(diff.yours.error)}", _PARAMETER_HINT
    kind, yours = diff.yours.value
    if kind == "columns":
        return (f"it returns the columns {', '.join(map(str, yours)) or 'none'}; the upsert "
                "reads the four of the source by name: id, name, city, updated_at.",
                "Keep every column of src_customers, under its own name.")
    expected = diff.expected.value[1]
    missed = [r for r in expected if r not in yours]
    extra = [r for r in yours if r not in expected or yours.count(r) > expected.count(r)]
    if not binds(sql, "watermark"):
        return (f"with {story}, it returns {len(yours)} rows, not {len(expected)}: the value is "
                "written into the query, so every later load reads the same rows again.",
                _PARAMETER_HINT)
    if missed and all(r[3] == mark for r in missed):
        return (f"with {story}, it never reads {show_rows(missed)}, stamped exactly {mark}: "
                "written after the last load, lost for good.",
                "A row can carry the watermark's own value and still be new: which comparison "
                "lets it through?")
    if missed and len(yours) < len(expected) and not extra:
        return (f"with {story}, it reads {len(yours)} of the {len(expected)} rows at or after "
                f"the watermark; {show_rows(missed, 2)} never reach the warehouse.",
                "Every changed row, however many: nothing caps how many rows a load reads.")
    if extra:
        return (f"with {story}, it also reads {show_rows(extra, 2)}"
                + (" (updated_at NULL: no watermark can place it; the library refuses such a "
                   "source)" if any(r[3] is None for r in extra) else
                   ", older than the watermark: loaded long ago, read again on every run")
                + (f", and misses {show_rows(missed, 2)}" if missed else "") + ".",
                "Filter on updated_at against the parameter, nothing else.")
    return (f"with {story}, it returns {show_rows(yours, 3)}; at or after the watermark are "
            f"{show_rows(expected, 3)}.", "Filter on updated_at against the parameter.")


@register(answer_name="changed_rows_sql",
          stub="SELECT * FROM src_customers WHERE updated_at > :watermark",
          solution_file="01_b_changed_rows_query.py")
def check_changed_rows_query(changed_rows_sql: object) -> Verdict:
    """Step 2: select the rows to load, given the stored :watermark."""
    name = "Step 2 (the changed rows)"
    diff = CHANGED_ROWS.difference(changed_rows_sql)
    if diff is None:
        return Verdict(name, True, "reads every row at or after :watermark, the rows that "
                       f"share it included, on {len(CHANGED_ROWS.scenarios)} sources and for "
                       "any value.")
    return Verdict(name, False, *_describe_changed(changed_rows_sql, diff))


def source_after(warehouse: Warehouse, rounds: int) -> dict[int, tuple]:
    """The source rows after the first ``rounds`` rounds of ``warehouse``."""
    conn = warehouse.build()
    for change in warehouse.rounds[:rounds]:
        apply_round(conn, change)
    return {r[0]: tuple(r) for r in conn.execute("SELECT * FROM src_customers")}

