from course_etl.classroom.exercises import check_rejection_rule
from course_etl.medallion import Rule


def name_has_digits(row):
    if any(ch.isdigit() for ch in row["name"]):
        return f"name {row['name']!r} contains a digit"
    return None


rule = Rule("name_has_digits", "customers", name_has_digits)
check_rejection_rule(rule)
