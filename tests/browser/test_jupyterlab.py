"""The widgets in a real JupyterLab in headless Chromium, and the demo notebook run headless by nbclient."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

DEMO = "widgets_demo.ipynb"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_widgets_in_jupyterlab(lab, page, wait_for_file_text, click_graph_node):
    if not (lab.root_dir / DEMO).exists():
        pytest.skip(f"{DEMO} is not in the served folder {lab.root_dir}")
    labels = lab.root_dir / "demo-labels.csv"
    labels.unlink(missing_ok=True)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)

    lab.open_notebook(page, DEMO)
    lab.screenshot(page, "01-notebook-open")
    lab.run_all_cells(page)

    graph = page.locator('[data-testid="seamscope-graph"]')
    graph.wait_for(state="visible", timeout=120_000)
    page.wait_for_selector('[data-testid="seamscope-graph"][data-rendered="true"]', timeout=60_000)
    review = page.locator('[data-testid="seamscope-review"]')
    review.wait_for(state="visible", timeout=60_000)
    body = page.locator(".jp-NotebookPanel").inner_text()
    assert "Error displaying widget" not in body, console
    assert "Loading widget" not in body, console
    assert "demo ready: 6 components, 3 bugs" in body
    assert graph.get_attribute("data-node-count") == "6"
    lab.screenshot(page, "02-all-cells-run")

    # the legend gives the scale of each colouring; colour by integration coverage paints nodes, not grey
    legend = page.locator('[data-testid="seamscope-legend"]')
    assert "risk: 0 (low)" in legend.inner_text() and "1 (the riskiest seam)" in legend.inner_text()
    page.locator('[data-testid="seamscope-color-by"]').select_option("integration_coverage")
    page.wait_for_selector('[data-testid="seamscope-legend"][data-color-by="integration_coverage"]', timeout=30_000)
    text = legend.inner_text()
    assert "integration coverage: 0% (none)" in text and "100% of call sites" in text
    assert "no integration coverage (0 of 6 components)" in text
    colours = graph.evaluate("el => ['orders', 'catalog', 'notifications'].map(id => el.seamscope.nodeColour(id))")
    grey = graph.evaluate("el => getComputedStyle(el.querySelector('.ss-legend-swatch')).backgroundColor")
    assert grey not in colours and len(set(colours)) == 3, colours  # 15%, 90%, 0%: three different colours
    graph.screenshot(path=str(lab.screenshot(page, "02b-coverage").with_name("02b-graph-by-coverage.png")))
    page.locator('[data-testid="seamscope-color-by"]').select_option("risk")
    # the static picture displayed beside the live graph (for exports) is hidden here
    static = page.locator(".ss-graph-static")
    assert static.count() == 1 and not static.is_visible()

    # click the 'payments' node where the widget says it is drawn
    assert click_graph_node(page, graph, "payments") == "payments"
    detail = page.locator('[data-testid="seamscope-detail"]')
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"seamscope-detail\"]').textContent.includes('checkout.py:42')",
        timeout=60_000,
    )
    text = detail.inner_text()
    assert "component payments" in text
    assert "shop/orders/checkout.py:42" in text and "shop/orders/refunds.py:17" in text
    assert "mocked" in text and "SHOP-1" in text
    graph.screenshot(path=str(lab.screenshot(page, "03-node-clicked").with_name("03-graph-widget.png")))

    # the untrusted '<b>search</b>' title is shown as text, not markup
    review.scroll_into_view_if_needed()
    assert "0 of 3 reviewed" in review.inner_text()
    assert page.locator('[data-testid="seamscope-review-key"]').inner_text() == "SHOP-1"
    keys = page.locator('[data-testid="seamscope-review-keys"]')
    assert review.get_attribute("data-keys") == "off" and "click here, then press a accept" in keys.inner_text()

    # unfocused, 'a' is JupyterLab's (insert a cell above), never an accept in the widget
    cells = page.locator(".jp-NotebookPanel .jp-Cell").count()
    page.locator(".jp-NotebookPanel .jp-MarkdownCell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length === {cells + 1}",
                           timeout=30_000)
    assert review.get_attribute("data-keys") == "off"

    # relabel SHOP-1 (suggested: integration) as environment with the mouse: on disk at once. Had the 'a' above
    # reached the widget, SHOP-1 would be 'integration' and this click would have labelled SHOP-2.
    review.scroll_into_view_if_needed()
    page.locator('[data-testid="seamscope-label-environment"]').click()
    saved = wait_for_file_text(labels, "SHOP-1,environment")
    assert saved.splitlines()[0] == "key,category,note,decided_at,reviewer"
    assert "integration" not in saved and "SHOP-2" not in saved
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"seamscope-review-key\"]').textContent === 'SHOP-2'",
        timeout=60_000,
    )
    assert "1 of 3 reviewed" in review.inner_text()
    assert page.locator('[data-testid="seamscope-review-key"]').inner_text() == "SHOP-2"
    title = review.locator(".ss-title").inner_text()
    assert title == "<b>search</b> shows deleted products"
    lab.screenshot(page, "04-relabelled")

    # the button clicked was redrawn, the keys stay with the widget: 'i' labels SHOP-2 as integration
    page.wait_for_selector('[data-testid="seamscope-review"][data-keys="on"]', timeout=30_000)
    assert "Keys on" in keys.inner_text()
    cells = page.locator(".jp-NotebookPanel .jp-Cell").count()
    page.keyboard.press("i")
    wait_for_file_text(labels, "SHOP-2,integration")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"seamscope-review-progress\"]').textContent.startsWith('2 of 3')",
        timeout=60_000,
    )
    lab.screenshot(page, "05-keyboard-label")
    assert "SHOP-1,environment" in labels.read_text()

    # click outside: the keys go back to JupyterLab, and the widget says so
    page.locator(".jp-NotebookPanel .jp-MarkdownCell").first.click()
    page.wait_for_selector('[data-testid="seamscope-review"][data-keys="off"]', timeout=30_000)
    # click on the bug's text (as a user would): 'a' accepts the suggestion for SHOP-3, no cell is inserted
    review.locator(".ss-title").click()
    page.wait_for_selector('[data-testid="seamscope-review"][data-keys="on"]', timeout=30_000)
    page.keyboard.press("a")
    wait_for_file_text(labels, "SHOP-3,environment")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"seamscope-review-progress\"]').textContent.startsWith('3 of 3')",
        timeout=60_000,
    )
    assert page.locator(".jp-NotebookPanel .jp-Cell").count() == cells
    lab.screenshot(page, "06-all-reviewed")


def _executed_demo(tmp_path):
    """The demo notebook run top to bottom by nbclient in ``tmp_path`` (its outputs and widget state kept)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    shutil.copy(NOTEBOOKS / DEMO, tmp_path / DEMO)
    nb = nbformat.read(tmp_path / DEMO, as_version=4)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_demo_notebook_runs_headless(tmp_path):
    """nbclient runs the demo top to bottom; each widget output carries its static PNG fallback."""
    nb = _executed_demo(tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    at = next(i for i, o in enumerate(outputs) if "CouplingGraphWidget" in o.get("data", {}).get("text/plain", ""))
    assert "application/vnd.jupyter.widget-view+json" in outputs[at]["data"]
    assert "data:image/png;base64," in outputs[at + 1]["data"]["text/html"]  # the static picture, its own output
    assert any("demo ready: 6 components, 3 bugs" in o.get("text", "") for o in outputs)
    assert not (tmp_path / "demo-labels.csv").exists()  # opening the review decides nothing
    # exported as nbclient (and papermill) leave it, with the widget state saved: nbconvert then picks the widget
    # view, which is empty without the widget JavaScript; the picture beside it still shows
    from nbconvert import HTMLExporter

    assert nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert re.search(r'<div class="ss-graph-static" data-ss-static="[0-9a-f]+"><img [^>]*src="data:image/png;base64,', html)
    (tmp_path / "demo.html").write_text(html)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_static_html_export_shows_the_graph_picture(page, tmp_path):
    """The exported page opened in a browser with no kernel and no network: the graph cell shows its picture."""
    from nbconvert import HTMLExporter

    nb = _executed_demo(tmp_path)
    html, _ = HTMLExporter().from_notebook_node(nb)
    out = tmp_path / "demo.html"
    out.write_text(html)
    page.route("http*://**", lambda route: route.abort())  # offline, like a page opened from a mail attachment
    page.goto(out.as_uri(), wait_until="load")
    img = page.locator(".ss-graph-static img")
    assert img.count() == 1 and img.is_visible()
    assert img.evaluate("el => el.complete && el.naturalWidth > 300")
    img.screenshot(path=str(out.with_suffix(".png")))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_large_graph_stays_usable(lab, page, click_graph_node):
    """2,000 components / 4,000 seams on one canvas: renders, and a click still finds the node under it."""
    if not (lab.root_dir / "large_graph.ipynb").exists():
        pytest.skip(f"large_graph.ipynb is not in the served folder {lab.root_dir}")
    lab.open_notebook(page, "large_graph.ipynb")
    lab.run_all_cells(page)
    page.wait_for_selector('[data-testid="seamscope-graph"][data-node-count="2000"][data-rendered="true"]',
                           timeout=120_000)
    graph = page.locator('[data-testid="seamscope-graph"][data-node-count="2000"]')
    graph.scroll_into_view_if_needed()
    ms = graph.evaluate("el => el.seamscope.drawTimeMs()")
    print(f"full redraw of 2,000 nodes / 4,000 edges: {ms:.1f} ms")  # reported, not asserted
    # click where component_0007 is drawn; overlapping nodes are allowed, so ask which node is on top there
    under = click_graph_node(page, graph, "component_0007")
    assert f"src/{under}.py:1" in page.locator('[data-testid="seamscope-detail"]').inner_text()
    # the search box focuses (zooms to and selects) a component
    page.locator('[data-testid="seamscope-search"]').fill("component_0042")
    page.locator('[data-testid="seamscope-search"]').press("Enter")
    page.wait_for_selector('[data-testid="seamscope-detail"][data-detail-id="component_0042"]', timeout=60_000)
    lab.screenshot(page, "07-large-graph")
