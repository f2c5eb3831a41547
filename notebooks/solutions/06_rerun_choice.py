from course_etl.classroom.exercises.capstone import BACKFILL_CHOICES, check_rerun_choice

# Every layer recognises work it has already done.
rerun_choice = "b"
print(BACKFILL_CHOICES[rerun_choice])
check_rerun_choice(rerun_choice)
