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
    KEY,
    STAMP,
    UNICODE_NAMES,
    Draw,
    Warehouse,
    apply_rounds,
    cell,
    customer,
    lecture_warehouse,
    loaded,
    random_warehouse,
    restamped,
    row,
)
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Scenario,
    run_query,
    show_rows,
    sorted_rows,
    tables_read,
)
from course_etl.db import quote_identifier
from course_etl.facts import CUSTOMERS, TABLES

__all__: list[str] = []


def sql_problem(error: str) -> str:
    """An error of a SQL answer, as the first sentence of a verdict: SQLite's own words, or
    what was given instead of SQL text."""
    if error.startswith("AnswerShapeError"):
        return f"this is not SQL: {error.split(': ', 1)[-1]}"
    return f"SQLite refused it: {error.split(': ', 1)[-1]}"


def query_problem(diff: Difference, *, error_hint: str, columns_said: str,
                  columns_hint: str) -> tuple[str, str] | None:
    """(sentence, hint) for a query that raised or returned other columns than wanted
    (``columns_said`` follows the list of its columns); None when it returned rows."""
    if diff.yours.raised:
        return f"with {diff.scenario.story}, {sql_problem(diff.yours.error)}", error_hint
    kind, yours = diff.yours.value
    if kind == "columns":
        return (f"it returns the columns {', '.join(map(str, yours)) or 'none'}{columns_said}",
                columns_hint)
    return None


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


def _decoys(target: str, column: str) -> list[tuple[str, str, str]]:
    """(what, target, column) of rows a read must not take for ``target``.``column``: names that
    contain it or that it contains, that differ only in case or match it as a LIKE pattern, and
    the same letters split differently between target and column."""
    return [("a longer target that contains its name", f"{target}_archive", column),
            ("a shorter target inside its name", target[:-1], column),
            ("a target that differs only in case", target.upper(), column),
            ("a target LIKE would match (_ matches any character)",
             target.replace("_", "X", 1), column),
            ("a column whose name contains it", target, f"{column}_utc"),
            ("the same letters split differently between target and column",
             target + column[:3], column[3:])]


def _values(draw: Draw) -> list[tuple[str, object, object, str]]:
    """(what, value, another value, format) of watermarks as loads store them: dates, times,
    integer batch ids (the medallion's), NULL."""
    return [("a date", draw.stamp(1)[:10], draw.stamp(5)[:10], "YYYY-MM-DD"),
            ("a timestamp", draw.stamp(1), draw.stamp(3), "YYYY-MM-DD hh:mm"),
            ("an integer batch id", draw.rng.randint(2, 60), draw.rng.randint(61, 900),
             "integer"),
            ("NULL (a load once saved nothing)", None, draw.stamp(2), "YYYY-MM-DD")]


