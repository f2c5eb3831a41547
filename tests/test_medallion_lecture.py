"""The lecture's three statements, as taught, and the account of what they lose."""

import pandas as pd
from builders import lecture, lecture_gold

from course_etl import query
from course_etl.facts import TABLES
from course_etl.medallion.entities import CUSTOMERS
from course_etl.medallion.lecture import (
    create_dirty_source,
    lecture_losses,
    run_lecture_medallion,
)
from course_etl.sample_data import apply_lecture_changes, create_lecture_source


def test_on_the_lectures_clean_rows_the_statements_give_the_lectures_result(conn):
    create_lecture_source(conn)
    apply_lecture_changes(conn, 1)
    apply_lecture_changes(conn, 2)
    run_lecture_medallion(conn)
    gold = query(conn, f"SELECT * FROM {TABLES.lecture_gold} ORDER BY city")
    assert gold.to_dict("records") == lecture_gold()
    date_only = len(lecture(2))  # every stamp is a bare date: none in the source's format
    assert lecture_losses(conn)["rows affected"].tolist() == [0, 0, 0, date_only, 0]


def test_on_dirty_rows_each_loss_is_counted(conn):
    create_dirty_source(conn, pd.DataFrame([
        ("1", "Aria", "Austin", "2024-10-01 09:00:00"),
        ("1", "Aria", "Boston", "2024-10-02 09:00:00"),  # a second version: kept beside the first
        ("2", None, "Berlin", "2024-10-01 09:00:00"),  # vanishes without a trace
        ("3", "  ", "berlin ", "2024-10-01 09:00:00"),  # blank name kept; 'berlin' split
        ("4", "Dai", "El  Paso", "05.10.2024 13:00"),  # other format; 'El  Paso' split
        ("5", "Eva", "El Paso", "yesterday"),
        ("6", "Farid", "Berlin", "2024-10-01 09:00:00"),
    ], columns=list(CUSTOMERS.required_columns)))
    run_lecture_medallion(conn)
    losses = lecture_losses(conn)
    assert losses["promise"].tolist() == [
        "silver: one row per customer", "silver: nothing dropped silently",
        "silver: missing values rejected", "silver: typed timestamps",
        "gold: one group per city"]
    assert losses["rows affected"].tolist() == [1, 1, 1, 2, 2]


def test_on_clean_rows_course_etl_gold_equals_the_lectures(conn):
    from course_etl.medallion import fixed_clock, ingest_batch, process_new_batches

    create_lecture_source(conn)
    apply_lecture_changes(conn, 1)
    apply_lecture_changes(conn, 2)
    run_lecture_medallion(conn)
    lecture_stats = query(conn, f"SELECT * FROM {TABLES.lecture_gold} ORDER BY city")
    records = query(conn, f"SELECT * FROM {TABLES.source}").to_dict("records")
    for table in (CUSTOMERS.bronze_table, CUSTOMERS.silver_table, TABLES.lecture_gold):
        conn.execute(f"DROP TABLE {table}")  # the lecture's tables share the course's names
    ingest_batch(conn, "customers", records, clock=fixed_clock())
    assert process_new_batches(conn).promoted
    course = query(conn, f"SELECT * FROM {TABLES.lecture_gold} ORDER BY city")
    assert course.to_dict("records") == lecture_stats.to_dict("records")
