"""The course's colours: the colour-blind safe Okabe–Ito palette and the category maps built on
it (task states, check results, row status, config layers, medallion layers). Every picture takes
its colours from here, through :mod:`course_etl.style`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["CHECK_COLORS", "COLOR_GROUPS", "CONFIG_LAYER_COLORS", "INK", "MEDALLION_COLORS",
           "MUTED_INK", "NEUTRAL_GREY", "OKABE_ITO", "PANEL", "ROW_COLORS", "TASK_STATE_COLORS"]

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies. Every category colour below is taken from here (plus one neutral grey).
OKABE_ITO: Mapping[str, str] = MappingProxyType(
    {
        "black": "#000000",
        "orange": "#E69F00",
        "sky_blue": "#56B4E9",
        "bluish_green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish_purple": "#CC79A7",
    }
)
NEUTRAL_GREY = "#BBBBBB"  # "not copied", "silver", "defaults": categories that should look quiet
INK = "#222222"  # text and outlines: softer than pure black, still > 15:1 contrast on white
MUTED_INK = "#555555"  # secondary text (subtitles, notes); still > 7:1 contrast on white
PANEL = "#F3F3F3"  # background bands that group things without competing with the content

TASK_STATE_COLORS: Mapping[str, str] = MappingProxyType(
    {  # same hues as the Airflow UI uses for these states, where Okabe–Ito allows
        "success": OKABE_ITO["bluish_green"],
        "failed": OKABE_ITO["vermillion"],
        "up_for_retry": OKABE_ITO["yellow"],
        "upstream_failed": OKABE_ITO["orange"],
    }
)
CHECK_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "pass": TASK_STATE_COLORS["success"],
        "warn": TASK_STATE_COLORS["up_for_retry"],
        "fail": TASK_STATE_COLORS["failed"],
    }
)
ROW_COLORS: Mapping[str, str] = MappingProxyType(
    {"copied": OKABE_ITO["blue"], "not copied": NEUTRAL_GREY}
)
CONFIG_LAYER_COLORS: Mapping[str, str] = MappingProxyType(
    {  # lowest precedence first
        "defaults": NEUTRAL_GREY,
        "base file": OKABE_ITO["sky_blue"],
        "environment file": OKABE_ITO["yellow"],
        "environment variables": OKABE_ITO["bluish_green"],
        "explicit overrides": OKABE_ITO["orange"],
    }
)
MEDALLION_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "bronze": OKABE_ITO["vermillion"],
        "silver": NEUTRAL_GREY,
        "gold": OKABE_ITO["orange"],
    }
)
# Colours that must stay distinguishable from each other, per picture; the tests simulate
# colour-vision deficiencies on exactly these.
COLOR_GROUPS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "task state": TASK_STATE_COLORS,
        "check result": CHECK_COLORS,
        "row status": ROW_COLORS,
        "config layer": CONFIG_LAYER_COLORS,
        "medallion layer": MEDALLION_COLORS,
    }
)
