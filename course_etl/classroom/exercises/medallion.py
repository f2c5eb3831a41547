"""Notebook 05's exercises (medallion architecture): dedup in SQL, a reject rule in SQL and in
Python, a gold metric.

Every check runs the answer beside a plain-Python model on conformed rows built from the lecture's
customers and on generated ones, one edge each (a re-sent row, an older version received later, a
tie on ``updated_at`` whose bronze rows cross a power of ten, two orders of the same amount, an
orphan order, an empty stage, names beyond ASCII, …), with the library's column names and
constraints, and names the smallest scenario on which they differ. The Python rule runs through
the library's own :func:`~course_etl.medallion.silver.conform`, as the pipeline runs it.
"""

from __future__ import annotations

import re
from fractions import Fraction

from course_etl.classroom.exercises import Verdict, register
from course_etl.classroom.exercises._grouping import bare_columns
from course_etl.classroom.exercises._silver import (
    customer_versions,
    order_stages,
    silver_conn,
    silver_sets,
    staged_conn,
    unicode_batch,
)
from course_etl.classroom.exercises.differential import (
    Difference,
    Judge,
    Model,
    Outcome,
    Scenario,
    run_query,
    safe_repr,
    show_rows,
    sorted_rows,
)
from course_etl.classroom.exercises.incremental import query_problem, sql_problem
from course_etl.db import quote_identifier
from course_etl.medallion import CUSTOMERS, Rule
from course_etl.medallion.silver import DEFAULT_RULES, conform

__all__ = ["RULE_STUB"]

DEDUP_COLUMNS = ("id", "name", "city", "updated_at")

# --- 1. deduplicate a silver stage in SQL -----------------------------------------------------

def _dedup_scenarios() -> list[Scenario]:
    return [Scenario(story, rows, len(rows)) for story, rows in customer_versions()]


def _run_dedup(sql: object, scenario: Scenario) -> tuple[str, object]:
    result = run_query(staged_conn(customers=scenario.data), sql)
    rows = result.by_name(DEDUP_COLUMNS)
    return ("columns", result.columns) if rows is None else ("rows", sorted_rows(rows))


def _latest_versions(scenario: Scenario) -> tuple[str, list[tuple]]:
    """The rule, in Python: per id the highest (updated_at, _bronze_row) wins."""
    best: dict[int, tuple] = {}
    for row in scenario.data:
        if row[0] not in best or (row[3], row[4]) > (best[row[0]][3], best[row[0]][4]):
            best[row[0]] = row
    return ("rows", sorted_rows(row[:4] for row in best.values()))


DEDUP = Judge(Model(_latest_versions), _dedup_scenarios, _run_dedup)


def _describe_dedup(diff: Difference) -> tuple[str, str]:
    story, staged = diff.scenario.story, diff.scenario.data
    problem = query_problem(diff, error_hint="Test it on the staged table first: SELECT * FROM "
                            "staged", columns_said="; silver's are id, name, city, updated_at.",
                            columns_hint="Return exactly those four, by name.")
    if problem:
        return problem
    yours = diff.yours.value[1]
    want = diff.expected.value[1]
    ids = [r[0] for r in yours]
    twice = sorted({k for k in ids if ids.count(k) > 1})
    if twice:
        versions = [r for r in yours if r[0] == twice[0]]
        return (f"with {story}, id {twice[0]} appears {len(versions)} times "
                f"({show_rows(versions, 3)}): gold would count that customer twice.",
                "DISTINCT only removes identical rows; two versions of a customer differ. Rank "
                "the versions within each id and keep the first.")
    gone = [w for w in want if w[0] not in ids]
    if gone:
        return (f"with {story}, {show_rows(gone, 2)} is missing: that customer vanishes from "
                "silver.", "Filter on the rank, not on ids or values.")
    right = {w[0]: w for w in want}
    kept = next(r for r in yours if r != right.get(r[0]))
    if kept[0] not in right:
        return (f"with {story}, it returns {show_rows([kept])}, which was never staged.",
                "Every row of silver is one of the staged versions.")
    wanted = right[kept[0]]
    tied = [r for r in staged if r[0] == kept[0] and r[3] == wanted[3]]
    return (f"with {story}, for id {kept[0]} it kept {show_rows([kept])}, not "
            f"{show_rows([wanted])}: silver serves an old version.",
            "On a tie in updated_at the row received last wins: which column says which came "
            "last, and is it compared as a number?" if len(tied) > 1 else
            "The newest version wins: in which direction do you sort?")


@register(answer_name="dedup_sql", stub="SELECT DISTINCT id, name, city, updated_at FROM staged",
          solution_file="05_a_silver_dedup.py")
