"""Full and incremental loads: the engine, its watermark state, and the lecture's recipe.

:mod:`.engine` holds :func:`full_load` and :func:`incremental_load`; :mod:`.guards` the checks
they run on their arguments and input before the first write (one delete guard for both),
:mod:`.formats` and :mod:`.watermarks` the watermark formats, the state table and the checks of
watermark values on both sides, :mod:`.keys` the check of keys as the target compares them,
:mod:`.upsert` the set-based upsert they write with, :mod:`.target` the result and the target
table, :mod:`.errors` the errors they raise; :mod:`.lecture` the lecture's recipe as taught and
its pitfalls run live; :mod:`.lab` the source-system control panel's logic; :mod:`.story` the
lecture's demo end to end. The engine imports nothing above :mod:`course_etl.db`: logging a load
is the caller's choice.
"""

from course_etl.loads.engine import LoadResult, full_load, incremental_load
from course_etl.loads.lecture import lecture_full_load, lecture_incremental_load
from course_etl.loads.watermarks import read_watermark, reset_watermark

__all__ = [
    "LoadResult",
    "full_load",
    "incremental_load",
    "lecture_full_load",
    "lecture_incremental_load",
    "read_watermark",
    "reset_watermark",
]
