"""The differential judge: names the smallest scenario where an answer and its reference differ."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_etl import connect
from course_etl.classroom.exercises.differential import (
    Scenario,
    first_difference,
    observe,
    table_rows,
)


def run(answer, scenario):
    return answer(scenario.data)


@given(st.lists(st.integers(-50, 50), min_size=1, max_size=30), st.integers(-50, 50))
def test_the_smallest_differing_scenario_is_named(values, threshold):
    scenarios = [Scenario(f"value {v}", v, size=abs(v)) for v in values]

    def reference(x):
        return x * 2

    def answer(x):  # wrong from the threshold's magnitude on
        return x * 2 if abs(x) < abs(threshold) else x * 2 + 1

    diff = first_difference(answer, reference, scenarios, run)
    wrong = [s for s in scenarios if abs(s.data) >= abs(threshold)]
    if not wrong:
        assert diff is None
    else:
        assert diff.scenario.size == min(s.size for s in wrong)
        assert diff.yours.value == diff.expected.value + 1


def test_errors_are_outcomes_and_both_refusing_agree():
    scenarios = [Scenario("zero", 0, 0), Scenario("one", 1, 1)]
    strict = lambda x: 1 / x  # noqa: E731
    assert observe(run, strict, scenarios[0]).error == "ZeroDivisionError: division by zero"
    assert first_difference(strict, lambda x: 1 / x, scenarios, run) is None
    diff = first_difference(lambda x: 0, strict, scenarios, run)
    assert diff.scenario.story == "zero" and diff.expected.raised and not diff.yours.raised


def test_table_rows_sorts_mixed_columns():
    conn = connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(2, "x"), (None, 1), ("s", 1.5), (1, None)])
    assert table_rows(conn, "t") == [(None, 1), (1, None), (2, "x"), ("s", 1.5)]


def test_a_judge_computes_the_reference_only_where_a_verdict_reaches():
    from course_etl.classroom.exercises.differential import Judge, Model

    computed = []

    def model(scenario):
        computed.append(scenario.data)
        return scenario.data * 2

    judge = Judge(Model(model), lambda: [Scenario(f"v{v}", v, size=v) for v in (3, 1, 2)],
                  lambda answer, scenario: answer(scenario.data))
    diff = judge.difference(lambda x: x * 2 if x < 2 else 0)
    assert diff.scenario.data == 2 and computed == [1, 2]
    assert judge.difference(lambda x: x * 2) is None and computed == [1, 2, 3]


def test_tables_read_sees_through_aliases_subqueries_and_views():
    from course_etl.classroom.exercises.differential import tables_read

    conn = connect(":memory:")
    conn.executescript("CREATE TABLE a (x); CREATE TABLE b (y); CREATE VIEW v AS SELECT y FROM b")
    # A view is seen through: the table under it is what is read.
    assert tables_read(conn, "SELECT q.x FROM a AS q WHERE EXISTS (SELECT 1 FROM v)") == \
        {"a", "b"}
    assert tables_read(conn, "SELECT * FROM nowhere") == set()
    assert tables_read(conn, 42) == set()


def test_a_runaway_statement_is_stopped_and_said_so():
    import sqlite3

    import pytest

    from course_etl.classroom.exercises.differential import run_query

    conn = connect(":memory:")
    endless = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
               "SELECT COUNT(*) FROM r")
    with pytest.raises(sqlite3.OperationalError, match="does not finish"):
        run_query(conn, endless)
    assert run_query(conn, "SELECT 1 AS one").rows == [(1,)]


def test_rows_by_name_accept_any_order_and_refuse_missing_or_repeated_names():
    from course_etl.classroom.exercises.differential import SqlResult

    result = SqlResult(("b", "a"), [(2, 1)])
    assert result.by_name(("a", "b")) == [(1, 2)]
    assert result.by_name(("a", "c")) is None
    assert SqlResult(("a", "a"), [(1, 1)]).by_name(("a", "b")) is None


@given(st.one_of(st.integers(), st.binary(max_size=10), st.none(), st.lists(st.text(max_size=5)),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_an_answer_that_is_not_sql_text_is_carried(answer):
    from course_etl.classroom.exercises.differential import AnswerShapeError, run_query

    conn = connect(":memory:")
    try:
        with pytest.raises(AnswerShapeError) as caught:
            run_query(conn, answer)
    finally:
        conn.close()
    assert caught.value.value is answer
    assert str(caught.value).endswith(f"got {type(answer).__name__}")
