from course_etl.classroom.exercises import check_predicted_counts

prediction = {"rows_read": 3, "inserted": 1, "updated": 1, "unchanged": 1, "deleted": 0}
check_predicted_counts(prediction)
