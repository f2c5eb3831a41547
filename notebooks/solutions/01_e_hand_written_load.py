from course_etl.classroom.exercises import check_hand_written_load


def my_incremental_load(conn):
    """Your steps 1 to 4, committed together or not at all."""
    names = {"target": "dw_customers", "column": "updated_at"}
    conn.execute("BEGIN IMMEDIATE")  # autocommit connection: open the transaction ourselves
    try:
        stored, fmt = conn.execute(watermark_sql, names).fetchone()
        conn.execute("DROP TABLE IF EXISTS temp.changes")
        conn.execute(f"CREATE TEMP TABLE changes AS {changed_rows_sql}", {"watermark": stored})
        conn.execute(upsert_sql)
        newest = conn.execute("SELECT MAX(updated_at) FROM changes").fetchone()[0]
        if newest is not None and newest > stored:  # never move the watermark back
            conn.execute(save_watermark_sql, {**names, "value": newest, "format": fmt})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


check_hand_written_load(my_incremental_load)
