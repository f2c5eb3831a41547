from course_etl.classroom.exercises import check_watermark_read

watermark_sql = """
SELECT value, format FROM etl_watermarks
WHERE target = :target AND watermark_column = :column
"""
check_watermark_read(watermark_sql)
