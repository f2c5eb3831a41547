from dataclasses import dataclass, field

from course_etl.config import spec
from course_etl.classroom.exercises.config import check_retention_key


@dataclass(frozen=True)
class RetentionSettings:
    """How long raw files are kept."""

    raw_days: int = field(default=30, metadata=spec("days to keep raw files",
                                                    minimum=1, maximum=365))


check_retention_key(RetentionSettings)
