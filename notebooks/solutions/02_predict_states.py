from course_etl.classroom.exercises.scheduling import check_predicted_states

predicted_states = {
    "full_load": "success",
    "incremental_load": "failed",
    "row_count_check": "upstream_failed",
}
check_predicted_states(predicted_states)
