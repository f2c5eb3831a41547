from course_etl.exercises.monitoring import check_volume_history

volume_answer = "b"
check_volume_history(volume_answer)