def check_silver_dedup(answer: object) -> Verdict:
    """Deduplicate a silver stage in SQL.

    ``answer``: a SELECT over ``staged(id, name, city, updated_at, _bronze_row)`` returning
    ``id, name, city, updated_at``, one row per id: the latest by updated_at, ties to the row
    received last."""
    name = "Deduplicate in SQL"
    diff = DEDUP.difference(answer)
    bare = bare_columns(answer) if diff is None and isinstance(answer, str) else []
    if bare:
        return Verdict(name, False, f"on these stages it keeps the right rows, but only because "
                       f"this SQLite takes {', '.join(dict.fromkeys(bare))} from the row it "
                       "happens to meet first in each group: in a GROUP BY query a column "
                       "neither grouped nor aggregated comes from a row SQLite chooses, and SQL "
                       "gives a sub-query's ORDER BY no meaning (SQLite drops it when it judges "
                       "it superfluous). Another SQLite version, or the same one with another "
                       "plan, can serve an old version.",
                       "Say which row wins in the query itself: rank the versions within each "
                       "id (a window function) and keep the first.")
    if diff is None:
        return Verdict(name, True, "one row per id, the latest updated_at, ties to the last "
                       f"received, on {len(DEDUP.scenarios)} stages.")
    return Verdict(name, False, *_describe_dedup(diff))


# --- 2. a rejection rule in SQL ---------------------------------------------------------------

_REJECT_STUB = ("SELECT _bronze_row, 'amount is missing' AS reason FROM staged_orders "
                "WHERE amount_cents IS NULL")


def _reject_scenarios() -> list[Scenario]:
    return [Scenario(story, rows, len(rows)) for story, rows in order_stages()]


def _names_amount(reason: object, cents: int) -> bool:
    """Does ``reason`` name the amount (in cents or in currency units)?"""
    if not isinstance(reason, str) or not reason.strip():
        return False
    numbers = re.findall(r"-?\d+(?:[.,]\d+)?", reason)
    return any(abs(float(n.replace(",", ".")) - value) < 1e-9
               for n in numbers for value in (cents, cents / 100))


def _run_reject(sql: object, scenario: Scenario) -> dict:
    conn = staged_conn(orders=scenario.data)
    result = run_query(conn, sql)
    rows = result.by_name(("_bronze_row", "reason"))
    cents = {r[4]: r[2] for r in scenario.data}
    return {"columns": result.columns if rows is None else None,
            "rejected": sorted_rows((r[0],) for r in rows or ()),
            "unexplained": sorted_rows((r[0],) for r in rows or ()
                                       if not _names_amount(r[1], cents.get(r[0], 0))),
            "staged": sorted_rows(conn.execute(
                f"SELECT * FROM {quote_identifier('staged_orders')}"))}


def _reject_model(scenario: Scenario) -> dict:
    rule = DEFAULT_RULES[0]
    return {"columns": None, "unexplained": [],
            "rejected": sorted_rows((r[4],) for r in scenario.data
                                    if rule.check({"amount_cents": r[2]})),
            "staged": sorted_rows(scenario.data)}


REJECT = Judge(Model(_reject_model), _reject_scenarios, _run_reject)


def _describe_reject(diff: Difference) -> tuple[str, str]:
    story = diff.scenario.story
    if diff.yours.raised:
        return (f"with {story}, {sql_problem(diff.yours.error)}",
                "The table is staged_orders; return _bronze_row and reason.")
    yours, want = diff.yours.value, diff.expected.value
    if yours["columns"] is not None:
        return (f"it returns the columns {', '.join(map(str, yours['columns'])) or 'none'}; "
                "silver_rejects needs _bronze_row and reason.", "Name the two columns with AS.")
    if yours["staged"] != want["staged"]:
        lost = len(want["staged"]) - len(yours["staged"])
        return (f"with {story}, running it changed staged_orders ({lost} row(s) gone): a reject "
                "rule lists the rows to set aside; rows that vanish are the loss silver exists "
                "to prevent.", "A rule is a SELECT: it reads, it never changes the stage.")
    cents = {r[4]: r[2] for r in diff.scenario.data}
    missed = [r[0] for r in want["rejected"] if r not in yours["rejected"]]
    extra = [r[0] for r in yours["rejected"] if r not in want["rejected"]
             or yours["rejected"].count(r) > 1]
    if missed or extra:
        said = [f"lets amounts {[cents[b] for b in missed][:4]} (cents) into silver, where "
                "revenue would count them"] if missed else []
        said += [f"rejects {[cents.get(b) for b in extra][:4]} (cents)"
                 + (", some more than once" if len(set(extra)) < len(extra) else
                    ", orders that bring money in")] if extra else []
        return (f"with {story}, it " + " and ".join(said) + ".",
                "An order is valid only when it brings money in: where does zero belong? Decide "
                "from the amount, not from ids or rows.")
    return (f"with {story}, the reason of {show_rows(yours['unexplained'][:1])} does not name "
            "its amount: nobody can say later why that order is missing from silver.",
            "The second column, reason, is a sentence with the amount in it (cents or units).")


