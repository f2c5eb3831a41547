"""Silver: conforming, rules and rejects, deduplication with tie-breaks, reconciliation."""

import pytest
from builders import optional_defaults, records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl import query
from course_etl.medallion import (
    CUSTOMERS,
    ORDERS,
    Rule,
    fixed_clock,
    ingest_batch,
    process_new_batches,
    reconcile,
)
from course_etl.medallion.silver import clean_text, conform, parse_money, parse_timestamp


@pytest.mark.parametrize("text, expected", [
    ("2024-10-05 13:00:00", "2024-10-05T13:00:00Z"),
    ("2024-10-05T13:00", "2024-10-05T13:00:00Z"),
    ("2024-10-05T15:00:00+02:00", "2024-10-05T13:00:00Z"),
    ("2024-10-05T13:00:00Z", "2024-10-05T13:00:00Z"),
    ("2024-10-05", "2024-10-05T00:00:00Z"),
    ("05.10.2024 13:00:00", "2024-10-05T13:00:00Z"),
    ("05.10.2024 13:00", "2024-10-05T13:00:00Z"),
    ("2024/10/05 13:00:00", "2024-10-05T13:00:00Z"),
    ("1728133200", "2024-10-05T13:00:00Z"),
])
def test_timestamps_in_every_source_format_become_one_utc_form(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["2024-02-30 10:00:00", "31.13.2024 08:00", "yesterday",
                                  "0000-00-00", "2024-10-0", "10/05/2024 13:00"])
def test_impossible_or_ambiguous_timestamps_are_refused(text):
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp(text)


def test_money_and_text():
    assert [parse_money(t) for t in ("12.50", "12,5", "7", "-3.10")] == [1250, 1250, 700, -310]
    with pytest.raises(ValueError, match="not an amount"):
        parse_money("1,250.00")
    assert [clean_text(v) for v in ("  El   Paso ", "", "   ", None)] == ["El Paso", None, None,
                                                                         None]


def test_conform_reports_every_failure_and_custom_rules_run_on_valid_rows_only():
    no_digits = Rule("name_has_digits", "customers",
                     lambda row: f"name {row['name']!r} has digits" if any(
                         c.isdigit() for c in row["name"]) else None)
    typed, failures = conform(CUSTOMERS, {"id": " 7 ", "name": "B3n", "city": " el  PASO ",
                                          "updated_at": "05.10.2024 13:00"}, [no_digits])
    assert typed == {"id": 7, "name": "B3n", "city": "El Paso",
                     "updated_at": "2024-10-05T13:00:00Z", **optional_defaults(CUSTOMERS)}
    assert failures == [("name_has_digits", "name 'B3n' has digits")]
    _, failures = conform(CUSTOMERS, {"id": "x", "name": "B3n", "city": None,
                                      "updated_at": "soon"}, [no_digits])
    assert [rule for rule, _ in failures] == ["id_unparsable", "city_missing",
                                              "updated_at_unparsable"]


def ingest(conn, entity, rows, clock):
    """Rows as tuples of the entity's required columns (builders.records), ingested."""
    return ingest_batch(conn, entity, records(CUSTOMERS if entity == "customers" else ORDERS,
                                              rows), clock=clock)


@pytest.fixture
def clock():
    return fixed_clock("2024-10-01T06:00:00Z")


def test_latest_version_wins_ties_go_to_the_row_received_last(conn, clock):
    ingest(conn, "customers", [
        ("1", "Aria", "Austin", "2024-10-01 09:00:00"),
        ("1", "Aria", "austin ", "2024-10-01T09:00:00Z"),  # same version, dirtier: duplicate
        ("2", "Ben", "Berlin", "2024-10-02 09:00:00"),
        ("2", "Ben", "Bonn", "2024-10-01 09:00:00"),  # older, although received later
        ("3", "Chloe", "Chicago", "2024-10-01 09:00:00"),
        ("3", "Chloe", "Aurora", "2024-10-01 11:00:00+02:00"),  # same instant: a tie
    ], clock)
    process_new_batches(conn)
    silver = query(conn, "SELECT id, city, updated_at, _bronze_row FROM silver_customers "
                         "ORDER BY id")
    assert silver.to_dict("records") == [
        {"id": 1, "city": "Austin", "updated_at": "2024-10-01T09:00:00Z", "_bronze_row": 2},
        {"id": 2, "city": "Berlin", "updated_at": "2024-10-02T09:00:00Z", "_bronze_row": 3},
        {"id": 3, "city": "Aurora", "updated_at": "2024-10-01T09:00:00Z", "_bronze_row": 6},
    ]
    superseded = query(conn, "SELECT _bronze_row, superseded_by, reason "
                             "FROM silver_customers_superseded ORDER BY _bronze_row")
    assert superseded.to_dict("records") == [
        {"_bronze_row": 1, "superseded_by": 2,
         "reason": "duplicate: same values as the kept row"},
        {"_bronze_row": 4, "superseded_by": 3, "reason": "older version: earlier updated_at"},
        {"_bronze_row": 5, "superseded_by": 6,
         "reason": "tie on updated_at: the kept row came later (batch stamp, then arrival)"},
    ]


def test_a_later_batch_replaces_a_version_and_an_older_one_does_not(conn, clock):
    ingest(conn, "customers", [("1", "Aria", "Austin", "2024-10-02 09:00:00")], clock)
    process_new_batches(conn)
    ingest(conn, "customers", [("1", "Aria", "Boston", "2024-10-03 09:00:00"),
                               ("1", "Aria", "Denver", "2024-10-01 09:00:00")], clock)
    result = process_new_batches(conn)
    assert (result.merged["customers"].inserted, result.merged["customers"].replaced) == (0, 1)
    assert query(conn, "SELECT city FROM silver_customers")["city"].tolist() == ["Boston"]
    superseded = query(conn, "SELECT city, superseded_by, reason FROM "
                             "silver_customers_superseded ORDER BY _bronze_row")
    assert superseded.to_dict("records") == [
        {"city": "Austin", "superseded_by": 2, "reason": "older version: earlier updated_at"},
        {"city": "Denver", "superseded_by": 2, "reason": "older version: earlier updated_at"},
    ]


