"""LoadLab, mark_changes, diff_tables and compare_at_scale."""

import pandas as pd
import pytest

from course_etl import connect
from course_etl.loads.errors import LoadOptionError
from course_etl.loads.lab import LoadLab, compare_at_scale, diff_tables, mark_changes


@pytest.fixture
def lab():
    return LoadLab(connect(":memory:"), rows=60, seed=3)


def test_lab_starts_in_sync(lab):
    for strategy in ("full", "incremental", "recipe"):
        run = lab.run(strategy)
        assert run.diff.empty, strategy
        assert (run.marked["status"] == "unchanged").all()


def test_each_strategy_shows_what_it_missed(lab):
    changes = lab.apply_changes(inserts=2, updates=2, soft_deletes=1, hard_deletes=1, late=1,
                                same_timestamp=1)
    recipe, incremental, full = lab.run("recipe"), lab.run("incremental"), lab.run("full")
    missed = dict(zip(recipe.diff["id"], recipe.diff["problem"], strict=True))
    assert missed == {changes.hard_deleted[0]: "deleted at source",
                      changes.late[0]: "missing in warehouse",
                      changes.same_timestamp[0]: "missing in warehouse"}
    # The library's >= catches the same-timestamp row; without lookback the late one is missed.
    assert set(incremental.diff["id"]) == {changes.hard_deleted[0], changes.late[0]}
    assert full.diff.empty
    statuses = incremental.marked.set_index("id")["status"]
    assert statuses[changes.soft_deleted[0]] == "soft-deleted"
    assert statuses[changes.updated[0]] == "changed"
    assert statuses[changes.inserted[0]] == "new"
    assert list(lab.results()["strategy"]) == ["recipe", "incremental", "full"]


def test_lookback_and_reconcile_bring_the_incremental_in_sync(lab):
    lab.apply_changes(hard_deletes=1, late=2)
    lab.lookback_hours, lab.reconcile_deletes = 72, True
    run = lab.run("incremental")
    assert run.diff.empty
    assert (run.marked["status"] == "deleted").sum() == 1


def test_reset_restores_the_start(lab):
    lab.apply_changes(inserts=5)
    lab.run("full")
    lab.reset()
    assert lab.runs == [] and lab.changes == []
    assert lab.conn.execute("SELECT COUNT(*) FROM src_customers").fetchone() == (60,)
    assert lab.conn.execute("SELECT COUNT(*) FROM dw_full").fetchone() == (60,)


def test_unknown_strategy(lab):
    with pytest.raises(LoadOptionError, match="known: full, incremental, recipe"):
        lab.run("magic")


def test_mark_changes():
    before = pd.DataFrame({"id": [1, 2, 3], "v": ["a", "b", "c"], "is_deleted": [0, 0, 0]})
    after = pd.DataFrame({"id": [1, 2, 4], "v": ["a", "B", "d"], "is_deleted": [1, 0, 0]})
    marked = mark_changes(before, after)
    assert marked[["id", "status"]].values.tolist() == [
        [4, "new"], [2, "changed"], [1, "soft-deleted"], [3, "deleted"]]
    assert marked.loc[marked["id"] == 3, "v"].item() == "c"


def test_diff_tables():
    source = pd.DataFrame({"id": [1, 2, 3], "v": ["a", "b", "c"]})
    warehouse = pd.DataFrame({"id": [1, 2, 9], "v": ["a", "x", "z"]})
    assert diff_tables(source, warehouse)[["id", "problem"]].values.tolist() == [
        [2, "stale in warehouse"], [3, "missing in warehouse"], [9, "deleted at source"]]
    assert diff_tables(source, source).empty


def test_compare_at_scale_counts_are_exact():
    table = compare_at_scale([1_000, 5_000], progress=False)
    assert table["source_rows"].tolist() == [1_000, 5_000]
    # Full reads everything (plus 1% inserts); incremental reads only the changed rows.
    assert table["full_rows_read"].tolist() == [1_002, 5_010]
    assert table["incremental_rows_written"].tolist() == [10, 50]
    assert (table["incremental_rows_read"] <= table["full_rows_read"] / 50).all()
