"""The five lecture diagrams of Session 6, drawn with matplotlib only.

Each ``*_figure()`` function returns a :class:`matplotlib.figure.Figure` built without pyplot, so
drawing works headless (Agg), leaks no global figures and shows inline in Jupyter. All pictures
share the visual language of :mod:`course_etl.style`: the colour-blind safe Okabe–Ito palette, the
same box, arrow and label helpers, the same font sizes and one fixed canvas.
``draw_all(out_dir)`` writes every picture as PNG; output is byte-identical across runs because
the style is pinned and the PNG carries no version or timestamp metadata. ``DIAGRAMS`` maps file
names to drawing functions.

A package, one module per figure (``full_vs_incremental``, ``job_scheduling``, ``monitoring``,
``parameterization``, ``medallion_architecture``) plus ``registry`` (``DIAGRAMS``, ``draw``,
``draw_all``); everything stays importable from ``course_etl.classroom.diagrams``.
"""

from __future__ import annotations

from course_etl.classroom.diagrams.full_vs_incremental import full_vs_incremental_figure
from course_etl.classroom.diagrams.job_scheduling import job_scheduling_figure
from course_etl.classroom.diagrams.medallion_architecture import medallion_architecture_figure
from course_etl.classroom.diagrams.monitoring import monitoring_figure
from course_etl.classroom.diagrams.parameterization import parameterization_figure
from course_etl.classroom.diagrams.registry import DIAGRAMS, DiagramError, draw, draw_all

# The palette was always importable from here too (widgets and tests use it).
from course_etl.style import CHECK_COLORS as CHECK_COLORS
from course_etl.style import OKABE_ITO as OKABE_ITO

__all__ = [
    "DiagramError",
    "DIAGRAMS",
    "draw",
    "draw_all",
    "full_vs_incremental_figure",
    "job_scheduling_figure",
    "medallion_architecture_figure",
    "monitoring_figure",
    "parameterization_figure",
]
