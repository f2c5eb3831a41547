from course_etl.classroom.exercises import check_reject_rule_sql

reject_sql = """
SELECT _bronze_row,
       printf('amount %.2f is not positive', amount_cents / 100.0) AS reason
FROM staged_orders
WHERE amount_cents <= 0
"""
check_reject_rule_sql(reject_sql)
