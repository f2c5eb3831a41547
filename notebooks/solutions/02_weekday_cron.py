from course_etl.classroom.exercises.scheduling import check_weekday_cron

weekday_cron = "30 6 * * 1-5"
check_weekday_cron(weekday_cron)
