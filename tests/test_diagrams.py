"""course_etl.classroom.diagrams and course_etl.style: files, size, determinism, legibility,
colour-blind safety."""

from __future__ import annotations

import errno
import itertools
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib._pylab_helpers import Gcf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from course_etl import style
from course_etl.classroom import diagrams
from course_etl.classroom.diagrams import DiagramError

COMMITTED_IMAGES = Path(__file__).resolve().parents[1] / "images"
EXPECTED_FILES = [
    "full_vs_incremental.png",
    "job_scheduling.png",
    "monitoring.png",
    "parameterization.png",
    "medallion_architecture.png",
]
EXPECTED_SIZE_PX = (1000, 600)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# compare_images() gives the RMS difference of the decoded pixels on a 0-255 scale (1000 x 600
# px). Measured on these pictures: redrawing is exact (0.0; matplotlib's pip wheels all bundle
# the same FreeType 2.6.1), a few dozen anti-aliasing pixels off by 100 levels would be ~1,
# while content changes score higher: one task box recoloured 6.6, one box moved by 0.1 inch 14.7.
# A 2.0 tolerance absorbs rasteriser noise and still catches recoloured or moved shapes; it
# does NOT catch a changed digit (0.4) or a short reworded label (0.9-3.0). A matplotlib built
# against a very different FreeType (other hinting: ~20) fails here: regenerate images/ with the
# pip wheel rather than raising the tolerance.
IMAGE_TOLERANCE_RMS = 2.0
MIN_FONT_SIZE_PT = 9


@pytest.fixture(scope="module")
def drawn_images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return diagrams.draw_all(tmp_path_factory.mktemp("diagrams") / "not" / "yet" / "there")


# --- Files ------------------------------------------------------------------------------------


def test_registry_lists_the_five_pictures_in_order() -> None:
    assert list(diagrams.DIAGRAMS) == EXPECTED_FILES


def test_draw_all_writes_every_picture_in_registry_order(drawn_images: list[Path]) -> None:
    assert [path.name for path in drawn_images] == EXPECTED_FILES
    assert all(path.is_file() for path in drawn_images)


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_picture_is_a_png_of_the_intended_size(drawn_images: list[Path], name: str) -> None:
    data = (drawn_images[0].parent / name).read_bytes()
    assert data[:8] == PNG_SIGNATURE
    # The first chunk must be IHDR: 4-byte length, b"IHDR", then width and height (big-endian).
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == EXPECTED_SIZE_PX


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_picture_matches_the_committed_image(drawn_images: list[Path], name: str) -> None:
    committed = COMMITTED_IMAGES / name
    assert committed.is_file(), f"{committed} is missing: run draw_all('images')"
    actual = drawn_images[0].parent / name
    difference = compare_images(str(committed), str(actual), tol=IMAGE_TOLERANCE_RMS)
    assert difference is None, f"{name} differs from images/; regenerate it. {difference}"


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_drawing_twice_gives_identical_bytes(tmp_path: Path, name: str) -> None:
    first = diagrams.draw(name, tmp_path / "first").read_bytes()
    second = diagrams.draw(name, tmp_path / "second").read_bytes()
    assert first == second


def test_png_carries_no_software_version(drawn_images: list[Path]) -> None:
    assert b"matplotlib" not in drawn_images[0].read_bytes().lower()


def test_unknown_name_is_rejected_with_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(DiagramError, match="nope") as error:
        diagrams.draw("nope", tmp_path)
    assert all(name in str(error.value) for name in EXPECTED_FILES)
    assert not any(tmp_path.iterdir())


def test_drawing_functions_return_figures_without_pyplot_state() -> None:
    managers_before = Gcf.get_num_fig_managers()
    for draw_picture in diagrams.DIAGRAMS.values():
        assert isinstance(draw_picture(), Figure)
    assert Gcf.get_num_fig_managers() == managers_before


# --- Legibility -------------------------------------------------------------------------------


