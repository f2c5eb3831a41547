from course_etl.classroom.exercises.scheduling import check_added_task
from course_etl.scheduling import Pipeline, Task
from course_etl.scheduling.lecture import row_count_check


def add_row_count_check(pipeline):
    """The pipeline's tasks plus a row-count check that runs after incremental_load."""
    count_check = Task(row_count_check, params={"target": "dw_customers", "minimum": 3})
    pipeline["incremental_load"] >> count_check   # count_check runs after incremental_load
    return Pipeline(pipeline.name, [*pipeline, count_check], schedule=pipeline.schedule)


check_added_task(add_row_count_check)
