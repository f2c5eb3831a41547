from course_etl.classroom.exercises.monitoring import check_volume_history

volume_answer = "b"
check_volume_history(volume_answer)
