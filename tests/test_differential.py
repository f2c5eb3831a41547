"""The differential judge: names the smallest scenario where an answer and its reference differ."""

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
