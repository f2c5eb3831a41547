"""Bare columns of grouped SELECTs (exercises._grouping): taken from a row SQLite chooses."""

from __future__ import annotations

import pytest

from course_etl.classroom.exercises._grouping import bare_columns


@pytest.mark.parametrize(("sql", "bare"), [
    ("SELECT id, name, city, updated_at FROM (SELECT * FROM staged ORDER BY id, "
     "updated_at DESC, _bronze_row DESC) GROUP BY id", ["name", "city", "updated_at"]),
    ("SELECT id, name FROM staged GROUP BY 1", ["name"]),
    ("SELECT s.id AS k, s.name n FROM staged s GROUP BY k", ["s.name"]),
    ("SELECT * FROM staged GROUP BY id", ["*"]),
    ("SELECT id, name, MAX(updated_at), MIN(city) FROM staged GROUP BY id", ["name"]),
    ("SELECT x FROM (SELECT id AS x, name FROM staged GROUP BY id, name)", []),
    ("SELECT id, name, MAX(updated_at) FROM staged GROUP BY id", []),  # SQLite's min/max rule
    ("SELECT id, COUNT(*) AS n, 'x' FROM staged GROUP BY id", []),
    ("SELECT s.id, name || '!' AS shout FROM staged AS s GROUP BY id, name || '!'", []),
    ("SELECT id, CASE WHEN COUNT(*) > 1 THEN 'dup' ELSE 'one' END FROM staged GROUP BY id", []),
    ("SELECT id, name, ROW_NUMBER() OVER (PARTITION BY id) FROM staged", []),
    ("SELECT COUNT(*) FROM staged", []),
    ("SELECT id FROM staged WHERE 'GROUP BY' <> name -- GROUP BY id", []),
])
def test_bare_columns(sql, bare):
    assert bare_columns(sql) == bare
