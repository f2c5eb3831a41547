from course_etl.classroom.exercises import check_upsert_statement

upsert_sql = """
INSERT INTO dw_customers AS t (id, name, city, updated_at)
SELECT id, name, city, updated_at FROM changes WHERE true
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, city = excluded.city, updated_at = excluded.updated_at
WHERE t.name IS NOT excluded.name
   OR t.city IS NOT excluded.city
   OR t.updated_at IS NOT excluded.updated_at
"""
check_upsert_statement(upsert_sql)
