from course_etl.classroom.exercises.config import check_env_override

# Nested keys: COURSE_ETL_ + section + "__" + key. Values are text, read as YAML ("250" → 250).
environment = {"COURSE_ETL_LOAD__BATCH_SIZE": "250"}
check_env_override(environment)
