from course_etl.classroom.exercises import check_gold_sql

gold_sql = """
SELECT c.city, substr(o.ordered_at, 1, 10) AS day,
       COUNT(*) AS n_orders, SUM(o.amount_cents) AS revenue_cents
FROM silver_orders AS o
JOIN silver_customers AS c ON c.id = o.customer_id
GROUP BY c.city, substr(o.ordered_at, 1, 10)
"""
check_gold_sql(gold_sql)
