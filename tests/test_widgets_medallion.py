"""The medallion explorer, driven like a user: sliders, ingest, rebuild."""

import pytest
from html_tables import table_rows, visible_text

from course_etl import connect
from course_etl.classroom.widgets.medallion import medallion_explorer
from course_etl.medallion import reconcile


@pytest.fixture
def explorer():
    conn = connect()
    yield medallion_explorer(conn, seed=4)
    conn.close()


def test_starts_empty_and_ingest_fills_every_tab(explorer):
    assert "No batch yet" in explorer.status.value
    assert "no rows" in explorer.rejects.value
    explorer.batch_size.value = 30
    explorer.ingest_button.click()
    assert "Day 2024-10-01" in explorer.status.value
    assert "customers: batch 1 ingested, 30 rows" in explorer.status.value
    assert explorer.last_run.promoted and explorer.last_run.batches == (1, 2)
    assert ("bronze: rows received", "30", "30") in table_rows(explorer.funnel.value)
    assert explorer.flow.value[:4] == b"\x89PNG" and explorer.gold.value[:4] == b"\x89PNG"
    assert "silver_customers_superseded" in explorer.samples.value
    for line in map(str, reconcile(explorer.conn)):
        assert line in explorer.reconciliation.value
    assert "rows_reconcile" in explorer.reconciliation.value


def test_sliders_set_the_dirt_of_the_next_batch(explorer):
    for slider in explorer.dirt_sliders.values():
        slider.value = 0.0
    explorer.ingest_button.click()
    assert "no rows" in explorer.rejects.value  # clean data: nothing rejected
    explorer.dirt_sliders["bad_dates"].value = 0.6
    explorer.ingest_button.click()
    assert "updated_at_unparsable" in explorer.rejects.value
    assert "ordered_at_unparsable" in explorer.rejects.value
    assert "Day 2024-10-02" in explorer.status.value
    stamps = [r[0] for r in explorer.conn.execute("SELECT ingested_at FROM bronze_batches")]
    assert stamps == ["2024-10-01T06:00:00Z", "2024-10-01T18:00:00Z",
                      "2024-10-02T06:00:00Z", "2024-10-02T18:00:00Z"]


def test_rebuild_button_reports_an_identical_result(explorer):
    for _ in range(3):
        explorer.ingest_button.click()
    explorer.rebuild_button.click()
    assert "identical to the incremental result" in explorer.status.value
    assert explorer.last_run.mode == "rebuild"
    assert explorer.last_run.batches == (1, 2, 3, 4, 5, 6)


def test_rebuild_button_shows_a_difference_when_silver_was_tampered_with(explorer):
    explorer.ingest_button.click()
    explorer.conn.execute("DELETE FROM silver_customers WHERE id = 1")
    explorer.rebuild_button.click()
    assert "different: rebuilt from bronze: DIFFERENT" in visible_text(explorer.status.value)
    assert "silver_customers:" in explorer.status.value
