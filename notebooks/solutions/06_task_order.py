from course_etl.classroom.exercises.capstone import check_task_order

# Each task needs what the one before it produced: raw data, then bronze, silver, the audit,
# the promoted mart, and finally the published report.
task_order = ["extract", "bronze", "silver", "checks", "gold", "publish"]
check_task_order(task_order)
