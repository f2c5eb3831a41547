from course_etl.classroom.exercises.capstone import check_fault_states

# The short feed passes extract, bronze and silver (nothing is wrong with each row); the
# blocking volume check fails, and the tasks after it never start.
fault_states = {
    "extract": "success",
    "bronze": "success",
    "silver": "success",
    "checks": "failed",
    "gold": "upstream_failed",
    "publish": "upstream_failed",
}
check_fault_states(fault_states)