def _reject_verdict(answer: object) -> Verdict:
    """The verdict of :func:`check_reject_rule_sql` (prose, kept out of a ``*_sql`` function)."""
    name = "A reject rule in SQL"
    diff = REJECT.difference(answer)
    if diff is None:
        return Verdict(name, True, "rejects every order whose amount is not positive, each with "
                       f"a reason naming it, and leaves the stage as it was, on "
                       f"{len(REJECT.scenarios)} stages: the library's rule amount_not_positive "
                       "does the same.")
    return Verdict(name, False, *_describe_reject(diff))


@register(answer_name="reject_sql", stub=_REJECT_STUB, solution_file="05_b_reject_rule_sql.py")
def check_reject_rule_sql(answer: object) -> Verdict:
    """Write the amount rule as SQL: the staged orders to reject, each with a reason."""
    return _reject_verdict(answer)


# --- 3. a rejection rule in Python ------------------------------------------------------------

def _name_has_digits_stub(row: dict) -> str | None:
    return None  # your rule: return a reason when row["name"] contains a digit


RULE_STUB = Rule("name_has_digits", "customers", _name_has_digits_stub)


def _rule_scenarios() -> list[Scenario]:
    return [Scenario(story, batch, len(batch)) for story, batch in unicode_batch()]


def _reason_problem(reason: object) -> str | None:
    """What is wrong with a value a rule returned to reject a row, or None for a reason a
    person can read: text with words in it (the rejects table stores ``str(reason)``, so a
    list, a dict, True or 1 would be stored as "['3']", "{…}", "True" or "1")."""
    if not isinstance(reason, str):
        return f"{type(reason).__name__} {safe_repr(reason, 40)}"
    if not any(ch.isalpha() for ch in reason):
        return f"text {reason!r}"
    return None


def _run_rule(rule: object, scenario: Scenario) -> list[tuple]:
    """Per row: the name silver holds, whether the rule rejected it, and True when the reason
    it gave is readable text (else what it returned)."""
    if not isinstance(rule, Rule):
        raise TypeError(f"expected a Rule, got {type(rule).__name__}")
    returned: list[object] = []

    def recorded(row: dict) -> object:
        returned.append(rule.check(row))
        return returned[-1]

    seen = []
    for raw in scenario.data:
        returned.clear()
        typed, failures = conform(CUSTOMERS, raw, [Rule(rule.name, rule.entity, recorded)])
        rejected = any(name == rule.name for name, _ in failures)
        problems = [_reason_problem(r) for r in returned if r]
        problem = next((p for p in problems if p), None)
        seen.append((typed["name"], rejected, problem or True))
    return sorted(seen, key=repr)


def _rule_model(scenario: Scenario) -> list[tuple]:
    names = [" ".join(raw["name"].split()) for raw in scenario.data]
    return sorted(((n, any(ch.isdigit() for ch in n), True) for n in names), key=repr)


RULE = Judge(Model(_rule_model), _rule_scenarios, _run_rule)


@register(answer_name="rule", stub=RULE_STUB, solution_file="05_rejection_rule.py")
def check_rejection_rule(answer: object) -> Verdict:
    """Add a rejection rule in Python.

    ``answer``: a :class:`~course_etl.medallion.Rule` named ``name_has_digits`` that rejects
    customers whose name contains a digit ('B3n', 'Dai 2') and nobody else."""
    name = "A rejection rule in Python"
    if not isinstance(answer, Rule):
        return Verdict(name, False, f"expected a Rule, got {type(answer).__name__}",
                       'Rule("name_has_digits", "customers", your_function)')
    if (answer.name, answer.entity) != ("name_has_digits", "customers"):
        return Verdict(name, False, f"the rule is {answer.name!r} on {answer.entity!r}",
                       'Name it "name_has_digits" and apply it to "customers".')
    diff = RULE.difference(answer)
    if diff is None:
        return Verdict(name, True, "rejects exactly the names with a digit, each with a reason, "
                       f"on {len(RULE.scenarios)} batches.")
    story = diff.scenario.story
    if diff.yours.raised:
        return Verdict(name, False, f"with {story}, the rule raised "
                       f"{diff.yours.error.split(' raised ')[-1].split(' on {')[0]}",
                       "row['name'] is a str here (missing names are rejected before).")
    wrong = [y for y, w in zip(diff.yours.value, diff.expected.value, strict=True) if y != w]
    who, rejected, explained = wrong[0]
    if rejected and explained is not True:
        return Verdict(name, False, f"with {story}, {who!r} is rejected, but the rule returned "
                       f"{explained} as its reason: the rejects table would hold that as text, "
                       "which does not say why the row was dropped.",
                       "Return a sentence (a str) naming the value; None when the row is fine.")
    return Verdict(name, False, f"with {story}, {who!r} is "
                   + ("rejected: a real customer" if rejected else "let through to silver")
                   + ".", "Look at every character of the name: a digit can be anywhere, and "
                   "str has a method that tells whether a character is one.")


