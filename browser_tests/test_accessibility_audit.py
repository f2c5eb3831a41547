"""The accessibility audit itself: it catches each kind of violation the course met (so a
passing notebook means "accessible", not "audited nothing"), a clean page passes, an empty scope
is an error, and the allow-list excuses exactly the elements it names."""

from __future__ import annotations

import json

import accessibility
import pytest
from accessibility import axe_audit

CLEAN = """<main class="area">
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="3 runs: 2 success, 1 failed">
  <label>inserts <input type="number" value="3"></label>
  <p style="color: #222222; background: #ffffff">success: the data passed</p>
</main>"""
PROBLEMS = {
    "image-alt": '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">',
    "aria-input-field-name": '<div role="slider" tabindex="0" aria-valuenow="3" '
                             'aria-valuemin="0" aria-valuemax="20"></div>',
    "color-contrast": '<p style="color: #6d6d6d; background: #eeeeee; font-size: 13px">'
                      'Scale it up</p>',
}
# Not here: scrollable-region-focusable. Chromium 130+ makes a scroller keyboard-focusable by
# itself, so axe does not report it in this browser; AccessibleNames still gives a scrolling
# table tabindex=0 for browsers that do not.


@pytest.fixture
def blank(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def test_a_clean_area_passes(blank):
    blank.set_content(CLEAN)
    assert axe_audit(blank, ".area", "audit self-test clean") == []


@pytest.mark.parametrize("rule", PROBLEMS)
def test_each_kind_of_violation_is_caught(blank, rule):
    blank.set_content(f'<main class="area">{PROBLEMS[rule]}</main>')
    findings = axe_audit(blank, ".area", f"audit self-test {rule}")
    assert rule in {f.rule for f in findings}, findings


def test_an_empty_scope_is_an_error(blank):
    blank.set_content(CLEAN)
    with pytest.raises(AssertionError, match="nothing on the page matches"):
        axe_audit(blank, ".not-there", "audit self-test empty")


def test_the_allow_list_excuses_only_what_it_names(blank, tmp_path, monkeypatch):
    listed = tmp_path / "allow.json"
    listed.write_text(json.dumps({"allow": [{
        "rule": "aria-input-field-name", "selector": ".upstream-widget",
        "upstream": "https://github.com/jupyter-widgets/ipywidgets/issues/2650"}]}))
    monkeypatch.setattr(accessibility, "ALLOWLIST", listed)
    slider = PROBLEMS["aria-input-field-name"]
    blank.set_content(f'<main class="area"><div class="upstream-widget">{slider}</div>'
                      f'<div class="course-panel">{slider}</div></main>')
    findings = axe_audit(blank, ".area", "audit self-test allow-list")
    assert [f.rule for f in findings] == ["aria-input-field-name"]  # two sliders, one excused
