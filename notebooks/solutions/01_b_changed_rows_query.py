from course_etl.classroom.exercises import check_changed_rows_query

changed_rows_sql = "SELECT * FROM src_customers WHERE updated_at >= :watermark"
check_changed_rows_query(changed_rows_sql)
