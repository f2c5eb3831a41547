"""The run: incremental processing equals a rebuild, watermarks, gates, gold, lineage."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl import connect, query
from course_etl.errors import CourseEtlError, UnknownTableError
from course_etl.loads.watermarks import read_watermark
from course_etl.medallion import (
    CLEAN,
    DEFAULT_DIRT,
    GOLD_TABLES,
    CheckFailedError,
    Dirt,
    DirtySource,
    LineageKeyError,
    compare_with_rebuild,
    fixed_clock,
    ingest_dirty_batch,
    layer_counts,
    layer_flow_figure,
    process_new_batches,
    rebuild_from_bronze,
    reconcile,
    snapshot,
    trace_gold_row,
)
from course_etl.medallion.gates import reject_rate, rows_reconcile
from course_etl.medallion.pipeline import compare_snapshots
from course_etl.medallion.silver import Reconciliation
from course_etl.retries import fails_fast


def load(conn, batches=3, size=30, dirt=DEFAULT_DIRT, seed=11, *, process_each=True):
    source, clock = DirtySource(seed), fixed_clock()
    for _ in range(batches):
        ingest_dirty_batch(conn, source.next_batch(size, dirt), clock=clock)
        if process_each:
            process_new_batches(conn)
    return source, clock


def expected_gold(conn):
    """Gold recomputed from silver in pandas, independently of the library's SQL."""
    customers = query(conn, "SELECT id, city FROM silver_customers")
    orders = query(conn, "SELECT order_id, customer_id, amount_cents, ordered_at "
                         "FROM silver_orders")
    stats = customers.groupby("city").size().rename("n_customers").reset_index()
    joined = orders.merge(customers, left_on="customer_id", right_on="id")
    joined["day"] = joined["ordered_at"].str[:10]
    revenue = (joined.groupby(["city", "day"])
               .agg(n_orders=("order_id", "size"), revenue_cents=("amount_cents", "sum"))
               .reset_index())
    return stats.sort_values("city", ignore_index=True), revenue


def test_incremental_runs_equal_a_rebuild_and_an_independent_computation(conn):
    load(conn, batches=4)
    comparison = compare_with_rebuild(conn)
    assert comparison.identical, str(comparison)
    stats, revenue = expected_gold(conn)
    got = snapshot(conn)
    pd.testing.assert_frame_equal(got["gold_customer_stats"], stats, check_dtype=False)
    pd.testing.assert_frame_equal(got["gold_city_daily_revenue"].drop(columns="revenue"),
                                  revenue, check_dtype=False)
    assert all(r.balanced for r in reconcile(conn))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    knobs=st.fixed_dictionaries({k: st.sampled_from([0.0, 0.2, 0.6]) for k in (
        "whitespace", "casing", "nulls", "duplicates", "versions", "bad_dates",
        "mixed_formats", "orphans")}),
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    process_after=st.lists(st.booleans(), min_size=4, max_size=4),
    seed=st.integers(0, 1000),
)
def test_property_incremental_processing_equals_a_full_rebuild(knobs, sizes, process_after,
                                                               seed):
    incremental, rebuilt = connect(), connect()
    source, clocks = DirtySource(seed), (fixed_clock(), fixed_clock())
    for size, process in zip(sizes, process_after, strict=False):
        batch = source.next_batch(size, Dirt(**knobs))
        for conn, clock in zip((incremental, rebuilt), clocks, strict=True):
            ingest_dirty_batch(conn, batch, clock=clock)
        if process:
            process_new_batches(incremental)
    process_new_batches(incremental)
    rebuild_from_bronze(rebuilt)
    comparison = compare_snapshots(snapshot(incremental), snapshot(rebuilt))
    assert comparison.identical, str(comparison)
    assert all(r.balanced for r in reconcile(incremental))


def test_watermarks_move_with_the_data_and_a_rerun_does_nothing(conn):
    load(conn, batches=2)
    marks = query(conn, "SELECT target, value FROM etl_watermarks ORDER BY target")
    assert marks.to_dict("records") == [
        {"target": t, "value": 4} for t in sorted(
            ["silver_customers", "silver_orders", "gold_customer_stats",
             "gold_city_daily_revenue"])]
    before = snapshot(conn)
    again = process_new_batches(conn)
    assert again.batches == () and str(again) == "incremental: no new bronze batches"
    assert compare_snapshots(before, snapshot(conn)).identical