def test_every_failing_row_is_rejected_with_rule_reason_batch_and_raw_values(conn, clock):
    ingest(conn, "customers", [
        ("1", "Aria", "Austin", "2024-10-01 09:00:00"),
        (None, "Ben", "Berlin", "2024-10-01 09:00:00"),
        ("3", "   ", "Chicago", "2024-02-30 10:00:00"),
    ], clock)
    ingest(conn, "orders", [("10", "1", "-5.00", "2024-10-01 10:00:00"),
                            ("11", "1", "12,50", "2024-10-01 10:00:00")], clock)
    process_new_batches(conn)
    rejects = query(conn, "SELECT entity, _bronze_row, _batch_id, rule, reason, raw "
                          "FROM silver_rejects ORDER BY entity, _bronze_row")
    assert rejects.to_dict("records") == [
        {"entity": "customers", "_bronze_row": 2, "_batch_id": 1, "rule": "id_missing",
         "reason": "id is missing",
         "raw": '{"id": null, "name": "Ben", "city": "Berlin", "updated_at": '
                '"2024-10-01 09:00:00"}'},
        {"entity": "customers", "_bronze_row": 3, "_batch_id": 1, "rule": "name_missing",
         "reason": "name is missing; updated_at: '2024-02-30 10:00:00' is not a timestamp in "
                   "any known format",
         "raw": '{"id": "3", "name": "   ", "city": "Chicago", "updated_at": '
                '"2024-02-30 10:00:00"}'},
        {"entity": "orders", "_bronze_row": 1, "_batch_id": 2, "rule": "amount_not_positive",
         "reason": "amount -5.00 is not positive",
         "raw": '{"order_id": "10", "customer_id": "1", "amount": "-5.00", '
                '"ordered_at": "2024-10-01 10:00:00"}'},
    ]
    assert query(conn, "SELECT order_id, amount_cents FROM silver_orders").to_dict(
        "records") == [{"order_id": 11, "amount_cents": 1250}]
    assert [str(r) for r in reconcile(conn)] == [
        "customers: 3 bronze = 1 silver + 0 superseded + 2 rejected ✓",
        "orders: 2 bronze = 1 silver + 0 superseded + 1 rejected ✓",
    ]


def test_a_newer_version_that_fails_a_rule_leaves_the_valid_one_in_silver(conn, clock):
    ingest(conn, "customers", [("1", "Aria", "Austin", "2024-10-01 09:00:00")], clock)
    ingest(conn, "customers", [("1", "Aria", None, "2024-10-05 09:00:00")], clock)
    process_new_batches(conn)
    assert query(conn, "SELECT city FROM silver_customers")["city"].tolist() == ["Austin"]
    assert query(conn, "SELECT rule, _batch_id FROM silver_rejects").to_dict("records") == [
        {"rule": "city_missing", "_batch_id": 2}]


def test_reconciliation_notices_rows_deleted_from_silver(conn, clock):
    ingest(conn, "customers", [("1", "Aria", "Austin", "2024-10-01 09:00:00"),
                               ("2", "Ben", "Berlin", "2024-10-01 09:00:00")], clock)
    process_new_batches(conn)
    conn.execute("DELETE FROM silver_customers WHERE id = 2")
    customers = reconcile(conn)[0]
    assert not customers.balanced
    assert str(customers) == ("customers: 2 bronze ≠ 1 silver + 0 superseded + 0 rejected "
                              "✗ rows lost or invented")


def test_a_rule_that_raises_is_named_and_nothing_is_written(conn, clock):
    from course_etl.medallion.silver import RuleError

    ingest(conn, "customers", [("1", "Aria", "Austin", "2024-10-01 09:00:00")], clock)
    broken = Rule("name_upper", "customers", lambda row: row["nmae"].isupper())
    with pytest.raises(RuleError, match="rule 'name_upper' raised KeyError: 'nmae' on "):
        process_new_batches(conn, rules=[broken])
    assert conn.execute("SELECT COUNT(*) FROM silver_customers").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM silver_rejects").fetchone()[0] == 0
    from course_etl.loads.watermarks import read_watermark

    assert read_watermark(conn, "silver_customers", "_batch_id") is None


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=15), customer=st.integers(1, 10**6),
       city=st.sampled_from(["Austin", "Berlin", "Oslo"]),
       raised=st.sampled_from([KeyError("nmae"), ZeroDivisionError("division by zero"),
                               AttributeError("'int' object has no attribute 'upper'")]))
def test_a_rule_that_raises_carries_its_name_and_the_row_it_was_given(name, customer, city,
                                                                      raised, clock):
    from course_etl import connect
    from course_etl.medallion.silver import RuleError

    given_rows = []

    def check(row):
        given_rows.append(dict(row))
        raise raised

    conn = connect(":memory:")
    ingest(conn, "customers", [(str(customer), "Aria", city, "2024-10-01 09:00:00")], clock)
    with pytest.raises(RuleError) as refused:
        process_new_batches(conn, rules=[Rule(name, "customers", check)])
    assert (refused.value.rule, refused.value.row) == (name, given_rows[0])
    assert refused.value.__cause__ is raised and given_rows[0]["id"] == customer
