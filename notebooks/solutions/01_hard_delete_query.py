from course_etl.classroom.exercises import check_hard_delete_query

hard_delete_sql = """
SELECT d.id FROM dw_customers AS d
WHERE NOT EXISTS (SELECT 1 FROM src_customers AS s WHERE s.id = d.id)
"""
check_hard_delete_query(hard_delete_sql)