def test_reingesting_a_batch_changes_nothing(conn):
    source = DirtySource(3)
    batch = source.next_batch(20)
    first = ingest_dirty_batch(conn, batch, clock=fixed_clock())
    process_new_batches(conn)
    before = snapshot(conn)
    again = ingest_dirty_batch(conn, batch, clock=fixed_clock("2024-10-09T00:00:00Z"))
    assert [r.duplicate for r in again] == [True, True]
    assert [r.batch_id for r in again] == [r.batch_id for r in first]
    assert process_new_batches(conn).batches == ()
    assert compare_snapshots(before, snapshot(conn)).identical


def test_a_failing_blocking_gate_rolls_the_run_back_and_rebuild_repairs(conn):
    source, clock = load(conn, batches=2)
    conn.execute("DELETE FROM silver_customers WHERE id = 1")  # someone "fixed" silver by hand
    gold_before = snapshot(conn)["gold_customer_stats"]
    ingest_dirty_batch(conn, source.next_batch(30), clock=clock)
    result = process_new_batches(conn)
    assert not result.promoted and result.failed_gates == ["rows_reconcile(silver_customers)"]
    assert result.state == "failed"  # Airflow's word: the gate failed, so did the run
    assert "failed: gate rows_reconcile(silver_customers) failed" in str(result)
    with pytest.raises(CheckFailedError, match=r"gate\(s\) rows_reconcile\(silver_customers\) "
                       r"failed, run rolled back, gold not promoted: customers: "
                       r"90 bronze ≠ 61 silver .* 1 row\(s\) missing") as raised:
        result.raise_if_blocked()
    assert [r.name for r in raised.value.failed] == ["rows_reconcile"]
    assert fails_fast(raised.value)  # a task that raises it is not retried
    assert read_watermark(conn, "silver_customers", "_batch_id").value == 4
    pd.testing.assert_frame_equal(snapshot(conn)["gold_customer_stats"], gold_before)
    assert conn.execute("SELECT COUNT(*) FROM temp.sqlite_master").fetchone()[0] == 0
    repaired = rebuild_from_bronze(conn)
    assert repaired.promoted and repaired.batches == (1, 2, 3, 4, 5, 6)
    assert all(r.balanced for r in reconcile(conn))
    assert compare_with_rebuild(conn).identical


def test_gates_report_keys_reconciliation_and_warnings(conn):
    load(conn, batches=2, dirt=Dirt(orphans=0.5, bad_dates=0.5))
    result = rebuild_from_bronze(conn)
    frame = result.gates.frame()
    assert frame[["table", "name", "status", "blocking"]].to_dict("records") == [
        {"table": "silver_customers", "name": "not_null(id)", "status": "pass",
         "blocking": True},
        {"table": "silver_customers", "name": "unique_key(id)", "status": "pass",
         "blocking": True},
        {"table": "silver_orders", "name": "not_null(order_id)", "status": "pass",
         "blocking": True},
        {"table": "silver_orders", "name": "unique_key(order_id)", "status": "pass",
         "blocking": True},
        {"table": "silver_orders", "name": "referential_integrity(customer_id)",
         "status": "warn", "blocking": False},
        {"table": "silver_customers", "name": "rows_reconcile", "status": "pass",
         "blocking": True},
        {"table": "silver_rejects", "name": "reject_rate", "status": "warn", "blocking": False},
        {"table": "silver_orders", "name": "rows_reconcile", "status": "pass",
         "blocking": True},
        {"table": "silver_rejects", "name": "reject_rate", "status": "warn", "blocking": False},
    ]
    assert result.promoted and result.state == "success"  # warnings never block


def test_gate_functions_fail_and_warn_on_their_own():
    broken = rows_reconcile(Reconciliation("orders", bronze=10, silver=6, superseded=1,
                                           rejected=1))
    assert (broken.status, broken.observed, broken.expected, broken.blocks) == (
        "fail", 8, 10, True)
    assert "2 row(s) missing from silver" in broken.message
    conn = connect()
    load(conn, batches=1, dirt=CLEAN)
    clean = reject_rate(conn, reconcile(conn)[0])
    assert (clean.status, clean.observed) == ("pass", 0.0)


