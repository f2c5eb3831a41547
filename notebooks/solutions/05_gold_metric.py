from course_etl.classroom.exercises import check_gold_metric

metric_sql = """
SELECT c.city, ROUND(AVG(o.amount_cents) / 100.0, 2) AS avg_order_value
FROM silver_orders AS o
JOIN silver_customers AS c ON c.id = o.customer_id
GROUP BY c.city
ORDER BY c.city
"""
check_gold_metric(metric_sql)