def _visible_texts(figure: Figure) -> list[Text]:
    """Every text the figure shows: free texts, titles, legends, and labels of visible axes."""
    texts = list(figure.texts)
    for ax in figure.axes:
        texts += ax.texts + [ax.title]
        if ax.axison:
            texts += ax.get_xticklabels() + ax.get_yticklabels()
            texts += [ax.xaxis.label, ax.yaxis.label]
        if legend := ax.get_legend():
            texts += legend.get_texts() + [legend.get_title()]
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


def text_problems(figure: Figure) -> list[str]:
    """Texts that are too small, cut off by the canvas edge, or overlapping another text."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)  # lays out ticks and legends so their extents are final
    width, height = figure.canvas.get_width_height()
    canvas = Bbox.from_bounds(0, 0, width, height)
    problems, extents = [], {}
    for text in _visible_texts(figure):
        label = repr(text.get_text())
        if text.get_fontsize() < MIN_FONT_SIZE_PT:
            problems.append(f"{label} is smaller than {MIN_FONT_SIZE_PT} pt")
        extent = text.get_window_extent(renderer)
        if Bbox.union([canvas, extent]).bounds != canvas.bounds:
            problems.append(f"{label} is clipped by the canvas edge")
        extents[label] = extent.padded(-1)  # touching is fine, overlap is not
    for (first, a), (second, b) in itertools.combinations(extents.items(), 2):
        if a.overlaps(b):
            problems.append(f"{first} overlaps {second}")
    return problems


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_text_is_large_enough_inside_the_canvas_and_never_overlaps(name: str) -> None:
    assert not text_problems(diagrams.DIAGRAMS[name]())


def test_text_check_reports_small_clipped_and_overlapping_text() -> None:
    figure = Figure(figsize=(4, 2), dpi=100)
    figure.text(0.1, 0.5, "first label", size=10)
    figure.text(0.15, 0.5, "second label", size=10)
    figure.text(0.5, 0.1, "tiny", size=6)
    figure.text(0.9, 0.9, "runs off the edge", size=10)
    problems = "\n".join(text_problems(figure))
    assert "'first label' overlaps 'second label'" in problems
    assert "'tiny' is smaller than" in problems
    assert "'runs off the edge' is clipped" in problems


# --- Colour-blind safety ----------------------------------------------------------------------

# Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of Color
# Vision Deficiency", severity 1.0. The matrices act on linear (not gamma-encoded) RGB.
MACHADO_2009 = {
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968],
         [0.280085, 0.672501, 0.047413],
         [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868],
         [0.114503, 0.786281, 0.099216],
         [-0.003882, -0.048116, 1.051998]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779],
         [-0.078411, 0.930809, 0.147602],
         [0.004733, 0.691367, 0.303900]]
    ),
}
LINEAR_RGB_TO_XYZ_D65 = np.array(
    [[0.4124564, 0.3575761, 0.1804375],
     [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]]
)
WHITE_D65 = LINEAR_RGB_TO_XYZ_D65.sum(axis=1)
# CIE76 ΔE of 2.3 is a just-noticeable difference for large patches side by side. Legend
# swatches and small boxes must be told apart at a glance and from memory, so ask for about
# five JNDs. Every pair within the Okabe–Ito palette clears this under all three simulations
# (closest: reddish purple vs grey at 14.6 for deuteranopes), while the red/green pairs people
# reach for do not (tab:red vs tab:green: 7.3 for deuteranopes).
MIN_DELTA_E = 12.0


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def linear_rgb_to_lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = LINEAR_RGB_TO_XYZ_D65 @ linear_rgb / WHITE_D65
    delta = 6 / 29
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_with(deficiency: str | None, color: str) -> np.ndarray:
    """CIELAB of ``color`` as simulated for ``deficiency`` (None: normal vision)."""
    linear = srgb_to_linear(np.array(to_rgb(color)))
    if deficiency is not None:
        linear = np.clip(MACHADO_2009[deficiency] @ linear, 0.0, 1.0)
    return linear_rgb_to_lab(linear)


def delta_e76(deficiency: str | None, first: str, second: str) -> float:
    return float(np.linalg.norm(seen_with(deficiency, first) - seen_with(deficiency, second)))


def indistinguishable_pairs(colors: Mapping[str, str], deficiency: str) -> list[str]:
    return [
        f"{a} vs {b}: ΔE {delta_e76(deficiency, colors[a], colors[b]):.1f}"
        for a, b in itertools.combinations(colors, 2)
        if delta_e76(deficiency, colors[a], colors[b]) < MIN_DELTA_E
    ]


def test_simulation_matrices_keep_white_white() -> None:
    # Each row sums to 1 in the paper; a typo in a transcribed coefficient breaks this.
    for matrix in MACHADO_2009.values():
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-5)


def test_lab_conversion_matches_reference_values() -> None:
    np.testing.assert_allclose(seen_with(None, "#FFFFFF"), [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(seen_with(None, "#FF0000"), [53.24, 80.09, 67.20], atol=0.05)


@pytest.mark.parametrize("deficiency", MACHADO_2009)
@pytest.mark.parametrize("group", style.COLOR_GROUPS)
def test_category_colors_stay_distinguishable(group: str, deficiency: str) -> None:
    colors = style.COLOR_GROUPS[group]
    assert len(colors) >= 2
    assert not indistinguishable_pairs(colors, deficiency)


def test_category_colors_come_from_the_shared_palette() -> None:
    allowed = set(style.OKABE_ITO.values()) | {style.NEUTRAL_GREY}
    for group, colors in style.COLOR_GROUPS.items():
        assert set(colors.values()) <= allowed, group


def test_check_rejects_the_default_matplotlib_red_green_pair_for_deuteranopes() -> None:
    traffic_light = {"success": "tab:green", "failed": "tab:red"}
    assert indistinguishable_pairs(traffic_light, "deuteranopia")
    assert not indistinguishable_pairs(traffic_light, "tritanopia")  # the check is not blanket


def test_check_rejects_named_red_vs_green_for_protanopes() -> None:
    assert indistinguishable_pairs({"ok": "green", "bad": "red"}, "protanopia")


def test_deuteranopia_removes_the_red_green_contrast_of_pure_red_and_green() -> None:
    # Pure #FF0000 vs #00FF00 keeps a large *lightness* gap for deuteranopes (ΔE 27.8, so the
    # check accepts it, rightly: they see dark vs bright olive). The simulation must still wipe
    # out what tells them apart for everyone else, the a* (red-green) axis.
    normal_gap = seen_with(None, "#FF0000") - seen_with(None, "#00FF00")
    deuteranope_gap = seen_with("deuteranopia", "#FF0000") - seen_with("deuteranopia", "#00FF00")
    assert abs(normal_gap[1]) > 150
    assert abs(deuteranope_gap[1]) < 5


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=30))
def test_an_unknown_name_is_carried_with_the_diagrams_there_are(name: str) -> None:
    if name in EXPECTED_FILES:
        return
    with pytest.raises(DiagramError) as caught:
        diagrams.draw(name, "/nonexistent/never/made")
    assert (caught.value.value, list(caught.value.known)) == (name, EXPECTED_FILES)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(sorted(errno.errorcode)))
def test_a_folder_that_cannot_be_made_is_carried_with_the_cause_and_fix(number: int) -> None:
    from course_etl.paths import describe_os_error

    refusal = OSError(number, os.strerror(number))

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise refusal

    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "images"
        with mock.patch.object(Path, "mkdir", refuse), pytest.raises(DiagramError) as caught:
            diagrams.draw(EXPECTED_FILES[0], folder)
    error = caught.value
    assert error.value == str(folder)
    assert (error.reason, error.fix) == describe_os_error(refusal)
    assert str(error) == f"diagram folder {str(folder)!r}: {error.reason}: {error.fix}"
