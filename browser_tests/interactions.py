"""One real interaction per widget panel, per notebook, with what the page must show after it.

Each function gets the Playwright page and the notebook's top-level widget outputs (locators, in
page order). A notebook whose stored outputs contain widgets must have an entry here: the test
fails for a new notebook until someone writes how to exercise its panels.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

TIMEOUT = 60_000


def set_slider(panel: Locator, label: str, value: int) -> None:
    """Type a value into a slider's readout, as a person does, and confirm it."""
    readout = panel.locator(f".widget-slider:has(label:text-is('{label}')) .widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.type(str(value))
    readout.press("Enter")
    expect(readout).to_have_text(str(value))


def click(panel: Locator, text: str) -> None:
    panel.locator(f"button:has-text('{text}')").first.click()


def tab(panel: Locator, title: str) -> None:
    panel.locator(f".lm-TabBar-tab:has-text('{title}')").first.click()


def notebook_00(page: Page, panels: list[Locator]) -> None:
    check = panels[0]
    click(check, "Click me")
    expect(check).to_contain_text("widgets work: the kernel answered", timeout=TIMEOUT)


def notebook_01(page: Page, panels: list[Locator]) -> None:
    control, scale = panels
    set_slider(control, "inserts", 3)
    set_slider(control, "same timestamp", 1)
    click(control, "Apply changes at source")
    expect(control).to_contain_text("3 inserted, 1 same timestamp", timeout=TIMEOUT)
    click(control, "Lecture recipe")
    expect(control).to_contain_text("1 row differs", timeout=TIMEOUT)
    click(control, "Incremental load")
    expect(control).to_contain_text("in sync", timeout=TIMEOUT)
    tab(control, "Warehouse")
    # The four rows the incremental load inserted are tinted in the warehouse table.
    tinted = control.locator(".course-etl-table tbody tr:visible")
    expect(tinted).to_have_count(4, timeout=TIMEOUT)
    colours = tinted.evaluate_all(
        "rows => rows.map(r => getComputedStyle(r.cells[0]).backgroundColor)")
    assert all(c not in ("rgba(0, 0, 0, 0)", "transparent") for c in colours), colours
    tab(control, "Chart")
    expect(control).to_contain_text("2 · incremental", timeout=TIMEOUT)
    click(scale, "Measure")
    expect(scale.locator(".widget-label:text-is('done')")).to_be_visible(timeout=TIMEOUT)
    expect(scale.locator("img")).to_be_visible(timeout=TIMEOUT)
    expect(scale).to_contain_text("speedup")


def notebook_04(page: Page, panels: list[Locator]) -> None:
    explorer = panels[0]
    explorer.locator(".widget-dropdown select").first.select_option("prod")
    expect(explorer).to_contain_text("prod: every key", timeout=TIMEOUT)
    click(explorer, "Run incremental load")
    expect(explorer).to_contain_text("rows_read", timeout=TIMEOUT)
    box = explorer.locator("textarea").first
    box.fill("COURSE_ETL_LOAD__BATCH_SIZE=-5")
    box.press("Tab")  # the value is sent when the box loses focus
    expect(explorer).to_contain_text("COURSE_ETL_LOAD__BATCH_SIZE", timeout=TIMEOUT)
    expect(explorer.locator("button:has-text('Run incremental load')")).to_be_disabled()


def image_source(panel: Locator, index: int = 0) -> str:
    return panel.locator("img").nth(index).get_attribute("src") or ""


def type_text(panel: Locator, label: str, text: str) -> None:
    """Replace a Text widget's value and press Enter (sent on Enter or blur)."""
    box = panel.locator(f".widget-text:has(label:text-is('{label}')) input")
    box.fill(text)
    box.press("Enter")


def notebook_02(page: Page, panels: list[Locator]) -> None:
    cron, simulator, export = panels
    type_text(cron, "cron", "61 * * * *")
    expect(cron).to_contain_text("the minute field accepts 0-59", timeout=TIMEOUT)
    type_text(cron, "cron", "30 6 * * 1-5")
    expect(cron).to_contain_text("At 06:30, Monday through Friday", timeout=TIMEOUT)

    dag_before = image_source(simulator)
    set_slider(simulator, "failures", 3)
    click(simulator, "Run")
    expect(simulator).to_contain_text("upstream_failed", timeout=TIMEOUT)
    # The pictures arrive just after the state table: wait for the DAG image to change.
    expect(simulator.locator("img").first).not_to_have_attribute(
        "src", dag_before, timeout=TIMEOUT)
    click(simulator, "Backfill")
    expect(simulator).to_contain_text("idempotent", timeout=TIMEOUT)

    tab(export, "Airflow 3")
    expect(export).to_contain_text("from airflow.sdk import CronDataIntervalTimetable",
                                   timeout=TIMEOUT)
    tab(export, "Dagster")
    expect(export).to_contain_text("ScheduleDefinition", timeout=TIMEOUT)


def notebook_03(page: Page, panels: list[Locator]) -> None:
    panel = panels[0]
    select = panel.locator(".widget-dropdown select").first
    label = next(text for text in select.locator("option").all_inner_texts()
                 if text.startswith("duplicate_keys"))
    select.select_option(label=label)
    click(panel, "Run the pipeline")
    expect(panel).to_contain_text("blocking gate held the bad data back", timeout=TIMEOUT)
    expect(panel.locator("img")).to_be_visible(timeout=TIMEOUT)  # drawn after the summary


def notebook_05(page: Page, panels: list[Locator]) -> None:
    explorer = panels[0]
    click(explorer, "Ingest a new batch")
    expect(explorer).to_contain_text("Day 2024-10-0", timeout=TIMEOUT)
    click(explorer, "Rebuild from bronze")
    expect(explorer).to_contain_text("identical to the incremental result", timeout=TIMEOUT)


def notebook_06(page: Page, panels: list[Locator]) -> None:
    panel = panels[0]
    select = panel.locator(".widget-dropdown select").nth(1)
    select.select_option(label="short orders feed (5 orders arrive)")
    click(panel, "Run my pipeline")
    # The notebook runs with the stubs: the runs table appears, and the dashboard draws even
    # though the stub suite has no volume check (its fourth view says so; no error box).
    expect(panel).to_contain_text("logical_date", timeout=TIMEOUT)
    expect(panel.locator("img.course-etl-chart")).to_be_visible(timeout=TIMEOUT)
    expect(panel.locator(".course-etl-error")).to_have_count(0)


INTERACTIONS = {
    "00_index.ipynb": notebook_00,
    "01_full_vs_incremental.ipynb": notebook_01,
    "02_job_scheduling.ipynb": notebook_02,
    "03_monitoring.ipynb": notebook_03,
    "04_parameterization.ipynb": notebook_04,
    "05_medallion.ipynb": notebook_05,
    "06_capstone.ipynb": notebook_06,
}
