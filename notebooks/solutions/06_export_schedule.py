from course_etl.classroom.exercises.capstone import check_export_schedule

# configs/prod.yaml: schedule.cron "0 2 * * *" (the time zone, Europe/Berlin, is in start_date).
prod_schedule = "0 2 * * *"
check_export_schedule(prod_schedule)
