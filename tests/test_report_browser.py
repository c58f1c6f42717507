"""The HTML report in a real headless Chromium: no console errors, CSP lets our script (and only it) run.

Skipped when no Chromium is installed. Console messages are read from Chromium's own log
(``--enable-logging=stderr``), so no driver library is needed.
"""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from test_report import evil_report
from toolkit.report import html as html_mod
from toolkit.report.model import Report, Section, Table
from toolkit.report.writer import write_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "chrome")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")


def console(path) -> list[str]:
    done = subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=3000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert "<html" in done.stdout, done.stderr[-2000:]
    return [m.group(1) for m in re.finditer(r":CONSOLE[^\]]*\] (.*)", done.stderr)]


def test_evil_report_opens_without_console_messages(tmp_path):
    paths = write_report(evil_report(), tmp_path / "out", formats=("html",))
    assert console(paths["html"]) == []


def test_wrong_hash_is_reported_so_the_check_above_can_fail(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(html_mod.render_html(evil_report()).replace(html_mod.SCRIPT_HASH, "sha256-AAAA"))
    msgs = console(page)
    assert any("Content Security Policy" in m for m in msgs)
    assert html_mod.SCRIPT_HASH in msgs[0]  # Chromium computes the same hash as we do


def test_sorting_runs_under_the_csp(tmp_path):
    df = pd.DataFrame({"name": ["b", "a", "c", "d"], "n": [10, 9, 100, np.nan]})
    doc = html_mod.render_html(Report("t", [Section("s", "S", tables=[Table("t", df)])]))
    probe = (
        '"use strict";\n'
        'var b = document.querySelectorAll("table.sortable thead th button");\n'
        "function col(i) { return Array.prototype.map.call(document.querySelectorAll("
        '"table.sortable tbody tr"), function (r) { return r.cells[i].textContent; }).join("|"); }\n'
        'b[1].click(); console.log("ASC " + col(1));\n'
        'b[1].click(); console.log("DESC " + col(1));\n'
        'b[0].click(); console.log("NAME " + col(0));\n'
    )
    probe_hash = "sha256-" + base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    doc = doc.replace("script-src &#x27;sha256-", f"script-src &#x27;{probe_hash}&#x27; &#x27;sha256-", 1)
    doc = doc.replace("</body>", f"<script>{probe}</script></body>")
    page = tmp_path / "probe.html"
    page.write_text(doc)
    msgs = [m.split('"')[1] for m in console(page)]
    assert msgs == ["ASC 9|10|100|", "DESC 100|10|9|", "NAME a|b|c|d"]  # numeric order, empty cells last
