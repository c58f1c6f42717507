"""The guided notebooks in a real JupyterLab: the coupling graph of 00_overview and the review of 02.

Served from ``notebooks/`` (this module overrides ``notebooks_dir``); with no configuration the notebooks' default
labels file is ``seamscope-labels.csv`` in the kernel's working directory (the served notebooks folder,
``lab.root_dir``; toolkit.config.labels_path), so a decision made in the browser is checked on disk there.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def notebooks_dir() -> Path:
    return ROOT / "notebooks"


def _assert_no_widget_errors(page, console: list[str]) -> None:
    body = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").inner_text()
    assert "Error displaying widget" not in body, console
    assert "Traceback" not in body and "InputError" not in body, body[-2000:]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_overview_graph_click_shows_call_sites(lab, page, click_graph_node):
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    lab.open_notebook(page, "00_overview.ipynb")
    lab.run_all_cells(page)
    page.wait_for_selector('[data-testid="seamscope-graph"][data-rendered="true"]', timeout=120_000)
    graph = page.locator('[data-testid="seamscope-graph"]')
    assert graph.get_attribute("data-node-count") == "10"
    _assert_no_widget_errors(page, console)
    lab.screenshot(page, "guided-00-overview")

    assert click_graph_node(page, graph, "payments") == "payments"  # nothing drawn on top of it in the sample
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"seamscope-detail\"]').textContent.includes('checkout.py:')",
        timeout=60_000)
    text = page.locator('[data-testid="seamscope-detail"]').inner_text()
    assert "component payments" in text
    # the call sites of payments' seams, as file:line, and tests split into real and mocked
    assert "shop/payments/checkout.py:23" in text and "shop/orders/" in text
    assert "real" in text and "mocked" in text
    graph.screenshot(path=str(lab.screenshot(page, "guided-00-node-clicked").with_name("guided-00-graph.png")))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_bug_review_relabel_writes_labels_file(lab, page, wait_for_file_text):
    from toolkit.config import LABELS_FILE
    labels = lab.root_dir / LABELS_FILE
    labels.unlink(missing_ok=True)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    lab.open_notebook(page, "02_bug_categorization.ipynb")
    lab.run_all_cells(page)
    review = page.locator('[data-testid="seamscope-review"]')
    review.wait_for(state="visible", timeout=120_000)
    _assert_no_widget_errors(page, console)
    assert not labels.exists()  # running the notebook decides nothing
    review.scroll_into_view_if_needed()
    key = page.locator('[data-testid="seamscope-review-key"]').inner_text()
    assert key
    page.locator('[data-testid="seamscope-label-environment"]').click()
    saved = wait_for_file_text(labels, f"{key},environment")
    assert saved.splitlines()[0] == "key,category,note,decided_at,reviewer"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"seamscope-review-progress\"]').textContent.startsWith('1 of')",
        timeout=60_000)
    lab.screenshot(page, "guided-02-relabelled")
