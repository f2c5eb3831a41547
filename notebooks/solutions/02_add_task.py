from dataclasses import replace

from course_etl.classroom.exercises import check_added_task
from course_etl.scheduling import Task
from course_etl.scheduling.lecture import row_count_check


def add_row_count_check(pipeline):
    """The pipeline's tasks plus a row-count check that runs after incremental_load."""
    count_check = Task(row_count_check, params={"target": "dw_customers", "minimum": 3})
    pipeline["incremental_load"] >> count_check   # count_check runs after incremental_load
    # A new pipeline with every setting of the one given (schedule, time zone, catchup, start
    # date, name, description): only its tasks change.
    return replace(pipeline, tasks=[*pipeline, count_check])


check_added_task(add_row_count_check)
