"""The sample audit's report.html in headless Chromium driven by Playwright: no console errors, every
figure decodes, a click on a column header sorts the table; a full-page screenshot is kept, and the first screen
is photographed at a desktop and a phone width (tests/browser/screenshots/, git-ignored) with the page's height
held to a reading length."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.cli import main

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "report"
SCREENSHOTS = Path(__file__).resolve().parent / "browser" / "screenshots"
#: the sample's report at 1440 px was 69,921-71,046 px tall before tables were folded and allowed to scroll
MAX_DESKTOP_HEIGHT = 15_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page_of_report(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"SKIPPED LOUDLY: {CHROMIUM} is missing — the report was NOT checked in a browser")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    out = tmp_path_factory.mktemp("report")
    # every section, the backtest's too, and a gate for the verdict
    assert main(["audit", "-q", "--out", str(out), "--backtest", "--fail-under", "interaction-coverage=50"]) == 0
    messages: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            yield page, messages, out, browser
        finally:
            browser.close()


def test_opens_without_console_errors_and_saves_a_screenshot(page_of_report):
    page, messages, _, _ = page_of_report
    assert page.title().startswith("Integration-testing audit")
    assert page.locator("h2").count() >= 8
    assert [m for m in messages if m.startswith(("error", "pageerror", "warning"))] == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_every_figure_decodes(page_of_report):
    page, _, out, _ = page_of_report
    findings = json.loads((out / "findings.json").read_text())
    figures = sum(len(sec.get("figures") or {}) for sec in findings["sections"].values())
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert figures >= 2 and len(sizes) == figures  # e.g. the coupling graph and the bug matrix
    assert all(done and w > 0 and h > 0 for done, w, h in sizes), sizes


def test_clicking_a_header_sorts_the_table(page_of_report):
    page, messages, _, _ = page_of_report
    table = page.locator("table.sortable").filter(has=page.locator("th", has_text="call_sites")).first
    details = table.locator("xpath=ancestor::details[1]")
    if details.get_attribute("open") is None:  # long tables are folded: the reader opens them first
        details.locator("xpath=./summary").click()
    headers = table.locator("thead th").all_inner_texts()
    col = [h.strip() for h in headers].index("call_sites")

    def column() -> list[float]:
        return [float(v) for v in table.locator("tbody tr").evaluate_all(
            f"rows => rows.map(r => r.cells[{col}].getAttribute('data-v'))")]

    before = column()
    assert len(before) >= 3 and before != sorted(before)  # otherwise the click would prove nothing
    button = table.locator("thead th button").nth(col)
    button.click()
    assert column() == sorted(before)
    assert table.locator("thead th").nth(col).get_attribute("aria-sort") == "ascending"
    button.click()
    assert column() == sorted(before, reverse=True)
    assert [m for m in messages if m.startswith(("error", "pageerror"))] == []


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)])
def test_first_screen_at_desktop_and_phone_width(page_of_report, width, height):
    """The verdict, the top seams and the first tiles are on the first screen; tables scroll sideways instead of
    widening the page; the whole page stays a reading length (before: ~70,000 px desktop, ~260,000 px phone)."""
    _, _, out, browser = page_of_report
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto((out / "report.html").as_uri(), wait_until="load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"first-screen-{width}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"full-{width}.png"), full_page=True)
        total = page.evaluate("document.documentElement.scrollHeight")
        print(f"report.html at {width} px: {total:,} px tall")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page scroll
        verdict = page.locator(".verdict").bounding_box()
        assert verdict is not None and verdict["y"] + verdict["height"] <= height  # the verdict, unscrolled
        assert "CI gate" in page.locator(".verdict").inner_text()
        assert page.locator("ol.topseams li").count() == 3
        if width >= 1000:  # on a desktop the top seams and the first row of tiles fit too
            assert page.locator("ol.topseams").bounding_box()["y"] < height
            assert page.locator(".cards .card").first.bounding_box()["y"] < height
            assert total < MAX_DESKTOP_HEIGHT, total
        else:
            assert total < 2 * MAX_DESKTOP_HEIGHT, total
        tiles = page.locator(".cards .card .v").all_inner_texts()
        assert "73.3 %" in tiles and all(not t.replace(".", "").isdigit() or "%" not in t for t in tiles)
    finally:
        page.close()
