"""Property: any sequence of source changes and loads leaves the warehouse equal to the source."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_etl import connect, incremental_load
from course_etl.sample_data import create_customer_source, simulate_changes

CHANGE = st.fixed_dictionaries({
    "inserts": st.integers(0, 4),
    "updates": st.integers(0, 4),
    "soft_deletes": st.integers(0, 2),
    "hard_deletes": st.integers(0, 2),
    "late": st.integers(0, 2),
    "same_timestamp": st.integers(0, 2),
    "seed": st.integers(0, 10_000),
})
LOAD = st.fixed_dictionaries({"batch_size": st.none() | st.integers(1, 10)})
STEPS = st.lists(st.one_of(CHANGE.map(lambda c: ("change", c)), LOAD.map(lambda c: ("load", c))),
                 min_size=1, max_size=12)


def ids(conn, name):
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone():
        return set()
    return {r[0] for r in conn.execute(f"SELECT id FROM {name}")}


def table(conn, name):
    return conn.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, reconcile=st.booleans(), size=st.integers(0, 25))
def test_warehouse_converges_to_source(steps, reconcile, size):
    conn = connect(":memory:")
    create_customer_source(conn, "src", size, seed=size, progress=False)
    hard_deleted: set[int] = set()
    for kind, options in steps + [("load", {"batch_size": None})]:
        if kind == "change":
            live = conn.execute("SELECT COUNT(*) FROM src WHERE is_deleted = 0").fetchone()[0]
            wanted = options["updates"] + options["soft_deletes"] + options["hard_deletes"]
            if wanted <= live:
                hard_deleted |= set(simulate_changes(conn, "src", **options).hard_deleted)
            continue
        loaded_before = ids(conn, "dw")
        result = incremental_load(
            conn, "src", "dw", key="id", watermark="updated_at", soft_delete="is_deleted",
            reconcile_deletes=reconcile, lookback=timedelta(days=3), max_delete_share=None,
            **options,
        )
        removed = len(loaded_before - ids(conn, "src")) if reconcile else 0
        soft = result.deleted - removed
        assert result.rows_read == result.inserted + result.updated + result.unchanged + soft
        source, warehouse = table(conn, "src"), table(conn, "dw")
        if reconcile:
            assert warehouse == source
        else:
            # Deletes per policy: hard-deleted rows stay in the warehouse, all else matches.
            assert [r for r in warehouse if r[0] not in hard_deleted] == source
            assert ids(conn, "dw") - ids(conn, "src") <= hard_deleted
    conn.close()
