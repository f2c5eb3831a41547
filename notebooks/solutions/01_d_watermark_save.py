from course_etl.classroom.exercises import check_watermark_save

save_watermark_sql = """
INSERT INTO etl_watermarks (target, watermark_column, value, format)
VALUES (:target, :column, :value, :format)
ON CONFLICT (target, watermark_column) DO UPDATE SET
    value = excluded.value, format = excluded.format
"""
check_watermark_save(save_watermark_sql)
