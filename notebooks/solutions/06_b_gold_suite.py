from course_etl.classroom.exercises import check_gold_suite

gold_suite = {
    "silver_orders": [
        # today's orders feed against the days before it: a short feed is held back
        {"check": "volume_anomaly", "metric": "orders_received", "min_history": 3,
         "fail_score": 3.5, "blocking": True},
    ],
    "gold_city_daily_revenue": [
        # the run's own day must be there: without it the newest day is about a day old
        {"check": "freshness", "column": "day", "blocking": True,
         "error_after": {"count": 12, "period": "hour"}},
        # every city in gold is a city some customer lives in
        {"check": "referential_integrity", "column": "city", "parent": "silver_customers",
         "parent_column": "city", "blocking": True},
    ],
}
check_gold_suite(gold_suite)
