"""A real JupyterLab server and a headless Chromium for the browser tests.

``lab`` starts ``jupyter lab`` on a free port with a random token over a
temporary copy of a notebook folder (``tests/browser/notebooks`` by default;
set ``SEAMSCOPE_NOTEBOOKS`` to a folder of other notebooks — e.g. the guided
notebooks — to run the same machinery over them) and always stops it, killing
its whole process group (kernels included). ``page`` is a Playwright page in
Debian's ``/usr/bin/chromium`` (Playwright cannot download browsers here); the
tests skip loudly when it is missing (``make browser`` installs it).
Screenshots go to ``test-artifacts/browser/`` at the project root. The server's ``TMPDIR`` is a folder of
the session (``LabSession.tmp``), so the guided notebooks' default labels and report land there.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("SEAMSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAB_START_TIMEOUT_S = 120
KERNEL_TIMEOUT_S = 180


FILE_TIMEOUT_S = 60


def _wait_for_file_text(path: Path, needle: str, timeout: float = FILE_TIMEOUT_S) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        if path.exists():
            text = path.read_text()
            if needle in text:
                return text
        time.sleep(0.25)
    raise AssertionError(f"{path} never contained {needle!r}; last content:\n{text}")


@pytest.fixture
def wait_for_file_text():
    """``wait(path, needle)``: poll ``path`` until it contains ``needle`` and return its text (the kernel saves a
    decision asynchronously to the click that made it)."""
    return _wait_for_file_text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabSession:
    """A running JupyterLab: where it serves, its token, and the folder it serves."""

    base: str
    token: str
    root_dir: Path
    log: Path
    proc: subprocess.Popen = field(repr=False)

    @property
    def tmp(self) -> Path:
        """The kernels' ``tempfile.gettempdir()``."""
        return self.root_dir.parent / "tmp"

    def url(self, notebook: str) -> str:
        """A fresh workspace each time, so tabs from an earlier test are not restored next to it."""
        return f"{self.base}/lab/workspaces/t{secrets.token_hex(6)}/tree/{notebook}?token={self.token}"

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError as exc:
            return f"(no log: {exc})"

    # -- page helpers ---------------------------------------------------------
    def screenshot(self, page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def open_notebook(self, page, notebook: str) -> None:
        """Open ``notebook`` and wait until its kernel is idle."""
        page.goto(self.url(notebook), wait_until="domcontentloaded", timeout=LAB_START_TIMEOUT_S * 1000)
        page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", timeout=LAB_START_TIMEOUT_S * 1000)
        self.wait_kernel_idle(page)

    def wait_kernel_idle(self, page) -> None:
        page.wait_for_selector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]',
                               state="attached", timeout=KERNEL_TIMEOUT_S * 1000)

    def run_all_cells(self, page) -> None:
        """'Run All Cells' (the command behind the Run menu and the palette), then wait for the kernel.

        The command runs on the shell's current notebook once its kernel session
        is ready (awaited in the page, so a slow kernel start is not a race).
        """
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
                               timeout=LAB_START_TIMEOUT_S * 1000)
        page.evaluate(
            """async () => {
                const app = window.jupyterapp;
                const panel = app.shell.currentWidget;
                if (!panel || !panel.sessionContext) throw new Error('no notebook is the current widget');
                await panel.context.ready;
                await panel.sessionContext.ready;
                app.shell.activateById(panel.id);
                await app.commands.execute('notebook:run-all-cells');
            }"""
        )
        # every code cell gets an execution count, and the kernel returns to idle
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')];
                return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            timeout=KERNEL_TIMEOUT_S * 1000,
        )
        self.wait_kernel_idle(page)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when pytest dies (even by SIGKILL), so no server is orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the finalizer still stops the server
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="module")
def notebooks_dir() -> Path:
    """The folder served by ``lab``: ``$SEAMSCOPE_NOTEBOOKS`` or the demo notebooks (a test module may override it)."""
    return Path(os.environ.get("SEAMSCOPE_NOTEBOOKS", DEMO_NOTEBOOKS)).resolve()


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (run `make browser` as root, "
                    f"or `apt-get install chromium`, or set SEAMSCOPE_CHROMIUM)")


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory, notebooks_dir) -> LabSession:
    _require_chromium()  # no point in starting a server nobody can look at
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(notebooks_dir, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    home = root.parent
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}",
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
        # the guided notebooks default their labels/report to tempfile.gettempdir(): keep them inside this session
        "TMPDIR": str(home / "tmp"),
    })
    (home / "tmp").mkdir()
    notif = home / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    log = home / "jupyter-lab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        cmd.append("--allow-root")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
    session = LabSession(f"http://127.0.0.1:{port}", token, root, log, proc)

    def stop() -> None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:  # kernels live in the same session/group; make sure nothing outlives the test
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=20)

    request.addfinalizer(stop)
    deadline = time.monotonic() + LAB_START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode} before serving:\n{session.log_tail()}")
        try:
            with urllib.request.urlopen(f"{session.base}/api/status?token={token}", timeout=5) as r:
                json.load(r)
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"jupyter lab did not answer /api/status within {LAB_START_TIMEOUT_S} s:\n{session.log_tail()}")
        time.sleep(0.5)
    return session


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(request, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = context.new_page()
    p.set_default_timeout(60_000)
    try:
        yield p
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            p.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
        context.close()


def _click_graph_node(page, graph, node_id: str, *, attempts: int = 4, wait_s: float = 20) -> str:
    """Click ``node_id`` of a seamscope graph widget where it is drawn, as a user would, and wait for the details
    panel to answer; returns the id the panel shows (the node on top there, when nodes overlap).

    JupyterLab may still be laying the notebook out (cells render lazily as they scroll into view, outputs
    arrive), so a position read a moment ago can be stale by the time the click lands: wait until the graph
    stops moving, check that the canvas itself is what is under that point, and click again if no answer came.
    """
    last = None
    for _ in range(attempts):
        graph.scroll_into_view_if_needed()
        box = None
        for _settle in range(50):
            now = graph.bounding_box()
            if now is not None and now == box:
                break
            box = now
            page.wait_for_timeout(100)
        pos = graph.evaluate(f"el => el.seamscope.nodeClientPosition({json.dumps(node_id)})")
        assert pos is not None, f"{node_id} is not drawn"
        under = graph.evaluate(f"el => el.seamscope.nodeAtClient({pos['x']}, {pos['y']})")
        assert under is not None, f"no node where {node_id} is drawn"
        on_top = page.evaluate(f"() => {{ const el = document.elementFromPoint({pos['x']}, {pos['y']});"
                               "return el ? el.tagName + '.' + el.className : null; }")
        last = (pos, under, on_top)
        if on_top is None or not on_top.startswith("CANVAS"):
            page.wait_for_timeout(500)  # something lies over the graph for now (a tooltip, a toast)
            continue
        page.mouse.click(pos["x"], pos["y"])
        try:
            page.wait_for_selector(f'[data-testid="seamscope-detail"][data-detail-id="{under}"]',
                                   timeout=wait_s * 1000)
            return under
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try again from a fresh position
            continue
    raise AssertionError(f"clicking {node_id} never showed its details (last position, node, element: {last})")


@pytest.fixture
def click_graph_node():
    """:func:`_click_graph_node`: click a graph node and wait for its details, robust to layout still moving."""
    return _click_graph_node