# --- 4. a gold metric -------------------------------------------------------------------------

_METRIC_STUB = ("SELECT customer_id AS city, AVG(amount_cents) AS avg_order_value "
                "FROM silver_orders GROUP BY customer_id")


def _metric_scenarios() -> list[Scenario]:
    return [Scenario(story, data, len(data[0]) + len(data[1])) for story, data in silver_sets()]


def _run_metric(sql: object, scenario: Scenario) -> tuple[str, object]:
    result = run_query(silver_conn(*scenario.data), sql)
    rows = result.by_name(("city", "avg_order_value"))
    return ("columns", result.columns) if rows is None else ("rows", sorted_rows(rows))


def _exact_averages(scenario: Scenario) -> tuple[str, list[tuple]]:
    customers, orders = scenario.data
    city = {c[0]: c[2] for c in customers}
    amounts: dict[str, list[int]] = {}
    for order in orders:
        if order[1] in city:
            amounts.setdefault(city[order[1]], []).append(order[2])
    return ("rows", sorted_rows((c, Fraction(sum(a), len(a) * 100)) for c, a in amounts.items()))


def _same_metric(yours: Outcome, expected: Outcome) -> bool:
    """The same cities; each value on a cent and within half a cent of the exact average
    (SQLite rounds halves away from zero, other engines to even: both are right)."""
    if yours.raised or expected.raised or yours.value[0] != "rows":
        return yours.raised and expected.raised
    mine, exact = yours.value[1], expected.value[1]
    if [r[0] for r in mine] != [r[0] for r in exact]:
        return False
    for (_, value), (_, want) in zip(mine, exact, strict=True):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        if abs(value * 100 - round(value * 100)) > 1e-6 or abs(Fraction(value) - want) > \
                Fraction(1, 200) + Fraction(1, 10**9):
            return False
    return True


METRIC = Judge(Model(_exact_averages), _metric_scenarios, _run_metric, same=_same_metric)


def _describe_metric(diff: Difference) -> tuple[str, str]:
    story = diff.scenario.story
    problem = query_problem(diff, error_hint="The tables are silver_orders and silver_customers.",
                            columns_said="; the metric has city and avg_order_value.",
                            columns_hint="Return exactly those two, named with AS.")
    if problem:
        return problem
    yours = diff.yours.value[1]
    exact = dict(diff.expected.value[1])
    cities = [r[0] for r in yours]
    if sorted(map(str, cities)) != sorted(map(str, exact)) or len(set(cities)) < len(cities):
        return (f"with {story}, it gives the cities {sorted(map(str, cities))}; orders reach "
                f"{sorted(exact)}.", "Orders have no city of their own: it comes from their "
                "customer, and an order without one is left out.")
    city, value = next((c, v) for c, v in yours if not _same_metric(
        Outcome(("rows", [(c, v)])), Outcome(("rows", [(c, exact[c])]))))
    if not isinstance(value, int | float) or isinstance(value, bool):
        return (f"with {story}, {city} gets {value!r}, a {type(value).__name__}, not a number: "
                "a chart cannot plot it and a sum of them is not a sum.",
                "Round the number itself; formatting it is the dashboard's job.")
    return (f"with {story}, {city} gets {value!r}; its orders average "
            f"{float(exact[city]):.4f}, so {round(float(exact[city]), 2):.2f}: the dashboard "
            "would show a wrong average.", "Amounts are stored in cents; the answer is in "
            "currency units, rounded to 2 decimals, each order counted once however many share "
            "its amount (and integer division drops decimals).")


@register(answer_name="metric_sql", stub=_METRIC_STUB, solution_file="05_gold_metric.py")
def check_gold_metric(answer: object) -> Verdict:
    """Build a gold metric: average order value per city.

    ``answer``: a SELECT over the silver tables giving ``city, avg_order_value``: the mean
    order amount (in currency units, rounded to 2 decimals) per customer city, orphans left out."""
    name = "A gold metric"
    diff = METRIC.difference(answer)
    if diff is None:
        return Verdict(name, True, "the average order value per city, in currency units to the "
                       f"cent, orphans left out, on {len(METRIC.scenarios)} silver sets.")
    return Verdict(name, False, *_describe_metric(diff))

