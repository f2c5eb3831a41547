"""Each pitfall demo shows the recipe failing and the library getting it right."""

from course_etl.loads.lecture import (
    crash_before_watermark,
    hard_delete,
    insert_or_replace,
    mixed_formats,
    same_day_row,
)


def ids(frame):
    return frame["id"].tolist()


def test_same_day_row():
    demo = same_day_row()
    assert 6 not in ids(demo.recipe) and 6 in ids(demo.library)


def test_hard_delete():
    demo = hard_delete()
    assert 2 in ids(demo.recipe) and 2 not in ids(demo.library)


def test_insert_or_replace():
    demo = insert_or_replace()
    chloe_recipe = demo.recipe.set_index("id").loc[3]
    chloe_library = demo.library.set_index("id").loc[3]
    assert (chloe_recipe["segment"], chloe_recipe["orders"]) == ("unknown", 0)
    assert (chloe_library["segment"], chloe_library["orders"]) == ("gold", 1)


def test_crash_before_watermark():
    demo = crash_before_watermark()
    assert demo.recipe.set_index("id").loc[2, "city"] == "Berlin"
    assert demo.library.set_index("id").loc[2, "city"] == "Bonn"


def test_mixed_formats():
    demo = mixed_formats()
    assert 4 not in ids(demo.recipe) and 4 not in ids(demo.library)
    assert demo.library_says.startswith("refused before writing anything: mixed formats")
