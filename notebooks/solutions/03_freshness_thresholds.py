from course_etl.classroom.exercises.monitoring import check_freshness_thresholds

thresholds = {
    "warn_after": {"count": 1, "period": "day"},   # older than any normal day's newest row
    "error_after": {"count": 2, "period": "day"},  # two missed days: someone must act
}
check_freshness_thresholds(thresholds)