def _watermark_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    after_first = max(r[STAMP] for r in lecture.rounds[0].rows)
    out = [_state_scenario(
        f"the lecture's warehouse after its first load (watermark {lecture.watermark}), where a "
        f"failed run left a newer row in {TABLES.warehouse}",
        [(TABLES.warehouse, CUSTOMERS.watermark, lecture.watermark, "YYYY-MM-DD")],
        TABLES.warehouse, CUSTOMERS.watermark, newest_data=after_first)]
    for seed in range(2):
        draw = Draw(100 + seed)
        table, column = f"dw_{draw.name().lower()}s", ("updated_at", "modified_at")[seed]
        for what, value, other, fmt in _values(draw):
            out.append(_state_scenario(f"a watermark of {table}.{column} that is {what}",
                                       [(table, column, value, fmt)], table, column))
            for decoy, name, col in _decoys(table, column)[seed::2]:
                state = [(name, col, other, fmt), (table, column, value, fmt)]
                out += [_state_scenario(f"{what} stored for {table}.{column}, and {decoy} "
                                        f"({name}.{col}) with another value", state, table,
                                        column),
                        _state_scenario(f"no watermark for {table}.{column} yet, but {decoy} "
                                        f"({name}.{col})", state[:1], table, column)]
    out.append(_state_scenario(
        "a target named with non-ASCII letters, 'dw_kunden_ü'",
        [("dw_kunden_ü", "geändert_am", "2025-03-04 10:00:00", "YYYY-MM-DD hh:mm"),
         ("dw_kunden", "geändert_am", "2025-03-05", "YYYY-MM-DD")], "dw_kunden_ü", "geändert_am"))
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
    conn = Warehouse((), (row(**{CUSTOMERS.key: 1, "name": "Ghost", "city": None,
                                 CUSTOMERS.watermark: scenario.data["newest_data"]}) + ("gold",),
                             )).build()
    conn.executemany(f"INSERT INTO {quote_identifier(TABLES.watermarks)} VALUES (?, ?, ?, ?)",
                     scenario.data["state"])
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
    if len(yours) == len(expected) and [tuple(map(str, r)) for r in yours] == \
            [tuple(map(str, r)) for r in expected]:
        return (f"with {story}, it returns {show_rows(yours)}: the stored value is "
                f"{show_rows(expected)}, of another type. A batch id read back as text compares "
                "as text ('10' < '9'), and step 5 stores it back changed.",
                "Select the columns as they are stored, without converting them.")
    stored = (f"the stored watermark is {show_rows(expected)}" if expected else
              "no watermark is stored for it (a first load: no row)")
    return (f"with {story} and {asked}, it returns {show_rows(yours)}; {stored}. A load "
            "starting from the wrong value skips rows or reloads old ones.",
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

def _changed_scenario(story: str, source: list[tuple], warehouse: tuple[tuple, ...],
                      watermark: str) -> Scenario:
    """The source now, the warehouse as the loads so far left it, the stored watermark."""
    return Scenario(story, Warehouse(tuple(source), tuple(warehouse), watermark=watermark),
                    len(source) + len(warehouse))


def _after_loads(source: list[tuple], watermark: str) -> tuple[tuple, ...]:
    """The warehouse a correct load up to ``watermark`` left: every row stamped up to it."""
    return loaded([r for r in source if r[STAMP] is not None and r[STAMP] <= watermark])


def _changed_scenarios() -> list[Scenario]:
    lecture = lecture_warehouse()
    first, day = list(lecture.source), max(r[STAMP] for r in lecture.rounds[0].rows)
    after_one = apply_rounds(first, lecture.rounds[:1])
    with_late = apply_rounds(first, lecture.rounds[:2])
    out = [_changed_scenario(f"the lecture's source, where a row stamped {day} was written after "
                             f"the load of {day} (:watermark = {day!r})", with_late,
                             loaded(after_one), day),
           _changed_scenario(f"the lecture's source after its first change round and the first "
                             f"load's watermark {lecture.watermark!r}", after_one, loaded(first),
                             lecture.watermark),
           _changed_scenario("an empty source", [], (), "2025-03-01")]
    for seed in range(3):
        draw = Draw(200 + seed, daily=seed == 0)
        mark = draw.stamp(2)
        before, at, later = draw.row(1), draw.row(2), draw.row(3)
        old_at = restamped(at, mark, city=draw.city(cell(at, "city")))
        out += [
            _changed_scenario(f"one row stamped exactly the watermark {mark!r} and one "
                              "before it", [before, at], loaded([before]), mark),
            _changed_scenario(f"a row the warehouse holds, corrected at the source with the same "
                              f"stamp, the watermark {mark!r}", [before, at],
                              loaded([before, old_at]), mark),
            _changed_scenario(f"a row loaded before, changed after the watermark {mark!r}",
                              [later[:KEY] + (before[KEY],) + later[KEY + 1:]],
                              loaded([before]), mark),
            _changed_scenario(f"two rows older than the watermark {mark!r} (nothing to read)",
                              [before, draw.row(0)], (), mark),
            _changed_scenario(f"a row whose updated_at is NULL and one after the watermark "
                              f"{mark!r}", [customer(draw.key(), draw.name(), draw.city(), None),
                                          later], (), mark),
            _changed_scenario(f"rows after the watermark {mark!r} with a NULL name and a NULL "
                              "city", [customer(draw.key(), None, draw.city(), later[STAMP]),
                                       customer(draw.key(), draw.name(), None, at[STAMP]),
                                       before],
                              loaded([before]), mark),
            _changed_scenario(f"a warehouse holding a row newer than the watermark {mark!r} (a "
                              "failed run wrote it) and one the source deleted", [before, at,
                                                                                 later],
                              loaded([before, draw.row(5), draw.row(2)]), mark),
        ]
        many = Draw(300 + seed, unicode=seed == 1)
        mark = many.stamp(1)
        rows = [many.row(many.rng.choice([1, 2, 3])) for _ in range(21 + 12 * seed)]
        older = [many.row(0), many.row(0)]
        out.append(_changed_scenario(f"{len(rows) + 2} rows, {len(rows)} of them at or after "
                                     f"the watermark {mark!r}", [*rows, *older],
                                     loaded(older), mark))
        wide = random_warehouse(400 + seed, rows=6 + 5 * seed, rounds=1, unicode=seed == 2)
        now = apply_rounds(wide.source, wide.rounds)
        out.append(_changed_scenario(f"{len(now)} customers, some changed after the "
                                     f"watermark {wide.watermark!r}, some stamped exactly it, "
                                     "the warehouse as the loads left it", now, wide.warehouse,
                                     wide.watermark))
    for what, draw in (("ids of 0 and below", Draw(9, keys=(-40, 0))),
                       ("a history that starts in 1999", Draw(10, daily=True, year=1999)),
                       ("names and cities beyond ASCII (" + ", ".join(UNICODE_NAMES[:3]) + ")",
                        Draw(11, unicode=True))):
        mark = draw.stamp(1)
        old = draw.row(0)
        out.append(_changed_scenario(f"{what}, and the watermark {mark!r}",
                                     [old, draw.row(1), draw.row(2)], loaded([old]), mark))
    return out


def _changed_rows(scenario: Scenario) -> tuple[str, list[tuple]]:
    warehouse: Warehouse = scenario.data
    return ("rows", sorted_rows(r for r in warehouse.source
                                if r[STAMP] is not None and r[STAMP] >= warehouse.watermark))


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
    problem = query_problem(diff, error_hint=_PARAMETER_HINT, columns_said="; the upsert reads "
                            f"the source's columns by name: {', '.join(COLUMNS)}.",
                            columns_hint=f"Keep every column of {TABLES.source}, under its own "
                            "name.")
    if problem:
        return problem
    yours = diff.yours.value[1]
    expected = diff.expected.value[1]
    missed = [r for r in expected if r not in yours]
    extra = [r for r in yours if r not in expected or yours.count(r) > expected.count(r)]
    if not binds(sql, "watermark"):
        return (f"with {story}, it returns {len(yours)} rows, not {len(expected)}: the value is "
                "written into the query, so every later load reads the same rows again.",
                _PARAMETER_HINT)
    if TABLES.warehouse in tables_read(diff.scenario.data.build(), sql, {"watermark": mark}):
        return (f"with {story}, it returns {show_rows(yours, 2)}, not {show_rows(expected, 2)}: "
                f"it reads {TABLES.warehouse} to decide, which holds the old version of a "
                "changed row, rows stamped the watermark, rows the source deleted and rows a "
                "failed run wrote, so changes are skipped.",
                "What to read is decided by the stored watermark alone: the upsert of step 3 "
                "then leaves rows that did not change alone.")
    if missed and all(r[STAMP] == mark for r in missed):
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
                   "source)" if any(r[STAMP] is None for r in extra) else
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
    """The source rows after the first ``rounds`` rounds of ``warehouse``, by key."""
    return {r[KEY]: r for r in apply_rounds(warehouse.source, warehouse.rounds[:rounds])}

