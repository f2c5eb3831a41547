"""The lecture diagrams' alt text, by file name: what a notebook's or the README's Markdown
writes as ``![alt](images/<name>)``.

Each text is written by the diagram's module from the same data it draws, so a fork that changes
a diagram's data changes its alt text with it; ``tests/test_alt_text.py`` checks that every
Markdown reference to a diagram carries exactly this text, and ``python -m tools.alt_text``
rewrites the references that do not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from course_etl.classroom.diagrams.full_vs_incremental import full_vs_incremental_alt
from course_etl.classroom.diagrams.job_scheduling import job_scheduling_alt
from course_etl.classroom.diagrams.medallion_architecture import medallion_architecture_alt
from course_etl.classroom.diagrams.monitoring import monitoring_alt
from course_etl.classroom.diagrams.parameterization import parameterization_alt
from course_etl.errors import checked

__all__ = ["ALT_TEXTS", "diagram_alt"]

ALT_TEXTS: Mapping[str, Callable[[], str]] = MappingProxyType({
    "full_vs_incremental.png": full_vs_incremental_alt,
    "job_scheduling.png": job_scheduling_alt,
    "monitoring.png": monitoring_alt,
    "parameterization.png": parameterization_alt,
    "medallion_architecture.png": medallion_architecture_alt,
})


@checked
def diagram_alt(name: str) -> str:
    """The alt text of the diagram drawn into ``name`` (a file name such as
    ``job_scheduling.png``). Raises KeyError naming the known diagrams."""
    if name not in ALT_TEXTS:
        raise KeyError(f"no diagram {name!r} (known: {', '.join(ALT_TEXTS)})")
    return ALT_TEXTS[name]()
