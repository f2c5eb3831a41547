from course_etl.classroom.exercises.config import check_env_override

# Nested keys: COURSE_ETL_ + section + "__" + key. Values are text, read as YAML ("50" → 50).
environment = {"COURSE_ETL_CHECKS__MIN_ROWS": "50"}
check_env_override(environment)
