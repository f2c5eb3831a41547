from course_etl.classroom.exercises import check_silver_dedup

dedup_sql = """
SELECT id, name, city, updated_at
FROM (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY id ORDER BY updated_at DESC, _bronze_row DESC
    ) AS version_rank
    FROM staged
)
WHERE version_rank = 1
ORDER BY id
"""
check_silver_dedup(dedup_sql)
