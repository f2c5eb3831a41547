from course_etl.classroom.exercises.config import check_layer_quiz

# load_config("prod", environ=QUIZ_ENVIRON, overrides=QUIZ_OVERRIDES): --set beats the
# variable, the variable beats prod.yaml, prod.yaml beats base.yaml, base.yaml beats defaults.
layers = {
    "load.batch_size": "override",       # --set load.batch_size=100
    "load.lookback_hours": "envvar",     # COURSE_ETL_LOAD__LOOKBACK_HOURS=6
    "load.reconcile_deletes": "prod",    # configs/prod.yaml
    "load.watermark_column": "base",     # configs/base.yaml, not changed by prod.yaml
    "alerts.smtp_user": "default",       # in no file at all
}
check_layer_quiz(layers)
