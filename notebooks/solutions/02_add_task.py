from course_etl.classroom.exercises.scheduling import check_added_task
from course_etl.scheduling import Pipeline, Task
from course_etl.scheduling.lecture import customers_pipeline, row_count_check

lecture = customers_pipeline()
count_check = Task(row_count_check, params={"target": "dw_customers", "minimum": 3})
lecture["incremental_load"] >> count_check
my_pipeline = Pipeline("customers_etl", [*lecture, count_check], schedule=lecture.schedule)
check_added_task(my_pipeline)
