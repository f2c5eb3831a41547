"""The funnel table and the gold chart read the layers as they are."""

from course_etl.medallion import (
    DirtySource,
    fixed_clock,
    ingest_dirty_batch,
    layer_counts,
    process_new_batches,
)
from course_etl.medallion.charts import funnel_frame, gold_figure


def test_funnel_counts_each_layer_and_never_grows(conn):
    source, clock = DirtySource(2), fixed_clock()
    for _ in range(2):
        ingest_dirty_batch(conn, source.next_batch(25), clock=clock)
    process_new_batches(conn)
    funnel = funnel_frame(conn)
    counts = layer_counts(conn)
    assert funnel["layer"].tolist() == [
        "bronze: rows received", "silver: valid rows (not rejected)",
        "silver: kept rows (latest version per key)", "gold: rows aggregated",
        "gold: mart rows"]
    assert funnel["customers"].tolist() == [
        50, 50 - counts["silver_rejects.customers"], counts["silver_customers"],
        counts["silver_customers"], counts["gold_customer_stats"]]
    assert funnel["orders"].tolist()[3:] == [counts["matched_orders"],
                                             counts["gold_city_daily_revenue"]]
    for entity in ("customers", "orders"):
        assert funnel[entity].is_monotonic_decreasing


def test_gold_figure_draws_both_marts_even_when_empty(conn):
    empty = gold_figure(conn)
    assert [ax.get_title() for ax in empty.axes] == [
        "gold_customer_stats: customers per city", "gold_city_daily_revenue: revenue per day"]
    ingest_dirty_batch(conn, DirtySource(1).next_batch(20), clock=fixed_clock())
    process_new_batches(conn)
    figure = gold_figure(conn)
    cities = conn.execute("SELECT COUNT(*) FROM gold_customer_stats").fetchone()[0]
    assert len(figure.axes[0].patches) == cities
    assert figure.axes[1].get_legend() is not None
