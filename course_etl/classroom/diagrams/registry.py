"""The diagram registry: which file each lecture diagram is drawn into, and drawing them.

``DIAGRAMS`` maps PNG file names to the five drawing functions, in lecture order; :func:`draw`
writes one of them under the pinned style (no version or timestamp metadata, so the bytes only
change when the picture does) and :func:`draw_all` writes them all. An unknown name raises
:class:`DiagramError`, which names the diagrams that exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from matplotlib.figure import Figure

from course_etl.classroom.diagrams.full_vs_incremental import full_vs_incremental_figure
from course_etl.classroom.diagrams.job_scheduling import job_scheduling_figure
from course_etl.classroom.diagrams.medallion_architecture import medallion_architecture_figure
from course_etl.classroom.diagrams.monitoring import monitoring_figure
from course_etl.classroom.diagrams.parameterization import parameterization_figure
from course_etl.errors import CourseEtlError, checked
from course_etl.paths import describe_os_error, new_folder, replacing
from course_etl.style import DPI, pinned_style


class DiagramError(CourseEtlError):
    """A diagram that cannot be drawn: ``.value`` names what was refused, the diagram asked for
    (with ``.known``, the diagrams there are) or the folder that cannot be made (with
    ``.reason`` and ``.fix`` in words, as a refused file has them)."""


DIAGRAMS: Mapping[str, Callable[[], Figure]] = MappingProxyType(
    {
        "full_vs_incremental.png": full_vs_incremental_figure,
        "job_scheduling.png": job_scheduling_figure,
        "monitoring.png": monitoring_figure,
        "parameterization.png": parameterization_figure,
        "medallion_architecture.png": medallion_architecture_figure,
    }
)


@checked
def draw(name: str, out_dir: str | Path) -> Path:
    """Draw the diagram called ``name`` (a key of ``DIAGRAMS``) into ``out_dir``."""
    if name not in DIAGRAMS:
        raise DiagramError(f"unknown diagram {name!r}; known diagrams: {', '.join(DIAGRAMS)}",
                           value=name, known=tuple(DIAGRAMS))
    folder = new_folder(out_dir, what="diagram folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        cause, fix = describe_os_error(error)
        raise DiagramError(f"diagram folder {str(folder)!r}: {cause}: {fix}",
                           value=str(folder), reason=cause, fix=fix) from None
    out_path = folder / name
    figure = DIAGRAMS[name]()
    # Drawn beside the file and renamed into place: a full disk leaves the old picture whole.
    with pinned_style(), replacing(out_path, what="diagram") as scratch:
        # No "Software" entry: the PNG then holds no matplotlib version, so files only change
        # when the picture does.
        figure.savefig(scratch, format="png", dpi=DPI, facecolor="white",
                       metadata={"Software": None})
    return out_path


@checked
def draw_all(out_dir: str | Path) -> list[Path]:
    """Draw every diagram into ``out_dir`` (created if missing); paths in ``DIAGRAMS`` order."""
    return [draw(name, out_dir) for name in DIAGRAMS]