def test_lineage_of_gold_rows_adds_up_to_the_gold_values(conn):
    load(conn, batches=3)
    stats = query(conn, "SELECT * FROM gold_customer_stats ORDER BY n_customers DESC, city")
    city = stats["city"][0]
    lineage = trace_gold_row(conn, "gold_customer_stats", city=city)
    assert len(lineage.silver["silver_customers"]) == stats["n_customers"][0]
    assert set(lineage.silver["silver_customers"]["city"]) == {city}
    assert set(lineage.batches["batch_id"]) == set(lineage.silver["silver_customers"]["_batch_id"])
    assert lineage.batches["rows_used"].sum() == stats["n_customers"][0]
    assert set(lineage.superseded["id"]) <= set(lineage.silver["silver_customers"]["id"])

    revenue = query(conn, "SELECT * FROM gold_city_daily_revenue ORDER BY n_orders DESC, "
                          "city, day LIMIT 1").iloc[0]
    traced = trace_gold_row(conn, "gold_city_daily_revenue", city=revenue["city"],
                            day=revenue["day"])
    orders = traced.silver["silver_orders"]
    assert (len(orders), orders["amount_cents"].sum()) == (revenue["n_orders"],
                                                           revenue["revenue_cents"])
    assert set(traced.batches["entity"]) == {"customers", "orders"}
    assert str(traced).startswith(f"gold_city_daily_revenue[city={revenue['city']!r}, "
                                  f"day={revenue['day']!r}]")


def test_lineage_errors_name_the_culprit(conn):
    load(conn, batches=1)
    with pytest.raises(UnknownTableError, match="unknown gold mart 'gold_stats' \\(known: "
                                                "gold_customer_stats, gold_city_daily_revenue"
                       ) as refused:
        trace_gold_row(conn, "gold_stats", city="Austin")
    assert refused.value.table == "gold_stats" and "gold_customer_stats" in refused.value.known
    with pytest.raises(CourseEtlError, match="identified by city, day, not city") as refused:
        trace_gold_row(conn, "gold_city_daily_revenue", city="Austin")
    assert (refused.value.key, refused.value.given) == (["city", "day"], ["city"])
    with pytest.raises(CourseEtlError, match="no row in gold_customer_stats with "
                                             "{'city': 'Atlantis'} \\(e.g. city="):
        trace_gold_row(conn, "gold_customer_stats", city="Atlantis")


def test_layer_counts_balance_and_the_flow_figure_shows_them(conn):
    load(conn, batches=2)
    counts = layer_counts(conn)
    for entity in ("customers", "orders"):
        assert counts[f"bronze_{entity}"] == (counts[f"silver_{entity}"] + counts[
            f"silver_{entity}_superseded"] + counts[f"silver_rejects.{entity}"])
    assert counts["matched_orders"] + counts["gold_orphan_orders"] == counts["silver_orders"]
    figure = layer_flow_figure(conn)
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert f"{counts['silver_customers']} kept" in texts
    assert f"{counts['matched_orders']} orders" in texts
    assert str(counts["silver_rejects.orders"]) in texts


_MART_KEYS = {"gold_customer_stats": ["city"], "gold_city_daily_revenue": ["city", "day"]}


@pytest.fixture(scope="module")
def loaded():
    conn = connect(":memory:")
    load(conn, batches=2)
    yield conn
    conn.close()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mart=st.sampled_from(sorted(_MART_KEYS)), data=st.data())
def test_a_key_that_names_no_gold_row_carries_the_mart_the_key_and_rows_it_holds(loaded, mart,
                                                                                 data):
    assert set(_MART_KEYS) <= set(GOLD_TABLES)
    wanted = _MART_KEYS[mart]
    given = data.draw(st.lists(st.sampled_from(["city", "day", "id", "town"]), unique=True,
                               max_size=3).filter(lambda names: set(names) != set(wanted)))
    with pytest.raises(LineageKeyError) as refused:
        trace_gold_row(loaded, mart, **{name: "x" for name in given})
    assert (refused.value.table, refused.value.key, refused.value.given) == (mart, wanted, given)
    held = query(loaded, f'SELECT {", ".join(wanted)} FROM "{mart}"').to_dict("records")
    key = {name: data.draw(st.text(max_size=10), label=name) for name in wanted}
    if key in held:
        return
    with pytest.raises(LineageKeyError) as refused:
        trace_gold_row(loaded, mart, **key)
    error = refused.value
    assert (error.table, error.key, error.value) == (mart, wanted, key)
    assert 0 < len(error.examples) <= 3 and all(e in held for e in error.examples)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mart=st.text(min_size=1, max_size=20).filter(lambda name: name not in GOLD_TABLES))
def test_an_unknown_mart_carries_its_name_and_the_marts(loaded, mart):
    with pytest.raises(UnknownTableError) as refused:
        trace_gold_row(loaded, mart, city="Austin")
    assert (refused.value.table, refused.value.known, refused.value.what) == (
        mart, list(GOLD_TABLES), "gold mart")
